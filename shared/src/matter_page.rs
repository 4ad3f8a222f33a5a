//! A client's matter page, and the matter in the client API, in one statement:
//! the session check (session ⋈ user ⋈ firm) and, as one JSON value beside it,
//! the matter the client may see with its case manager, open requests, latest
//! visible milestones and, for the page, its documents, the latest messages,
//! upcoming appointments and latest treatment visits.
//!
//! Why one statement: every statement is a round trip to the database and
//! costs it a parse, a plan and an executor start; the page used to take a
//! dozen. The JSON is built by the database (`json_build_object` and
//! `json_agg` on PostgreSQL, `json_object` and `json_group_array` on SQLite)
//! and decoded straight into the typed rows below, with no
//! `serde_json::Value` in between. The statement is written out once per
//! backend and kept prepared on each connection (diesel's statement cache:
//! `sql_query` would parse and plan it again on every page).
//!
//! The visible-data rules are the ones of [`crate::client_view`],
//! [`crate::messages`] and [`crate::treatment`], written into the statement:
//! the matter must be one of the signed-in user's (else [`Error::NotFound`],
//! exactly like a missing one); internal notes are never selected
//! (`milestones.kind <> 'internal_note'`, `client_visible`); only
//! [`MessageKind::CLIENT_VISIBLE`] messages are; a closed matter accepts
//! uploads only where its firm allows it. The tests of the case page, the
//! client API and the security matrix hold this module to them on both backends.

use std::sync::LazyLock;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text, Timestamp, Untyped};
use serde::{Deserialize, Deserializer};

use crate::appointments::{AppointmentKind, AppointmentView};
use crate::auth::FirmBrand;
use crate::catalogue;
use crate::client_view::{self, ContactView, MatterDetail, MilestoneView, RECENT_MILESTONES, RequestView};
use crate::db::DbConnection;
use crate::db::models::User;
use crate::documents::{DocumentView, sanitize_file_name};
use crate::domain::{
    DocumentCategory, DocumentSource, Language, MessageKind, MilestoneKind, RequestStatus, day_start_utc, local_date,
};
use crate::error::{Error, Result};
use crate::messages::{AttachmentView, ClientMessage};
use crate::tokens::{Purpose, Tokens};
use crate::treatment::VisitView;

/// Messages the matter page shows (the rest are on the messages page).
pub const LATEST_MESSAGES: usize = 3;
/// Treatment visits the matter page shows (the rest are on the treatment page).
pub const LATEST_VISITS: usize = 3;
/// How long after its start an appointment is still listed (it may run long).
const APPOINTMENT_OVERRUN: Duration = Duration::hours(12);

/// What to load with the session check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// The matter as the client API shows it ([`MatterDetail`]).
    Detail,
    /// Everything the matter page shows.
    Page,
}

/// Who the session token speaks for, as the same statement found them.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The session row's id.
    pub session_id: String,
    /// The signed-in user.
    pub user: User,
    /// The user's firm's name and time zone.
    pub firm: FirmBrand,
}

/// What the statement found of the matter, when the caller said which version it holds.
#[derive(Debug)]
pub enum Loaded {
    /// The matter as it is now (at [`Stamp::version`]).
    Read(Box<MatterPage>),
    /// The matter is still at the version the caller holds: nothing more was read.
    Unchanged {
        /// That version.
        version: i64,
    },
}

/// What a page made from a [`MatterPage`] depends on besides the viewer and
/// their language. A page kept with its stamp still shows the matter as it is
/// while [`Stamp::holds`].
#[derive(Debug, Clone)]
pub struct Stamp {
    /// The matter's page version (`matters.page_version`, raised by triggers on
    /// every write to what the page shows).
    pub version: i64,
    /// The language the page is in.
    pub language: Language,
    /// The matter's firm and practice area, whose phase catalogue names the steps.
    pub firm_id: String,
    /// See `firm_id`.
    pub practice_area: String,
    /// The phase catalogue the page was made with (this process's copy).
    pub catalogue: catalogue::PhaseCatalogue,
    /// When time alone changes the page: the firm's next midnight ("overdue"),
    /// or the end of the first appointment listed, whichever comes first.
    pub valid_until: NaiveDateTime,
}

