//! The client's conversation with their legal team: the messages page, the
//! compose form (a plain multipart form: text first, then any files, which go
//! through the upload pipeline like any document), and the same under
//! `/api/v1`. Every route checks that the matter is the signed-in client's;
//! anything else is 404, exactly like a missing matter.
//!
//! Nothing is lost on bad input: a refused text comes back in the form with
//! the reason; files refused or cut off are named beside the message that was
//! sent without them.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use shared::db::models::{Matter, User};
use shared::documents::human_size;
use shared::domain::{MessageKind, now};
use shared::messages::{self, ClientMessage, Problem};
use shared::rate_limit;
use utoipa::ToSchema;

use crate::error::{AppError, AppResult, ErrorBody};
use crate::pages::{PageCtx, PageResult};
use crate::routes::ApiConfig;
use crate::routes::documents::{ReceiptView, closed_page, matter_for_upload};
use crate::session::{ApiUser, client_ip};
use crate::state::AppState;
use crate::upload::{self, Target, UploadReport};

/// Registers the messages pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(messages_page).service(post_message);
}

/// Registers the messages API, each route with its description in `/api/openapi.json`.
pub fn configure_api(cfg: &mut ApiConfig) {
    cfg.service(api_messages).service(api_write_message);
}

/// A file sent with a message, on a page.
#[derive(Serialize)]
pub(crate) struct AttachmentLine {
    href: String,
    name: String,
    size: String,
}

/// A message on a client's page.
#[derive(Serialize)]
pub(crate) struct MessageLine {
    id: String,
    /// Written by the signed-in client.
    mine: bool,
    /// From the legal team (a reply).
    from_firm: bool,
    author: Option<String>,
    body: String,
    at: String,
    at_iso: String,
    /// The client's message was opened by the legal team / the reply was read.
    read: bool,
    attachments: Vec<AttachmentLine>,
}

/// The lines a page shows of `messages`, with times in the page's language and the firm's zone.
pub(crate) fn lines(ctx: &PageCtx, matter_id: &str, messages: Vec<ClientMessage>) -> Vec<MessageLine> {
    messages
        .into_iter()
        .map(|m| MessageLine {
            attachments: m
                .attachments
                .into_iter()
                .map(|a| AttachmentLine {
                    href: format!("/matters/{matter_id}/documents/{}", a.document_id),
                    size: human_size(a.size_bytes),
                    name: a.name,
                })
                .collect(),
            at: when(ctx, m.created_at),
            at_iso: m.created_at.and_utc().to_rfc3339(),
            read: m.read_at.is_some(),
            from_firm: m.kind == MessageKind::Reply,
            id: m.id,
            mine: m.mine,
            author: m.author,
            body: m.body,
        })
        .collect()
}

/// A message's date and time in the page's language and the firm's time zone.
fn when(ctx: &PageCtx, at: NaiveDateTime) -> String {
    let zone = ctx.require_user().map_or("UTC", |v| v.firm_time_zone.as_str());
    let local = shared::domain::local_time(zone, at);
    format!("{}, {}", ctx.date(at), local.format("%H:%M"))
}

/// The compose form's data (`partials/compose.hbs`), on the messages page and the case page.
#[derive(Serialize)]
pub struct Compose<'a> {
    pub matter_id: &'a str,
    pub draft: Draft,
    /// The largest file, in words ("25 MB").
    pub max: String,
    pub max_chars: usize,
}

impl<'a> Compose<'a> {
    /// The form for `matter_id` with `draft` in it.
    pub fn new(state: &AppState, matter_id: &'a str, draft: Draft) -> Self {
        let max_upload = state.config.max_upload_bytes;
        Compose {
            matter_id,
            draft,
            max: human_size(i64::try_from(max_upload).unwrap_or(i64::MAX)),
            max_chars: messages::MAX_CHARS,
        }
    }
}

