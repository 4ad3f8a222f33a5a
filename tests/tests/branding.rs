//! The firm, not the software: every page a client sees carries the firm's
//! name, logo and colour, signed in or not; the settings a firm fills in for
//! it (accent colour checked for contrast, logo sniffed and limited, public
//! host), and the weekly schedule and time zone chosen from lists, not typed.

use harness::brand_files::logo_png;
use harness::browser;
use harness::files;
use harness::pages::main_text;
use harness::session::Session;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, HOST};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::tokens::Purpose;

/// The dark red of the screenshots (white text on it: 9.4:1).
const DARK_RED: &str = "#8b1a1a";

/// A page post as the browser of `session`'s user sends it (session cookie, the portal's Origin).
fn page_post(app: &TestApp, session: &Session, path: &str) -> anyhow::Result<reqwest::RequestBuilder> {
    Ok(app.raw_client()?.post(app.url(path)).header("Cookie", format!("matterline_session={}", session.token)))
}

/// A page fetched as `session`'s user.
async fn page_get(app: &TestApp, session: &Session, path: &str) -> anyhow::Result<String> {
    let answer = app
        .raw_client()?
        .get(app.url(path))
        .header("Cookie", format!("matterline_session={}", session.token))
        .send()
        .await?;
    anyhow::ensure!(answer.status() == StatusCode::OK, "GET {path}: {}", answer.status());
    Ok(answer.text().await?)
}

