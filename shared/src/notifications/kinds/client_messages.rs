//! "New messages from your client": the case manager of a matter (else the
//! firm's admins) hears of new client messages at most once per conversation
//! per [`STAFF_BATCH`]. A client message queues a row for the window it falls
//! in (unique per recipient and window, so later messages in the window join
//! it), due when the window ends; it lists the window's messages still
//! waiting for a reply, and is skipped when staff answered them all first.

use chrono::{DurationRound, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::db::models::{Firm, Matter, Message, Notification, User};
use crate::db::schema::{firms, matters, messages, users};
use crate::domain::{Channel, MessageKind, NotificationKind, Role};
use crate::error::{Error, Result};
use crate::messages::STAFF_BATCH;
use crate::notifications::compose::{Composed, Composer};
use crate::notifications::look;
use crate::notifications::queue::insert_ignoring_duplicates;

/// What the email is about, stored as the notification's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Window {
    /// The matter.
    pub matter_id: String,
    /// The window's start (UTC, inclusive).
    pub from: NaiveDateTime,
    /// The window's end (UTC, exclusive): when the email is due.
    pub until: NaiveDateTime,
}

/// The staff who hear of client messages on `matter`: its case manager, else the firm's admins.
fn recipients(conn: &mut DbConnection, matter: &Matter) -> Result<Vec<String>> {
    let staff = || users::table.filter(users::firm_id.eq(&matter.firm_id));
    if let Some(manager) = &matter.case_manager_id {
        let found: Option<String> = staff()
            .filter(users::id.eq(manager))
            .filter(users::role.ne(Role::Client))
            .select(users::id)
            .first(conn)
            .optional()?;
        if let Some(found) = found {
            return Ok(vec![found]);
        }
    }
    Ok(staff().filter(users::role.eq(Role::Admin)).select(users::id).load(conn)?)
}

/// Queues (or joins) the notice of a client message written at `now` on `matter`.
pub fn enqueue(conn: &mut DbConnection, matter: &Matter, now: NaiveDateTime) -> Result<usize> {
    let from = now.duration_trunc(STAFF_BATCH).map_err(|e| Error::Internal(e.into()))?;
    let window = Window { matter_id: matter.id.clone(), from, until: from + STAFF_BATCH };
    let payload = serde_json::to_string(&window).map_err(|e| Error::Internal(e.into()))?;
    let period = format!("{}@{}", matter.id, from.format("%Y-%m-%dT%H:%M"));
    let rows: Vec<Notification> = recipients(conn, matter)?
        .iter()
        .map(|staff| {
            let mut row = Notification::pending(
                &matter.firm_id,
                staff,
                NotificationKind::ClientMessages,
                Channel::Email,
                &period,
                now,
            );
            row.next_attempt_at = window.until;
            row.payload = Some(payload.clone());
            row
        })
        .collect();
    insert_ignoring_duplicates(conn, &rows)
}

/// The email for a queued row, or why it is no longer worth sending.
pub fn compose(conn: &mut DbConnection, composer: &Composer, row: &Notification) -> Result<Composed> {
    let window: Window = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
        .map_err(|e| Error::Internal(anyhow::anyhow!("client messages payload: {e}")))?;
    let Some(staff) = users::table.find(&row.recipient_id).select(User::as_select()).first(conn).optional()? else {
        return Ok(Composed::Skip("the recipient no longer exists"));
    };
    if !staff.role.is_staff() {
        return Ok(Composed::Skip("the recipient is no longer staff"));
    }
    let Some(matter) = matters::table
        .find(&window.matter_id)
        .filter(matters::firm_id.eq(&staff.firm_id))
        .select(Matter::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(Composed::Skip("the matter no longer exists"));
    };
    let waiting: Vec<Message> = messages::table
        .filter(messages::matter_id.eq(&matter.id))
        .filter(messages::kind.eq(MessageKind::Client))
        .filter(messages::answered_at.is_null())
        .filter(messages::created_at.ge(window.from))
        .filter(messages::created_at.lt(window.until))
        .order(messages::created_at)
        .select(Message::as_select())
        .load(conn)?;
    if waiting.is_empty() {
        return Ok(Composed::Skip("every message was answered before this email was due"));
    }
    let firm: Firm = firms::table.find(&staff.firm_id).select(Firm::as_select()).first(conn)?;
    let mut authors: Vec<&str> = waiting.iter().filter_map(|m| m.author_id.as_deref()).collect();
    authors.sort_unstable();
    authors.dedup();
    let names: std::collections::HashMap<String, String> = users::table
        .filter(users::id.eq_any(authors))
        .select((users::id, users::full_name))
        .load(conn)?
        .into_iter()
        .collect();
    let data = data(composer, &staff, &firm, &matter, &waiting, &names);
    composer.notice(row, &staff, &firm, "client_messages", &data, None)
}

/// The template data of the email telling `staff` of the `waiting` messages on `matter`.
pub fn data(
    composer: &Composer,
    staff: &User,
    firm: &Firm,
    matter: &Matter,
    waiting: &[Message],
    names: &std::collections::HashMap<String, String>,
) -> Value {
    let locales = composer.renderer.locales();
    let messages: Vec<Value> = waiting
        .iter()
        .map(|m| {
            let local = crate::domain::local_time(&firm.time_zone, m.created_at);
            json!({
                "author": m.author_id.as_ref().and_then(|a| names.get(a)),
                "body": m.body,
                "at": format!("{} {}", locales.date(staff.language, local.date()), local.format("%H:%M")),
            })
        })
        .collect();
    json!({
        "lang": staff.language.as_str(),
        "firm": firm.name,
        "brand": look::brand_data(&composer.base_url, &look::brand_of_firm(firm), None),
        "name": staff.full_name,
        "first_name": look::first_name(&staff.full_name),
        "matter": matter.title,
        "count": messages.len(),
        "messages": messages,
        "portal_url": format!("{}/staff/matters/{}#messages", composer.base_url, matter.id),
    })
}
