//! Text messages. A Twilio-compatible gateway written in Python
//! (`tests/support/sms_gateway.py`) checks basic auth and the form of every
//! send, records the messages, answers 429 or a Twilio error when told to,
//! and sends inbound texts and status callbacks signed with the `twilio`
//! package's `RequestValidator`, so the signature check is proven against an
//! implementation that is not ours. On both backends:
//! - no consent, no text: a number without the opt-in gets nothing; the
//!   client's page and staff (on the client's word) record the opt-in;
//! - a text is short, in the client's language, with the one-tap link;
//! - quiet hours hold a text (pending, not failed) until 9:00 firm-local;
//! - STOP, then nothing; START, then texts again; HELP answers; PARAR in Spanish;
//! - an unsigned or wrongly signed webhook is refused and changes nothing;
//! - 429 is retried; 21610 fails the row for good and records the opt-out;
//! - an inbound text lands in the conversation of the client's one open
//!   matter (staff hear of it); several matters or an unknown number get a
//!   pointer to the portal; a staff reply reaches the client by text too;
//! - status callbacks update the row, and the staff notification log shows it.

use chrono::{Duration, NaiveDateTime, Timelike};
use diesel::prelude::*;
use fantoccini::Locator;
use harness::browser::{self, DESKTOP, PHONE, screenshot};
use harness::{Backend, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::models::{Notification, SmsConsent};
use shared::db::schema::{messages, notifications, sms_consents, sms_messages};
use shared::domain::{Channel, MessageKind, NotificationKind, NotificationStatus, now};
use shared::notifications::sms;

/// The account the gateway accepts (as in `tests/support/sms_gateway.py`).
const ACCOUNT_SID: &str = "ACtest0123456789abcdef0123456789ab";
const AUTH_TOKEN: &str = "test-sms-auth-token-0123456789";
const FROM: &str = "+12015550100";

/// The Python gateway.
struct Gateway {
    base: String,
    http: reqwest::Client,
}

impl Gateway {
    fn new() -> anyhow::Result<Self> {
        shared::mail::install_crypto_provider();
        Ok(Self { base: harness::services::sms_gateway()?, http: reqwest::Client::new() })
    }

    /// The portal settings that send texts through this gateway.
    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MATTERLINE_SMS_URL", self.base.clone()),
            ("MATTERLINE_SMS_ACCOUNT_SID", ACCOUNT_SID.to_owned()),
            ("MATTERLINE_SMS_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
            ("MATTERLINE_SMS_FROM", FROM.to_owned()),
        ]
    }

    /// The texts the gateway accepted for `to`, what it refused, and how many sends came.
    async fn seen(&self, to: &str) -> anyhow::Result<(Vec<Value>, Vec<String>, u64)> {
        let seen: Value =
            self.http.get(format!("{}/messages", self.base)).query(&[("to", to)]).send().await?.json().await?;
        let messages = seen["messages"].as_array().cloned().unwrap_or_default();
        let refused = seen["refused"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_owned));
        Ok((messages, refused.collect(), seen["attempts"].as_u64().unwrap_or_default()))
    }

    /// The gateway answers the next sends to `to` with `answers` (429, 500 or a Twilio error code), one each.
    async fn answer(&self, to: &str, answers: &[u16]) -> anyhow::Result<()> {
        let reply = self
            .http
            .post(format!("{}/answers", self.base))
            .json(&json!({ "to": to, "answers": answers }))
            .send()
            .await?;
        anyhow::ensure!(reply.status() == StatusCode::NO_CONTENT, "answer setup: {}", reply.status());
        Ok(())
    }

    /// The gateway texts `body` from `from` to the portal's inbound webhook,
    /// signed `sign` ("right", "wrong", "none"); the portal's status and answer.
    async fn inbound(&self, app: &TestApp, from: &str, body: &str, sign: &str) -> anyhow::Result<(u16, String)> {
        let ask = json!({ "url": format!("{}/webhooks/sms", app.origin()), "from": from, "to": FROM, "body": body, "sign": sign });
        self.relay("inbound", ask).await
    }

    /// The gateway reports `status` of text `sid` to the portal's status callback.
    async fn status(
        &self,
        app: &TestApp,
        sid: &str,
        status: &str,
        code: Option<&str>,
        sign: &str,
    ) -> anyhow::Result<(u16, String)> {
        let ask = json!({
            "url": format!("{}/webhooks/sms/status", app.origin()),
            "sid": sid, "status": status, "error_code": code, "sign": sign,
        });
        self.relay("status", ask).await
    }

    async fn relay(&self, what: &str, ask: Value) -> anyhow::Result<(u16, String)> {
        let answer: Value = self.http.post(format!("{}/{what}", self.base)).json(&ask).send().await?.json().await?;
        let status = u16::try_from(answer["status"].as_u64().unwrap_or_default())?;
        Ok((status, answer["body"].as_str().unwrap_or_default().to_owned()))
    }
}

