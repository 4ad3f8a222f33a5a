//! Embedded-mode backup and restore: back up while serving, wipe the data,
//! restore — every matter, document, notification and audit row is back and
//! every document's bytes match their SHA-256. On PostgreSQL the command
//! refuses and points to pg_dump.

use diesel::prelude::*;
use harness::files::{jpeg, pdf, sha256};
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use shared::config::{DatabaseUrl, StorageUrl};
use shared::db::Db;
use shared::db::models::Document;
use shared::db::schema::{audit_events, documents, matters, notifications};

async fn counts(db: &Db) -> anyhow::Result<(i64, i64, i64, i64)> {
    Ok(db
        .run(|c| {
            Ok((
                matters::table.count().get_result(c)?,
                documents::table.count().get_result(c)?,
                notifications::table.count().get_result(c)?,
                audit_events::table.count().get_result(c)?,
            ))
        })
        .await?)
}

async fn backup_wipe_restore(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let backup_dir = app.db.dir.path().join("backup");
    if backend == Backend::Postgres {
        let refused = portal::backup::backup(&app.state.config, &app.state.db, &backup_dir);
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("pg_dump"), "{message}");
        return Ok(());
    }

    app.client.post(app.url("/sign-in")).form(&[("email", demo.email("jordan").as_str())]).send().await?;
    app.background_done().await;
    let client = app.client(&demo.email("jordan")).await?;
    let bearer = format!("Bearer {}", app.session_token(&client.id).await?);
    let form = Form::new()
        .part("file", Part::bytes(pdf(150_000)).file_name("bill.pdf").mime_str("application/pdf")?)
        .part("file", Part::bytes(jpeg(90_000)).file_name("photo.jpg").mime_str("image/jpeg")?);
    let uploaded = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{}/documents", client.matter_id)))
        .header("Authorization", &bearer)
        .multipart(form)
        .send()
        .await?;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let before = counts(&app.state.db).await?;
    assert!(before.1 == 2 && before.2 >= 2 && before.3 >= 2, "{before:?}");

    // While serving.
    let (config, db, dir) = (app.state.config.clone(), app.state.db.clone(), backup_dir.clone());
    let copied = tokio::task::spawn_blocking(move || portal::backup::backup(&config, &db, &dir)).await??;
    assert_eq!(copied.files, 2);

    app.stop().await;
    let (DatabaseUrl::Sqlite(database), StorageUrl::Local(folder)) =
        (&app.state.config.database_url, &app.state.config.storage)
    else {
        anyhow::bail!("embedded mode expected");
    };
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    std::fs::remove_dir_all(folder)?;
    assert!(!database.exists() && !folder.exists(), "the data was not wiped");

    let config = app.state.config.clone();
    let restored = tokio::task::spawn_blocking(move || portal::backup::restore(&config, &backup_dir)).await??;
    assert_eq!(restored.files, 2);
    let db = Db::connect(&app.state.config.database_url, 2)?;
    assert_eq!(counts(&db).await?, before, "(matters, documents, notifications, audit events) after the restore");
    let rows: Vec<Document> = db.run(|c| Ok(documents::table.select(Document::as_select()).load(c)?)).await?;
    for row in rows {
        let bytes = app.state.storage.fetch(&row.object_key).await?;
        assert_eq!(sha256(&bytes), row.sha256, "{} changed", row.original_name);
    }
    assert_eq!(db.run(shared::audit::verify).await?, None, "the audit chain survives the restore");
    Ok(())
}

on_both_backends!(backup_wipe_restore);
