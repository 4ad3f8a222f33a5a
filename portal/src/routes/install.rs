//! The installable app: the web app manifest (`/manifest.webmanifest`, in the
//! colours and name of the firm the page answers for), the service worker
//! (`/sw.js`, served from the root so that its scope is the whole portal) and
//! the page it shows when the portal cannot be reached (`/offline`).
//!
//! The service worker keeps only static files and the offline page, which is
//! rendered as for nobody signed in: no page a client sees signed in, and no
//! answer of the API, is ever stored on the device.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::pages::PageCtx;
use crate::state::AppState;

/// Registers the manifest, service worker and offline page routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(manifest).service(service_worker).service(offline_page);
}

/// The manifest: the firm's name and colour when the page's firm is known
/// (signed in, or by the host), else the product's.
#[get("/manifest.webmanifest")]
async fn manifest(ctx: PageCtx) -> HttpResponse {
    let firm = ctx.brand.as_deref();
    let name = firm.map_or_else(|| ctx.text("app-name"), |b| b.name.clone());
    let short_name: String = if name.chars().count() > 12 { ctx.text("install-short-name") } else { name.clone() };
    let theme = firm.map_or(shared::branding::DEFAULT_ACCENT, |b| b.accent.as_str());
    let body = json!({
        "name": name,
        "short_name": short_name,
        "description": ctx.text("install-description"),
        "lang": ctx.lang.as_str(),
        "start_url": "/",
        "scope": "/",
        "id": "/",
        "display": "standalone",
        "background_color": "#f5f6f8",
        "theme_color": theme,
        "icons": [
            { "src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any" },
            { "src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any" },
            { "src": "/static/icon-maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable" },
        ],
    });
    HttpResponse::Ok()
        .content_type("application/manifest+json")
        // Per host and session (the firm's name): checked again on each use.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::VARY, "Cookie, Accept-Language"))
        .body(body.to_string())
}

/// The service worker, from the assets (`web/static/sw.js`). `no-cache`: a
/// browser checks for a new one on every visit.
#[get("/sw.js")]
async fn service_worker(state: web::Data<AppState>) -> HttpResponse {
    match state.assets.get("web/static/sw.js") {
        Some(bytes) => HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(bytes.into_owned()),
        None => HttpResponse::NotFound().finish(),
    }
}

/// "You are offline": what the service worker shows for a page it cannot
/// fetch. Rendered as for nobody signed in, since the service worker keeps it.
#[get("/offline")]
async fn offline_page(mut ctx: PageCtx) -> HttpResponse {
    ctx.viewer = None;
    ctx.path = "/".to_owned();
    ctx.render(StatusCode::OK, "offline", "offline-title", json!({ "offline": true }))
}
