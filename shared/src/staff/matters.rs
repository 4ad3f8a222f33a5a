//! Matters of the firm: the filtered list, a matter's full record, create,
//! update (title, case manager), close and reopen.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Staff, firm_matter, firm_user, optional_line, required, unique_or};
use crate::catalogue::{self, PERSONAL_INJURY};
use crate::db::models::{Document, DocumentRequest, Matter, MatterClient, Milestone, Phase, SavedFilter};
use crate::db::schema::{
    document_requests, documents, matter_clients, matters, milestones, notifications, phases, saved_filters, users,
};
use crate::db::{DbConnection, write_transaction};
use crate::domain::{Language, MilestoneKind, NotificationKind, NotificationStatus, RequestStatus, Role, new_id};
use crate::error::{Error, Result};

/// Days without a sent weekly update after which a matter counts as "no client update".
pub const STALE_DAYS: i64 = 14;
/// Matters listed per page at most.
pub const MAX_PAGE: i64 = 500;

/// Filters of the matters list; all optional, combined with "and".
#[derive(Debug, Clone, Default, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatterFilter {
    /// Phase key, e.g. `negotiation`.
    #[serde(default)]
    pub phase: Option<String>,
    /// Case manager's user id; `none` for matters without one.
    #[serde(default)]
    pub case_manager: Option<String>,
    /// Only matters none of whose clients got a weekly update in the last 14 days.
    #[serde(default)]
    pub stale: Option<bool>,
    /// Only matters with client uploads nobody has reviewed.
    #[serde(default)]
    pub unreviewed: Option<bool>,
    /// Only matters with an open document request past its due date (firm-local).
    #[serde(default)]
    pub overdue: Option<bool>,
    /// Only matters flagged for a gap in treatment (see `treatment_gap_days`).
    #[serde(default)]
    pub treatment_gap: Option<bool>,
    /// Include closed matters (default: open only).
    #[serde(default)]
    pub include_closed: Option<bool>,
    /// Title or external id contains this text.
    #[serde(default)]
    pub q: Option<String>,
    /// Page size (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: Option<i64>,
}

/// A person on a matter (client or case manager).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonRef {
    /// User id.
    pub id: String,
    /// Full name.
    pub name: String,
}

/// A row of the matters list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatterRow {
    /// Matter id.
    pub id: String,
    /// Short description.
    pub title: String,
    /// Id in the firm's case-management system.
    pub external_id: Option<String>,
    /// Current phase key.
    pub phase_key: String,
    /// Current phase title (in the staff member's language).
    pub phase_title: String,
    /// The assigned case manager.
    pub case_manager: Option<PersonRef>,
    /// The matter's clients.
    pub clients: Vec<PersonRef>,
    /// When a client of the matter last got a weekly update (UTC).
    pub last_client_update: Option<NaiveDateTime>,
    /// Client uploads not yet reviewed.
    pub unreviewed_documents: i64,
    /// Document requests still open.
    pub open_requests: i64,
    /// Open document requests past their due date (firm-local).
    pub overdue_requests: i64,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
    /// When the matter was closed, if it is.
    pub closed_at: Option<NaiveDateTime>,
    /// Days without a logged medical visit while in a treatment phase, when
    /// that reaches the firm's limit (the matter is flagged); `None` otherwise.
    pub treatment_gap_days: Option<i64>,
}

