//! What happened, for staff: documents to review and download, what was sent
//! to whom (the notification log), ratings, and the audit log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Staff, firm_matter, firm_user};
use crate::db::models::{AuditEvent, Document, Notification};
use crate::db::schema::{audit_events, documents, matters, notifications, ratings, users};
use crate::db::{DbConnection, write_transaction};
use crate::domain::Role;
use crate::error::{Error, Result};

/// The document `document_id` of a matter of the staff member's firm.
pub fn document(conn: &mut DbConnection, staff: &Staff, matter_id: &str, document_id: &str) -> Result<Document> {
    let matter = firm_matter(conn, staff, matter_id)?;
    documents::table
        .filter(documents::id.eq(document_id))
        .filter(documents::matter_id.eq(&matter.id))
        .select(Document::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// Marks a document reviewed (idempotent: a second call keeps the first reviewer).
pub fn mark_reviewed(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    document_id: &str,
    now: NaiveDateTime,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let found = document(conn, staff, matter_id, document_id)?;
        // The update re-checks, so of two reviews at once the first is kept and audited.
        let reviewed = diesel::update(documents::table.find(&found.id).filter(documents::reviewed_at.is_null()))
            .set((documents::reviewed_at.eq(now), documents::reviewed_by.eq(&staff.id)))
            .execute(conn)?;
        if reviewed == 0 {
            return Ok(());
        }
        staff.audit(conn, "document.review", "document", &found.id, None, now)
    })
}

/// One email of the notification log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogEntry {
    /// Notification id.
    pub id: String,
    /// `weekly_update`, `sign_in` or `upload_receipt`.
    pub kind: crate::domain::NotificationKind,
    /// The week (`2026-W48`) or other period it belongs to.
    pub period: String,
    /// `pending`, `sending`, `sent`, `failed` or `skipped`.
    pub status: crate::domain::NotificationStatus,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// Why the last attempt failed, or why it was skipped.
    pub error: Option<String>,
    /// When it was sent (UTC).
    pub sent_at: Option<NaiveDateTime>,
    /// When it was queued (UTC).
    pub created_at: NaiveDateTime,
    /// `email`, `push` or `sms`.
    pub channel: crate::domain::Channel,
    /// For a text: what the provider's status callbacks last said (`queued`, `delivered`, `undelivered`, `failed`).
    pub delivery: Option<String>,
}

/// What was sent to a client of the firm, newest first (at most 200).
pub fn notification_log(conn: &mut DbConnection, staff: &Staff, client_id: &str) -> Result<Vec<LogEntry>> {
    let client = firm_user(conn, staff, client_id, &[Role::Client])?;
    let rows: Vec<Notification> = notifications::table
        .filter(notifications::recipient_id.eq(&client.id))
        .filter(notifications::firm_id.eq(&staff.firm_id))
        .order(notifications::created_at.desc())
        .limit(200)
        .select(Notification::as_select())
        .load(conn)?;
    let texts: Vec<String> =
        rows.iter().filter(|n| n.channel == crate::domain::Channel::Sms).map(|n| n.id.clone()).collect();
    let delivery: std::collections::HashMap<String, String> =
        crate::notifications::sms::statuses(conn, &texts)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|n| LogEntry {
            delivery: delivery.get(&n.id).cloned(),
            channel: n.channel,
            id: n.id,
            kind: n.kind,
            period: n.period_key,
            status: n.status,
            attempts: n.attempts,
            error: n.last_error,
            sent_at: n.sent_at,
            created_at: n.created_at,
        })
        .collect())
}

/// A client's rating of an update.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingView {
    /// The client.
    pub client_id: String,
    /// The client's name.
    pub client_name: String,
    /// 1 (poor) to 5 (excellent).
    pub score: i32,
    /// The weekly update rated, if any.
    pub notification_id: Option<String>,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