impl Stamp {
    /// Whether a page made with this stamp is still current at `now`, as far
    /// as this process can tell without the database: before `valid_until`,
    /// and made with the phase catalogue this process holds now (a catalogue
    /// read again after its time to live counts as changed). The matter's
    /// version is the statement's to check ([`load_since`]).
    pub fn current(&self, now: NaiveDateTime) -> bool {
        now < self.valid_until
            && catalogue::cached(&self.firm_id, &self.practice_area, self.language)
                .is_some_and(|c| std::sync::Arc::ptr_eq(&c, &self.catalogue))
    }
}

/// Everything the matter page shows of a matter, in the client's language.
#[derive(Debug, Clone)]
pub struct MatterPage {
    /// What the page depends on, to tell when a page made from it is out of date.
    pub stamp: Stamp,
    /// The matter as the client API shows it.
    pub detail: MatterDetail,
    /// Its documents, newest first (empty for [`Wanted::Detail`]).
    pub documents: Vec<DocumentView>,
    /// The latest [`LATEST_MESSAGES`] messages of its conversation, oldest first.
    pub messages: Vec<ClientMessage>,
    /// Messages in the conversation in all.
    pub message_count: usize,
    /// Replies from the firm the client has not read yet.
    pub unread: usize,
    /// Appointments not cancelled and not over yet, soonest first.
    pub appointments: Vec<AppointmentView>,
    /// The latest [`LATEST_VISITS`] treatment visits, latest day first.
    pub visits: Vec<VisitView>,
}

/// Checks the session `token` and loads matter `matter_id` for the user it
/// speaks for, in one statement ([`Wanted`] says how much of the matter).
/// [`Error::Unauthenticated`] for a missing, forged, expired or revoked
/// session; otherwise the viewer, with [`Error::NotFound`] as the matter for
/// one that is not theirs. `now` is the time appointments are over by.
///
/// A session last seen more than five minutes ago is marked seen (two more
/// statements, at most every five minutes per session), as on every route.
pub fn load(
    conn: &mut DbConnection,
    tokens: &Tokens,
    token: &str,
    matter_id: &str,
    wanted: Wanted,
    now: NaiveDateTime,
) -> Result<(Viewer, Result<MatterPage>)> {
    let (viewer, loaded) = load_since(conn, tokens, token, matter_id, wanted, now, |_| None)?;
    let page = loaded.and_then(|loaded| match loaded {
        Loaded::Read(page) => Ok(*page),
        Loaded::Unchanged { .. } => Err(Error::Internal(anyhow::anyhow!("the matter was not read"))),
    });
    Ok((viewer, page))
}

