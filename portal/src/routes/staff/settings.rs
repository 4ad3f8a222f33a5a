//! The firm's settings page (editable by admins): name, sender, phone, time
//! zone (a list, common US zones first), the weekly update's day and time (no
//! cron to type), the firm's look (accent colour, logo, public host), Reply-To
//! the case manager, and unlocking staff sign-ins.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, post, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use shared::branding::{self, DEFAULT_ACCENT};
use shared::domain::now;
use shared::staff::Staff;
use shared::staff::clients::{self, StaffMember};
use shared::staff::settings::{self, FirmSettings, SettingsPatch, WEEKDAYS};

use super::pages::invalid_page;
use super::staff_of;
use crate::pages::{PageCtx, PageResult, see_other};
use crate::routes::brand;

/// Registers the settings pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(settings_page).service(save_settings).service(unlock_staff).service(upload_logo).service(remove_logo);
}

/// The common US time zones, listed first with readable names (locale keys).
const COMMON_ZONES: [(&str, &str); 7] = [
    ("America/New_York", "zone-eastern"),
    ("America/Chicago", "zone-central"),
    ("America/Denver", "zone-mountain"),
    ("America/Phoenix", "zone-arizona"),
    ("America/Los_Angeles", "zone-pacific"),
    ("America/Anchorage", "zone-alaska"),
    ("Pacific/Honolulu", "zone-hawaii"),
];

/// An option of a select box.
#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The time-zone list: the common US zones (labelled "Central Time —
/// America/Chicago"), then every IANA zone by name, `current` selected once.
fn zone_choices(ctx: &PageCtx, current: &str) -> (Vec<Choice>, Vec<Choice>) {
    let common: Vec<Choice> = COMMON_ZONES
        .iter()
        .map(|(zone, key)| Choice {
            value: (*zone).to_owned(),
            label: format!("{} — {zone}", ctx.text(key)),
            selected: *zone == current,
        })
        .collect();
    let in_common = common.iter().any(|c| c.selected);
    let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| name.contains('/') && !name.starts_with("Etc/") && !name.starts_with("US/"))
        .chain(["UTC"])
        .collect();
    if !names.contains(&current) && !in_common {
        names.push(current);
    }
    names.sort_unstable();
    names.dedup();
    let all = names
        .into_iter()
        .map(|name| Choice { value: name.to_owned(), label: name.to_owned(), selected: !in_common && name == current })
        .collect();
    (common, all)
}

/// The weekday choices, `chosen` selected.
fn weekday_choices(ctx: &PageCtx, chosen: Option<&str>) -> Vec<Choice> {
    WEEKDAYS
        .iter()
        .map(|day| Choice {
            value: (*day).to_owned(),
            label: ctx.text(&format!("weekday-{}", day.to_ascii_lowercase())),
            selected: chosen == Some(*day),
        })
        .collect()
}

/// A cron expression as people read it: "Monday at 09:00" for the weekly shape, else itself.
fn readable_schedule(ctx: &PageCtx, expression: &str) -> String {
    match settings::weekly_choice(expression) {
        Some((day, time)) => {
            format!("{} {time}", ctx.text(&format!("weekday-{}", day.to_ascii_lowercase())))
        }
        None => expression.to_owned(),
    }
}

/// The firm's settings (editable by admins).
#[derive(Serialize)]
struct SettingsPage {
    staff_nav: bool,
    firm: FirmSettings,
    admin: bool,
    /// The configured weekly schedule, for a firm without its own, as people read it.
    default_schedule: String,
    /// The firm's schedule when it is not of the weekday-and-time shape (shown read-only).
    custom_schedule: Option<String>,
    weekdays: Vec<Choice>,
    weekly_time: String,
    zones_common: Vec<Choice>,
    zones: Vec<Choice>,
    /// The accent colour in effect, `#rrggbb`.
    accent: String,
    /// For admins: the staff members and their failed sign-ins, to unlock.
    sign_ins: Vec<StaffSignIns>,
    /// Text messages are configured (the quiet hours apply to them).
    sms: bool,
}

/// A staff member and their failed sign-ins within the last day, from every source.
#[derive(Serialize)]
struct StaffSignIns {
    member: StaffMember,
    failures: i64,
}

