//! The firm's outcomes (`/staff/insights`, `GET /api/v1/staff/insights`, its
//! CSV tables and the `/metrics` gauges): on a fixture whose every row is
//! written below, each figure equals the value counted by hand in the
//! comments, for the firm and for a case manager, on the API, the page and
//! the gauges; a case manager cannot read another's figures, another firm's
//! staff member is 404; CSV cells that a spreadsheet would run as a formula
//! are escaped; a phase named like markup stays text in the page and its
//! charts; the page passes axe-core and fits a phone.

use chrono::{Datelike, Duration, NaiveDateTime};
use diesel::prelude::*;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::db::schema::{document_requests, matters, messages, milestones, notifications, phases, ratings};
use shared::domain::{
    Channel, DocumentCategory, MessageKind, MilestoneKind, NotificationKind, NotificationStatus, RequestStatus,
    local_time, new_id, now,
};

/// One client's rows in the fixture, relative to `now` (days ago unless named).
struct Row<'a> {
    local: &'a str,
    manager: &'a str,
    opened_days_ago: i64,
    closed_days_ago: Option<i64>,
    /// (phase position, days ago) of each phase change, oldest first.
    phases: &'a [(usize, i64)],
    /// Weekly updates: (status, days ago, error).
    weekly: &'a [(NotificationStatus, i64, Option<&'a str>)],
    /// Ratings: (score, days ago).
    ratings: &'a [(i32, i64)],
    /// Requests: (status, created days ago, closed days ago, due in days from the firm's today).
    requests: &'a [(RequestStatus, i64, Option<i64>, Option<i64>)],
    /// Client messages: (written hours ago, answered hours after writing).
    messages: &'a [(i64, Option<i64>)],
}