/// A mobile number no other test uses (libphonenumber-valid, US).
fn number() -> String {
    loop {
        let n = uuid::Uuid::new_v4().as_u128();
        let candidate = format!("+1201{}{:06}", 2 + (n % 7), (n >> 8) % 1_000_000);
        if let Ok(valid) = sms::parse_number("n", &candidate) {
            return valid;
        }
    }
}

/// A portal that texts through the gateway, its demo firm, and its admin
/// (texts allowed at any hour unless the test sets quiet hours).
async fn texting_app(backend: Backend, gateway: &Gateway) -> anyhow::Result<(TestApp, harness::fixtures::Demo)> {
    let settings = gateway.settings();
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::builder(backend).with_memory_mail().settings(&settings).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let _: Value = admin
        .patch_json("/api/v1/staff/settings", &json!({ "sms_from_hour": 0, "sms_until_hour": 24 }), StatusCode::OK)
        .await?;
    Ok((app, demo))
}

/// Staff record the client's number and opt-in on the client's word.
async fn opt_in_by_staff(staff: &harness::session::Session, client_id: &str, number: &str) -> anyhow::Result<Value> {
    staff
        .patch_json(
            &format!("/api/v1/staff/clients/{client_id}"),
            &json!({ "sms_number": number, "sms_opt_in": true }),
            StatusCode::OK,
        )
        .await
}

/// Moves `matter_id` to another step as `staff`; the new step's title in `client`'s language.
async fn move_phase(
    staff: &harness::session::Session,
    client: &harness::session::Session,
    matter_id: &str,
) -> anyhow::Result<String> {
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

/// The text rows queued for `user_id`, oldest first.
async fn text_rows(app: &TestApp, user_id: &str) -> anyhow::Result<Vec<Notification>> {
    let user_id = user_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(notifications::table
                .filter(notifications::recipient_id.eq(&user_id))
                .filter(notifications::channel.eq(Channel::Sms.as_str()))
                .order(notifications::created_at)
                .select(Notification::as_select())
                .load(c)?)
        })
        .await?)
}

/// The consent record of `user_id`.
async fn consent(app: &TestApp, user_id: &str) -> anyhow::Result<Option<SmsConsent>> {
    let user_id = user_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| Ok(sms_consents::table.find(&user_id).select(SmsConsent::as_select()).first(c).optional()?))
        .await?)
}

/// How many messages the conversation of `matter_id` holds.
async fn message_count(app: &TestApp, matter_id: &str) -> anyhow::Result<i64> {
    let matter = matter_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| Ok(messages::table.filter(messages::matter_id.eq(&matter)).count().get_result::<i64>(c)?))
        .await?)
}

/// Delivers everything due as of `at`, once the portal's own immediate attempts have finished.
async fn deliver_at(app: &TestApp, at: NaiveDateTime) -> anyhow::Result<shared::notifications::Summary> {
    app.background_done().await;
    Ok(app.state.notifications.deliver_all(at, &|| {}).await?)
}

async fn deliver(app: &TestApp, minutes: i64) -> anyhow::Result<shared::notifications::Summary> {
    deliver_at(app, now() + Duration::minutes(minutes)).await
}

