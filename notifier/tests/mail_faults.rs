//! The mail server fails the portal's own email: an upload made while it is
//! down is still stored and its receipt waits in the queue until the notifier
//! delivers it, once; a server that keeps deferring (4xx) is retried on the
//! backoff until the attempts run out, and the row then says why. Nothing is
//! dropped silently and nothing is sent twice.

use chrono::Duration;
use diesel::prelude::*;
use harness::{Backend, TestApp, maildev, on_both_backends, reliability, services};
use notifier::Notifier;
use notifier::cli::WorkerOptions;
use reqwest::multipart::{Form, Part};
use shared::db::schema::{documents, notifications, users};
use shared::domain::now;

fn options() -> WorkerOptions {
    WorkerOptions { lease_seconds: 60, concurrency: 8, batch: 100 }
}

async fn receipts(app: &TestApp) -> anyhow::Result<Vec<(String, i32, Option<String>)>> {
    Ok(app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::kind.eq("upload_receipt"))
                .select((notifications::status, notifications::attempts, notifications::last_error))
                .load(c)?)
        })
        .await?)
}

async fn an_upload_while_the_mail_server_is_down_is_stored_and_its_receipt_sent_once_later(
    backend: Backend,
) -> anyhow::Result<()> {
    // Nothing listens on port 9 of this machine's loopback.
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_SMTP_URL", "smtp://127.0.0.1:9")]).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let token = app.session_token(&client.id).await?;
    let bytes = harness::files::pdf(50_000);
    let part = Part::bytes(bytes).file_name("bill.pdf").mime_str("application/pdf")?;
    let answer = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{}/documents", client.matter_id)))
        .header("Authorization", format!("Bearer {token}"))
        .multipart(Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(answer.status(), 201, "the upload does not depend on the mail server");
    let stored: i64 = app.state.db.run(|c| Ok(documents::table.count().get_result(c)?)).await?;
    assert_eq!(stored, 1);
    let waiting = receipts(&app).await?;
    assert_eq!(waiting.len(), 1);
    let (status, attempts, error) = &waiting[0];
    assert_eq!((status.as_str(), *attempts), ("pending", 1), "{error:?}");
    assert!(error.as_deref().is_some_and(|e| e.contains("temporary")), "{error:?}");

    // The server is back: the notifier delivers the receipt after its backoff, once.
    let notifier = Notifier::build(app.config(&[("MATTERLINE_SMTP_URL", &services::smtp_url()?)])?, &options())?;
    let early = notifier.delivery.deliver_all(now(), &|| {}).await?;
    assert_eq!(early.total(), 0, "retried before the backoff ended");
    let later = notifier.delivery.deliver_all(now() + Duration::minutes(2), &|| {}).await?;
    assert_eq!(later.sent, 1, "{later:?}");
    let again = notifier.delivery.deliver_all(now() + Duration::hours(7), &|| {}).await?;
    assert_eq!(again.total(), 0, "{again:?}");
    let mail: Vec<_> = maildev::emails_to_domain(&demo.domain)
        .await?
        .into_iter()
        .filter(|e| e.subject.contains("we received your documents"))
        .collect();
    assert_eq!(mail.len(), 1, "exactly one receipt");
    assert!(mail[0].text.contains("bill.pdf"), "{}", mail[0].text);
    assert_eq!(receipts(&app).await?[0].0, "sent");

    reliability::record(
        &format!("mail_down_receipt_{}", backend.name()),
        &format!("SMTP down during an upload ({})", backend.name()),
        &format!(
            "The portal's mail server refuses connections while a client uploads.\n\n\
             | figure | value |\n|---|---|\n\
             | uploads answered 201 while mail was down | 1 of 1 |\n\
             | receipts queued | 1 |\n\
             | receipts delivered once the server was back | {sent} |\n\
             | receipts delivered twice | 0 |\n\
             | receipts lost | 0 |",
            sent = later.sent
        ),
    )?;
    Ok(())
}

async fn a_mail_server_that_keeps_deferring_is_retried_until_the_attempts_run_out(
    backend: Backend,
) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    // Only sam stays a client with weekly updates; the fault server answers 451 to `tempfail…@`.
    let deferred = format!("tempfail-sam@{}", demo.domain);
    let (sam, address) = (demo.email("sam"), deferred.clone());
    app.state
        .db
        .run(move |c| {
            diesel::update(users::table.filter(users::email.eq(&sam))).set(users::email.eq(&address)).execute(c)?;
            Ok(())
        })
        .await?;
    let notifier = Notifier::build(app.config(&[("MATTERLINE_SMTP_URL", &services::fault_smtp_url()?)])?, &options())?;
    let started = shared::domain::now();
    let (_, first) = notifier.once().await?;
    assert_eq!((first.retrying, first.failed), (1, 0), "{first:?}");

    // Each retry comes after its backoff (1, 2, 4 … minutes after the last attempt, at most 6 hours).
    let status_of = || {
        let (db, address) = (app.state.db.clone(), deferred.clone());
        async move {
            db.run(move |c| {
                Ok(notifications::table
                    .inner_join(users::table)
                    .filter(users::email.eq(&address))
                    .select((
                        notifications::status,
                        notifications::attempts,
                        notifications::last_error,
                        notifications::next_attempt_at,
                    ))
                    .first::<(String, i32, Option<String>, chrono::NaiveDateTime)>(c)?)
            })
            .await
        }
    };
    let mut tries = 1;
    let mut last_attempt = started;
    let mut gaps = Vec::new();
    loop {
        let (status, attempts, _, due) = status_of().await?;
        if status != "pending" {
            break;
        }
        let too_early = notifier.delivery.deliver_all(due - Duration::seconds(5), &|| {}).await?;
        assert_eq!(too_early.total(), 0, "retry {} ran before its backoff ended", attempts + 1);
        notifier.delivery.deliver_all(due, &|| {}).await?;
        gaps.push((due - last_attempt).num_seconds() as f64 / 60.0);
        last_attempt = due;
        tries += 1;
        anyhow::ensure!(tries <= shared::notifications::queue::MAX_ATTEMPTS + 1, "the row is retried forever");
    }
    // Observed: from the first attempt to the last, each retry made at the moment its row fell due.
    let waited = last_attempt - started;
    assert_eq!(i32::try_from(gaps.len())?, shared::notifications::queue::MAX_ATTEMPTS - 1, "{gaps:?}");
    assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "the backoff never shrinks: {gaps:?} minutes");
    let gaps: Vec<String> = gaps.iter().map(|m| format!("{m:.0}")).collect();
    let (status, attempts, reason, _) = status_of().await?;
    assert_eq!((status.as_str(), attempts), ("failed", shared::notifications::queue::MAX_ATTEMPTS));
    assert!(reason.as_deref().is_some_and(|r| r.contains("451")), "{reason:?}");
    let accepted = services::fault_smtp_accepted()?.into_iter().filter(|(rcpt, _)| *rcpt == deferred).count();
    assert_eq!(accepted, 0);
    // The other clients' updates went out once each.
    let sent: i64 = app
        .state
        .db
        .run(|c| Ok(notifications::table.filter(notifications::status.eq("sent")).count().get_result(c)?))
        .await?;
    assert_eq!(sent, 4);

    reliability::record(
        &format!("smtp_deferring_{}", backend.name()),
        &format!("SMTP answering 451 every time ({})", backend.name()),
        &format!(
            "One client's address is deferred (451) on every attempt; the other four are accepted.\n\n\
             | figure | value |\n|---|---|\n\
             | delivery attempts for the deferred address | {tries} |\n\
             | backoff between the first and the last attempt | {hours:.1} h |\n\
             | minutes between attempts | {gaps} |\n\
             | final state | failed, with the server's 451 reason |\n\
             | other clients' updates sent | {sent} (once each) |\n\
             | messages lost silently | 0 |",
            hours = waited.num_minutes() as f64 / 60.0,
            gaps = gaps.join(", "),
        ),
    )?;
    Ok(())
}

on_both_backends!(
    an_upload_while_the_mail_server_is_down_is_stored_and_its_receipt_sent_once_later,
    a_mail_server_that_keeps_deferring_is_retried_until_the_attempts_run_out,
);
