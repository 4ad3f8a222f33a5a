//! The storage server stops in the middle of an upload: the client reads a
//! clear error, no row and no object exist, the unfinished multipart upload is
//! cleaned away once the server is back, and the same upload then succeeds.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use harness::files::{self, sha256};
use harness::s3::PrivateS3;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use shared::db::schema::{documents, storage_cleanup, users};

async fn the_storage_server_stops_mid_upload(backend: Backend) -> anyhow::Result<()> {
    let mut s3 = PrivateS3::start()?;
    let app = TestApp::builder(backend).with_s3_at(&s3.endpoint()).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let bearer = format!("Bearer {}", app.session_token(&client.id).await?);
    let url = app.url(&format!("/api/v1/matters/{}/documents", client.matter_id));
    const SIZE: u64 = 40 * 1024 * 1024;

    // 20 MiB go through (two 8 MiB parts reach the server), then the server stops.
    let (resume, paused) = tokio::sync::oneshot::channel();
    let body = reqwest::Body::wrap_stream(files::paused_pdf(SIZE, 20 * 1024 * 1024, paused));
    let part = Part::stream_with_length(body, SIZE).file_name("records.pdf").mime_str("application/pdf")?;
    let request = reqwest::Client::new()
        .post(&url)
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", part))
        .send();
    let upload = tokio::spawn(request);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s3.staging_files()?.iter().any(|f| f.contains(".part-2")) {
        anyhow::ensure!(Instant::now() < deadline, "no part reached the server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s3.stop()?;
    let _ = resume.send(());

    let response = upload.await??;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report: Value = response.json().await?;
    assert_eq!(report["stopped"], serde_json::json!(["storage_failed", "records.pdf"]), "{report}");
    assert_eq!(report["stored"], serde_json::json!([]));
    let rows: i64 = app.state.db.run(|c| Ok(documents::table.count().get_result(c)?)).await?;
    assert_eq!(rows, 0, "a row was written for a failed upload");
    let pending: i64 = app.state.db.run(|c| Ok(storage_cleanup::table.count().get_result(c)?)).await?;
    assert_eq!(pending, 1, "the unfinished multipart upload must be remembered for cleanup");

    // The server comes back: the sweep aborts the leftover upload, and the same upload succeeds.
    s3.restart()?;
    assert!(!s3.staging_files()?.is_empty(), "the server kept the parts while it was down");
    let (removed, left) = storage::cleanup::sweep(&app.state.db, &app.state.storage).await?;
    assert_eq!((removed, left), (1, 0));
    assert_eq!(s3.staging_files()?, Vec::<String>::new(), "parts left behind");

    let (stream, digest) = files::streamed_pdf(SIZE);
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), SIZE)
        .file_name("records.pdf")
        .mime_str("application/pdf")?;
    let again = reqwest::Client::new()
        .post(&url)
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::CREATED);
    let report: Value = again.json().await?;
    assert_eq!(report["stored"][0]["sha256"], digest);
    let key: String = app.state.db.run(|c| Ok(documents::table.select(documents::object_key).first(c)?)).await?;
    assert_eq!(sha256(&app.state.storage.fetch(&key).await?), digest, "the stored object differs from what was sent");
    assert!(s3.staging_files()?.is_empty());

    // The client's account is untouched by all this.
    let email = demo.email("jordan");
    let found: i64 =
        app.state.db.run(move |c| Ok(users::table.filter(users::email.eq(&email)).count().get_result(c)?)).await?;
    assert_eq!(found, 1);
    reliability::record(
        &format!("storage_outage_{}", backend.name()),
        &format!("Storage down mid-upload ({})", backend.name()),
        &format!(
            "A private s3s-fs is killed after 20 MiB of a 40 MiB upload, then started again.\n\n\
             | figure | value |\n|---|---|\n\
             | answer while storage was down | 503, \"storage_failed\" naming the file |\n\
             | document rows written for the failed upload | {rows} |\n\
             | unfinished multipart uploads remembered, then swept | {removed} |\n\
             | parts left on the server after the sweep | 0 |\n\
             | the same upload once storage was back | 201, SHA-256 matches |\n\
             | lost | 0 |"
        ),
    )?;
    Ok(())
}

on_both_backends!(the_storage_server_stops_mid_upload);
