//! The weekly update, end to end against the real SMTP servers: one email per
//! client and week, in the client's language, retried when the server is down,
//! failed with a reason when it refuses, and never sent to who unsubscribed.

use chrono::Duration;
use diesel::prelude::*;
use harness::maildev::{self, Email};
use harness::{Backend, TestApp, on_both_backends, reliability, services};
use notifier::Notifier;
use notifier::cli::WorkerOptions;
use reqwest::StatusCode;
use shared::catalogue::{Catalogue, PERSONAL_INJURY};
use shared::db::schema::{firms, notifications, one_tap_links, ratings, short_links, users};
use shared::domain::now;

fn options() -> WorkerOptions {
    WorkerOptions { lease_seconds: 60, concurrency: 8, batch: 100 }
}

async fn notifier_with_smtp(app: &TestApp, smtp: &str) -> anyhow::Result<Notifier> {
    Notifier::build(app.config(&[("MATTERLINE_SMTP_URL", smtp)])?, &options())
}

async fn weekly_updates_on(app: &TestApp, email: &str) -> anyhow::Result<bool> {
    let email = email.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| Ok(users::table.filter(users::email.eq(&email)).select(users::weekly_updates).first(c)?))
        .await?)
}

fn recipient(email: &Email) -> String {
    email.to.first().map(|a| a.address.to_lowercase()).unwrap_or_default()
}

async fn fifty_clients_get_one_update_each_in_their_language(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.add_clients(&demo, 45).await?;
    let notifier = notifier_with_smtp(&app, &services::smtp_url()?).await?;

    let (enqueued, summary) = notifier.once().await?;
    assert_eq!((enqueued, summary.sent, summary.failed, summary.retrying), (50, 50, 0, 0), "{summary:?}");
    let emails = maildev::emails_to_domain(&demo.domain).await?;
    assert_eq!(emails.len(), 50);
    let mut recipients: Vec<String> = emails.iter().map(recipient).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 50, "someone got two emails");

    let catalogue = Catalogue::load(&shared::assets::Assets::default(), PERSONAL_INJURY)?;
    for i in 0..45 {
        let email = emails
            .iter()
            .find(|e| recipient(e) == format!("client{i}@{}", demo.domain))
            .ok_or_else(|| anyhow::anyhow!("client{i} got nothing"))?;
        let phase = &catalogue.phases[i % 10];
        let (subject, wording, step) = if i % 2 == 1 {
            ("Demo Injury Law: novedades semanales de su caso", &phase.es, format!("Paso {} de 10", i % 10 + 1))
        } else {
            ("Demo Injury Law: your weekly case update", &phase.en, format!("Step {} of 10", i % 10 + 1))
        };
        assert_eq!(email.subject, subject, "client{i}");
        // The text part is wrapped at 76 characters: compared with its lines joined.
        let text = email.text.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in [&step, &wording.title, &wording.what_it_means, &wording.what_happens_next] {
            assert!(text.contains(expected.as_str()), "client{i}'s update lacks {expected:?}:\n{}", email.text);
            assert!(email.html.contains(&expected.replace('\'', "&#x27;")), "client{i}'s HTML lacks {expected:?}");
        }
        let moved = if i % 2 == 1 { "Su caso pasó a un nuevo paso" } else { "Your case moved to a new step" };
        assert!(email.text.contains(moved), "client{i}: the phase change is missing:\n{}", email.text);
    }

    // Emails carry no medical detail: the demo's milestone texts stay in the portal.
    let lucia =
        emails.iter().find(|e| recipient(e) == demo.email("lucia")).ok_or_else(|| anyhow::anyhow!("no email"))?;
    assert!(lucia.text.contains("Se programó una cita para el"), "{}", lucia.text);
    for private in ["Orthopaedic", "Gracias por enviar sus fotos"] {
        assert!(!lucia.text.contains(private) && !lucia.html.contains(private), "{private} leaked into an email");
    }

    let (enqueued, summary) = notifier.once().await?;
    assert_eq!((enqueued, summary.total()), (0, 0), "a second pass in the same week did something");
    assert_eq!(maildev::emails_to_domain(&demo.domain).await?.len(), 50);
    Ok(())
}

