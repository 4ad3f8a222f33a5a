//! The end-to-end test harness: the real portal on port 0 with a fresh
//! database per test — a new SQLite file, or a new PostgreSQL database on the
//! server named by `MATTERLINE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards.
//!
//! Every database test runs on both backends through [`on_both_backends!`].
//! A missing service fails the test with a message saying what to start; it is
//! never skipped.

pub mod brand_files;
pub mod browser;
pub mod caddy;
pub mod files;
pub mod fixtures;
pub mod gate;
pub mod load;
pub mod maildev;
pub mod memory_mail;
pub mod metrics;
pub mod modules;
pub mod own_process;
pub mod pages;
pub mod postgres;
pub mod reliability;
pub mod routes;
pub mod rows;
pub mod s3;
pub mod schema;
pub mod services;
pub mod session;
pub mod snapshots;

use std::collections::BTreeMap;

use actix_web::dev::ServerHandle;
use anyhow::Context;
use diesel::{Connection, PgConnection, RunQueryDsl};
use portal::app::Application;
use portal::state::AppState;
use shared::config::{Config, DatabaseUrl};
use shared::mail::{Mailbox, Mailer};
use tempfile::TempDir;

pub use shared::db::Backend;

/// The PostgreSQL server's maintenance URL used to create and drop test databases.
pub fn postgres_admin_url() -> String {
    std::env::var("MATTERLINE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, empty database for one test, removed when dropped.
pub struct TestDb {
    /// The URL the portal is given.
    pub url: DatabaseUrl,
    /// The backend.
    pub backend: Backend,
    postgres_name: Option<String>,
    /// The maintenance URL of the PostgreSQL server holding it (to drop it).
    postgres_admin: String,
    /// Holds the SQLite file and any other per-test files.
    pub dir: TempDir,
}

impl TestDb {
    /// Creates an empty database on `backend`.
    pub fn create(backend: Backend) -> anyhow::Result<Self> {
        Self::create_at(backend, &postgres_admin_url())
    }

    /// Creates an empty database on the PostgreSQL server whose maintenance URL is `admin`
    /// (e.g. a [`postgres::PrivatePostgres`] the test may restart).
    pub fn create_on_postgres(admin: &str) -> anyhow::Result<Self> {
        Self::create_at(Backend::Postgres, admin)
    }

    fn create_at(backend: Backend, admin: &str) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("matterline-test-").tempdir()?;
        match backend {
            Backend::Sqlite => Ok(Self {
                url: DatabaseUrl::Sqlite(dir.path().join("matterline.db")),
                backend,
                postgres_name: None,
                postgres_admin: admin.to_owned(),
                dir,
            }),
            Backend::Postgres => {
                // The test process's id is in the name, so a later run's clean-up
                // (scripts/test) drops only databases whose process is gone.
                let name = format!("matterline_test_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
                let admin = admin.to_owned();
                let mut conn = PgConnection::establish(&admin).with_context(|| {
                    format!("PostgreSQL is not reachable at {admin}: start it (scripts/test does) or set MATTERLINE_TEST_POSTGRES_URL")
                })?;
                diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn)?;
                let mut url = url::Url::parse(&admin)?;
                url.set_path(&name);
                let url = DatabaseUrl::parse(url.as_str()).map_err(anyhow::Error::msg)?;
                Ok(Self { url, backend, postgres_name: Some(name), postgres_admin: admin, dir })
            }
        }
    }

    /// The URL as text, for a `MATTERLINE_DATABASE_URL`.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.expose().clone(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name
            && let Ok(mut conn) = PgConnection::establish(&self.postgres_admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn);
        }
    }
}

/// The real portal, started on port 0 against a fresh database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// The portal's own state: database, storage, tokens.
    pub state: AppState,
    /// The database under test.
    pub db: TestDb,
    /// The demo sign-in printed at start-up, when the demo was seeded.
    pub demo_link: Option<String>,
    handle: ServerHandle,
    served: Served,
}

