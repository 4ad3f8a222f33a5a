//! A panic while delivering is contained, against the real SMTP server: a
//! row that panics while it is composed or sent fails with the reason
//! recorded while the rest of its batch is sent, and a panic elsewhere in a
//! run hands the rows it had claimed back at once, not after the lease.
//!
//! The panics are injected with `MATTERLINE_FAULT_PANIC_MARKER` (debug builds
//! only): a receipt listing a file whose name holds the marker panics while it
//! is composed; an email to a client whose name holds it panics while it is sent.

use diesel::prelude::*;
use harness::maildev;
use harness::{Backend, TestApp, on_both_backends, services};
use notifier::Notifier;
use notifier::cli::WorkerOptions;
use shared::db::schema::{notifications, users};
use shared::domain::now;
use shared::notifications::kinds::{upload_receipt, weekly_update};

/// The text that makes a row panic; no ordinary name or file holds it.
const MARKER: &str = "PANICMARK7f3a";

async fn notifier(app: &TestApp, concurrency: usize) -> anyhow::Result<Notifier> {
    Notifier::build(
        app.config(&[("MATTERLINE_SMTP_URL", &services::smtp_url()?), ("MATTERLINE_FAULT_PANIC_MARKER", MARKER)])?,
        &WorkerOptions { lease_seconds: 300, concurrency, batch: 100 },
    )
}

/// (kind, recipient email, status, last error) of every row, by email then kind.
async fn rows(app: &TestApp) -> anyhow::Result<Vec<(String, String, String, Option<String>)>> {
    Ok(app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .inner_join(users::table)
                .select((notifications::kind, users::email, notifications::status, notifications::last_error))
                .order((users::email, notifications::kind))
                .load(c)?)
        })
        .await?)
}

/// Gives the demo client `email` a name holding the marker: emails to them panic while sent.
async fn mark_name(app: &TestApp, email: String) -> anyhow::Result<()> {
    app.state
        .db
        .run(move |c| {
            diesel::update(users::table.filter(users::email.eq(&email)))
                .set(users::full_name.eq(format!("Jordan {MARKER}")))
                .execute(c)?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// Queues an upload receipt for the demo client `email` listing `file`.
async fn queue_receipt(app: &TestApp, firm: &str, email: &str, file: &str) -> anyhow::Result<String> {
    let client = app.client(email).await?;
    let (firm, file) = (firm.to_owned(), file.to_owned());
    Ok(app
        .state
        .db
        .run(move |c| {
            let receipt = upload_receipt::Receipt {
                matter_id: client.matter_id.clone(),
                files: vec![(file, "12 KB".to_owned())],
            };
            upload_receipt::enqueue(c, &firm, &client.id, &receipt, now())
        })
        .await?)
}

async fn a_row_that_panics_fails_alone_and_the_batch_is_sent(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let firm = demo.firm_id.clone();
    mark_name(&app, demo.email("jordan")).await?;
    let weekly = app.state.db.run(move |c| weekly_update::enqueue_for_firm(c, &firm, "2026-W01", now())).await?;
    assert_eq!(weekly, 5, "a weekly update for each demo client");
    // Lucia's receipt lists a file whose name panics while the receipt is composed.
    queue_receipt(&app, &demo.firm_id, &demo.email("lucia"), &format!("bill-{MARKER}.pdf")).await?;

    let notifier = notifier(&app, 4).await?;
    let summary = notifier.delivery.deliver_all(now(), &|| {}).await?;
    assert_eq!((summary.sent, summary.failed, summary.retrying), (4, 2, 0), "{summary:?}");

    let rows = rows(&app).await?;
    assert!(rows.iter().all(|(_, _, status, _)| status == "sent" || status == "failed"), "{rows:#?}");
    let failed: Vec<_> = rows.iter().filter(|r| r.2 == "failed").collect();
    assert_eq!(failed.len(), 2, "{rows:#?}");
    let reason_of = |kind: &str, email: &str| {
        rows.iter().find(|r| r.0 == kind && r.1 == email).and_then(|r| r.3.clone()).unwrap_or_default()
    };
    let sending = reason_of("weekly_update", &demo.email("jordan"));
    assert!(sending.starts_with("the message could not be sent: internal error (injected fault"), "{sending}");
    let composing = reason_of("upload_receipt", &demo.email("lucia"));
    assert!(composing.starts_with("could not compose the message: internal error (injected fault"), "{composing}");
    // Everyone else got their weekly update, Lucia too (composed alone after the batch panicked).
    let mut received: Vec<String> = maildev::emails_to_domain(&demo.domain)
        .await?
        .iter()
        .filter_map(|e| e.to.first().map(|a| a.address.to_lowercase()))
        .collect();
    received.sort();
    let mut expected: Vec<String> =
        ["lucia", "sam", "mateo", "riley"].iter().map(|who| demo.email(who).to_lowercase()).collect();
    expected.sort();
    assert_eq!(received, expected);

    // The same worker goes on: the next row is sent.
    queue_receipt(&app, &demo.firm_id, &demo.email("sam"), "x-ray.pdf").await?;
    let next = notifier.delivery.deliver_all(now(), &|| {}).await?;
    assert_eq!((next.sent, next.failed), (1, 0), "{next:?}");
    Ok(())
}

async fn a_panic_elsewhere_in_a_run_hands_its_rows_back_at_once(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let firm = demo.firm_id.clone();
    let weekly = app.state.db.run(move |c| weekly_update::enqueue_for_firm(c, &firm, "2026-W01", now())).await?;
    assert_eq!(weekly, 5);
    // One message at a time, and the progress callback panics after the first:
    // a panic outside any one row's composing or sending.
    let notifier = notifier(&app, 1).await?;
    let outcome = notifier.delivery.deliver_all(now(), &|| panic!("the progress bar broke")).await;
    let error = outcome.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("delivery panicked: the progress bar broke"), "{error}");

    // Nothing waits for the 300 s lease: the row sent is recorded, the other four are free again.
    let after: Vec<(String, Option<chrono::NaiveDateTime>, i32)> = app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .select((notifications::status, notifications::claimed_until, notifications::attempts))
                .order(notifications::status)
                .load(c)?)
        })
        .await?;
    let statuses: Vec<&str> = after.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(statuses, ["pending", "pending", "pending", "pending", "sent"], "{after:?}");
    assert!(after.iter().all(|(_, until, _)| until.is_none()), "no claim is left: {after:?}");
    assert!(after.iter().filter(|(s, _, _)| s == "pending").all(|(_, _, a)| *a == 0), "not counted as attempts");
    assert_eq!(maildev::emails_to_domain(&demo.domain).await?.len(), 1);

    // Another run (now, not after the lease) sends the four, and nobody gets two.
    let summary = notifier.delivery.deliver_all(now(), &|| {}).await?;
    assert_eq!(summary.sent, 4, "{summary:?}");
    let emails = maildev::emails_to_domain(&demo.domain).await?;
    let mut to: Vec<String> = emails.iter().filter_map(|e| e.to.first().map(|a| a.address.to_lowercase())).collect();
    to.sort();
    to.dedup();
    assert_eq!((emails.len(), to.len()), (5, 5), "one email each");
    Ok(())
}

on_both_backends!(
    a_row_that_panics_fails_alone_and_the_batch_is_sent,
    a_panic_elsewhere_in_a_run_hands_its_rows_back_at_once,
);
