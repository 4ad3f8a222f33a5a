//! The `portal` binary as an operator runs it: embedded mode with no
//! configuration, PostgreSQL by URL, and one-line errors for bad configuration.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::{Connection, ExpressionMethods, PgConnection, QueryDsl, RunQueryDsl};

const PORTAL: &str = env!("CARGO_BIN_EXE_portal");

/// A `portal` process, killed when dropped.
struct Running {
    child: Child,
    url: String,
    stdout: Vec<String>,
    /// Reads the log (stderr) to its end; joined when the process has exited.
    stderr: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command running `portal` in `dir` with a clean `MATTERLINE_*` environment.
fn portal(dir: &Path) -> Command {
    let mut cmd = Command::new(PORTAL);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("MATTERLINE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("MATTERLINE_BIND", "127.0.0.1:0");
    cmd
}

/// Starts the portal and waits for its start-up lines (the URL, and the demo link when seeded).
fn start(mut cmd: Command) -> anyhow::Result<Running> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let log = child.stderr.take().ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let stderr = std::thread::spawn(move || BufReader::new(log).lines().map_while(Result::ok).collect());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let mut url = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        url = line.strip_prefix("Matterline portal: ").map(str::to_owned);
        lines.push(line);
        if url.is_some() {
            break;
        }
    }
    // A seeded demo prints two more lines right after the URL.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) {
        lines.push(line);
    }
    let url = url.ok_or_else(|| anyhow::anyhow!("the portal printed no URL: {lines:?}"))?;
    Ok(Running { child, url, stdout: lines, stderr: Some(stderr) })
}

fn get(url: &str) -> anyhow::Result<(u16, String)> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let response = reqwest::get(url).await?;
        Ok((response.status().as_u16(), response.text().await?))
    })
}

#[test]
fn with_no_configuration_it_serves_the_demo_from_a_sqlite_file_in_data() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(portal(dir.path()))?;
    assert!(running.url.starts_with("http://127.0.0.1:"), "{}", running.url);
    assert!(
        running.stdout.iter().any(|l| l.contains("/sign-in/link?token=")),
        "no demo sign-in link printed: {:?}",
        running.stdout
    );
    assert_eq!(get(&format!("{}/readyz", running.url))?.0, 200);
    assert!(dir.path().join("data/matterline.db").is_file());
    assert!(dir.path().join("data/documents").is_dir());
    Ok(())
}

/// What a start seeds and serves: staff, clients, matters and open document
/// requests in the database, and the demo client's matters as the API lists them
/// (title, current phase, open requests).
#[derive(Debug, PartialEq)]
struct DemoServed {
    staff: i64,
    clients: i64,
    matters: i64,
    open_requests: i64,
    client_matters: Vec<(String, String, i64)>,
}

