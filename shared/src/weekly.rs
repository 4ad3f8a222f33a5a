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
use crate::db::schema::{
    document_requests, firms, matter_clients, matters, milestones, notifications, treatment_visits, users,
};
use crate::domain::{DocumentCategory, Language, MilestoneKind, NotificationKind, NotificationStatus, RequestStatus};
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
    /// How many files one upload brought (a "document received" change), else 1.
    pub count: usize,
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
    pub needs: Vec<DocumentCategory>,
    /// The case manager.
    pub contact: Option<ContactView>,
    /// Replies from the legal team the client has not read.
    pub unread_replies: i64,
    /// In a treatment phase with no visit logged for [`crate::treatment::WEEKLY_ASK_DAYS`]: ask the client to log them.
    pub log_visits: bool,
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
    let batch = Batch::read(conn, client_ids, now)?;
    let index = Index::of(&batch);
    let mut by_client: HashMap<&str, &(User, Firm)> = batch.clients.iter().map(|cf| (cf.0.id.as_str(), cf)).collect();
    Ok(client_ids
        .iter()
        .filter_map(|client_id| {
            let (client, firm) = by_client.remove(client_id.as_str())?;
            let language = language.unwrap_or(client.language);
            let since = batch.since(client_id, now);
            let matters = index
                .open_by_client
                .get(client_id.as_str())
                .into_iter()
                .flatten()
                .filter_map(|(matter, manager)| index.digest(matter, manager, language, since))
                .collect();
            Some(WeeklyDigest {
                client: client.clone(),
                firm: firm.clone(),
                language,
                last_sent: batch.last_sent.get(client_id).copied(),
                matters,
            })
        })
        .collect())
}

/// Everything a batch's digests are made of, read in seven queries.
struct Batch {
    /// The clients and their firms.
    clients: Vec<(User, Firm)>,
    /// When each client last got a weekly update.
    last_sent: HashMap<String, NaiveDateTime>,
    /// Their open matters (oldest first), each with its case manager's contact details.
    open: Vec<(String, Matter, Option<ContactRow>)>,
    /// The firms' phase catalogues, in every language.
    catalogue: Vec<(Phase, PhaseText)>,
    /// Client-visible milestones of those matters since the earliest "since" of the batch.
    recent: Vec<Milestone>,
    /// Open document requests of those matters: (matter, category).
    needs: Vec<(String, DocumentCategory)>,
    /// Unread replies per matter.
    unread: HashMap<String, i64>,
    /// Matters with a visit logged in the last [`crate::treatment::WEEKLY_ASK_DAYS`] days.
    visits_logged: std::collections::HashSet<String>,
}

impl Batch {
    fn read(conn: &mut DbConnection, client_ids: &[String], now: NaiveDateTime) -> Result<Self> {
        let clients: Vec<(User, Firm)> = users::table
            .inner_join(firms::table)
            .filter(users::id.eq_any(client_ids))
            .select((User::as_select(), Firm::as_select()))
            .load(conn)?;
        // A batch's clients mostly share one firm: each firm once in the catalogue query.
        let mut firm_ids: Vec<&str> = clients.iter().map(|(c, _)| c.firm_id.as_str()).collect();
        firm_ids.sort_unstable();
        firm_ids.dedup();
        let catalogue = crate::catalogue::every_text_of(conn, &firm_ids)?;
        let last_sent = last_weekly_update(conn, client_ids)?;
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
        let mut batch = Self {
            clients,
            last_sent,
            open,
            catalogue,
            recent: Vec::new(),
            needs: Vec::new(),
            unread: HashMap::new(),
            visits_logged: Default::default(),
        };
        let earliest = client_ids.iter().map(|c| batch.since(c, now)).min().unwrap_or(now - FIRST_LOOKBACK);
        let matter_ids: Vec<&str> = batch.open.iter().map(|(_, m, _)| m.id.as_str()).collect();
        batch.recent = milestones::table
            .filter(milestones::matter_id.eq_any(&matter_ids))
            .filter(milestones::client_visible.eq(true))
            .filter(milestones::kind.ne(MilestoneKind::InternalNote))
            .filter(milestones::created_at.gt(earliest))
            .filter(milestones::created_at.le(now))
            .order(milestones::created_at)
            .select(Milestone::as_select())
            .load(conn)?;
        batch.needs = document_requests::table
            .filter(document_requests::matter_id.eq_any(&matter_ids))
            .filter(document_requests::status.eq(RequestStatus::Open))
            .order(document_requests::created_at)
            .select((document_requests::matter_id, document_requests::category))
            .load(conn)?;
        batch.unread = crate::messages::unread_on(conn, &matter_ids)?;
        batch.visits_logged = treatment_visits::table
            .filter(treatment_visits::matter_id.eq_any(&matter_ids))
            .filter(treatment_visits::created_at.gt(now - Duration::days(crate::treatment::WEEKLY_ASK_DAYS)))
            .select(treatment_visits::matter_id)
            .distinct()
            .load::<String>(conn)?
            .into_iter()
            .collect();
        Ok(batch)
    }

