//! Markup typed into every field a client or staff member fills, read back from pages and emails.

use diesel::prelude::*;
use harness::files::{exe, pdf};
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

const PAYLOADS: [&str; 4] =
    ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "' onmouseover='alert(1)"];

/// Markup that would run if a payload were rendered raw (in text or in an attribute).
fn live_markup(html: &str) -> Vec<&'static str> {
    ["<script>alert", "<img src=x", "onerror=alert", "href=\"javascript:", "' onmouseover='", "\"><img"]
        .into_iter()
        .filter(|m| html.contains(m))
        .collect()
}

/// How many fields of a JSON body carry a payload.
fn marked_fields(body: &Value) -> usize {
    match body {
        Value::String(text) => usize::from(PAYLOADS.iter().any(|p| text.contains(p))),
        Value::Array(items) => items.iter().map(marked_fields).sum(),
        Value::Object(fields) => fields.values().map(marked_fields).sum(),
        _ => 0,
    }
}

async fn markup_typed_anywhere_is_shown_as_text(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.user_id(&demo.email("admin")).await?;
    let staff_bearer = format!("Bearer {}", app.session_token(&admin).await?);
    let staff_cookie = format!("matterline_session={}", app.session_token(&admin).await?);
    let http = app.raw_client()?;
    let api = |method: reqwest::Method, path: String, body: Value| {
        http.request(method, app.url(&path)).header(AUTHORIZATION, &staff_bearer).json(&body).send()
    };
    let [script, img, js, quote] = PAYLOADS;
    let mut inputs = 0;

    // Staff type: a client's name, a matter title, notes, a request, firm settings, a phase text.
    let email = format!("xss@{}", demo.domain);
    let body = json!({ "full_name": format!("Ana {img}"), "email": email, "phone": quote });
    let created: Value = api(reqwest::Method::POST, "/api/v1/staff/clients".into(), body.clone()).await?.json().await?;
    let client_id = created["id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!client_id.is_empty(), "{created}");
    inputs += marked_fields(&body);
    let body = json!({ "title": format!("{script}{img}"), "client_ids": [client_id], "external_id": js });
    let matter: Value = api(reqwest::Method::POST, "/api/v1/staff/matters".into(), body.clone()).await?.json().await?;
    let matter_id = matter["id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!matter_id.is_empty(), "{matter}");
    inputs += marked_fields(&body);
    for body in [
        json!({ "kind": "client_note", "body": format!("{img}{script}{js}") }),
        json!({ "kind": "internal_note", "body": format!("{quote}{script}") }),
        json!({ "kind": "appointment", "body": img, "occurs_at": "2030-01-02T15:00:00" }),
    ] {
        let posted =
            api(reqwest::Method::POST, format!("/api/v1/staff/matters/{matter_id}/milestones"), body.clone()).await?;
        assert!(posted.status().is_success(), "{body}: {}", posted.text().await?);
        inputs += marked_fields(&body);
    }
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            format!("/api/v1/staff/matters/{matter_id}/requests"),
            json!({ "title": img, "details": format!("{script} {js}") }),
        ),
        (
            reqwest::Method::PATCH,
            "/api/v1/staff/settings".to_owned(),
            json!({ "name": format!("Firm {img}"), "phone": quote }),
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/staff/catalogue/personal_injury/intake".to_owned(),
            json!({ "language": "en", "title": format!("Intake {script}"), "what_it_means": img, "what_happens_next": js }),
        ),
    ] {
        let answer = api(method, path.clone(), body.clone()).await?;
        assert!(answer.status().is_success(), "{path}: {}", answer.text().await?);
        inputs += marked_fields(&body);
    }

    // The client types: file names (upload) and a language switch's next.
    let client_cookie = format!("matterline_session={}", app.session_token(&client_id).await?);
    let upload = http
        .post(app.url(&format!("/matters/{matter_id}/upload")))
        .header("Cookie", &client_cookie)
        .multipart(
            reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(pdf(1500))
                        .file_name(format!("{img}.pdf"))
                        .mime_str("application/pdf")?,
                )
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(exe())
                        .file_name(format!("{quote}.pdf"))
                        .mime_str("application/pdf")?,
                ),
        )
        .send()
        .await?;
    let receipt_page = upload.text().await?;
    // Both file names are on the receipt page: the stored one and the refused one.
    inputs += [format!("{img}.pdf"), format!("{quote}.pdf")]
        .iter()
        .filter(|name| receipt_page.contains(&html_escaped(name)))
        .count();

    let mut pages = vec![("upload receipt page".to_owned(), receipt_page)];
    for (who, path) in [
        (&client_cookie, "/".to_owned()),
        (&client_cookie, format!("/matters/{matter_id}")),
        (&client_cookie, format!("/matters/{matter_id}/upload")),
        (&client_cookie, "/preferences".to_owned()),
        (&staff_cookie, "/staff".to_owned()),
        (&staff_cookie, format!("/staff?q={}", url_encode(img))),
        (&staff_cookie, format!("/staff/matters/{matter_id}")),
        (&staff_cookie, "/staff/settings".to_owned()),
        (&staff_cookie, "/staff/matters/new".to_owned()),
    ] {
        let html = http.get(app.url(&path)).header("Cookie", who).send().await?.text().await?;
        pages.push((path, html));
    }
    // Echoed form values: the sign-in forms put what was typed back into the field.
    for (path, form) in [
        ("/sign-in", vec![("email", img.to_owned())]),
        ("/sign-in/code", vec![("email", img.to_owned()), ("code", "12ab".to_owned())]),
        (
            "/staff/sign-in",
            vec![("email", img.to_owned()), ("password", quote.to_owned()), ("code", "000000".to_owned())],
        ),
    ] {
        let html = http.post(app.url(path)).form(&form).send().await?.text().await?;
        pages.push((format!("POST {path}"), html));
        inputs += form.iter().filter(|(_, v)| PAYLOADS.iter().any(|p| v.contains(p))).count();
    }
    let (mut checked, mut live) = (0, 0);
    for (name, html) in &pages {
        live += live_markup(html).len();
        assert_eq!(live_markup(html), Vec::<&str>::new(), "{name} renders typed markup:\n{html}");
        checked += 1;
    }
    let client_page = &pages[2].1;
    assert!(main_text(client_page).contains(script), "the matter title is shown (as text) on the client's page");
    let staff_page = &pages[7].1;
    assert!(main_text(staff_page).contains(quote), "the internal note is shown (as text) to staff");

    // Emails: the upload receipt and the weekly update, HTML parts and subjects.
    let row = app
        .state
        .db
        .run(|c| {
            use shared::db::schema::notifications;
            Ok(notifications::table
                .filter(notifications::kind.eq("upload_receipt"))
                .select(shared::db::models::Notification::as_select())
                .first(c)?)
        })
        .await?;
    use shared::notifications::{Composed, Message, compose};
    let composer = app.state.notifications.composer.clone();
    let composed = app.state.db.run(move |c| compose::compose_one(c, &composer, &row, shared::domain::now())).await?;
    let Composed::Send(Message::Email(receipt)) = composed else { anyhow::bail!("the receipt was not composed") };
    live += live_markup(&receipt.content.html).len();
    assert_eq!(live_markup(&receipt.content.html), Vec::<&str>::new(), "receipt email:\n{}", receipt.content.html);
    assert!(receipt.content.html.contains("&lt;img src&#x3D;x"), "the file name is in the receipt, escaped");
    let notifier = notifier::Notifier::build(
        app.config(&[])?,
        &notifier::cli::WorkerOptions { lease_seconds: 60, concurrency: 1, batch: 10 },
    )?;
    let weekly = notifier.preview(&client_id, None).await?;
    live += live_markup(&weekly.html).len();
    assert_eq!(live_markup(&weekly.html), Vec::<&str>::new(), "weekly update email:\n{}", weekly.html);
    assert!(weekly.html.contains("&lt;script&gt;"), "the typed note is in the weekly update, escaped");
    assert!(!weekly.subject.contains('\n'));
    // A sign-in email to the client whose name and firm carry markup (kept in memory).
    let sent = http.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
    assert_eq!(sent.status(), StatusCode::OK);
    app.background_done().await; // the sign-in email goes out after the answer
    app.mail()?.wait_for_emails(&email, 1).await?;
    let mut emails = 0;
    for sent in app.mail()?.emails()? {
        live += live_markup(&sent.html).len();
        assert_eq!(live_markup(&sent.html), Vec::<&str>::new(), "an email's HTML part:\n{}", sent.html);
        emails += 1;
    }
    assert!(emails >= 2, "the receipt and the sign-in email are in the dev mail folder ({emails})");
    checked += 2 + emails;

    reliability::record(
        &format!("security_xss_{backend:?}").to_lowercase(),
        &format!("Markup in typed fields ({backend:?})"),
        &format!(
            "Payloads: `{}`.\n\n| figure | value |\n|---|---|\n| fields filled with markup | {inputs} |\n| pages and emails checked | {checked} |\n| markup rendered live | {live} |\n",
            PAYLOADS.join("`, `")
        ),
    )?;
    Ok(())
}

/// `text` as the templates escape it (handlebars: `&<>"'=` and backtick).
fn html_escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#x27;".to_owned(),
            '=' => "&#x3D;".to_owned(),
            '`' => "&#x60;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

on_both_backends!(markup_typed_anywhere_is_shown_as_text,);
