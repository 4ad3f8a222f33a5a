//! `/api/v1/staff`: the firm's side as JSON. A staff session (cookie or
//! `Authorization: Bearer`), from `POST /api/v1/staff/sign-in` or the staff
//! sign-in page. Records of another firm answer 404; admin-only actions 403.

use actix_multipart::Multipart;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, ResponseError, delete, get, patch, post, put, web};
use serde::{Deserialize, Serialize};
use shared::domain::{Language, now};
use shared::requests::TemplateView;
use shared::staff::clients::{self, ClientPatch, ClientView, NewClient, StaffMember};
use shared::staff::matters::{
    self, MatterFilter, MatterPatch, MatterRow, NewMatter, StaffDocument, StaffMatter, StaffMilestone, StaffRequest,
};
use shared::staff::records::{self, AuditEntry, AuditQuery, CategoryChange, LogEntry, Ratings};
use shared::staff::settings::{self, CatalogueEntry, FirmSettings, PhaseWordingView, SettingsPatch};
use shared::staff::updates::{self, NewMilestone, NewRequest, RequestPatch};
use utoipa::{IntoParams, ToSchema};

use super::sign_in::{Attempt, attempt_sign_in};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::routes::ApiConfig;
use crate::session::{StaffApi, client_ip};
use crate::state::AppState;
use crate::upload::{self, Target, UploadReport};

/// Registers the staff API, each route with its description in `/api/openapi.json`.
pub fn configure(cfg: &mut ApiConfig) {
    cfg.service(sign_in)
        .service(list_clients)
        .service(create_client)
        .service(get_client)
        .service(update_client)
        .service(client_notifications)
        .service(list_matters)
        .service(create_matter)
        .service(get_matter)
        .service(update_matter)
        .service(post_milestone)
        .service(open_request)
        .service(cancel_request)
        .service(requests_set_due_date)
        .service(requests_complete)
        .service(requests_list_templates)
        .service(list_documents)
        .service(share_documents)
        .service(download_document)
        .service(review_document)
        .service(review_documents)
        .service(recategorise_document)
        .service(list_staff)
        .service(unlock_staff)
        .service(get_catalogue)
        .service(set_phase_text)
        .service(get_settings)
        .service(update_settings)
        .service(put_logo)
        .service(delete_logo)
        .service(get_ratings)
        .service(get_adoption)
        .service(audit_log)
        .service(import);
}

/// The largest import body accepted (a 10,000-row export is about 2 MB).
const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

fn language(user: &StaffApi) -> Language {
    user.viewer.user.language
}

/// Staff credentials: password and the current code of the authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StaffCredentials {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// 6-digit TOTP code.
    pub code: String,
}

/// A new staff session.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffToken {
    /// Session token for `Authorization: Bearer`.
    pub token: String,
    /// The staff member's user id.
    pub user_id: String,
}

/// Signs a staff member in with password and TOTP code; 401 when any part is
/// wrong; 429 with `Retry-After` (seconds) after too many recent failures for
/// the address (nothing is checked then; any address, staff or not, gets the
/// same answers) or too many attempts from this IP address.
#[utoipa::path(
    tag = "staff", request_body = StaffCredentials,
    responses(
        (status = 200, body = StaffToken),
        (status = 401, description = "Email, password or code is wrong", body = ErrorBody),
        (status = 429, description = "Too many recent failures for this address (wait `Retry-After` seconds), or too many attempts from this IP address", body = ErrorBody)
    )
)]
#[post("/api/v1/staff/sign-in")]
async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<StaffCredentials>,
) -> AppResult<HttpResponse> {
    match attempt_sign_in(&state, &req, &body.email, &body.password, &body.code).await? {
        Attempt::Granted(grant) => {
            Ok(HttpResponse::Ok().json(StaffToken { token: grant.token, user_id: grant.user_id }))
        }
        Attempt::Wrong => Err(AppError(shared::Error::Unauthenticated)),
        Attempt::Wait(seconds) => {
            let mut refused = AppError(shared::Error::RateLimited).error_response();
            refused.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
            Ok(refused)
        }
    }
}

/// Paging and search of the clients list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// Name or email contains this text.
    q: Option<String>,
    /// Page size (default 100, at most 500).
    limit: Option<i64>,
    /// Rows to skip.
    offset: Option<i64>,
}

