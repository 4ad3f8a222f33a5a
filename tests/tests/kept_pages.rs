//! The portal keeps the client matter pages it renders and answers them again
//! while the matter is unchanged (`portal::page_cache`). What must hold: a kept
//! page is used only when nothing it shows has changed, whoever changed it
//! (the portal's own routes, or a statement from outside the portal); it is
//! never shown to another client, after sign-out, or in a language the client
//! no longer reads; and the page's one statement still checks all of that.

use diesel::prelude::*;
use harness::files::pdf;
use harness::pages::main_text;
use harness::session::Session;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::header::CONTENT_TYPE;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The matter page as `session` sees it: status and main text.
async fn page(session: &Session, matter: &str) -> anyhow::Result<(StatusCode, String)> {
    let answer = session.request(Method::GET, &format!("/matters/{matter}")).send().await?;
    let status = answer.status();
    Ok((status, main_text(&answer.text().await?)))
}

/// The matter's page version, as the database holds it.
async fn version(app: &TestApp, matter: &str) -> anyhow::Result<i64> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        page_version: i64,
    }
    let matter = matter.to_owned();
    let found = app
        .state
        .db
        .run(move |c| {
            Ok(diesel::sql_query(format!("SELECT page_version FROM matters WHERE id = '{matter}'"))
                .get_result::<Version>(c)?)
        })
        .await?;
    Ok(found.page_version)
}

/// A statement run on the database directly, as another program would.
async fn outside(app: &TestApp, sql: String) -> anyhow::Result<usize> {
    Ok(app.state.db.run(move |c| Ok(diesel::sql_query(sql).execute(c)?)).await?)
}

/// Opens the page twice and checks that the second answer was the kept page,
/// identical to the first, and that it shows `expect`.
async fn shown_then_kept(app: &TestApp, session: &Session, matter: &str, expect: &str) -> anyhow::Result<String> {
    let (status, first) = page(session, matter).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains(expect), "the page lacks {expect:?}: {first}");
    let kept_before = app.state.pages.answered_count();
    let (status, second) = page(session, matter).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.state.pages.answered_count(), kept_before + 1, "the unchanged page was answered from what was kept");
    assert_eq!(second, first, "the kept page is the page");
    Ok(second)
}

/// Every change to what the page shows is on the next page, made through the
/// staff API, the client's own upload or directly in the database; and each
/// raises the matter's page version, while a write to nothing the page shows
/// (a failed sign-in counted on the case manager) does not.
async fn a_kept_page_lasts_only_until_anything_on_it_changes(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let matter = jordan.matter_id.clone();
    let session = app.signed_in_client(&jordan.email).await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    shown_then_kept(&app, &session, &matter, "Rear-end collision on Route 9").await?;

    // A note from the firm, through the staff API.
    let note = "The insurer has your records; we expect an offer within a month.";
    let v = version(&app, &matter).await?;
    let path = format!("/api/v1/staff/matters/{matter}/milestones");
    let _: Value = admin.post_json(&path, &json!({ "kind": "client_note", "body": note }), StatusCode::CREATED).await?;
    assert!(version(&app, &matter).await? > v, "a milestone raises the version");
    shown_then_kept(&app, &session, &matter, note).await?;

    // A reply: shown with its badge once, then read, and the read page is kept.
    let reply = "Thank you, we have what we need for now.";
    let path = format!("/api/v1/staff/matters/{matter}/messages");
    let _: Value = admin.post_json(&path, &json!({ "body": reply, "internal": false }), StatusCode::CREATED).await?;
    let (_, with_badge) = page(&session, &matter).await?;
    assert!(with_badge.contains(reply) && with_badge.contains("1 new"), "{with_badge}");
    let read = shown_then_kept(&app, &session, &matter, reply).await?;
    assert!(!read.contains("1 new"), "the reply was read on the page before: {read}");

    // The client's own upload.
    let file = Part::bytes(pdf(2_000)).file_name("pharmacy receipt.pdf").mime_str("application/pdf")?;
    let uploaded = session
        .request(Method::POST, &format!("/api/v1/matters/{matter}/documents"))
        .multipart(Form::new().part("file", file))
        .send()
        .await?;
    assert_eq!(uploaded.status(), StatusCode::CREATED, "{}", uploaded.text().await?);
    shown_then_kept(&app, &session, &matter, "pharmacy receipt.pdf").await?;

    // Statements from outside the portal: a request's title, the case manager's name.
    let v = version(&app, &matter).await?;
    let changed = outside(
        &app,
        format!(
            "UPDATE document_requests SET title = 'Wage statements from your employer' WHERE matter_id = '{matter}'"
        ),
    )
    .await?;
    assert!(changed > 0, "Jordan's matter has document requests");
    assert!(version(&app, &matter).await? > v, "an update from outside raises the version");
    shown_then_kept(&app, &session, &matter, "Wage statements from your employer").await?;

    let v = version(&app, &matter).await?;
    let manager = format!("(SELECT case_manager_id FROM matters WHERE id = '{matter}')");
    outside(&app, format!("UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = {manager}")).await?;
    assert_eq!(version(&app, &matter).await?, v, "a write to nothing the page shows keeps the version");
    outside(&app, format!("UPDATE users SET full_name = 'Dana Okafor-Reyes' WHERE id = {manager}")).await?;
    assert!(version(&app, &matter).await? > v, "the case manager's new name raises the version");
    shown_then_kept(&app, &session, &matter, "Dana Okafor-Reyes").await?;

    // The firm's time zone (dates and "overdue" are the firm's).
    let v = version(&app, &matter).await?;
    outside(&app, format!("UPDATE firms SET time_zone = 'Pacific/Kiritimati' WHERE id = '{}'", demo.firm_id)).await?;
    assert!(version(&app, &matter).await? > v, "the firm's time zone raises its matters' versions");
    Ok(())
}