/// Ratings of the firm's updates, newest first, with the average.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ratings {
    /// Number of ratings.
    pub count: i64,
    /// Average score, when there is any rating.
    pub average: Option<f64>,
    /// The latest ratings (at most 200).
    pub latest: Vec<RatingView>,
}

/// The firm's ratings.
pub fn ratings(conn: &mut DbConnection, staff: &Staff) -> Result<Ratings> {
    let scores: Vec<i32> =
        ratings::table.filter(ratings::firm_id.eq(&staff.firm_id)).select(ratings::score).load(conn)?;
    let count = i64::try_from(scores.len()).unwrap_or(i64::MAX);
    let average = (!scores.is_empty()).then(|| scores.iter().map(|s| f64::from(*s)).sum::<f64>() / scores.len() as f64);
    let latest = ratings::table
        .inner_join(users::table.on(users::id.eq(ratings::client_id)))
        .filter(ratings::firm_id.eq(&staff.firm_id))
        .order(ratings::created_at.desc())
        .limit(200)
        .select((ratings::client_id, users::full_name, ratings::score, ratings::notification_id, ratings::created_at))
        .load::<(String, String, i32, Option<String>, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(client_id, client_name, score, notification_id, created_at)| RatingView {
            client_id,
            client_name,
            score,
            notification_id,
            created_at,
        })
        .collect();
    Ok(Ratings { count, average, latest })
}

/// Filters of the audit-log query.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Who acted (user id).
    #[serde(default)]
    pub actor_id: Option<String>,
    /// What was done, e.g. `document.download`; a trailing `.` matches a prefix (`matter.`).
    #[serde(default)]
    pub action: Option<String>,
    /// Kind of record, e.g. `document`, `matter`, `user`.
    #[serde(default)]
    pub target_type: Option<String>,
    /// The record's id.
    #[serde(default)]
    pub target_id: Option<String>,
    /// Events at or after this time (RFC 3339 with `Z` or an offset; without one, UTC).
    #[serde(default, deserialize_with = "crate::timestamps::optional")]
    pub since: Option<NaiveDateTime>,
    /// Only events before this event id (for paging backwards).
    #[serde(default)]
    pub before_id: Option<i64>,
    /// Page size (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// One audit event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Event id (ascending with time).
    pub id: i64,
    /// `client`, `staff`, `anonymous` or `system`.
    pub actor_kind: crate::domain::ActorKind,
    /// Who acted.
    pub actor_id: Option<String>,
    /// What was done.
    pub action: String,
    /// Kind of record.
    pub target_type: String,
    /// The record's id.
    pub target_id: Option<String>,
    /// The client's IP address.
    pub ip: Option<String>,
    /// A short detail (changed fields, counts).
    pub detail: Option<String>,
    /// When (UTC).
    pub created_at: NaiveDateTime,
    /// This event's hash (chained to the previous event's).
    pub hash: String,
}

/// The firm's audit events matching `query`, newest first. Admins only.
pub fn audit_log(conn: &mut DbConnection, staff: &Staff, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
    staff.require_admin()?;
    let mut q = audit_events::table.filter(audit_events::firm_id.eq(&staff.firm_id)).into_boxed();
    if let Some(actor) = query.actor_id.as_deref().filter(|v| !v.is_empty()) {
        q = q.filter(audit_events::actor_id.eq(actor.to_owned()));
    }
    if let Some(action) = query.action.as_deref().filter(|v| !v.is_empty()) {
        q = match action.strip_suffix('.') {
            Some(prefix) => q.filter(audit_events::action.like(format!("{}.%", prefix.replace(['%', '_'], "")))),
            None => q.filter(audit_events::action.eq(action.to_owned())),
        };
    }
    if let Some(kind) = query.target_type.as_deref().filter(|v| !v.is_empty()) {
        q = q.filter(audit_events::target_type.eq(kind.to_owned()));
    }
    if let Some(target) = query.target_id.as_deref().filter(|v| !v.is_empty()) {
        q = q.filter(audit_events::target_id.eq(target.to_owned()));
    }
    if let Some(since) = query.since {
        q = q.filter(audit_events::created_at.ge(since));
    }
    if let Some(before) = query.before_id {
        q = q.filter(audit_events::id.lt(before));
    }
    Ok(q.order(audit_events::id.desc())
        .limit(query.limit.unwrap_or(100).clamp(1, 500))
        .select(AuditEvent::as_select())
        .load(conn)?
        .into_iter()
        .map(|e| AuditEntry {
            id: e.id,
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            ip: e.ip,
            detail: e.detail,
            created_at: e.created_at,
            hash: e.hash,
        })
        .collect())
}

