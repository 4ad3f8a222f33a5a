//! Firm settings (name, sender, time zone, weekly schedule, no-activity
//! updates, uploads to closed matters, the firm's look: accent colour, logo,
//! Reply-To and public host) and the phase catalogue's texts per language.
//! Changes are for admins.

use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{MAX_TEXT_CHARS, Staff, optional_line, required};
use crate::branding;
use crate::catalogue::{self, PhaseWording};
use crate::db::models::{Firm, FirmLogo};
use crate::db::schema::{firm_logos, firms};
use crate::db::{DbConnection, write_transaction};
use crate::error::{Error, Result};

/// A firm's settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FirmSettings {
    /// Firm id.
    pub id: String,
    /// The name clients see.
    pub name: String,
    /// Sender of the firm's emails (`Name <address>`); the configured default when absent.
    pub mail_from: Option<String>,
    /// The firm's phone number, shown to clients.
    pub phone: Option<String>,
    /// IANA time zone, e.g. `America/Chicago`; the weekly schedule runs in it.
    pub time_zone: String,
    /// Cron expression (`cron` crate syntax, with seconds) overriding the configured schedule.
    pub weekly_schedule: Option<String>,
    /// Send a short "no change" update in weeks without activity.
    pub no_activity_updates: bool,
    /// Clients may still upload documents to a matter once it is closed
    /// (off: such an upload is refused with a message saying the matter is closed).
    pub closed_matter_uploads: bool,
    /// Accent colour of pages and emails, `#rrggbb`; the built-in blue when absent.
    pub accent_colour: Option<String>,
    /// Client emails carry Reply-To the matter's case manager.
    pub reply_to_case_manager: bool,
    /// The client's "new message" email carries the reply's text (off: only that there is one).
    pub message_text_in_email: bool,
    /// Host name signed-out pages answer for, e.g. `portal.smithlaw.example`.
    pub public_host: Option<String>,
    /// Path of the firm's logo (`/brand/{firm}/logo/{digest}`), if it has one.
    pub logo: Option<String>,
    /// The "Open my case" button of client emails signs the client in once, for
    /// 7 days (off: it opens the sign-in page with the client's address filled in).
    pub one_tap_sign_in: bool,
    /// Days without a logged medical visit, in a treatment phase, before a matter is flagged.
    pub treatment_gap_days: i32,
    /// Texts go out from this hour, firm-local (quiet hours end), 0 to 23.
    pub sms_from_hour: i32,
    /// Texts go out until this hour, firm-local (quiet hours begin), 1 to 24.
    pub sms_until_hour: i32,
}

impl From<Firm> for FirmSettings {
    fn from(f: Firm) -> Self {
        Self {
            id: f.id,
            name: f.name,
            mail_from: f.mail_from,
            phone: f.phone,
            time_zone: f.time_zone,
            weekly_schedule: f.weekly_schedule,
            no_activity_updates: f.no_activity_updates,
            closed_matter_uploads: f.closed_matter_uploads,
            accent_colour: f.accent_colour,
            reply_to_case_manager: f.reply_to_case_manager,
            message_text_in_email: f.message_text_in_email,
            public_host: f.public_host,
            logo: None,
            one_tap_sign_in: f.one_tap_sign_in,
            treatment_gap_days: f.treatment_gap_days,
            sms_from_hour: f.sms_from_hour,
            sms_until_hour: f.sms_until_hour,
        }
    }
}

/// Changes to the settings; absent fields stay, `""` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SettingsPatch {
    /// The name clients see.
    #[serde(default)]
    pub name: Option<String>,
    /// Sender, `Name <address>` or an address.
    #[serde(default)]
    pub mail_from: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// IANA time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Cron expression, e.g. `0 0 9 * * Mon`.
    #[serde(default)]
    pub weekly_schedule: Option<String>,
    /// No-activity updates on or off.
    #[serde(default)]
    pub no_activity_updates: Option<bool>,
    /// Uploads by clients to closed matters allowed or refused.
    #[serde(default)]
    pub closed_matter_uploads: Option<bool>,
    /// Accent colour `#rrggbb`, dark enough for white text on it (4.5:1); `""` restores the built-in one.
    #[serde(default)]
    pub accent_colour: Option<String>,
    /// Client emails carry Reply-To the matter's case manager.
    #[serde(default)]
    pub reply_to_case_manager: Option<bool>,
    /// The client's "new message" email carries the reply's text (off by default: it says only that there is one).
    #[serde(default)]
    pub message_text_in_email: Option<bool>,
    /// Host name of the firm's own portal address, e.g. `portal.smithlaw.example`; `""` clears it.
    #[serde(default)]
    pub public_host: Option<String>,
    /// One-tap sign-in links in client emails on (the default) or off.
    #[serde(default)]
    pub one_tap_sign_in: Option<bool>,
    /// Days without a logged medical visit, in a treatment phase, before a matter is flagged (1 to 365).
    #[serde(default)]
    pub treatment_gap_days: Option<i32>,
    /// Texts go out from this firm-local hour (0 to 23; 9 by default).
    #[serde(default)]
    pub sms_from_hour: Option<i32>,
    /// Texts go out until this firm-local hour (1 to 24, after `sms_from_hour`; 20 by default).
    #[serde(default)]
    pub sms_until_hour: Option<i32>,
}

