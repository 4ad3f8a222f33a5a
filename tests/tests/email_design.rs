//! How every client email looks and reads (sign-in, upload receipt, phase
//! change, weekly update; English and Spanish), composed by the real pipeline
//! for the demo client, renamed "Sam Rivera", on a firm with a logo, an accent
//! colour and Reply-To its case manager turned on:
//!
//! - the firm's logo at the top (absolute URL, the firm's name as alt text,
//!   explicit width and height) and its colour on the buttons;
//! - "Step N of M" beside a progress bar (phase change, weekly update);
//! - "Open my case" (and "Upload now" when documents are needed) before the
//!   long text, as bulletproof table-cell buttons;
//! - "Hi Sam," (the first name only; a neutral greeting without a name);
//! - Reply-To the case manager only with the setting on, never on sign-in;
//! - the sign-in code alone on its line, large in the HTML part;
//! - no line of the text part longer than 100 characters: long signed links
//!   are short links there, which lead to their page and use nothing up, and
//!   an unknown or expired one is a readable page offering to sign in;
//! - each HTML part rendered in Chromium at phone and desktop size without
//!   sideways scrolling (screenshots in `target/screenshots/emails/`);
//! - one email through the real SMTP server.

use chrono::Duration;
use diesel::prelude::*;
use fantoccini::Locator;
use harness::browser::{self, DESKTOP, PHONE, Screen};
use harness::fixtures::Client;
use harness::maildev::wait_for_emails;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use shared::db::DbConnection;
use shared::db::models::{FirmLogo, Notification, User};
use shared::db::schema::{firm_logos, firms, matters, notifications, phases, short_links, users};
use shared::domain::{Language, NotificationKind, now};
use shared::mail::{Mailbox, Mailer, OutgoingEmail};
use shared::notifications::channel::Message;
use shared::notifications::compose::{Composed, compose_one};
use shared::notifications::kinds::phase_change::{self, PhaseChange};
use shared::notifications::kinds::upload_receipt::{self, Receipt};
use shared::notifications::kinds::{sign_in, weekly_update};
use shared::tokens::Purpose;

/// The firm's accent colour in these tests (a dark brown, 9.6:1 on white).
const ACCENT: &str = "#7c2d12";
/// A 320×80 PNG logo; shown at 192×48.
const LOGO: &[u8] = include_bytes!("../data/logo.png");
const LOGO_DIGEST: &str = "logo-test-digest-1";

/// The kinds of client email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SignIn,
    Receipt,
    PhaseChange,
    Weekly,
    MessageReply,
}

const KINDS: [Kind; 5] = [Kind::SignIn, Kind::Receipt, Kind::PhaseChange, Kind::Weekly, Kind::MessageReply];

/// The case manager's reply behind a "new message" email (never in the email itself).
const REPLY: &str = "Please send the repair estimate when you have it.";

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::SignIn => "sign_in",
            Kind::Receipt => "upload_receipt",
            Kind::PhaseChange => "phase_change",
            Kind::Weekly => "weekly_update",
            Kind::MessageReply => "message_reply",
        }
    }

    /// Queues this kind's row for `client`; returns its id.
    fn enqueue(self, c: &mut DbConnection, client: &Client) -> shared::Result<String> {
        let firm_id: String = users::table.find(&client.id).select(users::firm_id).first(c)?;
        match self {
            Kind::SignIn => {
                let user: User = users::table.find(&client.id).select(User::as_select()).first(c)?;
                sign_in::enqueue(c, &user, now())
            }
            Kind::Receipt => {
                let receipt = Receipt {
                    matter_id: client.matter_id.clone(),
                    files: vec![("police-report.pdf".into(), "1.2 MB".into()), ("photo.jpg".into(), "240 KB".into())],
                };
                upload_receipt::enqueue(c, &firm_id, &client.id, &receipt, now())
            }
            Kind::PhaseChange => {
                let phase_key: String = matters::table
                    .inner_join(phases::table)
                    .filter(matters::id.eq(&client.matter_id))
                    .select(phases::key)
                    .first(c)?;
                let change = PhaseChange { matter_id: client.matter_id.clone(), phase_key };
                let mut ids = phase_change::enqueue_for_matter(c, &firm_id, &change, now())?;
                ids.pop().ok_or(shared::Error::NotFound)
            }
            Kind::MessageReply => {
                let manager: Option<String> =
                    matters::table.find(&client.matter_id).select(matters::case_manager_id).first(c)?;
                let manager = manager.ok_or(shared::Error::NotFound)?;
                let user: User = users::table.find(&manager).select(User::as_select()).first(c)?;
                let staff = shared::staff::Staff::from_user(&user, None)?;
                let answered = shared::messages::reply(c, &staff, &client.matter_id, REPLY, false, now())?;
                Ok(notifications::table
                    .filter(notifications::id.eq_any(&answered.notices))
                    .filter(notifications::recipient_id.eq(&client.id))
                    .select(notifications::id)
                    .first(c)?)
            }
            Kind::Weekly => {
                let period = format!("design-{}", shared::domain::new_id());
                weekly_update::enqueue_for_firm(c, &firm_id, &period, now())?;
                Ok(notifications::table
                    .filter(notifications::recipient_id.eq(&client.id))
                    .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
                    .filter(notifications::period_key.eq(&period))
                    .select(notifications::id)
                    .first(c)?)
            }
        }
    }
}

