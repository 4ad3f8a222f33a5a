//! A client signs in without a password and finds where their case stands —
//! and nobody else can: forged tokens, other clients' ids and replayed links
//! are all refused with a readable answer.

use chrono::Duration;
use diesel::prelude::*;
use harness::maildev::wait_for_emails;
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, AUTHORIZATION, LOCATION, SET_COOKIE};
use serde_json::Value;
use shared::db::schema::{notifications, sessions, sign_in_tokens};
use shared::tokens::Purpose;

async fn a_client_signs_in_with_the_emailed_link_and_sees_their_case(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_smtp().spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("jordan");

    let reply = app.client.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(main_text(&reply.text().await?).contains("Check your email"));

    let mail = wait_for_emails(&email, 1).await?.remove(0);
    assert_eq!(mail.subject, "Your sign-in link for Demo Injury Law");
    let link =
        mail.link_containing("/sign-in/link?token=").ok_or_else(|| anyhow::anyhow!("no link in {}", mail.text))?;
    assert!(link.starts_with(&app.address), "{link}");
    assert!(mail.six_digit_code().is_some(), "no code in {}", mail.text);
    assert!(mail.html.contains("href=\""), "the HTML part has the button link");

    // Opening the link shows a confirmation; it does not sign in by itself (mail scanners prefetch links).
    let confirm = app.client.get(&link).send().await?;
    assert_eq!(confirm.status(), StatusCode::OK);
    assert!(app.client.get(app.url("/")).send().await?.status().is_redirection(), "a GET of the link signed in");

    let token = link.split("token=").nth(1).unwrap_or_default();
    let signed_in = app.client.post(app.url("/sign-in/link")).form(&[("token", token)]).send().await?;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.starts_with("matterline_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(flag), "cookie lacks {flag}: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain-http public URL: no Secure flag");

    // One open case: `/` goes straight to it.
    let home = app.client.get(app.url("/")).send().await?;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    let to = home.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(to.starts_with("/matters/"), "{to}");
    let dashboard = main_text(&app.client.get(app.url(&to)).send().await?.text().await?);
    assert!(dashboard.contains("Current step: Records and bills"), "{dashboard}");
    assert!(dashboard.contains("We need 1 document from you"), "{dashboard}");

    let client = app.client(&email).await?;
    let page =
        main_text(&app.client.get(app.url(&format!("/matters/{}", client.matter_id))).send().await?.text().await?);
    for expected in [
        "Where your case is now",
        "Records and bills",
        "Step 4 of 10",
        "We are collecting your medical records",
        "What happens next",
        "Bills from your physical therapist",
        "Casey Manager",
        "+1 555 0102",
        "Thank you for sending your photos",
    ] {
        assert!(page.contains(expected), "matter page lacks {expected:?}: {page}");
    }
    assert!(!page.contains("Adjuster prefers email"), "an internal note reached the client");

    // The same link a second time: a clear page, not an error dump.
    let again = app.new_client()?.post(app.url("/sign-in/link")).form(&[("token", token)]).send().await?;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let text = main_text(&again.text().await?);
    assert!(text.contains("This sign-in link no longer works") && text.contains("Ask for a new one"), "{text}");
    Ok(())
}

async fn the_code_from_the_email_signs_in_once(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("sam");
    app.client.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    let code =
        app.mail()?.wait_for_emails(&email, 1).await?[0].six_digit_code().ok_or_else(|| anyhow::anyhow!("no code"))?;

    let phone = app.new_client()?;
    let ok =
        phone.post(app.url("/sign-in/code")).form(&[("email", email.as_str()), ("code", code.as_str())]).send().await?;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let sam = app.client(&email).await?;
    let case = phone.get(app.url(&format!("/matters/{}", sam.matter_id))).send().await?;
    assert!(main_text(&case.text().await?).contains("Current step: Getting started"));

    let replay = app
        .new_client()?
        .post(app.url("/sign-in/code"))
        .form(&[("email", email.as_str()), ("code", code.as_str())])
        .send()
        .await?;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert!(main_text(&replay.text().await?).contains("Codes work once"));

    let malformed = app
        .new_client()?
        .post(app.url("/sign-in/code"))
        .form(&[("email", email.as_str()), ("code", "12ab")])
        .send()
        .await?;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(main_text(&malformed.text().await?).contains("Enter the 6 digits"));
    Ok(())
}

/// A sign-in whose 15 minutes have run out (its row back-dated; the link's own
/// signature is still valid): the link and the code each get a clear page
/// saying so, not an error dump, and no session is made. Once the row is live
/// again the same code signs in, so the refusals were for the expiry alone.
async fn an_expired_sign_in_link_and_code_show_a_clear_page(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("riley");
    let client = app.client(&email).await?;
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let set_expiry = |at: chrono::NaiveDateTime| {
        let (db, id) = (app.state.db.clone(), client.id.clone());
        async move {
            db.run(move |c| {
                Ok(diesel::update(sign_in_tokens::table.filter(sign_in_tokens::user_id.eq(&id)))
                    .set(sign_in_tokens::expires_at.eq(at))
                    .execute(c)?)
            })
            .await
        }
    };
    assert_eq!(set_expiry(shared::domain::now() - Duration::minutes(1)).await?, 1);

    let link = app.new_client()?.post(app.url("/sign-in/link")).form(&[("token", grant.token.as_str())]).send().await?;
    assert_eq!(link.status(), StatusCode::UNAUTHORIZED);
    assert!(link.headers().get(SET_COOKIE).is_none(), "an expired link set a session cookie");
    let page = link.text().await?;
    let text = main_text(&page);
    assert!(text.contains("This sign-in link no longer works") && text.contains("within 15 minutes"), "{text}");
    assert!(page.contains("href=\"/sign-in\""), "no way back to the sign-in form: {text}");

    let code = app
        .new_client()?
        .post(app.url("/sign-in/code"))
        .form(&[("email", email.as_str()), ("code", grant.code.as_str())])
        .send()
        .await?;
    assert_eq!(code.status(), StatusCode::UNAUTHORIZED);
    assert!(code.headers().get(SET_COOKIE).is_none(), "an expired code set a session cookie");
    let page = code.text().await?;
    let text = main_text(&page);
    assert!(page.contains("id=\"code-error\""), "no error message on the code form: {text}");
    assert!(text.contains("Codes work once, within 15 minutes") && text.contains("ask for a new one"), "{text}");

    let sessions: i64 = app.state.db.run(|c| Ok(sessions::table.count().get_result(c)?)).await?;
    assert_eq!(sessions, 0, "an expired sign-in made a session");

    assert_eq!(set_expiry(shared::domain::now() + Duration::minutes(5)).await?, 1);
    let live = app
        .new_client()?
        .post(app.url("/sign-in/code"))
        .form(&[("email", email.as_str()), ("code", grant.code.as_str())])
        .send()
        .await?;
    assert_eq!(live.status(), StatusCode::SEE_OTHER, "the same code, no longer expired");
    Ok(())
}

async fn the_reply_is_the_same_for_unknown_addresses_and_limits_are_readable(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let mail = app.mail()?;
    let demo = app.seed_demo().await?;
    let known = demo.email("mateo");
    let unknown = format!("nobody@{}", demo.domain);
    let page_for = |email: String| {
        let app = &app;
        async move {
            let response =
                app.new_client()?.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
            let status = response.status();
            Ok::<_, anyhow::Error>((status, main_text(&response.text().await?).replace(&email, "EMAIL")))
        }
    };
    assert_eq!(page_for(known.clone()).await?, page_for(unknown.clone()).await?);
    assert!(mail.emails_to(&unknown)?.is_empty(), "mail went to an unknown address");

    // Staff addresses get no client sign-in link either.
    page_for(demo.email("casey")).await?;
    // Five requests per address per 15 minutes; the sixth gets a readable refusal and no email.
    for _ in 0..3 {
        assert_eq!(page_for(known.clone()).await?.0, StatusCode::OK);
    }
    let before = mail.wait_for_emails(&known, 4).await?.len();
    assert_eq!(page_for(known.clone()).await?.0, StatusCode::OK);
    let (status, text) = page_for(known.clone()).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(text.contains("Please wait a few minutes") && text.contains("15 minutes"), "{text}");
    app.background_done().await;
    assert_eq!(mail.emails_to(&known)?.len(), before + 1);
    assert!(mail.emails_to(&demo.email("casey"))?.is_empty(), "staff got a client sign-in link");

    // Twenty requests per IP address per 15 minutes, whatever the addresses: 8 so far
    // (the one refused for its address counts against the IP too).
    for n in 0..12 {
        assert_eq!(page_for(format!("visitor{n}@{}", demo.domain)).await?.0, StatusCode::OK, "request {n}");
    }
    let (status, text) = page_for(format!("one-more@{}", demo.domain)).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(text.contains("Please wait a few minutes"), "{text}");

    let invalid = app.client.post(app.url("/sign-in")).form(&[("email", "not-an-address")]).send().await?;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = invalid.text().await?;
    assert!(html.contains("aria-invalid=\"true\"") && main_text(&html).contains("Enter an email address like"));
    Ok(())
}

async fn forged_expired_and_misused_tokens_are_refused(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let good = app.session_token(&client.id).await?;
    let tokens = &app.state.tokens;

    let [header, claims, signature] = {
        let parts: Vec<&str> = good.split('.').collect();
        [parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned()]
    };
    let mut tampered_signature = signature.clone();
    tampered_signature.replace_range(0..2, if signature.starts_with("AA") { "BB" } else { "AA" });
    let other_key =
        shared::tokens::Tokens::new(&shared::config::Secret::new("some-other-secret-of-at-least-32-chars!".to_owned()));
    let attacks = [
        ("forged with another key", other_key.issue(Purpose::Session, &client.id, "x", Duration::days(1))?),
        ("expired", tokens.issue(Purpose::Session, &client.id, "x", Duration::seconds(-120))?),
        ("tampered signature", format!("{header}.{claims}.{tampered_signature}")),
        ("alg none", format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.")),
        ("sign-in purpose", tokens.issue(Purpose::SignIn, &client.id, "x", Duration::minutes(10))?),
        ("unsubscribe purpose", tokens.issue(Purpose::Unsubscribe, &client.id, "x", Duration::days(1))?),
        ("rating purpose", tokens.issue(Purpose::Rating, &client.id, "x", Duration::days(1))?),
        ("garbage", "not.a.token".to_owned()),
    ];
    let raw = app.raw_client()?;
    for (name, token) in attacks {
        let api = raw.get(app.url("/api/v1/me")).header(AUTHORIZATION, format!("Bearer {token}")).send().await?;
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED, "API accepted a token: {name}");
        let page = raw.get(app.url("/")).header("Cookie", format!("matterline_session={token}")).send().await?;
        assert_eq!(page.status(), StatusCode::SEE_OTHER, "page accepted a token: {name}");
        assert_eq!(page.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/sign-in"), "{name}");
    }
    let me = raw.get(app.url("/api/v1/me")).header(AUTHORIZATION, format!("Bearer {good}")).send().await?;
    assert_eq!(me.status(), StatusCode::OK, "the genuine token must still work");
    assert_eq!(me.json::<Value>().await?["email"], client.email);
    Ok(())
}

async fn a_client_sees_only_their_own_matters(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let a = app.client(&demo.email("jordan")).await?;
    let b = app.client(&demo.email("lucia")).await?;
    let session = app.signed_in_client(&a.email).await?;
    let raw = app.raw_client()?;
    let cookie = format!("matterline_session={}", session.token);

    let mine: Value = session.get("/api/v1/matters").await?;
    let ids: Vec<&str> = mine.as_array().into_iter().flatten().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, [a.matter_id.as_str()]);

    let missing = uuid::Uuid::new_v4().to_string();
    for id in [&b.matter_id, &missing] {
        assert_eq!(
            session.get_json_answer(&format!("/api/v1/matters/{id}"), StatusCode::NOT_FOUND).await?,
            serde_json::json!({ "error": "not found", "status": 404 })
        );
        let page = raw.get(app.url(&format!("/matters/{id}"))).header("Cookie", &cookie).send().await?;
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert!(main_text(&page.text().await?).contains("Page not found"));
    }
    let detail: Value = session.get(&format!("/api/v1/matters/{}", a.matter_id)).await?;
    assert_eq!(detail["phase"]["key"], "records_and_bills");
    assert_eq!(detail["open_requests"][0]["title"], "Bills from your physical therapist");
    assert_eq!(detail["phases"].as_array().map(Vec::len), Some(10));
    assert!(detail["milestones"].as_array().is_some_and(|m| m.iter().all(|m| m["kind"] != "internal_note")));
    Ok(())
}

async fn signing_out_revokes_the_session_and_everywhere_revokes_all(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("riley")).await?;
    let (laptop, phone) = (app.session_token(&client.id).await?, app.session_token(&client.id).await?);
    let raw = app.raw_client()?;
    let me = |token: &str| raw.get(app.url("/api/v1/me")).header(AUTHORIZATION, format!("Bearer {token}")).send();

    let out = raw.post(app.url("/sign-out")).header("Cookie", format!("matterline_session={laptop}")).send().await?;
    assert_eq!(out.status(), StatusCode::OK);
    let cleared = out.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cleared.starts_with("matterline_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert!(main_text(&out.text().await?).contains("You are signed out"));
    assert_eq!(me(&laptop).await?.status(), StatusCode::UNAUTHORIZED, "a signed-out session still works");
    assert_eq!(me(&phone).await?.status(), StatusCode::OK, "signing out one device signed out another");

    let third = app.session_token(&client.id).await?;
    raw.post(app.url("/sign-out/everywhere")).header("Cookie", format!("matterline_session={third}")).send().await?;
    assert_eq!(me(&phone).await?.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&third).await?.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

async fn pages_speak_spanish_by_preference_header_and_switcher(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let visitor = app.new_client()?;

    let english = visitor.get(app.url("/sign-in")).send().await?.text().await?;
    assert!(english.contains("<html lang=\"en\">") && english.contains("Sign in to see your case"));
    let by_header = visitor.get(app.url("/sign-in")).header(ACCEPT_LANGUAGE, "es-MX,es;q=0.9,en;q=0.5").send().await?;
    assert_eq!(by_header.headers().get("content-language").and_then(|v| v.to_str().ok()), Some("es"));
    assert!(by_header.text().await?.contains("Inicie sesión para ver su caso"));

    let switched = visitor.post(app.url("/language")).form(&[("lang", "es"), ("next", "/sign-in")]).send().await?;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(switched.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/sign-in"));
    let page = visitor.get(app.url("/sign-in")).send().await?.text().await?;
    assert!(page.contains("<html lang=\"es\">") && page.contains("Enviarme un enlace de acceso"), "{page}");

    let evil = visitor.post(app.url("/language")).form(&[("lang", "en"), ("next", "//evil.example/")]).send().await?;
    assert_eq!(evil.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/"), "open redirect");

    // A signed-in client's saved preference wins over the browser's header, and the switcher saves it.
    let lucia = app.client(&demo.email("lucia")).await?;
    let cookie = format!("matterline_session={}", app.session_token(&lucia.id).await?);
    let page = visitor
        .get(app.url(&format!("/matters/{}", lucia.matter_id)))
        .header("Cookie", &cookie)
        .header(ACCEPT_LANGUAGE, "en")
        .send()
        .await?;
    let text = main_text(&page.text().await?);
    assert!(text.contains("Dónde está su caso ahora") && text.contains("Tratamiento médico"), "{text}");
    assert!(text.contains("Está recibiendo la atención que necesita"), "{text}");

    let raw = app.raw_client()?;
    raw.post(app.url("/language")).header("Cookie", &cookie).form(&[("lang", "en"), ("next", "/")]).send().await?;
    let me: Value = raw.get(app.url("/api/v1/me")).header("Cookie", &cookie).send().await?.json().await?;
    assert_eq!(me["language"], "en");
    Ok(())
}

/// The mail server is down when a client asks for a link: the reply is the
/// same page as for any address (it must not reveal which are clients), the
/// email waits in the queue, and the notifier delivers a working code once
/// the server is back. A request older than the link's lifetime is dropped.
async fn with_the_mail_server_down_the_sign_in_email_waits_and_arrives_later(backend: Backend) -> anyhow::Result<()> {
    // Nothing listens on port 9 (discard) on this machine's loopback.
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_SMTP_URL", "smtp://127.0.0.1:9")]).spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("jordan");
    let known = app.client.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    assert_eq!(known.status(), StatusCode::OK);
    let known = main_text(&known.text().await?).replace(&email, "ADDRESS");
    let stranger = format!("nobody@{}", demo.domain);
    let unknown = app.new_client()?.post(app.url("/sign-in")).form(&[("email", stranger.as_str())]).send().await?;
    assert_eq!(unknown.status(), StatusCode::OK);
    assert_eq!(known, main_text(&unknown.text().await?).replace(&stranger, "ADDRESS"), "the reply reveals a client");
    assert!(known.contains("Check your email"), "{known}");
    // The email is queued and tried after the answer.
    app.background_done().await;
    // With SMTP configured there is no dev mailbox.
    assert_eq!(app.get("/dev/mailbox").await?.status(), StatusCode::NOT_FOUND);

    let rows = sign_in_rows(&app).await?;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (status, attempts, error) = &rows[0];
    assert_eq!((status.as_str(), *attempts), ("pending", 1));
    assert!(error.as_deref().is_some_and(|e| e.starts_with("temporary mail failure")), "{error:?}");

    // The server is back: the notifier sends it after the retry delay, with a fresh code that works.
    let up = notifier::Notifier::build(
        app.config(&[("MATTERLINE_SMTP_URL", &harness::services::smtp_url()?)])?,
        &notifier::cli::WorkerOptions { lease_seconds: 60, concurrency: 2, batch: 10 },
    )?;
    let summary = up.delivery.deliver_all(shared::domain::now() + Duration::minutes(2), &|| {}).await?;
    assert_eq!(summary.sent, 1, "{summary:?}");
    let code = wait_for_emails(&email, 1).await?[0].six_digit_code().ok_or_else(|| anyhow::anyhow!("no code"))?;
    let phone = app.new_client()?;
    let ok =
        phone.post(app.url("/sign-in/code")).form(&[("email", email.as_str()), ("code", code.as_str())]).send().await?;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);

    // Asked for while the server was down, retried after the link's lifetime: dropped, not sent.
    app.new_client()?.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    app.background_done().await;
    let late = up.delivery.deliver_all(shared::domain::now() + Duration::minutes(16), &|| {}).await?;
    assert_eq!((late.sent, late.skipped), (0, 1), "{late:?}");
    assert_eq!(harness::maildev::emails_to(&email).await?.len(), 1);
    let statuses: Vec<String> = sign_in_rows(&app).await?.into_iter().map(|r| r.0).collect();
    assert_eq!(statuses, ["sent", "skipped"]);
    Ok(())
}

/// (status, attempts, last error) of every sign-in notification, oldest first.
async fn sign_in_rows(app: &TestApp) -> anyhow::Result<Vec<(String, i32, Option<String>)>> {
    use diesel::prelude::*;
    use shared::db::schema::notifications as n;
    Ok(app
        .state
        .db
        .run(|c| {
            Ok(n::table
                .filter(n::kind.eq("sign_in"))
                .order(n::created_at)
                .select((n::status, n::attempts, n::last_error))
                .load(c)?)
        })
        .await?)
}

async fn without_smtp_the_dev_mailbox_shows_the_sign_in_email(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("jordan");
    app.client.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    app.background_done().await;
    let mailbox = app.get("/dev/mailbox").await?;
    assert_eq!(mailbox.status(), StatusCode::OK);
    let text = main_text(&mailbox.text().await?);
    assert!(text.contains(&email) && text.contains("Your sign-in link for Demo Injury Law"), "{text}");
    // The plain-text part shows the link as a short link (docs/security.md, "Short links in emails").
    assert!(text.contains(&format!("{}/l/", app.origin())), "{text}");
    Ok(())
}

async fn an_https_portal_sets_secure_cookies(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend)
        .settings(&[("MATTERLINE_PUBLIC_URL", "https://portal.example-firm.test")])
        .spawn()
        .await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let response = app.client.post(app.url("/sign-in/link")).form(&[("token", grant.token.as_str())]).send().await?;
    let cookie = response.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
    Ok(())
}

/// Wrong codes typed for five addresses at once, while new sign-ins are
/// written beside them: every wrong code is refused as a wrong code, never
/// with "database is locked" (which a client would see as a 500). Each of
/// those redemptions reads the live sign-ins and then counts the attempt, so
/// on SQLite it must take the write lock when it starts. And however the
/// guesses race, no sign-in has its code checked more than five times.
async fn wrong_codes_typed_at_once_are_each_refused_and_counted(backend: Backend) -> anyhow::Result<()> {
    const TASKS: usize = 8;
    const TRIES: usize = 12;
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let people = ["jordan", "lucia", "sam", "mateo", "riley"];
    let mut ids = Vec::new();
    for name in people {
        let client = app.client(&demo.email(name)).await?;
        let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
        app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
        ids.push(client.id);
    }
    let typists = (0..TASKS).map(|task| {
        let (db, tokens, email) =
            (app.state.db.clone(), app.state.tokens.clone(), demo.email(people[task % people.len()]));
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for _ in 0..TRIES {
                let (tokens, email) = (tokens.clone(), email.clone());
                // Demo codes are random 6-digit numbers; this one has a letter in it, so it never matches.
                let device = shared::auth::Device::default();
                answers.push(db.run(move |c| shared::auth::redeem_code(c, &tokens, &email, "12345x", &device)).await);
            }
            answers
        })
    });
    let writer = {
        let (db, tokens, id) = (app.state.db.clone(), app.state.tokens.clone(), ids[0].clone());
        tokio::spawn(async move {
            let mut written = Vec::new();
            for _ in 0..TRIES {
                let (tokens, id) = (tokens.clone(), id.clone());
                written.push(db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id).map(|_| ())).await);
            }
            written
        })
    };
    let typists: Vec<_> = typists.collect();
    let mut refused = 0;
    for typist in typists {
        for answer in typist.await? {
            match answer {
                Err(shared::Error::Unauthenticated) => refused += 1,
                other => panic!("a wrong code got {other:?} instead of being refused"),
            }
        }
    }
    assert_eq!(refused, TASKS * TRIES);
    for written in writer.await? {
        written?;
    }
    let attempts: Vec<i32> = app
        .state
        .db
        .run(move |c| {
            Ok(sign_in_tokens::table
                .filter(sign_in_tokens::user_id.eq_any(&ids[1..]))
                .select(sign_in_tokens::attempts)
                .load(c)?)
        })
        .await?;
    // The four other addresses had one sign-in each, and each was typed at more
    // than MAX_CODE_ATTEMPTS times: each sign-in counted exactly that many guesses
    // and no more, however they raced (more would mean extra codes were checked).
    assert_eq!(attempts, vec![shared::auth::MAX_CODE_ATTEMPTS; 4], "attempts counted per sign-in");
    Ok(())
}

