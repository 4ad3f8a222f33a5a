//! Adoption: do the firm's clients use the portal? Two figures, with the
//! definitions Case Status publishes for its firms:
//!
//! - **activation**: open matters with at least one invited client (a client
//!   the firm has sent any email: a weekly update, a sign-in, a notice) ÷ open
//!   matters;
//! - **engagement**: clients of open matters who were invited and signed in
//!   (or opened the portal with a saved sign-in) within the last 30 days ÷
//!   invited clients of open matters.
//!
//! Each is given for the firm and per case manager (matters without one are
//! counted as "unassigned"). Admins see every row; a case manager sees their
//! own. Every figure is a grouped count over indexed columns: the open matters
//! of the firm (`matters_firm_manager`), their clients (`matter_clients`
//! primary key), a sent email to a client (`notifications_recipient_kind_sent`)
//! and `users.last_active_at`.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::{count, count_star, exists};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::Staff;
use crate::db::DbConnection;
use crate::db::schema::{matter_clients, matters, notifications, users};
use crate::domain::{Channel, NotificationStatus, Role};
use crate::error::Result;

/// How recent a sign-in counts as engaged.
pub const ENGAGED_WITHIN: Duration = Duration::days(30);

/// A letter for a share, as Case Status grades firms: A at 75% and more, B
/// from 60%, C from 25%, D below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum Grade {
    /// 75% and more.
    A,
    /// 60–74%.
    B,
    /// 25–59%.
    C,
    /// Below 25%.
    D,
}

impl Grade {
    /// The grade of `share` (0.0–1.0).
    pub fn of(share: f64) -> Self {
        match share {
            s if s >= 0.75 => Self::A,
            s if s >= 0.60 => Self::B,
            s if s >= 0.25 => Self::C,
            _ => Self::D,
        }
    }
}

/// A count out of a whole, with its share and grade.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Share {
    /// How many qualify.
    pub count: i64,
    /// Out of how many.
    pub of: i64,
    /// `count ÷ of` (0.0–1.0); absent when `of` is 0.
    pub share: Option<f64>,
    /// The grade of `share`; absent when `of` is 0.
    pub grade: Option<Grade>,
}

impl Share {
    /// `count` out of `of`.
    pub fn new(count: i64, of: i64) -> Self {
        let share = (of > 0).then(|| count as f64 / of as f64);
        Self { count, of, share, grade: share.map(Grade::of) }
    }
}

/// Activation and engagement for one scope (the firm, or one case manager's matters).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// Open matters with an invited client ÷ open matters.
    pub activation: Share,
    /// Invited clients who signed in within 30 days ÷ invited clients (of open matters).
    pub engagement: Share,
}

/// One case manager's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ManagerFigures {
    /// The case manager's user id; absent for matters without one.
    pub case_manager_id: Option<String>,
    /// Their name; absent for matters without one.
    pub name: Option<String>,
    /// Their matters' figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// The firm's adoption as of a moment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Adoption {
    /// When the figures were taken (UTC).
    pub as_of: NaiveDateTime,
    /// How many days back a sign-in counts as engaged (30).
    pub engaged_within_days: i64,
    /// The whole firm's figures (admins only).
    pub firm: Option<Figures>,
    /// Per case manager, by name (admins: every case manager and the unassigned matters; a case manager: their own).
    pub case_managers: Vec<ManagerFigures>,
}

#[derive(Default)]
struct Counts {
    open: i64,
    activated: i64,
    invited: i64,
    engaged: i64,
}

impl Counts {
    fn figures(&self) -> Figures {
        Figures {
            activation: Share::new(self.activated, self.open),
            engagement: Share::new(self.engaged, self.invited),
        }
    }
}

