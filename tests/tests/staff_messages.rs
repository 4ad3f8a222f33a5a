//! Two-way messages, the firm's side: a client's message waits in the staff
//! inbox (with its age) until a reply or "handled" answers it; the filters
//! list what they say; a reply from the inbox form or the API queues one
//! notice per client (no message text in it, due five minutes later); an
//! internal note never reaches a client and tells nobody; another firm gets
//! 404 exactly like a missing matter and a client 403; empty and too-long
//! replies store nothing; and in Chromium the inbox and a matter's
//! conversation are accessible at phone and desktop sizes.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use harness::browser;
use harness::files::pdf;
use harness::pages::main_text;
use harness::session::Session;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::models::{Matter, Message, Notification, User};
use shared::db::schema::{audit_events, matter_clients, matters, messages, notifications, users};
use shared::domain::{MessageKind, NotificationKind, now};
use shared::staff::Staff;

/// `client_id` writes `body` on `matter_id` at `at` with the documents `files`
/// attached, through the shared domain (as the client's page would); the message's id.
async fn client_writes(
    app: &TestApp,
    client_id: &str,
    matter_id: &str,
    body: &str,
    at: NaiveDateTime,
    files: Vec<String>,
) -> anyhow::Result<String> {
    let (client_id, matter_id, body) = (client_id.to_owned(), matter_id.to_owned(), body.to_owned());
    Ok(app
        .state
        .db
        .run(move |c| {
            let client: User = users::table.find(&client_id).select(User::as_select()).first(c)?;
            let matter: Matter = matters::table.find(&matter_id).select(Matter::as_select()).first(c)?;
            Ok(shared::messages::post_by_client(c, &client, &matter, &body, &files, None, at)?.id)
        })
        .await?)
}

/// The demo staff member `local` as the shared domain's acting [`Staff`].
async fn staff(app: &TestApp, demo: &harness::fixtures::Demo, local: &str) -> anyhow::Result<Staff> {
    let email = demo.email(local);
    app.state
        .db
        .run(move |c| {
            let user: User = users::table.filter(users::email.eq(&email)).select(User::as_select()).first(c)?;
            Staff::from_user(&user, None)
        })
        .await
        .map_err(Into::into)
}

/// The page's HTML as `session` sees it (status checked).
async fn page(session: &Session, path: &str) -> anyhow::Result<String> {
    let reply = session.request(Method::GET, path).send().await?;
    anyhow::ensure!(reply.status() == StatusCode::OK, "GET {path} answered {}", reply.status());
    Ok(reply.text().await?)
}

/// A form posted by `session`: its status, where it redirects, and the page it answered.
async fn post_form(session: &Session, path: &str, body: &str) -> anyhow::Result<(StatusCode, String, String)> {
    let reply = session
        .request(Method::POST, path)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await?;
    let to = reply.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Ok((reply.status(), to, reply.text().await?))
}

/// `text` encoded for a form body.
fn form_value(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The matter ids of the inbox page's conversations, top to bottom.
fn inbox_ids(html: &str) -> Vec<String> {
    html.split("<h2 id=\"conversation-").skip(1).filter_map(|rest| rest.split('"').next().map(str::to_owned)).collect()
}

/// The matter ids the conversations API lists for `show`, in order.
async fn api_ids(session: &Session, show: &str) -> anyhow::Result<Vec<String>> {
    let list: Vec<Value> = session.get(&format!("/api/v1/staff/conversations?show={show}")).await?;
    Ok(list.iter().filter_map(|c| c["matter_id"].as_str().map(str::to_owned)).collect())
}

/// The `message_reply` notices queued, as (recipient, payload, due) of each row.
async fn reply_notices(app: &TestApp) -> anyhow::Result<Vec<(String, String, NaiveDateTime)>> {
    Ok(app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::kind.eq(NotificationKind::MessageReply.as_str()))
                .select(Notification::as_select())
                .load(c)?
                .into_iter()
                .map(|n| (n.recipient_id, n.payload.unwrap_or_default(), n.next_attempt_at))
                .collect())
        })
        .await?)
}

/// The client ids of `matter_id`.
async fn clients_of(app: &TestApp, matter_id: &str) -> anyhow::Result<BTreeSet<String>> {
    let matter_id = matter_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(matter_clients::table
                .filter(matter_clients::matter_id.eq(&matter_id))
                .select(matter_clients::client_id)
                .load::<String>(c)?
                .into_iter()
                .collect())
        })
        .await?)
}

