//! Two-way messages between a matter's clients and the firm.
//!
//! A matter has one conversation. Clients write messages (with files sent
//! through the upload pipeline as attachments); staff reply, write notes that
//! only staff see, or mark the client's messages "handled, no reply needed".
//! What a client reads is only [`MessageKind::CLIENT_VISIBLE`]: every client
//! query here filters on it, so a note can never reach a client page, the
//! client API or an email.
//!
//! Notices go through the delivery pipeline, queued in the transaction that
//! writes the message:
//! - a reply queues "you have a new message" for each client of the matter,
//!   held [`NOTICE_DELAY`] and skipped if a client read it meanwhile
//!   ([`crate::notifications::kinds::message_reply`]);
//! - a client's message queues one email per conversation and
//!   [`STAFF_BATCH`] window to the case manager, else the firm's admins
//!   ([`crate::notifications::kinds::client_messages`]).

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::AggregateExpressionMethods;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Actor};
use crate::db::models::{Matter, Message, MessageAttachment, User};
use crate::db::schema::{documents, matters, message_attachments, messages, users};
use crate::db::{DbConnection, write_transaction};
use crate::domain::{MessageKind, new_id};
use crate::error::{Error, Result};
use crate::notifications::kinds::{client_messages, message_reply};
use crate::rate_limit::Limit;
use crate::staff::{Staff, firm_matter};

/// The longest message accepted, in characters.
pub const MAX_CHARS: usize = 5000;
/// Messages a client may write per hour (all their matters together).
pub const PER_CLIENT: Limit = Limit { max: 30, window: Duration::hours(1) };
/// How long a reply's notice waits: a client who reads the reply meanwhile gets none.
pub const NOTICE_DELAY: Duration = Duration::minutes(5);
/// Staff hear of new client messages at most once per conversation per this window.
pub const STAFF_BATCH: Duration = Duration::minutes(15);
/// Conversations listed in a staff inbox at most.
pub const INBOX_LIMIT: i64 = 200;

/// The rate-limit bucket of a client's messages.
pub fn rate_bucket(client_id: &str) -> String {
    format!("message:{client_id}")
}

/// What is wrong with a message's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Nothing written and no file sent.
    Empty,
    /// Longer than [`MAX_CHARS`].
    TooLong,
    /// A control, text-direction or zero-width character.
    Control,
}

impl Problem {
    /// The locale key of the message a page shows.
    pub fn key(self) -> &'static str {
        match self {
            Self::Empty => "message-error-empty",
            Self::TooLong => "message-error-too-long",
            Self::Control => "message-error-control",
        }
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Error::invalid(
            "body",
            match problem {
                Problem::Empty => "is empty: write a message (or, from a client, attach a file)".to_owned(),
                Problem::TooLong => format!("must be at most {MAX_CHARS} characters"),
                Problem::Control => "contains a control, text-direction or zero-width character".to_owned(),
            },
        )
    }
}

/// A message's text, trimmed with line breaks made `\n`; empty is allowed
/// here (a client may send files alone: see [`Problem::Empty`]).
pub fn check_text(text: &str) -> std::result::Result<String, Problem> {
    let text = crate::text::multiline("body", text).map_err(|_| Problem::Control)?;
    if text.chars().count() > MAX_CHARS {
        return Err(Problem::TooLong);
    }
    Ok(text)
}

/// A file sent with a message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachmentView {
    /// The document's id (download it as one of the matter's documents).
    pub document_id: String,
    /// The file name.
    pub name: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// The type decided from its bytes.
    pub content_type: String,
}

/// A message as a client sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientMessage {
    /// Message id.
    pub id: String,
    /// `client` (written by a client of the matter) or `reply` (from the legal team).
    pub kind: MessageKind,
    /// Whether the signed-in client wrote it.
    pub mine: bool,
    /// Who wrote it.
    pub author: Option<String>,
    /// The text, as written (shown as text, never as markup).
    pub body: String,
    /// When it was written (UTC).
    pub created_at: NaiveDateTime,
    /// A client's message: when the legal team first opened it. A reply: when a client first read it.
    pub read_at: Option<NaiveDateTime>,
    /// Files sent with it.
    pub attachments: Vec<AttachmentView>,
}

