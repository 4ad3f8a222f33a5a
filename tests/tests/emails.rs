//! Every email the portal sends, in English and in Spanish, compared with a
//! reviewed snapshot (insta, tests/tests/snapshots/): subject, headers, the
//! plain-text and the HTML part, composed by the real pipeline
//! (`compose_one` with the test portal's `Composer`) from rows queued by each
//! kind's own `enqueue`, for the demo client Jordan on the demo firm.
//!
//! What changes per run is masked by filters (tokens, codes, short links, ids, the test's
//! domain, the portal's port); the one date the demo seeds relative to today
//! (Jordan's appointment) is set to a fixed day. Both backends compare with the
//! same snapshot: the emails must not depend on the database.
//!
//! To review a change: `cargo insta review` (or `INSTA_UPDATE=always cargo test`
//! and read the diff). With `CI=true` (and in scripts/test, `INSTA_UPDATE=no`) a
//! mismatch fails and no snapshot is written; a setting that would write one
//! in CI (`INSTA_UPDATE=always`, `INSTA_FORCE_PASS`) fails the test
//! (`harness::snapshots::compared_not_written`).

use chrono::NaiveDate;
use diesel::prelude::*;
use harness::fixtures::Client;
use harness::{Backend, TestApp, on_both_backends};
use shared::db::DbConnection;
use shared::db::models::{Notification, User};
use shared::db::schema::{matters, milestones, notifications, phases, users};
use shared::domain::{Language, NotificationKind, now};
use shared::notifications::channel::Message;
use shared::notifications::compose::{Composed, compose_one};
use shared::notifications::kinds::phase_change::{self, PhaseChange};
use shared::notifications::kinds::upload_receipt::{self, Receipt};
use shared::notifications::kinds::{sign_in, weekly_update};

/// The emails of one kind: queues a row for `client` (one `enqueue` call), returns its id.
type Enqueue = fn(&mut DbConnection, &Client) -> shared::Result<String>;

/// The demo, made deterministic: Jordan's appointment on a fixed day.
async fn demo_with_jordan(app: &TestApp) -> anyhow::Result<Client> {
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let appointment = NaiveDate::from_ymd_opt(2030, 6, 14)
        .and_then(|d| d.and_hms_opt(15, 30, 0))
        .ok_or_else(|| anyhow::anyhow!("bad date"))?;
    app.state
        .db
        .run(move |c| {
            diesel::update(milestones::table.filter(milestones::occurs_at.is_not_null()))
                .set(milestones::occurs_at.eq(appointment))
                .execute(c)?;
            Ok(())
        })
        .await?;
    Ok(jordan)
}

/// Jordan's email of the kind `enqueue` queues, in `lang`, as one text to snapshot.
async fn compose_for(app: &TestApp, jordan: &Client, lang: Language, enqueue: Enqueue) -> anyhow::Result<String> {
    let id = jordan.id.clone();
    app.state
        .db
        .run(move |c| Ok(diesel::update(users::table.find(&id)).set(users::language.eq(lang)).execute(c)?))
        .await?;
    let (composer, jordan) = (app.state.notifications.composer.clone(), jordan.clone());
    let composed = app
        .state
        .db
        .run(move |c| {
            let row_id = enqueue(c, &jordan)?;
            let row: Notification = notifications::table.find(&row_id).select(Notification::as_select()).first(c)?;
            compose_one(c, &composer, &row, now())
        })
        .await?;
    let Composed::Send(Message::Email(email)) = composed else {
        anyhow::bail!("the {lang:?} email was not composed: {composed:?}");
    };
    let mut out = format!(
        "To: {} <{}>\nFrom: {}\nMessage-ID: {}\n",
        email.to_name,
        email.to_address,
        email.from.as_deref().unwrap_or("(the configured sender)"),
        email.message_id.as_deref().unwrap_or("(generated)"),
    );
    for (name, value) in &email.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    let content = &email.content;
    out.push_str(&format!(
        "Subject: {}\n\n----- text/plain -----\n{}\n----- text/html -----\n{}\n",
        content.subject, content.text, content.html
    ));
    Ok(out)
}

