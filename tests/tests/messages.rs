//! Two-way messages, the client's side and the notices: a client's message
//! (with a photo, through the upload pipeline) waits in the staff inbox as
//! unanswered; the firm's reply reaches the client's page and API and queues
//! one notice per client, without the text, held five minutes and skipped if
//! the client read the reply meanwhile; staff hear of client messages at most
//! once per conversation per 15 minutes; notes never reach a client; bad
//! input is refused with the text kept; the rate limit answers 429.

use chrono::Duration;
use diesel::prelude::*;
use harness::files::{pdf, png};
use harness::pages::main_text;
use harness::session::Session;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::models::{Message, Notification};
use shared::db::schema::{audit_events, documents, message_attachments, messages, notifications};
use shared::domain::{MessageKind, NotificationKind, NotificationStatus, Role, now};
use shared::messages::{self as conversation, Show};
use shared::staff::Staff;

/// The staff member `email` of the demo firm, acting.
async fn staff(app: &TestApp, email: &str) -> anyhow::Result<Staff> {
    let id = app.user_id(email).await?;
    let user = app
        .state
        .db
        .run(move |c| {
            use shared::db::schema::users;
            Ok(users::table.find(&id).select(shared::db::models::User::as_select()).first(c)?)
        })
        .await?;
    Ok(Staff::from_user(&user, None)?)
}

/// A staff reply (or note) on `matter`, written as staff do.
async fn reply(app: &TestApp, staff: &Staff, matter: &str, body: &str, internal: bool) -> anyhow::Result<Message> {
    let (staff, matter, body) = (staff.clone(), matter.to_owned(), body.to_owned());
    Ok(app.state.db.run(move |c| conversation::reply(c, &staff, &matter, &body, internal, now())).await?.message)
}

/// The notification rows of `kind` to `recipient`.
async fn rows(app: &TestApp, recipient: &str, kind: NotificationKind) -> anyhow::Result<Vec<Notification>> {
    let recipient = recipient.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(notifications::table
                .filter(notifications::recipient_id.eq(&recipient))
                .filter(notifications::kind.eq(kind))
                .select(Notification::as_select())
                .load(c)?)
        })
        .await?)
}

/// Every message stored on `matter`.
async fn stored(app: &TestApp, matter: &str) -> anyhow::Result<Vec<Message>> {
    let matter = matter.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(messages::table
                .filter(messages::matter_id.eq(&matter))
                .order(messages::created_at)
                .select(Message::as_select())
                .load(c)?)
        })
        .await?)
}

/// The compose form posted by `session`: text first, then files (name, type, bytes).
async fn post_form(
    session: &Session,
    matter: &str,
    body: &str,
    files: &[(&str, &str, Vec<u8>)],
) -> anyhow::Result<reqwest::Response> {
    let mut form = reqwest::multipart::Form::new().text("body", body.to_owned());
    for (name, mime, bytes) in files {
        form = form
            .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name((*name).to_owned()).mime_str(mime)?);
    }
    Ok(session.request(Method::POST, &format!("/matters/{matter}/messages")).multipart(form).send().await?)
}

/// The page `path` as `session` sees it: status and main text.
async fn page(session: &Session, path: &str) -> anyhow::Result<(StatusCode, String, String)> {
    let reply = session.request(Method::GET, path).send().await?;
    let status = reply.status();
    let html = reply.text().await?;
    Ok((status, main_text(&html), html))
}