fn demo_served(running: &Running, database_url: &str) -> anyhow::Result<DemoServed> {
    use shared::db::schema::{document_requests, matters, users};
    let url = shared::config::DatabaseUrl::parse(database_url).map_err(anyhow::Error::msg)?;
    let db = shared::db::Db::connect(&url, 1)?;
    let mut conn = db.get()?;
    let staff = users::table.filter(users::role.ne("client")).count().get_result(&mut **conn)?;
    let clients = users::table.filter(users::role.eq("client")).count().get_result(&mut **conn)?;
    let matters = matters::table.count().get_result(&mut **conn)?;
    let open_requests =
        document_requests::table.filter(document_requests::status.eq("open")).count().get_result(&mut **conn)?;

    let token = running
        .stdout
        .iter()
        .find_map(|l| l.trim().strip_prefix(&format!("{}/sign-in/link?token=", running.url)).map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("no demo link: {:?}", running.stdout))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let listed: serde_json::Value = rt.block_on(async {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let signed_in =
            http.post(format!("{}/sign-in/link", running.url)).form(&[("token", token.as_str())]).send().await?;
        anyhow::ensure!(signed_in.status() == 303, "the demo link did not sign in: {}", signed_in.status());
        let cookie = signed_in
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .unwrap_or_default()
            .to_owned();
        let matters = http.get(format!("{}/api/v1/matters", running.url)).header("Cookie", cookie).send().await?;
        anyhow::ensure!(matters.status() == 200, "/api/v1/matters: {}", matters.status());
        Ok(matters.json().await?)
    })?;
    let mut client_matters: Vec<(String, String, i64)> = listed
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("not a list: {listed}"))?
        .iter()
        .map(|m| {
            (
                m["title"].as_str().unwrap_or_default().to_owned(),
                m["phase_key"].as_str().unwrap_or_default().to_owned(),
                m["open_requests"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    client_matters.sort();
    Ok(DemoServed { staff, clients, matters, open_requests, client_matters })
}

/// The tables of the database at `database_url`, as `schema.table` on
/// PostgreSQL (every schema but the system ones) and `table` on SQLite.
fn tables(database_url: &str) -> anyhow::Result<Vec<String>> {
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let url = shared::config::DatabaseUrl::parse(database_url).map_err(anyhow::Error::msg)?;
    let db = shared::db::Db::connect(&url, 1)?;
    let mut conn = db.get()?;
    let rows: Vec<Table> = match &mut **conn {
        shared::db::DbConnection::Sqlite(c) => {
            diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .load(c)?
        }
        shared::db::DbConnection::Postgresql(c) => diesel::sql_query(
            "SELECT (table_schema || '.' || table_name)::text AS name FROM information_schema.tables \
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
        )
        .load(c)?,
    };
    let mut names: Vec<String> = rows.into_iter().map(|t| t.name).collect();
    names.sort();
    Ok(names)
}

/// Files under `dir` that are SQLite databases (by name or by their first bytes).
fn sqlite_files(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let mut head = [0u8; 16];
            let is_sqlite = std::fs::File::open(&path)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
                .is_ok_and(|()| &head == b"SQLite format 3\0");
            if is_sqlite || name.contains(".db") || name.ends_with("-wal") || name.ends_with("-shm") {
                found.push(path);
            }
        }
    }
    Ok(found)
}

#[test]
fn with_a_postgres_url_it_serves_the_same_demo_and_creates_no_sqlite_file() -> anyhow::Result<()> {
    // The embedded run to compare with.
    let embedded_dir = tempfile::tempdir()?;
    let embedded = start(portal(embedded_dir.path()))?;
    let sqlite_url = format!("sqlite://{}", embedded_dir.path().join("data/matterline.db").display());
    let on_sqlite = demo_served(&embedded, &sqlite_url)?;
    drop(embedded);
    let sqlite_tables = tables(&sqlite_url)?;
    assert!(sqlite_tables.iter().any(|t| t == "__diesel_schema_migrations"), "{sqlite_tables:?}");

    let admin = std::env::var("MATTERLINE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("matterline_test_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::establish(&admin)?;
    diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn)?;
    let database_url = format!("{}/{name}", admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base));

    let result = (|| -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut cmd = portal(dir.path());
        cmd.env("MATTERLINE_DATABASE_URL", &database_url);
        let running = start(cmd)?;
        assert!(running.stdout.iter().any(|l| l.contains("/sign-in/link?token=")), "{:?}", running.stdout);
        let (status, body) = get(&format!("{}/readyz", running.url))?;
        assert_eq!(status, 200, "{body}");

        // The seeded demo (as the foundation tests count it), served the same as from SQLite.
        let on_postgres = demo_served(&running, &database_url)?;
        assert_eq!(
            (on_postgres.staff, on_postgres.clients, on_postgres.open_requests),
            (2, 5, 1),
            "staff, clients and open document requests of the demo"
        );
        assert!(!on_postgres.client_matters.is_empty(), "the demo client has no matter");
        assert_eq!(on_postgres, on_sqlite, "PostgreSQL serves another demo than SQLite");

        // Nothing but the project's tables (the same ones a SQLite start creates), all in `public`.
        let expected: Vec<String> = sqlite_tables.iter().map(|t| format!("public.{t}")).collect();
        assert_eq!(tables(&database_url)?, expected, "the PostgreSQL database's tables");
        assert_eq!(
            sqlite_files(dir.path())?,
            Vec::<std::path::PathBuf>::new(),
            "a SQLite file was created although PostgreSQL was configured"
        );
        Ok(())
    })();
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn);
    result
}

