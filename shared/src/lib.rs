//! Matterline's shared library: what the portal and the notifier both need.
//!
//! - [`config`]: the `MATTERLINE_*` configuration contract.
//! - [`error`]: the error type and the written error policy.
//! - [`db`]: the diesel schema, models, pool and migrations for SQLite and PostgreSQL.
//! - [`domain`], [`catalogue`]: the vocabulary, phase catalogues.
//! - [`client_view`]: what a client sees of their matters (pages, API, weekly update).
//! - [`tokens`], [`auth`], [`one_tap`]: signed tokens, sign-in links, device sessions,
//!   and the one-tap links of client emails.
//! - [`clock`]: the time those checks go by, which tests can move forward.
//! - [`i18n`], [`render`], [`mail`], [`smtp`]: locales, page and email templates, sending mail
//!   (and the SMTP connections, their `TCP_NODELAY` and rate limit).
//! - [`notifications`], [`weekly`]: the one delivery pipeline (queue, kinds, channels,
//!   the delivery loop) and the weekly update's derivation.
//! - [`staff`]: the firm's side: clients, matters, milestones, requests, logs.
//! - [`rate_limit`]: attempt limits kept in the database, shared by every instance.
//! - [`audit`]: the hash-chained audit log.
//! - [`documents`], [`assets`], [`telemetry`]: accepted files and their rows, embedded templates, logging.
//!
//! Not here, so that the notifier does not link them: document bytes are the
//! `storage` crate's (a local folder or S3); staff passwords and TOTP, the demo
//! seed and the case-management import are the portal's (`portal::staff_auth`,
//! `portal::seed`, `portal::import`).

pub mod appointments;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod branding;
pub mod catalogue;
pub mod client_address;
pub mod client_view;
pub mod clock;
pub mod config;
pub mod db;
pub mod documents;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod ics;
pub mod key_file;
pub mod mail;
pub mod matter_page;
pub mod messages;
pub mod metrics;
pub mod notifications;
pub mod one_tap;
pub mod rate_limit;
pub mod render;
pub mod requests;
pub mod smtp;
pub mod staff;
pub mod startup;
pub mod telemetry;
pub mod text;
pub mod timestamps;
pub mod tokens;
pub mod treatment;
pub mod weekly;

pub use error::{Error, Result};
