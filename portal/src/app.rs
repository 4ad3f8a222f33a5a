//! Building and running the portal.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, middleware, web};
use anyhow::Context;
use shared::assets::Assets;
use shared::auth;
use shared::config::Config;
use shared::db::Db;
use shared::notifications::delivery::IMMEDIATE_LEASE;
use shared::notifications::{Channels, Composer, Deliverer, Faults};
use shared::render::Renderer;
use shared::tokens::Tokens;
use storage::Storage;

use crate::background::Background;
use crate::page_cache::PageCache;
use crate::routes;
use crate::seed;
use crate::state::AppState;
use crate::totp_at_rest::{self, TotpKey};

/// The demo client's one-time sign-in, printed at start-up after a demo seed.
#[derive(Debug, Clone)]
pub struct DemoSignIn {
    /// The demo client's email address.
    pub email: String,
    /// The sign-in link (valid 15 minutes, single use).
    pub link: String,
    /// The demo staff accounts (password + authenticator secret).
    pub staff: Vec<seed::DemoStaff>,
}

impl DemoSignIn {
    /// What to print for the operator trying the demo.
    pub fn instructions(&self) -> String {
        let mut text = format!("Demo client {} — one-time sign-in link (15 minutes):\n  {}", self.email, self.link);
        for s in &self.staff {
            text.push_str(&format!(
                "\nDemo staff {} ({}) at /staff/sign-in — password {}, authenticator secret {}",
                s.email, s.role, s.password, s.totp_secret
            ));
        }
        text
    }
}

/// A bound, not yet running portal.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    demo: Option<DemoSignIn>,
}

/// Connects to the database (migrating it), opens storage and loads the token keys.
pub async fn prepare(config: Config) -> anyhow::Result<AppState> {
    shared::mail::install_crypto_provider();
    let _ = shared::metrics::handle();
    let config = Arc::new(config);
    let totp_key = TotpKey::from_config(&config)?;
    let db = {
        let (config, totp_key) = (config.clone(), totp_key.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
            let db = Db::connect(&config.database_url, 10).with_context(|| config.database_url.describe())?;
            let applied = db.migrate()?;
            if !applied.is_empty() {
                tracing::info!(migrations = ?applied, "database migrated");
            }
            let mut conn = db.get()?;
            let sealed = totp_at_rest::seal_rows(&mut conn, &totp_key)?;
            if sealed > 0 {
                tracing::info!(sealed, "sealed staff TOTP secrets stored in plain text or with a previous key");
            }
            Ok(db)
        })
        .await??
    };
    let storage = Storage::open(&config).await?;
    let tokens = Tokens::from_config(&config)?;
    let assets = Assets::new(config.assets_dir.clone());
    let renderer = Renderer::load(&assets)?;
    let notifications = Deliverer {
        db: db.clone(),
        channels: Channels::from_config(&config, db.clone())?,
        composer: Composer::new(&config, renderer.clone(), tokens.clone())?,
        id: format!("portal-{}", std::process::id()),
        lease: IMMEDIATE_LEASE,
        batch: 1,
        concurrency: 4,
        stopping: Default::default(),
        faults: Faults::from_config(&config),
    };
    let background = Background::on_current_runtime()?;
    let pages = Arc::new(PageCache::new(config.page_cache_mib));
    Ok(AppState { config, db, storage, tokens, totp_key, assets, renderer, notifications, background, pages })
}

/// Seeds the demo firm when the configuration asks for it and the database is
/// empty; returns the demo client's sign-in link.
pub async fn seed_demo_if_empty(state: &AppState, base_url: &str) -> anyhow::Result<Option<DemoSignIn>> {
    if !state.config.wants_demo_seed() {
        return Ok(None);
    }
    let assets = state.assets.clone();
    let tokens = state.tokens.clone();
    let totp_key = state.totp_key.clone();
    let seeded = state
        .db
        .run(move |conn| {
            if !seed::database_is_empty(conn)? {
                return Ok(None);
            }
            let demo = seed::seed_demo(conn, &assets, &totp_key)?;
            let grant = auth::issue_sign_in(conn, &tokens, &demo.client_id)?;
            Ok(Some((demo, grant)))
        })
        .await?;
    Ok(seeded.map(|(demo, grant)| {
        tracing::info!(firm = %demo.firm_id, "seeded the demo firm");
        DemoSignIn {
            email: demo.client_email,
            link: format!("{base_url}/sign-in/link?token={}", grant.token),
            staff: demo.staff,
        }
    }))
}

