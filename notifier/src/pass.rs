//! The weekly pass: for each firm whose schedule fired, enqueue one update per
//! active client for the firm's current ISO week (idempotent). And on every
//! pass, the day's document-request reminders (idempotent per client and day).

use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use shared::db::Db;
use shared::db::models::Firm;
use shared::db::schema::firms;
use shared::domain::local_date;
use shared::notifications::kinds::{request_reminder, weekly_update};
use shared::notifications::queue;

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
    queue::iso_week_key(local_date(&firm.time_zone, at))
}

/// Enqueues this week's updates for `firms` as of `now`; returns rows added.
pub async fn enqueue_for(db: &Db, firms: Vec<Firm>, now: NaiveDateTime) -> shared::Result<usize> {
    db.run(move |conn| {
        let mut added = 0;
        for firm in &firms {
            let period = period_for(firm, now);
            let n = weekly_update::enqueue_for_firm(conn, &firm.id, &period, now)?;
            tracing::info!(firm = %firm.id, period, enqueued = n, "weekly pass");
            added += n;
        }
        Ok(added)
    })
    .await
}

/// Queues the reminders due as of `now` in every firm's local day: the
/// document-request reminders (one per client and day) and the reminders of
/// appointments on the firms' next day (each once: see
/// [`shared::appointments::enqueue_reminders`]). Idempotent, so every pass may
/// call it; returns rows added.
pub async fn enqueue_reminders(db: &Db, now: NaiveDateTime) -> shared::Result<usize> {
    db.run(move |conn| {
        let requests = request_reminder::enqueue_all(conn, now)?;
        if requests > 0 {
            tracing::info!(enqueued = requests, "request reminders");
        }
        let appointments = shared::appointments::enqueue_reminders(conn, now)?;
        if appointments > 0 {
            tracing::info!(enqueued = appointments, "appointment reminders");
        }
        Ok(requests + appointments)
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn firm(zone: &str, schedule: Option<&str>) -> Firm {
        Firm {
            id: "f".into(),
            name: "Firm".into(),
            time_zone: zone.into(),
            mail_from: None,
            phone: None,
            weekly_schedule: schedule.map(Into::into),
            no_activity_updates: true,
            created_at: NaiveDateTime::default(),
            closed_matter_uploads: false,
            accent_colour: None,
            reply_to_case_manager: false,
            public_host: None,
            message_text_in_email: false,
            one_tap_sign_in: true,
            treatment_gap_days: 30,
            sms_from_hour: 9,
            sms_until_hour: 20,
        }
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().unwrap_or_default()
    }

    const MONDAY_9AM: &str = "0 0 9 * * Mon";

    #[test]
    fn the_schedule_fires_at_9am_in_the_firms_own_time_zone() {
        let chicago = [firm("America/Chicago", None)];
        // Monday 30 Nov 2026, 9:00 in Chicago (CST, UTC-6) is 15:00 UTC.
        assert!(
            due_firms(&chicago, Some(MONDAY_9AM), Some(utc(2026, 11, 30, 14, 59)), utc(2026, 11, 30, 15, 0)).len() == 1
        );
        assert!(
            due_firms(&chicago, Some(MONDAY_9AM), Some(utc(2026, 11, 30, 8, 59)), utc(2026, 11, 30, 9, 1)).is_empty()
        );
        let madrid = [firm("Europe/Madrid", None)];
        // 9:00 in Madrid (CET, UTC+1) is 8:00 UTC.
        assert!(
            due_firms(&madrid, Some(MONDAY_9AM), Some(utc(2026, 11, 30, 7, 59)), utc(2026, 11, 30, 8, 0)).len() == 1
        );
    }

    #[test]
    fn a_firm_schedule_overrides_the_default_and_blank_means_off() {
        let thursday = [firm("UTC", Some("0 30 7 * * Thu"))];
        assert_eq!(
            due_firms(&thursday, Some(MONDAY_9AM), Some(utc(2026, 12, 3, 7, 0)), utc(2026, 12, 3, 8, 0)).len(),
            1
        );
        assert!(
            due_firms(&thursday, Some(MONDAY_9AM), Some(utc(2026, 11, 30, 8, 0)), utc(2026, 11, 30, 10, 0)).is_empty()
        );
        let off = [firm("UTC", None)];
        assert!(due_firms(&off, None, Some(utc(2026, 11, 30, 8, 0)), utc(2026, 11, 30, 10, 0)).is_empty());
    }

    #[test]
    fn a_notifier_started_after_the_weekly_time_still_sends_this_weeks_updates() {
        let chicago = [firm("America/Chicago", None)];
        // Started on Wednesday: Monday's firing is in the current week.
        assert_eq!(due_firms(&chicago, Some(MONDAY_9AM), None, utc(2026, 12, 2, 12, 0)).len(), 1);
        // Started on Monday at 8:00 local: this week's firing has not happened yet.
        assert!(due_firms(&chicago, Some(MONDAY_9AM), None, utc(2026, 11, 30, 14, 0)).is_empty());
    }

    #[test]
    fn the_period_is_the_firms_local_iso_week() {
        // Sunday 29 Nov 2026 23:30 in Los Angeles is already Monday (week 49) in UTC.
        let la = firm("America/Los_Angeles", None);
        assert_eq!(period_for(&la, utc(2026, 11, 30, 7, 30).naive_utc()), "2026-W48");
        assert_eq!(period_for(&firm("UTC", None), utc(2026, 11, 30, 7, 30).naive_utc()), "2026-W49");
    }
}
