//! Staff pages (server-rendered, no JavaScript needed): the matters list with
//! filters, a new client and matter, a matter's page (timeline, post an update
//! or phase change, request a document, share a document with the client,
//! review uploads) and firm settings.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, post, web};
use chrono::{NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};
use shared::domain::{DocumentCategory, DocumentSource, RequestStatus, now};
use shared::staff::clients::{self, NewClient, StaffMember};
use shared::staff::matters::{
    self, MatterFilter, NewMatter, PersonRef, PhaseChoice, StaffDocument, StaffMatter, StaffMilestone, StaffRequest,
};
use shared::staff::records::LogEntry;
use shared::staff::updates::{self, NewMilestone, NewRequest};
use shared::staff::{Staff, records};

use super::staff_of;
use crate::pages::{PageCtx, PageResult, see_other};
use crate::routes::documents::ReceiptView;
use crate::upload::{self, Target};

/// Registers the staff pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(matters_page)
        .service(new_matter_page)
        .service(create_matter)
        .service(matter_page)
        .service(post_milestone)
        .service(open_request)
        .service(cancel_request)
        .service(share_documents)
        .service(review_document);
}

/// A validation problem shown on the page, naming the field; other errors as usual.
fn invalid_page(ctx: &PageCtx, error: shared::Error, back: &str) -> PageResult {
    let (status, field, reason) = match error {
        shared::Error::Invalid { field, reason } => (StatusCode::UNPROCESSABLE_ENTITY, field, reason),
        shared::Error::Conflict(reason) => (StatusCode::CONFLICT, "", reason),
        other => return Err(other.into()),
    };
    Ok(ctx.render(status, "staff_invalid", "error-invalid-title", Invalid { field, reason: &reason, back }))
}

/// The page naming what was wrong with a form, and the way back to it.
#[derive(Serialize)]
struct Invalid<'a> {
    field: &'a str,
    reason: &'a str,
    back: &'a str,
}

/// A choice of a select box.
#[derive(Serialize)]
struct Choice<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label_key: Option<String>,
    selected: bool,
}

impl<'a> Choice<'a> {
    /// A phase of the catalogue.
    fn phase(key: &'a str, title: &'a str, selected: bool) -> Self {
        Self { id: None, key: Some(key), name: None, title: Some(title), label_key: None, selected }
    }

    /// A staff member.
    fn person(id: &'a str, name: &'a str, selected: bool) -> Self {
        Self { id: Some(id), key: None, name: Some(name), title: None, label_key: None, selected }
    }

    /// A document category.
    fn category(category: DocumentCategory) -> Self {
        Self {
            id: None,
            key: Some(category.as_str()),
            name: None,
            title: None,
            label_key: Some(format!("doc-category-{}", category.as_str())),
            selected: false,
        }
    }
}

fn time_zone(ctx: &PageCtx) -> chrono_tz::Tz {
    ctx.viewer.as_ref().and_then(|v| v.firm_time_zone.parse().ok()).unwrap_or(chrono_tz::UTC)
}

/// A date and time for staff, in the firm's time zone: "2026-11-28 14:05".
fn when(ctx: &PageCtx, at: NaiveDateTime) -> String {
    at.and_utc().with_timezone(&time_zone(ctx)).format("%Y-%m-%d %H:%M").to_string()
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    case_manager: Option<String>,
    #[serde(default)]
    stale: Option<String>,
    #[serde(default)]
    unreviewed: Option<String>,
    #[serde(default)]
    closed: Option<String>,
    #[serde(default)]
    q: Option<String>,
}

/// A row of the matters list.
#[derive(Serialize)]
struct MatterLine<'a> {
    id: &'a str,
    title: &'a str,
    external_id: Option<&'a str>,
    phase: &'a str,
    manager: Option<&'a str>,
    clients: String,
    last_update: Option<String>,
    unreviewed: i64,
    open_requests: i64,
    updated: String,
    closed: bool,
}