/// The demo with its firm branded and Jordan renamed Sam Rivera.
struct Branded {
    app: TestApp,
    sam: Client,
    firm_id: String,
    firm_name: String,
    manager: String,
}

async fn branded(app: TestApp) -> anyhow::Result<Branded> {
    let demo = app.seed_demo().await?;
    let sam = app.client(&demo.email("jordan")).await?;
    let (firm_id, sam_id, matter_id) = (demo.firm_id.clone(), sam.id.clone(), sam.matter_id.clone());
    let (firm_name, manager) = app
        .state
        .db
        .run(move |c| {
            diesel::update(firms::table.find(&firm_id))
                .set((firms::accent_colour.eq(ACCENT), firms::reply_to_case_manager.eq(true)))
                .execute(c)?;
            diesel::insert_into(firm_logos::table)
                .values(FirmLogo {
                    firm_id: firm_id.clone(),
                    content_type: "image/png".to_owned(),
                    bytes: LOGO.to_vec(),
                    digest: LOGO_DIGEST.to_owned(),
                    updated_at: now(),
                })
                .execute(c)?;
            diesel::update(users::table.find(&sam_id)).set(users::full_name.eq("Sam Rivera")).execute(c)?;
            let name: String = firms::table.find(&firm_id).select(firms::name).first(c)?;
            let manager_id: Option<String> =
                matters::table.find(&matter_id).select(matters::case_manager_id).first(c)?;
            let manager: String = users::table.find(manager_id.unwrap_or_default()).select(users::email).first(c)?;
            Ok((name, manager))
        })
        .await?;
    Ok(Branded { app, sam, firm_id: demo.firm_id, firm_name, manager })
}

