//! The `portal` binary as an operator runs it: embedded mode with no
//! configuration, PostgreSQL by URL, and one-line errors for bad configuration.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use diesel::{Connection, PgConnection, QueryDsl, RunQueryDsl};

const PORTAL: &str = env!("CARGO_BIN_EXE_portal");

/// A `portal` process, killed when dropped.
struct Running {
    child: Child,
    url: String,
    stdout: Vec<String>,
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
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
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
    Ok(Running { child, url, stdout: lines })
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

#[test]
fn with_a_postgres_url_it_serves_the_same_demo_and_creates_no_sqlite_file() -> anyhow::Result<()> {
    let admin = std::env::var("MATTERLINE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("matterline_test_{}", uuid::Uuid::new_v4().simple());
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
        assert!(
            !dir.path().join("data/matterline.db").exists(),
            "a SQLite file was created although PostgreSQL was configured"
        );

        let mut db = PgConnection::establish(&database_url)?;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let clients: Vec<Count> =
            diesel::sql_query("SELECT count(*) AS n FROM users WHERE role = 'client'").load(&mut db)?;
        assert_eq!(clients.first().map(|c| c.n), Some(5));
        Ok(())
    })();
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn);
    result
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

#[test]
fn help_lists_every_command_and_its_options() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let help = String::from_utf8(portal(dir.path()).arg("--help").output()?.stdout)?;
    for command in ["serve", "migrate", "seed-demo", "config", "import", "audit", "staff"] {
        assert!(help.contains(command), "{command} missing from --help:\n{help}");
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

/// SIGTERM to the real binary while a 100 MB upload is half-way: after the
/// grace period the upload is aborted (no object, no row, no open multipart
/// upload on the S3 server) and the process exits 0.
#[test]
fn sigterm_during_an_upload_aborts_it_and_exits_0() -> anyhow::Result<()> {
    use harness::s3::PrivateS3;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let s3 = PrivateS3::start()?;
    let dir = tempfile::tempdir()?;
    let bucket = "mlshut";
    let settings = [
        ("MATTERLINE_STORAGE", format!("s3://{bucket}")),
        ("MATTERLINE_S3_ENDPOINT", s3.endpoint()),
        ("MATTERLINE_S3_REGION", "us-east-1".to_owned()),
        ("MATTERLINE_S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("MATTERLINE_SHUTDOWN_GRACE_SECONDS", "1".to_owned()),
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
        let storage = shared::storage::Storage::open(&config).await?;
        let (client, bucket) = storage.s3_client().ok_or_else(|| anyhow::anyhow!("not S3"))?;
        client.create_bucket().bucket(bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        anyhow::Ok(())
    })?;

    let mut cmd = portal(dir.path());
    cmd.envs(settings.iter().map(|(k, v)| (*k, v.as_str())));
    let mut running = start(cmd)?;
    let link = running
        .stdout
        .iter()
        .find_map(|l| l.trim().strip_prefix(&format!("{}/sign-in/link?token=", running.url)).map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("no demo link: {:?}", running.stdout))?;
    let url = running.url.clone();
    runtime.block_on(async {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
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

        const SIZE: u64 = 100 * 1024 * 1024;
        let (_never, paused) = tokio::sync::oneshot::channel::<()>();
        let body = reqwest::Body::wrap_stream(harness::files::paused_pdf(SIZE, 20 * 1024 * 1024, paused));
        let part = reqwest::multipart::Part::stream_with_length(body, SIZE)
            .file_name("long.pdf")
            .mime_str("application/pdf")?;
        let upload = tokio::spawn(
            http.post(format!("{url}/api/v1/matters/{matter}/documents"))
                .header("Cookie", &cookie)
                .header("Origin", &url)
                .multipart(reqwest::multipart::Form::new().part("file", part))
                .send(),
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !s3.staging_files()?.iter().any(|f| f.contains(".part-2")) {
            anyhow::ensure!(std::time::Instant::now() < deadline, "the upload never reached storage");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(Command::new("kill").args(["-TERM", &running.child.id().to_string()]).status()?.success());
        let status = tokio::task::spawn_blocking(move || running.child.wait()).await??;
        assert_eq!(status.code(), Some(0), "exit status after SIGTERM during an upload");
        upload.abort();
        anyhow::Ok(())
    })?;

    assert_eq!(s3.staging_files()?, Vec::<String>::new(), "the multipart upload was left open");
    let db = shared::db::Db::connect(&config.database_url, 1)?;
    let mut conn = db.get()?;
    let rows: i64 = shared::db::schema::documents::table.count().get_result(&mut *conn)?;
    assert_eq!(rows, 0, "a row was written");
    Ok(())
}