/// The matters list with its filters.
#[derive(Serialize)]
struct MattersPage<'a> {
    staff_nav: bool,
    matters: Vec<MatterLine<'a>>,
    count: usize,
    phases: Vec<Choice<'a>>,
    team: Vec<Choice<'a>>,
    unassigned: bool,
    stale: bool,
    unreviewed: bool,
    closed: bool,
    q: &'a str,
}

#[get("/staff")]
async fn matters_page(ctx: PageCtx, req: HttpRequest, query: web::Query<ListQuery>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let query = query.into_inner();
    let checked = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    let filter = MatterFilter {
        phase: query.phase.clone().filter(|p| !p.is_empty()),
        case_manager: query.case_manager.clone().filter(|c| !c.is_empty()),
        stale: Some(checked(&query.stale)),
        unreviewed: Some(checked(&query.unreviewed)),
        include_closed: Some(checked(&query.closed)),
        q: query.q.clone(),
        limit: Some(200),
        offset: None,
    };
    let lang = ctx.lang;
    let found = ctx
        .state
        .db
        .run(move |c| {
            let rows = matters::list(c, &staff, &filter, lang, now())?;
            let team = clients::staff_members(c, &staff)?;
            let phases = shared::catalogue::phases_in(c, &staff.firm_id, &[shared::catalogue::PERSONAL_INJURY], lang)?;
            Ok((rows, team, phases))
        })
        .await;
    let (rows, team, phases) = match found {
        Ok(found) => found,
        Err(e) => return invalid_page(&ctx, e, "/staff"),
    };
    let matters: Vec<MatterLine> = rows
        .iter()
        .map(|m| MatterLine {
            id: &m.id,
            title: &m.title,
            external_id: m.external_id.as_deref(),
            phase: &m.phase_title,
            manager: m.case_manager.as_ref().map(|p| p.name.as_str()),
            clients: m.clients.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
            last_update: m.last_client_update.map(|t| ctx.date(t)),
            unreviewed: m.unreviewed_documents,
            open_requests: m.open_requests,
            updated: ctx.date(m.updated_at),
            closed: m.closed_at.is_some(),
        })
        .collect();
    let page = MattersPage {
        staff_nav: true,
        count: matters.len(),
        matters,
        phases: phases
            .iter()
            .map(|(p, t)| Choice::phase(&p.key, &t.title, query.phase.as_deref() == Some(p.key.as_str())))
            .collect(),
        team: team
            .iter()
            .map(|s| Choice::person(&s.id, &s.full_name, query.case_manager.as_deref() == Some(s.id.as_str())))
            .collect(),
        unassigned: query.case_manager.as_deref() == Some("none"),
        stale: checked(&query.stale),
        unreviewed: checked(&query.unreviewed),
        closed: checked(&query.closed),
        q: query.q.as_deref().unwrap_or_default(),
    };
    Ok(ctx.render(StatusCode::OK, "staff_matters", "staff-matters-title", page))
}

/// The new client and matter form.
#[derive(Serialize)]
struct NewMatterPage<'a> {
    staff_nav: bool,
    phases: Vec<Choice<'a>>,
    team: Vec<Choice<'a>>,
}

#[get("/staff/matters/new")]
async fn new_matter_page(ctx: PageCtx, req: HttpRequest) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let lang = ctx.lang;
    let (team, phases) = ctx
        .state
        .db
        .run(move |c| {
            Ok((
                clients::staff_members(c, &staff)?,
                shared::catalogue::phases_in(c, &staff.firm_id, &[shared::catalogue::PERSONAL_INJURY], lang)?,
            ))
        })
        .await?;
    let page = NewMatterPage {
        staff_nav: true,
        phases: phases.iter().map(|(p, t)| Choice::phase(&p.key, &t.title, false)).collect(),
        team: team.iter().map(|s| Choice::person(&s.id, &s.full_name, false)).collect(),
    };
    Ok(ctx.render(StatusCode::OK, "staff_new_matter", "staff-new-matter-title", page))
}

