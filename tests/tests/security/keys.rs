//! Keys: staff TOTP secrets sealed at rest (rows stored plain before sealed by
//! `portal migrate` and at start-up; a new TOTP key with the old one listed in
//! `MATTERLINE_TOTP_PREVIOUS_KEYS`), and token signing secrets rotated without
//! signing everyone out (`MATTERLINE_JWT_PREVIOUS_SECRETS`).

use chrono::Duration;
use diesel::prelude::*;
use harness::{Backend, TestApp, http_client, on_both_backends};
use portal::state::AppState;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, SET_COOKIE};
use serde_json::{Value, json};
use shared::config::Secret;
use shared::db::schema::users;
use shared::tokens::{Purpose, Tokens};

use super::SECRET;

/// The token secret a rotation moves to (the harness signs with [`SECRET`]).
const NEW_SECRET: &str = "the-secret-after-the-rotation-0123456789abcdef";

/// What `users.totp_secret` holds for `email`.
async fn stored_secret(state: &AppState, email: &str) -> anyhow::Result<String> {
    let email = email.to_owned();
    let stored: Option<String> = state
        .db
        .run(move |c| Ok(users::table.filter(users::email.eq(&email)).select(users::totp_secret).first(c)?))
        .await?;
    stored.ok_or_else(|| anyhow::anyhow!("no TOTP secret stored"))
}

/// Stores `secret` as it is, the way versions before sealing did.
async fn store_plain(state: &AppState, email: &str, secret: &str) -> anyhow::Result<()> {
    let (email, secret) = (email.to_owned(), secret.to_owned());
    let changed = state
        .db
        .run(move |c| {
            Ok(diesel::update(users::table.filter(users::email.eq(&email)))
                .set(users::totp_secret.eq(Some(secret)))
                .execute(c)?)
        })
        .await?;
    anyhow::ensure!(changed == 1, "{changed} rows changed");
    Ok(())
}

/// The stored value must be sealed and carry nothing of the secret.
fn assert_sealed(stored: &str, secret: &str, who: &str) {
    assert!(stored.starts_with("v1:"), "{who}: not sealed: {stored}");
    assert_ne!(stored, secret, "{who}");
    assert!(!stored.contains(secret) && !stored.contains(&secret.to_lowercase()), "{who}: the secret is readable");
    // No 8-character run of the secret survives either.
    for window in secret.as_bytes().windows(8) {
        let piece = std::str::from_utf8(window).unwrap_or_default();
        assert!(!stored.contains(piece), "{who}: {piece} of the secret is in {stored}");
    }
}

/// A staff API sign-in with the authenticator code at the portal's clock: its status and body.
async fn staff_sign_in(
    state: &AppState,
    address: &str,
    email: &str,
    password: &str,
    secret: &str,
) -> anyhow::Result<(StatusCode, Value)> {
    let seconds = u64::try_from(state.clock().timestamp())?;
    let code = portal::staff_auth::totp(secret, "x", "x")?.generate(seconds).to_string();
    let http = http_client(address, false)?;
    let answer = http
        .post(format!("{address}/api/v1/staff/sign-in"))
        .json(&json!({ "email": email, "password": password, "code": code }))
        .send()
        .await?;
    Ok((answer.status(), answer.json().await.unwrap_or(Value::Null)))
}

