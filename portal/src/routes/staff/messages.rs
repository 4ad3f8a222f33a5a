//! Two-way messages, the firm's side: the inbox of conversations (those
//! waiting for a reply first, the longest waiting first), a reply, an internal
//! note or "handled, no reply needed" from the inbox or a matter's page (plain
//! forms, no JavaScript needed), and the same under `/api/v1/staff` as JSON.
//!
//! What may be written, who is told and what is audited is decided in
//! [`shared::messages`]; a matter of another firm answers 404 there, exactly
//! like a missing one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use shared::domain::{MessageKind, now};
use shared::messages::{self, Answered, AttachmentView, Conversation, Show, StaffMessage};
use shared::staff::Staff;
use utoipa::{IntoParams, ToSchema};

use super::pages::{done_key, invalid_page, preview_kind, when};
use super::staff_of;
use crate::error::{AppResult, ErrorBody};
use crate::pages::{PageCtx, PageResult, see_other};
use crate::routes::ApiConfig;
use crate::session::StaffApi;
use crate::state::AppState;

/// The `?done=` values of the message forms (locale keys `staff-msg-done-…`).
pub(super) const DONE: [&str; 3] = ["reply-sent", "note-saved", "marked-handled"];

/// The characters of a waiting message the inbox shows before cutting it short.
const EXCERPT_CHARS: usize = 200;

/// Registers the inbox page and the message forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(inbox_page).service(post_message).service(post_handled);
}

/// Registers the messages API, each route with its description in `/api/openapi.json`.
pub fn configure_api(cfg: &mut ApiConfig) {
    cfg.service(list_conversations).service(get_thread).service(create_message).service(mark_handled);
}

/// The inbox filter named in a URL or form (`unanswered`, `mine`, `all`);
/// anything else is the default, "unanswered".
fn show_of(value: Option<&str>) -> Show {
    match value.map(str::trim) {
        Some("mine") => Show::Mine,
        Some("all") => Show::All,
        _ => Show::Unanswered,
    }
}

/// The URL value of an inbox filter.
fn show_name(show: Show) -> &'static str {
    match show {
        Show::Unanswered => "unanswered",
        Show::Mine => "mine",
        Show::All => "all",
    }
}

/// The inbox's address for `show` (the default filter needs no parameter).
fn inbox_href(show: Show) -> String {
    match show {
        Show::Unanswered => "/staff/messages".to_owned(),
        other => format!("/staff/messages?show={}", show_name(other)),
    }
}

/// How long a message has waited, as a locale key (`staff-msg-waiting-…`) and its count.
fn waited(for_how_long: chrono::Duration) -> (&'static str, i64) {
    let minutes = for_how_long.num_minutes().max(0);
    if minutes < 60 {
        ("staff-msg-waiting-minutes", minutes)
    } else if minutes < 48 * 60 {
        ("staff-msg-waiting-hours", minutes / 60)
    } else {
        ("staff-msg-waiting-days", minutes / (24 * 60))
    }
}

/// `text` cut to [`EXCERPT_CHARS`] characters (at a space when one is near) with an ellipsis.
fn excerpt(text: &str) -> String {
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    let at_space = cut.rfind(char::is_whitespace).filter(|at| *at >= cut.len() * 3 / 4);
    let kept = at_space.map_or(cut.as_str(), |at| &cut[..at]);
    format!("{}…", kept.trim_end())
}

// ---------------------------------------------------------------------------
// The inbox page
// ---------------------------------------------------------------------------

/// The inbox's parameters in the URL; anything else is ignored.
#[derive(Debug, Default, Deserialize)]
struct InboxQuery {
    /// `unanswered` (default), `mine` or `all`.
    #[serde(default)]
    show: Option<String>,
    /// What was just done, for the confirmation message.
    #[serde(default)]
    done: Option<String>,
}

/// A link of the inbox's filter (a segmented control).
#[derive(Serialize)]
struct FilterLink {
    href: String,
    label_key: &'static str,
    current: bool,
}

/// A conversation in the inbox.
#[derive(Serialize)]
struct ConversationLine<'a> {
    matter_id: &'a str,
    title: &'a str,
    case_manager: Option<&'a str>,
    /// Client messages waiting for a reply.
    unanswered: i64,
    /// How long the oldest of them has waited: a locale key and its count.
    waiting_key: Option<&'static str>,
    waiting_count: i64,
    /// When the oldest of them was written, in the firm's time zone.
    since: Option<String>,
    /// The newest of them, cut short.
    excerpt: Option<String>,
    /// When anything was last written, in the firm's time zone.
    last: String,
}

