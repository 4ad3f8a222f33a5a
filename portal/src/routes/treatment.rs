//! The client's treatment log and appointments: the page linked from the
//! case page, where the client logs "I saw a provider on …" or "I have an
//! appointment on …" (a plain form: it works without JavaScript; a new
//! provider can be added in the same form), and the same under `/api/v1`.
//! Every route checks that the matter is the signed-in client's; anything
//! else is 404, exactly like a missing matter.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::appointments::{self, AppointmentView};
use shared::db::models::{Matter, User};
use shared::domain::{local_date, now};
use shared::treatment::{self, Author, NewProvider, NewVisit, ProviderKind, ProviderView, TreatmentLog, VisitView};

use crate::error::{AppResult, ErrorBody};
use crate::pages::{PageCtx, PageResult};
use crate::routes::ApiConfig;
use crate::session::{ApiUser, client_ip};
use crate::state::AppState;

/// Registers the treatment pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(treatment_page).service(post_visit);
}

/// Registers the treatment API, each route with its description in `/api/openapi.json`.
pub fn configure_api(cfg: &mut ApiConfig) {
    cfg.service(client_treatment_log)
        .service(client_add_visit)
        .service(client_add_provider)
        .service(client_appointments);
}

/// An appointment as a page shows it.
#[derive(Serialize)]
pub(crate) struct AppointmentLine {
    kind_key: String,
    when: String,
    at_iso: String,
    minutes: i32,
    place: String,
    bring: Option<String>,
    cancelled: bool,
    id: String,
    sequence: i32,
}

/// The lines a page shows of `list`, in the page's language and the firm's time zone.
pub(crate) fn appointment_lines(ctx: &PageCtx, list: Vec<AppointmentView>) -> Vec<AppointmentLine> {
    let zone = ctx.viewer.as_ref().map_or("UTC", |v| v.firm_time_zone.as_str());
    list.into_iter()
        .map(|a| AppointmentLine {
            kind_key: format!("appointment-kind-{}", a.kind),
            when: appointments::when_text(ctx.state.renderer.locales(), ctx.lang, zone, a.starts_at),
            at_iso: a.starts_at.and_utc().to_rfc3339(),
            minutes: a.duration_minutes,
            place: a.place,
            bring: a.bring,
            cancelled: a.cancelled_at.is_some(),
            id: a.id,
            sequence: a.sequence,
        })
        .collect()
}

/// A visit as a page shows it.
#[derive(Serialize)]
pub(crate) struct VisitLine {
    provider: String,
    kind_key: String,
    date: String,
    date_iso: String,
    upcoming: bool,
    note: Option<String>,
}

/// The lines a page shows of `visits`, in the page's language.
pub(crate) fn visit_lines(ctx: &PageCtx, visits: Vec<VisitView>) -> Vec<VisitLine> {
    let locales = ctx.state.renderer.locales();
    visits
        .into_iter()
        .map(|v| VisitLine {
            provider: v.provider_name,
            kind_key: format!("provider-kind-{}", v.provider_kind),
            date: locales.date(ctx.lang, v.visit_on),
            date_iso: v.visit_on.to_string(),
            upcoming: v.status == treatment::VisitStatus::Upcoming,
            note: v.note,
        })
        .collect()
}

/// A choice in a select list.
#[derive(Serialize)]
pub(crate) struct Option_ {
    value: String,
    label: String,
    selected: bool,
}

impl Option_ {
    /// A choice.
    pub(crate) fn new(value: &str, label: String, selected: bool) -> Self {
        Self { value: value.to_owned(), label, selected }
    }
}

/// The provider kinds as choices, `selected` chosen.
pub(crate) fn kind_choices(ctx: &PageCtx, selected: &str) -> Vec<Option_> {
    ProviderKind::ALL
        .iter()
        .map(|k| Option_ {
            value: k.as_str().to_owned(),
            label: ctx.text(&format!("provider-kind-{k}")),
            selected: k.as_str() == selected,
        })
        .collect()
}

/// The providers of a matter as choices, with "a new provider" first.
pub(crate) fn provider_choices(ctx: &PageCtx, providers: &[ProviderView], selected: &str) -> Vec<Option_> {
    let mut choices = vec![Option_ {
        value: String::new(),
        label: ctx.text("treatment-provider-new"),
        selected: selected.is_empty(),
    }];
    choices.extend(providers.iter().map(|p| Option_ {
        value: p.id.clone(),
        label: format!("{} ({})", p.name, ctx.text(&format!("provider-kind-{}", p.kind))),
        selected: p.id == selected,
    }));
    choices
}

