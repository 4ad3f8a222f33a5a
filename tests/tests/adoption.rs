//! Adoption figures (`GET /api/v1/staff/adoption`): on a fixture whose every
//! client is set by hand, activation and engagement equal the counts worked
//! out below, for the firm and per case manager; a case manager sees only
//! their own matters; another firm's staff never see these numbers.

use chrono::Duration;
use diesel::prelude::*;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::db::models::Notification;
use shared::db::schema::{matters, notifications, users};
use shared::domain::{Channel, NotificationKind, NotificationStatus, now};

/// Sets `email`'s matter manager (`None`: unassigned), whether it is closed,
/// the client's last activity (days ago), and adds one notification to the
/// client with `status` per entry of `sent`.
#[allow(clippy::too_many_arguments)]
async fn set_client(
    app: &TestApp,
    firm_id: &str,
    email: &str,
    manager: Option<&str>,
    closed: bool,
    active_days_ago: Option<i64>,
    sent: &[NotificationStatus],
) -> anyhow::Result<()> {
    let client = app.client(email).await?;
    let (firm_id, manager, sent) = (firm_id.to_owned(), manager.map(str::to_owned), sent.to_vec());
    app.state
        .db
        .run(move |c| {
            let t = now();
            diesel::update(matters::table.find(&client.matter_id))
                .set((matters::case_manager_id.eq(&manager), matters::closed_at.eq(closed.then_some(t))))
                .execute(c)?;
            diesel::update(users::table.find(&client.id))
                .set(users::last_active_at.eq(active_days_ago.map(|d| t - Duration::days(d))))
                .execute(c)?;
            for (i, status) in sent.into_iter().enumerate() {
                let mut row = Notification::pending(
                    &firm_id,
                    &client.id,
                    NotificationKind::PhaseChange,
                    Channel::Email,
                    &format!("fixture-{i}"),
                    t,
                );
                row.status = status;
                row.sent_at = (status == NotificationStatus::Sent).then_some(t);
                diesel::insert_into(notifications::table).values(&row).execute(c)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

fn share(count: i64, of: i64, share: Option<f64>, grade: Option<&str>) -> Value {
    json!({ "count": count, "of": of, "share": share, "grade": grade })
}

async fn adoption_figures_match_a_hand_counted_fixture(backend: Backend) -> anyhow::Result<()> {
    use NotificationStatus::{Failed, Sent, Skipped};
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let casey = app.user_id(&demo.email("casey")).await?;
    let admin = app.user_id(&demo.email("admin")).await?;
    let extra = app.add_clients(&demo, 2).await?;
    let (firm, mail) = (&demo.firm_id, |local: &str| demo.email(local));

    // casey: jordan (emailed, active 2 days ago), lucia (never emailed, though active),
    //        client0 (emailed, active 29 days ago), client1 (only a skipped row).
    // admin: mateo (only a failed row).   unassigned: sam (emailed, active 31 days ago).
    // riley: casey's but closed, emailed and active: counts nowhere.
    set_client(&app, firm, &mail("jordan"), Some(&casey), false, Some(2), &[Sent, Skipped]).await?;
    set_client(&app, firm, &mail("lucia"), Some(&casey), false, Some(0), &[]).await?;
    set_client(&app, firm, &mail("client0"), Some(&casey), false, Some(29), &[Sent]).await?;
    set_client(&app, firm, &mail("client1"), Some(&casey), false, None, &[Skipped]).await?;
    set_client(&app, firm, &mail("mateo"), Some(&admin), false, Some(1), &[Failed]).await?;
    set_client(&app, firm, &mail("sam"), None, false, Some(31), &[Sent]).await?;
    set_client(&app, firm, &mail("riley"), Some(&casey), true, Some(1), &[Sent]).await?;
    assert_eq!(extra.len(), 2);

    // Staff sessions made after the fixture (a session marks its own user active, not the clients).
    let admin_session = app.signed_in_staff(&demo, "admin").await?;
    let figures: Value = admin_session.get("/api/v1/staff/adoption").await?;
    assert_eq!(figures["engaged_within_days"], 30);
    // Firm: 6 open matters, 3 with an emailed client (jordan, client0, sam): 50%, C.
    //       3 invited clients, 2 active within 30 days (jordan, client0): 66.7%, B.
    assert_eq!(figures["firm"]["activation"], share(3, 6, Some(0.5), Some("C")), "{figures:#}");
    assert_eq!(figures["firm"]["engagement"], share(2, 3, Some(2.0 / 3.0), Some("B")), "{figures:#}");

    let rows = figures["case_managers"].as_array().cloned().unwrap_or_default();
    let row = |id: Option<&str>| {
        rows.iter()
            .find(|r| r["case_manager_id"].as_str() == id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no row for {id:?} in {figures:#}"))
    };
    // casey: 4 open matters, 2 activated (50%, C); 2 invited, both engaged (100%, A).
    let casey_row = row(Some(&casey))?;
    assert_eq!(casey_row["name"], "Casey Manager", "{casey_row:#}");
    assert_eq!(casey_row["activation"], share(2, 4, Some(0.5), Some("C")));
    assert_eq!(casey_row["engagement"], share(2, 2, Some(1.0), Some("A")));
    // The admin runs mateo's matter: 1 open, none activated (0%, D); nobody invited (no share).
    let admin_row = row(Some(&admin))?;
    assert_eq!(admin_row["activation"], share(0, 1, Some(0.0), Some("D")));
    assert_eq!(admin_row["engagement"], share(0, 0, None, None));
    // Unassigned: sam's matter, activated (100%, A); sam was last active 31 days ago (0%, D).
    let unassigned = row(None)?;
    assert_eq!(unassigned["name"], Value::Null);
    assert_eq!(unassigned["activation"], share(1, 1, Some(1.0), Some("A")));
    assert_eq!(unassigned["engagement"], share(0, 1, Some(0.0), Some("D")));
    assert_eq!(rows.len(), 3, "{figures:#}");

    // A case manager sees their own row and no firm figures.
    let casey_session = app.signed_in_staff(&demo, "casey").await?;
    let own: Value = casey_session.get("/api/v1/staff/adoption").await?;
    assert_eq!(own["firm"], Value::Null, "{own:#}");
    assert_eq!(own["case_managers"], json!([casey_row]), "{own:#}");

    // Another firm's admin sees their own firm only: 5 open matters, none emailed.
    let other = app.seed_demo().await?;
    let other_admin = app.signed_in_staff(&other, "admin").await?;
    let theirs: Value = other_admin.get("/api/v1/staff/adoption").await?;
    assert_eq!(theirs["firm"]["activation"], share(0, 5, Some(0.0), Some("D")), "{theirs:#}");
    assert_eq!(theirs["firm"]["engagement"], share(0, 0, None, None), "{theirs:#}");

    // Not signed in: 401.
    assert_eq!(app.get("/api/v1/staff/adoption").await?.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

async fn signing_in_marks_a_client_active(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.user_id(&demo.email("jordan")).await?;
    let before = {
        let id = jordan.clone();
        app.state
            .db
            .run(move |c| {
                Ok(users::table.find(&id).select(users::last_active_at).first::<Option<chrono::NaiveDateTime>>(c)?)
            })
            .await?
    };
    assert_eq!(before, None, "a seeded client has never signed in");
    app.session_token(&jordan).await?;
    let after = app
        .state
        .db
        .run(move |c| {
            Ok(users::table.find(&jordan).select(users::last_active_at).first::<Option<chrono::NaiveDateTime>>(c)?)
        })
        .await?;
    assert!(after.is_some(), "a new session did not mark the client active");
    Ok(())
}

on_both_backends!(adoption_figures_match_a_hand_counted_fixture, signing_in_marks_a_client_active);
