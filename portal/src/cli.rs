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
    /// Copy the database (SQLite: VACUUM INTO; PostgreSQL: pg_dump) and the local document folder into DIR; safe while serving.
    Backup {
        /// An empty or new folder for the backup.
        dir: std::path::PathBuf,
    },
    /// Staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Put a backup made by `portal backup` back: the database and the document folder (stop the portal first).
    Restore {
        /// The backup folder.
        dir: std::path::PathBuf,
    },
    /// Import clients and matters from a case-management export (.csv or .json).
    ///
    /// Matters are matched on external_id and clients on client_email, so a
    /// second run of the same file changes nothing. Exits 1 when some rows failed.
    Import {
        /// The export: a CSV file with a header row, or a JSON array of objects.
        file: std::path::PathBuf,
        /// The firm to import into; needed only when the database holds several.
        #[arg(long, value_name = "ID")]
        firm: Option<String>,
    },
    /// List the languages the portal speaks (English, Spanish and each folder
    /// added under MATTERLINE_ASSETS_DIR/locales/): the messages each lacks
    /// (shown in English) and its phase texts. Exits 1 when a locale file does not load.
    CheckLocales,
    /// Audit log commands.
    Audit {
        /// What to do with the audit log.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `portal audit` commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits 1 at the first changed or missing event.
    Verify,
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
