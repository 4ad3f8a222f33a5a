//! Clients send documents: several files at once, streamed to the real
//! S3-compatible server (and the local folder), checked by their bytes,
//! limited in size — and nothing is left behind when anything fails.

use diesel::prelude::*;
use harness::files::{self, exe, jpeg, pdf, png, sha256};
use harness::{Backend, TestApp, on_both_backends, services};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use shared::db::models::Document;
use shared::db::schema::{document_requests, documents, notifications};

/// Where documents go in a test.
#[derive(Clone, Copy, Debug)]
enum Store {
    S3,
    Local,
}

async fn spawn(backend: Backend, store: Store, settings: &[(&str, &str)]) -> anyhow::Result<TestApp> {
    match store {
        Store::S3 => TestApp::spawn_with_s3(backend, settings).await,
        Store::Local => TestApp::spawn_with(backend, settings).await,
    }
}

fn file(bytes: Vec<u8>, name: &str) -> anyhow::Result<Part> {
    Ok(Part::bytes(bytes).file_name(name.to_owned()).mime_str("application/octet-stream")?)
}

/// A signed-in client: (bearer header value, matter id, the matter's open request id).
async fn client_of(app: &TestApp, who: &str) -> anyhow::Result<(String, String, Option<String>)> {
    let demo_domain = {
        let db = app.state.db.clone();
        db.run(|c| {
            use shared::db::schema::users;
            Ok(users::table.filter(users::email.like("jordan@%")).select(users::email).first::<String>(c)?)
        })
        .await?
    };
    let domain = demo_domain.split('@').nth(1).unwrap_or_default().to_owned();
    let client = app.client(&format!("{who}@{domain}")).await?;
    let token = app.session_token(&client.id).await?;
    let matter = client.matter_id.clone();
    let request = app
        .state
        .db
        .run(move |c| {
            Ok(document_requests::table
                .filter(document_requests::matter_id.eq(&matter))
                .filter(document_requests::status.eq("open"))
                .select(document_requests::id)
                .first::<String>(c)
                .optional()?)
        })
        .await?;
    Ok((format!("Bearer {token}"), client.matter_id, request))
}

async fn rows(app: &TestApp) -> anyhow::Result<Vec<Document>> {
    Ok(app
        .state
        .db
        .run(|c| Ok(documents::table.order(documents::created_at).select(Document::as_select()).load(c)?))
        .await?)
}

/// Objects in the test's bucket (none on a local folder).
async fn bucket_objects(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let Some((client, bucket)) = app.state.storage.s3_client() else { return Ok(Vec::new()) };
    let listed = client.list_objects_v2().bucket(bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect())
}

/// Files the shared s3s-fs keeps for the test's bucket that are not finished objects
/// (its multipart staging files); s3s-fs does not implement ListMultipartUploads.
fn s3_staging_files(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let Some((_, bucket)) = app.state.storage.s3_client() else { return Ok(Vec::new()) };
    let root = std::path::PathBuf::from(services::s3_root()?);
    let mut found = Vec::new();
    let mut stack = vec![root.join(bucket), root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if path.is_dir() && dir != root {
                stack.push(path);
            } else if name.starts_with(".upload") && path.to_string_lossy().contains(bucket) {
                found.push(path.display().to_string());
            }
        }
    }
    Ok(found)
}