async fn with_the_mail_server_down_updates_wait_and_arrive_once_it_is_back(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    // Nothing listens on port 9 of this machine's loopback.
    let down = notifier_with_smtp(&app, "smtp://127.0.0.1:9").await?;
    let (enqueued, summary) = down.once().await?;
    assert_eq!((enqueued, summary.retrying, summary.sent), (5, 5, 0), "{summary:?}");

    let rows: Vec<(String, i32, Option<String>)> = app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .select((notifications::status, notifications::attempts, notifications::last_error))
                .load(c)?)
        })
        .await?;
    assert_eq!(rows.len(), 5);
    for (status, attempts, error) in &rows {
        assert_eq!((status.as_str(), *attempts), ("pending", 1));
        assert!(error.as_deref().is_some_and(|e| e.starts_with("temporary mail failure")), "{error:?}");
    }

    let up = notifier_with_smtp(&app, &services::smtp_url()?).await?;
    let early = up.delivery.deliver_all(now(), &|| {}).await?;
    assert_eq!(early.total(), 0, "a retry ran before its backoff ended");
    let later = up.delivery.deliver_all(now() + Duration::minutes(2), &|| {}).await?;
    assert_eq!(later.sent, 5, "{later:?}");
    let again = up.delivery.deliver_all(now() + Duration::hours(1), &|| {}).await?;
    assert_eq!(again.total(), 0);

    let emails = maildev::emails_to_domain(&demo.domain).await?;
    let mut recipients: Vec<String> = emails.iter().map(recipient).collect();
    recipients.sort();
    let count = recipients.len();
    recipients.dedup();
    assert_eq!((count, recipients.len()), (5, 5), "each client exactly once");
    reliability::record(
        &format!("smtp_down_{}", backend.name()),
        &format!("SMTP down for a weekly pass ({})", backend.name()),
        &format!(
            "The notifier's mail server refuses connections during the weekly pass, then comes back.\n\n\
             | figure | value |\n|---|---|\n\
             | updates enqueued | {enqueued} |\n\
             | left pending for retry while down | {retrying} |\n\
             | sent once the server was back | {sent} |\n\
             | clients who got two | {twice} |\n\
             | lost | {lost} |",
            retrying = summary.retrying,
            sent = later.sent,
            twice = count - recipients.len(),
            lost = enqueued - recipients.len(),
        ),
    )?;
    Ok(())
}

async fn a_refusing_mail_server_fails_that_row_with_its_reason_and_sends_the_rest(
    backend: Backend,
) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let (rejected, delayed) = (format!("reject-jordan@{}", demo.domain), format!("tempfail-sam@{}", demo.domain));
    let (jordan, sam, r, d) = (demo.email("jordan"), demo.email("sam"), rejected.clone(), delayed.clone());
    app.state
        .db
        .run(move |c| {
            diesel::update(users::table.filter(users::email.eq(&jordan))).set(users::email.eq(&r)).execute(c)?;
            diesel::update(users::table.filter(users::email.eq(&sam))).set(users::email.eq(&d)).execute(c)?;
            Ok(())
        })
        .await?;
    let notifier = notifier_with_smtp(&app, &services::fault_smtp_url()?).await?;
    let (_, summary) = notifier.once().await?;
    assert_eq!((summary.sent, summary.failed, summary.retrying), (3, 1, 1), "{summary:?}");

    let status_of = |email: String| {
        let db = app.state.db.clone();
        async move {
            db.run(move |c| {
                Ok(notifications::table
                    .inner_join(users::table)
                    .filter(users::email.eq(&email))
                    .select((notifications::status, notifications::last_error))
                    .first::<(String, Option<String>)>(c)?)
            })
            .await
        }
    };
    let (status, reason) = status_of(rejected).await?;
    assert_eq!(status, "failed");
    assert!(reason.as_deref().is_some_and(|r| r.contains("550") && r.contains("mailbox unavailable")), "{reason:?}");
    let (status, reason) = status_of(delayed).await?;
    assert_eq!(status, "pending");
    assert!(reason.as_deref().is_some_and(|r| r.contains("451")), "{reason:?}");

    let accepted: Vec<String> = services::fault_smtp_accepted()?
        .into_iter()
        .map(|(rcpt, _)| rcpt)
        .filter(|rcpt| rcpt.ends_with(&format!("@{}", demo.domain)))
        .collect();
    assert_eq!(accepted.len(), 3, "{accepted:?}");
    reliability::record(
        &format!("smtp_refusing_{}", backend.name()),
        &format!("SMTP answering 550 and 451 ({})", backend.name()),
        &format!(
            "One address is refused (550), one deferred (451), three accepted, in one weekly pass.\n\n\
             | figure | value |\n|---|---|\n\
             | sent | {sent} |\n\
             | failed with the server's 550 reason | {failed} |\n\
             | pending for retry after the 451 | {retrying} |\n\
             | accepted by the server | {accepted} |\n\
             | lost or sent twice | 0 |",
            sent = summary.sent,
            failed = summary.failed,
            retrying = summary.retrying,
            accepted = accepted.len(),
        ),
    )?;
    Ok(())
}

