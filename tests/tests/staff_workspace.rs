//! The staff workspace a case manager uses all day: the matters table sorts
//! by any column on the server and keeps its filters, saved filters are each
//! staff member's own, several uploads are marked reviewed at once (all or
//! nothing), a document is filed under another category, images and PDFs
//! preview inline (and nothing else does), and every action confirms itself.

use diesel::prelude::*;
use harness::browser;
use harness::files::{pdf, png};
use harness::pages::main_text;
use harness::session::Session;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::{audit_events, documents, saved_filters};

/// A real 48×48 PNG (blue over amber), so a thumbnail shows something.
const PICTURE: [u8; 123] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 48, 0, 0, 0, 48, 8, 2, 0, 0, 0, 216, 96,
    110, 208, 0, 0, 0, 66, 73, 68, 65, 84, 120, 218, 237, 206, 49, 13, 0, 48, 8, 0, 48, 206, 153, 152, 37, 204, 98,
    102, 26, 166, 2, 27, 36, 52, 169, 128, 198, 205, 55, 74, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 45, 11, 253, 58, 163,
    8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 45, 11, 53, 250, 84, 20, 196, 236, 37, 58, 129, 0, 0, 0, 0, 73, 69, 78, 68,
    174, 66, 96, 130,
];

/// A TIFF: an accepted upload type that is never shown inline.
fn tiff() -> Vec<u8> {
    let mut bytes = b"II*\0\x08\0\0\0\x0e\0\xfe\0\x04\0".to_vec();
    bytes.resize(2048, 7);
    bytes
}

/// The matter ids of the table's rows, top to bottom.
fn row_ids(html: &str) -> Vec<String> {
    html.split("<th scope=\"row\"><a href=\"/staff/matters/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect()
}

/// `html` with the escapes of attribute values undone (`&amp;`, `&#x3D;`).
fn plain(html: &str) -> String {
    html.replace("&#x3D;", "=").replace("&amp;", "&")
}

/// The page's HTML as `session` sees it (status checked).
async fn page(session: &Session, path: &str) -> anyhow::Result<String> {
    let reply = session.request(Method::GET, path).send().await?;
    anyhow::ensure!(reply.status() == StatusCode::OK, "GET {path} answered {}", reply.status());
    Ok(reply.text().await?)
}

/// A form posted by `session`: its status and where it redirects.
async fn post_form(session: &Session, path: &str, body: &str) -> anyhow::Result<(StatusCode, String)> {
    let reply = session
        .request(Method::POST, path)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await?;
    let to = reply.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Ok((reply.status(), to))
}

/// Uploads `files` (name, type, bytes) to `matter` as its client; the stored document ids.
async fn upload(client: &Session, matter: &str, files: &[(&str, &str, Vec<u8>)]) -> anyhow::Result<Vec<String>> {
    let mut form = reqwest::multipart::Form::new().text("category", "other");
    for (name, mime, bytes) in files {
        form = form
            .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name((*name).to_owned()).mime_str(mime)?);
    }
    let reply =
        client.request(Method::POST, &format!("/api/v1/matters/{matter}/documents")).multipart(form).send().await?;
    anyhow::ensure!(reply.status() == StatusCode::CREATED, "upload answered {}", reply.status());
    let report: Value = reply.json().await?;
    Ok(report["stored"].as_array().into_iter().flatten().filter_map(|f| f["id"].as_str().map(str::to_owned)).collect())
}

/// (id, first client's name, open requests, case manager's name) of every open matter, from the API.
async fn matters(admin: &Session) -> anyhow::Result<Vec<(String, String, i64, Option<String>)>> {
    let rows: Vec<Value> = admin.get("/api/v1/staff/matters").await?;
    Ok(rows
        .iter()
        .map(|m| {
            let mut names: Vec<&str> =
                m["clients"].as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
            names.sort_unstable();
            (
                m["id"].as_str().unwrap_or_default().to_owned(),
                names.first().copied().unwrap_or_default().to_owned(),
                m["open_requests"].as_i64().unwrap_or_default(),
                m["case_manager"]["name"].as_str().map(str::to_owned),
            )
        })
        .collect())
}