/// New staff secrets are stored sealed; rows stored plain by an older version
/// are sealed by `portal migrate` (and at start-up) in one pass that a second
/// run leaves alone, and their owners' authenticator codes still sign in; a new
/// TOTP key with the old one as previous seals every row again, after which
/// the old key can go.
async fn totp_secrets_are_sealed_at_rest_and_plain_rows_are_migrated(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let (admin, casey) = (demo.staff_login("admin")?.clone(), demo.staff_login("casey")?.clone());
    for s in [&admin, &casey] {
        assert_sealed(&stored_secret(&app.state, &s.email).await?, &s.totp_secret, &s.email);
    }

    // Rows as an older version left them: the base32 secret itself.
    for s in [&admin, &casey] {
        store_plain(&app.state, &s.email, &s.totp_secret).await?;
        assert_eq!(stored_secret(&app.state, &s.email).await?, s.totp_secret, "the plain row is in place");
    }
    // `portal migrate` runs exactly this (app::prepare): migrations, then the sealing.
    drop(portal::app::prepare(app.config(&[])?).await?);
    let mut sealed = Vec::new();
    for s in [&admin, &casey] {
        let stored = stored_secret(&app.state, &s.email).await?;
        assert_sealed(&stored, &s.totp_secret, &s.email);
        sealed.push(stored);
    }
    // Idempotent: another run finds nothing to seal and changes nothing.
    let key = app.state.totp_key.clone();
    let again = app.state.db.run(move |c| portal::totp_at_rest::seal_rows(c, &key)).await?;
    assert_eq!(again, 0, "a second run sealed rows again");
    assert_eq!(stored_secret(&app.state, &admin.email).await?, sealed[0]);
    assert_eq!(stored_secret(&app.state, &casey.email).await?, sealed[1]);

    // The authenticator app still works: the code of the secret handed out signs in.
    let (status, body) =
        staff_sign_in(&app.state, &app.address, &admin.email, &admin.password, &admin.totp_secret).await?;
    assert_eq!(status, StatusCode::OK, "after the migration the admin's code is refused: {body}");
    assert!(body["token"].as_str().is_some_and(|t| !t.is_empty()), "{body}");

    // A plain row left by an older instance is sealed when a portal starts.
    store_plain(&app.state, &casey.email, &casey.totp_secret).await?;
    app.stop().await;
    let restarted = TestApp::spawn_on(&app.db, &[]).await?;
    let stored = stored_secret(&restarted.state, &casey.email).await?;
    assert_sealed(&stored, &casey.totp_secret, &casey.email);
    let (status, body) =
        staff_sign_in(&restarted.state, &restarted.address, &casey.email, &casey.password, &casey.totp_secret).await?;
    assert_eq!(status, StatusCode::OK, "after start-up sealed her row, Casey's code is refused: {body}");
    restarted.handle.stop(true).await;

    // A new TOTP key, the generated one listed as previous: one start seals every row again.
    let old_key = std::fs::read_to_string(app.db.dir.path().join("data").join("totp-key"))?;
    let new_key = "42".repeat(32);
    let sealed_with_old =
        [stored_secret(&app.state, &admin.email).await?, stored_secret(&app.state, &casey.email).await?];
    let rotating = TestApp::spawn_on(
        &app.db,
        &[("MATTERLINE_TOTP_KEY", new_key.as_str()), ("MATTERLINE_TOTP_PREVIOUS_KEYS", old_key.trim())],
    )
    .await?;
    for (s, before) in [&admin, &casey].into_iter().zip(&sealed_with_old) {
        let stored = stored_secret(&rotating.state, &s.email).await?;
        assert_sealed(&stored, &s.totp_secret, &s.email);
        assert_ne!(&stored, before, "{}: not sealed again with the new key", s.email);
    }
    rotating.handle.stop(true).await;
    // The previous key removed: the rows open under the new key alone, and the codes sign in.
    let rotated = TestApp::spawn_on(&app.db, &[("MATTERLINE_TOTP_KEY", new_key.as_str())]).await?;
    // A later time step: the admin used the current one above (a code is good once).
    rotated.state.clock().advance(Duration::seconds(30));
    let (status, body) =
        staff_sign_in(&rotated.state, &rotated.address, &admin.email, &admin.password, &admin.totp_secret).await?;
    assert_eq!(status, StatusCode::OK, "after the TOTP key rotation the admin's code is refused: {body}");
    rotated.handle.stop(true).await;
    Ok(())
}

/// Tokens of every purpose, signed with the secret of the moment.
struct Issued {
    session: String,
    unused_links: [String; 2],
    unsubscribe: String,
    rating: String,
}

/// A client's bearer request to `/api/v1/me`: status and body.
async fn me(http: &reqwest::Client, address: &str, token: &str) -> anyhow::Result<(StatusCode, String)> {
    let answer =
        http.get(format!("{address}/api/v1/me")).header(AUTHORIZATION, format!("Bearer {token}")).send().await?;
    Ok((answer.status(), answer.text().await?))
}

/// The statuses of a sign-in link's page, an unsubscribe page and a rating page.
async fn link_pages(
    http: &reqwest::Client,
    address: &str,
    issued: &Issued,
    link: &str,
) -> anyhow::Result<[StatusCode; 3]> {
    Ok([
        http.get(format!("{address}/sign-in/link")).query(&[("token", link)]).send().await?.status(),
        http.get(format!("{address}/unsubscribe")).query(&[("token", &issued.unsubscribe)]).send().await?.status(),
        http.get(format!("{address}/rate")).query(&[("token", &issued.rating)]).send().await?.status(),
    ])
}

