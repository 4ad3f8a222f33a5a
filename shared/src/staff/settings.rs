//! Firm settings (name, sender, time zone, weekly schedule, no-activity
//! updates, uploads to closed matters) and the phase catalogue's texts per
//! language. Changes are for admins.

use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{MAX_TEXT_CHARS, Staff, optional_line, required};
use crate::catalogue::{self, PhaseWording};
use crate::db::models::Firm;
use crate::db::schema::firms;
use crate::db::{DbConnection, write_transaction};
use crate::domain::Language;
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
}

/// The staff member's firm's settings.
pub fn get(conn: &mut DbConnection, staff: &Staff) -> Result<FirmSettings> {
    Ok(firms::table.find(&staff.firm_id).select(Firm::as_select()).first(conn)?.into())
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
        if !changed.is_empty() {
            let firm_id = staff.firm_id.clone();
            staff.audit(conn, "firm.update", "firm", &firm_id, Some(changed.join(",")), now)?;
        }
        Ok(())
    })?;
    get(conn, staff)
}

/// A phase's texts in one language.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PhaseWordingView {
    /// `en` or `es`.
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
    let language =
        Language::parse(wording.language.trim()).ok_or_else(|| Error::invalid("language", "must be en or es"))?;
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