/// The table sorts on the server by a whitelisted column with a stable second
/// order (the id), marks the sorted header with `aria-sort`, keeps the filters
/// in its sort links, ignores an unknown column; "mine" and the search filter
/// work; a saved filter round-trips (only whitelisted parameters are kept),
/// is its owner's alone (another staff member's delete answers 404 and
/// changes nothing), and is deleted by its owner.
async fn the_matters_table_sorts_filters_and_keeps_saved_filters(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let casey = app.signed_in_staff(&demo, "casey").await?;
    let listed = matters(&admin).await?;
    assert_eq!(listed.len(), 5, "the demo's five matters");
    // Different open-request counts (ties included) and one matter without a case manager.
    for (n, (id, ..)) in listed.iter().enumerate().take(3) {
        for k in 0..(3 - n.min(2)) {
            let _: Value = admin
                .post_json(
                    &format!("/api/v1/staff/matters/{id}/requests"),
                    &json!({ "title": format!("Bill {k}") }),
                    StatusCode::CREATED,
                )
                .await?;
        }
    }
    let unassigned = listed[4].0.clone();
    let _: Value = admin
        .patch_json(&format!("/api/v1/staff/matters/{unassigned}"), &json!({ "case_manager_id": "" }), StatusCode::OK)
        .await?;
    let listed = matters(&admin).await?;

    // Open requests, most first; equal counts by id.
    let html = page(&admin, "/staff?sort=requests&dir=desc").await?;
    let mut expected = listed.clone();
    expected.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let expected_ids: Vec<String> = expected.iter().map(|m| m.0.clone()).collect();
    assert_eq!(row_ids(&html), expected_ids, "sorted by open requests, most first, then by id");
    assert!(html.contains("aria-sort=\"descending\""), "the sorted header says so");
    assert_eq!(html.matches("aria-sort=").count(), 1, "only the sorted header has aria-sort");

    // Client name, A to Z and back.
    let mut by_client = listed.clone();
    by_client.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let ids: Vec<String> = by_client.iter().map(|m| m.0.clone()).collect();
    assert_eq!(row_ids(&page(&admin, "/staff?sort=client&dir=asc").await?), ids, "by client, A to Z");
    let mut reversed = listed.clone();
    reversed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let ids: Vec<String> = reversed.iter().map(|m| m.0.clone()).collect();
    assert_eq!(row_ids(&page(&admin, "/staff?sort=client&dir=desc").await?), ids, "by client, Z to A");

    // Case manager: the unassigned matter comes last either way.
    let html = page(&admin, "/staff?sort=manager&dir=asc").await?;
    assert_eq!(row_ids(&html).last(), Some(&unassigned), "no case manager sorts last");
    assert!(html.contains("aria-sort=\"ascending\""));

    // An unknown column is ignored: the default order, nothing marked.
    let html = page(&admin, "/staff?sort=password&dir=sideways").await?;
    assert_eq!(row_ids(&html).len(), 5);
    assert!(!html.contains("aria-sort="), "no header claims a sort that is not applied");

    // The sort links keep the filters.
    let html = page(&admin, "/staff?case_manager=none&sort=phase&dir=asc").await?;
    assert_eq!(row_ids(&html), vec![unassigned.clone()], "the unassigned filter");
    assert!(plain(&html).contains("href=\"/staff?case_manager=none&sort=phase&dir=desc\""), "{html}");

    // "Mine": Casey manages four matters, the admin none; the search finds a client by name.
    assert_eq!(row_ids(&page(&casey, "/staff?case_manager=mine").await?).len(), 4);
    assert_eq!(row_ids(&page(&admin, "/staff?case_manager=mine").await?).len(), 0);
    let client_name = listed[0].1.clone();
    let found = row_ids(&page(&admin, &format!("/staff?q={}", client_name.replace(' ', "+"))).await?);
    assert!(found.contains(&listed[0].0), "searching {client_name:?} finds their matter");

    // Save a filter: only whitelisted parameters are kept, normalised.
    let (status, to) = post_form(
        &admin,
        "/staff/filters",
        "name=Most+requests&query=sort%3Drequests%26dir%3Ddesc%26evil%3D%253Cscript%253E%26done%3Dfilter-deleted",
    )
    .await?;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, "/staff?sort=requests&dir=desc&done=filter-saved");
    let html = page(&admin, &to).await?;
    let text = main_text(&html);
    assert!(text.contains("Filter saved."), "the confirmation: {text}");
    assert!(html.contains("role=\"status\""));
    assert!(plain(&html).contains("<a href=\"/staff?sort=requests&dir=desc\">Most requests</a>"), "the saved link");
    assert!(!html.contains("evil") && !html.contains("script%3E"), "nothing outside the whitelist is kept");
    let saved: Vec<(String, String)> = app
        .state
        .db
        .run(|c| Ok(saved_filters::table.select((saved_filters::id, saved_filters::query)).load(c)?))
        .await?;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].1, "sort=requests&dir=desc");
    let saved_id = saved[0].0.clone();

    // Casey neither sees nor deletes it.
    assert!(!page(&casey, "/staff").await?.contains("Most requests"), "another's saved filter is not listed");
    let (status, _) = post_form(&casey, &format!("/staff/filters/{saved_id}/delete"), "").await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "another staff member's saved filter id is 404");
    assert!(page(&admin, "/staff").await?.contains("Most requests"), "still there after the refused delete");

    // The owner deletes it.
    let (status, to) = post_form(&admin, &format!("/staff/filters/{saved_id}/delete"), "").await?;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/staff?done=filter-deleted"));
    let html = page(&admin, &to).await?;
    assert!(main_text(&html).contains("Saved filter deleted."));
    assert!(!html.contains("Most requests"));
    Ok(())
}

