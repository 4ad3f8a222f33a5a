//! Uploads built to break things: malformed, slow, huge, tiny-parted, disguised and hostile-named.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use harness::files::{exe, jpeg, pdf};
use harness::{Backend, TestApp, on_both_backends, reliability, services};
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::Value;
use shared::db::models::Document;
use shared::db::schema::documents;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A multipart body by hand: (field name, file name, bytes); `None` for a plain field.
fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

/// Writes `request` to the portal over a bare TCP connection, optionally closes
/// the writing half, and reads until the server answers and closes (or `wait`
/// passes). Returns the status (None: closed without an answer) and the time taken.
async fn raw(
    app: &TestApp,
    request: &[u8],
    close_write: bool,
    wait: Duration,
) -> anyhow::Result<(Option<u16>, Duration)> {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let started = Instant::now();
    // The server may answer and close before all is written; that is an answer too.
    let _ = stream.write_all(request).await;
    if close_write {
        let _ = stream.shutdown().await;
    }
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match tokio::time::timeout(wait.saturating_sub(started.elapsed()), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buffer[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && !close_write {
                    break;
                }
            }
            Err(_) => anyhow::bail!("the server neither answered nor closed within {wait:?}"),
        }
    }
    let status = String::from_utf8_lossy(&answer).split_whitespace().nth(1).and_then(|s| s.parse().ok());
    Ok((status, started.elapsed()))
}

fn upload_head(app: &TestApp, matter: &str, bearer: &str, boundary: &str, length: Option<usize>) -> Vec<u8> {
    let host = app.address.trim_start_matches("http://");
    let length = match length {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".to_owned(),
    };
    format!(
        "POST /api/v1/matters/{matter}/documents HTTP/1.1\r\nHost: {host}\r\nAuthorization: {bearer}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n{length}\r\n"
    )
    .into_bytes()
}

