//! Documents on a matter: the upload page and its receipt, downloads, and the
//! same as JSON under `/api/v1`. Every route checks that the matter is the
//! signed-in client's; anything else is 404.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use shared::audit::{self, Actor};
use shared::db::models::{Document, Matter, User};
use shared::documents::{self, DocumentSource, DocumentView, human_size};
use shared::domain::{DocumentCategory, now};
use shared::notifications::kinds::upload_receipt::{self as receipt, Receipt};
use storage::Download;

use crate::error::{AppError, AppResult};
use crate::pages::{PageCtx, PageResult};
use crate::routes::ApiConfig;
use crate::session::{ApiUser, client_ip};
use crate::state::AppState;
use crate::upload::{self, Stop, Target, UploadReport};

/// Registers the document pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(upload_page).service(upload_form).service(download_page);
}

/// Registers the document API, each route with its description in `/api/openapi.json`.
pub fn configure_api(cfg: &mut ApiConfig) {
    cfg.service(api_list).service(api_upload).service(api_download);
}

/// The client's own matter `matter_id` for an upload, and whether it takes one
/// (see [`shared::client_view::accepts_uploads`]).
pub(crate) async fn matter_for_upload(
    state: &AppState,
    client: &User,
    matter_id: String,
) -> shared::Result<(Matter, bool)> {
    let client = client.clone();
    state
        .db
        .run(move |conn| {
            let matter = shared::client_view::own_matter(conn, &client, &matter_id)?;
            let accepts = shared::client_view::accepts_uploads(conn, &matter)?;
            Ok((matter, accepts))
        })
        .await
}

/// The page that says a matter takes no more uploads, with the way back to it.
pub(crate) fn closed_page(ctx: &PageCtx, status: StatusCode, matter_id: &str) -> HttpResponse {
    let back = format!("/matters/{matter_id}");
    ctx.message(status, "upload-closed-title", "upload-closed-body", Some((&back, "receipt-back")))
}

/// The HTTP status that sums up an upload.
pub(crate) fn status_of(report: &UploadReport) -> StatusCode {
    match &report.stopped {
        Some((Stop::TooLarge, _)) => StatusCode::PAYLOAD_TOO_LARGE,
        Some((Stop::StorageFailed, _)) => StatusCode::SERVICE_UNAVAILABLE,
        Some((Stop::Incomplete, _)) => StatusCode::BAD_REQUEST,
        Some((Stop::TooManyParts, _)) => StatusCode::PAYLOAD_TOO_LARGE,
        Some((Stop::TooSlow, _)) => StatusCode::REQUEST_TIMEOUT,
        // Nothing is wrong with the file as far as anyone knows: the portal
        // cannot check it now, and the same upload may succeed later.
        Some((Stop::ScanFailed, _)) => StatusCode::SERVICE_UNAVAILABLE,
        None if !report.refused.is_empty() => StatusCode::UNPROCESSABLE_ENTITY,
        None if report.stored.is_empty() => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::CREATED,
    }
}