#[get("/staff/settings")]
async fn settings_page(ctx: PageCtx, req: HttpRequest) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let admin = staff.require_admin().is_ok();
    let at = ctx.state.clock().now();
    let (firm, sign_ins) = ctx
        .state
        .db
        .run(move |c| {
            let firm = settings::get(c, &staff)?;
            let mut sign_ins = Vec::new();
            if admin {
                for member in clients::staff_members(c, &staff)? {
                    let failures = crate::staff_auth::recent_failures(c, &member.email, at)?;
                    sign_ins.push(StaffSignIns { member, failures });
                }
            }
            Ok((firm, sign_ins))
        })
        .await?;
    let default_schedule = match &ctx.state.config.weekly_schedule {
        Some(expression) => readable_schedule(&ctx, expression),
        None => ctx.text("staff-settings-schedule-off"),
    };
    let weekly = firm.weekly_schedule.as_deref().map(|e| (e, settings::weekly_choice(e)));
    let custom_schedule = match weekly {
        Some((expression, None)) => Some(expression.to_owned()),
        _ => None,
    };
    let (day, time) = match weekly {
        Some((_, Some((day, time)))) => (Some(day), time),
        _ => (None, "09:00".to_owned()),
    };
    let (zones_common, zones) = zone_choices(&ctx, &firm.time_zone);
    let page = SettingsPage {
        staff_nav: true,
        sms: ctx.state.config.sms_enabled(),
        accent: firm.accent_colour.clone().unwrap_or_else(|| DEFAULT_ACCENT.to_owned()),
        weekdays: weekday_choices(&ctx, day),
        weekly_time: time,
        zones_common,
        zones,
        custom_schedule,
        firm,
        admin,
        default_schedule,
        sign_ins,
    };
    Ok(ctx.render(StatusCode::OK, "staff_settings", "staff-settings-title", page))
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    name: String,
    #[serde(default)]
    mail_from: String,
    #[serde(default)]
    phone: String,
    time_zone: String,
    /// A cron expression, as forms before the weekday picker sent it.
    #[serde(default)]
    weekly_schedule: Option<String>,
    /// The picker's day (`""`: the server's default schedule); absent when the form has no picker.
    #[serde(default)]
    weekly_day: Option<String>,
    #[serde(default)]
    weekly_time: Option<String>,
    /// A checkbox shown beside a custom schedule: replace it with the picker's choice.
    #[serde(default)]
    replace_schedule: Option<String>,
    /// Set when the page showed a custom schedule (kept unless replaced).
    #[serde(default)]
    custom_schedule: Option<String>,
    #[serde(default)]
    accent_colour: Option<String>,
    #[serde(default)]
    public_host: Option<String>,
    /// A checkbox: present when ticked.
    #[serde(default)]
    no_activity_updates: Option<String>,
    /// A checkbox: present when ticked.
    #[serde(default)]
    closed_matter_uploads: Option<String>,
    /// A checkbox: present when ticked.
    #[serde(default)]
    message_text_in_email: Option<String>,
    /// A checkbox: present when ticked; the form says it has it with `look`.
    #[serde(default)]
    reply_to_case_manager: Option<String>,
    /// Present on the page's form, whose Reply-To box may be unticked.
    #[serde(default)]
    look: Option<String>,
    /// A checkbox: present when ticked; the form says it has it with `one_tap_form`.
    #[serde(default)]
    one_tap_sign_in: Option<String>,
    /// Present on the page's form, whose one-tap box may be unticked.
    #[serde(default)]
    one_tap_form: Option<String>,
    #[serde(default)]
    treatment_gap_days: Option<String>,
    /// Texts from this firm-local hour (the quiet hours' end).
    #[serde(default)]
    sms_from_hour: Option<String>,
    /// Texts until this firm-local hour (the quiet hours' start).
    #[serde(default)]
    sms_until_hour: Option<String>,
}

impl SettingsForm {
    /// The schedule change: the cron expression typed, else the picker's day and
    /// time (`""` day: the default), else none (a custom schedule not replaced).
    fn schedule(&self) -> shared::Result<Option<String>> {
        if let Some(expression) = &self.weekly_schedule {
            return Ok(Some(expression.clone()));
        }
        let Some(day) = self.weekly_day.as_deref() else { return Ok(None) };
        if self.custom_schedule.is_some() && self.replace_schedule.is_none() {
            return Ok(None);
        }
        if day.is_empty() {
            return Ok(Some(String::new()));
        }
        let time = self.weekly_time.as_deref().filter(|t| !t.is_empty()).unwrap_or("09:00");
        settings::weekly_cron(day, time).map(Some)
    }
}

