//! What a client sees of their matters: the dashboard list and a matter's
//! detail, in the client's language. The portal's pages and `/api/v1` both
//! serve these; the weekly update reuses them. A matter that is not the
//! client's is [`Error::NotFound`], exactly like one that does not exist.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue;
use crate::db::DbConnection;
use crate::db::models::{DocumentRequest, Matter, Milestone, Phase, PhaseText, User};
use crate::db::schema::{document_requests, firms, matter_clients, matters, milestones, users};
use crate::domain::{Language, MilestoneKind, RequestStatus};
use crate::error::{Error, Result};

/// How many recent milestones a matter page shows.
pub const RECENT_MILESTONES: i64 = 20;

/// A matter on the client's dashboard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatterSummary {
    /// Matter id.
    pub id: String,
    /// Short description, e.g. "Rear-end collision on Route 9".
    pub title: String,
    /// Current phase key, e.g. `medical_treatment`.
    pub phase_key: String,
    /// Current phase title in the client's language.
    pub phase_title: String,
    /// Position of the current phase, from 1.
    pub phase_position: i32,
    /// Number of phases of the matter's practice area.
    pub phase_total: i32,
    /// Document requests still open.
    pub open_requests: i64,
    /// Last change to the matter (UTC).
    pub updated_at: NaiveDateTime,
    /// When the matter was closed, if it is.
    pub closed_at: Option<NaiveDateTime>,
}

/// A phase with its texts in one language.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhaseView {
    /// Stable key.
    pub key: String,
    /// Position, from 1.
    pub position: i32,
    /// Title.
    pub title: String,
    /// What this phase means for the client.
    pub what_it_means: String,
    /// What happens next.
    pub what_happens_next: String,
}

/// Where a phase stands relative to the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Before the current phase.
    Done,
    /// The current phase.
    Current,
    /// After the current phase.
    Upcoming,
}

/// One step of the phase tracker.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhaseStep {
    /// Stable key.
    pub key: String,
    /// Position, from 1.
    pub position: i32,
    /// Title in the client's language.
    pub title: String,
    /// Done, current or upcoming.
    pub state: StepState,
}

/// A document the firm still needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    /// Request id (an upload may name it).
    pub id: String,
    /// What is needed.
    pub title: String,
    /// More detail, if any.
    pub details: Option<String>,
    /// Document category key.
    pub category: crate::domain::DocumentCategory,
    /// When the firm asked (UTC).
    pub requested_at: NaiveDateTime,
    /// The day it is due, in the firm's time zone.
    pub due_date: Option<chrono::NaiveDate>,
    /// Past its due date.
    pub overdue: bool,
}

/// A client-visible event on the matter.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MilestoneView {
    /// Milestone id.
    pub id: String,
    /// Kind key, e.g. `phase_change`.
    pub kind: crate::domain::MilestoneKind,
    /// The new phase's title, for a phase change.
    pub phase_title: Option<String>,
    /// Text written for the client, if any.
    pub body: Option<String>,
    /// When an appointment takes place (UTC).
    pub occurs_at: Option<NaiveDateTime>,
    /// When it was recorded (UTC).
    pub created_at: NaiveDateTime,
}

/// The person at the firm to contact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactView {
    /// Full name.
    pub name: String,
    /// Phone number, if known.
    pub phone: Option<String>,
    /// Email address.
    pub email: String,
}

/// A case manager's name, phone and email as selected through [`CASE_MANAGERS`].
pub(crate) type ContactRow = (String, Option<String>, String);

impl From<ContactRow> for ContactView {
    fn from((name, phone, email): ContactRow) -> Self {
        ContactView { name, phone, email }
    }
}

// The case manager of a matter, joined onto `matters` through
// `case_manager_id` (a second use of `users` in a query that may have one).
diesel::alias! {
    pub(crate) const CASE_MANAGERS: Alias<CaseManagers> = users as case_managers;
}

