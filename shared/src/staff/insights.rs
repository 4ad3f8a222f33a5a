//! Insights: does the portal deliver what the firm runs it for — clients who
//! use it, a weekly update for every open matter, satisfied clients, quick
//! answers, documents in, cases moving? One set of figures for a date range
//! and a scope (the firm, or one case manager's matters), read by the staff
//! page, the API and its CSV exports.
//!
//! Every figure is counted here from rows of the scope's firm, by indexed
//! columns (matters by firm, ratings by firm and time, notifications by
//! recipient and kind, messages by firm, milestones by matter and time);
//! medians are taken in Rust over the range's rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use diesel::dsl::{count, count_star, exists};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Staff;
use super::adoption::{self, Figures, Share};
use crate::db::DbConnection;
use crate::db::schema::{
    document_requests, firms, matter_clients, matters, messages, milestones, notifications, phase_texts, phases,
    ratings, users,
};
use crate::domain::{
    Channel, Language, MessageKind, MilestoneKind, NotificationKind, NotificationStatus, RequestStatus, Role,
    day_start_utc, local_time,
};
use crate::error::{Error, Result};
use crate::notifications::queue::iso_week_key;

/// How far back the range reaches when the query names no start.
pub const DEFAULT_DAYS: i64 = 90;
/// The longest range asked for at once.
pub const MAX_DAYS: i64 = 3 * 366;

/// What the query may choose.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightsQuery {
    /// First day of the range (the firm's calendar; default 90 days before `to`).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last day of the range, included (default today).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// One case manager's matters (admins; a case manager always sees their own).
    #[serde(default)]
    pub case_manager: Option<String>,
}

/// Whose matters the figures count.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Scope {
    /// The case manager, or absent for the whole firm.
    pub case_manager_id: Option<String>,
    /// Their name.
    pub name: Option<String>,
}

/// Weekly update coverage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Coverage {
    /// Open matters with a client who was sent a weekly update in the last 7 days ÷ open matters.
    pub updated_last_7_days: Share,
    /// Weekly updates that failed in the range.
    pub failed: i64,
    /// The latest failures (at most 20), newest first.
    pub failures: Vec<Failure>,
}

/// A weekly update that could not be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Failure {
    /// The client.
    pub client_id: String,
    /// Their name.
    pub client_name: String,
    /// When it was given up (UTC).
    pub at: NaiveDateTime,
    /// The mail server's words.
    pub error: Option<String>,
}

/// Clients' ratings of their updates.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Satisfaction {
    /// Ratings in the range.
    pub count: i64,
    /// Their average (1–5).
    pub average: Option<f64>,
    /// How many of each score, 1 to 5.
    pub distribution: [i64; 5],
    /// Per ISO week of the range (weeks with ratings).
    pub by_week: Vec<WeekScore>,
    /// Per case manager of the rating client's matters (admins, firm scope).
    pub by_case_manager: Vec<ManagerScore>,
}

/// One week's ratings.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WeekScore {
    /// ISO week, e.g. `2026-W48`.
    pub week: String,
    /// Ratings that week.
    pub count: i64,
    /// Their average.
    pub average: f64,
}

/// One case manager's ratings.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ManagerScore {
    /// The case manager (absent: clients of unassigned matters).
    pub case_manager_id: Option<String>,
    /// Their name.
    pub name: Option<String>,
    /// Ratings.
    pub count: i64,
    /// Their average.
    pub average: f64,
}

/// Document requests.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Requests {
    /// Requests open now.
    pub open: i64,
    /// Open requests whose due date has passed (the firm's today; the due day
    /// itself is not overdue), as the staff matters list's "overdue" filter counts them.
    pub overdue: i64,
    /// Requests fulfilled in the range.
    pub fulfilled: i64,
    /// Median days from asking to fulfilment, over those fulfilled in the range.
    pub median_days_to_fulfil: Option<f64>,
}

/// Client messages and the firm's answers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Messages {
    /// Client messages written in the range.
    pub from_clients: i64,
    /// Median hours from a client's message to the firm's answer (reply or "handled"), over those answered.
    pub median_hours_to_answer: Option<f64>,
    /// Client messages still unanswered after more than one business day.
    pub unanswered_over_one_business_day: i64,
}

