//! The text message channel: short notices to clients who opted in to texts,
//! through the HTTP API Twilio defined (and other providers offer):
//! `POST {MATTERLINE_SMS_URL}/2010-04-01/Accounts/{sid}/Messages.json`,
//! form-encoded `To`, `From` or `MessagingServiceSid`, `Body`,
//! `StatusCallback`, with basic auth (account SID, auth token).
//!
//! - **Consent** (`sms_consents`): a client's mobile number in E.164 and an
//!   explicit opt-in with its time and source (the client's page, staff on the
//!   client's word, or START by text); STOP (or the provider's 21610
//!   "unsubscribed") records the opt-out. No row is queued without consent,
//!   and consent is checked again when the row is composed and sent.
//! - **Quiet hours**: a text goes out only between the firm's
//!   `sms_from_hour` and `sms_until_hour`, firm-local; a row that comes due
//!   outside them is held to the next opening ([`hold_until`]), not failed.
//! - **Length**: at most [`MAX_SEGMENTS`] segments, counted as GSM-7 (with the
//!   extension table's characters as two) or, when any character is outside
//!   it, UCS-2 ([`segments`]); [`fit`] shortens the text, never the link.
//! - **Answers**: 2xx sent (the provider's `sid` is kept in `sms_messages` for
//!   its status callbacks); 429 and 5xx retried with the queue's backoff; any
//!   other 4xx fails the row with the provider's code and message (21610 also
//!   records the client's opt-out).
//! - **Webhooks** (`/webhooks/sms`, `/webhooks/sms/status`) are signed by the
//!   provider: `X-Twilio-Signature` is the base64 HMAC-SHA1, keyed by the auth
//!   token, of the full public URL followed by each POST parameter's name and
//!   value, sorted by name ([`signature`], [`verify`]).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{NaiveDateTime, TimeZone};
use diesel::prelude::*;
use serde::Deserialize;

use super::channel::DeliveryError;
use crate::config::{Config, Secret};
use crate::db::models::{SmsConsent, SmsMessage};
use crate::db::schema::{notifications, sms_consents, sms_messages};
use crate::db::{Db, DbConnection};
use crate::domain::NotificationStatus;
use crate::error::{Error, Result};

/// The most segments a text may take.
pub const MAX_SEGMENTS: usize = 2;

/// The path of the inbound webhook (the provider's "a message comes in" URL).
pub const INBOUND_PATH: &str = "/webhooks/sms";
/// The path of the status callback webhook.
pub const STATUS_PATH: &str = "/webhooks/sms/status";