impl TestApp {
    /// A test portal on a fresh database on `backend`, to be configured and
    /// started: `TestApp::builder(backend).with_smtp().settings(&[…]).spawn().await?`.
    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder { db: DbChoice::Fresh(backend), ..TestAppBuilder::default() }
    }

    /// A test portal on `db` (e.g. one on a private PostgreSQL server the test may restart).
    pub fn builder_on(db: TestDb) -> TestAppBuilder {
        TestAppBuilder { db: DbChoice::Given(Box::new(db)), ..TestAppBuilder::default() }
    }

    /// Starts another portal on an existing test database (e.g. to restart after a stop).
    /// The returned app borrows nothing: `db` must outlive it.
    pub async fn spawn_on(db: &TestDb, settings: &[(&str, &str)]) -> anyhow::Result<Restarted> {
        let (address, client, state, demo_link, handle, _served) = start(db, settings, false).await?;
        Ok(Restarted { address, client, state, demo_link, handle })
    }

    /// What the portal has mailed, when it was started with
    /// [`TestAppBuilder::with_memory_mail`].
    pub fn mail(&self) -> anyhow::Result<memory_mail::MemoryMail> {
        let sent = self.state.mailer().sent_mail().ok_or_else(|| {
            anyhow::anyhow!("this portal sends real mail: start it with TestApp::builder(…).with_memory_mail()")
        })?;
        Ok(memory_mail::MemoryMail::new(sent.clone()))
    }

    /// A new client without cookies (another device), not following redirects,
    /// sending the portal's `Origin` like a browser on its pages.
    pub fn new_client(&self) -> anyhow::Result<reqwest::Client> {
        http_client(&self.origin(), true)
    }

    /// A client without a cookie store (cookies go in by hand), not following
    /// redirects, sending the portal's `Origin`.
    pub fn raw_client(&self) -> anyhow::Result<reqwest::Client> {
        http_client(&self.origin(), false)
    }

    /// The origin of the portal's public URL (`http://127.0.0.1:PORT` in tests).
    pub fn origin(&self) -> String {
        self.state.config.public_url.origin().ascii_serialization()
    }

    /// The configuration of this test's portal with `settings` changed (for a
    /// notifier on the same database, whose links must point at this portal).
    pub fn config(&self, settings: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut all = vec![("MATTERLINE_PUBLIC_URL", self.address.as_str())];
        all.extend_from_slice(settings);
        test_config(&self.db, &all)
    }

    /// The backend under test.
    pub fn backend(&self) -> Backend {
        self.db.backend
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.client.get(self.url(path)).send().await?)
    }

    /// Waits until the work the portal started after answering a request (the
    /// sign-in email of `POST /sign-in`) has finished.
    pub async fn background_done(&self) {
        self.state.background.settled().await;
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    /// What SIGTERM does: a graceful stop (requests in flight get the grace
    /// period), then the portal's own clean-up; returns how the server ended.
    pub async fn shut_down(&self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        let served = self.served.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.take();
        match served {
            Some(task) => Ok(task.await??),
            None => anyhow::bail!("already shut down"),
        }
    }
}

/// The database a [`TestAppBuilder`] starts the portal on.
#[derive(Default)]
enum DbChoice {
    /// A new one on this backend.
    Fresh(Backend),
    /// This one.
    Given(Box<TestDb>),
    #[default]
    Unset,
}

/// Where a [`TestAppBuilder`]'s portal keeps documents.
#[derive(Default)]
enum StorageChoice {
    /// The local folder under the test's data directory.
    #[default]
    Local,
    /// A new bucket on the real S3-compatible server (`MATTERLINE_TEST_S3_ENDPOINT`).
    S3,
    /// A new bucket on the S3 server at this endpoint.
    S3At(String),
}

/// How a [`TestAppBuilder`]'s portal sends mail.
#[derive(Default)]
enum MailChoice {
    /// The dev mail folder (the portal's default without `MATTERLINE_SMTP_URL`).
    #[default]
    MailFolder,
    /// The real SMTP server with an HTTP API (maildev, `MATTERLINE_TEST_SMTP_URL`).
    Smtp,
    /// Kept in memory, read through [`TestApp::mail`].
    Memory,
}

/// A test portal to start: made by [`TestApp::builder`] or [`TestApp::builder_on`].
#[derive(Default)]
#[must_use = "a builder does nothing until .spawn().await"]
pub struct TestAppBuilder {
    db: DbChoice,
    settings: Vec<(String, String)>,
    storage: StorageChoice,
    mail: MailChoice,
}

