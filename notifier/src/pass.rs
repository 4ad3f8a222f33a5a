//! The weekly pass: for each firm whose schedule fired, enqueue one update per
//! active client for the firm's current ISO week (idempotent).

use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use shared::db::Db;
use shared::db::models::Firm;
use shared::db::schema::firms;
use shared::domain::local_date;
use shared::outbox;

/// A firm's weekly schedule: its own cron expression, else the configured one.
pub fn schedule_of(firm: &Firm, default: Option<&str>) -> Option<Result<cron::Schedule, String>> {
    let expression = firm.weekly_schedule.as_deref().or(default)?.trim();
    if expression.is_empty() {
        return None;
    }
    Some(cron::Schedule::from_str(expression).map_err(|e| format!("weekly schedule \"{expression}\": {e}")))
}

/// The firm's period (ISO week) for the instant `at`.
pub fn period_for(firm: &Firm, at: NaiveDateTime) -> String {
    outbox::iso_week_key(local_date(&firm.time_zone, at))
}

/// Enqueues this week's updates for `firms` as of `now`; returns rows added.
pub async fn enqueue_for(db: &Db, firms: Vec<Firm>, now: NaiveDateTime) -> shared::Result<usize> {
    db.run(move |conn| {
        let mut added = 0;
        for firm in &firms {
            let period = period_for(firm, now);
            let n = outbox::enqueue_weekly(conn, &firm.id, &period, now)?;
            tracing::info!(firm = %firm.id, period, enqueued = n, "weekly pass");
            added += n;
        }
        Ok(added)
    })
    .await
}

/// Every firm.
pub async fn all_firms(db: &Db) -> shared::Result<Vec<Firm>> {
    db.run(|conn| Ok(firms::table.select(Firm::as_select()).load(conn)?)).await
}

/// The firms whose schedule fired in `(from, to]`, or — on a fresh start, when
/// `from` is `None` — whose latest firing before `to` falls in the current week
/// (so a notifier started after Monday 9:00 still sends this week's updates).
pub fn due_firms(firms: &[Firm], default: Option<&str>, from: Option<DateTime<Utc>>, to: DateTime<Utc>) -> Vec<Firm> {
    firms
        .iter()
        .filter(|firm| {
            let schedule = match schedule_of(firm, default) {
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    tracing::error!(firm = %firm.id, error = %e, "firm's weekly schedule is invalid; skipped");
                    return false;
                }
                None => return false,
            };
            let Ok(tz) = firm.time_zone.parse::<chrono_tz::Tz>() else {
                tracing::error!(firm = %firm.id, zone = %firm.time_zone, "unknown time zone; skipped");
                return false;
            };
            let start = from.unwrap_or(to - Duration::days(8)).with_timezone(&tz);
            let fired: Vec<DateTime<Utc>> =
                schedule.after(&start).map(|t| t.with_timezone(&Utc)).take_while(|t| *t <= to).collect();
            match (from, fired.last()) {
                (Some(_), last) => last.is_some(),
                (None, Some(last)) => period_for(firm, last.naive_utc()) == period_for(firm, to.naive_utc()),
                (None, None) => false,
            }
        })
        .cloned()
        .collect()
}
