//! Uploads at the hash's speed: ring's single-core SHA-256 on this machine (the
//! hash every upload pays), the 200 MiB upload as a ratio of it, and twenty
//! uploads of 50 MiB at once (total MB/s and the portal's peak memory growth).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::procs::{self, Service};
use crate::smtp::median;

/// Bytes hashed per measurement of ring's speed.
const HASH_BYTES: usize = 256 * 1024 * 1024;

/// ring's SHA-256 over [`HASH_BYTES`] in one thread, `rounds` times; MB/s of each round.
pub fn ring_sha256(rounds: usize) -> Vec<f64> {
    let data: Vec<u8> = (0..HASH_BYTES).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    (0..rounds)
        .map(|_| {
            let started = Instant::now();
            let mut context = ring::digest::Context::new(&ring::digest::SHA256);
            // In 64 KiB pieces, as an upload's chunks arrive.
            for piece in data.chunks(64 * 1024) {
                context.update(piece);
            }
            let digest = context.finish();
            std::hint::black_box(digest);
            HASH_BYTES as f64 / started.elapsed().as_secs_f64() / 1e6
        })
        .collect()
}

/// Twenty (or `count`) uploads of one file at once through the portal.
#[derive(Debug, Clone, Default)]
pub struct Concurrent {
    /// Uploads started at once.
    pub count: usize,
    /// Bytes of each.
    pub bytes: u64,
    /// Wall seconds from the first start to the last answer.
    pub seconds: f64,
    /// Answers that were not 201.
    pub failed: usize,
    /// Portal VmRSS before, kB.
    pub rss_before_kb: u64,
    /// Peak VmRSS during (sampled, and VmHWM after a reset), kB.
    pub peak_kb: u64,
    /// Load average (1 min) before.
    pub load: f64,
}

impl Concurrent {
    /// Total MB/s.
    pub fn mb_per_s(&self) -> f64 {
        (self.count as u64 * self.bytes) as f64 / self.seconds.max(f64::MIN_POSITIVE) / 1e6
    }

    /// Peak growth, MiB.
    pub fn growth_mib(&self) -> f64 {
        self.peak_kb.saturating_sub(self.rss_before_kb) as f64 / 1024.0
    }
}

/// `count` uploads of `file` (`bytes` long) at once with curl.
pub fn concurrent(portal: &Service, url: &str, token: &str, file: &Path, count: usize) -> anyhow::Result<Concurrent> {
    let bytes = std::fs::metadata(file)?.len();
    let pid = portal.pid();
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let before = procs::status_kb(pid, "VmRSS")?;
    let reset = procs::reset_peak(pid).is_ok();
    let sampler = procs::RssSampler::start(pid);
    let bearer = format!("Authorization: Bearer {token}");
    let file_arg = format!("file=@{};type=application/pdf;filename=bench.pdf", file.display());
    let started = Instant::now();
    let children: Vec<_> = (0..count)
        .map(|_| {
            std::process::Command::new("curl")
                .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", &bearer, "-F", &file_arg, url])
                .stdout(std::process::Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut failed = 0;
    for child in children {
        let out = child.wait_with_output()?;
        if String::from_utf8_lossy(&out.stdout).trim() != "201" {
            failed += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let sampled = sampler.finish();
    let hwm = if reset { procs::status_kb(pid, "VmHWM")? } else { 0 };
    Ok(Concurrent { count, bytes, seconds, failed, rss_before_kb: before, peak_kb: sampled.max(hwm), load })
}

/// What the part measured.
#[derive(Debug, Clone, Default)]
pub struct HashSpeed {
    /// ring's SHA-256, MB/s per round.
    pub ring_mb_s: Vec<f64>,
    /// The 200 MiB upload (bytes, best portal seconds), when it ran.
    pub upload: Option<(u64, f64)>,
    /// Rounds of concurrent uploads.
    pub concurrent: Vec<Concurrent>,
}

impl HashSpeed {
    fn ring(&self) -> f64 {
        median(self.ring_mb_s.clone())
    }

    /// The targets table's rows.
    pub fn target_rows(&self) -> Vec<String> {
        let mut rows = Vec::new();
        if let Some((bytes, seconds)) = self.upload.filter(|_| !self.ring_mb_s.is_empty()) {
            let rate = bytes as f64 / seconds / 1e6;
            let r = rate / self.ring().max(f64::MIN_POSITIVE);
            rows.push(format!(
                "| upload ≥ 0.7× ring's single-core SHA-256 | {r:.2}× ({rate:.0} against {:.0} MB/s) | {} |",
                self.ring(),
                if r >= 0.7 { "met" } else { "**missed**" }
            ));
        }
        if !self.concurrent.is_empty() {
            let growth = median(self.concurrent.iter().map(Concurrent::growth_mib).collect());
            let rate = median(self.concurrent.iter().map(Concurrent::mb_per_s).collect());
            let count = self.concurrent[0].count;
            rows.push(format!(
                "| {count} × {} MiB at once: portal memory growth ≤ 200 MiB | +{growth:.1} MiB ({rate:.0} MB/s in all, medians) | {} |",
                self.concurrent[0].bytes / (1024 * 1024),
                if growth <= 200.0 { "met" } else { "**missed**" }
            ));
        }
        rows
    }

    /// The section.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## 7. Uploads against ring's SHA-256\n");
        let rounds: Vec<String> = self.ring_mb_s.iter().map(|r| format!("{r:.0}")).collect();
        let _ = writeln!(
            out,
            "ring's SHA-256 in one thread of the bench process, 256 MiB in 64 KiB pieces: {} MB/s (median of {}).",
            rounds.join(", "),
            rounds.len()
        );
        if let Some((bytes, seconds)) = self.upload {
            let rate = bytes as f64 / seconds / 1e6;
            let _ = writeln!(
                out,
                "The {:.0} MiB upload of section 2 ran at {rate:.0} MB/s: {:.2}× ring's speed.",
                bytes as f64 / 1048576.0,
                rate / self.ring().max(f64::MIN_POSITIVE)
            );
        }
        if !self.concurrent.is_empty() {
            let _ = writeln!(
                out,
                "\n| round | uploads at once | MiB each | seconds | MB/s in all | not 201 | portal VmRSS before | peak growth | load |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            );
            for (i, c) in self.concurrent.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.2} | {:.0} | {} | {:.1} MiB | +{:.1} MiB | {:.2} |",
                    i + 1,
                    c.count,
                    c.bytes / (1024 * 1024),
                    c.seconds,
                    c.mb_per_s(),
                    c.failed,
                    c.rss_before_kb as f64 / 1024.0,
                    c.growth_mib(),
                    c.load
                );
            }
            let _ = writeln!(
                out,
                "\n`curl -F file=@upload.pdf` × {} started together; the peak is VmHWM after resetting it through \
                 /proc/PID/clear_refs, and VmRSS sampled every 10 ms.",
                self.concurrent[0].count
            );
        }
        out
    }
}