/// Everything the matter page shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatterDetail {
    /// Matter id.
    pub id: String,
    /// Short description.
    pub title: String,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
    /// When the matter was closed, if it is.
    pub closed_at: Option<NaiveDateTime>,
    /// Whether the client may upload documents to it: it is open, or the firm
    /// takes uploads to closed matters.
    pub accepts_uploads: bool,
    /// The current phase and what it means.
    pub phase: PhaseView,
    /// Every phase of the practice area, in order, with its state.
    pub phases: Vec<PhaseStep>,
    /// Documents the firm still needs.
    pub open_requests: Vec<RequestView>,
    /// Recent client-visible milestones, newest first.
    pub milestones: Vec<MilestoneView>,
    /// The case manager, if one is assigned.
    pub contact: Option<ContactView>,
}

/// The client's matters, open ones first, each with its current phase.
pub fn my_matters(conn: &mut DbConnection, client: &User, language: Language) -> Result<Vec<MatterSummary>> {
    let mine: Vec<Matter> = matters::table
        .inner_join(matter_clients::table)
        .filter(matter_clients::client_id.eq(&client.id))
        .select(Matter::as_select())
        .order(matters::opened_at.desc())
        .load(conn)?;
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let areas: Vec<&str> = mine.iter().map(|m| m.practice_area.as_str()).collect();
    let catalogue = catalogue::phases_in(conn, &client.firm_id, &areas, language)?;
    let ids: Vec<&str> = mine.iter().map(|m| m.id.as_str()).collect();
    let open: Vec<String> = document_requests::table
        .filter(document_requests::matter_id.eq_any(&ids))
        .filter(document_requests::status.eq(RequestStatus::Open))
        .select(document_requests::matter_id)
        .load(conn)?;
    let mut open_counts: HashMap<&str, i64> = HashMap::new();
    for matter_id in &open {
        *open_counts.entry(matter_id.as_str()).or_default() += 1;
    }
    let mut summaries: Vec<MatterSummary> = mine
        .iter()
        .map(|m| {
            let total = catalogue.iter().filter(|(p, _)| p.practice_area == m.practice_area).count();
            let current = catalogue.iter().find(|(p, _)| p.id == m.phase_id);
            MatterSummary {
                id: m.id.clone(),
                title: m.title.clone(),
                phase_key: current.map(|(p, _)| p.key.clone()).unwrap_or_default(),
                phase_title: current.map(|(_, t)| t.title.clone()).unwrap_or_default(),
                phase_position: current.map_or(0, |(p, _)| p.position),
                phase_total: i32::try_from(total).unwrap_or(i32::MAX),
                open_requests: open_counts.get(m.id.as_str()).copied().unwrap_or(0),
                updated_at: m.updated_at,
                closed_at: m.closed_at,
            }
        })
        .collect();
    summaries.sort_by_key(|s| s.closed_at.is_some());
    Ok(summaries)
}

