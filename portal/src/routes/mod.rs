//! Routes, one file per group.

pub mod api;
pub mod client;
pub mod dev_mailbox;
pub mod documents;
pub mod health;
pub mod language;
pub mod openapi;
pub mod preferences;
pub mod sign_in;
pub mod staff;
pub mod static_files;

use actix_web::web;

/// Registers every route. The dev mailbox exists only while mail goes to the dev mail folder.
///
/// The router tries routes in this order, matching a path with a parameter by
/// regular expression: the busiest routes (health, the client's API and pages)
/// come first. No two groups' paths overlap, so the order changes nothing else.
pub fn configure(cfg: &mut web::ServiceConfig, dev_mailbox: bool) {
    health::configure(cfg);
    api::configure(cfg);
    client::configure(cfg);
    static_files::configure(cfg);
    sign_in::configure(cfg);
    language::configure(cfg);
    documents::configure(cfg);
    preferences::configure(cfg);
    staff::configure(cfg);
    openapi::configure(cfg);
    if dev_mailbox {
        self::dev_mailbox::configure(cfg);
    }
}

/// Any path no route matches: JSON under `/api/`, the readable page elsewhere.
pub async fn not_found(ctx: crate::pages::PageCtx, req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    if req.path().starts_with("/api/") {
        return actix_web::HttpResponse::NotFound()
            .json(crate::error::ErrorBody { error: "not found".to_owned(), status: 404 });
    }
    ctx.error(shared::Error::NotFound)
}
