//! The weekly pass against a mail server that is not the bottleneck: Postfix's
//! `smtp-sink`, with `smtp-source -s 8` into the same sink as the baseline in
//! the same run, and `notifier once` over 20,000 clients on PostgreSQL. Rounds
//! alternate (source, notifier, source, …); the report takes the medians.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::Args;
use crate::procs;
use crate::weekly::{self, Timed};

/// Size of each `smtp-source` message, bytes (a weekly update is about 6 KB).
pub const MESSAGE_BYTES: usize = 6000;
/// Sessions `smtp-source` keeps in flight.
pub const SOURCE_SESSIONS: usize = 8;

/// One round: the baseline and the notifier, each with the load average before it.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// `smtp-source` seconds for `messages`.
    pub source_seconds: f64,
    /// Messages the sink counted for `smtp-source`.
    pub source_accepted: usize,
    /// Load average (1 min) before `smtp-source`.
    pub source_load: f64,
    /// `notifier once`, timed.
    pub notifier: Timed,
    /// Messages the sink counted for the notifier.
    pub notifier_accepted: usize,
    /// Load average (1 min) before the notifier.
    pub notifier_load: f64,
}

/// Every round of the part.
#[derive(Debug, Clone, Default)]
pub struct SinkRuns {
    /// Clients in the pass (one email each).
    pub clients: usize,
    /// SMTP connections the notifier was given.
    pub connections: usize,
    /// Emails in flight (`--concurrency`).
    pub concurrency: usize,
    /// The rounds, in order.
    pub rounds: Vec<Round>,
}

/// `smtp-sink`, started on a free loopback port; stopped on drop.
struct Sink {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Sink {
    fn start(work_dir: &Path) -> anyhow::Result<Self> {
        let port = procs::free_port()?;
        let out = work_dir.join("smtp-sink.out");
        let mut command = Command::new("smtp-sink");
        // -c: counters on stdout; as root it must drop to a user of its own (-u).
        command.arg("-c");
        if procs::run("id", &["-u"]).map(|u| u.trim() == "0").unwrap_or(false) {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .arg(format!("127.0.0.1:{port}"))
            .arg("1000")
            .stdout(std::fs::File::create(&out)?)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run smtp-sink (Debian package postfix): {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "smtp-sink did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self { child, port, out })
    }

    /// Messages received so far (`mesg=` of the last counter line).
    fn messages(&self) -> usize {
        let text = std::fs::read(&self.out).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        text.rsplit("mesg=").next().and_then(|rest| rest.split_whitespace().next()?.parse().ok()).unwrap_or(0)
    }

    /// Waits until the count stops moving (the sink counts after answering), at most 5 s.
    fn settled(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = self.messages();
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let now = self.messages();
            if now == last || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|t| t.split_whitespace().next()?.parse().ok()).unwrap_or(0.0)
}

/// The part: seeds (or reuses) the database, then `rounds` rounds.
pub fn measure(
    args: &Args,
    clients: usize,
    connections: usize,
    concurrency: usize,
    rounds: usize,
) -> anyhow::Result<SinkRuns> {
    let name = format!("matterline_bench_sink_{clients}");
    let url = crate::database_url(&args.postgres_url, &name);
    crate::step(&format!("weekly pass over {clients} clients into smtp-sink ({name})"));
    let exists = crate::database_exists(args, &name)?;
    let (db, _, _) = crate::seeded(args, &url, || crate::recreate_database(args, &name), clients, !exists)?;
    drop(db);
    let sink = Sink::start(&args.work_dir)?;
    let smtp_url = format!("smtp://127.0.0.1:{}", sink.port);
    let mut env = crate::service_env(args, &url, procs::free_port()?, &args.work_dir.join("notifier"), true);
    let mut settings = vec![("MATTERLINE_SMTP_URL", smtp_url)];
    // Left out at its default, so that builds from before the setting (MATTERLINE_BENCH_BIN_DIR) run too.
    if connections != shared::smtp::DEFAULT_CONNECTIONS {
        settings.push(("MATTERLINE_SMTP_CONNECTIONS", connections.to_string()));
    }
    for (key, value) in settings {
        env.retain(|(k, _)| k != key);
        env.push((key.to_owned(), value));
    }
    let mut result = SinkRuns { clients, connections, concurrency, rounds: Vec::new() };
    let in_flight = concurrency.to_string();
    for round in 0..rounds {
        let mut r = Round { source_load: load_average(), ..Round::default() };
        let before = sink.settled();
        let started = Instant::now();
        procs::run(
            "smtp-source",
            &[
                "-s",
                &SOURCE_SESSIONS.to_string(),
                "-m",
                &clients.to_string(),
                "-l",
                &MESSAGE_BYTES.to_string(),
                &format!("127.0.0.1:{}", sink.port),
            ],
        )?;
        r.source_seconds = started.elapsed().as_secs_f64();
        r.source_accepted = sink.settled() - before;
        eprintln!(
            "  round {round}: smtp-source -s {SOURCE_SESSIONS}: {} messages in {:.2} s ({:.0}/s), load {:.2}",
            r.source_accepted,
            r.source_seconds,
            r.source_accepted as f64 / r.source_seconds,
            r.source_load
        );

        // A fresh week: the pass enqueues every client again.
        diesel::sql_query("DELETE FROM notifications").execute(&mut PgConnection::establish(&url)?)?;
        r.notifier_load = load_average();
        let before = sink.settled();
        // With --perf, the first round's whole machine: the notifier, PostgreSQL and the sink share its cores.
        let perf = (args.perf && round == 0)
            .then(|| crate::perf_start(&["-a"], &args.work_dir.join("perf-sink.data")))
            .flatten();
        let timed = weekly::run_timed(&args.bin_dir.join("notifier"), &["once", "--concurrency", &in_flight], &env);
        if let Some(perf) = perf {
            crate::perf_report(perf, "weekly pass into smtp-sink (whole machine)");
        }
        r.notifier = timed?;
        r.notifier_accepted = sink.settled() - before;
        eprintln!(
            "  round {round}: notifier once: {} messages in {:.2} s ({:.0}/s), {:.2} CPU s, peak {} kB, load {:.2}; {}",
            r.notifier_accepted,
            r.notifier.seconds,
            r.notifier_accepted as f64 / r.notifier.seconds,
            r.notifier.cpu,
            r.notifier.max_rss_kb,
            r.notifier_load,
            r.notifier.stdout.trim()
        );
        result.rounds.push(r);
    }
    Ok(result)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

impl SinkRuns {
    fn source_rate(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.source_accepted as f64 / r.source_seconds).collect())
    }

    fn notifier_rate(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.notifier_accepted as f64 / r.notifier.seconds).collect())
    }

