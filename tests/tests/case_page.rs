//! The client's case page answers three questions on the first phone screen
//! (where the case is and what happens next, what the firm needs with one
//! "Upload now", whom to call), a client with one open case goes straight to
//! it, and a deep link to it survives sign-in without opening a redirect to
//! another site.

use fantoccini::Locator;
use harness::browser::{self, DESKTOP, PHONE};
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// Where a redirect answer points.
fn location(reply: &reqwest::Response) -> Option<String> {
    reply.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// `/` sends a client with exactly one open matter to it (303); with two open
/// matters, `/` is the dashboard listing both.
async fn one_open_case_goes_straight_to_it_two_show_the_dashboard(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;

    let home = session.request(reqwest::Method::GET, "/").send().await?;
    assert_eq!(home.status(), StatusCode::SEE_OTHER, "one open case: straight to it");
    assert_eq!(location(&home), Some(format!("/matters/{}", jordan.matter_id)));

    let admin = app.signed_in_staff(&demo, "admin").await?;
    let second: Value = admin
        .post_json(
            "/api/v1/staff/matters",
            &json!({ "title": "Second claim: ladder fall", "client_ids": [jordan.id] }),
            StatusCode::CREATED,
        )
        .await?;
    assert!(second["id"].is_string(), "no matter made: {second}");
    let home = session.request(reqwest::Method::GET, "/").send().await?;
    assert_eq!(home.status(), StatusCode::OK, "two open cases: the dashboard");
    let text = main_text(&home.text().await?);
    for title in ["Rear-end collision on Route 9", "Second claim: ladder fall"] {
        assert!(text.contains(title), "the dashboard lacks {title:?}: {text}");
    }
    Ok(())
}

/// A signed-out visit to a case page or its upload form goes to sign-in and,
/// after the code (carried in the form) or the emailed link (carried in a
/// cookie), lands on that page. A return path to another site
/// (`//evil.example`, `/\evil.example`, `https://evil.example`) lands on `/`.
async fn a_deep_link_survives_sign_in_and_never_leaves_the_site(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let detail: Value = session.get(&format!("/api/v1/matters/{}", jordan.matter_id)).await?;
    let request_id = detail["open_requests"][0]["id"].as_str().unwrap_or_default().to_owned();
    assert!(!request_id.is_empty(), "Jordan has an open request: {detail}");
    let grant = || {
        let (tokens, id) = (app.state.tokens.clone(), jordan.id.clone());
        app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id))
    };
    let raw = app.raw_client()?;

    for target in
        [format!("/matters/{}", jordan.matter_id), format!("/matters/{}/upload?request={request_id}", jordan.matter_id)]
    {
        let visit = raw.get(app.url(&target)).send().await?;
        assert_eq!(visit.status(), StatusCode::SEE_OTHER, "{target}: signed out");
        let to = location(&visit).unwrap_or_default();
        assert!(to.starts_with("/sign-in?next="), "{target}: sent to {to}");
        let cookie = visit
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("matterline_return="))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
            .ok_or_else(|| anyhow::anyhow!("{target}: no return cookie"))?;

        // The sign-in page carries the path into its form; the code lands there.
        let page = raw.get(app.url(&to)).send().await?.text().await?;
        let hidden = format!(r#"name="next" value="{}""#, target.replace('=', "&#x3D;"));
        assert!(page.contains(&hidden), "{target}: the sign-in form lost the path: {page}");
        let code = grant().await?.code;
        let signed_in = raw
            .post(app.url("/sign-in/code"))
            .form(&[("email", jordan.email.as_str()), ("code", code.as_str()), ("next", target.as_str())])
            .send()
            .await?;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&signed_in).as_deref(), Some(target.as_str()), "the code lands on the deep link");

        // The emailed link, opened in the same browser (the cookie), lands there too.
        let token = grant().await?.token;
        let by_link = raw
            .post(app.url("/sign-in/link"))
            .header(COOKIE, &cookie)
            .form(&[("token", token.as_str())])
            .send()
            .await?;
        assert_eq!(by_link.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&by_link).as_deref(), Some(target.as_str()), "the link lands on the deep link");
    }

    for evil in ["//evil.example", "/\\evil.example", "https://evil.example", "/\t/evil.example"] {
        let page = raw.get(app.url("/sign-in")).query(&[("next", evil)]).send().await?.text().await?;
        let form = page.split(r#"<form method="post" action="/sign-in" class="stack">"#).nth(1).unwrap_or_default();
        let form = form.split("</form>").next().unwrap_or_default();
        assert!(!form.is_empty(), "no sign-in form: {page}");
        assert!(!form.contains(r#"name="next""#), "{evil:?} was put in the sign-in form: {form}");
        let code = grant().await?.code;
        let by_code = raw
            .post(app.url("/sign-in/code"))
            .form(&[("email", jordan.email.as_str()), ("code", code.as_str()), ("next", evil)])
            .send()
            .await?;
        assert_eq!(location(&by_code).as_deref(), Some("/"), "the code followed {evil:?}");
        let token = grant().await?.token;
        let encoded: String = url::form_urlencoded::byte_serialize(evil.as_bytes()).collect();
        let by_link = raw
            .post(app.url("/sign-in/link"))
            .header(COOKIE, format!("matterline_return={encoded}"))
            .form(&[("token", token.as_str())])
            .send()
            .await?;
        assert_eq!(location(&by_link).as_deref(), Some("/"), "the link followed {evil:?}");
    }
    Ok(())
}

/// The rectangle of the first element matching `css`, in viewport pixels: [top, bottom, height, width].
async fn rect(browser: &fantoccini::Client, css: &str) -> anyhow::Result<Vec<f64>> {
    let found = browser
        .execute(
            "const e = document.querySelector(arguments[0]);\n\
             if (!e) return null;\n\
             const r = e.getBoundingClientRect();\n\
             return [r.top, r.bottom, r.height, r.width];",
            vec![json!(css)],
        )
        .await?;
    let numbers: Vec<f64> = found.as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
    anyhow::ensure!(numbers.len() == 4, "no element {css} on the page");
    Ok(numbers)
}

/// At 390×844 the phase, "Upload now" and the Call button are all on the first
/// screen without scrolling (Call in a bar fixed at the bottom, which covers
/// nothing: "Upload now" is above it and the page's end scrolls clear of it);
/// at 1280×800 the contact block with Call and Email is on the first screen
/// and there is no bar. Both sizes axe-clean, in English and Spanish; a case
/// with nothing needed shows the calm panel, not an empty list.
async fn the_three_answers_and_a_call_are_on_the_first_phone_screen(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let mut faults = Vec::new();
    for screen in [PHONE, DESKTOP] {
        let size = format!("{}x{}", screen.width, screen.height);
        let browser = browser::open(screen).await?;
        let outcome = async {
            for who in ["jordan", "lucia", "sam"] {
                let client = app.client(&demo.email(who)).await?;
                app.sign_in_browser(&browser, &client.email).await?;
                browser.goto(&app.url(&format!("/matters/{}", client.matter_id))).await?;
                browser.wait().for_element(Locator::Css(".phase-name")).await?;
                browser::screenshot(&browser, &format!("case-page-{who}-{size}-{}", backend.name())).await?;
                let text = browser::main_text(&browser).await?;
                let phase = rect(&browser, ".phase-name").await?;
                assert!(
                    phase[1] <= f64::from(screen.height),
                    "{who} at {size}: the phase is below the fold: {phase:?}"
                );
                if who == "jordan" {
                    assert!(text.contains("Current step: Records and bills"), "{text}");
                    assert!(text.contains("Step 4 of 10"), "no compact progress: {text}");
                    assert!(text.contains("We need 1 document from you"), "{text}");
                    let upload = rect(&browser, "a.upload-now").await?;
                    assert!(upload[2] >= 44.0, "Upload now is {}px tall", upload[2]);
                    let bar_top =
                        if screen.mobile { rect(&browser, ".contact-bar").await?[0] } else { f64::from(screen.height) };
                    assert!(
                        upload[1] <= bar_top,
                        "{who} at {size}: Upload now (bottom {}) is not on the first screen above {bar_top}",
                        upload[1]
                    );
                    let href =
                        browser.find(Locator::Css("a.upload-now")).await?.attr("href").await?.unwrap_or_default();
                    assert!(href.contains("/upload?request="), "Upload now is not for the request: {href}");
                }
                if who == "sam" {
                    assert!(text.contains("Nothing needed from you right now"), "no calm panel: {text}");
                    assert!(browser.find(Locator::Css(".calm-panel")).await.is_ok());
                    assert!(
                        browser.find(Locator::Css("a.upload-now")).await.is_err(),
                        "Upload now with nothing needed"
                    );
                }
                if screen.mobile {
                    let call = rect(&browser, ".contact-bar a[href^='tel:']").await?;
                    assert!(
                        call[1] <= f64::from(screen.height) && call[0] >= 0.0,
                        "{who}: Call is off screen: {call:?}"
                    );
                    assert!(call[2] >= 44.0 && call[3] >= 44.0, "{who}: the Call button is {call:?}");
                    // Scrolled to the end, the bar hides nothing: the footer's last line clears it.
                    browser.execute("window.scrollTo(0, document.body.scrollHeight);", vec![]).await?;
                    let footer = rect(&browser, ".site-footer").await?;
                    let bar = rect(&browser, ".contact-bar").await?;
                    assert!(footer[1] <= bar[0] + 1.0, "{who}: the bar covers the page's end: {footer:?} {bar:?}");
                    browser.execute("window.scrollTo(0, 0);", vec![]).await?;
                    // The full list of steps is folded away on a phone.
                    let open = browser.execute("return document.querySelector('.all-steps').open;", vec![]).await?;
                    assert_eq!(open, json!(false), "the steps list is open on a phone");
                } else {
                    let shown = browser
                        .execute("return getComputedStyle(document.querySelector('.contact-bar')).display;", vec![])
                        .await?;
                    assert_eq!(shown, json!("none"), "the phone bar shows on a desktop");
                    let call = rect(&browser, ".contact-panel a.button[href^='tel:']").await?;
                    assert!(call[1] <= f64::from(screen.height), "{who} at {size}: Call is below the fold: {call:?}");
                }
                for v in browser::axe_violations(&browser).await? {
                    faults.push(format!("{who} at {size}: {v}"));
                }
            }
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    assert!(faults.is_empty(), "accessibility faults:\n{}", faults.join("\n"));
    Ok(())
}

/// The case page's data and the API's matter come from one statement each,
/// the session check included, counted on the connection that runs it (with
/// the phase catalogue already kept in the process, as on every page after
/// the first). Another client's matter is not found, in that statement too.
/// Holding the page at the matter's version, the check is one statement that
/// reads nothing of the matter; holding an older version, a second reads it.
async fn the_case_page_is_one_statement(backend: Backend) -> anyhow::Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diesel::Connection as _;
    use diesel::connection::InstrumentationEvent;
    use shared::matter_page::{self, Wanted};

    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let sam = app.client(&demo.email("sam")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let page = session.request(reqwest::Method::GET, &format!("/matters/{}", jordan.matter_id)).send().await?;
    assert_eq!(page.status(), StatusCode::OK, "Jordan's case page");

    let (tokens, token) = (app.state.tokens.clone(), session.token.clone());
    let (mine, theirs) = (jordan.matter_id.clone(), sam.matter_id.clone());
    let loads = app
        .state
        .db
        .run(move |conn| {
            let started = Arc::new(AtomicUsize::new(0));
            let count = started.clone();
            conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                if matches!(event, InstrumentationEvent::StartQuery { .. }) {
                    count.fetch_add(1, Ordering::SeqCst);
                }
            });
            let mut loads = Vec::new();
            for (matter, wanted) in [(&mine, Wanted::Page), (&mine, Wanted::Detail), (&theirs, Wanted::Page)] {
                let before = started.load(Ordering::SeqCst);
                let (viewer, page) = matter_page::load(conn, &tokens, &token, matter, wanted, shared::domain::now())?;
                let statements = started.load(Ordering::SeqCst) - before;
                loads.push((
                    wanted,
                    statements,
                    viewer.user.id,
                    page.map(|p| (p.detail.id, p.detail.milestones.len())),
                ));
            }
            // Holding the page at the matter's version: one statement, and nothing read.
            // Holding an older one: a second statement reads the matter.
            let (_, page) = matter_page::load(conn, &tokens, &token, &mine, Wanted::Page, shared::domain::now())?;
            let current = page?.stamp.version;
            let mut since = Vec::new();
            for held in [current, current - 1] {
                let before = started.load(Ordering::SeqCst);
                let (_, loaded) =
                    matter_page::load_since(conn, &tokens, &token, &mine, Wanted::Page, shared::domain::now(), |_| {
                        Some(held)
                    })?;
                let statements = started.load(Ordering::SeqCst) - before;
                since.push((held, statements, loaded?));
            }
            Ok((loads, since))
        })
        .await?;
    let (loads, since) = loads;
    match &since[..] {
        [(_, 1, matter_page::Loaded::Unchanged { .. }), (_, 2, matter_page::Loaded::Read(page))] => {
            assert_eq!(page.detail.id, jordan.matter_id);
        }
        other => panic!("held at the current version, then an older one: {other:?}"),
    }
    for (n, (wanted, statements, viewer, page)) in loads.into_iter().enumerate() {
        assert_eq!(statements, 1, "load {n} ({wanted:?}) took {statements} statements");
        assert_eq!(viewer, jordan.id, "load {n}: the session's user");
        match (n, page) {
            (0 | 1, Ok((id, milestones))) => {
                assert_eq!(id, jordan.matter_id, "load {n}: Jordan's matter");
                assert!(milestones > 0, "load {n}: Jordan's matter shows its milestones");
            }
            (2, Err(shared::Error::NotFound)) => {}
            (n, other) => panic!("load {n}: {other:?}"),
        }
    }
    Ok(())
}

on_both_backends!(
    one_open_case_goes_straight_to_it_two_show_the_dashboard,
    a_deep_link_survives_sign_in_and_never_leaves_the_site,
    the_three_answers_and_a_call_are_on_the_first_phone_screen,
    the_case_page_is_one_statement,
);
