//! Virus scanning: every upload streams to a real clamd (started by
//! `scripts/test` with signatures for the EICAR test file) as it streams to
//! storage. An infected file is refused by name, audited and leaves nothing
//! (no row, no object, no open multipart upload); a clean file beside it is
//! stored; a clamd that cannot check a file refuses it (503), unless the
//! firm chose to fail open.

use diesel::prelude::*;
use harness::files::pdf;
use harness::{Backend, TestApp, on_both_backends, services};
use portal::scan::{self, ScanError, Verdict};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use shared::config::ClamdUrl;
use shared::db::schema::{audit_events, documents, users};

/// The 68 bytes of the EICAR anti-virus test file.
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// A PDF of `size` bytes that carries the EICAR string: it passes the type
/// check, so only the virus scanner can stop it.
fn infected_pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%".to_vec();
    bytes.extend_from_slice(EICAR);
    bytes.push(b'\n');
    let filler = pdf(size.saturating_sub(bytes.len()));
    bytes.extend_from_slice(&filler[..filler.len().min(size.saturating_sub(bytes.len()))]);
    bytes
}

fn file(bytes: Vec<u8>, name: &str) -> anyhow::Result<Part> {
    Ok(Part::bytes(bytes).file_name(name.to_owned()).mime_str("application/octet-stream")?)
}

fn clamd_url() -> anyhow::Result<ClamdUrl> {
    ClamdUrl::parse(&services::clamd()?).map_err(anyhow::Error::msg)
}

/// A loopback address where nothing listens (a port bound, then let go).
fn closed_port() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    drop(listener);
    Ok(format!("tcp://127.0.0.1:{port}"))
}

/// A portal on `backend`, documents on the S3 server, with `settings`.
async fn spawn(backend: Backend, settings: &[(&str, &str)]) -> anyhow::Result<TestApp> {
    let app = TestApp::builder(backend).with_s3().settings(settings).spawn().await?;
    app.seed_demo().await?;
    Ok(app)
}

/// Jordan (a demo client): (bearer header, session cookie header, matter id).
async fn jordan(app: &TestApp) -> anyhow::Result<(String, String, String)> {
    let email = app
        .state
        .db
        .run(|c| Ok(users::table.filter(users::email.like("jordan@%")).select(users::email).first::<String>(c)?))
        .await?;
    let client = app.client(&email).await?;
    let token = app.session_token(&client.id).await?;
    Ok((format!("Bearer {token}"), format!("matterline_session={token}"), client.matter_id))
}

/// The names of the stored documents, oldest first.
async fn stored_names(app: &TestApp) -> anyhow::Result<Vec<String>> {
    Ok(app
        .state
        .db
        .run(|c| Ok(documents::table.order(documents::created_at).select(documents::original_name).load(c)?))
        .await?)
}

/// Objects in the test's bucket.
async fn bucket_objects(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let (client, bucket) = app.state.storage.s3_client().ok_or_else(|| anyhow::anyhow!("documents go to S3"))?;
    let listed = client.list_objects_v2().bucket(bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect())
}

/// The bucket's unfinished multipart uploads (read from s3s-fs's folder: it
/// does not implement ListMultipartUploads).
fn unfinished_uploads(app: &TestApp) -> anyhow::Result<Vec<(String, String)>> {
    let (_, bucket) = app.state.storage.s3_client().ok_or_else(|| anyhow::anyhow!("documents go to S3"))?;
    harness::s3::unfinished_uploads(std::path::Path::new(&services::s3_root()?), bucket)
}

/// The details of the audit events with `action`, oldest first.
async fn audited(app: &TestApp, action: &'static str) -> anyhow::Result<Vec<String>> {
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(audit_events::table
                .filter(audit_events::action.eq(action))
                .order(audit_events::id)
                .select(audit_events::detail.assume_not_null())
                .load(c)?)
        })
        .await?)
}