/// The compose form as it comes back: the text sent, and what was wrong (empty at first).
#[derive(Serialize, Default)]
pub struct Draft {
    text: String,
    /// The locale key of what was wrong with the text.
    error: Option<&'static str>,
}

#[derive(Serialize)]
struct MessagesPage<'a> {
    title: String,
    matter: MatterNamed<'a>,
    messages: Vec<MessageLine>,
    /// The compose form is shown (the matter takes messages).
    open: bool,
    compose: Compose<'a>,
    /// The message was just sent.
    sent: bool,
    /// Files of the message just sent that were not attached, and why.
    upload: Option<ReceiptView<'a>>,
}

#[derive(Serialize)]
struct MatterNamed<'a> {
    id: &'a str,
    title: &'a str,
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    sent: Option<String>,
}

#[get("/matters/{id}/messages")]
async fn messages_page(ctx: PageCtx, path: web::Path<String>, query: web::Query<PageQuery>) -> PageResult {
    if matches!(ctx.require_user(), Err(shared::Error::Unauthenticated)) {
        return Ok(crate::routes::sign_in::to_sign_in(&ctx.state, &ctx.path));
    }
    let sent = query.sent.is_some();
    render_page(&ctx, StatusCode::OK, path.into_inner(), Draft::default(), sent, None).await
}

/// The messages page of the client's matter `id`, marking the firm's replies read.
async fn render_page(
    ctx: &PageCtx,
    status: StatusCode,
    id: String,
    draft: Draft,
    sent: bool,
    upload: Option<&UploadReport>,
) -> PageResult {
    let client = ctx.require_user()?.user.clone();
    let (matter, accepts, messages, unread) = ctx
        .state
        .db
        .run(move |conn| {
            let matter = shared::client_view::own_matter(conn, &client, &id)?;
            let accepts = shared::client_view::accepts_uploads(conn, &matter)?;
            let messages = messages::for_client(conn, &client, &matter.id)?;
            let unread = messages::mark_read_by_client(conn, &matter.id, now())?;
            Ok((matter, accepts, messages, unread))
        })
        .await?;
    let title = match unread {
        0 => ctx.text("messages-title"),
        n => format!("({n}) {}", ctx.text("messages-title")),
    };
    let max_upload = ctx.state.config.max_upload_bytes;
    let page = MessagesPage {
        title,
        matter: MatterNamed { id: &matter.id, title: &matter.title },
        messages: lines(ctx, &matter.id, messages),
        open: accepts,
        compose: Compose::new(&ctx.state, &matter.id, draft),
        sent,
        upload: upload.filter(|r| !r.refused.is_empty() || r.stopped.is_some()).map(|r| ReceiptView::of(r, max_upload)),
    };
    Ok(ctx.render(status, "messages", "messages-title", page))
}

/// Whether `client` may write another message now ([`messages::PER_CLIENT`]).
async fn within_limit(state: &AppState, client: &User) -> shared::Result<bool> {
    let bucket = messages::rate_bucket(&client.id);
    let limit = messages::PER_CLIENT;
    state
        .db
        .run(move |conn| {
            let (hits, _) = rate_limit::hits_since(conn, &bucket, now() - limit.window)?;
            Ok(hits < limit.max)
        })
        .await
}

/// What became of a posted message.
enum Posted {
    /// Written, with the files the upload stored.
    Sent(Box<ClientMessage>),
    /// Not written: the text and what was wrong.
    Refused(String, Problem),
}