/// A page kept for one client is never another's: another client of the same
/// firm is told the matter is not found, a signed-out or forged session goes
/// to sign-in, and a client who changed language gets the page in it.
async fn a_kept_page_is_only_ever_its_clients_in_their_language(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let sam = app.client(&demo.email("sam")).await?;
    let matter = jordan.matter_id.clone();
    let session = app.signed_in_client(&jordan.email).await?;
    shown_then_kept(&app, &session, &matter, "Rear-end collision on Route 9").await?;

    let sam_session = app.signed_in_client(&sam.email).await?;
    let (status, text) = page(&sam_session, &matter).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "another client's matter: {text}");
    assert!(!text.contains("Rear-end collision"), "nothing of the kept page: {text}");

    // The client reads Spanish now: the page is Spanish, then kept in Spanish.
    let switched = session
        .request(Method::POST, "/language")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("lang=es&next=%2Fmatters%2F{matter}"))
        .send()
        .await?;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    let spanish = shown_then_kept(&app, &session, &matter, "Dónde está su caso ahora").await?;
    assert!(!spanish.contains("Where your case is now"), "{spanish}");

    // Signed out: the session is gone, kept page or not.
    let forged = format!("{}x", session.token);
    let raw = app.raw_client()?;
    let answer = raw
        .get(app.url(&format!("/matters/{matter}")))
        .header("Authorization", format!("Bearer {forged}"))
        .send()
        .await?;
    assert_ne!(answer.status(), StatusCode::OK, "a forged session is not signed in");
    let cookie = format!("matterline_session={}", session.token);
    let out = raw.post(app.url("/sign-out")).header("Cookie", &cookie).send().await?;
    assert_eq!(out.status(), StatusCode::OK);
    let after = raw.get(app.url(&format!("/matters/{matter}"))).header("Cookie", &cookie).send().await?;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "signed out: to sign-in");
    let to = after.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(to.starts_with("/sign-in"), "{to}");
    let text = main_text(&after.text().await?);
    assert!(!text.contains("Rear-end collision"), "nothing of the kept page: {text}");
    Ok(())
}

on_both_backends!(
    a_kept_page_lasts_only_until_anything_on_it_changes,
    a_kept_page_is_only_ever_its_clients_in_their_language,
);
