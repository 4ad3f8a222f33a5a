//! A 200 MB upload streams through the portal to the S3 server without the
//! portal holding it: resident memory grows by less than 64 MB. The test runs
//! in a process of its own that runs no other test (`harness::own_process`),
//! so no other test's memory is counted (the tests of this binary otherwise
//! share its process); the portal runs in that process, and /proc/self/status
//! gives its memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use harness::files::{self, resident_bytes};
use harness::{Backend, TestApp, own_process};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

const SIZE: u64 = 200 * 1024 * 1024;
const BOUND: u64 = 64 * 1024 * 1024;

async fn upload_200_mb(backend: Backend) -> anyhow::Result<u64> {
    let app = TestApp::builder(backend).with_s3().spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let bearer = format!("Bearer {}", app.session_token(&client.id).await?);
    let (stream, digest) = files::streamed_pdf(SIZE);

    let before = resident_bytes()?;
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(now) = resident_bytes() {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), SIZE)
        .file_name("scan.pdf")
        .mime_str("application/pdf")?;
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{}/documents", client.matter_id)))
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", part))
        .send()
        .await?;
    sampler.abort();
    let status = response.status();
    let report: Value = response.json().await?;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["stored"][0]["sha256"], digest);
    assert_eq!(report["stored"][0]["size_bytes"], SIZE);
    let (s3, bucket) = app.state.storage.s3_client().ok_or_else(|| anyhow::anyhow!("not on S3"))?;
    let key = format!(
        "firms/{}/matters/{}/documents/{}",
        demo.firm_id.replace('-', ""),
        client.matter_id.replace('-', ""),
        report["stored"][0]["id"].as_str().unwrap_or_default().replace('-', "")
    );
    let head = s3.head_object().bucket(bucket).key(&key).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(head.content_length(), Some(SIZE as i64), "the object in the bucket");
    Ok(peak.load(Ordering::Relaxed).saturating_sub(before))
}

/// One after the other, so the two uploads' memory is not added up.
async fn both_backends_one_after_the_other() -> anyhow::Result<()> {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let growth = upload_200_mb(backend).await?;
        println!("{}: resident memory grew by {:.1} MB during a 200 MB upload", backend.name(), growth as f64 / 1e6);
        assert!(growth < BOUND, "{}: grew by {growth} bytes", backend.name());
    }
    Ok(())
}

#[test]
fn a_200_mb_upload_grows_resident_memory_by_less_than_64_mb_on_sqlite_and_postgres() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others_blocking();
    let name = own_process::test_name(
        module_path!(),
        "a_200_mb_upload_grows_resident_memory_by_less_than_64_mb_on_sqlite_and_postgres",
    );
    own_process::run(&name, || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(both_backends_one_after_the_other())
    })
}
