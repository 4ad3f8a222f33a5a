//! Sign-in requests for clients' addresses against addresses no one has: the
//! answer must take as long for both (no timing oracle for who is a client).

use std::time::Duration;

use diesel::prelude::*;
use shared::db::schema::{rate_limit_hits, users};
use shared::db::{Db, DbConnection};

/// Requests per kind of address.
pub const SAMPLES: usize = 50;

/// Seconds per request, for each kind of address.
#[derive(Debug, Clone, Default)]
pub struct SignIns {
    pub known: Vec<f64>,
    pub unknown: Vec<f64>,
}

/// The value below which `share` of `samples` lie (nearest rank), in milliseconds.
pub fn percentile_ms(samples: &[f64], share: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] * 1000.0
}

/// `POST /sign-in` for [`SAMPLES`] clients' addresses and as many unknown ones,
/// alternating, one at a time, each on a quiet portal: the rate-limit hits are
/// cleared before each request (so no answer is a refusal) and the email a
/// known address's request sends afterwards has a moment to go out.
pub fn measure(db: &Db, addr: &str, client_ids: &[String]) -> anyhow::Result<SignIns> {
    let step = (client_ids.len() / SAMPLES).max(1);
    let ids: Vec<String> = client_ids.iter().step_by(step).take(SAMPLES).cloned().collect();
    let mut pooled = db.get()?;
    let conn: &mut DbConnection = &mut pooled;
    let known: Vec<String> = users::table.filter(users::id.eq_any(&ids)).select(users::email).load(conn)?;
    anyhow::ensure!(known.len() == SAMPLES, "{} client addresses for {SAMPLES} samples", known.len());
    let url = format!("http://{addr}/sign-in");
    let origin = format!("Origin: http://{addr}");
    let mut result = SignIns::default();
    for (n, email) in known.iter().enumerate() {
        let unknown = format!("nobody{n}@clients.bench.test");
        for (address, samples) in [(email.as_str(), &mut result.known), (unknown.as_str(), &mut result.unknown)] {
            diesel::delete(rate_limit_hits::table).execute(conn)?;
            let field = format!("email={address}");
            let (status, seconds) = crate::curl(&["-X", "POST", "-H", &origin, "--data-urlencode", &field, &url])?;
            anyhow::ensure!(status == 200, "POST /sign-in for {address} answered {status}");
            samples.push(seconds);
            std::thread::sleep(Duration::from_millis(150));
        }
    }
    eprintln!(
        "  known: median {:.2} ms, p90 {:.2} ms; unknown: median {:.2} ms, p90 {:.2} ms",
        percentile_ms(&result.known, 0.5),
        percentile_ms(&result.known, 0.9),
        percentile_ms(&result.unknown, 0.5),
        percentile_ms(&result.unknown, 0.9)
    );
    Ok(result)
}
