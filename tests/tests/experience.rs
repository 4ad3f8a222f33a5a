//! What a client and a case manager meet in daily use: a note typed with a
//! phase change reaches the client, a rating tapped in an email is one tap away
//! from being sent and says so, and a pasted sign-in code with spaces or
//! dashes works.

use harness::browser;
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::domain::now;
use shared::tokens::Purpose;

/// Staff move Sam's matter with a note for the client: the note is on the
/// client's case page (page and API) and in both parts of the phase-change
/// email; an internal note typed afterwards reaches neither.
async fn a_note_typed_with_a_phase_change_reaches_the_case_page_and_the_email(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let sam = app.client(&demo.email("sam")).await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let note = "We sent your claim to the insurer today; expect a letter from them.";
    let path = format!("/api/v1/staff/matters/{}/milestones", sam.matter_id);
    let _: Value = admin
        .post_json(
            &path,
            &json!({ "kind": "phase_change", "phase": "investigation", "body": note }),
            StatusCode::CREATED,
        )
        .await?;
    let _: Value = admin
        .post_json(&path, &json!({ "kind": "internal_note", "body": "Adjuster is slow" }), StatusCode::CREATED)
        .await?;

    let session = app.signed_in_client(&sam.email).await?;
    let page = session.request(reqwest::Method::GET, &format!("/matters/{}", sam.matter_id)).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let text = main_text(&page.text().await?);
    assert!(text.contains(note), "the case page lacks the note typed with the phase change: {text}");
    assert!(!text.contains("Adjuster is slow"), "an internal note reached the case page");

    // The staff timeline says the same in staff words.
    let staff_page = admin.request(reqwest::Method::GET, &format!("/staff/matters/{}", sam.matter_id)).send().await?;
    let staff_text = main_text(&staff_page.text().await?);
    for expected in ["Moved to: Investigation", note, "Internal note", "Adjuster is slow"] {
        assert!(staff_text.contains(expected), "the staff timeline lacks {expected:?}: {staff_text}");
    }
    assert!(!staff_text.contains("Your case moved to a new step"), "client wording on the staff timeline");

    app.state.notifications.deliver_all(now(), &|| {}).await?;
    let mail = app.mail()?.wait_for_emails(&sam.email, 1).await?.remove(0);
    assert_eq!(app.mail()?.emails_to(&sam.email)?.len(), 1, "one phase-change email for Sam");
    assert!(mail.subject.contains("your case moved to a new step"), "{}", mail.subject);
    assert!(mail.text.contains("A note from your legal team:") && mail.text.contains(note), "text part: {}", mail.text);
    assert!(mail.html.contains(note), "HTML part lacks the note: {}", mail.html);
    assert!(!mail.text.contains("Adjuster is slow") && !mail.html.contains("Adjuster is slow"));
    Ok(())
}

