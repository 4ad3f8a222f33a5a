//! Control characters (line breaks, NUL, C0/C1 controls), text-direction
//! overrides and zero-width characters: refused with 422 naming the field at
//! every entry point where staff or a firm's files bring text, with nothing
//! stored; names already in the database with them still get their emails
//! (the name left out of the header) or a failed row with its reason, never a
//! panic; download names lose invisible characters and carry the extension of
//! their bytes.

use diesel::prelude::*;
use harness::files::pdf;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::{
    audit_events, document_requests, documents, firms, matters, milestones, notifications, phase_texts, users,
};

/// Each kind of character refused in a single-line field, by name.
const BAD: [(&str, char); 16] = [
    ("line feed", '\n'),
    ("carriage return", '\r'),
    ("NUL", '\0'),
    ("tab", '\t'),
    ("escape (C0)", '\u{1b}'),
    ("delete", '\u{7f}'),
    ("next line (C1)", '\u{85}'),
    ("right-to-left override", '\u{202E}'),
    ("left-to-right isolate", '\u{2066}'),
    ("left-to-right mark", '\u{200E}'),
    ("Arabic letter mark", '\u{061C}'),
    ("zero-width space", '\u{200B}'),
    ("zero-width joiner", '\u{200D}'),
    ("word joiner", '\u{2060}'),
    ("byte-order mark", '\u{FEFF}'),
    ("line separator", '\u{2028}'),
];

/// Free text (notes, details, phase texts) keeps `\n` (and `\r\n`, made `\n`): those two are not refused there.
fn refused_in_free_text(c: char) -> bool {
    c != '\n' && c != '\r'
}