/// The firm's matters matching `filter`, most recently changed first.
pub fn list(
    conn: &mut DbConnection,
    staff: &Staff,
    filter: &MatterFilter,
    language: Language,
    now: NaiveDateTime,
) -> Result<Vec<MatterRow>> {
    let mut query = matters::table.filter(matters::firm_id.eq(&staff.firm_id)).into_boxed();
    if !filter.include_closed.unwrap_or(false) {
        query = query.filter(matters::closed_at.is_null());
    }
    if let Some(key) = filter.phase.as_deref().filter(|k| !k.is_empty()) {
        let phase = phase_by_key(conn, staff, PERSONAL_INJURY, key)?;
        query = query.filter(matters::phase_id.eq(phase.id));
    }
    match filter.case_manager.as_deref().filter(|k| !k.is_empty()) {
        Some("none") => query = query.filter(matters::case_manager_id.is_null()),
        Some(id) => query = query.filter(matters::case_manager_id.eq(id.to_owned())),
        None => {}
    }
    if filter.stale.unwrap_or(false) {
        let cutoff = now - Duration::days(STALE_DAYS);
        query = query.filter(not(exists(
            matter_clients::table
                .inner_join(notifications::table.on(notifications::recipient_id.eq(matter_clients::client_id)))
                .filter(matter_clients::matter_id.eq(matters::id))
                .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
                .filter(notifications::status.eq(NotificationStatus::Sent))
                .filter(notifications::sent_at.gt(cutoff)),
        )));
    }
    if filter.unreviewed.unwrap_or(false) {
        query = query.filter(exists(
            documents::table
                .filter(documents::matter_id.eq(matters::id))
                .filter(documents::reviewed_at.is_null())
                .filter(documents::source.eq("client")),
        ));
    }
    let today = crate::requests::firm_today(conn, &staff.firm_id, now)?;
    if filter.overdue.unwrap_or(false) {
        query = query.filter(exists(
            document_requests::table
                .filter(document_requests::matter_id.eq(matters::id))
                .filter(document_requests::status.eq(RequestStatus::Open))
                .filter(document_requests::due_date.lt(today)),
        ));
    }
    if filter.treatment_gap.unwrap_or(false) {
        let flagged: Vec<String> = crate::treatment::gaps(conn, &staff.firm_id, None, now)?.into_keys().collect();
        query = query.filter(matters::id.eq_any(flagged));
    }
    if let Some(term) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", term.replace(['%', '_'], ""));
        query = query.filter(matters::title.like(pattern.clone()).or(matters::external_id.like(pattern)));
    }
    let found: Vec<Matter> = query
        .order((matters::updated_at.desc(), matters::id))
        .limit(filter.limit.unwrap_or(100).clamp(1, MAX_PAGE))
        .offset(filter.offset.unwrap_or(0).max(0))
        .select(Matter::as_select())
        .load(conn)?;
    rows(conn, staff, found, language, today)
}

/// Builds list rows for `found` with one query per kind of fact, not per matter.
fn rows(
    conn: &mut DbConnection,
    staff: &Staff,
    found: Vec<Matter>,
    language: Language,
    today: chrono::NaiveDate,
) -> Result<Vec<MatterRow>> {
    let ids: Vec<&str> = found.iter().map(|m| m.id.as_str()).collect();
    let catalogue = catalogue::phases_in(conn, &staff.firm_id, &[PERSONAL_INJURY], language)?;
    let phases: HashMap<&str, (&str, &str)> =
        catalogue.iter().map(|(p, t)| (p.id.as_str(), (p.key.as_str(), t.title.as_str()))).collect();
    let people: HashMap<String, String> = users::table
        .filter(users::firm_id.eq(&staff.firm_id))
        .filter(users::role.ne(Role::Client).or(users::id.eq_any(
            matter_clients::table.filter(matter_clients::matter_id.eq_any(&ids)).select(matter_clients::client_id),
        )))
        .select((users::id, users::full_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let links: Vec<MatterClient> = matter_clients::table
        .filter(matter_clients::matter_id.eq_any(&ids))
        .select(MatterClient::as_select())
        .load(conn)?;
    let last_updates: Vec<(String, Option<NaiveDateTime>)> = matter_clients::table
        .inner_join(notifications::table.on(notifications::recipient_id.eq(matter_clients::client_id)))
        .filter(matter_clients::matter_id.eq_any(&ids))
        .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
        .filter(notifications::status.eq(NotificationStatus::Sent))
        .group_by(matter_clients::matter_id)
        .select((matter_clients::matter_id, diesel::dsl::max(notifications::sent_at)))
        .load(conn)?;
    let unreviewed: Vec<(String, i64)> = documents::table
        .filter(documents::matter_id.eq_any(&ids))
        .filter(documents::reviewed_at.is_null())
        .filter(documents::source.eq("client"))
        .group_by(documents::matter_id)
        .select((documents::matter_id, diesel::dsl::count_star()))
        .load(conn)?;
    let open: Vec<(String, i64)> = document_requests::table
        .filter(document_requests::matter_id.eq_any(&ids))
        .filter(document_requests::status.eq(RequestStatus::Open))
        .group_by(document_requests::matter_id)
        .select((document_requests::matter_id, diesel::dsl::count_star()))
        .load(conn)?;
    let overdue: Vec<(String, i64)> = document_requests::table
        .filter(document_requests::matter_id.eq_any(&ids))
        .filter(document_requests::status.eq(RequestStatus::Open))
        .filter(document_requests::due_date.lt(today))
        .group_by(document_requests::matter_id)
        .select((document_requests::matter_id, diesel::dsl::count_star()))
        .load(conn)?;
    let owned_ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    let gaps = crate::treatment::gaps(conn, &staff.firm_id, Some(&owned_ids), crate::domain::now())?;
    let person = |id: &str| people.get(id).map(|name| PersonRef { id: id.to_owned(), name: name.clone() });
    Ok(found
        .into_iter()
        .map(|m| {
            let (phase_key, phase_title) = phases.get(m.phase_id.as_str()).copied().unwrap_or(("", ""));
            MatterRow {
                phase_key: phase_key.to_owned(),
                phase_title: phase_title.to_owned(),
                case_manager: m.case_manager_id.as_deref().and_then(person),
                clients: links.iter().filter(|l| l.matter_id == m.id).filter_map(|l| person(&l.client_id)).collect(),
                last_client_update: last_updates.iter().find(|(id, _)| *id == m.id).and_then(|(_, at)| *at),
                unreviewed_documents: unreviewed.iter().find(|(id, _)| *id == m.id).map_or(0, |(_, n)| *n),
                open_requests: open.iter().find(|(id, _)| *id == m.id).map_or(0, |(_, n)| *n),
                overdue_requests: overdue.iter().find(|(id, _)| *id == m.id).map_or(0, |(_, n)| *n),
                treatment_gap_days: gaps.get(&m.id).copied(),
                id: m.id,
                title: m.title,
                external_id: m.external_id,
                updated_at: m.updated_at,
                closed_at: m.closed_at,
            }
        })
        .collect())
}

/// A milestone as staff see it (internal notes included).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffMilestone {
    /// Milestone id.
    pub id: String,
    /// Kind key, e.g. `phase_change`, `internal_note`.
    pub kind: crate::domain::MilestoneKind,
    /// Whether the client sees it.
    pub client_visible: bool,
    /// The phase key, for a phase change.
    pub phase_key: Option<String>,
    /// The phase title, for a phase change.
    pub phase_title: Option<String>,
    /// Text.
    pub body: Option<String>,
    /// When an appointment takes place (UTC).
    pub occurs_at: Option<NaiveDateTime>,
    /// Who recorded it.
    pub created_by: Option<PersonRef>,
    /// When it was recorded (UTC).
    pub created_at: NaiveDateTime,
}

/// A document request as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffRequest {
    /// Request id.
    pub id: String,
    /// What is needed.
    pub title: String,
    /// More detail.
    pub details: Option<String>,
    /// Document category key.
    pub category: crate::domain::DocumentCategory,
    /// `open`, `fulfilled` or `cancelled`.
    pub status: crate::domain::RequestStatus,
    /// When it was opened (UTC).
    pub created_at: NaiveDateTime,
    /// When it was fulfilled or cancelled (UTC).
    pub closed_at: Option<NaiveDateTime>,
    /// The day it is due, in the firm's time zone.
    pub due_date: Option<chrono::NaiveDate>,
    /// Open and past its due date (firm-local).
    pub overdue: bool,
    /// `first_upload` or `staff` (open until staff mark it complete).
    pub fulfil_on: crate::domain::FulfilOn,
}