/// The client writes with a photo from the compose form; it waits in the staff
/// inbox as unanswered, and the case manager's notice is queued for the end
/// of the 15-minute window. Casey's reply reaches the client's page and API,
/// answers the message, and queues one notice for the client, due 5 minutes
/// later, whose email names no text of the reply.
async fn a_message_and_its_reply_go_both_ways(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let casey = staff(&app, &demo.email("casey")).await?;
    let before = harness::metrics::parse(&app.get("/metrics").await?.text().await?)?;

    let question = "Did the insurer call you back?\nI still have the tow receipt.";
    let sent = post_form(&session, &jordan.matter_id, question, &[("tow.png", "image/png", png(3000))]).await?;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let to = sent.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(to, format!("/matters/{}/messages?sent=1#latest", jordan.matter_id));

    // Stored once, with the photo as a document of the matter linked to it.
    let all = stored(&app, &jordan.matter_id).await?;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!((all[0].kind, all[0].body.as_str()), (MessageKind::Client, question));
    assert!(all[0].answered_at.is_none() && all[0].read_at.is_none());
    let message_id = all[0].id.clone();
    let attached: Vec<(String, String)> = app
        .state
        .db
        .run(move |c| {
            Ok(message_attachments::table
                .inner_join(documents::table)
                .filter(message_attachments::message_id.eq(&message_id))
                .select((documents::original_name, documents::content_type))
                .load(c)?)
        })
        .await?;
    assert_eq!(attached, vec![("tow.png".to_owned(), "image/png".to_owned())]);

    // The page shows it, with the photo, as sent and not yet read.
    let (status, text, _) = page(&session, &format!("/matters/{}/messages?sent=1", jordan.matter_id)).await?;
    assert_eq!(status, StatusCode::OK);
    for expected in ["Your message was sent.", "Did the insurer call you back?", "tow.png", "Sent"] {
        assert!(text.contains(expected), "the messages page lacks {expected:?}: {text}");
    }

    // The inbox: unanswered, with its age and text.
    let inbox = {
        let casey = casey.clone();
        app.state.db.run(move |c| conversation::inbox(c, &casey, Show::Unanswered)).await?
    };
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].matter_id, jordan.matter_id);
    assert_eq!(inbox[0].unanswered, 1);
    assert_eq!(inbox[0].latest_unanswered.as_deref(), Some(question));
    assert_eq!(inbox[0].oldest_unanswered_at, Some(all[0].created_at));

    // Casey (the case manager) hears of it when the 15-minute window ends.
    let to_casey = rows(&app, &casey.id, NotificationKind::ClientMessages).await?;
    assert_eq!(to_casey.len(), 1, "{to_casey:?}");
    let due = to_casey[0].next_attempt_at;
    assert!(due > all[0].created_at && due <= all[0].created_at + Duration::minutes(15), "due {due}");

    // Casey replies: the client's message is answered, the client's notice is held 5 minutes.
    let answer = "Yes. They accepted liability. Keep the receipt, and upload it when you can.";
    let written = reply(&app, &casey, &jordan.matter_id, answer, false).await?;
    let all = stored(&app, &jordan.matter_id).await?;
    assert!(all[0].answered_at.is_some(), "the client's message was not answered");
    let notices = rows(&app, &jordan.id, NotificationKind::MessageReply).await?;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].next_attempt_at, written.created_at + Duration::minutes(5));
    let payload = notices[0].payload.clone().unwrap_or_default();
    assert!(!payload.contains("liability"), "the notice's row holds the text: {payload}");
    let inbox = {
        let casey = casey.clone();
        app.state.db.run(move |c| conversation::inbox(c, &casey, Show::Unanswered)).await?
    };
    assert!(inbox.is_empty(), "still unanswered after the reply: {inbox:?}");

    // The API shows the reply with its author.
    let listed: Vec<Value> = session.get(&format!("/api/v1/matters/{}/messages", jordan.matter_id)).await?;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[1]["kind"], "reply");
    assert_eq!(listed[1]["body"], answer);
    assert_eq!(listed[1]["mine"], false);
    assert!(listed[1]["author"].as_str().is_some_and(|a| a.starts_with("Casey")), "{}", listed[1]);
    assert_eq!(listed[0]["attachments"][0]["name"], "tow.png");

    // Reading it through the API counted: the notice is skipped when due, and no email goes.
    app.state.notifications.deliver_all(now() + Duration::minutes(6), &|| {}).await?;
    let notices = rows(&app, &jordan.id, NotificationKind::MessageReply).await?;
    assert_eq!(notices[0].status, NotificationStatus::Skipped, "{:?}", notices[0]);
    assert!(app.mail()?.emails_to(&jordan.email)?.is_empty(), "an email for a reply already read");

    // A second reply, unread: the notice goes when due, without the reply's text.
    let second = "One more thing: the adjuster will call you on Monday.";
    reply(&app, &casey, &jordan.matter_id, second, false).await?;
    app.state.notifications.deliver_all(now() + Duration::minutes(1), &|| {}).await?;
    assert!(app.mail()?.emails_to(&jordan.email)?.is_empty(), "the notice went before its 5 minutes");
    app.state.notifications.deliver_all(now() + Duration::minutes(6), &|| {}).await?;
    let mail = app.mail()?.wait_for_emails(&jordan.email, 1).await?.remove(0);
    assert!(mail.subject.contains("you have a new message"), "{}", mail.subject);
    assert!(mail.text.contains("read it in your secure portal"), "{}", mail.text);
    assert!(!mail.text.contains("adjuster") && !mail.html.contains("adjuster"), "the reply's text is in the email");
    // "Open the conversation" is the client's one-tap link, which leads to the messages.
    let link = mail.link_containing("/one-tap?token=").ok_or_else(|| anyhow::anyhow!("{}", mail.html))?;
    let opened = app
        .new_client()?
        .post(app.url("/one-tap"))
        .form(&[("token", link.rsplit('=').next().unwrap_or_default())])
        .send()
        .await?;
    let landed = opened.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(landed, format!("/matters/{}/messages", jordan.matter_id));

    // Casey's notice went out at the window's end (the reply had answered it: skipped).
    app.state.notifications.deliver_all(now() + Duration::minutes(16), &|| {}).await?;
    let to_casey = rows(&app, &casey.id, NotificationKind::ClientMessages).await?;
    assert_eq!(to_casey[0].status, NotificationStatus::Skipped, "{:?}", to_casey[0]);

    // Audited: the client's message and the replies.
    let firm = demo.firm_id.clone();
    let actions: Vec<String> = app
        .state
        .db
        .run(move |c| {
            Ok(audit_events::table
                .filter(audit_events::firm_id.eq(&firm))
                .filter(audit_events::action.like("message.%"))
                .order(audit_events::id)
                .select(audit_events::action)
                .load(c)?)
        })
        .await?;
    assert_eq!(actions, ["message.sent", "message.reply", "message.reply"]);

    // Counted by direction, and the time to the first reply observed (other tests run beside: at least ours).
    let after = harness::metrics::parse(&app.get("/metrics").await?.text().await?)?;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        harness::metrics::total(&after, name, labels) - harness::metrics::total(&before, name, labels)
    };
    assert!(delta("matterline_messages_total", &[("direction", "from_client")]) >= 1.0);
    assert!(delta("matterline_messages_total", &[("direction", "to_client")]) >= 2.0);
    let replies = harness::metrics::histogram_count(&after, "matterline_message_first_reply_seconds", &[])
        - harness::metrics::histogram_count(&before, "matterline_message_first_reply_seconds", &[]);
    assert!(replies >= 1.0, "the first reply was not observed");
    Ok(())
}

