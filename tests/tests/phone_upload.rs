//! Sending documents from a phone: one "Add photos or files" button, the
//! chosen files listed with a thumbnail, a "Remove" button and a category
//! each, a receipt with a success mark that says when a request is complete,
//! and one timeline entry (and one receipt email) per upload. Without
//! JavaScript the same form posts with a category before each file. Sizes
//! read as the limit is set: 250 MB.

use fantoccini::Locator;
use harness::browser::{self, DESKTOP, PHONE, Screen, wait_for_text};
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::domain::now;

/// A real 1×1 PNG (decodable, so the page draws its thumbnail).
const TINY_PNG: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xfc, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x05, 0x02, 0x00, 0x5f, 0xc8, 0xf1,
    0xd2, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The client-visible milestones of `kind` on the matter, from the API.
fn milestones_of<'a>(detail: &'a Value, kind: &str) -> Vec<&'a Value> {
    detail["milestones"].as_array().into_iter().flatten().filter(|m| m["kind"] == kind).collect()
}

/// The journey at `screen`: open the case page from a link while signed out,
/// sign in with the emailed code, land on the case page, "Upload now", add
/// five files and remove one, choose categories per file, send; the receipt
/// has the success mark and "Request complete"; the timeline has one new entry
/// for the four files (and the request's own), the firm got the categories
/// chosen, and one receipt email lists the four.
async fn journey(backend: Backend, screen: Screen) -> anyhow::Result<()> {
    let size = format!("{}x{}", screen.width, screen.height);
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let api = app.signed_in_client(&jordan.email).await?;
    let before: Value = api.get(&format!("/api/v1/matters/{}", jordan.matter_id)).await?;
    let received_before = milestones_of(&before, "document_received").len();

    let dir = app.db.dir.path();
    let files = [
        ("knee photo.png", TINY_PNG.to_vec()),
        ("bruise.jpg", harness::files::jpeg(300 * 1024)),
        ("physio bill.pdf", harness::files::pdf(120 * 1024)),
        ("mri report.pdf", harness::files::pdf(2 * 1024 * 1024 + 300 * 1024)),
        ("not this one.pdf", harness::files::pdf(10 * 1024)),
    ];
    let mut paths = Vec::new();
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        paths.push(path.display().to_string());
    }

    let browser = browser::open(screen).await?;
    let outcome = async {
        // A link from an email, opened signed out.
        browser.goto(&app.url(&format!("/matters/{}", jordan.matter_id))).await?;
        wait_for_text(&browser, "Sign in").await?;
        browser.find(Locator::Css("#email")).await?.send_keys(&jordan.email).await?;
        browser.find(Locator::Css("form[action='/sign-in'] button")).await?.click().await?;
        wait_for_text(&browser, "Check your email").await?;
        let mail = app.mail()?.wait_for_emails(&jordan.email, 1).await?.remove(0);
        let code = mail.six_digit_code().ok_or_else(|| anyhow::anyhow!("no code in {}", mail.text))?;
        browser.find(Locator::Css("#code")).await?.send_keys(&code).await?;
        browser.find(Locator::Css("form[action='/sign-in/code'] button")).await?.click().await?;

        // Landed on the case page: the three answers and a call on the first screen.
        let text = wait_for_text(&browser, "Current step: Records and bills").await?;
        let url = browser.current_url().await?;
        assert_eq!(url.path(), format!("/matters/{}", jordan.matter_id), "{size}: not back on the case page");
        assert!(text.contains("We need 1 document from you"), "{text}");
        let fold = f64::from(screen.height);
        let bottom = |css: &'static str| {
            let browser = &browser;
            async move {
                let b = browser
                    .execute(
                        "return document.querySelector(arguments[0]).getBoundingClientRect().bottom;",
                        vec![json!(css)],
                    )
                    .await?;
                anyhow::Ok(b.as_f64().unwrap_or(f64::MAX))
            }
        };
        assert!(bottom(".phase-name").await? <= fold, "{size}: the phase is below the fold");
        assert!(bottom("a.upload-now").await? <= fold, "{size}: Upload now is below the fold");
        let call = if screen.mobile { ".contact-bar a[href^='tel:']" } else { ".contact-panel a.button[href^='tel:']" };
        assert!(bottom(call).await? <= fold, "{size}: Call is below the fold");
        browser::screenshot(&browser, &format!("journey-case-{size}-{}", backend.name())).await?;

        browser.find(Locator::Css("a.upload-now")).await?.click().await?;
        let page = wait_for_text(&browser, "For: Bills from your physical therapist").await?;
        assert!(page.contains("up to 250 MB each"), "{size}: the limit reads {page}");
        assert!(page.contains("Add photos or files"), "{page}");
        assert!(browser.find(Locator::Css("#camera")).await.is_err(), "a separate camera input is back");
        let input = browser.find(Locator::Css("#files")).await?;
        assert_eq!(input.attr("accept").await?.as_deref(), Some("image/*,application/pdf"));
        assert!(input.attr("multiple").await?.is_some(), "one input takes several files");
        let drop_zone_shown = browser.execute("return !document.getElementById('dropzone').hidden;", vec![]).await?;
        assert_eq!(
            drop_zone_shown,
            json!(!screen.mobile),
            "{size}: drag-and-drop shown on a touch screen, or hidden with a mouse"
        );

        input.send_keys(&paths.join("\n")).await?;
        browser.wait().for_element(Locator::Css("#chosen li:nth-child(5)")).await?;
        // Photos default to "Photo", PDFs to the request's category.
        let defaults = browser
            .execute("return Array.from(document.querySelectorAll('#chosen select')).map(s => s.value);", vec![])
            .await?;
        assert_eq!(
            defaults,
            json!(["photo", "photo", "medical_bill", "medical_bill", "medical_bill"]),
            "{size}: default categories"
        );
        // The decodable photo has its thumbnail drawn; a PDF shows a PDF mark.
        browser.wait().for_element(Locator::Css("#chosen li:nth-child(1) .thumb canvas")).await?;
        let pdf_mark = browser.find(Locator::Css("#chosen li:nth-child(3) .thumb")).await?.text().await?;
        assert_eq!(pdf_mark, "PDF");
        // Remove the fifth before sending; choose a category for two of the others.
        browser.find(Locator::Css("#chosen li:nth-child(5) button.remove")).await?.click().await?;
        let left = browser.execute("return document.querySelectorAll('#chosen li').length;", vec![]).await?;
        assert_eq!(left, json!(4), "Remove took the file off the list");
        browser.find(Locator::Css("#chosen li:nth-child(2) select")).await?.select_by_value("other").await?;
        browser.find(Locator::Css("#chosen li:nth-child(4) select")).await?.select_by_value("medical_record").await?;
        let faults = browser::axe_violations(&browser).await?;
        assert!(faults.is_empty(), "{size}: upload page: {}", faults.join("\n"));
        browser.execute("window.scrollTo(0, 0);", vec![]).await?;
        browser::screenshot(&browser, &format!("journey-upload-{size}-{}", backend.name())).await?;
        browser.execute("window.scrollTo(0, document.body.scrollHeight);", vec![]).await?;
        browser::screenshot(&browser, &format!("journey-upload-end-{size}-{}", backend.name())).await?;

        browser.find(Locator::Css("#upload-form button[type=submit]")).await?.click().await?;
        let receipt = wait_for_text(&browser, "These documents arrived safely").await?;
        assert!(browser.find(Locator::Css(".success .success-mark")).await.is_ok(), "no success mark");
        for expected in [
            "Sent. We have your documents.",
            "Request complete: Bills from your physical therapist",
            "knee photo.png — 70 bytes · Photo",
            "bruise.jpg — 300 KB · Other",
            "physio bill.pdf — 120 KB · Medical bill",
            "mri report.pdf — 2.3 MB · Medical record",
            "Your legal team will review",
        ] {
            assert!(receipt.contains(expected), "{size}: the receipt lacks {expected:?}: {receipt}");
        }
        assert!(!receipt.contains("not this one.pdf"), "a removed file was sent");
        let faults = browser::axe_violations(&browser).await?;
        assert!(faults.is_empty(), "{size}: receipt: {}", faults.join("\n"));
        browser::screenshot(&browser, &format!("journey-receipt-{size}-{}", backend.name())).await?;

        browser.find(Locator::Css("main a.button[href^='/matters/']")).await?.click().await?;
        let case = wait_for_text(&browser, "We received 4 documents").await?;
        assert!(
            case.contains("We received 4 documents: knee photo.png, bruise.jpg, physio bill.pdf, mri report.pdf"),
            "{case}"
        );
        assert!(case.contains("Nothing needed from you right now"), "the request is still open: {case}");
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome?;

    let after: Value = api.get(&format!("/api/v1/matters/{}", jordan.matter_id)).await?;
    let received = milestones_of(&after, "document_received");
    assert_eq!(received.len(), received_before + 1, "one upload is one timeline entry: {after}");
    assert_eq!(milestones_of(&after, "request_fulfilled").len(), 1, "the request's own entry");
    let documents: Value = api.get(&format!("/api/v1/matters/{}/documents", jordan.matter_id)).await?;
    let mut categories: Vec<(String, String)> = documents
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (d["name"].as_str().unwrap_or_default().to_owned(), d["category"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    categories.sort();
    assert_eq!(
        categories,
        [
            ("bruise.jpg".to_owned(), "other".to_owned()),
            ("knee photo.png".to_owned(), "photo".to_owned()),
            ("mri report.pdf".to_owned(), "medical_record".to_owned()),
            ("physio bill.pdf".to_owned(), "medical_bill".to_owned()),
        ],
        "the categories chosen per file"
    );
    app.state.notifications.deliver_all(now(), &|| {}).await?;
    let mails = app.mail()?.emails_to(&jordan.email)?;
    let receipts: Vec<_> = mails.iter().filter(|m| m.subject.contains("we received your documents")).collect();
    assert_eq!(receipts.len(), 1, "one receipt email for one upload");
    for name in ["knee photo.png", "bruise.jpg", "physio bill.pdf", "mri report.pdf (2.3 MB)"] {
        assert!(receipts[0].text.contains(name), "the receipt email lacks {name}: {}", receipts[0].text);
    }
    Ok(())
}

/// The whole journey on a phone (390×844), in Chromium.
async fn a_client_sends_four_files_from_a_phone(backend: Backend) -> anyhow::Result<()> {
    journey(backend, PHONE).await
}

/// The whole journey on a desktop (1280×800), in Chromium.
async fn a_client_sends_four_files_from_a_desktop(backend: Backend) -> anyhow::Result<()> {
    journey(backend, DESKTOP).await
}

/// Without JavaScript the form is a plain multipart POST: a `category` right
/// before each `file` applies to that file, a file with none before it takes
/// the request's category; one timeline entry names them all, the request is
/// complete, and the receipt page says so; the staff timeline and the weekly
/// update count that upload once, with its four files.
async fn without_javascript_a_category_before_each_file_applies_to_it(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let before: Value = session.get(&format!("/api/v1/matters/{}", jordan.matter_id)).await?;
    let request_id = before["open_requests"][0]["id"].as_str().unwrap_or_default().to_owned();
    let received_before = milestones_of(&before, "document_received").len();
    let part = |name: &str, bytes: Vec<u8>| reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new()
        .text("request", request_id)
        .part("file", part("first bill.pdf", harness::files::pdf(4096)))
        .text("category", "police_report")
        .part("file", part("report.pdf", harness::files::pdf(4096)))
        .text("category", "photo")
        .part("file", part("car.jpg", harness::files::jpeg(4096)))
        .text("category", "wage_proof")
        .part("file", part("payslip.png", harness::files::png(4096)));
    let reply = session
        .request(reqwest::Method::POST, &format!("/matters/{}/upload", jordan.matter_id))
        .multipart(form)
        .send()
        .await?;
    assert_eq!(reply.status(), StatusCode::OK);
    let text = main_text(&reply.text().await?);
    for expected in [
        "Sent. We have your documents.",
        "Request complete: Bills from your physical therapist",
        "first bill.pdf — 4 KB · Medical bill",
        "report.pdf — 4 KB · Police report",
        "car.jpg — 4 KB · Photo",
        "payslip.png — 4 KB · Proof of lost wages",
    ] {
        assert!(text.contains(expected), "the receipt lacks {expected:?}: {text}");
    }

    let after: Value = session.get(&format!("/api/v1/matters/{}", jordan.matter_id)).await?;
    let received = milestones_of(&after, "document_received");
    assert_eq!(received.len(), received_before + 1, "four files, one timeline entry");
    let names = shared::documents::received_names(received[0]["body"].as_str().unwrap_or_default())
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert_eq!(names, ["first bill.pdf", "report.pdf", "car.jpg", "payslip.png"]);
    assert_eq!(milestones_of(&after, "request_fulfilled").len(), 1);
    for (lang, expected) in [
        ("en", "We received 4 documents: first bill.pdf, report.pdf, car.jpg, payslip.png"),
        ("es", "Recibimos 4 documentos: first bill.pdf, report.pdf, car.jpg, payslip.png"),
    ] {
        session.request(reqwest::Method::POST, "/language").form(&[("lang", lang), ("next", "/")]).send().await?;
        let page = session.request(reqwest::Method::GET, &format!("/matters/{}", jordan.matter_id)).send().await?;
        let text = main_text(&page.text().await?);
        assert!(text.contains(expected), "{lang}: the case page lacks {expected:?}: {text}");
    }

    // The staff timeline and the weekly update count the upload once, with its four files.
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let staff_page =
        admin.request(reqwest::Method::GET, &format!("/staff/matters/{}", jordan.matter_id)).send().await?;
    let staff_text = main_text(&staff_page.text().await?);
    let line = "4 documents received from the client: first bill.pdf, report.pdf, car.jpg, payslip.png";
    assert!(staff_text.contains(line), "the staff timeline lacks {line:?}: {staff_text}");
    let client_id = jordan.id.clone();
    let digests = app.state.db.run(move |c| shared::weekly::derive(c, &[client_id], now(), None)).await?;
    let counts: Vec<usize> = digests
        .iter()
        .flat_map(|d| &d.matters)
        .flat_map(|m| &m.changes)
        .filter(|c| c.kind == shared::domain::MilestoneKind::DocumentReceived)
        .map(|c| c.count)
        .collect();
    assert!(counts.contains(&4), "the weekly update lacks one change for the upload of four files: {counts:?}");
    Ok(())
}

/// Sizes read as the limit is set (1 MB = 1024 × 1024 bytes): the default
/// limit is "250 MB" on the upload page, and a 1 MB limit is "1 MB" in the
/// refusal of a larger file.
async fn sizes_read_as_the_limit_is_set(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    let page = session.request(reqwest::Method::GET, &format!("/matters/{}/upload", jordan.matter_id)).send().await?;
    let text = main_text(&page.text().await?);
    assert!(text.contains("Files (PDF or photos, up to 250 MB each)"), "{text}");
    assert!(!text.contains("262"), "{text}");

    let small = TestApp::builder(backend).settings(&[("MATTERLINE_MAX_UPLOAD_BYTES", "1048576")]).spawn().await?;
    let demo = small.seed_demo().await?;
    let jordan = small.client(&demo.email("jordan")).await?;
    let session = small.signed_in_client(&jordan.email).await?;
    let page = session.request(reqwest::Method::GET, &format!("/matters/{}/upload", jordan.matter_id)).send().await?;
    assert!(main_text(&page.text().await?).contains("up to 1 MB each"));
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(harness::files::pdf(1024 * 1024 + 1)).file_name("big.pdf".to_owned()),
    );
    let reply = session
        .request(reqwest::Method::POST, &format!("/matters/{}/upload", jordan.matter_id))
        .multipart(form)
        .send()
        .await?;
    assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let text = main_text(&reply.text().await?);
    assert!(text.contains("big.pdf: the file is larger than 1 MB."), "{text}");
    Ok(())
}

on_both_backends!(
    a_client_sends_four_files_from_a_phone,
    a_client_sends_four_files_from_a_desktop,
    without_javascript_a_category_before_each_file_applies_to_it,
    sizes_read_as_the_limit_is_set,
);