impl Branded {
    async fn set(&self, reply_to: bool, lang: Language, name: &'static str) -> anyhow::Result<()> {
        let (firm_id, sam_id) = (self.firm_id.clone(), self.sam.id.clone());
        self.app
            .state
            .db
            .run(move |c| {
                diesel::update(firms::table.find(&firm_id))
                    .set(firms::reply_to_case_manager.eq(reply_to))
                    .execute(c)?;
                diesel::update(users::table.find(&sam_id))
                    .set((users::language.eq(lang), users::full_name.eq(name)))
                    .execute(c)?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Sam's email of `kind`, composed as the delivery loop composes it, and as built for the wire.
    /// Also returns the address of the message's Reply-To, if any.
    async fn compose(&self, kind: Kind) -> anyhow::Result<(OutgoingEmail, Option<String>)> {
        let (composer, sam) = (self.app.state.notifications.composer.clone(), self.sam.clone());
        let composed = self
            .app
            .state
            .db
            .run(move |c| {
                let row_id = kind.enqueue(c, &sam)?;
                let row: Notification =
                    notifications::table.find(&row_id).select(Notification::as_select()).first(c)?;
                compose_one(c, &composer, &row, now())
            })
            .await?;
        let Composed::Send(Message::Email(email)) = composed else {
            anyhow::bail!("the {kind:?} email was not composed: {composed:?}");
        };
        let mailer = Mailer::in_memory("Matterline <mail@matterline.test>".parse::<Mailbox>()?);
        let raw = mailer.build(&email)?.formatted();
        let parsed = mail_parser::MessageParser::default()
            .parse(&raw)
            .ok_or_else(|| anyhow::anyhow!("the {kind:?} email does not parse"))?;
        let reply_to = parsed.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned);
        Ok((*email, reply_to))
    }

    fn text(&self, lang: Language, key: &str) -> String {
        self.app.state.renderer.locales().text(lang, key)
    }
}

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#x27;")
}

/// Every short link (`{base}/l/{code}`) in `text`.
fn short_links_in(text: &str, base: &str) -> Vec<String> {
    let prefix = format!("{base}/l/");
    text.split_whitespace().filter(|w| w.starts_with(&prefix)).map(str::to_owned).collect()
}

async fn every_client_email_carries_the_firm_and_leads_with_its_buttons(backend: Backend) -> anyhow::Result<()> {
    let b = branded(TestApp::builder(backend).spawn().await?).await?;
    let base = b.app.state.notifications.composer.base_url.clone();
    let logo = format!(
        "<img src=\"{base}/brand/{}/logo/{LOGO_DIGEST}\" alt=\"{}\" width=\"192\" height=\"48\"",
        b.firm_id,
        escaped(&b.firm_name)
    );
    for lang in [Language::EN, Language::ES] {
        b.set(true, lang, "Sam Rivera").await?;
        let hi = if lang == Language::EN { "Hi Sam," } else { "Hola, Sam:" };
        for kind in KINDS {
            let (email, reply_to) = b.compose(kind).await?;
            let (html, text) = (&email.content.html, &email.content.text);
            let what = format!("{kind:?} in {lang:?}");
            assert!(html.contains(&logo), "{what}: no logo {logo} in {html}");
            assert!(html.contains(&format!("bgcolor=\"{ACCENT}\"")), "{what}: the button is not in the accent colour");
            assert!(
                html.contains(&format!("border-bottom:4px solid {ACCENT}")),
                "{what}: no header rule in the accent"
            );
            assert!(html.contains("max-width:600px") && html.contains("<table role=\"presentation\""), "{what}");
            // The greeting: first name only.
            assert_eq!(text.lines().next(), Some(hi), "{what}: greeting of the text part");
            assert!(html.contains(&format!(">{}</p>", escaped(hi))), "{what}: greeting of the HTML part");
            assert!(!text.lines().take(3).any(|l| l.contains("Rivera")), "{what}: the surname in the greeting");
            // No long tokens in the text part.
            let long: Vec<&str> = text.lines().filter(|l| l.chars().count() > 100).collect();
            assert!(long.is_empty(), "{what}: text lines over 100 characters: {long:?}");
            assert!(!text.contains("token="), "{what}: a token in the text part: {text}");
            // Reply-To the case manager, except on sign-in.
            if kind == Kind::SignIn {
                assert_eq!(reply_to, None, "{what}: a sign-in email has no Reply-To");
            } else {
                assert_eq!(reply_to.as_deref(), Some(b.manager.as_str()), "{what}: Reply-To");
            }
            let open = b.text(lang, "email-open-case");
            match kind {
                Kind::SignIn => {
                    let code = text
                        .lines()
                        .find(|l| l.len() == 6 && l.bytes().all(|c| c.is_ascii_digit()))
                        .ok_or_else(|| anyhow::anyhow!("{what}: no line holds the code alone: {text}"))?;
                    let big = format!(
                        "font-size:32px;line-height:40px;font-weight:bold;letter-spacing:8px;color:#1a1f2b\">{code}</span>"
                    );
                    assert!(html.contains(&big), "{what}: the code is not large in the HTML part: {html}");
                    assert!(html.contains("monospace"), "{what}");
                    assert_eq!(short_links_in(text, &base).len(), 1, "{what}: one short sign-in link: {text}");
                }
                Kind::MessageReply => {
                    // The client's one-tap link, which leads to the conversation (tests/one_tap.rs).
                    let button = format!("<a href=\"{base}/one-tap?token&#x3D;");
                    let at = html.find(&button).ok_or_else(|| anyhow::anyhow!("{what}: no button to the messages"))?;
                    assert!(html[..at].ends_with(&format!("background:{ACCENT}\">")), "{what}: not a button: {html}");
                    let label = b.text(lang, "message-email-open");
                    assert!(html.contains(&format!(">{label}</a>")), "{what}: button label");
                    assert!(
                        !html.contains("repair estimate") && !text.contains("repair estimate"),
                        "{what}: the reply's text"
                    );
                }
                Kind::Receipt => {
                    // The client's one-tap link, which leads to the case (tests/one_tap.rs).
                    let button = format!("<a href=\"{base}/one-tap?token&#x3D;");
                    let at = html.find(&button).ok_or_else(|| anyhow::anyhow!("{what}: no button to the case"))?;
                    assert!(html[..at].ends_with(&format!("background:{ACCENT}\">")), "{what}: not a button: {html}");
                    let rest = html[at + button.len()..].split_once('"').map(|(_, rest)| rest).unwrap_or_default();
                    assert!(rest.starts_with(" style=\"display:inline-block"), "{what}");
                    assert!(html.contains(&format!(">{open}</a>")), "{what}: button label");
                }
                Kind::PhaseChange | Kind::Weekly => {
                    let step = if lang == Language::EN { "Step " } else { "Paso " };
                    let at_step = text.find(step).ok_or_else(|| anyhow::anyhow!("{what}: no step in {text}"))?;
                    let shown = &text[at_step..at_step + 12];
                    assert!(html.contains(shown.trim_end_matches(':').trim()), "{what}: {shown} not in the HTML part");
                    assert!(html.contains("aria-hidden=\"true\""), "{what}: the bar is hidden from screen readers");
                    let open_at =
                        html.find(&format!(">{open}</a>")).ok_or_else(|| anyhow::anyhow!("{what}: no {open}"))?;
                    let upload_at = html
                        .find(&format!(">{}</a>", b.text(lang, "email-upload-now")))
                        .ok_or_else(|| anyhow::anyhow!("{what}: no Upload now (the demo matter needs a document)"))?;
                    let next_at = html.find(&escaped(&b.text(lang, "weekly-next"))).unwrap_or_default();
                    assert!(open_at < upload_at && upload_at < next_at, "{what}: buttons after the long text");
                    assert!(
                        text.find(&open).unwrap_or(usize::MAX) < text.find(&b.text(lang, "weekly-next")).unwrap_or(0),
                        "{what}: text order"
                    );
                    assert!(html.contains(&format!("/matters/{}/upload", b.sam.matter_id)), "{what}: upload link");
                    if kind == Kind::Weekly {
                        assert_eq!(
                            short_links_in(text, &base).len(),
                            3,
                            "{what}: open (one tap), rating and unsubscribe: {text}"
                        );
                    }
                }
            }
        }
    }
    // With the setting off, no Reply-To; and a client without a name is greeted without one.
    b.set(false, Language::EN, " ").await?;
    for kind in KINDS {
        let (email, reply_to) = b.compose(kind).await?;
        assert_eq!(reply_to, None, "{kind:?}: Reply-To with the setting off");
        assert_eq!(email.content.text.lines().next(), Some("Hello,"), "{kind:?}: neutral greeting");
    }
    Ok(())
}

async fn short_links_lead_to_their_page_and_use_nothing_up(backend: Backend) -> anyhow::Result<()> {
    let b = branded(TestApp::builder(backend).spawn().await?).await?;
    let base = b.app.state.notifications.composer.base_url.clone();
    let http = b.app.raw_client()?;
    let (email, _) = b.compose(Kind::SignIn).await?;
    let links = short_links_in(&email.content.text, &base);
    let short = links.first().ok_or_else(|| anyhow::anyhow!("no short link in {}", email.content.text))?;
    // Followed twice (a mail scanner, then the client): the same page each time, nothing used up.
    let mut target = String::new();
    for _ in 0..2 {
        let answer = http.get(short).send().await?;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        target = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    }
    let token = target.strip_prefix("/sign-in/link?token=").ok_or_else(|| anyhow::anyhow!("redirect to {target}"))?;
    let in_html = format!("{base}{target}").replace('=', "&#x3D;");
    assert!(email.content.html.contains(&in_html), "the HTML part links to the same page directly");
    assert!(b.app.state.tokens.verify(Purpose::SignIn, token).is_ok());
    let signed_in = http.post(b.app.url("/sign-in/link")).form(&[("token", token)]).send().await?;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "the link still signs in after its short link was followed");