/// A firm's name, sender, phone, time zone and schedule.
type FirmText = (String, Option<String>, Option<String>, String, Option<String>);
/// A form's fields.
type Form = Vec<(&'static str, String)>;

/// Everything a refused request could have changed, as text.
async fn fingerprint(app: &TestApp) -> anyhow::Result<Vec<String>> {
    Ok(app
        .state
        .db
        .run(|c| {
            let mut all: Vec<String> = Vec::new();
            let f: Vec<FirmText> = firms::table
                .select((firms::name, firms::mail_from, firms::phone, firms::time_zone, firms::weekly_schedule))
                .load(c)?;
            all.extend(f.iter().map(|r| format!("{r:?}")));
            let u: Vec<(String, String, Option<String>)> =
                users::table.select((users::email, users::full_name, users::phone)).order(users::id).load(c)?;
            all.extend(u.iter().map(|r| format!("{r:?}")));
            let m: Vec<(String, Option<String>)> =
                matters::table.select((matters::title, matters::external_id)).order(matters::id).load(c)?;
            all.extend(m.iter().map(|r| format!("{r:?}")));
            let r: Vec<(String, Option<String>)> = document_requests::table
                .select((document_requests::title, document_requests::details))
                .order(document_requests::id)
                .load(c)?;
            all.extend(r.iter().map(|r| format!("{r:?}")));
            let p: Vec<(String, String, String)> = phase_texts::table
                .select((phase_texts::title, phase_texts::what_it_means, phase_texts::what_happens_next))
                .order((phase_texts::phase_id, phase_texts::language))
                .load(c)?;
            all.extend(p.iter().map(|r| format!("{r:?}")));
            let counts: (i64, i64, i64) = (
                milestones::table.count().get_result(c)?,
                audit_events::table.count().get_result(c)?,
                notifications::table.count().get_result(c)?,
            );
            all.push(format!("{counts:?}"));
            Ok(all)
        })
        .await?)
}

/// One refused request: the status, and the field its answer named.
struct Refusal {
    entry: &'static str,
    field: &'static str,
    status: StatusCode,
    named: bool,
}

async fn control_characters_are_refused_at_every_entry_point(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.user_id(&demo.email("admin")).await?;
    let token = app.session_token(&admin).await?;
    let (bearer, cookie) = (format!("Bearer {token}"), format!("matterline_session={token}"));
    let http = app.raw_client()?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let matter = jordan.matter_id.clone();
    let before = fingerprint(&app).await?;
    let mut refusals: Vec<Refusal> = Vec::new();

    for (_, c) in BAD {
        let bad = format!("Ana{c}Bcc: spy@evil.test");
        let free_bad = format!("First line{c}second");
        // The staff JSON API: (entry, method, path, body, field).
        let mut calls: Vec<(&str, Method, String, Value, &str)> = vec![
            (
                "new client",
                Method::POST,
                "/api/v1/staff/clients".into(),
                json!({ "full_name": bad, "email": "new@example.com" }),
                "full_name",
            ),
            (
                "new client",
                Method::POST,
                "/api/v1/staff/clients".into(),
                json!({ "full_name": "Ana", "email": "new@example.com", "phone": bad }),
                "phone",
            ),
            (
                "new client",
                Method::POST,
                "/api/v1/staff/clients".into(),
                json!({ "full_name": "Ana", "email": format!("ana{c}x@example.com") }),
                "email",
            ),
            (
                "client change",
                Method::PATCH,
                format!("/api/v1/staff/clients/{}", jordan.id),
                json!({ "full_name": bad }),
                "full_name",
            ),
            (
                "client change",
                Method::PATCH,
                format!("/api/v1/staff/clients/{}", jordan.id),
                json!({ "phone": bad }),
                "phone",
            ),
            (
                "new matter",
                Method::POST,
                "/api/v1/staff/matters".into(),
                json!({ "title": bad, "client_ids": [jordan.id] }),
                "title",
            ),
            (
                "new matter",
                Method::POST,
                "/api/v1/staff/matters".into(),
                json!({ "title": "Case", "client_ids": [jordan.id], "external_id": bad }),
                "external_id",
            ),
            (
                "matter change",
                Method::PATCH,
                format!("/api/v1/staff/matters/{matter}"),
                json!({ "title": bad }),
                "title",
            ),
            (
                "matter change",
                Method::PATCH,
                format!("/api/v1/staff/matters/{matter}"),
                json!({ "external_id": bad }),
                "external_id",
            ),
            (
                "document request",
                Method::POST,
                format!("/api/v1/staff/matters/{matter}/requests"),
                json!({ "title": bad }),
                "title",
            ),
            ("firm settings", Method::PATCH, "/api/v1/staff/settings".into(), json!({ "name": bad }), "name"),
            ("firm settings", Method::PATCH, "/api/v1/staff/settings".into(), json!({ "phone": bad }), "phone"),
            (
                "firm settings",
                Method::PATCH,
                "/api/v1/staff/settings".into(),
                json!({ "mail_from": format!("Firm{c} <firm@example.com>") }),
                "mail_from",
            ),
            (
                "phase text",
                Method::PUT,
                "/api/v1/staff/catalogue/personal_injury/intake".into(),
                json!({ "language": "en", "title": bad, "what_it_means": "x", "what_happens_next": "y" }),
                "title",
            ),
        ];
        if refused_in_free_text(c) {
            calls.extend([
                (
                    "note",
                    Method::POST,
                    format!("/api/v1/staff/matters/{matter}/milestones"),
                    json!({ "kind": "client_note", "body": free_bad }),
                    "body",
                ),
                (
                    "document request",
                    Method::POST,
                    format!("/api/v1/staff/matters/{matter}/requests"),
                    json!({ "title": "Bills", "details": free_bad }),
                    "details",
                ),
                (
                    "phase text",
                    Method::PUT,
                    "/api/v1/staff/catalogue/personal_injury/intake".into(),
                    json!({ "language": "en", "title": "Intake", "what_it_means": free_bad, "what_happens_next": "y" }),
                    "what_it_means",
                ),
                (
                    "phase text",
                    Method::PUT,
                    "/api/v1/staff/catalogue/personal_injury/intake".into(),
                    json!({ "language": "en", "title": "Intake", "what_it_means": "x", "what_happens_next": free_bad }),
                    "what_happens_next",
                ),
            ]);
        }
        for (entry, method, path, body, field) in calls {
            let answer = http.request(method, app.url(&path)).header(AUTHORIZATION, &bearer).json(&body).send().await?;
            let status = answer.status();
            let error: Value = answer.json().await.unwrap_or_default();
            let named = error["error"].as_str().is_some_and(|e| e.starts_with(&format!("{field}: contains ")));
            refusals.push(Refusal { entry: "staff API", field, status, named });
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{entry} {field} with U+{:04X}: {error}", c as u32);
            assert!(named, "{entry}: the answer names {field}: {error}");
        }

        // The staff pages (forms posted from the portal's own pages, with the session cookie).
        let mut forms: Vec<(String, Form, &str)> = vec![
            (
                "/staff/matters".into(),
                vec![
                    ("client_name", bad.clone()),
                    ("client_email", "page@example.com".into()),
                    ("title", "Case".into()),
                ],
                "full_name",
            ),
            (
                "/staff/matters".into(),
                vec![
                    ("client_name", "Ana".into()),
                    ("client_email", "page@example.com".into()),
                    ("title", bad.clone()),
                ],
                "title",
            ),
            (format!("/staff/matters/{matter}/requests"), vec![("title", bad.clone())], "title"),
            ("/staff/settings".into(), vec![("name", bad.clone()), ("time_zone", "America/Chicago".into())], "name"),
        ];
        if refused_in_free_text(c) {
            forms.push((
                format!("/staff/matters/{matter}/milestones"),
                vec![("kind", "client_note".into()), ("body", free_bad.clone())],
                "body",
            ));
        }
        for (path, form, field) in forms {
            let answer = http.post(app.url(&path)).header("Cookie", &cookie).form(&form).send().await?;
            let status = answer.status();
            let page = answer.text().await?;
            let named = page.contains(&format!("“{field}”"));
            refusals.push(Refusal { entry: "staff pages", field, status, named });
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "POST {path} {field} with U+{:04X}", c as u32);
            assert!(named, "POST {path}: the page names {field}:\n{page}");
        }

        // The import, CSV and JSON: the row fails naming its column; the file's other rows still import.
        for column in ["client_name", "matter_title", "external_id", "client_phone"] {
            let value = |name: &str, fallback: &str| if name == column { bad.clone() } else { fallback.to_owned() };
            let row = [
                value("external_id", "IMP-1"),
                value("matter_title", "Imported"),
                value("client_name", "Imported Client"),
                format!("imported@{}", demo.domain),
                value("client_phone", "+1 555 0199"),
            ];
            let csv_cell = |v: &String| format!("\"{}\"", v.replace('"', "\"\""));
            let csv = format!(
                "external_id,matter_title,client_name,client_email,client_phone\n{}\n",
                row.iter().map(csv_cell).collect::<Vec<_>>().join(",")
            );
            let json = json!([{
                "external_id": row[0], "matter_title": row[1], "client_name": row[2],
                "client_email": row[3], "client_phone": row[4],
            }])
            .to_string();
            for (content_type, body) in [("text/csv", csv), ("application/json", json)] {
                let answer = http
                    .post(app.url("/api/v1/staff/import"))
                    .header(AUTHORIZATION, &bearer)
                    .header(CONTENT_TYPE, content_type)
                    .body(body)
                    .send()
                    .await?;
                let status = answer.status();
                let summary: Value = answer.json().await?;
                let failed = summary["failed"].as_array().cloned().unwrap_or_default();
                let named = failed.len() == 1
                    && failed[0]["field"] == column
                    && failed[0]["reason"].as_str().is_some_and(|r| r.starts_with("contains "));
                refusals.push(Refusal { entry: "import", field: column, status, named });
                assert_eq!(status, StatusCode::OK, "{summary}");
                assert!(named, "{content_type} import with U+{:04X} in {column}: {summary}", c as u32);
                assert_eq!(summary["created"], 0, "{summary}");
            }
        }
    }
    let after = fingerprint(&app).await?;
    let changed = before.iter().zip(&after).filter(|(a, b)| a != b).count() + before.len().abs_diff(after.len());
    assert_eq!(changed, 0, "refused requests changed stored data:\nbefore {before:?}\nafter {after:?}");

    // What is allowed stays allowed: accents, other scripts, a multi-line note.
    let ok = http
        .post(app.url(&format!("/api/v1/staff/matters/{matter}/milestones")))
        .header(AUTHORIZATION, &bearer)
        .json(&json!({ "kind": "client_note", "body": "Línea uno\r\nLínea dos — 医療" }))
        .send()
        .await?;
    assert_eq!(ok.status(), StatusCode::CREATED, "{}", ok.text().await?);
    let note: Option<String> = app
        .state
        .db
        .run(move |c| {
            Ok(milestones::table
                .filter(milestones::kind.eq("client_note"))
                .order(milestones::created_at.desc())
                .select(milestones::body)
                .first(c)?)
        })
        .await?;
    assert_eq!(note.as_deref(), Some("Línea uno\nLínea dos — 医療"), "line breaks are kept in free text, as \\n");

    let by = |entry: &str| refusals.iter().filter(|r| r.entry == entry).count();
    let answered_422 = refusals.iter().filter(|r| r.status == StatusCode::UNPROCESSABLE_ENTITY).count();
    let named = refusals.iter().filter(|r| r.named).count();
    let fields: std::collections::BTreeSet<&str> = refusals.iter().map(|r| r.field).collect();
    reliability::record(
        &format!("security_controls_{backend:?}").to_lowercase(),
        &format!("Control and invisible characters typed into fields ({backend:?})"),
        &format!(
            "Characters: {}.\n\n| figure | value |\n|---|---|\n| kinds of character tried | {} |\n| requests to the staff API refused | {} |\n| forms posted to staff pages refused | {} |\n| import rows (CSV and JSON) refused | {} |\n| answers 422 (API and pages) | {answered_422} |\n| answers naming the field or column | {named} of {} |\n| distinct fields covered | {} |\n| stored values changed by refused requests | {changed} |\n",
            BAD.iter().map(|(name, c)| format!("{name} U+{:04X}", *c as u32)).collect::<Vec<_>>().join(", "),
            BAD.len(),
            by("staff API"),
            by("staff pages"),
            by("import"),
            refusals.len(),
            fields.len(),
        ),
    )?;
    Ok(())
}

