//! Appointment emails, each with an `.ics` invitation: "scheduled",
//! "changed" and "cancelled" (queued by [`crate::appointments`] with the
//! change) and the reminder the day before (queued by the notifier's pass).
//! Composed from the appointment as it is when sent: a notice overtaken by a
//! later change or by the cancellation is skipped (the later email carries
//! the event), and a reminder of a moved or cancelled appointment too.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::appointments::{Change, Notice, Reminder, when_text};
use crate::db::DbConnection;
use crate::db::models::{Appointment, Firm, Matter, Notification, User};
use crate::db::schema::{appointments, firms, users};
use crate::domain::Role;
use crate::error::{Error, Result};
use crate::ics::{self, Method};
use crate::mail::{EmailAttachment, Mailbox};
use crate::notifications::channel::Message;
use crate::notifications::compose::{Composed, Composer};
use crate::notifications::look;

/// What composing either kind starts from.
struct Parts {
    client: User,
    firm: Firm,
    matter: Matter,
    appointment: Appointment,
}

fn parts(
    conn: &mut DbConnection,
    row: &Notification,
    appointment_id: &str,
) -> Result<std::result::Result<Parts, &'static str>> {
    let Some(client) = users::table.find(&row.recipient_id).select(User::as_select()).first(conn).optional()? else {
        return Ok(Err("the recipient no longer exists"));
    };
    if client.role != Role::Client {
        return Ok(Err("the recipient is no longer a client"));
    }
    let Some(appointment) =
        appointments::table.find(appointment_id).select(Appointment::as_select()).first(conn).optional()?
    else {
        return Ok(Err("the appointment no longer exists"));
    };
    let Ok(matter) = crate::client_view::own_matter(conn, &client, &appointment.matter_id) else {
        return Ok(Err("the recipient is no longer a client of the matter"));
    };
    let firm: Firm = firms::table.find(&client.firm_id).select(Firm::as_select()).first(conn)?;
    Ok(Ok(Parts { client, firm, matter, appointment }))
}

/// The `.ics` of `parts` with `method`, stamped `stamp`.
pub fn invitation(
    composer: &Composer,
    parts_: (&User, &Firm, &Appointment),
    method: Method,
    stamp: NaiveDateTime,
) -> EmailAttachment {
    let (client, firm, a) = parts_;
    let host = composer
        .base_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("matterline.invalid");
    let uid = format!("{}@{host}", a.id);
    let sender = composer.sender_for(&firm.name, firm.mail_from.as_deref());
    let organizer = sender
        .parse::<Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| composer.default_from.email.to_string());
    let locales = composer.renderer.locales();
    let summary = format!("{} — {}", locales.text(client.language, &format!("appointment-kind-{}", a.kind)), firm.name);
    let description = a
        .bring
        .as_deref()
        .map(|b| format!("{}: {b}", locales.text(client.language, "appointment-email-bring")))
        .unwrap_or_default();
    let event = ics::Event {
        uid: &uid,
        sequence: a.sequence,
        stamp,
        start: a.starts_at,
        end: a.starts_at + chrono::Duration::minutes(i64::from(a.duration_minutes)),
        summary: &summary,
        location: &a.place,
        description: &description,
        organizer: (&firm.name, &organizer),
        attendee: (&client.full_name, &client.email),
    };
    EmailAttachment {
        file_name: "appointment.ics".to_owned(),
        content_type: format!("text/calendar; method={}; charset=UTF-8", method.as_str()),
        bytes: ics::calendar(method, &event).into_bytes(),
    }
}

/// The template data of an appointment email.
pub fn data(composer: &Composer, client: &User, firm: &Firm, matter: &Matter, a: &Appointment, change: &str) -> Value {
    let locales = composer.renderer.locales();
    json!({
        "lang": client.language.as_str(),
        "firm": firm.name,
        "brand": look::brand_data(&composer.base_url, &look::brand_of_firm(firm), None),
        "name": client.full_name,
        "first_name": look::first_name(&client.full_name),
        "matter": matter.title,
        "change": change,
        "intro_key": format!("appointment-email-{change}"),
        "subject_key": format!("appointment-subject-{change}"),
        "kind_key": format!("appointment-kind-{}", a.kind),
        "when": when_text(locales, client.language, &firm.time_zone, a.starts_at),
        "minutes": a.duration_minutes,
        "place": a.place,
        "bring": a.bring,
        "cancelled": change == "cancelled",
        "invitation": change == "scheduled" || change == "changed",
        "short": { "open": format!("{}/matters/{}", composer.base_url, matter.id) },
        "portal_url": format!("{}/matters/{}", composer.base_url, matter.id),
    })
}

