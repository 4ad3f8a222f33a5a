//! The firm's side of treatment and appointments: the treatment timeline and
//! the appointments on the staff matter page, with forms to log a visit and
//! to schedule or cancel an appointment, and the same in `/api/v1/staff`.
//! Records of another firm answer 404.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};
use shared::appointments::{self, AppointmentPatch, AppointmentView, NewAppointment};
use shared::domain::{local_date, now};
use shared::staff::{Staff, firm_matter};
use shared::treatment::{self, Author, NewProvider, NewVisit, ProviderView, TreatmentLog, VisitView};

use super::pages::{invalid_page, time_zone};
use super::staff_of;
use crate::error::{AppResult, ErrorBody};
use crate::pages::{PageCtx, PageResult, see_other};
use crate::routes::ApiConfig;
use crate::routes::treatment::{
    AppointmentLine, Option_, VisitForm, VisitLine, appointment_lines, error_key, kind_choices, provider_choices,
    visit_lines,
};
use crate::session::StaffApi;
use crate::state::AppState;

/// Registers the staff forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(staff_post_visit).service(staff_post_appointment).service(staff_post_cancel_appointment);
}

/// Registers the staff treatment and appointments API.
pub fn configure_api(cfg: &mut ApiConfig) {
    cfg.service(staff_treatment_log)
        .service(staff_add_visit)
        .service(staff_add_provider)
        .service(staff_list_appointments)
        .service(staff_schedule_appointment)
        .service(staff_change_appointment)
        .service(staff_cancel_appointment);
}

/// What the staff matter page shows of treatment and appointments.
#[derive(Serialize)]
pub(super) struct CarePanel {
    visits: Vec<VisitLine>,
    appointments: Vec<AppointmentLine>,
    providers: Vec<Option_>,
    kinds: Vec<Option_>,
    appointment_kinds: Vec<Option_>,
    /// Days without a logged visit, when the matter is flagged.
    gap_days: Option<i64>,
    today: String,
}

/// The care panel of the staff matter page.
pub(super) fn care_panel(
    ctx: &PageCtx,
    log: TreatmentLog,
    list: Vec<AppointmentView>,
    today: chrono::NaiveDate,
) -> CarePanel {
    CarePanel {
        gap_days: log.treatment_gap_days,
        providers: provider_choices(ctx, &log.providers, ""),
        visits: visit_lines(ctx, log.visits),
        appointments: appointment_lines(ctx, list),
        kinds: kind_choices(ctx, "doctor"),
        appointment_kinds: appointments::AppointmentKind::ALL
            .iter()
            .map(|k| Option_::new(k.as_str(), ctx.text(&format!("appointment-kind-{k}")), false))
            .collect(),
        today: today.to_string(),
    }
}

/// Loads what [`care_panel`] shows (inside the page's database trip).
pub(super) fn load_care(
    conn: &mut shared::db::DbConnection,
    staff: &Staff,
    matter_id: &str,
    at: NaiveDateTime,
) -> shared::Result<(TreatmentLog, Vec<AppointmentView>)> {
    let matter = firm_matter(conn, staff, matter_id)?;
    Ok((treatment::log(conn, &matter, at)?, appointments::of_matter(conn, staff, matter_id)?))
}

fn firm_today(
    conn: &mut shared::db::DbConnection,
    firm_id: &str,
    at: NaiveDateTime,
) -> shared::Result<chrono::NaiveDate> {
    use diesel::prelude::*;
    let zone: String =
        shared::db::schema::firms::table.find(firm_id).select(shared::db::schema::firms::time_zone).first(conn)?;
    Ok(local_date(&zone, at))
}

