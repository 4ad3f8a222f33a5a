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
pub mod static_files;

use actix_web::web;

/// Registers every route. The dev mailbox exists only while mail goes to the dev outbox.
pub fn configure(cfg: &mut web::ServiceConfig, dev_mailbox: bool) {
    health::configure(cfg);
    static_files::configure(cfg);
    sign_in::configure(cfg);
    language::configure(cfg);
    client::configure(cfg);
    documents::configure(cfg);
    preferences::configure(cfg);
    api::configure(cfg);
    openapi::configure(cfg);
    if dev_mailbox {
        self::dev_mailbox::configure(cfg);
    }
}
