//! Row types, one per table. Roles, kinds, statuses and sources are the
//! enums of [`crate::domain`], stored as text.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;
use crate::domain::{
    ActorKind, Channel, DocumentCategory, DocumentSource, FulfilOn, Language, MessageKind, MilestoneKind,
    NotificationKind, NotificationStatus, RequestStatus, Role,
};

/// A law firm running Matterline.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable, AsChangeset)]
#[diesel(table_name = firms)]
pub struct Firm {
    pub id: String,
    pub name: String,
    /// IANA time zone, e.g. `America/Chicago`: the weekly schedule runs in it.
    pub time_zone: String,
    /// Sender for this firm's emails; the configured default when `None`.
    pub mail_from: Option<String>,
    pub phone: Option<String>,
    /// Cron expression overriding the configured weekly schedule.
    pub weekly_schedule: Option<String>,
    /// Send a "no change this week" update when nothing happened.
    pub no_activity_updates: bool,
    pub created_at: NaiveDateTime,
    /// Clients may still upload documents to a matter once it is closed.
    pub closed_matter_uploads: bool,
    /// Accent colour `#rrggbb` for pages and emails; the built-in one when `None`.
    pub accent_colour: Option<String>,
    /// Client emails carry Reply-To the matter's case manager.
    pub reply_to_case_manager: bool,
    /// Host name that signed-out pages answer for (several firms on one portal).
    pub public_host: Option<String>,
    /// The client's "new message" email carries the reply's text (else only that there is one).
    pub message_text_in_email: bool,
    /// Client emails carry a one-tap sign-in link (else a link to the sign-in page).
    pub one_tap_sign_in: bool,
    /// Days without a logged visit, in a treatment phase, before a matter is flagged.
    pub treatment_gap_days: i32,
    /// Texts go out from this firm-local hour on (0 to 23; 9 by default).
    pub sms_from_hour: i32,
    /// Texts go out until this firm-local hour (1 to 24; 20 by default).
    pub sms_until_hour: i32,
}

/// A firm's logo (`firm_logos`), read only when the picture itself is served.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = firm_logos)]
pub struct FirmLogo {
    pub firm_id: String,
    /// `image/png`, `image/jpeg` or `image/webp`, from the bytes themselves.
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// Hex digest of the bytes; names the version in the logo's URL.
    pub digest: String,
    pub updated_at: NaiveDateTime,
}