/// Twelve sign-in requests for one address sent at once: the limit of five
/// per address holds however they race. Five get the "check your email" page,
/// seven the readable refusal, and exactly five sign-in emails are queued.
async fn parallel_sign_in_requests_for_one_address_queue_five_emails(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("lucia");
    let client = app.client(&email).await?;
    let requests = (0..12).map(|_| {
        let (app, email) = (&app, email.clone());
        async move {
            let response =
                app.new_client()?.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
            Ok::<_, anyhow::Error>(response.status())
        }
    });
    let statuses = futures_util::future::try_join_all(requests).await?;
    let answered = |status: StatusCode| statuses.iter().filter(|s| **s == status).count();
    assert_eq!((answered(StatusCode::OK), answered(StatusCode::TOO_MANY_REQUESTS)), (5, 7), "{statuses:?}");
    app.background_done().await;
    let id = client.id.clone();
    let queued: i64 = app
        .state
        .db
        .run(move |c| {
            Ok(notifications::table
                .filter(notifications::recipient_id.eq(&id))
                .filter(notifications::kind.eq("sign_in"))
                .count()
                .get_result(c)?)
        })
        .await?;
    assert_eq!(queued, 5, "sign-in emails queued for one address");
    Ok(())
}

/// A rating link tapped six times at once (a double tap on a phone, or a mail
/// scanner and a person): every tap gets the thank-you page and one answer is
/// kept per email, both for a link whose email is on record and for one whose
/// email is gone (its answer is kept without the link).
async fn rating_taps_at_once_keep_one_answer_per_email(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("sam")).await?;
    let id = client.id.clone();
    let notification = app
        .state
        .db
        .run(move |c| {
            let user: shared::db::models::User =
                shared::db::schema::users::table.find(&id).select(shared::db::models::User::as_select()).first(c)?;
            shared::notifications::kinds::sign_in::enqueue(c, &user, shared::domain::now())
        })
        .await?;
    for jti in [notification.as_str(), "an-email-no-longer-on-record"] {
        let token = app.state.tokens.issue(Purpose::Rating, &client.id, jti, Duration::days(1))?;
        let taps = (1..=6).map(|n| {
            let (app, token) = (&app, token.clone());
            async move {
                let score = (n % 5 + 1).to_string();
                let form = [("token", token.as_str()), ("score", score.as_str())];
                anyhow::Ok(app.new_client()?.post(app.url("/rate")).form(&form).send().await?.status())
            }
        });
        let statuses = futures_util::future::try_join_all(taps).await?;
        assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{jti}: {statuses:?}");
    }
    let id = client.id.clone();
    let mut kept: Vec<Option<String>> = app
        .state
        .db
        .run(move |c| {
            Ok(shared::db::schema::ratings::table
                .filter(shared::db::schema::ratings::client_id.eq(&id))
                .select(shared::db::schema::ratings::notification_id)
                .load(c)?)
        })
        .await?;
    kept.sort();
    assert_eq!(kept, vec![None, Some(notification)], "answers kept for two emails tapped six times each");
    Ok(())
}

