//! The `notifier` command line.

use clap::{Parser, Subcommand};

/// Matterline notifier: weekly updates and the email outbox.
///
/// Configuration comes from the same MATTERLINE_* environment variables as the portal.
#[derive(Debug, Parser)]
#[command(name = "notifier", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Notifier commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration, connect to the database and apply pending migrations.
    Check,
}