/// A token names its signing key; after a rotation the previous secret still
/// verifies what it signed (sessions, sign-in links, unsubscribe and rating
/// links) while the new one signs; once the previous secret is removed its
/// tokens are refused exactly like forged ones, and the new secret's still work.
async fn tokens_signed_with_a_previous_secret_work_until_it_is_removed(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let issued = app
        .state
        .db
        .run(move |c| {
            let session = shared::auth::create_session(c, &tokens, &id, &shared::auth::Device::default())?;
            let links = [shared::auth::issue_sign_in(c, &tokens, &id)?, shared::auth::issue_sign_in(c, &tokens, &id)?];
            Ok(Issued {
                session: session.token,
                unused_links: links.map(|l| l.token),
                unsubscribe: tokens.issue(Purpose::Unsubscribe, &id, "n1", Duration::days(365))?,
                rating: tokens.issue(Purpose::Rating, &id, "n1", Duration::days(60))?,
            })
        })
        .await?;
    let old_kid = app.state.tokens.current_key_id().to_owned();
    let kid_of = |token: &str| jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
    assert_eq!(kid_of(&issued.session).as_deref(), Some(old_kid.as_str()), "tokens name their key");
    app.stop().await;

    // The rotation under way: a new secret signs, the old one still verifies.
    let rotating = TestApp::spawn_on(
        &app.db,
        &[("MATTERLINE_JWT_SECRET", NEW_SECRET), ("MATTERLINE_JWT_PREVIOUS_SECRETS", SECRET)],
    )
    .await?;
    let new_kid = rotating.state.tokens.current_key_id().to_owned();
    assert_ne!(new_kid, old_kid);
    let http = http_client(&rotating.address, false)?;
    let (status, body) = me(&http, &rotating.address, &issued.session).await?;
    assert_eq!(status, StatusCode::OK, "a session signed with the previous secret was refused: {body}");
    assert_eq!(
        link_pages(&http, &rotating.address, &issued, &issued.unused_links[0]).await?,
        [StatusCode::OK; 3],
        "sign-in, unsubscribe and rating links signed with the previous secret"
    );
    let signed_in = http
        .post(format!("{}/sign-in/link", rotating.address))
        .form(&[("token", &issued.unused_links[0])])
        .send()
        .await?;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "the previous secret's sign-in link signs in");
    let new_session = signed_in
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("matterline_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?;
    assert_eq!(kid_of(&new_session).as_deref(), Some(new_kid.as_str()), "only the new secret signs");
    let rated = http
        .post(format!("{}/rate", rotating.address))
        .form(&[("token", issued.rating.as_str()), ("score", "4")])
        .send()
        .await?;
    assert_eq!(rated.status(), StatusCode::OK, "the previous secret's rating link records a rating");
    rotating.handle.stop(true).await;

    // The previous secret removed: its tokens are refused like forged ones.
    let rotated = TestApp::spawn_on(&app.db, &[("MATTERLINE_JWT_SECRET", NEW_SECRET)]).await?;
    let http = http_client(&rotated.address, false)?;
    let (status, body) = me(&http, &rotated.address, &issued.session).await?;
    let forged = Tokens::new(&Secret::new("a-secret-that-no-portal-was-ever-given-0123".to_owned())).issue(
        Purpose::Session,
        &client.id,
        "any-session",
        Duration::days(30),
    )?;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the removed secret's session was accepted: {body}");
    assert_eq!(me(&http, &rotated.address, &forged).await?, (status, body), "refused exactly like a forged token");
    assert_eq!(
        link_pages(&http, &rotated.address, &issued, &issued.unused_links[1]).await?,
        [StatusCode::UNAUTHORIZED; 3],
        "sign-in, unsubscribe and rating links signed with the removed secret"
    );
    let redeemed = http
        .post(format!("{}/sign-in/link", rotated.address))
        .form(&[("token", &issued.unused_links[1])])
        .send()
        .await?;
    assert_eq!(redeemed.status(), StatusCode::UNAUTHORIZED, "an unused link of the removed secret signed in");
    assert!(redeemed.headers().get(SET_COOKIE).is_none());
    let unsubscribed =
        http.post(format!("{}/unsubscribe", rotated.address)).query(&[("token", &issued.unsubscribe)]).send().await?;
    assert_eq!(unsubscribed.status(), StatusCode::UNAUTHORIZED);
    let id = client.id.clone();
    let weekly: bool =
        rotated.state.db.run(move |c| Ok(users::table.find(&id).select(users::weekly_updates).first(c)?)).await?;
    assert!(weekly, "the removed secret's unsubscribe link turned weekly updates off");
    let rated = http
        .post(format!("{}/rate", rotated.address))
        .form(&[("token", issued.rating.as_str()), ("score", "1")])
        .send()
        .await?;
    assert_eq!(rated.status(), StatusCode::UNAUTHORIZED);
    // The control: what the current secret signed during the rotation still works.
    let (status, body) = me(&http, &rotated.address, &new_session).await?;
    assert_eq!(status, StatusCode::OK, "the new secret's session was refused: {body}");
    rotated.handle.stop(true).await;
    Ok(())
}

on_both_backends!(
    totp_secrets_are_sealed_at_rest_and_plain_rows_are_migrated,
    tokens_signed_with_a_previous_secret_work_until_it_is_removed,
);
