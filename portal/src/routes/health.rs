//! `/healthz` (the process is up) and `/readyz` (it can do its work: the
//! database and the document store answer; clamd's answer is reported too,
//! when it is configured).

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::state::AppState;

/// Registers the health routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics_text);
}

#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let database = match tokio::task::spawn_blocking(move || db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let storage = state.storage.check().await.map_err(|e| e.to_string());
    let clamd = match &state.config.clamd_url {
        Some(url) => Some(crate::scan::ping(url).await.map_err(|e| e.to_string())),
        None => None,
    };
    let ready = database.is_ok() && storage.is_ok();
    let status = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.clone(),
    };
    if !ready {
        tracing::warn!(database = %status(&database), storage = %status(&storage), "not ready");
    }
    // A clamd that does not answer PING does not make the portal unready:
    // sign-ins, case pages and messages still work, and uploads are refused
    // (or stored unscanned, failing open). It is reported, and `status` says
    // `degraded`, for monitoring to alert on.
    let clamd_down = clamd.as_ref().is_some_and(Result::is_err);
    if let Some(Err(e)) = &clamd {
        tracing::warn!(clamd = %e, "clamd does not answer; uploads cannot be scanned for viruses");
    }
    let overall = match (ready, clamd_down) {
        (false, _) => "unavailable",
        (true, true) => "degraded",
        (true, false) => "ok",
    };
    let mut body = json!({ "status": overall, "database": status(&database), "storage": status(&storage) });
    if let Some(clamd) = &clamd {
        body["clamd"] = json!(status(clamd));
    }
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Prometheus metrics of this process, with the notification rows per status measured now and each
/// firm's insight gauges (computed again when older than a minute, see [`shared::metrics::record_insights`]).
#[get("/metrics")]
async fn metrics_text(state: web::Data<AppState>) -> HttpResponse {
    if let Err(e) = state.db.run(shared::metrics::record_notification_rows).await {
        tracing::warn!(error = %e, "could not count the notification rows for /metrics");
    }
    let at = state.clock().now();
    if let Err(e) = state.db.run(move |c| shared::metrics::record_insights(c, at)).await {
        tracing::warn!(error = %e, "could not compute the insight gauges for /metrics");
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(shared::metrics::render())
}