/// [`load`], for a caller that may hold the matter already: `known` is given
/// the signed-in user's id (from the verified token) and answers with the
/// matter's page version the caller holds for them, if any. When the matter is
/// still at that version, the statement reads nothing more of it
/// ([`Loaded::Unchanged`]); the session and the matter's ownership are checked
/// all the same.
pub fn load_since(
    conn: &mut DbConnection,
    tokens: &Tokens,
    token: &str,
    matter_id: &str,
    wanted: Wanted,
    now: NaiveDateTime,
    known: impl FnOnce(&str) -> Option<i64>,
) -> Result<(Viewer, Result<Loaded>)> {
    let claims = tokens.verify(Purpose::Session, token)?;
    let t = tokens.clock().now();
    let held = known(&claims.sub);
    let mut run = |reads: Reads| {
        let mut binds = Vec::with_capacity(5);
        if reads == Reads::Page {
            binds.push(Bind::Time(now - APPOINTMENT_OVERRUN));
        }
        binds.extend([Bind::Text(matter_id), Bind::Text(&claims.jti), Bind::Text(&claims.sub), Bind::Time(t)]);
        let found: QueryResult<Option<Row>> = match &mut *conn {
            DbConnection::Postgresql(pg) => {
                PageQuery { pieces: statement(Dialect::Postgres, reads), binds }.get_result(pg).optional()
            }
            DbConnection::Sqlite(sqlite) => {
                PageQuery { pieces: statement(Dialect::Sqlite, reads), binds }.get_result(sqlite).optional()
            }
        };
        found
    };
    // Holding the matter at a version: its version alone first (a statement
    // that plans and starts none of the matter's subqueries).
    let found = run(if held.is_some() { Reads::Version } else { wanted.into() });
    let row = match found {
        Ok(row) => row.ok_or(Error::Unauthenticated)?,
        Err(failed) => {
            // Whose failure is it? With the session checked alone, a failure of the
            // matter's data is the page's (500, in the viewer's language), and one
            // of the database itself is the session check's (unavailable).
            let (session, user, firm) = crate::auth::authenticate_in_firm(conn, tokens, token)?;
            return Ok((Viewer { session_id: session.id, user, firm }, Err(failed.into())));
        }
    };
    let fetched = match (row.page_version, row.page, held) {
        (None, _, _) => Err(Error::NotFound),
        (Some(version), None, Some(held)) if version == held => Ok(Fetched::Same(version)),
        (Some(version), Some(json), _) => Ok(Fetched::Read(version, json)),
        // Changed since the version held: the matter itself (a second statement).
        (Some(_), None, _) => match run(wanted.into()) {
            Ok(Some(Row { page_version: Some(version), page: Some(json), .. })) => Ok(Fetched::Read(version, json)),
            Ok(Some(_)) => Err(Error::NotFound),
            Ok(None) => Err(Error::Unauthenticated),
            Err(e) => Err(e.into()),
        },
    };
    crate::auth::seen(conn, &row.session_id, row.session_last_seen_at, &row.user.id, t)?;
    let viewer = Viewer {
        session_id: row.session_id,
        firm: FirmBrand { name: row.firm_name, time_zone: row.firm_time_zone },
        user: row.user,
    };
    let loaded = fetched.and_then(|fetched| match fetched {
        Fetched::Same(version) => Ok(Loaded::Unchanged { version }),
        Fetched::Read(version, json) => {
            assemble(conn, &viewer.user, &json, version, now).map(|p| Loaded::Read(Box::new(p)))
        }
    });
    Ok((viewer, loaded))
}