impl TestAppBuilder {
    /// Extra `MATTERLINE_*` variables (added to any given before; later ones win).
    pub fn settings(mut self, settings: &[(&str, &str)]) -> Self {
        self.settings.extend(settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self
    }

    /// Mail goes to the real SMTP server (maildev); read it with [`maildev`].
    pub fn with_smtp(mut self) -> Self {
        self.mail = MailChoice::Smtp;
        self
    }

    /// Mail is kept in memory (no SMTP server, no mail folder); read it with [`TestApp::mail`].
    pub fn with_memory_mail(mut self) -> Self {
        self.mail = MailChoice::Memory;
        self
    }

    /// Documents go to a new bucket of the real S3-compatible server (s3s-fs).
    pub fn with_s3(mut self) -> Self {
        self.storage = StorageChoice::S3;
        self
    }

    /// Documents go to a new bucket of the S3 server at `endpoint`.
    pub fn with_s3_at(mut self, endpoint: &str) -> Self {
        self.storage = StorageChoice::S3At(endpoint.to_owned());
        self
    }

    /// Creates the database (unless given), starts the portal on port 0 and,
    /// on S3, creates its bucket.
    pub async fn spawn(self) -> anyhow::Result<TestApp> {
        let db = match self.db {
            DbChoice::Fresh(backend) => TestDb::create(backend)?,
            DbChoice::Given(db) => *db,
            DbChoice::Unset => anyhow::bail!("a TestAppBuilder needs a database: use TestApp::builder or builder_on"),
        };
        let mut settings: Vec<(String, String)> = Vec::new();
        if let MailChoice::Smtp = self.mail {
            settings.push(("MATTERLINE_SMTP_URL".into(), services::smtp_url()?));
        }
        let endpoint = match self.storage {
            StorageChoice::Local => None,
            StorageChoice::S3 => Some(services::s3_endpoint()?),
            StorageChoice::S3At(endpoint) => Some(endpoint),
        };
        if let Some(endpoint) = &endpoint {
            // Short: s3s-fs puts base64(bucket), base64(key) and the upload id into one
            // file name, which the file system limits to 255 bytes.
            let bucket = format!("ml{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
            settings.extend([
                ("MATTERLINE_STORAGE".into(), format!("s3://{bucket}")),
                ("MATTERLINE_S3_ENDPOINT".into(), endpoint.clone()),
                ("MATTERLINE_S3_REGION".into(), "us-east-1".into()),
                ("MATTERLINE_S3_FORCE_PATH_STYLE".into(), "true".into()),
            ]);
        }
        settings.extend(self.settings);
        let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let memory_mail = matches!(self.mail, MailChoice::Memory);
        let (address, client, state, demo_link, handle, served) = start(&db, &settings, memory_mail).await?;
        let app = TestApp { address, client, state, db, demo_link, handle, served };
        if endpoint.is_some() {
            let (client, bucket) = app.state.storage.s3_client().ok_or_else(|| anyhow::anyhow!("not on S3"))?;
            client
                .create_bucket()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("creating bucket {bucket}: {e:?}"))?;
        }
        Ok(app)
    }
}

type Started = (String, reqwest::Client, AppState, Option<String>, ServerHandle, Served);

/// The running server task: resolves when the portal has stopped and cleaned up.
type Served = std::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>;

/// The configuration a test portal (or notifier) gets for `db`, plus `settings`.
pub fn test_config(db: &TestDb, settings: &[(&str, &str)]) -> anyhow::Result<Config> {
    Ok(Config::from_sources(test_env(db, settings), None)?)
}

/// The `MATTERLINE_*` environment of a test process on `db`, plus `settings`
/// (for starting the real binaries).
pub fn test_env(db: &TestDb, settings: &[(&str, &str)]) -> BTreeMap<String, String> {
    let dir = db.dir.path();
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("MATTERLINE_DATA_DIR".into(), dir.join("data").display().to_string());
    env.insert("MATTERLINE_DATABASE_URL".into(), db.url_string());
    env.insert("MATTERLINE_BIND".into(), "127.0.0.1:0".into());
    env.insert("MATTERLINE_SEED_DEMO".into(), "false".into());
    env.insert("MATTERLINE_NOTIFIER_BIND".into(), String::new());
    env.insert("MATTERLINE_JWT_SECRET".into(), "test-secret-that-is-long-enough-for-hs256-0123".into());
    for (k, v) in settings {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    env
}

/// Starts the portal on `db` with `settings`; `memory_mail` replaces its mailer
/// with one that keeps messages in memory.
async fn start(db: &TestDb, settings: &[(&str, &str)], memory_mail: bool) -> anyhow::Result<Started> {
    shared::mail::install_crypto_provider();
    // Logs of the portals under test, when asked for (MATTERLINE_LOG=debug cargo test …).
    if std::env::var_os("MATTERLINE_LOG").is_some() {
        shared::telemetry::init(shared::config::LogFormat::Pretty);
    }
    let config = test_config(db, settings)?;
    let from: Mailbox = config.mail_from.parse()?;
    let app = Application::build_with(config, |state| {
        if memory_mail {
            state.notifications.channels.email = Mailer::in_memory(from);
        }
    })
    .await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let demo_link = app.demo_sign_in().map(|d| d.link.clone());
    let handle = app.handle();
    let served = std::sync::Mutex::new(Some(tokio::spawn(app.run_until_stopped())));
    let client = http_client(&state.config.public_url.origin().ascii_serialization(), true)?;
    Ok((address, client, state, demo_link, handle, served))
}

/// An HTTP client that never follows redirects and names `origin` in an
/// `Origin` header on every request, as a browser does for forms posted from
/// the portal's own pages (the portal refuses state-changing requests from
/// other origins); `cookies` keeps a cookie store.
pub fn http_client(origin: &str, cookies: bool) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, reqwest::header::HeaderValue::from_str(origin)?);
    Ok(reqwest::Client::builder()
        .cookie_store(cookies)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// A portal restarted on an existing [`TestDb`].
pub struct Restarted {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// The portal's own state.
    pub state: AppState,
    /// The demo sign-in printed at start-up, when the demo was seeded.
    pub demo_link: Option<String>,
    /// Stops the server.
    pub handle: ServerHandle,
}

/// Runs each named `async fn(Backend) -> anyhow::Result<()>` twice: as
/// `NAME::sqlite` and `NAME::postgres`, so no database test runs on one backend only.
/// Each holds [`gate::beside_others`] while it runs.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    let _gate = $crate::gate::beside_others().await;
                    super::$name($crate::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    let _gate = $crate::gate::beside_others().await;
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )+
    };
}