/// A message as staff see it: every kind, notes and "handled" marks included.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffMessage {
    /// Message id.
    pub id: String,
    /// `client`, `reply`, `note` (staff only) or `handled` (staff only).
    pub kind: MessageKind,
    /// Who wrote it.
    pub author: Option<String>,
    /// The text, as written.
    pub body: String,
    /// When it was written (UTC).
    pub created_at: NaiveDateTime,
    /// When the other side first opened it.
    pub read_at: Option<NaiveDateTime>,
    /// On a client's message: when a reply or "handled" answered it.
    pub answered_at: Option<NaiveDateTime>,
    /// Files sent with it.
    pub attachments: Vec<AttachmentView>,
}

/// Authors' names by id.
fn names(conn: &mut DbConnection, rows: &[Message]) -> Result<HashMap<String, String>> {
    let mut ids: Vec<&str> = rows.iter().filter_map(|m| m.author_id.as_deref()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::full_name))
        .load(conn)?
        .into_iter()
        .collect())
}

/// Attachments by message id.
fn attachments(conn: &mut DbConnection, rows: &[Message]) -> Result<HashMap<String, Vec<AttachmentView>>> {
    let ids: Vec<&str> = rows.iter().map(|m| m.id.as_str()).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found: Vec<(String, String, String, i64, String)> = message_attachments::table
        .inner_join(documents::table)
        .filter(message_attachments::message_id.eq_any(ids))
        .order(documents::created_at)
        .select((
            message_attachments::message_id,
            documents::id,
            documents::original_name,
            documents::size_bytes,
            documents::content_type,
        ))
        .load(conn)?;
    let mut by_message: HashMap<String, Vec<AttachmentView>> = HashMap::new();
    for (message, document_id, name, size_bytes, content_type) in found {
        by_message.entry(message).or_default().push(AttachmentView { document_id, name, size_bytes, content_type });
    }
    Ok(by_message)
}

/// The conversation of `client`'s matter `matter_id`, oldest first, as the
/// client sees it; [`Error::NotFound`] for a matter that is not theirs.
pub fn for_client(conn: &mut DbConnection, client: &User, matter_id: &str) -> Result<Vec<ClientMessage>> {
    let matter = crate::client_view::own_matter(conn, client, matter_id)?;
    let rows: Vec<Message> = messages::table
        .filter(messages::matter_id.eq(&matter.id))
        .filter(messages::kind.eq_any(MessageKind::CLIENT_VISIBLE))
        .order((messages::created_at, messages::id))
        .select(Message::as_select())
        .load(conn)?;
    let (names, mut files) = (names(conn, &rows)?, attachments(conn, &rows)?);
    Ok(rows
        .into_iter()
        .map(|m| ClientMessage {
            mine: m.author_id.as_deref() == Some(client.id.as_str()),
            author: m.author_id.as_ref().and_then(|a| names.get(a).cloned()),
            attachments: files.remove(&m.id).unwrap_or_default(),
            id: m.id,
            kind: m.kind,
            body: m.body,
            created_at: m.created_at,
            read_at: m.read_at,
        })
        .collect())
}

/// Marks the replies on `matter_id` read by a client (the first reading
/// counts); returns how many were unread.
pub fn mark_read_by_client(conn: &mut DbConnection, matter_id: &str, now: NaiveDateTime) -> Result<usize> {
    mark_read(conn, matter_id, MessageKind::Reply, now)
}

/// Marks the unread messages of `kind` on `matter_id` read at `now`; returns how many there were.
fn mark_read(conn: &mut DbConnection, matter_id: &str, kind: MessageKind, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::update(
        messages::table
            .filter(messages::matter_id.eq(matter_id))
            .filter(messages::kind.eq(kind))
            .filter(messages::read_at.is_null()),
    )
    .set(messages::read_at.eq(now))
    .execute(conn)?)
}

