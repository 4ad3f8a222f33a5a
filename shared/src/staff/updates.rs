//! What staff post on a matter: milestones (phase change, appointment, note to
//! the client, internal note) and document requests (open, change the due
//! date, mark complete, cancel). The client's page and the next weekly update
//! are derived from these.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::matters::{StaffMilestone, StaffRequest, phase_by_key};
use super::{Staff, firm_matter, optional_text, required};
use crate::db::models::{DocumentRequest, Milestone};
use crate::db::schema::{document_requests, matters, milestones};
use crate::db::{DbConnection, write_transaction};
use crate::domain::{DocumentCategory, FulfilOn, Language, MilestoneKind, RequestStatus, new_id};
use crate::error::{Error, Result};
use crate::notifications::kinds::document_request::{self, Requested};
use crate::notifications::kinds::phase_change::{self, PhaseChange};

/// A milestone to post.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewMilestone {
    /// `phase_change`, `appointment`, `client_note` or `internal_note`.
    pub kind: String,
    /// The new phase's key (phase change only).
    #[serde(default)]
    pub phase: Option<String>,
    /// Text: required for notes, optional otherwise. Never medical details in a client note.
    #[serde(default)]
    pub body: Option<String>,
    /// When the appointment takes place (appointment only): RFC 3339 with `Z` or an offset; without one, UTC.
    #[serde(default, deserialize_with = "crate::timestamps::optional")]
    pub occurs_at: Option<NaiveDateTime>,
}

/// Posts a milestone on a matter; a phase change also moves the matter.
pub fn post_milestone(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    input: &NewMilestone,
    now: NaiveDateTime,
) -> Result<StaffMilestone> {
    let kind = match MilestoneKind::parse(input.kind.trim()) {
        Some(
            k @ (MilestoneKind::PhaseChange
            | MilestoneKind::Appointment
            | MilestoneKind::ClientNote
            | MilestoneKind::InternalNote),
        ) => k,
        _ => return Err(Error::invalid("kind", "must be phase_change, appointment, client_note or internal_note")),
    };
    let body = optional_text("body", input.body.as_deref())?;
    if matches!(kind, MilestoneKind::ClientNote | MilestoneKind::InternalNote) && body.is_none() {
        return Err(Error::invalid("body", "is required for a note"));
    }
    if kind == MilestoneKind::Appointment && input.occurs_at.is_none() {
        return Err(Error::invalid("occurs_at", "is required for an appointment"));
    }
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let phase = match kind {
            MilestoneKind::PhaseChange => {
                let key = input.phase.as_deref().ok_or_else(|| Error::invalid("phase", "is required"))?;
                let phase = phase_by_key(conn, staff, &matter.practice_area, key)?;
                // The update re-checks the phase, so a form sent twice at once moves the
                // matter (and tells its clients) once; the second gets the same answer as a resend.
                let moved = diesel::update(matters::table.find(&matter.id).filter(matters::phase_id.ne(&phase.id)))
                    .set(matters::phase_id.eq(&phase.id))
                    .execute(conn)?;
                if moved == 0 {
                    return Err(Error::invalid("phase", "the matter is already in this phase"));
                }
                // Every client of the matter hears of it; queued with the change, sent by the notifier.
                let change = PhaseChange { matter_id: matter.id.clone(), phase_key: phase.key.clone() };
                phase_change::enqueue_for_matter(conn, &matter.firm_id, &change, now)?;
                Some(phase)
            }
            _ => None,
        };
        let milestone = Milestone {
            id: new_id(),
            matter_id: matter.id.clone(),
            kind,
            client_visible: kind != MilestoneKind::InternalNote,
            phase_id: phase.as_ref().map(|p| p.id.clone()),
            body: body.clone(),
            occurs_at: if kind == MilestoneKind::Appointment { input.occurs_at } else { None },
            created_by: Some(staff.id.clone()),
            created_at: now,
        };
        diesel::insert_into(milestones::table).values(&milestone).execute(conn)?;
        diesel::update(matters::table.find(&matter.id)).set(matters::updated_at.eq(now)).execute(conn)?;
        staff.audit(conn, &format!("milestone.{}", kind.as_str()), "matter", &matter.id, None, now)?;
        Ok(StaffMilestone {
            id: milestone.id,
            kind: milestone.kind,
            client_visible: milestone.client_visible,
            phase_key: phase.as_ref().map(|p| p.key.clone()),
            phase_title: None,
            body: milestone.body,
            occurs_at: milestone.occurs_at,
            created_by: None,
            created_at: now,
        })
    })
}

