//! Token attacks: forged, expired, misused and replayed tokens on every door they could open.

use diesel::prelude::*;
use harness::{Backend, TestApp, on_both_backends, reliability};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use shared::db::schema::{ratings, sessions, users};
use shared::tokens::Purpose;

use super::SECRET;

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
    shared::tokens::install_crypto_provider();
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
    let app = TestApp::builder(backend).spawn().await?;
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
    let mut accepted = 0;
    let before = session_count(&app).await?;
    for (name, token) in &session_attacks {
        tried += 1;
        let api = http.get(app.url("/api/v1/me")).header(AUTHORIZATION, format!("Bearer {token}")).send().await?;
        accepted += usize::from(api.status() != StatusCode::UNAUTHORIZED);
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED, "bearer accepted: {name}");
        let staff =
            http.get(app.url("/api/v1/staff/clients")).header(AUTHORIZATION, format!("Bearer {token}")).send().await?;
        accepted += usize::from(staff.status() != StatusCode::UNAUTHORIZED);
        assert_eq!(staff.status(), StatusCode::UNAUTHORIZED, "staff API accepted: {name}");
        let page = http.get(app.url("/")).header("Cookie", format!("matterline_session={token}")).send().await?;
        accepted += usize::from(page.status() != StatusCode::SEE_OTHER);
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
            accepted += usize::from(page.status() != StatusCode::UNAUTHORIZED);
            assert_eq!(page.status(), StatusCode::UNAUTHORIZED, "link page accepted: {name}");
        }
        let redeemed = http.post(app.url("/sign-in/link")).form(&[("token", token)]).send().await?;
        accepted += usize::from(redeemed.status() != StatusCode::UNAUTHORIZED);
        assert_eq!(redeemed.status(), StatusCode::UNAUTHORIZED, "link redeemed: {name}");
        assert!(redeemed.headers().get(SET_COOKIE).is_none(), "a cookie was set for: {name}");
    }
    assert_eq!(session_count(&app).await?, before, "a forged link created a session");
    let first = http.post(app.url("/sign-in/link")).form(&[("token", &grant.token)]).send().await?;
    assert_eq!(first.status(), StatusCode::SEE_OTHER, "the genuine link must work once");
    let replayed = http.post(app.url("/sign-in/link")).form(&[("token", &grant.token)]).send().await?;
    accepted += usize::from(replayed.status() != StatusCode::UNAUTHORIZED);
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED, "a replayed link signed in again");
    tried += 1;
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
    accepted += usize::from(after_code.status() != StatusCode::UNAUTHORIZED);
    assert_eq!(after_code.status(), StatusCode::UNAUTHORIZED, "the link of a code already used signed in");
    tried += 1;
    let forged_sessions = session_count(&app).await? - before - 2;
    assert_eq!(forged_sessions, 0, "exactly the two genuine sign-ins made sessions");

    // Unsubscribe and rating links: forged ones change nothing.
    let unsubscribe_good = claims(&client.id, Purpose::Unsubscribe.audience(), "n1");
    for (name, token) in attacks_on(&unsubscribe_good, Purpose::Unsubscribe)? {
        tried += 1;
        let page = http.get(app.url("/unsubscribe")).query(&[("token", &token)]).send().await?;
        accepted += usize::from(page.status() != StatusCode::UNAUTHORIZED);
        assert_eq!(page.status(), StatusCode::UNAUTHORIZED, "unsubscribe page accepted: {name}");
        let posted = http.post(app.url("/unsubscribe")).query(&[("token", &token)]).send().await?;
        accepted += usize::from(posted.status() != StatusCode::UNAUTHORIZED);
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
        accepted += usize::from(page.status() != StatusCode::UNAUTHORIZED);
        assert_eq!(page.status(), StatusCode::UNAUTHORIZED, "rating page accepted: {name}");
        let posted = http.post(app.url("/rate")).form(&[("token", token.as_str()), ("score", "1")]).send().await?;
        accepted += usize::from(posted.status() != StatusCode::UNAUTHORIZED);
        assert_eq!(posted.status(), StatusCode::UNAUTHORIZED, "rated with: {name}");
    }
    let rated: i64 = app.state.db.run(|c| Ok(ratings::table.count().get_result(c)?)).await?;
    assert_eq!(rated, 0, "a forged rating link recorded a rating");
    let recorded = rated + i64::from(!weekly);
    let genuine = forge(&hs256(), &rating_good, Some(Algorithm::HS256), SECRET)?;
    let rated = http.post(app.url("/rate")).form(&[("token", genuine.as_str()), ("score", "5")]).send().await?;
    assert_eq!(rated.status(), StatusCode::OK, "the genuine rating link must work");

    reliability::record(
        &format!("security_tokens_{backend:?}").to_lowercase(),
        &format!("Token attacks ({backend:?})"),
        &format!(
            "Forged, expired, not-yet-valid, wrong-audience, wrong-algorithm (`none`, HS384/HS512, RS256/ES256 headers), wrong-key, revoked and replayed tokens against the session cookie, the bearer header, the staff API, sign-in links, unsubscribe and rating links.\n\n| figure | value |\n|---|---|\n| forged tokens tried | {tried} |\n| accepted | {accepted} |\n| sessions created by forged or replayed links | {forged_sessions} |\n| ratings or unsubscribes recorded from forged links | {recorded} |\n"
        ),
    )?;
    Ok(())
}

on_both_backends!(forged_tokens_are_refused_everywhere,);