/// The staff member's firm's settings.
pub fn get(conn: &mut DbConnection, staff: &Staff) -> Result<FirmSettings> {
    let mut settings: FirmSettings = firms::table.find(&staff.firm_id).select(Firm::as_select()).first(conn)?.into();
    settings.logo = branding::brand_of(conn, &staff.firm_id)?.logo_path();
    Ok(settings)
}

/// Validates and applies `patch`. Admins only.
pub fn update(
    conn: &mut DbConnection,
    staff: &Staff,
    patch: &SettingsPatch,
    now: NaiveDateTime,
) -> Result<FirmSettings> {
    staff.require_admin()?;
    let name = patch.name.as_deref().map(|n| required("name", n)).transpose()?;
    let line = |field, value: Option<&str>| value.map(|v| crate::text::line(field, v)).transpose();
    let mail_from = match line("mail_from", patch.mail_from.as_deref())?.as_deref() {
        Some("") => Some(None),
        Some(sender) => {
            sender
                .parse::<lettre::message::Mailbox>()
                .map_err(|_| Error::invalid("mail_from", "must be an address or `Name <address>`"))?;
            Some(Some(sender.to_owned()))
        }
        None => None,
    };
    let phone = patch.phone.as_deref().map(|p| optional_line("phone", Some(p))).transpose()?;
    let time_zone = match line("time_zone", patch.time_zone.as_deref())?.as_deref() {
        Some(zone) => {
            zone.parse::<chrono_tz::Tz>()
                .map_err(|_| Error::invalid("time_zone", "is not an IANA time zone such as America/Chicago"))?;
            Some(zone.to_owned())
        }
        None => None,
    };
    let schedule = match line("weekly_schedule", patch.weekly_schedule.as_deref())?.as_deref() {
        Some("") => Some(None),
        Some(expression) => {
            cron::Schedule::from_str(expression)
                .map_err(|e| Error::invalid("weekly_schedule", format!("is not a cron expression: {e}")))?;
            Some(Some(expression.to_owned()))
        }
        None => None,
    };
    let accent = match patch.accent_colour.as_deref().map(str::trim) {
        Some("") => Some(None),
        Some(colour) => Some(Some(branding::check_accent("accent_colour", colour)?)),
        None => None,
    };
    let public_host = match patch.public_host.as_deref().map(str::trim) {
        Some("") => Some(None),
        Some(host) => Some(Some(branding::check_host("public_host", host)?)),
        None => None,
    };
    write_transaction(conn, |conn| {
        let target = firms::table.find(&staff.firm_id);
        let mut changed = Vec::new();
        if let Some(name) = &name {
            diesel::update(target).set(firms::name.eq(name)).execute(conn)?;
            changed.push("name");
        }
        if let Some(sender) = &mail_from {
            diesel::update(target).set(firms::mail_from.eq(sender)).execute(conn)?;
            changed.push("mail_from");
        }
        if let Some(phone) = &phone {
            diesel::update(target).set(firms::phone.eq(phone)).execute(conn)?;
            changed.push("phone");
        }
        if let Some(zone) = &time_zone {
            diesel::update(target).set(firms::time_zone.eq(zone)).execute(conn)?;
            changed.push("time_zone");
        }
        if let Some(schedule) = &schedule {
            diesel::update(target).set(firms::weekly_schedule.eq(schedule)).execute(conn)?;
            changed.push("weekly_schedule");
        }
        if let Some(on) = patch.no_activity_updates {
            diesel::update(target).set(firms::no_activity_updates.eq(on)).execute(conn)?;
            changed.push("no_activity_updates");
        }
        if let Some(on) = patch.closed_matter_uploads {
            diesel::update(target).set(firms::closed_matter_uploads.eq(on)).execute(conn)?;
            changed.push("closed_matter_uploads");
        }
        if let Some(accent) = &accent {
            diesel::update(target).set(firms::accent_colour.eq(accent)).execute(conn)?;
            changed.push("accent_colour");
        }
        if let Some(on) = patch.reply_to_case_manager {
            diesel::update(target).set(firms::reply_to_case_manager.eq(on)).execute(conn)?;
            changed.push("reply_to_case_manager");
        }
        if let Some(days) = patch.treatment_gap_days {
            if !(1..=365).contains(&days) {
                return Err(Error::invalid("treatment_gap_days", "must be between 1 and 365"));
            }
            diesel::update(target).set(firms::treatment_gap_days.eq(days)).execute(conn)?;
            changed.push("treatment_gap_days");
        }
        if patch.sms_from_hour.is_some() || patch.sms_until_hour.is_some() {
            let firm: Firm = firms::table.find(&staff.firm_id).select(Firm::as_select()).first(conn)?;
            let from = patch.sms_from_hour.unwrap_or(firm.sms_from_hour);
            let until = patch.sms_until_hour.unwrap_or(firm.sms_until_hour);
            if !(0..=23).contains(&from) {
                return Err(Error::invalid("sms_from_hour", "must be an hour from 0 to 23"));
            }
            if !(1..=24).contains(&until) || until <= from {
                return Err(Error::invalid("sms_until_hour", "must be an hour from 1 to 24, after sms_from_hour"));
            }
            diesel::update(target)
                .set((firms::sms_from_hour.eq(from), firms::sms_until_hour.eq(until)))
                .execute(conn)?;
            changed.push("sms_hours");
        }
        if let Some(on) = patch.message_text_in_email {
            diesel::update(target).set(firms::message_text_in_email.eq(on)).execute(conn)?;
            changed.push("message_text_in_email");
        }
        if let Some(on) = patch.one_tap_sign_in {
            diesel::update(target).set(firms::one_tap_sign_in.eq(on)).execute(conn)?;
            changed.push("one_tap_sign_in");
        }
        if let Some(host) = &public_host {
            if let Some(host) = host {
                let taken: i64 = firms::table
                    .filter(firms::public_host.eq(host))
                    .filter(firms::id.ne(&staff.firm_id))
                    .count()
                    .get_result(conn)?;
                if taken > 0 {
                    return Err(Error::invalid("public_host", "is already the address of another firm on this portal"));
                }
            }
            diesel::update(target).set(firms::public_host.eq(host)).execute(conn)?;
            changed.push("public_host");
        }
        if !changed.is_empty() {
            let firm_id = staff.firm_id.clone();
            staff.audit(conn, "firm.update", "firm", &firm_id, Some(changed.join(",")), now)?;
        }
        Ok(())
    })?;
    get(conn, staff)
}

