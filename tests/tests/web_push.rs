//! Web push and the installable app. A push service written in Python
//! (`tests/support/push_service.py`: py_vapid checks each push's VAPID
//! signature, http_ece decrypts its body) mints browser subscriptions, so
//! every push here is proven against an independent implementation of RFC
//! 8291/8292:
//! - a phase change reaches a subscribed client's browser with the step's name
//!   and the case's URL, and nothing more; in the client's language;
//! - a document request and a reply reach it too; a client with no browser
//!   subscribed gets no push rows at all;
//! - 410 forgets the subscription (the row says so); 429 is retried, then delivered;
//! - opting out deletes; another client's subscription is 404; staff cannot subscribe;
//! - in Chromium: the manifest, the service worker (ready on a signed-in page,
//!   keeping only static files and the offline page), the offline page served
//!   when the portal is down, the "add to home screen" hint, and axe-core on
//!   the preferences and offline pages, with screenshots at 390×844.

use chrono::Duration;
use diesel::prelude::*;
use fantoccini::Locator;
use harness::browser::{self, PHONE, screenshot};
use harness::session::Session;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::models::Notification;
use shared::db::schema::{notifications, push_subscriptions};
use shared::domain::{Channel, NotificationKind, NotificationStatus, now};

/// The Python push service.
struct PushService {
    base: String,
    http: reqwest::Client,
}

impl PushService {
    fn new() -> anyhow::Result<Self> {
        shared::mail::install_crypto_provider();
        Ok(Self { base: harness::services::push_service()?, http: reqwest::Client::new() })
    }

    /// A new browser subscription: `{"id", "endpoint", "keys": {"p256dh", "auth"}}`.
    async fn mint(&self) -> anyhow::Result<Value> {
        let reply = self.http.post(format!("{}/subscriptions", self.base)).send().await?;
        anyhow::ensure!(reply.status() == StatusCode::CREATED, "minting answered {}", reply.status());
        Ok(reply.json().await?)
    }

    /// The service answers `status` to the next `times` pushes to `sub` (every push when `None`).
    async fn answer(&self, sub: &Value, status: u16, times: Option<u32>) -> anyhow::Result<()> {
        let reply = self
            .http
            .post(format!("{}/subscriptions/{}/answer", self.base, sub["id"].as_str().unwrap_or_default()))
            .json(&json!({ "status": status, "times": times }))
            .send()
            .await?;
        anyhow::ensure!(reply.status() == StatusCode::NO_CONTENT, "answer setup: {}", reply.status());
        Ok(())
    }

    /// What the service saw for `sub`: the decrypted payloads (as JSON), the
    /// refusals (a VAPID or decryption failure would be one) and how many pushes came.
    async fn seen(&self, sub: &Value) -> anyhow::Result<(Vec<Value>, Vec<String>, u64)> {
        let seen: Value = self
            .http
            .get(format!("{}/subscriptions/{}", self.base, sub["id"].as_str().unwrap_or_default()))
            .send()
            .await?
            .json()
            .await?;
        let received = seen["received"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| serde_json::from_str(p.as_str().unwrap_or_default()))
            .collect::<Result<Vec<Value>, _>>()?;
        let refused = seen["refused"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_owned));
        Ok((received, refused.collect(), seen["pushes"].as_u64().unwrap_or_default()))
    }
}

/// `session`'s client subscribes the browser `sub`; the subscription's id.
async fn subscribe(session: &Session, sub: &Value) -> anyhow::Result<String> {
    let body = json!({ "endpoint": sub["endpoint"], "keys": sub["keys"] });
    let made: Value = session.post_json("/api/v1/push/subscriptions", &body, StatusCode::CREATED).await?;
    Ok(made["id"].as_str().unwrap_or_default().to_owned())
}

