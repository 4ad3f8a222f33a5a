//! Document requests with due dates: a client hears of them two days before,
//! the day after, then weekly, in ONE email listing all of theirs across their
//! cases, never twice for a day, and no more once they are fulfilled or
//! cancelled; a request for several files stays open through uploads until
//! staff mark it complete; staff filter and count overdue requests; the firm's
//! ready-made requests come in English and Spanish; the client's case page
//! shows the due date and "Overdue".

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use fantoccini::Locator;
use harness::browser::{self, DESKTOP, PHONE};
use harness::files::pdf;
use harness::pages::main_text;
use harness::{Backend, TestApp, maildev, on_both_backends};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::models::Notification;
use shared::db::schema::{document_requests, notifications};
use shared::domain::{NotificationKind, NotificationStatus, RequestStatus, now};
use shared::notifications::kinds::request_reminder;
use shared::staff::Staff;
use shared::staff::updates::{self, NewRequest};

/// The demo firm's time zone.
const ZONE: &str = "America/Chicago";

/// The demo staff member `email`, acting.
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

/// Opens a request on `matter` due on `due` (firm-local), as `staff` does; returns its id.
async fn ask(
    app: &TestApp,
    staff: &Staff,
    matter: &str,
    title: &str,
    category: &str,
    due: Option<NaiveDate>,
) -> anyhow::Result<String> {
    let (staff, matter) = (staff.clone(), matter.to_owned());
    let input = NewRequest {
        title: title.to_owned(),
        category: Some(category.to_owned()),
        due_date: due,
        ..NewRequest::default()
    };
    Ok(app.state.db.run(move |c| updates::open_request(c, &staff, &matter, &input, now())).await?.id)
}

/// An email's text with its line wrapping undone.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The notifier's reminder pass as of `at`: rows added.
async fn pass(app: &TestApp, at: NaiveDateTime) -> anyhow::Result<usize> {
    Ok(app.state.db.run(move |c| request_reminder::enqueue_all(c, at)).await?)
}

/// The reminder rows of `client`, oldest first.
async fn reminder_rows(app: &TestApp, client: &str) -> anyhow::Result<Vec<Notification>> {
    let client = client.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            Ok(notifications::table
                .filter(notifications::recipient_id.eq(&client))
                .filter(notifications::kind.eq(NotificationKind::RequestReminder))
                .order(notifications::period_key)
                .select(Notification::as_select())
                .load(c)?)
        })
        .await?)
}