async fn one_click_unsubscribe_stops_next_weeks_update(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let notifier = notifier_with_smtp(&app, &services::smtp_url()?).await?;
    notifier.once().await?;
    let sam = maildev::wait_for_emails(&demo.email("sam"), 1).await?.remove(0);
    let source = sam.source().await?;
    let header = |name: &str| {
        source.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::trim).map(str::to_owned))
    };
    assert_eq!(header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let unsubscribe = header("List-Unsubscribe").ok_or_else(|| anyhow::anyhow!("no List-Unsubscribe in\n{source}"))?;
    let url = unsubscribe.trim_start_matches('<').trim_end_matches('>').to_owned();
    assert!(url.starts_with(&app.address), "{url}");
    assert!(url.contains("/unsubscribe?token="), "{url}");

    // What a mail client does for one-click unsubscribe (RFC 8058): a POST with this exact body, no cookie.
    let response = reqwest::Client::new()
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let on = weekly_updates_on(&app, &demo.email("sam")).await?;
    assert!(!on, "weekly updates still on after unsubscribing");

    // Next week's pass skips Sam and sends the others.
    let next_week = now() + Duration::days(7);
    let firms = notifier::pass::all_firms(&notifier.db).await?;
    assert_eq!(notifier::pass::enqueue_for(&notifier.db, firms, next_week).await?, 4);
    let summary = notifier.delivery.deliver_all(next_week, &|| {}).await?;
    assert_eq!(summary.sent, 4, "{summary:?}");
    assert_eq!(maildev::emails_to(&demo.email("sam")).await?.len(), 1, "an unsubscribed client got next week's update");
    assert_eq!(maildev::wait_for_emails(&demo.email("jordan"), 2).await?.len(), 2);

    // The rating link of an email records an answer, once per email.
    let html = sam.html.replace("&#x3D;", "=").replace("&amp;", "&");
    let rate = html
        .split("href=\"")
        .filter_map(|h| h.split('"').next())
        .find(|h| h.contains("/rate?token=") && h.ends_with("score=4"))
        .ok_or_else(|| anyhow::anyhow!("no rating link"))?
        .to_owned();
    assert!(rate.starts_with(&app.address), "{rate}");
    assert_eq!(reqwest::get(&rate).await?.status(), StatusCode::OK);
    let token = rate.split("token=").nth(1).and_then(|t| t.split('&').next()).unwrap_or_default().to_owned();
    for score in ["2", "4"] {
        let response = reqwest::Client::new()
            .post(app.url("/rate"))
            .form(&[("token", token.as_str()), ("score", score)])
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let scores: Vec<(i32, Option<String>)> =
        app.state.db.run(|c| Ok(ratings::table.select((ratings::score, ratings::notification_id)).load(c)?)).await?;
    assert_eq!(scores.len(), 1, "two clicks on one email made two ratings");
    assert_eq!(scores[0].0, 4);
    assert!(scores[0].1.is_some(), "the rating is not tied to its email");

    // The preferences page turns weekly updates back on.
    let client = app.client(&demo.email("sam")).await?;
    let cookie = format!("matterline_session={}", app.session_token(&client.id).await?);
    let saved = app
        .raw_client()?
        .post(app.url("/preferences"))
        .header("Cookie", &cookie)
        .form(&[("weekly", "on")])
        .send()
        .await?;
    assert_eq!(saved.status(), StatusCode::OK);
    let on = weekly_updates_on(&app, &demo.email("sam")).await?;
    assert!(on, "the preferences page did not turn weekly updates back on");
    Ok(())
}

async fn a_quiet_week_still_gets_a_short_update_unless_the_firm_turns_that_off(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let sam = app.client(&demo.email("sam")).await?;
    let matter = sam.matter_id.clone();
    app.state
        .db
        .run(move |c| {
            use shared::db::schema::milestones;
            diesel::delete(milestones::table.filter(milestones::matter_id.eq(&matter))).execute(c)?;
            Ok(())
        })
        .await?;
    let notifier = notifier_with_smtp(&app, &services::smtp_url()?).await?;
    let (_, summary) = notifier.once().await?;
    assert_eq!(summary.sent, 5);
    let quiet = maildev::wait_for_emails(&demo.email("sam"), 1).await?.remove(0);
    assert!(quiet.text.contains("No change this week. Here is where things stand."), "{}", quiet.text);
    assert!(quiet.text.contains("Step 1 of 10: Getting started"), "{}", quiet.text);

    // Next week nothing happens to anyone, and the firm turned quiet-week updates off.
    let firm_id = demo.firm_id.clone();
    app.state
        .db
        .run(move |c| {
            use shared::db::schema::firms;
            diesel::update(firms::table.find(&firm_id)).set(firms::no_activity_updates.eq(false)).execute(c)?;
            Ok(())
        })
        .await?;
    let next_week = now() + Duration::days(7);
    let firms = notifier::pass::all_firms(&notifier.db).await?;
    notifier::pass::enqueue_for(&notifier.db, firms, next_week).await?;
    let summary = notifier.delivery.deliver_all(next_week, &|| {}).await?;
    assert_eq!((summary.sent, summary.skipped), (0, 5), "{summary:?}");
    let reasons: Vec<Option<String>> = app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::status.eq("skipped"))
                .select(notifications::last_error)
                .load(c)?)
        })
        .await?;
    assert!(reasons.iter().all(|r| r.as_deref().is_some_and(|r| r.contains("no activity"))), "{reasons:?}");
    Ok(())
}

