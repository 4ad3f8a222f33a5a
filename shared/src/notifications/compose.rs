//! Composing claimed rows: what composing needs ([`Composer`]) and the
//! dispatch from a row's kind to the file that composes it. Rows are composed
//! as of the moment they are sent, from what the database says then.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::channel::Message;
use super::kinds::{
    appointment, client_messages, document_request, message_reply, phase_change, request_reminder, sign_in,
    upload_receipt, weekly_update,
};
use crate::config::Config;
use crate::db::DbConnection;

use crate::db::models::{Firm, Notification, User};
use crate::domain::{Channel, NotificationKind};
use crate::error::{Error, Result};
use crate::mail::{Mailbox, OutgoingEmail};
use crate::render::Renderer;
use crate::tokens::Tokens;

/// What composing a notification needs.
#[derive(Clone, Debug)]
pub struct Composer {
    /// Templates and locales.
    pub renderer: Renderer,
    /// Signs the links in messages (sign-in, unsubscribe, rating).
    pub tokens: Tokens,
    /// The portal's public URL, without a trailing slash.
    pub base_url: String,
    /// The configured sender (`MATTERLINE_MAIL_FROM`).
    pub default_from: Mailbox,
    /// Whether text messages are configured (else text rows are skipped).
    pub sms_enabled: bool,
}

impl Composer {
    /// The composer the configuration describes.
    pub fn new(config: &Config, renderer: Renderer, tokens: Tokens) -> Result<Self> {
        let default_from: Mailbox =
            config.mail_from.parse().map_err(|e| Error::invalid("MATTERLINE_MAIL_FROM", format!("{e}")))?;
        let base_url = config.public_url.as_str().trim_end_matches('/').to_owned();
        Ok(Self { renderer, tokens, base_url, default_from, sms_enabled: config.sms_enabled() })
    }

    /// The sender for a firm: its own address, else the configured address under the firm's name.
    pub fn sender_for(&self, firm_name: &str, firm_from: Option<&str>) -> String {
        crate::mail::sender_for(&self.default_from, firm_name, firm_from)
    }

    /// The Message-ID of the email for row `row_id`: the same on every attempt.
    pub fn message_id(&self, row_id: &str) -> String {
        crate::mail::message_id(&self.base_url, row_id)
    }

    /// A notice for `row`'s channel to `to`, from `firm`, rendered from the
    /// message template `template` with `data` (which names the language),
    /// with replies going to `reply_to` (name, address) when given.
    pub fn notice(
        &self,
        row: &Notification,
        to: &User,
        firm: &Firm,
        template: &str,
        data: &Value,
        reply_to: Option<(String, String)>,
    ) -> Result<Composed> {
        Ok(Composed::Send(match row.channel {
            Channel::Push | Channel::Sms => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "{} has no email-style notice on {}",
                    row.kind,
                    row.channel
                )));
            }
            Channel::Email => Message::Email(Box::new(OutgoingEmail {
                to_name: to.full_name.clone(),
                to_address: to.email.clone(),
                from: Some(self.sender_for(&firm.name, firm.mail_from.as_deref())),
                content: self.renderer.email(template, data)?,
                headers: Vec::new(),
                reply_to,
                attachments: Vec::new(),
                message_id: Some(self.message_id(&row.id)),
            })),
        }))
    }
}

/// A web push for `row` to each browser of `to`: a `title` and `body` (in
/// their language already) and the portal page to open at `path`. Nothing
/// else goes in the payload: push services and lock screens see it.
pub fn push_notice(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    to: &User,
    title: String,
    body: String,
    path: &str,
) -> Result<Composed> {
    let subscriptions = super::push::subscriptions_of(conn, &to.id)?;
    if subscriptions.is_empty() {
        return Ok(Composed::Skip("the recipient has no browser subscribed to push notifications"));
    }
    let url = format!("{}{path}", composer.base_url);
    let payload = serde_json::json!({ "title": title, "body": body, "url": url }).to_string();
    tracing::debug!(notification = %row.id, browsers = subscriptions.len(), "push composed");
    Ok(Composed::Send(Message::Push(Box::new(super::push::PushMessage { subscriptions, payload }))))
}

