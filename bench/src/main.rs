//! `matterline-bench`: seeds PostgreSQL and SQLite, drives the release portal
//! and notifier against real services and writes BENCHMARKS.md. Run it through
//! `scripts/bench`, which installs and starts the services it names.

mod http;
mod insights;
mod procs;
mod report;
mod seed;
mod sign_in;
mod smtp;
mod statements;
mod uploads;
mod weekly;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::prelude::*;
use shared::config::{Config, DatabaseUrl};
use shared::db::Db;

use crate::procs::Service;
use crate::report::{HttpSet, Report};

/// Benchmarks of the portal and the notifier (see BENCHMARKS.md).
#[derive(Debug, Parser)]
#[command(name = "matterline-bench", args_override_self = true)]
pub struct Args {
    /// Small scales and short runs, for development.
    #[arg(long)]
    pub quick: bool,
    /// Where to write the report.
    #[arg(long)]
    pub out: PathBuf,
    /// A PostgreSQL URL whose server gets the benchmark databases (`matterline_bench_*`).
    #[arg(long)]
    pub postgres_url: String,
    /// The PostgreSQL server log, where the weekly pass's statements are counted.
    #[arg(long)]
    pub postgres_log: Option<PathBuf>,
    /// The S3 server.
    #[arg(long)]
    pub s3_endpoint: String,
    /// An existing bucket on it.
    #[arg(long)]
    pub s3_bucket: String,
    /// The SMTP sink (`smtp://127.0.0.1:PORT`).
    #[arg(long)]
    pub smtp_url: String,
    /// The sink's log of accepted recipients.
    #[arg(long)]
    pub smtp_log: PathBuf,
    /// The oha binary.
    #[arg(long)]
    pub oha: PathBuf,
    /// Where the release `portal` and `notifier` are.
    #[arg(long)]
    pub bin_dir: PathBuf,
    /// Scratch space (SQLite file, upload file, logs).
    #[arg(long)]
    pub work_dir: PathBuf,
    /// The command line to record in the report.
    #[arg(long, default_value = "scripts/bench")]
    pub command: String,
    /// Clients (one matter each) on PostgreSQL [100000; quick: 2000].
    #[arg(long)]
    pub clients: Option<usize>,
    /// Milestones per matter.
    #[arg(long, default_value_t = 10)]
    pub milestones_per_matter: usize,
    /// Clients on SQLite [10000; quick: 1000].
    #[arg(long)]
    pub sqlite_clients: Option<usize>,
    /// Clients in the weekly pass [10000; quick: 1000].
    #[arg(long)]
    pub weekly_clients: Option<usize>,
    /// Size of the upload, MiB [200; quick: 20].
    #[arg(long)]
    pub upload_mib: Option<u64>,
    /// Seconds per HTTP measurement [10; quick: 3].
    #[arg(long)]
    pub seconds: Option<u32>,
    /// HTTP connections.
    #[arg(long, default_value_t = 64)]
    pub connections: u32,
    /// Seed the large PostgreSQL database again even when it already holds this seed.
    #[arg(long)]
    pub reseed: bool,
    /// Record the portal with `perf record -g` during each HTTP run and the upload, and the whole machine during the
    /// weekly pass, and print the busiest functions.
    #[arg(long)]
    pub perf: bool,
    /// Clients in the weekly pass into smtp-sink [20000; quick: 2000].
    #[arg(long)]
    pub sink_clients: Option<usize>,
    /// `MATTERLINE_SMTP_CONNECTIONS` for the pass into smtp-sink.
    #[arg(long, default_value_t = 8)]
    pub sink_connections: usize,
    /// `notifier once --concurrency` for the pass into smtp-sink.
    #[arg(long, default_value_t = 8)]
    pub sink_concurrency: usize,
    /// Rounds of the smtp-sink, hash and concurrent-upload parts (medians reported).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Uploads at once in the concurrent-upload part [20; quick: 4].
    #[arg(long)]
    pub concurrent_uploads: Option<usize>,
    /// Size of each concurrent upload, MiB [50; quick: 10].
    #[arg(long)]
    pub concurrent_mib: Option<u64>,
    /// Run only these parts (comma-separated: http, upload, signin, insights, weekly, derive, idle, sqlite,
    /// sink (weekly pass into smtp-sink), hash (ring's SHA-256), concurrent (uploads at once)).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

impl Args {
    fn pick<T: Copy>(&self, given: Option<T>, full: T, quick: T) -> T {
        given.unwrap_or(if self.quick { quick } else { full })
    }
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// The signing secret the portal and the bench share (sessions made here work there).
const JWT_SECRET: &str = "matterline-bench-secret-0123456789abcdef";

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("matterline-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("matterline-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn step(text: &str) {
    eprintln!("\n-- {text}");
}

/// `postgres://…/NAME` for another database on the same server.
/// `server`'s URL naming database `name` instead, its parameters (`?sslmode=…`) kept.
fn database_url(server: &str, name: &str) -> String {
    let (address, params) = server.split_once('?').map_or((server, None), |(a, p)| (a, Some(p)));
    let base = address.rsplit_once('/').map_or(address, |(base, _)| base);
    match params {
        Some(params) => format!("{base}/{name}?{params}"),
        None => format!("{base}/{name}"),
    }
}

fn admin(args: &Args) -> anyhow::Result<PgConnection> {
    Ok(PgConnection::establish(&args.postgres_url)?)
}

fn recreate_database(args: &Args, name: &str) -> anyhow::Result<()> {
    let mut pg = admin(args)?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut pg)?;
    diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut pg)?;
    Ok(())
}

fn database_exists(args: &Args, name: &str) -> anyhow::Result<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let found: Found = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result(&mut admin(args)?)?;
    Ok(found.n > 0)
}

