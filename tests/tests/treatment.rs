//! Treatment log and appointments: a matter in a treatment phase with no visit
//! logged for the firm's limit is flagged for staff (table, filter, API) and
//! the flag clears when a visit is logged; visits are validated (not in the
//! future; an upcoming one not in the past) with readable errors in both
//! languages; appointment emails delivered through the real SMTP server carry
//! an `.ics` that an independent parser (Python `icalendar`) reads with the
//! right time, UID and SEQUENCE, a cancellation carries `METHOD:CANCEL` with
//! the same UID, and the reminder goes once however often the notifier's pass
//! runs; an instant written with `Z` or with an offset is the same time; and
//! a client logs a visit and an upcoming appointment from a phone in Chromium.

use chrono::Duration;
use diesel::prelude::*;
use harness::maildev::{self, Email};
use harness::pages::main_text;
use harness::session::Session;
use harness::{Backend, TestApp, on_both_backends, services};
use mail_parser::MimeHeaders;
use notifier::Notifier;
use notifier::cli::WorkerOptions;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::{matters, milestones, notifications};
use shared::domain::{MilestoneKind, NotificationKind, now};

on_both_backends!(
    a_treatment_gap_flags_the_matter_and_clears_when_a_visit_is_logged,
    visits_in_the_wrong_tense_are_refused_in_both_languages,
    appointment_emails_carry_an_invitation_a_calendar_reads,
    the_reminder_goes_once_however_often_the_pass_runs,
    z_and_an_offset_name_the_same_appointment_time,
    a_client_logs_visits_from_a_phone,
    the_weekly_update_asks_for_visits_during_treatment,
);