/// The matter `matter_id` if `client` is one of its clients; [`Error::NotFound`]
/// otherwise. Every client-facing read or write of a matter goes through here,
/// except [`matter_detail`], which makes the same check in the query that also
/// joins the case manager (the matter page's busiest query).
pub fn own_matter(conn: &mut DbConnection, client: &User, matter_id: &str) -> Result<Matter> {
    matters::table
        .inner_join(matter_clients::table)
        .filter(matters::id.eq(matter_id))
        .filter(matter_clients::client_id.eq(&client.id))
        .select(Matter::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// The case manager of `matter` as the client's contact, if it has one.
pub fn contact_of(conn: &mut DbConnection, matter: &Matter) -> Result<Option<ContactView>> {
    let Some(id) = &matter.case_manager_id else { return Ok(None) };
    Ok(users::table
        .find(id)
        .select((users::full_name, users::phone, users::email))
        .first::<ContactRow>(conn)
        .optional()?
        .map(|(name, phone, email)| ContactView { name, phone, email }))
}

/// Whether clients may upload documents to `matter`: it is open, or its firm
/// lets clients upload to closed matters (`firms.closed_matter_uploads`).
pub fn accepts_uploads(conn: &mut DbConnection, matter: &Matter) -> Result<bool> {
    if matter.closed_at.is_none() {
        return Ok(true);
    }
    Ok(firms::table.find(&matter.firm_id).select(firms::closed_matter_uploads).first(conn)?)
}

/// The matter `matter_id` if `client` is one of its clients; [`Error::NotFound`] otherwise.
pub fn matter_detail(
    conn: &mut DbConnection,
    client: &User,
    matter_id: &str,
    language: Language,
) -> Result<MatterDetail> {
    // The matter, checked to be the client's, and its case manager: one query.
    let (matter, contact): (Matter, Option<ContactRow>) = matters::table
        .inner_join(matter_clients::table)
        .left_join(CASE_MANAGERS.on(matters::case_manager_id.eq(CASE_MANAGERS.field(users::id).nullable())))
        .filter(matters::id.eq(matter_id))
        .filter(matter_clients::client_id.eq(&client.id))
        .select((Matter::as_select(), CASE_MANAGERS.fields((users::full_name, users::phone, users::email)).nullable()))
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let catalogue = catalogue::phases_in(conn, &matter.firm_id, &[matter.practice_area.as_str()], language)?;
    let (phase, phases) = phases_of(&catalogue, &matter.id, &matter.phase_id)?;
    let today = crate::requests::firm_today(conn, &matter.firm_id, crate::domain::now())?;
    let open_requests = document_requests::table
        .filter(document_requests::matter_id.eq(&matter.id))
        .filter(document_requests::status.eq(RequestStatus::Open))
        .order(document_requests::created_at.asc())
        .select(DocumentRequest::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| RequestView {
            id: r.id,
            title: r.title,
            details: r.details,
            category: r.category,
            requested_at: r.created_at,
            overdue: r.due_date.is_some_and(|d| crate::requests::is_overdue(d, today)),
            due_date: r.due_date,
        })
        .collect();
    let accepts_uploads = accepts_uploads(conn, &matter)?;
    let titles: HashMap<&str, &str> = catalogue.iter().map(|(p, t)| (p.id.as_str(), t.title.as_str())).collect();
    let milestones = milestones::table
        .filter(milestones::matter_id.eq(&matter.id))
        .filter(milestones::client_visible.eq(true))
        .filter(milestones::kind.ne(MilestoneKind::InternalNote))
        .order(milestones::created_at.desc())
        .limit(RECENT_MILESTONES)
        .select(Milestone::as_select())
        .load(conn)?
        .into_iter()
        .map(|m| MilestoneView {
            phase_title: m.phase_id.as_deref().and_then(|id| titles.get(id)).map(|t| (*t).to_owned()),
            id: m.id,
            kind: m.kind,
            body: m.body,
            occurs_at: m.occurs_at,
            created_at: m.created_at,
        })
        .collect();
    Ok(MatterDetail {
        id: matter.id,
        title: matter.title,
        updated_at: matter.updated_at,
        closed_at: matter.closed_at,
        accepts_uploads,
        phase,
        phases,
        open_requests,
        milestones,
        contact: contact.map(ContactView::from),
    })
}

/// The current phase `phase_id` of matter `matter_id` and every step of its
/// practice area, from the area's `catalogue`.
pub(crate) fn phases_of(
    catalogue: &[(Phase, PhaseText)],
    matter_id: &str,
    phase_id: &str,
) -> Result<(PhaseView, Vec<PhaseStep>)> {
    let (current_phase, current_text) = catalogue.iter().find(|(p, _)| p.id == phase_id).ok_or_else(|| {
        Error::Internal(anyhow::anyhow!("matter {matter_id} points at a phase outside its catalogue"))
    })?;
    let phases = catalogue
        .iter()
        .map(|(p, t)| PhaseStep {
            key: p.key.clone(),
            position: p.position,
            title: t.title.clone(),
            state: match p.position.cmp(&current_phase.position) {
                std::cmp::Ordering::Less => StepState::Done,
                std::cmp::Ordering::Equal => StepState::Current,
                std::cmp::Ordering::Greater => StepState::Upcoming,
            },
        })
        .collect();
    let phase = PhaseView {
        key: current_phase.key.clone(),
        position: current_phase.position,
        title: current_text.title.clone(),
        what_it_means: current_text.what_it_means.clone(),
        what_happens_next: current_text.what_happens_next.clone(),
    };
    Ok((phase, phases))
}
