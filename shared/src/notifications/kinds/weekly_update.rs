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
use crate::error::{Error, Result};
use crate::mail::OutgoingEmail;
use crate::notifications::channel::Message;
use crate::notifications::compose::{Composed, Composer};
use crate::notifications::look;
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
                        "count": c.count,
                    })
                })
                .collect();
            let needs: Vec<Value> = m.needs.iter().map(|c| json!({ "key": format!("category-{c}") })).collect();
            json!({
                "title": m.title,
                "steps": look::steps(m.phase.position, m.phase_total, digest.firm.accent_colour.as_deref().unwrap_or_default()),
                "phase_title": m.phase.title,
                "position": m.phase.position,
                "total": m.phase_total,
                "what_it_means": m.phase.what_it_means,
                "what_happens_next": m.phase.what_happens_next,
                "changes": changes,
                "needs_count": needs.len(),
                "needs": needs,
                "contact": m.contact,
                "unread_replies": m.unread_replies,
                "messages_url": format!("{}/matters/{}/messages", composer.base_url, m.id),
                "log_visits": m.log_visits,
                "treatment_url": format!("{}/matters/{}/treatment", composer.base_url, m.id),
            })
        })
        .collect();
    let ratings: Vec<Value> = (1..=5)
            .map(|score| json!({ "score": score, "url": format!("{}/rate?token={rating}&score={score}", composer.base_url) }))
            .collect();
    // One case: the buttons lead to it; several: to the list. "Upload now"
    // leads to the first case that needs a document.
    let base = &composer.base_url;
    let portal_url = match digest.matters.as_slice() {
        [only] => format!("{base}/matters/{}", only.id),
        _ => format!("{base}/"),
    };
    let upload_url =
        digest.matters.iter().find(|m| !m.needs.is_empty()).map(|m| format!("{base}/matters/{}/upload", m.id));
    let unsubscribe_url = format!("{base}/unsubscribe?token={unsubscribe}");
    let rating_url = format!("{base}/rate?token={rating}");
    Ok(json!({
        "lang": lang.as_str(),
        "firm": digest.firm.name,
        "brand": look::brand_data(base, &look::brand_of_firm(&digest.firm), None),
        "name": client.full_name,
        "first_name": look::first_name(&client.full_name),
        "several": digest.matters.len() > 1,
        "upload_url": upload_url,
        "short": { "unsubscribe": unsubscribe_url, "rating": rating_url, "open": portal_url },
        "activity": digest.has_activity(),
        "matters": matters,
        "portal_url": portal_url,
        "unsubscribe_url": unsubscribe_url,
        "ratings": ratings,
        "rating_url": rating_url,
    }))
}

/// The weekly update as an email, for the row `notification_id`, as
/// [`data`] makes it (no logo, direct links in the plain-text part: what
/// previews and benchmarks need without a database).
pub fn email(composer: &Composer, digest: &WeeklyDigest, notification_id: &str) -> Result<OutgoingEmail> {
    email_from(composer, digest, notification_id, data(composer, digest, notification_id)?)
}

/// The weekly update as it is sent: [`data`] with the firm's `brand` (its
/// logo included, see [`look::brand_with_logo`]), the client's one-tap link
/// ([`crate::one_tap`]), and short links (expiring with their tokens) in the
/// plain-text part. The links are added to `links`, which the caller stores
/// before the email is sent.
pub fn email_to_send(
    links: &mut crate::one_tap::NewLinks,
    composer: &Composer,
    digest: &WeeklyDigest,
    brand: Value,
    notification_id: &str,
    now: NaiveDateTime,
) -> Result<OutgoingEmail> {
    let mut data = data(composer, digest, notification_id)?;
    data["brand"] = brand;
    let issued = composer.tokens.clock().now();
    for (key, ttl) in [("unsubscribe", UNSUBSCRIBE_TTL), ("rating", RATING_TTL)] {
        let url = data["short"][key].as_str().unwrap_or_default().to_owned();
        data["short"][key] = links.short.shorten(&composer.base_url, &url, issued + ttl, now).into();
    }
    crate::one_tap::personalise_email_into(
        links,
        composer,
        &digest.firm,
        &digest.client,
        notification_id,
        &mut data,
        now,
    );
    email_from(composer, digest, notification_id, data)
}