fn connect(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(&DatabaseUrl::parse(url).map_err(anyhow::Error::msg)?, 2)?;
    db.migrate()?;
    Ok(db)
}

/// A seeded database: reused when it holds exactly this seed (unless `fresh`), else made anew.
fn seeded(
    args: &Args,
    url: &str,
    reset: impl Fn() -> anyhow::Result<()>,
    clients: usize,
    fresh: bool,
) -> anyhow::Result<(Db, Vec<String>, Option<f64>)> {
    if !fresh && let Ok(db) = connect(url) {
        let mut conn = db.get()?;
        let ids = seed::bench_clients(&mut conn)?;
        let (_, _, events) = seed::counts(&mut conn)?;
        // Earlier runs' uploads add a milestone each; the seed itself is intact.
        if ids.len() == clients && usize::try_from(events)? >= clients * args.milestones_per_matter {
            eprintln!("  reusing {url} ({clients} clients, {events} milestones)");
            drop(conn);
            return Ok((db, ids, None));
        }
    }
    reset()?;
    let db = connect(url)?;
    let mut conn = db.get()?;
    let made = seed::seed(&mut conn, clients, args.milestones_per_matter)?;
    eprintln!("  seeded {} clients and {} milestones in {:.1} s", clients, made.milestones, made.seconds);
    let ids = seed::bench_clients(&mut conn)?;
    drop(conn);
    Ok((db, ids, Some(made.seconds)))
}

