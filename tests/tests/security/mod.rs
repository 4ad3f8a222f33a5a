//! Hardening: who may call what (a matrix over every route, read from the
//! portal's app as actix-web registered it), forged and replayed tokens, cross-site forms,
//! markup typed into every field, security headers and cookies, open
//! redirects, and uploads built to break the parser. Each test writes what it
//! tried to `docs/reliability.md`. The threat model is `docs/security.md`.

mod controls;
mod cross_site;
mod error_pages;
mod headers;
mod keys;
mod markup;
mod matrix;
mod sign_in;
mod tokens;
mod uploads;

/// The signing secret the harness gives every test portal.
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123";
/// A site that is not the portal.
const EVIL: &str = "https://evil.test";
