//! "Your case moved to a new step": queued for every client of a matter in the
//! transaction that moves it, sent with what the new step means and what
//! happens next. Like the weekly update it names no medical detail: document
//! requests appear by category only.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client_view;
use crate::db::DbConnection;
use crate::db::models::{Firm, Notification, User};
use crate::db::schema::{firms, matter_clients, notifications, users};
use crate::domain::{Channel, MilestoneKind, NotificationKind, Role};
use crate::error::{Error, Result};
use crate::notifications::compose::{self, Composed, Composer};
use crate::notifications::look;
use crate::notifications::queue::one_off;

/// What the email is about, stored as the notification's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseChange {
    /// The matter that moved.
    pub matter_id: String,
    /// The key of the phase it moved to.
    pub phase_key: String,
}

/// Queues the email for every client of the matter, and a push for each one
/// with a browser subscribed; returns the rows' ids.
pub fn enqueue_for_matter(
    conn: &mut DbConnection,
    firm_id: &str,
    change: &PhaseChange,
    now: NaiveDateTime,
) -> Result<Vec<String>> {
    let payload = serde_json::to_string(change).map_err(|e| Error::Internal(e.into()))?;
    let clients: Vec<String> = matter_clients::table
        .filter(matter_clients::matter_id.eq(&change.matter_id))
        .select(matter_clients::client_id)
        .load(conn)?;
    // An email to every client, a push to those with a browser subscribed, a text to those who opted in.
    let pushed = crate::notifications::push::subscribed(conn, &clients)?;
    let texted = crate::notifications::sms::consented(conn, &clients)?;
    let rows: Vec<Notification> = clients
        .iter()
        .map(|client| (client, Channel::Email))
        .chain(pushed.iter().map(|client| (client, Channel::Push)))
        .chain(texted.iter().map(|client| (client, Channel::Sms)))
        .map(|(client, channel)| {
            one_off(firm_id, client, NotificationKind::PhaseChange, channel, Some(payload.clone()), now)
        })
        .collect();
    if !rows.is_empty() {
        crate::insert_many!(conn, notifications::table, &rows)?;
    }
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The email for a queued phase-change row, sent at `now`, with the client's one-tap link.
pub fn compose(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    let change: PhaseChange = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
        .map_err(|e| Error::Internal(anyhow::anyhow!("phase change payload: {e}")))?;
    let Some(client) = users::table.find(&row.recipient_id).select(User::as_select()).first(conn).optional()? else {
        return Ok(Composed::Skip("the recipient no longer exists"));
    };
    if client.role != Role::Client {
        return Ok(Composed::Skip("the recipient is no longer a client"));
    }
    let lang = client.language;
    let detail = match client_view::matter_detail(conn, &client, &change.matter_id, lang) {
        Ok(detail) => detail,
        Err(Error::NotFound) => return Ok(Composed::Skip("the recipient is no longer a client of the matter")),
        Err(e) => return Err(e),
    };
    if detail.phase.key != change.phase_key {
        return Ok(Composed::Skip("the matter moved on again before this email was sent"));
    }
    if row.channel == Channel::Sms {
        let step = serde_json::json!(detail.phase.title);
        let args = crate::i18n::args_from_json([("step", &step)]);
        let text = composer.renderer.locales().get(lang, "sms-phase-change", Some(&args)).unwrap_or_default();
        return compose::sms_notice(conn, composer, row, &client, &text, &format!("/matters/{}", detail.id), now);
    }
    if row.channel == Channel::Push {
        let locales = composer.renderer.locales();
        let title = locales.text(lang, "push-phase-change-title");
        let step = serde_json::json!(detail.phase.title);
        let args = crate::i18n::args_from_json([("step", &step)]);
        let body =
            locales.get(lang, "push-phase-change-body", Some(&args)).unwrap_or_else(|| detail.phase.title.clone());
        return compose::push_notice(conn, composer, row, &client, title, body, &format!("/matters/{}", detail.id));
    }
    let firm: Firm = firms::table.find(&client.firm_id).select(Firm::as_select()).first(conn)?;
    let mut data = data(composer, &client, &firm, &detail);
    look::with_logo(conn, &composer.base_url, &firm, &mut data)?;
    crate::one_tap::personalise_email(conn, composer, &firm, &client, &row.id, &mut data, now)?;
    composer.notice(row, &client, &firm, "phase_change", &data, look::reply_to(&firm, detail.contact.as_ref()))
}

/// The template data of the email telling `client` their matter `detail` moved.
pub fn data(composer: &Composer, client: &User, firm: &Firm, detail: &client_view::MatterDetail) -> Value {
    let needs: Vec<_> =
        detail.open_requests.iter().map(|r| json!({ "key": format!("category-{}", r.category) })).collect();
    // The note staff typed with the change (the newest phase change is this one: the matter is still there).
    let note = detail
        .milestones
        .iter()
        .find(|m| m.kind == MilestoneKind::PhaseChange)
        .and_then(|m| m.body.as_deref())
        .filter(|body| !body.trim().is_empty());
    let portal_url = format!("{}/matters/{}", composer.base_url, detail.id);
    let upload_url = (!needs.is_empty() && detail.accepts_uploads).then(|| format!("{portal_url}/upload"));
    json!({
        "lang": client.language.as_str(),
        "note": note,
        "firm": firm.name,
        "brand": look::brand_data(&composer.base_url, &look::brand_of_firm(firm), None),
        "name": client.full_name,
        "first_name": look::first_name(&client.full_name),
        "steps": look::steps(detail.phase.position, detail.phases.len(), firm.accent_colour.as_deref().unwrap_or_default()),
        "matter": detail.title,
        "phase_title": detail.phase.title,
        "position": detail.phase.position,
        "total": detail.phases.len(),
        "what_it_means": detail.phase.what_it_means,
        "what_happens_next": detail.phase.what_happens_next,
        "needs_count": needs.len(),
        "needs": needs,
        "contact": detail.contact,
        "short": { "open": portal_url },
        "portal_url": portal_url,
        "upload_url": upload_url,
    })
}