/// One phase of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PhaseFigures {
    /// Phase key.
    pub key: String,
    /// Its title in the viewer's language.
    pub title: String,
    /// Open matters in it now.
    pub open_matters: i64,
    /// Stays in the phase that ended in the range.
    pub stays: i64,
    /// Their median length in days.
    pub median_days: Option<f64>,
}

/// Matters opened and closed in a calendar quarter.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Quarter {
    /// E.g. `2026-Q4`.
    pub quarter: String,
    /// Matters opened.
    pub opened: i64,
    /// Matters closed.
    pub closed: i64,
}

/// The figures of a range and scope.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Insights {
    /// First day of the range (the firm's calendar).
    pub from: NaiveDate,
    /// Last day of the range, included.
    pub to: NaiveDate,
    /// When the figures were taken (UTC).
    pub as_of: NaiveDateTime,
    /// Whose matters.
    pub scope: Scope,
    /// Activation and engagement (as of now).
    pub adoption: Figures,
    /// Weekly update coverage.
    pub weekly_updates: Coverage,
    /// Ratings.
    pub satisfaction: Satisfaction,
    /// Document requests.
    pub requests: Requests,
    /// Messages.
    pub messages: Messages,
    /// Matters by phase, in catalogue order.
    pub phases: Vec<PhaseFigures>,
    /// Matters opened and closed per quarter of the range.
    pub quarters: Vec<Quarter>,
}

/// The median of `values` (sorted here).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

/// The calendar quarter of `date`, e.g. `2026-Q4`.
pub fn quarter_key(date: NaiveDate) -> String {
    format!("{}-Q{}", date.year(), date.month0() / 3 + 1)
}

/// The moment one business day (Monday to Friday) before `at`: Monday 10:00
/// gives Friday 10:00, a Saturday or Sunday gives Thursday at the same time.
pub fn one_business_day_before(at: NaiveDateTime) -> NaiveDateTime {
    let mut day = at - Duration::days(1);
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day -= Duration::days(1);
    }
    day
}

fn days(d: Duration) -> f64 {
    d.num_seconds() as f64 / 86_400.0
}