/// Mail goes over STARTTLS to a server with a private certificate: refused
/// until that certificate is trusted (MATTERLINE_SMTP_CA_FILE), then sent.
async fn updates_go_out_over_starttls_to_a_trusted_server(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let (url, ca) = services::tls_smtp()?;

    let untrusted = Notifier::build(app.config(&[("MATTERLINE_SMTP_URL", &url)])?, &options())?;
    let (_, summary) = untrusted.once().await?;
    assert_eq!((summary.sent, summary.retrying), (0, 5), "an untrusted certificate must not be accepted: {summary:?}");

    let trusted =
        Notifier::build(app.config(&[("MATTERLINE_SMTP_URL", &url), ("MATTERLINE_SMTP_CA_FILE", &ca)])?, &options())?;
    let summary = trusted.delivery.deliver_all(now() + Duration::minutes(2), &|| {}).await?;
    assert_eq!(summary.sent, 5, "{summary:?}");
    let accepted = services::fault_smtp_accepted()?
        .into_iter()
        .filter(|(rcpt, _)| rcpt.ends_with(&format!("@{}", demo.domain)))
        .count();
    assert_eq!(accepted, 5);
    Ok(())
}

/// smtps (TLS from the first byte) with AUTH: wrong credentials are a setup
/// problem, retried later rather than failing the week's mail; the right ones send.
async fn updates_go_out_over_smtps_with_auth_and_wrong_credentials_wait(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let (url, ca) = services::smtps_auth()?;
    let (user, rest) = url
        .strip_prefix("smtps://")
        .and_then(|r| r.split_once(':'))
        .ok_or_else(|| anyhow::anyhow!("unexpected smtps URL"))?;
    let host = rest.split_once('@').map(|(_, h)| h).ok_or_else(|| anyhow::anyhow!("no host in the smtps URL"))?;
    let wrong = format!("smtps://{user}:not-the-password@{host}");
    let refused =
        Notifier::build(app.config(&[("MATTERLINE_SMTP_URL", &wrong), ("MATTERLINE_SMTP_CA_FILE", &ca)])?, &options())?;
    let (enqueued, summary) = refused.once().await?;
    assert_eq!((enqueued, summary.sent, summary.failed, summary.retrying), (5, 0, 0, 5), "{summary:?}");
    let errors: Vec<Option<String>> =
        app.state.db.run(|c| Ok(notifications::table.select(notifications::last_error).load(c)?)).await?;
    for error in &errors {
        let error = error.as_deref().unwrap_or_default();
        assert!(error.contains("refused the sign-in") && error.contains("535"), "{error}");
        assert!(!error.contains("not-the-password"), "the password is in the recorded error: {error}");
    }

    let trusted =
        Notifier::build(app.config(&[("MATTERLINE_SMTP_URL", &url), ("MATTERLINE_SMTP_CA_FILE", &ca)])?, &options())?;
    let summary = trusted.delivery.deliver_all(now() + Duration::minutes(2), &|| {}).await?;
    assert_eq!(summary.sent, 5, "{summary:?}");
    let accepted = services::fault_smtp_accepted()?
        .into_iter()
        .filter(|(rcpt, _)| rcpt.ends_with(&format!("@{}", demo.domain)))
        .count();
    assert_eq!(accepted, 5);
    Ok(())
}