/// Writes `client`'s message on `matter` from an upload `report` (the text
/// and the stored files) and counts it against the rate limit.
async fn write(
    state: &AppState,
    client: &User,
    matter: &Matter,
    report: &UploadReport,
    ip: Option<String>,
) -> shared::Result<Posted> {
    let (sent, checked) = match &report.text {
        Some(text) => (text.sent.clone(), text.checked.clone()),
        None => (String::new(), Ok(String::new())),
    };
    let body = match checked {
        Ok(body) => body,
        Err(problem) => return Ok(Posted::Refused(sent, problem)),
    };
    let files: Vec<String> = report.stored.iter().map(|f| f.id.clone()).collect();
    if body.is_empty() && files.is_empty() {
        return Ok(Posted::Refused(sent, Problem::Empty));
    }
    let (client, matter) = (client.clone(), matter.clone());
    let posted = state
        .db
        .run(move |conn| {
            let message = messages::post_by_client(conn, &client, &matter, &body, &files, ip.as_deref(), now())?;
            rate_limit::record(conn, &messages::rate_bucket(&client.id), message.created_at)?;
            // The client's own view of what was written, attachments included.
            let mine = messages::for_client(conn, &client, &matter.id)?;
            Ok(mine.into_iter().find(|m| m.id == message.id))
        })
        .await?;
    posted
        .map(|m| Posted::Sent(Box::new(m)))
        .ok_or_else(|| shared::Error::Internal(anyhow::anyhow!("a message just written is missing")))
}

#[post("/matters/{id}/messages")]
async fn post_message(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, body: Multipart) -> PageResult {
    let viewer = ctx.require_user()?.clone();
    let (matter, accepts) = matter_for_upload(&ctx.state, &viewer.user, path.into_inner()).await?;
    let target = Target {
        uploader: &viewer.user,
        source: shared::documents::DocumentSource::Client,
        matter: &matter,
        ip: client_ip(&req),
        message: true,
    };
    if !accepts {
        upload::refuse_closed_matter(&ctx.state, &target, body).await;
        return Ok(closed_page(&ctx, StatusCode::CONFLICT, &matter.id));
    }
    if !within_limit(&ctx.state, &viewer.user).await? {
        upload::discard(&ctx.state, body).await;
        let back = format!("/matters/{}/messages", matter.id);
        return Ok(ctx.message(
            StatusCode::TOO_MANY_REQUESTS,
            "messages-rate-limited-title",
            "messages-rate-limited-body",
            Some((&back, "messages-back")),
        ));
    }
    let report = upload::receive(&ctx.state, target, body).await;
    let draft = |text: String, error| Draft { text, error: Some(error) };
    match write(&ctx.state, &viewer.user, &matter, &report, client_ip(&req)).await {
        Ok(Posted::Refused(text, problem)) => {
            let status = match problem {
                Problem::Empty if report.stopped.is_some() => crate::routes::documents::status_of(&report),
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            render_page(&ctx, status, matter.id.clone(), draft(text, problem.key()), false, Some(&report)).await
        }
        Ok(Posted::Sent(_)) if report.refused.is_empty() && report.stopped.is_none() => {
            Ok(crate::pages::see_other(&format!("/matters/{}/messages?sent=1#latest", matter.id)))
        }
        // Sent, but not every file went with it: the page names those that did not.
        Ok(Posted::Sent(_)) => {
            let status = crate::routes::documents::status_of(&report);
            render_page(&ctx, status, matter.id.clone(), Draft::default(), true, Some(&report)).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not write a client's message");
            let text = report.text.as_ref().map(|t| t.sent.clone()).unwrap_or_default();
            let status = crate::error::status_of(&e);
            render_page(&ctx, status, matter.id.clone(), draft(text, "messages-error-not-sent"), false, Some(&report))
                .await
        }
    }
}

/// The conversation on one of my matters, oldest first. Reading it marks the
/// legal team's replies read.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = Vec<ClientMessage>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/matters/{id}/messages")]
async fn api_messages(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<String>,
) -> AppResult<web::Json<Vec<ClientMessage>>> {
    let (client, id) = (user.0.user, id.into_inner());
    let messages = state
        .db
        .run(move |conn| {
            let messages = messages::for_client(conn, &client, &id)?;
            messages::mark_read_by_client(conn, &id, now())?;
            Ok(messages)
        })
        .await?;
    Ok(web::Json(messages))
}

/// A text-only message, as JSON.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMessage {
    /// The text: at most 5,000 characters, no control characters; shown as text.
    pub body: String,
}