/// How a client opted in.
pub mod source {
    /// On their Notifications page.
    pub const CLIENT: &str = "client";
    /// Staff recorded it on the client's word.
    pub const STAFF: &str = "staff";
    /// The client texted START (or a synonym).
    pub const KEYWORD: &str = "keyword";
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/// `input` as an E.164 mobile number (`+12015550123`), checked against
/// libphonenumber's metadata; a number without `+` is read as a US number.
pub fn parse_number(field: &'static str, input: &str) -> Result<String> {
    let input = input.trim();
    let parsed = phonenumber::parse(Some(phonenumber::country::Id::US), input).map_err(|_| {
        Error::invalid(field, "is not a phone number; write it with its country code, e.g. +1 201 555 0123")
    })?;
    if !phonenumber::is_valid(&parsed) {
        return Err(Error::invalid(
            field,
            "is not a valid phone number; write it with its country code, e.g. +1 201 555 0123",
        ));
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

// ---------------------------------------------------------------------------
// Length: GSM-7 or UCS-2 segments
// ---------------------------------------------------------------------------

/// The GSM 03.38 basic character set (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM 03.38 extension table (an escape and the character: two septets each).
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// How a text is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GSM 03.38, 7 bits a character: 160 a text, 153 a segment of a longer one.
    Gsm7,
    /// UCS-2 (UTF-16 code units): 70 a text, 67 a segment of a longer one.
    Ucs2,
}

/// The septets `text` takes in GSM-7, or `None` when a character is outside it.
fn gsm_septets(text: &str) -> Option<usize> {
    text.chars().try_fold(0usize, |n, c| {
        if GSM_BASIC.contains(c) {
            Some(n + 1)
        } else if GSM_EXTENSION.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

/// The encoding `text` is sent in and how many segments it takes.
pub fn segments(text: &str) -> (Encoding, usize) {
    let (encoding, units, single, each) = match gsm_septets(text) {
        Some(septets) => (Encoding::Gsm7, septets, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let count = if units <= single { 1 } else { units.div_ceil(each) };
    (encoding, count)
}

/// `text` and then `link` (after a space), with `text` cut short (ending in
/// `…`) as far as needed for the whole to take at most [`MAX_SEGMENTS`].
pub fn fit(text: &str, link: &str) -> String {
    let join = |t: &str| if link.is_empty() { t.to_owned() } else { format!("{t} {link}") };
    let whole = join(text.trim());
    if segments(&whole).1 <= MAX_SEGMENTS {
        return whole;
    }
    let chars: Vec<char> = text.trim().chars().collect();
    let mut keep = chars.len();
    while keep > 0 {
        keep -= 1;
        let cut: String = chars[..keep].iter().collect();
        let candidate = join(&format!("{}…", cut.trim_end()));
        if segments(&candidate).1 <= MAX_SEGMENTS {
            return candidate;
        }
    }
    join("")
}

// ---------------------------------------------------------------------------
// Quiet hours
// ---------------------------------------------------------------------------

/// When a text due at `now` (UTC) may go out, if not now: the next
/// `from_hour`:00 in `time_zone` when `now` is outside `from_hour`..`until_hour` there.
pub fn hold_until(time_zone: &str, from_hour: i32, until_hour: i32, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let zone: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local = zone.from_utc_datetime(&now).naive_local();
    let hour = i32::try_from(chrono::Timelike::hour(&local)).unwrap_or(0);
    let (from, until) = (from_hour.clamp(0, 23), until_hour.clamp(1, 24));
    if from < until && hour >= from && hour < until {
        return None;
    }
    let from_u32 = u32::try_from(from).unwrap_or(9);
    let today = local.date().and_hms_opt(from_u32, 0, 0)?;
    let next_local = if hour < from { today } else { today + chrono::Duration::days(1) };
    // The first instant at or after that local time (a gap in a DST change moves it on).
    let next = (0..4)
        .map(|h| next_local + chrono::Duration::hours(h))
        .find_map(|t| zone.from_local_datetime(&t).earliest())?;
    Some(next.naive_utc())
}

// ---------------------------------------------------------------------------
// Webhook signatures
// ---------------------------------------------------------------------------

/// The data a webhook's signature covers: the full URL, then each parameter's
/// name and value, sorted by name (then value).
fn signed_data(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_owned();
    for (name, value) in sorted {
        data.push_str(name);
        data.push_str(value);
    }
    data
}

/// The `X-Twilio-Signature` of a POST of `params` to `url`, keyed by `token`.
pub fn signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, token.as_bytes());
    STANDARD.encode(ring::hmac::sign(&key, signed_data(url, params).as_bytes()).as_ref())
}

/// Whether `header` is the signature of a POST of `params` to `url` with
/// `token` (compared in constant time).
pub fn verify(token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    let Ok(tag) = STANDARD.decode(header.trim()) else { return false };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, token.as_bytes());
    ring::hmac::verify(&key, signed_data(url, params).as_bytes(), &tag).is_ok()
}

// ---------------------------------------------------------------------------
// Keywords
// ---------------------------------------------------------------------------

/// A keyword carriers require a sender to honour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// Stop every text (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT; PARAR, DETENER, CANCELAR).
    Stop,
    /// Texts again (START, YES, UNSTOP; COMENZAR, INICIAR, SI).
    Start,
    /// Who is texting and how to stop (HELP, INFO; AYUDA).
    Help,
}

/// The keyword `body` is (alone, any case, trailing punctuation ignored), if any.
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body.trim().trim_end_matches(['.', '!', '?']).trim().to_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "PARAR" | "DETENER" | "CANCELAR" => {
            Some(Keyword::Stop)
        }
        "START" | "YES" | "UNSTOP" | "COMENZAR" | "INICIAR" | "SI" | "SÍ" => Some(Keyword::Start),
        "HELP" | "INFO" | "AYUDA" => Some(Keyword::Help),
        _ => None,
    }
}

/// A TwiML answer: `text` as one message back, or nothing.
pub fn twiml(text: Option<&str>) -> String {
    match text {
        Some(text) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
            xml_escape(text)
        ),
        None => "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>".to_owned(),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

// ---------------------------------------------------------------------------
// Consent
// ---------------------------------------------------------------------------

/// Whether `consent` allows texts now.
pub fn allows(consent: &SmsConsent) -> bool {
    consent.opted_in_at.is_some() && consent.opted_out_at.is_none()
}

/// The consent record of `user_id`, if they gave a number.
pub fn consent_of(conn: &mut DbConnection, user_id: &str) -> Result<Option<SmsConsent>> {
    Ok(sms_consents::table.find(user_id).select(SmsConsent::as_select()).first(conn).optional()?)
}

/// Those of `users` who opted in to texts and did not opt out (who get text rows).
pub fn consented(conn: &mut DbConnection, users: &[String]) -> Result<Vec<String>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<String> = sms_consents::table
        .filter(sms_consents::user_id.eq_any(users))
        .filter(sms_consents::opted_in_at.is_not_null())
        .filter(sms_consents::opted_out_at.is_null())
        .select(sms_consents::user_id)
        .load(conn)?;
    found.sort_unstable();
    Ok(found)
}

/// Those of `users` who get texts, when texts are configured at all (else nobody).
pub fn recipients(conn: &mut DbConnection, enabled: bool, users: &[String]) -> Result<Vec<String>> {
    if enabled { consented(conn, users) } else { Ok(Vec::new()) }
}

/// Records `user_id`'s number and choice at `now`: `number` `None` forgets
/// both; a new number needs a new opt-in; `opt_in` with the same number opts
/// in (from `source`) or, when false, records an opt-out.
pub fn set_consent(
    conn: &mut DbConnection,
    user_id: &str,
    number: Option<&str>,
    opt_in: bool,
    source: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let Some(number) = number else {
        diesel::delete(sms_consents::table.find(user_id)).execute(conn)?;
        return Ok(());
    };
    let existing = consent_of(conn, user_id)?;
    let same = existing.as_ref().is_some_and(|c| c.number == number);
    let mut row = match existing {
        Some(c) if same => c,
        _ => SmsConsent {
            user_id: user_id.to_owned(),
            number: number.to_owned(),
            opted_in_at: None,
            opt_in_source: None,
            opted_out_at: None,
            updated_at: now,
        },
    };
    if opt_in && !allows(&row) {
        row.opted_in_at = Some(now);
        row.opt_in_source = Some(source.to_owned());
        row.opted_out_at = None;
    } else if !opt_in && allows(&row) {
        row.opted_out_at = Some(now);
    }
    row.updated_at = now;
    diesel::delete(sms_consents::table.find(user_id)).execute(conn)?;
    diesel::insert_into(sms_consents::table).values(&row).execute(conn)?;
    Ok(())
}

/// The users who gave `number`.
pub fn users_of_number(conn: &mut DbConnection, number: &str) -> Result<Vec<SmsConsent>> {
    Ok(sms_consents::table.filter(sms_consents::number.eq(number)).select(SmsConsent::as_select()).load(conn)?)
}

/// Records an opt-out at `now` for every client who gave `number` (STOP); returns how many.
pub fn opt_out_number(conn: &mut DbConnection, number: &str, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::update(
        sms_consents::table.filter(sms_consents::number.eq(number)).filter(sms_consents::opted_out_at.is_null()),
    )
    .set((sms_consents::opted_out_at.eq(now), sms_consents::updated_at.eq(now)))
    .execute(conn)?)
}