on_both_backends!(
    no_consent_no_text_and_consent_comes_from_the_client_or_staff,
    quiet_hours_hold_a_text_until_nine_firm_local,
    stop_then_nothing_start_then_texts_again,
    unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing,
    a_busy_provider_is_retried_and_an_unsubscribed_recipient_fails_for_good,
    inbound_texts_land_in_the_right_conversation_and_replies_go_out_by_text,
    status_callbacks_update_the_row_and_the_staff_log,
    the_text_message_forms_work_in_chromium_and_pass_axe,
);

async fn no_consent_no_text_and_consent_comes_from_the_client_or_staff(backend: Backend) -> anyhow::Result<()> {
    let gateway = Gateway::new()?;
    let (app, demo) = texting_app(backend, &gateway).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let lucia = app.client(&demo.email("lucia")).await?;
    let lucia_session = app.signed_in_client(&lucia.email).await?;
    let sam = app.client(&demo.email("sam")).await?;
    let sam_session = app.signed_in_client(&sam.email).await?;
    let (jordan_number, lucia_number, sam_number) = (number(), number(), number());

    // No number, no consent: a phase change queues no text.
    move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    assert!(text_rows(&app, &jordan.id).await?.is_empty(), "no consent, no text row");

    // Sam gives a number but does not tick the box: still no text.
    let page = sam_session
        .request(Method::POST, "/preferences")
        .form(&[("weekly", "on"), ("sms_number", sam_number.as_str())])
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    let sams = consent(&app, &sam.id).await?.ok_or_else(|| anyhow::anyhow!("the number is kept"))?;
    assert_eq!((sams.number.as_str(), sams.opted_in_at), (sam_number.as_str(), None));

    // Jordan opts in on the Notifications page (the number as people type it); Lucía through staff.
    let typed = format!("({}) {}-{}", &jordan_number[2..5], &jordan_number[5..8], &jordan_number[8..]);
    let page = jordan_session
        .request(Method::POST, "/preferences")
        .form(&[("weekly", "on"), ("sms_number", typed.as_str()), ("sms_opt_in", "on")])
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await?;
    assert!(page.contains(&jordan_number) && page.contains("checked"), "the page shows the number and the opt-in");
    let jordans = consent(&app, &jordan.id).await?.ok_or_else(|| anyhow::anyhow!("no consent recorded"))?;
    assert_eq!(jordans.number, jordan_number, "stored in E.164");
    assert_eq!(jordans.opt_in_source.as_deref(), Some("client"));
    assert!(jordans.opted_in_at.is_some() && jordans.opted_out_at.is_none());
    let refused = jordan_session
        .request(Method::POST, "/preferences")
        .form(&[("weekly", "on"), ("sms_number", "12"), ("sms_opt_in", "on")])
        .send()
        .await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "a number that is none is refused");
    assert_eq!(consent(&app, &jordan.id).await?.map(|c| c.number), Some(jordan_number.clone()), "and changes nothing");

    let view = opt_in_by_staff(&staff, &lucia.id, &lucia_number).await?;
    assert_eq!(view["sms"]["number"], lucia_number.as_str());
    assert_eq!(view["sms"]["texts"], true);
    assert_eq!(view["sms"]["opt_in_source"], "staff");

    // Now a phase change texts Jordan and Lucía, each in their language, and Sam nothing.
    let jordan_step = move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    let lucia_step = move_phase(&staff, &lucia_session, &lucia.matter_id).await?;
    move_phase(&staff, &sam_session, &sam.matter_id).await?;
    assert!(text_rows(&app, &sam.id).await?.is_empty(), "a number without the opt-in gets no text row");
    deliver(&app, 0).await?;
    for (client, to, step, words) in [
        (&jordan, &jordan_number, &jordan_step, "Your case moved to a new step"),
        (&lucia, &lucia_number, &lucia_step, "Su caso pasó a una nueva etapa"),
    ] {
        let (texts, refused, _) = gateway.seen(to).await?;
        assert!(refused.is_empty(), "the gateway refused: {refused:?}");
        assert_eq!(texts.len(), 1, "{texts:?}");
        let text = &texts[0];
        let body = text["body"].as_str().unwrap_or_default();
        assert!(
            body.contains(words) && body.contains(step.as_str()),
            "the step's name in the client's language: {body}"
        );
        assert!(body.contains(&format!("{}/l/", app.origin())), "the one-tap link: {body}");
        assert!(sms::segments(body).1 <= 2, "at most two segments: {body}");
        assert!(!body.contains(&client.email), "no personal data: {body}");
        assert_eq!(text["from"], FROM);
        assert_eq!(text["status_callback"], format!("{}/webhooks/sms/status", app.origin()));
        let rows = text_rows(&app, &client.id).await?;
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].kind, rows[0].status), (NotificationKind::PhaseChange, NotificationStatus::Sent));
    }
    let (sams_texts, _, attempts) = gateway.seen(&sam_number).await?;
    assert!(sams_texts.is_empty() && attempts == 0, "nothing ever went to Sam's number");

    // A document request is texted too.
    let _: Value = staff
        .post_json(
            &format!("/api/v1/staff/matters/{}/requests", jordan.matter_id),
            &json!({ "title": "Bills from the emergency room", "category": "medical_bill" }),
            StatusCode::CREATED,
        )
        .await?;
    deliver(&app, 0).await?;
    let (texts, _, _) = gateway.seen(&jordan_number).await?;
    assert_eq!(texts.len(), 2, "{texts:?}");
    let body = texts[1]["body"].as_str().unwrap_or_default();
    assert!(body.contains("needs a document") && !body.contains("emergency"), "no case details: {body}");

    // Without the settings, texts are off: the page says so, and staff cannot record a number.
    let plain = TestApp::builder(backend).spawn().await?;
    let plain_demo = plain.seed_demo().await?;
    let plain_client = plain.signed_in_client(&plain_demo.email("jordan")).await?;
    let page = plain_client.request(Method::GET, "/preferences").send().await?.text().await?;
    assert!(page.contains("does not send text messages") && !page.contains("sms_number"), "no opt-in offered");
    let plain_staff = plain.signed_in_staff(&plain_demo, "casey").await?;
    let id = plain.client(&plain_demo.email("jordan")).await?.id;
    let refused = plain_staff
        .request(Method::PATCH, &format!("/api/v1/staff/clients/{id}"))
        .json(&json!({ "sms_number": number(), "sms_opt_in": true }))
        .send()
        .await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}

