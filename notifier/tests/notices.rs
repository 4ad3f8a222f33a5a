//! One-off notices through the delivery pipeline, end to end against the real SMTP server:
//! a phase change reaches every client of the matter in their language, a
//! stale one is not sent, and a worker whose claim is about to run out hands
//! its rows back instead of racing the worker that may take them over.

use chrono::Duration;
use diesel::prelude::*;
use harness::maildev::{self, Email};
use harness::{Backend, TestApp, on_both_backends, services};
use notifier::Notifier;
use notifier::cli::WorkerOptions;
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::json;
use shared::catalogue::{Catalogue, PERSONAL_INJURY};
use shared::db::schema::notifications;
use shared::domain::now;

async fn notifier(app: &TestApp) -> anyhow::Result<Notifier> {
    Notifier::build(
        app.config(&[("MATTERLINE_SMTP_URL", &services::smtp_url()?)])?,
        &WorkerOptions { lease_seconds: 60, concurrency: 4, batch: 100 },
    )
}

fn recipient(email: &Email) -> String {
    email.to.first().map(|a| a.address.to_lowercase()).unwrap_or_default()
}

/// `text` as Handlebars escapes it in HTML.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#x27;".to_owned(),
            '`' => "&#x60;".to_owned(),
            '=' => "&#x3D;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// Staff move the matter `matter_id` to `phase` through the staff API.
async fn move_matter(app: &TestApp, staff_token: &str, matter_id: &str, phase: &str) -> anyhow::Result<()> {
    let reply = app
        .client
        .post(app.url(&format!("/api/v1/staff/matters/{matter_id}/milestones")))
        .header(AUTHORIZATION, format!("Bearer {staff_token}"))
        .json(&json!({ "kind": "phase_change", "phase": phase }))
        .send()
        .await?;
    anyhow::ensure!(reply.status() == StatusCode::CREATED, "moving {matter_id} to {phase}: {}", reply.text().await?);
    Ok(())
}

/// (recipient id, status) of every phase-change row.
async fn phase_change_rows(app: &TestApp) -> anyhow::Result<Vec<(String, String)>> {
    Ok(app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::kind.eq("phase_change"))
                .select((notifications::recipient_id, notifications::status))
                .order(notifications::recipient_id)
                .load(c)?)
        })
        .await?)
}

async fn a_phase_change_reaches_the_client_in_their_language(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let staff = app.session_token(&app.user_id(&demo.email("casey")).await?).await?;
    let jordan = app.client(&demo.email("jordan")).await?; // English
    let lucia = app.client(&demo.email("lucia")).await?; // Spanish

    move_matter(&app, &staff, &jordan.matter_id, "demand").await?;
    move_matter(&app, &staff, &lucia.matter_id, "records_and_bills").await?;
    // Queued with the change, one row per client of the matter.
    let mut queued = phase_change_rows(&app).await?;
    queued.sort();
    let mut expected = vec![(jordan.id.clone(), "pending".to_owned()), (lucia.id.clone(), "pending".to_owned())];
    expected.sort();
    assert_eq!(queued, expected);

    let notifier = notifier(&app).await?;
    let summary = notifier.delivery.deliver_all(now(), &|| {}).await?;
    assert_eq!((summary.sent, summary.skipped, summary.failed), (2, 0, 0), "{summary:?}");
    let again = notifier.delivery.deliver_all(now() + Duration::hours(1), &|| {}).await?;
    assert_eq!(again.total(), 0, "a sent phase change was sent again: {again:?}");

    let emails = maildev::emails_to_domain(&demo.domain).await?;
    assert_eq!(emails.len(), 2, "{:?}", emails.iter().map(|e| &e.subject).collect::<Vec<_>>());
    let catalogue = Catalogue::load(&shared::assets::Assets::default(), PERSONAL_INJURY)?;
    let phase = |key: &str| catalogue.phases.iter().find(|p| p.key == key).ok_or_else(|| anyhow::anyhow!("{key}"));
    let cases = [
        (
            &jordan.email,
            &phase("demand")?.en,
            "Demo Injury Law: your case moved to a new step (Demand)",
            "Step 5 of 10",
            "en",
        ),
        (
            &lucia.email,
            &phase("records_and_bills")?.es,
            "Demo Injury Law: su caso pasó a un nuevo paso (Expedientes y facturas)",
            "Paso 4 de 10",
            "es",
        ),
    ];
    for (address, wording, subject, step, lang) in cases {
        let email =
            emails.iter().find(|e| &recipient(e) == address).ok_or_else(|| anyhow::anyhow!("{address} got nothing"))?;
        assert_eq!(email.subject, subject);
        // The text part is wrapped at 76 characters: compared with its lines joined.
        let text = email.text.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in [step, &wording.what_it_means, &wording.what_happens_next] {
            assert!(text.contains(expected), "{address}'s email lacks {expected:?}:\n{}", email.text);
            assert!(email.html.contains(&escaped(expected)), "HTML lacks {expected:?}:\n{}", email.html);
        }
        assert!(email.html.contains(&format!("<html lang=\"{lang}\">")), "{}", email.html);
        let source = email.source().await?;
        assert!(source.contains("multipart/alternative"), "{source}");
        assert!(source.contains("From: \"Demo Injury Law\"") || source.contains("From: Demo Injury Law"), "{source}");
        assert!(source.contains("Message-ID: <"), "{source}");
    }
    // Names the matter, never the milestone's text or a request's details.
    let jordan_email = emails.iter().find(|e| recipient(e) == jordan.email).ok_or_else(|| anyhow::anyhow!("jordan"))?;
    assert!(jordan_email.text.contains("Rear-end collision on Route 9"), "{}", jordan_email.text);
    // "Open my case" is Jordan's one-tap link, which leads to the matter.
    assert!(jordan_email.html.contains("/one-tap?token"), "{}", jordan_email.html);
    let id = jordan.id.clone();
    let targets: Vec<String> = app
        .state
        .db
        .run(move |c| {
            use shared::db::schema::one_tap_links;
            Ok(one_tap_links::table.filter(one_tap_links::user_id.eq(&id)).select(one_tap_links::target).load(c)?)
        })
        .await?;
    assert_eq!(targets, [format!("/matters/{}", jordan.matter_id)]);
    Ok(())
}

