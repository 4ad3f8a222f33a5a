//! Limits and containment: a panic after a request's change was committed
//! does not take its answer down, and a handler that panics still answers;
//! no JSON answer is kept by a browser or proxy; a JSON body over the limit is
//! 413; an upload that trickles past the time allowed is stopped; and a closed
//! matter takes no more uploads unless its firm allows them.
//!
//! Panics are injected with `MATTERLINE_FAULT_PANIC_MARKER` (debug builds
//! only): a receipt listing a file whose name holds the marker panics while it
//! is composed, an email to a client whose name holds it panics while it is
//! sent, and a request whose query string holds it panics where its handler runs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use harness::files::pdf;
use harness::fixtures::Demo;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::{audit_events, documents, notifications, users};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The text that makes composing, sending or handling panic; no ordinary input holds it.
const MARKER: &str = "PANICMARK7f3a";

/// The JSON body limit the portal documents (`portal::app::JSON_BODY_LIMIT`).
const JSON_LIMIT: usize = portal::app::JSON_BODY_LIMIT;

fn pdf_form(name: &str) -> anyhow::Result<reqwest::multipart::Form> {
    Ok(reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf(3000)).file_name(name.to_owned()).mime_str("application/pdf")?,
    ))
}

/// (kind, status, last error) of the notifications to `user_id`.
async fn notices_to(app: &TestApp, user_id: &str) -> anyhow::Result<Vec<(String, String, Option<String>)>> {
    let user_id = user_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(notifications::table
                .filter(notifications::recipient_id.eq(&user_id))
                .select((notifications::kind, notifications::status, notifications::last_error))
                .order(notifications::created_at)
                .load(c)?)
        })
        .await?)
}

/// The notifications to `user_id` once none is pending or being sent (delivery
/// may finish after the answer), or an error after 20 s.
async fn settled_notices(app: &TestApp, user_id: &str) -> anyhow::Result<Vec<(String, String, Option<String>)>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = notices_to(app, user_id).await?;
        if !rows.is_empty() && rows.iter().all(|(_, status, _)| status != "pending" && status != "sending") {
            return Ok(rows);
        }
        anyhow::ensure!(Instant::now() < deadline, "notifications still waiting after 20 s: {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn rows_in(app: &TestApp, status: &'static str) -> anyhow::Result<i64> {
    Ok(app
        .state
        .db
        .run(move |c| Ok(notifications::table.filter(notifications::status.eq(status)).count().get_result(c)?))
        .await?)
}