/// The weekly email's "4" link opens a page that says plainly the answer is not
/// sent yet, with one button that sends it; nothing is recorded until then, and
/// once tapped the staff ratings see it. In Spanish too.
async fn a_rating_chosen_in_an_email_is_one_plain_tap_from_being_sent(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let sam = app.client(&demo.email("sam")).await?;
    let token = app.state.tokens.issue(Purpose::Rating, &sam.id, "a-weekly-email", chrono::Duration::days(7))?;

    let opened = app.new_client()?.get(app.url(&format!("/rate?token={token}&score=4"))).send().await?;
    assert_eq!(opened.status(), StatusCode::OK);
    let html = opened.text().await?;
    let text = main_text(&html);
    assert!(text.contains("You chose 4 out of 5. It is not sent yet"), "{text}");
    assert!(html.contains(r#"<input type="hidden" name="score" value="4">"#), "no send button for the chosen score");
    assert!(text.contains("Send 4 out of 5"), "{text}");
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let sams = |ratings: &Value| -> Vec<i64> {
        ratings["latest"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["client_id"] == sam.id.as_str())
            .filter_map(|r| r["score"].as_i64())
            .collect()
    };
    let before: Value = admin.get("/api/v1/staff/ratings").await?;
    assert_eq!(sams(&before), Vec::<i64>::new(), "opening the link alone recorded a rating");

    let spanish = app
        .new_client()?
        .get(app.url(&format!("/rate?token={token}&score=2")))
        .header(reqwest::header::ACCEPT_LANGUAGE, "es")
        .send()
        .await?;
    let text = main_text(&spanish.text().await?);
    assert!(text.contains("Eligió 2 de 5. Todavía no se ha enviado") && text.contains("Enviar 2 de 5"), "{text}");

    let sent =
        app.new_client()?.post(app.url("/rate")).form(&[("token", token.as_str()), ("score", "4")]).send().await?;
    assert_eq!(sent.status(), StatusCode::OK);
    assert!(main_text(&sent.text().await?).contains("Thank you"));
    let after: Value = admin.get("/api/v1/staff/ratings").await?;
    assert_eq!(sams(&after), vec![4], "the staff ratings after one tap on the send button");
    Ok(())
}

/// Every page names its icon, and the icon is there: a browser (or Lighthouse)
/// asking for it never logs a 404.
#[tokio::test]
async fn every_page_names_an_icon_that_exists() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let app = TestApp::builder(Backend::Sqlite).spawn().await?;
    let page = app.get("/sign-in").await?.text().await?;
    assert!(page.contains(r#"<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">"#), "{page}");
    let icon = app.get("/static/favicon.svg").await?;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("image/svg+xml"));
    assert!(icon.text().await?.starts_with("<svg"), "not an SVG");
    Ok(())
}

/// A code pasted with spaces around it, a space in the middle or a dash signs in.
async fn a_pasted_code_with_spaces_or_dashes_signs_in(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("sam");
    for (n, shape) in [" {} ", "{3} {3}", "{3}-{3}"].into_iter().enumerate() {
        app.new_client()?.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
        let mails = app.mail()?.wait_for_emails(&email, n + 1).await?;
        let code = mails[n].six_digit_code().ok_or_else(|| anyhow::anyhow!("no code"))?;
        let typed = match shape {
            " {} " => format!(" {code} "),
            "{3} {3}" => format!("{} {}", &code[..3], &code[3..]),
            _ => format!("{}-{}", &code[..3], &code[3..]),
        };
        let reply = app
            .new_client()?
            .post(app.url("/sign-in/code"))
            .form(&[("email", email.as_str()), ("code", typed.as_str())])
            .send()
            .await?;
        assert_eq!(reply.status(), StatusCode::SEE_OTHER, "code typed as {typed:?}");
    }
    let page = app.get("/sign-in/code").await?.text().await?;
    assert!(!page.contains(r#"maxlength="6""#), "the code field cuts pasted codes at 6 characters");
    Ok(())
}

on_both_backends!(
    a_note_typed_with_a_phase_change_reaches_the_case_page_and_the_email,
    a_rating_chosen_in_an_email_is_one_plain_tap_from_being_sent,
    a_pasted_code_with_spaces_or_dashes_signs_in,
);

/// The staff forms at phone and desktop sizes: every control at least 24 px
/// (WCAG 2.2's target size), each label above its own control (Settings and
/// New matter once ran labels inline, beside the wrong value), axe-core clean;
/// a screenshot of each page at each size.
async fn staff_forms_have_full_size_controls_under_their_labels(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let pages = [
        ("settings", "/staff/settings".to_owned()),
        ("new-matter", "/staff/matters/new".to_owned()),
        ("matter", format!("/staff/matters/{}", client.matter_id)),
        ("matters", "/staff".to_owned()),
    ];
    let mut faults = Vec::new();
    for screen in [browser::PHONE, browser::DESKTOP] {
        let browser = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&browser, &demo.email("admin")).await?;
            for (name, path) in &pages {
                browser.goto(&app.url(path)).await?;
                let size = format!("{}x{}", screen.width, screen.height);
                for fault in browser::form_layout_faults(&browser).await? {
                    faults.push(format!("{name} at {size}: {fault}"));
                }
                for fault in browser::axe_violations(&browser).await? {
                    faults.push(format!("{name} at {size}: axe {fault}"));
                }
                browser::screenshot(&browser, &format!("staff-{name}-{size}-{}", backend.name())).await?;
            }
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    assert!(faults.is_empty(), "staff form faults:\n{}", faults.join("\n"));
    Ok(())
}

/// The rating page reached from an email's "4" and the code page, in
/// Chromium at both sizes: the pending answer and its send button are on the
/// first screen; one tap on it sends the score; a code pasted with a space
/// signs in.
async fn the_rating_and_code_pages_work_in_chromium(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let sam = app.client(&demo.email("sam")).await?;
    for (n, screen) in [browser::PHONE, browser::DESKTOP].into_iter().enumerate() {
        let size = format!("{}x{}", screen.width, screen.height);
        let token =
            app.state.tokens.issue(Purpose::Rating, &sam.id, &format!("weekly-{size}"), chrono::Duration::days(7))?;
        let browser = browser::open(screen).await?;
        let outcome = async {
            browser.goto(&app.url(&format!("/rate?token={token}&score=4"))).await?;
            let send = browser.find(fantoccini::Locator::Css("#rate-pending + form button.primary")).await?;
            let bottom: f64 = browser
                .execute(
                    "return document.querySelector('#rate-pending + form button').getBoundingClientRect().bottom",
                    vec![],
                )
                .await?
                .as_f64()
                .unwrap_or(f64::MAX);
            assert!(bottom <= f64::from(screen.height), "the send button is below the first screen at {size}");
            assert!(browser::axe_violations(&browser).await?.is_empty(), "axe on the rating page at {size}");
            browser::screenshot(&browser, &format!("rate-chosen-{size}-{}", backend.name())).await?;
            send.click().await?;
            browser::wait_for_text(&browser, "Thank you").await?;

            app.new_client()?.post(app.url("/sign-in")).form(&[("email", sam.email.as_str())]).send().await?;
            let mails = app.mail()?.wait_for_emails(&sam.email, n + 1).await?;
            let code = mails.get(n).and_then(|m| m.six_digit_code()).ok_or_else(|| anyhow::anyhow!("no code"))?;
            browser.goto(&app.url("/sign-in/code")).await?;
            browser.find(fantoccini::Locator::Css("#code-email")).await?.send_keys(&sam.email).await?;
            let pasted = format!(" {} {} ", &code[..3], &code[3..]);
            browser.find(fantoccini::Locator::Css("#code")).await?.send_keys(&pasted).await?;
            browser::screenshot(&browser, &format!("code-pasted-{size}-{}", backend.name())).await?;
            browser.find(fantoccini::Locator::Css("form[action='/sign-in/code'] button")).await?.click().await?;
            browser.wait().for_element(fantoccini::Locator::Css("ul.cards, .current-phase")).await?;
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    let id = sam.id.clone();
    let scores: Vec<i32> = app
        .state
        .db
        .run(move |c| {
            use diesel::prelude::*;
            use shared::db::schema::ratings;
            Ok(ratings::table.filter(ratings::client_id.eq(&id)).select(ratings::score).load(c)?)
        })
        .await?;
    // Both links name an email that is not on record: they share one answer, sent by a tap each time.
    assert_eq!(scores, vec![4], "the rating sent by one tap on the button");
    Ok(())
}

/// A long address on a phone, in Spanish: the "check your email" page wraps it
/// after its `@` or before a dot, not mid-word, and nothing runs off the screen.
async fn a_long_address_wraps_at_its_at_sign_or_dots_on_a_phone(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let address = "maria.fernanda.gonzalez.rodriguez@bufete-de-lesiones-personales.example";
    let browser = browser::open(browser::PHONE).await?;
    let outcome = async {
        browser.goto(&app.url("/sign-in")).await?;
        browser.find(fantoccini::Locator::Css("button[name=lang][value=es]")).await?.click().await?;
        browser.wait().for_element(fantoccini::Locator::Css("html[lang=es]")).await?;
        browser.find(fantoccini::Locator::Css("#email")).await?.send_keys(address).await?;
        browser.find(fantoccini::Locator::Css("form[action='/sign-in'] button")).await?.click().await?;
        browser::wait_for_text(&browser, "Revise su correo").await?;
        let html = browser.source().await?;
        assert!(
            html.contains(
                "maria<wbr>.fernanda<wbr>.gonzalez<wbr>.rodriguez@<wbr>bufete-de-lesiones-personales<wbr>.example"
            ),
            "the address has no wrap points: {html}"
        );
        let width = browser.execute("return document.documentElement.scrollWidth", vec![]).await?.as_f64();
        assert_eq!(width, Some(f64::from(browser::PHONE.width)), "the page is wider than the phone");
        browser::screenshot(&browser, &format!("check-email-long-address-390x844-{}", backend.name())).await?;
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

/// "Send" with no file chosen, in Chromium at both sizes and as a plain form
/// post: the upload form comes back (422) saying to choose a file, with the
/// request it was for still selected; no receipt page, nothing stored.
async fn send_with_no_file_chosen_asks_for_a_file_on_the_same_form(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let detail: Value = session.get(&format!("/api/v1/matters/{}", jordan.matter_id)).await?;
    let request_id = detail["open_requests"][0]["id"].as_str().unwrap_or_default().to_owned();
    assert!(!request_id.is_empty(), "the demo matter has an open request: {detail}");
    let documents_before = detail["documents"].as_array().map_or(0, Vec::len);

    // A browser's form with no file chosen sends each file input as an empty part without a name.
    let empty = || reqwest::multipart::Part::bytes(Vec::new()).file_name("").mime_str("application/octet-stream");
    let form = reqwest::multipart::Form::new()
        .text("request", request_id.clone())
        .text("category", "medical_bill")
        .part("file", empty()?)
        .part("file", empty()?);
    let reply = session
        .request(reqwest::Method::POST, &format!("/matters/{}/upload", jordan.matter_id))
        .multipart(form)
        .send()
        .await?;
    assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = reply.text().await?;
    assert!(html.contains(r#"id="upload-form""#), "not the upload form: {html}");
    assert!(html.contains(&format!(r#"name="request" value="{request_id}""#)), "the request was lost");
    let text = main_text(&html);
    assert!(text.contains("Choose at least one file to send."), "{text}");
    assert!(!text.contains("What we received"), "a receipt of nothing: {text}");

    for screen in [browser::PHONE, browser::DESKTOP] {
        let browser = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&browser, &jordan.email).await?;
            browser.goto(&app.url(&format!("/matters/{}/upload", jordan.matter_id))).await?;
            browser.find(fantoccini::Locator::Css("#upload-form button[type=submit]")).await?.click().await?;
            browser::wait_for_text(&browser, "Choose at least one file to send.").await?;
            browser.find(fantoccini::Locator::Css("#upload-form #files")).await?;
            browser::screenshot(
                &browser,
                &format!("upload-none-chosen-{}x{}-{}", screen.width, screen.height, backend.name()),
            )
            .await?;
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    let detail: Value = session.get(&format!("/api/v1/matters/{}", jordan.matter_id)).await?;
    assert_eq!(detail["documents"].as_array().map_or(0, Vec::len), documents_before, "something was stored");
    Ok(())
}

/// Five wrong codes use a sign-in up: the page says so, focus is on that
/// message, and one tap on "Send me a new code" (the address already filled
/// in) mails a new code that works. In Chromium at both sizes.
async fn after_wrong_codes_one_tap_sends_a_new_code(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("sam");
    for (n, screen) in [browser::PHONE, browser::DESKTOP].into_iter().enumerate() {
        let size = format!("{}x{}", screen.width, screen.height);
        app.new_client()?.post(app.url("/sign-in")).form(&[("email", email.as_str())]).send().await?;
        let mails = app.mail()?.wait_for_emails(&email, 2 * n + 1).await?;
        let code = mails[2 * n].six_digit_code().ok_or_else(|| anyhow::anyhow!("no code"))?;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let browser = browser::open(screen).await?;
        let outcome = async {
            for _ in 0..5 {
                browser.goto(&app.url("/sign-in/code")).await?;
                browser.find(fantoccini::Locator::Css("#code-email")).await?.send_keys(&email).await?;
                browser.find(fantoccini::Locator::Css("#code")).await?.send_keys(wrong).await?;
                browser.find(fantoccini::Locator::Css("form[action='/sign-in/code'] button")).await?.click().await?;
                browser::wait_for_text(&browser, "Check the 6-digit code in your newest email").await?;
            }
            let focused = browser.execute("return document.activeElement && document.activeElement.id", vec![]).await?;
            assert_eq!(focused.as_str(), Some("code-error"), "focus is not on the error at {size}");
            let text = browser::main_text(&browser).await?;
            assert!(text.contains("after 5 wrong tries, ask for a new one"), "{text}");
            browser::screenshot(&browser, &format!("code-used-up-{size}-{}", backend.name())).await?;
            // The right code no longer works once the tries are used up...
            let used_up = app
                .new_client()?
                .post(app.url("/sign-in/code"))
                .form(&[("email", email.as_str()), ("code", code.as_str())])
                .send()
                .await?;
            assert_eq!(used_up.status(), StatusCode::UNAUTHORIZED, "a code still worked after 5 wrong tries");
            // ...and one tap asks for a new one, for the address typed.
            browser.find(fantoccini::Locator::Css("form[action='/sign-in'] button.secondary")).await?.click().await?;
            browser::wait_for_text(&browser, "Check your email").await?;
            let mails = app.mail()?.wait_for_emails(&email, 2 * n + 2).await?;
            let fresh = mails[2 * n + 1].six_digit_code().ok_or_else(|| anyhow::anyhow!("no new code"))?;
            let address = browser.find(fantoccini::Locator::Css("#code-email")).await?;
            assert_eq!(address.prop("value").await?.as_deref(), Some(email.as_str()), "the address is filled in");
            browser.find(fantoccini::Locator::Css("#code")).await?.send_keys(&fresh).await?;
            browser.find(fantoccini::Locator::Css("form[action='/sign-in/code'] button")).await?.click().await?;
            browser.wait().for_element(fantoccini::Locator::Css("ul.cards, .current-phase")).await?;
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    Ok(())
}

/// A staff member who mistypes the authenticator code keeps the password
/// typed, with focus on the message; the page is the same for an address
/// without an account and for a wrong password (it tells nothing of which part
/// was wrong). With the right code, the kept password signs in.
async fn a_wrong_authenticator_code_keeps_the_typed_password(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = demo.staff_login("admin")?.clone();
    let code = portal::staff_auth::current_code(&admin.totp_secret)?;
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let page = |email: String, password: String, code: String| {
        let app = &app;
        async move {
            let form = [("email", email), ("password", password), ("code", code)];
            let reply = app.new_client()?.post(app.url("/staff/sign-in")).form(&form).send().await?;
            anyhow::Ok((reply.status(), reply.text().await?))
        }
    };
    let password_field =
        |html: &str| html.split("<input").find(|i| i.contains(r#"id="password""#)).unwrap_or_default().to_owned();
    let (status, html) = page(admin.email.clone(), admin.password.clone(), wrong_code.to_owned()).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(password_field(&html).contains(&format!(r#"value="{}""#, admin.password)), "the password was not kept");
    assert!(html.contains(r#"id="sign-in-error" tabindex="-1" autofocus"#), "focus is not on the message");

    let (_, wrong_password) = page(admin.email.clone(), "not the password".to_owned(), wrong_code.to_owned()).await?;
    assert!(password_field(&wrong_password).contains(r#"value="not the password""#));
    let unknown = format!("nobody@{}", demo.domain);
    let (status, nobody) = page(unknown.clone(), admin.password.clone(), wrong_code.to_owned()).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        main_text(&nobody).replace(&unknown, &admin.email),
        main_text(&html),
        "an unknown address reads differently"
    );

    let kept = password_field(&html)
        .split(r#"value=""#)
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap_or_default()
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`");
    let (status, _) = page(admin.email.clone(), kept, portal::staff_auth::current_code(&admin.totp_secret)?).await?;
    assert_eq!(status, StatusCode::SEE_OTHER, "the kept password with the right code signs in");
    Ok(())
}

on_both_backends!(
    a_wrong_authenticator_code_keeps_the_typed_password,
    after_wrong_codes_one_tap_sends_a_new_code,
    send_with_no_file_chosen_asks_for_a_file_on_the_same_form,
    staff_forms_have_full_size_controls_under_their_labels,
    the_rating_and_code_pages_work_in_chromium,
    a_long_address_wraps_at_its_at_sign_or_dots_on_a_phone,
);
