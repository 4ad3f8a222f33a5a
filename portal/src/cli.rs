//! The `portal` command line.

use clap::{Parser, Subcommand};

/// Matterline portal: client pages, JSON API and staff side.
///
/// Configuration comes from MATTERLINE_* environment variables (see the README);
/// with none set it runs in embedded mode from ./data.
#[derive(Debug, Parser)]
#[command(name = "portal", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Portal commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, seed the demo when empty (embedded mode) and serve.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed the demo firm into an empty database and print a demo sign-in link.
    SeedDemo,
    /// Print the effective configuration (secrets redacted) and exit.
    Config,
    /// Embedded mode: copy the SQLite database (safe while serving) and the document folder into DIR.
    Backup {
        /// An empty or new folder for the backup.
        dir: std::path::PathBuf,
    },
    /// Embedded mode: put a backup made by `portal backup` back (stop the portal first).
    Restore {
        /// The backup folder.
        dir: std::path::PathBuf,
    },
}