#[derive(Debug, Deserialize)]
struct NewMatterForm {
    client_name: String,
    client_email: String,
    #[serde(default)]
    client_phone: Option<String>,
    #[serde(default)]
    language: Option<String>,
    title: String,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    case_manager_id: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
}

/// Creates the client (or finds the firm's client with that email) and the matter.
#[post("/staff/matters")]
async fn create_matter(ctx: PageCtx, req: HttpRequest, form: web::Form<NewMatterForm>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let form = form.into_inner();
    let created = ctx
        .state
        .db
        .run(move |c| {
            // The matter's own fields first: a refused title must not leave a new client behind.
            shared::staff::required("title", &form.title)?;
            shared::staff::optional_line("external_id", form.external_id.as_deref())?;
            let email = shared::staff::validate_email(&form.client_email)?;
            let existing = clients::list(c, &staff, Some(&email), 10, 0)?.into_iter().find(|cl| cl.email == email);
            let client = match existing {
                Some(client) => client,
                None => clients::create(
                    c,
                    &staff,
                    &NewClient {
                        full_name: form.client_name.clone(),
                        email,
                        phone: form.client_phone.clone(),
                        language: form.language.clone(),
                    },
                    now(),
                )?,
            };
            matters::create(
                c,
                &staff,
                &NewMatter {
                    title: form.title.clone(),
                    client_ids: vec![client.id],
                    phase: form.phase.clone(),
                    case_manager_id: form.case_manager_id.clone().filter(|m| !m.is_empty()),
                    external_id: form.external_id.clone(),
                },
                now(),
            )
        })
        .await;
    match created {
        Ok(matter) => Ok(see_other(&format!("/staff/matters/{}", matter.id))),
        Err(e) => invalid_page(&ctx, e, "/staff/matters/new"),
    }
}

/// A staff member's view of one matter: its facts, timeline, requests,
/// documents, what was sent to its clients, and the forms to change it.
#[derive(Serialize)]
struct MatterPage<'a> {
    staff_nav: bool,
    title: &'a str,
    matter: MatterFacts<'a>,
    phases: &'a [PhaseChoice],
    timeline: Vec<TimelineLine<'a>>,
    requests: Vec<RequestLine<'a>>,
    documents: Vec<DocumentLine<'a>>,
    sent: Vec<SentLine<'a>>,
    categories: Vec<Choice<'static>>,
    team: Vec<Choice<'a>>,
    /// The size limit of a shared document.
    max: String,
}

/// The matter's facts at the top of its page.
#[derive(Serialize)]
struct MatterFacts<'a> {
    id: &'a str,
    title: &'a str,
    external_id: Option<&'a str>,
    phase: &'a str,
    manager: Option<&'a str>,
    clients: &'a [PersonRef],
    opened: String,
    closed: Option<String>,
    last_update: Option<String>,
}

/// A milestone on the staff timeline (internal notes included, marked).
#[derive(Serialize)]
struct TimelineLine<'a> {
    label_key: String,
    internal: bool,
    phase: Option<&'a str>,
    body: Option<&'a str>,
    occurs: Option<String>,
    by: Option<&'a str>,
    at: String,
}

/// A document request.
#[derive(Serialize)]
struct RequestLine<'a> {
    id: &'a str,
    title: &'a str,
    details: Option<&'a str>,
    category_key: String,
    status_key: String,
    open: bool,
    at: String,
}

/// A document of the matter.
#[derive(Serialize)]
struct DocumentLine<'a> {
    id: &'a str,
    name: &'a str,
    size: String,
    category_key: String,
    by: Option<&'a str>,
    at: String,
    /// Shared by the firm with the client (not uploaded by the client).
    shared: bool,
    reviewed: Option<String>,
    reviewer: Option<&'a str>,
}

/// An email sent (or to send) to a client of the matter.
#[derive(Serialize)]
struct SentLine<'a> {
    to: &'a str,
    kind_key: String,
    status_key: String,
    at: String,
    error: Option<&'a str>,
}

