use std::process::ExitCode;

use clap::Parser;
use notifier::Notifier;
use notifier::cli::{Cli, Command, WorkerOptions};
use shared::config::Config;
use shared::db::Db;
use shared::domain::Language;

/// mimalloc instead of glibc's malloc: fewer CPU cycles per request (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (config, runtime) = match shared::startup::boot() {
        Ok(booted) => booted,
        Err(code) => return code,
    };
    shared::startup::exit_code(runtime.block_on(run(cli.command, config)))
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Run { poll_seconds, worker } => {
            if config.weekly_schedule.is_none() {
                tracing::warn!(
                    "MATTERLINE_WEEKLY_SCHEDULE is blank: weekly updates are off (firms' own schedules still apply)"
                );
            }
            let notifier = Notifier::build(config, &worker)?;
            tracing::info!(worker = %notifier.delivery.id, "notifier running");
            notifier.run(std::time::Duration::from_secs(poll_seconds.max(1)), shared::startup::shutdown_signal()).await
        }
        Command::Once { worker } => {
            let notifier = Notifier::build(config, &worker)?;
            let (enqueued, summary) = notifier.once().await?;
            let mut report = format!(
                "weekly pass: {enqueued} enqueued; sent {}, skipped {}, failed {}, retrying later {}",
                summary.sent, summary.skipped, summary.failed, summary.retrying
            );
            if summary.deferred > 0 {
                report.push_str(&format!(
                    " ({} handed back when their claim ran short, then taken again)",
                    summary.deferred
                ));
            }
            println!("{report}");
            Ok(())
        }
        Command::Preview { client, lang, html } => {
            // Built first: loading its locales makes the added languages known.
            let notifier = Notifier::build(config, &WorkerOptions { lease_seconds: 1, concurrency: 1, batch: 1 })?;
            let lang = match lang.as_deref() {
                Some(code) => Some(Language::parse(code).ok_or_else(|| {
                    anyhow::anyhow!("--lang: expected one of {}, got {code}", Language::loaded_list())
                })?),
                None => None,
            };
            let email = notifier.preview(&client, lang).await?;
            std::fs::write(&html, &email.html).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", html.display()))?;
            println!("Subject: {}\n\n{}", email.subject, email.text);
            eprintln!("HTML written to {}", html.display());
            Ok(())
        }
        Command::Check => {
            let db = Db::connect(&config.database_url, 1)?;
            let applied = db.migrate()?;
            println!(
                "configuration ok; {} reachable; {} migration(s) applied",
                config.database_url.describe(),
                applied.len()
            );
            Ok(())
        }
    }
}