/// A message written, and what became of the files sent with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostedMessage {
    /// The message as the conversation shows it.
    pub message: ClientMessage,
    /// The files: stored ones are the message's attachments; refused or cut-off ones are not attached.
    pub files: UploadReport,
}

/// Write to the legal team on one of my matters: JSON `{"body": "…"}`, or
/// `multipart/form-data` with a `body` field first and then any number of
/// `file` fields (checked, limited and stored like any upload). 201 once the
/// message is written, even if some files were refused: `files` says which.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    request_body(content = NewMessage, description = "JSON, or multipart/form-data: `body`, then `file` (repeatable)"),
    responses(
        (status = 201, description = "Written; `files.refused` and `files.stopped` name files not attached", body = PostedMessage),
        (status = 409, description = "The matter is closed and takes no more messages", body = ErrorBody),
        (status = 422, description = "Empty, over 5,000 characters, or with control characters; nothing written", body = ErrorBody),
        (status = 429, description = "More than 30 messages in the last hour; nothing written", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/matters/{id}/messages")]
async fn api_write_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: ApiUser,
    id: web::Path<String>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let client = user.0.user;
    let (matter, accepts) = matter_for_upload(&state, &client, id.into_inner()).await?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let target = Target {
        uploader: &client,
        source: shared::documents::DocumentSource::Client,
        matter: &matter,
        ip: client_ip(&req),
        message: true,
    };
    let refuse = |status: StatusCode, error: String| {
        HttpResponse::build(status).json(ErrorBody { error, status: status.as_u16() })
    };
    if !accepts {
        if multipart {
            upload::refuse_closed_matter(&state, &target, Multipart::new(req.headers(), payload)).await;
        }
        let message = state.renderer.locales().text(client.language, "messages-closed");
        return Ok(refuse(StatusCode::CONFLICT, message));
    }
    if !within_limit(&state, &client).await? {
        if multipart {
            upload::discard(&state, Multipart::new(req.headers(), payload)).await;
        }
        return Ok(refuse(StatusCode::TOO_MANY_REQUESTS, "too many messages: at most 30 an hour".to_owned()));
    }
    let report = if multipart {
        upload::receive(&state, target, Multipart::new(req.headers(), payload)).await
    } else {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > crate::app::JSON_BODY_LIMIT) {
            return Ok(crate::error::too_large_answer("body", crate::app::JSON_BODY_LIMIT));
        }
        let Some(text) = json_text(payload).await? else {
            return Ok(crate::error::too_large_answer("body", crate::app::JSON_BODY_LIMIT));
        };
        UploadReport { text: Some(text), ..UploadReport::default() }
    };
    match write(&state, &client, &matter, &report, client_ip(&req)).await? {
        Posted::Refused(_, problem) => Err(AppError(problem.into())),
        Posted::Sent(message) => Ok(HttpResponse::Created().json(PostedMessage { message: *message, files: report })),
    }
}

/// The text of a JSON message body (`{"body": "…"}`); `None` when the body is
/// larger than the API's JSON limit (413, like every JSON route).
async fn json_text(mut payload: web::Payload) -> AppResult<Option<upload::MessageText>> {
    let mut bytes = web::BytesMut::new();
    let limit = crate::app::JSON_BODY_LIMIT;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError(shared::Error::invalid("body", format!("could not be read: {e}"))))?;
        if bytes.len() + chunk.len() > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    let input: NewMessage = serde_json::from_slice(&bytes).map_err(|e| {
        AppError(shared::Error::invalid("body", format!("is not JSON of the form {{\"body\": \"…\"}}: {e}")))
    })?;
    let checked = messages::check_text(&input.body);
    Ok(Some(upload::MessageText { sent: input.body, checked }))
}