/// Rows, stored objects (S3) and unfinished multipart uploads (read from s3s-fs's
/// folder: it does not implement ListMultipartUploads) of a test.
async fn leftovers(app: &TestApp) -> anyhow::Result<(usize, usize, usize)> {
    let rows: i64 = app.state.db.run(|c| Ok(documents::table.count().get_result(c)?)).await?;
    let Some((client, bucket)) = app.state.storage.s3_client() else { return Ok((rows as usize, 0, 0)) };
    let listed = client.list_objects_v2().bucket(bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let unfinished = harness::s3::unfinished_uploads(std::path::Path::new(&services::s3_root()?), bucket)?;
    Ok((rows as usize, listed.contents().len(), unfinished.len()))
}

/// Details of the audit events with `action`, oldest first.
async fn audit_details(app: &TestApp, action: &'static str) -> anyhow::Result<Vec<String>> {
    Ok(app
        .state
        .db
        .run(move |c| {
            use shared::db::schema::audit_events;
            Ok(audit_events::table
                .filter(audit_events::action.eq(action))
                .order(audit_events::id)
                .select(audit_events::detail.assume_not_null())
                .load(c)?)
        })
        .await?)
}

async fn signed_in_client(app: &TestApp) -> anyhow::Result<(String, String)> {
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    Ok((format!("Bearer {}", app.session_token(&client.id).await?), client.matter_id))
}

async fn malformed_and_slow_uploads_leave_nothing(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_s3().settings(&[("MATTERLINE_UPLOAD_IDLE_SECONDS", "2")]).spawn().await?;
    let (bearer, matter) = signed_in_client(&app).await?;
    let boundary = "b0undary7MA4YWxk";
    let file = pdf(200_000);
    let whole = multipart(boundary, &[("file", Some("bill.pdf"), file.as_slice())]);
    let mut outcomes: Vec<(String, String)> = Vec::new();
    let mut sent = 0;

    // Truncated: the body promises more than it sends, then the client goes away.
    let mut request = upload_head(&app, &matter, &bearer, boundary, Some(whole.len()));
    request.extend_from_slice(&whole[..whole.len() / 2]);
    // The portal reads to the early end and answers 400 (`stopped: incomplete`) on the half still open.
    let (status, _) = raw(&app, &request, true, Duration::from_secs(20)).await?;
    assert_eq!(status, Some(400), "truncated body");
    outcomes.push(("truncated body, connection closed".into(), format!("{status:?}")));
    sent += 1;

    // No closing boundary: a chunked body that ends in the middle of the file part.
    let mut request = upload_head(&app, &matter, &bearer, boundary, None);
    let cut = &whole[..whole.len() - 40];
    request.extend_from_slice(format!("{:x}\r\n", cut.len()).as_bytes());
    request.extend_from_slice(cut);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, _) = raw(&app, &request, false, Duration::from_secs(20)).await?;
    assert_eq!(status, Some(400), "no closing boundary");
    outcomes.push(("multipart without its closing boundary".into(), format!("{status:?}")));
    sent += 1;

    // Garbage where the parts should be, and a multipart type without a boundary.
    let mut request = upload_head(&app, &matter, &bearer, boundary, Some(26));
    request.extend_from_slice(b"this is not multipart at a");
    let (status, _) = raw(&app, &request, false, Duration::from_secs(20)).await?;
    assert_eq!(status, Some(400), "garbage body");
    outcomes.push(("garbage instead of parts".into(), format!("{status:?}")));
    let no_boundary = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header(AUTHORIZATION, &bearer)
        .header("Content-Type", "multipart/form-data")
        .body(whole.clone())
        .send()
        .await?;
    assert_eq!(no_boundary.status(), StatusCode::BAD_REQUEST);
    outcomes.push(("multipart type without a boundary".into(), no_boundary.status().as_u16().to_string()));
    sent += 2;

    // Huge headers: one 200 KB header, and 500 headers.
    let host = app.address.trim_start_matches("http://").to_owned();
    let big = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Filler: {}\r\n\r\n", "a".repeat(200_000));
    let (status, _) = raw(&app, big.as_bytes(), false, Duration::from_secs(20)).await?;
    assert_eq!(status, Some(431), "200 KB header");
    outcomes.push(("one 200 KB header".into(), format!("{status:?}")));
    let many: String = (0..500).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n{many}\r\n");
    let (status, _) = raw(&app, many.as_bytes(), false, Duration::from_secs(20)).await?;
    assert_eq!(status, Some(431), "500 headers");
    outcomes.push(("500 headers".into(), format!("{status:?}")));
    let (long, small) = ("n".repeat(100_000), pdf(1000));
    let long_name = multipart(boundary, &[("file", Some(long.as_str()), small.as_slice())]);
    let mut request = upload_head(&app, &matter, &bearer, boundary, Some(long_name.len()));
    request.extend_from_slice(&long_name);
    // A part header the multipart parser refuses: the body is malformed, 400, nothing stored.
    let (status, _) = raw(&app, &request, false, Duration::from_secs(20)).await?;
    assert_eq!(status, Some(400), "a 100 KB file name");
    outcomes.push(("a part header with a 100 KB file name".into(), format!("{status:?}")));
    sent += 3;

    // A slow body: headers and 64 KB, then nothing. The server gives up after the idle time.
    let mut request = upload_head(&app, &matter, &bearer, boundary, Some(whole.len()));
    request.extend_from_slice(&whole[..64 * 1024]);
    let (status, took) = raw(&app, &request, false, Duration::from_secs(30)).await?;
    assert!(took < Duration::from_secs(15), "a stalled upload held the connection for {took:?}");
    assert_eq!(status, Some(400), "a body stalled past the idle limit is answered as incomplete");
    outcomes.push((
        format!("body stalled after 64 KB (idle limit 2 s): answered in {:.1} s", took.as_secs_f64()),
        format!("{status:?}"),
    ));
    sent += 1;
    // Slow headers: half a request line, then nothing; actix's request timeout closes it.
    let (status, took) = raw(&app, b"POST /api/v1/matters/x/documents HT", false, Duration::from_secs(30)).await?;
    assert!(took < Duration::from_secs(15), "a stalled request line held the connection for {took:?}");
    // 408 Request Timeout once the request head's time (10 s) is up, then the connection is closed.
    assert_eq!(status, Some(408), "a stalled request line");
    assert!(took >= Duration::from_secs(9), "closed after {took:?}, before the request head's time was up");
    outcomes.push((format!("request line stalled: closed in {:.1} s", took.as_secs_f64()), format!("{status:?}")));
    sent += 1;

    // The server is still fine, and nothing of any of this was kept.
    assert_eq!(app.get("/healthz").await?.status(), StatusCode::OK);
    // Aborting a refused upload's multipart upload may finish just after the answer: wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (rows, objects, staging) = loop {
        let found = leftovers(&app).await?;
        if found == (0, 0, 0) || std::time::Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((rows, objects, staging), (0, 0, 0), "rows, objects, unfinished uploads left behind");
    // Bodies cut off (no closing boundary; stalled past the idle limit) are audited as failed uploads.
    let cut_off = audit_details(&app, "document.upload_failed").await?;
    assert!(cut_off.iter().filter(|d| *d == "incomplete: bill.pdf").count() >= 2, "{cut_off:?}");

    let table: String = outcomes.iter().map(|(what, status)| format!("| {what} | {status} |\n")).collect();
    reliability::record(
        &format!("security_malformed_uploads_{backend:?}").to_lowercase(),
        &format!("Malformed and slow uploads ({backend:?}, S3)"),
        &format!(
            "| input | answer (None: connection closed) |\n|---|---|\n{table}\n| figure | value |\n|---|---|\n| requests sent | {sent} |\n| rows, objects, unfinished multipart uploads left | {rows}, {objects}, {staging} |\n| server still answering | yes |\n"
        ),
    )?;
    Ok(())
}