/// Every message of `matter_id`, oldest first.
async fn stored(app: &TestApp, matter_id: &str) -> anyhow::Result<Vec<Message>> {
    let matter_id = matter_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(messages::table
                .filter(messages::matter_id.eq(&matter_id))
                .order((messages::created_at, messages::id))
                .select(Message::as_select())
                .load(c)?)
        })
        .await?)
}

/// How many audit events `action` there are.
async fn audited(app: &TestApp, action: &'static str) -> anyhow::Result<i64> {
    Ok(app
        .state
        .db
        .run(move |c| Ok(audit_events::table.filter(audit_events::action.eq(action)).count().get_result(c)?))
        .await?)
}

/// The reply notices of reply `message` are exactly one per client of its matter,
/// name no text of the message, and are due five minutes after it was written.
async fn one_notice_per_client(app: &TestApp, message: &Message, text: &str) -> anyhow::Result<()> {
    let notices: Vec<(String, String, NaiveDateTime)> =
        reply_notices(app).await?.into_iter().filter(|(_, payload, _)| payload.contains(&message.id)).collect();
    let recipients: Vec<String> = notices.iter().map(|n| n.0.clone()).collect();
    let expected = clients_of(app, &message.matter_id).await?;
    assert_eq!(recipients.len(), expected.len(), "one notice per client of the matter: {recipients:?}");
    assert_eq!(recipients.into_iter().collect::<BTreeSet<_>>(), expected, "each client of the matter");
    for (_, payload, due) in &notices {
        assert!(!payload.contains(text), "the notice's payload holds no message text: {payload}");
        let delay = (*due - message.created_at).num_milliseconds();
        assert!((299_999..=300_001).contains(&delay), "due 5 minutes after the reply, not {delay} ms");
    }
    Ok(())
}