fn email_from(composer: &Composer, digest: &WeeklyDigest, notification_id: &str, data: Value) -> Result<OutgoingEmail> {
    let content = composer.renderer.email("weekly_update", &data)?;
    let unsubscribe = data["unsubscribe_url"].as_str().unwrap_or_default().to_owned();
    // Replies go to the case manager when the firm wants it and the client's cases share one.
    let mut contacts = digest.matters.iter().map(|m| m.contact.as_ref());
    let first = contacts.next().flatten();
    let shared = first.filter(|c| contacts.all(|other| other.is_some_and(|o| o.email == c.email)));
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
        reply_to: look::reply_to(&digest.firm, shared),
        attachments: Vec::new(),
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
/// digests of all their clients are derived together, each firm's brand is
/// read once, and the links of all the emails are stored together, in one
/// transaction of a few multi-row statements, before any is sent. Should
/// storing them fail, every email of the batch fails (to be retried), not the claim.
pub fn compose_all(
    conn: &mut DbConnection,
    composer: &Composer,
    rows: &[&Notification],
    now: NaiveDateTime,
) -> Result<HashMap<String, Result<Composed>>> {
    let recipients: Vec<String> = rows.iter().map(|r| r.recipient_id.clone()).collect();
    let digests: HashMap<String, WeeklyDigest> =
        weekly::derive(conn, &recipients, now, None)?.into_iter().map(|d| (d.client.id.clone(), d)).collect();
    let mut brands: HashMap<String, std::result::Result<Value, String>> = HashMap::new();
    let mut links = crate::one_tap::NewLinks::default();
    let mut composed: HashMap<String, Result<Composed>> = HashMap::with_capacity(rows.len());
    for row in rows {
        let one = match verdict(row, digests.get(&row.recipient_id)) {
            Err(skip) => Ok(skip),
            Ok(digest) => {
                let brand = brands
                    .entry(digest.firm.id.clone())
                    .or_insert_with(|| {
                        look::brand_with_logo(conn, &composer.base_url, &digest.firm).map_err(|e| e.to_string())
                    })
                    .clone()
                    .map_err(|e| Error::Internal(anyhow::anyhow!("could not read the firm's brand: {e}")));
                brand
                    .and_then(|brand| email_to_send(&mut links, composer, digest, brand, &row.id, now))
                    .map(|email| Composed::Send(Message::Email(Box::new(email))))
            }
        };
        composed.insert(row.id.clone(), one);
    }
    if !links.is_empty()
        && let Err(e) = crate::db::write_transaction(conn, |conn| links.write(conn))
    {
        let e = e.to_string();
        for one in composed.values_mut() {
            if matches!(one, Ok(Composed::Send(_))) {
                *one = Err(Error::Internal(anyhow::anyhow!("could not store the email's links: {e}")));
            }
        }
    }
    Ok(composed)
}

/// Whether one client's weekly update is sent (its digest), or why not this week.
fn verdict<'a>(
    row: &Notification,
    digest: Option<&'a WeeklyDigest>,
) -> std::result::Result<&'a WeeklyDigest, Composed> {
    let Some(digest) = digest else { return Err(Composed::Skip("the recipient is no longer a client")) };
    if !digest.client.weekly_updates {
        return Err(Composed::Skip("the client turned weekly updates off"));
    }
    if digest.matters.is_empty() {
        return Err(Composed::Skip("the client has no open matter"));
    }
    if !digest.has_activity() && !digest.firm.no_activity_updates {
        return Err(Composed::Skip("no activity this week, and the firm sends no quiet-week updates"));
    }
    match row.channel {
        Channel::Email => Ok(digest),
        // The weekly update is queued by email only.
        Channel::Push | Channel::Sms => Err(Composed::Skip("the weekly update is sent by email only")),
    }
}
