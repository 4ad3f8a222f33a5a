//! Appointments staff schedule for a matter's clients: a medical exam, a
//! deposition, a mediation, a call. Scheduling, changing and cancelling one
//! each queue an email to every client of the matter (in the same
//! transaction) carrying an `.ics` invitation ([`crate::ics`]): the
//! appointment's id is the event's UID and `sequence` its SEQUENCE, so a
//! change replaces the event in the client's calendar and a cancellation
//! removes it. The notifier's pass queues a reminder the day before
//! ([`enqueue_reminders`]), once per appointment and start time.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::models::{Appointment, Matter, Notification};
use crate::db::schema::{appointments, firms, matter_clients, matters, notifications};
use crate::db::{DbConnection, write_transaction};
use crate::domain::{Channel, NotificationKind, new_id};
use crate::error::{Error, Result};
use crate::staff::{Staff, firm_matter, optional_text, required};

crate::text_enum!(
    /// What an appointment is.
    AppointmentKind {
        /// An examination by a doctor (often the insurer's).
        MedicalExam => "medical_exam",
        /// A deposition: questions under oath.
        Deposition => "deposition",
        /// A mediation: a meeting to settle.
        Mediation => "mediation",
        /// A call with the legal team.
        Call => "call",
    }
);

/// The shortest and longest appointment, in minutes.
pub const DURATION_RANGE: std::ops::RangeInclusive<i32> = 5..=720;
/// How long before the start the reminder may be queued (it goes on the firm's day before).
pub const REMINDER_WINDOW: Duration = Duration::hours(48);

/// What an email about an appointment tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Newly scheduled.
    Scheduled,
    /// Its time, place or details changed.
    Changed,
    /// Called off.
    Cancelled,
}

impl Change {
    /// The text key suffix, e.g. `scheduled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Scheduled => "scheduled",
            Change::Changed => "changed",
            Change::Cancelled => "cancelled",
        }
    }
}

/// An appointment to schedule.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewAppointment {
    /// `medical_exam`, `deposition`, `mediation` or `call`.
    pub kind: String,
    /// Start: RFC 3339 with `Z` or an offset (`2027-01-05T15:00:00Z`, `2027-01-05T10:00:00-05:00`); without one, UTC.
    #[serde(deserialize_with = "crate::timestamps::required")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: NaiveDateTime,
    /// Minutes (5 to 720); 60 when absent.
    #[serde(default)]
    pub duration_minutes: Option<i32>,
    /// Where: an address, or "By phone".
    pub place: String,
    /// What to bring.
    #[serde(default)]
    pub bring: Option<String>,
}

/// Changes to an appointment; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AppointmentPatch {
    /// New kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// New start (RFC 3339, as when scheduling).
    #[serde(default, deserialize_with = "crate::timestamps::optional")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<NaiveDateTime>,
    /// New duration in minutes.
    #[serde(default)]
    pub duration_minutes: Option<i32>,
    /// New place.
    #[serde(default)]
    pub place: Option<String>,
    /// New "what to bring" (an empty text clears it).
    #[serde(default)]
    pub bring: Option<String>,
}

/// An appointment as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppointmentView {
    /// Id (also the calendar event's UID before `@host`).
    pub id: String,
    /// Kind key.
    pub kind: AppointmentKind,
    /// Start (UTC).
    pub starts_at: NaiveDateTime,
    /// End (UTC).
    pub ends_at: NaiveDateTime,
    /// Minutes.
    pub duration_minutes: i32,
    /// Where.
    pub place: String,
    /// What to bring.
    pub bring: Option<String>,
    /// Changes so far (the calendar SEQUENCE).
    pub sequence: i32,
    /// When it was cancelled.
    pub cancelled_at: Option<NaiveDateTime>,
}

impl From<Appointment> for AppointmentView {
    fn from(a: Appointment) -> Self {
        Self {
            ends_at: a.starts_at + Duration::minutes(i64::from(a.duration_minutes)),
            id: a.id,
            kind: a.kind,
            starts_at: a.starts_at,
            duration_minutes: a.duration_minutes,
            place: a.place,
            bring: a.bring,
            sequence: a.sequence,
            cancelled_at: a.cancelled_at,
        }
    }
}

fn kind_of(text: &str) -> Result<AppointmentKind> {
    AppointmentKind::parse(text.trim())
        .ok_or_else(|| Error::invalid("kind", "must be medical_exam, deposition, mediation or call"))
}

fn duration_of(minutes: Option<i32>) -> Result<i32> {
    let minutes = minutes.unwrap_or(60);
    if DURATION_RANGE.contains(&minutes) {
        Ok(minutes)
    } else {
        Err(Error::invalid("duration_minutes", "must be between 5 and 720 minutes"))
    }
}

/// The payload of an appointment email.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notice {
    /// The appointment.
    pub appointment_id: String,
    /// What the email tells.
    pub change: Change,
    /// The appointment's sequence when it was queued: an older one is not sent.
    pub sequence: i32,
}

/// The queued emails of a change (to deliver at once; the notifier retries what fails).
pub type Queued = Vec<String>;