/// The raw header block of each message sent to `to`.
fn headers_to(app: &TestApp, to: &str) -> anyhow::Result<Vec<String>> {
    let sent = app.state.mailer().sent_mail().ok_or_else(|| anyhow::anyhow!("no in-memory mail"))?.messages();
    Ok(sent
        .iter()
        .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
        .map(|m| {
            let end = m.raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(m.raw.len());
            String::from_utf8_lossy(&m.raw[..end]).into_owned()
        })
        .collect())
}

/// Statuses and last errors of the notifications of `kind` to `recipient`,
/// once none is waiting or being sent (the outcome is written just after the send; 10 s at most).
async fn rows(app: &TestApp, recipient: &str, kind: &'static str) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let recipient = recipient.to_owned();
        let rows: Vec<(String, Option<String>)> = app
            .state
            .db
            .run(move |c| {
                Ok(notifications::table
                    .filter(notifications::recipient_id.eq(&recipient))
                    .filter(notifications::kind.eq(kind))
                    .order(notifications::created_at)
                    .select((notifications::status, notifications::last_error))
                    .load(c)?)
            })
            .await?;
        let settled = rows.iter().all(|(status, _)| status == "sent" || status == "failed" || status == "skipped");
        if settled || std::time::Instant::now() > deadline {
            return Ok(rows);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn stored_hostile_names_never_crash_mail(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    // Written behind the checks, as data from before them would be.
    let (id, firm) = (jordan.id.clone(), demo.firm_id.clone());
    app.state
        .db
        .run(move |c| {
            diesel::update(users::table.find(&id))
                .set(users::full_name.eq("Jordan\r\nBcc: spy@evil.test\u{1b}\u{202E}"))
                .execute(c)?;
            diesel::update(firms::table.find(&firm)).set(firms::name.eq("Firm\nX-Injected: yes")).execute(c)?;
            Ok(())
        })
        .await?;
    let http = app.new_client()?;
    let mut figures: Vec<(&str, String)> = Vec::new();

    // Sign-in: answered, and the email goes to the address alone.
    let answer = http.post(app.url("/sign-in")).form(&[("email", jordan.email.as_str())]).send().await?;
    assert_eq!(answer.status(), StatusCode::OK, "the sign-in page answers");
    app.mail()?.wait_for_emails(&jordan.email, 1).await?;
    // Queued and sent after the answer; its outcome is written once that work is done.
    app.background_done().await;
    let head = headers_to(&app, &jordan.email)?.pop().unwrap_or_default();
    assert!(head.contains(&format!("To: {}\r\n", jordan.email)), "the name is left out of To:\n{head}");
    let injected = head.split("\r\n").any(|line| line.starts_with("Bcc") || line.starts_with("X-Injected"));
    let sender: shared::mail::Mailbox = app.state.config.mail_from.parse()?;
    let bare_sender = format!("From: {}\r\n", sender.email);
    assert!(!injected && head.contains(&bare_sender), "nothing injected, the firm name left out:\n{head}");
    let sign_in = rows(&app, &jordan.id, "sign_in").await?;
    assert_eq!(sign_in.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["sent"], "{sign_in:?}");
    figures.push(("sign-in with a hostile stored name: answer, row", format!("200, {}", sign_in[0].0)));

    // An upload: the response comes back, and the receipt too.
    let session = app.signed_in_client(&jordan.email).await?;
    let part = reqwest::multipart::Part::bytes(pdf(2000)).file_name("bill.pdf").mime_str("application/pdf")?;
    let upload = session
        .request(Method::POST, &format!("/api/v1/matters/{}/documents", jordan.matter_id))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(upload.status(), StatusCode::CREATED, "the upload's answer is returned");
    let receipt = rows(&app, &jordan.id, "upload_receipt").await?;
    assert_eq!(receipt.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["sent"], "{receipt:?}");
    figures.push(("upload with a hostile stored name: answer, receipt row", format!("201, {}", receipt[0].0)));

    // A sender the firm stored before the checks that no header can carry: the row fails, with its reason.
    let firm = demo.firm_id.clone();
    app.state
        .db
        .run(move |c| {
            diesel::update(firms::table.find(&firm))
                .set(firms::mail_from.eq(Some("Firm\r\nBcc: spy@evil.test <firm@example.com>")))
                .execute(c)?;
            Ok(())
        })
        .await?;
    let part = reqwest::multipart::Part::bytes(pdf(2100)).file_name("bill2.pdf").mime_str("application/pdf")?;
    let upload = session
        .request(Method::POST, &format!("/api/v1/matters/{}/documents", jordan.matter_id))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(upload.status(), StatusCode::CREATED, "the upload's answer is returned");
    let receipt = rows(&app, &jordan.id, "upload_receipt").await?;
    let failed: Vec<_> = receipt.iter().filter(|r| r.0 == "failed").collect();
    assert_eq!(failed.len(), 1, "the receipt row fails for good: {receipt:?}");
    let reason = failed[0].1.clone().unwrap_or_default();
    assert!(reason.contains("sender") && !reason.contains('\n'), "with a reason on one line: {reason:?}");
    assert!(receipt.iter().all(|r| r.0 != "sending"), "no row is left in sending: {receipt:?}");
    figures.push(("receipt with an unusable stored sender: answer, row", format!("201, failed ({reason})")));

    let lines: String = figures.iter().map(|(what, value)| format!("| {what} | {value} |\n")).collect();
    reliability::record(
        &format!("security_stored_controls_{backend:?}").to_lowercase(),
        &format!("Control characters already stored, through mail ({backend:?})"),
        &format!("| case | observed |\n|---|---|\n{lines}"),
    )?;
    Ok(())
}

async fn download_names_carry_their_type_and_no_invisible_characters(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_memory_mail().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let session = app.signed_in_client(&jordan.email).await?;
    // (name sent, name listed, name downloaded)
    let cases = [
        ("statement.html", "statement.html", "statement.pdf"),
        ("scan", "scan", "scan.pdf"),
        ("bill.PDF", "bill.PDF", "bill.PDF"),
        ("\u{FEFF}med\u{00AD}ical\u{200B}\u{200C}\u{200D}\u{2060}.pdf", "medical.pdf", "medical.pdf"),
        ("line\u{2028}para\u{2029}graph.exe", "lineparagraph.exe", "lineparagraph.pdf"),
    ];
    let (mut checked, mut mismatched) = (0, 0);
    // Whether a downloaded name ends in an extension of the type the bytes were found to be.
    let matches_type = |name: &Option<String>, content_type: &str| {
        let extension = name.as_deref().and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
        extension.is_some_and(|e| shared::documents::extensions_of(content_type).contains(&e.as_str()))
    };
    for (sent, listed, downloaded) in cases {
        let part = reqwest::multipart::Part::bytes(pdf(1800)).file_name(sent.to_owned()).mime_str("application/pdf")?;
        let upload = session
            .request(Method::POST, &format!("/api/v1/matters/{}/documents", jordan.matter_id))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await?;
        assert_eq!(upload.status(), StatusCode::CREATED);
        let report: Value = upload.json().await?;
        let id = report["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(report["stored"][0]["name"], listed, "{sent:?} is stored as {listed:?}");
        let name = download_name(&session, &jordan.matter_id, &id).await?;
        let content_type = report["stored"][0]["content_type"].as_str().unwrap_or_default().to_owned();
        mismatched += usize::from(!matches_type(&name, &content_type));
        assert_eq!(name.as_deref(), Some(downloaded), "{sent:?} downloads as {downloaded:?}");
        checked += 1;
    }
    // A row stored before the cleaning: listed and downloaded without its invisible characters.
    let matter = jordan.matter_id.clone();
    let old_id = app
        .state
        .db
        .run(move |c| {
            let id: String = documents::table
                .filter(documents::matter_id.eq(&matter))
                .order(documents::created_at.desc())
                .select(documents::id)
                .first(c)?;
            diesel::update(documents::table.find(&id))
                .set(documents::original_name.eq("old\u{200B}\u{FEFF}\u{00AD}\u{2028}letter.html"))
                .execute(c)?;
            Ok(id)
        })
        .await?;
    let list: Value = session.get(&format!("/api/v1/matters/{}/documents", jordan.matter_id)).await?;
    let listed = list.as_array().into_iter().flatten().find(|d| d["id"] == old_id.as_str()).cloned();
    assert_eq!(listed.map(|d| d["name"].clone()), Some(json!("oldletter.html")), "{list}");
    let name = download_name(&session, &jordan.matter_id, &old_id).await?;
    mismatched += usize::from(!matches_type(&name, "application/pdf"));
    assert_eq!(name.as_deref(), Some("oldletter.pdf"));
    checked += 1;
    reliability::record(
        &format!("security_download_names_{backend:?}").to_lowercase(),
        &format!("Download names ({backend:?})"),
        &format!(
            "| figure | value |\n|---|---|\n| names uploaded and downloaded | {checked} |\n| downloads whose extension differs from the type of their bytes | {mismatched} |\n"
        ),
    )?;
    Ok(())
}

/// The UTF-8 file name a download's `Content-Disposition` gives.
async fn download_name(session: &harness::session::Session, matter: &str, id: &str) -> anyhow::Result<Option<String>> {
    let answer =
        session.request(Method::GET, &format!("/api/v1/matters/{matter}/documents/{id}/download")).send().await?;
    anyhow::ensure!(answer.status() == StatusCode::OK, "download answered {}", answer.status());
    let disposition = answer.headers().get(CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let encoded = disposition.split("filename*=UTF-8''").nth(1).unwrap_or_default();
    let bytes: Vec<u8> = percent_decode(encoded);
    Ok(String::from_utf8(bytes).ok().filter(|n| !n.is_empty()))
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

on_both_backends!(
    control_characters_are_refused_at_every_entry_point,
    stored_hostile_names_never_crash_mail,
    download_names_carry_their_type_and_no_invisible_characters,
);