/// Moves `matter_id` (a matter of `client`) to another step as `staff`; the new step's title in the client's language.
async fn move_phase(staff: &Session, client: &Session, matter_id: &str) -> anyhow::Result<String> {
    let matter: Value = client.get(&format!("/api/v1/matters/{matter_id}")).await?;
    let current = matter["phase"]["key"].as_str().unwrap_or_default().to_owned();
    let next = matter["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["key"] != current.as_str() && p["key"] != "closed")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no other step in {matter}"))?;
    let _: Value = staff
        .post_json(
            &format!("/api/v1/staff/matters/{matter_id}/milestones"),
            &json!({ "kind": "phase_change", "phase": next["key"] }),
            StatusCode::CREATED,
        )
        .await?;
    Ok(next["title"].as_str().unwrap_or_default().to_owned())
}

/// The push rows queued for `user_id`.
async fn push_rows(app: &TestApp, user_id: &str) -> anyhow::Result<Vec<Notification>> {
    let user_id = user_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(notifications::table
                .filter(notifications::recipient_id.eq(&user_id))
                .filter(notifications::channel.eq(Channel::Push.as_str()))
                .select(Notification::as_select())
                .load(c)?)
        })
        .await?)
}

/// How many subscriptions `user_id` has.
async fn subscriptions(app: &TestApp, user_id: &str) -> anyhow::Result<i64> {
    let user_id = user_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(push_subscriptions::table.filter(push_subscriptions::user_id.eq(&user_id)).count().get_result(c)?)
        })
        .await?)
}

/// Delivers everything due as of `minutes` from now.
async fn deliver(app: &TestApp, minutes: i64) -> anyhow::Result<shared::notifications::Summary> {
    Ok(app.state.notifications.deliver_all(now() + Duration::minutes(minutes), &|| {}).await?)
}

on_both_backends!(
    a_phase_change_reaches_the_browser_with_the_step_and_the_url_only,
    document_requests_and_replies_are_pushed_to_subscribed_clients_only,
    a_gone_subscription_is_forgotten_and_a_busy_service_is_retried,
    clients_turn_push_off_and_only_their_own,
    the_app_installs_and_works_offline_in_chromium,
);

async fn a_phase_change_reaches_the_browser_with_the_step_and_the_url_only(backend: Backend) -> anyhow::Result<()> {
    let push = PushService::new()?;
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    for (local, title) in [("jordan", "Your case moved to a new step"), ("lucia", "Su caso pasó a una nueva etapa")] {
        let client = app.client(&demo.email(local)).await?;
        let session = app.signed_in_client(&client.email).await?;
        let sub = push.mint().await?;
        subscribe(&session, &sub).await?;
        let step = move_phase(&staff, &session, &client.matter_id).await?;

        let rows = push_rows(&app, &client.id).await?;
        assert_eq!(rows.len(), 1, "one push row per client and change: {rows:?}");
        assert_eq!(rows[0].kind, NotificationKind::PhaseChange);
        let summary = deliver(&app, 0).await?;
        assert!(summary.sent >= 1, "{summary:?}");

        let (received, refused, pushes) = push.seen(&sub).await?;
        assert!(refused.is_empty(), "the push service refused: {refused:?}");
        assert_eq!((received.len(), pushes), (1, 1), "{received:?}");
        let payload = &received[0];
        let keys: Vec<&String> = payload.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["body", "title", "url"], "nothing but a title, a text and the URL: {payload}");
        assert_eq!(payload["title"], title);
        assert!(payload["body"].as_str().unwrap_or_default().contains(&step), "the step {step:?} in {payload}");
        assert_eq!(payload["url"], format!("{}/matters/{}", app.origin(), client.matter_id));
        let text = payload.to_string();
        assert!(!text.contains(&client.email) && !text.contains("@"), "no personal data: {text}");

        let rows = push_rows(&app, &client.id).await?;
        assert_eq!(rows[0].status, NotificationStatus::Sent);
        let id = client.id.clone();
        let success: Option<chrono::NaiveDateTime> = app
            .state
            .db
            .run(move |c| {
                Ok(push_subscriptions::table
                    .filter(push_subscriptions::user_id.eq(&id))
                    .select(push_subscriptions::last_success_at)
                    .first(c)?)
            })
            .await?;
        assert!(success.is_some(), "the subscription's last success is recorded");
    }
    Ok(())
}

