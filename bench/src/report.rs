//! BENCHMARKS.md: the machine, the commands, the figures against the targets.

use std::fmt::Write as _;
use std::time::Duration;

use crate::Args;
use crate::http::Load;
use crate::sign_in::percentile_ms;
use crate::weekly::{Statements, Timed};

/// Where hand-written notes start in BENCHMARKS.md; a new run keeps them.
pub const NOTES_MARKER: &str = "<!-- Notes below are written by hand and kept by scripts/bench. -->";

/// `/healthz`, the matter page and the API's matter detail of one server.
#[derive(Debug, Clone, Default)]
pub struct HttpSet {
    pub healthz: Load,
    /// The matter page, the portal keeping it between requests (the matter unchanged).
    pub page: Load,
    /// The matter page from a portal that keeps no pages: rendered each time.
    pub page_rendered: Option<Load>,
    pub api: Load,
    pub seconds: u32,
}

/// The upload against a direct PUT.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub bytes: u64,
    pub portal_seconds: f64,
    pub direct_seconds: f64,
    pub rss_before_kb: u64,
    pub peak_kb: u64,
    pub peak_growth_kb: u64,
    pub hwm_reset: bool,
}

/// The weekly pass.
#[derive(Debug, Clone, Default)]
pub struct Weekly {
    pub clients: usize,
    pub sent: usize,
    pub summary: String,
    pub notifier: Timed,
    pub bare_messages: usize,
    pub bare_seconds: f64,
    pub bare_cpu: f64,
    pub statements: Option<Statements>,
}

type Counts = ((i64, i64, i64), Option<f64>);

/// Everything one run measured.
#[derive(Debug, Default)]
pub struct Report {
    pub command: String,
    pub quick: bool,
    pub connections: u32,
    pub machine: Vec<(String, String)>,
    pub pg_seed: Option<Counts>,
    pub sqlite_seed: Option<Counts>,
    pub derive_pg: Option<(usize, f64)>,
    pub derive_sqlite: Option<(usize, f64)>,
    pub portal_start: Option<(Duration, u64)>,
    pub sqlite_start: Option<(Duration, u64)>,
    pub notifier_start: Option<(Duration, u64)>,
    pub http_pg: Option<HttpSet>,
    pub http_sqlite: Option<HttpSet>,
    pub upload: Option<Upload>,
    pub weekly: Option<Weekly>,
    pub sign_in: Option<crate::sign_in::SignIns>,
    pub insights: Option<crate::insights::Timings>,
    /// Rows for the targets table from parts with a module of their own (`smtp`, `uploads`).
    pub target_rows: Vec<String>,
    /// Sections from those parts, written after the others.
    pub sections: Vec<String>,
    pub total_seconds: f64,
}

fn first_line(program: &str, args: &[&str]) -> String {
    crate::procs::run(program, args).map(|o| o.lines().next().unwrap_or_default().trim().to_owned()).unwrap_or_default()
}

