//! The `notifications` table as a queue: enqueueing, claiming with a lease,
//! and recording what happened. Every notice the firm sends is a row here, so
//! staff can see what was sent to whom, and nothing lives only in memory.
//!
//! Workers claim due rows in batches — `FOR UPDATE SKIP LOCKED` on PostgreSQL,
//! so several notifiers share the work; an immediate (write-locked)
//! transaction on SQLite, so one claims at a time. A claim is a lease: if its
//! worker dies, the rows become claimable again when `claimed_until` passes.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::channel::DeliveryError;
use crate::db::DbConnection;
use crate::db::models::Notification;
use crate::db::schema::notifications;
use crate::domain::{Channel, NotificationKind, NotificationStatus};
use crate::error::Result;

/// Attempts before a temporarily failing notification is given up.
pub const MAX_ATTEMPTS: i32 = 8;
/// Clients enqueued per insert statement (weekly updates).
pub const ENQUEUE_BATCH: i64 = 1000;

/// The wait before retry number `attempts` (1 minute, doubling, at most 6 hours).
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(9);
    Duration::minutes(1i64 << exponent).min(Duration::hours(6))
}

/// The ISO week of a (firm-local) date, e.g. `2026-W48`: the period of a weekly update.
pub fn iso_week_key(date: chrono::NaiveDate) -> String {
    date.format("%G-W%V").to_string()
}

/// A one-off notice (sign-in, receipt, phase change): its own id is its
/// period, so the unique key stays unique.
pub fn one_off(
    firm_id: &str,
    recipient_id: &str,
    kind: NotificationKind,
    channel: Channel,
    payload: Option<String>,
    now: NaiveDateTime,
) -> Notification {
    let mut row = Notification::pending(firm_id, recipient_id, kind, channel, "", now);
    row.period_key = row.id.clone();
    row.payload = payload;
    row
}

/// Inserts `rows`, skipping any that already exist (same recipient, kind, channel and period).
pub(crate) fn insert_ignoring_duplicates(conn: &mut DbConnection, rows: &[Notification]) -> Result<usize> {
    Ok(match conn {
        DbConnection::Postgresql(c) => {
            diesel::insert_into(notifications::table).values(rows).on_conflict_do_nothing().execute(c)?
        }
        DbConnection::Sqlite(c) => diesel::insert_or_ignore_into(notifications::table).values(rows).execute(c)?,
    })
}

/// Claims up to `batch` due rows for `worker` until `lease_end`. Due: pending
/// with `next_attempt_at` reached, or sending with an expired lease (its worker died).
///
/// The claiming UPDATE re-checks "due" row by row, so two workers can never
/// claim the same row; on PostgreSQL `SKIP LOCKED` also keeps them from waiting
/// on each other's candidates.
pub fn claim_due(
    conn: &mut DbConnection,
    worker: &str,
    lease_end: NaiveDateTime,
    batch: i64,
    now: NaiveDateTime,
) -> Result<Vec<Notification>> {
    use crate::db::schema::notifications::dsl as n;
    let due = || {
        n::status
            .eq(NotificationStatus::Pending)
            .and(n::next_attempt_at.le(now))
            .or(n::status.eq(NotificationStatus::Sending).and(n::claimed_until.lt(now)))
    };
    let claim = (
        n::status.eq(NotificationStatus::Sending),
        n::claimed_by.eq(worker),
        n::claimed_until.eq(lease_end),
        n::attempts.eq(n::attempts + 1),
    );
    match conn {
        // One statement: lock the due rows no other worker holds, claim them,
        // return them. (Written out: diesel cannot express a subquery on the
        // table being updated.) Each kind of due row is read on its own, in
        // the order of the (status, next_attempt_at) index, so a claim reads
        // about `batch` rows however long the queue is (an `OR` of the two
        // made PostgreSQL read and sort every pending row for each batch);
        // the rows of the two that do not make the batch are unlocked when the
        // statement ends. The outer condition repeats "due" as the UPDATE
        // below does for SQLite.
        DbConnection::Postgresql(pg) => {
            use diesel::sql_types::{BigInt, Text, Timestamp};
            let mut rows: Vec<Notification> = diesel::sql_query(
                "UPDATE notifications SET status = $1, claimed_by = $2, claimed_until = $3, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM ( \
                     SELECT * FROM (SELECT id, next_attempt_at FROM notifications \
                         WHERE status = $4 AND next_attempt_at <= $5 \
                         ORDER BY next_attempt_at LIMIT $6 FOR UPDATE SKIP LOCKED) AS pending \
                     UNION ALL \
                     SELECT * FROM (SELECT id, next_attempt_at FROM notifications \
                         WHERE status = $1 AND claimed_until < $5 \
                         ORDER BY next_attempt_at LIMIT $6 FOR UPDATE SKIP LOCKED) AS abandoned \
                 ) AS due ORDER BY next_attempt_at LIMIT $6) \
                 AND ((status = $4 AND next_attempt_at <= $5) OR (status = $1 AND claimed_until < $5)) \
                 RETURNING *",
            )
            .bind::<Text, _>(NotificationStatus::Sending)
            .bind::<Text, _>(worker)
            .bind::<Timestamp, _>(lease_end)
            .bind::<Text, _>(NotificationStatus::Pending)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(batch)
            .load(pg)?;
            rows.sort_by_key(|r| r.next_attempt_at);
            Ok(rows)
        }
        // No transaction: a read-then-write transaction in WAL mode fails when
        // another writer commits in between; the guarded UPDATE is atomic alone.
        DbConnection::Sqlite(_) => {
            let ids: Vec<String> =
                n::notifications.filter(due()).order(n::next_attempt_at).limit(batch).select(n::id).load(conn)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(n::notifications.filter(n::id.eq_any(&ids)).filter(due())).set(claim).execute(conn)?;
            Ok(n::notifications
                .filter(n::id.eq_any(&ids))
                .filter(n::claimed_by.eq(worker))
                .filter(n::claimed_until.eq(lease_end))
                .filter(n::status.eq(NotificationStatus::Sending))
                .order(n::next_attempt_at)
                .select(Notification::as_select())
                .load(conn)?)
        }
    }
}

