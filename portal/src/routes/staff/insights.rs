//! The firm's outcomes as a page, JSON and CSV: `GET /staff/insights` shows
//! every figure of [`shared::staff::insights`] for a date range and scope,
//! with charts drawn on the server ([`crate::charts`]) beside their numbers;
//! `GET /api/v1/staff/insights` gives the same figures;
//! `GET /api/v1/staff/insights/csv/{table}` one of its tables as a CSV file.
//! A case manager gets their own matters; an admin the firm, or one staff
//! member's matters with `case_manager=`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use shared::domain::Role;
use shared::staff::adoption::Share;
use shared::staff::clients;
use shared::staff::insights::{self, Insights, InsightsQuery};
use utoipa::IntoParams;

use super::pages::{invalid_page, when};
use super::staff_of;
use crate::charts::{self, Caption, Series};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::pages::{PageCtx, PageResult};
use crate::routes::ApiConfig;
use crate::session::StaffApi;
use crate::state::AppState;

/// Registers the insights page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(insights_page);
}

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

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

/// The page's form, as typed: dates that do not parse are named on a page, not a bare 400.
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    /// A staff member's id; empty for the whole firm.
    #[serde(default)]
    case_manager: Option<String>,
}

impl PageQuery {
    /// The figures' query, or the field that is not a date.
    fn parse(&self) -> Result<InsightsQuery, shared::Error> {
        let date = |field: &'static str, v: &Option<String>| match v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        {
            None => Ok(None),
            Some(v) => v
                .parse::<chrono::NaiveDate>()
                .map(Some)
                .map_err(|_| shared::Error::invalid(field, "is not a date (YYYY-MM-DD)")),
        };
        Ok(InsightsQuery {
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            case_manager: self.case_manager.clone().filter(|c| !c.trim().is_empty()),
        })
    }
}

/// A share as the page shows it: "3 of 4 (75%)", its grade and the grade's meaning.
#[derive(Serialize)]
struct ShareLine {
    count: i64,
    of: i64,
    percent: Option<String>,
    grade: Option<String>,
    grade_key: Option<String>,
}

impl ShareLine {
    fn of(share: &Share) -> Self {
        let grade = share.grade.map(|g| format!("{g:?}"));
        Self {
            count: share.count,
            of: share.of,
            percent: share.share.map(|s| format!("{:.0}", s * 100.0)),
            grade_key: grade.as_ref().map(|g| format!("insights-grade-{}", g.to_lowercase())),
            grade,
        }
    }
}

/// A row of a table of the page: a label and its numbers, already written out.
#[derive(Serialize)]
struct Row {
    label: String,
    cells: Vec<String>,
}

/// A staff member to pick in the scope box.
#[derive(Serialize)]
struct Pick {
    id: String,
    name: String,
    selected: bool,
}

/// A CSV table's link.
#[derive(Serialize)]
struct CsvLink {
    href: String,
    label_key: String,
}

/// `/staff/insights` as the template gets it.
#[derive(Serialize)]
struct InsightsPage {
    staff_nav: bool,
    from: String,
    to: String,
    as_of: String,
    admin: bool,
    scope_name: Option<String>,
    picks: Vec<Pick>,
    activation: ShareLine,
    engagement: ShareLine,
    coverage: ShareLine,
    failed: i64,
    failures: Vec<Row>,
    rating_count: i64,
    rating_average: Option<String>,
    distribution: Vec<Row>,
    distribution_chart: String,
    weeks: Vec<Row>,
    trend_chart: Option<String>,
    by_manager: Vec<Row>,
    requests_open: i64,
    requests_overdue: i64,
    requests_fulfilled: i64,
    requests_median_days: Option<String>,
    messages_from_clients: i64,
    messages_median_hours: Option<String>,
    messages_unanswered: i64,
    phases: Vec<Row>,
    phases_chart: String,
    quarters: Vec<Row>,
    quarters_chart: String,
    csv: Vec<CsvLink>,
}

fn one_decimal(v: Option<f64>) -> Option<String> {
    v.map(|v| format!("{v:.1}"))
}

/// The charts of `figures`, titled and described in the page's language.
fn draw(ctx: &PageCtx, f: &Insights) -> anyhow::Result<(String, Option<String>, String, String)> {
    let (ratings, matters) = (ctx.text("insights-axis-ratings"), ctx.text("insights-axis-matters"));
    let scores: Vec<String> = (1..=5).map(|s| s.to_string()).collect();
    let distribution = charts::bars(
        &Caption {
            id: "chart-ratings",
            title: &ctx.text("insights-chart-ratings-title"),
            desc: &ctx.text("insights-chart-ratings-desc"),
        },
        &scores,
        &[Series { name: &ratings, colour: charts::BLUE, values: &f.satisfaction.distribution }],
        &ratings,
    )?;
    let trend = if f.satisfaction.by_week.is_empty() {
        None
    } else {
        let weeks: Vec<String> = f.satisfaction.by_week.iter().map(|w| w.week.clone()).collect();
        let averages: Vec<f64> = f.satisfaction.by_week.iter().map(|w| w.average).collect();
        Some(charts::line(
            &Caption {
                id: "chart-trend",
                title: &ctx.text("insights-chart-trend-title"),
                desc: &ctx.text("insights-chart-trend-desc"),
            },
            &weeks,
            &averages,
            (1.0, 5.0),
            &ctx.text("insights-axis-average"),
        )?)
    };
    let titles: Vec<String> = f.phases.iter().map(|p| p.title.clone()).collect();
    let open: Vec<i64> = f.phases.iter().map(|p| p.open_matters).collect();
    let phases = charts::lying_bars(
        &Caption {
            id: "chart-phases",
            title: &ctx.text("insights-chart-phases-title"),
            desc: &ctx.text("insights-chart-phases-desc"),
        },
        &titles,
        &open,
        &matters,
    )?;
    let quarter_keys: Vec<String> = f.quarters.iter().map(|q| q.quarter.clone()).collect();
    let opened: Vec<i64> = f.quarters.iter().map(|q| q.opened).collect();
    let closed: Vec<i64> = f.quarters.iter().map(|q| q.closed).collect();
    let (opened_name, closed_name) = (ctx.text("insights-opened"), ctx.text("insights-closed"));
    let quarters = charts::bars(
        &Caption {
            id: "chart-quarters",
            title: &ctx.text("insights-chart-quarters-title"),
            desc: &ctx.text("insights-chart-quarters-desc"),
        },
        &quarter_keys,
        &[
            Series { name: &opened_name, colour: charts::BLUE, values: &opened },
            Series { name: &closed_name, colour: charts::ORANGE, values: &closed },
        ],
        &matters,
    )?;
    Ok((distribution, trend, phases, quarters))
}