/// The firm's clients, by name.
#[utoipa::path(
    tag = "staff", params(ClientQuery),
    responses((status = 200, body = Vec<ClientView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/clients")]
async fn list_clients(
    state: web::Data<AppState>,
    user: StaffApi,
    query: web::Query<ClientQuery>,
) -> AppResult<web::Json<Vec<ClientView>>> {
    let query = query.into_inner();
    let staff = user.staff;
    Ok(web::Json(
        state
            .db
            .run(move |c| {
                clients::list(c, &staff, query.q.as_deref(), query.limit.unwrap_or(100), query.offset.unwrap_or(0))
            })
            .await?,
    ))
}

/// Adds a client. 409 when the email already belongs to someone at the firm.
#[utoipa::path(
    tag = "staff", request_body = NewClient,
    responses((status = 201, body = ClientView), (status = 409, body = ErrorBody), (status = 422, description = "A field is invalid; the message names it", body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/clients")]
async fn create_client(
    state: web::Data<AppState>,
    user: StaffApi,
    body: web::Json<NewClient>,
) -> AppResult<HttpResponse> {
    let staff = user.staff;
    texts_configured(&state, body.sms_number.is_some() || body.sms_opt_in.is_some())?;
    let created = state.db.run(move |c| clients::create(c, &staff, &body, now())).await?;
    Ok(HttpResponse::Created().json(created))
}

/// One client of the firm.
#[utoipa::path(
    tag = "staff", params(("id" = String, Path, description = "Client id")),
    responses((status = 200, body = ClientView), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/clients/{id}")]
async fn get_client(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
) -> AppResult<web::Json<ClientView>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| clients::get(c, &staff, &id)).await?))
}

/// Refuses a text message field when texts are not configured (nobody can opt in to them then).
fn texts_configured(state: &AppState, asked: bool) -> Result<(), shared::Error> {
    if asked && !state.config.sms_enabled() {
        return Err(shared::Error::invalid("sms_number", "text messages are not configured on this portal"));
    }
    Ok(())
}

/// Changes a client's name, email, phone, language, weekly-update choice or
/// text message consent (on the client's word: recorded with source `staff`).
#[utoipa::path(
    tag = "staff", request_body = ClientPatch,
    params(("id" = String, Path, description = "Client id")),
    responses((status = 200, body = ClientView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[patch("/api/v1/staff/clients/{id}")]
async fn update_client(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<ClientPatch>,
) -> AppResult<web::Json<ClientView>> {
    let staff = user.staff;
    texts_configured(&state, body.sms_number.is_some() || body.sms_opt_in.is_some())?;
    Ok(web::Json(state.db.run(move |c| clients::update(c, &staff, &id, &body, now())).await?))
}

/// What was sent to a client: every email, its status and error, newest first.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Client id")),
    responses((status = 200, body = Vec<LogEntry>), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/clients/{id}/notifications")]
async fn client_notifications(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
) -> AppResult<web::Json<Vec<LogEntry>>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| records::notification_log(c, &staff, &id)).await?))
}

/// The firm's matters, filtered: phase, case manager, no client update in 14 days, unreviewed uploads.
#[utoipa::path(
    tag = "staff", params(MatterFilter),
    responses((status = 200, body = Vec<MatterRow>), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/matters")]
async fn list_matters(
    state: web::Data<AppState>,
    user: StaffApi,
    filter: web::Query<MatterFilter>,
) -> AppResult<web::Json<Vec<MatterRow>>> {
    let lang = language(&user);
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| matters::list(c, &staff, &filter, lang, now())).await?))
}

/// Opens a matter for one or more clients.
#[utoipa::path(
    tag = "staff", request_body = NewMatter,
    responses((status = 201, body = MatterRow), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters")]
async fn create_matter(
    state: web::Data<AppState>,
    user: StaffApi,
    body: web::Json<NewMatter>,
) -> AppResult<HttpResponse> {
    let staff = user.staff;
    let created = state.db.run(move |c| matters::create(c, &staff, &body, now())).await?;
    Ok(HttpResponse::Created().json(created))
}

/// A matter with its whole timeline (internal notes included), requests and documents.
#[utoipa::path(
    tag = "staff", params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = StaffMatter), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/matters/{id}")]
