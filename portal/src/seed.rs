//! The demo firm seeded into an empty database in embedded mode (and by
//! `portal seed-demo`): two staff, five clients with matters spread over the
//! personal-injury phases, their milestones and one open document request.

use chrono::Duration;
use diesel::prelude::*;
use shared::assets::Assets;
use shared::catalogue::{Catalogue, PERSONAL_INJURY};
use shared::db::DbConnection;
use shared::db::models::{DocumentRequest, Firm, Matter, MatterClient, Milestone, Phase, User};
use shared::db::schema::{document_requests, firms, matter_clients, matters, milestones, users};
use shared::domain::{DocumentCategory, Language, MilestoneKind, RequestStatus, Role, new_id, now};
use shared::error::Result;

use crate::totp_at_rest::TotpKey;

/// What the seed created that the caller may want to show.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    /// The demo firm.
    pub firm_id: String,
    /// The client whose matter has the open document request.
    pub client_id: String,
    /// That client's email address.
    pub client_email: String,
    /// The demo staff accounts' sign-in details (admin first).
    pub staff: Vec<DemoStaff>,
}

/// A demo staff account's sign-in details, printed once at start-up.
#[derive(Debug, Clone)]
pub struct DemoStaff {
    /// Email address.
    pub email: String,
    /// Admin or case manager.
    pub role: Role,
    /// Password.
    pub password: String,
    /// TOTP secret (base32) for an authenticator app.
    pub totp_secret: String,
}

/// True when no firm exists yet.
pub fn database_is_empty(conn: &mut DbConnection) -> Result<bool> {
    let count: i64 = firms::table.count().get_result(conn)?;
    Ok(count == 0)
}

struct DemoClient {
    name: &'static str,
    email: &'static str,
    language: Language,
    phase: &'static str,
    title: &'static str,
}

const CLIENTS: [DemoClient; 5] = [
    DemoClient {
        name: "Jordan Example",
        email: "jordan@demo.matterline.test",
        language: Language::EN,
        phase: "records_and_bills",
        title: "Rear-end collision on Route 9",
    },
    DemoClient {
        name: "Lucía Ejemplo",
        email: "lucia@demo.matterline.test",
        language: Language::ES,
        phase: "medical_treatment",
        title: "Caída en un supermercado",
    },
    DemoClient {
        name: "Sam Sample",
        email: "sam@demo.matterline.test",
        language: Language::EN,
        phase: "intake",
        title: "Dog bite at a neighbour's house",
    },
    DemoClient {
        name: "Mateo Muestra",
        email: "mateo@demo.matterline.test",
        language: Language::ES,
        phase: "negotiation",
        title: "Accidente de motocicleta",
    },
    DemoClient {
        name: "Riley Placeholder",
        email: "riley@demo.matterline.test",
        language: Language::EN,
        phase: "settlement",
        title: "Truck collision on the interstate",
    },
];