/// The staff inbox.
#[derive(Serialize)]
struct InboxPage<'a> {
    staff_nav: bool,
    /// Conversations waiting for a reply, for the navigation's count.
    staff_unanswered: i64,
    done: Option<String>,
    /// The filter shown (`unanswered`, `mine`, `all`), carried by the forms back here.
    show: &'static str,
    filters: Vec<FilterLink>,
    conversations: Vec<ConversationLine<'a>>,
    /// What an empty list says, per filter.
    empty_key: &'static str,
}

fn conversation_line<'a>(ctx: &PageCtx, c: &'a Conversation, at: NaiveDateTime) -> ConversationLine<'a> {
    let (waiting_key, waiting_count) = match c.oldest_unanswered_at {
        Some(oldest) => {
            let (key, count) = waited(at - oldest);
            (Some(key), count)
        }
        None => (None, 0),
    };
    ConversationLine {
        matter_id: &c.matter_id,
        title: &c.title,
        case_manager: c.case_manager.as_deref(),
        unanswered: c.unanswered,
        waiting_key,
        waiting_count,
        since: c.oldest_unanswered_at.map(|t| when(ctx, t)),
        excerpt: c.latest_unanswered.as_deref().map(excerpt),
        last: when(ctx, c.last_message_at),
    }
}

/// The inbox: conversations waiting for a reply (the longest waiting first),
/// those on the staff member's own matters, or all; each with a reply form and
/// "handled, no reply needed".
#[get("/staff/messages")]
async fn inbox_page(ctx: PageCtx, req: HttpRequest, query: web::Query<InboxQuery>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let show = show_of(query.show.as_deref());
    let (list, waiting) = ctx
        .state
        .db
        .run(move |c| Ok((messages::inbox(c, &staff, show)?, messages::unanswered_count(c, &staff)?)))
        .await?;
    let at = now();
    let filters = [
        (Show::Unanswered, "staff-msg-show-unanswered"),
        (Show::Mine, "staff-msg-show-mine"),
        (Show::All, "staff-msg-show-all"),
    ]
    .into_iter()
    .map(|(s, label_key)| FilterLink { href: inbox_href(s), label_key, current: s == show })
    .collect();
    let page = InboxPage {
        staff_nav: true,
        staff_unanswered: waiting,
        done: done_key(query.done.as_deref()),
        show: show_name(show),
        filters,
        conversations: list.iter().map(|c| conversation_line(&ctx, c, at)).collect(),
        empty_key: match show {
            Show::Unanswered => "staff-msg-empty-unanswered",
            Show::Mine => "staff-msg-empty-mine",
            Show::All => "staff-msg-empty-all",
        },
    };
    Ok(ctx.render(StatusCode::OK, "staff_messages", "staff-msg-inbox-title", page))
}

// ---------------------------------------------------------------------------
// The matter page's conversation
// ---------------------------------------------------------------------------

/// A message on the staff matter page.
#[derive(Serialize)]
pub(super) struct MessageLine<'a> {
    id: &'a str,
    /// `client`, `reply`, `note` or `handled` (the line's look).
    kind: &'static str,
    /// What the line is, in staff words (a locale key).
    kind_key: String,
    note: bool,
    handled: bool,
    author: Option<&'a str>,
    body: &'a str,
    at: String,
    /// A reply: when a client first read it.
    read: Option<String>,
    /// A client's message nobody has answered yet.
    waiting: bool,
    attachments: Vec<AttachmentLine<'a>>,
}

/// A file sent with a message: the matter's document, downloaded or previewed like the others.
#[derive(Serialize)]
struct AttachmentLine<'a> {
    name: &'a str,
    size: String,
    href: String,
    preview: Option<String>,
}

/// The conversation of matter `matter_id` as its page shows it, times in the firm's time zone.
pub(super) fn message_lines<'a>(ctx: &PageCtx, matter_id: &str, thread: &'a [StaffMessage]) -> Vec<MessageLine<'a>> {
    thread
        .iter()
        .map(|m| MessageLine {
            id: &m.id,
            kind: m.kind.as_str(),
            kind_key: format!("staff-msg-kind-{}", m.kind.as_str()),
            note: m.kind == MessageKind::Note,
            handled: m.kind == MessageKind::Handled,
            author: m.author.as_deref(),
            body: &m.body,
            at: when(ctx, m.created_at),
            read: m.read_at.filter(|_| m.kind == MessageKind::Reply).map(|t| when(ctx, t)),
            waiting: m.kind == MessageKind::Client && m.answered_at.is_none(),
            attachments: m.attachments.iter().map(|a| attachment_line(matter_id, a)).collect(),
        })
        .collect()
}

fn attachment_line<'a>(matter_id: &str, a: &'a AttachmentView) -> AttachmentLine<'a> {
    AttachmentLine {
        name: &a.name,
        size: shared::documents::human_size(a.size_bytes),
        href: format!("/matters/{matter_id}/documents/{}", a.document_id),
        preview: preview_kind(&a.content_type)
            .map(|_| format!("/staff/matters/{matter_id}/documents/{}/preview", a.document_id)),
    }
}