async fn document_requests_and_replies_are_pushed_to_subscribed_clients_only(backend: Backend) -> anyhow::Result<()> {
    let push = PushService::new()?;
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let lucia = app.client(&demo.email("lucia")).await?;
    let lucia_session = app.signed_in_client(&lucia.email).await?;
    let sub = push.mint().await?;
    subscribe(&lucia_session, &sub).await?;
    let sam = app.client(&demo.email("sam")).await?;
    let sam_session = app.signed_in_client(&sam.email).await?;

    for (client, session) in [(&lucia, &lucia_session), (&sam, &sam_session)] {
        let _: Value = staff
            .post_json(
                &format!("/api/v1/staff/matters/{}/requests", client.matter_id),
                &json!({ "title": "Bills from the emergency room", "category": "medical_bill" }),
                StatusCode::CREATED,
            )
            .await?;
        let _: Value = staff
            .post_json(
                &format!("/api/v1/staff/matters/{}/messages", client.matter_id),
                &json!({ "body": "We received your photos.", "internal": false }),
                StatusCode::CREATED,
            )
            .await?;
        move_phase(&staff, session, &client.matter_id).await?;
    }
    // Sam has no browser subscribed: emails only, not one push row.
    assert!(push_rows(&app, &sam.id).await?.is_empty(), "no subscription, no push rows");
    let mut kinds: Vec<NotificationKind> = push_rows(&app, &lucia.id).await?.into_iter().map(|r| r.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    assert_eq!(
        kinds,
        [NotificationKind::DocumentRequest, NotificationKind::MessageReply, NotificationKind::PhaseChange]
    );

    // The reply's notice waits five minutes (a read reply needs none).
    deliver(&app, 6).await?;
    let (received, refused, _) = push.seen(&sub).await?;
    assert!(refused.is_empty(), "the push service refused: {refused:?}");
    let titles: Vec<&str> = received.iter().filter_map(|p| p["title"].as_str()).collect();
    assert_eq!(received.len(), 3, "{received:?}");
    assert!(titles.contains(&"Su equipo legal necesita un documento"), "{titles:?}");
    assert!(titles.contains(&"Nuevo mensaje de su equipo legal"), "{titles:?}");
    let reply = received.iter().find(|p| p["title"] == "Nuevo mensaje de su equipo legal");
    assert_eq!(
        reply.map(|p| p["url"].clone()),
        Some(json!(format!("{}/matters/{}/messages", app.origin(), lucia.matter_id)))
    );
    for payload in &received {
        let text = payload.to_string();
        assert!(!text.contains("emergency") && !text.contains("photos"), "no case details: {text}");
    }
    Ok(())
}

async fn a_gone_subscription_is_forgotten_and_a_busy_service_is_retried(backend: Backend) -> anyhow::Result<()> {
    let push = PushService::new()?;
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;

    // 429 once: retried after the backoff, then delivered.
    let jordan = app.client(&demo.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let busy = push.mint().await?;
    subscribe(&jordan_session, &busy).await?;
    push.answer(&busy, 429, Some(1)).await?;
    move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    let first = deliver(&app, 0).await?;
    assert_eq!(first.retrying, 1, "{first:?}");
    let row = push_rows(&app, &jordan.id).await?.remove(0);
    assert_eq!((row.status, row.attempts), (NotificationStatus::Pending, 1));
    assert!(row.last_error.as_deref().unwrap_or_default().contains("429"), "{row:?}");
    let later = deliver(&app, 10).await?;
    assert!(later.sent >= 1, "{later:?}");
    assert_eq!(push_rows(&app, &jordan.id).await?[0].status, NotificationStatus::Sent);
    let (received, refused, pushes) = push.seen(&busy).await?;
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!((received.len(), pushes), (1, 2));

    // 410: the browser's subscription is gone; forgotten, and the row says so.
    let riley = app.client(&demo.email("riley")).await?;
    let riley_session = app.signed_in_client(&riley.email).await?;
    let gone = push.mint().await?;
    subscribe(&riley_session, &gone).await?;
    push.answer(&gone, 410, None).await?;
    move_phase(&staff, &riley_session, &riley.matter_id).await?;
    let summary = deliver(&app, 0).await?;
    assert_eq!(summary.failed, 1, "{summary:?}");
    let row = push_rows(&app, &riley.id).await?.remove(0);
    assert_eq!(row.status, NotificationStatus::Failed);
    let why = row.last_error.unwrap_or_default();
    assert!(why.contains("410") && why.contains("removed"), "{why}");
    assert_eq!(subscriptions(&app, &riley.id).await?, 0, "the gone subscription is deleted");
    // And the next change queues no push for Riley.
    move_phase(&staff, &riley_session, &riley.matter_id).await?;
    assert_eq!(push_rows(&app, &riley.id).await?.len(), 1);
    Ok(())
}

async fn clients_turn_push_off_and_only_their_own(backend: Backend) -> anyhow::Result<()> {
    let push = PushService::new()?;
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.signed_in_client(&demo.email("jordan")).await?;
    let lucia = app.signed_in_client(&demo.email("lucia")).await?;

    // The key browsers subscribe with: the portal's VAPID public key, a P-256 point.
    let key: Value = app.get("/api/v1/push/key").await?.json().await?;
    assert_eq!(key["public_key"].as_str().map(str::len), Some(87), "{key}");

    // Off by endpoint (what the page's script sends).
    let sub = push.mint().await?;
    subscribe(&jordan, &sub).await?;
    assert_eq!(subscriptions(&app, &jordan.user_id).await?, 1);
    let off = jordan
        .request(Method::DELETE, "/api/v1/push/subscriptions")
        .json(&json!({ "endpoint": sub["endpoint"] }))
        .send()
        .await?;
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    assert_eq!(subscriptions(&app, &jordan.user_id).await?, 0, "opting out deletes");

    // Off by id: only one's own; another client's is 404 and stays.
    let id = subscribe(&jordan, &push.mint().await?).await?;
    let lucias = subscribe(&lucia, &push.mint().await?).await?;
    let status = |r: reqwest::Response| r.status();
    let path = |id: &str| format!("/api/v1/push/subscriptions/{id}");
    assert_eq!(status(jordan.request(Method::DELETE, &path(&lucias)).send().await?), StatusCode::NOT_FOUND);
    assert_eq!(subscriptions(&app, &lucia.user_id).await?, 1, "another client's subscription stays");
    assert_eq!(status(jordan.request(Method::DELETE, &path(&id)).send().await?), StatusCode::NO_CONTENT);
    assert_eq!(status(jordan.request(Method::DELETE, &path(&id)).send().await?), StatusCode::NOT_FOUND);

    // The preferences form turns it off on every device, without JavaScript.
    let page = lucia.request(Method::GET, "/preferences").send().await?.text().await?;
    assert!(page.contains("action=\"/preferences/push/off\""), "the form shows while a device is subscribed");
    let done = lucia.request(Method::POST, "/preferences/push/off").send().await?;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(subscriptions(&app, &lucia.user_id).await?, 0);

    // Refused: staff (no pushes for them), a non-https endpoint, keys that are not keys.
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let body = json!({ "endpoint": sub["endpoint"], "keys": sub["keys"] });
    let _: Value = staff.post_json("/api/v1/push/subscriptions", &body, StatusCode::FORBIDDEN).await?;
    let plain = json!({ "endpoint": "http://push.example/abc", "keys": sub["keys"] });
    let _: Value = jordan.post_json("/api/v1/push/subscriptions", &plain, StatusCode::UNPROCESSABLE_ENTITY).await?;
    let bad = json!({ "endpoint": sub["endpoint"], "keys": { "p256dh": "not-a-key", "auth": "AAAA" } });
    let _: Value = jordan.post_json("/api/v1/push/subscriptions", &bad, StatusCode::UNPROCESSABLE_ENTITY).await?;
    Ok(())
}

async fn the_app_installs_and_works_offline_in_chromium(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let firm: String = {
        let id = demo.firm_id.clone();
        app.state
            .db
            .run(move |c| {
                Ok(shared::db::schema::firms::table.find(&id).select(shared::db::schema::firms::name).first(c)?)
            })
            .await?
    };
    // The Content-Security-Policy lets the page's own service worker and manifest load.
    let csp = app.get("/sign-in").await?.headers().get("content-security-policy").cloned();
    let csp = csp.and_then(|v| v.to_str().ok().map(str::to_owned)).unwrap_or_default();
    assert!(csp.contains("worker-src 'self'") && csp.contains("manifest-src 'self'"), "{csp}");
    // The sign-in code field: the phone offers the emailed code, and pasting is allowed.
    let code_page = app.get("/sign-in/code").await?.text().await?;
    assert!(code_page.contains("autocomplete=\"one-time-code\""), "the code field offers the emailed code");
    assert!(!code_page.contains("onpaste"), "nothing stops pasting the code");

    let browser = browser::open(PHONE).await?;
    let outcome = async {
        app.sign_in_browser(&browser, &client.email).await?;
        browser.goto(&app.url("/sign-in/code")).await?;
        let pasted = browser
            .execute(
                "const e = new Event('paste', { bubbles: true, cancelable: true });\n\
                 return document.getElementById('code').dispatchEvent(e);",
                vec![],
            )
            .await?;
        assert_eq!(pasted, json!(true), "no script cancels a paste into the code field");
        browser.goto(&app.url(&format!("/matters/{}", client.matter_id))).await?;
        browser.wait().for_element(Locator::Css(".current-phase")).await?;

        // The manifest, as the page links it.
        let manifest = browser
            .execute_async(
                "const done = arguments[arguments.length - 1];\n\
                 const link = document.querySelector('link[rel=manifest]');\n\
                 fetch(link.href).then(r => r.json()).then(done, e => done({ error: String(e) }));",
                vec![],
            )
            .await?;
        assert_eq!(manifest["name"], firm.as_str(), "{manifest}");
        assert_eq!((manifest["display"].as_str(), manifest["start_url"].as_str()), (Some("standalone"), Some("/")));
        assert!(manifest["theme_color"].as_str().is_some_and(|c| c.starts_with('#')), "{manifest}");
        let sizes: Vec<String> = manifest["icons"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| format!("{} {}", i["sizes"].as_str().unwrap_or_default(), i["purpose"].as_str().unwrap_or_default()))
            .collect();
        assert_eq!(sizes, ["192x192 any", "512x512 any", "512x512 maskable"]);
        for icon in manifest["icons"].as_array().into_iter().flatten() {
            let reply = app.get(icon["src"].as_str().unwrap_or_default()).await?;
            assert_eq!(reply.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/png"));
            let size: u32 = icon["sizes"].as_str().unwrap_or_default().split('x').next().unwrap_or("0").parse()?;
            assert_eq!(browser::png_size(&reply.bytes().await?)?, (size, size));
        }

        // The service worker is ready on a signed-in page, and keeps nothing but static files and the offline page.
        let kept = browser
            .execute_async(
                "const done = arguments[arguments.length - 1];\n\
                 navigator.serviceWorker.ready\n\
                   .then(r => caches.open('matterline-static-v1').then(c => c.keys()).then(k => done({\n\
                     scope: r.scope, script: r.active && r.active.scriptURL, kept: k.map(q => new URL(q.url).pathname) })))\n\
                   .catch(e => done({ error: String(e) }));",
                vec![],
            )
            .await?;
        assert_eq!(kept["scope"], app.url("/"), "{kept}");
        assert_eq!(kept["script"], app.url("/sw.js"), "{kept}");
        let paths: Vec<&str> = kept["kept"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).collect();
        assert!(paths.contains(&"/offline"), "{paths:?}");
        assert!(paths.iter().all(|p| *p == "/offline" || p.starts_with("/static/")), "only static files: {paths:?}");

        // The "add to home screen" hint: shown when the browser offers installing (Chromium
        // may already have; the test offers it again), after the footer (nothing on screen moves,
        // nothing is covered), and gone for good once dismissed.
        let hint_hidden = "return document.getElementById('install-hint').hidden;";
        browser.execute("document.getElementById('install-hint').hidden = true;", vec![]).await?;
        let top = "return document.querySelector('main').getBoundingClientRect().top;";
        let before = browser.execute(top, vec![]).await?;
        browser.execute("window.dispatchEvent(new Event('beforeinstallprompt', { cancelable: true }));", vec![]).await?;
        assert_eq!(browser.execute(hint_hidden, vec![]).await?, json!(false));
        assert_eq!(browser.execute(top, vec![]).await?, before, "showing the hint moves nothing");
        browser.execute("document.getElementById('install-hint').scrollIntoView();", vec![]).await?;
        screenshot(&browser, &format!("install-hint-390x844-{}", backend.name())).await?;
        let findings = browser::axe_violations(&browser).await?;
        assert!(findings.is_empty(), "case page with the hint: {findings:?}");
        browser.find(Locator::Css("#install-hint .install-hint-dismiss")).await?.click().await?;
        assert_eq!(browser.execute(hint_hidden, vec![]).await?, json!(true));
        browser.refresh().await?;
        browser.execute("window.dispatchEvent(new Event('beforeinstallprompt', { cancelable: true }));", vec![]).await?;
        assert_eq!(browser.execute(hint_hidden, vec![]).await?, json!(true), "dismissed stays dismissed");

        // The preferences page: the push switch shows where the browser can push.
        browser.goto(&app.url("/preferences")).await?;
        browser.wait().for_element(Locator::Css("[data-push-control]:not([hidden]) [data-push-on]:not([hidden])")).await?;
        let off_shown = "return getComputedStyle(document.querySelector('[data-push-off]')).display !== 'none';";
        assert_eq!(browser.execute(off_shown, vec![]).await?, json!(false), "no \"turn off\" while off");
        let findings = browser::axe_violations(&browser).await?;
        assert!(findings.is_empty(), "preferences: {findings:?}");
        screenshot(&browser, &format!("preferences-push-390x844-{}", backend.name())).await?;

        // The same page on a desktop (the push card; no install card there).
        let desktop = browser::open(browser::DESKTOP).await?;
        let shot = async {
            app.sign_in_browser(&desktop, &client.email).await?;
            desktop.goto(&app.url("/preferences")).await?;
            desktop.wait().for_element(Locator::Css("[data-push-control]:not([hidden])")).await?;
            screenshot(&desktop, &format!("preferences-push-1280x800-{}", backend.name())).await
        }
        .await;
        desktop.close().await?;
        assert_eq!(shot?, (browser::DESKTOP.width, browser::DESKTOP.height));

        // The portal goes down: the service worker answers a page with the offline page.
        app.stop().await;
        browser.goto(&app.url(&format!("/matters/{}", client.matter_id))).await?;
        let text = browser::wait_for_text(&browser, "You are offline").await?;
        assert!(!text.contains(&client.email), "the offline page knows nobody");
        let findings = browser::axe_violations(&browser).await?;
        assert!(findings.is_empty(), "offline page: {findings:?}");
        screenshot(&browser, &format!("offline-390x844-{}", backend.name())).await?;
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}
