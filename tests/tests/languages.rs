//! More languages without code: a locale folder (`locales/fr/*.ftl` and a
//! `phases.toml`) dropped into `MATTERLINE_ASSETS_DIR` is a language clients
//! switch to, staff give a client, and emails are written in; what it does
//! not translate is shown in English. A language no folder adds is refused.
//!
//! The French here is test-only: a few messages and one phase, so most of the
//! page falls back to English.

use diesel::prelude::*;
use fantoccini::Locator;
use harness::browser::{self, DESKTOP, PHONE, screenshot};
use harness::fixtures::Client;
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::models::Notification;
use shared::db::schema::{matters, notifications, phases, users};
use shared::domain::{NotificationKind, now};
use shared::notifications::channel::Message;
use shared::notifications::compose::{Composed, compose_one};
use shared::notifications::kinds::phase_change::{self, PhaseChange};
use shared::notifications::kinds::weekly_update;
use shared::render::RenderedEmail;

const PORTAL_FTL: &str = "\
language-name = Français
nav-my-cases = Mes dossiers
matter-current-phase = Où en est votre dossier
";

const EMAIL_FTL: &str = "\
weekly-subject = { $firm } : le point hebdomadaire sur votre dossier
email-hi = Bonjour { $name },
phase-email-subject = { $firm } : votre dossier passe à une nouvelle étape ({ $phase })
";

/// Jordan's phase in the demo, the only one `phases.toml` words in French.
const PHASES_TOML: &str = r#"
[records_and_bills]
title = "Dossiers et factures"
what_it_means = "Nous réunissons vos dossiers médicaux et vos factures."
what_happens_next = "Quand tout est réuni, nous préparons la demande à l'assureur."
"#;

/// An assets folder adding French: two Fluent files and the phase texts.
fn french_assets() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let fr = dir.path().join("locales/fr");
    std::fs::create_dir_all(&fr)?;
    std::fs::write(fr.join("portal.ftl"), PORTAL_FTL)?;
    std::fs::write(fr.join("email.ftl"), EMAIL_FTL)?;
    std::fs::write(fr.join("phases.toml"), PHASES_TOML)?;
    Ok(dir)
}

/// A portal whose assets folder adds French.
async fn french_portal(backend: Backend, assets: &tempfile::TempDir) -> anyhow::Result<TestApp> {
    let dir = assets.path().display().to_string();
    TestApp::builder(backend).settings(&[("MATTERLINE_ASSETS_DIR", dir.as_str())]).spawn().await
}

/// POST a form body to `path` as `session`: status and `Location`.
async fn post_form(
    session: &harness::session::Session,
    path: &str,
    body: &str,
) -> anyhow::Result<(StatusCode, String)> {
    let reply = session
        .request(Method::POST, path)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await?;
    let to = reply.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Ok((reply.status(), to))
}

/// The email of the row `enqueue` queues for `jordan`, composed by the real pipeline.
async fn compose_for(
    app: &TestApp,
    jordan: &Client,
    enqueue: fn(&mut shared::db::DbConnection, &Client) -> shared::Result<String>,
) -> anyhow::Result<RenderedEmail> {
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
    match composed {
        Composed::Send(Message::Email(email)) => Ok(email.content),
        other => anyhow::bail!("the email was not composed: {other:?}"),
    }
}

fn queue_weekly_update(c: &mut shared::db::DbConnection, jordan: &Client) -> shared::Result<String> {
    let firm_id: String = users::table.find(&jordan.id).select(users::firm_id).first(c)?;
    let period = format!("languages-{}", shared::domain::new_id());
    weekly_update::enqueue_for_firm(c, &firm_id, &period, now())?;
    Ok(notifications::table
        .filter(notifications::recipient_id.eq(&jordan.id))
        .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
        .filter(notifications::period_key.eq(&period))
        .select(notifications::id)
        .first(c)?)
}

fn queue_phase_change(c: &mut shared::db::DbConnection, jordan: &Client) -> shared::Result<String> {
    let (firm_id, phase_key): (String, String) = matters::table
        .inner_join(phases::table)
        .filter(matters::id.eq(&jordan.matter_id))
        .select((matters::firm_id, phases::key))
        .first(c)?;
    let change = PhaseChange { matter_id: jordan.matter_id.clone(), phase_key };
    let mut ids = phase_change::enqueue_for_matter(c, &firm_id, &change, now())?;
    ids.pop().ok_or(shared::error::Error::NotFound)
}