#[get("/staff/matters/{id}")]
async fn matter_page(ctx: PageCtx, req: HttpRequest, path: web::Path<String>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (lang, id) = (ctx.lang, path.into_inner());
    let (matter, team, sent) = ctx
        .state
        .db
        .run(move |c| {
            let matter = matters::get(c, &staff, &id, lang)?;
            let mut sent = Vec::new();
            for client in &matter.summary.clients {
                let log = records::notification_log(c, &staff, &client.id)?;
                sent.extend(log.into_iter().take(10).map(|entry| (client.name.clone(), entry)));
            }
            Ok((matter, clients::staff_members(c, &staff)?, sent))
        })
        .await?;
    let page = matter_view(&ctx, &matter, &team, &sent);
    Ok(ctx.render(StatusCode::OK, "staff_matter", "staff-matters-title", page))
}

/// What the staff matter page shows, with times in the firm's time zone.
fn matter_view<'a>(
    ctx: &PageCtx,
    matter: &'a StaffMatter,
    team: &'a [StaffMember],
    sent: &'a [(String, LogEntry)],
) -> MatterPage<'a> {
    let s = &matter.summary;
    MatterPage {
        staff_nav: true,
        title: &s.title,
        matter: MatterFacts {
            id: &s.id,
            title: &s.title,
            external_id: s.external_id.as_deref(),
            phase: &s.phase_title,
            manager: s.case_manager.as_ref().map(|p| p.name.as_str()),
            clients: &s.clients,
            opened: ctx.date(matter.opened_at),
            closed: s.closed_at.map(|t| ctx.date(t)),
            last_update: s.last_client_update.map(|t| ctx.date(t)),
        },
        phases: &matter.phases,
        timeline: matter.timeline.iter().map(|m| timeline_line(ctx, m)).collect(),
        requests: matter.requests.iter().map(|r| request_line(ctx, r)).collect(),
        documents: matter.documents.iter().map(|d| document_line(ctx, d)).collect(),
        sent: sent
            .iter()
            .map(|(to, e)| SentLine {
                to,
                kind_key: format!("staff-mail-{}", e.kind),
                status_key: format!("staff-mail-status-{}", e.status),
                at: when(ctx, e.sent_at.unwrap_or(e.created_at)),
                error: e.error.as_deref(),
            })
            .collect(),
        categories: DocumentCategory::ALL.iter().map(|c| Choice::category(*c)).collect(),
        team: team
            .iter()
            .map(|t| Choice::person(&t.id, &t.full_name, s.case_manager.as_ref().is_some_and(|m| m.id == t.id)))
            .collect(),
        max: shared::documents::human_size(i64::try_from(ctx.state.config.max_upload_bytes).unwrap_or(i64::MAX)),
    }
}

fn timeline_line<'a>(ctx: &PageCtx, m: &'a StaffMilestone) -> TimelineLine<'a> {
    TimelineLine {
        // Staff wording ("Note to client"), not what the client reads ("Message from your legal team").
        label_key: format!("staff-timeline-{}", m.kind),
        internal: !m.client_visible,
        phase: m.phase_title.as_deref(),
        body: m.body.as_deref(),
        occurs: m.occurs_at.map(|t| when(ctx, t)),
        by: m.created_by.as_ref().map(|p| p.name.as_str()),
        at: when(ctx, m.created_at),
    }
}

fn request_line<'a>(ctx: &PageCtx, r: &'a StaffRequest) -> RequestLine<'a> {
    RequestLine {
        id: &r.id,
        title: &r.title,
        details: r.details.as_deref(),
        category_key: format!("doc-category-{}", r.category),
        status_key: format!("staff-request-{}", r.status),
        open: r.status == RequestStatus::Open,
        at: when(ctx, r.created_at),
    }
}

fn document_line<'a>(ctx: &PageCtx, d: &'a StaffDocument) -> DocumentLine<'a> {
    DocumentLine {
        id: &d.id,
        name: &d.name,
        size: shared::documents::human_size(d.size_bytes),
        category_key: format!("doc-category-{}", d.category),
        by: d.uploaded_by.as_ref().map(|p| p.name.as_str()),
        at: when(ctx, d.created_at),
        shared: d.source == DocumentSource::Firm,
        reviewed: d.reviewed_at.map(|t| when(ctx, t)),
        reviewer: d.reviewed_by.as_ref().map(|p| p.name.as_str()),
    }
}

