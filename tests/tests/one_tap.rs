//! One tap from every email: the "Open my case" button of a client email (and
//! its short link in the plain-text part) opens a confirmation page whose
//! button signs the client in, once, within 7 days; a spent, expired, revoked,
//! foreign or forged link gets a readable page that offers a fresh code with
//! the client's address filled in; a firm can turn the links off.
//! The links are taken from the emails as they were delivered.

use chrono::Duration;
use diesel::prelude::*;
use fantoccini::Locator;
use harness::browser::{self, DESKTOP, PHONE};
use harness::fixtures::Client;
use harness::maildev::Email;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use shared::db::models::Notification;
use shared::db::schema::{audit_events, notifications, one_tap_links, users};
use shared::domain::{Channel, Language, NotificationKind, now};
use shared::notifications::compose::compose_one;
use shared::notifications::kinds::weekly_update;

/// Sends this period's weekly update (`period`) to every client of the demo
/// firm and returns the one `client` received (their `nth`, from 1).
async fn weekly_email(
    app: &TestApp,
    firm_id: &str,
    client: &Client,
    period: &str,
    nth: usize,
) -> anyhow::Result<Email> {
    let (firm, period) = (firm_id.to_owned(), period.to_owned());
    app.state.db.run(move |c| weekly_update::enqueue_for_firm(c, &firm, &period, now()).map(|_| ())).await?;
    app.state.notifications.deliver_all(now(), &|| {}).await?;
    let mut emails = app.mail()?.wait_for_emails(&client.email, nth).await?;
    anyhow::ensure!(emails.len() == nth, "expected {nth} email(s) to {}, got {}", client.email, emails.len());
    emails.pop().ok_or_else(|| anyhow::anyhow!("no email"))
}

/// The one-tap link of the HTML part's "Open my case" button.
fn button_link(email: &Email) -> anyhow::Result<String> {
    email.link_containing("/one-tap?token=").ok_or_else(|| anyhow::anyhow!("no one-tap button in\n{}", email.html))
}

/// The link under "Open my case" in the plain-text part.
fn text_link(email: &Email) -> anyhow::Result<String> {
    let mut lines =
        email.text.lines().skip_while(|l| !l.starts_with("Open my case") && !l.starts_with("Abrir mi caso"));
    lines.nth(1).map(|l| l.trim().to_owned()).ok_or_else(|| anyhow::anyhow!("no open link in\n{}", email.text))
}

/// The path and query of `url` on the test portal.
fn path_of(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.url("")).unwrap_or(url).to_owned()
}

/// The token of a one-tap link.
fn token_of(url: &str) -> String {
    url.split("token=").nth(1).unwrap_or_default().to_owned()
}

async fn press(http: &reqwest::Client, app: &TestApp, token: &str) -> anyhow::Result<reqwest::Response> {
    Ok(http.post(app.url("/one-tap")).form(&[("token", token)]).send().await?)
}

fn sets_session(response: &reqwest::Response) -> bool {
    response.headers().get_all(SET_COOKIE).iter().any(|c| {
        c.to_str().is_ok_and(|c| c.starts_with("matterline_session=") && !c.starts_with("matterline_session=;"))
    })
}

/// Asserts `html` is the "no longer works" page offering a code to `email` (empty: no address).
fn offers_fresh_code(html: &str, email: &str, lang: Language) {
    let (title, button) = match lang {
        Language::ES => ("Este enlace ya se usó o ha caducado", "Enviarme un código de acceso"),
        _ => ("This link has already been used or has expired", "Email me a sign-in code"),
    };
    assert!(html.contains(title) && html.contains(button), "not the fresh-code page:\n{html}");
    assert!(html.contains("action=\"/sign-in\""), "the page does not post to the sign-in:\n{html}");
    let value = format!("value=\"{}\"", email);
    assert!(html.contains(&value), "the address {email:?} is not filled in:\n{html}");
}

async fn one_tap_rows(app: &TestApp, user_id: &str) -> anyhow::Result<i64> {
    let id = user_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| Ok(one_tap_links::table.filter(one_tap_links::user_id.eq(&id)).count().get_result(c)?))
        .await?)
}