/// Three client messages within one window give the case manager one email
/// listing all three; a firm whose matter has no case manager tells its admins.
async fn staff_hear_of_client_messages_once_per_window(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let casey = staff(&app, &demo.email("casey")).await?;

    // Written together: one window, or two if a window ends between them.
    let texts = ["First question", "Second question", "Third question"];
    for text in texts {
        let posted: Value = session
            .post_json(
                &format!("/api/v1/matters/{}/messages", jordan.matter_id),
                &json!({ "body": text }),
                StatusCode::CREATED,
            )
            .await?;
        assert_eq!(posted["message"]["body"], text);
    }
    let to_casey = rows(&app, &casey.id, NotificationKind::ClientMessages).await?;
    let windows: std::collections::BTreeSet<&str> = to_casey.iter().map(|r| r.period_key.as_str()).collect();
    assert_eq!(to_casey.len(), windows.len(), "two rows for one window: {to_casey:?}");
    assert!(to_casey.len() <= 2, "three messages written together made {} notices", to_casey.len());

    app.state.notifications.deliver_all(now() + Duration::minutes(31), &|| {}).await?;
    let mails = app.mail()?.emails_to(&demo.email("casey"))?;
    assert_eq!(mails.len(), to_casey.len(), "one email per window row");
    let all_text: String = mails.iter().map(|m| m.text.clone()).collect();
    for text in texts {
        assert_eq!(all_text.matches(text).count(), 1, "{text:?} not listed exactly once: {all_text}");
    }
    assert!(mails[0].subject.contains("from a client"), "{}", mails[0].subject);
    assert!(mails[0].text.contains(&format!("/staff/matters/{}#messages", jordan.matter_id)), "{}", mails[0].text);
    assert!(app.mail()?.emails_to(&demo.email("admin"))?.is_empty(), "the admin heard of a managed matter");

    // No case manager: the firm's admins hear of it.
    let matter = jordan.matter_id.clone();
    app.state
        .db
        .run(move |c| {
            use shared::db::schema::matters;
            diesel::update(matters::table.find(&matter)).set(matters::case_manager_id.eq(None::<String>)).execute(c)?;
            Ok(())
        })
        .await?;
    session
        .post_json::<Value>(
            &format!("/api/v1/matters/{}/messages", jordan.matter_id),
            &json!({ "body": "Anyone there?" }),
            StatusCode::CREATED,
        )
        .await?;
    let admin = app.user_id(&demo.email("admin")).await?;
    let to_admin = rows(&app, &admin, NotificationKind::ClientMessages).await?;
    assert_eq!(to_admin.len(), 1, "{to_admin:?}");
    Ok(())
}

