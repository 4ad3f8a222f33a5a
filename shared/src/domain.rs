//! Domain vocabulary: the values stored as text in the database, ids and time.

use chrono::{NaiveDateTime, SubsecRound, Utc};

/// A new random id (UUID v4 as text, the portable id type of the schema).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The current UTC time at microsecond precision (what PostgreSQL keeps), so a
/// value reads back equal on both backends.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// The calendar date of a UTC time in the firm's time zone (UTC when the zone is unknown).
pub fn local_date(time_zone: &str, at: NaiveDateTime) -> chrono::NaiveDate {
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => at.and_utc().with_timezone(&tz).date_naive(),
        Err(_) => at.date(),
    }
}

/// The first moment (UTC) of calendar day `day` in the firm's time zone (UTC
/// when the zone is unknown): local midnight, or where a clock change skips
/// midnight, the first local time after the gap. A UTC time falls on `day` or
/// later in that zone exactly when it is at or after this moment.
pub fn day_start_utc(time_zone: &str, day: chrono::NaiveDate) -> NaiveDateTime {
    use chrono::TimeZone;
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    let Ok(tz) = time_zone.parse::<chrono_tz::Tz>() else { return midnight };
    // Gaps are at most a few hours; step through one a quarter of an hour at a time.
    (0..=16)
        .map(|quarter| midnight + chrono::Duration::minutes(15 * quarter))
        .find_map(|local| tz.from_local_datetime(&local).earliest())
        .map_or(midnight, |first| first.naive_utc())
}

/// The wall-clock time of a UTC time in the firm's time zone (UTC when the zone is unknown).
pub fn local_time(time_zone: &str, at: NaiveDateTime) -> NaiveDateTime {
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => at.and_utc().with_timezone(&tz).naive_local(),
        Err(_) => at,
    }
}

/// Generates an enum stored as text: `as_str`/`parse`, `Display`, serde, and
/// diesel's `ToSql`/`FromSql<Text>` on every backend (SQLite, PostgreSQL and
/// the two-backend [`crate::db::DbConnection`]), so a model field holds the
/// enum itself. Stored text that is not one of the values fails the read
/// instead of falling back to a default.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value for stored text, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                Self::parse(&text).ok_or_else(|| {
                    format!("\"{text}\" is not a {} value", stringify!($name)).into()
                })
            }
        }
    };
}

text_enum!(
    /// What a user is to the firm.
    Role {
        /// A client of the firm: signs in without a password.
        Client => "client",
        /// Staff who run matters.
        CaseManager => "case_manager",
        /// Staff who also manage the firm's settings and staff.
        Admin => "admin",
    }
);

impl Role {
    /// Staff sign in with password and TOTP; clients with an emailed link.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Client)
    }
}

/// A language Matterline speaks to clients: the BCP 47 tag of a loaded locale
/// (`en`, `es`, or a `locales/<tag>/` folder an operator added under
/// `MATTERLINE_ASSETS_DIR`, see [`crate::i18n::Locales::load`]). Cheap to copy:
/// the tag is interned for the life of the process. Stored as its tag; a
/// stored tag this process has not loaded reads as English (logged), so a
/// removed locale folder never breaks a page.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Language(&'static str);

/// The tags of every loaded language: the built-in ones, then those registered at start-up.
static LOADED: std::sync::LazyLock<std::sync::RwLock<Vec<&'static str>>> =
    std::sync::LazyLock::new(|| std::sync::RwLock::new(Language::BUILT_IN.iter().map(|l| l.0).collect()));

impl Language {
    /// English: the language every missing text falls back to.
    pub const EN: Language = Language("en");
    /// Spanish.
    pub const ES: Language = Language("es");
    /// The languages shipped in the binary (complete, checked by the tests).
    pub const BUILT_IN: [Language; 2] = [Language::EN, Language::ES];