async fn get_matter(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
) -> AppResult<web::Json<StaffMatter>> {
    let lang = language(&user);
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| matters::get(c, &staff, &id, lang)).await?))
}

/// Updates a matter: title, case manager (assign or `""` to unassign), external id, close or reopen.
#[utoipa::path(
    tag = "staff", request_body = MatterPatch,
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = MatterRow), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[patch("/api/v1/staff/matters/{id}")]
async fn update_matter(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<MatterPatch>,
) -> AppResult<web::Json<MatterRow>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| matters::update(c, &staff, &id, &body, now())).await?))
}

/// Posts a milestone: phase change, appointment, note to the client or internal note.
#[utoipa::path(
    tag = "staff", request_body = NewMilestone,
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 201, body = StaffMilestone), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/milestones")]
async fn post_milestone(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<NewMilestone>,
) -> AppResult<HttpResponse> {
    let staff = user.staff;
    let posted = state.db.run(move |c| updates::post_milestone(c, &staff, &id, &body, now())).await?;
    Ok(HttpResponse::Created().json(posted))
}

/// Asks the client for a document: written out, or from one of the firm's
/// ready-made requests (`template`, worded in the client's language), with an
/// optional `due_date` (reminders follow it) and `fulfil_on` (`staff`: several
/// files, open until marked complete).
#[utoipa::path(
    tag = "staff", request_body = NewRequest,
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 201, body = StaffRequest), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/requests")]
async fn open_request(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<NewRequest>,
) -> AppResult<HttpResponse> {
    let staff = user.staff;
    let opened = state.db.run(move |c| updates::open_request(c, &staff, &id, &body, now())).await?;
    Ok(HttpResponse::Created().json(opened))
}

/// Cancels an open document request. 409 when it is no longer open.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id"), ("request" = String, Path, description = "Request id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/requests/{request}/cancel")]
async fn cancel_request(
    state: web::Data<AppState>,
    user: StaffApi,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (matter, request) = path.into_inner();
    let staff = user.staff;
    state.db.run(move |c| updates::cancel_request(c, &staff, &matter, &request, now())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets or clears an open document request's due date (firm-local); reminders follow the new date. 409 once closed.
#[utoipa::path(
    tag = "staff", request_body = RequestPatch,
    params(("id" = String, Path, description = "Matter id"), ("request" = String, Path, description = "Request id")),
    responses(
        (status = 200, body = StaffRequest), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[patch("/api/v1/staff/matters/{id}/requests/{request}")]
async fn requests_set_due_date(
    state: web::Data<AppState>,
    user: StaffApi,
    path: web::Path<(String, String)>,
    body: web::Json<RequestPatch>,
) -> AppResult<web::Json<StaffRequest>> {
    let (matter, request) = path.into_inner();
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| updates::set_due_date(c, &staff, &matter, &request, &body, now())).await?))
}

/// Marks an open document request complete (how a request for several files
/// closes; any open request may be). 409 once it is closed.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id"), ("request" = String, Path, description = "Request id")),
    responses((status = 200, body = StaffRequest), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/requests/{request}/complete")]
async fn requests_complete(
    state: web::Data<AppState>,
    user: StaffApi,
    path: web::Path<(String, String)>,
) -> AppResult<web::Json<StaffRequest>> {
    let (matter, request) = path.into_inner();
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| updates::complete_request(c, &staff, &matter, &request, now())).await?))
}

/// Which ready-made requests to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// `en` or `es`; every language when absent.
    #[serde(default)]
    pub language: Option<String>,
}

/// The firm's ready-made document requests (medical bills, police report, …)
/// in list order, in one language or every language; pass a `key` as
/// `template` when opening a request.
#[utoipa::path(
    tag = "staff", params(TemplateQuery),
    responses((status = 200, body = Vec<TemplateView>), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/request-templates")]
async fn requests_list_templates(
    state: web::Data<AppState>,
    user: StaffApi,
    query: web::Query<TemplateQuery>,
) -> AppResult<web::Json<Vec<TemplateView>>> {
    let language = match query.language.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => Some(Language::parse(l).ok_or_else(|| shared::Error::invalid("language", "must be en or es"))?),
        None => None,
    };
    let firm_id = user.staff.firm_id;
    Ok(web::Json(state.db.run(move |c| shared::requests::templates(c, &firm_id, language)).await?))
}