/// Marks several documents of one matter reviewed, all or nothing: an id that
/// is not a document of that matter of the staff member's firm is
/// [`Error::NotFound`] and nothing changes. Documents already reviewed keep
/// their first reviewer. Answers how many were newly marked; each is audited.
pub fn mark_many_reviewed(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    document_ids: &[String],
    now: NaiveDateTime,
) -> Result<usize> {
    let ids: std::collections::BTreeSet<&str> = document_ids.iter().map(|s| s.trim()).collect();
    if ids.is_empty() || ids.contains("") {
        return Err(Error::invalid("ids", "choose at least one document"));
    }
    if ids.len() > 500 {
        return Err(Error::invalid("ids", "at most 500 documents at once"));
    }
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let found: Vec<(String, Option<NaiveDateTime>)> = documents::table
            .filter(documents::matter_id.eq(&matter.id))
            .filter(documents::id.eq_any(ids.iter().copied().collect::<Vec<&str>>()))
            .select((documents::id, documents::reviewed_at))
            .load(conn)?;
        if found.len() != ids.len() {
            return Err(Error::NotFound);
        }
        let mut marked = 0;
        for (id, reviewed_at) in found {
            if reviewed_at.is_some() {
                continue;
            }
            let changed = diesel::update(documents::table.find(&id).filter(documents::reviewed_at.is_null()))
                .set((documents::reviewed_at.eq(now), documents::reviewed_by.eq(&staff.id)))
                .execute(conn)?;
            if changed > 0 {
                staff.audit(conn, "document.review", "document", &id, None, now)?;
                marked += 1;
            }
        }
        Ok(marked)
    })
}

/// A document's category after a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryChange {
    /// Document id.
    pub id: String,
    /// Its matter.
    pub matter_id: String,
    /// The category before.
    pub previous: crate::domain::DocumentCategory,
    /// The category now.
    pub category: crate::domain::DocumentCategory,
}

/// Files a document of the staff member's firm under another category
/// (audited `document.recategorise`, with the old and new keys). With
/// `matter_id`, the document must be of that matter; anything else is [`Error::NotFound`].
pub fn recategorise(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: Option<&str>,
    document_id: &str,
    category: &str,
    now: NaiveDateTime,
) -> Result<CategoryChange> {
    let category = crate::domain::DocumentCategory::parse(category.trim())
        .ok_or_else(|| Error::invalid("category", "is not a document category"))?;
    write_transaction(conn, |conn| {
        let (id, doc_matter, previous): (String, String, crate::domain::DocumentCategory) = documents::table
            .inner_join(matters::table)
            .filter(documents::id.eq(document_id))
            .filter(matters::firm_id.eq(&staff.firm_id))
            .select((documents::id, documents::matter_id, documents::category))
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        if matter_id.is_some_and(|m| m != doc_matter) {
            return Err(Error::NotFound);
        }
        if previous != category {
            diesel::update(documents::table.find(&id)).set(documents::category.eq(category)).execute(conn)?;
            let detail = format!("{}->{}", previous.as_str(), category.as_str());
            staff.audit(conn, "document.recategorise", "document", &id, Some(detail), now)?;
        }
        Ok(CategoryChange { id, matter_id: doc_matter, previous, category })
    })
}
