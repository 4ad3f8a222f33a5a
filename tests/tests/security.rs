//! Hardening: who may call what (a matrix over every route, read from the
//! route files themselves), forged and replayed tokens, cross-site forms,
//! markup typed into every field, security headers and cookies, open
//! redirects, and uploads built to break the parser. Each test writes what it
//! tried to `docs/reliability.md`. The threat model is `docs/security.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use harness::files::{exe, jpeg, pdf};
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends, reliability, services};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use shared::db::models::Document;
use shared::db::schema::{documents, ratings, sessions, users};
use shared::domain::{Role, now};
use shared::staff::Staff;
use shared::tokens::Purpose;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The signing secret the harness gives every test portal.
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123";
/// A site that is not the portal.
const EVIL: &str = "https://evil.test";

// ---------------------------------------------------------------------------
// The route table, read from the route files
// ---------------------------------------------------------------------------

/// Every file under `portal/src/routes/`, compiled in: a route added anywhere
/// there is seen by the matrix (and a new file must be listed, see below).
const ROUTE_FILES: &[(&str, &str)] = &[
    ("api.rs", include_str!("../../portal/src/routes/api.rs")),
    ("client.rs", include_str!("../../portal/src/routes/client.rs")),
    ("dev_mailbox.rs", include_str!("../../portal/src/routes/dev_mailbox.rs")),
    ("documents.rs", include_str!("../../portal/src/routes/documents.rs")),
    ("health.rs", include_str!("../../portal/src/routes/health.rs")),
    ("language.rs", include_str!("../../portal/src/routes/language.rs")),
    ("mod.rs", include_str!("../../portal/src/routes/mod.rs")),
    ("openapi.rs", include_str!("../../portal/src/routes/openapi.rs")),
    ("preferences.rs", include_str!("../../portal/src/routes/preferences.rs")),
    ("sign_in.rs", include_str!("../../portal/src/routes/sign_in.rs")),
    ("static_files.rs", include_str!("../../portal/src/routes/static_files.rs")),
    ("staff/api.rs", include_str!("../../portal/src/routes/staff/api.rs")),
    ("staff/mod.rs", include_str!("../../portal/src/routes/staff/mod.rs")),
    ("staff/pages.rs", include_str!("../../portal/src/routes/staff/pages.rs")),
    ("staff/sign_in.rs", include_str!("../../portal/src/routes/staff/sign_in.rs")),
];

/// (METHOD, path template) of every `#[get("…")]`-style route attribute.
fn declared_routes() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (file, text) in ROUTE_FILES {
        for needle in ["web::resource(", ".route(", "web::scope(", "#[route("] {
            assert!(!text.contains(needle), "{file} registers a route with {needle}; the matrix reads only attributes");
        }
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "patch", "delete", "head"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                    let path = rest.split('"').next().unwrap_or_default();
                    found.insert((method.to_uppercase(), path.to_owned()));
                }
            }
        }
    }
    found
}

#[test]
fn every_route_file_is_read_by_the_matrix() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../portal/src/routes");
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                on_disk.insert(path.strip_prefix(&root)?.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let listed: BTreeSet<String> = ROUTE_FILES.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(on_disk, listed, "list every route file in ROUTE_FILES (tests/tests/security.rs)");
    Ok(())
}

// ---------------------------------------------------------------------------
// The authorization matrix
// ---------------------------------------------------------------------------

/// Who asks, in the order of every row's expected statuses.
const ACTORS: [&str; 6] =
    ["anonymous", "client A", "client B", "staff of firm A", "admin of firm B", "admin of firm A"];