#[post("/staff/matters/{id}/treatment/visits")]
async fn staff_post_visit(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<VisitForm>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let form = form.into_inner();
    let input = match form.input() {
        Ok(input) => input,
        Err((field, key)) => return invalid_page(&ctx, shared::Error::invalid(field, ctx.text(key)), &back),
    };
    let status = form.status.clone();
    let done = ctx
        .state
        .db
        .run(move |c| {
            let matter = firm_matter(c, &staff, &id)?;
            let at = now();
            let today = firm_today(c, &staff.firm_id, at)?;
            treatment::add_visit(c, &matter, Author::Staff(&staff.id, staff.ip.as_deref()), &input, today, at)
        })
        .await;
    match done {
        Ok(_) => Ok(see_other(&format!("{back}?done=visit-logged#treatment"))),
        Err(e) => match error_key(&e, status.trim()) {
            Some((field, key)) => invalid_page(&ctx, shared::Error::invalid(field, ctx.text(key)), &back),
            None => invalid_page(&ctx, e, &back),
        },
    }
}

#[derive(Debug, Deserialize)]
struct AppointmentForm {
    kind: String,
    /// `datetime-local`: "2027-01-05T09:00", in the firm's time zone.
    starts_at: String,
    #[serde(default)]
    duration_minutes: Option<String>,
    place: String,
    #[serde(default)]
    bring: Option<String>,
}

#[post("/staff/matters/{id}/appointments")]
async fn staff_post_appointment(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<AppointmentForm>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let form = form.into_inner();
    // The form's time is the firm's wall clock; the API's is RFC 3339.
    let local = chrono::NaiveDateTime::parse_from_str(form.starts_at.trim(), "%Y-%m-%dT%H:%M").ok();
    let Some(starts_at) = local.and_then(|t| time_zone(&ctx).from_local_datetime(&t).earliest()).map(|t| t.naive_utc())
    else {
        return invalid_page(&ctx, shared::Error::invalid("starts_at", "is not a date and time"), &back);
    };
    let duration = match form.duration_minutes.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => match d.parse::<i32>() {
            Ok(d) => Some(d),
            Err(_) => return invalid_page(&ctx, shared::Error::invalid("duration_minutes", "is not a number"), &back),
        },
        None => None,
    };
    let input =
        NewAppointment { kind: form.kind, starts_at, duration_minutes: duration, place: form.place, bring: form.bring };
    match ctx.state.db.run(move |c| appointments::schedule(c, &staff, &id, &input, now())).await {
        Ok((_, queued)) => {
            ctx.state.notifications.deliver_now(queued).await;
            Ok(see_other(&format!("{back}?done=appointment-scheduled#appointments")))
        }
        Err(e) => invalid_page(&ctx, e, &back),
    }
}

#[post("/staff/matters/{id}/appointments/{appointment}/cancel")]
async fn staff_post_cancel_appointment(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (id, appointment) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    match ctx.state.db.run(move |c| appointments::cancel(c, &staff, &id, &appointment, now())).await {
        Ok((_, queued)) => {
            ctx.state.notifications.deliver_now(queued).await;
            Ok(see_other(&format!("{back}?done=appointment-cancelled#appointments")))
        }
        Err(e) => invalid_page(&ctx, e, &back),
    }
}

/// A matter's treatment log: providers, visits and upcoming appointments the
/// client told of (latest first), and `treatment_gap_days` when the matter is
/// flagged for a gap in treatment.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = TreatmentLog), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/matters/{id}/treatment")]
async fn staff_treatment_log(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
) -> AppResult<web::Json<TreatmentLog>> {
    let staff = user.staff;
    Ok(web::Json(
        state
            .db
            .run(move |c| {
                let matter = firm_matter(c, &staff, &id)?;
                treatment::log(c, &matter, now())
            })
            .await?,
    ))
}

/// Logs a visit or an upcoming appointment on a matter (as the client's
/// form does: a visit not after today, an upcoming one not before, in the firm's calendar).
#[utoipa::path(
    tag = "staff", request_body = NewVisit,
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 201, body = VisitView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/treatment/visits")]
async fn staff_add_visit(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<NewVisit>,
) -> AppResult<HttpResponse> {
    let staff = user.staff;
    let visit = state
        .db
        .run(move |c| {
            let matter = firm_matter(c, &staff, &id)?;
            let at = now();
            let today = firm_today(c, &staff.firm_id, at)?;
            treatment::add_visit(c, &matter, Author::Staff(&staff.id, staff.ip.as_deref()), &body, today, at)
        })
        .await?;
    Ok(HttpResponse::Created().json(visit))
}

