//! One-off emails that go through the outbox: sign-in links, upload receipts
//! and phase changes. Each is queued as a row whose payload says what it is
//! about, and composed from the database when it is sent, so a retry sends
//! what is true then. The portal tries to deliver at once ([`claim`], then
//! [`compose`], send, [`settle`]); the notifier retries whatever stays pending.

pub mod phase_change;
pub mod receipt;
pub mod sign_in;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::models::Notification;
use crate::domain::{NotificationKind, NotificationStatus};
use crate::error::Result;
use crate::mail::{Mailer, OutgoingEmail, SendError};
use crate::outbox;
use crate::render::Renderer;
use crate::tokens::Tokens;

/// How long the portal's own claim on a row it delivers at once lasts.
const IMMEDIATE_LEASE: Duration = Duration::minutes(2);

/// What composing a notice needs.
#[derive(Clone, Debug)]
pub struct Composer {
    /// Templates and locales.
    pub renderer: Renderer,
    /// For the firm's sender address.
    pub mailer: Mailer,
    /// Signs the sign-in links.
    pub tokens: Tokens,
    /// The portal's public URL, without a trailing slash.
    pub base_url: String,
}

/// A composed notice, or why it is no longer worth sending.
#[derive(Debug)]
pub enum Composed {
    /// Send this.
    Send(Box<OutgoingEmail>),
    /// Record the row as skipped, for this reason.
    Skip(&'static str),
}

/// True for the kinds this module composes.
pub fn is_notice(kind: NotificationKind) -> bool {
    matches!(kind, NotificationKind::SignIn | NotificationKind::UploadReceipt | NotificationKind::PhaseChange)
}

/// Composes the email of a queued notice row as of `now`.
pub fn compose(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    match row.kind {
        NotificationKind::UploadReceipt => receipt::compose(conn, composer, row),
        NotificationKind::PhaseChange => phase_change::compose(conn, composer, row),
        NotificationKind::SignIn => sign_in::compose(conn, composer, row, now),
        _ => Err(crate::Error::Internal(anyhow::anyhow!("\"{}\" is not a notice", row.kind))),
    }
}

/// Claims the row `id` for `worker` (if still due): the portal's immediate attempt.
pub fn claim(conn: &mut DbConnection, id: &str, worker: &str, now: NaiveDateTime) -> Result<Option<Notification>> {
    use crate::db::schema::notifications::dsl as n;
    let claimed =
        diesel::update(n::notifications.filter(n::id.eq(id)).filter(n::status.eq(NotificationStatus::Pending)))
            .set((
                n::status.eq(NotificationStatus::Sending),
                n::claimed_by.eq(worker),
                n::claimed_until.eq(now + IMMEDIATE_LEASE),
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

/// Records a claimed row as deliberately not sent.
pub fn skip(conn: &mut DbConnection, row: &Notification, worker: &str, reason: &str) -> Result<()> {
    outbox::mark_skipped(conn, &row.id, worker, reason).map(|_| ())
}

/// A one-off row: its own id is its period, so the unique key stays unique.
fn one_off(
    firm_id: &str,
    recipient_id: &str,
    kind: NotificationKind,
    payload: Option<String>,
    now: NaiveDateTime,
) -> Notification {
    let mut row = Notification::pending(firm_id, recipient_id, kind, "", now);
    row.period_key = row.id.clone();
    row.payload = payload;
    row
}