impl StaffRequest {
    /// The view of a stored request on the firm-local day `today`.
    pub fn from_row(r: DocumentRequest, today: chrono::NaiveDate) -> Self {
        Self {
            overdue: r.status == RequestStatus::Open
                && r.due_date.is_some_and(|d| crate::requests::is_overdue(d, today)),
            id: r.id,
            title: r.title,
            details: r.details,
            category: r.category,
            status: r.status,
            created_at: r.created_at,
            closed_at: r.closed_at,
            due_date: r.due_date,
            fulfil_on: r.fulfil_on,
        }
    }
}

/// A document as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffDocument {
    /// Document id.
    pub id: String,
    /// File name as uploaded (sanitised).
    pub name: String,
    /// Type decided from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Category key.
    pub category: crate::domain::DocumentCategory,
    /// `client` or `firm`.
    pub source: crate::domain::DocumentSource,
    /// The request it fulfils.
    pub request_id: Option<String>,
    /// Who uploaded it.
    pub uploaded_by: Option<PersonRef>,
    /// When it was reviewed (UTC); `None` while unreviewed.
    pub reviewed_at: Option<NaiveDateTime>,
    /// Who reviewed it.
    pub reviewed_by: Option<PersonRef>,
    /// When it arrived (UTC).
    pub created_at: NaiveDateTime,
}

/// A phase of the catalogue, for choosing a phase change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhaseChoice {
    /// Stable key.
    pub key: String,
    /// Position, from 1.
    pub position: i32,
    /// Title in the staff member's language.
    pub title: String,
    /// True for the matter's current phase.
    pub current: bool,
}

/// A matter's full record for staff.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffMatter {
    /// The list row's facts.
    #[serde(flatten)]
    pub summary: MatterRow,
    /// When the matter was opened (UTC).
    pub opened_at: NaiveDateTime,
    /// Every phase, with the current one marked.
    pub phases: Vec<PhaseChoice>,
    /// Every milestone, newest first.
    pub timeline: Vec<StaffMilestone>,
    /// Every document request, newest first.
    pub requests: Vec<StaffRequest>,
    /// Every document, newest first.
    pub documents: Vec<StaffDocument>,
}

