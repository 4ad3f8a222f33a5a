//! The treatment log: a matter's medical providers and the client's visits
//! ("I saw a provider on …") and upcoming appointments ("I have an appointment
//! on …"), written by the client from their phone or by staff. Insurers
//! discount cases with gaps in treatment, so a matter in a treatment phase
//! (`phases.treatment`) with no visit logged for the firm's
//! `treatment_gap_days` — counted from the later of its last visit and its
//! entering the phase — is flagged for staff ([`gaps`]); logging a visit
//! clears the flag.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Actor};
use crate::db::models::{Matter, TreatmentProvider, TreatmentVisit};
use crate::db::schema::{firms, matters, milestones, phases, treatment_providers, treatment_visits};
use crate::db::{DbConnection, write_transaction};
use crate::domain::{MilestoneKind, new_id};
use crate::error::{Error, Result};
use crate::staff::{optional_line, optional_text, required};

crate::text_enum!(
    /// What kind of medical provider.
    ProviderKind {
        /// A doctor.
        Doctor => "doctor",
        /// Physical therapy.
        PhysicalTherapy => "physical_therapy",
        /// A chiropractor.
        Chiropractor => "chiropractor",
        /// A hospital or emergency room.
        Hospital => "hospital",
        /// Imaging: X-ray, MRI, CT.
        Imaging => "imaging",
        /// Anything else.
        Other => "other",
    }
);

crate::text_enum!(
    /// Whether a visit happened or is still to come.
    VisitStatus {
        /// The client saw the provider (on or before today).
        Visited => "visited",
        /// An appointment the client has (today or later).
        Upcoming => "upcoming",
    }
);

/// Days without treatment before a matter is flagged, when a firm has not chosen.
pub const DEFAULT_GAP_DAYS: i32 = 30;
/// The weekly update asks the client to log visits after this many days without one.
pub const WEEKLY_ASK_DAYS: i64 = 14;
/// Providers a matter may have.
pub const MAX_PROVIDERS: i64 = 100;

/// A provider as pages and the API show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderView {
    /// Id.
    pub id: String,
    /// Name, e.g. "Dr. Rivera" or "Lakeside Physical Therapy".
    pub name: String,
    /// Kind key.
    pub kind: ProviderKind,
    /// Phone number.
    pub phone: Option<String>,
}

impl From<TreatmentProvider> for ProviderView {
    fn from(p: TreatmentProvider) -> Self {
        Self { id: p.id, name: p.name, kind: p.kind, phone: p.phone }
    }
}

/// A visit as pages and the API show it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisitView {
    /// Id.
    pub id: String,
    /// The provider.
    pub provider_id: String,
    /// The provider's name.
    pub provider_name: String,
    /// The provider's kind.
    pub provider_kind: ProviderKind,
    /// The day (the firm's calendar), `YYYY-MM-DD`.
    pub visit_on: NaiveDate,
    /// `visited` or `upcoming`.
    pub status: VisitStatus,
    /// The client's or staff member's note.
    pub note: Option<String>,
    /// When it was logged (UTC).
    pub created_at: NaiveDateTime,
}

/// A matter's treatment log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreatmentLog {
    /// Providers, by name.
    pub providers: Vec<ProviderView>,
    /// Visits and upcoming appointments, latest day first.
    pub visits: Vec<VisitView>,
    /// Days without a logged visit while in a treatment phase, when that is at
    /// least the firm's limit (the matter is flagged); `None` otherwise.
    pub treatment_gap_days: Option<i64>,
}

/// A provider to add.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewProvider {
    /// Name.
    pub name: String,
    /// `doctor`, `physical_therapy`, `chiropractor`, `hospital`, `imaging` or `other`; `other` when absent.
    #[serde(default)]
    pub kind: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A visit (or upcoming appointment) to log: with a provider of the matter, or a new one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewVisit {
    /// An existing provider of the matter.
    #[serde(default)]
    pub provider_id: Option<String>,
    /// A provider to add with the visit (when `provider_id` is absent).
    #[serde(default)]
    pub new_provider: Option<NewProvider>,
    /// The day, `YYYY-MM-DD`: not after today for a visit, not before today for an upcoming one.
    #[schema(value_type = String, format = Date)]
    pub visit_on: NaiveDate,
    /// `visited` (default) or `upcoming`.
    #[serde(default)]
    pub status: Option<String>,
    /// A short note (no need for medical detail).
    #[serde(default)]
    pub note: Option<String>,
}

/// Who logs: the client or a staff member, with the request's IP address.
#[derive(Debug, Clone, Copy)]
pub enum Author<'a> {
    /// A client of the matter.
    Client(&'a str, Option<&'a str>),
    /// A staff member of the firm.
    Staff(&'a str, Option<&'a str>),
}

