//! The acceptance story in a real browser: a client asks for a link, opens it
//! from the email, sees the current phase and what is needed, switches to
//! Spanish, signs out and is refused afterwards. Screenshots at phone and
//! desktop sizes land in target/screenshots/.

use fantoccini::Locator;
use harness::browser::{self, DESKTOP, PHONE, main_text, screenshot, wait_for_text};
use harness::maildev::wait_for_emails;
use harness::{Backend, TestApp, on_both_backends};

async fn a_client_follows_the_emailed_link_in_chromium(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_smtp().spawn().await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("jordan");
    let tag = backend.name();

    let desktop = browser::open(DESKTOP).await?;
    let outcome = async {
        desktop.goto(&app.url("/sign-in")).await?;
        desktop.find(Locator::Css("#email")).await?.send_keys(&email).await?;
        desktop.find(Locator::Css("form[action='/sign-in'] button[type=submit]")).await?.click().await?;
        wait_for_text(&desktop, "Check your email").await?;

        let mail = wait_for_emails(&email, 1).await?.remove(0);
        let link = mail.link_containing("/sign-in/link?token=").ok_or_else(|| anyhow::anyhow!("no link"))?;
        desktop.goto(&link).await?;
        desktop.find(Locator::Css("form[action='/sign-in/link'] button")).await?.click().await?;

        let dashboard = wait_for_text(&desktop, "Current step: Records and bills").await?;
        assert!(dashboard.contains("We need 1 document from you"), "{dashboard}");
        assert_eq!(screenshot(&desktop, &format!("dashboard-1280x800-{tag}")).await?, (DESKTOP.width, DESKTOP.height));

        // One open case: the sign-in lands straight on it.
        let matter = wait_for_text(&desktop, "Where your case is now").await?;
        assert!(matter.contains("Records and bills"), "{matter}");
        assert!(matter.contains("Bills from your physical therapist"), "{matter}");
        let matter_url = desktop.current_url().await?;
        assert_eq!(screenshot(&desktop, &format!("matter-1280x800-{tag}")).await?, (DESKTOP.width, DESKTOP.height));

        // The same pages on a phone, with the same session.
        let cookie = desktop.get_named_cookie("matterline_session").await?;
        let phone = browser::open(PHONE).await?;
        let phone_outcome = async {
            phone.goto(&app.url("/healthz")).await?;
            phone.add_cookie(cookie.clone()).await?;
            phone.goto(&app.url("/")).await?;
            wait_for_text(&phone, "Current step: Records and bills").await?;
            assert_eq!(screenshot(&phone, &format!("dashboard-390x844-{tag}")).await?, (PHONE.width, PHONE.height));
            // Nothing wider than the screen: no sideways scrolling on a phone.
            let overflow = phone.execute("return document.documentElement.scrollWidth", vec![]).await?;
            assert_eq!(overflow.as_u64(), Some(u64::from(PHONE.width)), "the dashboard scrolls sideways");
            phone.goto(matter_url.as_str()).await?;
            wait_for_text(&phone, "Where your case is now").await?;
            assert_eq!(screenshot(&phone, &format!("matter-390x844-{tag}")).await?, (PHONE.width, PHONE.height));
            let overflow = phone.execute("return document.documentElement.scrollWidth", vec![]).await?;
            assert_eq!(overflow.as_u64(), Some(u64::from(PHONE.width)), "the matter page scrolls sideways");
            anyhow::Ok(())
        }
        .await;
        phone.close().await?;
        phone_outcome?;

        // Switch to Spanish with the button on the page.
        desktop.find(Locator::Css("button[name=lang][value=es]")).await?.click().await?;
        let spanish = wait_for_text(&desktop, "Dónde está su caso ahora").await?;
        assert!(spanish.contains("Expedientes y facturas"), "{spanish}");
        assert!(spanish.contains("Necesitamos 1 documento de usted"), "{spanish}");
        let lang = desktop.find(Locator::Css("html")).await?.attr("lang").await?;
        assert_eq!(lang.as_deref(), Some("es"));

        // Sign out, then the matter page is out of reach.
        desktop.find(Locator::Css("form[action='/sign-out'] button")).await?.click().await?;
        wait_for_text(&desktop, "Ha cerrado sesión").await?;
        desktop.goto(matter_url.as_str()).await?;
        wait_for_text(&desktop, "Inicie sesión para ver su caso").await?;
        assert_eq!(desktop.current_url().await?.path(), "/sign-in");
        assert!(!main_text(&desktop).await?.contains("Expedientes y facturas"));
        anyhow::Ok(())
    }
    .await;
    desktop.close().await?;
    outcome
}