/// Environment for a portal or notifier process.
fn service_env(args: &Args, database_url: &str, port: u16, data_dir: &Path, s3: bool) -> Vec<(String, String)> {
    let mut env = vec![
        ("MATTERLINE_DATABASE_URL", database_url.to_owned()),
        ("MATTERLINE_BIND", format!("127.0.0.1:{port}")),
        ("MATTERLINE_PUBLIC_URL", format!("http://127.0.0.1:{port}")),
        ("MATTERLINE_SMTP_URL", args.smtp_url.clone()),
        ("MATTERLINE_JWT_SECRET", JWT_SECRET.to_owned()),
        ("MATTERLINE_TOTP_KEY", seed::TOTP_KEY.iter().map(|b| format!("{b:02x}")).collect()),
        ("MATTERLINE_SEED_DEMO", "false".to_owned()),
        ("MATTERLINE_DATA_DIR", data_dir.display().to_string()),
        ("MATTERLINE_WEEKLY_SCHEDULE", String::new()),
        ("MATTERLINE_LOG", "warn".to_owned()),
    ];
    if s3 {
        env.extend([
            ("MATTERLINE_STORAGE", format!("s3://{}", args.s3_bucket)),
            ("MATTERLINE_S3_ENDPOINT", args.s3_endpoint.clone()),
            ("MATTERLINE_S3_REGION", "us-east-1".to_owned()),
            ("MATTERLINE_S3_FORCE_PATH_STYLE", "true".to_owned()),
        ]);
    } else {
        env.push(("MATTERLINE_STORAGE", format!("local:{}", data_dir.join("documents").display())));
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn config_of(env: &[(String, String)]) -> anyhow::Result<Config> {
    Config::from_sources(env.to_vec(), None).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A session for `client_id` signed with the portal's secret.
fn session_for(db: &Db, client_id: &str) -> anyhow::Result<String> {
    let tokens = shared::tokens::Tokens::new(&shared::config::Secret::new(JWT_SECRET.to_owned()));
    let mut conn = db.get()?;
    Ok(shared::auth::create_session(&mut conn, &tokens, client_id, &shared::auth::Device::default())?.token)
}

/// Starts the portal; returns it with its address, time to ready and idle VmRSS (kB).
fn start_portal(
    args: &Args,
    env: &[(String, String)],
    port: u16,
    log: &Path,
) -> anyhow::Result<(Service, String, Duration, u64)> {
    let started = Instant::now();
    let mut portal = Service::start("portal", &args.bin_dir.join("portal"), &[], env, log)?;
    let addr = format!("127.0.0.1:{port}");
    let ready = portal.wait_ready(&addr, "/readyz", started, Duration::from_secs(120))?;
    std::thread::sleep(Duration::from_secs(2));
    let idle = procs::status_kb(portal.pid(), "VmRSS")?;
    Ok((portal, addr, ready, idle))
}

/// The three URLs against each other: `/healthz`, the matter page, the API's matter detail.
fn http_set(args: &Args, portal: &Service, addr: &str, token: &str, matter_id: &str) -> anyhow::Result<HttpSet> {
    let seconds = args.pick(args.seconds, 10, 3);
    let cookie = format!("Cookie: matterline_session={token}");
    let bearer = format!("Authorization: Bearer {token}");
    Ok(HttpSet {
        healthz: load_of(args, portal, addr, "/healthz", None)?,
        page: load_of(args, portal, addr, &format!("/matters/{matter_id}"), Some(&cookie))?,
        page_rendered: None,
        api: load_of(args, portal, addr, &format!("/api/v1/matters/{matter_id}"), Some(&bearer))?,
        seconds,
    })
}

/// One URL under load: a short warm-up (connection pool filled, caches warm),
/// then `oha` for the part's seconds, with the portal's CPU and statements.
fn load_of(
    args: &Args,
    portal: &Service,
    addr: &str,
    path: &str,
    header: Option<&String>,
) -> anyhow::Result<http::Load> {
    let seconds = args.pick(args.seconds, 10, 3);
    let base = format!("http://{addr}");
    let headers: Vec<String> = header.into_iter().cloned().collect();
    http::oha(&args.oha, &format!("{base}{path}"), &headers, args.connections, 1)?;
    let pid = portal.pid().to_string();
    let cpu_before = procs::cpu_seconds(&pid)?;
    let machine_before = procs::cpu_by_command();
    let perf = args.perf.then(|| perf_record(&pid, &args.work_dir.join(format!("perf-{}.data", perf_name(path)))));
    let statements_before = statements::sent(&base);
    let mut load = http::oha(&args.oha, &format!("{base}{path}"), &headers, args.connections, seconds)?;
    load.statements = statements::per_request(statements_before, statements::sent(&base), load.total);
    if let Some(Some(perf)) = perf {
        perf_report(perf, path);
    }
    load.portal_cpu_us = (procs::cpu_seconds(&pid)? - cpu_before) * 1e6 / load.total.max(1) as f64;
    load.cpu_split = procs::cpu_split(&machine_before, &procs::cpu_by_command());
    eprintln!("  CPU seconds by process: {:?}", load.cpu_split);
    eprintln!(
        "  {path}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} not 200 of {}), portal CPU {:.0} µs/request, \
         {:.2} statements/request",
        load.rps,
        load.p50_ms,
        load.p99_ms,
        load.non_200,
        load.total,
        load.portal_cpu_us,
        load.statements.unwrap_or(f64::NAN)
    );
    Ok(load)
}

/// The matter page from a portal that keeps no pages (`MATTERLINE_PAGE_CACHE_MIB=0`):
/// what every page costs when it is rendered each time, as the first view of a matter is.
fn page_rendered(args: &Args, env: &[(String, String)], token: &str, matter_id: &str) -> anyhow::Result<http::Load> {
    step("matter page, rendered each time (a portal keeping no pages)");
    let port = procs::free_port()?;
    let mut env: Vec<(String, String)> =
        env.iter().filter(|(k, _)| k != "MATTERLINE_BIND" && k != "MATTERLINE_PAGE_CACHE_MIB").cloned().collect();
    env.push(("MATTERLINE_BIND".to_owned(), format!("127.0.0.1:{port}")));
    env.push(("MATTERLINE_PAGE_CACHE_MIB".to_owned(), "0".to_owned()));
    let (portal, addr, _, _) = start_portal(args, &env, port, &args.work_dir.join("portal-pg-uncached.log"))?;
    let cookie = format!("Cookie: matterline_session={token}");
    let load = load_of(args, &portal, &addr, &format!("/matters/{matter_id}"), Some(&cookie));
    drop(portal);
    load
}

fn perf_name(path: &str) -> String {
    path.trim_matches('/').split('/').take(2).collect::<Vec<_>>().join("-")
}

/// Starts `perf record -g` on `pid` into `file` (stopped by [`perf_report`]).
fn perf_record(pid: &str, file: &Path) -> Option<(std::process::Child, PathBuf)> {
    perf_start(&["-p", pid], file)
}

/// Starts `perf record -g` with `target` (`-p PID`, or `-a` for the whole
/// machine) into `file` (stopped by [`perf_report`]).
pub(crate) fn perf_start(target: &[&str], file: &Path) -> Option<(std::process::Child, PathBuf)> {
    std::process::Command::new("perf")
        .args(["record", "-F", "499", "-g", "-q"])
        .args(target)
        .arg("-o")
        .arg(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
        .map(|child| (child, file.to_owned()))
}

/// Stops the recording and prints its busiest functions (self time).
pub(crate) fn perf_report((child, file): (std::process::Child, PathBuf), what: &str) {
    let _ = procs::run("kill", &["-INT", &child.id().to_string()]);
    let mut child = child;
    let _ = child.wait();
    let report = procs::run(
        "perf",
        &[
            "report",
            "--stdio",
            "--no-children",
            "--percent-limit",
            "1.5",
            "-g",
            "none",
            "-i",
            &file.display().to_string(),
        ],
    )
    .unwrap_or_default();
    let mut text: Vec<&str> = report.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).take(25).collect();
    let by_dso = procs::run(
        "perf",
        &["report", "--stdio", "--no-children", "--sort", "dso", "-g", "none", "-i", &file.display().to_string()],
    )
    .unwrap_or_default();
    text.push("  by binary:");
    text.extend(by_dso.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).take(6));
    let summary = file.with_extension("txt");
    let _ = std::fs::write(&summary, &report);
    eprintln!("  perf, {what} (self time):\n{}", text.join("\n"));
}

/// Writes `mib` MiB: a PDF header, then bytes that do not compress.
fn write_upload_file(path: &Path, mib: u64) -> anyhow::Result<u64> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")?;
    let total = mib * 1024 * 1024;
    let mut written = 17u64;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 16];
    while written < total {
        for chunk in block.chunks_mut(8) {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let n = usize::try_from((total - written).min(block.len() as u64))?;
        out.write_all(&block[..n])?;
        written += n as u64;
    }
    out.flush()?;
    Ok(total)
}

/// `curl`'s HTTP status and total seconds.
pub(crate) fn curl(args: &[&str]) -> anyhow::Result<(u16, f64)> {
    let mut all = vec!["-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"];
    all.extend_from_slice(args);
    let out = procs::run("curl", &all)?;
    let mut parts = out.split_whitespace();
    let status = parts.next().unwrap_or_default().parse()?;
    let seconds = parts.next().unwrap_or_default().parse()?;
    Ok((status, seconds))
}

async fn run(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.work_dir)?;
    let mut report = Report::new(args);
    report.machine = report::machine(args);

    // --- PostgreSQL, large -----------------------------------------------------------------
    let clients = args.pick(args.clients, 100_000, 2_000);
    let big_name = format!("matterline_bench_{clients}");
    let big_url = database_url(&args.postgres_url, &big_name);
    step(&format!("PostgreSQL: {clients} clients, {} milestones each ({big_name})", args.milestones_per_matter));
    let exists = database_exists(args, &big_name)?;
    let (big, big_clients, seed_seconds) =
        seeded(args, &big_url, || recreate_database(args, &big_name), clients, args.reseed || !exists)?;
    report.pg_seed = Some((seed::counts(&mut *big.get()?)?, seed_seconds));

    if args.wants("derive") {
        step(&format!("digest derivation alone, {} clients (PostgreSQL)", big_clients.len()));
        let (seconds, made) = weekly::derive_all(&big, &big_clients)?;
        eprintln!("  {made} digests in {seconds:.2} s");
        report.derive_pg = Some((big_clients.len(), seconds));
    }

    let mut hashing = uploads::HashSpeed::default();
    if args.wants("hash") {
        step("ring's SHA-256 in one thread");
        hashing.ring_mb_s = uploads::ring_sha256(args.rounds.max(1));
        eprintln!("  {:?} MB/s", hashing.ring_mb_s);
    }
    let upload_parts = args.wants("upload") || args.wants("concurrent");
    if args.wants("http") || upload_parts || args.wants("signin") || args.wants("insights") || args.wants("idle") {
        step("portal on PostgreSQL + S3");
        let port = procs::free_port()?;
        let env = service_env(args, &big_url, port, &args.work_dir.join("portal-pg"), true);
        let (portal, addr, ready, idle) = start_portal(args, &env, port, &args.work_dir.join("portal-pg.log"))?;
        eprintln!(
            "  ready in {:.0} ms, idle VmRSS {} kB ({})",
            ready.as_secs_f64() * 1000.0,
            idle,
            procs::rss_parts(portal.pid())
        );
        report.portal_start = Some((ready, idle));
        let client = &big_clients[big_clients.len() / 2];
        let matter = seed::matter_of(&mut *big.get()?, client)?;
        let token = session_for(&big, client)?;
        if args.wants("http") {
            let mut set = http_set(args, &portal, &addr, &token, &matter)?;
            set.page_rendered = Some(page_rendered(args, &env, &token, &matter)?);
            report.http_pg = Some(set);
        }
        if args.wants("upload") {
            let done = upload(args, &portal, &addr, &token, &matter)?;
            hashing.upload = Some((done.bytes, done.portal_seconds));
            report.upload = Some(done);
        }
        if args.wants("concurrent") {
            let (count, mib) = (args.pick(args.concurrent_uploads, 20, 4), args.pick(args.concurrent_mib, 50, 10));
            step(&format!("{count} uploads of {mib} MiB at once"));
            let file = args.work_dir.join("concurrent.pdf");
            write_upload_file(&file, mib)?;
            let url = format!("http://{addr}/api/v1/matters/{matter}/documents");
            for _ in 0..args.rounds.max(1) {
                let c = uploads::concurrent(&portal, &url, &token, &file, count)?;
                eprintln!(
                    "  {:.2} s, {:.0} MB/s in all, {} not 201, growth {:.1} MiB, load {:.2}",
                    c.seconds,
                    c.mb_per_s(),
                    c.failed,
                    c.growth_mib(),
                    c.load
                );
                hashing.concurrent.push(c);
            }
            let _ = std::fs::remove_file(&file);
        }
        if args.wants("signin") {
            step(&format!("sign-in requests: {} clients' addresses against unknown ones", sign_in::SAMPLES));
            report.sign_in = Some(sign_in::measure(&big, &addr, &big_clients)?);
        }
        if args.wants("insights") {
            step("the firm's insights: page and API, one request at a time");
            report.insights = Some(insights::measure(&big, &addr, &big_clients, |id| session_for(&big, id))?);
        }
        drop(portal);
    }

    if args.wants("weekly") || args.wants("idle") {
        let weekly_clients = args.pick(args.weekly_clients, 10_000, 1_000);
        let name = "matterline_bench_weekly";
        let url = database_url(&args.postgres_url, name);
        step(&format!("weekly pass over {weekly_clients} clients ({name})"));
        let (db, ids, _) = seeded(args, &url, || recreate_database(args, name), weekly_clients, true)?;
        drop(db);
        if args.wants("weekly") {
            report.weekly = Some(weekly_pass(args, &url, &ids).await?);
        }
        if args.wants("idle") {
            step("notifier idle");
            let port = procs::free_port()?;
            let mut env = service_env(args, &url, procs::free_port()?, &args.work_dir.join("notifier"), true);
            env.push(("MATTERLINE_NOTIFIER_BIND".to_owned(), format!("127.0.0.1:{port}")));
            let since = Instant::now();
            let mut notifier = Service::start(
                "notifier",
                &args.bin_dir.join("notifier"),
                &["run"],
                &env,
                &args.work_dir.join("notifier-run.log"),
            )?;
            let ready =
                notifier.wait_ready(&format!("127.0.0.1:{port}"), "/healthz", since, Duration::from_secs(60))?;
            std::thread::sleep(Duration::from_secs(2));
            let idle = procs::status_kb(notifier.pid(), "VmRSS")?;
            eprintln!(
                "  ready in {:.0} ms, idle VmRSS {idle} kB ({})",
                ready.as_secs_f64() * 1000.0,
                procs::rss_parts(notifier.pid())
            );
            report.notifier_start = Some((ready, idle));
        }
    }

    if hashing.upload.is_some() || !hashing.concurrent.is_empty() || !hashing.ring_mb_s.is_empty() {
        report.target_rows.extend(hashing.target_rows());
        report.sections.push(hashing.markdown());
    }

    if args.wants("sink") {
        let clients = args.pick(args.sink_clients, 20_000, 2_000);
        let runs = smtp::measure(args, clients, args.sink_connections, args.sink_concurrency, args.rounds.max(1))?;
        report.target_rows.push(runs.target_row());
        report.sections.push(runs.markdown());
    }

    if args.wants("sqlite") {
        let n = args.pick(args.sqlite_clients, 10_000, 1_000);
        let path = args.work_dir.join("bench.db");
        let url = format!("sqlite://{}", path.display());
        step(&format!("SQLite: {n} clients ({})", path.display()));
        let reset = || -> anyhow::Result<()> {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            Ok(())
        };
        let (db, ids, seconds) = seeded(args, &url, reset, n, true)?;
        report.sqlite_seed = Some((seed::counts(&mut *db.get()?)?, seconds));
        let (derive_seconds, _) = weekly::derive_all(&db, &ids)?;
        eprintln!("  derivation of {} digests: {derive_seconds:.2} s", ids.len());
        report.derive_sqlite = Some((ids.len(), derive_seconds));
        let port = procs::free_port()?;
        let env = service_env(args, &url, port, &args.work_dir.join("portal-sqlite"), false);
        let (portal, addr, ready, idle) = start_portal(args, &env, port, &args.work_dir.join("portal-sqlite.log"))?;
        eprintln!("  ready in {:.0} ms, idle VmRSS {idle} kB", ready.as_secs_f64() * 1000.0);
        report.sqlite_start = Some((ready, idle));
        let client = &ids[ids.len() / 2];
        let matter = seed::matter_of(&mut *db.get()?, client)?;
        let token = session_for(&db, client)?;
        report.http_sqlite = Some(http_set(args, &portal, &addr, &token, &matter)?);
        drop(portal);
    }

    report.total_seconds = started.elapsed().as_secs_f64();
    let text = report.markdown(&std::fs::read_to_string(&args.out).unwrap_or_default());
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, text)?;
    eprintln!("\nwritten {}", args.out.display());
    Ok(())
}