    // Only the code's SHA-256 is stored, with a path on this portal.
    let code = short.rsplit('/').next().unwrap_or_default().to_owned();
    let hashed = harness::files::sha256(code.as_bytes());
    let stored: Vec<(String, String)> = b
        .app
        .state
        .db
        .run(|c| Ok(short_links::table.select((short_links::code_hash, short_links::target)).load(c)?))
        .await?;
    assert!(stored.iter().any(|(hash, t)| *hash == hashed && *t == target), "{stored:?}");
    assert!(stored.iter().all(|(hash, t)| !hash.contains(&code) && !t.contains(&code) && t.starts_with('/')));

    // The weekly update's rating and unsubscribe links: the pages ask before they do anything.
    let (weekly, _) = b.compose(Kind::Weekly).await?;
    for link in short_links_in(&weekly.content.text, &base) {
        let answer = http.get(&link).send().await?;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let to = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let page = ["/rate?token=", "/unsubscribe?token=", "/one-tap?token="];
        assert!(page.iter().any(|p| to.starts_with(p)), "{to}");
        assert_eq!(http.get(b.app.url(&to)).send().await?.status(), StatusCode::OK, "{to}");
    }
    let sam_id = b.sam.id.clone();
    let weekly_on: bool =
        b.app.state.db.run(move |c| Ok(users::table.find(&sam_id).select(users::weekly_updates).first(c)?)).await?;
    assert!(weekly_on, "following the unsubscribe short link unsubscribed");