/// Replaces the firm's logo with `bytes` (PNG, JPEG or WebP, sniffed from the
/// bytes; at most [`branding::MAX_LOGO_BYTES`]). Admins only.
pub fn set_logo(conn: &mut DbConnection, staff: &Staff, bytes: Vec<u8>, now: NaiveDateTime) -> Result<FirmSettings> {
    staff.require_admin()?;
    let content_type = branding::sniff_logo(&bytes)?;
    let logo = FirmLogo {
        firm_id: staff.firm_id.clone(),
        content_type: content_type.to_owned(),
        digest: branding::logo_digest(&bytes),
        bytes,
        updated_at: now,
    };
    write_transaction(conn, |conn| {
        diesel::delete(firm_logos::table.find(&staff.firm_id)).execute(conn)?;
        diesel::insert_into(firm_logos::table).values(&logo).execute(conn)?;
        let firm_id = staff.firm_id.clone();
        staff.audit(conn, "firm.update", "firm", &firm_id, Some("logo".to_owned()), now)
    })?;
    get(conn, staff)
}

/// Removes the firm's logo (pages and emails show its name alone). Admins only.
pub fn remove_logo(conn: &mut DbConnection, staff: &Staff, now: NaiveDateTime) -> Result<FirmSettings> {
    staff.require_admin()?;
    write_transaction(conn, |conn| {
        let removed = diesel::delete(firm_logos::table.find(&staff.firm_id)).execute(conn)?;
        if removed > 0 {
            let firm_id = staff.firm_id.clone();
            staff.audit(conn, "firm.update", "firm", &firm_id, Some("logo_removed".to_owned()), now)?;
        }
        Ok(())
    })?;
    get(conn, staff)
}

