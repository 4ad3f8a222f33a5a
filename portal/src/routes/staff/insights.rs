//! The firm's outcomes as JSON and CSV: `GET /api/v1/staff/insights` gives
//! every figure of [`shared::staff::insights`] for a date range and scope;
//! `GET /api/v1/staff/insights/csv/{table}` one of its tables as a CSV file.
//! A case manager gets their own matters; an admin the firm, or one staff
//! member's matters with `case_manager=`.

use actix_web::http::header::{CONTENT_DISPOSITION, HeaderValue};
use actix_web::{HttpResponse, get, web};
use shared::staff::insights::{self, Insights, InsightsQuery};
use utoipa::IntoParams;

use crate::error::{AppError, AppResult, ErrorBody};
use crate::routes::ApiConfig;
use crate::session::StaffApi;
use crate::state::AppState;

/// Registers the insights API.
pub fn configure_api(cfg: &mut ApiConfig) {
    cfg.service(get_insights).service(get_insights_csv);
}

/// The figures for a range and scope.
pub async fn figures(state: &AppState, user: &StaffApi, query: InsightsQuery) -> Result<Insights, shared::Error> {
    let (staff, language, at) = (user.staff.clone(), user.viewer.user.language, state.clock().now());
    state.db.run(move |c| insights::insights(c, &staff, &query, language, at)).await
}

/// The firm's outcomes for a range (default: the last 90 days) and scope:
/// adoption, weekly update coverage, satisfaction, document requests,
/// messages, phases and matters opened and closed per quarter.
#[utoipa::path(
    tag = "staff", params(InsightsQuery),
    responses(
        (status = 200, body = Insights),
        (status = 403, description = "A case manager asked for another staff member's matters", body = ErrorBody),
        (status = 404, description = "`case_manager` is not a staff member of this firm", body = ErrorBody),
        (status = 422, description = "The range is reversed or longer than three years", body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/insights")]
async fn get_insights(
    state: web::Data<AppState>,
    user: StaffApi,
    query: web::Query<InsightsQuery>,
) -> AppResult<web::Json<Insights>> {
    Ok(web::Json(figures(&state, &user, query.into_inner()).await?))
}

/// Which table of the insights a CSV file holds.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct CsvTable {
    /// `adoption`, `weekly-failures`, `satisfaction-weeks`, `satisfaction-managers`, `phases` or `quarters`.
    table: String,
}

/// One table of the insights as CSV (UTF-8, a header row). A cell that a
/// spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return) is written with a leading `'`.
#[utoipa::path(
    tag = "staff", params(InsightsQuery, CsvTable),
    responses(
        (status = 200, description = "The table", content_type = "text/csv", body = String),
        (status = 404, description = "No such table, or `case_manager` is not of this firm", body = ErrorBody),
        (status = 422, description = "The range is reversed or too long", body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/staff/insights/csv/{table}")]
async fn get_insights_csv(
    state: web::Data<AppState>,
    user: StaffApi,
    path: web::Path<CsvTable>,
    query: web::Query<InsightsQuery>,
) -> AppResult<HttpResponse> {
    let table = path.into_inner().table;
    if !TABLES.contains(&table.as_str()) {
        return Err(AppError::from(shared::Error::NotFound));
    }
    let figures = figures(&state, &user, query.into_inner()).await?;
    let body = csv_of(&figures, &table).map_err(|e| AppError::from(shared::Error::Internal(e)))?;
    let name = format!("insights-{table}-{}-{}.csv", figures.from, figures.to);
    let mut response = HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(body);
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response.headers_mut().insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The tables a CSV export can hold.
pub const TABLES: [&str; 6] =
    ["adoption", "weekly-failures", "satisfaction-weeks", "satisfaction-managers", "phases", "quarters"];

/// `cell` made safe for a spreadsheet: one that would start a formula gets a leading `'`.
pub fn safe_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn number(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.2}")).unwrap_or_default()
}

/// `table` of `figures` as CSV text.
pub fn csv_of(figures: &Insights, table: &str) -> anyhow::Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut row = |cells: &[&str]| out.write_record(cells.iter().map(|c| safe_cell(c).into_owned()));
    match table {
        "adoption" => {
            row(&[
                "scope",
                "activated_matters",
                "open_matters",
                "activation",
                "engaged_clients",
                "invited_clients",
                "engagement",
            ])?;
            let a = &figures.adoption;
            let scope = figures.scope.name.as_deref().unwrap_or("firm");
            row(&[
                scope,
                &a.activation.count.to_string(),
                &a.activation.of.to_string(),
                &number(a.activation.share),
                &a.engagement.count.to_string(),
                &a.engagement.of.to_string(),
                &number(a.engagement.share),
            ])?;
        }
        "weekly-failures" => {
            row(&["client_id", "client", "failed_at", "error"])?;
            for f in &figures.weekly_updates.failures {
                row(&[&f.client_id, &f.client_name, &f.at.to_string(), f.error.as_deref().unwrap_or("")])?;
            }
        }
        "satisfaction-weeks" => {
            row(&["week", "ratings", "average"])?;
            for w in &figures.satisfaction.by_week {
                row(&[&w.week, &w.count.to_string(), &number(Some(w.average))])?;
            }
        }
        "satisfaction-managers" => {
            row(&["case_manager_id", "case_manager", "ratings", "average"])?;
            for m in &figures.satisfaction.by_case_manager {
                row(&[
                    m.case_manager_id.as_deref().unwrap_or(""),
                    m.name.as_deref().unwrap_or(""),
                    &m.count.to_string(),
                    &number(Some(m.average)),
                ])?;
            }
        }
        "phases" => {
            row(&["phase", "title", "open_matters", "stays_ended", "median_days"])?;
            for p in &figures.phases {
                row(&[&p.key, &p.title, &p.open_matters.to_string(), &p.stays.to_string(), &number(p.median_days)])?;
            }
        }
        "quarters" => {
            row(&["quarter", "opened", "closed"])?;
            for q in &figures.quarters {
                row(&[&q.quarter, &q.opened.to_string(), &q.closed.to_string()])?;
            }
        }
        other => anyhow::bail!("no insights table {other}"),
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_escaped_and_others_kept() {
        for (cell, safe) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1 555", "'+1 555"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
            ("Jordan Reyes", "Jordan Reyes"),
            ("", ""),
            ("4.50", "4.50"),
        ] {
            assert_eq!(safe_cell(cell), safe, "{cell:?}");
        }
    }
}