    // Unknown and expired links: a readable page offering to sign in, in the client's language.
    let unknown = http.get(format!("{base}/l/NoSuchCodeAtAllX")).header("Accept-Language", "es").send().await?;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let page = unknown.text().await?;
    assert!(page.contains(&b.text(Language::ES, "short-link-gone-title")), "{page}");
    assert!(page.contains("href=\"/sign-in\""), "{page}");
    b.app.state.tokens.clock().advance(Duration::minutes(16));
    let expired = http.get(short).send().await?;
    assert_eq!(expired.status(), StatusCode::NOT_FOUND, "a sign-in short link outlived its token");
    let page = expired.text().await?;
    assert!(page.contains(&b.text(Language::EN, "short-link-gone-title")) && page.contains("href=\"/sign-in\""));
    assert!(!page.contains("panicked"), "{page}");
    // Expired links are purged with the other expired rows.
    let purged = b.app.state.db.run(|c| shared::auth::purge_expired(c, now() + Duration::days(400))).await?;
    assert!(purged >= 3, "{purged}");
    Ok(())
}

async fn a_sign_in_email_through_smtp_shows_its_code_alone_and_a_short_link(backend: Backend) -> anyhow::Result<()> {
    let b = branded(TestApp::builder(backend).with_smtp().spawn().await?).await?;
    let reply = b.app.client.post(b.app.url("/sign-in")).form(&[("email", b.sam.email.as_str())]).send().await?;
    assert_eq!(reply.status(), StatusCode::OK);
    let mail = wait_for_emails(&b.sam.email, 1).await?.remove(0);
    let text = mail.text.replace("\r\n", "\n");
    assert!(text.starts_with("Hi Sam,"), "{text}");
    let code = mail.six_digit_code().ok_or_else(|| anyhow::anyhow!("no code in {text}"))?;
    assert!(text.lines().any(|l| l.trim_end() == code), "the code is not on a line of its own: {text}");
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    let short = mail.link_containing("/l/").ok_or_else(|| anyhow::anyhow!("no short link: {text}"))?;
    assert!(mail.html.contains(&format!(">{code}</span>")) && mail.html.contains("font-size:32px"));
    let source = mail.source().await?;
    assert!(!source.to_ascii_lowercase().contains("\nreply-to:"), "a sign-in email has no Reply-To: {source}");
    // The short link leads to the confirmation page, which signs in on its button.
    let client = b.app.new_client()?;
    let confirm = client.get(&short).send().await?;
    let to = confirm.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(to.starts_with("/sign-in/link?token="), "{to}");
    assert_eq!(client.get(b.app.url(&to)).send().await?.status(), StatusCode::OK);
    Ok(())
}