/// Unread replies per matter, for `client`'s matters (matters without any are absent).
pub fn unread_replies(conn: &mut DbConnection, client_id: &str) -> Result<HashMap<String, i64>> {
    use crate::db::schema::matter_clients;
    Ok(messages::table
        .inner_join(matter_clients::table.on(matter_clients::matter_id.eq(messages::matter_id)))
        .filter(matter_clients::client_id.eq(client_id))
        .filter(messages::kind.eq(MessageKind::Reply))
        .filter(messages::read_at.is_null())
        .group_by(messages::matter_id)
        .select((messages::matter_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Unread replies on each of `matter_ids` (for the weekly update).
pub fn unread_on(conn: &mut DbConnection, matter_ids: &[&str]) -> Result<HashMap<String, i64>> {
    if matter_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(messages::table
        .filter(messages::matter_id.eq_any(matter_ids))
        .filter(messages::kind.eq(MessageKind::Reply))
        .filter(messages::read_at.is_null())
        .group_by(messages::matter_id)
        .select((messages::matter_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Writes `client`'s message on their `matter` with the documents
/// `attachments` (already stored by the upload pipeline, on this matter), and
/// queues the staff notice, in one transaction. `body` is checked here; it may
/// be empty only when files come with it.
pub fn post_by_client(
    conn: &mut DbConnection,
    client: &User,
    matter: &Matter,
    body: &str,
    attachments: &[String],
    ip: Option<&str>,
    now: NaiveDateTime,
) -> Result<Message> {
    let body = check_text(body)?;
    if body.is_empty() && attachments.is_empty() {
        return Err(Problem::Empty.into());
    }
    let message = written(matter, &client.id, MessageKind::Client, body, now);
    write_transaction(conn, |conn| {
        // The matter is still the client's (it was checked before the files were read).
        crate::client_view::own_matter(conn, client, &matter.id)?;
        diesel::insert_into(messages::table).values(&message).execute(conn)?;
        attach(conn, &message.id, &matter.id, attachments)?;
        client_messages::enqueue(conn, matter, now)?;
        audit::append(
            conn,
            &audit::Event {
                firm_id: Some(&matter.firm_id),
                actor: Actor::Client(&client.id),
                action: "message.sent",
                target_type: "matter",
                target_id: Some(&matter.id),
                ip,
                detail: Some(format!("message {} with {} file(s)", message.id, attachments.len())),
            },
            now,
        )?;
        Ok(())
    })?;
    metrics::counter!(crate::metrics::MESSAGES, "direction" => "from_client").increment(1);
    Ok(message)
}

/// A new message of `kind` on `matter` by `author`, written at `now`.
fn written(matter: &Matter, author: &str, kind: MessageKind, body: String, now: NaiveDateTime) -> Message {
    Message {
        id: new_id(),
        firm_id: matter.firm_id.clone(),
        matter_id: matter.id.clone(),
        author_id: Some(author.to_owned()),
        kind,
        body,
        created_at: now,
        read_at: None,
        answered_at: None,
    }
}

/// Links the documents `ids` of matter `matter_id` to message `message_id`.
fn attach(conn: &mut DbConnection, message_id: &str, matter_id: &str, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let on_matter: Vec<String> = documents::table
        .filter(documents::id.eq_any(ids))
        .filter(documents::matter_id.eq(matter_id))
        .select(documents::id)
        .load(conn)?;
    let rows: Vec<MessageAttachment> = on_matter
        .into_iter()
        .map(|document_id| MessageAttachment { message_id: message_id.to_owned(), document_id })
        .collect();
    crate::insert_many!(conn, message_attachments::table, &rows)?;
    Ok(())
}

/// Which conversations a staff inbox lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Show {
    /// Conversations waiting for a reply, on any matter of the firm.
    #[default]
    Unanswered,
    /// Conversations on matters the staff member manages.
    Mine,
    /// Every conversation of the firm.
    All,
}

/// A conversation in the staff inbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Conversation {
    /// The matter's id.
    pub matter_id: String,
    /// The matter's title.
    pub title: String,
    /// The case manager's name.
    pub case_manager: Option<String>,
    /// Client messages waiting for a reply.
    pub unanswered: i64,
    /// When the oldest of them was written (UTC).
    pub oldest_unanswered_at: Option<NaiveDateTime>,
    /// The newest of them, as written.
    pub latest_unanswered: Option<String>,
    /// When anything was last written on the conversation (UTC).
    pub last_message_at: NaiveDateTime,
}

/// The staff member's inbox: conversations with unanswered client messages
/// first (the longest waiting first), then the rest by latest message.
pub fn inbox(conn: &mut DbConnection, staff: &Staff, show: Show) -> Result<Vec<Conversation>> {
    // Every unanswered client message of the firm: the inbox's point, and few.
    let waiting: Vec<(String, String, NaiveDateTime)> = messages::table
        .filter(messages::firm_id.eq(&staff.firm_id))
        .filter(messages::kind.eq(MessageKind::Client))
        .filter(messages::answered_at.is_null())
        .order(messages::created_at)
        .select((messages::matter_id, messages::body, messages::created_at))
        .load(conn)?;
    let mut unanswered: HashMap<String, (i64, NaiveDateTime, String)> = HashMap::new();
    for (matter, body, at) in waiting {
        let entry = unanswered.entry(matter).or_insert((0, at, String::new()));
        entry.0 += 1;
        entry.2 = body;
    }
    let latest: Vec<(String, Option<NaiveDateTime>)> = match show {
        Show::Unanswered => Vec::new(),
        Show::Mine | Show::All => {
            let mut query = messages::table
                .inner_join(matters::table)
                .filter(messages::firm_id.eq(&staff.firm_id))
                .group_by(messages::matter_id)
                .select((messages::matter_id, diesel::dsl::max(messages::created_at)))
                .order(diesel::dsl::max(messages::created_at).desc())
                .limit(INBOX_LIMIT)
                .into_boxed();
            if show == Show::Mine {
                query = query.filter(matters::case_manager_id.eq(&staff.id));
            }
            query.load(conn)?
        }
    };
    let mut ids: Vec<String> = unanswered.keys().cloned().collect();
    ids.extend(latest.iter().map(|(m, _)| m.clone()));
    ids.sort_unstable();
    ids.dedup();
    let mut last: HashMap<String, NaiveDateTime> =
        latest.into_iter().filter_map(|(m, at)| at.map(|at| (m, at))).collect();
    let missing: Vec<&String> = ids.iter().filter(|m| !last.contains_key(*m)).collect();
    if !missing.is_empty() {
        let found: Vec<(String, Option<NaiveDateTime>)> = messages::table
            .filter(messages::matter_id.eq_any(missing))
            .group_by(messages::matter_id)
            .select((messages::matter_id, diesel::dsl::max(messages::created_at)))
            .load(conn)?;
        last.extend(found.into_iter().filter_map(|(m, at)| at.map(|at| (m, at))));
    }
    let managers = crate::client_view::CASE_MANAGERS;
    let rows: Vec<(String, String, Option<String>, Option<String>)> = matters::table
        .left_join(managers.on(matters::case_manager_id.eq(managers.field(users::id).nullable())))
        .filter(matters::id.eq_any(&ids))
        .filter(matters::firm_id.eq(&staff.firm_id))
        .select((matters::id, matters::title, matters::case_manager_id, managers.field(users::full_name).nullable()))
        .load(conn)?;
    let mut list: Vec<Conversation> = rows
        .into_iter()
        .filter(|(_, _, manager, _)| show != Show::Mine || manager.as_deref() == Some(staff.id.as_str()))
        .map(|(matter_id, title, _, case_manager)| {
            let waiting = unanswered.remove(&matter_id);
            Conversation {
                last_message_at: last.get(&matter_id).copied().unwrap_or_default(),
                unanswered: waiting.as_ref().map_or(0, |w| w.0),
                oldest_unanswered_at: waiting.as_ref().map(|w| w.1),
                latest_unanswered: waiting.map(|w| w.2),
                matter_id,
                title,
                case_manager,
            }
        })
        .collect();
    list.sort_by(|a, b| match (a.oldest_unanswered_at, b.oldest_unanswered_at) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.last_message_at.cmp(&a.last_message_at),
    });
    list.truncate(usize::try_from(INBOX_LIMIT).unwrap_or(usize::MAX));
    Ok(list)
}

/// How many conversations of the staff member's firm wait for a reply (the navigation's badge).
pub fn unanswered_count(conn: &mut DbConnection, staff: &Staff) -> Result<i64> {
    Ok(messages::table
        .filter(messages::firm_id.eq(&staff.firm_id))
        .filter(messages::kind.eq(MessageKind::Client))
        .filter(messages::answered_at.is_null())
        .select(diesel::dsl::count(messages::matter_id).aggregate_distinct())
        .first(conn)?)
}

/// The whole conversation of the firm's matter `matter_id`, oldest first,
/// notes and "handled" marks included.
pub fn thread(conn: &mut DbConnection, staff: &Staff, matter_id: &str) -> Result<Vec<StaffMessage>> {
    let matter = firm_matter(conn, staff, matter_id)?;
    let rows: Vec<Message> = messages::table
        .filter(messages::matter_id.eq(&matter.id))
        .order((messages::created_at, messages::id))
        .select(Message::as_select())
        .load(conn)?;
    let (names, mut files) = (names(conn, &rows)?, attachments(conn, &rows)?);
    Ok(rows
        .into_iter()
        .map(|m| StaffMessage {
            author: m.author_id.as_ref().and_then(|a| names.get(a).cloned()),
            attachments: files.remove(&m.id).unwrap_or_default(),
            id: m.id,
            kind: m.kind,
            body: m.body,
            created_at: m.created_at,
            read_at: m.read_at,
            answered_at: m.answered_at,
        })
        .collect())
}

/// Marks the client messages on `matter_id` read by the legal team; returns how many were unread.
pub fn mark_read_by_staff(conn: &mut DbConnection, matter_id: &str, now: NaiveDateTime) -> Result<usize> {
    mark_read(conn, matter_id, MessageKind::Client, now)
}

/// What a staff member's reply, note or "handled" did.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The message written (a reply, a note, or the "handled" mark).
    pub message: Message,
    /// How long the oldest client message it answered had waited.
    pub waited: Option<Duration>,
    /// The notices it queued (replies only).
    pub notices: Vec<String>,
}

/// Marks the unanswered client messages of `matter_id` answered at `now`;
/// returns when the oldest of them was written.
fn answer_waiting(conn: &mut DbConnection, matter_id: &str, now: NaiveDateTime) -> Result<Option<NaiveDateTime>> {
    let waiting = || {
        messages::table
            .filter(messages::matter_id.eq(matter_id))
            .filter(messages::kind.eq(MessageKind::Client))
            .filter(messages::answered_at.is_null())
    };
    let oldest: Option<NaiveDateTime> = waiting().select(diesel::dsl::min(messages::created_at)).first(conn)?;
    if oldest.is_some() {
        diesel::update(waiting()).set(messages::answered_at.eq(now)).execute(conn)?;
    }
    Ok(oldest)
}

/// Writes a staff member's reply to the matter's clients, or (with
/// `internal`) a note only staff see. A reply answers the waiting client
/// messages and queues each client's notice; a note does neither.
pub fn reply(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    body: &str,
    internal: bool,
    now: NaiveDateTime,
) -> Result<Answered> {
    let body = check_text(body)?;
    if body.is_empty() {
        return Err(Problem::Empty.into());
    }
    let kind = if internal { MessageKind::Note } else { MessageKind::Reply };
    let answered = write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let message = written(&matter, &staff.id, kind, body, now);
        diesel::insert_into(messages::table).values(&message).execute(conn)?;
        let (oldest, notices) = if internal {
            (None, Vec::new())
        } else {
            let oldest = answer_waiting(conn, &matter.id, now)?;
            (oldest, message_reply::enqueue_for_matter(conn, &matter, &message.id, now)?)
        };
        let action = if internal { "message.note" } else { "message.reply" };
        staff.audit(conn, action, "matter", &matter.id, Some(format!("message {}", message.id)), now)?;
        Ok(Answered { message, waited: oldest.map(|at| now - at), notices })
    })?;
    let direction = if internal { "internal" } else { "to_client" };
    metrics::counter!(crate::metrics::MESSAGES, "direction" => direction).increment(1);
    observe_wait(answered.waited);
    Ok(answered)
}

/// Marks the client messages waiting on `matter_id` "handled, no reply
/// needed". [`Error::Conflict`] when none is waiting.
pub fn mark_handled(conn: &mut DbConnection, staff: &Staff, matter_id: &str, now: NaiveDateTime) -> Result<Answered> {
    let answered = write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let Some(oldest) = answer_waiting(conn, &matter.id, now)? else {
            return Err(Error::Conflict("no client message is waiting for a reply".to_owned()));
        };
        let message = written(&matter, &staff.id, MessageKind::Handled, String::new(), now);
        diesel::insert_into(messages::table).values(&message).execute(conn)?;
        staff.audit(conn, "message.handled", "matter", &matter.id, None, now)?;
        Ok(Answered { message, waited: Some(now - oldest), notices: Vec::new() })
    })?;
    observe_wait(answered.waited);
    Ok(answered)
}

/// Records how long the firm took to answer.
fn observe_wait(waited: Option<Duration>) {
    if let Some(waited) = waited {
        let seconds = waited.num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!(crate::metrics::FIRST_REPLY).record(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_checked() {
        assert_eq!(check_text("  Hello\r\nthere  "), Ok("Hello\nthere".to_owned()));
        assert_eq!(check_text("   "), Ok(String::new()));
        assert_eq!(check_text("<b>bold</b>"), Ok("<b>bold</b>".to_owned()));
        assert_eq!(check_text("a\u{0}b"), Err(Problem::Control));
        assert_eq!(check_text("a\u{202E}b"), Err(Problem::Control));
        assert_eq!(check_text("a\u{7}b"), Err(Problem::Control));
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert_eq!(check_text(&"ñ".repeat(MAX_CHARS)).map(|t| t.chars().count()), Ok(MAX_CHARS));
        assert_eq!(check_text(&"a".repeat(MAX_CHARS + 1)), Err(Problem::TooLong));
    }
}