async fn quiet_hours_hold_a_text_until_nine_firm_local(backend: Backend) -> anyhow::Result<()> {
    let gateway = Gateway::new()?;
    let (app, demo) = texting_app(backend, &gateway).await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    // A time zone where it is about 03:00 now: outside 9:00–20:00.
    let utc_hour = i64::from(now().hour());
    let mut offset = 3 - utc_hour;
    if offset < -12 {
        offset += 24;
    }
    let zone = if offset >= 0 { format!("Etc/GMT-{offset}") } else { format!("Etc/GMT+{}", -offset) };
    let _: Value = admin
        .patch_json(
            "/api/v1/staff/settings",
            &json!({ "time_zone": zone, "sms_from_hour": 9, "sms_until_hour": 20 }),
            StatusCode::OK,
        )
        .await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let to = number();
    opt_in_by_staff(&staff, &jordan.id, &to).await?;

    move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    let summary = deliver(&app, 0).await?;
    assert_eq!(summary.failed, 0, "{summary:?}");
    let row = text_rows(&app, &jordan.id).await?.remove(0);
    assert_eq!(row.status, NotificationStatus::Pending, "held, not failed: {row:?}");
    assert!(row.last_error.is_none(), "{row:?}");
    // Due at 9:00 firm-local today (it is about 03:00 there).
    let local_now = now() + Duration::hours(offset);
    let nine_local = local_now.date().and_hms_opt(9, 0, 0).ok_or_else(|| anyhow::anyhow!("no 9:00"))?;
    let nine = nine_local - Duration::hours(offset);
    assert_eq!(row.next_attempt_at, nine, "held until 9:00 firm-local");
    assert!(gateway.seen(&to).await?.0.is_empty(), "nothing sent in quiet hours");

    // A minute before nine: still nothing. At nine: sent.
    let early = deliver_at(&app, nine - Duration::minutes(1)).await?;
    assert_eq!(early.sent, 0, "{early:?}");
    assert!(gateway.seen(&to).await?.0.is_empty(), "nothing before 9:00");
    let at_nine = deliver_at(&app, nine).await?;
    assert!(at_nine.sent >= 1, "{at_nine:?}");
    let (texts, refused, _) = gateway.seen(&to).await?;
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(texts.len(), 1);
    let row = text_rows(&app, &jordan.id).await?.remove(0);
    assert_eq!((row.status, row.attempts), (NotificationStatus::Sent, 1), "holding counted no attempt");
    Ok(())
}