/// Queues the email about `appointment` for every client of `matter`; returns the rows' ids.
fn enqueue(
    conn: &mut DbConnection,
    matter: &Matter,
    appointment: &Appointment,
    change: Change,
    now: NaiveDateTime,
) -> Result<Queued> {
    let notice = Notice { appointment_id: appointment.id.clone(), change, sequence: appointment.sequence };
    let payload = serde_json::to_string(&notice).map_err(|e| Error::Internal(e.into()))?;
    let clients: Vec<String> = matter_clients::table
        .filter(matter_clients::matter_id.eq(&matter.id))
        .select(matter_clients::client_id)
        .load(conn)?;
    let rows: Vec<Notification> = clients
        .iter()
        .map(|client| {
            crate::notifications::queue::one_off(
                &matter.firm_id,
                client,
                NotificationKind::Appointment,
                Channel::Email,
                Some(payload.clone()),
                now,
            )
        })
        .collect();
    if !rows.is_empty() {
        crate::insert_many!(conn, notifications::table, &rows)?;
    }
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Schedules an appointment on a matter and queues its invitation to the clients (their ids returned).
pub fn schedule(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    input: &NewAppointment,
    now: NaiveDateTime,
) -> Result<(AppointmentView, Queued)> {
    let kind = kind_of(&input.kind)?;
    let duration = duration_of(input.duration_minutes)?;
    let place = required("place", &input.place)?;
    let bring = optional_text("bring", input.bring.as_deref())?;
    if input.starts_at < now {
        return Err(Error::invalid("starts_at", "is in the past"));
    }
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let appointment = Appointment {
            id: new_id(),
            firm_id: matter.firm_id.clone(),
            matter_id: matter.id.clone(),
            kind,
            starts_at: input.starts_at,
            duration_minutes: duration,
            place: place.clone(),
            bring: bring.clone(),
            sequence: 0,
            cancelled_at: None,
            created_by: Some(staff.id.clone()),
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(appointments::table).values(&appointment).execute(conn)?;
        let queued = enqueue(conn, &matter, &appointment, Change::Scheduled, now)?;
        diesel::update(matters::table.find(&matter.id)).set(matters::updated_at.eq(now)).execute(conn)?;
        staff.audit(conn, "appointment.schedule", "appointment", &appointment.id, None, now)?;
        Ok((appointment.into(), queued))
    })
}

fn firm_appointment(conn: &mut DbConnection, matter: &Matter, appointment_id: &str) -> Result<Appointment> {
    appointments::table
        .filter(appointments::id.eq(appointment_id))
        .filter(appointments::matter_id.eq(&matter.id))
        .select(Appointment::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// Changes an appointment (SEQUENCE goes up) and queues the updated invitation (their ids returned).
pub fn change(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    appointment_id: &str,
    patch: &AppointmentPatch,
    now: NaiveDateTime,
) -> Result<(AppointmentView, Queued)> {
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let mut appointment = firm_appointment(conn, &matter, appointment_id)?;
        if appointment.cancelled_at.is_some() {
            return Err(Error::Conflict("the appointment is cancelled".to_owned()));
        }
        if let Some(kind) = &patch.kind {
            appointment.kind = kind_of(kind)?;
        }
        if let Some(starts_at) = patch.starts_at {
            if starts_at < now {
                return Err(Error::invalid("starts_at", "is in the past"));
            }
            appointment.starts_at = starts_at;
        }
        if patch.duration_minutes.is_some() {
            appointment.duration_minutes = duration_of(patch.duration_minutes)?;
        }
        if let Some(place) = &patch.place {
            appointment.place = required("place", place)?;
        }
        if let Some(bring) = &patch.bring {
            appointment.bring = optional_text("bring", Some(bring))?;
        }
        appointment.sequence += 1;
        appointment.updated_at = now;
        diesel::update(appointments::table.find(&appointment.id))
            .set((
                appointments::kind.eq(appointment.kind),
                appointments::starts_at.eq(appointment.starts_at),
                appointments::duration_minutes.eq(appointment.duration_minutes),
                appointments::place.eq(&appointment.place),
                appointments::bring.eq(&appointment.bring),
                appointments::sequence.eq(appointment.sequence),
                appointments::updated_at.eq(now),
            ))
            .execute(conn)?;
        let queued = enqueue(conn, &matter, &appointment, Change::Changed, now)?;
        diesel::update(matters::table.find(&matter.id)).set(matters::updated_at.eq(now)).execute(conn)?;
        staff.audit(conn, "appointment.change", "appointment", &appointment.id, None, now)?;
        Ok((appointment.into(), queued))
    })
}