/// The limit itself, hit by 16 requests at once on one bucket (more than the
/// pool's connections, so they truly overlap): exactly `max` pass, on either
/// database. Counting and recording a hit are one step for each request.
async fn a_limit_hit_at_once_lets_exactly_its_maximum_through(backend: Backend) -> anyhow::Result<()> {
    use shared::rate_limit::{Limit, try_hit};
    let app = TestApp::builder(backend).spawn().await?;
    let limit = Limit { max: 5, window: Duration::minutes(15) };
    let bucket = format!("test:{}", uuid::Uuid::new_v4());
    let hits = (0..16).map(|_| {
        let (db, bucket) = (app.state.db.clone(), bucket.clone());
        tokio::spawn(async move { db.run(move |c| try_hit(c, &bucket, limit, shared::domain::now())).await })
    });
    let mut passed = 0;
    for hit in hits.collect::<Vec<_>>() {
        if hit.await?? {
            passed += 1;
        }
    }
    assert_eq!(passed, limit.max, "hits let through by a limit of {}", limit.max);
    Ok(())
}

on_both_backends!(
    an_https_portal_sets_secure_cookies,
    a_client_signs_in_with_the_emailed_link_and_sees_their_case,
    the_code_from_the_email_signs_in_once,
    an_expired_sign_in_link_and_code_show_a_clear_page,
    wrong_codes_typed_at_once_are_each_refused_and_counted,
    the_reply_is_the_same_for_unknown_addresses_and_limits_are_readable,
    parallel_sign_in_requests_for_one_address_queue_five_emails,
    a_limit_hit_at_once_lets_exactly_its_maximum_through,
    rating_taps_at_once_keep_one_answer_per_email,
    forged_expired_and_misused_tokens_are_refused,
    a_client_sees_only_their_own_matters,
    signing_out_revokes_the_session_and_everywhere_revokes_all,
    pages_speak_spanish_by_preference_header_and_switcher,
    with_the_mail_server_down_the_sign_in_email_waits_and_arrives_later,
    without_smtp_the_dev_mailbox_shows_the_sign_in_email,
);