    /// Changes after this time go into `client`'s update: their last update, or a week back.
    fn since(&self, client: &str, now: NaiveDateTime) -> NaiveDateTime {
        self.last_sent.get(client).copied().unwrap_or(now - FIRST_LOOKBACK)
    }
}

/// When each of `client_ids` last got a weekly update that was sent.
fn last_weekly_update(conn: &mut DbConnection, client_ids: &[String]) -> Result<HashMap<String, NaiveDateTime>> {
    Ok(notifications::table
        .filter(notifications::recipient_id.eq_any(client_ids))
        .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
        .filter(notifications::status.eq(NotificationStatus::Sent))
        .group_by(notifications::recipient_id)
        .select((notifications::recipient_id, max(notifications::sent_at)))
        .load::<(String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(id, at)| at.map(|at| (id, at)))
        .collect())
}

/// A batch's rows indexed for assembling each client's digest.
struct Index<'a> {
    texts: HashMap<(&'a str, Language), &'a PhaseText>,
    phase_by_id: HashMap<&'a str, &'a Phase>,
    /// Phases per (firm, practice area).
    totals: HashMap<(&'a str, &'a str), usize>,
    milestones_by_matter: HashMap<&'a str, Vec<&'a Milestone>>,
    needs_by_matter: HashMap<&'a str, Vec<DocumentCategory>>,
    open_by_client: HashMap<&'a str, Vec<(&'a Matter, &'a Option<ContactRow>)>>,
    unread: &'a HashMap<String, i64>,
    visits_logged: &'a std::collections::HashSet<String>,
}

impl<'a> Index<'a> {
    fn of(batch: &'a Batch) -> Self {
        let texts = batch.catalogue.iter().map(|(p, t)| ((p.id.as_str(), t.language), t)).collect();
        let phase_by_id: HashMap<&str, &Phase> = batch.catalogue.iter().map(|(p, _)| (p.id.as_str(), p)).collect();
        let mut totals: HashMap<(&str, &str), usize> = HashMap::new();
        for phase in phase_by_id.values() {
            *totals.entry((phase.firm_id.as_str(), phase.practice_area.as_str())).or_default() += 1;
        }
        let mut milestones_by_matter: HashMap<&str, Vec<&Milestone>> = HashMap::new();
        for m in &batch.recent {
            milestones_by_matter.entry(m.matter_id.as_str()).or_default().push(m);
        }
        let mut needs_by_matter: HashMap<&str, Vec<DocumentCategory>> = HashMap::new();
        for (matter_id, category) in &batch.needs {
            needs_by_matter.entry(matter_id.as_str()).or_default().push(*category);
        }
        let mut open_by_client: HashMap<&str, Vec<(&Matter, &Option<ContactRow>)>> = HashMap::new();
        for (client_id, matter, manager) in &batch.open {
            open_by_client.entry(client_id.as_str()).or_default().push((matter, manager));
        }
        Self {
            texts,
            phase_by_id,
            totals,
            milestones_by_matter,
            needs_by_matter,
            open_by_client,
            unread: &batch.unread,
            visits_logged: &batch.visits_logged,
        }
    }

    /// A phase's texts in `language`, else in English.
    fn text(&self, phase_id: &str, language: Language) -> Option<&'a PhaseText> {
        self.texts.get(&(phase_id, language)).or_else(|| self.texts.get(&(phase_id, Language::EN))).copied()
    }

    /// One open matter's part of the update: its phase, what changed after `since`, what is needed.
    fn digest(
        &self,
        matter: &Matter,
        manager: &Option<ContactRow>,
        language: Language,
        since: NaiveDateTime,
    ) -> Option<MatterDigest> {
        let phase = self.phase_by_id.get(matter.phase_id.as_str())?;
        let t = self.text(&phase.id, language)?;
        let changes = self
            .milestones_by_matter
            .get(matter.id.as_str())
            .into_iter()
            .flatten()
            .filter(|ms| ms.created_at > since)
            .map(|ms| Change {
                kind: ms.kind,
                phase_title: ms.phase_id.as_deref().and_then(|p| self.text(p, language)).map(|t| t.title.clone()),
                occurs_at: ms.occurs_at,
                at: ms.created_at,
                count: match (ms.kind, ms.body.as_deref()) {
                    (MilestoneKind::DocumentReceived, Some(body)) => {
                        crate::documents::received_names(body).len().max(1)
                    }
                    _ => 1,
                },
            })
            .collect();
        Some(MatterDigest {
            id: matter.id.clone(),
            title: matter.title.clone(),
            phase: PhaseView {
                key: phase.key.clone(),
                position: phase.position,
                title: t.title.clone(),
                what_it_means: t.what_it_means.clone(),
                what_happens_next: t.what_happens_next.clone(),
            },
            phase_total: self
                .totals
                .get(&(matter.firm_id.as_str(), matter.practice_area.as_str()))
                .copied()
                .unwrap_or(0),
            changes,
            needs: self.needs_by_matter.get(matter.id.as_str()).cloned().unwrap_or_default(),
            contact: manager.clone().map(ContactView::from),
            unread_replies: self.unread.get(matter.id.as_str()).copied().unwrap_or(0),
            log_visits: phase.treatment && !self.visits_logged.contains(&matter.id),
        })
    }
}