    /// The tag stored in the database, e.g. `en` or `pt-BR`.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The loaded language tagged `text` (in any case: `pt-br` finds `pt-BR`),
    /// or `None` when no such language is loaded.
    pub fn parse(text: &str) -> Option<Self> {
        let loaded = LOADED.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tag) = loaded.iter().find(|tag| **tag == text) {
            return Some(Language(tag));
        }
        let canonical = canonical_tag(text)?;
        loaded.iter().find(|tag| **tag == canonical).map(|tag| Language(tag))
    }

    /// Makes `tag` a loaded language of this process (again: the same value).
    /// An error when `tag` is no BCP 47 language tag in its canonical form
    /// (`pt-BR`, not `pt_br`), so a folder's name is the tag stored for it.
    pub fn register(tag: &str) -> Result<Self, String> {
        if canonical_tag(tag).as_deref() != Some(tag) {
            return Err(format!("\"{tag}\" is not a language tag such as fr or pt-BR"));
        }
        let mut loaded = LOADED.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(found) = loaded.iter().find(|t| **t == tag) {
            return Ok(Language(found));
        }
        // Leaked once per language and process: a handful of short strings at start-up.
        let interned: &'static str = Box::leak(tag.to_owned().into_boxed_str());
        loaded.push(interned);
        Ok(Language(interned))
    }

    /// Every language loaded in this process: the built-in ones, then the others by tag.
    pub fn loaded() -> Vec<Language> {
        let loaded = LOADED.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all: Vec<Language> = loaded.iter().map(|tag| Language(tag)).collect();
        all.sort_by_key(|l| (!Language::BUILT_IN.contains(l), l.0));
        all
    }

    /// The loaded tags as one readable list, e.g. "en, es, fr" (for error messages).
    pub fn loaded_list() -> String {
        Language::loaded().iter().map(|l| l.0).collect::<Vec<_>>().join(", ")
    }

    /// The language stored as `text`: English (with a warning) when it is not loaded.
    pub fn stored(text: &str) -> Self {
        Language::parse(text).unwrap_or_else(|| {
            tracing::warn!(language = text, "a stored language is not loaded; English is used");
            Language::EN
        })
    }
}

/// `text` as a canonical BCP 47 language tag (`pt-br` → `pt-BR`), if it is one
/// with a language subtag (not `und`).
fn canonical_tag(text: &str) -> Option<String> {
    let id: unic_langid::LanguageIdentifier = text.trim().parse().ok()?;
    (!id.language.is_empty()).then(|| id.to_string())
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl serde::Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        Language::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("\"{text}\" is not a loaded language ({})", Language::loaded_list()))
        })
    }
}

impl utoipa::PartialSchema for Language {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A BCP 47 language tag of a loaded language: `en`, `es`, or one the firm added."))
            .examples(["es"])
            .into()
    }
}

impl utoipa::ToSchema for Language {}

impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for Language
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
        <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.0, out)
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for Language
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
        Ok(Language::stored(&text))
    }
}

text_enum!(
    /// What happened on a matter.
    MilestoneKind {
        /// The matter moved to another phase.
        PhaseChange => "phase_change",
        /// An appointment (medical, deposition, meeting).
        Appointment => "appointment",
        /// A note written for the client.
        ClientNote => "client_note",
        /// A note for staff only.
        InternalNote => "internal_note",
        /// A document arrived.
        DocumentReceived => "document_received",
        /// The firm asked for a document.
        RequestOpened => "request_opened",
        /// A document request was fulfilled.
        RequestFulfilled => "request_fulfilled",
    }
);

text_enum!(
    /// The state of a document request.
    RequestStatus {
        /// Still needed from the client.
        Open => "open",
        /// An upload fulfilled it.
        Fulfilled => "fulfilled",
        /// The firm no longer needs it.
        Cancelled => "cancelled",
    }
);

text_enum!(
    /// When a document request counts as fulfilled.
    FulfilOn {
        /// The client's first upload for it fulfils it (one file).
        FirstUpload => "first_upload",
        /// It stays open through uploads until staff mark it complete (several files).
        Staff => "staff",
    }
);

text_enum!(
    /// What kind of paper a document is.
    DocumentCategory {
        /// A bill from a doctor, hospital or pharmacy.
        MedicalBill => "medical_bill",
        /// Medical records and reports.
        MedicalRecord => "medical_record",
        /// Photos of injuries, vehicles or the scene.
        Photo => "photo",
        /// A police or accident report.
        PoliceReport => "police_report",
        /// A letter from an insurance company.
        InsuranceLetter => "insurance_letter",
        /// Pay stubs or an employer's letter.
        WageProof => "wage_proof",
        /// Anything else.
        Other => "other",
    }
);

text_enum!(
    /// Where a notification stands.
    NotificationStatus {
        /// Waiting to be sent (first try or a retry).
        Pending => "pending",
        /// Claimed by a worker, whose lease ends at `claimed_until`.
        Sending => "sending",
        /// Accepted by the mail server.
        Sent => "sent",
        /// Given up: a permanent error, or too many temporary ones.
        Failed => "failed",
        /// Deliberately not sent (e.g. no activity and the firm turned such updates off).
        Skipped => "skipped",
    }
);

