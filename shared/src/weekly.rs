//! The weekly update, derived from milestones: for each client, the current
//! phase of each open matter and what it means, what changed since the last
//! weekly update that was sent, what happens next, what the firm still needs,
//! and whom to call. Derived for a whole batch of clients with a fixed number of
//! queries (six), never one per client.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::max;
use diesel::prelude::*;
use serde::Serialize;

use crate::client_view::{CASE_MANAGERS, ContactRow, ContactView, PhaseView};
use crate::db::DbConnection;
use crate::db::models::{Firm, Matter, Milestone, Phase, PhaseText, User};
use crate::db::schema::{document_requests, firms, matter_clients, matters, milestones, notifications, users};
use crate::domain::{Language, MilestoneKind, NotificationKind, NotificationStatus, RequestStatus};
use crate::error::Result;

/// How far back the first weekly update of a client looks.
pub const FIRST_LOOKBACK: Duration = Duration::days(7);

/// Something that happened on a matter since the last update. Deliberately
/// without the milestone's text: emails carry no medical detail.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// What happened.
    pub kind: MilestoneKind,
    /// The new phase's title, for a phase change.
    pub phase_title: Option<String>,
    /// When an appointment takes place (UTC).
    pub occurs_at: Option<NaiveDateTime>,
    /// When it was recorded (UTC).
    pub at: NaiveDateTime,
}

/// One open matter in the update.
#[derive(Debug, Clone, Serialize)]
pub struct MatterDigest {
    /// Matter id.
    pub id: String,
    /// Short description.
    pub title: String,
    /// The current phase, in the client's language.
    pub phase: PhaseView,
    /// Number of phases in the practice area.
    pub phase_total: usize,
    /// What changed since the last update, oldest first.
    pub changes: Vec<Change>,
    /// Categories of the documents still needed (one entry per open request).
    pub needs: Vec<String>,
    /// The case manager.
    pub contact: Option<ContactView>,
}

/// A client's weekly update, ready to render.
#[derive(Debug, Clone)]
pub struct WeeklyDigest {
    /// The client.
    pub client: User,
    /// Their firm.
    pub firm: Firm,
    /// The language to write in.
    pub language: Language,
    /// When the last weekly update was sent, if ever.
    pub last_sent: Option<NaiveDateTime>,
    /// The client's open matters.
    pub matters: Vec<MatterDigest>,
}

impl WeeklyDigest {
    /// Whether anything happened since the last update.
    pub fn has_activity(&self) -> bool {
        self.matters.iter().any(|m| !m.changes.is_empty())
    }
}