/// The visit form, as sent (to show again with what was wrong).
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct VisitForm {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub visit_on: String,
    #[serde(default)]
    pub provider_id: String,
    #[serde(default)]
    pub provider_name: String,
    #[serde(default)]
    pub provider_kind: String,
    #[serde(default)]
    pub provider_phone: String,
    #[serde(default)]
    pub note: String,
}

impl VisitForm {
    /// The visit to log, or the locale key of what is wrong with the form.
    pub(crate) fn input(&self) -> Result<NewVisit, (&'static str, &'static str)> {
        let Ok(visit_on) = NaiveDate::parse_from_str(self.visit_on.trim(), "%Y-%m-%d") else {
            return Err(("visit_on", "treatment-error-date"));
        };
        let provider_id = Some(self.provider_id.trim().to_owned()).filter(|p| !p.is_empty());
        let new_provider = match provider_id {
            Some(_) => None,
            None if self.provider_name.trim().is_empty() => return Err(("provider_name", "treatment-error-provider")),
            None => Some(NewProvider {
                name: self.provider_name.clone(),
                kind: Some(self.provider_kind.clone()),
                phone: Some(self.provider_phone.clone()),
            }),
        };
        Ok(NewVisit {
            provider_id,
            new_provider,
            visit_on,
            status: Some(self.status.clone()),
            note: Some(self.note.clone()),
        })
    }
}

/// The locale key for a refused visit (the shared error names the field).
pub(crate) fn error_key(error: &shared::Error, status: &str) -> Option<(&'static str, &'static str)> {
    match error {
        shared::Error::Invalid { field: "visit_on", .. } if status == "upcoming" => {
            Some(("visit_on", "treatment-error-past"))
        }
        shared::Error::Invalid { field: "visit_on", .. } => Some(("visit_on", "treatment-error-future")),
        shared::Error::Invalid {
            field: "provider_name" | "provider_phone" | "provider_kind" | "provider_id", ..
        } => Some(("provider_name", "treatment-error-provider")),
        shared::Error::Invalid { field: "note", .. } => Some(("note", "treatment-error-note")),
        shared::Error::Invalid { field: "status", .. } => Some(("status", "treatment-error-status")),
        _ => None,
    }
}

#[derive(Serialize)]
struct MatterNamed<'a> {
    id: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct TreatmentPage<'a> {
    matter: MatterNamed<'a>,
    appointments: Vec<AppointmentLine>,
    visits: Vec<VisitLine>,
    providers: Vec<Option_>,
    kinds: Vec<Option_>,
    form: &'a VisitForm,
    upcoming: bool,
    today: String,
    /// The field that was wrong, and the locale key saying why.
    error_field: Option<&'static str>,
    error: Option<&'static str>,
    logged: Option<&'static str>,
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    logged: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// The client's matter `id` with its treatment log and upcoming appointments.
async fn load(ctx: &PageCtx, id: String) -> shared::Result<(Matter, TreatmentLog, Vec<AppointmentView>, NaiveDate)> {
    let viewer = ctx.require_user()?;
    let (client, zone) = (viewer.user.clone(), viewer.firm_time_zone.clone());
    ctx.state
        .db
        .run(move |conn| {
            let matter = shared::client_view::own_matter(conn, &client, &id)?;
            let at = now();
            let log = treatment::log(conn, &matter, at)?;
            let upcoming = appointments::upcoming(conn, &matter, at)?;
            Ok((matter, log, upcoming, local_date(&zone, at)))
        })
        .await
}

async fn render(
    ctx: &PageCtx,
    status: StatusCode,
    id: String,
    form: &VisitForm,
    error: Option<(&'static str, &'static str)>,
    logged: Option<&'static str>,
) -> PageResult {
    let (matter, log, upcoming, today) = load(ctx, id).await?;
    let page = TreatmentPage {
        matter: MatterNamed { id: &matter.id, title: &matter.title },
        appointments: appointment_lines(ctx, upcoming),
        visits: visit_lines(ctx, log.visits),
        providers: provider_choices(ctx, &log.providers, form.provider_id.trim()),
        kinds: kind_choices(ctx, if form.provider_kind.is_empty() { "doctor" } else { &form.provider_kind }),
        upcoming: form.status == "upcoming",
        form,
        today: today.to_string(),
        error_field: error.map(|(field, _)| field),
        error: error.map(|(_, key)| key),
        logged,
    };
    Ok(ctx.render(status, "treatment", "treatment-title", page))
}