async fn a_panic_after_a_request_committed_does_not_take_its_answer(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_FAULT_PANIC_MARKER", MARKER)]).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in(&jordan.email).await?;
    let upload = format!("/api/v1/matters/{}/documents", jordan.matter_id);

    // The upload is stored; composing its receipt panics (the file's name holds the marker).
    let marked = format!("bill-{MARKER}.pdf");
    let answer = session.request(Method::POST, &upload).multipart(pdf_form(&marked)?).send().await?;
    assert_eq!(answer.status(), StatusCode::CREATED, "the upload's own answer");
    let report: Value = answer.json().await?;
    assert_eq!(report["stored"][0]["name"], marked.as_str(), "{report}");
    let receipts = settled_notices(&app, &jordan.id).await?;
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    let (kind, status, reason) = &receipts[0];
    assert_eq!((kind.as_str(), status.as_str()), ("upload_receipt", "failed"), "{receipts:?}");
    let reason = reason.clone().unwrap_or_default();
    assert!(reason.starts_with("could not compose the message: internal error (injected fault"), "{reason}");

    // The same through the upload page: the receipt page, not a dropped connection.
    let cookie = format!("matterline_session={}", session.token);
    let page = app
        .raw_client()?
        .post(app.url(&format!("/matters/{}/upload", jordan.matter_id)))
        .header("Cookie", &cookie)
        .multipart(pdf_form(&format!("scan-{MARKER}.pdf"))?)
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await?.contains(&format!("scan-{MARKER}.pdf")), "the receipt page lists the file");

    // Sending a sign-in link panics for a client whose name holds the marker; the page still answers.
    let email = demo.email("lucia");
    let lookup = email.clone();
    app.state
        .db
        .run(move |c| {
            diesel::update(users::table.filter(users::email.eq(&lookup)))
                .set(users::full_name.eq(format!("Lucía {MARKER}")))
                .execute(c)?;
            Ok(())
        })
        .await?;
    let lucia = app.user_id(&email).await?;
    let asked = app.client.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    assert_eq!(asked.status(), StatusCode::OK, "the sign-in page's own answer");
    // The email is queued and sent after the answer: wait for that work.
    app.background_done().await;
    let links = settled_notices(&app, &lucia).await?;
    assert_eq!(links.len(), 1, "{links:?}");
    let reason = links[0].2.clone().unwrap_or_default();
    assert_eq!((links[0].0.as_str(), links[0].1.as_str()), ("sign_in", "failed"), "{links:?}");
    assert!(reason.starts_with("the message could not be sent: internal error (injected fault"), "{reason}");

    // Nothing is left claimed, and the portal goes on delivering.
    assert_eq!(rows_in(&app, "sending").await?, 0, "no row waits for its lease");
    let plain = session.request(Method::POST, &upload).multipart(pdf_form("x-ray.pdf")?).send().await?;
    assert_eq!(plain.status(), StatusCode::CREATED);
    let receipts = settled_notices(&app, &jordan.id).await?;
    let sent = receipts.iter().filter(|(_, status, _)| status == "sent").count();
    assert_eq!((receipts.len(), sent), (3, 1), "{receipts:?}");
    Ok(())
}

async fn a_handler_that_panics_answers_500_and_the_portal_goes_on(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_FAULT_PANIC_MARKER", MARKER)]).spawn().await?;
    let demo = app.seed_demo().await?;
    let session = app.signed_in(&demo.email("lucia")).await?;
    let http = app.raw_client()?;
    // More panics than the portal has workers: each is answered, and none takes a worker down.
    for round in 0..6 {
        let page =
            http.get(app.url(&format!("/sign-in?fault={MARKER}"))).header("Accept-Language", "es").send().await?;
        assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR, "round {round}");
        let id = page.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(page.headers().contains_key("content-security-policy"), "security headers on the 500 page");
        let html = page.text().await?;
        assert!(!id.is_empty() && html.contains(&id), "the 500 page shows the request id {id}");
        assert!(html.contains("Algo salió mal"), "in the page's language: {html}");
        assert!(!html.contains("injected fault"), "no detail of the panic is shown");

        let api = session.request(Method::GET, &format!("/api/v1/me?fault={MARKER}")).send().await?;
        assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR, "round {round}");
        let no_store = api.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(no_store, "no-store");
        assert_eq!(api.json::<Value>().await?, json!({ "error": "internal error", "status": 500 }));
    }
    assert_eq!(app.get("/healthz").await?.status(), StatusCode::OK);
    assert_eq!(session.get_status("/api/v1/me").await?, StatusCode::OK);
    let metrics = app.get("/metrics").await?.text().await?;
    assert!(metrics.contains("matterline_panics_total{where=\"request\"}"), "panics are counted");
    Ok(())
}

/// Sessions and ids to fill a route template with.
struct Callers {
    demo: Demo,
    client: harness::fixtures::Client,
    client_token: String,
    admin_token: String,
    document: String,
}