/// (name, reason) of each refused file in an upload report.
fn refused(report: &Value) -> Vec<(String, String)> {
    report["refused"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (r["name"].as_str().unwrap_or_default().to_owned(), r["reason"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// `matterline_uploads_total{outcome}` as `/metrics` shows it now.
async fn uploads_counted(app: &TestApp, outcome: &str) -> anyhow::Result<f64> {
    let text = app.get("/metrics").await?.text().await?;
    Ok(harness::metrics::total(&harness::metrics::parse(&text)?, shared::metrics::UPLOADS, &[("outcome", outcome)]))
}

/// The client speaks clamd's protocol: PING, a clean stream, the EICAR file
/// (by its hash signature), the EICAR string inside a larger stream sent in
/// many chunks, a stream over clamd's size limit, and a closed port.
#[tokio::test]
async fn the_clamd_client_reads_every_kind_of_answer() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let url = clamd_url()?;
    scan::ping(&url).await?;
    assert_eq!(scan::scan_bytes(&url, &pdf(50_000)).await?, Verdict::Clean);
    match scan::scan_bytes(&url, EICAR).await? {
        Verdict::Infected(name) => assert!(name.starts_with("Matterline-Test.EICAR"), "{name}"),
        Verdict::Clean => anyhow::bail!("the EICAR test file was found clean"),
    }
    let mut stream = scan::Scan::start(&url).await?;
    let infected = infected_pdf(3 * 1024 * 1024);
    for piece in infected.chunks(64 * 1024) {
        stream.write(piece).await?;
    }
    assert!(
        matches!(stream.finish().await?, Verdict::Infected(ref n) if n.starts_with("Matterline-Test.EICAR-in-file")),
        "the EICAR string inside a PDF sent in 64 KB chunks"
    );

    // One byte over clamd's StreamMaxLength: clamd says so (and hangs up).
    let over = usize::try_from(services::clamd_stream_max()?)? + 1;
    let mut stream = scan::Scan::start(&url).await?;
    let outcome = async {
        for piece in pdf(over).chunks(256 * 1024) {
            stream.write(piece).await?;
        }
        stream.finish().await
    }
    .await;
    assert!(matches!(outcome, Err(ScanError::SizeLimit)), "{outcome:?}");

    let closed = ClamdUrl::parse(&closed_port()?).map_err(anyhow::Error::msg)?;
    assert!(matches!(scan::ping(&closed).await, Err(ScanError::Connect(_))));
    assert!(matches!(scan::scan_bytes(&closed, b"%PDF-1.7").await, Err(ScanError::Connect(_))));
    Ok(())
}

/// Through the API and the page form: the infected file is refused by name,
/// the clean PDF sent with it is stored, and nothing of the infected one is
/// kept — it was larger than a multipart part, so a multipart upload was
/// opened for it and must have been aborted.
async fn an_infected_upload_is_refused_by_name_and_leaves_nothing(backend: Backend) -> anyhow::Result<()> {
    let clamd = services::clamd()?;
    let app = spawn(backend, &[("MATTERLINE_CLAMD_URL", &clamd)]).await?;
    let (bearer, cookie, matter) = jordan(&app).await?;
    let ready: Value = app.get("/readyz").await?.json().await?;
    assert_eq!((ready["status"].as_str(), ready["clamd"].as_str()), (Some("ok"), Some("ok")), "{ready}");
    let infected_before = uploads_counted(&app, "infected").await?;

    let form = Form::new()
        .part("file", file(infected_pdf(storage::PART_SIZE + 300_000), "accident report.pdf")?)
        .part("file", file(pdf(120_000), "bill.pdf")?);
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(form)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "one file was refused");
    let report: Value = response.json().await?;
    assert_eq!(refused(&report), [("accident report.pdf".to_owned(), "infected".to_owned())], "{report}");
    assert_eq!(report["stored"][0]["name"], "bill.pdf", "{report}");
    assert_eq!(report["stored"].as_array().map(Vec::len), Some(1), "{report}");
    assert!(report["stopped"].is_null(), "the upload went on after the infected file: {report}");
    assert_eq!(stored_names(&app).await?, ["bill.pdf"]);
    assert_eq!(bucket_objects(&app).await?.len(), 1, "only the clean file's object");
    assert_eq!(unfinished_uploads(&app)?, [], "the infected file's multipart upload was left open");

    // The page form: the client reads which file and why.
    let page = app
        .raw_client()?
        .post(app.url(&format!("/matters/{matter}/upload")))
        .header("Cookie", &cookie)
        .multipart(Form::new().part("file", file(infected_pdf(40_000), "scan.pdf")?))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = page.text().await?;
    assert!(html.contains("scan.pdf: our virus check found something harmful in this file"), "{html}");
    assert!(html.contains("No document was saved."), "{html}");
    assert_eq!(stored_names(&app).await?, ["bill.pdf"], "nothing more was stored");
    assert_eq!(bucket_objects(&app).await?.len(), 1);
    assert_eq!(unfinished_uploads(&app)?, []);

    // Audited with the signature clamd named, and counted.
    let refusals = audited(&app, "document.refused").await?;
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    assert!(refusals[0].starts_with("Infected: accident report.pdf (Matterline-Test.EICAR-in-file"), "{refusals:?}");
    assert!(refusals[1].starts_with("Infected: scan.pdf (Matterline-Test.EICAR-in-file"), "{refusals:?}");
    assert!(uploads_counted(&app, "infected").await? >= infected_before + 2.0, "both refusals are counted");
    assert_eq!(app.state.db.run(shared::audit::verify).await?, None, "the audit chain is intact");
    Ok(())
}

/// clamd down (nothing listens at its address): the file is refused with a
/// clear "try again later" (503: nothing is known to be wrong with it), and
/// nothing is stored; readiness reports clamd without failing.
async fn clamd_down_refuses_with_a_clear_message_and_stores_nothing(backend: Backend) -> anyhow::Result<()> {
    let down = closed_port()?;
    let app = spawn(backend, &[("MATTERLINE_CLAMD_URL", &down)]).await?;
    let (bearer, cookie, matter) = jordan(&app).await?;

    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", file(pdf(60_000), "bill.pdf")?).part("file", file(pdf(500), "b.pdf")?))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report: Value = response.json().await?;
    assert_eq!(report["stopped"], serde_json::json!(["scan_failed", "bill.pdf"]), "{report}");
    assert_eq!(report["stored"].as_array().map(Vec::len), Some(0), "{report}");

    let page = app
        .raw_client()?
        .post(app.url(&format!("/matters/{matter}/upload")))
        .header("Cookie", &cookie)
        .multipart(Form::new().part("file", file(pdf(60_000), "receipt.pdf")?))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = page.text().await?;
    assert!(html.contains("receipt.pdf could not be checked for viruses just now"), "{html}");
    assert!(html.contains("Please try again later."), "{html}");

    assert_eq!(stored_names(&app).await?, Vec::<String>::new(), "a row was written");
    assert_eq!(bucket_objects(&app).await?, Vec::<String>::new(), "an object was stored");
    assert_eq!(unfinished_uploads(&app)?, [], "a multipart upload was left open");
    assert_eq!(audited(&app, "document.upload_failed").await?, ["scan_failed: bill.pdf", "scan_failed: receipt.pdf"]);

    let ready = app.get("/readyz").await?;
    assert_eq!(ready.status(), StatusCode::OK, "sign-ins and case pages still work without clamd");
    let ready: Value = ready.json().await?;
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert!(ready["clamd"].as_str().is_some_and(|e| e.starts_with("cannot connect to clamd")), "{ready}");
    Ok(())
}

/// A file longer than clamd's `StreamMaxLength`: clamd cuts the stream off
/// part-way, and the file is refused as "could not be checked", its
/// multipart upload (already several parts in) aborted.
async fn a_file_over_clamds_size_limit_cannot_be_checked(backend: Backend) -> anyhow::Result<()> {
    let clamd = services::clamd()?;
    let app = spawn(backend, &[("MATTERLINE_CLAMD_URL", &clamd)]).await?;
    let (bearer, _, matter) = jordan(&app).await?;
    let over = usize::try_from(services::clamd_stream_max()?)? + 1024 * 1024;
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", file(pdf(over), "long scan.pdf")?))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report: Value = response.json().await?;
    assert_eq!(report["stopped"], serde_json::json!(["scan_failed", "long scan.pdf"]), "{report}");
    assert_eq!(stored_names(&app).await?, Vec::<String>::new());
    assert_eq!(bucket_objects(&app).await?, Vec::<String>::new());
    assert_eq!(unfinished_uploads(&app)?, [], "the multipart upload was left open");
    Ok(())
}

/// With `MATTERLINE_CLAMD_FAIL_OPEN`, a file clamd cannot check is stored
/// (and the log says so); an infected file is still refused when clamd is up.
async fn failing_open_stores_what_clamd_could_not_check(backend: Backend) -> anyhow::Result<()> {
    let down = closed_port()?;
    let app = spawn(backend, &[("MATTERLINE_CLAMD_URL", &down), ("MATTERLINE_CLAMD_FAIL_OPEN", "true")]).await?;
    let (bearer, _, matter) = jordan(&app).await?;
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", file(pdf(60_000), "bill.pdf")?))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(stored_names(&app).await?, ["bill.pdf"]);
    assert_eq!(bucket_objects(&app).await?.len(), 1);

    let clamd = services::clamd()?;
    let up = spawn(backend, &[("MATTERLINE_CLAMD_URL", &clamd), ("MATTERLINE_CLAMD_FAIL_OPEN", "true")]).await?;
    let (bearer, _, matter) = jordan(&up).await?;
    let response = reqwest::Client::new()
        .post(up.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", file(infected_pdf(5000), "infected.pdf")?))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused(&response.json().await?), [("infected.pdf".to_owned(), "infected".to_owned())]);
    assert_eq!(stored_names(&up).await?, Vec::<String>::new());
    Ok(())
}

on_both_backends!(
    an_infected_upload_is_refused_by_name_and_leaves_nothing,
    clamd_down_refuses_with_a_clear_message_and_stores_nothing,
    a_file_over_clamds_size_limit_cannot_be_checked,
    failing_open_stores_what_clamd_could_not_check,
);
