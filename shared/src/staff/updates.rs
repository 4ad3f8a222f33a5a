//! What staff post on a matter: milestones (phase change, appointment, note to
//! the client, internal note) and document requests (open, cancel). The
//! client's page and the next weekly update are derived from these.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::matters::{StaffMilestone, StaffRequest, phase_by_key};
use super::{Staff, firm_matter, optional_text, required};
use crate::db::models::{DocumentRequest, Milestone};
use crate::db::schema::{document_requests, matters, milestones};
use crate::db::{DbConnection, write_transaction};
use crate::domain::{DocumentCategory, MilestoneKind, RequestStatus, new_id};
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
    /// When the appointment takes place (UTC, ISO 8601; appointment only).
    #[serde(default)]
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
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewRequest {
    /// What is needed, e.g. "Bills from the emergency room visit".
    pub title: String,
    /// More detail for the client.
    #[serde(default)]
    pub details: Option<String>,
    /// Category key (`medical_bill`, `medical_record`, `photo`, `police_report`,
    /// `insurance_letter`, `wage_proof`, `other`); `other` when absent.
    #[serde(default)]
    pub category: Option<String>,
}

/// Asks the client for a document: the request shows under "what we need from you".
pub fn open_request(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    input: &NewRequest,
    now: NaiveDateTime,
) -> Result<StaffRequest> {
    let title = required("title", &input.title)?;
    let details = optional_text("details", input.details.as_deref())?;
    let category = match input.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            DocumentCategory::parse(c).ok_or_else(|| Error::invalid("category", "is not a document category"))?
        }
        None => DocumentCategory::Other,
    };
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
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
        Ok(StaffRequest {
            id: request.id,
            title: request.title,
            details: request.details,
            category: request.category,
            status: request.status,
            created_at: now,
            closed_at: None,
        })
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