async fn stop_then_nothing_start_then_texts_again(backend: Backend) -> anyhow::Result<()> {
    let gateway = Gateway::new()?;
    let (app, demo) = texting_app(backend, &gateway).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let to = number();
    opt_in_by_staff(&staff, &jordan.id, &to).await?;

    let (status, answer) = gateway.inbound(&app, &to, "STOP", "right").await?;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("<Response><Message>") && answer.contains("no more texts"), "{answer}");
    let stopped = consent(&app, &jordan.id).await?.ok_or_else(|| anyhow::anyhow!("consent kept"))?;
    assert!(stopped.opted_out_at.is_some(), "STOP records the opt-out");
    move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    deliver(&app, 0).await?;
    assert!(text_rows(&app, &jordan.id).await?.is_empty(), "after STOP, no text row");
    assert_eq!(gateway.seen(&to).await?.2, 0, "and nothing sent");

    let (_, answer) = gateway.inbound(&app, &to, "help", "right").await?;
    assert!(answer.contains("Reply STOP"), "HELP answers who texts and how to stop: {answer}");

    let (status, answer) = gateway.inbound(&app, &to, "Start", "right").await?;
    assert_eq!(status, 200);
    assert!(answer.contains("again"), "{answer}");
    let started = consent(&app, &jordan.id).await?.ok_or_else(|| anyhow::anyhow!("consent kept"))?;
    assert!(started.opted_in_at.is_some() && started.opted_out_at.is_none());
    assert_eq!(started.opt_in_source.as_deref(), Some("keyword"));
    move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    deliver(&app, 0).await?;
    let (texts, _, _) = gateway.seen(&to).await?;
    assert_eq!(texts.len(), 1, "after START, texts again: {texts:?}");

    // In Spanish: PARAR, answered in Spanish.
    let lucia = app.client(&demo.email("lucia")).await?;
    let lucia_number = number();
    opt_in_by_staff(&staff, &lucia.id, &lucia_number).await?;
    let (_, answer) = gateway.inbound(&app, &lucia_number, "Parar", "right").await?;
    assert!(answer.contains("ya no recibirá"), "{answer}");
    assert!(consent(&app, &lucia.id).await?.is_some_and(|c| c.opted_out_at.is_some()));
    let (_, answer) = gateway.inbound(&app, &lucia_number, "AYUDA", "right").await?;
    assert!(answer.contains("PARAR"), "{answer}");
    Ok(())
}

async fn unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing(backend: Backend) -> anyhow::Result<()> {
    let gateway = Gateway::new()?;
    let (app, demo) = texting_app(backend, &gateway).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let to = number();
    opt_in_by_staff(&staff, &jordan.id, &to).await?;
    let before = consent(&app, &jordan.id).await?.map(|c| (c.opted_in_at, c.opted_out_at));
    let messages_before = message_count(&app, &jordan.matter_id).await?;
    for sign in ["none", "wrong"] {
        for body in ["STOP", "Here is my answer"] {
            let (status, answer) = gateway.inbound(&app, &to, body, sign).await?;
            assert_eq!(status, 403, "{sign} signature, {body:?}: {answer}");
            assert!(!answer.contains("<Response>"), "no TwiML: {answer}");
        }
        let (status, _) = gateway.status(&app, "SM0000", "delivered", None, sign).await?;
        assert_eq!(status, 403, "{sign} status callback");
    }
    assert_eq!(consent(&app, &jordan.id).await?.map(|c| (c.opted_in_at, c.opted_out_at)), before, "consent unchanged");
    assert_eq!(message_count(&app, &jordan.matter_id).await?, messages_before, "no message written");
    // A body changed after signing is refused too.
    let url = format!("{}/webhooks/sms", app.origin());
    let params = vec![("From".to_owned(), to.clone()), ("Body".to_owned(), "START".to_owned())];
    let signature = sms::signature(AUTH_TOKEN, &url, &params);
    let tampered = app
        .raw_client()?
        .post(&url)
        .header("X-Twilio-Signature", signature)
        .form(&[("From", to.as_str()), ("Body", "STOP")])
        .send()
        .await?;
    assert_eq!(tampered.status(), StatusCode::FORBIDDEN);
    assert_eq!(consent(&app, &jordan.id).await?.map(|c| (c.opted_in_at, c.opted_out_at)), before);
    Ok(())
}

