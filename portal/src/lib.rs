//! The Matterline portal: client pages, the JSON API and the staff side, served
//! by actix-web. [`app::Application::build`] binds and returns the port, so the
//! test suite starts the real portal on port 0.

pub mod app;
pub mod background;
pub mod backup;
pub mod charts;
pub mod cli;
pub mod csrf;
pub mod error;
pub mod import;
pub mod observe;
pub mod page_cache;
pub mod pages;
pub mod routes;
pub mod safety;
pub mod scan;
pub mod seed;
pub mod session;
pub mod staff_auth;
pub mod state;
pub mod totp_at_rest;
pub mod upload;
pub mod upload_digest;
