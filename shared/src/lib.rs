//! Matterline's shared library: what the portal and the notifier both need.
//!
//! - [`config`]: the `MATTERLINE_*` configuration contract.
//! - [`error`]: the error type and the written error policy.
//! - [`db`]: the diesel schema, models, pool and migrations for SQLite and PostgreSQL.
//! - [`domain`], [`catalogue`], [`seed`]: the vocabulary, phase catalogues, demo data.
//! - [`tokens`], [`auth`]: signed tokens, sign-in links and device sessions.
//! - [`storage`], [`assets`], [`telemetry`]: documents, embedded templates, logging.

pub mod assets;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod seed;
pub mod storage;
pub mod telemetry;
pub mod tokens;

pub use error::{Error, Result};