/// Several uploads are marked reviewed at once from the page and the API,
/// all or nothing: one id of another firm's document (or another matter's)
/// answers 404 and nothing changes. A document is filed under another
/// category from the page and the API (audited with the old and new keys).
/// Every action redirects with a confirmation the page shows in staff words;
/// a `done` value outside the list shows nothing and is never echoed.
async fn uploads_are_reviewed_together_and_recategorised(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let other = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let sam = app.client(&demo.email("sam")).await?;
    let stranger = app.client(&other.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let ids = upload(
        &jordan_session,
        &jordan.matter_id,
        &[
            ("bill.pdf", "application/pdf", pdf(3000)),
            ("car.png", "image/png", PICTURE.to_vec()),
            ("scan.pdf", "application/pdf", pdf(2000)),
        ],
    )
    .await?;
    assert_eq!(ids.len(), 3);
    let sam_doc =
        upload(&app.signed_in_client(&sam.email).await?, &sam.matter_id, &[("x.pdf", "application/pdf", pdf(900))])
            .await?
            .remove(0);
    let foreign = upload(
        &app.signed_in_client(&stranger.email).await?,
        &stranger.matter_id,
        &[("y.pdf", "application/pdf", pdf(900))],
    )
    .await?
    .remove(0);
    let matter_page = format!("/staff/matters/{}", jordan.matter_id);
    let unreviewed = |ids: Vec<String>| {
        let db = app.state.db.clone();
        async move {
            db.run(move |c| {
                Ok(documents::table
                    .filter(documents::id.eq_any(&ids))
                    .filter(documents::reviewed_at.is_null())
                    .count()
                    .get_result::<i64>(c)?)
            })
            .await
        }
    };

    // The page lists a checkbox for each unreviewed upload.
    let html = page(&admin, &matter_page).await?;
    assert_eq!(html.matches("name=\"ids\"").count(), 3, "a checkbox per upload to review");

    // A foreign id (another firm's, then another matter's) beside our own: 404, nothing changes.
    let review = format!("{matter_page}/documents/review");
    let (status, _) = post_form(&admin, &review, &format!("ids={}&ids={foreign}", ids[0])).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "another firm's document");
    let (status, _) = post_form(&admin, &review, &format!("ids={}&ids={sam_doc}", ids[0])).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "another matter's document");
    let api_review = format!("/api/v1/staff/matters/{}/documents/review", jordan.matter_id);
    let reply = admin.request(Method::POST, &api_review).json(&json!({ "ids": [ids[1], foreign] })).send().await?;
    assert_eq!(reply.status(), StatusCode::NOT_FOUND, "the API refuses a foreign id too");
    assert_eq!(unreviewed(ids.clone()).await?, 3, "nothing was marked after the refusals");

    // Two at once from the page, then the third through the API.
    let (status, to) = post_form(&admin, &review, &format!("ids={}&ids={}", ids[0], ids[1])).await?;
    assert_eq!((status, to.clone()), (StatusCode::SEE_OTHER, format!("{matter_page}?done=reviewed")));
    assert_eq!(unreviewed(ids.clone()).await?, 1);
    let text = main_text(&page(&admin, &to).await?);
    assert!(text.contains("Marked as reviewed."), "the confirmation: {text}");
    let done: Value = admin.post_json(&api_review, &json!({ "ids": [ids[1], ids[2]] }), StatusCode::OK).await?;
    assert_eq!(done["reviewed"], 1, "only the one not yet reviewed is newly marked: {done}");
    assert_eq!(unreviewed(ids.clone()).await?, 0);
    let empty = admin.request(Method::POST, &api_review).json(&json!({ "ids": [] })).send().await?;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Re-categorise from the page and the API.
    let (status, to) =
        post_form(&admin, &format!("{matter_page}/documents/{}/category", ids[1]), "category=photo").await?;
    assert_eq!((status, to.clone()), (StatusCode::SEE_OTHER, format!("{matter_page}?done=recategorised")));
    let html = page(&admin, &to).await?;
    assert!(main_text(&html).contains("Category changed."));
    let changed: Value = admin
        .patch_json(
            &format!("/api/v1/staff/documents/{}", ids[0]),
            &json!({ "category": "police_report" }),
            StatusCode::OK,
        )
        .await?;
    assert_eq!((changed["previous"].as_str(), changed["category"].as_str()), (Some("other"), Some("police_report")));
    let bad = admin
        .request(Method::PATCH, &format!("/api/v1/staff/documents/{}", ids[0]))
        .json(&json!({ "category": "secret" }))
        .send()
        .await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let theirs = admin
        .request(Method::PATCH, &format!("/api/v1/staff/documents/{foreign}"))
        .json(&json!({ "category": "photo" }))
        .send()
        .await?;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND, "another firm's document");
    let (status, _) =
        post_form(&admin, &format!("{matter_page}/documents/{sam_doc}/category"), "category=photo").await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "a document of another matter through this matter's form");
    let (first, second) = (ids[0].clone(), ids[1].clone());
    let categories: Vec<(String, String)> = app
        .state
        .db
        .run(move |c| {
            Ok(documents::table
                .filter(documents::id.eq_any([&first, &second]))
                .select((documents::id, documents::category))
                .load::<(String, shared::domain::DocumentCategory)>(c)?
                .into_iter()
                .map(|(id, cat)| (id, cat.as_str().to_owned()))
                .collect())
        })
        .await?;
    assert!(categories.contains(&(ids[0].clone(), "police_report".to_owned())), "{categories:?}");
    assert!(categories.contains(&(ids[1].clone(), "photo".to_owned())), "{categories:?}");
    let events: Vec<(String, Option<String>)> = app
        .state
        .db
        .run(|c| {
            Ok(audit_events::table
                .filter(audit_events::action.eq_any(["document.review", "document.recategorise"]))
                .order(audit_events::id)
                .select((audit_events::action, audit_events::detail))
                .load(c)?)
        })
        .await?;
    assert_eq!(events.iter().filter(|(a, _)| a == "document.review").count(), 3, "one review event per document");
    let details: Vec<Option<&str>> =
        events.iter().filter(|(a, _)| a == "document.recategorise").map(|(_, d)| d.as_deref()).collect();
    assert_eq!(details, [Some("other->photo"), Some("other->police_report")]);

    // Every form confirms in staff words; an unknown `done` shows nothing and is not echoed.
    let (_, to) =
        post_form(&admin, &format!("{matter_page}/requests"), "title=Police+report&category=police_report").await?;
    assert_eq!(to, format!("{matter_page}?done=request-sent"));
    assert!(main_text(&page(&admin, &to).await?).contains("Request sent."));
    let (_, to) =
        post_form(&admin, &format!("{matter_page}/milestones"), "kind=client_note&body=We+called+the+insurer").await?;
    assert!(main_text(&page(&admin, &to).await?).contains("Your update is on the timeline."), "{to}");
    let (_, to) =
        post_form(&admin, &format!("{matter_page}/milestones"), "kind=phase_change&phase=negotiation").await?;
    assert!(main_text(&page(&admin, &to).await?).contains("The phase is changed."), "{to}");
    let html = page(&admin, &format!("{matter_page}?done=%3Cb%3Ehacked%3C%2Fb%3E")).await?;
    assert!(!main_text(&html).contains("hacked"), "an unknown done value is never echoed");
    assert!(!html.contains("<p class=\"notice\" role=\"status\">"), "and shows no confirmation");
    // In Spanish once the staff member switches.
    let (status, _) = post_form(&admin, "/language", "lang=es&next=%2Fstaff").await?;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let spanish = main_text(&page(&admin, &format!("{matter_page}?done=reviewed")).await?);
    assert!(spanish.contains("Marcado como revisado."), "the confirmation in Spanish: {spanish}");
    Ok(())
}