async fn a_phase_change_overtaken_by_another_is_not_sent(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let staff = app.session_token(&app.user_id(&demo.email("casey")).await?).await?;
    let sam = app.client(&demo.email("sam")).await?;
    move_matter(&app, &staff, &sam.matter_id, "investigation").await?;
    move_matter(&app, &staff, &sam.matter_id, "medical_treatment").await?;

    let summary = notifier(&app).await?.delivery.deliver_all(now(), &|| {}).await?;
    assert_eq!((summary.sent, summary.skipped), (1, 1), "{summary:?}");
    let emails = maildev::emails_to(&sam.email).await?;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].subject, "Demo Injury Law: your case moved to a new step (Medical treatment)");
    let reasons: Vec<Option<String>> = app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::kind.eq("phase_change"))
                .filter(notifications::status.eq("skipped"))
                .select(notifications::last_error)
                .load(c)?)
        })
        .await?;
    assert_eq!(reasons, vec![Some("the matter moved on again before this email was sent".to_owned())]);
    Ok(())
}

async fn a_claim_about_to_run_out_is_handed_back_not_sent(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let firm = demo.firm_id.clone();
    let enqueued = app
        .state
        .db
        .run(move |c| shared::notifications::kinds::weekly_update::enqueue_for_firm(c, &firm, "2026-W01", now()))
        .await?;
    assert_eq!(enqueued, 5);
    // The worker's rows, claimed by it, with one second of the claim left: too
    // little for an SMTP exchange, after which another worker may own them.
    let notifier = notifier(&app).await?;
    let worker = notifier.delivery.id.clone();
    let rows = app
        .state
        .db
        .run(move |c| shared::notifications::queue::claim_due(c, &worker, now() + Duration::seconds(1), 100, now()))
        .await?;
    assert_eq!(rows.len(), 5);
    let late = notifier.delivery.deliver_rows(rows, now(), &|| {}).await?;
    assert_eq!((late.deferred, late.sent), (5, 0), "{late:?}");
    assert!(maildev::emails_to_domain(&demo.domain).await?.is_empty(), "sent on a claim about to end");
    let rows: Vec<(String, i32)> = app
        .state
        .db
        .run(|c| Ok(notifications::table.select((notifications::status, notifications::attempts)).load(c)?))
        .await?;
    assert_eq!(rows, vec![("pending".to_owned(), 0); 5], "handed back as they were");

    // Claimed with the full lease, they are sent, once each.
    let summary = notifier.delivery.deliver_all(now(), &|| {}).await?;
    assert_eq!((summary.sent, summary.deferred), (5, 0), "{summary:?}");
    assert_eq!(maildev::emails_to_domain(&demo.domain).await?.len(), 5);
    Ok(())
}

/// Recording that emails were sent touches only rows the worker still
/// claims: another worker's claim and rows already recorded are left alone.
async fn sent_outcomes_touch_only_the_workers_own_claim(backend: Backend) -> anyhow::Result<()> {
    use shared::notifications::queue;
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let firm = demo.firm_id.clone();
    let written = app
        .state
        .db
        .run(move |c| {
            shared::notifications::kinds::weekly_update::enqueue_for_firm(c, &firm, "2026-W02", now())?;
            let ids: Vec<String> = queue::claim_due(c, "worker-a", now() + Duration::minutes(5), 100, now())?
                .into_iter()
                .map(|row| row.id)
                .collect();
            let written = [
                queue::mark_sent_many(c, &ids[0..2], "worker-a", now())?,
                queue::mark_sent_many(c, &ids[2..4], "worker-b", now())?,
                queue::mark_sent_many(c, &ids[2..4], "worker-a", now())?,
                queue::mark_sent_many(c, &ids[0..2], "worker-a", now())?,
            ];
            Ok(written)
        })
        .await?;
    assert_eq!(written, [2, 0, 2, 0], "another worker's claim and rows already sent are left alone");
    let rows: Vec<(String, bool, bool)> = app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .select((
                    notifications::status,
                    notifications::sent_at.is_not_null(),
                    notifications::claimed_until.is_null(),
                ))
                .order(notifications::status)
                .load(c)?)
        })
        .await?;
    let mut expected = vec![("sending".to_owned(), false, false)];
    expected.extend(vec![("sent".to_owned(), true, true); 4]);
    assert_eq!(rows, expected);
    Ok(())
}

on_both_backends!(
    sent_outcomes_touch_only_the_workers_own_claim,
    a_phase_change_reaches_the_client_in_their_language,
    a_phase_change_overtaken_by_another_is_not_sent,
    a_claim_about_to_run_out_is_handed_back_not_sent,
);