/// One matter of the firm with its timeline, requests and documents.
pub fn get(conn: &mut DbConnection, staff: &Staff, matter_id: &str, language: Language) -> Result<StaffMatter> {
    let matter = firm_matter(conn, staff, matter_id)?;
    let opened_at = matter.opened_at;
    let current_phase = matter.phase_id.clone();
    let today = crate::requests::firm_today(conn, &staff.firm_id, crate::domain::now())?;
    let summary = rows(conn, staff, vec![matter], language, today)?.pop().ok_or(Error::NotFound)?;
    let catalogue = catalogue::phases_in(conn, &staff.firm_id, &[PERSONAL_INJURY], language)?;
    let titles: HashMap<&str, (&str, &str)> =
        catalogue.iter().map(|(p, t)| (p.id.as_str(), (p.key.as_str(), t.title.as_str()))).collect();
    let names: HashMap<String, String> = users::table
        .filter(users::firm_id.eq(&staff.firm_id))
        .filter(users::role.ne(Role::Client).or(users::id.eq_any(summary.clients.iter().map(|c| &c.id))))
        .select((users::id, users::full_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let person = |id: Option<String>| {
        id.and_then(|id| names.get(&id).map(|name| PersonRef { name: name.clone(), id: id.clone() }))
    };
    let timeline = milestones::table
        .filter(milestones::matter_id.eq(matter_id))
        .order((milestones::created_at.desc(), milestones::id))
        .select(Milestone::as_select())
        .load(conn)?
        .into_iter()
        .map(|m| {
            let phase = m.phase_id.as_deref().and_then(|id| titles.get(id));
            StaffMilestone {
                phase_key: phase.map(|(k, _)| (*k).to_owned()),
                phase_title: phase.map(|(_, t)| (*t).to_owned()),
                created_by: person(m.created_by),
                id: m.id,
                kind: m.kind,
                client_visible: m.client_visible,
                body: m.body,
                occurs_at: m.occurs_at,
                created_at: m.created_at,
            }
        })
        .collect();
    let requests = document_requests::table
        .filter(document_requests::matter_id.eq(matter_id))
        .order(document_requests::created_at.desc())
        .select(DocumentRequest::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| StaffRequest::from_row(r, today))
        .collect();
    let documents = documents::table
        .filter(documents::matter_id.eq(matter_id))
        .order(documents::created_at.desc())
        .select(Document::as_select())
        .load(conn)?
        .into_iter()
        .map(|d| StaffDocument {
            uploaded_by: person(d.uploaded_by),
            reviewed_by: person(d.reviewed_by),
            id: d.id,
            name: crate::documents::sanitize_file_name(&d.original_name),
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            category: d.category,
            source: d.source,
            request_id: d.request_id,
            reviewed_at: d.reviewed_at,
            created_at: d.created_at,
        })
        .collect();
    let phases = catalogue
        .iter()
        .map(|(p, t)| PhaseChoice {
            key: p.key.clone(),
            position: p.position,
            title: t.title.clone(),
            current: p.id == current_phase,
        })
        .collect();
    Ok(StaffMatter { summary, opened_at, phases, timeline, requests, documents })
}

/// The phase `key` of the firm's `practice_area`, or an error naming `phase`.
pub fn phase_by_key(conn: &mut DbConnection, staff: &Staff, practice_area: &str, key: &str) -> Result<Phase> {
    catalogue::phase_by_key(conn, &staff.firm_id, practice_area, key)?
        .ok_or_else(|| Error::invalid("phase", format!("no phase {key:?} in the {practice_area} catalogue")))
}

/// A new matter.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewMatter {
    /// Short description, e.g. "Rear-end collision on Route 9".
    pub title: String,
    /// The clients (at least one), ids of clients of the firm.
    pub client_ids: Vec<String>,
    /// Starting phase key; the catalogue's first phase when absent.
    #[serde(default)]
    pub phase: Option<String>,
    /// The case manager's user id.
    #[serde(default)]
    pub case_manager_id: Option<String>,
    /// Id in the firm's case-management system (unique per firm).
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Opens a matter; the first phase change is recorded on its timeline.
pub fn create(conn: &mut DbConnection, staff: &Staff, input: &NewMatter, now: NaiveDateTime) -> Result<MatterRow> {
    let title = required("title", &input.title)?;
    let external_id = optional_line("external_id", input.external_id.as_deref())?;
    if input.client_ids.is_empty() {
        return Err(Error::invalid("client_ids", "name at least one client"));
    }
    let id = write_transaction(conn, |conn| {
        for client in &input.client_ids {
            firm_user(conn, staff, client, &[Role::Client])
                .map_err(|_| Error::invalid("client_ids", format!("{client} is not a client of this firm")))?;
        }
        if let Some(manager) = &input.case_manager_id {
            firm_user(conn, staff, manager, &[Role::Admin, Role::CaseManager])
                .map_err(|_| Error::invalid("case_manager_id", "is not a staff member of this firm"))?;
        }
        let phase = match input.phase.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(key) => phase_by_key(conn, staff, PERSONAL_INJURY, key)?,
            None => first_phase(conn, staff)?,
        };
        let matter = Matter {
            id: new_id(),
            firm_id: staff.firm_id.clone(),
            practice_area: PERSONAL_INJURY.to_owned(),
            phase_id: phase.id.clone(),
            title: title.clone(),
            case_manager_id: input.case_manager_id.clone(),
            external_id: external_id.clone(),
            opened_at: now,
            closed_at: None,
            updated_at: now,
        };
        diesel::insert_into(matters::table)
            .values(&matter)
            .execute(conn)
            .map_err(|e| unique_or(e, "external_id: another matter of this firm has it"))?;
        let unique: std::collections::BTreeSet<&String> = input.client_ids.iter().collect();
        let links: Vec<MatterClient> =
            unique.into_iter().map(|c| MatterClient { matter_id: matter.id.clone(), client_id: c.clone() }).collect();
        crate::insert_many!(conn, matter_clients::table, &links)?;
        let opened = Milestone {
            id: new_id(),
            matter_id: matter.id.clone(),
            kind: MilestoneKind::PhaseChange,
            client_visible: true,
            phase_id: Some(phase.id),
            body: None,
            occurs_at: None,
            created_by: Some(staff.id.clone()),
            created_at: now,
        };
        diesel::insert_into(milestones::table).values(&opened).execute(conn)?;
        staff.audit(conn, "matter.create", "matter", &matter.id, None, now)?;
        Ok(matter.id)
    })?;
    Ok(get(conn, staff, &id, Language::EN)?.summary)
}

fn first_phase(conn: &mut DbConnection, staff: &Staff) -> Result<Phase> {
    catalogue::first_phase(conn, &staff.firm_id, PERSONAL_INJURY)?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("firm {} has no phase catalogue", staff.firm_id)))
}