/// A client or a staff member of one firm.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub firm_id: String,
    pub role: Role,
    /// Lower-case email address.
    pub email: String,
    pub full_name: String,
    pub phone: Option<String>,
    /// Preferred language.
    pub language: Language,
    pub weekly_updates: bool,
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted: a code is good once.
    pub totp_last_step: Option<i64>,
    pub failed_sign_ins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    /// A new user of `firm_id` with no password, weekly updates on, created at `now`.
    pub fn new(
        firm_id: &str,
        role: Role,
        email: &str,
        full_name: &str,
        language: Language,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id: crate::domain::new_id(),
            firm_id: firm_id.to_owned(),
            role,
            email: email.trim().to_lowercase(),
            full_name: full_name.to_owned(),
            phone: None,
            language,
            weekly_updates: true,
            password_hash: None,
            totp_secret: None,
            totp_last_step: None,
            failed_sign_ins: 0,
            locked_until: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A phase of a practice area's catalogue, per firm.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = phases)]
pub struct Phase {
    pub id: String,
    pub firm_id: String,
    pub practice_area: String,
    /// Stable key, e.g. `medical_treatment`.
    pub key: String,
    /// Order within the practice area, from 1.
    pub position: i32,
    /// The client is being treated in this phase: gaps in treatment are flagged.
    pub treatment: bool,
}

/// A phase's plain-language texts in one language.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = phase_texts)]
pub struct PhaseText {
    pub phase_id: String,
    pub language: Language,
    pub title: String,
    pub what_it_means: String,
    pub what_happens_next: String,
}

/// One case.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = matters)]
pub struct Matter {
    pub id: String,
    pub firm_id: String,
    pub practice_area: String,
    pub phase_id: String,
    pub title: String,
    pub case_manager_id: Option<String>,
    /// Id in the firm's case-management system, for idempotent imports.
    pub external_id: Option<String>,
    pub opened_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// A client of a matter (a matter may have several).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = matter_clients)]
pub struct MatterClient {
    pub matter_id: String,
    pub client_id: String,
}

/// An event on a matter; the weekly update is derived from these.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = milestones)]
pub struct Milestone {
    pub id: String,
    pub matter_id: String,
    pub kind: MilestoneKind,
    pub client_visible: bool,
    /// The new phase, for a phase change.
    pub phase_id: Option<String>,
    /// Text for the client (or internal note).
    pub body: Option<String>,
    /// When an appointment takes place.
    pub occurs_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// "We need your bills from Dr. X": open until an upload fulfils it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = document_requests)]
pub struct DocumentRequest {
    pub id: String,
    pub matter_id: String,
    pub title: String,
    pub details: Option<String>,
    pub category: DocumentCategory,
    pub status: RequestStatus,
    pub requested_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    /// The day it is due, in the firm's time zone; reminders follow it.
    pub due_date: Option<chrono::NaiveDate>,
    /// Fulfilled by the client's first upload, or only when staff mark it complete.
    pub fulfil_on: FulfilOn,
}

/// A stored document: the bytes live in storage under `object_key`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = documents)]
pub struct Document {
    pub id: String,
    pub matter_id: String,
    pub request_id: Option<String>,
    pub object_key: String,
    /// The uploader's file name, sanitised, for display only.
    pub original_name: String,
    /// Sniffed from the bytes, never taken from the client.
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub category: DocumentCategory,
    pub source: DocumentSource,
    pub uploaded_by: Option<String>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub reviewed_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// One notification: a notice of some kind to one recipient over one channel,
/// queued with the change that caused it and delivered by [`crate::notifications`].
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, Identifiable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: String,
    pub firm_id: String,
    pub recipient_id: String,
    pub kind: NotificationKind,
    /// E.g. `2026-W48` for a weekly update, the row's own id for a one-off notice:
    /// unique with recipient, kind and channel.
    pub period_key: String,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub claimed_by: Option<String>,
    pub last_error: Option<String>,
    pub payload: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub channel: Channel,
}

impl Notification {
    /// A new pending row, due at `now`.
    pub fn pending(
        firm_id: &str,
        recipient_id: &str,
        kind: NotificationKind,
        channel: Channel,
        period_key: &str,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id: crate::domain::new_id(),
            firm_id: firm_id.to_owned(),
            recipient_id: recipient_id.to_owned(),
            kind,
            period_key: period_key.to_owned(),
            status: NotificationStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            claimed_until: None,
            claimed_by: None,
            last_error: None,
            payload: None,
            sent_at: None,
            created_at: now,
            channel,
        }
    }
}

/// An audit record as stored (append-only, hash-chained).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub firm_id: Option<String>,
    pub actor_id: Option<String>,
    pub actor_kind: ActorKind,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub created_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

/// A device session behind a session cookie or bearer token.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A mailed sign-in link and code: single use, short-lived.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = sign_in_tokens)]
pub struct SignInToken {
    pub id: String,
    pub user_id: String,
    /// SHA-256 of the 6-digit code (with the token id as salt).
    pub code_hash: String,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// A client's 1–5 answer to "how are we doing?".
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = ratings)]
pub struct Rating {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    /// The weekly update whose link was followed.
    pub notification_id: Option<String>,
    pub score: i32,
    pub created_at: NaiveDateTime,
}

/// One counted attempt against a rate limit (sign-ins per address, per IP…).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = rate_limit_hits)]
pub struct RateLimitHit {
    pub id: String,
    /// What is limited: a kind and a hash of the value (`rate_limit::bucket`), never the address itself.
    pub bucket: String,
    pub created_at: NaiveDateTime,
}

/// A leftover in storage (an object or an unfinished multipart upload) that
/// the cleanup sweep still has to remove.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = storage_cleanup)]
pub struct StorageCleanup {
    pub id: String,
    pub object_key: String,
    pub upload_id: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A staff member's saved view of the matters table: its filter and sort as a query string.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = saved_filters)]
pub struct SavedFilter {
    pub id: String,
    pub firm_id: String,
    pub user_id: String,
    pub name: String,
    /// Whitelisted parameters only (`phase=…&sort=…`), never free text from the URL as is.
    pub query: String,
    pub created_at: NaiveDateTime,
}

/// A short link in an email's plain-text part (`/l/{code}`): the SHA-256 of
/// its code, the portal path it leads to and when it stops working.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = short_links)]
// No DEFAULT in the VALUES: SQLite then inserts many rows in one statement, not one each.
#[diesel(treat_none_as_default_value = false)]
pub struct ShortLink {
    /// Hex SHA-256 of the code; the code itself is only in the email.
    pub code_hash: String,
    /// Path and query on the portal, starting with `/`.
    pub target: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// A message on a matter's conversation: from a client, a staff reply, or
/// (never shown to a client) a staff note or a "handled" mark.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: String,
    pub firm_id: String,
    pub matter_id: String,
    /// Who wrote it; `None` once their account is gone.
    pub author_id: Option<String>,
    pub kind: MessageKind,
    /// The text as written (trimmed; empty for a "handled" mark or a message of files only).
    pub body: String,
    pub created_at: NaiveDateTime,
    /// When the other side first opened it.
    pub read_at: Option<NaiveDateTime>,
    /// On a client's message: when a reply or "handled" came after it.
    pub answered_at: Option<NaiveDateTime>,
}

/// A document sent with a message.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = message_attachments)]
pub struct MessageAttachment {
    pub message_id: String,
    pub document_id: String,
}

/// A firm's ready-made document request in one language ("Police report").
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = request_templates)]
pub struct RequestTemplate {
    pub firm_id: String,
    /// Stable key, the same in every language, e.g. `police_report`.
    pub key: String,
    pub language: Language,
    /// Order in the list, from 1.
    pub position: i32,
    pub category: DocumentCategory,
    pub title: String,
    pub details: Option<String>,
}