async fn thousands_of_tiny_parts_are_survived(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let (bearer, matter) = signed_in_client(&app).await?;
    let boundary = "tinyPartsBoundary";
    let file = pdf(5000);
    let send = |body: Vec<u8>| {
        reqwest::Client::new()
            .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
            .header(AUTHORIZATION, &bearer)
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
    };
    let mut rows_table = String::new();

    // At the limit: 99 fields and a file are 100 parts, all read.
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![("note", None, &b"x"[..]); 99];
    parts.push(("file", Some("at-the-limit.pdf"), file.as_slice()));
    let answer = send(multipart(boundary, &parts)).await?;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let report: Value = answer.json().await?;
    assert_eq!(report["stored"].as_array().map(Vec::len), Some(1), "{report}");
    rows_table.push_str("| 99 one-byte fields, then a PDF (100 parts) | 201, 1 stored | - |\n");

    // 5,000 fields before the file: the upload stops at part 101 and says so.
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![("request", None, &b"x"[..]); 5000];
    parts.push(("file", Some("after-5000-fields.pdf"), file.as_slice()));
    let started = Instant::now();
    let answer = send(multipart(boundary, &parts)).await?;
    let took = started.elapsed();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let report: Value = answer.json().await?;
    assert_eq!(report["stopped"][0], "too_many_parts", "{report}");
    assert_eq!(report["stored"].as_array().map(Vec::len), Some(0), "{report}");
    rows_table.push_str(&format!(
        "| 5,000 one-byte `request` fields, then a PDF | 413 `too_many_parts`, 0 stored | {:.2} s |\n",
        took.as_secs_f64()
    ));

    // 1,000 one-byte files: the first 100 are refused by their bytes (and audited), the rest not read.
    let tiny: Vec<(&str, Option<&str>, &[u8])> = vec![("file", Some("t.pdf"), &b"x"[..]); 1000];
    let started = Instant::now();
    let answer = send(multipart(boundary, &tiny)).await?;
    let took = started.elapsed();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let report: Value = answer.json().await?;
    let refused = report["refused"].as_array().map_or(0, Vec::len);
    assert_eq!(refused, upload_limit(), "{report}");
    assert_eq!(report["stored"].as_array().map(Vec::len), Some(0), "{report}");
    rows_table.push_str(&format!(
        "| 1,000 one-byte files | 413, {refused} refused, 0 stored | {:.2} s |\n",
        took.as_secs_f64()
    ));
    let audited: i64 = app
        .state
        .db
        .run(|c| {
            use shared::db::schema::audit_events;
            Ok(audit_events::table.filter(audit_events::action.eq("document.refused")).count().get_result(c)?)
        })
        .await?;
    assert_eq!(audited, upload_limit() as i64, "one audit row per refused file, no more");
    // Both uploads that stopped at the part limit are audited, once each.
    assert_eq!(audit_details(&app, "document.upload_failed").await?, ["too_many_parts", "too_many_parts"]);
    assert_eq!(app.get("/healthz").await?.status(), StatusCode::OK);
    let rows: i64 = app.state.db.run(|c| Ok(documents::table.count().get_result(c)?)).await?;
    assert_eq!(rows, 1);

    reliability::record(
        &format!("security_tiny_parts_{backend:?}").to_lowercase(),
        &format!("Thousands of tiny parts ({backend:?})"),
        &format!(
            "At most {} parts are read from one upload.\n\n| input | answer | time |\n|---|---|---|\n{rows_table}| audit rows written for refused files | {audited} | - |\n",
            upload_limit()
        ),
    )?;
    Ok(())
}