/// A client sends a PDF and a photo through the upload page (with the page's
/// own script, so the progress bar path runs) and reads the receipt.
async fn a_client_uploads_a_pdf_and_a_photo_in_chromium(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_s3().spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let dir = app.db.dir.path();
    let (pdf, jpeg) = (dir.join("physio bill.pdf"), dir.join("knee.jpg"));
    std::fs::write(&pdf, harness::files::pdf(120 * 1024))?;
    std::fs::write(&jpeg, harness::files::jpeg(900 * 1024))?;

    let browser = browser::open(PHONE).await?;
    let outcome = async {
        browser.goto(&app.url(&format!("/sign-in/link?token={}", grant.token))).await?;
        browser.find(Locator::Css("form[action='/sign-in/link'] button")).await?.click().await?;
        wait_for_text(&browser, "Current step: Records and bills").await?;
        browser.goto(&app.url(&format!("/matters/{}", client.matter_id))).await?;
        wait_for_text(&browser, "Bills from your physical therapist").await?;
        // The request's own upload button, as a client would press it.
        browser.find(Locator::Css("a.upload-now")).await?.click().await?;
        wait_for_text(&browser, "For: Bills from your physical therapist").await?;
        let paths = format!("{}\n{}", pdf.display(), jpeg.display());
        browser.find(Locator::Css("#files")).await?.send_keys(&paths).await?;
        // Every change the page's script makes to the progress bar is recorded in
        // sessionStorage, which outlives the document the receipt replaces.
        let hidden_before = browser
            .execute(
                "var bar = document.getElementById('upload-progress');\n\
                 sessionStorage.removeItem('progress-max');\n\
                 new MutationObserver(function () {\n\
                   if (bar.hidden) return;\n\
                   var max = Number(sessionStorage.getItem('progress-max') || '0');\n\
                   sessionStorage.setItem('progress-max', String(Math.max(max, bar.value)));\n\
                 }).observe(bar, { attributes: true });\n\
                 return bar.hidden;",
                vec![],
            )
            .await?;
        assert_eq!(hidden_before, serde_json::json!(true), "the progress bar was visible before anything was sent");
        browser.find(Locator::Css("#upload-form button[type=submit]")).await?.click().await?;
        let receipt = wait_for_text(&browser, "These documents arrived safely").await?;
        assert!(receipt.contains("physio bill.pdf") && receipt.contains("knee.jpg"), "{receipt}");
        assert!(receipt.contains("Medical bill"), "{receipt}");
        // The receipt lists each file with its size.
        assert!(receipt.contains("physio bill.pdf — 120 KB") && receipt.contains("knee.jpg — 900 KB"), "{receipt}");
        // The bar was shown with a value while the files went up (the receipt came after).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let shown = loop {
            let max = browser.execute("return sessionStorage.getItem('progress-max');", vec![]).await?;
            let value = max.as_str().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            if value > 0.0 || std::time::Instant::now() > deadline {
                break value;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert!(shown > 0.0, "the progress bar was never shown with a value");
        screenshot(&browser, &format!("receipt-390x844-{}", backend.name())).await?;

        browser.find(Locator::Css("a.button")).await?.click().await?;
        let matter = wait_for_text(&browser, "Documents").await?;
        assert!(matter.contains("Nothing needed from you right now"), "the fulfilled request is still open: {matter}");
        assert!(matter.contains("physio bill.pdf"), "{matter}");
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

/// axe-core on every client page, in English and in Spanish: no serious or
/// critical violation.
async fn every_client_page_passes_axe_in_both_languages(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let dir = app.db.dir.path();
    let pdf = dir.join("bill.pdf");
    std::fs::write(&pdf, harness::files::pdf(20_000))?;

    let browser = browser::open(PHONE).await?;
    let outcome = async {
        let mut findings = Vec::new();
        let mut check =
            |page: &str, found: Vec<String>| findings.extend(found.into_iter().map(|f| format!("{page}: {f}")));
        for lang in ["en", "es"] {
            // Signed out: the sign-in pages, in the language chosen with the switcher.
            browser.goto(&app.url("/sign-in")).await?;
            browser.find(Locator::Css(&format!("button[name=lang][value={lang}]"))).await?.click().await?;
            browser.wait().for_element(Locator::Css(&format!("html[lang={lang}]"))).await?;
            check(&format!("{lang} sign-in"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url("/sign-in/code")).await?;
            check(&format!("{lang} code"), browser::axe_violations(&browser).await?);
        }
        browser.goto(&app.url(&format!("/sign-in/link?token={}", grant.token))).await?;
        check("link", browser::axe_violations(&browser).await?);
        browser.find(Locator::Css("form[action='/sign-in/link'] button")).await?.click().await?;
        browser.wait().for_element(Locator::Css("ul.cards, .current-phase")).await?;
        for lang in ["en", "es"] {
            browser.find(Locator::Css(&format!("button[name=lang][value={lang}]"))).await?.click().await?;
            browser.wait().for_element(Locator::Css(&format!("html[lang={lang}]"))).await?;
            check(&format!("{lang} dashboard"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url(&format!("/matters/{}", client.matter_id))).await?;
            check(&format!("{lang} matter"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url(&format!("/matters/{}/upload", client.matter_id))).await?;
            check(&format!("{lang} upload"), browser::axe_violations(&browser).await?);
            browser.find(Locator::Css("#files")).await?.send_keys(&pdf.display().to_string()).await?;
            browser.find(Locator::Css("#upload-form button[type=submit]")).await?.click().await?;
            browser.wait().for_element(Locator::Css("ul.receipt")).await?;
            check(&format!("{lang} receipt"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url("/preferences")).await?;
            check(&format!("{lang} preferences"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url("/")).await?;
        }
        assert!(findings.is_empty(), "axe-core found serious or critical violations:\n{}", findings.join("\n"));
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

/// A staff member signs in with password and authenticator code in Chromium,
/// moves a matter to another phase with the page's form, and every staff page
/// passes axe-core in English and Spanish.
async fn staff_pages_work_in_chromium_and_pass_axe(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = demo.staff_login("admin")?.clone();
    let client = app.client(&demo.email("jordan")).await?;
    let browser = browser::open(PHONE).await?;
    let outcome = async {
        let mut findings = Vec::new();
        let mut check =
            |page: &str, found: Vec<String>| findings.extend(found.into_iter().map(|f| format!("{page}: {f}")));
        browser.goto(&app.url("/staff/sign-in")).await?;
        check("en staff sign-in", browser::axe_violations(&browser).await?);
        browser.find(Locator::Css("#email")).await?.send_keys(&admin.email).await?;
        browser.find(Locator::Css("#password")).await?.send_keys(&admin.password).await?;
        let code = portal::staff_auth::current_code(&admin.totp_secret)?;
        browser.find(Locator::Css("#code")).await?.send_keys(&code).await?;
        browser.find(Locator::Css("form[action='/staff/sign-in'] button")).await?.click().await?;
        browser.wait().for_element(Locator::Css("table.matters-table")).await?;

        let matter = format!("/staff/matters/{}", client.matter_id);
        browser.goto(&app.url(&matter)).await?;
        let select = browser.find(Locator::Css("#new-phase")).await?;
        select.select_by_value("demand").await?;
        browser.find(Locator::Css("form[action$='/milestones'] button.primary")).await?.click().await?;
        let page = browser::wait_for_text(&browser, "Phase: Demand").await?;
        // The staff timeline speaks to staff, not in the client's words.
        assert!(page.contains("Moved to: Demand"), "{page}");
        assert!(!page.contains("Your case moved to a new step"), "client wording on the staff timeline: {page}");

        for lang in ["en", "es"] {
            browser.goto(&app.url("/staff")).await?;
            browser.find(Locator::Css(&format!("button[name=lang][value={lang}]"))).await?.click().await?;
            browser.wait().for_element(Locator::Css(&format!("html[lang={lang}]"))).await?;
            check(&format!("{lang} matters"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url("/staff?stale=1&unreviewed=1")).await?;
            check(&format!("{lang} matters filtered"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url(&matter)).await?;
            check(&format!("{lang} matter"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url("/staff/matters/new")).await?;
            check(&format!("{lang} new matter"), browser::axe_violations(&browser).await?);
            browser.goto(&app.url("/staff/settings")).await?;
            check(&format!("{lang} settings"), browser::axe_violations(&browser).await?);
        }
        assert!(findings.is_empty(), "axe-core found serious or critical violations:\n{}", findings.join("\n"));
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}

on_both_backends!(
    staff_pages_work_in_chromium_and_pass_axe,
    a_client_follows_the_emailed_link_in_chromium,
    a_client_uploads_a_pdf_and_a_photo_in_chromium,
    every_client_page_passes_axe_in_both_languages,
);

/// The accessibility check can fail: on a page with an unlabelled image and
/// input, axe-core reports them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axe_check_reports_a_known_violation() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let browser = browser::open(DESKTOP).await?;
    let outcome = async {
        browser.goto("data:text/html,<html><body><img src='x.png'><input type='text'></body></html>").await?;
        let found = browser::axe_violations(&browser).await?;
        assert!(found.iter().any(|f| f.starts_with("image-alt")), "{found:?}");
        assert!(found.iter().any(|f| f.starts_with("label")), "{found:?}");
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome
}