/// Records an opt-in by keyword at `now` for every client who gave `number` (START); returns how many.
pub fn opt_in_number(conn: &mut DbConnection, number: &str, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::update(sms_consents::table.filter(sms_consents::number.eq(number)))
        .set((
            sms_consents::opted_in_at.eq(now),
            sms_consents::opt_in_source.eq(source::KEYWORD),
            sms_consents::opted_out_at.eq(None::<NaiveDateTime>),
            sms_consents::updated_at.eq(now),
        ))
        .execute(conn)?)
}

/// Records what a status callback said of text `message_sid` at `now`: its
/// status, and for `undelivered` or `failed` the notification row fails with
/// it. False when no text of ours has that id.
pub fn record_status(
    conn: &mut DbConnection,
    message_sid: &str,
    status: &str,
    error_code: Option<&str>,
    now: NaiveDateTime,
) -> Result<bool> {
    let Some(sent) = sms_messages::table
        .filter(sms_messages::message_sid.eq(message_sid))
        .select(SmsMessage::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(false);
    };
    let status: String = status.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
    let error_code: Option<String> = error_code
        .map(|c| c.chars().filter(char::is_ascii_alphanumeric).take(20).collect())
        .filter(|c: &String| !c.is_empty());
    crate::db::write_transaction(conn, |conn| {
        diesel::update(sms_messages::table.find(&sent.notification_id))
            .set((
                sms_messages::status.eq(&status),
                sms_messages::error_code.eq(&error_code),
                sms_messages::updated_at.eq(now),
            ))
            .execute(conn)?;
        if status == "undelivered" || status == "failed" {
            let reason = match &error_code {
                Some(code) => format!("the text was {status} (provider error {code})"),
                None => format!("the text was {status}"),
            };
            diesel::update(notifications::table.find(&sent.notification_id))
                .set((notifications::status.eq(NotificationStatus::Failed), notifications::last_error.eq(reason)))
                .execute(conn)?;
        }
        Ok(())
    })?;
    Ok(true)
}

