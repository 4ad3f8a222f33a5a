//! Error pages and answers as a Spanish-speaking client meets them: 404, a
//! used-up or expired sign-in link, 429, both kinds of 403 and a 503 (the
//! database out of connections) in Spanish; the sign-in and receipt emails,
//! the unsubscribe and rating pages and dates ("28 de noviembre de 2026") in
//! Spanish; a 500 (a table gone from the database) shows the request id and
//! nothing of its cause; and the security headers are on the 413, 422, 500 and
//! 503 answers as on every other.

use std::time::Duration;

use diesel::RunQueryDsl;
use harness::files::pdf;
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::header::{ACCEPT_LANGUAGE, AUTHORIZATION};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use shared::tokens::Purpose;

use super::EVIL;

/// A page's text, status, language and request id.
struct Page {
    status: StatusCode,
    request_id: String,
    html: String,
    text: String,
}

async fn page(answer: Response) -> anyhow::Result<Page> {
    let status = answer.status();
    let request_id = answer.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let html = answer.text().await?;
    let text = main_text(&html);
    Ok(Page { status, request_id, html, text })
}

impl Page {
    /// The page is in Spanish, with `status` and every one of `phrases` in its main text.
    fn spanish(&self, what: &str, status: StatusCode, phrases: &[&str]) {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        assert!(self.html.contains("<html lang=\"es\">"), "{what} is not marked Spanish");
        for phrase in phrases {
            assert!(self.text.contains(phrase), "{what} lacks {phrase:?}: {}", self.text);
        }
    }

    /// An error page names its request id, which is the one in the `X-Request-Id` header.
    fn quotes_its_request_id(&self, what: &str) {
        assert!(!self.request_id.is_empty(), "{what}: no X-Request-Id");
        assert!(
            self.text.contains(&format!("Referencia: {}", self.request_id)),
            "{what} does not show its request id {}: {}",
            self.request_id,
            self.text
        );
    }
}

/// The security headers every answer carries; `what` names it in a failure.
fn has_security_headers(what: &str, answer: &Response) {
    let header = |name: &str| answer.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let csp = header("content-security-policy");
    for directive in ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "{what} ({}): CSP lacks {directive}: {csp:?}", answer.status());
    }
    assert_eq!(header("x-content-type-options"), "nosniff", "{what} ({})", answer.status());
    assert_eq!(header("x-frame-options"), "DENY", "{what} ({})", answer.status());
    assert_eq!(header("referrer-policy"), "same-origin", "{what} ({})", answer.status());
}