/// A matter's documents, newest first, with who reviewed them.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = Vec<StaffDocument>), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/matters/{id}/documents")]
async fn list_documents(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
) -> AppResult<web::Json<Vec<StaffDocument>>> {
    let lang = language(&user);
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| Ok(matters::get(c, &staff, &id, lang)?.documents)).await?))
}

/// Shares documents with the matter's clients: `multipart/form-data` with an
/// optional `category` field and any number of `file` fields, streamed,
/// checked and limited exactly like a client's upload. The clients' documents
/// list shows them as shared by the firm; each is audited (`document.share`).
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id")),
    request_body(content_type = "multipart/form-data", description = "Field `category`, then `file` (repeatable)"),
    responses(
        (status = 201, description = "Every file stored and shared", body = UploadReport),
        (status = 413, description = "A file exceeded the size limit (it was not stored), or the body had more than 100 parts (the rest was not read)", body = UploadReport),
        (status = 422, description = "Some files were refused (type, empty, a virus found) or none sent", body = UploadReport),
        (status = 503, description = "Storage failed, or the virus scanner could not check a file; nothing of that file was kept, the files after it were not read", body = UploadReport),
        (status = 404, body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/documents")]
async fn share_documents(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: StaffApi,
    id: web::Path<String>,
    body: Multipart,
) -> AppResult<HttpResponse> {
    let staff = user.staff;
    let matter = state.db.run(move |c| shared::staff::firm_matter(c, &staff, &id)).await?;
    let target = Target {
        uploader: &user.viewer.user,
        source: shared::documents::DocumentSource::Firm,
        matter: &matter,
        ip: client_ip(&req),
        message: false,
    };
    let report = upload::receive(&state, target, body).await;
    Ok(HttpResponse::build(crate::routes::documents::status_of(&report)).json(report))
}

/// Downloads a document (a redirect to a short-lived storage URL, or the bytes); audited.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id"), ("document" = String, Path, description = "Document id")),
    responses((status = 200, description = "The file"), (status = 303, description = "Redirect to the stored object"), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/matters/{id}/documents/{document}/download")]
async fn download_document(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: StaffApi,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (matter, document) = path.into_inner();
    crate::routes::documents::serve_download(&state, &req, &user.viewer.user, matter, document).await.map_err(AppError)
}

/// Marks a document reviewed.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id"), ("document" = String, Path, description = "Document id")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/documents/{document}/review")]
async fn review_document(
    state: web::Data<AppState>,
    user: StaffApi,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (matter, document) = path.into_inner();
    let staff = user.staff;
    state.db.run(move |c| records::mark_reviewed(c, &staff, &matter, &document, now())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Documents of one matter to mark reviewed at once.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewIds {
    /// Document ids, all of this matter (at most 500).
    pub ids: Vec<String>,
}

/// How many documents a review newly marked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reviewed {
    /// Documents newly marked reviewed (those already reviewed keep their first reviewer).
    pub reviewed: usize,
}

/// Marks several documents of a matter reviewed, all or nothing: an id that is
/// not a document of this matter of the firm answers 404 and nothing changes.
/// Each document newly marked is audited (`document.review`).
#[utoipa::path(
    tag = "staff", request_body = ReviewIds,
    params(("id" = String, Path, description = "Matter id")),
    responses(
        (status = 200, body = Reviewed),
        (status = 404, description = "The matter, or one of the documents, is not of this matter of the firm; nothing changed", body = ErrorBody),
        (status = 422, description = "No ids, or too many", body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/documents/review")]
async fn review_documents(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<ReviewIds>,
) -> AppResult<web::Json<Reviewed>> {
    let staff = user.staff;
    let ids = body.into_inner().ids;
    let reviewed = state.db.run(move |c| records::mark_many_reviewed(c, &staff, &id, &ids, now())).await?;
    Ok(web::Json(Reviewed { reviewed }))
}

/// A document's new category.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DocumentPatch {
    /// Category key (`medical_bill`, `medical_record`, `photo`, `police_report`,
    /// `insurance_letter`, `wage_proof`, `other`).
    pub category: String,
}

/// Files a document of the firm under another category; audited
/// (`document.recategorise`, with the old and new keys).
#[utoipa::path(
    tag = "staff", request_body = DocumentPatch,
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, body = CategoryChange),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Not a document category", body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[patch("/api/v1/staff/documents/{id}")]
async fn recategorise_document(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<DocumentPatch>,
) -> AppResult<web::Json<CategoryChange>> {
    let staff = user.staff;
    let category = body.into_inner().category;
    Ok(web::Json(state.db.run(move |c| records::recategorise(c, &staff, None, &id, &category, now())).await?))
}

/// The firm's staff members (for assigning case managers).
#[utoipa::path(
    tag = "staff",
    responses((status = 200, body = Vec<StaffMember>)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/staff")]
async fn list_staff(state: web::Data<AppState>, user: StaffApi) -> AppResult<web::Json<Vec<StaffMember>>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| clients::staff_members(c, &staff)).await?))
}

/// Whose staff sign-in failures to clear.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UnlockRequest {
    /// The staff member's email address.
    pub email: String,
}