/// Queues the receipt email and tries to send it at once; the notifier retries if this fails.
async fn send_receipt(state: &AppState, client: &User, matter: &Matter, report: &UploadReport) {
    if report.stored.is_empty() {
        return;
    }
    let receipt = Receipt {
        matter_id: matter.id.clone(),
        files: report.stored.iter().map(|f| (f.name.clone(), human_size(f.size_bytes))).collect(),
    };
    let (firm, client_id) = (matter.firm_id.clone(), client.id.clone());
    match state.db.run(move |conn| receipt::enqueue(conn, &firm, &client_id, &receipt, now())).await {
        Ok(id) => {
            state.notifications.deliver_now(vec![id]).await;
        }
        Err(e) => tracing::warn!(error = %e, "could not queue an upload receipt"),
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    request: Option<String>,
}

#[get("/matters/{id}/upload")]
async fn upload_page(ctx: PageCtx, path: web::Path<String>, query: web::Query<UploadQuery>) -> PageResult {
    let query = query.into_inner();
    if matches!(ctx.require_user(), Err(shared::Error::Unauthenticated)) {
        // Signed out: to the sign-in, which brings the client back to this form (and its request).
        return Ok(crate::routes::sign_in::to_sign_in(&ctx.state, &ctx.path));
    }
    upload_form_page(&ctx, path.into_inner(), query.request, None).await
}

/// The upload form of matter `id` (for `request`, if it is open), with the
/// locale key of what was wrong with the last attempt (422) or without (200).
async fn upload_form_page(
    ctx: &PageCtx,
    id: String,
    request: Option<String>,
    error: Option<&'static str>,
) -> PageResult {
    let viewer = ctx.require_user()?.clone();
    let lang = ctx.lang;
    let client = viewer.user.clone();
    let (detail, request) = ctx
        .state
        .db
        .run(move |conn| {
            let detail = shared::client_view::matter_detail(conn, &client, &id, lang)?;
            let request = request.and_then(|r| detail.open_requests.iter().find(|o| o.id == r).cloned());
            Ok((detail, request))
        })
        .await?;
    if !detail.accepts_uploads {
        return Ok(closed_page(ctx, StatusCode::OK, &detail.id));
    }
    let selected = request.as_ref().map_or(DocumentCategory::MedicalBill, |r| r.category);
    let categories = DocumentCategory::ALL
        .iter()
        .map(|c| CategoryOption { key: *c, label: format!("doc-category-{}", c.as_str()), selected: *c == selected })
        .collect();
    let page = UploadView {
        matter: Named { id: &detail.id, title: &detail.title },
        request: request.as_ref().map(|r| Named { id: &r.id, title: &r.title }),
        categories,
        max: human_size(i64::try_from(ctx.state.config.max_upload_bytes).unwrap_or(i64::MAX)),
        error,
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(ctx.render(status, "upload", "upload-title", page))
}

/// The upload form of a matter, perhaps for one of its requests.
#[derive(Serialize)]
struct UploadView<'a> {
    matter: Named<'a>,
    request: Option<Named<'a>>,
    categories: Vec<CategoryOption>,
    /// The size limit, for the form's hint.
    max: String,
    /// The locale key of what was wrong with the last attempt (no file chosen).
    error: Option<&'static str>,
}

/// A record named on a page: its id and title.
#[derive(Serialize)]
struct Named<'a> {
    id: &'a str,
    title: &'a str,
}

/// A document category to choose, with its label's locale key.
#[derive(Serialize)]
pub(crate) struct CategoryOption {
    pub key: DocumentCategory,
    pub label: String,
    pub selected: bool,
}

#[post("/matters/{id}/upload")]
async fn upload_form(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, body: Multipart) -> PageResult {
    let viewer = ctx.require_user()?.clone();
    let (matter, accepts) = matter_for_upload(&ctx.state, &viewer.user, path.into_inner()).await?;
    let target = Target {
        uploader: &viewer.user,
        source: DocumentSource::Client,
        matter: &matter,
        ip: client_ip(&req),
        message: false,
    };
    if !accepts {
        upload::refuse_closed_matter(&ctx.state, &target, body).await;
        return Ok(closed_page(&ctx, StatusCode::CONFLICT, &matter.id));
    }
    let report = upload::receive(&ctx.state, target, body).await;
    if report.none_chosen() {
        // "Send" with no file: the same form again, saying so, not a receipt of nothing.
        return upload_form_page(&ctx, matter.id.clone(), report.request.clone(), Some("upload-none-chosen")).await;
    }
    send_receipt(&ctx.state, &viewer.user, &matter, &report).await;
    let status = match status_of(&report) {
        StatusCode::CREATED => StatusCode::OK,
        other => other,
    };
    let fulfilled = fulfilled_request(&ctx.state, &matter.id, &report).await;
    let view = ReceiptView {
        matter_id: Some(&matter.id),
        fulfilled,
        ..ReceiptView::of(&report, ctx.state.config.max_upload_bytes)
    };
    Ok(ctx.render(status, "receipt", "receipt-title", view))
}

/// The title of the request `report` fulfilled, if it named one and stored a
/// file for it (the first stored file closes it). A failure to look it up is
/// logged: the receipt is shown without it.
async fn fulfilled_request(state: &AppState, matter_id: &str, report: &UploadReport) -> Option<String> {
    use diesel::prelude::*;
    use shared::db::schema::document_requests;
    let request_id = report.request.clone().filter(|_| !report.stored.is_empty())?;
    let matter_id = matter_id.to_owned();
    let found = state
        .db
        .run(move |conn| {
            Ok(document_requests::table
                .filter(document_requests::id.eq(&request_id))
                .filter(document_requests::matter_id.eq(&matter_id))
                .filter(document_requests::status.eq(shared::domain::RequestStatus::Fulfilled))
                .select(document_requests::title)
                .first::<String>(conn)
                .optional()?)
        })
        .await;
    found.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not look up the request an upload fulfilled");
        None
    })
}