/// Two requests on two of Jordan's cases, due the same day: one email two
/// days before listing both, nothing the day before, one "overdue" email the
/// day after, one a week later (without the request staff marked complete
/// meanwhile), and none after the last was cancelled — even for a row queued
/// before the cancel. Every pass runs twice; nothing is sent twice.
async fn reminders_go_out_once_at_each_step_in_one_email(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_smtp().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let casey = staff(&app, &demo.email("casey")).await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let second: Value = admin
        .post_json(
            "/api/v1/staff/matters",
            &json!({ "title": "Second claim: ladder fall", "client_ids": [jordan.id] }),
            StatusCode::CREATED,
        )
        .await?;
    let second_id = second["id"].as_str().unwrap_or_default().to_owned();

    let start = now();
    let today = shared::domain::local_date(ZONE, start);
    let due = today + Duration::days(2);
    let report = ask(&app, &casey, &jordan.matter_id, "Police report", "police_report", Some(due)).await?;
    let wages = ask(&app, &casey, &second_id, "Pay stubs", "wage_proof", Some(due)).await?;
    // Another request with no due date and one due much later never trigger a reminder.
    ask(&app, &casey, &jordan.matter_id, "Photos", "photo", None).await?;
    ask(&app, &casey, &second_id, "Records", "medical_record", Some(today + Duration::days(30))).await?;

    let day = |n: i64| start + Duration::days(n);
    let deliver = |at: NaiveDateTime| {
        let app = &app;
        async move { app.state.notifications.deliver_all(at, &|| {}).await }
    };

    // Two days before: one row, one email listing both cases.
    assert_eq!(pass(&app, day(0)).await?, 1, "one reminder for the client, not one per request");
    assert_eq!(pass(&app, day(0)).await?, 0, "a second pass the same day queues nothing");
    deliver(day(0)).await?;
    deliver(day(0)).await?;
    let emails = maildev::wait_for_emails(&jordan.email, 1).await?;
    let soon = &emails[0];
    let soon_text = flat(&soon.text);
    assert!(soon.subject.contains("2 documents are due soon"), "{}", soon.subject);
    for expected in ["Police report (Rear-end collision on Route 9)", "Proof of lost wages (Second claim: ladder fall)"]
    {
        assert!(soon_text.contains(expected), "the email lacks {expected:?}:\n{}", soon.text);
    }
    let due_text = app.state.renderer.locales().day(shared::domain::Language::EN, due);
    assert!(soon_text.contains(&format!("due {due_text}")), "no due date {due_text:?}:\n{}", soon.text);
    assert!(!soon_text.contains("Photos") && !soon_text.contains("Records"), "{}", soon.text);
    assert!(soon.html.contains("Police report"), "the HTML part lists the requests too");
    // Like every client email, it opens the case in one tap.
    assert!(soon.link_containing("/one-tap?token=").is_some(), "no one-tap button:\n{}", soon.html);

    // The day before and the due day: nothing.
    assert_eq!(pass(&app, day(1)).await?, 0);
    assert_eq!(pass(&app, day(2)).await?, 0);

    // The day after: "overdue", once.
    assert_eq!(pass(&app, day(3)).await?, 1);
    assert_eq!(pass(&app, day(3)).await?, 0);
    deliver(day(3)).await?;
    let emails = maildev::wait_for_emails(&jordan.email, 2).await?;
    assert_eq!(emails.len(), 2, "{:?}", emails.iter().map(|e| &e.subject).collect::<Vec<_>>());
    let overdue = &emails[1];
    assert!(overdue.subject.contains("Documents are overdue"), "{}", overdue.subject);
    assert!(flat(&overdue.text).contains(&format!("overdue since {due_text}")), "{}", overdue.text);
    for quiet in 4..10 {
        assert_eq!(pass(&app, day(quiet)).await?, 0, "day {quiet} after the reminder");
    }

    // Staff mark the pay stubs complete: the weekly reminder lists only the police report.
    let (c2, second2, wages2) = (casey.clone(), second_id.clone(), wages.clone());
    app.state.db.run(move |c| updates::complete_request(c, &c2, &second2, &wages2, now())).await?;
    assert_eq!(pass(&app, day(10)).await?, 1, "a week after the first overdue reminder");
    deliver(day(10)).await?;
    let emails = maildev::wait_for_emails(&jordan.email, 3).await?;
    let weekly = &emails[2];
    assert!(weekly.subject.contains("A document is overdue"), "{}", weekly.subject);
    let weekly_text = flat(&weekly.text);
    assert!(weekly_text.contains("Police report") && !weekly_text.contains("lost wages"), "{}", weekly.text);

    // A row queued, then the last request cancelled before it is sent: skipped, not sent.
    assert_eq!(pass(&app, day(17)).await?, 1);
    let (c3, matter3, report3) = (casey.clone(), jordan.matter_id.clone(), report.clone());
    app.state.db.run(move |c| updates::cancel_request(c, &c3, &matter3, &report3, now())).await?;
    deliver(day(17)).await?;
    // Nothing open and due: no more rows.
    assert_eq!(pass(&app, day(24)).await?, 0);

    let rows = reminder_rows(&app, &jordan.id).await?;
    let statuses: Vec<(String, NotificationStatus)> = rows.iter().map(|r| (r.period_key.clone(), r.status)).collect();
    let key = |n: i64| request_reminder::period_key(shared::domain::local_date(ZONE, day(n)));
    assert_eq!(
        statuses,
        [
            (key(0), NotificationStatus::Sent),
            (key(3), NotificationStatus::Sent),
            (key(10), NotificationStatus::Sent),
            (key(17), NotificationStatus::Skipped),
        ]
    );
    assert_eq!(maildev::emails_to(&jordan.email).await?.len(), 3, "exactly three reminders were delivered");
    Ok(())
}