async fn write(
    app: &TestApp,
    firm: &str,
    managers: &[(&str, String)],
    row: Row<'_>,
    t: NaiveDateTime,
) -> anyhow::Result<()> {
    let client = app.client(&format!("{}@{}", row.local, firm_domain(app, firm).await?)).await?;
    let manager = managers.iter().find(|(m, _)| *m == row.manager).map(|(_, id)| id.clone());
    let firm = firm.to_owned();
    let ago = move |d: i64| t - Duration::days(d);
    let phases_of = row.phases.to_vec();
    let weekly: Vec<(NotificationStatus, i64, Option<String>)> =
        row.weekly.iter().map(|(s, d, e)| (*s, *d, e.map(str::to_owned))).collect();
    let (scores, requests, notes) = (row.ratings.to_vec(), row.requests.to_vec(), row.messages.to_vec());
    let (opened, closed) = (row.opened_days_ago, row.closed_days_ago);
    app.state
        .db
        .run(move |c| {
            let phase_ids: Vec<String> =
                phases::table.filter(phases::firm_id.eq(&firm)).order(phases::position).select(phases::id).load(c)?;
            diesel::delete(milestones::table.filter(milestones::matter_id.eq(&client.matter_id))).execute(c)?;
            for (position, days) in &phases_of {
                diesel::insert_into(milestones::table)
                    .values((
                        milestones::id.eq(new_id()),
                        milestones::matter_id.eq(&client.matter_id),
                        milestones::kind.eq(MilestoneKind::PhaseChange),
                        milestones::client_visible.eq(true),
                        milestones::phase_id.eq(&phase_ids[*position]),
                        milestones::created_at.eq(ago(*days)),
                    ))
                    .execute(c)?;
            }
            let current = phases_of.last().map(|(p, _)| phase_ids[*p].clone()).unwrap_or_else(|| phase_ids[0].clone());
            diesel::update(matters::table.find(&client.matter_id))
                .set((
                    matters::case_manager_id.eq(&manager),
                    matters::opened_at.eq(ago(opened)),
                    matters::closed_at.eq(closed.map(ago)),
                    matters::phase_id.eq(current),
                ))
                .execute(c)?;
            for (i, (status, days, error)) in weekly.iter().enumerate() {
                diesel::insert_into(notifications::table)
                    .values((
                        notifications::id.eq(new_id()),
                        notifications::firm_id.eq(&firm),
                        notifications::recipient_id.eq(&client.id),
                        notifications::kind.eq(NotificationKind::WeeklyUpdate),
                        notifications::channel.eq(Channel::Email),
                        notifications::period_key.eq(format!("fixture-{i}")),
                        notifications::status.eq(*status),
                        notifications::attempts.eq(1),
                        notifications::next_attempt_at.eq(ago(*days)),
                        notifications::last_error.eq(error),
                        notifications::sent_at.eq((*status == NotificationStatus::Sent).then(|| ago(*days))),
                        notifications::created_at.eq(ago(*days)),
                    ))
                    .execute(c)?;
            }
            for (score, days) in &scores {
                diesel::insert_into(ratings::table)
                    .values((
                        ratings::id.eq(new_id()),
                        ratings::firm_id.eq(&firm),
                        ratings::client_id.eq(&client.id),
                        ratings::score.eq(score),
                        ratings::created_at.eq(ago(*days)),
                    ))
                    .execute(c)?;
            }
            let today = local_time("America/Chicago", t).date();
            for (status, created, closed, due_in) in &requests {
                diesel::insert_into(document_requests::table)
                    .values((
                        document_requests::id.eq(new_id()),
                        document_requests::matter_id.eq(&client.matter_id),
                        document_requests::title.eq("Medical bills"),
                        document_requests::category.eq(DocumentCategory::MedicalBill),
                        document_requests::status.eq(*status),
                        document_requests::created_at.eq(ago(*created)),
                        document_requests::closed_at.eq(closed.map(ago)),
                        document_requests::due_date.eq(due_in.map(|d| today + Duration::days(d))),
                    ))
                    .execute(c)?;
            }
            for (hours_ago, answered_after) in &notes {
                let written = t - Duration::hours(*hours_ago);
                diesel::insert_into(messages::table)
                    .values((
                        messages::id.eq(new_id()),
                        messages::firm_id.eq(&firm),
                        messages::matter_id.eq(&client.matter_id),
                        messages::author_id.eq(&client.id),
                        messages::kind.eq(MessageKind::Client),
                        messages::body.eq("Any news?"),
                        messages::created_at.eq(written),
                        messages::answered_at.eq(answered_after.map(|h| written + Duration::hours(h))),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

async fn firm_domain(app: &TestApp, firm: &str) -> anyhow::Result<String> {
    use shared::db::schema::users;
    let firm = firm.to_owned();
    let email: String = app
        .state
        .db
        .run(move |c| Ok(users::table.filter(users::firm_id.eq(&firm)).select(users::email).first(c)?))
        .await?;
    Ok(email.split('@').nth(1).unwrap_or_default().to_owned())
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

/// The fixture: the demo firm with the five rows below, and what the tests need of it.
struct Fixture {
    app: TestApp,
    demo: harness::fixtures::Demo,
    firm: String,
    casey: String,
    admin_id: String,
    t: NaiveDateTime,
    today: chrono::NaiveDate,
    from: chrono::NaiveDate,
    range: String,
}

async fn fixture(backend: Backend) -> anyhow::Result<Fixture> {
    use NotificationStatus::{Failed, Sent};
    use RequestStatus::{Cancelled, Fulfilled, Open};
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let firm = demo.firm_id.clone();
    let casey = app.user_id(&demo.email("casey")).await?;
    let admin_id = app.user_id(&demo.email("admin")).await?;
    let managers = [("casey", casey.clone()), ("admin", admin_id.clone())];
    // The demo's own requests end long ago, cancelled: they count nowhere.
    {
        let firm = firm.clone();
        let t = now();
        app.state
            .db
            .run(move |c| {
                let ids: Vec<String> = matters::table.filter(matters::firm_id.eq(&firm)).select(matters::id).load(c)?;
                diesel::update(document_requests::table.filter(document_requests::matter_id.eq_any(&ids)))
                    .set((
                        document_requests::status.eq(RequestStatus::Cancelled),
                        document_requests::closed_at.eq(t - Duration::days(400)),
                    ))
                    .execute(c)?;
                diesel::delete(ratings::table.filter(ratings::firm_id.eq(&firm))).execute(c)?;
                diesel::delete(messages::table.filter(messages::firm_id.eq(&firm))).execute(c)?;
                Ok(())
            })
            .await?;
    }
    let t = now();
    #[rustfmt::skip]
    let rows = [
        Row { local: "jordan", manager: "casey", opened_days_ago: 200, closed_days_ago: None,
              phases: &[(0, 200), (1, 80), (2, 60)],
              weekly: &[(Sent, 2, None)], ratings: &[(5, 3), (4, 10)],
              requests: &[(Open, 5, None, Some(-1)), (Fulfilled, 12, Some(2), Some(-3))], messages: &[(120, None)] },
        Row { local: "lucia", manager: "casey", opened_days_ago: 20, closed_days_ago: None,
              phases: &[(0, 20), (1, 10)],
              weekly: &[(Failed, 100, Some("550 out of range"))], ratings: &[(1, 120)],
              requests: &[(Cancelled, 15, Some(14), Some(-10))], messages: &[(240, Some(2))] },
        Row { local: "sam", manager: "casey", opened_days_ago: 30, closed_days_ago: None,
              phases: &[(0, 30)],
              weekly: &[(Sent, 8, None)], ratings: &[(2, 5)],
              requests: &[(Fulfilled, 30, Some(26), None), (Open, 1, None, Some(0))], messages: &[(1, None)] },
        Row { local: "mateo", manager: "admin", opened_days_ago: 40, closed_days_ago: None,
              phases: &[(0, 40), (1, 35)],
              weekly: &[(Failed, 3, Some("=HYPERLINK(\"http://evil\")"))], ratings: &[(3, 4)],
              requests: &[(Fulfilled, 20, Some(14), None), (Open, 3, None, None)], messages: &[(144, Some(6))] },
        Row { local: "riley", manager: "casey", opened_days_ago: 300, closed_days_ago: Some(10),
              phases: &[(0, 300), (1, 100)],
              weekly: &[], ratings: &[], requests: &[], messages: &[] },
    ];
    for row in rows {
        write(&app, &firm, &managers, row, t).await?;
    }
    let today = local_time("America/Chicago", t).date();
    let from = today - Duration::days(89);
    let range = format!("from={from}&to={today}");
    Ok(Fixture { app, demo, firm, casey, admin_id, t, today, from, range })
}

async fn each_figure_equals_the_hand_count(backend: Backend) -> anyhow::Result<()> {
    let Fixture { app, demo, firm, casey, admin_id, t, today, from, range } = fixture(backend).await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let firm_view: Value = admin.get(&format!("/api/v1/staff/insights?{range}")).await?;
    let f = &firm_view;
    assert_eq!(f["scope"], json!({ "case_manager_id": null, "name": null }));
    assert_eq!(
        (f["from"].as_str(), f["to"].as_str()),
        (Some(from.to_string().as_str()), Some(today.to_string().as_str()))
    );
    // Adoption: 4 open matters; jordan and sam were sent an email: 2 of 4.
    assert_eq!(
        (&f["adoption"]["activation"]["count"], &f["adoption"]["activation"]["of"]),
        (&json!(2), &json!(4)),
        "{f:#}"
    );
    // Weekly updates: of 4 open matters only jordan's had one in 7 days (sam's is 8 days old).
    assert_eq!(f["weekly_updates"]["updated_last_7_days"]["count"], 1, "{f:#}");
    assert_eq!(f["weekly_updates"]["updated_last_7_days"]["of"], 4);
    // One failure in range (mateo's; lucia's is 100 days old).
    assert_eq!(f["weekly_updates"]["failed"], 1);
    assert_eq!(f["weekly_updates"]["failures"][0]["client_name"], "Mateo Muestra", "{f:#}");
    // Ratings in range: 5, 4, 2, 3 (lucia's 1 is 120 days old): average 3.5.
    let s = &f["satisfaction"];
    assert_eq!(s["count"], 4);
    assert!(close(&s["average"], 3.5), "{s:#}");
    assert_eq!(s["distribution"], json!([0, 1, 1, 1, 1]));
    assert_eq!(s["by_week"].as_array().map(|w| w.iter().filter_map(|w| w["count"].as_i64()).sum::<i64>()), Some(4));
    let by_manager = s["by_case_manager"].as_array().cloned().unwrap_or_default();
    let casey_scores = by_manager.iter().find(|m| m["case_manager_id"] == json!(casey)).cloned().unwrap_or_default();
    assert_eq!(casey_scores["count"], 3, "{s:#}"); // jordan 5 and 4, sam 2
    assert!(close(&casey_scores["average"], 11.0 / 3.0), "{s:#}");
    let admin_scores = by_manager.iter().find(|m| m["case_manager_id"] == json!(admin_id)).cloned().unwrap_or_default();
    assert_eq!(admin_scores["count"], 1);
    assert!(close(&admin_scores["average"], 3.0));
    // Requests: open are jordan's (due yesterday), sam's (due today) and mateo's (no due date);
    // only jordan's is overdue (the due day itself is not; fulfilled and cancelled ones never are).
    // Fulfilled in range took 10, 4 and 6 days: median 6.
    assert_eq!(f["requests"]["open"], 3, "{f:#}");
    assert_eq!(f["requests"]["overdue"], 1, "{f:#}");
    assert_eq!(f["requests"]["fulfilled"], 3);
    assert!(close(&f["requests"]["median_days_to_fulfil"], 6.0), "{f:#}");
    // Messages: 4 from clients; answered after 2 and 6 hours: median 4; jordan's (5 days) waits too long, sam's (1 hour) not yet.
    assert_eq!(f["messages"]["from_clients"], 4);
    assert!(close(&f["messages"]["median_hours_to_answer"], 4.0), "{f:#}");
    assert_eq!(f["messages"]["unanswered_over_one_business_day"], 1);
    // Phases: stays ended in range — first phase: jordan 120, lucia 10, mateo 5 (median 10);
    // second: jordan 20 (riley's ended 100 days ago). Open now: sam in the first, lucia and mateo in the second, jordan in the third.
    let phase = |i: usize| f["phases"][i].clone();
    assert_eq!((phase(0)["open_matters"].as_i64(), phase(0)["stays"].as_i64()), (Some(1), Some(3)), "{f:#}");
    assert!(close(&phase(0)["median_days"], 10.0), "{f:#}");
    assert_eq!((phase(1)["open_matters"].as_i64(), phase(1)["stays"].as_i64()), (Some(2), Some(1)));
    assert!(close(&phase(1)["median_days"], 20.0));
    assert_eq!((phase(2)["open_matters"].as_i64(), phase(2)["stays"].as_i64()), (Some(1), Some(0)));
    assert_eq!(phase(2)["median_days"], Value::Null);
    assert_eq!(phase(0)["title"], "Getting started");
    // Quarters: opened in range lucia, sam, mateo; closed riley.
    let quarter = |days: i64| {
        let d = local_time("America/Chicago", t - Duration::days(days)).date();
        format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1)
    };
    let quarters = f["quarters"].as_array().cloned().unwrap_or_default();
    let count_in = |key: &str, field: &str| {
        quarters.iter().find(|q| q["quarter"] == key).and_then(|q| q[field].as_i64()).unwrap_or(-1)
    };
    let mut expected_opened = std::collections::BTreeMap::new();
    for days in [20, 30, 40] {
        *expected_opened.entry(quarter(days)).or_insert(0) += 1;
    }
    for (key, n) in &expected_opened {
        assert_eq!(count_in(key, "opened"), *n, "{key} in {quarters:#?}");
    }
    assert_eq!(quarters.iter().filter_map(|q| q["opened"].as_i64()).sum::<i64>(), 3);
    assert_eq!(count_in(&quarter(10), "closed"), 1);
    assert_eq!(quarters.iter().filter_map(|q| q["closed"].as_i64()).sum::<i64>(), 1);
    assert_eq!(quarters.first().and_then(|q| q["quarter"].as_str()), Some(quarter(89).as_str()));
    assert_eq!(quarters.last().and_then(|q| q["quarter"].as_str()), Some(quarter(0).as_str()));

    // The /metrics gauges of this firm are the API's firm figures (their range is the default: these 90 days).
    let scraped = reqwest::get(app.url("/metrics")).await?.text().await?;
    let gauge = |name: &str| -> Option<f64> {
        let prefix = format!("{name}{{firm=\"{firm}\"}} ");
        scraped.lines().find_map(|l| l.strip_prefix(prefix.as_str())).and_then(|v| v.trim().parse().ok())
    };
    use shared::metrics as m;
    for (name, api) in [
        (m::INSIGHTS_ACTIVATION, &f["adoption"]["activation"]["share"]),
        (m::INSIGHTS_ENGAGEMENT, &f["adoption"]["engagement"]["share"]),
        (m::INSIGHTS_WEEKLY_COVERAGE, &f["weekly_updates"]["updated_last_7_days"]["share"]),
        (m::INSIGHTS_SATISFACTION, &f["satisfaction"]["average"]),
        (m::INSIGHTS_REQUESTS_OPEN, &f["requests"]["open"]),
        (m::INSIGHTS_REQUESTS_OVERDUE, &f["requests"]["overdue"]),
        (m::INSIGHTS_UNANSWERED, &f["messages"]["unanswered_over_one_business_day"]),
    ] {
        let scraped_value = gauge(name);
        assert!(scraped_value.is_some_and(|g| close(api, g)), "{name}: {scraped_value:?} against the API's {api}");
    }
    // Hand-counted too: 1 of 4 covered, average 3.5, 3 open requests, 1 overdue, 1 unanswered.
    assert_eq!(
        [
            m::INSIGHTS_WEEKLY_COVERAGE,
            m::INSIGHTS_SATISFACTION,
            m::INSIGHTS_REQUESTS_OPEN,
            m::INSIGHTS_REQUESTS_OVERDUE
        ]
        .map(gauge),
        [Some(0.25), Some(3.5), Some(3.0), Some(1.0)]
    );
    assert_eq!(gauge(m::INSIGHTS_UNANSWERED), Some(1.0));

    // A case manager sees their own matters: jordan, lucia, sam open (and riley closed).
    let casey_session = app.signed_in_staff(&demo, "casey").await?;
    let own: Value = casey_session.get(&format!("/api/v1/staff/insights?{range}")).await?;
    assert_eq!(own["scope"]["case_manager_id"], json!(casey));
    assert_eq!(own["weekly_updates"]["updated_last_7_days"]["of"], 3);
    assert_eq!(own["weekly_updates"]["failed"], 0, "mateo's failure is the admin's matter");
    assert_eq!(own["satisfaction"]["count"], 3);
    assert_eq!(own["satisfaction"]["distribution"], json!([0, 1, 0, 1, 1]));
    assert_eq!(own["requests"]["fulfilled"], 2);
    assert_eq!((&own["requests"]["open"], &own["requests"]["overdue"]), (&json!(2), &json!(1)), "{own:#}");
    assert!(close(&own["requests"]["median_days_to_fulfil"], 7.0), "{own:#}");
    assert_eq!(own["messages"]["from_clients"], 3);
    assert!(close(&own["messages"]["median_hours_to_answer"], 2.0));
    assert!(close(&own["phases"][0]["median_days"], 65.0), "{own:#}");
    // The admin asking for casey's matters gets the same figures.
    let as_admin: Value = admin.get(&format!("/api/v1/staff/insights?{range}&case_manager={casey}")).await?;
    assert_eq!(as_admin["satisfaction"], own["satisfaction"]);
    assert_eq!(as_admin["phases"], own["phases"]);

    // Role limits: a case manager asking for the admin's matters is refused.
    let refused = casey_session.get_status(&format!("/api/v1/staff/insights?case_manager={admin_id}")).await?;
    assert_eq!(refused, StatusCode::FORBIDDEN);
    // Another firm: its admin sees none of these rows, and this firm's staff id is 404 there.
    let other = app.seed_demo().await?;
    let other_admin = app.signed_in_staff(&other, "admin").await?;
    let theirs: Value = other_admin.get(&format!("/api/v1/staff/insights?{range}")).await?;
    assert_eq!(theirs["satisfaction"]["count"], 0, "{theirs:#}");
    assert_eq!(theirs["weekly_updates"]["failed"], 0);
    let foreign = other_admin.get_status(&format!("/api/v1/staff/insights?case_manager={casey}")).await?;
    assert_eq!(foreign, StatusCode::NOT_FOUND);
    // A reversed range is a readable 422.
    let reversed = admin
        .get_json_answer(&format!("/api/v1/staff/insights?from={today}&to={from}"), StatusCode::UNPROCESSABLE_ENTITY)
        .await?;
    assert!(reversed["error"].as_str().is_some_and(|e| e.starts_with("from:")), "{reversed}");

    // CSV: the failures table escapes the mail server's formula-looking words.
    let csv = admin
        .request(reqwest::Method::GET, &format!("/api/v1/staff/insights/csv/weekly-failures?{range}"))
        .send()
        .await?;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/csv")));
    let body = csv.text().await?;
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("client_id,client,failed_at,error"));
    let line = lines.next().unwrap_or_default();
    assert!(line.contains("Mateo Muestra") && line.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{body}");
    assert_eq!(lines.next(), None);
    let phases_csv = admin
        .request(reqwest::Method::GET, &format!("/api/v1/staff/insights/csv/phases?{range}"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        phases_csv.lines().nth(1).is_some_and(|l| l.starts_with("intake,Getting started,1,3,10.00")),
        "{phases_csv}"
    );
    let missing = admin.get_status("/api/v1/staff/insights/csv/passwords").await?;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    Ok(())
}

/// The page's text with tags removed, quotes unescaped and whitespace squeezed, for reading figures.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    // The entities Handlebars writes for quotes (markup stays escaped: `&lt;` is kept).
    let out = out.replace("&#x27;", "'").replace("&#39;", "'").replace("&quot;", "\"").replace("&#x3D;", "=");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The HTML of `path` for `session` and its status.
async fn page(session: &harness::session::Session, path: &str) -> anyhow::Result<(StatusCode, String)> {
    let reply = session.request(reqwest::Method::GET, path).send().await?;
    Ok((reply.status(), reply.text().await?))
}

async fn the_page_shows_the_hand_counted_figures(backend: Backend) -> anyhow::Result<()> {
    let Fixture { app, demo, firm, casey, admin_id, range, .. } = fixture(backend).await?;
    // The firm names its third phase like markup: it must stay text in the page and its chart.
    {
        use shared::db::schema::phase_texts;
        let firm = firm.clone();
        app.state
            .db
            .run(move |c| {
                let third: String = phases::table
                    .filter(phases::firm_id.eq(&firm))
                    .order(phases::position)
                    .select(phases::id)
                    .offset(2)
                    .first(c)?;
                diesel::update(phase_texts::table.filter(phase_texts::phase_id.eq(&third)))
                    .set(phase_texts::title.eq("<script>alert(1)</script>"))
                    .execute(c)?;
                Ok(())
            })
            .await?;
    }
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let (status, html) = page(&admin, &format!("/staff/insights?{range}")).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    let text = text_of(&html);
    // The figures counted by hand in `each_figure_equals_the_hand_count`, as the page writes them.
    for shown in [
        "The whole firm",
        "Activation: open matters with an invited client 2 of 4 (50%) Grade C C: 25 to 59%",
        "Open matters whose clients got an update in the last 7 days 1 of 4 (25%) Grade C",
        "Weekly updates that failed in the period 1",
        "Mateo Muestra",
        "Ratings in the period 4",
        "Average 3.5 out of 5",
        "Open now 3",
        "Overdue (open, due date passed) 1",
        "Fulfilled in the period 3",
        "Median time to fulfil 6.0 days",
        "Messages from clients in the period 4",
        "Median time to the firm's answer 4.0 hours",
        "Waiting more than one business day now 1",
        "Getting started 1 3 10.0",
    ] {
        assert!(text.contains(shown), "the page lacks {shown:?}:\n{text}");
    }
    // Distribution table: no 1s, one each of 2 to 5.
    assert!(text.contains("Score Ratings 1 0 2 1 3 1 4 1 5 1"), "{text}");
    // Four charts, each a named image; the markup-like phase title is escaped in the table and the chart.
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4, "{html}");
    assert_eq!(html.matches("role=\"img\"").count(), 4);
    for id in ["chart-ratings", "chart-trend", "chart-phases", "chart-quarters"] {
        assert!(html.contains(&format!("<title id=\"{id}-title\">")), "{id}");
        assert!(html.contains(&format!("<desc id=\"{id}-desc\">")), "{id}");
    }
    assert!(!html.contains("<script>alert"), "the phase title ran as markup");
    assert!(html.matches("&lt;script&gt;alert(1)&lt;/script&gt;").count() >= 1, "the table shows the title as text");
    let phases_chart = html.split("id=\"chart-phases-title\"").nth(1).and_then(|rest| rest.split("</svg>").next());
    assert!(phases_chart.is_some_and(|svg| svg.contains("&lt;script&gt;")), "the chart draws the title as text");
    // The admin's scope picker and a CSV link per table, for the same range.
    assert!(html.contains(&format!("<option value=\"{casey}\"")), "{html}");
    for table in portal::routes::staff::insights::TABLES {
        // Handlebars writes `&` and `=` of the attribute as entities.
        let href = format!("/api/v1/staff/insights/csv/{table}?{range}").replace('&', "&amp;").replace('=', "&#x3D;");
        assert!(html.contains(&format!("href=\"{href}\"")), "{table}: {html}");
    }
    assert!(html.contains("href=\"/staff/insights\""), "the staff navigation links the page");

    // The admin looking at casey's matters; casey sees the same and no picker.
    let (_, for_casey) = page(&admin, &format!("/staff/insights?{range}&case_manager={casey}")).await?;
    let casey_session = app.signed_in_staff(&demo, "casey").await?;
    let (status, own) = page(&casey_session, &format!("/staff/insights?{range}")).await?;
    assert_eq!(status, StatusCode::OK);
    for html in [&for_casey, &own] {
        let text = text_of(html);
        assert!(text.contains("Matters of Casey"), "{text}");
        // Casey's: 3 ratings (5, 4, 2), 2 open requests of which 1 overdue, no failures.
        assert!(text.contains("Ratings in the period 3"), "{text}");
        assert!(text.contains("Open now 2") && text.contains("Overdue (open, due date passed) 1"), "{text}");
        assert!(text.contains("Weekly updates that failed in the period 0"), "{text}");
        assert!(!text.contains("Mateo Muestra"), "{text}");
    }
    assert!(!own.contains("name=\"case_manager\""), "a case manager has no scope picker");
    // Role limits, as the API: another's matters 403, another firm's staff member 404, a bad date 422.
    let (status, _) = page(&casey_session, &format!("/staff/insights?case_manager={admin_id}")).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let other = app.seed_demo().await?;
    let other_admin = app.signed_in_staff(&other, "admin").await?;
    let (status, _) = page(&other_admin, &format!("/staff/insights?case_manager={casey}")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, theirs) = page(&other_admin, "/staff/insights").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(text_of(&theirs).contains("Ratings in the period 0"), "another firm sees none of these ratings");
    let (status, body) = page(&admin, "/staff/insights?from=yesterday").await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("from"), "{body}");
    Ok(())
}

/// The page in Chromium at 1280×800 and 390×844: axe-core clean, nothing wider
/// than the phone's screen (tables scroll in their own box), in both languages.
async fn the_page_in_chromium(backend: Backend) -> anyhow::Result<()> {
    use harness::browser;
    let Fixture { app, demo, range, .. } = fixture(backend).await?;
    let mut faults = Vec::new();
    for (screen, size) in [(browser::DESKTOP, "1280x800"), (browser::PHONE, "390x844")] {
        let chromium = browser::open(screen).await?;
        let outcome = async {
            app.sign_in_browser(&chromium, &demo.email("admin")).await?;
            for lang in ["en", "es"] {
                chromium.goto(&app.url(&format!("/staff/insights?{range}"))).await?;
                chromium
                    .find(fantoccini::Locator::Css(&format!("button[name=lang][value={lang}]")))
                    .await?
                    .click()
                    .await?;
                chromium.wait().for_element(fantoccini::Locator::Css(&format!("html[lang={lang}]"))).await?;
                chromium.wait().for_element(fantoccini::Locator::Css("svg.chart")).await?;
                for fault in browser::axe_violations(&chromium).await? {
                    faults.push(format!("{lang} at {size}: axe {fault}"));
                }
                let wide = chromium
                    .execute(
                        "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
                        vec![],
                    )
                    .await?;
                if wide.as_bool() == Some(true) {
                    faults.push(format!("{lang} at {size}: the page scrolls sideways"));
                }
                let tag = format!("staff-insights-{lang}-{size}-{}", backend.name());
                browser::screenshot(&chromium, &tag).await?;
                for (n, section) in ["insights-satisfaction", "insights-phases", "insights-quarters"].iter().enumerate()
                {
                    chromium.execute(&format!("document.getElementById('{section}').scrollIntoView()"), vec![]).await?;
                    browser::screenshot(&chromium, &format!("{tag}-{}", n + 2)).await?;
                }
            }
            anyhow::Ok(())
        }
        .await;
        chromium.close().await?;
        outcome?;
    }
    assert!(faults.is_empty(), "insights page faults:\n{}", faults.join("\n"));
    Ok(())
}

on_both_backends!(each_figure_equals_the_hand_count, the_page_shows_the_hand_counted_figures, the_page_in_chromium);