/// What a page shows of an upload.
#[derive(Serialize)]
pub(crate) struct ReceiptView<'a> {
    /// The files stored.
    pub stored: Vec<StoredLine<'a>>,
    /// The files refused, each with the locale key of the reason.
    pub refused: Vec<RefusedLine<'a>>,
    /// Why the upload stopped, or that no file was chosen.
    pub failure: Option<Failure<'a>>,
    /// The size limit, for the messages.
    pub max: String,
    /// The matter, for the way back to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matter_id: Option<&'a str>,
    /// The title of the request the upload fulfilled, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfilled: Option<String>,
}

/// A stored file on the receipt.
#[derive(Serialize)]
pub(crate) struct StoredLine<'a> {
    name: &'a str,
    size: String,
    category_key: String,
}

/// A refused file on the receipt.
#[derive(Serialize)]
pub(crate) struct RefusedLine<'a> {
    name: &'a str,
    key: &'static str,
}

/// Why an upload stopped: the locale key, the file it stopped at, and whether
/// the files after it were not read at all.
#[derive(Serialize)]
pub(crate) struct Failure<'a> {
    key: &'static str,
    name: &'a str,
    stopped: bool,
}

impl<'a> ReceiptView<'a> {
    /// The receipt of `report`.
    pub(crate) fn of(report: &'a UploadReport, max_upload_bytes: u64) -> Self {
        let stored = report
            .stored
            .iter()
            .map(|f| StoredLine {
                name: &f.name,
                size: human_size(f.size_bytes),
                category_key: format!("doc-category-{}", f.category),
            })
            .collect();
        let refused = report
            .refused
            .iter()
            .filter(|r| !matches!(&report.stopped, Some((Stop::TooLarge, name)) if *name == r.name))
            .map(|r| RefusedLine { name: &r.name, key: r.reason.message_key() })
            .collect();
        let failure = if report.none_chosen() {
            Some(Failure { key: "upload-none-chosen", name: "", stopped: false })
        } else {
            report.stopped.as_ref().map(|(stop, name)| {
                let (key, stopped) = match stop {
                    Stop::TooLarge => ("upload-refused-size", true),
                    Stop::StorageFailed => ("receipt-failed", false),
                    Stop::Incomplete => ("receipt-incomplete", false),
                    Stop::TooManyParts => ("receipt-too-many-parts", false),
                    Stop::TooSlow => ("receipt-too-slow", false),
                    Stop::ScanFailed => ("receipt-scan-failed", false),
                };
                Failure { key, name, stopped }
            })
        };
        Self {
            stored,
            refused,
            failure,
            max: human_size(i64::try_from(max_upload_bytes).unwrap_or(i64::MAX)),
            matter_id: None,
            fulfilled: None,
        }
    }
}