/// Changes to a matter; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MatterPatch {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// Assign a case manager (a user id), or `""` to unassign.
    #[serde(default)]
    pub case_manager_id: Option<String>,
    /// Id in the firm's case-management system; `""` removes it.
    #[serde(default)]
    pub external_id: Option<String>,
    /// `true` closes the matter, `false` reopens it.
    #[serde(default)]
    pub closed: Option<bool>,
}

/// Updates a matter: title, case manager, external id, closed or open.
pub fn update(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    patch: &MatterPatch,
    now: NaiveDateTime,
) -> Result<MatterRow> {
    let title = patch.title.as_deref().map(|t| required("title", t)).transpose()?;
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let target = matters::table.find(&matter.id);
        let mut changed = Vec::new();
        if let Some(title) = &title {
            diesel::update(target).set(matters::title.eq(title)).execute(conn)?;
            changed.push("title");
        }
        if let Some(manager) = &patch.case_manager_id {
            let manager = manager.trim();
            let value = if manager.is_empty() {
                None
            } else {
                firm_user(conn, staff, manager, &[Role::Admin, Role::CaseManager])
                    .map_err(|_| Error::invalid("case_manager_id", "is not a staff member of this firm"))?;
                Some(manager.to_owned())
            };
            diesel::update(target).set(matters::case_manager_id.eq(value)).execute(conn)?;
            changed.push("case_manager_id");
        }
        if let Some(external) = &patch.external_id {
            let value = optional_line("external_id", Some(external))?;
            diesel::update(target)
                .set(matters::external_id.eq(value))
                .execute(conn)
                .map_err(|e| unique_or(e, "external_id: another matter of this firm has it"))?;
            changed.push("external_id");
        }
        if let Some(closed) = patch.closed {
            diesel::update(target).set(matters::closed_at.eq(closed.then_some(now))).execute(conn)?;
            changed.push(if closed { "closed" } else { "reopened" });
        }
        if !changed.is_empty() {
            diesel::update(target).set(matters::updated_at.eq(now)).execute(conn)?;
            staff.audit(conn, "matter.update", "matter", &matter.id, Some(changed.join(",")), now)?;
        }
        Ok(())
    })?;
    Ok(get(conn, staff, matter_id, Language::EN)?.summary)
}