/// A request body; `{n}`, `{signin}`, `{rating}`, `{client}`, `{domain}` are filled in per request.
#[derive(Clone, Copy)]
enum Body {
    Empty,
    Form(&'static [(&'static str, &'static str)]),
    Json(&'static str),
    Pdf,
    Csv(&'static str),
}

/// (method, route template, query, body, expected status per actor).
type Row = (&'static str, &'static str, &'static str, Body, [u16; 6]);

const EVERYONE_200: [u16; 6] = [200; 6];
/// A client page: sign-in for nobody, the page for its client, 404 for anyone else.
const OWN_CLIENT_PAGE: [u16; 6] = [303, 200, 404, 404, 404, 404];
const SIGNED_IN_PAGE: [u16; 6] = [303, 200, 200, 200, 200, 200];
const SIGNED_IN_API: [u16; 6] = [401, 200, 200, 200, 200, 200];
const STAFF_LIST_API: [u16; 6] = [401, 403, 403, 200, 200, 200];
const STAFF_RECORD_API: [u16; 6] = [401, 403, 403, 200, 404, 200];
const STAFF_ADMIN_API: [u16; 6] = [401, 403, 403, 403, 200, 200];
const STAFF_PAGE: [u16; 6] = [303, 403, 403, 200, 200, 200];
const STAFF_RECORD_PAGE: [u16; 6] = [303, 403, 403, 200, 404, 200];
const STAFF_RECORD_FORM: [u16; 6] = [303, 403, 403, 303, 404, 303];

const ROWS: &[Row] = &[
    ("GET", "/healthz", "", Body::Empty, EVERYONE_200),
    ("GET", "/readyz", "", Body::Empty, EVERYONE_200),
    ("GET", "/metrics", "", Body::Empty, EVERYONE_200),
    ("GET", "/static/{file}", "", Body::Empty, EVERYONE_200),
    ("GET", "/api/openapi.json", "", Body::Empty, EVERYONE_200),
    ("GET", "/dev/mailbox", "", Body::Empty, EVERYONE_200),
    ("GET", "/sign-in", "", Body::Empty, [200, 303, 303, 303, 303, 303]),
    ("POST", "/sign-in", "", Body::Form(&[("email", "nobody-{n}@{domain}")]), EVERYONE_200),
    ("GET", "/sign-in/link", "token={signin}", Body::Empty, EVERYONE_200),
    ("POST", "/sign-in/link", "", Body::Form(&[("token", "{signin}")]), [303; 6]),
    ("GET", "/sign-in/code", "", Body::Empty, EVERYONE_200),
    ("POST", "/sign-in/code", "", Body::Form(&[("email", "nobody@{domain}"), ("code", "000000")]), [401; 6]),
    ("POST", "/sign-out", "", Body::Empty, EVERYONE_200),
    ("POST", "/sign-out/everywhere", "", Body::Empty, EVERYONE_200),
    ("POST", "/language", "", Body::Form(&[("lang", "en"), ("next", "/")]), [303; 6]),
    ("GET", "/", "", Body::Empty, [303, 200, 200, 303, 303, 303]),
    ("GET", "/matters/{id}", "", Body::Empty, OWN_CLIENT_PAGE),
    ("GET", "/matters/{id}/upload", "", Body::Empty, OWN_CLIENT_PAGE),
    ("POST", "/matters/{id}/upload", "", Body::Pdf, OWN_CLIENT_PAGE),
    ("GET", "/matters/{id}/documents/{document}", "", Body::Empty, [303, 200, 404, 200, 404, 200]),
    ("GET", "/preferences", "", Body::Empty, SIGNED_IN_PAGE),
    ("POST", "/preferences", "", Body::Form(&[("weekly", "on")]), SIGNED_IN_PAGE),
    ("GET", "/unsubscribe", "token={unsubscribe}", Body::Empty, EVERYONE_200),
    ("POST", "/unsubscribe", "token={unsubscribe}", Body::Empty, EVERYONE_200),
    ("GET", "/rate", "token={rating}&score=4", Body::Empty, EVERYONE_200),
    ("POST", "/rate", "", Body::Form(&[("token", "{rating}"), ("score", "4")]), EVERYONE_200),
    ("GET", "/api/v1/me", "", Body::Empty, SIGNED_IN_API),
    ("GET", "/api/v1/matters", "", Body::Empty, SIGNED_IN_API),
    ("GET", "/api/v1/matters/{id}", "", Body::Empty, [401, 200, 404, 404, 404, 404]),
    ("GET", "/api/v1/matters/{id}/documents", "", Body::Empty, [401, 200, 404, 404, 404, 404]),
    ("POST", "/api/v1/matters/{id}/documents", "", Body::Pdf, [401, 201, 404, 404, 404, 404]),
    ("GET", "/api/v1/matters/{id}/documents/{document}/download", "", Body::Empty, [401, 200, 404, 200, 404, 200]),
    (
        "POST",
        "/api/v1/staff/sign-in",
        "",
        Body::Json(r#"{"email":"nobody@{domain}","password":"not-a-password","code":"000000"}"#),
        [401; 6],
    ),
    ("GET", "/api/v1/staff/clients", "", Body::Empty, STAFF_LIST_API),
    (
        "POST",
        "/api/v1/staff/clients",
        "",
        Body::Json(r#"{"full_name":"New Client {n}","email":"new-{n}@{domain}"}"#),
        [401, 403, 403, 201, 201, 201],
    ),
    ("GET", "/api/v1/staff/clients/{id}", "", Body::Empty, STAFF_RECORD_API),
    ("PATCH", "/api/v1/staff/clients/{id}", "", Body::Json(r#"{"phone":"+1 555 0100"}"#), STAFF_RECORD_API),
    ("GET", "/api/v1/staff/clients/{id}/notifications", "", Body::Empty, STAFF_RECORD_API),
    ("GET", "/api/v1/staff/matters", "", Body::Empty, STAFF_LIST_API),
    (
        "POST",
        "/api/v1/staff/matters",
        "",
        Body::Json(r#"{"title":"Matter {n}","client_ids":["{client}"]}"#),
        // Another firm's client id is refused like an unknown one: "not a client of this firm".
        [401, 403, 403, 201, 422, 201],
    ),
    ("GET", "/api/v1/staff/matters/{id}", "", Body::Empty, STAFF_RECORD_API),
    ("PATCH", "/api/v1/staff/matters/{id}", "", Body::Json(r#"{"external_id":"EXT-{n}"}"#), STAFF_RECORD_API),
    (
        "POST",
        "/api/v1/staff/matters/{id}/milestones",
        "",
        Body::Json(r#"{"kind":"internal_note","body":"note {n}"}"#),
        [401, 403, 403, 201, 404, 201],
    ),
    (
        "POST",
        "/api/v1/staff/matters/{id}/requests",
        "",
        Body::Json(r#"{"title":"Request {n}"}"#),
        [401, 403, 403, 201, 404, 201],
    ),
    ("POST", "/api/v1/staff/matters/{id}/requests/{request}/cancel", "", Body::Empty, [401, 403, 403, 204, 404, 204]),
    ("GET", "/api/v1/staff/matters/{id}/documents", "", Body::Empty, STAFF_RECORD_API),
    ("GET", "/api/v1/staff/matters/{id}/documents/{document}/download", "", Body::Empty, STAFF_RECORD_API),
    ("POST", "/api/v1/staff/matters/{id}/documents/{document}/review", "", Body::Empty, [401, 403, 403, 204, 404, 204]),
    ("GET", "/api/v1/staff/staff", "", Body::Empty, STAFF_LIST_API),
    ("GET", "/api/v1/staff/catalogue", "", Body::Empty, STAFF_LIST_API),
    (
        "PUT",
        "/api/v1/staff/catalogue/{area}/{key}",
        "",
        Body::Json(
            r#"{"language":"en","title":"Getting started","what_it_means":"We are starting.","what_happens_next":"We call you."}"#,
        ),
        [401, 403, 403, 403, 204, 204],
    ),
    ("GET", "/api/v1/staff/settings", "", Body::Empty, STAFF_LIST_API),
    ("PATCH", "/api/v1/staff/settings", "", Body::Json(r#"{"phone":"+1 555 0100"}"#), STAFF_ADMIN_API),
    ("GET", "/api/v1/staff/ratings", "", Body::Empty, STAFF_LIST_API),
    ("GET", "/api/v1/staff/audit", "", Body::Empty, STAFF_ADMIN_API),
    (
        "POST",
        "/api/v1/staff/import",
        "",
        Body::Csv(
            "external_id,matter_title,client_name,client_email\nIMP-{n},Imported {n},Imported Client,imp-{n}@{domain}\n",
        ),
        STAFF_ADMIN_API,
    ),
    ("GET", "/staff", "", Body::Empty, STAFF_PAGE),
    ("GET", "/staff/sign-in", "", Body::Empty, [200, 200, 200, 303, 303, 303]),
    (
        "POST",
        "/staff/sign-in",
        "",
        Body::Form(&[("email", "nobody@{domain}"), ("password", "not-a-password"), ("code", "000000")]),
        [401; 6],
    ),
    ("GET", "/staff/matters/new", "", Body::Empty, STAFF_PAGE),
    (
        "POST",
        "/staff/matters",
        "",
        Body::Form(&[
            ("client_name", "Page Client {n}"),
            ("client_email", "page-{n}@{domain}"),
            ("title", "Page matter {n}"),
        ]),
        [303, 403, 403, 303, 303, 303],
    ),
    ("GET", "/staff/matters/{id}", "", Body::Empty, STAFF_RECORD_PAGE),
    (
        "POST",
        "/staff/matters/{id}/milestones",
        "",
        Body::Form(&[("kind", "internal_note"), ("body", "page note {n}")]),
        STAFF_RECORD_FORM,
    ),
    ("POST", "/staff/matters/{id}/requests", "", Body::Form(&[("title", "Page request {n}")]), STAFF_RECORD_FORM),
    ("POST", "/staff/matters/{id}/requests/{request}/cancel", "", Body::Empty, STAFF_RECORD_FORM),
    ("POST", "/staff/matters/{id}/documents/{document}/review", "", Body::Empty, STAFF_RECORD_FORM),
    ("GET", "/staff/settings", "", Body::Empty, STAFF_PAGE),
    (
        "POST",
        "/staff/settings",
        "",
        Body::Form(&[("name", "Demo Injury Law"), ("time_zone", "America/Chicago")]),
        [303, 403, 403, 403, 303, 303],
    ),
];

/// The two firms, their people, and a document on client A's matter.
struct World {
    app: TestApp,
    domain: String,
    /// User ids in the order of [`ACTORS`] (`None`: anonymous).
    actors: [Option<String>; 6],
    client_a: harness::fixtures::Client,
    document: String,
    admin_a: Staff,
}

async fn world(backend: Backend) -> anyhow::Result<World> {
    let app = TestApp::spawn(backend).await?;
    let demo = app.seed_demo().await?;
    let other = app.seed_demo().await?;
    let client_a = app.client(&demo.email("jordan")).await?;
    let client_b = app.client(&demo.email("lucia")).await?;
    let casey = app.user_id(&demo.email("casey")).await?;
    let admin_b = app.user_id(&other.email("admin")).await?;
    let admin_a = app.user_id(&demo.email("admin")).await?;
    let bearer = format!("Bearer {}", app.session_token(&client_a.id).await?);
    let uploaded: Value = app
        .raw_client()?
        .post(app.url(&format!("/api/v1/matters/{}/documents", client_a.matter_id)))
        .header(AUTHORIZATION, bearer)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pdf(3000)).file_name("bill.pdf").mime_str("application/pdf")?,
        ))
        .send()
        .await?
        .json()
        .await?;
    let document = uploaded["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!document.is_empty(), "setup upload failed: {uploaded}");
    let admin_staff = Staff { id: admin_a.clone(), firm_id: demo.firm_id.clone(), role: Role::Admin, ip: None };
    Ok(World {
        domain: demo.domain.clone(),
        actors: [None, Some(client_a.id.clone()), Some(client_b.id), Some(casey), Some(admin_b), Some(admin_a)],
        client_a,
        document,
        admin_a: admin_staff,
        app,
    })
}

impl World {
    /// A new open document request on client A's matter.
    async fn fresh_request(&self) -> anyhow::Result<String> {
        let (staff, matter) = (self.admin_a.clone(), self.client_a.matter_id.clone());
        let input =
            shared::staff::updates::NewRequest { title: "Another bill".to_owned(), details: None, category: None };
        Ok(self
            .app
            .state
            .db
            .run(move |c| shared::staff::updates::open_request(c, &staff, &matter, &input, now()))
            .await?
            .id)
    }

    /// A new sign-in link token for client A.
    async fn fresh_sign_in(&self) -> anyhow::Result<String> {
        let (tokens, id) = (self.app.state.tokens.clone(), self.client_a.id.clone());
        Ok(self.app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?.token)
    }

    /// `text` with the placeholders of a row filled in for one request.
    async fn fill(&self, text: &str, n: usize) -> anyhow::Result<String> {
        let mut text = text
            .replace("{n}", &n.to_string())
            .replace("{domain}", &self.domain)
            .replace("{client}", &self.client_a.id)
            .replace("{document}", &self.document)
            .replace("{area}", shared::catalogue::PERSONAL_INJURY)
            .replace("{key}", "intake")
            .replace("{file}", "app.css");
        text = if text.contains("/clients/{id}") {
            text.replace("{id}", &self.client_a.id)
        } else {
            text.replace("{id}", &self.client_a.matter_id)
        };
        if text.contains("{request}") {
            text = text.replace("{request}", &self.fresh_request().await?);
        }
        if text.contains("{signin}") {
            text = text.replace("{signin}", &self.fresh_sign_in().await?);
        }
        let tokens = &self.app.state.tokens;
        let id = shared::domain::new_id();
        if text.contains("{unsubscribe}") {
            text = text.replace(
                "{unsubscribe}",
                &tokens.issue(Purpose::Unsubscribe, &self.client_a.id, &id, chrono::Duration::days(1))?,
            );
        }
        if text.contains("{rating}") {
            text = text.replace(
                "{rating}",
                &tokens.issue(Purpose::Rating, &self.client_a.id, &id, chrono::Duration::days(1))?,
            );
        }
        Ok(text)
    }

    /// Sends one row's request as `actor` (a fresh session each time, as a cookie).
    async fn send(
        &self,
        http: &reqwest::Client,
        row: &Row,
        actor: usize,
        n: usize,
    ) -> anyhow::Result<reqwest::Response> {
        let (method, template, query, body, _) = *row;
        let mut url = self.app.url(&self.fill(template, n).await?);
        if !query.is_empty() {
            url = format!("{url}?{}", self.fill(query, n).await?);
        }
        let mut request = http.request(method.parse()?, url);
        if let Some(user) = &self.actors[actor] {
            request = request.header("Cookie", format!("matterline_session={}", self.app.session_token(user).await?));
        }
        request = match body {
            Body::Empty => request,
            Body::Form(pairs) => {
                let mut filled = Vec::new();
                for (k, v) in pairs {
                    filled.push(((*k).to_owned(), self.fill(v, n).await?));
                }
                request.form(&filled)
            }
            Body::Json(text) => request.header("Content-Type", "application/json").body(self.fill(text, n).await?),
            Body::Csv(text) => request.header("Content-Type", "text/csv").body(self.fill(text, n).await?),
            Body::Pdf => request.multipart(
                reqwest::multipart::Form::new().part(
                    "file",
                    reqwest::multipart::Part::bytes(pdf(2000))
                        .file_name(format!("matrix-{n}.pdf"))
                        .mime_str("application/pdf")?,
                ),
            ),
        };
        Ok(request.send().await?)
    }
}

async fn every_route_answers_every_actor_as_expected(backend: Backend) -> anyhow::Result<()> {
    let declared = declared_routes();
    let in_matrix: BTreeSet<(String, String)> = ROWS.iter().map(|r| (r.0.to_owned(), r.1.to_owned())).collect();
    let missing: Vec<_> = declared.difference(&in_matrix).collect();
    let stale: Vec<_> = in_matrix.difference(&declared).collect();
    assert!(missing.is_empty(), "routes without a row in the authorization matrix: {missing:?}");
    assert!(stale.is_empty(), "matrix rows for routes that no longer exist: {stale:?}");
    assert_eq!(ROWS.len(), declared.len(), "one row per route");

    let world = world(backend).await?;
    let http = world.app.raw_client()?;
    let mut wrong = Vec::new();
    let mut tally: BTreeMap<u16, usize> = BTreeMap::new();
    let mut n = 0;
    for row in ROWS {
        for (actor, expected) in row.4.iter().enumerate() {
            n += 1;
            let response = world.send(&http, row, actor, n).await?;
            let status = response.status().as_u16();
            *tally.entry(status).or_default() += 1;
            if status != *expected {
                let body: String = response.text().await.unwrap_or_default().chars().take(160).collect();
                wrong.push(format!(
                    "{} {} as {}: expected {expected}, got {status}: {body}",
                    row.0, row.1, ACTORS[actor]
                ));
                continue;
            }
            // Nobody signed in is sent to the right sign-in page, never elsewhere.
            if actor == 0 && status == 303 && !["/language", "/sign-in/link"].contains(&row.1) {
                let to = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
                let fine = if row.1.starts_with("/staff") { "/staff/sign-in" } else { "/sign-in" };
                if to != fine {
                    wrong.push(format!("{} {} as anonymous: redirected to {to:?}, expected {fine}", row.0, row.1));
                }
            }
        }
    }
    let statuses: Vec<String> = tally.iter().map(|(s, c)| format!("{s}: {c}")).collect();
    reliability::record(
        &format!("security_matrix_{backend:?}").to_lowercase(),
        &format!("Authorization matrix ({backend:?})"),
        &format!(
            "Every route read from `portal/src/routes/**` × {{{}}}.\n\n| figure | value |\n|---|---|\n| routes | {} |\n| requests sent | {n} |\n| statuses seen | {} |\n| unexpected statuses | {} |\n",
            ACTORS.join(", "),
            ROWS.len(),
            statuses.join(", "),
            wrong.len()
        ),
    )?;
    assert!(wrong.is_empty(), "{} cells of the matrix are wrong:\n{}", wrong.len(), wrong.join("\n"));
    Ok(())
}

// ---------------------------------------------------------------------------
// Token attacks
// ---------------------------------------------------------------------------

/// Base64url without padding (the JWT alphabet).
fn b64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A JWT with exactly this header and these claims, signed with `key` by `alg`
/// (HMAC family), or unsigned for `None`.
fn forge(header: &Value, claims: &Value, alg: Option<Algorithm>, key: &str) -> anyhow::Result<String> {
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = match alg {
        Some(alg) => jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_secret(key.as_bytes()), alg)?,
        None => String::new(),
    };
    Ok(format!("{input}.{signature}"))
}

fn claims(sub: &str, aud: &str, jti: &str) -> Value {
    let t = chrono::Utc::now().timestamp();
    json!({ "sub": sub, "aud": aud, "iss": "matterline", "jti": jti, "iat": t, "nbf": t, "exp": t + 3600 })
}

fn hs256() -> Value {
    json!({ "alg": "HS256", "typ": "JWT" })
}

/// Variants of a good token (`claims` for `purpose`, signed right) that are each wrong in one way.
fn attacks_on(good: &Value, purpose: Purpose) -> anyhow::Result<Vec<(String, String)>> {
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = good.clone();
        if let Some(map) = c.as_object_mut() {
            map.remove(key);
        }
        c
    };
    let t = chrono::Utc::now().timestamp();
    let mut attacks = vec![
        ("alg none".to_owned(), forge(&json!({ "alg": "none", "typ": "JWT" }), good, None, SECRET)?),
        ("alg None".to_owned(), forge(&json!({ "alg": "None" }), good, None, SECRET)?),
        ("alg NONE".to_owned(), forge(&json!({ "alg": "NONE" }), good, None, SECRET)?),
        ("alg none with a valid HS256 signature kept".to_owned(), {
            let signed = forge(&hs256(), good, Some(Algorithm::HS256), SECRET)?;
            let sig = signed.rsplit('.').next().unwrap_or_default().to_owned();
            let unsigned = forge(&json!({ "alg": "none" }), good, None, SECRET)?;
            format!("{unsigned}{sig}")
        }),
        (
            "HS512 with the right secret".to_owned(),
            forge(&json!({ "alg": "HS512" }), good, Some(Algorithm::HS512), SECRET)?,
        ),
        (
            "HS384 with the right secret".to_owned(),
            forge(&json!({ "alg": "HS384" }), good, Some(Algorithm::HS384), SECRET)?,
        ),
        (
            "RS256 header over an HMAC signature (algorithm confusion)".to_owned(),
            forge(&json!({ "alg": "RS256", "typ": "JWT" }), good, Some(Algorithm::HS256), SECRET)?,
        ),
        (
            "ES256 header over an HMAC signature".to_owned(),
            forge(&json!({ "alg": "ES256" }), good, Some(Algorithm::HS256), SECRET)?,
        ),
        (
            "HS256 with the wrong key".to_owned(),
            forge(&hs256(), good, Some(Algorithm::HS256), "another-secret-of-forty-characters-0000")?,
        ),
        (
            "kid and jku pointing elsewhere, empty key".to_owned(),
            forge(
                &json!({ "alg": "HS256", "kid": "../../../../dev/null", "jku": "https://evil.test/jwks.json" }),
                good,
                Some(Algorithm::HS256),
                "",
            )?,
        ),
        ("expired".to_owned(), forge(&hs256(), &with("exp", json!(t - 120)), Some(Algorithm::HS256), SECRET)?),
        ("not yet valid".to_owned(), forge(&hs256(), &with("nbf", json!(t + 3600)), Some(Algorithm::HS256), SECRET)?),
        ("no expiry".to_owned(), forge(&hs256(), &without("exp"), Some(Algorithm::HS256), SECRET)?),
        ("wrong issuer".to_owned(), forge(&hs256(), &with("iss", json!("evil")), Some(Algorithm::HS256), SECRET)?),
        ("no audience".to_owned(), forge(&hs256(), &without("aud"), Some(Algorithm::HS256), SECRET)?),
        (
            "unknown audience".to_owned(),
            forge(&hs256(), &with("aud", json!(["matterline:admin"])), Some(Algorithm::HS256), SECRET)?,
        ),
        ("tampered signature".to_owned(), {
            let signed = forge(&hs256(), good, Some(Algorithm::HS256), SECRET)?;
            let flipped = if signed.ends_with('A') { 'B' } else { 'A' };
            format!("{}{flipped}", &signed[..signed.len() - 1])
        }),
        ("garbage".to_owned(), "not.a.token".to_owned()),
        ("empty".to_owned(), String::new()),
    ];
    for other in [Purpose::SignIn, Purpose::Session, Purpose::Unsubscribe, Purpose::Rating] {
        if other != purpose {
            attacks.push((
                format!("audience of another purpose ({})", other.audience()),
                forge(&hs256(), &with("aud", json!(other.audience())), Some(Algorithm::HS256), SECRET)?,
            ));
        }
    }
    Ok(attacks)
}

async fn session_count(app: &TestApp) -> anyhow::Result<i64> {
    Ok(app.state.db.run(|c| Ok(sessions::table.count().get_result(c)?)).await?)
}

async fn forged_tokens_are_refused_everywhere(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::spawn(backend).await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let admin = app.user_id(&demo.email("admin")).await?;
    let http = app.raw_client()?;
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let session = app
        .state
        .db
        .run(move |c| shared::auth::create_session(c, &tokens, &id, &shared::auth::Device::default()))
        .await?;
    let good = claims(&client.id, Purpose::Session.audience(), &session.session_id);
    let mut tried = 0;

    // The control: the same forging code with nothing wrong is accepted, so every refusal below is the defect's.
    let genuine = forge(&hs256(), &good, Some(Algorithm::HS256), SECRET)?;
    let me = http.get(app.url("/api/v1/me")).header(AUTHORIZATION, format!("Bearer {genuine}")).send().await?;
    assert_eq!(me.status(), StatusCode::OK, "the forging code itself is broken");

    let mut session_attacks = attacks_on(&good, Purpose::Session)?;
    // A well-signed token naming client A's session but the admin as subject.
    session_attacks.push((
        "another user's id on a live session".to_owned(),
        forge(
            &hs256(),
            &claims(&admin, Purpose::Session.audience(), &session.session_id),
            Some(Algorithm::HS256),
            SECRET,
        )?,
    ));
    // A session that was signed out, its token otherwise perfect.
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let revoked = app
        .state
        .db
        .run(move |c| {
            let s = shared::auth::create_session(c, &tokens, &id, &shared::auth::Device::default())?;
            shared::auth::revoke_session(c, &s.session_id)?;
            Ok(s.token)
        })
        .await?;
    session_attacks.push(("revoked session".to_owned(), revoked));
    session_attacks.push((
        "a session id that never existed".to_owned(),
        forge(
            &hs256(),
            &claims(&client.id, Purpose::Session.audience(), "no-such-session"),
            Some(Algorithm::HS256),
            SECRET,
        )?,
    ));
    let before = session_count(&app).await?;
    for (name, token) in &session_attacks {
        tried += 1;
        let api = http.get(app.url("/api/v1/me")).header(AUTHORIZATION, format!("Bearer {token}")).send().await?;
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED, "bearer accepted: {name}");
        let staff =
            http.get(app.url("/api/v1/staff/clients")).header(AUTHORIZATION, format!("Bearer {token}")).send().await?;
        assert_eq!(staff.status(), StatusCode::UNAUTHORIZED, "staff API accepted: {name}");
        let page = http.get(app.url("/")).header("Cookie", format!("matterline_session={token}")).send().await?;
        assert_eq!(page.status(), StatusCode::SEE_OTHER, "cookie accepted: {name}");
        assert_eq!(page.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/sign-in"), "{name}");
    }

    // Sign-in links: forged variants of a live link, then the genuine one twice.
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let live: Value = jsonwebtoken::dangerous::insecure_decode_claims(&grant.token)?;
    let jti = live["jti"].as_str().unwrap_or_default().to_owned();
    let mut link_attacks = attacks_on(&claims(&client.id, Purpose::SignIn.audience(), &jti), Purpose::SignIn)?;
    link_attacks.push((
        "another user's id on a live sign-in".to_owned(),
        forge(&hs256(), &claims(&admin, Purpose::SignIn.audience(), &jti), Some(Algorithm::HS256), SECRET)?,
    ));
    for (name, token) in &link_attacks {
        tried += 1;
        // The confirmation page checks the signature only (it changes nothing); the redemption checks the row.
        if !name.starts_with("another user's id") {
            let page = http.get(app.url("/sign-in/link")).query(&[("token", token)]).send().await?;
            assert_eq!(page.status(), StatusCode::UNAUTHORIZED, "link page accepted: {name}");
        }
        let redeemed = http.post(app.url("/sign-in/link")).form(&[("token", token)]).send().await?;
        assert_eq!(redeemed.status(), StatusCode::UNAUTHORIZED, "link redeemed: {name}");
        assert!(redeemed.headers().get(SET_COOKIE).is_none(), "a cookie was set for: {name}");
    }
    assert_eq!(session_count(&app).await?, before, "a forged link created a session");
    let first = http.post(app.url("/sign-in/link")).form(&[("token", &grant.token)]).send().await?;
    assert_eq!(first.status(), StatusCode::SEE_OTHER, "the genuine link must work once");
    let replayed = http.post(app.url("/sign-in/link")).form(&[("token", &grant.token)]).send().await?;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED, "a replayed link signed in again");
    // A link whose code was typed first is used up too.
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let other = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let by_code = http
        .post(app.url("/sign-in/code"))
        .form(&[("email", client.email.as_str()), ("code", &other.code)])
        .send()
        .await?;
    assert_eq!(by_code.status(), StatusCode::SEE_OTHER);
    let after_code = http.post(app.url("/sign-in/link")).form(&[("token", &other.token)]).send().await?;
    assert_eq!(after_code.status(), StatusCode::UNAUTHORIZED, "the link of a code already used signed in");
    tried += 3;
    assert_eq!(session_count(&app).await?, before + 2, "exactly the two genuine sign-ins made sessions");

    // Unsubscribe and rating links: forged ones change nothing.
    let unsubscribe_good = claims(&client.id, Purpose::Unsubscribe.audience(), "n1");
    for (name, token) in attacks_on(&unsubscribe_good, Purpose::Unsubscribe)? {
        tried += 1;
        let page = http.get(app.url("/unsubscribe")).query(&[("token", &token)]).send().await?;
        assert_eq!(page.status(), StatusCode::UNAUTHORIZED, "unsubscribe page accepted: {name}");
        let posted = http.post(app.url("/unsubscribe")).query(&[("token", &token)]).send().await?;
        assert_eq!(posted.status(), StatusCode::UNAUTHORIZED, "unsubscribed with: {name}");
    }
    let id = client.id.clone();
    let weekly: bool =
        app.state.db.run(move |c| Ok(users::table.find(&id).select(users::weekly_updates).first(c)?)).await?;
    assert!(weekly, "a forged unsubscribe link turned weekly updates off");
    let rating_good = claims(&client.id, Purpose::Rating.audience(), "n1");
    for (name, token) in attacks_on(&rating_good, Purpose::Rating)? {
        tried += 1;
        let page = http.get(app.url("/rate")).query(&[("token", &token)]).send().await?;
        assert_eq!(page.status(), StatusCode::UNAUTHORIZED, "rating page accepted: {name}");
        let posted = http.post(app.url("/rate")).form(&[("token", token.as_str()), ("score", "1")]).send().await?;
        assert_eq!(posted.status(), StatusCode::UNAUTHORIZED, "rated with: {name}");
    }
    let rated: i64 = app.state.db.run(|c| Ok(ratings::table.count().get_result(c)?)).await?;
    assert_eq!(rated, 0, "a forged rating link recorded a rating");
    let genuine = forge(&hs256(), &rating_good, Some(Algorithm::HS256), SECRET)?;
    let rated = http.post(app.url("/rate")).form(&[("token", genuine.as_str()), ("score", "5")]).send().await?;
    assert_eq!(rated.status(), StatusCode::OK, "the genuine rating link must work");

    reliability::record(
        &format!("security_tokens_{backend:?}").to_lowercase(),
        &format!("Token attacks ({backend:?})"),
        &format!(
            "Forged, expired, not-yet-valid, wrong-audience, wrong-algorithm (`none`, HS384/HS512, RS256/ES256 headers), wrong-key, revoked and replayed tokens against the session cookie, the bearer header, the staff API, sign-in links, unsubscribe and rating links.\n\n| figure | value |\n|---|---|\n| forged tokens tried | {tried} |\n| accepted | 0 |\n| sessions created by forged or replayed links | 0 |\n| ratings or unsubscribes recorded from forged links | 0 |\n"
        ),
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Cross-site requests
// ---------------------------------------------------------------------------

async fn forms_from_other_sites_are_refused(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::spawn(backend).await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let admin = app.user_id(&demo.email("admin")).await?;
    let cookie = format!("matterline_session={}", app.session_token(&client.id).await?);
    let admin_cookie = format!("matterline_session={}", app.session_token(&admin).await?);
    // A client with no default Origin: each request names its own.
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let weekly = || {
        let id = client.id.clone();
        let db = app.state.db.clone();
        async move { db.run(move |c| Ok(users::table.find(&id).select(users::weekly_updates).first::<bool>(c)?)).await }
    };
    let post = |origin: Option<&str>, referer: Option<&str>| {
        let mut r = bare.post(app.url("/preferences")).header("Cookie", &cookie).form(&[("weekly", "")]);
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        if let Some(o) = referer {
            r = r.header("Referer", o);
        }
        r.send()
    };
    let own = app.origin();
    let mut refused = 0;
    for (origin, referer) in [
        (Some(EVIL), None),
        (Some("null"), None),
        (None, Some("https://evil.test/page")),
        (None, None),
        (Some(&*format!("{own}.evil.test")), None),
        (Some(EVIL), Some(&*format!("{own}/preferences"))),
    ] {
        let answer = post(origin, referer).await?;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "origin {origin:?} referer {referer:?}");
        let text = main_text(&answer.text().await?);
        assert!(text.contains("This form came from another site"), "{text}");
        refused += 1;
    }
    assert!(weekly().await?, "a refused form still changed the preference");
    let by_referer = post(None, Some(&format!("{own}/preferences"))).await?;
    assert_eq!(by_referer.status(), StatusCode::OK, "the portal's own page named by Referer");
    assert!(!weekly().await?);
    let by_origin = post(Some(&own), None).await?;
    assert_eq!(by_origin.status(), StatusCode::OK);

    // Login CSRF: a valid link posted from another site does not sign anyone in, and still works after.
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let forced =
        bare.post(app.url("/sign-in/link")).header("Origin", EVIL).form(&[("token", &grant.token)]).send().await?;
    assert_eq!(forced.status(), StatusCode::FORBIDDEN);
    assert!(forced.headers().get(SET_COOKIE).is_none());
    let own_post =
        bare.post(app.url("/sign-in/link")).header("Origin", &own).form(&[("token", &grant.token)]).send().await?;
    assert_eq!(own_post.status(), StatusCode::SEE_OTHER, "the refused attempt must not use the link up");

    // Every state-changing route, from another site, with a staff session and with none: refused before the handler.
    let mut routes = 0;
    for (method, template) in declared_routes() {
        if method == "GET" || template == "/unsubscribe" {
            continue;
        }
        let path = template.replace("{id}", &client.matter_id).replace("{document}", "d").replace("{request}", "r");
        let path = path.replace("{area}", "personal_injury").replace("{key}", "intake");
        for with_cookie in [true, false] {
            let mut r = bare.request(method.parse()?, app.url(&path)).header("Origin", EVIL);
            if with_cookie {
                r = r.header("Cookie", &admin_cookie);
            }
            let answer = r.send().await?;
            assert_eq!(
                answer.status(),
                StatusCode::FORBIDDEN,
                "{method} {template} from another site (cookie: {with_cookie})"
            );
            if template.starts_with("/api/") {
                assert_eq!(answer.json::<Value>().await?["status"], 403);
            }
            refused += 1;
        }
        routes += 1;
    }
    // Bearer requests are not forms: another Origin does not matter to them.
    let bearer = format!("Bearer {}", app.session_token(&admin).await?);
    let created = bare
        .post(app.url("/api/v1/staff/clients"))
        .header("Origin", EVIL)
        .header(AUTHORIZATION, bearer)
        .json(&json!({ "full_name": "Bearer Client", "email": format!("bearer@{}", demo.domain) }))
        .send()
        .await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    // RFC 8058 one-click unsubscribe comes from mail providers with no Origin and no cookie.
    let token = app.state.tokens.issue(Purpose::Unsubscribe, &client.id, "n", chrono::Duration::days(1))?;
    let one_click = bare
        .post(app.url("/unsubscribe"))
        .query(&[("token", &token)])
        .body("List-Unsubscribe=One-Click")
        .send()
        .await?;
    assert_eq!(one_click.status(), StatusCode::OK);

    reliability::record(
        &format!("security_csrf_{backend:?}").to_lowercase(),
        &format!("Cross-site requests ({backend:?})"),
        &format!(
            "| figure | value |\n|---|---|\n| state-changing routes tried from another origin | {routes} |\n| cross-site requests sent | {refused} |\n| refused with 403 | {refused} |\n| changes made by refused requests | 0 |\n"
        ),
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Markup typed into every field
// ---------------------------------------------------------------------------

const PAYLOADS: [&str; 4] =
    ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "' onmouseover='alert(1)"];

/// Markup that would run if a payload were rendered raw (in text or in an attribute).
fn live_markup(html: &str) -> Vec<&'static str> {
    ["<script>alert", "<img src=x", "onerror=alert", "href=\"javascript:", "' onmouseover='", "\"><img"]
        .into_iter()
        .filter(|m| html.contains(m))
        .collect()
}

async fn markup_typed_anywhere_is_shown_as_text(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::spawn(backend).await?;
    let demo = app.seed_demo().await?;
    let admin = app.user_id(&demo.email("admin")).await?;
    let staff_bearer = format!("Bearer {}", app.session_token(&admin).await?);
    let staff_cookie = format!("matterline_session={}", app.session_token(&admin).await?);
    let http = app.raw_client()?;
    let api = |method: reqwest::Method, path: String, body: Value| {
        http.request(method, app.url(&path)).header(AUTHORIZATION, &staff_bearer).json(&body).send()
    };
    let [script, img, js, quote] = PAYLOADS;
    let mut inputs = 0;

    // Staff type: a client's name, a matter title, notes, a request, firm settings, a phase text.
    let email = format!("xss@{}", demo.domain);
    let created: Value = api(
        reqwest::Method::POST,
        "/api/v1/staff/clients".into(),
        json!({ "full_name": format!("Ana {img}"), "email": email, "phone": quote }),
    )
    .await?
    .json()
    .await?;
    let client_id = created["id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!client_id.is_empty(), "{created}");
    let matter: Value = api(
        reqwest::Method::POST,
        "/api/v1/staff/matters".into(),
        json!({ "title": format!("{script}{img}"), "client_ids": [client_id], "external_id": js }),
    )
    .await?
    .json()
    .await?;
    let matter_id = matter["id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!matter_id.is_empty(), "{matter}");
    for body in [
        json!({ "kind": "client_note", "body": format!("{img}{script}{js}") }),
        json!({ "kind": "internal_note", "body": format!("{quote}{script}") }),
        json!({ "kind": "appointment", "body": img, "occurs_at": "2030-01-02T15:00:00" }),
    ] {
        let posted =
            api(reqwest::Method::POST, format!("/api/v1/staff/matters/{matter_id}/milestones"), body.clone()).await?;
        assert!(posted.status().is_success(), "{body}: {}", posted.text().await?);
    }
    let request = api(
        reqwest::Method::POST,
        format!("/api/v1/staff/matters/{matter_id}/requests"),
        json!({ "title": img, "details": format!("{script} {js}") }),
    )
    .await?;
    assert!(request.status().is_success(), "{}", request.text().await?);
    let settings = api(
        reqwest::Method::PATCH,
        "/api/v1/staff/settings".into(),
        json!({ "name": format!("Firm {img}"), "phone": quote }),
    )
    .await?;
    assert!(settings.status().is_success(), "{}", settings.text().await?);
    let phase = api(
        reqwest::Method::PUT,
        "/api/v1/staff/catalogue/personal_injury/intake".into(),
        json!({ "language": "en", "title": format!("Intake {script}"), "what_it_means": img, "what_happens_next": js }),
    )
    .await?;
    assert!(phase.status().is_success(), "{}", phase.text().await?);
    inputs += 13;

    // The client types: file names (upload) and a language switch's next.
    let client_cookie = format!("matterline_session={}", app.session_token(&client_id).await?);
    let upload = http
        .post(app.url(&format!("/matters/{matter_id}/upload")))
        .header("Cookie", &client_cookie)
        .multipart(
            reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(pdf(1500))
                        .file_name(format!("{img}.pdf"))
                        .mime_str("application/pdf")?,
                )
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(exe())
                        .file_name(format!("{quote}.pdf"))
                        .mime_str("application/pdf")?,
                ),
        )
        .send()
        .await?;
    let receipt_page = upload.text().await?;
    inputs += 2;

    let mut pages = vec![("upload receipt page".to_owned(), receipt_page)];
    for (who, path) in [
        (&client_cookie, "/".to_owned()),
        (&client_cookie, format!("/matters/{matter_id}")),
        (&client_cookie, format!("/matters/{matter_id}/upload")),
        (&client_cookie, "/preferences".to_owned()),
        (&staff_cookie, "/staff".to_owned()),
        (&staff_cookie, format!("/staff?q={}", url_encode(img))),
        (&staff_cookie, format!("/staff/matters/{matter_id}")),
        (&staff_cookie, "/staff/settings".to_owned()),
        (&staff_cookie, "/staff/matters/new".to_owned()),
    ] {
        let html = http.get(app.url(&path)).header("Cookie", who).send().await?.text().await?;
        pages.push((path, html));
    }
    // Echoed form values: the sign-in forms put what was typed back into the field.
    for (path, form) in [
        ("/sign-in", vec![("email", img.to_owned())]),
        ("/sign-in/code", vec![("email", img.to_owned()), ("code", "12ab".to_owned())]),
        (
            "/staff/sign-in",
            vec![("email", img.to_owned()), ("password", quote.to_owned()), ("code", "000000".to_owned())],
        ),
    ] {
        let html = http.post(app.url(path)).form(&form).send().await?.text().await?;
        pages.push((format!("POST {path}"), html));
        inputs += form.len();
    }
    let mut checked = 0;
    for (name, html) in &pages {
        assert_eq!(live_markup(html), Vec::<&str>::new(), "{name} renders typed markup:\n{html}");
        checked += 1;
    }
    let client_page = &pages[2].1;
    assert!(main_text(client_page).contains(script), "the matter title is shown (as text) on the client's page");
    let staff_page = &pages[7].1;
    assert!(main_text(staff_page).contains(quote), "the internal note is shown (as text) to staff");

    // Emails: the upload receipt and the weekly update, HTML parts and subjects.
    let row = app
        .state
        .db
        .run(|c| {
            use shared::db::schema::notifications;
            Ok(notifications::table
                .filter(notifications::kind.eq("upload_receipt"))
                .select(shared::db::models::Notification::as_select())
                .first(c)?)
        })
        .await?;
    let (renderer, mailer, base) = (app.state.renderer.clone(), app.state.mailer.clone(), app.state.base_url());
    let receipt = app.state.db.run(move |c| shared::receipts::compose(c, &renderer, &mailer, &base, &row)).await?;
    assert_eq!(live_markup(&receipt.content.html), Vec::<&str>::new(), "receipt email:\n{}", receipt.content.html);
    assert!(receipt.content.html.contains("&lt;img src&#x3D;x"), "the file name is in the receipt, escaped");
    let notifier = notifier::Notifier::build(
        app.config(&[])?,
        &notifier::cli::WorkerOptions { lease_seconds: 60, concurrency: 1, batch: 10 },
    )?;
    let weekly = notifier.preview(&client_id, None).await?;
    assert_eq!(live_markup(&weekly.html), Vec::<&str>::new(), "weekly update email:\n{}", weekly.html);
    assert!(weekly.html.contains("&lt;script&gt;"), "the typed note is in the weekly update, escaped");
    assert!(!weekly.subject.contains('\n'));
    // A sign-in email to the client whose name and firm carry markup (dev outbox).
    let sent = http.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    assert_eq!(sent.status(), StatusCode::OK);
    let outbox = app.state.mailer.outbox_dir().map(ToOwned::to_owned).ok_or_else(|| anyhow::anyhow!("no outbox"))?;
    let mut emails = 0;
    for entry in std::fs::read_dir(outbox)? {
        let raw = std::fs::read(entry?.path())?;
        let message =
            mail_parser::MessageParser::default().parse(&raw).ok_or_else(|| anyhow::anyhow!("unparsable email"))?;
        let html = message.body_html(0).unwrap_or_default().into_owned();
        assert_eq!(live_markup(&html), Vec::<&str>::new(), "an email's HTML part:\n{html}");
        emails += 1;
    }
    assert!(emails >= 2, "the receipt and the sign-in email are in the outbox ({emails})");
    checked += 2 + emails;

    reliability::record(
        &format!("security_xss_{backend:?}").to_lowercase(),
        &format!("Markup in typed fields ({backend:?})"),
        &format!(
            "Payloads: `{}`.\n\n| figure | value |\n|---|---|\n| fields filled with markup | {inputs} |\n| pages and emails checked | {checked} |\n| markup rendered live | 0 |\n",
            PAYLOADS.join("`, `")
        ),
    )?;
    Ok(())
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

// ---------------------------------------------------------------------------
// Headers, cookies, redirects
// ---------------------------------------------------------------------------

async fn every_kind_of_answer_carries_the_security_headers(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::spawn(backend).await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let token = app.session_token(&client.id).await?;
    let http = app.raw_client()?;
    let uploaded: Value =
        http.post(app.url(&format!("/api/v1/matters/{}/documents", client.matter_id)))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .multipart(reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(jpeg(2000)).file_name("photo.jpg").mime_str("image/jpeg")?,
            ))
            .send()
            .await?
            .json()
            .await?;
    let doc = uploaded["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
    let cookie = format!("matterline_session={token}");
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let answers = vec![
        ("page", http.get(app.url("/sign-in")).send().await?),
        ("signed-in page", http.get(app.url("/")).header("Cookie", &cookie).send().await?),
        ("API", http.get(app.url("/api/v1/me")).header("Cookie", &cookie).send().await?),
        ("API error", http.get(app.url("/api/v1/me")).send().await?),
        ("API not found", http.get(app.url("/api/v1/nothing")).send().await?),
        ("static file", http.get(app.url("/static/app.css")).send().await?),
        ("error page", http.get(app.url("/no/such/page")).send().await?),
        ("redirect", http.get(app.url("/staff")).send().await?),
        (
            "download",
            http.get(app.url(&format!("/matters/{}/documents/{doc}", client.matter_id)))
                .header("Cookie", &cookie)
                .send()
                .await?,
        ),
        (
            "cross-site refusal",
            bare.post(app.url("/preferences")).header("Cookie", &cookie).header("Origin", EVIL).send().await?,
        ),
        ("health", http.get(app.url("/healthz")).send().await?),
    ];
    for (what, answer) in &answers {
        let header =
            |name: &str| answer.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{what}: CSP lacks {directive}: {csp:?}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("x-frame-options"), "DENY", "{what}");
        assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    }
    let download = &answers[8].1;
    assert_eq!(download.status(), StatusCode::OK);
    let disposition = download.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(disposition.starts_with("attachment;"), "{disposition}");

    // Cookies: the session cookie is HttpOnly and SameSite=Lax, Secure on https; so is its removal.
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let signed_in = http.post(app.url("/sign-in/link")).form(&[("token", &grant.token)]).send().await?;
    let set = signed_in.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(flag), "session cookie lacks {flag}: {set}");
    }
    let out = http.post(app.url("/sign-out")).header("Cookie", &cookie).send().await?;
    let cleared = out.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(
        cleared.contains("HttpOnly") && cleared.contains("SameSite=Lax") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let https = TestApp::spawn_with(backend, &[("MATTERLINE_PUBLIC_URL", "https://portal.example-firm.test")]).await?;
    let language =
        https.raw_client()?.post(https.url("/language")).form(&[("lang", "es"), ("next", "/")]).send().await?;
    let lang_cookie = language.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(lang_cookie.contains("Secure") && lang_cookie.contains("SameSite=Lax"), "{lang_cookie}");
    let hsts = |r: &reqwest::Response| r.headers().get("strict-transport-security").is_some();
    assert!(hsts(&language), "an https portal sends Strict-Transport-Security");
    assert!(!hsts(&answers[0].1), "a plain-http portal does not");

    // Open redirects: the language switcher's `next` only follows paths of this site.
    let mut redirects = 0;
    for next in [
        "//evil.test",
        "https://evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "\\/evil.test",
        "/\t/evil.test",
        "/\n/evil.test",
        "/\r\n/evil.test",
        "http:evil.test",
        "javascript:alert(1)",
        "evil.test",
        " //evil.test",
        "/%0d%0aSet-Cookie:x=1",
    ] {
        let answer = http.post(app.url("/language")).form(&[("lang", "en"), ("next", next)]).send().await?;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{next:?}");
        let to = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let cleaned: String = to.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
        assert!(
            cleaned.starts_with('/') && !cleaned.starts_with("//") && !cleaned.starts_with("/\\"),
            "{next:?} → {to:?}"
        );
        assert!(!to.contains("evil") || to.starts_with("/%0d"), "{next:?} → {to:?}");
        redirects += 1;
    }
    let kept = http.post(app.url("/language")).form(&[("lang", "en"), ("next", "/preferences?x=1")]).send().await?;
    assert_eq!(kept.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/preferences?x=1"));

    reliability::record(
        &format!("security_headers_{backend:?}").to_lowercase(),
        &format!("Headers, cookies and redirects ({backend:?})"),
        &format!(
            "| figure | value |\n|---|---|\n| kinds of answer checked for CSP, nosniff, framing, referrer | {} |\n| cookies checked (session, removal, language on https) | 3 |\n| redirect targets tried | {redirects} |\n| redirects off the site | 0 |\n",
            answers.len()
        ),
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Uploads built to break things
// ---------------------------------------------------------------------------

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

/// Rows, stored objects (S3) and unfinished multipart uploads (s3s-fs staging) of a test.
async fn leftovers(app: &TestApp) -> anyhow::Result<(usize, usize, usize)> {
    let rows: i64 = app.state.db.run(|c| Ok(documents::table.count().get_result(c)?)).await?;
    let Some((client, bucket)) = app.state.storage.s3_client() else { return Ok((rows as usize, 0, 0)) };
    let listed = client.list_objects_v2().bucket(bucket).send().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let root = std::path::PathBuf::from(services::s3_root()?);
    let mut staging = 0;
    let mut stack = vec![root.join(bucket), root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && dir != root {
                stack.push(path);
            } else if entry.file_name().to_string_lossy().starts_with(".upload")
                && path.to_string_lossy().contains(bucket)
            {
                staging += 1;
            }
        }
    }
    Ok((rows as usize, listed.contents().len(), staging))
}

async fn signed_in_client(app: &TestApp) -> anyhow::Result<(String, String)> {
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    Ok((format!("Bearer {}", app.session_token(&client.id).await?), client.matter_id))
}

async fn malformed_and_slow_uploads_leave_nothing(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::spawn_with_s3(backend, &[("MATTERLINE_UPLOAD_IDLE_SECONDS", "2")]).await?;
    let (bearer, matter) = signed_in_client(&app).await?;
    let boundary = "b0undary7MA4YWxk";
    let file = pdf(200_000);
    let whole = multipart(boundary, &[("file", Some("bill.pdf"), file.as_slice())]);
    let mut outcomes: Vec<(String, String)> = Vec::new();
    let mut sent = 0;

    // Truncated: the body promises more than it sends, then the client goes away.
    let mut request = upload_head(&app, &matter, &bearer, boundary, Some(whole.len()));
    request.extend_from_slice(&whole[..whole.len() / 2]);
    let (status, _) = raw(&app, &request, true, Duration::from_secs(20)).await?;
    outcomes.push(("truncated body, connection closed".into(), format!("{status:?}")));
    sent += 1;

    // No closing boundary: a chunked body that ends in the middle of the file part.
    let mut request = upload_head(&app, &matter, &bearer, boundary, None);
    let cut = &whole[..whole.len() - 40];
    request.extend_from_slice(format!("{:x}\r\n", cut.len()).as_bytes());
    request.extend_from_slice(cut);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, _) = raw(&app, &request, false, Duration::from_secs(20)).await?;
    assert!(matches!(status, Some(400) | None), "no closing boundary: {status:?}");
    outcomes.push(("multipart without its closing boundary".into(), format!("{status:?}")));
    sent += 1;

    // Garbage where the parts should be, and a multipart type without a boundary.
    let mut request = upload_head(&app, &matter, &bearer, boundary, Some(26));
    request.extend_from_slice(b"this is not multipart at a");
    let (status, _) = raw(&app, &request, false, Duration::from_secs(20)).await?;
    assert!(matches!(status, Some(400 | 422) | None), "garbage body: {status:?}");
    outcomes.push(("garbage instead of parts".into(), format!("{status:?}")));
    let no_boundary = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header(AUTHORIZATION, &bearer)
        .header("Content-Type", "multipart/form-data")
        .body(whole.clone())
        .send()
        .await?;
    assert!(no_boundary.status().is_client_error(), "{}", no_boundary.status());
    outcomes.push(("multipart type without a boundary".into(), no_boundary.status().as_u16().to_string()));
    sent += 2;

    // Huge headers: one 200 KB header, and 500 headers.
    let host = app.address.trim_start_matches("http://").to_owned();
    let big = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Filler: {}\r\n\r\n", "a".repeat(200_000));
    let (status, _) = raw(&app, big.as_bytes(), false, Duration::from_secs(20)).await?;
    assert!(matches!(status, Some(431 | 400 | 413) | None), "200 KB header: {status:?}");
    outcomes.push(("one 200 KB header".into(), format!("{status:?}")));
    let many: String = (0..500).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n{many}\r\n");
    let (status, _) = raw(&app, many.as_bytes(), false, Duration::from_secs(20)).await?;
    assert!(matches!(status, Some(431 | 400) | None), "500 headers: {status:?}");
    outcomes.push(("500 headers".into(), format!("{status:?}")));
    let (long, small) = ("n".repeat(100_000), pdf(1000));
    let long_name = multipart(boundary, &[("file", Some(long.as_str()), small.as_slice())]);
    let mut request = upload_head(&app, &matter, &bearer, boundary, Some(long_name.len()));
    request.extend_from_slice(&long_name);
    let (status, _) = raw(&app, &request, false, Duration::from_secs(20)).await?;
    outcomes.push(("a part header with a 100 KB file name".into(), format!("{status:?}")));
    sent += 3;

    // A slow body: headers and 64 KB, then nothing. The server gives up after the idle time.
    let mut request = upload_head(&app, &matter, &bearer, boundary, Some(whole.len()));
    request.extend_from_slice(&whole[..64 * 1024]);
    let (status, took) = raw(&app, &request, false, Duration::from_secs(30)).await?;
    assert!(took < Duration::from_secs(15), "a stalled upload held the connection for {took:?}");
    outcomes.push((
        format!("body stalled after 64 KB (idle limit 2 s): answered in {:.1} s", took.as_secs_f64()),
        format!("{status:?}"),
    ));
    sent += 1;
    // Slow headers: half a request line, then nothing; actix's request timeout closes it.
    let (status, took) = raw(&app, b"POST /api/v1/matters/x/documents HT", false, Duration::from_secs(30)).await?;
    assert!(took < Duration::from_secs(15), "a stalled request line held the connection for {took:?}");
    outcomes.push((format!("request line stalled: closed in {:.1} s", took.as_secs_f64()), format!("{status:?}")));
    sent += 1;

    // The server is still fine, and nothing of any of this was kept.
    assert_eq!(app.get("/healthz").await?.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rows, objects, staging) = leftovers(&app).await?;
    assert_eq!((rows, objects, staging), (0, 0, 0), "rows, objects, unfinished uploads left behind");

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
    let app = TestApp::spawn(backend).await?;
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
    let app = TestApp::spawn(backend).await?;
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
            "| figure | value |\n|---|---|\n| disguised or polyglot files sent | {} |\n| refused by their bytes | 4 |\n| polyglots stored, served as their sniffed type with `nosniff` and `attachment` | 2 |\n| hostile names tried | {tried} |\n| object keys outside `firms/<hex>/matters/<hex>/documents/<hex>` | 0 |\n\nNames as stored: {}\n",
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
    every_route_answers_every_actor_as_expected,
    forged_tokens_are_refused_everywhere,
    forms_from_other_sites_are_refused,
    markup_typed_anywhere_is_shown_as_text,
    every_kind_of_answer_carries_the_security_headers,
    malformed_and_slow_uploads_leave_nothing,
    thousands_of_tiny_parts_are_survived,
    disguised_files_and_hostile_names,
);
