//! "You have a new message from {firm}": queued for every client of a matter
//! in the transaction that writes the firm's reply, due [`NOTICE_DELAY`]
//! later. It is skipped when a client read the reply meanwhile, and when a
//! later reply on the same matter has its own notice coming (so a burst of
//! replies gives one email). It carries the reply's text only when the firm
//! chose that (`firms.message_text_in_email`); a note never reaches it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::db::models::{Firm, Matter, Message, Notification, User};
use crate::db::schema::{firms, matter_clients, messages, notifications, users};
use crate::domain::{Channel, MessageKind, NotificationKind, Role};
use crate::error::{Error, Result};
use crate::messages::NOTICE_DELAY;
use crate::notifications::compose::{self, Composed, Composer};
use crate::notifications::look;
use crate::notifications::queue::one_off;

/// What the email is about, stored as the notification's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    /// The matter.
    pub matter_id: String,
    /// The reply.
    pub message_id: String,
}

/// Queues the notice of reply `message_id` for every client of `matter` (and
/// a push for each one with a browser subscribed),
/// due [`NOTICE_DELAY`] after `now`; returns the rows' ids.
pub fn enqueue_for_matter(
    conn: &mut DbConnection,
    matter: &Matter,
    message_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>> {
    let reply = Reply { matter_id: matter.id.clone(), message_id: message_id.to_owned() };
    let payload = serde_json::to_string(&reply).map_err(|e| Error::Internal(e.into()))?;
    let clients: Vec<String> = matter_clients::table
        .filter(matter_clients::matter_id.eq(&matter.id))
        .select(matter_clients::client_id)
        .load(conn)?;
    // An email to every client, a push to those with a browser subscribed, a text to those who opted in.
    let pushed = crate::notifications::push::subscribed(conn, &clients)?;
    let texted = crate::notifications::sms::consented(conn, &clients)?;
    let rows: Vec<Notification> = clients
        .iter()
        .map(|client| (client, Channel::Email))
        .chain(pushed.iter().map(|client| (client, Channel::Push)))
        .chain(texted.iter().map(|client| (client, Channel::Sms)))
        .map(|(client, channel)| {
            let mut row =
                one_off(&matter.firm_id, client, NotificationKind::MessageReply, channel, Some(payload.clone()), now);
            row.next_attempt_at = now + NOTICE_DELAY;
            row
        })
        .collect();
    if !rows.is_empty() {
        crate::insert_many!(conn, notifications::table, &rows)?;
    }
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The email for a queued row sent at `now` (with the client's one-tap link),
/// or why it is no longer worth sending.
pub fn compose(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    let reply: Reply = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
        .map_err(|e| Error::Internal(anyhow::anyhow!("message reply payload: {e}")))?;
    let Some(client) = users::table.find(&row.recipient_id).select(User::as_select()).first(conn).optional()? else {
        return Ok(Composed::Skip("the recipient no longer exists"));
    };
    if client.role != Role::Client {
        return Ok(Composed::Skip("the recipient is no longer a client"));
    }
    let Some(message) = messages::table
        .find(&reply.message_id)
        .filter(messages::kind.eq(MessageKind::Reply))
        .select(Message::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(Composed::Skip("the reply no longer exists"));
    };
    if message.read_at.is_some() {
        return Ok(Composed::Skip("the client read the reply before this email was due"));
    }
    let later: i64 = messages::table
        .filter(messages::matter_id.eq(&message.matter_id))
        .filter(messages::kind.eq(MessageKind::Reply))
        .filter(messages::created_at.gt(message.created_at))
        .count()
        .get_result(conn)?;
    if later > 0 {
        return Ok(Composed::Skip("a later reply's email tells of this one too"));
    }
    let Ok(matter) = crate::client_view::own_matter(conn, &client, &message.matter_id) else {
        return Ok(Composed::Skip("the recipient is no longer a client of the matter"));
    };
    if row.channel == Channel::Sms {
        let text = composer.renderer.locales().text(client.language, "sms-reply");
        return compose::sms_notice(
            conn,
            composer,
            row,
            &client,
            &text,
            &format!("/matters/{}/messages", matter.id),
            now,
        );
    }
    if row.channel == Channel::Push {
        let locales = composer.renderer.locales();
        let (title, body) =
            (locales.text(client.language, "push-reply-title"), locales.text(client.language, "push-reply-body"));
        let path = format!("/matters/{}/messages", matter.id);
        return compose::push_notice(conn, composer, row, &client, title, body, &path);
    }
    let firm: Firm = firms::table.find(&client.firm_id).select(Firm::as_select()).first(conn)?;
    let author: Option<String> = match &message.author_id {
        Some(id) => users::table.find(id).select(users::full_name).first(conn).optional()?,
        None => None,
    };
    let contact = crate::client_view::contact_of(conn, &matter)?;
    let mut data = data(composer, &client, &firm, &matter, &message, author.as_deref());
    look::with_logo(conn, &composer.base_url, &firm, &mut data)?;
    crate::one_tap::personalise_email(conn, composer, &firm, &client, &row.id, &mut data, now)?;
    composer.notice(row, &client, &firm, "message_reply", &data, look::reply_to(&firm, contact.as_ref()))
}

/// The template data of the notice to `client` of `message` on `matter`.
pub fn data(
    composer: &Composer,
    client: &User,
    firm: &Firm,
    matter: &Matter,
    message: &Message,
    author: Option<&str>,
) -> Value {
    let portal_url = format!("{}/matters/{}/messages", composer.base_url, matter.id);
    json!({
        "lang": client.language.as_str(),
        "firm": firm.name,
        "brand": look::brand_data(&composer.base_url, &look::brand_of_firm(firm), None),
        "name": client.full_name,
        "first_name": look::first_name(&client.full_name),
        "matter": matter.title,
        "author": author,
        "text": firm.message_text_in_email.then_some(message.body.as_str()).filter(|t| !t.is_empty()),
        "short": { "open": portal_url },
        "portal_url": portal_url,
    })
}
