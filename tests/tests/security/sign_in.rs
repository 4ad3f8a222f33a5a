//! Sign-in without tells and without free lockouts: a client's sign-in request
//! does the same work for any address (the email is looked up, queued and sent
//! after the answer); staff sign-in failures slow the next try, per source and
//! per address, the same for addresses no one has, and an admin can clear them;
//! and windows, sessions and delays expire when the portal's clock moves on,
//! not after a sleep.

use std::net::IpAddr;

use chrono::Duration;
use diesel::prelude::*;
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::header::{LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::{audit_events, notifications};

/// An HTTP client whose requests come from `ip` (any 127.x.y.z reaches the
/// portal on this machine's loopback): another source, as the portal sees it.
fn from_source(app: &TestApp, ip: &str) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, reqwest::header::HeaderValue::from_str(&app.origin())?);
    Ok(reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>()?)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// The authenticator code of `secret` at the portal's time (its clock may be ahead).
fn code_now(app: &TestApp, secret: &str) -> anyhow::Result<String> {
    let seconds = u64::try_from(app.state.clock().timestamp())?;
    Ok(portal::staff_auth::totp(secret, "x", "x")?.generate(seconds).to_string())
}

/// One staff API sign-in: its status, `Retry-After` and body.
async fn api_sign_in(
    app: &TestApp,
    http: &reqwest::Client,
    email: &str,
    password: &str,
    code: &str,
) -> anyhow::Result<(StatusCode, Option<i64>, String)> {
    let body = json!({ "email": email, "password": password, "code": code });
    let answer = http.post(app.url("/api/v1/staff/sign-in")).json(&body).send().await?;
    let status = answer.status();
    let retry = answer.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    Ok((status, retry, answer.text().await?))
}

/// Failed sign-ins the portal has counted for an address (from every source).
async fn failures_of(app: &TestApp, email: &str) -> anyhow::Result<i64> {
    let (email, now) = (email.to_owned(), app.state.clock().now());
    Ok(app.state.db.run(move |c| portal::staff_auth::recent_failures(c, &email, now)).await?)
}

/// A client's sign-in request answers before the email is even sent: with a
/// mail server that accepts the connection and then says nothing, the known
/// and the unknown address get the same page at once, and only afterwards is
/// the email queued and tried (the portal connects to the server). When the
/// server hangs up, the email stays queued for the notifier to retry.
async fn a_sign_in_request_answers_before_its_email_is_sent(backend: Backend) -> anyhow::Result<()> {
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let smtp = format!("smtp://{}", mute.local_addr()?);
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_SMTP_URL", &smtp)]).spawn().await?;
    let demo = app.seed_demo().await?;
    let (known, unknown) = (demo.email("jordan"), format!("nobody@{}", demo.domain));
    let ask = |email: String| {
        let app = &app;
        async move {
            let answer = app.new_client()?.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
            anyhow::Ok((answer.status(), main_text(&answer.text().await?).replace(&email, "ADDRESS")))
        }
    };
    // Both answers arrive while nothing can be sent: the server never greets, and a
    // request that waited for the email would wait for the mailer's 20 s timeout.
    let answers = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        anyhow::Ok((ask(known.clone()).await?, ask(unknown.clone()).await?))
    })
    .await
    .map_err(|_| anyhow::anyhow!("a sign-in request waited for the mail server"))??;
    assert_eq!(answers.0.0, StatusCode::OK);
    assert_eq!(answers.0, answers.1, "the answer tells a client's address from another");

    // Then the known address's email is sent: the portal connects to the mail server.
    let (connection, _) = tokio::time::timeout(std::time::Duration::from_secs(20), mute.accept())
        .await
        .map_err(|_| anyhow::anyhow!("the sign-in email was never sent"))??;
    let client = app.client(&known).await?;
    let rows = |app: &TestApp| {
        let (db, id) = (app.state.db.clone(), client.id.clone());
        async move {
            db.run(move |c| {
                Ok(notifications::table
                    .filter(notifications::recipient_id.eq(&id))
                    .filter(notifications::kind.eq("sign_in"))
                    .select((notifications::status, notifications::attempts))
                    .load::<(String, i32)>(c)?)
            })
            .await
        }
    };
    assert_eq!(rows(&app).await?, [("sending".to_owned(), 1)], "queued and being sent");
    // The server hangs up: the email waits in the queue for the notifier's retry.
    drop(connection);
    drop(mute);
    app.background_done().await;
    assert_eq!(rows(&app).await?, [("pending".to_owned(), 1)], "kept for a retry");
    let all: i64 = app
        .state
        .db
        .run(|c| Ok(notifications::table.filter(notifications::kind.eq("sign_in")).count().get_result(c)?))
        .await?;
    assert_eq!(all, 1, "an email queued for the unknown address");
    Ok(())
}