/// A text for `row` to `to`, at `now`: `text` (in their language already),
/// then a link that opens `path` on the portal (a one-tap link when the firm
/// has them), shortened to at most two segments. Skipped without consent;
/// held when `now` is in the firm's quiet hours.
pub fn sms_notice(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    to: &User,
    text: &str,
    path: &str,
    now: NaiveDateTime,
) -> Result<Composed> {
    if !composer.sms_enabled {
        return Ok(Composed::Skip("text messages are not configured"));
    }
    let Some(consent) = super::sms::consent_of(conn, &to.id)?.filter(super::sms::allows) else {
        return Ok(Composed::Skip("the client does not consent to texts (any more)"));
    };
    let firm: Firm = crate::db::schema::firms::table.find(&to.firm_id).select(Firm::as_select()).first(conn)?;
    if let Some(until) = super::sms::hold_until(&firm.time_zone, firm.sms_from_hour, firm.sms_until_hour, now) {
        return Ok(Composed::Hold(until));
    }
    let link = crate::one_tap::personalise_sms(conn, composer, &firm, to, &row.id, path, now)?;
    let body = super::sms::fit(&format!("{}: {text}", firm.name), &link);
    Ok(Composed::Send(Message::Sms(Box::new(super::sms::Text {
        notification_id: row.id.clone(),
        user_id: to.id.clone(),
        to: consent.number,
        body,
    }))))
}

/// A composed notification, or why it is no longer worth sending.
#[derive(Debug)]
pub enum Composed {
    /// Deliver this.
    Send(Message),
    /// Record the row as skipped, for this reason.
    Skip(&'static str),
    /// Not now (quiet hours): back to the queue, due at this time (UTC).
    Hold(NaiveDateTime),
}

/// Composes each of `rows` as of `now`, in order. Weekly updates are derived
/// together (a few queries for the whole claim); the other kinds one by one.
/// The outer error fails the whole claim (the database is unreachable, say);
/// an inner one fails that row only.
pub fn compose_rows(
    conn: &mut DbConnection,
    composer: &Composer,
    rows: &[Notification],
    now: NaiveDateTime,
) -> Result<Vec<Result<Composed>>> {
    let weekly: Vec<&Notification> = rows.iter().filter(|r| r.kind == NotificationKind::WeeklyUpdate).collect();
    let mut weekly: HashMap<String, Result<Composed>> =
        if weekly.is_empty() { HashMap::new() } else { weekly_update::compose_all(conn, composer, &weekly, now)? };
    Ok(rows
        .iter()
        .map(|row| match row.kind {
            NotificationKind::WeeklyUpdate => weekly
                .remove(&row.id)
                .unwrap_or_else(|| Err(Error::Internal(anyhow::anyhow!("weekly update {} was not composed", row.id)))),
            _ => compose_one(conn, composer, row, now),
        })
        .collect())
}

/// Composes one row as of `now`.
pub fn compose_one(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    match row.kind {
        NotificationKind::SignIn => sign_in::compose(conn, composer, row, now),
        NotificationKind::UploadReceipt => upload_receipt::compose(conn, composer, row, now),
        NotificationKind::PhaseChange => phase_change::compose(conn, composer, row, now),
        NotificationKind::MessageReply => message_reply::compose(conn, composer, row, now),
        NotificationKind::ClientMessages => client_messages::compose(conn, composer, row),
        NotificationKind::RequestReminder => request_reminder::compose(conn, composer, row, now),
        NotificationKind::Appointment => appointment::compose(conn, composer, row, now),
        NotificationKind::AppointmentReminder => appointment::compose_reminder(conn, composer, row, now),
        NotificationKind::DocumentRequest => document_request::compose(conn, composer, row, now),
        NotificationKind::WeeklyUpdate => {
            let mut composed = weekly_update::compose_all(conn, composer, &[row], now)?;
            composed
                .remove(&row.id)
                .unwrap_or_else(|| Err(Error::Internal(anyhow::anyhow!("weekly update {} was not composed", row.id))))
        }
    }
}