/// The masks for what changes per run; the snapshots show the placeholders.
fn settings() -> insta::Settings {
    harness::snapshots::compared_not_written();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for (pattern, replacement) in [
        // Sign-in, unsubscribe and rating tokens (up to `&`, `&amp;`, a quote, a space or `>`);
        // the HTML part writes `=` as `&#x3D;`.
        (r"token(=|&#x3D;)[^&\s\x22'<>]+", "token$1[TOKEN]"),
        // Row, matter and user ids (uuid v4).
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[ID]"),
        // The demo addresses' per-test domain.
        (r"t[0-9a-f]{32}(<wbr>)?\.test", "[DOMAIN]"),
        // The test portal's port.
        (r"127\.0\.0\.1:[0-9]+", "127.0.0.1:[PORT]"),
        // The sign-in code.
        (r"\b[0-9]{6}\b", "[CODE]"),
        // The short links of the plain-text part.
        (r"/l/[A-Za-z]{16}\b", "/l/[SHORT]"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}

/// Snapshots the email `enqueue` queues, in English (`{name}.en`) and Spanish (`{name}.es`).
async fn snapshot_both_languages(backend: Backend, name: &str, enqueue: Enqueue) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let jordan = demo_with_jordan(&app).await?;
    let en = compose_for(&app, &jordan, Language::EN, enqueue).await?;
    let es = compose_for(&app, &jordan, Language::ES, enqueue).await?;
    settings().bind(|| {
        insta::assert_snapshot!(format!("{name}.en"), en);
        insta::assert_snapshot!(format!("{name}.es"), es);
    });
    Ok(())
}

fn queue_sign_in(c: &mut DbConnection, jordan: &Client) -> shared::Result<String> {
    let user: User = users::table.find(&jordan.id).select(User::as_select()).first(c)?;
    sign_in::enqueue(c, &user, now())
}

fn queue_upload_receipt(c: &mut DbConnection, jordan: &Client) -> shared::Result<String> {
    let firm_id: String = users::table.find(&jordan.id).select(users::firm_id).first(c)?;
    let receipt = Receipt {
        matter_id: jordan.matter_id.clone(),
        files: vec![("police-report.pdf".into(), "1.2 MB".into()), ("receipt photo.jpg".into(), "240 KB".into())],
    };
    upload_receipt::enqueue(c, &firm_id, &jordan.id, &receipt, now())
}

fn queue_phase_change(c: &mut DbConnection, jordan: &Client) -> shared::Result<String> {
    let (firm_id, phase_key): (String, String) = matters::table
        .inner_join(phases::table)
        .filter(matters::id.eq(&jordan.matter_id))
        .select((matters::firm_id, phases::key))
        .first(c)?;
    let change = PhaseChange { matter_id: jordan.matter_id.clone(), phase_key };
    let mut ids = phase_change::enqueue_for_matter(c, &firm_id, &change, now())?;
    ids.pop().ok_or(shared::error::Error::NotFound)
}

fn queue_weekly_update(c: &mut DbConnection, jordan: &Client) -> shared::Result<String> {
    let firm_id: String = users::table.find(&jordan.id).select(users::firm_id).first(c)?;
    // A new period per call: each language gets its own row.
    let period = format!("snapshot-{}", shared::domain::new_id());
    weekly_update::enqueue_for_firm(c, &firm_id, &period, now())?;
    Ok(notifications::table
        .filter(notifications::recipient_id.eq(&jordan.id))
        .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
        .filter(notifications::period_key.eq(&period))
        .select(notifications::id)
        .first(c)?)
}

async fn the_sign_in_email_matches_its_snapshots(backend: Backend) -> anyhow::Result<()> {
    snapshot_both_languages(backend, "sign_in", queue_sign_in).await
}

async fn the_upload_receipt_matches_its_snapshots(backend: Backend) -> anyhow::Result<()> {
    snapshot_both_languages(backend, "upload_receipt", queue_upload_receipt).await
}

async fn the_phase_change_email_matches_its_snapshots(backend: Backend) -> anyhow::Result<()> {
    snapshot_both_languages(backend, "phase_change", queue_phase_change).await
}

async fn the_weekly_update_matches_its_snapshots(backend: Backend) -> anyhow::Result<()> {
    snapshot_both_languages(backend, "weekly_update", queue_weekly_update).await
}

on_both_backends!(
    the_sign_in_email_matches_its_snapshots,
    the_upload_receipt_matches_its_snapshots,
    the_phase_change_email_matches_its_snapshots,
    the_weekly_update_matches_its_snapshots,
);
