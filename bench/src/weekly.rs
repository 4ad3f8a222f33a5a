//! The weekly pass: the notifier's `once` end to end against the SMTP sink, the
//! same messages through a bare pooled lettre client, statements counted in
//! the PostgreSQL server log, and digest derivation alone.

use std::io::{BufRead, Seek};
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use shared::db::Db;
use shared::notifications::kinds::weekly_update;

/// Clients derived per call, as the notifier does by default.
pub const DERIVE_BATCH: usize = notifier::cli::DEFAULT_BATCH as usize;

/// Derives every client's digest in batches, sending nothing; seconds taken and digests made.
pub fn derive_all(db: &Db, client_ids: &[String]) -> anyhow::Result<(f64, usize)> {
    let mut conn = db.get()?;
    let now = shared::domain::now();
    let started = Instant::now();
    let mut made = 0;
    for batch in client_ids.chunks(DERIVE_BATCH) {
        made += shared::weekly::derive(&mut conn, batch, now, None)?.len();
    }
    Ok((started.elapsed().as_secs_f64(), made))
}

/// Renders the weekly update of each client the way the notifier would
/// (same templates, tokens and headers), ready to send.
pub async fn render_all(notifier: &notifier::Notifier, client_ids: &[String]) -> anyhow::Result<Vec<Message>> {
    let mut messages = Vec::with_capacity(client_ids.len());
    let now = shared::domain::now();
    for batch in client_ids.chunks(DERIVE_BATCH) {
        let ids = batch.to_vec();
        let digests = notifier.db.run(move |conn| shared::weekly::derive(conn, &ids, now, None)).await?;
        for digest in digests {
            let delivery = &notifier.delivery;
            let email = weekly_update::email(&delivery.composer, &digest, &shared::domain::new_id())?;
            messages.push(delivery.channels.email.build(&email)?);
        }
    }
    Ok(messages)
}

/// Sends `messages` through a bare pooled lettre transport to `host:port`
/// with `concurrency` in flight; seconds taken and CPU seconds this process spent.
pub async fn send_bare(
    host: &str,
    port: u16,
    messages: Vec<Message>,
    concurrency: usize,
) -> anyhow::Result<(f64, f64)> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .pool_config(PoolConfig::new().max_size(u32::try_from(concurrency)?))
        .build();
    let cpu_before = crate::procs::cpu_seconds("self")?;
    let started = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(messages)
        .map(|m| {
            let t = transport.clone();
            async move { t.send(m).await }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = crate::procs::cpu_seconds("self")? - cpu_before;
    let failed = results.iter().filter(|r| r.is_err()).count();
    anyhow::ensure!(failed == 0, "the bare lettre client failed {failed} sends");
    Ok((seconds, cpu))
}

/// Lines in the SMTP sink's log (one per accepted recipient).
pub fn accepted(log: &Path) -> usize {
    std::fs::read_to_string(log).map(|t| t.lines().count()).unwrap_or(0)
}

/// What `/usr/bin/time` and the clock said about a finished process.
#[derive(Debug, Clone, Default)]
pub struct Timed {
    /// Wall-clock seconds.
    pub seconds: f64,
    /// User + system CPU seconds.
    pub cpu: f64,
    /// Peak resident memory, kB.
    pub max_rss_kb: u64,
    /// Its standard output.
    pub stdout: String,
}

/// Runs `program args` under GNU time with `env` added.
pub fn run_timed(program: &Path, args: &[&str], env: &[(String, String)]) -> anyhow::Result<Timed> {
    let report = tempfile_path("time");
    let started = Instant::now();
    let out = crate::procs::scrubbed(Path::new("/usr/bin/time"))
        .args(["-f", "%U %S %M", "-o"])
        .arg(&report)
        .arg(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.status.success(),
        "{} {} failed: {}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&report)?;
    let _ = std::fs::remove_file(&report);
    let fields: Vec<&str> = text.lines().last().unwrap_or_default().split_whitespace().collect();
    let get = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    Ok(Timed {
        seconds,
        cpu: get(0) + get(1),
        max_rss_kb: get(2) as u64,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    })
}

fn tempfile_path(stem: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("matterline-bench-{stem}-{}", std::process::id()))
}

/// Statements the PostgreSQL server logged for one database after a byte offset of its log.
#[derive(Debug, Clone, Default)]
pub struct Statements {
    /// Every statement executed.
    pub total: usize,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE.
    pub transaction_control: usize,
    /// `SELECT 1`: the pool's check of a connection it hands out.
    pub pings: usize,
    /// Start-up: migrations table, advisory locks.
    pub startup: usize,
    /// `UPDATE "notifications"` without `RETURNING`: writing each email's
    /// outcome (the claim is the one UPDATE that returns rows).
    pub recording: usize,
    /// The rest, by first words (e.g. `UPDATE "notifications"`), most frequent first.
    pub by_kind: Vec<(String, usize)>,
}

impl Statements {
    /// Statements that read or write data (not transaction control, pings or start-up).
    pub fn data(&self) -> usize {
        self.total - self.transaction_control - self.pings - self.startup
    }

    /// Every statement except those writing outcomes: what enqueueing,
    /// claiming and deriving cost, start-up and pool checks included.
    pub fn besides_recording(&self) -> usize {
        self.total - self.recording
    }
}

/// The current size of the server log, to count from.
pub fn log_offset(log: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::metadata(log)?.len())
}