// ---------------------------------------------------------------------------
// The forms
// ---------------------------------------------------------------------------

/// The fields of a message form. Read from the raw body (no size limit of
/// `web::Form` below what a 5,000-character message can take once encoded);
/// unknown fields are ignored.
#[derive(Debug, Default)]
struct MessageFields {
    body: String,
    /// The "internal note" box was ticked.
    internal: bool,
    /// `inbox` to return to the inbox instead of the matter.
    back: Option<String>,
    /// The inbox filter to return to.
    show: Option<String>,
}

impl MessageFields {
    fn parse(raw: &[u8]) -> Self {
        let mut fields = Self::default();
        for (name, value) in url::form_urlencoded::parse(raw) {
            match name.as_ref() {
                "body" => fields.body = value.into_owned(),
                "internal" => fields.internal = !value.trim().is_empty() && value != "off",
                "back" => fields.back = Some(value.into_owned()),
                "show" => fields.show = Some(value.into_owned()),
                _ => {}
            }
        }
        fields
    }

    /// Where to go afterwards (the confirmation `done` added), and where the
    /// "go back" link of a refusal leads.
    fn destination(&self, matter_id: &str, done: &str) -> (String, String) {
        if self.back.as_deref() == Some("inbox") {
            let inbox = inbox_href(show_of(self.show.as_deref()));
            let sep = if inbox.contains('?') { '&' } else { '?' };
            (format!("{inbox}{sep}done={done}"), inbox)
        } else {
            let page = format!("/staff/matters/{matter_id}");
            (format!("{page}?done={done}#messages"), format!("{page}#messages"))
        }
    }
}

/// Runs a message change and redirects with its confirmation, or shows what was wrong.
async fn answer_form(
    ctx: &PageCtx,
    staff: Staff,
    fields: &MessageFields,
    matter_id: String,
    done: &'static str,
    work: impl FnOnce(&mut shared::db::DbConnection, &Staff, &str) -> shared::Result<Answered> + Send + 'static,
) -> PageResult {
    let (to, back) = fields.destination(&matter_id, done);
    match ctx.state.db.run(move |c| work(c, &staff, &matter_id).map(|_| ())).await {
        Ok(()) => Ok(see_other(&to)),
        Err(e) => invalid_page(ctx, e, &back),
    }
}

/// Writes a reply to the matter's clients (they are told by email five
/// minutes later unless they read it first), or with `internal=on` a note
/// only staff see. Form fields: `body`, `internal`, `back=inbox`, `show`.
#[post("/staff/matters/{id}/messages")]
async fn post_message(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, body: web::Bytes) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let fields = MessageFields::parse(&body);
    let (text, internal) = (fields.body.clone(), fields.internal);
    let done = if internal { "note-saved" } else { "reply-sent" };
    answer_form(&ctx, staff, &fields, path.into_inner(), done, move |c, staff, id| {
        messages::reply(c, staff, id, &text, internal, now())
    })
    .await
}

/// Marks the client messages waiting on the matter "handled, no reply
/// needed"; a readable 409 when none is waiting. Form fields: `back=inbox`, `show`.
#[post("/staff/matters/{id}/messages/handled")]
async fn post_handled(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, body: web::Bytes) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let fields = MessageFields::parse(&body);
    answer_form(&ctx, staff, &fields, path.into_inner(), "marked-handled", |c, staff, id| {
        messages::mark_handled(c, staff, id, now())
    })
    .await
}

// ---------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------

/// Which conversations to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// `unanswered` (default: waiting for a reply, on any matter of the firm),
    /// `mine` (on matters the caller manages) or `all`.
    #[serde(default)]
    #[param(inline)]
    pub show: Option<Show>,
}

/// A staff member's reply to the matter's clients, or an internal note.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMessage {
    /// The text (at most 5,000 characters; line breaks kept; no control characters).
    pub body: String,
    /// `true` for an internal note: only staff see it, nobody is told, nothing is answered.
    #[serde(default)]
    pub internal: bool,
}

/// The message `answered` wrote, as staff read it, by `author`.
fn written(answered: Answered, author: &str) -> StaffMessage {
    let m = answered.message;
    StaffMessage {
        id: m.id,
        kind: m.kind,
        author: Some(author.to_owned()),
        body: m.body,
        created_at: m.created_at,
        read_at: m.read_at,
        answered_at: m.answered_at,
        attachments: Vec::new(),
    }
}