/// The settings form's usual fields, plus `extra`.
fn settings_form(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> =
        [("name", "Demo Injury Law"), ("time_zone", "America/Chicago"), ("phone", "+1 555 0100"), ("look", "1")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    for (k, v) in extra {
        form.retain(|(key, _)| key != k);
        form.push(((*k).to_owned(), (*v).to_owned()));
    }
    form
}

/// The text of `<header>` in a page.
fn header_of(html: &str) -> &str {
    let start = html.find("<header").unwrap_or(0);
    let end = html.find("</header>").unwrap_or(html.len());
    &html[start..end]
}

/// A colour too light for white text is refused with the contrast it has and
/// needs (API and settings page), and nothing is stored; a dark red is kept
/// and every page then links the stylesheet that sets it, which serves the
/// colour with its shades, cacheable forever.
async fn a_light_accent_is_refused_with_its_contrast_and_a_dark_one_reaches_every_page(
    backend: Backend,
) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let refused: Value = admin
        .patch_json("/api/v1/staff/settings", &json!({ "accent_colour": "#ffd700" }), StatusCode::UNPROCESSABLE_ENTITY)
        .await?;
    let reason = refused["error"].as_str().unwrap_or_default().to_owned();
    assert!(reason.starts_with("accent_colour:") && reason.contains("too light"), "{reason}");
    assert!(reason.contains(":1") && reason.contains("4.5:1"), "the reason gives the contrast: {reason}");

    let page = page_post(&app, &admin, "/staff/settings")?
        .form(&settings_form(&[("accent_colour", "#f0f0f0")]))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = main_text(&page.text().await?);
    assert!(text.contains("accent_colour") && text.contains("too light"), "{text}");
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["accent_colour"], Value::Null, "a refused colour was stored: {settings}");

    let saved = page_post(&app, &admin, "/staff/settings")?
        .form(&settings_form(&[("accent_colour", "#8B1A1A")]))
        .send()
        .await?;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["accent_colour"], DARK_RED, "{settings}");

    let stylesheet = format!("/brand/{}/accent-8b1a1a.css", demo.firm_id);
    let link = format!(r#"<link rel="stylesheet" href="{stylesheet}">"#);
    let sign_in = app.get("/sign-in").await?.text().await?;
    assert!(sign_in.contains(&link), "the sign-in page lacks the firm's colour: {sign_in}");
    assert!(sign_in.contains(r##"<meta name="theme-color" content="#8b1a1a">"##), "{sign_in}");
    let sam = app.client(&demo.email("sam")).await?;
    let client = app.signed_in_client(&sam.email).await?;
    let case = page_get(&app, &client, &format!("/matters/{}", sam.matter_id)).await?;
    assert!(case.contains(&link), "the case page lacks the firm's colour");
    assert!(page_get(&app, &admin, "/staff/settings").await?.contains(r##"type="color" value="#8b1a1a""##));

    let css = app.get(&stylesheet).await?;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()),
        Some("public, max-age=31536000, immutable")
    );
    assert!(css.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().starts_with("text/css"));
    let body = css.text().await?;
    assert!(body.contains("--brand:#8b1a1a") && body.contains("--brand-dark:#681313"), "{body}");
    let light = app.get(&format!("/brand/{}/accent-ffd700.css", demo.firm_id)).await?;
    assert_eq!(light.status(), StatusCode::NOT_FOUND, "a stylesheet for an unreadable colour");
    Ok(())
}

/// Logos are judged by their bytes: a PNG named `.jpg` is a PNG; a text file,
/// an SVG and a picture over 512 KB are refused with a readable reason, by
/// the API and the settings page alike; the logo route serves the current
/// logo in its type, cacheable forever, and 404 for an old digest.
async fn logos_are_sniffed_limited_and_served_by_digest(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let casey = app.signed_in_staff(&demo, "casey").await?;
    let put = |session: &Session, bytes: Vec<u8>, content_type: &'static str| {
        session.request(Method::PUT, "/api/v1/staff/settings/logo").header(CONTENT_TYPE, content_type).body(bytes)
    };

    // A PNG named as a JPEG, through the page's form: stored as the PNG it is.
    let png = files::png(4000);
    let form = reqwest::multipart::Form::new()
        .part("logo", reqwest::multipart::Part::bytes(png.clone()).file_name("logo.jpg").mime_str("image/jpeg")?);
    let saved = page_post(&app, &admin, "/staff/settings/logo")?.multipart(form).send().await?;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "{}", saved.text().await?);
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    let first = settings["logo"].as_str().unwrap_or_default().to_owned();
    assert_eq!(first, format!("/brand/{}/logo/{}", demo.firm_id, files::sha256(&png)), "{settings}");
    let served = app.get(&first).await?;
    assert_eq!(served.status(), StatusCode::OK);
    let header = |r: &reqwest::Response, name| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header(&served, CONTENT_TYPE).as_deref(), Some("image/png"), "the stored type, not the name's");
    assert_eq!(header(&served, CACHE_CONTROL).as_deref(), Some("public, max-age=31536000, immutable"));
    assert_eq!(header(&served, reqwest::header::X_CONTENT_TYPE_OPTIONS).as_deref(), Some("nosniff"));
    assert_eq!(served.bytes().await?.as_ref(), png.as_slice());

    // Refusals, each with its reason, through the API and the page.
    let mut big = files::png(512 * 1024 + 1);
    big.truncate(512 * 1024 + 1);
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>alert(1)</script></svg>"#;
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("notes.png", b"Smith Law, our logo, in words".to_vec(), "must be a PNG, JPEG or WebP picture"),
        ("logo.svg", svg.to_vec(), "cannot be an SVG"),
        ("huge.png", big, "must be at most 512 KB"),
    ];
    for (name, bytes, reason) in cases {
        let answer = put(&admin, bytes.clone(), "image/png").send().await?;
        assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name} through the API");
        let error: Value = answer.json().await?;
        assert!(error["error"].as_str().unwrap_or_default().contains(reason), "{name}: {error}");
        let form = reqwest::multipart::Form::new()
            .part("logo", reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str("image/png")?);
        let page = page_post(&app, &admin, "/staff/settings/logo")?.multipart(form).send().await?;
        assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name} through the page");
        let text = main_text(&page.text().await?);
        assert!(text.contains(reason), "{name}: {text}");
    }
    let unchanged: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(unchanged["logo"], first.as_str(), "a refused logo replaced the stored one");
    let forbidden = put(&casey, files::png(2000), "image/png").send().await?;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN, "a case manager changed the logo");

    // A new logo (a JPEG through the API): the old digest is gone, the new one served.
    let jpeg = files::jpeg(6000);
    let replaced = put(&admin, jpeg.clone(), "application/octet-stream").send().await?;
    assert_eq!(replaced.status(), StatusCode::OK);
    let second = replaced.json::<Value>().await?["logo"].as_str().unwrap_or_default().to_owned();
    assert_ne!(second, first);
    let stale = app.get(&first).await?;
    assert_eq!(stale.status(), StatusCode::NOT_FOUND, "the old digest still answers");
    assert_eq!(header(&stale, reqwest::header::X_CONTENT_TYPE_OPTIONS).as_deref(), Some("nosniff"));
    let fresh = app.get(&second).await?;
    assert_eq!(header(&fresh, CONTENT_TYPE).as_deref(), Some("image/jpeg"));
    let other_firm = app.get(&second.replace(&demo.firm_id, "another-firm")).await?;
    assert_eq!(other_firm.status(), StatusCode::NOT_FOUND);
    let sign_in = app.get("/sign-in").await?.text().await?;
    assert!(
        header_of(&sign_in).contains(&format!(r#"<img class="brand-logo" src="{second}" alt="Demo Injury Law""#)),
        "the signed-out header lacks the logo: {}",
        header_of(&sign_in)
    );

    // Removed (the page's button): the route answers 404 and pages show the name alone.
    let removed = page_post(&app, &admin, "/staff/settings/logo/remove")?.send().await?;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&second).await?.status(), StatusCode::NOT_FOUND);
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["logo"], Value::Null);
    let audit: Value = admin.get("/api/v1/staff/audit?action=firm.update").await?;
    let details: Vec<&str> = audit.as_array().into_iter().flatten().filter_map(|e| e["detail"].as_str()).collect();
    for detail in ["logo", "logo_removed"] {
        assert!(details.contains(&detail), "no audit entry {detail}: {audit}");
    }
    Ok(())
}

