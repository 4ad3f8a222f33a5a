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
    /// Staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Embedded mode: put a backup made by `portal backup` back (stop the portal first).
    Restore {
        /// The backup folder.
        dir: std::path::PathBuf,
    },
}

/// `portal staff ...`
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account; prints its first password and the authenticator secret once.
    Add {
        /// Email address (the sign-in name).
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// `admin` or `case_manager`.
        #[arg(long, default_value = "case_manager")]
        role: String,
        /// Firm id; may be left out when the database holds one firm.
        #[arg(long)]
        firm: Option<String>,
    },
}

/// The firm a command acts on: `--firm`, or the only one in the database.
pub fn the_firm(conn: &mut shared::db::DbConnection, firm: Option<String>) -> shared::Result<String> {
    use diesel::prelude::*;
    use shared::db::schema::firms;
    match firm {
        Some(id) => firms::table.find(&id).select(firms::id).first(conn).optional()?.ok_or(shared::Error::NotFound),
        None => {
            let ids: Vec<String> = firms::table.select(firms::id).limit(2).load(conn)?;
            match ids.as_slice() {
                [only] => Ok(only.clone()),
                [] => Err(shared::Error::invalid("firm", "the database holds no firm yet")),
                _ => Err(shared::Error::invalid("firm", "the database holds several firms; name one with --firm")),
            }
        }
    }
}
