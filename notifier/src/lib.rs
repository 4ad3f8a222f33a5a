//! The Matterline notifier: the worker that turns the outbox into emails and,
//! on the weekly schedule, enqueues each client's weekly update.
//!
//! This crate holds the worker's commands; everything it shares with the portal
//! (configuration, database, mail rendering) lives in `shared`.

pub mod cli;
