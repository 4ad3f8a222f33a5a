//! The weekly update: one per client, channel and ISO week, enqueued for every
//! active client when the firm's schedule fires, and composed from the
//! client's [`WeeklyDigest`]: localized, no medical detail, with one-click
//! unsubscribe headers (RFC 8058) and rating links.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::db::models::Notification;
use crate::db::schema::{matter_clients, matters, users};
use crate::domain::{Channel, NotificationKind, Role, local_date};
use crate::error::Result;
use crate::mail::OutgoingEmail;
use crate::notifications::channel::Message;
use crate::notifications::compose::{Composed, Composer};
use crate::notifications::queue::{ENQUEUE_BATCH, insert_ignoring_duplicates};
use crate::tokens::Purpose;
use crate::weekly::{self, WeeklyDigest};

/// How long the unsubscribe link in an email keeps working.
pub const UNSUBSCRIBE_TTL: Duration = Duration::days(365);
/// How long the rating links keep working.
pub const RATING_TTL: Duration = Duration::days(60);

/// The template data of a weekly update (also what `notifier preview` renders).
pub fn data(composer: &Composer, digest: &WeeklyDigest, notification_id: &str) -> Result<Value> {
    let lang = digest.language;
    let client = &digest.client;
    let unsubscribe = composer.tokens.issue(Purpose::Unsubscribe, &client.id, notification_id, UNSUBSCRIBE_TTL)?;
    let rating = composer.tokens.issue(Purpose::Rating, &client.id, notification_id, RATING_TTL)?;
    let locales = composer.renderer.locales();
    let zone = digest.firm.time_zone.as_str();
    let matters: Vec<Value> = digest
        .matters
        .iter()
        .map(|m| {
            let changes: Vec<Value> = m
                .changes
                .iter()
                .map(|c| {
                    json!({
                        "key": format!("weekly-change-{}", c.kind.as_str()),
                        "phase": c.phase_title.clone().unwrap_or_default(),
                        "date": c.occurs_at.map(|t| locales.date(lang, local_date(zone, t))).unwrap_or_default(),
                    })
                })
                .collect();
            let needs: Vec<Value> = m.needs.iter().map(|c| json!({ "key": format!("category-{c}") })).collect();
            json!({
                "title": m.title,
                "phase_title": m.phase.title,
                "position": m.phase.position,
                "total": m.phase_total,
                "what_it_means": m.phase.what_it_means,
                "what_happens_next": m.phase.what_happens_next,
                "changes": changes,
                "needs_count": needs.len(),
                "needs": needs,
                "contact": m.contact,
            })
        })
        .collect();
    let ratings: Vec<Value> = (1..=5)
            .map(|score| json!({ "score": score, "url": format!("{}/rate?token={rating}&score={score}", composer.base_url) }))
            .collect();
    Ok(json!({
        "lang": lang.as_str(),
        "firm": digest.firm.name,
        "name": client.full_name,
        "activity": digest.has_activity(),
        "matters": matters,
        "portal_url": format!("{}/", composer.base_url),
        "unsubscribe_url": format!("{}/unsubscribe?token={unsubscribe}", composer.base_url),
        "ratings": ratings,
        "rating_url": format!("{}/rate?token={rating}", composer.base_url),
    }))
}

/// The weekly update as an email, for the row `notification_id`.
pub fn email(composer: &Composer, digest: &WeeklyDigest, notification_id: &str) -> Result<OutgoingEmail> {
    let data = data(composer, digest, notification_id)?;
    let content = composer.renderer.email("weekly_update", &data)?;
    let unsubscribe = data["unsubscribe_url"].as_str().unwrap_or_default().to_owned();
    Ok(OutgoingEmail {
        to_name: digest.client.full_name.clone(),
        to_address: digest.client.email.clone(),
        from: Some(composer.sender_for(&digest.firm.name, digest.firm.mail_from.as_deref())),
        content,
        headers: vec![
            ("List-Unsubscribe", format!("<{unsubscribe}>")),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned()),
            ("X-Matterline-Notification", notification_id.to_owned()),
        ],
        message_id: Some(composer.message_id(notification_id)),
    })
}

/// Enqueues this period's weekly update for every active client of the firm:
/// a client with weekly updates on and at least one open matter. Idempotent:
/// a second call for the same period enqueues nothing. Returns how many rows it added.
pub fn enqueue_for_firm(conn: &mut DbConnection, firm_id: &str, period_key: &str, now: NaiveDateTime) -> Result<usize> {
    let mut added = 0;
    let mut after = String::new();
    loop {
        let clients: Vec<String> = users::table
            .inner_join(matter_clients::table.inner_join(matters::table))
            .filter(users::firm_id.eq(firm_id))
            .filter(users::role.eq(Role::Client))
            .filter(users::weekly_updates.eq(true))
            .filter(matters::closed_at.is_null())
            .filter(users::id.gt(&after))
            .select(users::id)
            .distinct()
            .order(users::id)
            .limit(ENQUEUE_BATCH)
            .load(conn)?;
        let Some(last) = clients.last() else { break };
        after = last.clone();
        let rows: Vec<Notification> = clients
            .into_iter()
            .map(|recipient| {
                Notification::pending(
                    firm_id,
                    &recipient,
                    NotificationKind::WeeklyUpdate,
                    Channel::Email,
                    period_key,
                    now,
                )
            })
            .collect();
        added += insert_ignoring_duplicates(conn, &rows)?;
    }
    Ok(added)
}

/// Composes the weekly update rows `rows` as of `now`, keyed by row id: the
/// digests of all their clients are derived together.
pub fn compose_all(
    conn: &mut DbConnection,
    composer: &Composer,
    rows: &[&Notification],
    now: NaiveDateTime,
) -> Result<HashMap<String, Result<Composed>>> {
    let recipients: Vec<String> = rows.iter().map(|r| r.recipient_id.clone()).collect();
    let digests: HashMap<String, WeeklyDigest> =
        weekly::derive(conn, &recipients, now, None)?.into_iter().map(|d| (d.client.id.clone(), d)).collect();
    Ok(rows.iter().map(|row| (row.id.clone(), compose(composer, row, digests.get(&row.recipient_id)))).collect())
}

/// One client's weekly update, or why it is not sent this week.
fn compose(composer: &Composer, row: &Notification, digest: Option<&WeeklyDigest>) -> Result<Composed> {
    let Some(digest) = digest else { return Ok(Composed::Skip("the recipient is no longer a client")) };
    if !digest.client.weekly_updates {
        return Ok(Composed::Skip("the client turned weekly updates off"));
    }
    if digest.matters.is_empty() {
        return Ok(Composed::Skip("the client has no open matter"));
    }
    if !digest.has_activity() && !digest.firm.no_activity_updates {
        return Ok(Composed::Skip("no activity this week, and the firm sends no quiet-week updates"));
    }
    Ok(Composed::Send(match row.channel {
        Channel::Email => Message::Email(Box::new(email(composer, digest, &row.id)?)),
    }))
}