/// The days of the week as cron writes them, Monday first.
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The weekday (one of [`WEEKDAYS`]) and time (`HH:MM`) of a schedule written
/// `0 MM HH * * Day`, the shape the settings page writes; `None` for any other
/// cron expression (a custom schedule).
pub fn weekly_choice(expression: &str) -> Option<(&'static str, String)> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let [second, minute, hour, "*", "*", day] = fields.as_slice() else { return None };
    if *second != "0" {
        return None;
    }
    let number = |text: &str, max: u32| text.parse::<u32>().ok().filter(|n| *n <= max && text.len() <= 2);
    let (minute, hour) = (number(minute, 59)?, number(hour, 23)?);
    let day = WEEKDAYS.iter().find(|d| d.eq_ignore_ascii_case(day))?;
    Some((day, format!("{hour:02}:{minute:02}")))
}

/// The cron expression (`0 MM HH * * Day`) of a weekday (as in [`WEEKDAYS`],
/// any case) and a time `HH:MM`, or a readable error.
pub fn weekly_cron(day: &str, time: &str) -> Result<String> {
    let day = WEEKDAYS
        .iter()
        .find(|d| d.eq_ignore_ascii_case(day.trim()))
        .ok_or_else(|| Error::invalid("weekly_day", "must be a day of the week"))?;
    let time = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M")
        .map_err(|_| Error::invalid("weekly_time", "must be a time such as 09:00"))?;
    use chrono::Timelike;
    Ok(format!("0 {} {} * * {day}", time.minute(), time.hour()))
}

/// A phase's texts in one language.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PhaseWordingView {
    /// Language tag: `en`, `es` or one the firm added.
    pub language: String,
    /// Title.
    pub title: String,
    /// What this phase means for the client.
    pub what_it_means: String,
    /// What happens next.
    pub what_happens_next: String,
}

/// A phase of the catalogue with its texts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogueEntry {
    /// Practice area, e.g. `personal_injury`.
    pub practice_area: String,
    /// Stable key.
    pub key: String,
    /// Position, from 1.
    pub position: i32,
    /// Texts per language.
    pub texts: Vec<PhaseWordingView>,
}

/// The firm's phase catalogue, every practice area, with texts per language.
pub fn catalogue(conn: &mut DbConnection, staff: &Staff) -> Result<Vec<CatalogueEntry>> {
    Ok(crate::catalogue::texts_by_phase(conn, &staff.firm_id)?
        .into_iter()
        .map(|(p, texts)| CatalogueEntry {
            practice_area: p.practice_area,
            key: p.key,
            position: p.position,
            texts: texts
                .into_iter()
                .map(|t| PhaseWordingView {
                    language: t.language.to_string(),
                    title: t.title,
                    what_it_means: t.what_it_means,
                    what_happens_next: t.what_happens_next,
                })
                .collect(),
        })
        .collect())
}

/// Replaces one phase's texts in one language. Admins only.
pub fn set_phase_text(
    conn: &mut DbConnection,
    staff: &Staff,
    practice_area: &str,
    key: &str,
    wording: &PhaseWordingView,
    now: NaiveDateTime,
) -> Result<()> {
    staff.require_admin()?;
    let language = super::clients::parse_language(&wording.language)?;
    let title = required("title", &wording.title)?;
    let means = long_text("what_it_means", &wording.what_it_means)?;
    let next = long_text("what_happens_next", &wording.what_happens_next)?;
    let wording = PhaseWording { title, what_it_means: means, what_happens_next: next };
    catalogue::set_text(conn, &staff.firm_id, practice_area, key, language, &wording, |conn, phase_id| {
        staff.audit(conn, "phase.text", "phase", phase_id, Some(language.as_str().to_owned()), now)
    })
}

fn long_text(field: &'static str, value: &str) -> Result<String> {
    let value = crate::text::multiline(field, value)?;
    if value.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::invalid(field, format!("must be at most {MAX_TEXT_CHARS} characters")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weekday_and_time_make_the_cron_expression_and_back() {
        let cron = weekly_cron("thu", "07:30").expect("a weekday and time");
        assert_eq!(cron, "0 30 7 * * Thu");
        assert!(cron::Schedule::from_str(&cron).is_ok(), "{cron} is not a schedule");
        assert_eq!(weekly_choice(&cron), Some(("Thu", "07:30".to_owned())));
        assert_eq!(weekly_choice("0 0 9 * * Mon"), Some(("Mon", "09:00".to_owned())));
        for custom in ["0 0 9 * * Mon-Fri", "0 0 9 1 * *", "30 0 9 * * Mon", "0 0 9 * * Mon,Thu", "0 0 25 * * Mon"] {
            assert_eq!(weekly_choice(custom), None, "{custom} read as weekly");
        }
        assert!(weekly_cron("Funday", "09:00").is_err());
        assert!(weekly_cron("Mon", "9 o'clock").is_err());
    }
}