impl<'a> Author<'a> {
    fn id(self) -> &'a str {
        match self {
            Author::Client(id, _) | Author::Staff(id, _) => id,
        }
    }

    fn audit(
        self,
        conn: &mut DbConnection,
        matter: &Matter,
        action: &str,
        target: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let (actor, ip) = match self {
            Author::Client(id, ip) => (Actor::Client(id), ip),
            Author::Staff(id, ip) => (Actor::Staff(id), ip),
        };
        audit::append(
            conn,
            &audit::Event {
                firm_id: Some(&matter.firm_id),
                actor,
                action,
                target_type: "matter",
                target_id: Some(&matter.id),
                ip,
                detail: Some(target.to_owned()),
            },
            now,
        )
    }
}

fn provider_row(
    matter: &Matter,
    author: Author<'_>,
    input: &NewProvider,
    now: NaiveDateTime,
) -> Result<TreatmentProvider> {
    let name = required("provider_name", &input.name)?;
    let kind = match input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => {
            ProviderKind::parse(k).ok_or_else(|| Error::invalid("provider_kind", "is not a kind of provider"))?
        }
        None => ProviderKind::Other,
    };
    let phone = optional_line("provider_phone", input.phone.as_deref())?;
    Ok(TreatmentProvider {
        id: new_id(),
        firm_id: matter.firm_id.clone(),
        matter_id: matter.id.clone(),
        name,
        kind,
        phone,
        created_by: Some(author.id().to_owned()),
        created_at: now,
    })
}

fn insert_provider(conn: &mut DbConnection, matter: &Matter, provider: &TreatmentProvider) -> Result<()> {
    let count: i64 =
        treatment_providers::table.filter(treatment_providers::matter_id.eq(&matter.id)).count().get_result(conn)?;
    if count >= MAX_PROVIDERS {
        return Err(Error::invalid("provider_name", format!("a case has at most {MAX_PROVIDERS} providers")));
    }
    diesel::insert_into(treatment_providers::table).values(provider).execute(conn)?;
    Ok(())
}

/// Adds a provider to `matter`'s treatment log.
pub fn add_provider(
    conn: &mut DbConnection,
    matter: &Matter,
    author: Author<'_>,
    input: &NewProvider,
    now: NaiveDateTime,
) -> Result<ProviderView> {
    let provider = provider_row(matter, author, input, now)?;
    write_transaction(conn, |conn| {
        insert_provider(conn, matter, &provider)?;
        author.audit(conn, matter, "treatment.provider", &provider.id, now)?;
        Ok(provider.clone().into())
    })
}

/// Logs a visit (or an upcoming appointment) on `matter`; `today` is the
/// firm's calendar day. A visit cannot be after today, an upcoming one not before.
pub fn add_visit(
    conn: &mut DbConnection,
    matter: &Matter,
    author: Author<'_>,
    input: &NewVisit,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<VisitView> {
    let status = match input.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => VisitStatus::parse(s).ok_or_else(|| Error::invalid("status", "must be visited or upcoming"))?,
        None => VisitStatus::Visited,
    };
    match status {
        VisitStatus::Visited if input.visit_on > today => {
            return Err(Error::invalid("visit_on", "a visit cannot be in the future"));
        }
        VisitStatus::Upcoming if input.visit_on < today => {
            return Err(Error::invalid("visit_on", "an upcoming appointment cannot be in the past"));
        }
        _ => {}
    }
    let note = optional_text("note", input.note.as_deref())?;
    let new_provider =
        match (input.provider_id.as_deref().map(str::trim).filter(|p| !p.is_empty()), &input.new_provider) {
            (Some(_), _) => None,
            (None, Some(p)) => Some(provider_row(matter, author, p, now)?),
            (None, None) => return Err(Error::invalid("provider_id", "choose a provider or add one")),
        };
    write_transaction(conn, |conn| {
        let provider = match (&new_provider, input.provider_id.as_deref().map(str::trim)) {
            (Some(p), _) => {
                insert_provider(conn, matter, p)?;
                p.clone()
            }
            (None, Some(id)) => treatment_providers::table
                .filter(treatment_providers::id.eq(id))
                .filter(treatment_providers::matter_id.eq(&matter.id))
                .select(TreatmentProvider::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::invalid("provider_id", "is not a provider of this case"))?,
            (None, None) => return Err(Error::invalid("provider_id", "choose a provider or add one")),
        };
        let visit = TreatmentVisit {
            id: new_id(),
            matter_id: matter.id.clone(),
            provider_id: provider.id.clone(),
            visit_on: input.visit_on,
            status,
            note: note.clone(),
            created_by: Some(author.id().to_owned()),
            created_at: now,
        };
        diesel::insert_into(treatment_visits::table).values(&visit).execute(conn)?;
        diesel::update(matters::table.find(&matter.id)).set(matters::updated_at.eq(now)).execute(conn)?;
        author.audit(conn, matter, &format!("treatment.{}", status.as_str()), &visit.id, now)?;
        Ok(VisitView {
            id: visit.id,
            provider_id: provider.id,
            provider_name: provider.name,
            provider_kind: provider.kind,
            visit_on: visit.visit_on,
            status,
            note,
            created_at: now,
        })
    })
}