/// A request for several files (`fulfil_on: staff`), opened from the police
/// report template with a due date over the API, stays open through the
/// client's upload and is fulfilled only when staff mark it complete; a
/// second mark is a conflict. A plain request still closes on its first upload.
async fn a_request_for_several_files_stays_open_until_staff_mark_it(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let casey = app.signed_in_staff(&demo, "casey").await?;
    let client = app.signed_in_client(&jordan.email).await?;
    let due = shared::domain::local_date(ZONE, now()) + Duration::days(5);
    let opened: Value = casey
        .post_json(
            &format!("/api/v1/staff/matters/{}/requests", jordan.matter_id),
            &json!({ "template": "police_report", "due_date": due.to_string(), "fulfil_on": "staff" }),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(opened["title"], "Police report", "{opened}");
    assert_eq!(opened["category"], "police_report");
    assert_eq!(opened["due_date"], due.to_string());
    assert_eq!(opened["fulfil_on"], "staff");
    let several = opened["id"].as_str().unwrap_or_default().to_owned();
    let plain: Value = casey
        .post_json(
            &format!("/api/v1/staff/matters/{}/requests", jordan.matter_id),
            &json!({ "title": "Tow receipt", "category": "other" }),
            StatusCode::CREATED,
        )
        .await?;
    let plain = plain["id"].as_str().unwrap_or_default().to_owned();

    let upload = |request: String, name: &'static str| {
        let form = Form::new()
            .text("request", request)
            .part("file", Part::bytes(pdf(2000)).file_name(name).mime_str("application/pdf").ok()?);
        Some(client.request(Method::POST, &format!("/api/v1/matters/{}/documents", jordan.matter_id)).multipart(form))
    };
    for (request, name) in [(&several, "report page 1.pdf"), (&several, "report page 2.pdf"), (&plain, "tow.pdf")] {
        let sent = upload(request.clone(), name).ok_or_else(|| anyhow::anyhow!("form"))?.send().await?;
        assert_eq!(sent.status(), StatusCode::CREATED, "{name}: {}", sent.text().await?);
    }
    let status = |id: String| {
        let app = &app;
        async move {
            app.state
                .db
                .run(move |c| {
                    Ok(document_requests::table
                        .find(&id)
                        .select(document_requests::status)
                        .first::<RequestStatus>(c)?)
                })
                .await
        }
    };
    assert_eq!(status(several.clone()).await?, RequestStatus::Open, "two uploads and still open");
    assert_eq!(status(plain.clone()).await?, RequestStatus::Fulfilled, "a plain request closes on its upload");
    let detail: Value = client.get(&format!("/api/v1/matters/{}", jordan.matter_id)).await?;
    assert!(
        detail["open_requests"].as_array().is_some_and(|r| r.iter().any(|r| r["id"] == several.as_str())),
        "the client still sees it: {detail}"
    );

    // The page's "Mark complete" button, then the API's, which finds it closed.
    let marked = casey
        .request(Method::POST, &format!("/staff/matters/{}/requests/{several}/complete", jordan.matter_id))
        .send()
        .await?;
    assert_eq!(marked.status(), StatusCode::SEE_OTHER);
    assert_eq!(status(several.clone()).await?, RequestStatus::Fulfilled);
    casey
        .post_json::<Value>(
            &format!("/api/v1/staff/matters/{}/requests/{several}/complete", jordan.matter_id),
            &json!({}),
            StatusCode::CONFLICT,
        )
        .await?;
    Ok(())
}