/// A client switches to the added French: the page is in French where the
/// folder says something, in English elsewhere, with the folder's phase text;
/// their weekly and phase-change emails follow.
async fn a_locale_folder_is_a_language_a_client_switches_to_and_is_written_to_in(
    backend: Backend,
) -> anyhow::Result<()> {
    let assets = french_assets()?;
    let app = french_portal(backend, &assets).await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;

    // Signed out, the switcher offers it by its own name.
    let sign_in = app.get("/sign-in").await?.text().await?;
    assert!(sign_in.contains(r#"value="fr" lang="fr""#) && sign_in.contains(">Français</button>"), "{sign_in}");
    assert!(sign_in.contains(">English</button>") && sign_in.contains(">Español</button>"), "{sign_in}");

    let session = app.signed_in_client(&jordan.email).await?;
    let matter = format!("/matters/{}", jordan.matter_id);
    let (status, to) =
        post_form(&session, "/language", &format!("lang=fr&next=%2Fmatters%2F{}", jordan.matter_id)).await?;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, matter.as_str()));
    let me: Value = session.get("/api/v1/me").await?;
    assert_eq!(me["language"], "fr");

    let page = session.request(Method::GET, &matter).send().await?;
    assert_eq!(page.headers().get("content-language").and_then(|v| v.to_str().ok()), Some("fr"));
    let html = page.text().await?;
    assert!(html.contains(r#"<html lang="fr">"#), "{html}");
    let text = main_text(&html);
    // The folder's message, its phase text, and English for what it does not translate.
    assert!(text.contains("Où en est votre dossier"), "{text}");
    assert!(text.contains("Dossiers et factures") && text.contains("Nous réunissons vos dossiers médicaux"), "{text}");
    assert!(text.contains("What happens next"), "English fallback: {text}");
    assert!(html.contains(r#"value="fr" lang="fr" aria-describedby="lang-label" aria-pressed="true""#), "{html}");

    let weekly = compose_for(&app, &jordan, queue_weekly_update).await?;
    assert!(weekly.subject.ends_with(" : le point hebdomadaire sur votre dossier"), "{}", weekly.subject);
    assert!(weekly.text.contains("Bonjour Jordan"), "{}", weekly.text);
    assert!(weekly.text.contains("Dossiers et factures"), "{}", weekly.text);
    assert!(weekly.html.contains(r#"lang="fr""#), "{}", weekly.html);
    assert!(weekly.text.contains("What happens next"), "English fallback: {}", weekly.text);

    let moved = compose_for(&app, &jordan, queue_phase_change).await?;
    assert!(
        moved.subject.contains("votre dossier passe à une nouvelle étape (Dossiers et factures)"),
        "{}",
        moved.subject
    );
    assert!(moved.text.contains("Bonjour Jordan") && moved.text.contains("Nous réunissons"), "{}", moved.text);
    Ok(())
}

/// Staff give a client the added language through the API and pick it on the
/// new-matter form; a language no folder adds is refused, naming the loaded ones.
async fn staff_give_a_client_the_added_language_and_an_unloaded_one_is_refused(backend: Backend) -> anyhow::Result<()> {
    let assets = french_assets()?;
    let app = french_portal(backend, &assets).await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;

    let path = format!("/api/v1/staff/clients/{}", jordan.id);
    let changed: Value = staff.patch_json(&path, &json!({ "language": "fr" }), StatusCode::OK).await?;
    assert_eq!(changed["language"], "fr");
    let read: Value = staff.get(&path).await?;
    assert_eq!(read["language"], "fr");

    let refused: Value =
        staff.patch_json(&path, &json!({ "language": "de" }), StatusCode::UNPROCESSABLE_ENTITY).await?;
    let error = refused["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("language: ") && error.contains("\"de\"") && error.contains("fr"), "{error}");
    let read: Value = staff.get(&path).await?;
    assert_eq!(read["language"], "fr", "a refused change changed the client");

    let new = json!({ "full_name": "Amélie Martin", "email": format!("amelie@{}", demo.domain), "language": "fr" });
    let amelie: Value = staff.post_json("/api/v1/staff/clients", &new, StatusCode::CREATED).await?;
    assert_eq!(amelie["language"], "fr");
    let nobody = json!({ "full_name": "Nobody", "email": format!("nobody@{}", demo.domain), "language": "xx" });
    let _: Value = staff.post_json("/api/v1/staff/clients", &nobody, StatusCode::UNPROCESSABLE_ENTITY).await?;

    // The new-matter form offers it, and the switcher refuses a language no folder adds.
    let form = staff.request(Method::GET, "/staff/matters/new").send().await?.text().await?;
    assert!(form.contains(r#"<option value="fr" lang="fr">Français</option>"#), "{form}");
    assert!(form.contains(r#"<option value="en" lang="en" selected>English</option>"#), "{form}");
    let (status, _) = post_form(&staff, "/language", "lang=de&next=%2Fstaff").await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}

/// The French matter page in Chromium on a phone and a desktop: the
/// three-language switcher fits, nothing scrolls sideways, axe-core is clean.
async fn the_added_language_reads_well_in_chromium(backend: Backend) -> anyhow::Result<()> {
    let assets = french_assets()?;
    let app = french_portal(backend, &assets).await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let tag = backend.name();
    let mut findings = Vec::new();
    for (screen, size) in [(PHONE, "390x844"), (DESKTOP, "1280x800")] {
        let browser = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&browser, &jordan.email).await?;
            browser.goto(&app.url(&format!("/matters/{}", jordan.matter_id))).await?;
            // The switcher saves the choice and comes back to the page.
            browser.find(Locator::Css("button[name=lang][value=fr]")).await?.click().await?;
            browser.wait().for_element(Locator::Css("html[lang=fr]")).await?;
            browser::wait_for_text(&browser, "Où en est votre dossier").await?;
            assert_eq!(
                screenshot(&browser, &format!("language-fr-matter-{size}-{tag}")).await?,
                (screen.width, screen.height)
            );
            let overflow = browser.execute("return document.documentElement.scrollWidth", vec![]).await?;
            assert_eq!(overflow.as_u64(), Some(u64::from(screen.width)), "the French page scrolls sideways");
            findings.extend(browser::axe_violations(&browser).await?.into_iter().map(|f| format!("{size}: {f}")));
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    assert!(findings.is_empty(), "axe-core found serious or critical violations:\n{}", findings.join("\n"));
    Ok(())
}

on_both_backends!(
    a_locale_folder_is_a_language_a_client_switches_to_and_is_written_to_in,
    staff_give_a_client_the_added_language_and_an_unloaded_one_is_refused,
    the_added_language_reads_well_in_chromium,
);