/// The weekly email's button and one press give a session without a code; a
/// GET alone uses nothing; the plain-text part's short link leads to the same
/// page; the sign-in is in the audit log. The same link again offers a fresh
/// code to the client's address, and posting that form sends one.
async fn the_weekly_email_signs_in_with_one_press_once(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let email = weekly_email(&app, &demo.firm_id, &jordan, "2099-W01", 1).await?;
    let link = button_link(&email)?;
    let token = token_of(&link);

    // A scanner (or the client) opening the link twice spends nothing.
    let http = app.new_client()?;
    for _ in 0..2 {
        let page = http.get(&link).send().await?;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        let html = page.text().await?;
        assert!(html.contains("action=\"/one-tap\"") && html.contains("Open my case"), "{html}");
    }
    let unused = {
        let id = jordan.id.clone();
        app.state
            .db
            .run(move |c| {
                Ok(one_tap_links::table
                    .filter(one_tap_links::user_id.eq(&id))
                    .filter(one_tap_links::used_at.is_null())
                    .count()
                    .get_result::<i64>(c)?)
            })
            .await?
    };
    assert_eq!(unused, 1, "a GET used the link");
    assert_eq!(http.get(app.url("/")).send().await?.status(), StatusCode::SEE_OTHER, "signed in by a GET");

    // The plain-text part: a short link to the same confirmation page.
    let short = text_link(&email)?;
    assert!(short.contains("/l/"), "the text part's link is not a short link: {short}");
    assert!(!email.text.contains(&token) || short.ends_with(&token), "the text part carries the long link");
    let followed = app.new_client()?.get(&short).send().await?;
    assert_eq!(followed.status(), StatusCode::SEE_OTHER);
    assert_eq!(followed.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some(path_of(&app, &link).as_str()));

    // One press: a session, no code, on the case page.
    let pressed = press(&http, &app, &token).await?;
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    assert!(sets_session(&pressed), "no session cookie");
    let location = pressed.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(location, format!("/matters/{}", jordan.matter_id));
    let case = http.get(app.url(&location)).send().await?;
    assert_eq!(case.status(), StatusCode::OK, "the session does not open the case");
    let id = jordan.id.clone();
    let audited: Vec<String> = app
        .state
        .db
        .run(move |c| {
            Ok(audit_events::table
                .filter(audit_events::actor_id.eq(&id))
                .filter(audit_events::action.eq("client.sign_in.one_tap"))
                .select(audit_events::target_type)
                .load(c)?)
        })
        .await?;
    assert_eq!(audited, ["one_tap_link"], "the one-tap sign-in is not audited");

    // The same link a second time, on another device: a fresh code for the same address.
    let other = app.new_client()?;
    let again = press(&other, &app, &token).await?;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(!sets_session(&again), "a used link signed in again");
    offers_fresh_code(&again.text().await?, &jordan.email, Language::EN);
    let reopened = other.get(&link).send().await?;
    assert_eq!(reopened.status(), StatusCode::UNAUTHORIZED);
    let html = reopened.text().await?;
    offers_fresh_code(&html, &jordan.email, Language::EN);
    let next = format!("/matters/{}", jordan.matter_id);
    assert!(html.contains(&format!("name=\"next\" value=\"{next}\"")), "the fresh code does not lead back: {html}");
    let asked = other
        .post(app.url("/sign-in"))
        .form(&[("email", jordan.email.as_str()), ("next", next.as_str())])
        .send()
        .await?;
    assert_eq!(asked.status(), StatusCode::OK);
    let sign_in = app.mail()?.wait_for_emails(&jordan.email, 2).await?.remove(1);
    assert!(sign_in.six_digit_code().is_some(), "no code was sent:\n{}", sign_in.text);
    Ok(())
}

/// An expired link (the portal's clock 8 days on) offers a fresh code, in the
/// client's language, and signs nobody in.
async fn an_expired_link_offers_a_fresh_code_in_the_clients_language(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let id = jordan.id.clone();
    app.state
        .db
        .run(move |c| Ok(diesel::update(users::table.find(&id)).set(users::language.eq(Language::ES)).execute(c)?))
        .await?;
    let email = weekly_email(&app, &demo.firm_id, &jordan, "2099-W01", 1).await?;
    let link = button_link(&email)?;
    assert!(text_link(&email)?.contains("/l/"), "{}", email.text);

    app.state.tokens.clock().advance(Duration::days(6));
    let http = app.new_client()?;
    assert_eq!(http.get(&link).send().await?.status(), StatusCode::OK, "dead before 7 days");
    app.state.tokens.clock().advance(Duration::days(2));
    let opened = http.get(&link).send().await?;
    assert_eq!(opened.status(), StatusCode::UNAUTHORIZED);
    let html = opened.text().await?;
    assert!(html.contains("lang=\"es\""), "not in the client's language");
    offers_fresh_code(&html, &jordan.email, Language::ES);
    let pressed = press(&http, &app, &token_of(&link)).await?;
    assert_eq!(pressed.status(), StatusCode::UNAUTHORIZED);
    assert!(!sets_session(&pressed), "an expired link signed in");
    Ok(())
}