#[test]
fn every_message_exists_in_english_and_spanish_and_every_template_key_exists() -> anyhow::Result<()> {
    let assets = shared::assets::Assets::default();
    let renderer = shared::render::Renderer::load(&assets)?;
    assert_eq!(renderer.locales().missing_keys(), Vec::new(), "keys missing in a language");
    // Every literal `t "key"` in a template names a message.
    for path in assets.list("web/").into_iter().chain(assets.list("email/")) {
        let text = assets.text(&path).unwrap_or_default();
        for piece in text.split("t \"").skip(1) {
            let key = piece.split('"').next().unwrap_or_default();
            for lang in shared::domain::Language::BUILT_IN {
                assert!(renderer.locales().get(lang, key, None).is_some(), "{path}: no message {key:?} in {lang}");
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_openapi_description_lists_the_client_api() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let app = TestApp::builder(Backend::Sqlite).spawn().await?;
    let spec: Value = app.get("/api/openapi.json").await?.json().await?;
    assert!(spec["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", spec["openapi"]);
    for path in ["/api/v1/me", "/api/v1/matters", "/api/v1/matters/{id}", "/api/v1/matters/{id}/documents"] {
        assert!(spec["paths"][path]["get"]["responses"]["200"].is_object(), "{path} missing from the description");
        assert!(spec["paths"][path]["get"]["responses"]["401"].is_object(), "{path} does not document 401");
    }
    assert!(spec["paths"]["/api/v1/matters/{id}/documents"]["post"]["responses"]["413"].is_object());
    assert!(spec["paths"]["/api/v1/matters/{id}/documents/{document}/download"]["get"].is_object());
    for schema in ["MatterDetail", "MatterSummary", "ErrorBody", "UploadReport", "DocumentView"] {
        assert!(spec["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    Ok(())
}

#[tokio::test]
async fn pages_carry_security_headers() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let app = TestApp::builder(Backend::Sqlite).spawn().await?;
    let page = app.get("/sign-in").await?;
    let header = |name: &str| page.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let csp = header("content-security-policy");
    for directive in
        ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"]
    {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("referrer-policy"), "same-origin");
    // The pages need nothing the policy forbids: no inline styles or scripts.
    for path in ["/sign-in", "/sign-in/code"] {
        let html = app.get(path).await?.text().await?;
        assert!(!html.contains("style=\"") && !html.contains("<script>"), "{path} has inline style or script");
    }
    Ok(())
}