/// The firm's outcomes for a date range (default: the last 90 days): adoption
/// with its grades, weekly update coverage and failures, satisfaction,
/// document requests, messages, phases and quarters, each chart beside its
/// numbers, each table downloadable as CSV. An admin may pick the firm or one
/// staff member; a case manager sees their own matters.
#[get("/staff/insights")]
async fn insights_page(ctx: PageCtx, req: HttpRequest, query: web::Query<PageQuery>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let wanted = match query.parse() {
        Ok(wanted) => wanted,
        Err(e) => return invalid_page(&ctx, e, "/staff/insights"),
    };
    let admin = staff.role == Role::Admin;
    let (lang, at) = (ctx.lang, ctx.state.clock().now());
    let found = ctx
        .state
        .db
        .run(move |c| {
            let figures = insights::insights(c, &staff, &wanted, lang, at)?;
            let team = if admin { clients::staff_members(c, &staff)? } else { Vec::new() };
            Ok((figures, team))
        })
        .await;
    let (f, team) = match found {
        Ok(found) => found,
        Err(e @ shared::Error::Invalid { .. }) => return invalid_page(&ctx, e, "/staff/insights"),
        Err(e) => return Err(e.into()),
    };
    let (distribution_chart, trend_chart, phases_chart, quarters_chart) =
        draw(&ctx, &f).map_err(shared::Error::Internal)?;
    let mut link = url::form_urlencoded::Serializer::new(String::new());
    link.append_pair("from", &f.from.to_string()).append_pair("to", &f.to.to_string());
    if let (true, Some(id)) = (admin, f.scope.case_manager_id.as_deref()) {
        link.append_pair("case_manager", id);
    }
    let link = link.finish();
    let s = &f.satisfaction;
    let page = InsightsPage {
        staff_nav: true,
        from: f.from.to_string(),
        to: f.to.to_string(),
        as_of: when(&ctx, f.as_of),
        admin,
        scope_name: f.scope.name.clone(),
        picks: team
            .into_iter()
            .map(|m| Pick {
                selected: f.scope.case_manager_id.as_deref() == Some(m.id.as_str()),
                id: m.id,
                name: m.full_name,
            })
            .collect(),
        activation: ShareLine::of(&f.adoption.activation),
        engagement: ShareLine::of(&f.adoption.engagement),
        coverage: ShareLine::of(&f.weekly_updates.updated_last_7_days),
        failed: f.weekly_updates.failed,
        failures: f
            .weekly_updates
            .failures
            .iter()
            .map(|x| Row {
                label: x.client_name.clone(),
                cells: vec![when(&ctx, x.at), x.error.clone().unwrap_or_default()],
            })
            .collect(),
        rating_count: s.count,
        rating_average: one_decimal(s.average),
        distribution: s
            .distribution
            .iter()
            .zip(1..)
            .map(|(n, score)| Row { label: format!("{score}"), cells: vec![n.to_string()] })
            .collect(),
        distribution_chart,
        weeks: s
            .by_week
            .iter()
            .map(|w| Row { label: w.week.clone(), cells: vec![w.count.to_string(), format!("{:.1}", w.average)] })
            .collect(),
        trend_chart,
        by_manager: s
            .by_case_manager
            .iter()
            .map(|m| Row {
                label: m.name.clone().unwrap_or_else(|| ctx.text("staff-filter-unassigned")),
                cells: vec![m.count.to_string(), format!("{:.1}", m.average)],
            })
            .collect(),
        requests_open: f.requests.open,
        requests_overdue: f.requests.overdue,
        requests_fulfilled: f.requests.fulfilled,
        requests_median_days: one_decimal(f.requests.median_days_to_fulfil),
        messages_from_clients: f.messages.from_clients,
        messages_median_hours: one_decimal(f.messages.median_hours_to_answer),
        messages_unanswered: f.messages.unanswered_over_one_business_day,
        phases: f
            .phases
            .iter()
            .map(|p| Row {
                label: p.title.clone(),
                cells: vec![
                    p.open_matters.to_string(),
                    p.stays.to_string(),
                    one_decimal(p.median_days).unwrap_or_default(),
                ],
            })
            .collect(),
        phases_chart,
        quarters: f
            .quarters
            .iter()
            .map(|q| Row { label: q.quarter.clone(), cells: vec![q.opened.to_string(), q.closed.to_string()] })
            .collect(),
        quarters_chart,
        csv: TABLES
            .iter()
            .map(|t| CsvLink {
                href: format!("/api/v1/staff/insights/csv/{t}?{link}"),
                label_key: format!("insights-csv-{t}"),
            })
            .collect(),
    };
    Ok(ctx.render(StatusCode::OK, "staff_insights", "insights-title", page))
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