/// "Sign out everywhere" ends the links of every email not used yet.
async fn signing_out_everywhere_kills_unused_links(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let first = button_link(&weekly_email(&app, &demo.firm_id, &jordan, "2099-W01", 1).await?)?;
    let second = button_link(&weekly_email(&app, &demo.firm_id, &jordan, "2099-W02", 2).await?)?;
    assert_ne!(first, second, "two emails share a link");

    let http = app.new_client()?;
    assert_eq!(press(&http, &app, &token_of(&first)).await?.status(), StatusCode::SEE_OTHER);
    let out = http.post(app.url("/sign-out/everywhere")).send().await?;
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(http.get(app.url("/")).send().await?.status(), StatusCode::SEE_OTHER, "still signed in");

    let thief = app.new_client()?;
    let opened = thief.get(&second).send().await?;
    assert_eq!(opened.status(), StatusCode::UNAUTHORIZED);
    offers_fresh_code(&opened.text().await?, &jordan.email, Language::EN);
    let pressed = press(&thief, &app, &token_of(&second)).await?;
    assert_eq!(pressed.status(), StatusCode::UNAUTHORIZED);
    assert!(!sets_session(&pressed), "a revoked link signed in");
    Ok(())
}

/// A firm that turns one-tap links off (API and Settings page): the button
/// and the text part lead to the sign-in page with the address filled in, and
/// no link is stored.
async fn the_firm_setting_turns_links_off(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let before: serde_json::Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(before["one_tap_sign_in"], true, "on by default");
    let after: serde_json::Value = admin
        .patch_json("/api/v1/staff/settings", &serde_json::json!({ "one_tap_sign_in": false }), StatusCode::OK)
        .await?;
    assert_eq!(after["one_tap_sign_in"], false);
    let page = admin.request(reqwest::Method::GET, "/staff/settings").send().await?.text().await?;
    assert!(
        page.contains("id=\"one_tap_sign_in\"")
            && !page.contains("id=\"one_tap_sign_in\" name=\"one_tap_sign_in\" type=\"checkbox\" value=\"1\" checked"),
        "the Settings page does not show the setting off"
    );

    let email = weekly_email(&app, &demo.firm_id, &jordan, "2099-W01", 1).await?;
    assert!(email.link_containing("/one-tap").is_none(), "a one-tap link was sent:\n{}", email.html);
    assert_eq!(one_tap_rows(&app, &jordan.id).await?, 0, "a link was stored");
    let button = email.link_containing("/sign-in?email=").ok_or_else(|| anyhow::anyhow!("{}", email.html))?;
    let encoded = jordan.email.replace('@', "%40");
    assert_eq!(button, app.url(&format!("/sign-in?email={encoded}&next=%2Fmatters%2F{}", jordan.matter_id)));
    let short = text_link(&email)?;
    let followed = app.new_client()?.get(&short).send().await?;
    assert_eq!(followed.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some(path_of(&app, &button).as_str()));
    let sign_in = app.new_client()?.get(&button).send().await?;
    assert_eq!(sign_in.status(), StatusCode::OK);
    let html = sign_in.text().await?;
    assert!(html.contains(&format!("value=\"{}\"", jordan.email)), "the address is not filled in:\n{html}");
    assert!(html.contains(&format!("name=\"next\" value=\"/matters/{}\"", jordan.matter_id)), "{html}");

    // The Settings page's form turns them back on.
    let http = app.raw_client()?;
    let saved = http
        .post(app.url("/staff/settings"))
        .header(reqwest::header::AUTHORIZATION, admin.bearer())
        .form(&[
            ("name", "Demo Firm"),
            ("time_zone", "America/Chicago"),
            ("one_tap_form", "1"),
            ("one_tap_sign_in", "1"),
        ])
        .send()
        .await?;
    assert!(saved.status().is_redirection() || saved.status().is_success(), "{}", saved.status());
    let on: serde_json::Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(on["one_tap_sign_in"], true);
    Ok(())
}