    /// The targets table's row.
    pub fn target_row(&self) -> String {
        let r = self.notifier_rate() / self.source_rate().max(f64::MIN_POSITIVE);
        format!(
            "| weekly pass to `smtp-sink` ≥ 0.5× `smtp-source -s 8` | {r:.2}× ({:.0} against {:.0} emails/s, medians) | {} |",
            self.notifier_rate(),
            self.source_rate(),
            if r >= 0.5 { "met" } else { "**missed**" }
        )
    }

    /// The section.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## 8. Weekly pass into Postfix's `smtp-sink` ({} clients, PostgreSQL)\n", self.clients);
        let _ = writeln!(
            out,
            "| round | `smtp-source -s {SOURCE_SESSIONS} -l {MESSAGE_BYTES}` emails/s | load | `notifier once` emails/s | s | CPU s | peak RSS | load | ratio |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (i, r) in self.rounds.iter().enumerate() {
            let source = r.source_accepted as f64 / r.source_seconds;
            let notifier = r.notifier_accepted as f64 / r.notifier.seconds;
            let _ = writeln!(
                out,
                "| {} | {source:.0} | {:.2} | {notifier:.0} | {:.2} | {:.2} | {:.1} MiB | {:.2} | {:.2}× |",
                i + 1,
                r.source_load,
                r.notifier.seconds,
                r.notifier.cpu,
                r.notifier.max_rss_kb as f64 / 1024.0,
                r.notifier_load,
                notifier / source
            );
        }
        let summary = self.rounds.last().map(|r| r.notifier.stdout.trim().to_owned()).unwrap_or_default();
        let _ = writeln!(
            out,
            "\nMedians: `smtp-source` {:.0} emails/s, `notifier once` {:.0} emails/s (start to exit: enqueue, derive, \
             render, send, record), ratio {:.2}×. `smtp-sink -c 127.0.0.1:PORT 1000` counts what it received; \
             `MATTERLINE_SMTP_CONNECTIONS={}`, `notifier once --concurrency {}`. Before each pass the \
             notifications are deleted (a fresh week). The notifier printed: `{summary}`.",
            self.source_rate(),
            self.notifier_rate(),
            self.notifier_rate() / self.source_rate().max(f64::MIN_POSITIVE),
            self.connections,
            self.concurrency,
        );
        out
    }
}