/// Claims those of `ids` that are still pending (whenever they are due) for
/// `worker` until `lease_end`: the portal's attempt at once on the rows a
/// request just queued. A row another worker holds, or that was already
/// sent, is left alone.
pub fn claim_ids(
    conn: &mut DbConnection,
    ids: &[String],
    worker: &str,
    lease_end: NaiveDateTime,
) -> Result<Vec<Notification>> {
    use crate::db::schema::notifications::dsl as n;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let pending = || n::notifications.filter(n::id.eq_any(ids)).filter(n::status.eq(NotificationStatus::Pending));
    diesel::update(pending())
        .set((
            n::status.eq(NotificationStatus::Sending),
            n::claimed_by.eq(worker),
            n::claimed_until.eq(lease_end),
            n::attempts.eq(n::attempts + 1),
        ))
        .execute(conn)?;
    Ok(all_claimed_by(ids, worker)
        .filter(n::claimed_until.eq(lease_end))
        .select(Notification::as_select())
        .load(conn)?)
}

/// How many rows are due as of `now` (for a progress bar's length).
pub fn count_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<u64> {
    use crate::db::schema::notifications::dsl as n;
    let count: i64 = n::notifications
        .filter(n::status.eq(NotificationStatus::Pending).and(n::next_attempt_at.le(now)))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The query for one row of a worker's claim.
type ClaimedRow<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<notifications::table, diesel::dsl::Eq<notifications::id, &'a str>>,
        diesel::dsl::Eq<notifications::claimed_by, &'a str>,
    >,
    diesel::dsl::Eq<notifications::status, NotificationStatus>,
>;

/// The row still belongs to `worker`'s claim.
fn claimed_by<'a>(id: &'a str, worker: &'a str) -> ClaimedRow<'a> {
    notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::claimed_by.eq(worker))
        .filter(notifications::status.eq(NotificationStatus::Sending))
}

/// The query for several rows of a worker's claim.
type ClaimedRows<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<notifications::table, diesel::dsl::EqAny<notifications::id, &'a [String]>>,
        diesel::dsl::Eq<notifications::claimed_by, &'a str>,
    >,
    diesel::dsl::Eq<notifications::status, NotificationStatus>,
>;

/// Those of `ids` that still belong to `worker`'s claim.
fn all_claimed_by<'a>(ids: &'a [String], worker: &'a str) -> ClaimedRows<'a> {
    notifications::table
        .filter(notifications::id.eq_any(ids))
        .filter(notifications::claimed_by.eq(worker))
        .filter(notifications::status.eq(NotificationStatus::Sending))
}

/// Records that the channel accepted the message. False when the claim was lost.
pub fn mark_sent(conn: &mut DbConnection, id: &str, worker: &str, now: NaiveDateTime) -> Result<bool> {
    Ok(mark_sent_many(conn, &[id.to_owned()], worker, now)? == 1)
}