/// A graceful stop waits for a sign-in email being sent after its answer:
/// while the mail server is still silent the portal has not stopped; once it
/// hangs up, the stop completes and the email is queued for the notifier.
async fn a_graceful_stop_waits_for_a_sign_in_email_being_sent(backend: Backend) -> anyhow::Result<()> {
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let smtp = format!("smtp://{}", mute.local_addr()?);
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_SMTP_URL", &smtp)]).spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("jordan");
    let asked = app.client.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    assert_eq!(asked.status(), StatusCode::OK);
    let (connection, _) = tokio::time::timeout(std::time::Duration::from_secs(20), mute.accept())
        .await
        .map_err(|_| anyhow::anyhow!("the sign-in email was never sent"))??;
    let stopping = app.shut_down();
    tokio::pin!(stopping);
    let early = tokio::time::timeout(std::time::Duration::from_millis(500), &mut stopping).await;
    assert!(early.is_err(), "the portal stopped while a sign-in email was being sent: {early:?}");
    drop(connection);
    drop(mute);
    stopping.await?;
    let rows: Vec<(String, i32)> = app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::kind.eq("sign_in"))
                .select((notifications::status, notifications::attempts))
                .load(c)?)
        })
        .await?;
    assert_eq!(rows, [("pending".to_owned(), 1)], "kept for the notifier's retry");
    Ok(())
}

/// Twelve wrong passwords for a staff address and for an address no one has:
/// the same refusals, then the same "wait" answer with the same `Retry-After`,
/// on the API and on the page; the right password and code are not checked
/// during the wait (no free pass for a guess that happens to be right).
async fn unknown_and_throttled_addresses_get_the_same_answers(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.state.clock().stop();
    let admin = demo.staff_login("admin")?.clone();
    let nobody = format!("nobody@{}", demo.domain);
    let free = portal::staff_auth::PER_SOURCE.free;
    let mut answers = Vec::new();
    for email in [&admin.email, &nobody] {
        let http = from_source(&app, "127.0.0.1")?;
        let mut refusals = Vec::new();
        for n in 0..free {
            let code = code_now(&app, &admin.totp_secret)?;
            refusals.push(api_sign_in(&app, &http, email, &format!("wrong {n}"), &code).await?);
        }
        let waiting = api_sign_in(&app, &http, email, &admin.password, &code_now(&app, &admin.totp_secret)?).await?;
        let page = http
            .post(app.url("/staff/sign-in"))
            .form(&[("email", email.as_str()), ("password", "wrong"), ("code", "000000")])
            .send()
            .await?;
        let page = (page.status(), main_text(&page.text().await?).replace(email.as_str(), "ADDRESS"));
        assert_eq!(failures_of(&app, email).await?, free, "failures counted for {email}");
        answers.push((refusals, waiting, page));
    }
    let (staff, unknown) = (&answers[0], &answers[1]);
    assert!(staff.0.iter().all(|r| r.0 == StatusCode::UNAUTHORIZED && r.1.is_none()), "{:?}", staff.0);
    assert_eq!(staff.0, unknown.0, "wrong passwords for a staff address and for nobody's");
    assert_eq!(staff.1.0, StatusCode::TOO_MANY_REQUESTS, "the right password during the wait: {:?}", staff.1);
    assert_eq!(staff.1.1, Some(1), "the first wait is a second");
    assert_eq!(staff.1, unknown.1, "the wait for a staff address and for nobody's");
    assert_eq!(staff.2.0, StatusCode::TOO_MANY_REQUESTS);
    assert!(staff.2.1.contains("Please wait 1 second"), "{}", staff.2.1);
    assert_eq!(staff.2, unknown.2, "the sign-in page during the wait");
    let body: Value = serde_json::from_str(&staff.1.2)?;
    assert_eq!(body, json!({ "error": "too many attempts", "status": 429 }));
    reliability::record(
        &format!("security_staff_sign_in_{backend:?}").to_lowercase(),
        &format!("Staff sign-in: unknown against throttled addresses ({backend:?})"),
        &format!(
            "| figure | value |\n|---|---|\n| wrong passwords per address before a wait | {} |\n| refusals that differed between a staff address and nobody's | {} |\n| first wait (Retry-After, s) | {} |\n| waits that differed | {} |\n",
            staff.0.len(),
            staff.0.iter().zip(&unknown.0).filter(|(a, b)| a != b).count(),
            staff.1.1.unwrap_or_default(),
            usize::from(staff.1 != unknown.1) + usize::from(staff.2 != unknown.2),
        ),
    )?;
    Ok(())
}

