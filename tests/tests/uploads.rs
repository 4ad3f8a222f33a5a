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
        Store::S3 => TestApp::builder(backend).with_s3().settings(settings).spawn().await,
        Store::Local => TestApp::builder(backend).settings(settings).spawn().await,
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
    client_at(app, &format!("{who}@{domain}")).await
}

/// Like [`client_of`], for the client with this email address (when several demo firms exist).
async fn client_at(app: &TestApp, email: &str) -> anyhow::Result<(String, String, Option<String>)> {
    let client = app.client(email).await?;
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

/// The test bucket's unfinished multipart uploads (object key, upload id).
/// s3s-fs does not implement ListMultipartUploads, so they are read from its
/// folder (see [`harness::s3::unfinished_uploads`]; tested below).
fn unfinished_uploads(app: &TestApp) -> anyhow::Result<Vec<(String, String)>> {
    let Some((_, bucket)) = app.state.storage.s3_client() else { return Ok(Vec::new()) };
    harness::s3::unfinished_uploads(std::path::Path::new(&services::s3_root()?), bucket)
}

/// Every file under the local document folder (none on S3).
fn local_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    let shared::config::StorageUrl::Local(root) = &app.state.config.storage else { return Vec::new() };
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// Audit events with `action`, as (actor kind, target id, detail), oldest first.
async fn audited(app: &TestApp, action: &'static str) -> anyhow::Result<Vec<(String, Option<String>, Option<String>)>> {
    Ok(app
        .state
        .db
        .run(move |c| {
            use shared::db::schema::audit_events;
            Ok(audit_events::table
                .filter(audit_events::action.eq(action))
                .order(audit_events::id)
                .select((audit_events::actor_kind, audit_events::target_id, audit_events::detail))
                .load(c)?)
        })
        .await?)
}

/// `checksum`: `MATTERLINE_S3_CHECKSUM`, or `None` for the default.
async fn three_files_arrive_whole(backend: Backend, store: Store, checksum: Option<&str>) -> anyhow::Result<()> {
    let settings: Vec<(&str, &str)> = checksum.map(|c| ("MATTERLINE_S3_CHECKSUM", c)).into_iter().collect();
    let app = spawn(backend, store, &settings).await?;
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
        assert_eq!(row.category, shared::domain::DocumentCategory::MedicalBill, "the request's category applies");
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
    if let Some((client, bucket)) = app.state.storage.s3_client() {
        assert_eq!(bucket_objects(&app).await?.len(), 3);
        assert_eq!(unfinished_uploads(&app)?, [], "multipart uploads left unfinished");
        // s3s-fs keeps the CRC32 a PutObject carried: present exactly when it was asked for.
        for row in stored.iter().filter(|r| r.size_bytes <= storage::PART_SIZE as i64) {
            let head = client
                .head_object()
                .bucket(bucket)
                .key(&row.object_key)
                .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            assert_eq!(head.checksum_crc32().is_some(), checksum == Some("crc32"), "{}: {head:?}", row.original_name);
        }
    }
    // One upload event per file, naming its document.
    let uploads = audited(&app, "document.upload").await?;
    let ids: Vec<Option<String>> = stored.iter().map(|r| Some(r.id.clone())).collect();
    assert_eq!(uploads.iter().map(|e| e.1.clone()).collect::<Vec<_>>(), ids, "{uploads:?}");
    assert!(uploads.iter().all(|e| e.0 == "client"), "{uploads:?}");

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
    three_files_arrive_whole(backend, Store::S3, None).await
}

async fn three_files_on_s3_with_crc32_checksums(backend: Backend) -> anyhow::Result<()> {
    three_files_arrive_whole(backend, Store::S3, Some("crc32")).await
}

async fn three_files_on_a_local_folder(backend: Backend) -> anyhow::Result<()> {
    three_files_arrive_whole(backend, Store::Local, None).await
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
    assert_eq!(unfinished_uploads(&app)?, [], "the multipart upload was left open");
    let refused = audited(&app, "document.refused").await?;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].2.as_deref(), Some("TooLarge: huge.pdf"));
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
    assert_eq!(stored[0].category, shared::domain::DocumentCategory::PoliceReport);
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
    let (b, b_matter, _) = client_of(&app, "lucia").await?;
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

    app.queue_settled().await?;
    let before = app.all_rows().await?;
    for path in [
        format!("/api/v1/matters/{a_matter}/documents"),
        format!("/api/v1/matters/{a_matter}/documents/{doc}/download"),
        // A's real document through B's own matter.
        format!("/api/v1/matters/{b_matter}/documents/{doc}/download"),
    ] {
        assert_eq!(
            http.get(app.url(&path)).header("Authorization", &b).send().await?.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let b_cookie = format!("matterline_session={}", b.trim_start_matches("Bearer "));
    for path in [format!("/matters/{a_matter}/documents/{doc}"), format!("/matters/{b_matter}/documents/{doc}")] {
        let page = http.get(app.url(&path)).header("Cookie", &b_cookie).send().await?;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let upload = http
        .post(app.url(&format!("/api/v1/matters/{a_matter}/documents")))
        .header("Authorization", &b)
        .multipart(Form::new().part("file", file(pdf(100), "x.pdf")?))
        .send()
        .await?;
    assert_eq!(upload.status(), StatusCode::NOT_FOUND, "B uploaded into A's matter");
    let changed = harness::rows::changes(&before, &app.all_rows().await?);
    let changed: Vec<&String> = changed.iter().filter(|r| !r.starts_with("sessions:")).collect();
    assert!(changed.is_empty(), "B's refused requests changed rows: {changed:?}");

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

    let (uploads, downloads) = (audited(&app, "document.upload").await?, audited(&app, "document.download").await?);
    assert_eq!(uploads, [("client".to_owned(), Some(doc.clone()), Some("5000 bytes, application/pdf".to_owned()))]);
    assert_eq!(downloads, [("client".to_owned(), Some(doc.clone()), None)], "A's download only: B got 404s");
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

/// Makes every insert into `documents` fail in this test's own database, as a
/// full disk or a lost connection would at the worst moment.
async fn refuse_document_rows(app: &TestApp) -> anyhow::Result<()> {
    use diesel::connection::SimpleConnection;
    let sql = match app.backend() {
        Backend::Sqlite => {
            "CREATE TRIGGER refuse_documents BEFORE INSERT ON documents BEGIN SELECT RAISE(ABORT, 'test: no document rows'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION refuse_documents() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: no document rows'; END $$;
             CREATE TRIGGER refuse_documents BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION refuse_documents();"
        }
    };
    app.state.db.run(move |c| Ok(c.batch_execute(sql)?)).await?;
    Ok(())
}

/// The object is stored, then its row cannot be written: the object is deleted
/// at once (nothing is left for the sweep), and the client reads that nothing
/// was saved — on S3 (one PutObject, and a multipart upload) and a local folder.
async fn a_row_that_cannot_be_written_leaves_no_object(backend: Backend) -> anyhow::Result<()> {
    for store in [Store::S3, Store::Local] {
        let app = spawn(backend, store, &[]).await?;
        app.seed_demo().await?;
        let (bearer, matter, _) = client_of(&app, "jordan").await?;
        refuse_document_rows(&app).await?;

        // The API, with a file of two parts.
        let response = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
            .header("Authorization", &bearer)
            .multipart(Form::new().part("file", file(jpeg(9 * 1024 * 1024), "knee photo.jpg")?))
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{store:?}");
        let report: Value = response.json().await?;
        assert_eq!(report["stopped"], serde_json::json!(["storage_failed", "knee photo.jpg"]), "{store:?}: {report}");
        assert_eq!(report["stored"].as_array().map(Vec::len), Some(0), "{report}");

        // The page, with a small file (a single PutObject on S3).
        let cookie = format!("matterline_session={}", bearer.trim_start_matches("Bearer "));
        let page = app
            .raw_client()?
            .post(app.url(&format!("/matters/{matter}/upload")))
            .header("Cookie", cookie)
            .multipart(Form::new().part("file", file(pdf(40_000), "bill.pdf")?))
            .send()
            .await?;
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "{store:?}");
        let text = harness::pages::main_text(&page.text().await?);
        assert!(text.contains("Upload failed for bill.pdf: nothing of it was saved. Please try again."), "{text}");
        assert!(text.contains("No document was saved."), "{text}");

        assert!(rows(&app).await?.is_empty(), "{store:?}: a row was written");
        assert_eq!(bucket_objects(&app).await?, Vec::<String>::new(), "{store:?}: an object was kept");
        assert_eq!(unfinished_uploads(&app)?, [], "{store:?}: a multipart upload was left open");
        assert_eq!(local_files(&app), Vec::<std::path::PathBuf>::new(), "{store:?}: a file was kept");
        let deferred: i64 = app
            .state
            .db
            .run(|c| {
                use shared::db::schema::storage_cleanup;
                Ok(storage_cleanup::table.count().get_result(c)?)
            })
            .await?;
        assert_eq!(deferred, 0, "{store:?}: the objects were deleted at once, not left for the sweep");
        let failed: Vec<Option<String>> =
            audited(&app, "document.upload_failed").await?.into_iter().map(|e| e.2).collect();
        assert_eq!(
            failed,
            [Some("storage_failed: knee photo.jpg".to_owned()), Some("storage_failed: bill.pdf".to_owned())],
            "{store:?}: every failed upload is audited"
        );
    }
    Ok(())
}

/// Over the limit on the local folder: 413, the page names the file and the
/// limit in the client's language, and no `.partial` file or row remains.
async fn a_file_over_the_limit_on_a_local_folder_leaves_nothing(backend: Backend) -> anyhow::Result<()> {
    let app = spawn(backend, Store::Local, &[("MATTERLINE_MAX_UPLOAD_BYTES", "1048576")]).await?;
    app.seed_demo().await?;
    for (who, expected) in [
        (
            "jordan",
            "huge.pdf: the file is larger than 1 MB. Please send a smaller file or split it. Files after it in the same upload were not read; please send them again.",
        ),
        (
            "lucia",
            "huge.pdf: el archivo es mayor de 1 MB. Envíe un archivo más pequeño o divídalo. Los archivos que venían después en el mismo envío no se leyeron; envíelos de nuevo.",
        ),
    ] {
        let (bearer, matter, _) = client_of(&app, who).await?;
        let cookie = format!("matterline_session={}", bearer.trim_start_matches("Bearer "));
        let page = app
            .raw_client()?
            .post(app.url(&format!("/matters/{matter}/upload")))
            .header("Cookie", cookie)
            .multipart(
                Form::new()
                    .part("file", file(pdf(3_000_000), "huge.pdf")?)
                    .part("file", file(pdf(5_000), "after.pdf")?),
            )
            .send()
            .await?;
        assert_eq!(page.status(), StatusCode::PAYLOAD_TOO_LARGE, "{who}");
        let text = harness::pages::main_text(&page.text().await?);
        assert!(text.contains(expected), "{who}: {text}");
    }
    let (bearer, matter, _) = client_of(&app, "sam").await?;
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", file(pdf(1024 * 1024 + 1), "one byte over.pdf")?))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let report: Value = response.json().await?;
    assert_eq!(report["stopped"], serde_json::json!(["too_large", "one byte over.pdf"]), "{report}");

    assert!(rows(&app).await?.is_empty(), "a row was written");
    assert_eq!(local_files(&app), Vec::<std::path::PathBuf>::new(), "a partial or stored file was left");
    let refused: Vec<Option<String>> = audited(&app, "document.refused").await?.into_iter().map(|e| e.2).collect();
    assert_eq!(
        refused,
        [
            Some("TooLarge: huge.pdf".to_owned()),
            Some("TooLarge: huge.pdf".to_owned()),
            Some("TooLarge: one byte over.pdf".to_owned())
        ]
    );
    Ok(())
}

/// Staff share a document with the client through the same pipeline: the
/// client lists it as shared by the firm and downloads the same bytes; staff
/// of another firm get 404; a refused type is refused; no request is fulfilled.
async fn staff_share_a_document_with_the_client(backend: Backend) -> anyhow::Result<()> {
    let app = spawn(backend, Store::S3, &[]).await?;
    let demo = app.seed_demo().await?;
    let other = app.seed_demo().await?;
    let (client_bearer, matter, request) = client_at(&app, &demo.email("jordan")).await?;
    let request = request.ok_or_else(|| anyhow::anyhow!("jordan has an open request"))?;
    let casey = format!("Bearer {}", app.session_token(&app.user_id(&demo.email("casey")).await?).await?);
    let stranger = app.user_id(&other.email("admin")).await?;
    let stranger = format!("Bearer {}", app.session_token(&stranger).await?);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let share = |bearer: &str, form: Form| {
        http.post(app.url(&format!("/api/v1/staff/matters/{matter}/documents")))
            .header("Authorization", bearer)
            .multipart(form)
    };

    let letter = pdf(150_000);
    let response = share(
        &casey,
        Form::new()
            .text("request", request.clone())
            .text("category", "insurance_letter")
            .part("file", file(letter.clone(), "settlement offer.pdf")?),
    )
    .send()
    .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let report: Value = response.json().await?;
    let doc = report["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(report["stored"][0]["sha256"], sha256(&letter), "{report}");

    // The client's list and download.
    let listed: Value = http
        .get(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", &client_bearer)
        .send()
        .await?
        .json()
        .await?;
    let entry = listed.as_array().into_iter().flatten().find(|d| d["id"] == doc.as_str()).cloned();
    let entry = entry.ok_or_else(|| anyhow::anyhow!("the client does not see the shared document: {listed}"))?;
    assert_eq!(entry["source"], "firm");
    assert_eq!(entry["name"], "settlement offer.pdf");
    assert_eq!(entry["category"], "insurance_letter");
    let download = http
        .get(app.url(&format!("/api/v1/matters/{matter}/documents/{doc}/download")))
        .header("Authorization", &client_bearer)
        .send()
        .await?;
    assert_eq!(download.status(), StatusCode::SEE_OTHER);
    let link = download.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(sha256(&reqwest::get(&link).await?.bytes().await?), sha256(&letter));
    let cookie = format!("matterline_session={}", client_bearer.trim_start_matches("Bearer "));
    let page = http.get(app.url(&format!("/matters/{matter}"))).header("Cookie", &cookie).send().await?.text().await?;
    let text = harness::pages::main_text(&page);
    assert!(text.contains("settlement offer.pdf"), "{text}");
    assert!(text.contains("From your legal team"), "the matter page does not say who shared it: {text}");

    // Staff of another firm: 404, through the API and the page, with the real document's id; nothing stored.
    app.queue_settled().await?;
    let before = app.firm_rows(&demo.firm_id).await?;
    let refused = share(&stranger, Form::new().part("file", file(pdf(1000), "x.pdf")?)).send().await?;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    for (method, path) in [
        (reqwest::Method::GET, format!("/api/v1/staff/matters/{matter}/documents/{doc}/download")),
        (reqwest::Method::POST, format!("/api/v1/staff/matters/{matter}/documents/{doc}/review")),
        (reqwest::Method::GET, format!("/api/v1/matters/{matter}/documents/{doc}/download")),
    ] {
        let answer = http.request(method.clone(), app.url(&path)).header("Authorization", &stranger).send().await?;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let stranger_cookie = format!("matterline_session={}", stranger.trim_start_matches("Bearer "));
    let page = app
        .raw_client()?
        .post(app.url(&format!("/staff/matters/{matter}/documents")))
        .header("Cookie", &stranger_cookie)
        .multipart(Form::new().part("file", file(pdf(1000), "x.pdf")?))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let changed = harness::rows::changes(&before, &app.firm_rows(&demo.firm_id).await?);
    assert!(changed.is_empty(), "another firm's staff changed rows of this firm: {changed:?}");

    // A refused type, through the API and the staff page.
    let response = share(&casey, Form::new().part("file", file(exe(), "letter.pdf")?)).send().await?;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let report: Value = response.json().await?;
    assert_eq!(report["refused"][0]["reason"], "unsupported_type", "{report}");
    let casey_cookie = format!("matterline_session={}", casey.trim_start_matches("Bearer "));
    let page = app
        .raw_client()?
        .post(app.url(&format!("/staff/matters/{matter}/documents")))
        .header("Cookie", &casey_cookie)
        .multipart(Form::new().part("file", file(exe(), "invoice.pdf")?))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = harness::pages::main_text(&page.text().await?);
    assert!(text.contains("invoice.pdf: this is not a PDF or a photo"), "{text}");

    // The staff page's form: back to the matter, where the document shows as shared.
    let page = app
        .raw_client()?
        .post(app.url(&format!("/staff/matters/{matter}/documents")))
        .header("Cookie", &casey_cookie)
        .multipart(Form::new().text("category", "other").part("file", file(png(30_000), "diagram.png")?))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let staff_page = app
        .raw_client()?
        .get(app.url(&format!("/staff/matters/{matter}")))
        .header("Cookie", &casey_cookie)
        .send()
        .await?;
    let text = harness::pages::main_text(&staff_page.text().await?);
    assert!(text.contains("diagram.png") && text.contains("Shared with the client"), "{text}");

    let stored = rows(&app).await?;
    assert_eq!(
        stored
            .iter()
            .map(|r| (r.original_name.as_str(), r.source.as_str(), r.request_id.is_none()))
            .collect::<Vec<_>>(),
        [("settlement offer.pdf", "firm", true), ("diagram.png", "firm", true)]
    );
    assert_eq!(bucket_objects(&app).await?.len(), 2);
    let status: String = app
        .state
        .db
        .run(move |c| Ok(document_requests::table.find(&request).select(document_requests::status).first(c)?))
        .await?;
    assert_eq!(status, "open", "the firm's own document does not answer the client's request");
    let shares = audited(&app, "document.share").await?;
    assert_eq!(shares.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["staff", "staff"], "{shares:?}");
    assert!(audited(&app, "document.upload").await?.is_empty(), "a share is not the client's upload");
    let refusals = audited(&app, "document.refused").await?;
    assert_eq!(refusals.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["staff", "staff"], "{refusals:?}");
    Ok(())
}

/// The unfinished-upload check itself: a multipart upload left open is found
/// (by key), an aborted one and a completed object are not, and s3s-fs still
/// lacks ListMultipartUploads (if it learns it, this says so).
#[tokio::test]
async fn the_unfinished_upload_check_finds_an_open_multipart_upload() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let bucket = format!("mlchk{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let config = shared::config::Config::from_sources(
        [
            ("MATTERLINE_STORAGE", format!("s3://{bucket}")),
            ("MATTERLINE_S3_ENDPOINT", services::s3_endpoint()?),
            ("MATTERLINE_S3_REGION", "us-east-1".to_owned()),
            ("MATTERLINE_S3_FORCE_PATH_STYLE", "true".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
        None,
    )?;
    let storage = storage::Storage::open(&config).await?;
    let (client, _) = storage.s3_client().ok_or_else(|| anyhow::anyhow!("not on S3"))?;
    client.create_bucket().bucket(&bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let root = std::path::PathBuf::from(services::s3_root()?);

    // Left open on purpose, through the portal's own upload (a full part sent).
    let mut open = storage.begin("firms/a/matters/b/documents/open", "application/pdf").await?;
    open.write(&pdf(storage::PART_SIZE + 10)).await?;
    let found = harness::s3::unfinished_uploads(&root, &bucket)?;
    assert_eq!(found.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["firms/a/matters/b/documents/open"]);
    let upload_id = found[0].1.clone();
    assert!(!harness::s3::upload_files(&root, &upload_id)?.is_empty(), "its record and parts are at the root");
    match client.list_multipart_uploads().bucket(&bucket).send().await {
        Ok(listed) => assert_eq!(listed.uploads().len(), 1, "s3s-fs now lists uploads: {listed:?}"),
        Err(e) => {
            let text = format!("{}", aws_sdk_s3::error::DisplayErrorContext(&e));
            assert!(text.contains("NotImplemented"), "{text}");
        }
    }

    // Aborted: gone, record and parts too. Completed (a second, small object): not an upload.
    assert_eq!(open.abort().await, None);
    assert_eq!(harness::s3::unfinished_uploads(&root, &bucket)?, []);
    assert_eq!(harness::s3::upload_files(&root, &upload_id)?, Vec::<String>::new());
    let mut done = storage.begin("firms/a/matters/b/documents/done", "application/pdf").await?;
    done.write(&pdf(storage::PART_SIZE * 2)).await?;
    done.finish().await.map_err(|e| anyhow::anyhow!("{:?}", e.error))?;
    assert_eq!(harness::s3::unfinished_uploads(&root, &bucket)?, []);

    // One started by hand and never finished, as a crashed process leaves it.
    let created = client
        .create_multipart_upload()
        .bucket(&bucket)
        .key("firms/a/matters/b/documents/crashed")
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let found = harness::s3::unfinished_uploads(&root, &bucket)?;
    assert_eq!(
        found,
        [("firms/a/matters/b/documents/crashed".to_owned(), created.upload_id().unwrap_or_default().to_owned())]
    );
    assert_eq!(harness::s3::unfinished_uploads(&root, "another-bucket")?, [], "other buckets' uploads are not counted");
    storage
        .remove_leftover(&storage::Leftover {
            key: "firms/a/matters/b/documents/crashed".to_owned(),
            upload_id: created.upload_id().map(str::to_owned),
        })
        .await?;
    assert_eq!(harness::s3::unfinished_uploads(&root, &bucket)?, [], "the sweep's removal leaves none");
    Ok(())
}

/// Uploads at once, each larger than the whole part buffer budget: each waits
/// its turn for budget (no error, no timeout), and every byte arrives.
async fn uploads_past_the_buffer_budget_wait_and_arrive_whole(backend: Backend, store: Store) -> anyhow::Result<()> {
    const UPLOADS: usize = 5;
    let app = spawn(backend, store, &[("MATTERLINE_UPLOAD_BUFFER_MIB", "16")]).await?;
    app.seed_demo().await?;
    let (bearer, matter, _) = client_of(&app, "jordan").await?;
    if let Some(budget) = app.state.storage.part_budget() {
        assert_eq!(budget.mib(), 16, "the setting sizes the budget");
    }
    // 20 MiB and a bit each (three parts, the last a short one), none alike.
    let originals: Vec<(Vec<u8>, String)> = (0..UPLOADS)
        .map(|i| {
            let mut bytes = pdf(20 * 1024 * 1024 + 1000 * i + 1);
            for (j, b) in bytes.iter_mut().enumerate().skip(64).step_by(4093) {
                *b = (i * 31 + j) as u8;
            }
            (bytes, format!("statement {i}.pdf"))
        })
        .collect();
    let sends = originals.iter().map(|(bytes, name)| {
        let (bearer, url) = (bearer.clone(), app.url(&format!("/api/v1/matters/{matter}/documents")));
        let part = file(bytes.clone(), name);
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("Authorization", &bearer)
                .multipart(Form::new().part("file", part?))
                .send()
                .await?;
            let status = response.status();
            let report: Value = response.json().await?;
            anyhow::Ok((status, report))
        }
    });
    for (status, report) in futures_util::future::try_join_all(sends).await? {
        assert_eq!(status, StatusCode::CREATED, "{report}");
        assert_eq!(report["stored"].as_array().map(Vec::len), Some(1), "{report}");
    }
    let stored = rows(&app).await?;
    assert_eq!(stored.len(), UPLOADS);
    for (bytes, name) in &originals {
        let row = stored.iter().find(|r| &r.original_name == name);
        let row = row.ok_or_else(|| anyhow::anyhow!("{name} was not recorded"))?;
        assert_eq!(row.size_bytes, bytes.len() as i64, "{name}");
        assert_eq!(row.sha256, sha256(bytes), "{name}: the row's hash");
        let object = app.state.storage.fetch(&row.object_key).await?;
        assert!(object == *bytes, "{name}: the stored bytes differ from those sent");
    }
    if let Some(budget) = app.state.storage.part_budget() {
        assert_eq!(bucket_objects(&app).await?.len(), UPLOADS);
        assert_eq!(unfinished_uploads(&app)?, [], "multipart uploads left unfinished");
        assert_eq!(budget.available_mib(), 16, "every part gave its budget back");
    }
    Ok(())
}

async fn uploads_past_the_buffer_budget_on_s3(backend: Backend) -> anyhow::Result<()> {
    uploads_past_the_buffer_budget_wait_and_arrive_whole(backend, Store::S3).await
}

async fn uploads_past_the_buffer_budget_on_a_local_folder(backend: Backend) -> anyhow::Result<()> {
    uploads_past_the_buffer_budget_wait_and_arrive_whole(backend, Store::Local).await
}

on_both_backends!(
    uploads_past_the_buffer_budget_on_s3,
    uploads_past_the_buffer_budget_on_a_local_folder,
    three_files_on_s3,
    three_files_on_s3_with_crc32_checksums,
    three_files_on_a_local_folder,
    a_file_over_the_limit_gets_413_and_leaves_nothing,
    disguised_empty_and_oddly_named_files,
    another_clients_documents_are_not_found,
    a_local_download_streams_the_file_with_safe_headers,
    a_row_that_cannot_be_written_leaves_no_object,
    a_file_over_the_limit_on_a_local_folder_leaves_nothing,
    staff_share_a_document_with_the_client,
);