/// The page from the statement's JSON, with the phase catalogue (kept per
/// process, see [`catalogue::phases_in`]) in the client's language.
fn assemble(
    conn: &mut DbConnection,
    client: &User,
    json: &str,
    version: i64,
    now: NaiveDateTime,
) -> Result<MatterPage> {
    let found: Found = serde_json::from_str(json)
        .map_err(|e| Error::Internal(anyhow::anyhow!("the matter page's data does not decode: {e}")))?;
    let catalogue = catalogue::phases_in(conn, &found.firm_id, &[found.practice_area.as_str()], client.language)?;
    let (phase, phases) = client_view::phases_of(&catalogue, &found.id, &found.phase_id)?;
    let title_of = |id: &str| catalogue.iter().find(|(p, _)| p.id == id).map(|(_, t)| t.title.clone());
    let today = local_date(&found.time_zone, now);
    let appointments: Vec<AppointmentView> =
        found.appointments.into_iter().map(AppointmentView::from).filter(|a| a.ends_at > now).collect();
    let valid_until = valid_until(&found.time_zone, today, &appointments);
    let detail = MatterDetail {
        accepts_uploads: found.closed_at.is_none() || found.closed_matter_uploads,
        open_requests: found
            .requests
            .into_iter()
            .map(|r| RequestView {
                overdue: r.due_date.is_some_and(|d| crate::requests::is_overdue(d, today)),
                id: r.id,
                title: r.title,
                details: r.details,
                category: r.category,
                requested_at: r.created_at,
                due_date: r.due_date,
            })
            .collect(),
        milestones: found
            .milestones
            .into_iter()
            .map(|m| MilestoneView {
                phase_title: m.phase_id.as_deref().and_then(title_of),
                id: m.id,
                kind: m.kind,
                body: m.body,
                occurs_at: m.occurs_at,
                created_at: m.created_at,
            })
            .collect(),
        id: found.id,
        title: found.title,
        updated_at: found.updated_at,
        closed_at: found.closed_at,
        phase,
        phases,
        contact: found.contact,
    };
    let conversation = found.conversation.unwrap_or_default();
    Ok(MatterPage {
        stamp: Stamp {
            version,
            language: client.language,
            firm_id: found.firm_id,
            practice_area: found.practice_area,
            catalogue,
            valid_until,
        },
        detail,
        documents: found.documents.into_iter().map(DocumentView::from).collect(),
        messages: found
            .messages
            .into_iter()
            .map(|m| ClientMessage {
                mine: m.author_id.as_deref() == Some(client.id.as_str()),
                id: m.id,
                kind: m.kind,
                author: m.author,
                body: m.body,
                created_at: m.created_at,
                read_at: m.read_at,
                attachments: m.attachments,
            })
            .collect(),
        message_count: conversation.count,
        unread: conversation.unread,
        appointments,
        visits: found.visits,
    })
}

/// When time alone changes a page made on `today` (in `time_zone`) listing
/// `appointments`: the firm's next midnight (dates, "overdue"), or the end of
/// the first appointment listed (it leaves the list), whichever comes first.
fn valid_until(time_zone: &str, today: NaiveDate, appointments: &[AppointmentView]) -> NaiveDateTime {
    let tomorrow = today.succ_opt().unwrap_or(today);
    appointments.iter().map(|a| a.ends_at).fold(day_start_utc(time_zone, tomorrow), Ord::min)
}

/// The statement's one row: the signed-in user and session, and the matter as JSON
/// (`NULL` when it is not theirs).
#[derive(QueryableByName)]
struct Row {
    #[diesel(embed)]
    user: User,
    #[diesel(sql_type = Text)]
    session_id: String,
    #[diesel(sql_type = Timestamp)]
    session_last_seen_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    firm_name: String,
    #[diesel(sql_type = Text)]
    firm_time_zone: String,
    /// The matter's page version; `NULL` when the matter is not theirs.
    #[diesel(sql_type = Nullable<BigInt>)]
    page_version: Option<i64>,
    /// The matter as JSON; `NULL` when it is not theirs, or still at the version the caller holds.
    #[diesel(sql_type = Nullable<Text>)]
    page: Option<String>,
}

/// The matter's JSON, as the statement builds it.
#[derive(Deserialize)]
struct Found {
    id: String,
    title: String,
    firm_id: String,
    practice_area: String,
    phase_id: String,
    updated_at: NaiveDateTime,
    closed_at: Option<NaiveDateTime>,
    /// The matter's firm's time zone (for "overdue").
    time_zone: String,
    #[serde(deserialize_with = "flag")]
    closed_matter_uploads: bool,
    contact: Option<ContactView>,
    requests: Vec<RequestRow>,
    milestones: Vec<MilestoneRow>,
    #[serde(default)]
    documents: Vec<DocumentRow>,
    #[serde(default)]
    conversation: Option<Conversation>,
    #[serde(default)]
    messages: Vec<MessageRow>,
    #[serde(default)]
    appointments: Vec<AppointmentRow>,
    #[serde(default)]
    visits: Vec<VisitView>,
}