/// Moves `matter`'s entry into its current phase (and its opening) `days` back,
/// as if the matter had been in treatment that long.
async fn entered_days_ago(app: &TestApp, matter: &str, days: i64) -> anyhow::Result<()> {
    let matter = matter.to_owned();
    app.state
        .db
        .run(move |c| {
            // Noon of the firm's day `days` before today: `days` calendar days back in
            // Chicago whatever the hour, across a change of summer time too.
            let zone = "America/Chicago";
            let day = shared::domain::local_date(zone, now()) - Duration::days(days);
            let back = shared::domain::day_start_utc(zone, day) + Duration::hours(12);
            diesel::update(matters::table.find(&matter)).set(matters::opened_at.eq(back)).execute(c)?;
            diesel::update(
                milestones::table
                    .filter(milestones::matter_id.eq(&matter))
                    .filter(milestones::kind.eq(MilestoneKind::PhaseChange)),
            )
            .set(milestones::created_at.eq(back))
            .execute(c)?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// The ids of the matters the staff API lists with `?treatment_gap=true`.
async fn flagged(staff: &Session) -> anyhow::Result<Vec<String>> {
    let rows: Vec<Value> = staff.get("/api/v1/staff/matters?treatment_gap=true").await?;
    Ok(rows.iter().filter_map(|r| r["id"].as_str().map(str::to_owned)).collect())
}

/// The firm's calendar day `days` from today (the demo firm is in Chicago).
fn day(days: i64) -> String {
    shared::domain::local_date("America/Chicago", now() + Duration::days(days)).to_string()
}

async fn a_treatment_gap_flags_the_matter_and_clears_when_a_visit_is_logged(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    // Lucía's matter is in medical treatment; Jordan's is past it.
    let lucia = app.client(&demo.email("lucia")).await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let client = app.signed_in_client(&lucia.email).await?;

    // In the phase for 10 days, under the default 30: not flagged.
    entered_days_ago(&app, &lucia.matter_id, 10).await?;
    entered_days_ago(&app, &jordan.matter_id, 40).await?;
    assert!(flagged(&staff).await?.is_empty());
    let settings: Value = admin.get("/api/v1/staff/settings").await?;
    assert_eq!(settings["treatment_gap_days"], json!(30));

    // 40 days without a visit: flagged, with the days, in the API and the table; Jordan is not in treatment.
    entered_days_ago(&app, &lucia.matter_id, 40).await?;
    assert_eq!(flagged(&staff).await?, vec![lucia.matter_id.clone()]);
    let matter: Value = staff.get(&format!("/api/v1/staff/matters/{}", lucia.matter_id)).await?;
    assert_eq!(matter["treatment_gap_days"], json!(40));
    let log: Value = staff.get(&format!("/api/v1/staff/matters/{}/treatment", lucia.matter_id)).await?;
    assert_eq!(log["treatment_gap_days"], json!(40));
    let html = staff.request(Method::GET, "/staff?treatment_gap=1").send().await?.text().await?;
    let text = main_text(&html);
    assert!(text.contains("40 days without treatment"), "{text}");
    assert!(!html.contains(&format!("/staff/matters/{}\"", jordan.matter_id)), "Jordan's matter is not flagged");

    // The firm's own limit: 45 days clears it, 40 flags it again.
    admin.patch_json::<Value>("/api/v1/staff/settings", &json!({ "treatment_gap_days": 45 }), StatusCode::OK).await?;
    assert!(flagged(&staff).await?.is_empty());
    admin.patch_json::<Value>("/api/v1/staff/settings", &json!({ "treatment_gap_days": 40 }), StatusCode::OK).await?;
    assert_eq!(flagged(&staff).await?, vec![lucia.matter_id.clone()]);
    admin
        .patch_json::<Value>(
            "/api/v1/staff/settings",
            &json!({ "treatment_gap_days": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await?;

    // An upcoming appointment is not treatment yet: still flagged.
    let path = format!("/api/v1/matters/{}/treatment/visits", lucia.matter_id);
    let upcoming = json!({
        "new_provider": { "name": "Lakeside Physical Therapy", "kind": "physical_therapy", "phone": "+1 555 0142" },
        "visit_on": day(3),
        "status": "upcoming"
    });
    let made: Value = client.post_json(&path, &upcoming, StatusCode::CREATED).await?;
    assert_eq!(made["status"], json!("upcoming"));
    assert_eq!(flagged(&staff).await?, vec![lucia.matter_id.clone()]);

    // The client logs yesterday's visit with that provider: the flag clears.
    let visit = json!({ "provider_id": made["provider_id"], "visit_on": day(-1), "note": "Second session" });
    client.post_json::<Value>(&path, &visit, StatusCode::CREATED).await?;
    assert!(flagged(&staff).await?.is_empty());
    let matter: Value = staff.get(&format!("/api/v1/staff/matters/{}", lucia.matter_id)).await?;
    assert_eq!(matter["treatment_gap_days"], Value::Null);
    let log: Value = client.get(&format!("/api/v1/matters/{}/treatment", lucia.matter_id)).await?;
    assert_eq!(log["providers"].as_array().map(Vec::len), Some(1), "{log}");
    assert_eq!(log["visits"].as_array().map(Vec::len), Some(2), "{log}");
    assert_eq!(log["visits"][0]["status"], json!("upcoming"), "latest day first: {log}");

    // The staff matter page shows the timeline; another client's matter is 404.
    let html = staff.request(Method::GET, &format!("/staff/matters/{}", lucia.matter_id)).send().await?.text().await?;
    assert!(main_text(&html).contains("Lakeside Physical Therapy"));
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let other = jordan_session.request(Method::POST, &path).json(&visit).send().await?;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    Ok(())
}

async fn visits_in_the_wrong_tense_are_refused_in_both_languages(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    for (who, future_error, past_error) in [
        ("jordan", "A visit cannot be in the future.", "An upcoming appointment cannot be in the past."),
        ("lucia", "Una visita no puede ser en el futuro.", "Una cita próxima no puede ser en el pasado."),
    ] {
        let client = app.client(&demo.email(who)).await?;
        let session = app.signed_in_client(&client.email).await?;
        let form = |status: &str, on: String| {
            vec![
                ("status", status.to_owned()),
                ("visit_on", on),
                ("provider_id", String::new()),
                ("provider_name", "Dr. Rivera".to_owned()),
                ("provider_kind", "doctor".to_owned()),
                ("note", "Kept in the form".to_owned()),
            ]
        };
        let path = format!("/matters/{}/treatment/visits", client.matter_id);
        for (status, on, error) in [("visited", day(2), future_error), ("upcoming", day(-2), past_error)] {
            let reply = session.request(Method::POST, &path).form(&form(status, on)).send().await?;
            assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY, "{who} {status}");
            let html = reply.text().await?;
            assert!(main_text(&html).contains(error), "{who} {status}: {}", main_text(&html));
            assert!(html.contains("Kept in the form") && html.contains("value=\"Dr. Rivera\""), "the form is kept");
        }
        // No date at all, and the API's answer names the field.
        let reply = session.request(Method::POST, &path).form(&form("visited", String::new())).send().await?;
        assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let api = format!("/api/v1/matters/{}/treatment/visits", client.matter_id);
        let refused = session
            .request(Method::POST, &api)
            .json(&json!({ "new_provider": { "name": "Dr. Rivera" }, "visit_on": day(2) }))
            .send()
            .await?;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await?.contains("visit_on"));
        // Today is fine either way; the page confirms and lists it.
        let reply = session.request(Method::POST, &path).form(&form("visited", day(0))).send().await?;
        assert_eq!(reply.status(), StatusCode::SEE_OTHER);
        let log: Value = session.get(&format!("/api/v1/matters/{}/treatment", client.matter_id)).await?;
        assert_eq!(log["visits"].as_array().map(Vec::len), Some(1), "nothing refused was stored: {log}");
    }
    Ok(())
}

/// What Python's `icalendar` reads in an invitation.
#[derive(Debug, serde::Deserialize)]
struct Parsed {
    method: String,
    uid: String,
    sequence: i64,
    start: String,
    end: String,
    status: String,
    location: String,
}

/// The `.ics` attached to `email`, with the `method` parameter of its MIME type.
async fn invitation(email: &Email) -> anyhow::Result<(String, Vec<u8>)> {
    let raw = email.source().await?;
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .ok_or_else(|| anyhow::anyhow!("the email does not parse"))?;
    for part in parsed.attachments() {
        let Some(kind) = part.content_type() else { continue };
        if kind.ctype() == "text" && kind.subtype() == Some("calendar") {
            let method = kind.attribute("method").unwrap_or_default().to_owned();
            return Ok((method, part.contents().to_vec()));
        }
    }
    anyhow::bail!("no text/calendar attachment in {:?}", email.subject)
}

/// `ics` as the independent parser reads it.
fn read_with_python(ics: &[u8]) -> anyhow::Result<Parsed> {
    let python = services::required("MATTERLINE_TEST_PYTHON", "Python with icalendar")?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("appointment.ics");
    std::fs::write(&file, ics)?;
    let script = r#"
import json, sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
events = list(cal.walk('VEVENT'))
assert len(events) == 1, events
ev = events[0]
print(json.dumps({
    "method": str(cal.get('METHOD')),
    "uid": str(ev.get('UID')),
    "sequence": int(ev.get('SEQUENCE')),
    "start": ev.decoded('DTSTART').isoformat(),
    "end": ev.decoded('DTEND').isoformat(),
    "status": str(ev.get('STATUS')),
    "location": str(ev.get('LOCATION')),
}))
"#;
    let out = std::process::Command::new(python).arg("-c").arg(script).arg(&file).output()?;
    anyhow::ensure!(out.status.success(), "icalendar refused the file: {}", String::from_utf8_lossy(&out.stderr));
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The emails to `to` whose subject starts with `prefix`, waiting (up to 10 s) for `count`.
async fn emails_starting(to: &str, prefix: &str, count: usize) -> anyhow::Result<Vec<Email>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found: Vec<Email> =
            maildev::emails_to(to).await?.into_iter().filter(|e| e.subject.starts_with(prefix)).collect();
        if found.len() >= count || std::time::Instant::now() > deadline {
            anyhow::ensure!(
                found.len() >= count,
                "expected {count} email(s) \"{prefix}…\" to {to}, found {}",
                found.len()
            );
            return Ok(found);
        }
        // Polling the API is the only way maildev offers to wait for a message.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn appointment_emails_carry_an_invitation_a_calendar_reads(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_smtp().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let path = format!("/api/v1/staff/matters/{}/appointments", jordan.matter_id);
    let made: Value = staff
        .post_json(
            &path,
            &json!({
                "kind": "medical_exam",
                "starts_at": "2027-01-05T15:00:00Z",
                "duration_minutes": 45,
                "place": "Northside Clinic, 12 Elm St; Suite 3",
                "bring": "Photo ID, insurance card"
            }),
            StatusCode::CREATED,
        )
        .await?;
    let id = made["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(made["sequence"], json!(0));

    // The invitation: METHOD:REQUEST, the right instant and length, the appointment's UID.
    let sent = emails_starting(&jordan.email, "Appointment on", 1).await?;
    let (mime_method, ics) = invitation(&sent[0]).await?;
    assert_eq!(mime_method, "REQUEST");
    let first = read_with_python(&ics)?;
    assert_eq!(first.method, "REQUEST");
    assert!(first.uid.starts_with(&format!("{id}@")), "{first:?}");
    assert_eq!((first.start.as_str(), first.end.as_str()), ("2027-01-05T15:00:00+00:00", "2027-01-05T15:45:00+00:00"));
    assert_eq!((first.sequence, first.status.as_str()), (0, "CONFIRMED"));
    assert_eq!(first.location, "Northside Clinic, 12 Elm St; Suite 3");
    // The email says when in the firm's time (Chicago, 9:00) and what to bring.
    assert!(sent[0].text.contains("January 5, 2027, 09:00 (CST)"), "{}", sent[0].text);
    assert!(sent[0].text.contains("Photo ID, insurance card"), "{}", sent[0].text);
    assert!(sent[0].link_containing("/one-tap?token=").is_some(), "no one-tap button:\n{}", sent[0].html);

    // A change: same UID, SEQUENCE 1, the new time (given with an offset).
    let changed: Value = staff
        .patch_json(&format!("{path}/{id}"), &json!({ "starts_at": "2027-01-06T10:30:00-06:00" }), StatusCode::OK)
        .await?;
    assert_eq!(changed["sequence"], json!(1));
    let sent = emails_starting(&jordan.email, "Appointment changed", 1).await?;
    let second = read_with_python(&invitation(&sent[0]).await?.1)?;
    assert_eq!((second.uid.as_str(), second.sequence), (first.uid.as_str(), 1));
    assert_eq!(second.start, "2027-01-06T16:30:00+00:00");

    // The cancellation: METHOD:CANCEL, same UID, a higher SEQUENCE.
    staff.post_json::<Value>(&format!("{path}/{id}/cancel"), &json!({}), StatusCode::OK).await?;
    let sent = emails_starting(&jordan.email, "Appointment cancelled", 1).await?;
    let (mime_method, ics) = invitation(&sent[0]).await?;
    assert_eq!(mime_method, "CANCEL");
    let third = read_with_python(&ics)?;
    assert_eq!((third.method.as_str(), third.status.as_str()), ("CANCEL", "CANCELLED"));
    assert_eq!((third.uid.as_str(), third.sequence), (first.uid.as_str(), 2));
    // Cancelled twice is a conflict; the client no longer sees it.
    let again = staff.request(Method::POST, &format!("{path}/{id}/cancel")).send().await?;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let client = app.signed_in_client(&jordan.email).await?;
    let upcoming: Vec<Value> = client.get(&format!("/api/v1/matters/{}/appointments", jordan.matter_id)).await?;
    assert!(upcoming.is_empty(), "{upcoming:?}");
    Ok(())
}

async fn the_reminder_goes_once_however_often_the_pass_runs(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).with_smtp().spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    // Tomorrow (within a day): the pass queues its reminder now.
    let soon = (now() + Duration::hours(20)).and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let later = (now() + Duration::days(20)).and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!("/api/v1/staff/matters/{}/appointments", jordan.matter_id);
    for starts in [&soon, &later] {
        let body = json!({ "kind": "deposition", "starts_at": starts, "place": "Our office, 2nd floor" });
        staff.post_json::<Value>(&path, &body, StatusCode::CREATED).await?;
    }
    emails_starting(&jordan.email, "Appointment on", 2).await?;
    let notifier = Notifier::build(
        app.config(&[("MATTERLINE_SMTP_URL", &services::smtp_url()?)])?,
        &WorkerOptions { lease_seconds: 60, concurrency: 2, batch: 100 },
    )?;
    notifier.once().await?;
    notifier.once().await?;
    let reminders = emails_starting(&jordan.email, "Reminder:", 1).await?;
    // Both passes have delivered everything they queued: still one reminder, one row, for the appointment tomorrow.
    let reminders_now =
        maildev::emails_to(&jordan.email).await?.into_iter().filter(|e| e.subject.starts_with("Reminder:")).count();
    assert_eq!(reminders_now, 1, "the reminder went more than once");
    assert!(reminders[0].text.contains("is tomorrow"), "{}", reminders[0].text);
    let rows: i64 = app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::kind.eq(NotificationKind::AppointmentReminder))
                .count()
                .get_result(c)?)
        })
        .await?;
    assert_eq!(rows, 1);
    Ok(())
}

