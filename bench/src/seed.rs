//! Seeding a benchmark database: the demo firm (its phase catalogue and staff),
//! then `clients` clients, each with one open matter and `per_matter`
//! milestones spread over the last 60 days, in multi-row INSERT statements.

use std::time::Instant;

use chrono::Duration;
use diesel::prelude::*;
use portal::totp_at_rest::TotpKey;
use shared::assets::Assets;
use shared::db::DbConnection;
use shared::db::models::{DocumentRequest, Matter, MatterClient, Milestone, User};
use shared::db::schema::{document_requests, matter_clients, matters, milestones, phases, users};
use shared::domain::{DocumentCategory, Language, MilestoneKind, RequestStatus, Role, new_id, now};

/// Clients per round of inserts. 1,000 users × 15 columns stays under SQLite's
/// 32,766 bound parameters per statement.
const CLIENT_CHUNK: usize = 1000;
/// Milestones per INSERT (9 columns each: 27,000 parameters).
const MILESTONE_CHUNK: usize = 3000;

/// What a seed made.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// Milestones inserted.
    pub milestones: usize,
    /// Seconds the seed took.
    pub seconds: f64,
}

/// The milestone kinds of a matter, in order; every fourth is an internal note
/// (not client-visible), as on a real matter.
const KINDS: [MilestoneKind; 8] = [
    MilestoneKind::PhaseChange,
    MilestoneKind::Appointment,
    MilestoneKind::ClientNote,
    MilestoneKind::InternalNote,
    MilestoneKind::DocumentReceived,
    MilestoneKind::RequestOpened,
    MilestoneKind::RequestFulfilled,
    MilestoneKind::InternalNote,
];

/// The key the demo staff's TOTP secrets are sealed with; the bench's portals
/// get it as `MATTERLINE_TOTP_KEY`.
pub const TOTP_KEY: [u8; 32] = [7; 32];

/// Seeds an empty, migrated database. The demo firm's own five clients get
/// weekly updates turned off, so a weekly pass sends exactly `clients` emails.
pub fn seed(conn: &mut DbConnection, clients: usize, per_matter: usize) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let demo = portal::seed::seed_demo(conn, &Assets::new(None), &TotpKey::from_bytes(TOTP_KEY))?;
    let firm_id = demo.firm_id;
    diesel::update(users::table.filter(users::firm_id.eq(&firm_id)).filter(users::role.eq(Role::Client)))
        .set(users::weekly_updates.eq(false))
        .execute(conn)?;
    let phase_ids: Vec<String> =
        phases::table.filter(phases::firm_id.eq(&firm_id)).order(phases::position).select(phases::id).load(conn)?;
    anyhow::ensure!(!phase_ids.is_empty(), "the demo firm has no phases");
    let manager: Option<String> = users::table
        .filter(users::firm_id.eq(&firm_id))
        .filter(users::role.eq(Role::CaseManager))
        .select(users::id)
        .first(conn)
        .optional()?;
    let t = now();
    let step = Duration::days(60) / i32::try_from(per_matter.max(1))?;
    let mut milestone_count = 0;
    for (round, start) in (0..clients).step_by(CLIENT_CHUNK).enumerate() {
        let end = (start + CLIENT_CHUNK).min(clients);
        let (mut people, mut cases, mut links, mut events, mut requests) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in start..end {
            let language = if i % 2 == 1 { Language::ES } else { Language::EN };
            let user = User::new(
                &firm_id,
                Role::Client,
                &format!("bench{i}@clients.bench.test"),
                &format!("Bench Client {i}"),
                language,
                t,
            );
            let phase_id = phase_ids[i % phase_ids.len()].clone();
            let opened_at = t - Duration::days(60) - Duration::hours(i64::try_from(i % 24)?);
            let matter = Matter {
                id: new_id(),
                firm_id: firm_id.clone(),
                practice_area: shared::catalogue::PERSONAL_INJURY.into(),
                phase_id: phase_id.clone(),
                title: format!("Bench matter {i}"),
                case_manager_id: manager.clone(),
                external_id: Some(format!("B-{i}")),
                opened_at,
                closed_at: None,
                updated_at: t - Duration::days(1),
            };
            for j in 0..per_matter {
                let kind = KINDS[j % KINDS.len()];
                // Spread over 60 days: the last one or two fall in the past week.
                let created_at = opened_at + step * i32::try_from(j + 1)?;
                events.push(Milestone {
                    id: new_id(),
                    matter_id: matter.id.clone(),
                    kind,
                    client_visible: kind != MilestoneKind::InternalNote,
                    phase_id: (kind == MilestoneKind::PhaseChange).then(|| phase_id.clone()),
                    body: Some(format!("Milestone {j} of bench matter {i}")),
                    occurs_at: (kind == MilestoneKind::Appointment).then(|| created_at + Duration::days(10)),
                    created_by: manager.clone(),
                    created_at: created_at.min(t),
                });
            }
            if i % 5 == 0 {
                requests.push(DocumentRequest {
                    id: new_id(),
                    matter_id: matter.id.clone(),
                    title: "Bills from your physical therapist".into(),
                    details: None,
                    category: DocumentCategory::MedicalBill,
                    status: RequestStatus::Open,
                    requested_by: manager.clone(),
                    created_at: t - Duration::days(4),
                    closed_at: None,
                    due_date: None,
                    fulfil_on: shared::domain::FulfilOn::FirstUpload,
                });
            }
            links.push(MatterClient { matter_id: matter.id.clone(), client_id: user.id.clone() });
            people.push(user);
            cases.push(matter);
        }
        conn.transaction(|conn| -> anyhow::Result<()> {
            shared::insert_many!(&mut *conn, users::table, &people)?;
            shared::insert_many!(&mut *conn, matters::table, &cases)?;
            shared::insert_many!(&mut *conn, matter_clients::table, &links)?;
            for chunk in events.chunks(MILESTONE_CHUNK) {
                shared::insert_many!(&mut *conn, milestones::table, chunk)?;
            }
            if !requests.is_empty() {
                shared::insert_many!(&mut *conn, document_requests::table, &requests)?;
            }
            Ok(())
        })?;
        milestone_count += events.len();
        if round % 10 == 9 {
            eprintln!("  seeded {end}/{clients} clients, {milestone_count} milestones");
        }
    }
    // Fresh statistics and visibility maps, as autovacuum would have them on a
    // database this size (PostgreSQL's index-only scans need the latter).
    let settle = if matches!(conn, DbConnection::Postgresql(_)) { "VACUUM ANALYZE" } else { "ANALYZE" };
    diesel::sql_query(settle).execute(conn)?;
    Ok(Seeded { milestones: milestone_count, seconds: started.elapsed().as_secs_f64() })
}

/// The bench clients of a database seeded earlier, in id order.
pub fn bench_clients(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    Ok(users::table
        .filter(users::email.like("bench%@clients.bench.test"))
        .order(users::id)
        .select(users::id)
        .load(conn)?)
}

/// A client's first matter.
pub fn matter_of(conn: &mut DbConnection, client_id: &str) -> anyhow::Result<String> {
    Ok(matter_clients::table
        .filter(matter_clients::client_id.eq(client_id))
        .select(matter_clients::matter_id)
        .first(conn)?)
}

/// Counts of the seeded tables, for the report.
pub fn counts(conn: &mut DbConnection) -> anyhow::Result<(i64, i64, i64)> {
    let clients = users::table.filter(users::role.eq(Role::Client)).count().get_result(conn)?;
    let cases = matters::table.count().get_result(conn)?;
    let events = milestones::table.count().get_result(conn)?;
    Ok((clients, cases, events))
}
