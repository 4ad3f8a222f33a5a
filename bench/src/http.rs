//! HTTP load with oha: requests per second and latency percentiles of one URL.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// What one oha run measured.
#[derive(Debug, Clone, Default)]
pub struct Load {
    /// Successful (2xx) requests per second.
    pub rps: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Requests answered with a status other than 200.
    pub non_200: u64,
    /// Requests answered.
    pub total: u64,
    /// CPU time the portal spent per request, microseconds (user + system, /proc/PID/stat).
    pub portal_cpu_us: f64,
    /// CPU seconds by command on the whole machine during the run (busiest first).
    pub cpu_split: Vec<(String, f64)>,
    /// Database statements the portal sent per request (see `crate::statements`).
    pub statements: Option<f64>,
}

/// Runs `oha` against `url` for `seconds` with `connections` connections and `headers`.
pub fn oha(oha: &Path, url: &str, headers: &[String], connections: u32, seconds: u32) -> anyhow::Result<Load> {
    let mut cmd = Command::new(oha);
    cmd.args(["--no-tui", "--output-format", "json", "-c", &connections.to_string(), "-z", &format!("{seconds}s")]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    cmd.arg(url);
    let out = cmd.output().map_err(|e| anyhow::anyhow!("cannot run {}: {e}", oha.display()))?;
    anyhow::ensure!(out.status.success(), "oha failed: {}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| anyhow::anyhow!("oha output is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))?;
    let num = |v: &Value| v.as_f64().unwrap_or(0.0);
    let codes = json["statusCodeDistribution"].as_object().cloned().unwrap_or_default();
    let ok = codes.get("200").map(num).unwrap_or(0.0);
    let total: f64 = codes.values().map(num).sum();
    let elapsed = num(&json["summary"]["total"]);
    Ok(Load {
        rps: if elapsed > 0.0 { ok / elapsed } else { 0.0 },
        p50_ms: num(&json["latencyPercentiles"]["p50"]) * 1000.0,
        p99_ms: num(&json["latencyPercentiles"]["p99"]) * 1000.0,
        // Requests cut off at the end of the duration are not answers.
        non_200: (total - ok).max(0.0) as u64,
        total: total as u64,
        portal_cpu_us: 0.0,
        cpu_split: Vec::new(),
        statements: None,
    })
}