/// Adds a medical provider to a matter's treatment log.
#[utoipa::path(
    tag = "staff", request_body = NewProvider,
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 201, body = ProviderView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/treatment/providers")]
async fn staff_add_provider(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<NewProvider>,
) -> AppResult<HttpResponse> {
    let staff = user.staff;
    let provider = state
        .db
        .run(move |c| {
            let matter = firm_matter(c, &staff, &id)?;
            treatment::add_provider(c, &matter, Author::Staff(&staff.id, staff.ip.as_deref()), &body, now())
        })
        .await?;
    Ok(HttpResponse::Created().json(provider))
}

/// Every appointment of a matter, cancelled ones included, soonest first.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 200, body = Vec<AppointmentView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/matters/{id}/appointments")]
async fn staff_list_appointments(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
) -> AppResult<web::Json<Vec<AppointmentView>>> {
    let staff = user.staff;
    Ok(web::Json(state.db.run(move |c| appointments::of_matter(c, &staff, &id)).await?))
}

/// Schedules an appointment; every client of the matter gets an email with
/// an `.ics` invitation (`METHOD:REQUEST`, UID stable per appointment).
/// `starts_at` is RFC 3339 with `Z` or an offset.
#[utoipa::path(
    tag = "staff", request_body = NewAppointment,
    params(("id" = String, Path, description = "Matter id")),
    responses((status = 201, body = AppointmentView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/appointments")]
async fn staff_schedule_appointment(
    state: web::Data<AppState>,
    user: StaffApi,
    id: web::Path<String>,
    body: web::Json<NewAppointment>,
) -> AppResult<HttpResponse> {
    let staff = user.staff;
    let (made, queued) = state.db.run(move |c| appointments::schedule(c, &staff, &id, &body, now())).await?;
    state.notifications.deliver_now(queued).await;
    Ok(HttpResponse::Created().json(made))
}

/// Changes an appointment; the clients get the updated invitation (same UID, SEQUENCE one higher).
#[utoipa::path(
    tag = "staff", request_body = AppointmentPatch,
    params(("id" = String, Path, description = "Matter id"), ("appointment" = String, Path, description = "Appointment id")),
    responses((status = 200, body = AppointmentView), (status = 404, body = ErrorBody), (status = 409, description = "The appointment is cancelled", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[patch("/api/v1/staff/matters/{id}/appointments/{appointment}")]
async fn staff_change_appointment(
    state: web::Data<AppState>,
    user: StaffApi,
    path: web::Path<(String, String)>,
    body: web::Json<AppointmentPatch>,
) -> AppResult<web::Json<AppointmentView>> {
    let staff = user.staff;
    let (id, appointment) = path.into_inner();
    let (changed, queued) =
        state.db.run(move |c| appointments::change(c, &staff, &id, &appointment, &body, now())).await?;
    state.notifications.deliver_now(queued).await;
    Ok(web::Json(changed))
}

/// Cancels an appointment; the clients get a `METHOD:CANCEL` with the same UID.
#[utoipa::path(
    tag = "staff",
    params(("id" = String, Path, description = "Matter id"), ("appointment" = String, Path, description = "Appointment id")),
    responses((status = 200, body = AppointmentView), (status = 404, body = ErrorBody), (status = 409, description = "Already cancelled", body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/staff/matters/{id}/appointments/{appointment}/cancel")]
async fn staff_cancel_appointment(
    state: web::Data<AppState>,
    user: StaffApi,
    path: web::Path<(String, String)>,
) -> AppResult<web::Json<AppointmentView>> {
    let staff = user.staff;
    let (id, appointment) = path.into_inner();
    let (cancelled, queued) = state.db.run(move |c| appointments::cancel(c, &staff, &id, &appointment, now())).await?;
    state.notifications.deliver_now(queued).await;
    Ok(web::Json(cancelled))
}
