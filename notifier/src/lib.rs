//! The Matterline notifier: the worker that delivers every due notification
//! and, on each firm's weekly schedule, enqueues every client's weekly update.
//!
//! [`Notifier`] holds what the commands share; [`pass`] decides when a firm's
//! weekly pass is due. Delivery itself is the pipeline the portal runs too,
//! [`shared::notifications::Deliverer`].

pub mod cli;
pub mod pass;

use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use shared::config::Config;
use shared::db::Db;
use shared::domain::Language;
use shared::notifications::kinds::weekly_update;
use shared::notifications::{Channels, Composer, Deliverer, Faults, Summary};
use shared::render::{RenderedEmail, Renderer};
use shared::tokens::Tokens;

use crate::cli::WorkerOptions;

/// A configured notifier: database, channels and a deliverer.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// The effective configuration.
    pub config: Arc<Config>,
    /// The database.
    pub db: Db,
    /// Delivers the due notifications.
    pub delivery: Deliverer,
}

/// A unique claim name for this process: host, process id and a random suffix.
fn worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "notifier".to_owned());
    format!("{host}-{}-{}", std::process::id(), &shared::domain::new_id()[..8])
}

/// Serves `/metrics` (and `/healthz`) of this process on `bind`.
fn serve_metrics(bind: std::net::SocketAddr) -> anyhow::Result<actix_web::dev::ServerHandle> {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let server = HttpServer::new(|| {
        App::new()
            .route(
                "/metrics",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(shared::metrics::render())
                }),
            )
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })) }),
            )
    })
    .workers(1)
    .disable_signals()
    .bind(bind)
    .with_context(|| format!("MATTERLINE_NOTIFIER_BIND: cannot listen on {bind}"))?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    tracing::info!(%bind, "notifier metrics at /metrics");
    Ok(handle)
}

impl Notifier {
    /// Connects (migrating the database) and prepares the deliverer.
    pub fn build(config: Config, options: &WorkerOptions) -> anyhow::Result<Self> {
        shared::mail::install_crypto_provider();
        let _ = shared::metrics::handle();
        let db = Db::connect(&config.database_url, 4).with_context(|| config.database_url.describe())?;
        db.migrate()?;
        let renderer = Renderer::load(&shared::assets::Assets::new(config.assets_dir.clone()))?;
        let tokens = Tokens::from_config(&config)?;
        let delivery = Deliverer {
            db: db.clone(),
            channels: Channels::from_config(&config, db.clone())?,
            composer: Composer::new(&config, renderer, tokens)?,
            id: worker_id(),
            lease: chrono::Duration::seconds(options.lease_seconds.max(1)),
            batch: options.batch.max(1),
            concurrency: options.concurrency.max(1),
            stopping: Default::default(),
            faults: Faults::from_config(&config),
        };
        Ok(Self { config: Arc::new(config), db, delivery })
    }

    /// One weekly pass now: enqueue this week's updates and today's
    /// document-request and appointment reminders for every firm, then deliver everything due,
    /// with a progress bar on a terminal.
    pub async fn once(&self) -> anyhow::Result<(usize, Summary)> {
        let started = std::time::Instant::now();
        let now = shared::domain::now();
        let firms = pass::all_firms(&self.db).await?;
        let enqueued = pass::enqueue_for(&self.db, firms, now).await?;
        // Logged by the pass; the count reported is the weekly updates'.
        pass::enqueue_reminders(&self.db, now).await?;
        let due = self.db.run(move |conn| shared::notifications::queue::count_due(conn, now)).await?;
        let bar = ProgressBar::new(due);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} emails · {per_sec} · eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let tick = || bar.inc(1);
        let summary = self.delivery.deliver_all(now, &tick).await;
        bar.finish_and_clear();
        metrics::histogram!(shared::metrics::WEEKLY_PASS).record(started.elapsed().as_secs_f64());
        Ok((enqueued, summary?))
    }

    /// The daemon: every `poll`, enqueue for the firms whose schedule fired and
    /// deliver what is due; stops when `shutdown` completes, giving back its claims.
    pub async fn run(
        &self,
        poll: std::time::Duration,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Serves /metrics and /healthz on MATTERLINE_NOTIFIER_BIND meanwhile.
        let metrics_server = match self.config.notifier_bind {
            Some(bind) => Some(serve_metrics(bind)?),
            None => None,
        };
        let default = self.config.weekly_schedule.clone();
        let mut last_check = None;
        // On SIGTERM: let messages in flight finish, start no new ones.
        let (stopped_tx, mut stopped) = tokio::sync::watch::channel(false);
        let stopping = self.delivery.stopping.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopping.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = stopped_tx.send(true);
        });
        loop {
            if *stopped.borrow() {
                break;
            }
            let now = Utc::now();
            let firms = pass::all_firms(&self.db).await?;
            let due = pass::due_firms(&firms, default.as_deref(), last_check, now);
            let pass_started = (!due.is_empty()).then(std::time::Instant::now);
            if !due.is_empty() {
                pass::enqueue_for(&self.db, due, now.naive_utc()).await?;
            }
            // A failed reminder pass is retried on the next poll; delivery goes on meanwhile.
            if let Err(e) = pass::enqueue_reminders(&self.db, now.naive_utc()).await {
                tracing::error!(error = %e, "reminders not queued; will retry");
            }
            last_check = Some(now);
            let delivered = self.delivery.deliver_all(now.naive_utc(), &|| {}).await;
            if let (Some(started), Ok(_)) = (pass_started, &delivered) {
                metrics::histogram!(shared::metrics::WEEKLY_PASS).record(started.elapsed().as_secs_f64());
            }
            match delivered {
                Ok(summary) if summary.total() > 0 => tracing::info!(?summary, "delivered"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "delivery failed; will retry"),
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                _ = stopped.changed() => break,
            }
        }
        let released = self.delivery.release().await?;
        if let Some(server) = metrics_server {
            server.stop(true).await;
        }
        tracing::info!(released, "notifier stopped");
        Ok(())
    }

    /// Renders `client_id`'s weekly update as it would be sent now, without sending or recording anything.
    pub async fn preview(&self, client_id: &str, lang: Option<Language>) -> anyhow::Result<RenderedEmail> {
        let ids = vec![client_id.to_owned()];
        let now = shared::domain::now();
        let mut digests = self.db.run(move |conn| shared::weekly::derive(conn, &ids, now, lang)).await?;
        let digest = digests.pop().ok_or_else(|| anyhow::anyhow!("no client with id {client_id}"))?;
        let composer = &self.delivery.composer;
        let data = weekly_update::data(composer, &digest, "preview")?;
        Ok(composer.renderer.email("weekly_update", &data)?)
    }
}