async fn three_files_arrive_whole(backend: Backend, store: Store) -> anyhow::Result<()> {
    let app = spawn(backend, store, &[]).await?;
    app.seed_demo().await?;
    let (bearer, matter, request) = client_of(&app, "jordan").await?;
    let request = request.ok_or_else(|| anyhow::anyhow!("jordan has an open request"))?;
    // One file larger than a part, so the multipart path runs too.
    let originals =
        [(pdf(300_000), "bill.pdf"), (jpeg(9 * 1024 * 1024 + 17), "knee photo.jpg"), (png(20_000), "scan.png")];
    let mut form = Form::new().text("request", request.clone());
    for (bytes, name) in &originals {
        form = form.part("file", file(bytes.clone(), name)?);
    }
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(form)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let report: Value = response.json().await?;
    assert_eq!(report["stored"].as_array().map(Vec::len), Some(3), "{report}");

    let stored = rows(&app).await?;
    assert_eq!(stored.len(), 3);
    for ((bytes, name), row) in originals.iter().zip(&stored) {
        assert_eq!(&row.original_name, name);
        assert_eq!(row.sha256, sha256(bytes), "{name}: the row's hash");
        assert_eq!(row.size_bytes, bytes.len() as i64);
        assert_eq!(row.category, "medical_bill", "the request's category applies");
        assert_eq!(row.request_id.as_deref(), Some(request.as_str()));
        let (firm, matter) = (firm_of(&app).await?.replace('-', ""), matter.replace('-', ""));
        assert!(row.object_key.starts_with(&format!("firms/{firm}/matters/{matter}/documents/")), "{}", row.object_key);
        let object = app.state.storage.fetch(&row.object_key).await?;
        assert_eq!(sha256(&object), sha256(bytes), "{name}: the stored bytes");
    }
    assert_eq!(
        stored.iter().map(|r| r.content_type.as_str()).collect::<Vec<_>>(),
        ["application/pdf", "image/jpeg", "image/png"]
    );
    if let Store::S3 = store {
        assert_eq!(bucket_objects(&app).await?.len(), 3);
        assert!(s3_staging_files(&app)?.is_empty(), "multipart staging left behind");
    }

    let status: String = app
        .state
        .db
        .run(move |c| Ok(document_requests::table.find(&request).select(document_requests::status).first(c)?))
        .await?;
    assert_eq!(status, "fulfilled", "the request should close");
    let receipt: Vec<(String, String)> = app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::kind.eq("upload_receipt"))
                .select((notifications::status, notifications::payload.assume_not_null()))
                .load(c)?)
        })
        .await?;
    assert_eq!(receipt.len(), 1, "one receipt email per upload");
    assert_eq!(receipt[0].0, "sent");
    assert!(receipt[0].1.contains("knee photo.jpg"), "{}", receipt[0].1);

    let listed: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
    Ok(())
}

async fn firm_of(app: &TestApp) -> anyhow::Result<String> {
    Ok(app
        .state
        .db
        .run(|c| {
            use shared::db::schema::firms;
            Ok(firms::table.select(firms::id).first::<String>(c)?)
        })
        .await?)
}

async fn three_files_on_s3(backend: Backend) -> anyhow::Result<()> {
    three_files_arrive_whole(backend, Store::S3).await
}

async fn three_files_on_a_local_folder(backend: Backend) -> anyhow::Result<()> {
    three_files_arrive_whole(backend, Store::Local).await
}

async fn a_file_over_the_limit_gets_413_and_leaves_nothing(backend: Backend) -> anyhow::Result<()> {
    let app = spawn(backend, Store::S3, &[("MATTERLINE_MAX_UPLOAD_BYTES", "262144000")]).await?;
    app.seed_demo().await?;
    let (bearer, matter, _) = client_of(&app, "jordan").await?;
    let size: u64 = 300 * 1024 * 1024;
    let (stream, _) = files::streamed_pdf(size);
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), size)
        .file_name("huge.pdf")
        .mime_str("application/pdf")?;
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let report: Value = response.json().await?;
    assert_eq!(report["stopped"][0], "too_large", "{report}");
    assert_eq!(report["stopped"][1], "huge.pdf");
    assert!(rows(&app).await?.is_empty(), "a row was written");
    assert!(bucket_objects(&app).await?.is_empty(), "an object was stored");
    assert!(s3_staging_files(&app)?.is_empty(), "the multipart upload was left open: {:?}", s3_staging_files(&app)?);
    Ok(())
}

async fn disguised_empty_and_oddly_named_files(backend: Backend) -> anyhow::Result<()> {
    let app = spawn(backend, Store::S3, &[]).await?;
    app.seed_demo().await?;
    let (bearer, matter, _) = client_of(&app, "sam").await?;
    let form = Form::new()
        .text("category", "police_report")
        .part("file", file(exe(), "report.pdf")?)
        .part(
            "file",
            file(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec(), "statement.pdf")?,
        )
        .part("file", file(Vec::new(), "empty.jpg")?)
        .part("file", file(pdf(2048), "../../etc/\u{202E}fdp.exe 医療 factura.pdf")?);
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(form)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let report: Value = response.json().await?;
    let refused: Vec<(String, String)> = report["refused"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (r["name"].as_str().unwrap_or_default().to_owned(), r["reason"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("report.pdf".to_owned(), "unsupported_type".to_owned()),
            ("statement.pdf".to_owned(), "unsupported_type".to_owned()),
            ("empty.jpg".to_owned(), "empty".to_owned())
        ]
    );
    let stored = rows(&app).await?;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].original_name, "fdp.exe 医療 factura.pdf", "path and direction overrides are stripped");
    assert_eq!(stored[0].category, "police_report");
    assert!(!stored[0].object_key.contains(".."), "{}", stored[0].object_key);
    assert_eq!(bucket_objects(&app).await?, [stored[0].object_key.clone()]);
    let refusals: i64 = app
        .state
        .db
        .run(|c| {
            use shared::db::schema::audit_events;
            Ok(audit_events::table.filter(audit_events::action.eq("document.refused")).count().get_result(c)?)
        })
        .await?;
    assert_eq!(refusals, 3, "every refused file is in the audit log");

    // The page version names each file and the reason, in the client's words.
    let cookie = format!("matterline_session={}", bearer.trim_start_matches("Bearer "));
    let page = app
        .raw_client()?
        .post(app.url(&format!("/matters/{matter}/upload")))
        .header("Cookie", cookie)
        .multipart(Form::new().part("file", file(exe(), "invoice.pdf")?))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = page.text().await?;
    assert!(html.contains("invoice.pdf: this is not a PDF or a photo"), "{html}");
    assert!(html.contains("No document was saved."), "{html}");
    Ok(())
}

