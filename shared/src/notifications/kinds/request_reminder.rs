//! "Documents due soon or overdue": a client hears of their open document
//! requests two days before one is due, the day after it was due, then weekly
//! until it is fulfilled or cancelled (see [`crate::requests::reminder_on`]).
//!
//! Batched per client: on a firm-local day when any of a client's requests
//! reaches a reminder step, the notifier's pass queues one row for that client
//! whose period is the day (`2027-01-06`), so a pass run twice queues nothing
//! twice. The email is composed when it is sent and lists every request of
//! theirs (across their open matters of the firm) that is due within two days
//! or overdue as of that day, and is skipped when none is left open. Like the
//! weekly update it names no medical detail: requests appear by category.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::db::models::{Firm, Notification, User};
use crate::db::schema::{document_requests, firms, matter_clients, matters, users};
use crate::domain::{Channel, NotificationKind, RequestStatus, Role, local_date};
use crate::error::{Error, Result};
use crate::notifications::compose::{Composed, Composer};
use crate::notifications::look;
use crate::notifications::queue::insert_ignoring_duplicates;
use crate::requests::{DAYS_BEFORE, is_due_soon_or_overdue, is_overdue, reminder_on};

/// The period of a reminder: the firm-local day it is for.
pub fn period_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The open requests with a due date on or before `until`, of open matters of
/// the firm, with each client of their matter: (client, matter, due date, request id).
fn due_by(
    conn: &mut DbConnection,
    firm_id: &str,
    until: NaiveDate,
    client: Option<&str>,
) -> Result<Vec<(String, String, NaiveDate, String)>> {
    let mut query = document_requests::table
        .inner_join(matters::table.on(matters::id.eq(document_requests::matter_id)))
        .inner_join(matter_clients::table.on(matter_clients::matter_id.eq(matters::id)))
        .filter(matters::firm_id.eq(firm_id))
        .filter(matters::closed_at.is_null())
        .filter(document_requests::status.eq(RequestStatus::Open))
        .filter(document_requests::due_date.le(until))
        .into_boxed();
    if let Some(client) = client {
        query = query.filter(matter_clients::client_id.eq(client.to_owned()));
    }
    let rows: Vec<(String, String, Option<NaiveDate>, String)> = query
        .order((matter_clients::client_id, document_requests::due_date, document_requests::created_at))
        .select((matter_clients::client_id, matters::id, document_requests::due_date, document_requests::id))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(c, m, due, r)| due.map(|d| (c, m, d, r))).collect())
}

