//! Document requests over time: their due dates (calendar days in the firm's
//! time zone), when a reminder is due, and the firm's ready-made requests
//! ("Police report", "Proof of lost wages") staff pick from, in every language.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConnection;
use crate::db::models::RequestTemplate;
use crate::db::schema::{firms, request_templates};
use crate::domain::{DocumentCategory, Language, local_date};
use crate::error::Result;

/// Days before the due date that the first reminder goes out.
pub const DAYS_BEFORE: i64 = 2;
/// Days between reminders once a request is overdue.
pub const OVERDUE_EVERY: i64 = 7;

/// Which reminder a request gets on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// [`DAYS_BEFORE`] days before it is due.
    DueSoon,
    /// The day after it was due, then every [`OVERDUE_EVERY`] days.
    Overdue,
}

/// The reminder a request due on `due` gets on the firm-local day `today`, if
/// any: two days before, the day after, then weekly while it stays open.
pub fn reminder_on(due: NaiveDate, today: NaiveDate) -> Option<Reminder> {
    let late = (today - due).num_days();
    if late == -DAYS_BEFORE {
        Some(Reminder::DueSoon)
    } else if late >= 1 && (late - 1) % OVERDUE_EVERY == 0 {
        Some(Reminder::Overdue)
    } else {
        None
    }
}

/// A request due on `due` is overdue on the firm-local day `today` (the due day itself is not).
pub fn is_overdue(due: NaiveDate, today: NaiveDate) -> bool {
    due < today
}

/// A request is listed in a reminder on `today` while due within [`DAYS_BEFORE`] days or overdue.
pub fn is_due_soon_or_overdue(due: NaiveDate, today: NaiveDate) -> bool {
    due <= today + Duration::days(DAYS_BEFORE)
}

/// Today in the time zone of the firm `firm_id` (UTC when unknown).
pub fn firm_today(conn: &mut DbConnection, firm_id: &str, now: NaiveDateTime) -> Result<NaiveDate> {
    let zone: Option<String> = firms::table.find(firm_id).select(firms::time_zone).first(conn).optional()?;
    Ok(local_date(zone.as_deref().unwrap_or("UTC"), now))
}

/// A firm's ready-made request as the API lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    /// Stable key, the same in every language, e.g. `police_report`.
    pub key: String,
    /// `en` or `es`.
    pub language: Language,
    /// The category the request is filed under.
    pub category: DocumentCategory,
    /// What is needed, as the client reads it.
    pub title: String,
    /// More detail for the client.
    pub details: Option<String>,
}

impl From<RequestTemplate> for TemplateView {
    fn from(t: RequestTemplate) -> Self {
        Self { key: t.key, language: t.language, category: t.category, title: t.title, details: t.details }
    }
}

/// The firm's ready-made requests, in `language` or (with `None`) every language, in list order.
pub fn templates(conn: &mut DbConnection, firm_id: &str, language: Option<Language>) -> Result<Vec<TemplateView>> {
    let mut query = request_templates::table.filter(request_templates::firm_id.eq(firm_id)).into_boxed();
    if let Some(language) = language {
        query = query.filter(request_templates::language.eq(language));
    }
    Ok(query
        .order((request_templates::position, request_templates::key, request_templates::language))
        .select(RequestTemplate::as_select())
        .load(conn)?
        .into_iter()
        .map(TemplateView::from)
        .collect())
}

/// The firm's ready-made request `key` in `language`, else in English.
pub fn template(
    conn: &mut DbConnection,
    firm_id: &str,
    key: &str,
    language: Language,
) -> Result<Option<RequestTemplate>> {
    let mut found: Vec<RequestTemplate> = request_templates::table
        .filter(request_templates::firm_id.eq(firm_id))
        .filter(request_templates::key.eq(key))
        .filter(request_templates::language.eq_any([language, Language::EN]))
        .select(RequestTemplate::as_select())
        .load(conn)?;
    found.sort_by_key(|t| t.language != language);
    Ok(found.into_iter().next())
}