async fn another_clients_documents_are_not_found(backend: Backend) -> anyhow::Result<()> {
    let app = spawn(backend, Store::S3, &[]).await?;
    app.seed_demo().await?;
    let (a, a_matter, _) = client_of(&app, "jordan").await?;
    let (b, _, _) = client_of(&app, "lucia").await?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let body = pdf(5000);
    let report: Value = http
        .post(app.url(&format!("/api/v1/matters/{a_matter}/documents")))
        .header("Authorization", &a)
        .multipart(Form::new().part("file", file(body.clone(), "bill.pdf")?))
        .send()
        .await?
        .json()
        .await?;
    let doc = report["stored"][0]["id"].as_str().unwrap_or_default().to_owned();

    for path in [
        format!("/api/v1/matters/{a_matter}/documents"),
        format!("/api/v1/matters/{a_matter}/documents/{doc}/download"),
    ] {
        assert_eq!(
            http.get(app.url(&path)).header("Authorization", &b).send().await?.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let b_cookie = format!("matterline_session={}", b.trim_start_matches("Bearer "));
    let page =
        http.get(app.url(&format!("/matters/{a_matter}/documents/{doc}"))).header("Cookie", &b_cookie).send().await?;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let upload = http
        .post(app.url(&format!("/api/v1/matters/{a_matter}/documents")))
        .header("Authorization", &b)
        .multipart(Form::new().part("file", file(pdf(100), "x.pdf")?))
        .send()
        .await?;
    assert_eq!(upload.status(), StatusCode::NOT_FOUND, "B uploaded into A's matter");

    // A's own download: a short-lived presigned link to the same bytes.
    let own = http
        .get(app.url(&format!("/api/v1/matters/{a_matter}/documents/{doc}/download")))
        .header("Authorization", &a)
        .send()
        .await?;
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    let link = own.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(link.contains("X-Amz-Signature="), "{link}");
    let fetched = reqwest::get(&link).await?;
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(sha256(&fetched.bytes().await?), sha256(&body));
    // The same link with one hex digit of its signature changed.
    let at = link.find("X-Amz-Signature=").map(|i| i + "X-Amz-Signature=".len()).unwrap_or_default();
    let flipped = if link[at..].starts_with('0') { "1" } else { "0" };
    let tampered = format!("{}{flipped}{}", &link[..at], &link[at + 1..]);
    assert_eq!(reqwest::get(&tampered).await?.status(), StatusCode::FORBIDDEN);

    let audited: i64 = app
        .state
        .db
        .run(|c| {
            use shared::db::schema::audit_events;
            Ok(audit_events::table
                .filter(audit_events::action.eq_any(["document.upload", "document.download"]))
                .count()
                .get_result(c)?)
        })
        .await?;
    assert_eq!(audited, 2, "one upload and one download are audited");
    assert_eq!(app.state.db.run(shared::audit::verify).await?, None, "the audit chain is intact");
    Ok(())
}

async fn a_local_download_streams_the_file_with_safe_headers(backend: Backend) -> anyhow::Result<()> {
    let app = spawn(backend, Store::Local, &[]).await?;
    app.seed_demo().await?;
    let (a, matter, _) = client_of(&app, "riley").await?;
    let body = jpeg(70_000);
    let report: Value = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &a)
        .multipart(Form::new().part("file", file(body.clone(), "foto rodilla.jpg")?))
        .send()
        .await?
        .json()
        .await?;
    let doc = report["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
    let response = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/matters/{matter}/documents/{doc}/download")))
        .header("Authorization", &a)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-type"), "image/jpeg");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"foto rodilla.jpg\"; filename*=UTF-8''foto%20rodilla.jpg"
    );
    assert_eq!(sha256(&response.bytes().await?), sha256(&body));
    Ok(())
}

on_both_backends!(
    three_files_on_s3,
    three_files_on_a_local_folder,
    a_file_over_the_limit_gets_413_and_leaves_nothing,
    disguised_empty_and_oddly_named_files,
    another_clients_documents_are_not_found,
    a_local_download_streams_the_file_with_safe_headers,
);