/// A document request to open.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewRequest {
    /// What is needed, e.g. "Bills from the emergency room visit". May be left
    /// out with a `template`: the template's title in the client's language is used.
    #[serde(default)]
    pub title: String,
    /// More detail for the client (with a `template` and none given, the template's).
    #[serde(default)]
    pub details: Option<String>,
    /// Category key (`medical_bill`, `medical_record`, `photo`, `police_report`,
    /// `insurance_letter`, `wage_proof`, `other`); the template's, else `other`, when absent.
    #[serde(default)]
    pub category: Option<String>,
    /// The key of one of the firm's ready-made requests (`GET /api/v1/staff/request-templates`).
    #[serde(default)]
    pub template: Option<String>,
    /// The day it is due, in the firm's time zone (`2027-01-08`); reminders follow it.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// `first_upload` (default: the client's first upload fulfils it) or `staff`
    /// (it stays open for more files until staff mark it complete).
    #[serde(default)]
    pub fulfil_on: Option<String>,
}

/// The language the matter's clients read: the first client's (by name), else English.
fn clients_language(conn: &mut DbConnection, matter_id: &str) -> Result<Language> {
    use crate::db::schema::{matter_clients, users};
    let found: Option<Language> = matter_clients::table
        .inner_join(users::table.on(users::id.eq(matter_clients::client_id)))
        .filter(matter_clients::matter_id.eq(matter_id))
        .order(users::full_name)
        .select(users::language)
        .first(conn)
        .optional()?;
    Ok(found.unwrap_or(Language::EN))
}

/// Asks the client for a document: the request shows under "what we need from you".
pub fn open_request(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    input: &NewRequest,
    now: NaiveDateTime,
) -> Result<StaffRequest> {
    let fulfil_on = match input.fulfil_on.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => FulfilOn::parse(f).ok_or_else(|| Error::invalid("fulfil_on", "must be first_upload or staff"))?,
        None => FulfilOn::FirstUpload,
    };
    let mut category = match input.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            Some(DocumentCategory::parse(c).ok_or_else(|| Error::invalid("category", "is not a document category"))?)
        }
        None => None,
    };
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let mut title = input.title.clone();
        let mut details = input.details.clone();
        if let Some(key) = input.template.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            let language = clients_language(conn, &matter.id)?;
            let template = crate::requests::template(conn, &staff.firm_id, key, language)?
                .ok_or_else(|| Error::invalid("template", "is not one of the firm's ready-made requests"))?;
            if title.trim().is_empty() {
                title = template.title;
            }
            if details.as_deref().is_none_or(|d| d.trim().is_empty()) {
                details = template.details;
            }
            category = category.or(Some(template.category));
        }
        let title = required("title", &title)?;
        let details = optional_text("details", details.as_deref())?;
        let category = category.unwrap_or(DocumentCategory::Other);
        let request = DocumentRequest {
            id: new_id(),
            matter_id: matter.id.clone(),
            title: title.clone(),
            details: details.clone(),
            category,
            status: RequestStatus::Open,
            requested_by: Some(staff.id.clone()),
            created_at: now,
            closed_at: None,
            due_date: input.due_date,
            fulfil_on,
        };
        diesel::insert_into(document_requests::table).values(&request).execute(conn)?;
        let milestone = Milestone {
            id: new_id(),
            matter_id: matter.id.clone(),
            kind: MilestoneKind::RequestOpened,
            client_visible: true,
            phase_id: None,
            body: Some(title.clone()),
            occurs_at: None,
            created_by: Some(staff.id.clone()),
            created_at: now,
        };
        diesel::insert_into(milestones::table).values(&milestone).execute(conn)?;
        diesel::update(matters::table.find(&matter.id)).set(matters::updated_at.eq(now)).execute(conn)?;
        // A push to each client with a browser subscribed; queued with the request, sent by the notifier.
        let requested = Requested { matter_id: matter.id.clone(), request_id: request.id.clone() };
        document_request::enqueue_for_matter(conn, &matter.firm_id, &requested, now)?;
        staff.audit(conn, "request.open", "document_request", &request.id, None, now)?;
        let today = crate::requests::firm_today(conn, &staff.firm_id, now)?;
        Ok(StaffRequest::from_row(request, today))
    })
}

/// A change to a document request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RequestPatch {
    /// The new due date (firm-local, `2027-01-08`), or `null` for none.
    pub due_date: Option<NaiveDate>,
}