async fn a_spanish_speaking_client_meets_every_error_in_spanish(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let lucia = app.client(&demo.email("lucia")).await?;
    let token = app.session_token(&lucia.id).await?;
    let cookie = format!("matterline_session={token}");
    // A phone set to Spanish: every request says so; nobody is signed in unless a cookie says so.
    let http = app.raw_client()?;
    let es = |request: reqwest::RequestBuilder| request.header(ACCEPT_LANGUAGE, "es-MX,es;q=0.9");
    let mut pages = 0;

    let missing = page(es(http.get(app.url("/no/such/page"))).send().await?).await?;
    missing.spanish("404", StatusCode::NOT_FOUND, &["Página no encontrada", "Esta página no existe"]);
    missing.quotes_its_request_id("404");
    let others = page(
        es(http.get(app.url(&format!("/matters/{}", shared::domain::new_id()))))
            .header("Cookie", &cookie)
            .send()
            .await?,
    )
    .await?;
    others.spanish("a matter that is not hers", StatusCode::NOT_FOUND, &["Página no encontrada"]);
    pages += 2;

    // A sign-in link that expired a minute ago, and one already used.
    let expired = app.state.tokens.issue(Purpose::SignIn, &lucia.id, "expired", chrono::Duration::minutes(-1))?;
    let link = page(es(http.get(app.url("/sign-in/link")).query(&[("token", &expired)])).send().await?).await?;
    link.spanish("an expired link", StatusCode::UNAUTHORIZED, &["Este enlace de acceso ya no funciona"]);
    let (tokens, id) = (app.state.tokens.clone(), lucia.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let first = es(http.post(app.url("/sign-in/link")).form(&[("token", &grant.token)])).send().await?;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let used = page(es(http.post(app.url("/sign-in/link")).form(&[("token", &grant.token)])).send().await?).await?;
    used.spanish("a used link", StatusCode::UNAUTHORIZED, &["Este enlace de acceso ya no funciona"]);
    pages += 2;

    // Sign-in emails until the address's limit (5 in 15 minutes): the next is 429, in Spanish.
    let address = lucia.email.as_str();
    let mut sent = 0;
    let limited = loop {
        let answer = page(es(http.post(app.url("/sign-in")).form(&[("email", address)])).send().await?).await?;
        if answer.status != StatusCode::OK {
            break answer;
        }
        answer.spanish("the sign-in confirmation", StatusCode::OK, &["Revise su correo"]);
        sent += 1;
        anyhow::ensure!(sent <= 5, "a sixth sign-in email was sent: no limit");
    };
    assert_eq!(sent, 5);
    limited.spanish("429", StatusCode::TOO_MANY_REQUESTS, &["Espere unos minutos, por favor", "espere 15 minutos"]);
    limited.quotes_its_request_id("429");
    pages += 2;
    // The sign-in email, composed in her language (saved on her account, not the phone's).
    let emails = app.mail()?.wait_for_emails(address, 5).await?;
    let email = &emails[0];
    assert!(email.subject.starts_with("Su enlace de acceso a "), "{}", email.subject);
    for phrase in ["Hola, Lucía:", "O escriba este código en la página de acceso:", "durante 15 minutos"] {
        assert!(email.text.contains(phrase), "the sign-in email lacks {phrase:?}: {}", email.text);
        assert!(email.html.contains(phrase), "the sign-in email's HTML lacks {phrase:?}: {}", email.html);
    }

    // 403: a form from another site, and a staff page asked for by a client.
    let cross = page(
        es(http.post(app.url("/preferences")))
            .header("Cookie", &cookie)
            .header("Origin", EVIL)
            .form(&[("weekly", "")])
            .send()
            .await?,
    )
    .await?;
    cross.spanish("403 from another site", StatusCode::FORBIDDEN, &["Este formulario vino de otro sitio"]);
    let staff = page(http.get(app.url("/staff")).header("Cookie", &cookie).send().await?).await?;
    staff.spanish("403 for a staff page", StatusCode::FORBIDDEN, &["No disponible para su cuenta"]);
    pages += 2;

    // Her upload's receipt, in Spanish.
    let upload = http
        .post(app.url(&format!("/api/v1/matters/{}/documents", lucia.matter_id)))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pdf(2500)).file_name("factura.pdf").mime_str("application/pdf")?,
        ))
        .send()
        .await?;
    assert_eq!(upload.status(), StatusCode::CREATED);
    let emails = app.mail()?.wait_for_emails(address, 6).await?;
    let receipt = emails
        .iter()
        .find(|e| !e.subject.starts_with("Su enlace de acceso"))
        .ok_or_else(|| anyhow::anyhow!("no receipt among {} emails", emails.len()))?;
    assert!(receipt.subject.ends_with(": recibimos sus documentos"), "{}", receipt.subject);
    for phrase in ["Hola, Lucía:", "Recibimos 1 documento para su caso «Caída en un supermercado»:"] {
        assert!(receipt.text.contains(phrase), "the receipt lacks {phrase:?}: {}", receipt.text);
    }
    assert!(receipt.text.contains("factura.pdf"), "{}", receipt.text);

    // The unsubscribe and rating links of her emails.
    let unsubscribe = app.state.tokens.issue(Purpose::Unsubscribe, &lucia.id, "n1", chrono::Duration::days(1))?;
    let asked = page(es(http.get(app.url("/unsubscribe")).query(&[("token", &unsubscribe)])).send().await?).await?;
    asked.spanish("the unsubscribe page", StatusCode::OK, &["¿Dejar de recibir las novedades semanales?"]);
    let done = page(es(http.post(app.url("/unsubscribe")).query(&[("token", &unsubscribe)])).send().await?).await?;
    done.spanish("unsubscribed", StatusCode::OK, &["Novedades semanales desactivadas"]);
    let rating = app.state.tokens.issue(Purpose::Rating, &lucia.id, "n2", chrono::Duration::days(1))?;
    let query = [("token", rating.as_str()), ("score", "4")];
    let rate = page(es(http.get(app.url("/rate")).query(&query)).send().await?).await?;
    rate.spanish(
        "the rating page",
        StatusCode::OK,
        &["¿Cómo lo estamos haciendo?", "Eligió 4 de 5. Todavía no se ha enviado", "Enviar 4 de 5"],
    );
    // Each button is named for screen readers in Spanish; the one from the email is chosen.
    assert!(rate.html.contains("aria-label=\"4 de 5\" class=\"chosen\""), "{}", rate.html);
    let rated = page(es(http.post(app.url("/rate")).form(&query)).send().await?).await?;
    rated.spanish("rated", StatusCode::OK, &["Gracias"]);
    pages += 4;

    // A date on her matter page: an appointment on 28 November 2026, in the firm's time zone.
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let _: Value = admin
        .post_json(
            &format!("/api/v1/staff/matters/{}/milestones", lucia.matter_id),
            &json!({ "kind": "appointment", "body": "Cita con el médico", "occurs_at": "2026-11-28T17:00:00" }),
            StatusCode::CREATED,
        )
        .await?;
    let matter =
        page(http.get(app.url(&format!("/matters/{}", lucia.matter_id))).header("Cookie", &cookie).send().await?)
            .await?;
    matter.spanish("her matter page (her saved language)", StatusCode::OK, &["28 de noviembre de 2026"]);
    assert!(!matter.text.contains("November"), "{}", matter.text);
    pages += 1;

    reliability::record(
        &format!("spanish_{}", backend.name()),
        &format!("Spanish, end to end ({})", backend.name()),
        &format!(
            "A client whose language is Spanish, on a phone set to Spanish.\n\n| figure | value |\n|---|---|\n| pages checked in Spanish (404, used and expired links, 429, both 403s, unsubscribe, rating, a date) | {pages} |\n| emails checked in Spanish (sign-in, receipt) | 2 of {} sent |\n| sign-in emails before the 429 | {sent} |\n",
            emails.len()
        ),
    )?;
    Ok(())
}

