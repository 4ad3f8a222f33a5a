//! Composing the weekly update email from a digest: localized, no medical
//! detail, with one-click unsubscribe headers (RFC 8058) and rating links.

use chrono::Duration;
use serde_json::{Value, json};
use shared::domain::local_date;
use shared::mail::Mailbox;
use shared::mail::OutgoingEmail;
use shared::render::Renderer;
use shared::tokens::{Purpose, Tokens};
use shared::weekly::WeeklyDigest;

/// How long the unsubscribe link in an email keeps working.
pub const UNSUBSCRIBE_TTL: Duration = Duration::days(365);
/// How long the rating links keep working.
pub const RATING_TTL: Duration = Duration::days(60);

/// What composing an email needs besides the digest.
#[derive(Clone, Debug)]
pub struct EmailContext {
    /// Templates and locales.
    pub renderer: Renderer,
    /// Signs the unsubscribe and rating links.
    pub tokens: Tokens,
    /// The portal's public URL, without a trailing slash.
    pub base_url: String,
    /// The configured sender (`MATTERLINE_MAIL_FROM`).
    pub default_from: Mailbox,
}

impl EmailContext {
    /// What composing the one-off notices needs, with `mailer` for the firm's sender.
    pub fn composer(&self, mailer: &shared::mail::Mailer) -> shared::notices::Composer {
        shared::notices::Composer {
            renderer: self.renderer.clone(),
            mailer: mailer.clone(),
            tokens: self.tokens.clone(),
            base_url: self.base_url.clone(),
        }
    }

    /// The template data of a weekly update (also what `notifier preview` renders).
    pub fn weekly_data(&self, digest: &WeeklyDigest, notification_id: &str) -> shared::Result<Value> {
        let lang = digest.language;
        let client = &digest.client;
        let unsubscribe = self.tokens.issue(Purpose::Unsubscribe, &client.id, notification_id, UNSUBSCRIBE_TTL)?;
        let rating = self.tokens.issue(Purpose::Rating, &client.id, notification_id, RATING_TTL)?;
        let locales = self.renderer.locales();
        let zone = digest.firm.time_zone.as_str();
        let matters: Vec<Value> = digest
            .matters
            .iter()
            .map(|m| {
                let changes: Vec<Value> = m
                    .changes
                    .iter()
                    .map(|c| {
                        json!({
                            "key": format!("weekly-change-{}", c.kind.as_str()),
                            "phase": c.phase_title.clone().unwrap_or_default(),
                            "date": c.occurs_at.map(|t| locales.date(lang, local_date(zone, t))).unwrap_or_default(),
                        })
                    })
                    .collect();
                let needs: Vec<Value> = m.needs.iter().map(|c| json!({ "key": format!("category-{c}") })).collect();
                json!({
                    "title": m.title,
                    "phase_title": m.phase.title,
                    "position": m.phase.position,
                    "total": m.phase_total,
                    "what_it_means": m.phase.what_it_means,
                    "what_happens_next": m.phase.what_happens_next,
                    "changes": changes,
                    "needs_count": needs.len(),
                    "needs": needs,
                    "contact": m.contact,
                })
            })
            .collect();
        let ratings: Vec<Value> = (1..=5)
            .map(|score| json!({ "score": score, "url": format!("{}/rate?token={rating}&score={score}", self.base_url) }))
            .collect();
        Ok(json!({
            "lang": lang.as_str(),
            "firm": digest.firm.name,
            "name": client.full_name,
            "activity": digest.has_activity(),
            "matters": matters,
            "portal_url": format!("{}/", self.base_url),
            "unsubscribe_url": format!("{}/unsubscribe?token={unsubscribe}", self.base_url),
            "ratings": ratings,
            "rating_url": format!("{}/rate?token={rating}", self.base_url),
        }))
    }

    /// The weekly update as an email, for the outbox row `notification_id`.
    pub fn weekly_email(&self, digest: &WeeklyDigest, notification_id: &str) -> shared::Result<OutgoingEmail> {
        let data = self.weekly_data(digest, notification_id)?;
        let content = self.renderer.email("weekly_update", &data)?;
        let unsubscribe = data["unsubscribe_url"].as_str().unwrap_or_default().to_owned();
        Ok(OutgoingEmail {
            to_name: digest.client.full_name.clone(),
            to_address: digest.client.email.clone(),
            from: Some(shared::mail::sender_for(
                &self.default_from,
                &digest.firm.name,
                digest.firm.mail_from.as_deref(),
            )),
            content,
            headers: vec![
                ("List-Unsubscribe", format!("<{unsubscribe}>")),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned()),
                ("X-Matterline-Notification", notification_id.to_owned()),
            ],
            message_id: Some(shared::mail::message_id(&self.base_url, notification_id)),
        })
    }
}