/// Cancels an appointment and queues the cancellation (`METHOD:CANCEL`, same UID; their ids returned).
pub fn cancel(
    conn: &mut DbConnection,
    staff: &Staff,
    matter_id: &str,
    appointment_id: &str,
    now: NaiveDateTime,
) -> Result<(AppointmentView, Queued)> {
    write_transaction(conn, |conn| {
        let matter = firm_matter(conn, staff, matter_id)?;
        let mut appointment = firm_appointment(conn, &matter, appointment_id)?;
        if appointment.cancelled_at.is_some() {
            return Err(Error::Conflict("the appointment is already cancelled".to_owned()));
        }
        appointment.sequence += 1;
        appointment.cancelled_at = Some(now);
        appointment.updated_at = now;
        diesel::update(appointments::table.find(&appointment.id))
            .set((
                appointments::sequence.eq(appointment.sequence),
                appointments::cancelled_at.eq(now),
                appointments::updated_at.eq(now),
            ))
            .execute(conn)?;
        let queued = enqueue(conn, &matter, &appointment, Change::Cancelled, now)?;
        diesel::update(matters::table.find(&matter.id)).set(matters::updated_at.eq(now)).execute(conn)?;
        staff.audit(conn, "appointment.cancel", "appointment", &appointment.id, None, now)?;
        Ok((appointment.into(), queued))
    })
}

/// Every appointment of a matter of the staff member's firm, soonest first.
pub fn of_matter(conn: &mut DbConnection, staff: &Staff, matter_id: &str) -> Result<Vec<AppointmentView>> {
    let matter = firm_matter(conn, staff, matter_id)?;
    Ok(appointments::table
        .filter(appointments::matter_id.eq(&matter.id))
        .order((appointments::starts_at, appointments::id))
        .select(Appointment::as_select())
        .load(conn)?
        .into_iter()
        .map(AppointmentView::from)
        .collect())
}

/// The appointments of `matter` a client sees: not cancelled, not over yet, soonest first.
pub fn upcoming(conn: &mut DbConnection, matter: &Matter, now: NaiveDateTime) -> Result<Vec<AppointmentView>> {
    Ok(appointments::table
        .filter(appointments::matter_id.eq(&matter.id))
        .filter(appointments::cancelled_at.is_null())
        .filter(appointments::starts_at.gt(now - Duration::hours(12)))
        .order((appointments::starts_at, appointments::id))
        .select(Appointment::as_select())
        .load::<Appointment>(conn)?
        .into_iter()
        .map(AppointmentView::from)
        .filter(|a| a.ends_at > now)
        .collect())
}

/// The payload of a reminder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reminder {
    /// The appointment.
    pub appointment_id: String,
    /// Its start when the reminder was queued: a moved appointment's old reminder is not sent.
    pub starts_at: NaiveDateTime,
}

/// Queues the reminder of every appointment that starts on the firm's next
/// day (or later today), for each client of its matter: one row per
/// appointment, start time and client — a second pass adds nothing, and a
/// moved appointment gets a reminder for its new time. Returns rows added.
pub fn enqueue_reminders(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize> {
    let soon: Vec<(Appointment, String, String)> = appointments::table
        .inner_join(matters::table)
        .inner_join(firms::table.on(firms::id.eq(appointments::firm_id)))
        .inner_join(matter_clients::table.on(matter_clients::matter_id.eq(appointments::matter_id)))
        .filter(appointments::cancelled_at.is_null())
        .filter(matters::closed_at.is_null())
        .filter(appointments::starts_at.gt(now))
        .filter(appointments::starts_at.le(now + REMINDER_WINDOW))
        .select((Appointment::as_select(), firms::time_zone, matter_clients::client_id))
        .load(conn)?;
    let today = |zone: &str| crate::domain::local_date(zone, now);
    // An email to each client, and a text to those who opted in to texts.
    let clients: Vec<String> = soon.iter().map(|(_, _, c)| c.clone()).collect();
    let texted = crate::notifications::sms::consented(conn, &clients)?;
    let rows: Vec<Notification> = soon
        .into_iter()
        .filter(|(a, zone, _)| {
            let day = crate::domain::local_date(zone, a.starts_at);
            day.pred_opt().is_some_and(|before| today(zone) >= before)
        })
        .flat_map(|(a, _, client)| {
            let channels = if texted.binary_search(&client).is_ok() {
                vec![Channel::Email, Channel::Sms]
            } else {
                vec![Channel::Email]
            };
            channels.into_iter().map(move |channel| (a.clone(), client.clone(), channel))
        })
        .filter_map(|(a, client, channel)| {
            let reminder = Reminder { appointment_id: a.id.clone(), starts_at: a.starts_at };
            let payload = serde_json::to_string(&reminder).ok()?;
            let period = format!("{}@{}", a.id, a.starts_at.format("%Y%m%dT%H%M%S"));
            let mut row = Notification::pending(
                &a.firm_id,
                &client,
                NotificationKind::AppointmentReminder,
                channel,
                &period,
                now,
            );
            row.payload = Some(payload);
            Some(row)
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    crate::notifications::queue::insert_ignoring_duplicates(conn, &rows)
}

/// "January 5, 2027, 9:00 (CST)": an instant as the firm's clock shows it, in `language`.
pub fn when_text(
    locales: &crate::i18n::Locales,
    language: crate::domain::Language,
    time_zone: &str,
    at: NaiveDateTime,
) -> String {
    let zone: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local = at.and_utc().with_timezone(&zone);
    format!("{}, {} ({})", locales.date(language, local.date_naive()), local.format("%H:%M"), local.format("%Z"))
}