/// The database has no free connection (every one is held by the test): pages
/// and the API answer 503, in Spanish for a Spanish speaker, with the request
/// id and the security headers; once the connections are back, 200 again.
async fn without_the_database_the_portal_answers_503(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let lucia = app.client(&demo.email("lucia")).await?;
    let token = app.session_token(&lucia.id).await?;
    let http = app.raw_client()?;
    let (page_request, api_request) = (
        http.get(app.url("/"))
            .header("Cookie", format!("matterline_session={token}"))
            .header(ACCEPT_LANGUAGE, "es")
            .send(),
        http.get(app.url("/api/v1/me")).header(AUTHORIZATION, format!("Bearer {token}")).send(),
    );

    // Every connection of the portal's pool (10), held until the answers are in.
    let db = app.state.db.clone();
    let held = tokio::task::spawn_blocking(move || (0..10).map(|_| db.get()).collect::<Result<Vec<_>, _>>()).await??;
    let (answered, api) = tokio::join!(page_request, api_request);
    let (answered, api) = (answered?, api?);
    drop(held);

    has_security_headers("503 page", &answered);
    has_security_headers("503 API answer", &api);
    let unavailable = page(answered).await?;
    unavailable.spanish(
        "503",
        StatusCode::SERVICE_UNAVAILABLE,
        &["El portal no está disponible por el momento", "No se perdió nada"],
    );
    unavailable.quotes_its_request_id("503");
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = api.json().await?;
    assert_eq!(body["status"], 503, "{body}");
    assert!(!body.to_string().contains("timed out"), "the cause leaks into the answer: {body}");

    // The connections are back: the same requests are answered.
    let me = http.get(app.url("/api/v1/me")).header(AUTHORIZATION, format!("Bearer {token}")).send().await?;
    assert_eq!(me.status(), StatusCode::OK);
    Ok(())
}