/// An internal note is the staff's alone: not on the client's page or API,
/// no notice, not in the weekly update. "Handled" answers without a reply and
/// is staff-only too.
async fn notes_and_handled_marks_never_reach_a_client(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let casey = staff(&app, &demo.email("casey")).await?;

    let secret = "Client seems to exaggerate the neck pain";
    reply(&app, &casey, &jordan.matter_id, secret, true).await?;
    assert!(rows(&app, &jordan.id, NotificationKind::MessageReply).await?.is_empty(), "a note queued a notice");
    session
        .post_json::<Value>(
            &format!("/api/v1/matters/{}/messages", jordan.matter_id),
            &json!({ "body": "Thanks!" }),
            StatusCode::CREATED,
        )
        .await?;
    let handled = {
        let (casey, matter) = (casey.clone(), jordan.matter_id.clone());
        app.state.db.run(move |c| conversation::mark_handled(c, &casey, &matter, now())).await?
    };
    assert_eq!(handled.message.kind, MessageKind::Handled);
    assert!(
        stored(&app, &jordan.matter_id).await?.iter().all(|m| m.kind != MessageKind::Client || m.answered_at.is_some())
    );
    // Nothing left to handle: a conflict, not a second mark.
    let again = {
        let (casey, matter) = (casey.clone(), jordan.matter_id.clone());
        app.state.db.run(move |c| conversation::mark_handled(c, &casey, &matter, now()).map(|_| ())).await
    };
    assert!(matches!(again, Err(shared::Error::Conflict(_))), "{again:?}");

    let listed: Vec<Value> = session.get(&format!("/api/v1/matters/{}/messages", jordan.matter_id)).await?;
    let kinds: Vec<&str> = listed.iter().filter_map(|m| m["kind"].as_str()).collect();
    assert_eq!(kinds, ["client"], "the client API shows staff-only messages: {listed:?}");
    for path in [format!("/matters/{}", jordan.matter_id), format!("/matters/{}/messages", jordan.matter_id)] {
        let (status, _, html) = page(&session, &path).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("exaggerate"), "{path} shows the note");
    }
    let thread = {
        let (casey, matter) = (casey.clone(), jordan.matter_id.clone());
        app.state.db.run(move |c| conversation::thread(c, &casey, &matter)).await?
    };
    let kinds: Vec<MessageKind> = thread.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [MessageKind::Note, MessageKind::Client, MessageKind::Handled], "staff see everything");

    // The weekly update: no note, and the unread count counts replies only (none here).
    let firm = demo.firm_id.clone();
    app.state
        .db
        .run(move |c| {
            shared::notifications::kinds::weekly_update::enqueue_for_firm(c, &firm, "2099-W01", now()).map(|_| ())
        })
        .await?;
    app.state.notifications.deliver_all(now(), &|| {}).await?;
    let weekly = app.mail()?.wait_for_emails(&jordan.email, 1).await?.remove(0);
    assert!(!weekly.text.contains("exaggerate") && !weekly.html.contains("exaggerate"));
    assert!(!weekly.text.contains("unread message"), "{}", weekly.text);
    Ok(())
}

