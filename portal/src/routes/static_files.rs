//! The stylesheet and other static files, from the assets (`web/static/`).
//!
//! They are compressed (gzip) for browsers that accept it: the stylesheet is
//! most of a page's weight on a phone. Pages themselves are not, since they
//! carry tokens and echo what was typed (compression would leak them, BREACH).

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use crate::state::AppState;

/// Registers the static file route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/static").wrap(actix_web::middleware::Compress::default()).service(static_file));
}

#[get("/{file}")]
async fn static_file(state: web::Data<AppState>, file: web::Path<String>) -> HttpResponse {
    let name = file.into_inner();
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => return HttpResponse::NotFound().finish(),
    };
    if name.contains('/') || name.contains("..") {
        return HttpResponse::NotFound().finish();
    }
    match state.assets.get(&format!("web/static/{name}")) {
        Some(bytes) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(bytes.into_owned()),
        None => HttpResponse::NotFound().finish(),
    }
}