impl Callers {
    async fn new(app: &TestApp) -> anyhow::Result<Self> {
        let demo = app.seed_demo().await?;
        let client = app.client(&demo.email("jordan")).await?;
        let client_token = app.session_token(&client.id).await?;
        let admin_token = app.session_token(&app.user_id(&demo.email("admin")).await?).await?;
        let stored: Value = app
            .raw_client()?
            .post(app.url(&format!("/api/v1/matters/{}/documents", client.matter_id)))
            .header(AUTHORIZATION, format!("Bearer {client_token}"))
            .multipart(pdf_form("bill.pdf")?)
            .send()
            .await?
            .json()
            .await?;
        let document = stored["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
        anyhow::ensure!(!document.is_empty(), "setup upload: {stored}");
        Ok(Self { demo, client, client_token, admin_token, document })
    }

    /// `template` with its parameters filled in: the client's matter, the client, a
    /// document of theirs, a new open request on the matter, the intake phase.
    async fn fill(&self, app: &TestApp, template: &str) -> anyhow::Result<String> {
        let id = if template.contains("/clients/{id}") { &self.client.id } else { &self.client.matter_id };
        let mut path = template
            .replace("{id}", id)
            .replace("{document}", &self.document)
            .replace("{area}", shared::catalogue::PERSONAL_INJURY)
            .replace("{key}", "intake");
        if path.contains("{request}") {
            let admin = app.signed_in(&self.demo.email("admin")).await?;
            let request: Value = admin
                .post_json(
                    &format!("/api/v1/staff/matters/{}/requests", self.client.matter_id),
                    &json!({ "title": "Another bill" }),
                    StatusCode::CREATED,
                )
                .await?;
            path = path.replace("{request}", request["id"].as_str().unwrap_or_default());
        }
        Ok(path)
    }

    /// The bearer token of who may call `path`: the admin for the staff API, else the client.
    fn token_for(&self, path: &str) -> &str {
        if path.starts_with("/api/v1/staff/") { &self.admin_token } else { &self.client_token }
    }
}

async fn no_json_answer_is_kept_by_a_browser_or_proxy(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let callers = Callers::new(&app).await?;
    let http = app.raw_client()?;
    let api: Vec<(String, String)> =
        harness::routes::registered()?.into_iter().filter(|(_, path)| path.starts_with("/api/")).collect();
    assert!(api.len() >= 25, "only {} API routes registered", api.len());
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    let mut kept = Vec::new();
    for (method, template) in &api {
        let path = callers.fill(&app, template).await?;
        for signed_in in [false, true] {
            let mut request = http.request(method.parse()?, app.url(&path));
            if signed_in {
                request = request.header(AUTHORIZATION, format!("Bearer {}", callers.token_for(&path)));
            }
            request = match method.as_str() {
                "POST" if path.ends_with("/documents") => request.multipart(pdf_form("cache.pdf")?),
                "POST" if path.ends_with("/import") => request
                    .header(CONTENT_TYPE, "text/csv")
                    .body("external_id,matter_title,client_name,client_email\nC-1,Cached,Cache Client,cache@x.test\n"),
                "POST" | "PUT" | "PATCH" => request.json(&json!({})),
                _ => request,
            };
            let answer = request.send().await?;
            let status = answer.status().as_u16();
            *by_status.entry(status).or_default() += 1;
            let cache = answer.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()).unwrap_or_default();
            if !cache.split(',').any(|d| d.trim() == "no-store") {
                kept.push(format!("{method} {template} (signed in: {signed_in}) → {status}, Cache-Control {cache:?}"));
            }
        }
    }
    // Answers that are not JSON errors count too: a 200 with personal data is what this is about.
    let ok = by_status.iter().filter(|(s, _)| (200..300).contains(*s)).map(|(_, n)| n).sum::<usize>();
    assert!(ok >= 20, "too few successful answers to say anything: {by_status:?}");
    assert!(kept.is_empty(), "API answers a browser or proxy may keep:\n{}", kept.join("\n"));
    // JSON outside /api as well.
    let ready = app.get("/readyz").await?;
    assert_eq!(ready.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    let statuses: Vec<String> = by_status.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    reliability::record(
        &format!("limits_no_store_{backend:?}").to_lowercase(),
        &format!("No JSON answer is cached ({backend:?})"),
        &format!(
            "Every API route registered on the app, anonymous and signed in.\n\n| figure | value |\n|---|---|\n\
             | API routes | {} |\n| requests sent | {} |\n| statuses seen | {} |\n| answers without `no-store` | {} |\n",
            api.len(),
            api.len() * 2,
            statuses.join(", "),
            kept.len()
        ),
    )?;
    Ok(())
}

async fn a_json_body_over_the_limit_is_413_on_every_json_route(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let callers = Callers::new(&app).await?;
    let http = app.raw_client()?;
    // The routes whose description says they take JSON.
    let description: Value = app.get("/api/openapi.json").await?.json().await?;
    let mut json_routes = Vec::new();
    for (path, item) in description["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if operation["requestBody"]["content"].get("application/json").is_some() {
                json_routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(json_routes.len() >= 9, "JSON routes: {json_routes:?}");
    // Valid JSON, one byte over the limit.
    let over = {
        let mut body = format!("{{\"name\":\"{}\"}}", "a".repeat(JSON_LIMIT));
        body.truncate(JSON_LIMIT - 2);
        body.push_str("\"}");
        body.push(' ');
        body
    };
    assert_eq!(over.len(), JSON_LIMIT + 1);
    let mut wrong = Vec::new();
    for (method, template) in &json_routes {
        let path = callers.fill(&app, template).await?;
        let answer = http
            .request(method.parse()?, app.url(&path))
            .header(AUTHORIZATION, format!("Bearer {}", callers.token_for(&path)))
            .header(CONTENT_TYPE, "application/json")
            .body(over.clone())
            .send()
            .await?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or_default();
        let says = body["error"].as_str().unwrap_or_default();
        if status != StatusCode::PAYLOAD_TOO_LARGE
            || says != format!("body: larger than the limit of {JSON_LIMIT} bytes")
        {
            wrong.push(format!("{method} {template}: {status} {body}"));
        }
    }
    assert!(wrong.is_empty(), "JSON bodies over the limit:\n{}", wrong.join("\n"));

    // Without a length (chunked), the limit holds as the body arrives.
    let chunks = futures_util::stream::iter(
        over.clone().into_bytes().chunks(64 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let chunked = http
        .patch(app.url("/api/v1/staff/settings"))
        .header(AUTHORIZATION, format!("Bearer {}", callers.admin_token))
        .header(CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await?;
    assert_eq!(chunked.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // At the limit, the body is read and judged on what it says (a phone number that long is refused).
    let at_limit = {
        let mut body = format!("{{\"phone\":\"{}\"}}", "1".repeat(JSON_LIMIT));
        body.truncate(JSON_LIMIT - 2);
        body.push_str("\"}");
        body
    };
    let judged = http
        .patch(app.url("/api/v1/staff/settings"))
        .header(AUTHORIZATION, format!("Bearer {}", callers.admin_token))
        .header(CONTENT_TYPE, "application/json")
        .body(at_limit)
        .send()
        .await?;
    assert_eq!(judged.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The import takes JSON too, up to its own 32 MB.
    let import_limit = 32 * 1024 * 1024;
    let import = http
        .post(app.url("/api/v1/staff/import"))
        .header(AUTHORIZATION, format!("Bearer {}", callers.admin_token))
        .header(CONTENT_TYPE, "application/json")
        .body(vec![b' '; import_limit + 1024])
        .send()
        .await?;
    assert_eq!(import.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = import.json().await?;
    assert_eq!(body["error"], format!("body: larger than the limit of {import_limit} bytes"));
    reliability::record(
        &format!("limits_json_413_{backend:?}").to_lowercase(),
        &format!("JSON bodies over the limit ({backend:?})"),
        &format!(
            "| figure | value |\n|---|---|\n| JSON routes (from the API description) | {} |\n\
             | answered 413 to a body 1 byte over {JSON_LIMIT} bytes | {} |\n\
             | a chunked body over the limit | 413 |\n| a body at the limit | read (422 on its content) |\n\
             | an import over 32 MB | 413 |\n",
            json_routes.len(),
            json_routes.len() - wrong.len()
        ),
    )?;
    Ok(())
}

async fn an_upload_that_trickles_past_the_time_allowed_is_stopped(backend: Backend) -> anyhow::Result<()> {
    // The idle limit never trips (a byte every 200 ms); the total limit of 2 s does.
    let app = TestApp::builder(backend)
        .settings(&[("MATTERLINE_UPLOAD_IDLE_SECONDS", "30"), ("MATTERLINE_UPLOAD_TOTAL_SECONDS", "2")])
        .spawn()
        .await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let token = app.session_token(&client.id).await?;
    let boundary = "trickleBoundary7f3a";
    let file = pdf(200_000);
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let host = app.address.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/v1/matters/{}/documents HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        client.matter_id,
        body.len()
    );
    let stream = tokio::net::TcpStream::connect(&host).await?;
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body[..8 * 1024]).await;
        for chunk in body[8 * 1024..].chunks(64) {
            if writer.write_all(chunk).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(30), reader.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
            Err(_) => anyhow::bail!("no answer 30 s into a trickling upload"),
        }
    }
    let took = started.elapsed();
    trickle.abort();
    let status = String::from_utf8_lossy(&answer).split_whitespace().nth(1).map(str::to_owned);
    assert_eq!(status.as_deref(), Some("408"), "{}", String::from_utf8_lossy(&answer));
    assert!(took < Duration::from_secs(10), "the upload held its connection for {took:?}");

    // Nothing of it was kept, and the attempt is on record.
    let rows: i64 = app.state.db.run(|c| Ok(documents::table.count().get_result(c)?)).await?;
    assert_eq!(rows, 0);
    let folder = app.state.config.data_dir.join("documents");
    let files = walk(&folder);
    assert!(files.is_empty(), "files left in the document folder: {files:?}");
    let audited: Vec<Option<String>> = app
        .state
        .db
        .run(|c| {
            Ok(audit_events::table
                .filter(audit_events::action.eq("document.upload_failed"))
                .select(audit_events::detail)
                .load(c)?)
        })
        .await?;
    assert_eq!(audited, vec![Some("too_slow: slow.pdf".to_owned())]);
    reliability::record(
        &format!("limits_upload_total_{backend:?}").to_lowercase(),
        &format!("An upload past the time allowed ({backend:?})"),
        &format!(
            "A body that sends 64 bytes every 200 ms never trips the idle limit (30 s); the total limit (2 s) \
             stops it.\n\n| figure | value |\n|---|---|\n| answer | 408 after {:.1} s |\n\
             | rows and files left | {rows}, {} |\n",
            took.as_secs_f64(),
            files.len()
        ),
    )?;
    Ok(())
}

/// Every file under `dir` (none when it does not exist).
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

async fn a_closed_matter_takes_no_uploads_unless_the_firm_allows_them(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in(&demo.email("admin")).await?;
    let casey = app.signed_in(&demo.email("casey")).await?;
    let jordan = app.client(&demo.email("jordan")).await?; // English
    let lucia = app.client(&demo.email("lucia")).await?; // Spanish
    for matter in [&jordan.matter_id, &lucia.matter_id] {
        let _: Value = admin
            .patch_json(&format!("/api/v1/staff/matters/{matter}"), &json!({ "closed": true }), StatusCode::OK)
            .await?;
    }
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["closed_matter_uploads"], false, "off unless the firm says so");

    // The API refuses, in the client's language, and keeps nothing.
    let jordan_token = app.session_token(&jordan.id).await?;
    let lucia_token = app.session_token(&lucia.id).await?;
    let refused = upload(&app, &jordan, &jordan_token).await?;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await?;
    assert!(body["error"].as_str().unwrap_or_default().starts_with("Your case is closed"), "{body}");
    let refused = upload(&app, &lucia, &lucia_token).await?;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await?;
    assert!(body["error"].as_str().unwrap_or_default().starts_with("Su caso está cerrado"), "{body}");

    // The pages say so too: the upload form is replaced by the message, the POST refused.
    let http = app.raw_client()?;
    let cookie = format!("matterline_session={lucia_token}");
    let form =
        http.get(app.url(&format!("/matters/{}/upload", lucia.matter_id))).header("Cookie", &cookie).send().await?;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await?;
    assert!(html.contains("Este caso está cerrado") && !html.contains("type=\"file\""), "{html}");
    let matter_page =
        http.get(app.url(&format!("/matters/{}", lucia.matter_id))).header("Cookie", &cookie).send().await?;
    let html = matter_page.text().await?;
    assert!(!html.contains(&format!("/matters/{}/upload", lucia.matter_id)), "no upload link on a closed matter");
    assert!(html.contains("Su caso está cerrado"), "the matter page says why");
    let posted = http
        .post(app.url(&format!("/matters/{}/upload", lucia.matter_id)))
        .header("Cookie", &cookie)
        .multipart(pdf_form("late.pdf")?)
        .send()
        .await?;
    assert_eq!(posted.status(), StatusCode::CONFLICT);
    assert!(posted.text().await?.contains("Este caso está cerrado"));
    let stored: i64 = app.state.db.run(|c| Ok(documents::table.count().get_result(c)?)).await?;
    assert_eq!(stored, 0, "nothing of a refused upload is kept");
    let refusals: i64 = app
        .state
        .db
        .run(|c| {
            Ok(audit_events::table
                .filter(audit_events::action.eq("document.refused"))
                .filter(audit_events::detail.eq("matter closed"))
                .count()
                .get_result(c)?)
        })
        .await?;
    assert_eq!(refusals, 3, "each refusal is audited");
    // The firm can still share documents on a closed matter.
    let shared = admin
        .request(Method::POST, &format!("/api/v1/staff/matters/{}/documents", jordan.matter_id))
        .multipart(pdf_form("final-statement.pdf")?)
        .send()
        .await?;
    assert_eq!(shared.status(), StatusCode::CREATED);

    // Only an admin changes the setting; with it on, the client's upload is stored.
    let denied = casey
        .request(Method::PATCH, "/api/v1/staff/settings")
        .json(&json!({ "closed_matter_uploads": true }))
        .send()
        .await?;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let on: Value =
        admin.patch_json("/api/v1/staff/settings", &json!({ "closed_matter_uploads": true }), StatusCode::OK).await?;
    assert_eq!(on["closed_matter_uploads"], true, "{on}");
    assert_eq!(upload(&app, &jordan, &jordan_token).await?.status(), StatusCode::CREATED);

    // The staff Settings page shows it and turns it off again (an unticked box).
    let admin_cookie = format!("matterline_session={}", admin.token);
    let page = http.get(app.url("/staff/settings")).header("Cookie", &admin_cookie).send().await?.text().await?;
    assert!(page.contains("name=\"closed_matter_uploads\" type=\"checkbox\" value=\"1\" checked"), "{page}");
    assert!(page.contains("Let clients upload documents to closed matters"));
    let saved = http
        .post(app.url("/staff/settings"))
        .header("Cookie", &admin_cookie)
        .form(&[("name", "Demo Injury Law"), ("time_zone", "America/Chicago")])
        .send()
        .await?;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let off: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(off["closed_matter_uploads"], false, "{off}");
    assert_eq!(upload(&app, &jordan, &jordan_token).await?.status(), StatusCode::CONFLICT);
    let saved = http
        .post(app.url("/staff/settings"))
        .header("Cookie", &admin_cookie)
        .form(&[("name", "Demo Injury Law"), ("time_zone", "America/Chicago"), ("closed_matter_uploads", "1")])
        .send()
        .await?;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let on: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(on["closed_matter_uploads"], true, "{on}");
    Ok(())
}

/// A client's upload of one PDF to their matter through the API.
async fn upload(app: &TestApp, who: &harness::fixtures::Client, token: &str) -> anyhow::Result<reqwest::Response> {
    Ok(app
        .raw_client()?
        .post(app.url(&format!("/api/v1/matters/{}/documents", who.matter_id)))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .multipart(pdf_form("late.pdf")?)
        .send()
        .await?)
}

on_both_backends!(
    a_panic_after_a_request_committed_does_not_take_its_answer,
    a_handler_that_panics_answers_500_and_the_portal_goes_on,
    no_json_answer_is_kept_by_a_browser_or_proxy,
    a_json_body_over_the_limit_is_413_on_every_json_route,
    an_upload_that_trickles_past_the_time_allowed_is_stopped,
    a_closed_matter_takes_no_uploads_unless_the_firm_allows_them,
);
