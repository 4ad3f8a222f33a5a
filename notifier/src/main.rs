use std::process::ExitCode;

use clap::Parser;
use notifier::cli::{Cli, Command};
use shared::config::Config;
use shared::db::Db;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    shared::telemetry::init(config.log_format);
    match run(cli.command, &config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, config: &Config) -> anyhow::Result<()> {
    match command {
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