/// A forged token, and a link bound to another client's email, get the same
/// readable page with no address and no session; a retried send replaces the
/// row's link; presses are rate limited like the other sign-in forms.
async fn forged_and_foreign_links_sign_nobody_in(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let sam = app.client(&demo.email("sam")).await?;
    let email = weekly_email(&app, &demo.firm_id, &jordan, "2099-W01", 1).await?;
    let real = token_of(&button_link(&email)?);

    // Sam's link on an email of Jordan's: not bound to the email it came in.
    let (tokens, sam_id, jordan_id, firm) =
        (app.state.tokens.clone(), sam.id.clone(), jordan.id.clone(), demo.firm_id.clone());
    let foreign = app
        .state
        .db
        .run(move |c| {
            let row = Notification::pending(
                &firm,
                &jordan_id,
                NotificationKind::WeeklyUpdate,
                Channel::Email,
                "other",
                now(),
            );
            diesel::insert_into(notifications::table).values(&row).execute(c)?;
            shared::one_tap::issue(c, &tokens, &sam_id, &row.id, "/")
        })
        .await?;
    let http = app.new_client()?;
    for token in ["ABCDEFGHIJKLMNOP", "not-a-token", foreign.as_str(), &real[..15]] {
        let opened = http.get(app.url("/one-tap")).query(&[("token", token)]).send().await?;
        assert_eq!(opened.status(), StatusCode::UNAUTHORIZED, "{token}");
        let html = opened.text().await?;
        offers_fresh_code(&html, "", Language::EN);
        assert!(!html.contains(&sam.email) && !html.contains(&jordan.email), "a forged link shows an address");
        let pressed = press(&http, &app, token).await?;
        assert_eq!(pressed.status(), StatusCode::UNAUTHORIZED, "{token}");
        assert!(!sets_session(&pressed), "{token} signed in");
    }

    // A retried send of the same row replaces its link: one row, the old secret dead.
    let (composer, id) = (app.state.notifications.composer.clone(), jordan.id.clone());
    app.state
        .db
        .run(move |c| {
            let row: Notification = notifications::table
                .filter(notifications::recipient_id.eq(&id))
                .filter(notifications::period_key.eq("2099-W01"))
                .select(Notification::as_select())
                .first(c)?;
            compose_one(c, &composer, &row, now()).map(|_| ())
        })
        .await?;
    assert_eq!(one_tap_rows(&app, &jordan.id).await?, 1, "a retry piled up links");
    assert_eq!(
        http.get(app.url("/one-tap")).query(&[("token", &real)]).send().await?.status(),
        StatusCode::UNAUTHORIZED
    );

    // Presses are limited per address like the other sign-in forms.
    let mut limited = false;
    for _ in 0..25 {
        if press(&http, &app, "ABCDEFGHIJKLMNOP").await?.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "one-tap presses are not rate limited");
    Ok(())
}

/// In Chromium on a phone: the confirmation page and the fresh-code page pass
/// axe-core and are screenshotted; the button lands on the case.
async fn one_tap_pages_pass_axe_on_a_phone(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let link = button_link(&weekly_email(&app, &demo.firm_id, &jordan, "2099-W01", 1).await?)?;
    let browser = browser::open(PHONE).await?;
    let outcome = async {
        let mut findings = Vec::new();
        browser.goto(&link).await?;
        findings.extend(browser::axe_violations(&browser).await?.into_iter().map(|f| format!("confirm: {f}")));
        assert_eq!(browser::screenshot(&browser, &format!("one-tap-390x844-{}", backend.name())).await?, (390, 844));
        browser.find(Locator::Css("form[action='/one-tap'] button")).await?.click().await?;
        browser.wait().for_element(Locator::Css(".current-phase")).await?;
        assert!(browser.current_url().await?.path().ends_with(&format!("/matters/{}", jordan.matter_id)));
        browser.delete_all_cookies().await?;
        browser.goto(&link).await?;
        browser::wait_for_text(&browser, "Email me a sign-in code").await?;
        findings.extend(browser::axe_violations(&browser).await?.into_iter().map(|f| format!("spent: {f}")));
        assert_eq!(
            browser::screenshot(&browser, &format!("one-tap-spent-390x844-{}", backend.name())).await?,
            (390, 844)
        );
        let value = browser.find(Locator::Css("#email")).await?.prop("value").await?;
        assert_eq!(value.as_deref(), Some(jordan.email.as_str()));
        assert!(findings.is_empty(), "axe-core found serious or critical violations:\n{}", findings.join("\n"));
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome?;

    // On a laptop: both pages, for the screenshots (a second email gives a live link).
    let live = button_link(&weekly_email(&app, &demo.firm_id, &jordan, "2099-W02", 2).await?)?;
    let desktop = browser::open(DESKTOP).await?;
    let outcome = async {
        desktop.goto(&live).await?;
        browser::wait_for_text(&desktop, "No code needed").await?;
        let name = format!("one-tap-1280x800-{}", backend.name());
        assert_eq!(browser::screenshot(&desktop, &name).await?, (DESKTOP.width, DESKTOP.height));
        desktop.goto(&link).await?;
        browser::wait_for_text(&desktop, "Email me a sign-in code").await?;
        let name = format!("one-tap-spent-1280x800-{}", backend.name());
        assert_eq!(browser::screenshot(&desktop, &name).await?, (DESKTOP.width, DESKTOP.height));
        anyhow::Ok(())
    }
    .await;
    desktop.close().await?;
    outcome
}

on_both_backends!(
    the_weekly_email_signs_in_with_one_press_once,
    an_expired_link_offers_a_fresh_code_in_the_clients_language,
    signing_out_everywhere_kills_unused_links,
    the_firm_setting_turns_links_off,
    forged_and_foreign_links_sign_nobody_in,
    one_tap_pages_pass_axe_on_a_phone,
);