/// The upload through the portal against a direct PUT of the same file, best of two each.
fn upload(args: &Args, portal: &Service, addr: &str, token: &str, matter: &str) -> anyhow::Result<report::Upload> {
    let mib = args.pick(args.upload_mib, 200, 20);
    step(&format!("upload of {mib} MiB: portal against a direct PUT"));
    let file = args.work_dir.join("upload.pdf");
    let bytes = write_upload_file(&file, mib)?;
    let file_arg = format!("file=@{};type=application/pdf;filename=bench.pdf", file.display());
    let bearer = format!("Authorization: Bearer {token}");
    let url = format!("http://{addr}/api/v1/matters/{matter}/documents");
    let credentials = format!(
        "{}:{}",
        std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
        std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default()
    );
    let mut result = report::Upload { bytes, ..Default::default() };
    for round in 0..2 {
        let key = format!("{}/{}/direct-{round}.pdf", args.s3_endpoint, args.s3_bucket);
        let (status, seconds) = curl(&[
            "-H",
            "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
            "-u",
            &credentials,
            "-T",
            &file.display().to_string(),
            &key,
        ])?;
        anyhow::ensure!(status == 200, "direct PUT answered {status}");
        eprintln!("  direct PUT: {seconds:.2} s");
        result.direct_seconds = result.direct_seconds.min_nonzero(seconds);

        let pid = portal.pid();
        let before = procs::status_kb(pid, "VmRSS")?;
        let reset = procs::reset_peak(pid).is_ok();
        let sampler = procs::RssSampler::start(pid);
        let perf = (args.perf && round == 1)
            .then(|| perf_record(&pid.to_string(), &args.work_dir.join("perf-upload.data")))
            .flatten();
        let (status, seconds) = curl(&["-H", &bearer, "-F", &file_arg, &url])?;
        if let Some(perf) = perf {
            perf_report(perf, "upload");
        }
        if status != 201 && status != 200 {
            let log = std::fs::read_to_string(&portal.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect();
            anyhow::bail!("portal upload answered {status}; portal log:\n{}", tail.join("\n"));
        }
        let sampled = sampler.finish();
        let hwm = if reset { procs::status_kb(pid, "VmHWM")? } else { 0 };
        anyhow::ensure!(status == 201 || status == 200, "portal upload answered {status}");
        let peak = sampled.max(hwm);
        eprintln!("  portal upload: {seconds:.2} s, VmRSS {before} kB before, peak {peak} kB");
        if result.portal_seconds == 0.0 || seconds < result.portal_seconds {
            result.portal_seconds = seconds;
        }
        result.rss_before_kb = result.rss_before_kb.max(before);
        result.peak_growth_kb = result.peak_growth_kb.max(peak.saturating_sub(before));
        result.peak_kb = result.peak_kb.max(peak);
        result.hwm_reset = reset;
    }
    let _ = std::fs::remove_file(&file);
    Ok(result)
}

trait MinNonzero {
    fn min_nonzero(self, other: f64) -> f64;
}

impl MinNonzero for f64 {
    fn min_nonzero(self, other: f64) -> f64 {
        if self == 0.0 { other } else { self.min(other) }
    }
}

/// The weekly pass: bare lettre first (same messages), then `notifier once` with statements logged.
async fn weekly_pass(args: &Args, url: &str, ids: &[String]) -> anyhow::Result<report::Weekly> {
    let env = service_env(args, url, procs::free_port()?, &args.work_dir.join("notifier"), true);
    let smtp = url_host_port(&args.smtp_url)?;
    let mut result = report::Weekly { clients: ids.len(), ..Default::default() };

    // The same messages, pre-rendered, through a bare pooled lettre client.
    let concurrency = 8;
    let notifier = notifier::Notifier::build(
        config_of(&env)?,
        &notifier::cli::WorkerOptions { lease_seconds: 300, concurrency, batch: notifier::cli::DEFAULT_BATCH },
    )?;
    let messages = weekly::render_all(&notifier, ids).await?;
    drop(notifier);
    result.bare_messages = messages.len();
    std::fs::write(&args.smtp_log, "")?;
    let (seconds, cpu) = weekly::send_bare(&smtp.0, smtp.1, messages, concurrency).await?;
    let accepted = weekly::wait_accepted(&args.smtp_log, result.bare_messages);
    eprintln!("  bare lettre: {} messages in {seconds:.2} s ({accepted} accepted)", result.bare_messages);
    result.bare_seconds = seconds;
    result.bare_cpu = cpu;

    // The notifier, end to end.
    std::fs::write(&args.smtp_log, "")?;
    let name = url.split('?').next().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned();
    let logging = args.postgres_log.as_ref().filter(|p| p.exists());
    let offset = match logging {
        Some(log) => {
            diesel::sql_query(format!("ALTER DATABASE \"{name}\" SET log_statement = 'all'"))
                .execute(&mut admin(args)?)?;
            Some((log.clone(), weekly::log_offset(log)?))
        }
        None => None,
    };
    // With --perf, the whole machine: the notifier, PostgreSQL and the sink share its cores.
    let perf = args.perf.then(|| perf_start(&["-a"], &args.work_dir.join("perf-weekly.data"))).flatten();
    let timed = weekly::run_timed(&args.bin_dir.join("notifier"), &["once"], &env);
    if let Some(perf) = perf {
        perf_report(perf, "weekly pass (whole machine)");
    }
    if logging.is_some() {
        diesel::sql_query(format!("ALTER DATABASE \"{name}\" RESET log_statement")).execute(&mut admin(args)?)?;
    }
    let timed = timed?;
    result.sent = weekly::wait_accepted(&args.smtp_log, ids.len());
    eprintln!(
        "  notifier once: {:.2} s, {:.2} CPU s, peak {} kB, {} accepted; {}",
        timed.seconds,
        timed.cpu,
        timed.max_rss_kb,
        result.sent,
        timed.stdout.trim()
    );
    result.summary = timed.stdout.trim().to_owned();
    result.notifier = timed;
    if let Some((log, offset)) = offset {
        // The server writes its log asynchronously; give it a moment.
        std::thread::sleep(Duration::from_millis(500));
        let statements = weekly::count_statements(&log, offset, &name)?;
        eprintln!(
            "  statements: {} ({} transaction control, {} pings, {} start-up, {} data)",
            statements.total,
            statements.transaction_control,
            statements.pings,
            statements.startup,
            statements.data()
        );
        result.statements = Some(statements);
    }
    Ok(result)
}

fn url_host_port(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let (host, port) =
        rest.trim_end_matches('/').rsplit_once(':').ok_or_else(|| anyhow::anyhow!("no port in {url}"))?;
    Ok((host.to_owned(), port.parse()?))
}