/// A one-tap link of a client email (`one_tap_links`): it signs the client in
/// once, within its lifetime. Only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = one_tap_links)]
// No DEFAULT in the VALUES: SQLite then inserts many rows in one statement, not one each.
#[diesel(treat_none_as_default_value = false)]
pub struct OneTapLink {
    pub id: String,
    /// Hex SHA-256 of the secret; the secret itself is only in the email.
    pub secret_hash: String,
    /// The email (notification row) that carries the link.
    pub notification_id: String,
    /// The client it signs in.
    pub user_id: String,
    /// The path to land on once signed in.
    pub target: String,
    pub created_at: NaiveDateTime,
    /// When it stops working (7 days, or the moment the client signed out everywhere).
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// A medical provider of a matter's client, in the treatment log.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = treatment_providers)]
pub struct TreatmentProvider {
    pub id: String,
    pub firm_id: String,
    pub matter_id: String,
    pub name: String,
    pub kind: crate::treatment::ProviderKind,
    pub phone: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A visit to a provider (or an upcoming one the client told of).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = treatment_visits)]
pub struct TreatmentVisit {
    pub id: String,
    pub matter_id: String,
    pub provider_id: String,
    /// The day of the visit (the firm's calendar).
    pub visit_on: chrono::NaiveDate,
    pub status: crate::treatment::VisitStatus,
    pub note: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// An appointment the firm scheduled for a matter's clients; its id is the
/// calendar event's UID.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = appointments)]
pub struct Appointment {
    pub id: String,
    pub firm_id: String,
    pub matter_id: String,
    pub kind: crate::appointments::AppointmentKind,
    /// UTC.
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub place: String,
    /// What to bring.
    pub bring: Option<String>,
    /// iCalendar SEQUENCE: one more on each change and on the cancellation.
    pub sequence: i32,
    pub cancelled_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A browser (device) a client turned push notifications on in: where its
/// push service takes messages for it, and its keys for RFC 8291 encryption.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = push_subscriptions)]
pub struct PushSubscription {
    pub id: String,
    pub user_id: String,
    /// The push service's URL for this browser.
    pub endpoint: String,
    /// The browser's P-256 public key, base64url (uncompressed point).
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url.
    pub auth: String,
    /// The browser as it named itself when subscribing (for the client's list of devices).
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    /// When a push service last accepted a message for it.
    pub last_success_at: Option<NaiveDateTime>,
}

/// A client's consent to text messages: their mobile number (E.164), when and
/// how they opted in, and when they opted out. A text goes out only while
/// `opted_in_at` is set and `opted_out_at` is not.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = sms_consents, primary_key(user_id))]
pub struct SmsConsent {
    pub user_id: String,
    /// The mobile number, E.164 (`+15551234567`).
    pub number: String,
    /// When the client opted in (None: never, or not since the number changed).
    pub opted_in_at: Option<NaiveDateTime>,
    /// How: `client` (their Notifications page), `staff` (on the client's word), `keyword` (texted START).
    pub opt_in_source: Option<String>,
    /// When the client opted out (STOP, or the provider said they unsubscribed).
    pub opted_out_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// The provider's id of a text sent for a notification row, and its latest reported status.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = sms_messages, primary_key(notification_id))]
pub struct SmsMessage {
    pub notification_id: String,
    /// The provider's `MessageSid`.
    pub message_sid: String,
    /// `queued`/`accepted` when sent; then what status callbacks said (`delivered`, `undelivered`, `failed`).
    pub status: String,
    /// The provider's error code with an undelivered or failed status.
    pub error_code: Option<String>,
    pub updated_at: NaiveDateTime,
}