/// Records in one statement that the channel accepted each of `ids`.
/// Returns how many were still `worker`'s claim (fewer than `ids.len()` when claims were lost).
pub fn mark_sent_many(conn: &mut DbConnection, ids: &[String], worker: &str, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::update(all_claimed_by(ids, worker))
        .set((
            notifications::status.eq(NotificationStatus::Sent),
            notifications::sent_at.eq(now),
            notifications::claimed_until.eq(None::<NaiveDateTime>),
            notifications::last_error.eq(None::<String>),
        ))
        .execute(conn)?)
}

/// Records that the row was deliberately not sent, and why.
pub fn mark_skipped(conn: &mut DbConnection, id: &str, worker: &str, reason: &str) -> Result<bool> {
    Ok(mark_skipped_many(conn, &[id.to_owned()], worker, reason)? == 1)
}

/// Records in one statement that `ids` were deliberately not sent, for the same reason.
/// Returns how many were still `worker`'s claim.
pub fn mark_skipped_many(conn: &mut DbConnection, ids: &[String], worker: &str, reason: &str) -> Result<usize> {
    Ok(diesel::update(all_claimed_by(ids, worker))
        .set((
            notifications::status.eq(NotificationStatus::Skipped),
            notifications::claimed_until.eq(None::<NaiveDateTime>),
            notifications::last_error.eq(reason),
        ))
        .execute(conn)?)
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// It will be tried again at the given time.
    RetryAt(NaiveDateTime),
    /// Given up: permanent error or out of attempts.
    Failed,
}

/// Records a failed attempt: temporary failures retry with exponential backoff
/// until [`MAX_ATTEMPTS`]; permanent ones fail at once with the reason.
pub fn mark_failure(
    conn: &mut DbConnection,
    row: &Notification,
    worker: &str,
    error: &DeliveryError,
    now: NaiveDateTime,
) -> Result<AfterFailure> {
    let reason: String = error.to_string().chars().take(500).collect();
    let outcome = match error {
        DeliveryError::Transient(_) if row.attempts < MAX_ATTEMPTS => {
            AfterFailure::RetryAt(now + backoff(row.attempts))
        }
        _ => AfterFailure::Failed,
    };
    let (status, next) = match outcome {
        AfterFailure::RetryAt(at) => (NotificationStatus::Pending, at),
        AfterFailure::Failed => (NotificationStatus::Failed, row.next_attempt_at),
    };
    diesel::update(claimed_by(&row.id, worker))
        .set((
            notifications::status.eq(status.as_str()),
            notifications::next_attempt_at.eq(next),
            notifications::claimed_until.eq(None::<NaiveDateTime>),
            notifications::last_error.eq(reason),
        ))
        .execute(conn)?;
    Ok(outcome)
}

/// Hands row `id` back to the queue, due at `until`, the attempt not counted
/// (a text that came due in quiet hours). False when the claim was lost.
pub fn hold(conn: &mut DbConnection, id: &str, worker: &str, until: NaiveDateTime) -> Result<bool> {
    Ok(diesel::update(claimed_by(id, worker))
        .set((
            notifications::status.eq(NotificationStatus::Pending),
            notifications::next_attempt_at.eq(until),
            notifications::claimed_until.eq(None::<NaiveDateTime>),
            notifications::attempts.eq(notifications::attempts - 1),
        ))
        .execute(conn)?
        == 1)
}

/// Gives `worker`'s claimed rows back (a clean shutdown), so another worker can take them now.
pub fn release(conn: &mut DbConnection, worker: &str) -> Result<usize> {
    let held: Vec<String> = notifications::table
        .filter(notifications::claimed_by.eq(worker))
        .filter(notifications::status.eq(NotificationStatus::Sending))
        .select(notifications::id)
        .load(conn)?;
    release_ids(conn, &held, worker)
}

/// Gives those of `ids` still claimed by `worker` back, the attempt not counted
/// (not started before the claim ran short, or a clean shutdown).
pub fn release_ids(conn: &mut DbConnection, ids: &[String], worker: &str) -> Result<usize> {
    Ok(diesel::update(all_claimed_by(ids, worker))
        .set((
            notifications::status.eq(NotificationStatus::Pending),
            notifications::claimed_until.eq(None::<NaiveDateTime>),
            notifications::attempts.eq(notifications::attempts - 1),
        ))
        .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_up_to_six_hours() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(4), Duration::minutes(8));
        assert_eq!(backoff(30), Duration::hours(6));
    }

    #[test]
    fn the_period_is_the_iso_week() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(iso_week_key(d(2026, 11, 23)), "2026-W48");
        assert_eq!(iso_week_key(d(2026, 11, 29)), "2026-W48");
        assert_eq!(iso_week_key(d(2027, 1, 1)), "2026-W53");
    }
}