/// Where a JSON log line names its request id: on the line, or on its request span.
fn request_id_of(line: &serde_json::Value) -> Option<&str> {
    line["request_id"]
        .as_str()
        .or_else(|| line["span"]["request_id"].as_str())
        .or_else(|| line["spans"].as_array()?.iter().find_map(|span| span["request_id"].as_str()))
}

/// The request log line (message "request") of the request with id `id`.
fn request_line<'a>(lines: &'a [serde_json::Value], id: &str) -> anyhow::Result<&'a serde_json::Value> {
    lines
        .iter()
        .find(|l| l["message"] == "request" && request_id_of(l) == Some(id))
        .ok_or_else(|| anyhow::anyhow!("no request line for {id}: {lines:#?}"))
}

/// `MATTERLINE_LOG_FORMAT=json`: a client signs in through the form and the
/// emailed link, uploads a PDF and asks for a page that does not exist. Every
/// log line is a JSON object; the request lines carry the request id, route,
/// status, latency, user id and the client's IP address (the one a trusted
/// proxy names, when the test plays one); the client's email address, the
/// sign-in token, the session token and the file's contents appear in none.
#[test]
fn json_logs_carry_request_fields_and_no_address_token_or_file_contents() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut cmd = portal(dir.path());
    // The test plays a trusted proxy for one request (X-Forwarded-For on the missing page).
    cmd.env("MATTERLINE_LOG_FORMAT", "json").env("MATTERLINE_TRUSTED_PROXIES", "127.0.0.1").env_remove("RUST_LOG");
    let mut running = start(cmd)?;
    let url = running.url.clone();
    let email = "jordan@demo.matterline.test";
    let marker = format!("file-contents-marker-{}", uuid::Uuid::new_v4().simple());
    let (missing_id, unmatched_id) = ("log-check-missing-matter-0001", "log-check-unmatched-page-0002");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (sign_in_token, session, short_code) = rt.block_on(async {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let asked = http.post(format!("{url}/sign-in")).header("Origin", &url).form(&[("email", email)]).send().await?;
        anyhow::ensure!(asked.status() == 200, "asking for a link: {}", asked.status());
        // The email is written after the answer: the mailbox shows it a moment later.
        // Its text part carries a short link (`/l/{code}`) that redirects to the sign-in link.
        let mut mailbox = String::new();
        for _ in 0..100 {
            mailbox = harness::pages::main_text(&http.get(format!("{url}/dev/mailbox")).send().await?.text().await?);
            if mailbox.contains("/l/") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let short = mailbox
            .split(&format!("{url}/l/"))
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_alphanumeric()).next())
            .ok_or_else(|| anyhow::anyhow!("no sign-in link in the dev mailbox: {mailbox}"))?
            .to_owned();
        let followed = http.get(format!("{url}/l/{short}")).send().await?;
        anyhow::ensure!(followed.status() == 303, "following the short link: {}", followed.status());
        let target = followed.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let token = target
            .split("/sign-in/link?token=")
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("the short link leads elsewhere: {target}"))?
            .to_owned();
        let signed_in =
            http.post(format!("{url}/sign-in/link")).header("Origin", &url).form(&[("token", &token)]).send().await?;
        anyhow::ensure!(signed_in.status() == 303, "signing in: {}", signed_in.status());
        let cookie = signed_in
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .unwrap_or_default()
            .to_owned();
        let session = cookie.strip_prefix("matterline_session=").unwrap_or_default().to_owned();
        anyhow::ensure!(session.len() > 20, "no session cookie: {cookie}");

        let matters: serde_json::Value =
            http.get(format!("{url}/api/v1/matters")).header("Cookie", &cookie).send().await?.json().await?;
        let matter = matters[0]["id"].as_str().unwrap_or_default().to_owned();
        let mut pdf = harness::files::pdf(20_000);
        pdf.extend_from_slice(marker.as_bytes());
        let part = reqwest::multipart::Part::bytes(pdf).file_name("bill.pdf").mime_str("application/pdf")?;
        let uploaded = http
            .post(format!("{url}/api/v1/matters/{matter}/documents"))
            .header("Cookie", &cookie)
            .header("Origin", &url)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await?;
        anyhow::ensure!(uploaded.status() == 201, "uploading: {}", uploaded.status());

        let missing = http
            .get(format!("{url}/matters/{}", uuid::Uuid::new_v4()))
            .header("Cookie", &cookie)
            .header("X-Request-Id", missing_id)
            .send()
            .await?;
        anyhow::ensure!(missing.status() == 404, "a missing matter: {}", missing.status());
        let unmatched = http
            .get(format!("{url}/no-such-page"))
            .header("X-Request-Id", unmatched_id)
            .header("X-Forwarded-For", "203.0.113.50")
            .send()
            .await?;
        anyhow::ensure!(unmatched.status() == 404, "a missing page: {}", unmatched.status());
        anyhow::Ok((token, session, short))
    })?;

    // Stop it, so every line is written, and read the whole log.
    assert!(Command::new("kill").args(["-TERM", &running.child.id().to_string()]).status()?.success());
    assert_eq!(running.child.wait()?.code(), Some(0));
    let log = running
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no log reader"))?
        .join()
        .map_err(|_| anyhow::anyhow!("the log reader panicked"))?;

    let mut lines = Vec::new();
    for line in &log {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| anyhow::anyhow!("a log line is not JSON ({e}): {line}"))?;
        assert!(value.is_object(), "a log line is not a JSON object: {line}");
        lines.push(value);
    }
    assert!(lines.iter().any(|l| l["message"] == "signed in"), "the sign-in was not logged: {log:#?}");

    let user: String = {
        use shared::db::schema::users;
        let url = shared::config::DatabaseUrl::parse(&format!(
            "sqlite://{}",
            dir.path().join("data/matterline.db").display()
        ))
        .map_err(anyhow::Error::msg)?;
        let db = shared::db::Db::connect(&url, 1)?;
        let mut conn = db.get()?;
        users::table.filter(users::email.eq(email)).select(users::id).first(&mut **conn)?
    };
    let missing = request_line(&lines, missing_id)?;
    assert_eq!(missing["route"], "/matters/{id}", "{missing}");
    assert_eq!(missing["status"], 404, "{missing}");
    assert_eq!(missing["method"], "GET", "{missing}");
    assert!(missing["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "no latency: {missing}");
    assert_eq!(missing["user"], user.as_str(), "the signed-in request's line lacks the user id: {missing}");
    let unmatched = request_line(&lines, unmatched_id)?;
    assert_eq!((&unmatched["route"], &unmatched["status"]), (&"unmatched".into(), &404.into()), "{unmatched}");
    assert!(unmatched["latency_ms"].is_number(), "no latency: {unmatched}");
    // The client's IP address: the peer, or the one the trusted proxy names.
    assert_eq!(missing["span"]["client"], "127.0.0.1", "{missing}");
    assert_eq!(unmatched["span"]["client"], "203.0.113.50", "{unmatched}");
    // Every request of the session was logged with the user it belonged to.
    let uploads: Vec<_> =
        lines.iter().filter(|l| l["message"] == "request" && l["route"] == "/api/v1/matters/{id}/documents").collect();
    assert_eq!(uploads.len(), 1, "{uploads:#?}");
    assert_eq!((&uploads[0]["status"], &uploads[0]["user"]), (&201.into(), &user.as_str().into()), "{}", uploads[0]);

    for (what, secret) in [
        ("the client's email address", email),
        ("the sign-in token", sign_in_token.as_str()),
        ("the short link's code", short_code.as_str()),
        ("the session token", session.as_str()),
        ("the uploaded file's contents", marker.as_str()),
    ] {
        let leaked: Vec<&String> = log.iter().filter(|l| l.contains(secret)).collect();
        assert!(leaked.is_empty(), "{what} appears in the log: {leaked:#?}");
    }
    Ok(())
}

fn fails_with_one_line(var: &str, value: &str) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let output = portal(dir.path()).env(var, value).output()?;
    assert_eq!(output.status.code(), Some(2), "{var}={value} should stop start-up with exit code 2");
    let stderr = String::from_utf8(output.stderr)?;
    assert_eq!(stderr.trim_end().lines().count(), 1, "expected one line, got: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "a bad configuration must not create anything");
    Ok(stderr)
}

#[test]
fn a_malformed_database_url_stops_start_up_with_one_line_naming_it() -> anyhow::Result<()> {
    let stderr = fails_with_one_line("MATTERLINE_DATABASE_URL", "mysql://root@localhost/matterline")?;
    assert!(
        stderr.starts_with("configuration error: MATTERLINE_DATABASE_URL: unsupported scheme \"mysql\""),
        "{stderr}"
    );
    let stderr = fails_with_one_line("MATTERLINE_DATABASE_URL", "not a url")?;
    assert!(stderr.starts_with("configuration error: MATTERLINE_DATABASE_URL: not a URL"), "{stderr}");
    Ok(())
}

#[test]
fn a_bad_trusted_proxy_stops_start_up_with_one_line_naming_it() -> anyhow::Result<()> {
    let stderr = fails_with_one_line("MATTERLINE_TRUSTED_PROXIES", "127.0.0.1, proxy.internal")?;
    assert_eq!(
        stderr.trim_end(),
        "configuration error: MATTERLINE_TRUSTED_PROXIES: \"proxy.internal\" is not an IP address or CIDR range \
         (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8, ::1)"
    );
    let stderr = fails_with_one_line("MATTERLINE_TRUSTED_PROXIES", "10.1.2.3/8")?;
    assert!(stderr.contains("\"10.1.2.3/8\" has bits set after its prefix; the range is 10.0.0.0/8"), "{stderr}");
    Ok(())
}

#[test]
fn an_unknown_setting_stops_start_up_with_one_line_naming_it() -> anyhow::Result<()> {
    let stderr = fails_with_one_line("MATTERLINE_STORAGE_URL", "local:./x")?;
    assert_eq!(stderr.trim_end(), "configuration error: MATTERLINE_STORAGE_URL: unknown setting");
    Ok(())
}

#[test]
fn portal_config_prints_every_setting_with_secrets_redacted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let output = portal(dir.path())
        .arg("config")
        .env("MATTERLINE_SMTP_URL", "smtp://mailer:smtp-password@mail.example:587")
        .env("MATTERLINE_JWT_SECRET", "jwt-secret-value-that-is-long-enough-0123456789")
        .output()?;
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout)?;
    for key in [
        "MATTERLINE_DATABASE_URL=sqlite://./data/matterline.db",
        "MATTERLINE_JWT_SECRET=[redacted]",
        "MATTERLINE_BIND=127.0.0.1:0",
    ] {
        assert!(text.lines().any(|l| l == key), "missing {key} in\n{text}");
    }
    assert!(!text.contains("smtp-password") && !text.contains("jwt-secret-value"), "a secret leaked:\n{text}");
    assert!(!dir.path().join("data").exists(), "printing the configuration must not create anything");
    Ok(())
}