/// The most parts one upload may have.
fn upload_limit() -> usize {
    portal::upload::MAX_PARTS
}

async fn disguised_files_and_hostile_names(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let (bearer, matter) = signed_in_client(&app).await?;
    let boundary = "namesBoundary";
    let send = |body: Vec<u8>| {
        reqwest::Client::new()
            .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
            .header(AUTHORIZATION, &bearer)
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
    };
    // Disguised: the name says one thing, the bytes another.
    let html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>".to_vec();
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00evil.js".to_vec();
    let mut polyglot_pdf = pdf(2000);
    polyglot_pdf.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let mut gifar = jpeg(3000);
    gifar.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00payload.class");
    let disguised: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("bill.pdf", exe(), None),
        ("photo.jpg", html, None),
        ("scan.png", svg, None),
        ("records.pdf", zip, None),
        ("polyglot.pdf", polyglot_pdf, Some("application/pdf")),
        ("photo-with-zip.jpg", gifar, Some("image/jpeg")),
    ];
    let parts: Vec<(&str, Option<&str>, &[u8])> =
        disguised.iter().map(|(name, bytes, _)| ("file", Some(*name), bytes.as_slice())).collect();
    let report: Value = send(multipart(boundary, &parts)).await?.json().await?;
    let stored: Vec<String> = report["stored"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(stored, ["polyglot.pdf", "photo-with-zip.jpg"], "{report}");
    let by_bytes =
        report["refused"].as_array().into_iter().flatten().filter(|r| r["reason"] == "unsupported_type").count();
    assert_eq!(by_bytes, disguised.len() - stored.len(), "every file not stored is refused by its bytes: {report}");
    let mut served = 0;
    // What is stored is served as what its bytes are, never rendered inline by the browser.
    for stored in report["stored"].as_array().into_iter().flatten() {
        let id = stored["id"].as_str().unwrap_or_default();
        let download = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/matters/{matter}/documents/{id}/download")))
            .header(AUTHORIZATION, &bearer)
            .send()
            .await?;
        let header = |n: &str| download.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let expected =
            disguised.iter().find(|d| Some(d.0) == stored["name"].as_str()).and_then(|d| d.2).unwrap_or_default();
        assert_eq!(header("content-type"), expected);
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(header("content-disposition").starts_with("attachment;"));
        assert!(header("content-security-policy").contains("default-src 'self'"));
        served += 1;
    }

    // Hostile names: each stored under its sanitised display name; the object key is ours alone.
    let long = format!("{}.pdf", "x".repeat(10_000));
    let names: Vec<(&str, &str)> = vec![
        ("../../etc/passwd", "passwd"),
        // In a quoted multipart parameter a backslash escapes the next character, so the parser
        // hands over "....windowsx.pdf": no separator survives either way.
        ("..\\..\\windows\\x.pdf", "windowsx.pdf"),
        ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
        ("\u{2067}evil\u{2069}.pdf", "evil.pdf"),
        ("a\u{0}b\u{7}c.pdf", "abc.pdf"),
        ("📄 factura 🚗.pdf", "📄 factura 🚗.pdf"),
        ("فاتورة طبية.pdf", "فاتورة طبية.pdf"),
        ("...", "document"),
        ("  .bashrc", "bashrc"),
        ("%2e%2e%2fetc%2fpasswd", "%2e%2e%2fetc%2fpasswd"),
        ("C:\\Users\\me\\bill.pdf", "C:Usersmebill.pdf"),
        (long.as_str(), ""),
    ];
    let file = pdf(1200);
    let mut tried = 0;
    let mut kept = Vec::new();
    for (raw_name, expected) in &names {
        tried += 1;
        let answer = send(multipart(boundary, &[("file", Some(*raw_name), file.as_slice())])).await?;
        let status = answer.status();
        let report: Value = answer.json().await.unwrap_or_default();
        match report["stored"][0]["name"].as_str() {
            Some(name) => {
                if expected.is_empty() {
                    assert_eq!(name.chars().count(), 120, "a 10 KB name is cut to 120 characters");
                } else {
                    assert_eq!(name, *expected, "{raw_name:?}");
                }
                assert!(!name.contains(['/', '\\']) && !name.chars().any(char::is_control), "{name:?}");
                kept.push(format!(
                    "`{}` → `{}`",
                    raw_name.escape_debug().to_string().chars().take(40).collect::<String>(),
                    name.escape_debug().to_string().chars().take(40).collect::<String>()
                ));
            }
            None => {
                // A name the multipart parser itself refuses is an acceptable answer; nothing is stored.
                assert!(status.is_client_error(), "{raw_name:?}: {status} {report}");
                kept.push(format!("`{}` → refused ({status})", raw_name.escape_debug()));
            }
        }
    }
    let keys: Vec<String> = app
        .state
        .db
        .run(|c| Ok(documents::table.select(Document::as_select()).load(c)?))
        .await?
        .into_iter()
        .map(|d| d.object_key)
        .collect();
    for key in &keys {
        let segments: Vec<&str> = key.split('/').collect();
        assert_eq!(segments.len(), 6, "{key}");
        assert!(segments[1].len() == 32 && segments[5].len() == 32, "{key}");
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '/'), "{key}");
    }
    // Nothing was written outside the document folder.
    let documents_dir = app.db.dir.path().join("data");
    let stray: Vec<_> = walk(&documents_dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("passwd") || p.to_string_lossy().contains("bashrc"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    assert!(!std::path::Path::new("/etc/passwd.pdf").exists());

    reliability::record(
        &format!("security_names_{backend:?}").to_lowercase(),
        &format!("Disguised files and hostile names ({backend:?})"),
        &format!(
            "| figure | value |\n|---|---|\n| disguised or polyglot files sent | {} |\n| refused by their bytes | {by_bytes} |\n| polyglots stored, served as their sniffed type with `nosniff` and `attachment` | {served} |\n| hostile names tried | {tried} |\n| object keys outside `firms/<hex>/matters/<hex>/documents/<hex>` | 0 |\n\nNames as stored: {}\n",
            disguised.len(),
            kept.join("; ")
        ),
    )?;
    Ok(())
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

on_both_backends!(
    malformed_and_slow_uploads_leave_nothing,
    thousands_of_tiny_parts_are_survived,
    disguised_files_and_hostile_names,
);