/// Renders `html` (its logo served from a file beside it) in `browser`, which
/// is `screen` wide; screenshots it as `emails/{name}`; returns the first
/// button's top edge and height.
async fn look_at(browser: &fantoccini::Client, screen: Screen, html: &str, name: &str) -> anyhow::Result<(f64, f64)> {
    let dir = browser::screenshot_dir().join("emails");
    std::fs::create_dir_all(&dir)?;
    // Both backends' tests render here at once: the logo is replaced in one
    // step (write aside, then rename), so a page never loads half a file.
    let aside = dir.join(format!("logo.{name}.png"));
    std::fs::write(&aside, LOGO)?;
    std::fs::rename(&aside, dir.join("logo.png"))?;
    let file = dir.join(format!("{name}.html"));
    std::fs::write(&file, html)?;
    browser.goto(&format!("file://{}", file.display())).await?;
    browser.find(Locator::Css("table")).await?;
    browser::screenshot(browser, &format!("emails/{name}")).await?;
    let width = browser.execute("return document.documentElement.scrollWidth", vec![]).await?;
    assert_eq!(width.as_u64(), Some(u64::from(screen.width)), "{name} scrolls sideways");
    // The logo loads asynchronously: wait (up to 5 s) until it has.
    let mut image = serde_json::Value::Null;
    for _ in 0..50 {
        image = browser
            .execute(
                "const i = document.querySelector('img'); return i ? [i.complete, i.naturalWidth, i.width] : null",
                vec![],
            )
            .await?;
        if image[0] == true && image[1] != 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(image, serde_json::json!([true, 320, 192]), "{name}: the logo did not load at 192 px");
    let button = browser
        .execute(
            "const r = document.querySelector('td[bgcolor] a').getBoundingClientRect(); return [r.top, r.height]",
            vec![],
        )
        .await?;
    let top = button[0].as_f64().unwrap_or(f64::MAX);
    let height = button[1].as_f64().unwrap_or_default();
    Ok((top, height))
}

async fn every_email_reads_well_on_a_phone_and_a_desktop(backend: Backend) -> anyhow::Result<()> {
    let b = branded(TestApp::builder(backend).spawn().await?).await?;
    let base = b.app.state.notifications.composer.base_url.clone();
    let tag = format!("{backend:?}").to_lowercase();
    let mut pages = Vec::new();
    for lang in [Language::EN, Language::ES] {
        b.set(true, lang, "Sam Rivera").await?;
        for kind in KINDS {
            let (email, _) = b.compose(kind).await?;
            // The logo from beside the file (the portal's logo route is not what is looked at here).
            let html =
                email.content.html.replace(&format!("{base}/brand/{}/logo/{LOGO_DIGEST}", b.firm_id), "logo.png");
            pages.push((format!("{}-{lang:?}-{tag}", kind.name()).to_lowercase(), html));
        }
    }
    for (screen, size) in [(PHONE, "390x844"), (DESKTOP, "1280x800")] {
        let browser = browser::open(screen).await?;
        let outcome = async {
            for (name, html) in &pages {
                let (top, height) = look_at(&browser, screen, html, &format!("{name}-{size}")).await?;
                assert!(height >= 24.0, "{name} at {size}: the first button is {height} px tall");
                assert!(
                    top + height <= f64::from(screen.height),
                    "{name} at {size}: the first button is below the first screen ({top})"
                );
            }
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    Ok(())
}

on_both_backends!(
    every_client_email_carries_the_firm_and_leads_with_its_buttons,
    short_links_lead_to_their_page_and_use_nothing_up,
    a_sign_in_email_through_smtp_shows_its_code_alone_and_a_short_link,
    every_email_reads_well_on_a_phone_and_a_desktop,
);