#[derive(Debug, Deserialize)]
struct MilestoneForm {
    kind: String,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    body: Option<String>,
    /// `datetime-local`: "2026-12-01T10:30", in the firm's time zone.
    #[serde(default)]
    occurs_at: Option<String>,
}

#[post("/staff/matters/{id}/milestones")]
async fn post_milestone(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<MilestoneForm>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let occurs_at = match form.occurs_at.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(local) => match NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M") {
            Ok(t) => time_zone(&ctx).from_local_datetime(&t).earliest().map(|t| t.naive_utc()),
            Err(_) => {
                return invalid_page(&ctx, shared::Error::invalid("occurs_at", "is not a date and time"), &back);
            }
        },
        None => None,
    };
    let input = NewMilestone { kind: form.kind.clone(), phase: form.phase.clone(), body: form.body.clone(), occurs_at };
    run_then_back(&ctx, &back, move |c, staff| updates::post_milestone(c, staff, &id, &input, now()).map(|_| ()), staff)
        .await
}

#[derive(Debug, Deserialize)]
struct RequestForm {
    title: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

#[post("/staff/matters/{id}/requests")]
async fn open_request(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<RequestForm>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let form = form.into_inner();
    let input = NewRequest { title: form.title, details: form.details, category: form.category };
    run_then_back(&ctx, &back, move |c, staff| updates::open_request(c, staff, &id, &input, now()).map(|_| ()), staff)
        .await
}

#[post("/staff/matters/{id}/requests/{request}/cancel")]
async fn cancel_request(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (id, request) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    run_then_back(&ctx, &back, move |c, staff| updates::cancel_request(c, staff, &id, &request, now()), staff).await
}

/// Shares documents with the matter's clients through the same pipeline as a
/// client's upload; back to the matter when every file was stored, else a
/// page naming each file that was not and why.
#[post("/staff/matters/{id}/documents")]
async fn share_documents(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, body: Multipart) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let matter = ctx.state.db.run(move |c| shared::staff::firm_matter(c, &staff, &id)).await?;
    let uploader = ctx.require_user()?.user.clone();
    let target = Target {
        uploader: &uploader,
        source: shared::documents::DocumentSource::Firm,
        matter: &matter,
        ip: crate::session::client_ip(&req),
    };
    let report = upload::receive(&ctx.state, target, body).await;
    let back = format!("/staff/matters/{}", matter.id);
    let status = crate::routes::documents::status_of(&report);
    if status == StatusCode::CREATED {
        return Ok(see_other(&back));
    }
    let receipt = ReceiptView::of(&report, ctx.state.config.max_upload_bytes);
    let page = SharedPage { staff_nav: true, back: &back, receipt };
    Ok(ctx.render(status, "staff_shared", "staff-share-result-title", page))
}

/// What became of the documents staff shared, when some were not stored.
#[derive(Serialize)]
struct SharedPage<'a> {
    staff_nav: bool,
    back: &'a str,
    #[serde(flatten)]
    receipt: ReceiptView<'a>,
}

#[post("/staff/matters/{id}/documents/{document}/review")]
async fn review_document(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (id, document) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    run_then_back(&ctx, &back, move |c, staff| records::mark_reviewed(c, staff, &id, &document, now()), staff).await
}

/// Runs a change and answers with a redirect to `back` (post/redirect/get), or the problem.
async fn run_then_back(
    ctx: &PageCtx,
    back: &str,
    work: impl FnOnce(&mut shared::db::DbConnection, &Staff) -> shared::Result<()> + Send + 'static,
    staff: Staff,
) -> PageResult {
    match ctx.state.db.run(move |c| work(c, &staff)).await {
        Ok(()) => Ok(see_other(back)),
        Err(e) => invalid_page(ctx, e, back),
    }
}
