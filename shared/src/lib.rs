//! Matterline's shared library: what the portal and the notifier both need.
//!
//! - [`config`]: the `MATTERLINE_*` configuration contract.
//! - [`error`]: the error type and the written error policy.
//! - [`db`]: the diesel schema, models, pool and migrations for SQLite and PostgreSQL.
//! - [`domain`], [`catalogue`], [`seed`]: the vocabulary, phase catalogues, demo data.
//! - [`client_view`]: what a client sees of their matters (pages, API, weekly update).
//! - [`tokens`], [`auth`]: signed tokens, sign-in links and device sessions.
//! - [`i18n`], [`render`], [`mail`]: locales, page and email templates, sending mail.
//! - [`notifications`], [`weekly`]: the one delivery pipeline (queue, kinds, channels,
//!   the delivery loop) and the weekly update's derivation.
//! - [`staff`]: the firm's side: staff sign-in, clients, matters, milestones, requests, logs.
//! - [`rate_limit`]: attempt limits kept in the database, shared by every instance.
//! - [`audit`], [`import`]: the hash-chained audit log; clients and matters from a case-management export.
//! - [`storage`], [`assets`], [`telemetry`]: documents, embedded templates, logging.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod client_view;
pub mod config;
pub mod db;
pub mod documents;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod import;
pub mod mail;
pub mod metrics;
pub mod notifications;
pub mod rate_limit;
pub mod render;
pub mod seed;
pub mod staff;
pub mod startup;
pub mod storage;
pub mod storage_cleanup;
pub mod telemetry;
pub mod tokens;
pub mod weekly;

pub use error::{Error, Result};