async fn z_and_an_offset_name_the_same_appointment_time(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let path = format!("/api/v1/staff/matters/{}/appointments", jordan.matter_id);
    let mut starts = Vec::new();
    for at in ["2027-01-05T15:00:00Z", "2027-01-05T10:00:00-05:00", "2027-01-05T15:00:00"] {
        let body = json!({ "kind": "call", "starts_at": at, "place": "By phone" });
        let made: Value = staff.post_json(&path, &body, StatusCode::CREATED).await?;
        starts.push(made["starts_at"].clone());
    }
    assert!(starts.iter().all(|s| *s == starts[0]), "{starts:?}");
    // A milestone's appointment time reads the same way.
    let milestone: Value = staff
        .post_json(
            &format!("/api/v1/staff/matters/{}/milestones", jordan.matter_id),
            &json!({ "kind": "appointment", "body": "Exam", "occurs_at": "2027-01-05T10:00:00-05:00" }),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(milestone["occurs_at"], starts[0]);
    // Not a time, and a time in the past, are refused.
    for at in ["next Tuesday", "2020-01-05T15:00:00Z"] {
        let body = json!({ "kind": "call", "starts_at": at, "place": "By phone" });
        let refused = staff.request(Method::POST, &path).json(&body).send().await?;
        assert!(refused.status().is_client_error(), "{at}: {}", refused.status());
    }
    Ok(())
}

async fn a_client_logs_visits_from_a_phone(backend: Backend) -> anyhow::Result<()> {
    use fantoccini::Locator;
    use harness::browser::{self, DESKTOP, PHONE};
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let staff = app.signed_in_staff(&demo, "casey").await?;
    let body = json!({
        "kind": "medical_exam", "starts_at": "2027-01-05T15:00:00Z", "place": "Northside Clinic", "bring": "Photo ID"
    });
    let path = format!("/api/v1/staff/matters/{}/appointments", jordan.matter_id);
    staff.post_json::<Value>(&path, &body, StatusCode::CREATED).await?;
    let browser = browser::open(PHONE).await?;
    let mut faults = Vec::new();
    let outcome = async {
        app.sign_in_browser(&browser, &jordan.email).await?;
        browser.goto(&app.url(&format!("/matters/{}", jordan.matter_id))).await?;
        browser.execute("document.getElementById('care').scrollIntoView();", vec![]).await?;
        let text = browser::wait_for_text(&browser, "Appointments and treatment").await?;
        assert!(text.contains("Medical exam") && text.contains("Northside Clinic"), "{text}");
        browser::screenshot(&browser, &format!("treatment-case-phone-{}", backend.name())).await?;
        for v in browser::axe_violations(&browser).await? {
            faults.push(format!("case page: {v}"));
        }

        // "I saw a provider": a new provider, yesterday.
        browser.find(Locator::Css(".care-actions a.button")).await?.click().await?;
        browser::wait_for_text(&browser, "Tell us about a visit").await?;
        browser.find(Locator::Css("#status-visited")).await?.click().await?;
        browser.execute(&format!("document.getElementById('visit_on').value = '{}';", day(-1)), vec![]).await?;
        browser.find(Locator::Css("#provider_name")).await?.send_keys("Dr. Rivera").await?;
        browser.find(Locator::Css("#note")).await?.send_keys("Follow-up on my back").await?;
        browser::screenshot(&browser, &format!("treatment-form-phone-{}", backend.name())).await?;
        for v in browser::axe_violations(&browser).await? {
            faults.push(format!("treatment form: {v}"));
        }
        browser.find(Locator::Css("form.treatment-form button[type=submit]")).await?.click().await?;
        let text = browser::wait_for_text(&browser, "Your visit is saved.").await?;
        assert!(text.contains("Dr. Rivera"), "{text}");

        // "I have an appointment": the same provider, next week.
        browser.find(Locator::Css("#status-upcoming")).await?.click().await?;
        browser.execute(&format!("document.getElementById('visit_on').value = '{}';", day(7)), vec![]).await?;
        let chosen = browser
            .execute("const s = document.getElementById('provider_id'); s.selectedIndex = 1; return s.value;", vec![])
            .await?;
        assert_ne!(chosen, json!(""), "Dr. Rivera is in the list");
        browser.find(Locator::Css("form.treatment-form button[type=submit]")).await?.click().await?;
        let text = browser::wait_for_text(&browser, "Your appointment is saved.").await?;
        assert!(text.contains("Appointment on"), "{text}");
        browser.execute("document.getElementById('treatment-log').scrollIntoView();", vec![]).await?;
        browser::screenshot(&browser, &format!("treatment-logged-phone-{}", backend.name())).await?;
        for v in browser::axe_violations(&browser).await? {
            faults.push(format!("treatment page: {v}"));
        }
        let wide = browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
        assert_eq!(wide, json!(false), "the page scrolls sideways");
        anyhow::Ok(())
    }
    .await;
    browser.close().await?;
    outcome?;

    // The case manager, at a desk, sees the log and schedules a call from the matter page.
    let desk = browser::open(DESKTOP).await?;
    let staffed = async {
        app.sign_in_browser(&desk, &demo.email("casey")).await?;
        desk.goto(&app.url(&format!("/staff/matters/{}#treatment", jordan.matter_id))).await?;
        let text = browser::wait_for_text(&desk, "Dr. Rivera").await?;
        assert!(text.contains("Follow-up on my back") && text.contains("Medical exam"), "{text}");
        desk.find(Locator::Css("#appointment-kind")).await?.select_by_value("call").await?;
        desk.execute("document.getElementById('appointment-starts').value = '2027-02-01T10:00';", vec![]).await?;
        desk.find(Locator::Css("#appointment-place")).await?.send_keys("By phone").await?;
        desk.find(Locator::Css("#schedule-heading ~ form button[type=submit]")).await?.click().await?;
        let text = browser::wait_for_text(&desk, "Appointment scheduled.").await?;
        assert!(text.contains("Call with your legal team") && text.contains("February 1, 2027, 10:00 (CST)"), "{text}");
        desk.execute("document.getElementById('treatment').scrollIntoView();", vec![]).await?;
        browser::screenshot(&desk, &format!("treatment-staff-desktop-{}", backend.name())).await?;
        for v in browser::axe_violations(&desk).await? {
            faults.push(format!("staff matter page: {v}"));
        }
        anyhow::Ok(())
    }
    .await;
    desk.close().await?;
    staffed?;
    assert!(faults.is_empty(), "axe: {faults:#?}");
    let client = app.signed_in_client(&jordan.email).await?;
    let log: Value = client.get(&format!("/api/v1/matters/{}/treatment", jordan.matter_id)).await?;
    assert_eq!(log["providers"].as_array().map(Vec::len), Some(1), "{log}");
    assert_eq!(log["visits"].as_array().map(Vec::len), Some(2), "{log}");
    Ok(())
}

async fn the_weekly_update_asks_for_visits_during_treatment(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    // Lucía is in medical treatment, Jordan is not.
    let lucia = app.client(&demo.email("lucia")).await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let asks = |ids: Vec<String>| {
        let db = app.state.db.clone();
        async move {
            let digests = db.run(move |c| shared::weekly::derive(c, &ids, now(), None)).await?;
            anyhow::Ok(digests.iter().map(|d| d.matters.iter().any(|m| m.log_visits)).collect::<Vec<bool>>())
        }
    };
    assert_eq!(asks(vec![lucia.id.clone(), jordan.id.clone()]).await?, vec![true, false]);
    let composer = app.state.notifications.composer.clone();
    let ids = vec![lucia.id.clone()];
    let digest = app.state.db.run(move |c| shared::weekly::derive(c, &ids, now(), None)).await?;
    let email = shared::notifications::kinds::weekly_update::email(&composer, &digest[0], "row-1")?;
    assert!(email.content.text.contains("No nos ha contado ninguna visita médica"), "{}", email.content.text);
    assert!(email.content.text.contains(&format!("/matters/{}/treatment", lucia.matter_id)));
    // A visit logged this week: no more asking.
    let client = app.signed_in_client(&lucia.email).await?;
    let visit = json!({ "new_provider": { "name": "Dr. Rivera", "kind": "doctor" }, "visit_on": day(-3) });
    client
        .post_json::<Value>(
            &format!("/api/v1/matters/{}/treatment/visits", lucia.matter_id),
            &visit,
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(asks(vec![lucia.id.clone()]).await?, vec![false]);
    Ok(())
}