/// A column the staff matters table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortColumn {
    /// The first client's name.
    Client,
    /// The matter's title.
    Matter,
    /// The phase's position in the catalogue.
    Phase,
    /// Days since the last weekly update sent to a client (never sent counts as the most days).
    LastUpdate,
    /// Open document requests.
    Requests,
    /// Client uploads not yet reviewed.
    Review,
    /// The case manager's name (unassigned last).
    Manager,
    /// The last change (the default, newest first).
    #[default]
    Changed,
}

impl SortColumn {
    /// Every column, in the table's order.
    pub const ALL: [SortColumn; 8] = [
        Self::Client,
        Self::Matter,
        Self::Phase,
        Self::LastUpdate,
        Self::Requests,
        Self::Review,
        Self::Manager,
        Self::Changed,
    ];

    /// The column named `key` in a URL (`?sort=phase`); `None` for anything else.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == key)
    }

    /// Its name in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Matter => "matter",
            Self::Phase => "phase",
            Self::LastUpdate => "days",
            Self::Requests => "requests",
            Self::Review => "review",
            Self::Manager => "manager",
            Self::Changed => "changed",
        }
    }

    /// The direction a first click sorts in: counts and days with the most first, names A to Z.
    pub fn first_descending(self) -> bool {
        matches!(self, Self::LastUpdate | Self::Requests | Self::Review | Self::Changed)
    }
}

/// A row of the staff matters table, read with every count in one query.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TableRow {
    /// Matter id.
    pub id: String,
    /// Short description.
    pub title: String,
    /// Id in the firm's case-management system.
    pub external_id: Option<String>,
    /// Current phase key.
    pub phase_key: String,
    /// Current phase title (in the staff member's language).
    pub phase_title: String,
    /// The first client by name.
    pub client: Option<String>,
    /// How many clients the matter has.
    pub clients: i64,
    /// The case manager's name.
    pub manager: Option<String>,
    /// When a client of the matter last got a weekly update (UTC).
    pub last_client_update: Option<NaiveDateTime>,
    /// Document requests still open.
    pub open_requests: i64,
    /// Open document requests past their due date (firm-local).
    pub overdue_requests: i64,
    /// Client uploads not yet reviewed.
    pub to_review: i64,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
    /// When the matter was closed, if it is.
    pub closed_at: Option<NaiveDateTime>,
    /// Days without a logged visit in a treatment phase, when the matter is flagged.
    pub treatment_gap_days: Option<i64>,
}

/// The subqueries of the table, each correlated with the outer `matters` row.
macro_rules! first_client {
    () => {
        matter_clients::table
            .inner_join(users::table.on(users::id.eq(matter_clients::client_id)))
            .filter(matter_clients::matter_id.eq(matters::id))
            .select(diesel::dsl::min(users::full_name))
            .single_value()
    };
}
macro_rules! client_count {
    () => {
        matter_clients::table.filter(matter_clients::matter_id.eq(matters::id)).count().single_value()
    };
}
macro_rules! manager_name {
    () => {
        users::table.filter(users::id.nullable().eq(matters::case_manager_id)).select(users::full_name).single_value()
    };
}
macro_rules! last_update {
    () => {
        matter_clients::table
            .inner_join(notifications::table.on(notifications::recipient_id.eq(matter_clients::client_id)))
            .filter(matter_clients::matter_id.eq(matters::id))
            .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
            .filter(notifications::status.eq(NotificationStatus::Sent))
            .select(diesel::dsl::max(notifications::sent_at))
            .single_value()
    };
}
macro_rules! open_count {
    () => {
        document_requests::table
            .filter(document_requests::matter_id.eq(matters::id))
            .filter(document_requests::status.eq(RequestStatus::Open))
            .count()
            .single_value()
    };
}
macro_rules! overdue_count {
    ($today:expr) => {
        document_requests::table
            .filter(document_requests::matter_id.eq(matters::id))
            .filter(document_requests::status.eq(RequestStatus::Open))
            .filter(document_requests::due_date.lt($today))
            .count()
            .single_value()
    };
}
macro_rules! review_count {
    () => {
        documents::table
            .filter(documents::matter_id.eq(matters::id))
            .filter(documents::reviewed_at.is_null())
            .filter(documents::source.eq("client"))
            .count()
            .single_value()
    };
}
macro_rules! phase_position {
    () => {
        phases::table.filter(phases::id.eq(matters::phase_id)).select(phases::position).single_value()
    };
}