/// The weekly digests of `client_ids` as of `now`, in their order, each in the
/// client's language unless `language` overrides it; ids that are not users are left out.
pub fn derive(
    conn: &mut DbConnection,
    client_ids: &[String],
    now: NaiveDateTime,
    language: Option<Language>,
) -> Result<Vec<WeeklyDigest>> {
    if client_ids.is_empty() {
        return Ok(Vec::new());
    }
    // 1. The clients and their firms.
    let clients: Vec<(User, Firm)> = users::table
        .inner_join(firms::table)
        .filter(users::id.eq_any(client_ids))
        .select((User::as_select(), Firm::as_select()))
        .load(conn)?;
    // A batch's clients mostly share one firm: each firm once in the catalogue query.
    let mut firm_ids: Vec<&str> = clients.iter().map(|(c, _)| c.firm_id.as_str()).collect();
    firm_ids.sort_unstable();
    firm_ids.dedup();
    // 2. When each last got a weekly update.
    let last_sent: HashMap<String, NaiveDateTime> = notifications::table
        .filter(notifications::recipient_id.eq_any(client_ids))
        .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
        .filter(notifications::status.eq(NotificationStatus::Sent))
        .group_by(notifications::recipient_id)
        .select((notifications::recipient_id, max(notifications::sent_at)))
        .load::<(String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(id, at)| at.map(|at| (id, at)))
        .collect();
    // 3. Their open matters, each with its case manager's contact details.
    let open: Vec<(String, Matter, Option<ContactRow>)> = matter_clients::table
        .inner_join(matters::table)
        .left_join(CASE_MANAGERS.on(matters::case_manager_id.eq(CASE_MANAGERS.field(users::id).nullable())))
        .filter(matter_clients::client_id.eq_any(client_ids))
        .filter(matters::closed_at.is_null())
        .order(matters::opened_at)
        .select((
            matter_clients::client_id,
            Matter::as_select(),
            CASE_MANAGERS.fields((users::full_name, users::phone, users::email)).nullable(),
        ))
        .load(conn)?;
    // 4. The firms' phase catalogues, in every language.
    let catalogue = crate::catalogue::every_text_of(conn, &firm_ids)?;
    // 5. Client-visible milestones since the earliest "since" of the batch.
    let since_of = |client: &str| last_sent.get(client).copied().unwrap_or(now - FIRST_LOOKBACK);
    let earliest = client_ids.iter().map(|c| since_of(c)).min().unwrap_or(now - FIRST_LOOKBACK);
    let matter_ids: Vec<&str> = open.iter().map(|(_, m, _)| m.id.as_str()).collect();
    let recent: Vec<Milestone> = milestones::table
        .filter(milestones::matter_id.eq_any(&matter_ids))
        .filter(milestones::client_visible.eq(true))
        .filter(milestones::kind.ne(MilestoneKind::InternalNote))
        .filter(milestones::created_at.gt(earliest))
        .filter(milestones::created_at.le(now))
        .order(milestones::created_at)
        .select(Milestone::as_select())
        .load(conn)?;
    // 6. Open document requests.
    let needs: Vec<(String, String)> = document_requests::table
        .filter(document_requests::matter_id.eq_any(&matter_ids))
        .filter(document_requests::status.eq(RequestStatus::Open))
        .order(document_requests::created_at)
        .select((document_requests::matter_id, document_requests::category))
        .load(conn)?;
    let texts: HashMap<(&str, &str), &PhaseText> =
        catalogue.iter().map(|(p, t)| ((p.id.as_str(), t.language.as_str()), t)).collect();
    let phase_by_id: HashMap<&str, &Phase> = catalogue.iter().map(|(p, _)| (p.id.as_str(), p)).collect();
    let mut totals: HashMap<(&str, &str), usize> = HashMap::new();
    for phase in phase_by_id.values() {
        *totals.entry((phase.firm_id.as_str(), phase.practice_area.as_str())).or_default() += 1;
    }
    let text = |phase_id: &str, language: Language| {
        texts.get(&(phase_id, language.as_str())).or_else(|| texts.get(&(phase_id, Language::En.as_str()))).copied()
    };
    let mut milestones_by_matter: HashMap<&str, Vec<&Milestone>> = HashMap::new();
    for m in &recent {
        milestones_by_matter.entry(m.matter_id.as_str()).or_default().push(m);
    }
    let mut needs_by_matter: HashMap<&str, Vec<String>> = HashMap::new();
    for (matter_id, category) in &needs {
        needs_by_matter.entry(matter_id.as_str()).or_default().push(category.clone());
    }

    // Each client's open matters, in the order read (oldest first).
    let mut open_by_client: HashMap<&str, Vec<(&Matter, &Option<ContactRow>)>> = HashMap::new();
    for (client_id, matter, manager) in &open {
        open_by_client.entry(client_id.as_str()).or_default().push((matter, manager));
    }
    let mut by_client: HashMap<&str, (&User, &Firm)> = clients.iter().map(|(c, f)| (c.id.as_str(), (c, f))).collect();
    let mut digests = Vec::with_capacity(client_ids.len());
    for client_id in client_ids {
        let Some((client, firm)) = by_client.remove(client_id.as_str()) else { continue };
        let language = language.unwrap_or(client.language);
        let since = since_of(client_id);
        let matters = open_by_client
            .get(client_id.as_str())
            .into_iter()
            .flatten()
            .filter_map(|(m, manager)| {
                let phase = phase_by_id.get(m.phase_id.as_str())?;
                let t = text(&phase.id, language)?;
                let changes = milestones_by_matter
                    .get(m.id.as_str())
                    .into_iter()
                    .flatten()
                    .filter(|ms| ms.created_at > since)
                    .map(|ms| Change {
                        kind: ms.kind,
                        phase_title: ms.phase_id.as_deref().and_then(|p| text(p, language)).map(|t| t.title.clone()),
                        occurs_at: ms.occurs_at,
                        at: ms.created_at,
                    })
                    .collect();
                Some(MatterDigest {
                    id: m.id.clone(),
                    title: m.title.clone(),
                    phase: PhaseView {
                        key: phase.key.clone(),
                        position: phase.position,
                        title: t.title.clone(),
                        what_it_means: t.what_it_means.clone(),
                        what_happens_next: t.what_happens_next.clone(),
                    },
                    phase_total: totals.get(&(m.firm_id.as_str(), m.practice_area.as_str())).copied().unwrap_or(0),
                    changes,
                    needs: needs_by_matter.get(m.id.as_str()).cloned().unwrap_or_default(),
                    contact: (*manager).clone().map(ContactView::from),
                })
            })
            .collect();
        digests.push(WeeklyDigest {
            client: client.clone(),
            firm: firm.clone(),
            language,
            last_sent: last_sent.get(client_id).copied(),
            matters,
        });
    }
    Ok(digests)
}