/// A table is gone from the database: the page answers 500 with the request id
/// and nothing of the cause; the API answers `internal error`; both carry the
/// security headers. 413 and 422 answers (page and API) carry them too.
async fn a_500_shows_the_request_id_and_no_details(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_MAX_UPLOAD_BYTES", "100000")]).spawn().await?;
    let demo = app.seed_demo().await?;
    let lucia = app.client(&demo.email("lucia")).await?;
    let token = app.session_token(&lucia.id).await?;
    let cookie = format!("matterline_session={token}");
    let bearer = format!("Bearer {token}");
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let http = app.raw_client()?;
    let mut checked = 0;

    // 413: a file over the size limit, through the API and the upload page.
    let big = || -> anyhow::Result<reqwest::multipart::Form> {
        Ok(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pdf(150_000)).file_name("grande.pdf").mime_str("application/pdf")?,
        ))
    };
    let api_413 = http
        .post(app.url(&format!("/api/v1/matters/{}/documents", lucia.matter_id)))
        .header(AUTHORIZATION, &bearer)
        .multipart(big()?)
        .send()
        .await?;
    let page_413 = http
        .post(app.url(&format!("/matters/{}/upload", lucia.matter_id)))
        .header("Cookie", &cookie)
        .multipart(big()?)
        .send()
        .await?;
    // 422: a body that does not parse (API), a form with a bad address (page).
    let api_422 = admin.request(reqwest::Method::POST, "/api/v1/staff/clients").json(&json!({})).send().await?;
    let page_422 = http.post(app.url("/sign-in")).form(&[("email", "not an address")]).send().await?;
    for (what, answer, status) in [
        ("413 API", &api_413, StatusCode::PAYLOAD_TOO_LARGE),
        ("413 page", &page_413, StatusCode::PAYLOAD_TOO_LARGE),
        ("422 API", &api_422, StatusCode::UNPROCESSABLE_ENTITY),
        ("422 page", &page_422, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        assert_eq!(answer.status(), status, "{what}");
        has_security_headers(what, answer);
        checked += 1;
    }

    // 500: the milestones table is dropped under the running portal.
    app.state
        .db
        .run(|c| {
            match c {
                shared::db::DbConnection::Sqlite(c) => diesel::sql_query("DROP TABLE milestones").execute(c)?,
                shared::db::DbConnection::Postgresql(c) => diesel::sql_query("DROP TABLE milestones").execute(c)?,
            };
            Ok(())
        })
        .await?;
    let answer = http
        .get(app.url(&format!("/matters/{}", lucia.matter_id)))
        .header("Cookie", &cookie)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    has_security_headers("500 page", &answer);
    let failed = page(answer).await?;
    failed.spanish("500", StatusCode::INTERNAL_SERVER_ERROR, &["Algo salió mal", "llame a su equipo legal"]);
    failed.quotes_its_request_id("500");
    let causes = ["milestones", "no such table", "does not exist", "relation", "diesel", "SELECT"];
    let shown: Vec<&str> = causes.into_iter().filter(|detail| failed.html.contains(detail)).collect();
    assert!(shown.is_empty(), "the 500 page shows {shown:?}: {}", failed.text);
    let api = http
        .get(app.url(&format!("/api/v1/matters/{}", lucia.matter_id)))
        .header(AUTHORIZATION, &bearer)
        .send()
        .await?;
    has_security_headers("500 API answer", &api);
    assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(api.headers().get("x-request-id").is_some(), "a 500 API answer names its request id in a header");
    let body: Value = api.json().await?;
    assert_eq!(body, json!({ "error": "internal error", "status": 500 }));
    checked += 2;

    reliability::record(
        &format!("error_answers_{}", backend.name()),
        &format!("Error answers: request id, no details, security headers ({})", backend.name()),
        &format!(
            "413 (a file over the limit), 422 (a body that does not parse, a bad address), 500 (a table dropped under the running portal), pages and API.\n\n| figure | value |\n|---|---|\n| error answers checked for CSP, nosniff, framing, referrer | {checked} |\n| fragments of the cause looked for on the 500 page ({}) | {} |\n| of them shown | {} |\n",
            causes.join(", "),
            causes.len(),
            shown.len()
        ),
    )?;
    Ok(())
}

on_both_backends!(
    a_spanish_speaking_client_meets_every_error_in_spanish,
    without_the_database_the_portal_answers_503,
    a_500_shows_the_request_id_and_no_details,
);
