//! Shutting down during an upload: requests in flight get the grace period;
//! an upload still open after it is aborted — no object, no row, no unfinished
//! multipart upload — and the server ends cleanly. (The binary answers SIGTERM
//! and SIGINT with this same graceful stop; the signals themselves, the exit
//! code and an upload finishing within the grace period are checked against
//! the real binary in `portal/tests/startup.rs`.)

use std::time::{Duration, Instant};

use diesel::prelude::*;
use harness::files;
use harness::s3::PrivateS3;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::multipart::{Form, Part};
use shared::db::schema::{documents, storage_cleanup};

async fn an_upload_cut_off_by_shutdown_leaves_nothing_behind(backend: Backend) -> anyhow::Result<()> {
    let s3 = PrivateS3::start()?;
    let app = TestApp::builder(backend)
        .with_s3_at(&s3.endpoint())
        .settings(&[("MATTERLINE_SHUTDOWN_GRACE_SECONDS", "1")])
        .spawn()
        .await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let bearer = format!("Bearer {}", app.session_token(&client.id).await?);

    // 100 MB announced; 20 MiB sent, then the client goes quiet and never finishes.
    const SIZE: u64 = 100 * 1024 * 1024;
    let (_never, paused) = tokio::sync::oneshot::channel::<()>();
    let body = reqwest::Body::wrap_stream(files::paused_pdf(SIZE, 20 * 1024 * 1024, paused));
    let part = Part::stream_with_length(body, SIZE).file_name("long.pdf").mime_str("application/pdf")?;
    let upload = tokio::spawn(
        reqwest::Client::new()
            .post(app.url(&format!("/api/v1/matters/{}/documents", client.matter_id)))
            .header("Authorization", bearer)
            .multipart(Form::new().part("file", part))
            .send(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s3.staging_files()?.iter().any(|f| f.contains(".part-2")) {
        anyhow::ensure!(Instant::now() < deadline, "the upload never reached storage");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    // A deadline on the wait, not a timing claim: without the grace period's end the stop never comes.
    tokio::time::timeout(Duration::from_secs(60), app.shut_down())
        .await
        .map_err(|_| anyhow::anyhow!("the server did not stop after the 1 s grace period"))??;
    let took = started.elapsed();
    upload.abort();

    assert_eq!(s3.staging_files()?, Vec::<String>::new(), "the multipart upload was left open");
    let (rows, leftovers): (i64, i64) = app
        .state
        .db
        .run(|c| Ok((documents::table.count().get_result(c)?, storage_cleanup::table.count().get_result(c)?)))
        .await?;
    assert_eq!((rows, leftovers), (0, 0), "(document rows, leftovers waiting for a sweep)");
    let (client, bucket) = app.state.storage.s3_client().ok_or_else(|| anyhow::anyhow!("not on S3"))?;
    let objects = client.list_objects_v2().bucket(bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert!(objects.contents().is_empty(), "an object was stored");
    reliability::record(
        &format!("shutdown_mid_upload_{}", backend.name()),
        &format!("Portal shut down mid-upload ({})", backend.name()),
        &format!(
            "The portal is stopped (what SIGTERM does, 1 s grace) while a 100 MB upload has sent 20 MiB and stalls.\n\n\
             | figure | value |\n|---|---|\n\
             | time to stop | {stop:.1} s |\n\
             | objects, rows and open multipart uploads left | {objects} / {rows} / 0 |\n\
             | leftovers waiting for a sweep | {leftovers} |",
            stop = took.as_secs_f64(),
            objects = objects.contents().len(),
        ),
    )?;
    Ok(())
}

on_both_backends!(an_upload_cut_off_by_shutdown_leaves_nothing_behind);