/// The request `request_id` of a matter of the staff member's firm, or [`Error::NotFound`].
fn firm_request(conn: &mut DbConnection, staff: &Staff, matter_id: &str, request_id: &str) -> Result<DocumentRequest> {
    let matter = firm_matter(conn, staff, matter_id)?;
    document_requests::table
        .filter(document_requests::id.eq(request_id))
        .filter(document_requests::matter_id.eq(&matter.id))
        .select(DocumentRequest::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// Sets or clears an open request's due date (audited `request.due_date`); 409 once it is closed.
pub fn set_due_date(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    request_id: &str,
    patch: &RequestPatch,
    now: NaiveDateTime,
) -> Result<StaffRequest> {
    write_transaction(conn, |conn| {
        let found = firm_request(conn, staff, matter_id, request_id)?;
        let changed = diesel::update(
            document_requests::table.find(&found.id).filter(document_requests::status.eq(RequestStatus::Open)),
        )
        .set(document_requests::due_date.eq(patch.due_date))
        .execute(conn)?;
        if changed == 0 {
            return Err(Error::Conflict(format!("the request is already {}", found.status)));
        }
        let detail = patch.due_date.map_or_else(|| "none".to_owned(), |d| d.to_string());
        staff.audit(conn, "request.due_date", "document_request", &found.id, Some(detail), now)?;
        let today = crate::requests::firm_today(conn, &staff.firm_id, now)?;
        Ok(StaffRequest::from_row(DocumentRequest { due_date: patch.due_date, ..found }, today))
    })
}

/// Marks an open request complete (fulfilled, with the client's "request
/// fulfilled" milestone; audited `request.complete`): how staff close a
/// request for several files. 409 once it is closed.
pub fn complete_request(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    request_id: &str,
    now: NaiveDateTime,
) -> Result<StaffRequest> {
    write_transaction(conn, |conn| {
        let found = firm_request(conn, staff, matter_id, request_id)?;
        // The update re-checks, so a request cancelled or fulfilled at the same moment stays as it is.
        let completed = diesel::update(
            document_requests::table.find(&found.id).filter(document_requests::status.eq(RequestStatus::Open)),
        )
        .set((document_requests::status.eq(RequestStatus::Fulfilled), document_requests::closed_at.eq(now)))
        .execute(conn)?;
        if completed == 0 {
            return Err(Error::Conflict(format!("the request is already {}", found.status)));
        }
        let milestone = Milestone {
            id: new_id(),
            matter_id: found.matter_id.clone(),
            kind: MilestoneKind::RequestFulfilled,
            client_visible: true,
            phase_id: None,
            body: Some(found.title.clone()),
            occurs_at: None,
            created_by: Some(staff.id.clone()),
            created_at: now,
        };
        diesel::insert_into(milestones::table).values(&milestone).execute(conn)?;
        diesel::update(matters::table.find(&found.matter_id)).set(matters::updated_at.eq(now)).execute(conn)?;
        staff.audit(conn, "request.complete", "document_request", &found.id, None, now)?;
        let today = crate::requests::firm_today(conn, &staff.firm_id, now)?;
        let row = DocumentRequest { status: RequestStatus::Fulfilled, closed_at: Some(now), ..found };
        Ok(StaffRequest::from_row(row, today))
    })
}

/// Cancels an open document request (the client no longer sees it).
pub fn cancel_request(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    request_id: &str,
    now: NaiveDateTime,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        document_requests::table
            .filter(document_requests::id.eq(request_id))
            .filter(document_requests::matter_id.eq(&matter.id))
            .select(document_requests::id)
            .first::<String>(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        // Only an open request is cancelled; the update re-checks, so an upload that
        // fulfils it at the same moment is never overwritten.
        let cancelled = diesel::update(
            document_requests::table.find(request_id).filter(document_requests::status.eq(RequestStatus::Open)),
        )
        .set((document_requests::status.eq(RequestStatus::Cancelled), document_requests::closed_at.eq(now)))
        .execute(conn)?;
        if cancelled == 0 {
            let status: String =
                document_requests::table.find(request_id).select(document_requests::status).first(conn)?;
            return Err(Error::Conflict(format!("the request is already {status}")));
        }
        diesel::update(matters::table.find(&matter.id)).set(matters::updated_at.eq(now)).execute(conn)?;
        staff.audit(conn, "request.cancel", "document_request", request_id, None, now)
    })
}