/// Clears a staff member's failed sign-ins from every source, so they can sign
/// in at once (admins only; audited as `staff.sign_in_unlock`). 404 for an
/// address that is not one of the firm's staff.
#[utoipa::path(
    tag = "staff", request_body = UnlockRequest,
    responses(
        (status = 204, description = "Cleared"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/staff/unlock")]
async fn unlock_staff(
    state: web::Data<AppState>,
    user: StaffApi,
    body: web::Json<UnlockRequest>,
) -> AppResult<HttpResponse> {
    let (staff, email, now) = (user.staff, body.into_inner().email, state.clock().now());
    state.db.run(move |c| crate::staff_auth::unlock(c, &staff, &email, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The firm's phase catalogue with its texts in every language.
#[utoipa::path(
    tag = "staff",
    responses((status = 200, body = Vec<CatalogueEntry>)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/catalogue")]
async fn get_catalogue(state: web::Data<AppState>, user: StaffApi) -> AppResult<web::Json<Vec<CatalogueEntry>>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| settings::catalogue(c, &staff)).await?))
}

/// Replaces one phase's texts in one language (admins).
#[utoipa::path(
    tag = "staff", request_body = PhaseWordingView,
    params(("area" = String, Path, description = "Practice area, e.g. personal_injury"), ("key" = String, Path, description = "Phase key")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[put("/api/v1/staff/catalogue/{area}/{key}")]
async fn set_phase_text(
    state: web::Data<AppState>,
    user: StaffApi,
    path: web::Path<(String, String)>,
    body: web::Json<PhaseWordingView>,
) -> AppResult<HttpResponse> {
    let (area, key) = path.into_inner();
    let staff = user.staff;
    state.db.run(move |c| settings::set_phase_text(c, &staff, &area, &key, &body, now())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The firm's settings.
#[utoipa::path(
    tag = "staff",
    responses((status = 200, body = FirmSettings)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/settings")]
async fn get_settings(state: web::Data<AppState>, user: StaffApi) -> AppResult<web::Json<FirmSettings>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| settings::get(c, &staff)).await?))
}

/// Changes the firm's settings (admins): name, sender, phone, time zone, weekly schedule (cron), no-activity
/// updates, uploads to closed matters, accent colour (refused when white text on it is below 4.5:1),
/// Reply-To the case manager, public host.
#[utoipa::path(
    tag = "staff", request_body = SettingsPatch,
    responses((status = 200, body = FirmSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[patch("/api/v1/staff/settings")]
async fn update_settings(
    state: web::Data<AppState>,
    user: StaffApi,
    body: web::Json<SettingsPatch>,
) -> AppResult<web::Json<FirmSettings>> {
    let staff = user.staff;
    let settings = state.db.run(move |c| settings::update(c, &staff, &body, now())).await?;
    crate::routes::brand::forget(&crate::routes::brand::AppKey::of(&state));
    Ok(web::Json(settings))
}

/// Replaces the firm's logo (admins): the request body is the picture itself, PNG, JPEG or WebP
/// (read from the bytes, whatever the `Content-Type`), at most 512 KB; SVG is refused.
#[utoipa::path(
    tag = "staff",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The logo's bytes"),
    responses((status = 200, body = FirmSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[put("/api/v1/staff/settings/logo")]
async fn put_logo(
    state: web::Data<AppState>,
    user: StaffApi,
    mut body: web::Payload,
) -> AppResult<web::Json<FirmSettings>> {
    use futures_util::StreamExt;
    let staff = user.staff;
    staff.require_admin()?;
    // Read to the end (an answer before the body is read breaks some clients' uploads),
    // keeping one byte past the limit so that a larger picture is refused as too large.
    let (mut bytes, mut total) = (Vec::new(), 0usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| shared::Error::invalid("logo", format!("could not be read: {e}")))?;
        total += chunk.len();
        if total > 32 * shared::branding::MAX_LOGO_BYTES {
            break;
        }
        let room = (shared::branding::MAX_LOGO_BYTES + 1).saturating_sub(bytes.len());
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    let settings = state.db.run(move |c| settings::set_logo(c, &staff, bytes, now())).await?;
    crate::routes::brand::forget(&crate::routes::brand::AppKey::of(&state));
    Ok(web::Json(settings))
}

/// Removes the firm's logo (admins).
#[utoipa::path(
    tag = "staff",
    responses((status = 204), (status = 403, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[delete("/api/v1/staff/settings/logo")]
async fn delete_logo(state: web::Data<AppState>, user: StaffApi) -> AppResult<HttpResponse> {
    let staff = user.staff;
    state.db.run(move |c| settings::remove_logo(c, &staff, now())).await?;
    crate::routes::brand::forget(&crate::routes::brand::AppKey::of(&state));
    Ok(HttpResponse::NoContent().finish())
}

/// Clients' ratings of their updates, with the average.
#[utoipa::path(
    tag = "staff",
    responses((status = 200, body = Ratings)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/ratings")]
async fn get_ratings(state: web::Data<AppState>, user: StaffApi) -> AppResult<web::Json<Ratings>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| records::ratings(c, &staff)).await?))
}

/// Adoption: activation (open matters whose clients the firm has emailed ÷
/// open matters) and engagement (those invited clients who signed in within
/// 30 days ÷ invited clients), for the firm and per case manager. Admins see
/// the firm and every case manager; a case manager sees their own matters.
#[utoipa::path(
    tag = "staff",
    responses((status = 200, body = shared::staff::adoption::Adoption)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/adoption")]
async fn get_adoption(
    state: web::Data<AppState>,
    user: StaffApi,
) -> AppResult<web::Json<shared::staff::adoption::Adoption>> {
    let staff = user.staff;
    let at = state.clock().now();
    Ok(web::Json(state.db.run(move |c| shared::staff::adoption::adoption(c, &staff, at)).await?))
}

/// The firm's audit log, newest first (admins).
#[utoipa::path(
    tag = "staff", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/audit")]
async fn audit_log(
    state: web::Data<AppState>,
    user: StaffApi,
    query: web::Query<AuditQuery>,
) -> AppResult<web::Json<Vec<AuditEntry>>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| records::audit_log(c, &staff, &query)).await?))
}

/// Imports clients and matters from a case-management export (admins): the
/// body is the CSV (`text/csv`) or JSON (`application/json`) file. Idempotent on
/// `external_id`; bad rows are listed by line and the rest import.
#[utoipa::path(
    tag = "staff",
    request_body(content = String, description = "The export file", content_type = "text/csv"),
    responses(
        (status = 200, description = "What was imported; `failed` names each bad row", body = crate::import::Summary),
        (status = 403, body = ErrorBody),
        (status = 413, description = "The file is larger than 32 MB", body = ErrorBody),
        (status = 422, description = "The file as a whole is unusable (unknown column, not CSV or JSON)", body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/import")]
async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: StaffApi,
    body: web::Payload,
) -> AppResult<HttpResponse> {
    user.staff.require_admin()?;
    let content_type = req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let format = crate::import::Format::from_content_type(content_type.unwrap_or_default())?;
    let Ok(bytes) = body.to_bytes_limited(MAX_IMPORT_BYTES).await else {
        return Ok(crate::error::too_large_answer("body", MAX_IMPORT_BYTES));
    };
    let bytes = bytes.map_err(|e| AppError(shared::Error::invalid("body", format!("could not be read: {e}"))))?;
    let staff = user.staff;
    let summary = state
        .db
        .run(move |c| {
            crate::import::import(
                c,
                &staff.firm_id,
                format,
                bytes.as_ref(),
                shared::audit::Actor::Staff(&staff.id),
                staff.ip.as_deref(),
                &mut |_, _| {},
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(summary))
}