/// Wrong passwords from one source make that source wait longer each time
/// (1 s, 2 s, 4 s …), and each wait ends when the portal's clock passes it;
/// meanwhile the owner, from a source that has not been failing, signs in at
/// once. A success forgives the source its failures.
async fn a_guessing_source_waits_longer_each_time_and_the_owner_gets_in(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.state.clock().stop();
    let casey = demo.staff_login("casey")?.clone();
    let guesser = from_source(&app, "127.0.0.2")?;
    for n in 0..portal::staff_auth::PER_SOURCE.free {
        let code = code_now(&app, &casey.totp_secret)?;
        assert_eq!(
            api_sign_in(&app, &guesser, &casey.email, &format!("guess {n}"), &code).await?.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let mut waits = Vec::new();
    for _ in 0..4 {
        let (status, wait, _) = api_sign_in(&app, &guesser, &casey.email, "guess", "000000").await?;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let wait = wait.ok_or_else(|| anyhow::anyhow!("no Retry-After"))?;
        waits.push(wait);
        // Not over a moment early ...
        app.state.clock().advance(Duration::seconds(wait) - Duration::milliseconds(1));
        let early = api_sign_in(&app, &guesser, &casey.email, "guess", "000000").await?;
        assert_eq!((early.0, early.1), (StatusCode::TOO_MANY_REQUESTS, Some(1)), "a millisecond early");
        // ... and over once the clock has passed it: the next guess is checked (and fails).
        app.state.clock().advance(Duration::milliseconds(1));
        assert_eq!(api_sign_in(&app, &guesser, &casey.email, "guess", "000000").await?.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(waits, [1, 2, 4, 8], "waits after each further failure");

    // The owner, elsewhere, is not kept out by the guesser.
    let owner = from_source(&app, "127.0.0.3")?;
    let (status, _, body) =
        api_sign_in(&app, &owner, &casey.email, &casey.password, &code_now(&app, &casey.totp_secret)?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The guesser still waits; once its wait is over, the right password gets in
    // from there too, and that source starts afresh.
    let (status, wait, _) = api_sign_in(&app, &guesser, &casey.email, &casey.password, "000000").await?;
    assert_eq!((status, wait), (StatusCode::TOO_MANY_REQUESTS, Some(16)));
    app.state.clock().advance(Duration::seconds(16 + 30)); // and a new TOTP step
    let (status, _, body) =
        api_sign_in(&app, &guesser, &casey.email, &casey.password, &code_now(&app, &casey.totp_secret)?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(api_sign_in(&app, &guesser, &casey.email, "typo", "000000").await?.0, StatusCode::UNAUTHORIZED);
    Ok(())
}

/// Guesses spread over many sources slow the address for everyone, but never
/// by more than a minute: the owner waits at most that long, and then gets in.
async fn guesses_from_many_sources_delay_the_owner_a_minute_at_most(backend: Backend) -> anyhow::Result<()> {
    use portal::staff_auth::{PER_ADDRESS, PER_SOURCE};
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.state.clock().stop();
    let admin = demo.staff_login("admin")?.clone();
    let mut source = 10;
    let mut next_source = || {
        source += 1;
        from_source(&app, &format!("127.0.1.{source}"))
    };
    let mut guesses = 0;
    while guesses < PER_ADDRESS.free {
        let http = next_source()?;
        for _ in 0..PER_SOURCE.free.min(PER_ADDRESS.free - guesses) {
            assert_eq!(api_sign_in(&app, &http, &admin.email, "guess", "000000").await?.0, StatusCode::UNAUTHORIZED);
            guesses += 1;
        }
    }
    let mut waits = Vec::new();
    for _ in 0..8 {
        let (status, wait, _) = api_sign_in(&app, &next_source()?, &admin.email, "guess", "000000").await?;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let wait = wait.ok_or_else(|| anyhow::anyhow!("no Retry-After"))?;
        waits.push(wait);
        app.state.clock().advance(Duration::seconds(wait));
        assert_eq!(
            api_sign_in(&app, &next_source()?, &admin.email, "guess", "000000").await?.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60], "waits for the address, capped at a minute");

    let owner = next_source()?;
    let (status, wait, _) =
        api_sign_in(&app, &owner, &admin.email, &admin.password, &code_now(&app, &admin.totp_secret)?).await?;
    assert_eq!((status, wait), (StatusCode::TOO_MANY_REQUESTS, Some(60)));
    app.state.clock().advance(Duration::seconds(60));
    let (status, _, body) =
        api_sign_in(&app, &owner, &admin.email, &admin.password, &code_now(&app, &admin.totp_secret)?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    Ok(())
}

/// An admin clears a staff member's failures (API and settings page): they
/// sign in at once, and the audit log says who did it. A case manager may not,
/// and an address that is not the firm's staff is not found.
async fn an_admin_clears_a_staff_members_failed_sign_ins(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.state.clock().stop();
    let other_firm = app.seed_demo().await?;
    let casey = demo.staff_login("casey")?.clone();
    let http = from_source(&app, "127.0.0.4")?;
    let free = portal::staff_auth::PER_SOURCE.free;
    let throttle = || async {
        for _ in 0..free {
            assert_eq!(api_sign_in(&app, &http, &casey.email, "guess", "000000").await?.0, StatusCode::UNAUTHORIZED);
        }
        let (status, wait, _) = api_sign_in(&app, &http, &casey.email, "guess", "000000").await?;
        assert_eq!((status, wait), (StatusCode::TOO_MANY_REQUESTS, Some(1)));
        anyhow::Ok(())
    };
    throttle().await?;

    // Through the API: admins of the firm only, and only for the firm's staff.
    let unlock = |session: harness::session::Session, email: String| async move {
        let body = json!({ "email": email });
        anyhow::Ok(session.request(Method::POST, "/api/v1/staff/staff/unlock").json(&body).send().await?.status())
    };
    let as_casey = app.signed_in(&casey.email).await?;
    assert_eq!(unlock(as_casey, casey.email.clone()).await?, StatusCode::FORBIDDEN);
    let other_admin = app.signed_in_staff(&other_firm, "admin").await?;
    assert_eq!(unlock(other_admin, casey.email.clone()).await?, StatusCode::NOT_FOUND);
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let client = demo.email("jordan");
    assert_eq!(unlock(admin.clone(), client).await?, StatusCode::NOT_FOUND, "a client is not staff");
    assert_eq!(failures_of(&app, &casey.email).await?, free, "refused unlocks cleared something");
    assert_eq!(unlock(admin.clone(), casey.email.to_uppercase()).await?, StatusCode::NO_CONTENT);
    assert_eq!(failures_of(&app, &casey.email).await?, 0);
    let (status, _, body) =
        api_sign_in(&app, &http, &casey.email, &casey.password, &code_now(&app, &casey.totp_secret)?).await?;
    assert_eq!(status, StatusCode::OK, "at once after the unlock: {body}");

    // On the settings page: the failures and a button to clear them.
    throttle().await?;
    let cookie = format!("matterline_session={}", admin.token);
    let page = app.raw_client()?.get(app.url("/staff/settings")).header("Cookie", &cookie).send().await?;
    let text = main_text(&page.text().await?);
    assert!(text.contains(&format!("{free} failed sign-ins in the last 24 hours")), "{text}");
    assert!(text.contains("Clear failed sign-ins of"), "no button to clear them: {text}");
    let cleared = app
        .raw_client()?
        .post(app.url("/staff/settings/unlock"))
        .header("Cookie", &cookie)
        .form(&[("email", casey.email.as_str())])
        .send()
        .await?;
    assert_eq!(cleared.status(), StatusCode::SEE_OTHER);
    assert_eq!(cleared.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/staff/settings"));
    assert_eq!(failures_of(&app, &casey.email).await?, 0);
    let page = app.raw_client()?.get(app.url("/staff/settings")).header("Cookie", &cookie).send().await?;
    let text = main_text(&page.text().await?);
    assert!(!text.contains("Clear failed sign-ins of") && text.contains("No failed sign-ins"), "{text}");

    // Each unlock is in the audit log: who cleared whose failures, and how many.
    let casey_id = app.user_id(&casey.email).await?;
    let logged: Vec<(Option<String>, Option<String>, Option<String>)> = app
        .state
        .db
        .run(|c| {
            Ok(audit_events::table
                .filter(audit_events::action.eq("staff.sign_in_unlock"))
                .order(audit_events::id)
                .select((audit_events::actor_id, audit_events::target_id, audit_events::detail))
                .load(c)?)
        })
        .await?;
    let expected = (Some(admin.user_id.clone()), Some(casey_id), Some(format!("{free} failed sign-ins cleared")));
    assert_eq!(logged, [expected.clone(), expected]);
    Ok(())
}

/// Five sign-in requests per address in 15 minutes: the sixth is refused
/// until the portal's clock has moved past the window, then accepted again.
async fn a_sign_in_limit_window_expires_with_the_clock(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    app.state.clock().stop();
    let email = demo.email("jordan");
    let ask = || async {
        anyhow::Ok(
            app.new_client()?.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?.status(),
        )
    };
    for n in 0..shared::rate_limit::SIGN_IN_PER_ADDRESS.max {
        assert_eq!(ask().await?, StatusCode::OK, "request {n}");
    }
    assert_eq!(ask().await?, StatusCode::TOO_MANY_REQUESTS);
    let window = shared::rate_limit::SIGN_IN_PER_ADDRESS.window;
    app.state.clock().advance(window - Duration::microseconds(1));
    assert_eq!(ask().await?, StatusCode::TOO_MANY_REQUESTS, "a moment before the window ends");
    app.state.clock().advance(Duration::microseconds(1));
    assert_eq!(ask().await?, StatusCode::OK, "once the window has passed");
    app.background_done().await;
    assert_eq!(app.mail()?.emails_to(&email)?.len(), 6);
    Ok(())
}

/// A session lasts 30 days by the portal's clock: the day before, it still
/// opens the API and the pages; the day after, it opens neither. A sign-in
/// link dies after 15 minutes the same way.
async fn a_session_and_a_sign_in_link_expire_with_the_clock(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in(&client.email).await?;
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let link = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let page = |app: &TestApp| {
        let (http, url, cookie) =
            (app.raw_client(), app.url("/preferences"), format!("matterline_session={}", session.token));
        async move { anyhow::Ok(http?.get(url).header("Cookie", cookie).send().await?) }
    };
    assert_eq!(session.get_status("/api/v1/me").await?, StatusCode::OK);

    app.state.clock().advance(shared::auth::SIGN_IN_TTL + Duration::seconds(10));
    let redeemed =
        app.new_client()?.post(app.url("/sign-in/link")).form(&[("token", link.token.as_str())]).send().await?;
    assert_eq!(redeemed.status(), StatusCode::UNAUTHORIZED, "a sign-in link after 15 minutes");

    app.state.clock().advance(shared::auth::SESSION_TTL - Duration::days(1));
    assert_eq!(session.get_status("/api/v1/me").await?, StatusCode::OK, "a day before the session ends");
    assert_eq!(page(&app).await?.status(), StatusCode::OK);
    app.state.clock().advance(Duration::days(2));
    assert_eq!(session.get_status("/api/v1/me").await?, StatusCode::UNAUTHORIZED, "a day after");
    let after = page(&app).await?;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(after.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/sign-in"));
    Ok(())
}

on_both_backends!(
    a_sign_in_request_answers_before_its_email_is_sent,
    a_graceful_stop_waits_for_a_sign_in_email_being_sent,
    unknown_and_throttled_addresses_get_the_same_answers,
    a_guessing_source_waits_longer_each_time_and_the_owner_gets_in,
    guesses_from_many_sources_delay_the_owner_a_minute_at_most,
    an_admin_clears_a_staff_members_failed_sign_ins,
    a_sign_in_limit_window_expires_with_the_clock,
    a_session_and_a_sign_in_link_expire_with_the_clock,
);