/// One default ready-made request, in English and Spanish: (title, details).
struct Default {
    key: &'static str,
    category: DocumentCategory,
    en: (&'static str, &'static str),
    es: (&'static str, &'static str),
}

/// The ready-made requests every firm starts with (the migration that added
/// them wrote the same for the firms that existed then).
const DEFAULTS: [Default; 6] = [
    Default {
        key: "medical_bills",
        category: DocumentCategory::MedicalBill,
        en: (
            "Medical bills from your provider",
            "Itemised bills from each doctor, hospital, clinic or pharmacy that treated you since the accident.",
        ),
        es: (
            "Facturas médicas de su proveedor",
            "Facturas detalladas de cada médico, hospital, clínica o farmacia que le atendió desde el accidente.",
        ),
    },
    Default {
        key: "medical_records",
        category: DocumentCategory::MedicalRecord,
        en: ("Medical records", "Records and reports from your visits: emergency room, doctor, therapy and imaging."),
        es: (
            "Expedientes médicos",
            "Expedientes e informes de sus visitas: urgencias, médico, terapia y radiografías.",
        ),
    },
    Default {
        key: "police_report",
        category: DocumentCategory::PoliceReport,
        en: ("Police report", "The accident or police report, or the report number if you only have that."),
        es: (
            "Informe policial",
            "El informe del accidente o de la policía, o el número del informe si solo tiene eso.",
        ),
    },
    Default {
        key: "insurance_card",
        category: DocumentCategory::InsuranceLetter,
        en: ("Insurance card", "A photo of both sides of your health and auto insurance cards."),
        es: ("Tarjeta del seguro", "Una foto de ambos lados de sus tarjetas de seguro médico y de auto."),
    },
    Default {
        key: "injury_photos",
        category: DocumentCategory::Photo,
        en: ("Photos of your injuries", "Clear photos of your injuries, taken now and as they heal."),
        es: ("Fotos de sus lesiones", "Fotos claras de sus lesiones, tomadas ahora y mientras sanan."),
    },
    Default {
        key: "lost_wages",
        category: DocumentCategory::WageProof,
        en: (
            "Proof of lost wages",
            "Pay stubs from before the accident and a letter from your employer about the work you missed.",
        ),
        es: (
            "Prueba de salarios perdidos",
            "Talones de pago de antes del accidente y una carta de su empleador sobre el trabajo que perdió.",
        ),
    },
];

/// Gives a new firm the default ready-made requests in every language.
pub fn install_templates(conn: &mut DbConnection, firm_id: &str) -> Result<usize> {
    let mut rows = Vec::new();
    for (n, d) in DEFAULTS.iter().enumerate() {
        for (language, (title, details)) in [(Language::EN, d.en), (Language::ES, d.es)] {
            rows.push(RequestTemplate {
                firm_id: firm_id.to_owned(),
                key: d.key.to_owned(),
                language,
                position: i32::try_from(n + 1).unwrap_or(i32::MAX),
                category: d.category,
                title: title.to_owned(),
                details: Some(details.to_owned()),
            });
        }
    }
    Ok(crate::insert_many!(conn, request_templates::table, &rows)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn reminders_come_two_days_before_the_day_after_then_weekly() {
        let due = day(2027, 1, 8);
        let sent: Vec<(i64, Reminder)> = (-10..40)
            .filter_map(|offset| reminder_on(due, due + Duration::days(offset)).map(|r| (offset, r)))
            .collect();
        assert_eq!(
            sent,
            [
                (-2, Reminder::DueSoon),
                (1, Reminder::Overdue),
                (8, Reminder::Overdue),
                (15, Reminder::Overdue),
                (22, Reminder::Overdue),
                (29, Reminder::Overdue),
                (36, Reminder::Overdue),
            ]
        );
        assert!(!is_overdue(due, due) && is_overdue(due, day(2027, 1, 9)));
        assert!(is_due_soon_or_overdue(due, day(2027, 1, 6)) && !is_due_soon_or_overdue(due, day(2027, 1, 5)));
    }
}
