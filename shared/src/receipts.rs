//! The upload receipt email: queued in the outbox when a client's documents
//! are stored, delivered at once by the portal when it can, and retried by the
//! notifier when it could not.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::DbConnection;
use crate::db::models::{Firm, Notification, User};
use crate::db::schema::{firms, matters, notifications, users};
use crate::domain::{Language, NotificationKind, NotificationStatus};
use crate::error::{Error, Result};
use crate::mail::{Mailer, OutgoingEmail, SendError};
use crate::outbox;
use crate::render::Renderer;

/// What the receipt lists, stored as the outbox row's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    /// The matter the documents belong to.
    pub matter_id: String,
    /// (file name, human-readable size) of each stored document.
    pub files: Vec<(String, String)>,
}

/// Queues a receipt for `client_id`; returns the outbox row's id.
pub fn enqueue(
    conn: &mut DbConnection,
    firm_id: &str,
    client_id: &str,
    receipt: &Receipt,
    now: NaiveDateTime,
) -> Result<String> {
    let mut row = Notification::pending(firm_id, client_id, NotificationKind::UploadReceipt, "", now);
    row.period_key = row.id.clone();
    row.payload = Some(serde_json::to_string(receipt).map_err(|e| Error::Internal(e.into()))?);
    let id = row.id.clone();
    diesel::insert_into(notifications::table).values(&row).execute(conn)?;
    Ok(id)
}

/// The email for a queued receipt row.
pub fn compose(
    conn: &mut DbConnection,
    renderer: &Renderer,
    mailer: &Mailer,
    base_url: &str,
    row: &Notification,
) -> Result<OutgoingEmail> {
    let receipt: Receipt = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
        .map_err(|e| Error::Internal(anyhow::anyhow!("receipt payload: {e}")))?;
    let client: User = users::table.find(&row.recipient_id).select(User::as_select()).first(conn)?;
    let firm: Firm = firms::table.find(&client.firm_id).select(Firm::as_select()).first(conn)?;
    let matter_title: String = matters::table.find(&receipt.matter_id).select(matters::title).first(conn)?;
    let lang = Language::parse(&client.language).unwrap_or(Language::En);
    let files: Vec<_> = receipt.files.iter().map(|(name, size)| json!({ "name": name, "size": size })).collect();
    let data = json!({
        "lang": lang.as_str(),
        "firm": firm.name,
        "name": client.full_name,
        "matter": matter_title,
        "files": files,
        "portal_url": format!("{base_url}/matters/{}", receipt.matter_id),
    });
    Ok(OutgoingEmail {
        to_name: client.full_name.clone(),
        to_address: client.email.clone(),
        from: Some(mailer.sender_for(&firm.name, firm.mail_from.as_deref())),
        content: renderer.email("upload_receipt", &data)?,
        headers: Vec::new(),
        message_id: None,
    })
}

/// Claims the receipt row `id` for `worker` (if still due) — the portal's
/// immediate attempt; the notifier retries whatever this leaves pending.
pub fn claim(conn: &mut DbConnection, id: &str, worker: &str, now: NaiveDateTime) -> Result<Option<Notification>> {
    use crate::db::schema::notifications::dsl as n;
    let claimed = diesel::update(
        n::notifications.filter(n::id.eq(id)).filter(n::status.eq(NotificationStatus::Pending.as_str())),
    )
    .set((
        n::status.eq(NotificationStatus::Sending.as_str()),
        n::claimed_by.eq(worker),
        n::claimed_until.eq(now + Duration::minutes(2)),
        n::attempts.eq(n::attempts + 1),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    Ok(Some(n::notifications.find(id).select(Notification::as_select()).first(conn)?))
}

/// Records the result of sending a claimed row.
pub fn settle(
    conn: &mut DbConnection,
    row: &Notification,
    worker: &str,
    result: &std::result::Result<(), SendError>,
    now: NaiveDateTime,
) -> Result<()> {
    match result {
        Ok(()) => outbox::mark_sent(conn, &row.id, worker, now).map(|_| ()),
        Err(error) => outbox::mark_failure(conn, row, worker, error, now).map(|_| ()),
    }
}