/// `portal ARGS --help`: printed with exit code 0, creating nothing.
fn help(args: &[&str]) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let output = portal(dir.path()).args(args).arg("--help").output()?;
    assert!(output.status.success(), "portal {args:?} --help: {}", output.status);
    assert!(!dir.path().join("data").exists(), "portal {args:?} --help created ./data");
    Ok(String::from_utf8(output.stdout)?)
}

#[test]
fn help_lists_every_command_and_its_options() -> anyhow::Result<()> {
    let top = help(&[])?;
    for command in ["serve", "migrate", "seed-demo", "config", "backup", "restore", "staff", "import", "audit"] {
        assert!(top.lines().any(|l| l.trim_start().starts_with(command)), "{command} missing from --help:\n{top}");
    }
    // Every command, with what its help must show: its purpose, arguments, options and defaults.
    let commands: &[(&[&str], &[&str])] = &[
        (&["serve"], &["Migrate the database", "-h, --help"]),
        (&["migrate"], &["Apply pending database migrations", "-h, --help"]),
        (&["seed-demo"], &["Seed the demo firm", "-h, --help"]),
        (&["config"], &["Print the effective configuration", "-h, --help"]),
        (&["backup"], &["<DIR>", "An empty or new folder for the backup", "-h, --help"]),
        (&["restore"], &["<DIR>", "The backup folder", "-h, --help"]),
        (&["staff"], &["add", "Create a staff account"]),
        (
            &["staff", "add"],
            &["--email <EMAIL>", "--name <NAME>", "--role <ROLE>", "[default: case_manager]", "--firm <FIRM>"],
        ),
        (&["import"], &["<FILE>", "--firm <ID>", "a second run of the same file changes nothing"]),
        (&["audit"], &["verify", "hash chain"]),
        (&["audit", "verify"], &["hash chain", "-h, --help"]),
    ];
    for (args, expected) in commands {
        let text = help(args)?;
        for piece in *expected {
            assert!(text.contains(piece), "{piece:?} missing from portal {} --help:\n{text}", args.join(" "));
        }
    }
    Ok(())
}