#[post("/staff/settings")]
async fn save_settings(ctx: PageCtx, req: HttpRequest, form: web::Form<SettingsForm>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let form = form.into_inner();
    let weekly_schedule = match form.schedule() {
        Ok(schedule) => schedule,
        Err(e) => return invalid_page(&ctx, e, "/staff/settings"),
    };
    let treatment_gap_days = match form.treatment_gap_days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => match d.parse::<i32>() {
            Ok(d) => Some(d),
            Err(_) => {
                let e = shared::Error::invalid("treatment_gap_days", "must be between 1 and 365");
                return invalid_page(&ctx, e, "/staff/settings");
            }
        },
        None => None,
    };
    let hour = |field: &'static str, value: &Option<String>| -> shared::Result<Option<i32>> {
        match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => v.parse::<i32>().map(Some).map_err(|_| shared::Error::invalid(field, "must be an hour")),
            None => Ok(None),
        }
    };
    let (sms_from_hour, sms_until_hour) =
        match (hour("sms_from_hour", &form.sms_from_hour), hour("sms_until_hour", &form.sms_until_hour)) {
            (Ok(from), Ok(until)) => (from, until),
            (Err(e), _) | (_, Err(e)) => return invalid_page(&ctx, e, "/staff/settings"),
        };
    let patch = SettingsPatch {
        sms_from_hour,
        sms_until_hour,
        treatment_gap_days,
        weekly_schedule,
        reply_to_case_manager: form.look.is_some().then_some(form.reply_to_case_manager.is_some()),
        accent_colour: form.accent_colour,
        public_host: form.public_host,
        name: Some(form.name),
        mail_from: Some(form.mail_from),
        phone: Some(form.phone),
        time_zone: Some(form.time_zone),
        no_activity_updates: Some(form.no_activity_updates.is_some()),
        closed_matter_uploads: Some(form.closed_matter_uploads.is_some()),
        message_text_in_email: Some(form.message_text_in_email.is_some()),
        one_tap_sign_in: form.one_tap_form.is_some().then_some(form.one_tap_sign_in.is_some()),
    };
    run_then_back(&ctx, move |c, staff| settings::update(c, staff, &patch, now()).map(|_| ()), staff).await
}

#[derive(Debug, Deserialize)]
struct UnlockForm {
    email: String,
}

/// An admin clears a staff member's failed sign-ins (the button on the settings page).
#[post("/staff/settings/unlock")]
async fn unlock_staff(ctx: PageCtx, req: HttpRequest, form: web::Form<UnlockForm>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (email, at) = (form.into_inner().email, ctx.state.clock().now());
    run_then_back(&ctx, move |c, staff| crate::staff_auth::unlock(c, staff, &email, at).map(|_| ()), staff).await
}

/// An admin uploads the firm's logo (a multipart form, its file in any field).
#[post("/staff/settings/logo")]
async fn upload_logo(ctx: PageCtx, req: HttpRequest, form: Multipart) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let bytes = match read_logo(form).await {
        Ok(bytes) => bytes,
        Err(e) => return invalid_page(&ctx, e, "/staff/settings"),
    };
    run_then_back(&ctx, move |c, staff| settings::set_logo(c, staff, bytes, now()).map(|_| ()), staff).await
}

/// An admin removes the firm's logo.
#[post("/staff/settings/logo/remove")]
async fn remove_logo(ctx: PageCtx, req: HttpRequest) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    run_then_back(&ctx, move |c, staff| settings::remove_logo(c, staff, now()).map(|_| ()), staff).await
}

/// The first file of a multipart form, read up to one byte past the logo
/// limit (so that a larger file is refused as too large, not cut).
pub(crate) async fn read_logo(mut form: Multipart) -> shared::Result<Vec<u8>> {
    let unreadable =
        |e: actix_multipart::MultipartError| shared::Error::invalid("logo", format!("could not be read: {e}"));
    while let Some(field) = form.next().await {
        let mut field = field.map_err(unreadable)?;
        let is_file = field.content_disposition().and_then(|cd| cd.get_filename()).is_some();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(unreadable)?;
            if bytes.len() <= branding::MAX_LOGO_BYTES {
                let room = branding::MAX_LOGO_BYTES + 1 - bytes.len();
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        if is_file {
            return Ok(bytes);
        }
    }
    Err(shared::Error::invalid("logo", "choose a picture to upload"))
}

/// Runs a change and answers with a redirect to the settings page (post/redirect/get),
/// or the problem. A change forgets the firm's cached look, so every page shows it at once.
async fn run_then_back(
    ctx: &PageCtx,
    work: impl FnOnce(&mut shared::db::DbConnection, &Staff) -> shared::Result<()> + Send + 'static,
    staff: Staff,
) -> PageResult {
    let back = "/staff/settings";
    match ctx.state.db.run(move |c| work(c, &staff)).await {
        Ok(()) => {
            brand::forget(&brand::AppKey::of(&ctx.state));
            Ok(see_other(back))
        }
        Err(e) => invalid_page(ctx, e, back),
    }
}