/// The firm's conversations with clients: those waiting for a reply first
/// (the longest waiting first), then by latest message; at most 200.
#[utoipa::path(
    tag = "staff", params(ConversationQuery),
    responses(
        (status = 200, body = Vec<Conversation>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/conversations")]
async fn list_conversations(
    state: web::Data<AppState>,
    user: StaffApi,
    query: web::Query<ConversationQuery>,
) -> AppResult<web::Json<Vec<Conversation>>> {
    let (staff, show) = (user.staff, query.into_inner().show.unwrap_or_default());
    Ok(web::Json(state.db.run(move |c| messages::inbox(c, &staff, show)).await?))
}

/// A matter's whole conversation, oldest first: client messages, replies,
/// internal notes and "handled" marks. Reading it marks the client messages
/// read by the legal team.
#[utoipa::path(
    tag = "staff", params(("id" = String, Path, description = "Matter id")),
    responses(
        (status = 200, body = Vec<StaffMessage>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/matters/{id}/messages")]
async fn get_thread(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
) -> AppResult<web::Json<Vec<StaffMessage>>> {
    let (staff, id, at) = (user.staff, id.into_inner(), now());
    Ok(web::Json(
        state
            .db
            .run(move |c| {
                let matter = shared::staff::firm_matter(c, &staff, &id)?;
                messages::mark_read_by_staff(c, &matter.id, at)?;
                messages::thread(c, &staff, &matter.id)
            })
            .await?,
    ))
}

/// Writes a reply to the matter's clients: it answers the client messages
/// waiting, and each client is told by email five minutes later unless they
/// read it first. With `internal`, a note only staff see (nobody is told).
/// Audited (`message.reply`, `message.note`).
#[utoipa::path(
    tag = "staff", request_body = NewMessage,
    params(("id" = String, Path, description = "Matter id")),
    responses(
        (status = 201, body = StaffMessage),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "`body` is empty, longer than 5,000 characters or holds a control character; nothing was stored", body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/messages")]
async fn create_message(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<NewMessage>,
) -> AppResult<HttpResponse> {
    let (staff, id, body) = (user.staff, id.into_inner(), body.into_inner());
    let answered = state.db.run(move |c| messages::reply(c, &staff, &id, &body.body, body.internal, now())).await?;
    Ok(HttpResponse::Created().json(written(answered, &user.viewer.user.full_name)))
}

/// Marks the client messages waiting on the matter "handled, no reply
/// needed" (no email; audited `message.handled`); answers the mark written.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id")),
    responses(
        (status = 200, body = StaffMessage),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "No client message is waiting for a reply", body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/messages/handled")]
async fn mark_handled(state: web::Data<AppState>, user: StaffApi, id: web::Path<String>) -> AppResult<HttpResponse> {
    let (staff, id) = (user.staff, id.into_inner());
    let answered = state.db.run(move |c| messages::mark_handled(c, &staff, &id, now())).await?;
    Ok(HttpResponse::Ok().json(written(answered, &user.viewer.user.full_name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_cut_short_with_an_ellipsis() {
        assert_eq!(excerpt("Short."), "Short.");
        let exact = "a".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&exact), exact);
        let long = "ñ".repeat(EXCERPT_CHARS + 50);
        assert_eq!(excerpt(&long), format!("{}…", "ñ".repeat(EXCERPT_CHARS)));
        let words = "word ".repeat(100);
        let cut = excerpt(&words);
        assert!(cut.ends_with("word…") && cut.chars().count() <= EXCERPT_CHARS + 1, "{cut}");
    }

    #[test]
    fn waiting_reads_in_minutes_then_hours_then_days() {
        use chrono::Duration;
        assert_eq!(waited(Duration::seconds(20)), ("staff-msg-waiting-minutes", 0));
        assert_eq!(waited(Duration::minutes(59)), ("staff-msg-waiting-minutes", 59));
        assert_eq!(waited(Duration::minutes(185)), ("staff-msg-waiting-hours", 3));
        assert_eq!(waited(Duration::hours(47)), ("staff-msg-waiting-hours", 47));
        assert_eq!(waited(Duration::hours(73)), ("staff-msg-waiting-days", 3));
        assert_eq!(waited(Duration::minutes(-5)), ("staff-msg-waiting-minutes", 0));
    }

    #[test]
    fn unknown_filters_and_returns_fall_back_safely() {
        assert_eq!(show_of(Some("mine")), Show::Mine);
        assert_eq!(show_of(Some("<script>")), Show::Unanswered);
        let fields = MessageFields::parse(b"body=Hi%0Athere&internal=on&back=inbox&show=all&extra=1");
        assert_eq!((fields.body.as_str(), fields.internal), ("Hi\nthere", true));
        assert_eq!(fields.destination("m1", "note-saved").0, "/staff/messages?show=all&done=note-saved");
        let fields = MessageFields::parse(b"body=x&back=https%3A%2F%2Fevil.example");
        assert_eq!(fields.destination("m1", "reply-sent").0, "/staff/matters/m1?done=reply-sent#messages");
    }
}