#[test]
fn sigterm_stops_the_portal_cleanly_with_exit_code_0() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut cmd = portal(dir.path());
    cmd.env("MATTERLINE_SHUTDOWN_GRACE_SECONDS", "2");
    let mut running = start(cmd)?;
    assert_eq!(get(&format!("{}/healthz", running.url))?.0, 200);
    let pid = running.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status()?.success());
    let status = running.child.wait()?;
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    Ok(())
}

/// The real binary storing documents in a new bucket of a private S3 server,
/// with the demo client signed in over HTTP.
struct S3Portal {
    runtime: tokio::runtime::Runtime,
    s3: harness::s3::PrivateS3,
    config: shared::config::Config,
    running: Running,
    http: reqwest::Client,
    cookie: String,
    matter: String,
    _dir: tempfile::TempDir,
}

impl S3Portal {
    fn start(grace_seconds: u64) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let s3 = harness::s3::PrivateS3::start()?;
        let dir = tempfile::tempdir()?;
        let settings = [
            ("MATTERLINE_STORAGE", "s3://mlshut".to_owned()),
            ("MATTERLINE_S3_ENDPOINT", s3.endpoint()),
            ("MATTERLINE_S3_REGION", "us-east-1".to_owned()),
            ("MATTERLINE_S3_FORCE_PATH_STYLE", "true".to_owned()),
            ("MATTERLINE_SHUTDOWN_GRACE_SECONDS", grace_seconds.to_string()),
        ];
        // The bucket, made with the portal's own storage client.
        let config = shared::config::Config::from_sources(
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .chain([("MATTERLINE_DATA_DIR".to_owned(), dir.path().join("data").display().to_string())]),
            None,
        )?;
        runtime.block_on(async {
            let storage = storage::Storage::open(&config).await?;
            let (client, bucket) = storage.s3_client().ok_or_else(|| anyhow::anyhow!("not S3"))?;
            client.create_bucket().bucket(bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
            anyhow::Ok(())
        })?;

        let mut cmd = portal(dir.path());
        cmd.envs(settings.iter().map(|(k, v)| (*k, v.as_str())));
        let running = start(cmd)?;
        let link = running
            .stdout
            .iter()
            .find_map(|l| l.trim().strip_prefix(&format!("{}/sign-in/link?token=", running.url)).map(str::to_owned))
            .ok_or_else(|| anyhow::anyhow!("no demo link: {:?}", running.stdout))?;
        let url = running.url.clone();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let (cookie, matter) = runtime.block_on(async {
            let signed_in = http.post(format!("{url}/sign-in/link")).form(&[("token", link.as_str())]).send().await?;
            let cookie = signed_in
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .and_then(|c| c.split(';').next())
                .unwrap_or_default()
                .to_owned();
            let matters: serde_json::Value =
                http.get(format!("{url}/api/v1/matters")).header("Cookie", &cookie).send().await?.json().await?;
            let matter = matters[0]["id"].as_str().unwrap_or_default().to_owned();
            anyhow::Ok((cookie, matter))
        })?;
        Ok(Self { runtime, s3, config, running, http, cookie, matter, _dir: dir })
    }