/// The weekly update says how many replies the client has not read.
async fn the_weekly_update_counts_unread_replies(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let casey = staff(&app, &demo.email("casey")).await?;
    reply(&app, &casey, &jordan.matter_id, "Please call me back.", false).await?;
    reply(&app, &casey, &jordan.matter_id, "Also, bring your insurance card.", false).await?;
    let firm = demo.firm_id.clone();
    app.state
        .db
        .run(move |c| {
            shared::notifications::kinds::weekly_update::enqueue_for_firm(c, &firm, "2099-W01", now()).map(|_| ())
        })
        .await?;
    // Now: only the weekly update is due (the reply notices wait 5 minutes).
    app.state.notifications.deliver_all(now(), &|| {}).await?;
    let weekly = app.mail()?.wait_for_emails(&jordan.email, 1).await?.remove(0);
    assert!(weekly.text.contains("You have 2 unread messages from your legal team."), "{}", weekly.text);
    assert!(weekly.html.contains("You have 2 unread messages from your legal team."));
    assert!(weekly.text.contains(&format!("/matters/{}/messages", jordan.matter_id)));
    assert!(!weekly.text.contains("insurance card"), "the weekly update carries a reply's text");
    Ok(())
}

/// Bad input is refused with a readable reason and the text kept in the form;
/// markup is shown as text; a refused file does not stop the message but is
/// named; the API answers 422 with nothing stored.
async fn bad_input_is_refused_and_nothing_is_lost(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let m = &jordan.matter_id;

    // Empty, no file.
    let empty = post_form(&session, m, "   ", &[]).await?;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(main_text(&empty.text().await?).contains("Write a message or attach a file."));

    // Too long: refused, and the text comes back in the box.
    let long = format!("Start of my story. {}", "x".repeat(5001));
    let refused = post_form(&session, m, &long, &[("later.pdf", "application/pdf", pdf(2000))]).await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await?;
    assert!(main_text(&html).contains("Your message is too long."), "{}", main_text(&html));
    assert!(html.contains(">Start of my story. xxxx"), "the text was not kept in the form");
    // The file after the refused text was not stored.
    let docs: Vec<Value> = session.get(&format!("/api/v1/matters/{m}/documents")).await?;
    assert!(docs.iter().all(|d| d["name"] != "later.pdf"), "a file after a refused text was stored: {docs:?}");

    // A control character.
    let control = post_form(&session, m, "Hello\u{7}there", &[]).await?;
    assert_eq!(control.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(main_text(&control.text().await?).contains("hidden control character"));
    assert!(stored(&app, m).await?.is_empty(), "a refused message was stored");

    // Markup is text.
    let markup = "<script>alert('x')</script><b>bold</b>";
    assert_eq!(post_form(&session, m, markup, &[]).await?.status(), StatusCode::SEE_OTHER);
    let (_, _, html) = page(&session, &format!("/matters/{m}/messages")).await?;
    assert!(!html.contains("<script>alert"), "markup rendered as markup");
    assert!(html.contains("&lt;script&gt;alert("), "markup not shown as text");

    // A message with a refused file: sent, the file named as not attached.
    let text = "Here is the bill";
    let partly =
        post_form(&session, m, text, &[("bill.exe", "application/octet-stream", b"MZ\x90\0not a bill".to_vec())])
            .await?;
    assert_eq!(partly.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let shown = main_text(&partly.text().await?);
    assert!(shown.contains("These files were not attached:") && shown.contains("bill.exe"), "{shown}");
    assert!(stored(&app, m).await?.iter().any(|msg| msg.body == text), "the message was lost");

    // The API: the same rules, as JSON; nothing stored.
    let before = stored(&app, m).await?.len();
    for body in [json!({ "body": "" }), json!({ "body": "a".repeat(5001) }), json!({ "body": "tab\there" })] {
        let answer = session.request(Method::POST, &format!("/api/v1/matters/{m}/messages")).json(&body).send().await?;
        assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let error: Value = answer.json().await?;
        assert!(error["error"].as_str().is_some_and(|e| e.starts_with("body:")), "{error}");
    }
    let exactly = session
        .request(Method::POST, &format!("/api/v1/matters/{m}/messages"))
        .json(&json!({ "body": "ñ".repeat(5000) }))
        .send()
        .await?;
    assert_eq!(exactly.status(), StatusCode::CREATED, "5,000 characters are allowed");
    assert_eq!(stored(&app, m).await?.len(), before + 1);
    Ok(())
}

/// 30 messages in an hour; the 31st gets a readable 429 page (and JSON on the
/// API), and is not stored.
async fn the_rate_limit_answers_429(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let m = jordan.matter_id.clone();
    for i in 0..30 {
        let answer = session
            .request(Method::POST, &format!("/api/v1/matters/{m}/messages"))
            .json(&json!({ "body": format!("Message {i}") }))
            .send()
            .await?;
        assert_eq!(answer.status(), StatusCode::CREATED, "message {i}");
    }
    let page = post_form(&session, &m, "One more", &[]).await?;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    let text = main_text(&page.text().await?);
    assert!(text.contains("Please wait a little") && text.contains("call your legal team"), "{text}");
    let api = session
        .request(Method::POST, &format!("/api/v1/matters/{m}/messages"))
        .json(&json!({ "body": "x" }))
        .send()
        .await?;
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(stored(&app, &m).await?.len(), 30);
    Ok(())
}

/// Another client's conversation, or another firm's, answers exactly like a
/// missing one: 404 on the page, the form and the API, and nothing is stored.
async fn another_clients_conversation_is_not_found(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let other_firm = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let lucia = app.signed_in_client(&demo.email("lucia")).await?;
    let stranger = app.signed_in_client(&other_firm.email("jordan")).await?;
    let m = &jordan.matter_id;
    let missing = uuid::Uuid::new_v4().to_string();
    for who in [&lucia, &stranger] {
        for matter in [m.as_str(), missing.as_str()] {
            let (status, _, _) = page(who, &format!("/matters/{matter}/messages")).await?;
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert_eq!(post_form(who, matter, "Hi", &[]).await?.status(), StatusCode::NOT_FOUND);
            let api = who.request(Method::GET, &format!("/api/v1/matters/{matter}/messages")).send().await?;
            assert_eq!(api.status(), StatusCode::NOT_FOUND);
            let body: Value = api.json().await?;
            assert_eq!(body, json!({ "error": "not found", "status": 404 }));
            let post = who
                .request(Method::POST, &format!("/api/v1/matters/{matter}/messages"))
                .json(&json!({ "body": "Hi" }))
                .send()
                .await?;
            assert_eq!(post.status(), StatusCode::NOT_FOUND);
        }
    }
    assert!(stored(&app, m).await?.is_empty());
    // Staff of another firm cannot reach it through the shared functions either.
    let outsider = staff(&app, &other_firm.email("casey")).await?;
    let (matter, who) = (m.clone(), outsider.clone());
    let thread = app.state.db.run(move |c| conversation::thread(c, &who, &matter)).await;
    assert!(matches!(thread, Err(shared::Error::NotFound)), "{thread:?}");
    assert_eq!(outsider.role, Role::CaseManager);
    Ok(())
}

/// Unread replies show on the dashboard and in the page title, until read.
async fn unread_replies_show_in_the_title_and_on_the_dashboard(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let casey = staff(&app, &demo.email("casey")).await?;
    reply(&app, &casey, &jordan.matter_id, "We filed the claim today.", false).await?;

    // Two open cases, so "/" is the dashboard.
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let _: Value = admin
        .post_json(
            "/api/v1/staff/matters",
            &json!({ "title": "Second claim", "client_ids": [jordan.id] }),
            StatusCode::CREATED,
        )
        .await?;
    let (status, text, html) = page(&session, "/").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("1 unread message from your legal team"), "{text}");
    assert!(html.contains("<title>(1) "), "the dashboard's title lacks the count");

    let (_, text, html) = page(&session, &format!("/matters/{}", jordan.matter_id)).await?;
    assert!(html.contains("<title>(1) Rear-end collision on Route 9"), "the case page's title lacks the count");
    assert!(text.contains("We filed the claim today.") && text.contains("1 new"), "{text}");
    // Opened: read.
    let (_, text, html) = page(&session, "/").await?;
    assert!(!text.contains("unread message"), "{text}");
    assert!(!html.contains("<title>(1)"));
    let (_, _, html) = page(&session, &format!("/matters/{}", jordan.matter_id)).await?;
    assert!(!html.contains("<title>(1)"));
    Ok(())
}

/// In Chromium at 390×844 (and 1280×800): the client writes from the case
/// page with a photo attached, the case manager replies from the staff matter
/// page (another browser), and the client sees the reply on the case page;
/// screenshots of each step on both sides, and axe finds no serious or
/// critical violation on the client's or the staff member's page.
async fn a_conversation_in_chromium(backend: Backend) -> anyhow::Result<()> {
    use fantoccini::Locator;
    use harness::browser::{self, DESKTOP, PHONE};
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let dir = tempfile::tempdir()?;
    let photo = dir.path().join("bruise.png");
    std::fs::write(&photo, png(4000))?;
    let mut faults = Vec::new();
    for screen in [PHONE, DESKTOP] {
        let size = format!("{}x{}", screen.width, screen.height);
        let browser = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&browser, &jordan.email).await?;
            browser.goto(&app.url(&format!("/matters/{}", jordan.matter_id))).await?;
            let question = format!("Photo of the bruise from today ({size}). Should I see a doctor again?");
            browser.find(Locator::Css("#message-body")).await?.send_keys(&question).await?;
            browser.find(Locator::Css("#message-files")).await?.send_keys(&photo.to_string_lossy()).await?;
            browser::screenshot(&browser, &format!("messages-compose-{size}-{}", backend.name())).await?;
            browser.find(Locator::Css("form.compose button[type=submit]")).await?.click().await?;
            let text = browser::wait_for_text(&browser, "Your message was sent.").await?;
            assert!(text.contains(&question) && text.contains("bruise.png"), "{size}: {text}");
            browser::screenshot(&browser, &format!("messages-sent-{size}-{}", backend.name())).await?;
            for v in browser::axe_violations(&browser).await? {
                faults.push(format!("messages page at {size}: {v}"));
            }

            // The case manager answers from the staff matter page, in a browser of their own.
            let answer = format!("Yes, please book a visit this week ({size}). Bring the photo.");
            let staff_browser = browser::open(screen).await?;
            let staffed = async {
                app.sign_in_browser(&staff_browser, &demo.email("casey")).await?;
                staff_browser.goto(&app.url(&format!("/staff/matters/{}#messages", jordan.matter_id))).await?;
                let text = browser::wait_for_text(&staff_browser, &question).await?;
                assert!(text.contains("bruise.png"), "{size}: staff do not see the photo: {text}");
                staff_browser.find(Locator::Css("form.reply-form #message-body")).await?.send_keys(&answer).await?;
                staff_browser.find(Locator::Css("form.reply-form button[type=submit]")).await?.click().await?;
                browser::wait_for_text(&staff_browser, &answer).await?;
                staff_browser.execute("document.getElementById('messages').scrollIntoView();", vec![]).await?;
                browser::screenshot(&staff_browser, &format!("messages-staff-{size}-{}", backend.name())).await?;
                anyhow::Ok(browser::axe_violations(&staff_browser).await?)
            }
            .await;
            staff_browser.close().await?;
            for v in staffed? {
                faults.push(format!("staff matter page at {size}: {v}"));
            }
            browser.goto(&app.url(&format!("/matters/{}", jordan.matter_id))).await?;
            let text = browser::wait_for_text(&browser, &answer).await?;
            assert!(text.contains("1 new"), "{size}: no unread mark on the case page: {text}");
            let title = browser.title().await?;
            assert!(title.starts_with("(1) "), "{size}: the title lacks the unread count: {title}");
            browser.execute("document.getElementById('messages').scrollIntoView();", vec![]).await?;
            browser::screenshot(&browser, &format!("messages-reply-{size}-{}", backend.name())).await?;
            for v in browser::axe_violations(&browser).await? {
                faults.push(format!("case page at {size}: {v}"));
            }
            // Nothing on the page is wider than the screen.
            let wide =
                browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
            assert_eq!(wide, json!(false), "{size}: the page scrolls sideways");
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    assert!(faults.is_empty(), "accessibility faults:\n{}", faults.join("\n"));
    Ok(())
}

on_both_backends!(
    a_conversation_in_chromium,
    a_message_and_its_reply_go_both_ways,
    staff_hear_of_client_messages_once_per_window,
    notes_and_handled_marks_never_reach_a_client,
    the_weekly_update_counts_unread_replies,
    bad_input_is_refused_and_nothing_is_lost,
    the_rate_limit_answers_429,
    another_clients_conversation_is_not_found,
    unread_replies_show_in_the_title_and_on_the_dashboard,
);