/// Counts the statements logged for `database` after `offset` (lines like
/// `… postgres@DB LOG:  execute s12: SELECT …` or `… LOG:  statement: BEGIN`).
pub fn count_statements(log: &Path, offset: u64, database: &str) -> anyhow::Result<Statements> {
    let mut file = std::fs::File::open(log)?;
    file.seek(std::io::SeekFrom::Start(offset))?;
    let marker = format!("@{database} LOG:  ");
    let mut stats = Statements::default();
    let mut kinds: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        let Some((_, rest)) = line.split_once(&marker) else { continue };
        let sql = if let Some(s) = rest.strip_prefix("statement: ") {
            s
        } else if let Some(s) = rest.strip_prefix("execute ") {
            s.split_once(": ").map(|(_, s)| s).unwrap_or(s)
        } else {
            continue;
        };
        stats.total += 1;
        let upper = sql.trim().to_uppercase();
        let words: Vec<&str> = upper.split_whitespace().take(3).collect();
        match words.first().copied().unwrap_or_default() {
            "BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" => stats.transaction_control += 1,
            _ if upper == "SELECT 1" => stats.pings += 1,
            _ if upper.contains("__DIESEL_SCHEMA_MIGRATIONS")
                || upper.contains("PG_ADVISORY")
                || upper.starts_with("SET ") =>
            {
                stats.startup += 1
            }
            _ => {
                if upper.starts_with("UPDATE \"NOTIFICATIONS\"") && !upper.contains(" RETURNING ") {
                    stats.recording += 1;
                }
                let key = match words.as_slice() {
                    ["SELECT", ..] => {
                        let from = upper.split(" FROM ").nth(1).unwrap_or_default();
                        format!("SELECT … FROM {}", from.split_whitespace().next().unwrap_or_default())
                    }
                    [a, b, c, ..] => format!("{a} {b} {c}"),
                    other => other.join(" "),
                };
                *kinds.entry(key).or_default() += 1;
            }
        }
    }
    let mut by_kind: Vec<(String, usize)> = kinds.into_iter().collect();
    by_kind.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    stats.by_kind = by_kind;
    Ok(stats)
}

/// Waits until the sink has logged `expected` recipients (it writes after answering), at most 10 s.
pub fn wait_accepted(log: &Path, expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = accepted(log);
        if n >= expected || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