/// The adoption figures `staff` may see, as of `now`.
pub fn adoption(conn: &mut DbConnection, staff: &Staff, now: NaiveDateTime) -> Result<Adoption> {
    let admin = staff.role == Role::Admin;
    let cutoff = now - ENGAGED_WITHIN;
    let firm_id = staff.firm_id.as_str();

    // A client the firm has sent an email.
    macro_rules! invited {
        () => {
            exists(
                notifications::table
                    .filter(notifications::recipient_id.eq(matter_clients::client_id))
                    .filter(notifications::status.eq(NotificationStatus::Sent))
                    .filter(notifications::channel.eq(Channel::Email)),
            )
        };
    }
    macro_rules! open_matters {
        () => {
            matters::table.filter(matters::firm_id.eq(firm_id)).filter(matters::closed_at.is_null())
        };
    }
    macro_rules! invited_clients {
        () => {
            matter_clients::table
                .inner_join(matters::table)
                .inner_join(users::table)
                .filter(matters::firm_id.eq(firm_id))
                .filter(matters::closed_at.is_null())
                .filter(invited!())
        };
    }
    let distinct_clients = || count(matter_clients::client_id).aggregate_distinct();

    // Per case manager (the firm's few groups; a case manager's own row is picked out below).
    let mut per: BTreeMap<Option<String>, Counts> = BTreeMap::new();
    let open: Vec<(Option<String>, i64)> = open_matters!()
        .group_by(matters::case_manager_id)
        .select((matters::case_manager_id, count_star()))
        .load(conn)?;
    for (manager, n) in open {
        per.entry(manager).or_default().open = n;
    }
    let activated: Vec<(Option<String>, i64)> = open_matters!()
        .filter(exists(matter_clients::table.filter(matter_clients::matter_id.eq(matters::id)).filter(invited!())))
        .group_by(matters::case_manager_id)
        .select((matters::case_manager_id, count_star()))
        .load(conn)?;
    for (manager, n) in activated {
        per.entry(manager).or_default().activated = n;
    }
    let invited: Vec<(Option<String>, i64)> = invited_clients!()
        .group_by(matters::case_manager_id)
        .select((matters::case_manager_id, distinct_clients()))
        .load(conn)?;
    for (manager, n) in invited {
        per.entry(manager).or_default().invited = n;
    }
    let engaged: Vec<(Option<String>, i64)> = invited_clients!()
        .filter(users::last_active_at.ge(cutoff))
        .group_by(matters::case_manager_id)
        .select((matters::case_manager_id, distinct_clients()))
        .load(conn)?;
    for (manager, n) in engaged {
        per.entry(manager).or_default().engaged = n;
    }

    let firm = if admin {
        // A client of several managers' matters counts once for the firm.
        let invited: i64 = invited_clients!().select(distinct_clients()).first(conn)?;
        let engaged: i64 =
            invited_clients!().filter(users::last_active_at.ge(cutoff)).select(distinct_clients()).first(conn)?;
        let open = per.values().map(|c| c.open).sum();
        let activated = per.values().map(|c| c.activated).sum();
        Some(Counts { open, activated, invited, engaged }.figures())
    } else {
        None
    };

    // Every case manager of the firm has a row (an admin sees who has no open
    // matters yet); admins only when they run matters; then unassigned matters.
    let managers: Vec<(String, String, Role)> = users::table
        .filter(users::firm_id.eq(firm_id))
        .filter(users::role.eq_any([Role::CaseManager, Role::Admin]))
        .order(users::full_name)
        .select((users::id, users::full_name, users::role))
        .load(conn)?;
    let mut case_managers = Vec::new();
    for (id, name, role) in managers {
        if !admin && id != staff.id {
            continue;
        }
        let counts = per.remove(&Some(id.clone()));
        if admin && role == Role::Admin && counts.is_none() {
            continue;
        }
        let figures = counts.unwrap_or_default().figures();
        case_managers.push(ManagerFigures { case_manager_id: Some(id), name: Some(name), figures });
    }
    if admin && let Some(counts) = per.remove(&None) {
        case_managers.push(ManagerFigures { case_manager_id: None, name: None, figures: counts.figures() });
    }
    Ok(Adoption { as_of: now, engaged_within_days: ENGAGED_WITHIN.num_days(), firm, case_managers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_follow_case_status_bands() {
        assert_eq!(Grade::of(1.0), Grade::A);
        assert_eq!(Grade::of(0.75), Grade::A);
        assert_eq!(Grade::of(0.7499), Grade::B);
        assert_eq!(Grade::of(0.60), Grade::B);
        assert_eq!(Grade::of(0.5999), Grade::C);
        assert_eq!(Grade::of(0.25), Grade::C);
        assert_eq!(Grade::of(0.2499), Grade::D);
        assert_eq!(Grade::of(0.0), Grade::D);
    }

    #[test]
    fn an_empty_whole_has_no_share() {
        assert_eq!(Share::new(0, 0), Share { count: 0, of: 0, share: None, grade: None });
        assert_eq!(Share::new(3, 4).share, Some(0.75));
        assert_eq!(Share::new(3, 4).grade, Some(Grade::A));
    }
}
