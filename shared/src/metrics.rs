//! Prometheus metrics: one recorder per process (installed on first use), the
//! names every part uses, and the text both binaries serve at `/metrics`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP requests, by `method`, `route` (the route template) and `status`.
pub const HTTP_REQUESTS: &str = "matterline_http_requests_total";
/// HTTP request latency in seconds, by `route`.
pub const HTTP_DURATION: &str = "matterline_http_request_duration_seconds";
/// Panics caught while handling a request (answered 500) or delivering a
/// notification (that row failed, or the run's claimed rows handed back), by `where`.
pub const PANICS: &str = "matterline_panics_total";
/// Bytes of uploaded documents stored.
pub const UPLOAD_BYTES: &str = "matterline_upload_bytes_total";
/// Uploaded files, by `outcome` (stored, refused_type, refused_empty, too_large, storage_failed, incomplete,
/// too_slow, too_many_parts, matter_closed, infected, scan_failed).
pub const UPLOADS: &str = "matterline_uploads_total";
/// Files checked by the virus scanner (clamd), by `outcome` (clean, infected,
/// failed: clamd down, too slow, erring or over its size limit).
pub const VIRUS_SCANS: &str = "matterline_virus_scans_total";
/// Sign-in attempts, by `outcome` (link_sent, rate_limited, invalid_email, redeemed, refused).
pub const SIGN_INS: &str = "matterline_sign_in_attempts_total";
/// Notification delivery attempts, by `kind`, `channel` and `outcome` (sent, failed, retrying, skipped).
pub const NOTIFICATIONS: &str = "matterline_notifications_total";
/// Rows of the `notifications` table, by `status` (measured when scraped).
pub const NOTIFICATION_ROWS: &str = "matterline_notifications";
/// Duration of a weekly pass (enqueue and delivery), in seconds.
pub const WEEKLY_PASS: &str = "matterline_weekly_pass_seconds";
/// Messages written on matters' conversations, by `direction` (from_client, to_client, internal).
pub const MESSAGES: &str = "matterline_messages_total";
/// Seconds from a client's oldest unanswered message to the firm's reply (or "handled").
pub const FIRST_REPLY: &str = "matterline_message_first_reply_seconds";
/// Requests to the text message webhooks, by `outcome` (refused, keyword, message, pointed, status, status_unknown).
pub const SMS_WEBHOOKS: &str = "matterline_sms_webhooks_total";

/// Open matters with an invited client ÷ open matters, by `firm` (0–1; see [`crate::staff::adoption`]).
pub const INSIGHTS_ACTIVATION: &str = "matterline_insights_activation_ratio";
/// Invited clients who signed in within 30 days ÷ invited clients, by `firm` (0–1).
pub const INSIGHTS_ENGAGEMENT: &str = "matterline_insights_engagement_ratio";
/// Open matters whose clients were sent a weekly update in the last 7 days ÷ open matters, by `firm` (0–1).
pub const INSIGHTS_WEEKLY_COVERAGE: &str = "matterline_insights_weekly_coverage_ratio";
/// Average rating (1–5) of the last [`crate::staff::insights::DEFAULT_DAYS`] days, by `firm`.
pub const INSIGHTS_SATISFACTION: &str = "matterline_insights_satisfaction_average";
/// Document requests open now, by `firm`.
pub const INSIGHTS_REQUESTS_OPEN: &str = "matterline_insights_requests_open";
/// Open document requests past their due date, by `firm`.
pub const INSIGHTS_REQUESTS_OVERDUE: &str = "matterline_insights_requests_overdue";
/// Client messages unanswered for more than one business day, by `firm`.
pub const INSIGHTS_UNANSWERED: &str = "matterline_insights_messages_unanswered";
/// How long a firm's insight gauges are kept before a scrape computes them again.
pub const INSIGHTS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Client matter pages answered, by `outcome`: `kept` (the page rendered
/// before, the matter unchanged) or `rendered`.
pub const MATTER_PAGES: &str = "matterline_matter_pages_total";

/// Statements sent to the database by this process's pooled connections
/// ([`crate::db::statements_sent`]; measured when scraped).
pub const DB_STATEMENTS: &str = "matterline_db_statements_total";

/// Buckets of [`FIRST_REPLY`]: five minutes to a week.
const REPLY_BUCKETS: [f64; 9] =
    [300.0, 900.0, 3600.0, 4.0 * 3600.0, 8.0 * 3600.0, 86400.0, 2.0 * 86400.0, 3.0 * 86400.0, 7.0 * 86400.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first call. `None` only if another
/// recorder was installed first (then Matterline's metrics are not exported).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &buckets)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(WEEKLY_PASS.to_owned()), &buckets))
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(FIRST_REPLY.to_owned()), &REPLY_BUCKETS));
            match builder.map(|b| b.install_recorder()) {
                Ok(Ok(handle)) => Some(handle),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics buckets rejected");
                    None
                }
            }
        })
        .as_ref()
}