/// Seeds the demo firm in one transaction; the staff's TOTP secrets are sealed with `totp_key`.
pub fn seed_demo(conn: &mut DbConnection, assets: &Assets, totp_key: &TotpKey) -> Result<DemoSeed> {
    let catalogue = Catalogue::load(assets, PERSONAL_INJURY)?;
    shared::db::write_transaction(conn, |conn| {
        let t0 = now();
        let firm = Firm {
            id: new_id(),
            name: "Demo Injury Law".into(),
            time_zone: "America/Chicago".into(),
            mail_from: None,
            phone: Some("+1 555 0100".into()),
            weekly_schedule: None,
            no_activity_updates: true,
            created_at: t0,
            closed_matter_uploads: false,
            accent_colour: None,
            reply_to_case_manager: false,
            public_host: None,
            message_text_in_email: false,
            one_tap_sign_in: true,
            treatment_gap_days: 30,
            sms_from_hour: 9,
            sms_until_hour: 20,
        };
        diesel::insert_into(firms::table).values(&firm).execute(conn)?;
        let phases = catalogue.install(conn, &firm.id)?;
        shared::requests::install_templates(conn, &firm.id)?;

        let person = |role: Role, name: &str, email: &str, phone: Option<&str>, language: Language| User {
            phone: phone.map(Into::into),
            ..User::new(&firm.id, role, email, name, language, t0)
        };
        let admin = person(Role::Admin, "Avery Admin", "admin@demo.matterline.test", Some("+1 555 0101"), Language::EN);
        let manager =
            person(Role::CaseManager, "Casey Manager", "casey@demo.matterline.test", Some("+1 555 0102"), Language::EN);
        let mut staff = vec![admin, manager];
        let mut logins = Vec::new();
        for member in &mut staff {
            let password = crate::staff_auth::generate_password();
            let totp_secret = crate::staff_auth::new_totp_secret();
            member.password_hash = Some(crate::staff_auth::hash_password(&password)?);
            member.totp_secret = Some(totp_key.seal(&member.id, &totp_secret)?);
            member.weekly_updates = false;
            logins.push(DemoStaff { email: member.email.clone(), role: member.role, password, totp_secret });
        }
        shared::insert_many!(conn, users::table, &staff)?;
        let manager = &staff[1];

        let mut seed = None;
        for (n, c) in CLIENTS.iter().enumerate() {
            let client = person(Role::Client, c.name, c.email, None, c.language);
            diesel::insert_into(users::table).values(&client).execute(conn)?;
            let reached: Vec<&Phase> = phases.iter().take_while(|p| p.key != c.phase).collect();
            let current = phases.iter().find(|p| p.key == c.phase).unwrap_or(&phases[0]);
            let opened = t0 - Duration::days(30 * (reached.len() as i64 + 1) + n as i64);
            let matter = Matter {
                id: new_id(),
                firm_id: firm.id.clone(),
                practice_area: PERSONAL_INJURY.into(),
                phase_id: current.id.clone(),
                title: c.title.into(),
                case_manager_id: Some(manager.id.clone()),
                external_id: Some(format!("DEMO-{:04}", n + 1)),
                opened_at: opened,
                closed_at: None,
                updated_at: t0 - Duration::days(2),
            };
            diesel::insert_into(matters::table).values(&matter).execute(conn)?;
            diesel::insert_into(matter_clients::table)
                .values(MatterClient { matter_id: matter.id.clone(), client_id: client.id.clone() })
                .execute(conn)?;

            let milestone = |kind: MilestoneKind, phase: Option<&Phase>, body: Option<&str>, at| Milestone {
                id: new_id(),
                matter_id: matter.id.clone(),
                kind,
                client_visible: kind != MilestoneKind::InternalNote,
                phase_id: phase.map(|p| p.id.clone()),
                body: body.map(Into::into),
                occurs_at: None,
                created_by: Some(manager.id.clone()),
                created_at: at,
            };
            let mut events = Vec::new();
            for (step, phase) in reached.iter().chain([&current]).enumerate() {
                let at = opened + Duration::days(30 * step as i64);
                events.push(milestone(MilestoneKind::PhaseChange, Some(phase), None, at));
            }
            let note = match c.language {
                Language::EN => "Thank you for sending your photos. They help your case.",
                _ => "Gracias por enviar sus fotos. Ayudan a su caso.",
            };
            events.push(milestone(MilestoneKind::ClientNote, None, Some(note), t0 - Duration::days(3)));
            events.push(milestone(
                MilestoneKind::InternalNote,
                None,
                Some("Adjuster prefers email."),
                t0 - Duration::days(2),
            ));
            if c.phase == "medical_treatment" {
                let mut appointment =
                    milestone(MilestoneKind::Appointment, None, Some("Orthopaedic follow-up"), t0 - Duration::days(1));
                appointment.occurs_at = Some(t0 + Duration::days(6));
                events.push(appointment);
            }
            shared::insert_many!(conn, milestones::table, &events)?;

            if c.phase == "records_and_bills" {
                let request = DocumentRequest {
                    id: new_id(),
                    matter_id: matter.id.clone(),
                    title: "Bills from your physical therapist".into(),
                    details: Some(
                        "Every bill or statement since the accident, including ones you already paid.".into(),
                    ),
                    category: DocumentCategory::MedicalBill,
                    status: RequestStatus::Open,
                    requested_by: Some(manager.id.clone()),
                    created_at: t0 - Duration::days(4),
                    closed_at: None,
                    due_date: None,
                    fulfil_on: shared::domain::FulfilOn::FirstUpload,
                };
                diesel::insert_into(document_requests::table).values(&request).execute(conn)?;
                let opened_request =
                    milestone(MilestoneKind::RequestOpened, None, Some(&request.title), request.created_at);
                diesel::insert_into(milestones::table).values(&opened_request).execute(conn)?;
                seed = Some(DemoSeed {
                    firm_id: firm.id.clone(),
                    client_id: client.id.clone(),
                    client_email: client.email.clone(),
                    staff: logins.clone(),
                });
            }
        }
        seed.ok_or_else(|| shared::error::Error::Internal(anyhow::anyhow!("demo seed has no client with a request")))
    })
}
