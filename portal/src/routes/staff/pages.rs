//! Staff pages (server-rendered, no JavaScript needed): the matters list with
//! filters, a new client and matter, a matter's page (timeline, post an update
//! or phase change, request a document, share a document with the client,
//! review uploads) and firm settings.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::domain::{DocumentCategory, now};
use shared::staff::clients::{self, NewClient};
use shared::staff::matters::{self, MatterFilter, NewMatter};
use shared::staff::settings::{self, SettingsPatch};
use shared::staff::updates::{self, NewMilestone, NewRequest};
use shared::staff::{Staff, records};

use super::staff_of;
use crate::pages::{PageCtx, see_other};
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
        .service(review_document)
        .service(settings_page)
        .service(save_settings);
}

/// Answers `Err` pages, passes `Ok` values: `let x = try_page!(expr);`.
macro_rules! try_page {
    ($ctx:expr, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(e) => return $ctx.error(e),
        }
    };
}

/// The staff member, or the answer for anyone else.
macro_rules! staff_or_answer {
    ($ctx:expr, $req:expr) => {
        match staff_of(&$ctx, &$req) {
            Ok(staff) => staff,
            Err(answer) => return *answer,
        }
    };
}

/// A validation problem shown on the page, naming the field.
fn invalid_page(ctx: &PageCtx, error: shared::Error, back: &str) -> HttpResponse {
    match error {
        shared::Error::Invalid { field, reason } => ctx.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "staff_invalid",
            "error-invalid-title",
            json!({ "field": field, "reason": reason, "back": back }),
        ),
        shared::Error::Conflict(reason) => ctx.render(
            StatusCode::CONFLICT,
            "staff_invalid",
            "error-invalid-title",
            json!({ "field": "", "reason": reason, "back": back }),
        ),
        other => ctx.error(other),
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

#[get("/staff")]
async fn matters_page(ctx: PageCtx, req: HttpRequest, query: web::Query<ListQuery>) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
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
        Err(e @ shared::Error::Invalid { .. }) => return invalid_page(&ctx, e, "/staff"),
        Err(e) => return ctx.error(e),
    };
    let rows: Vec<Value> = rows
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "title": m.title,
                "external_id": m.external_id,
                "phase": m.phase_title,
                "manager": m.case_manager.as_ref().map(|p| p.name.clone()),
                "clients": m.clients.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", "),
                "last_update": m.last_client_update.map(|t| ctx.date(t)),
                "unreviewed": m.unreviewed_documents,
                "open_requests": m.open_requests,
                "updated": ctx.date(m.updated_at),
                "closed": m.closed_at.is_some(),
            })
        })
        .collect();
    let phase_options: Vec<Value> = phases
        .iter()
        .map(|(p, t)| json!({ "key": p.key, "title": t.title, "selected": query.phase.as_deref() == Some(p.key.as_str()) }))
        .collect();
    let team_options: Vec<Value> = team
        .iter()
        .map(|s| json!({ "id": s.id, "name": s.full_name, "selected": query.case_manager.as_deref() == Some(s.id.as_str()) }))
        .collect();
    ctx.render(
        StatusCode::OK,
        "staff_matters",
        "staff-matters-title",
        json!({
            "staff_nav": true,
            "matters": rows,
            "count": rows.len(),
            "phases": phase_options,
            "team": team_options,
            "unassigned": query.case_manager.as_deref() == Some("none"),
            "stale": checked(&query.stale),
            "unreviewed": checked(&query.unreviewed),
            "closed": checked(&query.closed),
            "q": query.q.unwrap_or_default(),
        }),
    )
}

#[get("/staff/matters/new")]
async fn new_matter_page(ctx: PageCtx, req: HttpRequest) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
    let lang = ctx.lang;
    let (team, phases) = try_page!(
        ctx,
        ctx.state
            .db
            .run(move |c| Ok((
                clients::staff_members(c, &staff)?,
                shared::catalogue::phases_in(c, &staff.firm_id, &[shared::catalogue::PERSONAL_INJURY], lang)?
            )))
            .await
    );
    let phases: Vec<Value> = phases.iter().map(|(p, t)| json!({ "key": p.key, "title": t.title })).collect();
    let team: Vec<Value> = team.iter().map(|s| json!({ "id": s.id, "name": s.full_name })).collect();
    ctx.render(
        StatusCode::OK,
        "staff_new_matter",
        "staff-new-matter-title",
        json!({ "staff_nav": true, "phases": phases, "team": team }),
    )
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
async fn create_matter(ctx: PageCtx, req: HttpRequest, form: web::Form<NewMatterForm>) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
    let form = form.into_inner();
    let created = ctx
        .state
        .db
        .run(move |c| {
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
        Ok(matter) => see_other(&format!("/staff/matters/{}", matter.id)),
        Err(e) => invalid_page(&ctx, e, "/staff/matters/new"),
    }
}