/// Queues today's reminders of the firm as of `now`: one row per client with
/// a request at a reminder step on the firm's local day. Idempotent per day.
/// Returns how many rows it added.
pub fn enqueue_for_firm(conn: &mut DbConnection, firm: &Firm, now: NaiveDateTime) -> Result<usize> {
    let today = local_date(&firm.time_zone, now);
    let due = due_by(conn, &firm.id, today + chrono::Duration::days(DAYS_BEFORE), None)?;
    let mut clients: Vec<&str> =
        due.iter().filter(|(_, _, day, _)| reminder_on(*day, today).is_some()).map(|(c, ..)| c.as_str()).collect();
    clients.dedup();
    let period = period_key(today);
    // An email to each, and a text to those who opted in to texts.
    let ids: Vec<String> = clients.iter().map(|c| (*c).to_owned()).collect();
    let texted = crate::notifications::sms::consented(conn, &ids)?;
    let rows: Vec<Notification> = clients
        .into_iter()
        .map(|client| (client, Channel::Email))
        .chain(texted.iter().map(|client| (client.as_str(), Channel::Sms)))
        .map(|(client, channel)| {
            Notification::pending(&firm.id, client, NotificationKind::RequestReminder, channel, &period, now)
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    insert_ignoring_duplicates(conn, &rows)
}

/// Queues today's reminders of every firm as of `now`; returns rows added.
pub fn enqueue_all(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize> {
    let all: Vec<Firm> = firms::table.select(Firm::as_select()).load(conn)?;
    let mut added = 0;
    for firm in &all {
        added += enqueue_for_firm(conn, firm, now)?;
    }
    Ok(added)
}

/// One request in a reminder.
#[derive(Debug, Clone)]
pub struct Due {
    /// The matter's title.
    pub matter: String,
    /// The request's category.
    pub category: crate::domain::DocumentCategory,
    /// Its due date.
    pub due_date: NaiveDate,
}

/// The reminder email of `row`, sent at `now` with the client's one-tap link,
/// or why it is no longer worth sending.
pub fn compose(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: chrono::NaiveDateTime,
) -> Result<Composed> {
    let day = NaiveDate::parse_from_str(&row.period_key, "%Y-%m-%d")
        .map_err(|e| Error::Internal(anyhow::anyhow!("request reminder period {:?}: {e}", row.period_key)))?;
    let Some(client) = users::table.find(&row.recipient_id).select(User::as_select()).first(conn).optional()? else {
        return Ok(Composed::Skip("the recipient no longer exists"));
    };
    if client.role != Role::Client {
        return Ok(Composed::Skip("the recipient is no longer a client"));
    }
    let firm: Firm = firms::table.find(&client.firm_id).select(Firm::as_select()).first(conn)?;
    // Re-read now: what was fulfilled or cancelled since the row was queued is left out.
    let found = due_by(conn, &firm.id, day + chrono::Duration::days(DAYS_BEFORE), Some(&client.id))?;
    if found.is_empty() {
        return Ok(Composed::Skip("every document in the reminder arrived or was cancelled first"));
    }
    let ids: Vec<&str> = found.iter().map(|(_, _, _, r)| r.as_str()).collect();
    let details: Vec<(String, String, crate::domain::DocumentCategory, Option<NaiveDate>)> = document_requests::table
        .inner_join(matters::table.on(matters::id.eq(document_requests::matter_id)))
        .filter(document_requests::id.eq_any(&ids))
        .order((document_requests::due_date, document_requests::created_at))
        .select((matters::id, matters::title, document_requests::category, document_requests::due_date))
        .load(conn)?;
    let items: Vec<Due> = details
        .into_iter()
        .filter_map(|(_, matter, category, due)| due.map(|due_date| Due { matter, category, due_date }))
        .filter(|d| is_due_soon_or_overdue(d.due_date, day))
        .collect();
    let first_matter = found.first().map(|(_, m, _, _)| m.clone()).unwrap_or_default();
    let several = found.iter().any(|(_, m, _, _)| *m != first_matter);
    if row.channel == Channel::Sms {
        let key =
            if items.iter().any(|d| is_overdue(d.due_date, day)) { "sms-reminder-overdue" } else { "sms-reminder" };
        let text = composer.renderer.locales().text(client.language, key);
        let path = if several { "/".to_owned() } else { format!("/matters/{first_matter}") };
        return crate::notifications::compose::sms_notice(conn, composer, row, &client, &text, &path, now);
    }
    let mut data = data(composer, &client, &firm, &items, day, (!several).then_some(first_matter.as_str()));
    look::with_logo(conn, &composer.base_url, &firm, &mut data)?;
    crate::one_tap::personalise_email(conn, composer, &firm, &client, &row.id, &mut data, now)?;
    composer.notice(row, &client, &firm, "request_reminder", &data, None)
}

/// The template data of the reminder to `client` of the `items` due on or
/// before two days after `day` (overdue ones marked), leading to `matter` when
/// they are all of one matter, else to the client's list.
pub fn data(
    composer: &Composer,
    client: &User,
    firm: &Firm,
    items: &[Due],
    day: NaiveDate,
    matter: Option<&str>,
) -> Value {
    let lang = client.language;
    let locales = composer.renderer.locales();
    let list: Vec<Value> = items
        .iter()
        .map(|d| {
            json!({
                "key": format!("category-{}", d.category),
                "matter": d.matter,
                "due": locales.day(lang, d.due_date),
                "overdue": is_overdue(d.due_date, day),
            })
        })
        .collect();
    let base = &composer.base_url;
    let (portal_url, upload_url) = match matter {
        Some(id) => (format!("{base}/matters/{id}"), Some(format!("{base}/matters/{id}/upload"))),
        None => (format!("{base}/"), None),
    };
    json!({
        "lang": lang.as_str(),
        "firm": firm.name,
        "brand": look::brand_data(base, &look::brand_of_firm(firm), None),
        "name": client.full_name,
        "first_name": look::first_name(&client.full_name),
        "count": list.len(),
        "overdue": items.iter().any(|d| is_overdue(d.due_date, day)),
        "items": list,
        "short": { "open": portal_url },
        "portal_url": portal_url,
        "upload_url": upload_url,
    })
}
