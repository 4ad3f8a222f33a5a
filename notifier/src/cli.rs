//! The `notifier` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Notifications claimed per batch unless `--batch` says otherwise: a batch's
/// weekly updates are derived with a fixed number of queries, so larger
/// batches mean fewer queries per client.
pub const DEFAULT_BATCH: i64 = 1000;

/// Matterline notifier: weekly updates and the delivery of every notification.
///
/// Configuration comes from the same MATTERLINE_* environment variables as the
/// portal (see the README); MATTERLINE_WEEKLY_SCHEDULE is the cron schedule,
/// evaluated in each firm's time zone.
#[derive(Debug, Parser)]
#[command(name = "notifier", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How a worker delivers.
#[derive(Debug, Clone, Args)]
pub struct WorkerOptions {
    /// Seconds a claim on notifications lasts; if this process dies, other notifiers take them over after it.
    #[arg(long, default_value_t = 300)]
    pub lease_seconds: i64,
    /// Emails in flight at once over the pooled SMTP connections.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Notifications claimed per batch.
    #[arg(long, default_value_t = DEFAULT_BATCH)]
    pub batch: i64,
}

/// Notifier commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run as a daemon: enqueue weekly updates when each firm's schedule fires, deliver every due notification.
    Run {
        /// Seconds between checks of the schedule and of due notifications.
        #[arg(long, default_value_t = 30)]
        poll_seconds: u64,
        #[command(flatten)]
        worker: WorkerOptions,
    },
    /// One weekly pass now: enqueue this week's updates for every firm and deliver everything due.
    Once {
        #[command(flatten)]
        worker: WorkerOptions,
    },
    /// Render a client's weekly update without sending it: text to stdout, HTML to a file.
    Preview {
        /// The client's user id.
        #[arg(long)]
        client: String,
        /// Language to render in (`en`, `es` or an added one); the client's own when omitted.
        #[arg(long)]
        lang: Option<String>,
        /// Where to write the HTML part.
        #[arg(long, default_value = "weekly-update-preview.html")]
        html: PathBuf,
    },
    /// Check the configuration, connect to the database and apply pending migrations.
    Check,
}