/// The staff matters table: the firm's matters matching `filter` (its
/// `case_manager` may be `mine`), sorted by `sort` (then by id, so equal
/// values keep one order), each row with its counts — one query for the
/// rows, one for the phase titles.
pub fn table(
    conn: &mut DbConnection,
    staff: &Staff,
    filter: &MatterFilter,
    sort: SortColumn,
    descending: bool,
    language: Language,
    now: NaiveDateTime,
) -> Result<Vec<TableRow>> {
    let today = crate::requests::firm_today(conn, &staff.firm_id, now)?;
    let mut query = matters::table
        .filter(matters::firm_id.eq(&staff.firm_id))
        .select((
            (matters::id, matters::title, matters::external_id, matters::phase_id),
            (matters::updated_at, matters::closed_at),
            first_client!(),
            client_count!(),
            manager_name!(),
            last_update!(),
            open_count!(),
            review_count!(),
            overdue_count!(today),
        ))
        .into_boxed();
    if !filter.include_closed.unwrap_or(false) {
        query = query.filter(matters::closed_at.is_null());
    }
    if let Some(key) = filter.phase.as_deref().filter(|k| !k.is_empty()) {
        let phase = phase_by_key(conn, staff, PERSONAL_INJURY, key)?;
        query = query.filter(matters::phase_id.eq(phase.id));
    }
    match filter.case_manager.as_deref().filter(|k| !k.is_empty()) {
        Some("none") => query = query.filter(matters::case_manager_id.is_null()),
        Some("mine") => query = query.filter(matters::case_manager_id.eq(staff.id.clone())),
        Some(id) => query = query.filter(matters::case_manager_id.eq(id.to_owned())),
        None => {}
    }
    if filter.stale.unwrap_or(false) {
        let cutoff = now - Duration::days(STALE_DAYS);
        query = query.filter(not(exists(
            matter_clients::table
                .inner_join(notifications::table.on(notifications::recipient_id.eq(matter_clients::client_id)))
                .filter(matter_clients::matter_id.eq(matters::id))
                .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
                .filter(notifications::status.eq(NotificationStatus::Sent))
                .filter(notifications::sent_at.gt(cutoff)),
        )));
    }
    if filter.unreviewed.unwrap_or(false) {
        query = query.filter(exists(
            documents::table
                .filter(documents::matter_id.eq(matters::id))
                .filter(documents::reviewed_at.is_null())
                .filter(documents::source.eq("client")),
        ));
    }
    if filter.overdue.unwrap_or(false) {
        query = query.filter(exists(
            document_requests::table
                .filter(document_requests::matter_id.eq(matters::id))
                .filter(document_requests::status.eq(RequestStatus::Open))
                .filter(document_requests::due_date.lt(today)),
        ));
    }
    // Flagged for a gap in treatment: a few matters per firm, read once for the filter and the badges.
    let gaps = crate::treatment::gaps(conn, &staff.firm_id, None, now)?;
    if filter.treatment_gap.unwrap_or(false) {
        query = query.filter(matters::id.eq_any(gaps.keys().cloned().collect::<Vec<String>>()));
    }
    if let Some(term) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", term.replace(['%', '_'], ""));
        let client_named = exists(
            matter_clients::table
                .inner_join(users::table.on(users::id.eq(matter_clients::client_id)))
                .filter(matter_clients::matter_id.eq(matters::id))
                .filter(users::full_name.like(pattern.clone())),
        );
        query =
            query.filter(matters::title.like(pattern.clone()).or(matters::external_id.like(pattern)).or(client_named));
    }
    query = match (sort, descending) {
        (SortColumn::Client, false) => query.order_by((first_client!().is_null(), first_client!().asc())),
        (SortColumn::Client, true) => query.order_by((first_client!().is_null(), first_client!().desc())),
        (SortColumn::Matter, false) => query.order_by(matters::title.asc()),
        (SortColumn::Matter, true) => query.order_by(matters::title.desc()),
        (SortColumn::Phase, false) => query.order_by(phase_position!().asc()),
        (SortColumn::Phase, true) => query.order_by(phase_position!().desc()),
        // Fewest days first is the latest update first; never sent is the most days of all.
        (SortColumn::LastUpdate, false) => query.order_by((last_update!().is_null(), last_update!().desc())),
        (SortColumn::LastUpdate, true) => query.order_by((last_update!().is_not_null(), last_update!().asc())),
        (SortColumn::Requests, false) => query.order_by(open_count!().asc()),
        (SortColumn::Requests, true) => query.order_by(open_count!().desc()),
        (SortColumn::Review, false) => query.order_by(review_count!().asc()),
        (SortColumn::Review, true) => query.order_by(review_count!().desc()),
        (SortColumn::Manager, false) => query.order_by((manager_name!().is_null(), manager_name!().asc())),
        (SortColumn::Manager, true) => query.order_by((manager_name!().is_null(), manager_name!().desc())),
        (SortColumn::Changed, false) => query.order_by(matters::updated_at.asc()),
        (SortColumn::Changed, true) => query.order_by(matters::updated_at.desc()),
    };
    type Found = (
        (String, String, Option<String>, String),
        (NaiveDateTime, Option<NaiveDateTime>),
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<NaiveDateTime>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let found: Vec<Found> = query
        .then_order_by(matters::id.asc())
        .limit(filter.limit.unwrap_or(200).clamp(1, MAX_PAGE))
        .offset(filter.offset.unwrap_or(0).max(0))
        .load(conn)?;
    let catalogue = catalogue::phases_in(conn, &staff.firm_id, &[PERSONAL_INJURY], language)?;
    let phases: HashMap<&str, (&str, &str)> =
        catalogue.iter().map(|(p, t)| (p.id.as_str(), (p.key.as_str(), t.title.as_str()))).collect();
    Ok(found
        .into_iter()
        .map(
            |(
                (id, title, external_id, phase_id),
                (updated_at, closed_at),
                client,
                clients,
                manager,
                last,
                open,
                review,
                overdue,
            )| {
                let (phase_key, phase_title) = phases.get(phase_id.as_str()).copied().unwrap_or(("", ""));
                TableRow {
                    treatment_gap_days: gaps.get(&id).copied(),
                    id,
                    title,
                    external_id,
                    phase_key: phase_key.to_owned(),
                    phase_title: phase_title.to_owned(),
                    client,
                    clients: clients.unwrap_or(0),
                    manager,
                    last_client_update: last,
                    open_requests: open.unwrap_or(0),
                    to_review: review.unwrap_or(0),
                    overdue_requests: overdue.unwrap_or(0),
                    updated_at,
                    closed_at,
                }
            },
        )
        .collect())
}