/// The current metrics in the Prometheus text format.
pub fn render() -> String {
    let Some(handle) = handle() else { return String::new() };
    metrics::counter!(DB_STATEMENTS).absolute(crate::db::statements_sent());
    handle.render()
}

/// Records the notification rows per status (called when `/metrics` is scraped).
pub fn record_notification_rows(conn: &mut crate::db::DbConnection) -> crate::Result<()> {
    use diesel::prelude::*;

    use crate::db::schema::notifications;
    use crate::domain::NotificationStatus;
    let counts: Vec<(String, i64)> = notifications::table
        .group_by(notifications::status)
        .select((notifications::status, diesel::dsl::count_star()))
        .load(conn)?;
    for status in NotificationStatus::ALL {
        let n = counts.iter().find(|(s, _)| s == status.as_str()).map_or(0, |(_, n)| *n);
        metrics::gauge!(NOTIFICATION_ROWS, "status" => status.as_str()).set(n as f64);
    }
    Ok(())
}

/// When each firm's insight gauges were last computed (in this process).
static INSIGHTS_TAKEN: OnceLock<Mutex<HashMap<String, Instant>>> = OnceLock::new();

/// Sets the insight gauges (the staff insights page's headline figures, firm
/// scope, default range) of every firm whose gauges are older than
/// [`INSIGHTS_EVERY`]; returns how many firms were computed. Called when
/// `/metrics` is scraped: the figures are exactly the API's, and a scraper
/// that polls every few seconds costs at most one computation per firm a
/// minute. A ratio whose whole is 0 and an average without ratings are left
/// unset (absent, not 0).
pub fn record_insights(conn: &mut crate::db::DbConnection, now: chrono::NaiveDateTime) -> crate::Result<usize> {
    use diesel::prelude::*;

    use crate::db::schema::firms;
    use crate::domain::{Language, Role};
    use crate::staff::Staff;
    use crate::staff::insights::{InsightsQuery, insights};
    let taken = INSIGHTS_TAKEN.get_or_init(Default::default);
    let firm_ids: Vec<String> = firms::table.select(firms::id).load(conn)?;
    let due: Vec<String> = {
        let taken = taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        firm_ids.into_iter().filter(|id| taken.get(id).is_none_or(|at| at.elapsed() >= INSIGHTS_EVERY)).collect()
    };
    for firm in &due {
        let staff = Staff { id: String::new(), firm_id: firm.clone(), role: Role::Admin, ip: None };
        let f = insights(conn, &staff, &InsightsQuery::default(), Language::EN, now)?;
        let label = firm.clone();
        let ratio = |name: &'static str, share: Option<f64>| {
            if let Some(v) = share {
                metrics::gauge!(name, "firm" => label.clone()).set(v);
            }
        };
        ratio(INSIGHTS_ACTIVATION, f.adoption.activation.share);
        ratio(INSIGHTS_ENGAGEMENT, f.adoption.engagement.share);
        ratio(INSIGHTS_WEEKLY_COVERAGE, f.weekly_updates.updated_last_7_days.share);
        ratio(INSIGHTS_SATISFACTION, f.satisfaction.average);
        metrics::gauge!(INSIGHTS_REQUESTS_OPEN, "firm" => label.clone()).set(f.requests.open as f64);
        metrics::gauge!(INSIGHTS_REQUESTS_OVERDUE, "firm" => label.clone()).set(f.requests.overdue as f64);
        metrics::gauge!(INSIGHTS_UNANSWERED, "firm" => label.clone())
            .set(f.messages.unanswered_over_one_business_day as f64);
        taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(firm.clone(), Instant::now());
    }
    Ok(due.len())
}