text_enum!(
    /// What a message on a matter's conversation is.
    MessageKind {
        /// Written by a client of the matter.
        Client => "client",
        /// A staff member's reply, read by the matter's clients.
        Reply => "reply",
        /// A staff note: staff only, never on a client's page, the client API or an email.
        Note => "note",
        /// Staff marked the client's messages as needing no reply: staff only.
        Handled => "handled",
    }
);

impl MessageKind {
    /// The kinds a client sees: their own messages and the firm's replies.
    pub const CLIENT_VISIBLE: &'static [MessageKind] = &[MessageKind::Client, MessageKind::Reply];
}

text_enum!(
    /// What a notification is.
    NotificationKind {
        /// The weekly update, one per client and ISO week.
        WeeklyUpdate => "weekly_update",
        /// A sign-in link and code.
        SignIn => "sign_in",
        /// "We received your documents".
        UploadReceipt => "upload_receipt",
        /// "Your case moved to a new step", one per client of the matter.
        PhaseChange => "phase_change",
        /// "You have a new message from the firm", one per client and reply, held 5 minutes.
        MessageReply => "message_reply",
        /// New client messages on a matter, to its case manager (else the admins), one per 15 minutes.
        ClientMessages => "client_messages",
        /// Documents due soon or overdue, one email per client and firm-local day listing them all.
        RequestReminder => "request_reminder",
        /// An appointment scheduled, changed or cancelled, with its `.ics`, one per client and change.
        Appointment => "appointment",
        /// "Your appointment is tomorrow", one per client, appointment and start time.
        AppointmentReminder => "appointment_reminder",
        /// "The firm needs a document from you": a push when staff open a document request.
        DocumentRequest => "document_request",
    }
);

text_enum!(
    /// How a notification reaches its recipient.
    Channel {
        /// An email (SMTP, or the dev mail folder in embedded mode).
        Email => "email",
        /// A web push notification (RFC 8030/8291/8292) to each browser the client turned them on in.
        Push => "push",
        /// A text message (SMS) through a Twilio-compatible API, to a client who opted in.
        Sms => "sms",
    }
);

text_enum!(
    /// Who put a document on a matter.
    DocumentSource {
        /// The client uploaded it.
        Client => "client",
        /// The firm shared it with the client.
        Firm => "firm",
    }
);

text_enum!(
    /// Who acted, as the audit log records it.
    ActorKind {
        /// A signed-in client.
        Client => "client",
        /// A signed-in staff member.
        Staff => "staff",
        /// Someone not signed in.
        Anonymous => "anonymous",
        /// Matterline itself (the notifier, an import).
        System => "system",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_local_midnight_or_after_a_gap_over_it() {
        use chrono::Datelike;
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        // New York in winter is UTC−5: midnight there is 05:00 UTC.
        assert_eq!(
            day_start_utc("America/New_York", day(2026, 12, 6)),
            day(2026, 12, 6).and_hms_opt(5, 0, 0).expect("a time")
        );
        assert_eq!(
            day_start_utc("Nowhere/Unknown", day(2026, 12, 6)),
            day(2026, 12, 6).and_hms_opt(0, 0, 0).expect("a time")
        );
        // Santiago and Havana move their clocks forward at midnight: whichever
        // day it is, the first moment falls on that day, and a minute before on the one before.
        for zone in ["America/Santiago", "America/Havana", "Europe/Madrid", "Asia/Kolkata"] {
            let mut d = day(2026, 1, 1);
            while d.year() == 2026 {
                let first = day_start_utc(zone, d);
                assert_eq!(local_date(zone, first), d, "{zone} {d}");
                assert_eq!(
                    local_date(zone, first - chrono::Duration::minutes(1)),
                    d.pred_opt().expect("a day"),
                    "{zone} {d}"
                );
                d = d.succ_opt().expect("a day");
            }
        }
    }

    #[test]
    fn stored_text_round_trips_for_every_value() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        for k in MilestoneKind::ALL {
            assert_eq!(MilestoneKind::parse(k.as_str()), Some(*k));
        }
        for c in DocumentCategory::ALL {
            assert_eq!(DocumentCategory::parse(c.as_str()), Some(*c));
        }
        assert_eq!(Language::parse("zz"), None);
        assert_eq!(Language::stored("zz"), Language::EN);
        assert_eq!(Language::parse(" es "), Some(Language::ES));
        assert!(Role::Admin.is_staff() && !Role::Client.is_staff());
    }
}