/// Streams or redirects to the document, after the access check; audited.
/// A client may fetch documents of their own matters, staff those of their firm.
pub(crate) async fn serve_download(
    state: &AppState,
    req: &HttpRequest,
    viewer: &User,
    matter_id: String,
    document_id: String,
) -> shared::Result<HttpResponse> {
    let ip = client_ip(req);
    let lookup = viewer.clone();
    let is_staff = viewer.role.is_staff();
    let document: Document = state
        .db
        .run(move |conn| {
            if is_staff {
                let staff = shared::staff::Staff::from_user(&lookup, None)?;
                shared::staff::records::document(conn, &staff, &matter_id, &document_id)
            } else {
                documents::for_download(conn, &lookup, &matter_id, &document_id)
            }
        })
        .await?;
    // The name it saves under: display-safe, with the extension of the type its bytes are.
    let file_name = documents::download_name(&document.original_name, &document.content_type);
    let how = state.storage.download(&document.object_key, &file_name).await?;
    // The matter is the viewer's own or of their firm (checked above), so it is of the viewer's firm.
    let (actor, target, firm_id) = (viewer.id.clone(), document.id.clone(), viewer.firm_id.clone());
    state
        .db
        .run(move |conn| {
            audit::record(
                conn,
                &audit::Event {
                    firm_id: Some(&firm_id),
                    actor: if is_staff { Actor::Staff(&actor) } else { Actor::Client(&actor) },
                    action: "document.download",
                    target_type: "document",
                    target_id: Some(&target),
                    ip: ip.as_deref(),
                    detail: None,
                },
                now(),
            )
        })
        .await?;
    Ok(match how {
        Download::Redirect(url) => HttpResponse::SeeOther().insert_header((header::LOCATION, url)).finish(),
        Download::File(path) => {
            let file = actix_files::NamedFile::open_async(&path)
                .await
                .map_err(|e| shared::Error::Unavailable { service: "storage", cause: e.into() })?;
            // NamedFile streams the file (with ranges); the headers are ours: the type sniffed at
            // upload, the client's file name, and no sniffing or caching by the browser.
            let mut response = file.into_response(req);
            let headers = response.headers_mut();
            let value = |v: String| HeaderValue::from_str(&v).map_err(|e| shared::Error::Internal(e.into()));
            headers.insert(header::CONTENT_TYPE, value(document.content_type.clone())?);
            headers.insert(header::CONTENT_DISPOSITION, value(storage::attachment(&file_name))?);
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            response
        }
    })
}

#[get("/matters/{id}/documents/{document}")]
async fn download_page(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> PageResult {
    let viewer = ctx.require_user()?.clone();
    let (matter, document) = path.into_inner();
    Ok(serve_download(&ctx.state, &req, &viewer.user, matter, document).await?)
}

/// The documents of one of my matters, newest first.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = Vec<DocumentView>), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/matters/{id}/documents")]
async fn api_list(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<String>,
) -> AppResult<web::Json<Vec<DocumentView>>> {
    let (client, id) = (user.0.user, id.into_inner());
    Ok(web::Json(state.db.run(move |conn| documents::list(conn, &client, &id)).await?))
}

/// Upload documents to one of my matters: `multipart/form-data` with optional
/// `request` and `category` fields and any number of `file` fields. Files
/// stream to storage; their type is decided from their bytes.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    request_body(content_type = "multipart/form-data", description = "Fields `request`, `category`, then `file` (repeatable)"),
    responses(
        (status = 201, description = "Every file stored", body = UploadReport),
        (status = 408, description = "The upload went on past the time allowed for one upload; the files before were kept, nothing of the one being sent", body = UploadReport),
        (status = 409, description = "The matter is closed and the firm takes no uploads to closed matters; nothing was stored (the message is in the client's language)", body = crate::error::ErrorBody),
        (status = 413, description = "A file exceeded the size limit (it was not stored), or the body had more than 100 parts (the rest was not read)", body = UploadReport),
        (status = 422, description = "Some files were refused (type, empty, a virus found) or none sent", body = UploadReport),
        (status = 503, description = "Storage failed, or the virus scanner could not check a file; nothing of that file was kept, the files after it were not read", body = UploadReport),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/matters/{id}/documents")]
async fn api_upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: ApiUser,
    id: web::Path<String>,
    body: Multipart,
) -> AppResult<HttpResponse> {
    let client = user.0.user;
    let (matter, accepts) = matter_for_upload(&state, &client, id.into_inner()).await?;
    let target = Target {
        uploader: &client,
        source: DocumentSource::Client,
        matter: &matter,
        ip: client_ip(&req),
        message: false,
    };
    if !accepts {
        upload::refuse_closed_matter(&state, &target, body).await;
        // In the client's own language: the app shows the message as it is.
        let message = state.renderer.locales().text(client.language, "upload-closed-body");
        return Ok(HttpResponse::Conflict().json(crate::error::ErrorBody { error: message, status: 409 }));
    }
    let report = upload::receive(&state, target, body).await;
    send_receipt(&state, &client, &matter, &report).await;
    Ok(HttpResponse::build(status_of(&report)).json(report))
}

/// Download one of my documents: a redirect to a short-lived link (S3) or the file itself.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id"), ("document" = String, Path, description = "Document id")),
    responses((status = 200, description = "The file"), (status = 303, description = "Redirect to a presigned URL"), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/matters/{id}/documents/{document}/download")]
async fn api_download(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (matter, document) = path.into_inner();
    serve_download(&state, &req, &user.0.user, matter, document).await.map_err(AppError)
}
