//! Statements per request, counted by the portal itself: the growth of
//! `matterline_db_statements_total` at `/metrics` (diesel's instrumentation
//! hook on every pooled connection, see `shared::db::statements_sent`) over a
//! load run, divided by the requests answered. Independent of the tests and of
//! the database's own logging, and the same on both backends.

/// The portal's `matterline_db_statements_total` now (`None` if `/metrics` does not answer it).
pub fn sent(base: &str) -> Option<f64> {
    let text = crate::procs::run("curl", &["-sS", &format!("{base}/metrics")]).ok()?;
    text.lines()
        .find(|l| l.starts_with("matterline_db_statements_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
}

/// Statements per request between the readings `before` and `after` (the
/// scrapes of `/metrics` themselves send one statement each: taken off).
pub fn per_request(before: Option<f64>, after: Option<f64>, requests: u64) -> Option<f64> {
    let (before, after) = (before?, after?);
    Some(((after - before - 1.0).max(0.0)) / requests.max(1) as f64)
}
