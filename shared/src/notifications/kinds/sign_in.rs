//! The sign-in email: a single-use link and a 6-digit code. The row carries no
//! secret: the link and code are issued when the email is composed, so a retry
//! mails a fresh pair, and a row older than the sign-in lifetime is skipped (a
//! link the client asked for that long ago is no longer wanted).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::auth::{self, SIGN_IN_TTL};
use crate::db::DbConnection;
use crate::db::models::{Firm, Notification, User};
use crate::db::schema::{firms, notifications, users};
use crate::domain::{Channel, NotificationKind, Role};
use crate::error::Result;
use crate::notifications::compose::{Composed, Composer};
use crate::notifications::queue::one_off;
use crate::notifications::{look, short_links};

/// Queues a sign-in email for `user`; returns the notification's id.
pub fn enqueue(conn: &mut DbConnection, user: &User, now: NaiveDateTime) -> Result<String> {
    let row = one_off(&user.firm_id, &user.id, NotificationKind::SignIn, Channel::Email, None, now);
    diesel::insert_into(notifications::table).values(&row).execute(conn)?;
    Ok(row.id)
}

/// The email for a queued sign-in row, with a newly issued link and code.
pub fn compose(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    if now > row.created_at + SIGN_IN_TTL {
        return Ok(Composed::Skip("the sign-in was asked for more than 15 minutes ago"));
    }
    let Some(user) = users::table.find(&row.recipient_id).select(User::as_select()).first(conn).optional()? else {
        return Ok(Composed::Skip("the recipient no longer exists"));
    };
    if user.role != Role::Client {
        return Ok(Composed::Skip("the recipient is no longer a client"));
    }
    let firm: Firm = firms::table.find(&user.firm_id).select(Firm::as_select()).first(conn)?;
    let grant = auth::issue_sign_in(conn, &composer.tokens, &user.id)?;
    let mut data = data(composer, &user, &firm, &grant.token, &grant.code);
    look::with_logo(conn, &composer.base_url, &firm, &mut data)?;
    let link = data["link"].as_str().unwrap_or_default().to_owned();
    let expires_at = composer.tokens.clock().now() + SIGN_IN_TTL;
    data["short"]["link"] = short_links::shorten(conn, &composer.base_url, &link, expires_at, now)?.into();
    // Never a Reply-To: a sign-in email is not a conversation with the case manager.
    composer.notice(row, &user, &firm, "sign_in", &data, None)
}

/// The template data of a sign-in email with link token `token` and code
/// `code`. The plain-text part shows `short.link`: the link itself here, a
/// short link once [`compose`] has stored one.
pub fn data(composer: &Composer, user: &User, firm: &Firm, token: &str, code: &str) -> Value {
    let link = format!("{}/sign-in/link?token={token}", composer.base_url);
    json!({
        "lang": user.language.as_str(),
        "name": user.full_name,
        "first_name": look::first_name(&user.full_name),
        "firm": firm.name,
        "brand": look::brand_data(&composer.base_url, &look::brand_of_firm(firm), None),
        "short": { "link": link },
        "link": link,
        "code": code,
    })
}