fn with_invitation(composed: Composed, file: EmailAttachment) -> Composed {
    match composed {
        Composed::Send(Message::Email(mut email)) => {
            email.attachments.push(file);
            Composed::Send(Message::Email(email))
        }
        other => other,
    }
}

/// A "scheduled", "changed" or "cancelled" email, as of `now`.
pub fn compose(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    let notice: Notice = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
        .map_err(|e| Error::Internal(anyhow::anyhow!("appointment payload: {e}")))?;
    let p = match parts(conn, row, &notice.appointment_id)? {
        Ok(p) => p,
        Err(why) => return Ok(Composed::Skip(why)),
    };
    if notice.change != Change::Cancelled {
        if p.appointment.cancelled_at.is_some() {
            return Ok(Composed::Skip("the appointment was cancelled since; the cancellation tells the client"));
        }
        if p.appointment.sequence > notice.sequence {
            return Ok(Composed::Skip("the appointment changed since; the later email carries it"));
        }
    }
    let method = if notice.change == Change::Cancelled { Method::Cancel } else { Method::Request };
    let contact = crate::client_view::contact_of(conn, &p.matter)?;
    let mut data = data(composer, &p.client, &p.firm, &p.matter, &p.appointment, notice.change.as_str());
    look::with_logo(conn, &composer.base_url, &p.firm, &mut data)?;
    crate::one_tap::personalise_email(conn, composer, &p.firm, &p.client, &row.id, &mut data, now)?;
    let composed =
        composer.notice(row, &p.client, &p.firm, "appointment", &data, look::reply_to(&p.firm, contact.as_ref()))?;
    let file = invitation(composer, (&p.client, &p.firm, &p.appointment), method, row.created_at);
    Ok(with_invitation(composed, file))
}

/// The reminder the day before, as of `now`.
pub fn compose_reminder(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    let reminder: Reminder = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
        .map_err(|e| Error::Internal(anyhow::anyhow!("appointment reminder payload: {e}")))?;
    let p = match parts(conn, row, &reminder.appointment_id)? {
        Ok(p) => p,
        Err(why) => return Ok(Composed::Skip(why)),
    };
    if p.appointment.cancelled_at.is_some() {
        return Ok(Composed::Skip("the appointment was cancelled"));
    }
    if p.appointment.starts_at != reminder.starts_at {
        return Ok(Composed::Skip("the appointment moved; its new time has its own reminder"));
    }
    if p.appointment.starts_at <= now {
        return Ok(Composed::Skip("the appointment has begun"));
    }
    if row.channel == crate::domain::Channel::Sms {
        let locales = composer.renderer.locales();
        let when = json!(when_text(locales, p.client.language, &p.firm.time_zone, p.appointment.starts_at));
        let args = crate::i18n::args_from_json([("when", &when)]);
        let text = locales.get(p.client.language, "sms-appointment-reminder", Some(&args)).unwrap_or_default();
        let path = format!("/matters/{}", p.matter.id);
        return crate::notifications::compose::sms_notice(conn, composer, row, &p.client, &text, &path, now);
    }
    let contact = crate::client_view::contact_of(conn, &p.matter)?;
    let mut data = data(composer, &p.client, &p.firm, &p.matter, &p.appointment, "reminder");
    look::with_logo(conn, &composer.base_url, &p.firm, &mut data)?;
    crate::one_tap::personalise_email(conn, composer, &p.firm, &p.client, &row.id, &mut data, now)?;
    // No invitation: the calendar already has the event from the "scheduled" email.
    composer.notice(row, &p.client, &p.firm, "appointment", &data, look::reply_to(&p.firm, contact.as_ref()))
}