/// A staff member's saved view of the matters table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedView {
    /// Saved filter id.
    pub id: String,
    /// The name the staff member gave it.
    pub name: String,
    /// The table's filter and sort as a query string, e.g. `phase=negotiation&sort=days&dir=desc`.
    pub query: String,
}

/// The longest saved query string accepted.
pub const MAX_SAVED_QUERY: usize = 2000;
/// The most saved filters a staff member keeps.
pub const MAX_SAVED_FILTERS: i64 = 50;

/// The staff member's own saved filters, by name.
pub fn saved_filters(conn: &mut DbConnection, staff: &Staff) -> Result<Vec<SavedView>> {
    Ok(saved_filters::table
        .filter(saved_filters::user_id.eq(&staff.id))
        .filter(saved_filters::firm_id.eq(&staff.firm_id))
        .order((saved_filters::name.asc(), saved_filters::id.asc()))
        .select((saved_filters::id, saved_filters::name, saved_filters::query))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, query)| SavedView { id, name, query })
        .collect())
}

/// Saves `query` (built by the caller from whitelisted parameters) under
/// `name` for the staff member; a filter of the same name is replaced.
pub fn save_filter(
    conn: &mut DbConnection,
    staff: &Staff,
    name: &str,
    query: &str,
    now: NaiveDateTime,
) -> Result<SavedView> {
    let name = required("name", name)?;
    if query.len() > MAX_SAVED_QUERY {
        return Err(Error::invalid("query", format!("must be at most {MAX_SAVED_QUERY} characters")));
    }
    write_transaction(conn, |conn| {
        diesel::delete(
            saved_filters::table.filter(saved_filters::user_id.eq(&staff.id)).filter(saved_filters::name.eq(&name)),
        )
        .execute(conn)?;
        let kept: i64 = saved_filters::table.filter(saved_filters::user_id.eq(&staff.id)).count().get_result(conn)?;
        if kept >= MAX_SAVED_FILTERS {
            return Err(Error::Conflict(format!("you have {MAX_SAVED_FILTERS} saved filters; delete one first")));
        }
        let saved = SavedFilter {
            id: new_id(),
            firm_id: staff.firm_id.clone(),
            user_id: staff.id.clone(),
            name: name.clone(),
            query: query.to_owned(),
            created_at: now,
        };
        diesel::insert_into(saved_filters::table).values(&saved).execute(conn)?;
        Ok(SavedView { id: saved.id, name: saved.name, query: saved.query })
    })
}

/// Deletes one of the staff member's saved filters; another's (or none) is [`Error::NotFound`].
pub fn delete_filter(conn: &mut DbConnection, staff: &Staff, filter_id: &str) -> Result<()> {
    let deleted = diesel::delete(
        saved_filters::table
            .filter(saved_filters::id.eq(filter_id))
            .filter(saved_filters::user_id.eq(&staff.id))
            .filter(saved_filters::firm_id.eq(&staff.firm_id)),
    )
    .execute(conn)?;
    if deleted == 0 { Err(Error::NotFound) } else { Ok(()) }
}
