//! Backup and restore on both backends (SQLite: `VACUUM INTO`; PostgreSQL:
//! `pg_dump` / `pg_restore`): back up while serving, wipe the database and
//! the document folder, restore — every row of every table is back as it was,
//! every document file has its bytes, and a portal started on the restored
//! database takes a new upload on the same audit chain. Without the
//! PostgreSQL client programs the command says what to install, and the
//! database password never appears on their command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use harness::files::{jpeg, pdf, sha256};
use harness::schema::every_row;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use shared::config::{DatabaseUrl, StorageUrl};
use shared::db::Db;
use shared::db::models::{Document, Rating};
use shared::db::schema::{documents, notifications, ratings};
use shared::domain::NotificationStatus;

/// Every file below `folder` (relative path → SHA-256 of its bytes).
fn files_in(folder: &Path) -> anyhow::Result<BTreeMap<PathBuf, String>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.strip_prefix(folder)?.to_path_buf(), sha256(&std::fs::read(&path)?));
            }
        }
    }
    Ok(files)
}

async fn upload(url: &str, bearer: &str, form: Form) -> anyhow::Result<StatusCode> {
    Ok(reqwest::Client::new().post(url).header("Authorization", bearer).multipart(form).send().await?.status())
}

/// Waits (up to 10 s) until no notification is queued or being sent: the
/// portal may deliver after answering, and the tables must hold still while
/// they are compared.
async fn deliveries_settled(db: &Db) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let open: i64 = db
            .run(|c| {
                Ok(notifications::table
                    .filter(
                        notifications::status
                            .eq(NotificationStatus::Pending)
                            .or(notifications::status.eq(NotificationStatus::Sending)),
                    )
                    .count()
                    .get_result(c)?)
            })
            .await?;
        if open == 0 {
            return Ok(());
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "{open} notification(s) still open after 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn backup_wipe_restore(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let backup_dir = app.db.dir.path().join("backups").join("monday");
    let StorageUrl::Local(folder) = app.state.config.storage.clone() else {
        anyhow::bail!("a local document folder expected");
    };

    // Data in every kind of table: a sign-in (token, rate-limit hits, a
    // notification), a session, two uploads (documents, audit events), a rating.
    app.client.post(app.url("/sign-in")).form(&[("email", demo.email("jordan").as_str())]).send().await?;
    app.background_done().await;
    let client = app.client(&demo.email("jordan")).await?;
    let bearer = format!("Bearer {}", app.session_token(&client.id).await?);
    let documents_url = format!("/api/v1/matters/{}/documents", client.matter_id);
    let form = Form::new()
        .part("file", Part::bytes(pdf(150_000)).file_name("bill.pdf").mime_str("application/pdf")?)
        .part("file", Part::bytes(jpeg(90_000)).file_name("photo.jpg").mime_str("image/jpeg")?);
    assert_eq!(upload(&app.url(&documents_url), &bearer, form).await?, StatusCode::CREATED);
    let rating = Rating {
        id: shared::domain::new_id(),
        firm_id: demo.firm_id.clone(),
        client_id: client.id.clone(),
        notification_id: None,
        score: 5,
        created_at: shared::domain::now(),
    };
    app.state.db.run(move |c| Ok(diesel::insert_into(ratings::table).values(&rating).execute(c)?)).await?;
    app.mail()?.wait_for_emails(&demo.email("jordan"), 2).await?; // the sign-in link and the receipt
    deliveries_settled(&app.state.db).await?;

    let before = app.state.db.run(|c| Ok(every_row(c)?)).await?;
    for table in [
        "firms",
        "users",
        "phases",
        "phase_texts",
        "matters",
        "matter_clients",
        "milestones",
        "document_requests",
        "documents",
        "notifications",
        "audit_events",
        "sessions",
        "sign_in_tokens",
        "rate_limit_hits",
        "ratings",
        "__diesel_schema_migrations",
    ] {
        let rows = before.get(table).map_or(0, Vec::len);
        assert!(rows > 0, "{table} has no row, so its restore would prove nothing");
    }
    let files_before = files_in(&folder)?;
    assert_eq!(files_before.len(), 2, "{files_before:?}");

    // While serving.
    let (config, db, dir) = (app.state.config.clone(), app.state.db.clone(), backup_dir.clone());
    let started = std::time::Instant::now();
    let copied = tokio::task::spawn_blocking(move || portal::backup::backup(&config, &db, &dir)).await??;
    let backup_took = started.elapsed();
    assert_eq!(copied.files, 2);
    let database_copy = backup_dir.join(match backend {
        Backend::Sqlite => "matterline.db",
        Backend::Postgres => "matterline.pgdump",
    });
    assert!(database_copy.is_file(), "{} was not written", database_copy.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode(&backup_dir)?, 0o700, "the backup folder is the owner's only");
        assert_eq!(mode(&database_copy)?, 0o600, "the database copy is the owner's only");
    }
    let (config, db, dir) = (app.state.config.clone(), app.state.db.clone(), backup_dir.clone());
    let again = tokio::task::spawn_blocking(move || portal::backup::backup(&config, &db, &dir)).await?;
    let message = again.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("already exists"), "a second backup into the same folder: {message}");

    // A backup goes back into its own kind of database only (checked before anything is touched).
    let mut other = (*app.state.config).clone();
    other.database_url = match backend {
        Backend::Sqlite => DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/none").map_err(anyhow::Error::msg)?,
        Backend::Postgres => DatabaseUrl::Sqlite(app.db.dir.path().join("other.db")),
    };
    let message = portal::backup::restore(&other, &backup_dir).err().map(|e| e.to_string()).unwrap_or_default();
    let expected = match backend {
        Backend::Sqlite => "holds a SQLite backup",
        Backend::Postgres => "holds a PostgreSQL backup",
    };
    assert!(message.contains(expected), "{message}");
    assert_eq!(files_in(&folder)?, files_before, "a refused restore touched the documents");

    // Wipe.
    app.stop().await;
    match &app.state.config.database_url {
        DatabaseUrl::Sqlite(database) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
            }
            assert!(!database.exists(), "the database was not wiped");
        }
        DatabaseUrl::Postgres(_) => {
            let db = Db::connect(&app.db.url, 1)?;
            let left = db
                .run(|c| {
                    diesel::sql_query("DROP SCHEMA public CASCADE").execute(c)?;
                    diesel::sql_query("CREATE SCHEMA public").execute(c)?;
                    Ok(harness::schema::snapshot(c)?.len())
                })
                .await?;
            assert_eq!(left, 0, "tables left after the wipe");
        }
    }
    std::fs::remove_dir_all(&folder)?;

    let config = app.state.config.clone();
    let dir = backup_dir.clone();
    let started = std::time::Instant::now();
    let restored = tokio::task::spawn_blocking(move || portal::backup::restore(&config, &dir)).await??;
    let restore_took = started.elapsed();
    assert_eq!(restored.files, 2);
    let db = Db::connect(&app.state.config.database_url, 2)?;
    let after = db.run(|c| Ok(every_row(c)?)).await?;
    let differing: Vec<&String> = before.keys().filter(|table| after.get(*table) != before.get(*table)).collect();
    for table in &differing {
        assert_eq!(after.get(*table), before.get(*table), "{table} after the restore");
    }
    assert_eq!(after.len(), before.len(), "the restored database has other tables");
    let files_after = files_in(&folder)?;
    let files_differing = files_before.iter().filter(|(path, hash)| files_after.get(*path) != Some(hash)).count();
    assert_eq!(files_after, files_before, "the document files after the restore");
    let rows: Vec<Document> = db.run(|c| Ok(documents::table.select(Document::as_select()).load(c)?)).await?;
    for row in rows {
        let bytes = app.state.storage.fetch(&row.object_key).await?;
        assert_eq!(sha256(&bytes), row.sha256, "{} changed", row.original_name);
    }
    assert_eq!(db.run(shared::audit::verify).await?, None, "the audit chain survives the restore");

    // A portal on the restored database carries on: the session is valid, an
    // upload gets new ids (PostgreSQL's sequences came back too) and extends the chain.
    let restarted = TestApp::spawn_on(&app.db, &[]).await?;
    let form = Form::new().part("file", Part::bytes(pdf(20_000)).file_name("later.pdf").mime_str("application/pdf")?);
    let status = upload(&format!("{}{documents_url}", restarted.address), &bearer, form).await?;
    assert_eq!(status, StatusCode::CREATED, "an upload after the restore");
    let count: i64 = db.run(|c| Ok(documents::table.count().get_result(c)?)).await?;
    assert_eq!(count, 3);
    assert_eq!(db.run(shared::audit::verify).await?, None, "the chain goes on after the restore");
    restarted.handle.stop(true).await;

    reliability::record(
        &format!("backup_wipe_restore_{}", backend.name()),
        &format!("Backup, wipe and restore ({})", backend.name()),
        &format!(
            "`portal backup` while the portal serves ({tool}), the database and document folder wiped, \
             `portal restore`; then every row of every table and every document file compared with before.\n\n\
             | figure | value |\n|---|---|\n\
             | tables compared / rows compared | {tables} / {rows} |\n\
             | tables differing after the restore | {differing} |\n\
             | document files compared / differing | {files} / {files_differing} |\n\
             | database copy | {size} bytes |\n\
             | backup / restore time | {backup:.2} s / {restore:.2} s |\n\
             | upload after the restore | {status}, audit chain intact |",
            tool = match backend {
                Backend::Sqlite => "SQLite `VACUUM INTO`",
                Backend::Postgres => "`pg_dump --format=custom`, `pg_restore --single-transaction`",
            },
            tables = before.len(),
            rows = before.values().map(Vec::len).sum::<usize>(),
            differing = differing.len(),
            files = files_before.len(),
            size = std::fs::metadata(&database_copy)?.len(),
            backup = backup_took.as_secs_f64(),
            restore = restore_took.as_secs_f64(),
            status = status.as_u16(),
        ),
    )?;
    Ok(())
}