/// The figures `staff` may see for `query`, as of `now`, with phase titles in `language`.
pub fn insights(
    conn: &mut DbConnection,
    staff: &Staff,
    query: &InsightsQuery,
    language: Language,
    now: NaiveDateTime,
) -> Result<Insights> {
    let time_zone: String = firms::table.find(&staff.firm_id).select(firms::time_zone).first(conn)?;
    let today = local_time(&time_zone, now).date();
    let to = query.to.unwrap_or(today);
    let from = query.from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(Error::invalid("from", "is after `to`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(Error::invalid("from", format!("the range is longer than {MAX_DAYS} days")));
    }
    // The range in UTC, roughly: a day either side of the firm's calendar days is
    // read, and each row is then placed by its local date.
    let (start, end) = (
        from.and_time(chrono::NaiveTime::MIN) - Duration::days(1),
        to.succ_opt().unwrap_or(to).and_time(chrono::NaiveTime::MIN) + Duration::days(1),
    );
    // A row is in the range when its local date is: from the first moment of
    // `from` to the first moment of the day after `to`, both in UTC, so the
    // hundreds of thousands of rows of a large firm are compared, not converted.
    let (first, after) = (day_start_utc(&time_zone, from), day_start_utc(&time_zone, to.succ_opt().unwrap_or(to)));
    let in_range = |at: NaiveDateTime| at >= first && at < after;
    let zone = time_zone.parse::<chrono_tz::Tz>().ok();
    let local = |at: NaiveDateTime| zone.map_or(at, |tz| at.and_utc().with_timezone(&tz).naive_local());

    let scope = scope_of(conn, staff, query.case_manager.as_deref())?;
    let managers: HashMap<String, String> = users::table
        .filter(users::firm_id.eq(&staff.firm_id))
        .filter(users::role.ne(Role::Client))
        .select((users::id, users::full_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();

    // Every query below reads the scope's rows only: matters of the firm (by
    // `matters_firm_manager`), and of one case manager when the scope names one.
    let firm_id = staff.firm_id.as_str();
    let manager = scope.case_manager_id.as_deref();
    macro_rules! scoped {
        ($query:expr) => {{
            let query = $query.filter(matters::firm_id.eq(firm_id)).into_boxed();
            match manager {
                Some(id) => query.filter(matters::case_manager_id.eq(id)),
                None => query,
            }
        }};
    }

    // Adoption, as the adoption figures give it for this scope.
    let everyone = adoption::adoption(conn, &Staff { role: Role::Admin, ..staff.clone() }, now)?;
    let adoption = match &scope.case_manager_id {
        None => everyone.firm.ok_or_else(|| Error::Internal(anyhow::anyhow!("firm adoption missing")))?,
        Some(id) => everyone
            .case_managers
            .into_iter()
            .find(|r| r.case_manager_id.as_deref() == Some(id.as_str()))
            .map(|r| r.figures)
            .unwrap_or_else(|| Figures { activation: Share::new(0, 0), engagement: Share::new(0, 0) }),
    };

    // Open matters now, by phase (and so in all).
    let open_by_phase: HashMap<String, i64> = scoped!(
        matters::table
            .filter(matters::closed_at.is_null())
            .group_by(matters::phase_id)
            .select((matters::phase_id, count_star()))
    )
    .load::<(String, i64)>(conn)?
    .into_iter()
    .collect();
    let open: i64 = open_by_phase.values().sum();

    // Weekly updates: open matters with a client sent one in the last 7 days.
    let covered: i64 = scoped!(
        matter_clients::table
            .inner_join(matters::table)
            .filter(matters::closed_at.is_null())
            .filter(exists(
                notifications::table
                    .filter(notifications::recipient_id.eq(matter_clients::client_id))
                    .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
                    .filter(notifications::channel.eq(Channel::Email))
                    .filter(notifications::status.eq(NotificationStatus::Sent))
                    .filter(notifications::sent_at.ge(now - Duration::days(7))),
            ))
            .select(count(matter_clients::matter_id).aggregate_distinct())
    )
    .first(conn)?;
    // Failures in the range, to a client of the scope's matters (a row per
    // matter of theirs, so each failure is taken once).
    // (notification, last attempt, error, client, client's name)
    type FailureRow = (String, NaiveDateTime, Option<String>, String, String);
    let failed_rows: Vec<FailureRow> = scoped!(
        notifications::table
            .inner_join(users::table)
            .inner_join(matter_clients::table.on(matter_clients::client_id.eq(notifications::recipient_id)))
            .inner_join(matters::table.on(matters::id.eq(matter_clients::matter_id)))
            .filter(notifications::firm_id.eq(firm_id))
            .filter(notifications::kind.eq(NotificationKind::WeeklyUpdate))
            .filter(notifications::channel.eq(Channel::Email))
            .filter(notifications::status.eq(NotificationStatus::Failed))
            .filter(notifications::created_at.ge(start))
            .select((
                notifications::id,
                notifications::next_attempt_at,
                notifications::last_error,
                notifications::recipient_id,
                users::full_name,
            ))
    )
    .load(conn)?;
    let mut seen = HashSet::new();
    let mut failures: Vec<Failure> = failed_rows
        .into_iter()
        .filter(|f| in_range(f.1) && seen.insert(f.0.clone()))
        .map(|(_, at, error, client_id, client_name)| Failure { client_id, client_name, at, error })
        .collect();
    failures.sort_by_key(|f| std::cmp::Reverse(f.at));
    let failed = i64::try_from(failures.len()).unwrap_or(i64::MAX);
    failures.truncate(20);
    let weekly_updates = Coverage { updated_last_7_days: Share::new(covered, open), failed, failures };

    // Ratings in the range by clients of the scope's matters, a row per
    // (rating, matter): a rating counts once, and once for each case manager
    // of the client's matters in scope.
    let rated: Vec<(String, i32, NaiveDateTime, Option<String>)> = scoped!(
        ratings::table
            .inner_join(matter_clients::table.on(matter_clients::client_id.eq(ratings::client_id)))
            .inner_join(matters::table.on(matters::id.eq(matter_clients::matter_id)))
            .filter(ratings::firm_id.eq(firm_id))
            .filter(ratings::created_at.ge(start).and(ratings::created_at.lt(end)))
            .select((ratings::id, ratings::score, ratings::created_at, matters::case_manager_id))
    )
    .load(conn)?;
    let mut distribution = [0i64; 5];
    let mut weeks: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut per_manager: BTreeMap<Option<&str>, (i64, i64)> = BTreeMap::new();
    let (mut count, mut total) = (0i64, 0i64);
    let mut counted: HashSet<&str> = HashSet::new();
    let mut counted_for: HashSet<(&str, Option<&str>)> = HashSet::new();
    for (rating, score, at, manager) in rated.iter().filter(|r| in_range(r.2)) {
        if counted_for.insert((rating.as_str(), manager.as_deref())) {
            let entry = per_manager.entry(manager.as_deref()).or_default();
            *entry = (entry.0 + 1, entry.1 + i64::from(*score));
        }
        if !counted.insert(rating.as_str()) {
            continue;
        }
        if let Some(slot) = usize::try_from(score - 1).ok().and_then(|i| distribution.get_mut(i)) {
            *slot += 1;
        }
        let week = weeks.entry(iso_week_key(local(*at).date())).or_default();
        *week = (week.0 + 1, week.1 + i64::from(*score));
        count += 1;
        total += i64::from(*score);
    }
    let satisfaction = Satisfaction {
        count,
        average: (count > 0).then(|| total as f64 / count as f64),
        distribution,
        by_week: weeks
            .into_iter()
            .map(|(week, (n, sum))| WeekScore { week, count: n, average: sum as f64 / n as f64 })
            .collect(),
        by_case_manager: per_manager
            .into_iter()
            .map(|(id, (n, sum))| ManagerScore {
                case_manager_id: id.map(str::to_owned),
                name: id.and_then(|id| managers.get(id).cloned()),
                count: n,
                average: sum as f64 / n as f64,
            })
            .collect(),
    };

    // Document requests: open now; fulfilled in the range and how long they took.
    type RequestRow = (RequestStatus, NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDate>);
    let requests: Vec<RequestRow> = scoped!(
        document_requests::table
            .inner_join(matters::table)
            .filter(document_requests::status.eq(RequestStatus::Open).or(document_requests::closed_at.ge(start)))
            .select((
                document_requests::status,
                document_requests::created_at,
                document_requests::closed_at,
                document_requests::due_date,
            ))
    )
    .load(conn)?;
    let mut fulfil_days: Vec<f64> = requests
        .iter()
        .filter(|r| r.0 == RequestStatus::Fulfilled)
        .filter_map(|r| r.2.filter(|closed| in_range(*closed)).map(|closed| days(closed - r.1)))
        .collect();
    let requests = Requests {
        open: requests.iter().filter(|r| r.0 == RequestStatus::Open).count() as i64,
        overdue: requests
            .iter()
            .filter(|r| r.0 == RequestStatus::Open && r.3.is_some_and(|due| crate::requests::is_overdue(due, today)))
            .count() as i64,
        fulfilled: fulfil_days.len() as i64,
        median_days_to_fulfil: median(&mut fulfil_days),
    };

    // Client messages: written in the range, how long the answer took; unanswered now.
    let waiting_since = one_business_day_before(local_time(&time_zone, now));
    let client_messages: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = scoped!(
        messages::table
            .inner_join(matters::table)
            .filter(messages::firm_id.eq(firm_id))
            .filter(messages::kind.eq(MessageKind::Client))
            .filter(messages::created_at.ge(start).or(messages::answered_at.is_null()))
            .select((messages::created_at, messages::answered_at))
    )
    .load(conn)?;
    let written: Vec<_> = client_messages.iter().filter(|m| in_range(m.0)).collect();
    let mut answer_hours: Vec<f64> =
        written.iter().filter_map(|m| m.1.map(|answered| (answered - m.0).num_seconds() as f64 / 3600.0)).collect();
    let messages = Messages {
        from_clients: written.len() as i64,
        median_hours_to_answer: median(&mut answer_hours),
        unanswered_over_one_business_day: client_messages
            .iter()
            .filter(|m| m.1.is_none() && local(m.0) < waiting_since)
            .count() as i64,
    };

    // Phases: open matters in each now; stays that ended in the range (from one
    // phase change to the next; a matter starts with a change into its first phase).
    let catalogue: Vec<(String, String)> = phases::table
        .filter(phases::firm_id.eq(&staff.firm_id))
        .order((phases::practice_area, phases::position))
        .select((phases::id, phases::key))
        .load(conn)?;
    let titles: HashMap<String, String> = phase_texts::table
        .inner_join(phases::table)
        .filter(phases::firm_id.eq(&staff.firm_id))
        .filter(phase_texts::language.eq_any([language, Language::EN]))
        .order(phase_texts::language.eq(language))
        .select((phase_texts::phase_id, phase_texts::title))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    // Read in (matter, time) order from `milestones_kind_matter_time`, which
    // also holds the phase: no sort and no table read.
    let changes: Vec<(String, Option<String>, NaiveDateTime)> = scoped!(
        milestones::table
            .inner_join(matters::table)
            .filter(milestones::kind.eq(MilestoneKind::PhaseChange))
            .order((milestones::matter_id, milestones::created_at))
            .select((milestones::matter_id, milestones::phase_id, milestones::created_at))
    )
    .load(conn)?;
    let mut stays: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut previous: Option<(&str, Option<&str>, NaiveDateTime)> = None;
    for (matter, phase, at) in &changes {
        match previous {
            Some((m, Some(p), since)) if m == matter.as_str() && in_range(*at) => {
                stays.entry(p).or_default().push(days(*at - since));
            }
            _ => {}
        }
        previous = Some((matter.as_str(), phase.as_deref(), *at));
    }
    let phases = catalogue
        .iter()
        .map(|(id, key)| {
            let mut lengths = stays.remove(id.as_str()).unwrap_or_default();
            PhaseFigures {
                key: key.clone(),
                title: titles.get(id).cloned().unwrap_or_else(|| key.clone()),
                open_matters: open_by_phase.get(id).copied().unwrap_or(0),
                stays: lengths.len() as i64,
                median_days: median(&mut lengths),
            }
        })
        .collect();

    // Quarters of the range, each with the matters opened and closed in it.
    let mut quarters: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut month = from.with_day(1).unwrap_or(from);
    while month <= to {
        quarters.entry(quarter_key(month)).or_default();
        month = month.checked_add_months(chrono::Months::new(1)).unwrap_or(NaiveDate::MAX);
    }
    let dates: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = scoped!(
        matters::table
            .filter(
                matters::opened_at
                    .ge(start)
                    .and(matters::opened_at.lt(end))
                    .or(matters::closed_at.ge(start).and(matters::closed_at.lt(end))),
            )
            .select((matters::opened_at, matters::closed_at))
    )
    .load(conn)?;
    for (opened, closed) in dates {
        if in_range(opened) {
            quarters.entry(quarter_key(local(opened).date())).or_default().0 += 1;
        }
        if let Some(closed) = closed.filter(|c| in_range(*c)) {
            quarters.entry(quarter_key(local(closed).date())).or_default().1 += 1;
        }
    }
    let quarters =
        quarters.into_iter().map(|(quarter, (opened, closed))| Quarter { quarter, opened, closed }).collect();

    Ok(Insights {
        from,
        to,
        as_of: now,
        scope,
        adoption,
        weekly_updates,
        satisfaction,
        requests,
        messages,
        phases,
        quarters,
    })
}

/// The scope `staff` asked for and may see: a case manager always their own
/// matters; an admin the firm, or one staff member of the firm (another firm's
/// or an unknown id is [`Error::NotFound`]).
fn scope_of(conn: &mut DbConnection, staff: &Staff, asked: Option<&str>) -> Result<Scope> {
    let id = match (staff.role, asked) {
        (Role::Admin, None) => return Ok(Scope { case_manager_id: None, name: None }),
        (Role::Admin, Some(id)) => id.to_owned(),
        (_, Some(id)) if id != staff.id => return Err(Error::Forbidden),
        _ => staff.id.clone(),
    };
    let name: String = users::table
        .filter(users::id.eq(&id))
        .filter(users::firm_id.eq(&staff.firm_id))
        .filter(users::role.ne(Role::Client))
        .select(users::full_name)
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    Ok(Scope { case_manager_id: Some(id), name: Some(name) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn medians_of_odd_even_and_empty_sets() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn quarters_and_business_days() {
        assert_eq!(quarter_key(d(2026, 1, 1)), "2026-Q1");
        assert_eq!(quarter_key(d(2026, 12, 31)), "2026-Q4");
        assert_eq!(quarter_key(d(2026, 7, 1)), "2026-Q3");
        let at = |day: NaiveDate| day.and_hms_opt(10, 0, 0).unwrap_or_default();
        // 2026-12-07 is a Monday: one business day before is Friday the 4th.
        assert_eq!(one_business_day_before(at(d(2026, 12, 7))), at(d(2026, 12, 4)));
        assert_eq!(one_business_day_before(at(d(2026, 12, 8))), at(d(2026, 12, 7)));
        assert_eq!(one_business_day_before(at(d(2026, 12, 6))), at(d(2026, 12, 4)));
    }
}