impl Application {
    /// Prepares the state, seeds the demo when asked, and binds the listener.
    /// A configured port of 0 binds a free port; a public URL on port 0 then
    /// follows the bound port.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, |_| {}).await
    }

    /// Like [`Application::build`], with `adjust` applied to the prepared state
    /// before the demo is seeded and the server starts (tests install an
    /// in-memory mailer this way: [`shared::mail::Mailer::in_memory`]).
    pub async fn build_with(config: Config, adjust: impl FnOnce(&mut AppState)) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind).with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let mut config = config;
        if config.public_url.port() == Some(0) {
            let _ = config.public_url.set_port(Some(port));
        }
        let mut state = prepare(config).await?;
        adjust(&mut state);
        let base_url = state.config.public_url.as_str().trim_end_matches('/').to_owned();
        let demo = seed_demo_if_empty(&state, &base_url).await?;
        if state.mailer().mail_folder().is_some() && !state.config.bind.ip().is_loopback() {
            tracing::warn!(
                bind = %state.config.bind,
                "no SMTP server is configured: emails (sign-in links too) go to the dev mail folder; \
                 /dev/mailbox answers only on this machine"
            );
        }
        let server = serve(listener, state.clone())?;
        spawn_storage_sweeper(state.clone());
        Ok(Self { port, server, state, demo })
    }

    /// The port the portal listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The application state (database, storage, tokens) the server uses.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The demo sign-in, when this start seeded the demo firm.
    pub fn demo_sign_in(&self) -> Option<&DemoSignIn> {
        self.demo.as_ref()
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (SIGTERM, SIGINT or the handle), each a graceful
    /// stop: no new connections, and requests in flight get `MATTERLINE_SHUTDOWN_GRACE_SECONDS` to finish; uploads still open after
    /// that are aborted, and what storage refused to remove is left for the cleanup sweep.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        // Sign-in emails of requests answered before sending them: given the same grace.
        let grace = std::time::Duration::from_secs(self.state.config.shutdown_grace_seconds);
        if tokio::time::timeout(grace, self.state.background.settled()).await.is_err() {
            tracing::warn!(left = self.state.background.len(), "background work still running at shutdown");
        }
        // The workers' runtimes are gone, and with them the storage connections
        // their requests pooled: the aborts go through a newly opened client.
        let storage = match Storage::open(&self.state.config).await {
            Ok(storage) => storage,
            Err(e) => {
                tracing::warn!(error = %e, "could not reopen storage at shutdown; using the server's client");
                self.state.storage.clone()
            }
        };
        for leftover in storage::abort_open_uploads(&storage).await {
            if let Err(e) = storage::cleanup::remember(&self.state.db, leftover).await {
                tracing::error!(error = %e, "could not record an upload left open at shutdown");
            }
        }
        tracing::info!("portal stopped");
        served
    }
}

/// The headers of every answer ([`crate::safety::security_headers`]).
fn security_headers(https: bool) -> middleware::DefaultHeaders {
    crate::safety::security_headers(https)
        .into_iter()
        .fold(middleware::DefaultHeaders::new(), |headers, pair| headers.add(pair))
}

/// The largest JSON body a request may send; a larger one is answered 413.
/// The API's bodies are a few fields of text (the import reads its own body,
/// up to its own limit).
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// How often leftovers of failed uploads are retried.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a new connection may take to deliver its request's head (the
/// method, path and headers) before it is answered 408 and closed: long
/// enough that a backlog on the portal's own side does not turn into
/// refusals, short enough that a client holding connections open without
/// sending a request (slowloris) does not keep them for long.
const REQUEST_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a connection is kept open for the client's next request after an
/// answer (browsers keep theirs for minutes; proxies commonly for 60–75 s).
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(30);

/// Every minute: removes leftovers of uploads that failed while storage was
/// unreachable (once it is back), and expired sign-ins, sessions and rate-limit hits.
fn spawn_storage_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = storage::cleanup::sweep(&state.db, &state.storage).await {
                tracing::warn!(error = %e, "storage cleanup sweep failed; will retry");
            }
            match state.db.run(|conn| shared::auth::purge_expired(conn, shared::domain::now())).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired sign-ins, sessions and rate-limit hits removed"),
                Err(e) => tracing::warn!(error = %e, "purging expired sign-ins failed; will retry"),
            }
        }
    });
}

fn serve(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let dev_mailbox = state.mailer().mail_folder().is_some();
    let grace = state.config.shutdown_grace_seconds;
    let https = state.secure_cookies();
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let app = App::new()
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(JSON_BODY_LIMIT).error_handler(|e, _| crate::error::bad_json(e)))
            .app_data(web::QueryConfig::default().error_handler(|e, _| crate::error::bad_input("query", &e)))
            .wrap(middleware::from_fn(crate::safety::injected_faults))
            .wrap(middleware::from_fn(crate::safety::catch_panics))
            .wrap(middleware::from_fn(crate::pages::render_error_pages))
            .wrap(middleware::from_fn(crate::csrf::check))
            .wrap(middleware::from_fn(crate::safety::no_store_json))
            .wrap(security_headers(https))
            .wrap(middleware::from_fn(crate::observe::request_context));
        let (app, _description) = routes::register(app, dev_mailbox);
        app.default_service(web::to(routes::not_found))
    })
    .shutdown_timeout(grace)
    // actix's defaults, 5 s for a request's head and 5 s of keep-alive, are
    // counted by the clock, and on a busy machine the next request is often
    // already there when the workers get to the connection: the portal then
    // answered 408 or closed a connection a client was sending an upload on.
    .client_request_timeout(REQUEST_HEAD_TIMEOUT)
    .keep_alive(KEEP_ALIVE)
    // actix maps SIGINT to a forced stop; both signals are graceful here instead.
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    tokio::spawn(async move {
        shared::startup::shutdown_signal().await;
        tracing::info!(grace_seconds = grace, "shutdown signal received; finishing requests in flight");
        handle.stop(true).await;
    });
    Ok(server)
}