/// A client's message appears in the inbox as unanswered with its age; the
/// filters list exactly what they say (page and API); a reply from the inbox
/// form and one from the API each answer a conversation and queue one notice
/// per client (no text, due in 5 minutes); then nothing is waiting.
async fn a_client_message_waits_until_a_reply_answers_it(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let casey = app.signed_in_staff(&demo, "casey").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let sam = app.client(&demo.email("sam")).await?;
    let lucia = app.client(&demo.email("lucia")).await?;
    // Sam's matter is the admin's; Jordan's and Lucía's stay Casey's.
    let _: Value = admin
        .patch_json(
            &format!("/api/v1/staff/matters/{}", sam.matter_id),
            &json!({ "case_manager_id": admin.user_id }),
            StatusCode::OK,
        )
        .await?;
    let t = now();
    client_writes(
        &app,
        &jordan.id,
        &jordan.matter_id,
        "Hi, the insurer called me.\nWhat do I say?",
        t - Duration::minutes(185),
        vec![],
    )
    .await?;
    let long = format!("The letter says {}", "very ".repeat(80));
    client_writes(&app, &sam.id, &sam.matter_id, &long, t - Duration::minutes(30), vec![]).await?;
    client_writes(&app, &lucia.id, &lucia.matter_id, "¿Recibieron mis fotos?", t - Duration::days(2), vec![]).await?;
    let casey_staff = staff(&app, &demo, "casey").await?;
    let lucia_matter = lucia.matter_id.clone();
    app.state
        .db
        .run(move |c| shared::messages::reply(c, &casey_staff, &lucia_matter, "Sí, las tenemos.", false, now()))
        .await?;

    // The filters, on the page and through the API: exact matters, in order.
    let waiting = vec![jordan.matter_id.clone(), sam.matter_id.clone()];
    let all = vec![jordan.matter_id.clone(), sam.matter_id.clone(), lucia.matter_id.clone()];
    let html = page(&admin, "/staff/messages").await?;
    assert_eq!(inbox_ids(&html), waiting, "unanswered, the longest waiting first");
    assert_eq!(api_ids(&admin, "unanswered").await?, waiting);
    assert_eq!(inbox_ids(&page(&admin, "/staff/messages?show=mine").await?), vec![sam.matter_id.clone()]);
    assert_eq!(api_ids(&admin, "mine").await?, vec![sam.matter_id.clone()]);
    assert_eq!(inbox_ids(&page(&admin, "/staff/messages?show=all").await?), all, "waiting first, then the rest");
    assert_eq!(api_ids(&admin, "all").await?, all);
    let casey_mine = vec![jordan.matter_id.clone(), lucia.matter_id.clone()];
    assert_eq!(inbox_ids(&page(&casey, "/staff/messages?show=mine").await?), casey_mine);
    assert_eq!(api_ids(&casey, "mine").await?, casey_mine);
    assert_eq!(inbox_ids(&page(&admin, "/staff/messages?show=%3Cscript%3E").await?), waiting, "unknown: the default");

    // What the inbox says about each conversation.
    let text = main_text(&html);
    assert!(text.contains("1 unanswered message · waiting 3 hours"), "the age of Jordan's message: {text}");
    assert!(text.contains("waiting 30 minutes"), "{text}");
    assert!(html.contains("Hi, the insurer called me.\nWhat do I say?"), "the text with its line break");
    assert!(html.contains("very very…</p>"), "a long message is cut short with an ellipsis");
    assert!(!html.contains(&long), "and not shown whole");
    assert!(
        html.contains(&format!("href=\"/staff/matters/{}#messages\"", jordan.matter_id)),
        "links to the conversation"
    );
    assert!(html.contains("aria-current=\"page\""), "the active filter is marked");
    assert!(html.contains(">Messages (2)</a>"), "the navigation counts the waiting conversations");
    assert_eq!(html.matches("/messages/handled\"").count(), 2, "a \"handled\" form per waiting conversation");
    let all_html = page(&admin, "/staff/messages?show=all").await?;
    assert_eq!(all_html.matches("/messages/handled\"").count(), 2, "none for an answered conversation");
    assert!(main_text(&all_html).contains("Nothing waiting."), "{}", main_text(&all_html));

    // A reply from the inbox's form.
    let reply_text = "We will call you today.";
    let (status, to, _) = post_form(
        &admin,
        &format!("/staff/matters/{}/messages", jordan.matter_id),
        &format!("body={}&back=inbox&show=unanswered", form_value(reply_text)),
    )
    .await?;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/staff/messages?done=reply-sent"));
    let html = page(&admin, &to).await?;
    assert!(main_text(&html).contains("Reply sent."), "the confirmation");
    assert_eq!(inbox_ids(&html), vec![sam.matter_id.clone()], "Jordan's conversation is answered");
    let reply = stored(&app, &jordan.matter_id).await?.into_iter().find(|m| m.kind == MessageKind::Reply);
    let reply = reply.ok_or_else(|| anyhow::anyhow!("the reply was not stored"))?;
    assert_eq!(reply.body, reply_text);
    one_notice_per_client(&app, &reply, reply_text).await?;
    let answered = stored(&app, &jordan.matter_id).await?;
    assert!(answered.iter().filter(|m| m.kind == MessageKind::Client).all(|m| m.answered_at == Some(reply.created_at)));

    // A reply through the API.
    let api_text = "Please send us the letter.";
    let created: Value = admin
        .post_json(
            &format!("/api/v1/staff/matters/{}/messages", sam.matter_id),
            &json!({ "body": api_text, "internal": false }),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!((created["kind"].as_str(), created["body"].as_str()), (Some("reply"), Some(api_text)), "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let reply = stored(&app, &sam.matter_id).await?.into_iter().find(|m| m.id == id);
    one_notice_per_client(&app, &reply.ok_or_else(|| anyhow::anyhow!("not stored"))?, api_text).await?;
    assert_eq!(reply_notices(&app).await?.len(), 3, "Lucía's, Jordan's and Sam's replies, one client each");

    // Nothing waits any more.
    assert!(api_ids(&admin, "unanswered").await?.is_empty());
    let html = page(&admin, "/staff/messages").await?;
    assert!(inbox_ids(&html).is_empty());
    assert!(main_text(&html).contains("Nothing is waiting for a reply."), "the empty state");
    assert!(html.contains(">Messages</a>"), "no count when nothing waits");
    assert_eq!(audited(&app, "message.reply").await?, 3);

    // The thread through the API marks the client's messages read.
    let thread: Vec<Value> = admin.get(&format!("/api/v1/staff/matters/{}/messages", sam.matter_id)).await?;
    let kinds: Vec<&str> = thread.iter().filter_map(|m| m["kind"].as_str()).collect();
    assert_eq!(kinds, ["client", "reply"]);
    let unread = stored(&app, &sam.matter_id)
        .await?
        .iter()
        .filter(|m| m.read_at.is_none() && m.kind == MessageKind::Client)
        .count();
    assert_eq!(unread, 0, "reading the thread marks the client's messages read");

    // In Spanish once the staff member switches.
    let (status, _, _) = post_form(&admin, "/language", "lang=es&next=%2Fstaff%2Fmessages").await?;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let spanish = main_text(&page(&admin, "/staff/messages").await?);
    assert!(spanish.contains("Nada espera respuesta.") && spanish.contains("Esperan respuesta"), "{spanish}");
    Ok(())
}

/// An internal note, from the matter page's form or the API: staff see it
/// marked as such; it never appears in what the client reads, answers
/// nothing and queues no notice.
async fn an_internal_note_stays_among_staff(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    client_writes(&app, &jordan.id, &jordan.matter_id, "Is there news?", now() - Duration::hours(1), vec![]).await?;
    let matter_page = format!("/staff/matters/{}", jordan.matter_id);

    let (status, to, _) = post_form(
        &admin,
        &format!("{matter_page}/messages"),
        &format!("body={}&internal=on", form_value("Adjuster on holiday until Monday.")),
    )
    .await?;
    assert_eq!((status, to.clone()), (StatusCode::SEE_OTHER, format!("{matter_page}?done=note-saved#messages")));
    let note: Value = admin
        .post_json(
            &format!("/api/v1/staff/matters/{}/messages", jordan.matter_id),
            &json!({ "body": "Second note: check the police report.", "internal": true }),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(note["kind"], "note", "{note}");

    let html = page(&admin, &to).await?;
    let text = main_text(&html);
    assert!(text.contains("Internal note saved."), "the confirmation: {text}");
    assert_eq!(text.matches("Internal note — clients never see this").count(), 2, "each note is marked: {text}");
    assert!(text.contains("Adjuster on holiday until Monday."));
    assert!(text.contains("Waiting for a reply"), "a note answers nothing");

    // What the client reads: no note, in the shared domain and in the client API.
    let client_id = jordan.id.clone();
    let matter_id = jordan.matter_id.clone();
    let seen = app
        .state
        .db
        .run(move |c| {
            let client: User = users::table.find(&client_id).select(User::as_select()).first(c)?;
            shared::messages::for_client(c, &client, &matter_id)
        })
        .await?;
    assert_eq!(seen.len(), 1, "the client sees only their own message");
    assert!(seen.iter().all(|m| m.kind != MessageKind::Note && !m.body.contains("Adjuster")));
    let client = app.signed_in_client(&jordan.email).await?;
    let detail =
        client.request(Method::GET, &format!("/api/v1/matters/{}", jordan.matter_id)).send().await?.text().await?;
    assert!(!detail.contains("Adjuster") && !detail.contains("police report"), "no note in the client API");

    assert!(reply_notices(&app).await?.is_empty(), "a note queues no notice");
    assert_eq!(audited(&app, "message.note").await?, 2);
    let api = admin.get::<Vec<Value>>("/api/v1/staff/conversations").await?;
    assert_eq!(api.len(), 1, "still waiting for a reply");
    assert_eq!(api[0]["unanswered"], 1);
    Ok(())
}

/// "Handled, no reply needed" answers the waiting messages without a reply
/// (no notice), is audited and shows on the conversation; with nothing
/// waiting it is 409, as JSON from the API and as a readable page.
async fn handled_answers_without_a_reply(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    client_writes(&app, &jordan.id, &jordan.matter_id, "Thanks!", now() - Duration::minutes(10), vec![]).await?;
    let handled = format!("/staff/matters/{}/messages/handled", jordan.matter_id);

    let (status, to, _) = post_form(&admin, &handled, "back=inbox&show=all").await?;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/staff/messages?show=all&done=marked-handled"));
    let text = main_text(&page(&admin, &to).await?);
    assert!(text.contains("Marked as handled."), "{text}");
    assert!(api_ids(&admin, "unanswered").await?.is_empty(), "nothing waits");
    assert_eq!(audited(&app, "message.handled").await?, 1);
    assert!(reply_notices(&app).await?.is_empty(), "nothing is sent to the client");
    let kinds: Vec<MessageKind> = stored(&app, &jordan.matter_id).await?.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [MessageKind::Client, MessageKind::Handled]);
    let text = main_text(&page(&admin, &format!("/staff/matters/{}", jordan.matter_id)).await?);
    assert!(text.contains("Marked handled by"), "the mark on the conversation: {text}");
    assert!(!text.contains("Waiting for a reply"));

    // Nothing waiting: 409 from the API (JSON) and the form (a readable page with the way back).
    let api = format!("/api/v1/staff/matters/{}/messages/handled", jordan.matter_id);
    let refused = admin.request(Method::POST, &api).send().await?;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await?;
    assert_eq!(body["status"], 409, "{body}");
    let (status, _, html) = post_form(&admin, &handled, "").await?;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains(&format!("href=\"/staff/matters/{}#messages\"", jordan.matter_id)), "the way back");
    assert_eq!(audited(&app, "message.handled").await?, 1, "nothing more was recorded");

    // A new message, handled through the API.
    client_writes(&app, &jordan.id, &jordan.matter_id, "One more thing.", now(), vec![]).await?;
    let mark: Value = admin.post_json(&api, &json!({}), StatusCode::OK).await?;
    assert_eq!(mark["kind"], "handled", "{mark}");
    assert_eq!(audited(&app, "message.handled").await?, 2);
    Ok(())
}

/// Another firm's admin gets 404 on every new staff route for a matter of
/// firm A, with the same page or body as for a matter that does not exist,
/// and changes nothing; a client gets 403; neither sees firm A's conversations.
async fn other_firms_and_clients_are_refused(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let other = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    client_writes(&app, &jordan.id, &jordan.matter_id, "Hello?", now() - Duration::hours(2), vec![]).await?;
    let outsider = app.signed_in_staff(&other, "admin").await?;
    let client = app.signed_in_client(&jordan.email).await?;
    let before = app.firm_rows(&demo.firm_id).await?;

    let routes: [(Method, &str, Option<&str>, Option<Value>); 6] = [
        (Method::GET, "/api/v1/staff/matters/{id}/messages", None, None),
        (Method::POST, "/api/v1/staff/matters/{id}/messages", None, Some(json!({ "body": "Hi from B" }))),
        (Method::POST, "/api/v1/staff/matters/{id}/messages/handled", None, None),
        (Method::POST, "/staff/matters/{id}/messages", Some("body=Hi+from+B"), None),
        (Method::POST, "/staff/matters/{id}/messages/handled", Some("back=inbox"), None),
        (Method::GET, "/staff/matters/{id}", None, None),
    ];
    let missing = uuid::Uuid::new_v4().to_string();
    for (method, template, form, json_body) in &routes {
        let send = |session: &Session, id: &str| {
            let mut request = session
                .request(method.clone(), &template.replace("{id}", id))
                .header("X-Request-Id", "same-request-id");
            if let Some(form) = form {
                request = request.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(form.to_string());
            }
            if let Some(body) = json_body {
                request = request.json(body);
            }
            request.send()
        };
        let theirs = send(&outsider, &jordan.matter_id).await?;
        assert_eq!(theirs.status(), StatusCode::NOT_FOUND, "{method} {template} as another firm's admin");
        let theirs = theirs.text().await?.replace(&jordan.matter_id, "{id}");
        let none = send(&outsider, &missing).await?;
        assert_eq!(none.status(), StatusCode::NOT_FOUND, "{method} {template}, a missing matter");
        let none = none.text().await?.replace(&missing, "{id}");
        assert_eq!(theirs, none, "{method} {template}: the same answer as for a matter that does not exist");
        let refused = send(&client, &jordan.matter_id).await?.status();
        assert_eq!(refused, StatusCode::FORBIDDEN, "{method} {template} as the matter's own client");
    }
    for path in ["/staff/messages", "/api/v1/staff/conversations"] {
        assert_eq!(client.get_status(path).await?, StatusCode::FORBIDDEN, "{path} as a client");
    }
    assert!(api_ids(&outsider, "all").await?.is_empty(), "firm B sees none of firm A's conversations");
    assert!(inbox_ids(&page(&outsider, "/staff/messages?show=all").await?).is_empty());
    let changed = harness::rows::changes(&before, &app.firm_rows(&demo.firm_id).await?);
    assert!(changed.is_empty(), "rows of firm A changed: {changed:?}");
    Ok(())
}

/// Empty, blank, 5,001-character and control-character replies are refused
/// with 422 (JSON from the API, a readable page with the way back from the
/// form) and nothing is stored; 5,000 characters are accepted.
async fn empty_and_too_long_replies_are_refused(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let api = format!("/api/v1/staff/matters/{}/messages", jordan.matter_id);
    let form = format!("/staff/matters/{}/messages", jordan.matter_id);
    let too_long = "a".repeat(5001);
    for (body, internal) in
        [("", false), ("   \n ", false), (too_long.as_str(), false), (too_long.as_str(), true), ("a\u{0}b", false)]
    {
        let refused =
            admin.request(Method::POST, &api).json(&json!({ "body": body, "internal": internal })).send().await?;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{} characters", body.chars().count());
        let answer: Value = refused.json().await?;
        assert!(answer["error"].as_str().is_some_and(|e| e.contains("body")), "names the field: {answer}");
        let internal = if internal { "&internal=on" } else { "" };
        let (status, _, html) = post_form(&admin, &form, &format!("body={}{internal}", form_value(body))).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the form, {} characters", body.chars().count());
        assert!(main_text(&html).contains("Please check “body”"), "{}", main_text(&html));
        assert!(html.contains(&format!("href=\"/staff/matters/{}#messages\"", jordan.matter_id)), "the way back");
    }
    assert!(stored(&app, &jordan.matter_id).await?.is_empty(), "nothing was stored");
    assert!(reply_notices(&app).await?.is_empty());
    // The longest accepted, from the form (multi-byte characters, larger than a default form body limit).
    let longest = "ñ".repeat(5000);
    let (status, _, _) = post_form(&admin, &form, &format!("body={}", form_value(&longest))).await?;
    assert_eq!(status, StatusCode::SEE_OTHER, "5,000 characters are accepted");
    assert_eq!(stored(&app, &jordan.matter_id).await?.len(), 1);
    Ok(())
}

/// The journey "staff: answer the clients" in Chromium at phone and desktop
/// sizes: the inbox lists the waiting conversations with their age; a reply
/// typed in the inbox is sent and confirmed; the matter's conversation shows
/// the client's messages, a reply read by the client, an internal note, a
/// "handled" mark and an attachment. Both pages are axe-core clean with
/// full-size controls under their labels; screenshots of both.
async fn the_inbox_and_a_conversation_in_chromium(backend: Backend) -> anyhow::Result<()> {
    use fantoccini::Locator::Css;
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let sam = app.client(&demo.email("sam")).await?;
    let casey = staff(&app, &demo, "casey").await?;
    let t = now();
    // Jordan's conversation: every kind of line.
    client_writes(
        &app,
        &jordan.id,
        &jordan.matter_id,
        "Hi, I got a letter from the insurer today.\nShould I sign it?",
        t - Duration::days(3),
        vec![],
    )
    .await?;
    let (staff_member, matter) = (casey.clone(), jordan.matter_id.clone());
    app.state
        .db
        .run(move |c| {
            shared::messages::reply(
                c,
                &staff_member,
                &matter,
                "Please don't sign anything yet. Could you send us a photo of it?",
                false,
                t - Duration::days(3) + Duration::hours(1),
            )?;
            shared::messages::mark_read_by_client(c, &matter, t - Duration::days(2))?;
            Ok(())
        })
        .await?;
    client_writes(
        &app,
        &jordan.id,
        &jordan.matter_id,
        "Thank you!",
        t - Duration::days(2) + Duration::hours(1),
        vec![],
    )
    .await?;
    let (staff_member, matter) = (casey.clone(), jordan.matter_id.clone());
    app.state
        .db
        .run(move |c| {
            shared::messages::mark_handled(c, &staff_member, &matter, t - Duration::days(2) + Duration::hours(2))?;
            shared::messages::reply(
                c,
                &staff_member,
                &matter,
                "Adjuster is away until Monday; call again then.",
                true,
                t - Duration::days(1),
            )?;
            Ok(())
        })
        .await?;
    let uploaded = {
        let session = app.signed_in_client(&jordan.email).await?;
        let form = reqwest::multipart::Form::new().text("category", "insurance_letter").part(
            "file",
            reqwest::multipart::Part::bytes(pdf(3000)).file_name("insurer-letter.pdf").mime_str("application/pdf")?,
        );
        let reply = session
            .request(Method::POST, &format!("/api/v1/matters/{}/documents", jordan.matter_id))
            .multipart(form)
            .send()
            .await?;
        anyhow::ensure!(reply.status() == StatusCode::CREATED, "upload answered {}", reply.status());
        let report: Value = reply.json().await?;
        report["stored"][0]["id"].as_str().unwrap_or_default().to_owned()
    };
    let letter =
        "Here is the letter.\nThey want an answer by Friday.\nReference: CLAIM-2026-00012345678901234567890123456789";
    client_writes(&app, &jordan.id, &jordan.matter_id, letter, t - Duration::minutes(185), vec![uploaded]).await?;

    let mut faults = Vec::new();
    for (screen, size) in [(browser::PHONE, "phone"), (browser::DESKTOP, "desktop")] {
        // A fresh message from Sam to answer at each size.
        client_writes(
            &app,
            &sam.id,
            &sam.matter_id,
            "Did you get my medical bills? I uploaded them on Monday.",
            now() - Duration::minutes(40),
            vec![],
        )
        .await?;
        let browser = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&browser, &demo.email("admin")).await?;
            browser.goto(&app.url("/staff/messages")).await?;
            let text = browser::wait_for_text(&browser, "waiting 3 hours").await?;
            assert!(text.contains("waiting 40 minutes"), "{text}");
            for fault in browser::form_layout_faults(&browser).await? {
                faults.push(format!("inbox at {size}: {fault}"));
            }
            for fault in browser::axe_violations(&browser).await? {
                faults.push(format!("inbox at {size}: axe {fault}"));
            }
            browser::screenshot(&browser, &format!("staff-inbox-{size}-{}", backend.name())).await?;
            let overflow = browser
                .execute("return document.documentElement.scrollWidth > document.documentElement.clientWidth;", vec![])
                .await?;
            if overflow.as_bool() == Some(true) {
                faults.push(format!("inbox at {size}: the page scrolls sideways"));
            }

            // The conversation of Jordan's matter.
            browser.goto(&app.url(&format!("/staff/matters/{}#messages", jordan.matter_id))).await?;
            browser::wait_for_text(&browser, "Internal note — clients never see this").await?;
            let section = browser.find(Css("#messages")).await?.text().await?;
            for expected in ["Read by the client", "Marked handled by", "insurer-letter.pdf", "Waiting for a reply"] {
                assert!(section.contains(expected), "{expected:?} at {size}: {section}");
            }
            for fault in browser::form_layout_faults(&browser).await? {
                faults.push(format!("matter at {size}: {fault}"));
            }
            for fault in browser::axe_violations(&browser).await? {
                faults.push(format!("matter at {size}: axe {fault}"));
            }
            browser.execute("document.getElementById('messages').scrollIntoView()", vec![]).await?;
            browser::screenshot(&browser, &format!("staff-inbox-matter-{size}-{}", backend.name())).await?;
            browser.execute("document.querySelector('#messages .reply-form').scrollIntoView()", vec![]).await?;
            browser::screenshot(&browser, &format!("staff-inbox-matter-form-{size}-{}", backend.name())).await?;

            // Reply to Sam from the inbox.
            browser.goto(&app.url("/staff/messages")).await?;
            browser::wait_for_text(&browser, "Did you get my medical bills?").await?;
            browser
                .find(Css(&format!("#reply-{}", sam.matter_id)))
                .await?
                .send_keys("Yes, we have them. Thank you!")
                .await?;
            browser
                .find(Css(&format!("form[action='/staff/matters/{}/messages'] button", sam.matter_id)))
                .await?
                .click()
                .await?;
            browser::wait_for_text(&browser, "Reply sent.").await?;
            browser::screenshot(&browser, &format!("staff-inbox-replied-{size}-{}", backend.name())).await?;
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
        let replies = stored(&app, &sam.matter_id).await?.into_iter().filter(|m| m.kind == MessageKind::Reply).count();
        assert_eq!(replies, if size == "phone" { 1 } else { 2 }, "the reply typed at {size} was sent");
    }
    assert!(faults.is_empty(), "staff messages faults:\n{}", faults.join("\n"));
    Ok(())
}

on_both_backends!(
    a_client_message_waits_until_a_reply_answers_it,
    an_internal_note_stays_among_staff,
    handled_answers_without_a_reply,
    other_firms_and_clients_are_refused,
    empty_and_too_long_replies_are_refused,
    the_inbox_and_a_conversation_in_chromium,
);