/// An open document request.
#[derive(Deserialize)]
struct RequestRow {
    id: String,
    title: String,
    details: Option<String>,
    category: DocumentCategory,
    created_at: NaiveDateTime,
    due_date: Option<NaiveDate>,
}

/// A client-visible milestone.
#[derive(Deserialize)]
struct MilestoneRow {
    id: String,
    kind: MilestoneKind,
    phase_id: Option<String>,
    body: Option<String>,
    occurs_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

/// A document of the matter.
#[derive(Deserialize)]
struct DocumentRow {
    id: String,
    name: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    category: DocumentCategory,
    source: DocumentSource,
    created_at: NaiveDateTime,
}

impl From<DocumentRow> for DocumentView {
    fn from(d: DocumentRow) -> Self {
        DocumentView {
            name: sanitize_file_name(&d.name),
            id: d.id,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            category: d.category,
            source: d.source,
            created_at: d.created_at,
        }
    }
}

/// How many messages the conversation has, and how many replies are unread.
#[derive(Deserialize, Default)]
struct Conversation {
    count: usize,
    unread: usize,
}

/// A client-visible message with its author's name and its files.
#[derive(Deserialize)]
struct MessageRow {
    id: String,
    kind: MessageKind,
    author_id: Option<String>,
    author: Option<String>,
    body: String,
    created_at: NaiveDateTime,
    read_at: Option<NaiveDateTime>,
    attachments: Vec<AttachmentView>,
}

/// An appointment that is not cancelled.
#[derive(Deserialize)]
struct AppointmentRow {
    id: String,
    kind: AppointmentKind,
    starts_at: NaiveDateTime,
    duration_minutes: i32,
    place: String,
    bring: Option<String>,
    sequence: i32,
    cancelled_at: Option<NaiveDateTime>,
}

impl From<AppointmentRow> for AppointmentView {
    fn from(a: AppointmentRow) -> Self {
        AppointmentView {
            ends_at: a.starts_at + Duration::minutes(i64::from(a.duration_minutes)),
            id: a.id,
            kind: a.kind,
            starts_at: a.starts_at,
            duration_minutes: a.duration_minutes,
            place: a.place,
            bring: a.bring,
            sequence: a.sequence,
            cancelled_at: a.cancelled_at,
        }
    }
}

/// A boolean column: `true`/`false` from PostgreSQL, `1`/`0` from SQLite.
fn flag<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Int(i) => i != 0,
    })
}

/// A value bound into the statement.
enum Bind<'a> {
    Text(&'a str),
    Time(NaiveDateTime),
}

/// The statement with its values: the text between the values is fixed per
/// backend and [`Wanted`], so diesel keeps it prepared on each connection.
struct PageQuery<'a> {
    pieces: &'static [String],
    binds: Vec<Bind<'a>>,
}

impl QueryId for PageQuery<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for PageQuery<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for PageQuery<'_> {}

impl<DB> QueryFragment<DB> for PageQuery<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Timestamp>,
    str: ToSql<Text, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for (n, piece) in self.pieces.iter().enumerate() {
            out.push_sql(piece);
            match self.binds.get(n) {
                Some(Bind::Text(text)) => out.push_bind_param::<Text, str>(*text)?,
                Some(Bind::Time(at)) => out.push_bind_param::<Timestamp, NaiveDateTime>(at)?,
                None => {}
            }
        }
        Ok(())
    }
}

/// Where the statement differs between the backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Postgres,
    Sqlite,
}

/// Marks where a value goes while the statement is written.
const VALUE: &str = "\u{1}";