/// The machine and tool versions.
pub fn machine(args: &Args) -> Vec<(String, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned()))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned())))
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let pg = crate::procs::run("psql", &[&args.postgres_url, "-tAc", "SHOW server_version"]).unwrap_or_default();
    vec![
        ("CPU".into(), format!("{cpu} × {} logical cores", first_line("nproc", &[]))),
        ("Memory".into(), memory),
        ("OS".into(), format!("{os}, Linux {}", first_line("uname", &["-r"]))),
        ("Load average at start".into(), load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
        ("PostgreSQL".into(), format!("{} (same machine, default settings)", pg.trim())),
        ("S3 server".into(), "s3s-fs 0.14.1 (files on the local disk)".into()),
        ("SMTP server".into(), "aiosmtpd 1.4.6 (tests/support/smtp_fault_server.py, accepts and logs)".into()),
        ("Load generator".into(), first_line(&args.oha.display().to_string(), &["--version"])),
        ("Rust".into(), first_line("rustc", &["--version"])),
        ("Commit".into(), first_line("git", &["rev-parse", "--short", "HEAD"])),
    ]
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

impl Report {
    /// An empty report for `args`.
    pub fn new(args: &Args) -> Self {
        Self { command: args.command.clone(), quick: args.quick, connections: args.connections, ..Self::default() }
    }

    fn http_table(&self, out: &mut String, set: &HttpSet) {
        let _ = writeln!(
            out,
            "| URL | requests/s | p50 ms | p99 ms | not 200 | × `/healthz` | portal CPU µs/request | statements/request |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
        // Each URL as the table names it, as the CPU line names it, and its load.
        let rows: Vec<(&str, &str, &Load)> = [
            ("`/healthz`", "`/healthz`", Some(&set.healthz)),
            ("matter page `/matters/{id}` (signed in; kept, the matter unchanged)", "the matter page", Some(&set.page)),
            (
                "the same page rendered each time (`MATTERLINE_PAGE_CACHE_MIB=0`)",
                "the matter page rendered each time",
                set.page_rendered.as_ref(),
            ),
            ("`/api/v1/matters/{id}` (bearer)", "the API", Some(&set.api)),
        ]
        .into_iter()
        .filter_map(|(name, short, load)| Some((name, short, load?)))
        .collect();
        for &(name, _, load) in &rows {
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {:.0} | {} |",
                load.rps,
                load.p50_ms,
                load.p99_ms,
                load.non_200,
                ratio(load.rps, set.healthz.rps),
                load.portal_cpu_us,
                load.statements.map_or_else(|| "—".to_owned(), |n| format!("{n:.2}"))
            );
        }
        let _ = writeln!(out, "\n{} connections, {} s per URL after a 1 s warm-up.", self.connections, set.seconds);
        for &(_, name, load) in &rows {
            let split: Vec<String> = load.cpu_split.iter().map(|(c, s)| format!("{c} {s:.1}")).collect();
            let _ = writeln!(out, "CPU seconds by process during {name}: {}.", split.join(", "));
        }
    }

    /// The report; `previous` is the file it replaces, whose hand-written notes are kept.
    pub fn markdown(&self, previous: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Benchmarks\n");
        let _ = writeln!(
            out,
            "Written by `scripts/bench` (the `matterline-bench` binary in `bench/`). Everything runs on one \
             machine: the portal or notifier, PostgreSQL, the S3 and SMTP servers and the load generator share \
             its cores, so the figures are for comparing with each other and with later runs, not absolute \
             capacity.{}\n",
            if self.quick { " **Quick run: small scales, not the figures of record.**" } else { "" }
        );
        let _ = writeln!(out, "## Commands\n\n```sh\n{}\n```\n", self.command);
        let _ = writeln!(
            out,
            "`scripts/bench` starts PostgreSQL if it is down, builds oha 1.16.0 and s3s-fs 0.14.1 once into \
             `~/.cache/matterline`, starts s3s-fs and the aiosmtpd sink on free loopback ports, builds \
             `portal`, `notifier` and `matterline-bench` with `cargo build --release` into \
             `~/.cache/matterline/target-release`, and runs `matterline-bench` with their addresses. \
             Load: `oha --no-tui --output-format json -c {} -z 10s URL`. Upload: `curl -F file=@upload.pdf` to \
             `POST /api/v1/matters/{{id}}/documents`; direct: `curl --aws-sigv4 aws:amz:us-east-1:s3 -T upload.pdf` \
             to the same bucket. Weekly pass: `/usr/bin/time notifier once`.\n",
            self.connections
        );
        let _ = writeln!(out, "## Machine\n");
        let _ = writeln!(out, "| | |\n|---|---|");
        for (k, v) in &self.machine {
            let _ = writeln!(out, "| {k} | {v} |");
        }
        let _ = writeln!(out, "\nWhole run: {:.0} s.\n", self.total_seconds);

        let _ = writeln!(out, "## Data\n");
        for (name, seed) in [("PostgreSQL", &self.pg_seed), ("SQLite", &self.sqlite_seed)] {
            if let Some(((clients, matters, milestones), seconds)) = seed {
                let how = match seconds {
                    Some(s) => format!("seeded in {s:.0} s"),
                    None => "reused from an earlier run with the same seed".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "- {name}: {clients} clients, {matters} matters, {milestones} milestones ({how}; multi-row \
                     INSERTs of the diesel models, then ANALYZE)."
                );
            }
        }
        let _ = writeln!(
            out,
            "\nEach bench client has one open matter with its milestones spread over 60 days (the latest in \
             the past week; one in four an internal note), every fifth an open document request; half read \
             Spanish. The demo firm's seed supplies the phase catalogue and case manager.\n"
        );

        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(out, "| target | figure | |\n|---|---|---|");
        if let Some(set) = &self.http_pg {
            let r = ratio(set.page.rps, set.healthz.rps);
            let statements = set.page.statements.unwrap_or(f64::NAN);
            let _ = writeln!(
                out,
                "| matter page ≥ 8,000 pages/s and ≥ 0.12× `/healthz`, p99 ≤ 25 ms, one statement (PostgreSQL, \
                 the page kept) | {:.0}/s, {r:.2}×, p99 {:.1} ms, {statements:.2} statements | {} |",
                set.page.rps,
                set.page.p99_ms,
                mark(set.page.rps >= 8000.0 && r >= 0.12 && set.page.p99_ms <= 25.0 && statements < 1.05)
            );
        }
        if let Some(u) = &self.upload {
            let r = ratio(u.direct_seconds, u.portal_seconds);
            let growth = mb(u.peak_growth_kb);
            let _ = writeln!(
                out,
                "| upload ≥ 0.8× direct PUT, portal memory growth ≤ 64 MB | {r:.2}×, +{growth:.1} MiB | {} |",
                mark(r >= 0.8 && growth <= 64.0)
            );
        }
        if let Some((n, s)) = self.derive_pg {
            let _ = writeln!(
                out,
                "| digest derivation for 100,000 clients ≤ 10 s | {s:.2} s for {n} | {} |",
                mark(s <= 10.0 * n as f64 / 100_000.0)
            );
        }
        if let Some(w) = &self.weekly {
            if let Some(st) = &w.statements {
                let per = |n: usize| n as f64 * 1000.0 / w.clients as f64;
                let _ = writeln!(
                    out,
                    "| ≤ 10 queries per 1,000 clients | {:.1} (all statements: {:.1} to record outcomes, {:.1} for \
                     everything else) | {} |",
                    per(st.total),
                    per(st.recording),
                    per(st.besides_recording()),
                    mark(per(st.total) <= 10.0)
                );
            }
            let r = ratio(w.sent as f64 / w.notifier.seconds, w.bare_messages as f64 / w.bare_seconds);
            let _ = writeln!(out, "| notifier ≥ 0.5× bare lettre | {r:.2}× | {} |", mark(r >= 0.5));
        }

        if let Some(s) = &self.sign_in {
            let (known, unknown) = (percentile_ms(&s.known, 0.5), percentile_ms(&s.unknown, 0.5));
            let _ = writeln!(
                out,
                "| sign-in answer for a client's address within 10% of an unknown one (medians) | {known:.2} ms against \
                 {unknown:.2} ms ({:.2}×) | {} |",
                ratio(known, unknown),
                mark((ratio(known, unknown) - 1.0).abs() <= 0.1)
            );
        }
        for row in &self.target_rows {
            let _ = writeln!(out, "{row}");
        }

        if let Some(set) = &self.http_pg {
            let _ = writeln!(out, "\n## 1. Pages against `/healthz` (PostgreSQL)\n");
            self.http_table(&mut out, set);
        }
        if let Some(set) = &self.http_sqlite {
            let _ = writeln!(out, "\n### The same on SQLite\n");
            self.http_table(&mut out, set);
        }
        if let Some(u) = &self.upload {
            let size = u.bytes as f64 / 1e6;
            let _ = writeln!(out, "\n## 2. Upload to S3 ({:.0} MiB = {size:.1} MB)\n", u.bytes as f64 / 1048576.0);
            let _ = writeln!(out, "| path | seconds | MB/s |\n|---|---:|---:|");
            let _ =
                writeln!(out, "| direct PUT to s3s-fs | {:.2} | {:.1} |", u.direct_seconds, size / u.direct_seconds);
            let _ = writeln!(
                out,
                "| through the portal (multipart form → 8 MiB S3 parts) | {:.2} | {:.1} |",
                u.portal_seconds,
                size / u.portal_seconds
            );
            let _ = writeln!(
                out,
                "\nRatio {:.2}×. Best of two rounds each. Portal resident memory: {:.1} MiB before, peak {:.1} MiB \
                 during (growth {:.1} MiB){}.",
                ratio(u.direct_seconds, u.portal_seconds),
                mb(u.rss_before_kb),
                mb(u.peak_kb),
                mb(u.peak_growth_kb),
                if u.hwm_reset {
                    "; the peak is VmHWM after resetting it through /proc/PID/clear_refs, and VmRSS sampled every 10 ms"
                } else {
                    "; VmRSS sampled every 10 ms"
                }
            );
        }
        if let Some(w) = &self.weekly {
            let _ = writeln!(out, "\n## 3. Weekly pass over {} clients (PostgreSQL → SMTP sink)\n", w.clients);
            let rate = w.sent as f64 / w.notifier.seconds;
            let bare = w.bare_messages as f64 / w.bare_seconds;
            let _ = writeln!(
                out,
                "| | emails | seconds | emails/s | CPU s per 1,000 emails | peak RSS |\n|---|---:|---:|---:|---:|---:|"
            );
            let _ = writeln!(
                out,
                "| `notifier once` (start to exit: enqueue, derive, render, send, record) | {} | {:.2} | {rate:.0} | {:.2} | {:.1} MiB |",
                w.sent,
                w.notifier.seconds,
                w.notifier.cpu * 1000.0 / w.sent.max(1) as f64,
                mb(w.notifier.max_rss_kb)
            );
            let _ = writeln!(
                out,
                "| bare pooled lettre client, same pre-rendered messages, 8 in flight | {} | {:.2} | {bare:.0} | {:.2} | — |",
                w.bare_messages,
                w.bare_seconds,
                w.bare_cpu * 1000.0 / w.bare_messages.max(1) as f64
            );
            let _ = writeln!(out, "\nRatio {:.2}×. The notifier printed: `{}`.", ratio(rate, bare), w.summary);
            if let Some(st) = &w.statements {
                let per = |n: usize| n as f64 * 1000.0 / w.clients as f64;
                let _ = writeln!(
                    out,
                    "\nStatements the server executed for the notifier, counted from the PostgreSQL log with \
                     `log_statement = 'all'` set on the benchmark database only: **{} in all, {:.1} per 1,000 \
                     clients** — {} transaction control (BEGIN/COMMIT), {} pool checks (`SELECT 1` when a \
                     connection is handed out), {} start-up (migrations check), {} reading or writing data \
                     ({:.1} per 1,000 clients). Of all, {} write outcomes (`UPDATE \"notifications\"` without \
                     `RETURNING`) and {} do everything else: enqueue, claim, derive, start up ({:.1} per 1,000 \
                     clients). By statement:\n",
                    st.total,
                    per(st.total),
                    st.transaction_control,
                    st.pings,
                    st.startup,
                    st.data(),
                    per(st.data()),
                    st.recording,
                    st.besides_recording(),
                    per(st.besides_recording())
                );
                let _ = writeln!(out, "| statement | count |\n|---|---:|");
                for (kind, n) in st.by_kind.iter().take(12) {
                    let _ = writeln!(out, "| `{kind}` | {n} |");
                }
            } else {
                let _ = writeln!(out, "\nStatements were not counted: no PostgreSQL server log was found.");
            }
        }
        if self.derive_pg.is_some() || self.derive_sqlite.is_some() {
            let _ = writeln!(out, "\n### Digest derivation alone (nothing rendered or sent)\n");
            let _ = writeln!(out, "| database | clients | seconds | clients/s |\n|---|---:|---:|---:|");
            for (name, d) in [("PostgreSQL", self.derive_pg), ("SQLite", self.derive_sqlite)] {
                if let Some((n, s)) = d {
                    let _ = writeln!(out, "| {name} | {n} | {s:.2} | {:.0} |", n as f64 / s);
                }
            }
            let _ = writeln!(
                out,
                "\n`shared::weekly::derive` in batches of {} (the notifier's default), in the bench process.",
                crate::weekly::DERIVE_BATCH
            );
        }
        let _ = writeln!(out, "\n## 4. Idle memory and start-up\n");
        let _ = writeln!(out, "| process | start to ready | idle VmRSS |\n|---|---:|---:|");
        for (name, s) in [
            ("portal, PostgreSQL + S3 (`/readyz` answers 200)", self.portal_start),
            ("portal, SQLite + local files", self.sqlite_start),
            ("notifier `run` (`/healthz` answers 200)", self.notifier_start),
        ] {
            if let Some((ready, rss)) = s {
                let _ = writeln!(out, "| {name} | {:.0} ms | {:.1} MiB |", ready.as_secs_f64() * 1000.0, mb(rss));
            }
        }
        let _ = writeln!(out, "\nIdle VmRSS is read 2 s after ready, before any request.");
        if let Some(s) = &self.sign_in {
            let _ = writeln!(out, "\n## 5. Sign-in: a client's address against an unknown one (PostgreSQL)\n");
            let _ =
                writeln!(out, "| address | requests | median ms | p90 ms | slowest ms |\n|---|---:|---:|---:|---:|");
            for (name, samples) in [("a client's", &s.known), ("no one's", &s.unknown)] {
                let _ = writeln!(
                    out,
                    "| {name} | {} | {:.2} | {:.2} | {:.2} |",
                    samples.len(),
                    percentile_ms(samples, 0.5),
                    percentile_ms(samples, 0.9),
                    percentile_ms(samples, 1.0)
                );
            }
            let _ = writeln!(
                out,
                "\n`curl -X POST --data-urlencode email=… /sign-in` (time to the whole answer), one request at a \
                 time, the two kinds alternating, each with the rate-limit hits cleared before it and 150 ms after \
                 it (the email a client's request sends goes out after the answer)."
            );
        }
        if let Some(t) = &self.insights {
            crate::insights::section(&mut out, t);
        }
        for section in &self.sections {
            let _ = writeln!(out, "\n{}", section.trim_end());
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{NOTES_MARKER}");
        if let Some((_, notes)) = previous.split_once(NOTES_MARKER) {
            out.push_str(notes.trim_start_matches('\n'));
        }
        out
    }
}