    /// Starts a PDF upload of `size` bytes that stops sending after `pause_after`
    /// bytes until `resume` fires; returns once its second part reached storage.
    fn upload_paused(
        &self,
        size: u64,
        pause_after: u64,
        resume: tokio::sync::oneshot::Receiver<()>,
    ) -> anyhow::Result<tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>> {
        let body = reqwest::Body::wrap_stream(harness::files::paused_pdf(size, pause_after, resume));
        let part = reqwest::multipart::Part::stream_with_length(body, size)
            .file_name("long.pdf")
            .mime_str("application/pdf")?;
        let upload = self.runtime.spawn(
            self.http
                .post(format!("{}/api/v1/matters/{}/documents", self.running.url, self.matter))
                .header("Cookie", &self.cookie)
                .header("Origin", &self.running.url)
                .multipart(reqwest::multipart::Form::new().part("file", part))
                .send(),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.s3.staging_files()?.iter().any(|f| f.contains(".part-2")) {
            anyhow::ensure!(Instant::now() < deadline, "the upload never reached storage");
            anyhow::ensure!(!upload.is_finished(), "the upload ended early");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(upload)
    }

    /// Sends `signal` ("TERM", "INT") to the portal.
    fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let status =
            Command::new("kill").args([&format!("-{signal}"), &self.running.child.id().to_string()]).status()?;
        anyhow::ensure!(status.success(), "kill -{signal} failed");
        Ok(())
    }

    /// Waits for the portal to exit (at most a minute) and returns its exit code.
    fn exit_code(&mut self) -> anyhow::Result<Option<i32>> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.running.child.try_wait()? {
                return Ok(status.code());
            }
            anyhow::ensure!(Instant::now() < deadline, "the portal did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The keys of the objects in the bucket.
    fn objects(&self) -> anyhow::Result<Vec<String>> {
        self.runtime.block_on(async {
            let storage = storage::Storage::open(&self.config).await?;
            let (client, bucket) = storage.s3_client().ok_or_else(|| anyhow::anyhow!("not S3"))?;
            let listed = client.list_objects_v2().bucket(bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
            Ok(listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect())
        })
    }

    /// The SHA-256 of an object's bytes, read back from the bucket.
    fn object_sha256(&self, key: &str) -> anyhow::Result<String> {
        self.runtime.block_on(async {
            let storage = storage::Storage::open(&self.config).await?;
            Ok(harness::files::sha256(&storage.fetch(key).await?))
        })
    }

    /// The document rows: (object key, size, SHA-256).
    fn documents(&self) -> anyhow::Result<Vec<(String, i64, String)>> {
        use shared::db::schema::documents;
        let db = shared::db::Db::connect(&self.config.database_url, 1)?;
        let mut conn = db.get()?;
        Ok(documents::table
            .select((documents::object_key, documents::size_bytes, documents::sha256))
            .load(&mut **conn)?)
    }
}

/// `signal` to the real binary while a 100 MB upload is half-way and stalls:
/// after the 1-second grace period the upload is aborted (no object, no row,
/// no open multipart upload on the S3 server) and the process exits 0.
fn a_signal_during_a_stalled_upload_aborts_it_and_exits_0(signal: &str) -> anyhow::Result<()> {
    let mut portal = S3Portal::start(1)?;
    const SIZE: u64 = 100 * 1024 * 1024;
    let (_never, paused) = tokio::sync::oneshot::channel::<()>();
    let upload = portal.upload_paused(SIZE, 20 * 1024 * 1024, paused)?;
    portal.signal(signal)?;
    assert_eq!(portal.exit_code()?, Some(0), "exit status after SIG{signal} during an upload");
    upload.abort();

    assert_eq!(portal.s3.staging_files()?, Vec::<String>::new(), "the multipart upload was left open");
    assert_eq!(portal.objects()?, Vec::<String>::new(), "an object was stored");
    assert_eq!(portal.documents()?, Vec::new(), "a document row was written");
    Ok(())
}

#[test]
fn sigterm_during_an_upload_aborts_it_and_exits_0() -> anyhow::Result<()> {
    a_signal_during_a_stalled_upload_aborts_it_and_exits_0("TERM")
}

#[test]
fn sigint_during_an_upload_aborts_it_and_exits_0() -> anyhow::Result<()> {
    a_signal_during_a_stalled_upload_aborts_it_and_exits_0("INT")
}

/// `signal` while an upload is still being sent, with a 20-second grace period:
/// the portal stops accepting connections at once, but the upload in flight
/// finishes — answered 201, its row and object stored with the right SHA-256 —
/// and then the process exits 0.
fn a_signal_lets_the_upload_in_flight_finish_within_the_grace_period(signal: &str) -> anyhow::Result<()> {
    let mut portal = S3Portal::start(20)?;
    const SIZE: u64 = 40 * 1024 * 1024;
    let expected = harness::files::streamed_pdf(SIZE).1;
    let (resume, paused) = tokio::sync::oneshot::channel::<()>();
    let upload = portal.upload_paused(SIZE, 20 * 1024 * 1024, paused)?;
    portal.signal(signal)?;

    // The listener closes once the stop begins; the upload is still open then.
    let address = portal.running.url.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match std::net::TcpStream::connect(&address) {
            // Refused once the listener is closed; reset (or aborted) when the kernel had
            // queued the connection just as the listener closed: not accepted either way.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted
                ) =>
            {
                break;
            }
            Err(e) => anyhow::bail!("connecting after SIG{signal}: {e}"),
            Ok(connection) => drop(connection),
        }
        anyhow::ensure!(Instant::now() < deadline, "new connections were still accepted after SIG{signal}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!upload.is_finished(), "the upload ended before the rest of its body was sent");

    // The client sends the rest of the body.
    let _ = resume.send(());
    let answer = portal.runtime.block_on(async {
        let response = upload.await??;
        let status = response.status().as_u16();
        anyhow::Ok((status, response.json::<serde_json::Value>().await?))
    })?;
    assert_eq!(answer.0, 201, "the upload in flight after SIG{signal}: {}", answer.1);
    assert_eq!(answer.1["stored"][0]["sha256"], expected.as_str(), "{}", answer.1);
    assert_eq!(portal.exit_code()?, Some(0), "exit status after SIG{signal}");

    let documents = portal.documents()?;
    assert_eq!(documents.len(), 1, "{documents:?}");
    let (key, size, sha256) = &documents[0];
    assert_eq!((*size, sha256.as_str()), (SIZE as i64, expected.as_str()));
    assert_eq!(portal.objects()?, vec![key.clone()], "the bucket holds exactly the stored document");
    assert_eq!(portal.object_sha256(key)?, expected, "the stored bytes differ from the uploaded ones");
    assert_eq!(portal.s3.staging_files()?, Vec::<String>::new(), "a multipart upload was left open");
    Ok(())
}

#[test]
fn sigterm_lets_an_upload_in_flight_finish_within_the_grace_period() -> anyhow::Result<()> {
    a_signal_lets_the_upload_in_flight_finish_within_the_grace_period("TERM")
}

#[test]
fn sigint_lets_an_upload_in_flight_finish_within_the_grace_period() -> anyhow::Result<()> {
    a_signal_lets_the_upload_in_flight_finish_within_the_grace_period("INT")
}