impl Dialect {
    /// The JSON object function.
    fn object(self) -> &'static str {
        match self {
            Self::Postgres => "json_build_object",
            Self::Sqlite => "json_object",
        }
    }

    /// The JSON array aggregate.
    fn array(self) -> &'static str {
        match self {
            Self::Postgres => "json_agg",
            Self::Sqlite => "json_group_array",
        }
    }

    /// A timestamp column as chrono reads it (`2026-12-06T18:45:06.123456`):
    /// PostgreSQL writes it so; SQLite stores it with a space for the `T`.
    fn time(self, column: &str) -> String {
        match self {
            Self::Postgres => column.to_owned(),
            Self::Sqlite => format!("replace({column}, ' ', 'T')"),
        }
    }

    /// A subquery's JSON array, `[]` when it has no rows. (SQLite forgets that
    /// a subquery's value is JSON unless `json()` says it again.)
    fn list(self, select: &str) -> String {
        match self {
            Self::Postgres => format!("COALESCE(({select}), '[]'::json)"),
            Self::Sqlite => format!("json(COALESCE(({select}), '[]'))"),
        }
    }

    /// A subquery's or expression's JSON object (or `NULL`).
    fn json(self, value: &str) -> String {
        match self {
            Self::Postgres => format!("({value})"),
            Self::Sqlite => format!("json(({value}))"),
        }
    }
}

/// What the statements found of the matter: the version the caller holds, or
/// the matter's JSON at a version.
enum Fetched {
    Same(i64),
    Read(i64, String),
}

/// What a statement reads with the session check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// The matter as the client API shows it.
    Detail,
    /// Everything the matter page shows.
    Page,
    /// The matter's page version alone.
    Version,
}

impl From<Wanted> for Reads {
    fn from(wanted: Wanted) -> Self {
        match wanted {
            Wanted::Detail => Self::Detail,
            Wanted::Page => Self::Page,
        }
    }
}

/// The statement's text, split where its values go, written once per backend and [`Reads`].
fn statement(dialect: Dialect, reads: Reads) -> &'static [String] {
    const ALL: [(Dialect, Reads); 6] = [
        (Dialect::Postgres, Reads::Detail),
        (Dialect::Postgres, Reads::Page),
        (Dialect::Postgres, Reads::Version),
        (Dialect::Sqlite, Reads::Detail),
        (Dialect::Sqlite, Reads::Page),
        (Dialect::Sqlite, Reads::Version),
    ];
    static STATEMENTS: LazyLock<[Vec<String>; 6]> =
        LazyLock::new(|| ALL.map(|(d, r)| write_statement(d, r).split(VALUE).map(str::to_owned).collect()));
    let n = ALL.iter().position(|&(d, r)| d == dialect && r == reads).unwrap_or_default();
    &STATEMENTS[n]
}

