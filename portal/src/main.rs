use std::process::ExitCode;

use clap::Parser;
use portal::app::{self, Application};
use portal::cli::{AuditCommand, Cli, Command, StaffCommand};
use shared::config::Config;

/// mimalloc instead of glibc's malloc: fewer CPU cycles per request (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (config, runtime) = match shared::startup::boot() {
        Ok(booted) => booted,
        Err(code) => return code,
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(code) => code,
        Err(e) => shared::startup::exit_code(Err(e)),
    }
}

/// Runs `command`; a failure that is not an error (rows not imported, a broken
/// audit chain) is reported on stdout and answered with exit code 1.
async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => {
            let app = Application::build(config).await?;
            let state = app.state();
            let url = state.config.public_url.as_str().trim_end_matches('/').to_owned();
            tracing::info!(
                database = %state.config.database_url.describe(),
                storage = %state.storage.describe(),
                "Matterline portal ready"
            );
            if let Some(url) = &state.config.clamd_url {
                // Not fatal: clamd may start after the portal; uploads are refused
                // until it answers (or stored unscanned, failing open).
                match portal::scan::ping(url).await {
                    Ok(()) => tracing::info!(clamd = %url, "uploads are scanned for viruses"),
                    Err(e) => {
                        tracing::warn!(clamd = %url, error = %e, "clamd does not answer; uploads cannot be scanned for viruses until it does")
                    }
                }
            } else {
                tracing::info!("uploads are not scanned for viruses (MATTERLINE_CLAMD_URL is unset)");
            }
            println!("Matterline portal: {url}");
            if let Some(demo) = app.demo_sign_in() {
                println!("{}", demo.instructions());
            }
            app.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let state = app::prepare(config).await?;
            println!("database is up to date ({})", state.config.database_url.describe());
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { dir } => {
            let db = shared::db::Db::connect(&config.database_url, 1)?;
            let copied =
                tokio::task::spawn_blocking(move || portal::backup::backup(&config, &db, &dir).map(|c| (c, dir)))
                    .await??;
            println!(
                "backup written to {}: database and {} documents ({} bytes)",
                copied.1.display(),
                copied.0.files,
                copied.0.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { dir } => {
            let copied = tokio::task::spawn_blocking(move || portal::backup::restore(&config, &dir)).await??;
            println!("restored the database and {} documents ({} bytes)", copied.files, copied.bytes);
            Ok(ExitCode::SUCCESS)
        }
        Command::Staff(StaffCommand::Add { email, name, role, firm }) => {
            let role = shared::domain::Role::parse(&role)
                .filter(|r| r.is_staff())
                .ok_or_else(|| anyhow::anyhow!("--role must be admin or case_manager"))?;
            let state = app::prepare(config).await?;
            let totp_key = state.totp_key.clone();
            let created = state
                .db
                .run(move |conn| {
                    let firm_id = portal::import::choose_firm(conn, firm.as_deref())
                        .map_err(|e| shared::Error::invalid("firm", e.to_string()))?;
                    let made = portal::staff_auth::create_staff(
                        conn,
                        &totp_key,
                        &firm_id,
                        role,
                        &email,
                        &name,
                        shared::domain::now(),
                    )?;
                    let uri = portal::staff_auth::totp_uri(&made.totp_secret, &made.user.email, "Matterline")?;
                    Ok((made, uri))
                })
                .await?;
            let (made, uri) = created;
            println!(
                "created {} ({}) — give these to them once, over a safe channel:",
                made.user.email, made.user.role
            );
            println!("  password:             {}", made.password);
            println!("  authenticator secret: {}", made.totp_secret);
            println!("  authenticator URI:    {uri}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Config => {
            for (key, value) in config.redacted() {
                println!("{key}={value}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedDemo => {
            let mut config = config;
            config.seed_demo = shared::config::SeedDemo::Always;
            let state = app::prepare(config).await?;
            let base = state.config.public_url.as_str().trim_end_matches('/').to_owned();
            match app::seed_demo_if_empty(&state, &base).await? {
                Some(demo) => println!("seeded the demo firm\n{}", demo.instructions()),
                None => println!("the database already holds data; nothing seeded"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file, firm } => {
            let db = migrated(&config).await?;
            let (summary, file) = tokio::task::spawn_blocking(move || {
                portal::import::import_file(&db, &file, firm.as_deref()).map(|summary| (summary, file))
            })
            .await??;
            println!(
                "imported {}: {} created, {} updated, {} unchanged, {} failed",
                file.display(),
                summary.created,
                summary.updated,
                summary.unchanged,
                summary.failed.len()
            );
            for failure in &summary.failed {
                println!("{}", summary.describe(failure));
            }
            Ok(if summary.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::CheckLocales => {
            let assets = shared::assets::Assets::new(config.assets_dir.clone());
            match shared::i18n::Locales::load(&assets) {
                Ok(locales) => {
                    print!("{}", locales.report(&assets));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("the locales do not load: {e:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Audit { command: AuditCommand::Verify } => {
            let db = shared::db::Db::connect(&config.database_url, 1)?;
            let (events, broken) = tokio::task::spawn_blocking(move || -> shared::Result<(i64, Option<i64>)> {
                use diesel::{QueryDsl, RunQueryDsl};
                let mut pooled = db.get()?;
                let conn: &mut shared::db::DbConnection = &mut pooled;
                let events = shared::db::schema::audit_events::table.count().get_result(conn)?;
                Ok((events, shared::audit::verify(conn)?))
            })
            .await??;
            match broken {
                None => {
                    println!("audit log intact: {events} events");
                    Ok(ExitCode::SUCCESS)
                }
                Some(id) => {
                    println!(
                        "audit log broken at event {id}: this event was changed, or the one before it was removed"
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// A database handle with pending migrations applied.
async fn migrated(config: &Config) -> anyhow::Result<shared::db::Db> {
    let url = config.database_url.clone();
    Ok(tokio::task::spawn_blocking(move || -> shared::Result<shared::db::Db> {
        let db = shared::db::Db::connect(&url, 1)?;
        db.migrate()?;
        Ok(db)
    })
    .await??)
}