async fn a_busy_provider_is_retried_and_an_unsubscribed_recipient_fails_for_good(
    backend: Backend,
) -> anyhow::Result<()> {
    let gateway = Gateway::new()?;
    let (app, demo) = texting_app(backend, &gateway).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;

    // 429 once: retried with the queue's backoff, then sent.
    let jordan = app.client(&demo.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let busy = number();
    opt_in_by_staff(&staff, &jordan.id, &busy).await?;
    gateway.answer(&busy, &[429]).await?;
    move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    deliver(&app, 0).await?;
    let row = text_rows(&app, &jordan.id).await?.remove(0);
    assert_eq!((row.status, row.attempts), (NotificationStatus::Pending, 1), "{row:?}");
    assert!(row.last_error.as_deref().unwrap_or_default().contains("Too Many Requests"), "{row:?}");
    assert!(row.next_attempt_at > now(), "retried later, with backoff");
    let later = deliver(&app, 10).await?;
    assert!(later.sent >= 1, "{later:?}");
    let row = text_rows(&app, &jordan.id).await?.remove(0);
    assert_eq!((row.status, row.attempts), (NotificationStatus::Sent, 2));
    let (texts, refused, attempts) = gateway.seen(&busy).await?;
    assert_eq!((texts.len(), attempts), (1, 2), "{refused:?}");

    // 21610: the recipient unsubscribed at the provider; the row fails for good, the opt-out is recorded.
    let riley = app.client(&demo.email("riley")).await?;
    let riley_session = app.signed_in_client(&riley.email).await?;
    let gone = number();
    opt_in_by_staff(&staff, &riley.id, &gone).await?;
    gateway.answer(&gone, &[21610]).await?;
    move_phase(&staff, &riley_session, &riley.matter_id).await?;
    deliver(&app, 0).await?;
    let row = text_rows(&app, &riley.id).await?.remove(0);
    assert_eq!(row.status, NotificationStatus::Failed, "{row:?}");
    assert_eq!(row.last_error.as_deref(), Some("21610: Attempt to send to unsubscribed recipient"));
    assert!(consent(&app, &riley.id).await?.is_some_and(|c| c.opted_out_at.is_some()), "21610 records the opt-out");
    let after = deliver(&app, 600).await?;
    assert_eq!(gateway.seen(&gone).await?.2, 1, "never retried: {after:?}");
    move_phase(&staff, &riley_session, &riley.matter_id).await?;
    assert_eq!(text_rows(&app, &riley.id).await?.len(), 1, "no new text row after the opt-out");
    Ok(())
}

async fn inbound_texts_land_in_the_right_conversation_and_replies_go_out_by_text(
    backend: Backend,
) -> anyhow::Result<()> {
    let gateway = Gateway::new()?;
    let (app, demo) = texting_app(backend, &gateway).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let to = number();
    opt_in_by_staff(&staff, &jordan.id, &to).await?;

    let (status, answer) = gateway.inbound(&app, &to, "I saw the doctor today", "right").await?;
    assert_eq!(status, 200);
    assert!(!answer.contains("<Message>"), "no automatic answer to a message: {answer}");
    let mine: Vec<Value> = jordan_session.get(&format!("/api/v1/matters/{}/messages", jordan.matter_id)).await?;
    let last = mine.last().cloned().unwrap_or_default();
    assert_eq!(last["body"], "I saw the doctor today", "{mine:?}");
    let matter = jordan.matter_id.clone();
    let (kind, author, notices): (MessageKind, Option<String>, i64) = app
        .state
        .db
        .run(move |c| {
            let (kind, author) = messages::table
                .filter(messages::matter_id.eq(&matter))
                .order(messages::created_at.desc())
                .select((messages::kind, messages::author_id))
                .first::<(MessageKind, Option<String>)>(c)?;
            let notices = notifications::table
                .filter(notifications::kind.eq(NotificationKind::ClientMessages.as_str()))
                .count()
                .get_result(c)?;
            Ok((kind, author, notices))
        })
        .await?;
    assert_eq!((kind, author.as_deref()), (MessageKind::Client, Some(jordan.id.as_str())));
    assert!(notices >= 1, "staff hear of it as of a message written on the portal");

    // Staff reply: Jordan, who chose texts, gets the reply's notice by text (after the usual delay).
    let _: Value = staff
        .post_json(
            &format!("/api/v1/staff/matters/{}/messages", jordan.matter_id),
            &json!({ "body": "Thank you, noted.", "internal": false }),
            StatusCode::CREATED,
        )
        .await?;
    deliver(&app, 6).await?;
    let (texts, _, _) = gateway.seen(&to).await?;
    let reply = texts.iter().filter_map(|t| t["body"].as_str()).find(|b| b.contains("new message"));
    let reply = reply.ok_or_else(|| anyhow::anyhow!("no reply text in {texts:?}"))?;
    assert!(!reply.contains("noted"), "the reply's words stay in the portal: {reply}");
    assert!(reply.contains(&format!("{}/l/", app.origin())), "{reply}");

    // A second open matter: the text cannot be placed, one pointer answers it.
    let _: Value = staff
        .post_json(
            "/api/v1/staff/matters",
            &json!({ "title": "Second claim", "client_ids": [jordan.id] }),
            StatusCode::CREATED,
        )
        .await?;
    let before: Vec<Value> = jordan_session.get(&format!("/api/v1/matters/{}/messages", jordan.matter_id)).await?;
    let (_, answer) = gateway.inbound(&app, &to, "Which one?", "right").await?;
    assert!(answer.contains("<Message>") && answer.contains(&app.origin()), "a pointer to the portal: {answer}");
    let after: Vec<Value> = jordan_session.get(&format!("/api/v1/matters/{}/messages", jordan.matter_id)).await?;
    assert_eq!(before.len(), after.len(), "nothing written");

    // An unknown number: the same pointer, nothing written anywhere.
    let (_, answer) = gateway.inbound(&app, &number(), "Hello?", "right").await?;
    assert!(answer.contains("<Message>") && answer.contains(&app.origin()), "{answer}");
    let kinds = text_rows(&app, &jordan.id).await?.into_iter().map(|r| r.kind).collect::<Vec<_>>();
    assert_eq!(kinds, [NotificationKind::MessageReply]);
    Ok(())
}

async fn status_callbacks_update_the_row_and_the_staff_log(backend: Backend) -> anyhow::Result<()> {
    let gateway = Gateway::new()?;
    let (app, demo) = texting_app(backend, &gateway).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let to = number();
    opt_in_by_staff(&staff, &jordan.id, &to).await?;

    move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    deliver(&app, 0).await?;
    let (texts, _, _) = gateway.seen(&to).await?;
    let sid = texts[0]["sid"].as_str().unwrap_or_default().to_owned();
    let row = text_rows(&app, &jordan.id).await?.remove(0);
    let (id, kept) = (row.id.clone(), sid.clone());
    let stored: String = app
        .state
        .db
        .run(move |c| Ok(sms_messages::table.find(&id).select(sms_messages::message_sid).first(c)?))
        .await?;
    assert_eq!(stored, kept, "the provider's MessageSid is kept on the row");

    let (status, _) = gateway.status(&app, &sid, "delivered", None, "right").await?;
    assert_eq!(status, 204);
    let log: Vec<Value> = staff.get(&format!("/api/v1/staff/clients/{}/notifications", jordan.id)).await?;
    let entry = log.iter().find(|e| e["id"] == row.id.as_str()).cloned().unwrap_or_default();
    assert_eq!(
        (entry["channel"].clone(), entry["delivery"].clone(), entry["status"].clone()),
        (json!("sms"), json!("delivered"), json!("sent"))
    );

    // Undelivered, with the carrier's code: the row fails and says why.
    move_phase(&staff, &jordan_session, &jordan.matter_id).await?;
    deliver(&app, 0).await?;
    let (texts, _, _) = gateway.seen(&to).await?;
    let sid = texts[1]["sid"].as_str().unwrap_or_default().to_owned();
    let (status, _) = gateway.status(&app, &sid, "undelivered", Some("30003"), "right").await?;
    assert_eq!(status, 204);
    let second = text_rows(&app, &jordan.id).await?.remove(1);
    assert_eq!(second.status, NotificationStatus::Failed);
    assert!(second.last_error.as_deref().unwrap_or_default().contains("30003"), "{second:?}");
    let log: Vec<Value> = staff.get(&format!("/api/v1/staff/clients/{}/notifications", jordan.id)).await?;
    let entry = log.iter().find(|e| e["id"] == second.id.as_str()).cloned().unwrap_or_default();
    assert_eq!(entry["delivery"], "undelivered");
    // The staff matter page shows it.
    let page = staff.request(Method::GET, &format!("/staff/matters/{}", jordan.matter_id)).send().await?.text().await?;
    assert!(page.contains("text: undelivered") && page.contains("text: delivered"), "the staff log shows the statuses");
    Ok(())
}

/// The client's Notifications page (number and explicit opt-in) and the staff
/// new matter form (the client's number and consent on their word) in
/// Chromium at phone and desktop sizes: the opt-in is saved from the page,
/// both pass axe-core, and screenshots are kept.
async fn the_text_message_forms_work_in_chromium_and_pass_axe(backend: Backend) -> anyhow::Result<()> {
    let gateway = Gateway::new()?;
    let (app, demo) = texting_app(backend, &gateway).await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    for (screen, size) in [(PHONE, "390x844"), (DESKTOP, "1280x800")] {
        let browser = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&browser, &jordan.email).await?;
            browser.goto(&app.url("/preferences")).await?;
            let to = number();
            browser.find(Locator::Css("#sms_number")).await?.clear().await?;
            browser.find(Locator::Css("#sms_number")).await?.send_keys(&to).await?;
            let tick = browser.find(Locator::Css("#sms_opt_in")).await?;
            if tick.prop("checked").await?.as_deref() != Some("true") {
                tick.click().await?;
            }
            browser.find(Locator::Css("form[action='/preferences'] button.primary")).await?.click().await?;
            browser.wait().for_element(Locator::Css("p.notice[role=status]")).await?;
            let saved = consent(&app, &jordan.id).await?;
            assert!(saved.as_ref().is_some_and(|c| c.number == to && c.opted_in_at.is_some()), "{saved:?}");
            let findings = browser::axe_violations(&browser).await?;
            assert!(findings.is_empty(), "preferences with texts ({size}): {findings:?}");
            browser.execute("document.querySelector('.sms-consent').scrollIntoView();", vec![]).await?;
            screenshot(&browser, &format!("sms-preferences-{size}-{}", backend.name())).await?;

            app.sign_in_browser(&browser, &demo.email("casey")).await?;
            browser.goto(&app.url("/staff/matters/new")).await?;
            browser.wait().for_element(Locator::Css("#client_sms_number")).await?;
            let findings = browser::axe_violations(&browser).await?;
            assert!(findings.is_empty(), "new matter with texts ({size}): {findings:?}");
            browser.execute("document.querySelector('label[for=client_sms_number]').scrollIntoView();", vec![]).await?;
            screenshot(&browser, &format!("sms-staff-client-{size}-{}", backend.name())).await?;
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    Ok(())
}
