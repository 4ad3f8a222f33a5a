//! "Your legal team needs a document": a web push queued for every client of
//! a matter with a browser subscribed, and a text for every client who opted
//! in to texts, in the transaction that opens the request. (The request already reaches everyone by email in the weekly
//! update; the push is the nudge.) It names no title or category: lock
//! screens show it. Skipped when the request is no longer open.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::DbConnection;
use crate::db::models::{Notification, User};
use crate::db::schema::{document_requests, matter_clients, notifications, users};
use crate::domain::{Channel, NotificationKind, RequestStatus, Role};
use crate::error::{Error, Result};
use crate::notifications::compose::{self, Composed, Composer};
use crate::notifications::queue::one_off;

/// What the push is about, stored as the notification's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Requested {
    /// The matter.
    pub matter_id: String,
    /// The document request.
    pub request_id: String,
}

/// Queues the push for every client of the matter with a browser subscribed,
/// and the text for every one who opted in to texts; returns the rows' ids.
pub fn enqueue_for_matter(
    conn: &mut DbConnection,
    firm_id: &str,
    requested: &Requested,
    now: NaiveDateTime,
) -> Result<Vec<String>> {
    let payload = serde_json::to_string(requested).map_err(|e| Error::Internal(e.into()))?;
    let clients: Vec<String> = matter_clients::table
        .filter(matter_clients::matter_id.eq(&requested.matter_id))
        .select(matter_clients::client_id)
        .load(conn)?;
    let pushed = crate::notifications::push::subscribed(conn, &clients)?;
    let texted = crate::notifications::sms::consented(conn, &clients)?;
    let rows: Vec<Notification> = pushed
        .iter()
        .map(|client| (client, Channel::Push))
        .chain(texted.iter().map(|client| (client, Channel::Sms)))
        .map(|(client, channel)| {
            one_off(firm_id, client, NotificationKind::DocumentRequest, channel, Some(payload.clone()), now)
        })
        .collect();
    if !rows.is_empty() {
        crate::insert_many!(conn, notifications::table, &rows)?;
    }
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The push for a queued row, or why it is no longer worth sending.
pub fn compose(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    let requested: Requested = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
        .map_err(|e| Error::Internal(anyhow::anyhow!("document request payload: {e}")))?;
    if row.channel == Channel::Email {
        return Ok(Composed::Skip("document requests are told by push and text only"));
    }
    let Some(client) = users::table.find(&row.recipient_id).select(User::as_select()).first(conn).optional()? else {
        return Ok(Composed::Skip("the recipient no longer exists"));
    };
    if client.role != Role::Client {
        return Ok(Composed::Skip("the recipient is no longer a client"));
    }
    if crate::client_view::own_matter(conn, &client, &requested.matter_id).is_err() {
        return Ok(Composed::Skip("the recipient is no longer a client of the matter"));
    }
    let status: Option<RequestStatus> = document_requests::table
        .find(&requested.request_id)
        .select(document_requests::status)
        .first(conn)
        .optional()?;
    if status != Some(RequestStatus::Open) {
        return Ok(Composed::Skip("the request is no longer open"));
    }
    let locales = composer.renderer.locales();
    let path = format!("/matters/{}", requested.matter_id);
    if row.channel == Channel::Sms {
        let text = locales.text(client.language, "sms-request");
        return compose::sms_notice(conn, composer, row, &client, &text, &path, now);
    }
    let (title, body) =
        (locales.text(client.language, "push-request-title"), locales.text(client.language, "push-request-body"));
    compose::push_notice(conn, composer, row, &client, title, body, &path)
}