#[get("/matters/{id}/treatment")]
async fn treatment_page(ctx: PageCtx, path: web::Path<String>, query: web::Query<PageQuery>) -> PageResult {
    if matches!(ctx.require_user(), Err(shared::Error::Unauthenticated)) {
        return Ok(crate::routes::sign_in::to_sign_in(&ctx.state, &ctx.path));
    }
    let logged = match query.logged.as_deref() {
        Some("upcoming") => Some("treatment-logged-upcoming"),
        Some(_) => Some("treatment-logged-visit"),
        None => None,
    };
    let form = VisitForm {
        status: if query.status.as_deref() == Some("upcoming") { "upcoming".to_owned() } else { "visited".to_owned() },
        ..VisitForm::default()
    };
    render(&ctx, StatusCode::OK, path.into_inner(), &form, None, logged).await
}

#[post("/matters/{id}/treatment/visits")]
async fn post_visit(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, form: web::Form<VisitForm>) -> PageResult {
    let viewer = ctx.require_user()?.clone();
    let id = path.into_inner();
    let form = form.into_inner();
    let input = match form.input() {
        Ok(input) => input,
        Err(error) => return render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, id, &form, Some(error), None).await,
    };
    let ip = client_ip(&req);
    let (matter_id, zone) = (id.clone(), viewer.firm_time_zone.clone());
    let done = ctx
        .state
        .db
        .run(move |conn| {
            let matter = shared::client_view::own_matter(conn, &viewer.user, &matter_id)?;
            let at = now();
            treatment::add_visit(
                conn,
                &matter,
                Author::Client(&viewer.user.id, ip.as_deref()),
                &input,
                local_date(&zone, at),
                at,
            )
        })
        .await;
    match done {
        Ok(visit) => {
            Ok(crate::pages::see_other(&format!("/matters/{id}/treatment?logged={}#treatment-log", visit.status)))
        }
        Err(e) => match error_key(&e, form.status.trim()) {
            Some(key) => render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, id, &form, Some(key), None).await,
            None => Err(e.into()),
        },
    }
}

async fn own_matter(state: &AppState, client: &User, id: String) -> shared::Result<Matter> {
    let client = client.clone();
    state.db.run(move |conn| shared::client_view::own_matter(conn, &client, &id)).await
}

/// The treatment log of one of my matters: providers, visits and upcoming
/// appointments I logged or the firm logged (latest first), and whether the
/// firm sees a gap in treatment.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = TreatmentLog), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/matters/{id}/treatment")]
async fn client_treatment_log(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<String>,
) -> AppResult<web::Json<TreatmentLog>> {
    let matter = own_matter(&state, &user.0.user, id.into_inner()).await?;
    Ok(web::Json(state.db.run(move |conn| treatment::log(conn, &matter, now())).await?))
}

/// Log a visit (`status: visited`, on or before today) or an upcoming
/// appointment (`status: upcoming`, today or later) with a provider of the
/// matter (`provider_id`) or a new one (`new_provider`). Days are the firm's calendar.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    request_body = NewVisit,
    responses(
        (status = 201, body = VisitView),
        (status = 422, description = "A visit in the future, an upcoming one in the past, no provider; the message names the field", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/matters/{id}/treatment/visits")]
async fn client_add_visit(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: ApiUser,
    id: web::Path<String>,
    body: web::Json<NewVisit>,
) -> AppResult<HttpResponse> {
    let (viewer, ip) = (user.0, client_ip(&req));
    let matter = own_matter(&state, &viewer.user, id.into_inner()).await?;
    let visit = state
        .db
        .run(move |conn| {
            let at = now();
            let today = local_date(&viewer.firm_time_zone, at);
            treatment::add_visit(conn, &matter, Author::Client(&viewer.user.id, ip.as_deref()), &body, today, at)
        })
        .await?;
    Ok(HttpResponse::Created().json(visit))
}

/// Add a medical provider to one of my matters.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    request_body = NewProvider,
    responses(
        (status = 201, body = ProviderView),
        (status = 422, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/matters/{id}/treatment/providers")]
async fn client_add_provider(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: ApiUser,
    id: web::Path<String>,
    body: web::Json<NewProvider>,
) -> AppResult<HttpResponse> {
    let (viewer, ip) = (user.0, client_ip(&req));
    let matter = own_matter(&state, &viewer.user, id.into_inner()).await?;
    let provider = state
        .db
        .run(move |conn| {
            treatment::add_provider(conn, &matter, Author::Client(&viewer.user.id, ip.as_deref()), &body, now())
        })
        .await?;
    Ok(HttpResponse::Created().json(provider))
}

/// The upcoming appointments the firm scheduled on one of my matters, soonest first.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = Vec<AppointmentView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/matters/{id}/appointments")]
async fn client_appointments(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<String>,
) -> AppResult<web::Json<Vec<AppointmentView>>> {
    let matter = own_matter(&state, &user.0.user, id.into_inner()).await?;
    Ok(web::Json(state.db.run(move |conn| appointments::upcoming(conn, &matter, now())).await?))
}