/// The latest reported status of the texts of `notification_ids`: (notification id, status).
pub fn statuses(conn: &mut DbConnection, notification_ids: &[String]) -> Result<Vec<(String, String)>> {
    if notification_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sms_messages::table
        .filter(sms_messages::notification_id.eq_any(notification_ids))
        .select((sms_messages::notification_id, sms_messages::status))
        .load(conn)?)
}

// ---------------------------------------------------------------------------
// Inbound texts
// ---------------------------------------------------------------------------

/// What became of an inbound text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A keyword: consent updated (STOP, START) or nothing (HELP).
    Keyword(Keyword),
    /// Written as a client message on this matter.
    Posted {
        /// The matter.
        matter_id: String,
        /// The new message.
        message_id: String,
    },
    /// From an unknown number, or a client with several open matters (or none): pointed to the portal.
    Pointed,
}

/// Handles a text `body` from `from` at `now`: a keyword updates the consent
/// of every client who gave the number; any other text from a client who
/// opted in, with exactly one open matter, becomes their message on it
/// (through [`crate::messages::post_by_client`], so staff hear of it as of a
/// message written on the portal). Returns what happened and the answer to
/// text back (in the client's language; `base_url` is the portal's).
pub fn receive(
    conn: &mut DbConnection,
    locales: &crate::i18n::Locales,
    base_url: &str,
    from: &str,
    body: &str,
    now: NaiveDateTime,
) -> Result<(Inbound, Option<String>)> {
    use crate::db::models::{Firm, Matter, User};
    use crate::db::schema::{firms, matter_clients, matters, users};
    let known = users_of_number(conn, from)?;
    // The client (and firm) to answer for: the one who gave the number, when just one did.
    let client: Option<User> = match known.as_slice() {
        [one] => users::table.find(&one.user_id).select(User::as_select()).first(conn).optional()?,
        _ => None,
    };
    let firm: Option<Firm> = match &client {
        Some(c) => firms::table.find(&c.firm_id).select(Firm::as_select()).first(conn).optional()?,
        None => None,
    };
    let language = client.as_ref().map_or(crate::domain::Language::EN, |c| c.language);
    let firm_name = serde_json::json!(firm.as_ref().map_or("Matterline", |f| f.name.as_str()));
    let say = |key: &str, extra: &[(&str, &serde_json::Value)]| {
        let mut pairs = vec![("firm", &firm_name)];
        pairs.extend_from_slice(extra);
        let args = crate::i18n::args_from_json(pairs);
        locales.get(language, key, Some(&args)).unwrap_or_else(|| key.to_owned())
    };
    if let Some(word) = keyword(body) {
        let answer = match word {
            Keyword::Stop => {
                let stopped = opt_out_number(conn, from, now)?;
                tracing::info!(clients = stopped, "texts stopped by keyword");
                say("sms-keyword-stop", &[])
            }
            Keyword::Start => {
                let started = opt_in_number(conn, from, now)?;
                tracing::info!(clients = started, "texts started by keyword");
                say("sms-keyword-start", &[])
            }
            Keyword::Help => {
                let contact = serde_json::json!(
                    firm.as_ref().and_then(|f| f.phone.clone()).unwrap_or_else(|| format!("{base_url}/"))
                );
                say("sms-keyword-help", &[("contact", &contact)])
            }
        };
        return Ok((Inbound::Keyword(word), Some(answer)));
    }
    let pointer = || {
        let url = serde_json::json!(format!("{base_url}/"));
        say("sms-pointer", &[("url", &url)])
    };
    let consenting = known.len() == 1 && known.iter().all(allows);
    let Some(client) = client.filter(|c| consenting && c.role == crate::domain::Role::Client) else {
        return Ok((Inbound::Pointed, Some(pointer())));
    };
    let open: Vec<Matter> = matters::table
        .inner_join(matter_clients::table.on(matter_clients::matter_id.eq(matters::id)))
        .filter(matter_clients::client_id.eq(&client.id))
        .filter(matters::closed_at.is_null())
        .select(Matter::as_select())
        .load(conn)?;
    let [matter] = open.as_slice() else {
        return Ok((Inbound::Pointed, Some(pointer())));
    };
    let message = crate::messages::post_by_client(conn, &client, matter, body, &[], None, now)?;
    crate::rate_limit::record(conn, &crate::messages::rate_bucket(&client.id), message.created_at)?;
    Ok((Inbound::Posted { matter_id: matter.id.clone(), message_id: message.id }, None))
}

