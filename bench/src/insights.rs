//! The firm's insights on the large database: `/staff/insights` (the page,
//! charts drawn) and `GET /api/v1/staff/insights` timed one request at a time
//! for the demo firm's admin, whose firm holds every bench client; and the
//! first `/metrics` scrape, which computes the insight gauges of every firm.
//! Before timing, one rating for every tenth bench client and one client
//! message for every twentieth are added (once), so those figures have rows.

use chrono::Duration;
use diesel::prelude::*;
use shared::db::models::{Message, Rating};
use shared::db::schema::{matter_clients, messages, ratings, users};
use shared::db::{Db, DbConnection};
use shared::domain::{MessageKind, Role, new_id, now};

use crate::sign_in::percentile_ms;

/// Timed requests per URL (after two untimed ones).
pub const SAMPLES: usize = 20;

/// Seconds per request of each URL, and the machine's load around them.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Clients of the firm.
    pub clients: i64,
    /// `/staff/insights`.
    pub page: Vec<f64>,
    /// `/api/v1/staff/insights`.
    pub api: Vec<f64>,
    /// The first `/metrics` scrape (gauges computed), seconds.
    pub metrics_first: f64,
    /// A second scrape at once (gauges from the cache), seconds.
    pub metrics_cached: f64,
    /// `/proc/loadavg` before and after.
    pub load_before: String,
    pub load_after: String,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Adds the ratings and messages (unless there are ratings already).
fn add_rows(conn: &mut DbConnection, firm_id: &str, clients: &[String]) -> anyhow::Result<()> {
    let existing: i64 = ratings::table.filter(ratings::firm_id.eq(firm_id)).count().get_result(conn)?;
    if existing > 0 {
        return Ok(());
    }
    let t = now();
    let rated: Vec<Rating> = clients
        .iter()
        .step_by(10)
        .enumerate()
        .map(|(n, client)| Rating {
            id: new_id(),
            firm_id: firm_id.to_owned(),
            client_id: client.clone(),
            notification_id: None,
            score: i32::try_from(n % 5).unwrap_or(0) + 1,
            created_at: t - Duration::hours(i64::try_from(n % (80 * 24)).unwrap_or(0)),
        })
        .collect();
    for chunk in rated.chunks(2000) {
        shared::insert_many!(&mut *conn, ratings::table, chunk)?;
    }
    let writers: Vec<&String> = clients.iter().step_by(20).collect();
    let links: Vec<(String, String)> = matter_clients::table
        .filter(matter_clients::client_id.eq_any(&writers))
        .select((matter_clients::client_id, matter_clients::matter_id))
        .load(conn)?;
    for (n, chunk) in links.chunks(1000).enumerate() {
        let rows: Vec<Message> = chunk
            .iter()
            .enumerate()
            .map(|(i, (client, matter))| {
                let written = t - Duration::hours(i64::try_from((n * 1000 + i) % (60 * 24)).unwrap_or(0));
                Message {
                    id: new_id(),
                    firm_id: firm_id.to_owned(),
                    matter_id: matter.clone(),
                    author_id: Some(client.clone()),
                    kind: MessageKind::Client,
                    body: "Any news?".to_owned(),
                    created_at: written,
                    read_at: None,
                    answered_at: (i % 3 != 0).then(|| written + Duration::hours(3)),
                }
            })
            .collect();
        shared::insert_many!(&mut *conn, messages::table, &rows)?;
    }
    Ok(())
}

/// Times the page and the API for the demo firm's admin (`session` makes their session token).
pub fn measure(
    db: &Db,
    addr: &str,
    clients: &[String],
    session: impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<Timings> {
    let (admin, firm_id): (String, String) = {
        let mut conn = db.get()?;
        users::table
            .filter(users::role.eq(Role::Admin))
            .order(users::created_at)
            .select((users::id, users::firm_id))
            .first::<(String, String)>(&mut *conn as &mut DbConnection)?
    };
    {
        let mut conn = db.get()?;
        let conn: &mut DbConnection = &mut conn;
        add_rows(conn, &firm_id, clients)?;
        diesel::sql_query("ANALYZE ratings").execute(conn)?;
        diesel::sql_query("ANALYZE messages").execute(conn)?;
    }
    let count: i64 = {
        let mut conn = db.get()?;
        users::table
            .filter(users::firm_id.eq(&firm_id))
            .filter(users::role.eq(Role::Client))
            .count()
            .get_result(&mut *conn as &mut DbConnection)?
    };
    let token = session(&admin)?;
    let cookie = format!("Cookie: matterline_session={token}");
    let bearer = format!("Authorization: Bearer {token}");
    let mut timings = Timings { clients: count, load_before: load_average(), ..Timings::default() };
    let base = format!("http://{addr}");
    let time = |path: &str, header: &str| -> anyhow::Result<f64> {
        let (status, seconds) = crate::curl(&["-H", header, &format!("{base}{path}")])?;
        anyhow::ensure!(status == 200, "GET {path} answered {status}");
        Ok(seconds)
    };
    timings.metrics_first = crate::curl(&[&format!("{base}/metrics")])?.1;
    timings.metrics_cached = crate::curl(&[&format!("{base}/metrics")])?.1;
    for _ in 0..2 {
        time("/staff/insights", &cookie)?;
        time("/api/v1/staff/insights", &bearer)?;
    }
    for _ in 0..SAMPLES {
        timings.page.push(time("/staff/insights", &cookie)?);
        timings.api.push(time("/api/v1/staff/insights", &bearer)?);
    }
    timings.load_after = load_average();
    eprintln!(
        "  {} clients: page median {:.0} ms, p95 {:.0} ms; API median {:.0} ms, p95 {:.0} ms; /metrics first {:.0} ms, \
         cached {:.0} ms; load {} → {}",
        timings.clients,
        percentile_ms(&timings.page, 0.5),
        percentile_ms(&timings.page, 0.95),
        percentile_ms(&timings.api, 0.5),
        percentile_ms(&timings.api, 0.95),
        timings.metrics_first * 1000.0,
        timings.metrics_cached * 1000.0,
        timings.load_before,
        timings.load_after
    );
    Ok(timings)
}

/// The report's section.
pub fn section(out: &mut String, t: &Timings) {
    use std::fmt::Write;
    let _ = writeln!(out, "\n## 6. Insights of a firm with {} clients (PostgreSQL)\n", t.clients);
    let _ = writeln!(out, "| URL | requests | median ms | p95 ms | slowest ms |\n|---|---:|---:|---:|---:|");
    for (name, samples) in [("`/staff/insights` (page, 4 charts)", &t.page), ("`/api/v1/staff/insights`", &t.api)] {
        let _ = writeln!(
            out,
            "| {name} | {} | {:.1} | {:.1} | {:.1} |",
            samples.len(),
            percentile_ms(samples, 0.5),
            percentile_ms(samples, 0.95),
            percentile_ms(samples, 1.0)
        );
    }
    let _ = writeln!(
        out,
        "\n`curl` one request at a time (time to the whole answer), page and API alternating, after two untimed \
         requests each; the demo firm's admin, default range (90 days). `/metrics`: first scrape (insight gauges \
         computed for every firm) {:.0} ms, the next at once (cached) {:.0} ms. Load average {} before, {} after.",
        t.metrics_first * 1000.0,
        t.metrics_cached * 1000.0,
        t.load_before,
        t.load_after
    );
}