/// The statement, with [`VALUE`] where a value goes. In order: the
/// appointments' cutoff (for the page), the matter id, the session id, the
/// user id and the time sessions must not have expired by.
///
/// The matter is joined only when it is one of the user's; its JSON (none for
/// [`Reads::Version`]) only then.
fn write_statement(d: Dialect, reads: Reads) -> String {
    let (obj, agg, t) = (d.object(), d.array(), |c: &str| d.time(c));
    let open = RequestStatus::Open.as_str();
    let internal = MilestoneKind::InternalNote.as_str();
    let visible =
        MessageKind::CLIENT_VISIBLE.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ");
    let reply = MessageKind::Reply.as_str();
    let mut fields = vec![
        "'id', m.id, 'title', m.title, 'firm_id', m.firm_id, 'practice_area', m.practice_area, \
         'phase_id', m.phase_id"
            .to_owned(),
        format!("'updated_at', {}, 'closed_at', {}", t("m.updated_at"), t("m.closed_at")),
        "'time_zone', mf.time_zone, 'closed_matter_uploads', mf.closed_matter_uploads".to_owned(),
        format!(
            "'contact', {}",
            d.json(&format!(
                "CASE WHEN cm.id IS NULL THEN NULL \
                 ELSE {obj}('name', cm.full_name, 'phone', cm.phone, 'email', cm.email) END"
            ))
        ),
        format!(
            "'requests', {}",
            d.list(&format!(
                "SELECT {agg}({obj}('id', r.id, 'title', r.title, 'details', r.details, 'category', r.category, \
                 'created_at', {}, 'due_date', r.due_date) ORDER BY r.created_at) \
                 FROM document_requests r WHERE r.matter_id = m.id AND r.status = '{open}'",
                t("r.created_at")
            ))
        ),
        format!(
            "'milestones', {}",
            d.list(&format!(
                "SELECT {agg}({obj}('id', x.id, 'kind', x.kind, 'phase_id', x.phase_id, 'body', x.body, \
                 'occurs_at', {}, 'created_at', {}) ORDER BY x.created_at DESC) \
                 FROM (SELECT id, kind, phase_id, body, occurs_at, created_at FROM milestones \
                 WHERE matter_id = m.id AND client_visible AND kind <> '{internal}' \
                 ORDER BY created_at DESC LIMIT {RECENT_MILESTONES}) x",
                t("x.occurs_at"),
                t("x.created_at")
            ))
        ),
    ];
    if reads == Reads::Page {
        fields.push(format!(
            "'documents', {}",
            d.list(&format!(
                "SELECT {agg}({obj}('id', dd.id, 'name', dd.original_name, 'content_type', dd.content_type, \
                 'size_bytes', dd.size_bytes, 'sha256', dd.sha256, 'category', dd.category, 'source', dd.source, \
                 'created_at', {}) ORDER BY dd.created_at DESC) FROM documents dd WHERE dd.matter_id = m.id",
                t("dd.created_at")
            ))
        ));
        fields.push(format!(
            "'conversation', {}",
            d.json(&format!(
                "SELECT {obj}('count', count(*), 'unread', \
                 COALESCE(sum(CASE WHEN g.kind = '{reply}' AND g.read_at IS NULL THEN 1 ELSE 0 END), 0)) \
                 FROM messages g WHERE g.matter_id = m.id AND g.kind IN ({visible})"
            ))
        ));
        let attachments = d.list(&format!(
            "SELECT {agg}({obj}('document_id', ad.id, 'name', ad.original_name, 'size_bytes', ad.size_bytes, \
             'content_type', ad.content_type) ORDER BY ad.created_at) \
             FROM message_attachments ma JOIN documents ad ON ad.id = ma.document_id WHERE ma.message_id = x.id"
        ));
        fields.push(format!(
            "'messages', {}",
            d.list(&format!(
                "SELECT {agg}({obj}('id', x.id, 'kind', x.kind, 'author_id', x.author_id, 'author', au.full_name, \
                 'body', x.body, 'created_at', {}, 'read_at', {}, 'attachments', {attachments}) \
                 ORDER BY x.created_at, x.id) \
                 FROM (SELECT id, kind, author_id, body, created_at, read_at FROM messages \
                 WHERE matter_id = m.id AND kind IN ({visible}) \
                 ORDER BY created_at DESC, id DESC LIMIT {LATEST_MESSAGES}) x \
                 LEFT JOIN users au ON au.id = x.author_id",
                t("x.created_at"),
                t("x.read_at")
            ))
        ));
        fields.push(format!(
            "'appointments', {}",
            d.list(&format!(
                "SELECT {agg}({obj}('id', ap.id, 'kind', ap.kind, 'starts_at', {}, \
                 'duration_minutes', ap.duration_minutes, 'place', ap.place, 'bring', ap.bring, \
                 'sequence', ap.sequence, 'cancelled_at', {}) ORDER BY ap.starts_at, ap.id) \
                 FROM appointments ap WHERE ap.matter_id = m.id AND ap.cancelled_at IS NULL \
                 AND ap.starts_at > {VALUE}",
                t("ap.starts_at"),
                t("ap.cancelled_at")
            ))
        ));
        fields.push(format!(
            "'visits', {}",
            d.list(&format!(
                "SELECT {agg}({obj}('id', v.id, 'provider_id', v.provider_id, 'provider_name', v.name, \
                 'provider_kind', v.kind, 'visit_on', v.visit_on, 'status', v.status, 'note', v.note, \
                 'created_at', {}) ORDER BY v.visit_on DESC, v.created_at DESC) \
                 FROM (SELECT tv.id, tv.provider_id, tp.name, tp.kind, tv.visit_on, tv.status, tv.note, \
                 tv.created_at FROM treatment_visits tv \
                 JOIN treatment_providers tp ON tp.id = tv.provider_id AND tp.matter_id = tv.matter_id \
                 WHERE tv.matter_id = m.id ORDER BY tv.visit_on DESC, tv.created_at DESC \
                 LIMIT {LATEST_VISITS}) v",
                t("v.created_at")
            ))
        ));
    }
    let cast = match d {
        Dialect::Postgres => "::text",
        Dialect::Sqlite => "",
    };
    let page = match reads {
        Reads::Version => format!("NULL{cast}"),
        Reads::Detail | Reads::Page => format!(
            "CASE WHEN m.id IS NULL THEN NULL ELSE \
             (SELECT {obj}({fields}){cast} FROM firms mf LEFT JOIN users cm ON cm.id = m.case_manager_id \
             WHERE mf.id = m.firm_id) END",
            fields = fields.join(", ")
        ),
    };
    format!(
        "SELECT u.id, u.firm_id, u.role, u.email, u.full_name, u.phone, u.language, u.weekly_updates, \
         u.password_hash, u.totp_secret, u.totp_last_step, u.failed_sign_ins, u.locked_until, u.created_at, \
         u.updated_at, s.id AS session_id, s.last_seen_at AS session_last_seen_at, f.name AS firm_name, \
         f.time_zone AS firm_time_zone, m.page_version, {page} AS page \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN firms f ON f.id = u.firm_id \
         LEFT JOIN (matter_clients mc JOIN matters m ON m.id = mc.matter_id) \
         ON mc.matter_id = {VALUE} AND mc.client_id = u.id \
         WHERE s.id = {VALUE} AND s.user_id = {VALUE} AND s.revoked_at IS NULL AND s.expires_at > {VALUE}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_has_a_place_for_each_value_it_is_given() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            // One more piece than values: the text after the last one.
            assert_eq!(statement(dialect, Reads::Page).len(), 6);
            assert_eq!(statement(dialect, Reads::Detail).len(), 5);
            assert_eq!(statement(dialect, Reads::Version).len(), 5);
        }
    }

    #[test]
    fn a_page_lasts_until_the_firms_midnight_or_the_first_appointments_end() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("a time");
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a day");
        // Midnight in Chicago is 06:00 UTC in December.
        assert_eq!(valid_until("America/Chicago", today, &[]), at("2026-12-08 06:00"));
        assert_eq!(valid_until("UTC", today, &[]), at("2026-12-08 00:00"));
        let appointment = |ends: &str| AppointmentView {
            id: "a".into(),
            kind: AppointmentKind::MedicalExam,
            starts_at: at(ends) - Duration::minutes(30),
            ends_at: at(ends),
            duration_minutes: 30,
            place: "Clinic".into(),
            bring: None,
            sequence: 0,
            cancelled_at: None,
        };
        let listed = [appointment("2026-12-09 15:00"), appointment("2026-12-07 21:30")];
        assert_eq!(valid_until("America/Chicago", today, &listed), at("2026-12-07 21:30"));
        assert_eq!(valid_until("America/Chicago", today, &listed[..1]), at("2026-12-08 06:00"));
    }

    #[test]
    fn internal_notes_and_staff_only_messages_are_never_selected() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let page = statement(dialect, Reads::Page).concat();
            assert!(page.contains("kind <> 'internal_note'"), "{page}");
            assert!(page.contains("AND client_visible"), "{page}");
            assert_eq!(page.matches("kind IN ('client', 'reply')").count(), 2, "{page}");
            assert!(page.contains("mc.client_id = u.id"), "{page}");
        }
    }
}