/// A weekly pass personalises its emails by batch, not by email: each firm's
/// brand is read once per batch and the links of a batch's emails are stored
/// in a few multi-row statements. Counted with the notifier pool's statement
/// counter (every round trip: queries, `BEGIN`/`COMMIT`, pool checks), so the
/// bound holds whatever the timing: it allows what a pass and each batch cost
/// plus two statements per email ([`PER_EMAIL`]); composing each email's links
/// on its own cost eight more per email (a transaction with the firm, its logo,
/// two short links and the one-tap link's DELETE and INSERT). Every
/// email still gets its own links: one one-tap link per row (only its hash
/// stored), and short sign-in links for the firm that turned one-tap links off.
async fn a_weekly_pass_personalises_its_emails_in_a_few_statements_per_batch(backend: Backend) -> anyhow::Result<()> {
    const BATCH: usize = 10;
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.add_clients(&demo, 30).await?;
    // A second firm, five clients, without one-tap links.
    let other = app.seed_demo().await?;
    let other_firm = other.firm_id.clone();
    app.state
        .db
        .run(move |c| {
            diesel::update(firms::table.find(&other_firm)).set(firms::one_tap_sign_in.eq(false)).execute(c)?;
            Ok(())
        })
        .await?;
    let clients = 40;
    let options = WorkerOptions { lease_seconds: 60, concurrency: 8, batch: BATCH as i64 };
    let notifier = Notifier::build(app.config(&[("MATTERLINE_SMTP_URL", &services::smtp_url()?)])?, &options)?;

    let before = notifier.db.statements_sent();
    let (enqueued, summary) = notifier.once().await?;
    let spent = usize::try_from(notifier.db.statements_sent() - before)?;
    assert_eq!((enqueued, summary.sent, summary.total()), (clients, clients, clients), "{summary:?}");
    let batches = clients.div_ceil(BATCH);
    eprintln!("weekly pass over {clients} clients in {batches} batches ({}): {spent} statements", backend.name());
    let bound = PER_PASS + PER_BATCH * batches + PER_EMAIL * clients;
    assert!(spent <= bound, "{spent} statements for {clients} emails in {batches} batches; at most {bound}");

    let (mut emails, shorts): (Vec<String>, i64) = app
        .state
        .db
        .run(|c| {
            Ok((
                one_tap_links::table.select(one_tap_links::notification_id).load(c)?,
                short_links::table.count().get_result(c)?,
            ))
        })
        .await?;
    let links = emails.len();
    emails.sort();
    emails.dedup();
    let emails = emails.len();
    assert_eq!((links, emails), (35, 35), "one one-tap link per email of the firm with them");
    // Unsubscribe and rating for every email, and the sign-in link of the other firm's five.
    assert_eq!(shorts, 2 * 40 + 5);
    let hashes: Vec<String> =
        app.state.db.run(|c| Ok(one_tap_links::table.select(one_tap_links::secret_hash).load(c)?)).await?;
    assert!(hashes.iter().all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())), "{hashes:?}");
    let without = maildev::emails_to_domain(&other.domain).await?;
    assert_eq!(without.len(), 5);
    let html = |email: &Email| email.html.replace("&#x3D;", "=").replace("&amp;", "&");
    for email in &without {
        assert!(!html(email).contains("/one-tap?token="), "a one-tap link went to a firm without them");
        assert!(html(email).contains("/sign-in?email="), "no sign-in link:\n{}", email.html);
    }
    for email in maildev::emails_to_domain(&demo.domain).await? {
        assert!(html(&email).contains("/one-tap?token="), "no one-tap link:\n{}", email.html);
    }
    Ok(())
}

/// What a weekly pass costs whatever its size: start-up reads, enqueueing, the last empty claim.
const PER_PASS: usize = 60;
/// What a batch costs whatever its size: claim, digests, the firms' brands, the links.
const PER_BATCH: usize = 30;
/// What an email may cost on its own: its outcome's write, were every group a
/// single email, and, on SQLite, its row's INSERT when the pass enqueues it
/// (diesel inserts rows with optional fields one by one there).
const PER_EMAIL: usize = 2;

on_both_backends!(
    updates_go_out_over_smtps_with_auth_and_wrong_credentials_wait,
    updates_go_out_over_starttls_to_a_trusted_server,
    a_quiet_week_still_gets_a_short_update_unless_the_firm_turns_that_off,
    fifty_clients_get_one_update_each_in_their_language,
    with_the_mail_server_down_updates_wait_and_arrive_once_it_is_back,
    a_refusing_mail_server_fails_that_row_with_its_reason_and_sends_the_rest,
    one_click_unsubscribe_stops_next_weeks_update,
    a_weekly_pass_personalises_its_emails_in_a_few_statements_per_batch,
);