/// Signed out, a page shows the firm it is for: with one firm, that firm (and
/// its phone in the footer, not a pointer to a case page the visitor cannot
/// see); with two, the firm whose public host the request names, a token's
/// client's firm on a rating or sign-in link page, else the product's name.
async fn signed_out_pages_show_the_firm_of_the_host_the_token_or_the_only_one(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let sign_in = app.get("/sign-in").await?.text().await?;
    assert!(header_of(&sign_in).contains("Demo Injury Law"), "one firm: its name: {}", header_of(&sign_in));
    assert!(sign_in.contains("<title>Sign in to see your case · Demo Injury Law</title>"), "{sign_in}");
    assert!(
        sign_in.contains("Questions? Call Demo Injury Law at")
            && sign_in.contains(r#"href="tel:+15550100">+1 555 0100</a>"#)
    );
    assert!(!sign_in.contains("case page"), "the signed-out footer points to the case page");
    let missing = app.get("/no-such-page").await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(header_of(&missing.text().await?).contains("Demo Injury Law"), "the 404 page lacks the firm");

    // A second firm on the same portal, with its own address.
    let second = app.seed_demo().await?;
    let second_admin = app.signed_in_staff(&second, "admin").await?;
    let _: Value = second_admin
        .patch_json(
            "/api/v1/staff/settings",
            &json!({ "name": "Second Street Law", "phone": "", "public_host": "Portal.SecondStreet.example" }),
            StatusCode::OK,
        )
        .await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let taken: Value = admin
        .patch_json(
            "/api/v1/staff/settings",
            &json!({ "public_host": "portal.secondstreet.example" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await?;
    assert!(taken["error"].as_str().unwrap_or_default().contains("another firm"), "{taken}");
    let bad: Value = admin
        .patch_json(
            "/api/v1/staff/settings",
            &json!({ "public_host": "https://smith.example/x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await?;
    assert!(bad["error"].as_str().unwrap_or_default().starts_with("public_host:"), "{bad}");

    let on_host =
        |path: &str| app.raw_client().map(|c| c.get(app.url(path)).header(HOST, "portal.secondstreet.example:443"));
    let page = on_host("/sign-in")?.send().await?.text().await?;
    assert!(header_of(&page).contains("Second Street Law"), "by host: {}", header_of(&page));
    assert!(page.contains("Questions about your case? Call your legal team."), "no phone: the neutral line");
    let code = on_host("/sign-in/code")?.send().await?.text().await?;
    assert!(header_of(&code).contains("Second Street Law"));
    let error = on_host("/no-such-page")?.send().await?.text().await?;
    assert!(header_of(&error).contains("Second Street Law"), "an error page by host: {}", header_of(&error));

    let plain = app.get("/sign-in").await?.text().await?;
    assert!(header_of(&plain).contains("Matterline"), "two firms, no host: the product: {}", header_of(&plain));
    assert!(!header_of(&plain).contains("Demo Injury Law") && !header_of(&plain).contains("Second Street Law"));

    // A token names its client's firm, whatever the host.
    let sam = app.client(&demo.email("sam")).await?;
    let rating = app.state.tokens.issue(Purpose::Rating, &sam.id, "weekly", chrono::Duration::days(7))?;
    let rate = app.get(&format!("/rate?token={rating}&score=5")).await?.text().await?;
    assert!(header_of(&rate).contains("Demo Injury Law"), "rating page: {}", header_of(&rate));
    let sent =
        app.new_client()?.post(app.url("/rate")).form(&[("token", rating.as_str()), ("score", "5")]).send().await?;
    assert!(header_of(&sent.text().await?).contains("Demo Injury Law"), "the thank-you page");
    let unsubscribe = app.state.tokens.issue(Purpose::Unsubscribe, &sam.id, "u", chrono::Duration::days(7))?;
    let page = on_host(&format!("/unsubscribe?token={unsubscribe}"))?.send().await?.text().await?;
    assert!(header_of(&page).contains("Demo Injury Law"), "the token wins over the host: {}", header_of(&page));
    let (tokens, id) = (app.state.tokens.clone(), sam.id.clone());
    let link = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?.token;
    let page = app.get(&format!("/sign-in/link?token={link}")).await?.text().await?;
    assert!(header_of(&page).contains("Demo Injury Law"), "sign-in link page: {}", header_of(&page));

    // Signed in, the footer still points to the case page.
    let client = app.signed_in_client(&sam.email).await?;
    let case = page_get(&app, &client, &format!("/matters/{}", sam.matter_id)).await?;
    assert!(case.contains("their number is on your case page"), "signed in: the case page pointer");
    Ok(())
}

/// The weekly schedule is a weekday and a time: the form writes the cron
/// expression, the page shows the same choice back; a cron expression of
/// another shape (set through the API, which still takes cron) is shown as a
/// custom schedule, kept unless replaced. The time zone is a list with the
/// firm's zone selected once, common US zones first with readable names.
async fn the_weekday_picker_and_zone_list_round_trip(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let saved = page_post(&app, &admin, "/staff/settings")?
        .form(&settings_form(&[("weekly_day", "Thu"), ("weekly_time", "07:30"), ("time_zone", "America/Denver")]))
        .send()
        .await?;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["weekly_schedule"], "0 30 7 * * Thu", "{settings}");
    assert_eq!(settings["time_zone"], "America/Denver");
    let page = page_get(&app, &admin, "/staff/settings").await?;
    assert!(page.contains(r#"<option value="Thu" selected>Thursday</option>"#), "the day chosen is not shown");
    assert!(
        page.contains(r#"id="weekly_time" name="weekly_time" type="time" value="07:30""#),
        "the time chosen is not shown"
    );
    assert!(page.contains(r#"<option value="America/Denver" selected>Mountain Time — America/Denver</option>"#));
    assert_eq!(page.matches(" selected>").count(), 2, "one zone and one day selected");
    assert!(page.contains("<option>Europe/Madrid</option>") && page.contains("<option>UTC</option>"));
    assert!(!page.contains("Custom schedule"));

    // A zone outside the common ones is selected in the full list.
    let _: Value =
        admin.patch_json("/api/v1/staff/settings", &json!({ "time_zone": "Europe/Madrid" }), StatusCode::OK).await?;
    let page = page_get(&app, &admin, "/staff/settings").await?;
    assert!(page.contains("<option selected>Europe/Madrid</option>"), "the firm's zone is not selected");

    // A custom cron expression: shown read-only, kept by a save, replaced when asked.
    let _: Value = admin
        .patch_json("/api/v1/staff/settings", &json!({ "weekly_schedule": "0 0 9 * * Mon-Fri" }), StatusCode::OK)
        .await?;
    let page = page_get(&app, &admin, "/staff/settings").await?;
    let text = main_text(&page);
    assert!(text.contains("Custom schedule (set through the API): 0 0 9 * * Mon-Fri"), "{text}");
    assert!(page.contains(r#"name="replace_schedule""#), "no way to replace the custom schedule");
    let kept = page_post(&app, &admin, "/staff/settings")?
        .form(&settings_form(&[("weekly_day", ""), ("weekly_time", "09:00"), ("custom_schedule", "1")]))
        .send()
        .await?;
    assert_eq!(kept.status(), StatusCode::SEE_OTHER);
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["weekly_schedule"], "0 0 9 * * Mon-Fri", "a save without replacing changed it");
    let replaced = page_post(&app, &admin, "/staff/settings")?
        .form(&settings_form(&[
            ("weekly_day", "Fri"),
            ("weekly_time", "16:05"),
            ("custom_schedule", "1"),
            ("replace_schedule", "1"),
        ]))
        .send()
        .await?;
    assert_eq!(replaced.status(), StatusCode::SEE_OTHER);
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["weekly_schedule"], "0 5 16 * * Fri");
    // The day left at "the server's default" clears the firm's own schedule.
    let cleared =
        page_post(&app, &admin, "/staff/settings")?.form(&settings_form(&[("weekly_day", "")])).send().await?;
    assert_eq!(cleared.status(), StatusCode::SEE_OTHER);
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["weekly_schedule"], Value::Null);
    // Reply-To the case manager: ticked and unticked through the page.
    let ticked = page_post(&app, &admin, "/staff/settings")?
        .form(&settings_form(&[("reply_to_case_manager", "1")]))
        .send()
        .await?;
    assert_eq!(ticked.status(), StatusCode::SEE_OTHER);
    assert_eq!(admin.get::<Value>("/api/v1/staff/settings").await?["reply_to_case_manager"], true);
    page_post(&app, &admin, "/staff/settings")?.form(&settings_form(&[])).send().await?;
    assert_eq!(admin.get::<Value>("/api/v1/staff/settings").await?["reply_to_case_manager"], false);
    Ok(())
}

on_both_backends!(
    a_light_accent_is_refused_with_its_contrast_and_a_dark_one_reaches_every_page,
    logos_are_sniffed_limited_and_served_by_digest,
    signed_out_pages_show_the_firm_of_the_host_the_token_or_the_only_one,
    the_weekday_picker_and_zone_list_round_trip,
);

/// The firm's look in Chromium at phone and desktop sizes, with a logo and a
/// dark-red accent: sign-in, code page, an error page (signed out), the case
/// page and the settings page (signed in) show the logo in the header at a
/// sensible size and use the accent, axe-core clean (colour contrast
/// included), the settings form's labels above their controls.
async fn the_firm_look_in_chromium(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let _: Value =
        admin.patch_json("/api/v1/staff/settings", &json!({ "accent_colour": DARK_RED }), StatusCode::OK).await?;
    let logo = admin
        .request(Method::PUT, "/api/v1/staff/settings/logo")
        .body(logo_png(240, 64, [0x8b, 0x1a, 0x1a]))
        .send()
        .await?;
    assert_eq!(logo.status(), StatusCode::OK);
    let jordan = app.client(&demo.email("jordan")).await?;
    let signed_out = [
        ("sign-in", "/sign-in".to_owned()),
        ("code", "/sign-in/code".to_owned()),
        ("not-found", "/no-such-page".to_owned()),
    ];
    let signed_in = [
        (demo.email("jordan"), "case", format!("/matters/{}", jordan.matter_id)),
        (demo.email("admin"), "settings", "/staff/settings".to_owned()),
    ];
    let mut faults = Vec::new();
    for screen in [browser::PHONE, browser::DESKTOP] {
        let size = format!("{}x{}", screen.width, screen.height);
        let browser = browser::open(screen).await?;
        let outcome = async {
            for (name, path) in &signed_out {
                browser.goto(&app.url(path)).await?;
                look(&browser, &format!("{name}-{size}-{}", backend.name()), screen, &mut faults).await?;
            }
            for (email, name, path) in &signed_in {
                browser.delete_all_cookies().await?;
                app.sign_in_browser(&browser, email).await?;
                browser.goto(&app.url(path)).await?;
                look(&browser, &format!("{name}-{size}-{}", backend.name()), screen, &mut faults).await?;
                if *name == "settings" {
                    for fault in browser::form_layout_faults(&browser).await? {
                        faults.push(format!("settings at {size}: {fault}"));
                    }
                    // The schedule picker and the firm's look, further down the form.
                    for (part, id) in [("schedule", "weekly_day"), ("look", "accent_colour"), ("logo", "logo-title")] {
                        browser
                            .execute(
                                &format!("document.getElementById('{id}').scrollIntoView({{block: 'center'}})"),
                                vec![],
                            )
                            .await?;
                        browser::screenshot(&browser, &format!("brand-settings-{part}-{size}-{}", backend.name()))
                            .await?;
                    }
                }
            }
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
    }
    assert!(faults.is_empty(), "the firm's look:\n{}", faults.join("\n"));
    Ok(())
}

/// Checks the firm's look on the page `browser` shows (named `name` in faults
/// and the screenshot's file name): the accent in `--brand`, the logo loaded
/// at a sensible height with the firm's name as its text, the header not
/// blown up, nothing wider than the screen, axe-core clean.
async fn look(
    browser: &fantoccini::Client,
    name: &str,
    screen: browser::Screen,
    faults: &mut Vec<String>,
) -> anyhow::Result<()> {
    let found = browser
        .execute(
            "const img = document.querySelector('header .brand-logo');\n\
             const header = document.querySelector('.site-header .bar').getBoundingClientRect();\n\
             return [getComputedStyle(document.documentElement).getPropertyValue('--brand').trim(),\n\
               img ? img.naturalWidth : 0, img ? img.getBoundingClientRect().height : 0,\n\
               img ? img.alt : '', header.height, document.documentElement.scrollWidth,\n\
               [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)\n\
                 .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(-3).join(' ')];",
            vec![],
        )
        .await?;
    let values = found.as_array().cloned().unwrap_or_default();
    let number = |i: usize| values.get(i).and_then(Value::as_f64).unwrap_or(0.0);
    if values.first().and_then(Value::as_str) != Some(DARK_RED) {
        faults.push(format!("{name}: --brand is {:?}", values.first()));
    }
    if number(1) < 1.0 {
        faults.push(format!("{name}: the logo did not load"));
    }
    if !(30.0..=48.0).contains(&number(2)) {
        faults.push(format!("{name}: the logo is {} px high", number(2)));
    }
    if values.get(3).and_then(Value::as_str) != Some("Demo Injury Law") {
        faults.push(format!("{name}: the logo's alt is {:?}", values.get(3)));
    }
    if number(4) > 140.0 {
        faults.push(format!("{name}: the header bar is {} px high", number(4)));
    }
    if number(5) > f64::from(screen.width) {
        faults.push(format!("{name}: the page is wider than the screen: {:?}", values.get(6)));
    }
    for fault in browser::axe_violations(browser).await? {
        faults.push(format!("{name}: axe {fault}"));
    }
    browser::screenshot(browser, &format!("brand-{name}")).await?;
    Ok(())
}

on_both_backends!(the_firm_look_in_chromium);