/// Previews: a PDF and a PNG open inline with their stored type, `nosniff`
/// and a sandboxing CSP; a TIFF (accepted, never shown inline) stays an
/// attachment; the matter page shows the image as a lazy thumbnail from that
/// route and the PDF as a link; another firm's staff get 404.
async fn previews_are_inline_only_for_images_and_pdfs(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let other = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let outsider = app.signed_in_staff(&other, "admin").await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let ids = upload(
        &app.signed_in_client(&jordan.email).await?,
        &jordan.matter_id,
        &[
            ("bill.pdf", "application/pdf", pdf(3000)),
            ("car.png", "image/png", PICTURE.to_vec()),
            ("scan.tif", "image/tiff", tiff()),
            ("photo.png", "image/png", png(4000)),
        ],
    )
    .await?;
    assert_eq!(ids.len(), 4);
    let preview = |id: &str| format!("/staff/matters/{}/documents/{id}/preview", jordan.matter_id);
    for (id, mime, inline) in
        [(&ids[0], "application/pdf", true), (&ids[1], "image/png", true), (&ids[2], "image/tiff", false)]
    {
        let reply = admin.request(Method::GET, &preview(id)).send().await?;
        assert_eq!(reply.status(), StatusCode::OK, "{mime}");
        let header = |name| reply.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(header(CONTENT_TYPE), mime, "served with the stored type");
        let disposition = header(CONTENT_DISPOSITION);
        assert_eq!(disposition.starts_with("inline;"), inline, "{mime}: {disposition}");
        assert_eq!(disposition.starts_with("attachment;"), !inline, "{mime}: {disposition}");
        assert_eq!(header(X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(header(CONTENT_SECURITY_POLICY).starts_with("sandbox"), "{}", header(CONTENT_SECURITY_POLICY));
        if mime == "image/png" {
            assert_eq!(reply.bytes().await?.as_ref(), PICTURE.as_slice(), "the stored bytes");
        }
    }
    assert_eq!(outsider.get_status(&preview(&ids[0])).await?, StatusCode::NOT_FOUND, "another firm's staff");

    let html = page(&admin, &format!("/staff/matters/{}", jordan.matter_id)).await?;
    assert!(
        html.contains(&format!("<img class=\"thumb\" src=\"{}\" loading=\"lazy\"", preview(&ids[1]))),
        "an image is a lazy thumbnail from the preview route"
    );
    assert!(
        html.contains(&format!("href=\"{}\" aria-label=\"Preview: bill.pdf\"", preview(&ids[0]))),
        "a PDF preview link"
    );
    assert!(!html.contains(&format!("src=\"{}\"", preview(&ids[2]))), "no thumbnail of a TIFF");
    assert!(!html.contains(&format!("href=\"{}\"", preview(&ids[2]))), "no preview link for a TIFF");
    let previews: i64 = app
        .state
        .db
        .run(|c| Ok(audit_events::table.filter(audit_events::action.eq("document.preview")).count().get_result(c)?))
        .await?;
    assert_eq!(previews, 3, "each preview is audited");
    Ok(())
}

/// The journey "staff: triage the table, review and re-categorise uploads" in
/// Chromium at phone and desktop sizes: the table sorted by uploads to review
/// puts Jordan's matter first; its page shows thumbnails; ticking two uploads
/// and one button marks both reviewed; a category select and its button file
/// a document anew; each step confirms. The table and the matter page are
/// axe-core clean with full-size controls under their labels at both sizes.
async fn staff_triage_review_and_recategorise_in_chromium(backend: Backend) -> anyhow::Result<()> {
    use fantoccini::Locator::Css;
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let mut faults = Vec::new();
    for screen in [browser::PHONE, browser::DESKTOP] {
        let size = format!("{}x{}", screen.width, screen.height);
        let ids = upload(
            &app.signed_in_client(&jordan.email).await?,
            &jordan.matter_id,
            &[("crash-scene.png", "image/png", PICTURE.to_vec()), ("er-bill.pdf", "application/pdf", pdf(3000))],
        )
        .await?;
        let browser = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&browser, &demo.email("admin")).await?;
            browser.goto(&app.url("/staff?sort=review&dir=desc")).await?;
            let first = browser.find(Css("tbody tr th a")).await?;
            let href = first.attr("href").await?.unwrap_or_default();
            assert_eq!(href, format!("/staff/matters/{}", jordan.matter_id), "most uploads to review first at {size}");
            for fault in browser::form_layout_faults(&browser).await? {
                faults.push(format!("table at {size}: {fault}"));
            }
            for fault in browser::axe_violations(&browser).await? {
                faults.push(format!("table at {size}: axe {fault}"));
            }
            browser::screenshot(&browser, &format!("staff-workspace-table-{size}-{}", backend.name())).await?;
            browser.execute("document.querySelector('.table-scroll').scrollIntoView()", vec![]).await?;
            browser::screenshot(&browser, &format!("staff-workspace-table-rows-{size}-{}", backend.name())).await?;
            first.click().await?;
            browser::wait_for_text(&browser, "crash-scene.png").await?;
            for fault in browser::form_layout_faults(&browser).await? {
                faults.push(format!("matter at {size}: {fault}"));
            }
            for fault in browser::axe_violations(&browser).await? {
                faults.push(format!("matter at {size}: axe {fault}"));
            }
            browser::screenshot(&browser, &format!("staff-workspace-matter-{size}-{}", backend.name())).await?;
            for id in &ids {
                browser.find(Css(&format!("#pick-{id}"))).await?.click().await?;
            }
            browser.find(Css("button[form='review-form']")).await?.click().await?;
            browser::wait_for_text(&browser, "Marked as reviewed.").await?;
            browser::screenshot(&browser, &format!("staff-workspace-reviewed-{size}-{}", backend.name())).await?;
            let select = browser.find(Css(&format!("#category-{}", ids[0]))).await?;
            select.select_by_value("photo").await?;
            browser.find(Css(&format!("form[action$='/documents/{}/category'] button", ids[0]))).await?.click().await?;
            browser::wait_for_text(&browser, "Category changed.").await?;
            anyhow::Ok(())
        }
        .await;
        browser.close().await?;
        outcome?;
        let check = ids.clone();
        let left: i64 = app
            .state
            .db
            .run(move |c| {
                Ok(documents::table
                    .filter(documents::id.eq_any(&check))
                    .filter(documents::reviewed_at.is_null())
                    .count()
                    .get_result(c)?)
            })
            .await?;
        assert_eq!(left, 0, "both uploads reviewed at {size}");
        let first = ids[0].clone();
        let category: shared::domain::DocumentCategory =
            app.state.db.run(move |c| Ok(documents::table.find(&first).select(documents::category).first(c)?)).await?;
        assert_eq!(category.as_str(), "photo", "re-categorised at {size}");
    }
    assert!(faults.is_empty(), "staff workspace faults:\n{}", faults.join("\n"));
    Ok(())
}

on_both_backends!(
    the_matters_table_sorts_filters_and_keeps_saved_filters,
    uploads_are_reviewed_together_and_recategorised,
    previews_are_inline_only_for_images_and_pdfs,
    staff_triage_review_and_recategorise_in_chromium,
);