on_both_backends!(backup_wipe_restore);

/// Without a usable pg_dump the command names the version and the package to
/// install; an older one is not used, a newer one is, the server's own first.
#[test]
fn the_postgres_client_programs_are_found_or_named() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others_blocking();
    let root = tempfile::tempdir()?;
    let fake = |folder: &str, version: &str| -> anyhow::Result<PathBuf> {
        let dir = root.path().join(folder);
        std::fs::create_dir_all(&dir)?;
        let program = dir.join("pg_dump");
        std::fs::write(&program, format!("#!/bin/sh\necho 'pg_dump (PostgreSQL) {version} (Test)'\n"))?;
        #[cfg(unix)]
        std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        Ok(dir)
    };
    let (old, v17, v16, v15) = (fake("old", "9.6.24")?, fake("17", "17.2")?, fake("16", "16.6")?, fake("15", "15.20")?);
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty)?;

    let missing = portal::backup::find_pg_program("pg_dump", 15, std::slice::from_ref(&empty));
    let message = missing.err().map(|e| e.to_string()).unwrap_or_default();
    for part in ["pg_dump of PostgreSQL 15 not found", &empty.display().to_string(), "postgresql-client-15", "PATH"] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
    let too_old = portal::backup::find_pg_program("pg_dump", 15, std::slice::from_ref(&old));
    let message = too_old.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("is PostgreSQL 9, older than the server"), "{message}");

    let find = |folders: &[PathBuf]| portal::backup::find_pg_program("pg_dump", 15, folders);
    assert_eq!(find(&[old.clone(), v17.clone(), v16.clone()])?, v16.join("pg_dump"), "the closest newer one");
    assert_eq!(find(&[old, v17, v16, v15.clone()])?, v15.join("pg_dump"), "the server's own version first");
    Ok(())
}

/// pg_dump and pg_restore get the database password in their environment:
/// a command line is visible to every local user (`ps`).
#[test]
fn the_database_password_stays_off_the_command_line() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others_blocking();
    for (url, without) in [
        (
            "postgres://matterline:s%40cret%2F1@db.example:5432/matterline?sslmode=require",
            "postgres://matterline@db.example:5432/matterline?sslmode=require",
        ),
        (
            "postgresql://matterline@db.example/matterline?password=s%40cret%2F1&sslmode=disable",
            "postgresql://matterline@db.example/matterline?sslmode=disable",
        ),
    ] {
        let command = portal::backup::pg_command(Path::new("pg_dump"), url)?;
        let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["--dbname", without], "{url}");
        let password = command.get_envs().find(|(k, _)| *k == "PGPASSWORD").and_then(|(_, v)| v);
        assert_eq!(password.map(|p| p.to_string_lossy().into_owned()).as_deref(), Some("s@cret/1"), "{url}");
    }
    let command = portal::backup::pg_command(Path::new("pg_dump"), "postgres://matterline@db.example/m")?;
    assert!(command.get_envs().all(|(k, _)| k != "PGPASSWORD"), "no password, no PGPASSWORD");
    Ok(())
}