#[get("/staff/matters/{id}")]
async fn matter_page(ctx: PageCtx, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
    let (lang, id) = (ctx.lang, path.into_inner());
    let (matter, team, sent) = try_page!(
        ctx,
        ctx.state
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
            .await
    );
    let sent: Vec<Value> = sent
        .iter()
        .map(|(name, e)| {
            json!({
                "to": name,
                "kind_key": format!("staff-mail-{}", e.kind),
                "status_key": format!("staff-mail-status-{}", e.status),
                "at": when(&ctx, e.sent_at.unwrap_or(e.created_at)),
                "error": e.error,
            })
        })
        .collect();
    let timeline: Vec<Value> = matter
        .timeline
        .iter()
        .map(|m| {
            json!({
                "label_key": format!("milestone-{}", m.kind),
                "internal": !m.client_visible,
                "phase": m.phase_title,
                "body": m.body,
                "occurs": m.occurs_at.map(|t| when(&ctx, t)),
                "by": m.created_by.as_ref().map(|p| p.name.clone()),
                "at": when(&ctx, m.created_at),
            })
        })
        .collect();
    let requests: Vec<Value> = matter
        .requests
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "title": r.title,
                "details": r.details,
                "category_key": format!("doc-category-{}", r.category),
                "status_key": format!("staff-request-{}", r.status),
                "open": r.status == shared::domain::RequestStatus::Open,
                "at": when(&ctx, r.created_at),
            })
        })
        .collect();
    let documents: Vec<Value> = matter
        .documents
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "name": d.name,
                "size": shared::documents::human_size(d.size_bytes),
                "category_key": format!("doc-category-{}", d.category),
                "by": d.uploaded_by.as_ref().map(|p| p.name.clone()),
                "at": when(&ctx, d.created_at),
                "shared": d.source == shared::domain::DocumentSource::Firm,
                "reviewed": d.reviewed_at.map(|t| when(&ctx, t)),
                "reviewer": d.reviewed_by.as_ref().map(|p| p.name.clone()),
            })
        })
        .collect();
    let categories: Vec<Value> = DocumentCategory::ALL
        .iter()
        .map(|c| json!({ "key": c.as_str(), "label_key": format!("doc-category-{}", c.as_str()) }))
        .collect();
    let s = &matter.summary;
    let team: Vec<Value> = team
        .iter()
        .map(|t| {
            json!({ "id": t.id, "name": t.full_name, "selected": s.case_manager.as_ref().is_some_and(|m| m.id == t.id) })
        })
        .collect();
    ctx.render(
        StatusCode::OK,
        "staff_matter",
        "staff-matters-title",
        json!({
            "staff_nav": true,
            "title": s.title,
            "matter": {
                "id": s.id,
                "title": s.title,
                "external_id": s.external_id,
                "phase": s.phase_title,
                "manager": s.case_manager.as_ref().map(|p| p.name.clone()),
                "clients": s.clients,
                "opened": ctx.date(matter.opened_at),
                "closed": s.closed_at.map(|t| ctx.date(t)),
                "last_update": s.last_client_update.map(|t| ctx.date(t)),
            },
            "phases": matter.phases,
            "timeline": timeline,
            "requests": requests,
            "documents": documents,
            "sent": sent,
            "categories": categories,
            "team": team,
            "max": shared::documents::human_size(i64::try_from(ctx.state.config.max_upload_bytes).unwrap_or(i64::MAX)),
        }),
    )
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
) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
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
) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
    let id = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let form = form.into_inner();
    let input = NewRequest { title: form.title, details: form.details, category: form.category };
    run_then_back(&ctx, &back, move |c, staff| updates::open_request(c, staff, &id, &input, now()).map(|_| ()), staff)
        .await
}

#[post("/staff/matters/{id}/requests/{request}/cancel")]
async fn cancel_request(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
    let (id, request) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    run_then_back(&ctx, &back, move |c, staff| updates::cancel_request(c, staff, &id, &request, now()), staff).await
}

/// Shares documents with the matter's clients through the same pipeline as a
/// client's upload; back to the matter when every file was stored, else a
/// page naming each file that was not and why.
#[post("/staff/matters/{id}/documents")]
async fn share_documents(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, body: Multipart) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
    let id = path.into_inner();
    let matter = try_page!(ctx, ctx.state.db.run(move |c| shared::staff::firm_matter(c, &staff, &id)).await);
    let uploader = try_page!(ctx, ctx.require_user()).user.clone();
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
        return see_other(&back);
    }
    let mut view = crate::routes::documents::report_view(&report, ctx.state.config.max_upload_bytes);
    view["staff_nav"] = json!(true);
    view["back"] = json!(back);
    ctx.render(status, "staff_shared", "staff-share-result-title", view)
}

#[post("/staff/matters/{id}/documents/{document}/review")]
async fn review_document(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
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
) -> HttpResponse {
    match ctx.state.db.run(move |c| work(c, &staff)).await {
        Ok(()) => see_other(back),
        Err(e) => invalid_page(ctx, e, back),
    }
}

#[get("/staff/settings")]
async fn settings_page(ctx: PageCtx, req: HttpRequest) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
    let admin = staff.require_admin().is_ok();
    let firm = try_page!(ctx, ctx.state.db.run(move |c| settings::get(c, &staff)).await);
    ctx.render(
        StatusCode::OK,
        "staff_settings",
        "staff-settings-title",
        json!({ "staff_nav": true, "firm": firm, "admin": admin, "default_schedule": ctx.state.config.weekly_schedule.clone().unwrap_or_else(|| ctx.text("staff-settings-schedule-off")) }),
    )
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    name: String,
    #[serde(default)]
    mail_from: String,
    #[serde(default)]
    phone: String,
    time_zone: String,
    #[serde(default)]
    weekly_schedule: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    no_activity_updates: Option<String>,
}

#[post("/staff/settings")]
async fn save_settings(ctx: PageCtx, req: HttpRequest, form: web::Form<SettingsForm>) -> HttpResponse {
    let staff = staff_or_answer!(ctx, req);
    let form = form.into_inner();
    let patch = SettingsPatch {
        name: Some(form.name),
        mail_from: Some(form.mail_from),
        phone: Some(form.phone),
        time_zone: Some(form.time_zone),
        weekly_schedule: Some(form.weekly_schedule),
        no_activity_updates: Some(form.no_activity_updates.is_some()),
    };
    run_then_back(&ctx, "/staff/settings", move |c, staff| settings::update(c, staff, &patch, now()).map(|_| ()), staff)
        .await
}