/// A hand-counted fixture: Jordan's case has two overdue requests (one due
/// yesterday, one ten days ago), one due today and one due tomorrow; Lucía's
/// has an overdue one that was cancelled, one completed and one without a
/// date; Sam's has one overdue. The overdue filter (API and page) finds
/// Jordan's and Sam's cases; the counts are 2, 0 and 1; a due date moved
/// into the future takes a case off the list.
async fn the_overdue_filter_and_counts_match_a_hand_count(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let casey = staff(&app, &demo.email("casey")).await?;
    let session = app.signed_in_staff(&demo, "casey").await?;
    let (jordan, lucia, sam) = (
        app.client(&demo.email("jordan")).await?,
        app.client(&demo.email("lucia")).await?,
        app.client(&demo.email("sam")).await?,
    );
    let today = shared::domain::local_date(ZONE, now());
    let d = |n: i64| Some(today + Duration::days(n));
    let late = ask(&app, &casey, &jordan.matter_id, "A", "other", d(-1)).await?;
    ask(&app, &casey, &jordan.matter_id, "B", "other", d(-10)).await?;
    ask(&app, &casey, &jordan.matter_id, "C", "other", d(0)).await?;
    ask(&app, &casey, &jordan.matter_id, "D", "other", d(1)).await?;
    let cancelled = ask(&app, &casey, &lucia.matter_id, "E", "other", d(-3)).await?;
    let completed = ask(&app, &casey, &lucia.matter_id, "F", "other", d(-3)).await?;
    ask(&app, &casey, &lucia.matter_id, "G", "other", None).await?;
    let sams = ask(&app, &casey, &sam.matter_id, "H", "other", d(-2)).await?;
    let (c1, m1) = (casey.clone(), lucia.matter_id.clone());
    app.state
        .db
        .run(move |c| {
            updates::cancel_request(c, &c1, &m1, &cancelled, now())?;
            updates::complete_request(c, &c1, &m1, &completed, now()).map(|_| ())
        })
        .await?;

    let overdue: Vec<Value> = session.get("/api/v1/staff/matters?overdue=true").await?;
    let mut found: Vec<(&str, i64)> = overdue
        .iter()
        .map(|m| (m["id"].as_str().unwrap_or_default(), m["overdue_requests"].as_i64().unwrap_or(-1)))
        .collect();
    found.sort_unstable();
    let mut expected = vec![(jordan.matter_id.as_str(), 2), (sam.matter_id.as_str(), 1)];
    expected.sort_unstable();
    assert_eq!(found, expected);
    let all: Vec<Value> = session.get("/api/v1/staff/matters").await?;
    let count_of = |id: &str| all.iter().find(|m| m["id"] == id).and_then(|m| m["overdue_requests"].as_i64());
    assert_eq!(count_of(&lucia.matter_id), Some(0));
    assert_eq!(all.iter().map(|m| m["overdue_requests"].as_i64().unwrap_or(0)).sum::<i64>(), 3, "only 3 in the firm");

    let detail: Value = session.get(&format!("/api/v1/staff/matters/{}", jordan.matter_id)).await?;
    assert_eq!(detail["overdue_requests"], 2);
    let flags: Vec<(&str, bool)> = detail["requests"]
        .as_array()
        .map(|r| r.iter().map(|r| (r["title"].as_str().unwrap_or_default(), r["overdue"] == true)).collect())
        .unwrap_or_default();
    for (title, late) in [("A", true), ("B", true), ("C", false), ("D", false)] {
        assert!(flags.contains(&(title, late)), "{title} overdue={late}: {flags:?}");
    }

    // The staff table, filtered: Jordan's and Sam's cases, each with its count.
    let page = session.request(Method::GET, "/staff?overdue=1").send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let text = main_text(&page.text().await?);
    assert!(text.contains("Rear-end collision on Route 9") && text.contains("2 overdue"), "{text}");
    assert!(text.contains("1 overdue"), "{text}");
    assert!(text.contains("2 matters"), "the count of matters shown: {text}");

    // Sam's date moves to next week (the page's form): his case leaves the list.
    let moved = session
        .request(Method::POST, &format!("/staff/matters/{}/requests/{sams}/due", sam.matter_id))
        .form(&[("due_date", (today + Duration::days(7)).to_string())])
        .send()
        .await?;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let overdue: Vec<Value> = session.get("/api/v1/staff/matters?overdue=true").await?;
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    // And over the API, Jordan's "A" gets no date at all.
    let patched: Value = session
        .patch_json(
            &format!("/api/v1/staff/matters/{}/requests/{late}", jordan.matter_id),
            &json!({ "due_date": null }),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(patched["due_date"], Value::Null);
    let detail: Value = session.get(&format!("/api/v1/staff/matters/{}", jordan.matter_id)).await?;
    assert_eq!(detail["overdue_requests"], 1);
    Ok(())
}

/// The firm's six ready-made requests, in English and in Spanish, in one
/// order; one picked for a Spanish-speaking client's case is worded in Spanish.
async fn ready_made_requests_come_in_both_languages(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let session = app.signed_in_staff(&demo, "casey").await?;
    let all: Vec<Value> = session.get("/api/v1/staff/request-templates").await?;
    assert_eq!(all.len(), 12, "{all:?}");
    let titles = |language: &str| {
        let session = &session;
        let path = format!("/api/v1/staff/request-templates?language={language}");
        async move {
            let list: Vec<Value> = session.get(&path).await?;
            anyhow::Ok(
                list.iter()
                    .map(|t| {
                        (
                            t["key"].as_str().unwrap_or_default().to_owned(),
                            t["title"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        }
    };
    let english = titles("en").await?;
    let spanish = titles("es").await?;
    let keys = ["medical_bills", "medical_records", "police_report", "insurance_card", "injury_photos", "lost_wages"];
    assert_eq!(english.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), keys);
    assert_eq!(spanish.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), keys);
    assert_eq!(english[2].1, "Police report");
    assert_eq!(spanish[2].1, "Informe policial");
    assert_eq!(english[5].1, "Proof of lost wages");
    assert_eq!(spanish[5].1, "Prueba de salarios perdidos");
    // (Not `fr`: the languages tests load it into this test process.)
    session.get_json_answer("/api/v1/staff/request-templates?language=ja", StatusCode::UNPROCESSABLE_ENTITY).await?;

    // Lucía reads Spanish: the page's form with only a template asks her in Spanish.
    let lucia = app.client(&demo.email("lucia")).await?;
    let sent = session
        .request(Method::POST, &format!("/staff/matters/{}/requests", lucia.matter_id))
        .form(&[("template", "injury_photos"), ("title", ""), ("fulfil_on", "first_upload")])
        .send()
        .await?;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let detail: Value = session.get(&format!("/api/v1/staff/matters/{}", lucia.matter_id)).await?;
    let request = &detail["requests"][0];
    assert_eq!(request["title"], "Fotos de sus lesiones", "{detail}");
    assert_eq!(request["category"], "photo");
    Ok(())
}

/// The client's case page shows "Due Friday, January 8" and an "Overdue"
/// badge, and the staff form its template, due date and completion choices,
/// on a phone and a desktop, axe-clean.
async fn the_case_page_and_the_staff_form_show_due_dates(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let casey = staff(&app, &demo.email("casey")).await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let today = shared::domain::local_date(ZONE, now());
    let due = today + Duration::days(2);
    ask(&app, &casey, &jordan.matter_id, "Police report", "police_report", Some(due)).await?;
    ask(&app, &casey, &jordan.matter_id, "Pay stubs", "wage_proof", Some(today - Duration::days(3))).await?;
    let due_text = format!("Due {}", app.state.renderer.locales().day(shared::domain::Language::EN, due));
    let mut faults = Vec::new();
    for screen in [PHONE, DESKTOP] {
        let size = format!("{}x{}", screen.width, screen.height);
        let browser = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&browser, &jordan.email).await?;
            browser.goto(&app.url(&format!("/matters/{}", jordan.matter_id))).await?;
            browser.wait().for_element(Locator::Css(".request-due")).await?;
            let text = browser::main_text(&browser).await?;
            assert!(text.contains(&due_text), "{due_text:?} missing: {text}");
            assert!(text.contains("Overdue"), "no overdue badge: {text}");
            browser
                .execute("document.querySelector('.request-due').scrollIntoView({block: 'center'});", vec![])
                .await?;
            browser::screenshot(&browser, &format!("request-due-client-{size}-{}", backend.name())).await?;
            for v in browser::axe_violations(&browser).await? {
                faults.push(format!("case page at {size}: {v}"));
            }
            app.sign_in_browser(&browser, &demo.email("casey")).await?;
            browser.goto(&app.url(&format!("/staff/matters/{}", jordan.matter_id))).await?;
            browser.wait().for_element(Locator::Css("#request-template")).await?;
            browser.execute("document.getElementById('request-heading').scrollIntoView();", vec![]).await?;
            browser::screenshot(&browser, &format!("request-due-staff-{size}-{}", backend.name())).await?;
            browser
                .execute("document.querySelector('.request-actions').scrollIntoView({block: 'center'});", vec![])
                .await?;
            browser::screenshot(&browser, &format!("request-due-staff-list-{size}-{}", backend.name())).await?;
            for v in browser::axe_violations(&browser).await? {
                faults.push(format!("staff page at {size}: {v}"));
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

/// A firm that existed before the migration that added ready-made requests
/// gets the same six, in both languages, from the migration itself.
async fn the_migration_gives_existing_firms_the_ready_made_requests(backend: Backend) -> anyhow::Result<()> {
    use crate::schema::migrations;
    use shared::db::schema::firms;
    let test_db = harness::TestDb::create(backend)?;
    let db = shared::db::Db::connect(&test_db.url, 2)?;
    let mut conn = db.get()?;
    while let Some(name) = migrations::next_pending(&mut conn)? {
        if name.starts_with("2026-12-06-000014") {
            break;
        }
        migrations::run_next(&mut conn)?;
    }
    let firm = |id: &str| {
        diesel::insert_into(firms::table).values((
            firms::id.eq(id.to_owned()),
            firms::name.eq("A firm"),
            firms::time_zone.eq(ZONE),
            firms::no_activity_updates.eq(true),
            firms::created_at.eq(now()),
        ))
    };
    firm("old-firm").execute(&mut **conn)?;
    migrations::run_next(&mut conn)?;
    // A firm made after it gets them from the code: the same texts, word for word.
    firm("new-firm").execute(&mut **conn)?;
    shared::requests::install_templates(&mut conn, "new-firm")?;
    let of = |conn: &mut shared::db::DbConnection, id: &str| -> anyhow::Result<Vec<Value>> {
        Ok(shared::requests::templates(conn, id, None)?.iter().map(|t| json!(t)).collect())
    };
    let (old, new) = (of(&mut conn, "old-firm")?, of(&mut conn, "new-firm")?);
    assert_eq!(old.len(), 12, "{old:?}");
    assert_eq!(old, new, "the migration's texts and the code's differ");
    assert!(old.iter().any(|t| t["key"] == "police_report" && t["title"] == "Informe policial"), "{old:?}");
    Ok(())
}

on_both_backends!(
    the_migration_gives_existing_firms_the_ready_made_requests,
    reminders_go_out_once_at_each_step_in_one_email,
    a_request_for_several_files_stays_open_until_staff_mark_it,
    the_overdue_filter_and_counts_match_a_hand_count,
    ready_made_requests_come_in_both_languages,
    the_case_page_and_the_staff_form_show_due_dates,
);