/// `matter`'s treatment log as of `now`.
pub fn log(conn: &mut DbConnection, matter: &Matter, now: NaiveDateTime) -> Result<TreatmentLog> {
    let providers: Vec<TreatmentProvider> = treatment_providers::table
        .filter(treatment_providers::matter_id.eq(&matter.id))
        .order((treatment_providers::name, treatment_providers::id))
        .select(TreatmentProvider::as_select())
        .load(conn)?;
    let visits: Vec<TreatmentVisit> = treatment_visits::table
        .filter(treatment_visits::matter_id.eq(&matter.id))
        .order((treatment_visits::visit_on.desc(), treatment_visits::created_at.desc()))
        .select(TreatmentVisit::as_select())
        .load(conn)?;
    let by_id: HashMap<&str, &TreatmentProvider> = providers.iter().map(|p| (p.id.as_str(), p)).collect();
    let visits = visits
        .into_iter()
        .filter_map(|v| {
            let p = by_id.get(v.provider_id.as_str())?;
            Some(VisitView {
                id: v.id,
                provider_id: v.provider_id.clone(),
                provider_name: p.name.clone(),
                provider_kind: p.kind,
                visit_on: v.visit_on,
                status: v.status,
                note: v.note,
                created_at: v.created_at,
            })
        })
        .collect();
    let gap = gaps(conn, &matter.firm_id, Some(std::slice::from_ref(&matter.id)), now)?.remove(&matter.id);
    Ok(TreatmentLog { providers: providers.into_iter().map(Into::into).collect(), visits, treatment_gap_days: gap })
}

/// For each open matter of `firm_id` (of `only`, when given) in a treatment
/// phase: the days since the later of its last logged visit and its entering
/// the phase, on the firm's calendar.
pub fn days_without_treatment(
    conn: &mut DbConnection,
    firm_id: &str,
    only: Option<&[String]>,
    now: NaiveDateTime,
) -> Result<HashMap<String, i64>> {
    let zone: String = firms::table.find(firm_id).select(firms::time_zone).first(conn)?;
    let mut query = matters::table
        .inner_join(phases::table)
        .filter(matters::firm_id.eq(firm_id))
        .filter(matters::closed_at.is_null())
        .filter(phases::treatment.eq(true))
        .select((matters::id, matters::phase_id, matters::opened_at))
        .into_boxed();
    if let Some(ids) = only {
        query = query.filter(matters::id.eq_any(ids));
    }
    let treated: Vec<(String, String, NaiveDateTime)> = query.load(conn)?;
    if treated.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<&str> = treated.iter().map(|(id, _, _)| id.as_str()).collect();
    let entered: Vec<(String, Option<String>, Option<NaiveDateTime>)> = milestones::table
        .filter(milestones::matter_id.eq_any(&ids))
        .filter(milestones::kind.eq(MilestoneKind::PhaseChange))
        .group_by((milestones::matter_id, milestones::phase_id))
        .select((milestones::matter_id, milestones::phase_id, diesel::dsl::max(milestones::created_at)))
        .load(conn)?;
    let last_visit: HashMap<String, NaiveDate> = treatment_visits::table
        .filter(treatment_visits::matter_id.eq_any(&ids))
        .filter(treatment_visits::status.eq(VisitStatus::Visited))
        .group_by(treatment_visits::matter_id)
        .select((treatment_visits::matter_id, diesel::dsl::max(treatment_visits::visit_on)))
        .load::<(String, Option<NaiveDate>)>(conn)?
        .into_iter()
        .filter_map(|(id, day)| day.map(|d| (id, d)))
        .collect();
    let today = crate::domain::local_date(&zone, now);
    Ok(treated
        .into_iter()
        .map(|(id, phase_id, opened_at)| {
            let entered_at = entered
                .iter()
                .filter(|(m, p, _)| *m == id && p.as_deref() == Some(phase_id.as_str()))
                .filter_map(|(_, _, at)| *at)
                .max()
                .unwrap_or(opened_at);
            let entered_on = crate::domain::local_date(&zone, entered_at);
            let since = last_visit.get(&id).map_or(entered_on, |v| (*v).max(entered_on));
            let days = (today - since).num_days().max(0);
            (id, days)
        })
        .collect())
}

/// The matters of `firm_id` (of `only`, when given) flagged for a gap in
/// treatment, with their days without a logged visit.
pub fn gaps(
    conn: &mut DbConnection,
    firm_id: &str,
    only: Option<&[String]>,
    now: NaiveDateTime,
) -> Result<HashMap<String, i64>> {
    let limit: i32 = firms::table.find(firm_id).select(firms::treatment_gap_days).first(conn)?;
    let mut days = days_without_treatment(conn, firm_id, only, now)?;
    days.retain(|_, d| *d >= i64::from(limit));
    Ok(days)
}