// ---------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------

/// A notification composed as a text.
#[derive(Debug, Clone)]
pub struct Text {
    /// The notification row it is sent for (its provider id is kept against it).
    pub notification_id: String,
    /// The client it goes to (whose consent is checked once more before it goes).
    pub user_id: String,
    /// Their number, E.164.
    pub to: String,
    /// What it says (at most [`MAX_SEGMENTS`] segments).
    pub body: String,
}

/// The provider's answer to a sent message.
#[derive(Debug, Deserialize)]
struct Accepted {
    sid: String,
    #[serde(default)]
    status: Option<String>,
}

/// The provider's error body (`{"code": 21610, "message": "…", …}`).
#[derive(Debug, Deserialize)]
struct ProviderError {
    code: Option<i64>,
    message: Option<String>,
}

/// The provider's "recipient unsubscribed" error: the client texted STOP to the provider itself.
pub const UNSUBSCRIBED: i64 = 21610;

/// Sends texts. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SmsSender {
    http: reqwest::Client,
    account: Option<(String, Secret<String>)>,
    messages_url: String,
    sender: Option<(&'static str, String)>,
    status_callback: String,
    db: Db,
}

impl SmsSender {
    /// The sender the configuration describes (sending nothing when texts are not configured).
    pub fn from_config(config: &Config, db: Db) -> Result<Self> {
        crate::mail::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Internal(anyhow::anyhow!("the text message HTTP client: {e}")))?;
        let base = config.sms_url.as_str().trim_end_matches('/');
        let sid = config.sms_account_sid.clone().unwrap_or_default();
        let sender = match (&config.sms_messaging_service_sid, &config.sms_from) {
            (Some(service), _) => Some(("MessagingServiceSid", service.clone())),
            (None, Some(from)) => Some(("From", from.clone())),
            (None, None) => None,
        };
        let account = match (&config.sms_account_sid, &config.sms_auth_token) {
            (Some(sid), Some(token)) if config.sms_enabled() => Some((sid.clone(), token.clone())),
            _ => None,
        };
        Ok(Self {
            http,
            account,
            messages_url: format!("{base}/2010-04-01/Accounts/{sid}/Messages.json"),
            sender,
            status_callback: format!("{}{STATUS_PATH}", config.public_url.as_str().trim_end_matches('/')),
            db,
        })
    }

    /// Whether texts are configured.
    pub fn enabled(&self) -> bool {
        self.account.is_some()
    }

    /// Sends `text`, if its client still consents; keeps the provider's id.
    pub async fn send(&self, text: &Text) -> std::result::Result<(), DeliveryError> {
        let (Some((sid, token)), Some((sender_field, sender))) = (&self.account, &self.sender) else {
            return Err(DeliveryError::Permanent("text messages are not configured".to_owned()));
        };
        let user_id = text.user_id.clone();
        let consent = self.db.run(move |conn| consent_of(conn, &user_id)).await;
        match consent {
            Ok(Some(c)) if allows(&c) && c.number == text.to => {}
            Ok(_) => return Err(DeliveryError::Permanent("the client no longer consents to texts".to_owned())),
            Err(e) => return Err(DeliveryError::Transient(format!("could not check the client's consent: {e}"))),
        }
        let form = [
            ("To", text.to.as_str()),
            (*sender_field, sender.as_str()),
            ("Body", text.body.as_str()),
            ("StatusCallback", self.status_callback.as_str()),
        ];
        let sent = self.http.post(&self.messages_url).basic_auth(sid, Some(token.expose())).form(&form).send().await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Err(DeliveryError::Transient(format!("text message provider unreachable: {e}"))),
        };
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if (200..300).contains(&status) {
            let accepted: Accepted = serde_json::from_str(&body).map_err(|e| {
                DeliveryError::Permanent(format!("the provider accepted the text but its answer is unreadable: {e}"))
            })?;
            let (row, now) = (text.notification_id.clone(), crate::domain::now());
            let kept = SmsMessage {
                notification_id: row.clone(),
                message_sid: accepted.sid,
                status: accepted.status.unwrap_or_else(|| "queued".to_owned()),
                error_code: None,
                updated_at: now,
            };
            let stored = self
                .db
                .run(move |conn| {
                    diesel::delete(sms_messages::table.find(&row)).execute(conn)?;
                    diesel::insert_into(sms_messages::table).values(&kept).execute(conn)?;
                    Ok(())
                })
                .await;
            if let Err(e) = stored {
                tracing::warn!(error = %e, "could not keep the provider's id of a sent text; its status callbacks will be ignored");
            }
            return Ok(());
        }
        let words: ProviderError = serde_json::from_str(&body).unwrap_or(ProviderError { code: None, message: None });
        let message: String = words.message.unwrap_or_else(|| body.trim().to_owned()).chars().take(300).collect();
        let why = match words.code {
            Some(code) => format!("{code}: {message}"),
            None => format!("text message provider answered {status}: {message}"),
        };
        if status == 429 || status >= 500 {
            return Err(DeliveryError::Transient(why));
        }
        if words.code == Some(UNSUBSCRIBED) {
            let (user_id, now) = (text.user_id.clone(), crate::domain::now());
            let recorded = self
                .db
                .run(move |conn| {
                    Ok(diesel::update(sms_consents::table.find(&user_id).filter(sms_consents::opted_out_at.is_null()))
                        .set((sms_consents::opted_out_at.eq(now), sms_consents::updated_at.eq(now)))
                        .execute(conn)?)
                })
                .await;
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "could not record the opt-out the provider reported");
            }
        }
        Err(DeliveryError::Permanent(why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gsm_texts_take_160_then_153_a_segment() {
        assert_eq!(segments(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(307)), (Encoding::Gsm7, 3));
        // Extension characters take two septets.
        assert_eq!(segments(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"€".repeat(81)), (Encoding::Gsm7, 2));
        // Spanish letters of the basic table stay GSM-7; others switch the whole text to UCS-2.
        assert_eq!(segments("¿Dónde está mi caso?").0, Encoding::Ucs2);
        assert_eq!(segments("¿Dende esta mi caso? ñ ü é").0, Encoding::Gsm7);
    }

    #[test]
    fn ucs2_texts_take_70_then_67_a_segment() {
        assert_eq!(segments(&"á".repeat(70)), (Encoding::Ucs2, 1));
        assert_eq!(segments(&"á".repeat(71)), (Encoding::Ucs2, 2));
        assert_eq!(segments(&"á".repeat(134)), (Encoding::Ucs2, 2));
        assert_eq!(segments(&"á".repeat(135)), (Encoding::Ucs2, 3));
        // An emoji is two UTF-16 units.
        assert_eq!(segments(&"😀".repeat(35)), (Encoding::Ucs2, 1));
        assert_eq!(segments(&"😀".repeat(36)), (Encoding::Ucs2, 2));
    }

    proptest! {
        #[test]
        fn fitted_texts_take_at_most_two_segments_and_keep_the_link(text in "\\PC{0,400}") {
            let link = "https://portal.example/l/ABCDEFGHIJKLMNOP";
            let fitted = fit(&text, link);
            prop_assert!(segments(&fitted).1 <= MAX_SEGMENTS, "{fitted:?}");
            prop_assert!(fitted.ends_with(link));
        }

        #[test]
        fn a_gsm_text_counts_one_septet_a_basic_character(text in "[a-zA-Z0-9 .,!?]{0,500}") {
            let (encoding, count) = segments(&text);
            prop_assert_eq!(encoding, Encoding::Gsm7);
            let n = text.chars().count();
            prop_assert_eq!(count, if n <= 160 { 1 } else { n.div_ceil(153) });
        }
    }

    #[test]
    fn a_short_text_is_left_whole() {
        assert_eq!(fit("Your case moved on.", "https://p.example/l/X"), "Your case moved on. https://p.example/l/X");
    }

    #[test]
    fn the_signature_matches_twilios_documented_example() {
        // The example of Twilio's "Webhooks security" page.
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sig = signature("12345", url, &params);
        assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify("12345", url, &params, &sig));
        assert!(!verify("12346", url, &params, &sig));
        assert!(!verify("12345", url, &params[1..], &sig));
        assert!(!verify("12345", url, &params, "not base64!"));
    }

    #[test]
    fn keywords_in_english_and_spanish() {
        assert_eq!(keyword(" stop "), Some(Keyword::Stop));
        assert_eq!(keyword("Parar."), Some(Keyword::Stop));
        assert_eq!(keyword("UNSUBSCRIBE"), Some(Keyword::Stop));
        assert_eq!(keyword("start"), Some(Keyword::Start));
        assert_eq!(keyword("Comenzar"), Some(Keyword::Start));
        assert_eq!(keyword("ayuda"), Some(Keyword::Help));
        assert_eq!(keyword("please stop by tomorrow"), None);
    }

    #[test]
    fn numbers_are_kept_in_e164() -> Result<()> {
        assert_eq!(parse_number("n", "+1 (201) 555-0123")?, "+12015550123");
        assert_eq!(parse_number("n", "201-555-0124")?, "+12015550124");
        assert_eq!(parse_number("n", "+34 612 34 56 78")?, "+34612345678");
        assert!(parse_number("n", "12").is_err());
        assert!(parse_number("n", "call me").is_err());
        Ok(())
    }

    #[test]
    fn quiet_hours_hold_a_text_until_nine_firm_local() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default();
        // Chicago is UTC-6 in December.
        assert_eq!(hold_until("America/Chicago", 9, 20, at("2026-12-07 16:00")), None);
        assert_eq!(hold_until("America/Chicago", 9, 20, at("2026-12-07 03:00")), Some(at("2026-12-07 15:00")));
        assert_eq!(hold_until("America/Chicago", 9, 20, at("2026-12-07 13:30")), Some(at("2026-12-07 15:00")));
        // 20:00 local and later: the next morning.
        assert_eq!(hold_until("America/Chicago", 9, 20, at("2026-12-08 02:00")), Some(at("2026-12-08 15:00")));
        assert_eq!(hold_until("UTC", 9, 20, at("2026-12-07 20:00")), Some(at("2026-12-08 09:00")));
    }

    #[test]
    fn twiml_escapes_the_text() {
        assert_eq!(
            twiml(Some("A & B <c>")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>A &amp; B &lt;c&gt;</Message></Response>"
        );
    }
}
