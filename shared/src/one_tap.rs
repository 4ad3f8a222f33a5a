//! One-tap links: the "Open my case" button of every client email signs the
//! client in without a code.
//!
//! - The link is issued when the email is composed (at send time): one row per
//!   email (notification row), so a retried send replaces the row's link
//!   instead of adding another. Only the SHA-256 of the secret is stored.
//! - The secret is a short-link code ([`short_links::new_code`], about 91
//!   bits): the HTML part links to `/one-tap?token={secret}`, the plain-text
//!   part to `/l/{secret}`, which leads there. No table holds the secret.
//! - Opening the link shows a confirmation page; only its button's POST uses
//!   the link up, so a mail scanner that prefetches links spends nothing.
//! - It signs in once ([`redeem`]), within [`ONE_TAP_TTL`], only the client
//!   the row was mailed to, and dies when the client signs out everywhere
//!   ([`revoke_for_user`], called by [`auth::revoke_all_sessions`]).
//! - A firm may turn the links off (`firms.one_tap_sign_in`): the button then
//!   opens the sign-in page with the client's address filled in.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::Value;

use crate::audit::{self, Actor};
use crate::auth::{self, Device, SessionGrant};
use crate::db::DbConnection;
use crate::db::models::{Firm, OneTapLink, User};
use crate::db::schema::{notifications, one_tap_links, users};
use crate::domain::{Role, new_id};
use crate::error::Result;
use crate::notifications::compose::Composer;
use crate::notifications::short_links;
use crate::tokens::Tokens;

/// How long a one-tap link works.
pub const ONE_TAP_TTL: Duration = Duration::days(7);

/// How long a dead link's row is kept, so that its page can still name the
/// client's address (to send a fresh code) after it expired.
pub const KEPT_AFTER_EXPIRY: Duration = Duration::days(30);

/// The confirmation page's path.
pub const PATH: &str = "/one-tap";

/// Issues the one-tap link of email `notification_id` to `user_id`, leading to
/// `target` (a path on the portal) once used; replaces the link that email
/// had (a retried send). Returns the secret.
pub fn issue(
    conn: &mut DbConnection,
    tokens: &Tokens,
    user_id: &str,
    notification_id: &str,
    target: &str,
) -> Result<String> {
    let mut links = NewLinks::default();
    let secret = links.issue(tokens, user_id, notification_id, target);
    links.write(conn)?;
    Ok(secret)
}

/// The links of a batch of emails, made while they are composed and stored
/// together before any of them is sent ([`NewLinks::write`]): a few
/// multi-row statements for the batch instead of several per email. The
/// secrets are random, so they are known before anything is stored.
#[derive(Debug, Default)]
pub struct NewLinks {
    one_tap: Vec<OneTapLink>,
    /// The short links of the same emails.
    pub short: short_links::NewLinks,
}

impl NewLinks {
    /// The one-tap link of email `notification_id` to `user_id`, leading to
    /// `target`, stored by [`NewLinks::write`] (replacing the link that email
    /// had); returns the secret.
    pub fn issue(&mut self, tokens: &Tokens, user_id: &str, notification_id: &str, target: &str) -> String {
        let secret = short_links::new_code();
        let t = tokens.clock().now();
        self.one_tap.push(OneTapLink {
            id: new_id(),
            secret_hash: short_links::hash(&secret),
            notification_id: notification_id.to_owned(),
            user_id: user_id.to_owned(),
            target: target.to_owned(),
            created_at: t,
            expires_at: t + ONE_TAP_TTL,
            used_at: None,
        });
        secret
    }

    /// Whether nothing waits to be stored.
    pub fn is_empty(&self) -> bool {
        self.one_tap.is_empty() && self.short.is_empty()
    }

    /// Stores the links: the emails' earlier one-tap links go (a retried
    /// send: one link per email), then the new ones and the short links go in,
    /// [`short_links::ROWS_PER_INSERT`] rows per statement. Callers that want
    /// all or nothing run it in a transaction.
    pub fn write(self, conn: &mut DbConnection) -> Result<()> {
        // One link per email even if one was issued twice here: the last one counts.
        let mut seen = std::collections::HashSet::new();
        let mut rows: Vec<OneTapLink> =
            self.one_tap.into_iter().rev().filter(|l| seen.insert(l.notification_id.clone())).collect();
        rows.reverse();
        for chunk in rows.chunks(short_links::ROWS_PER_INSERT) {
            let emails: Vec<&str> = chunk.iter().map(|l| l.notification_id.as_str()).collect();
            diesel::delete(one_tap_links::table.filter(one_tap_links::notification_id.eq_any(emails))).execute(conn)?;
            crate::insert_many!(conn, one_tap_links::table, chunk)?;
        }
        self.short.write(conn)
    }
}

/// The link `secret` stands for, with its client, when it is bound to the
/// email it was mailed in and that email's recipient is still a client.
fn find(conn: &mut DbConnection, secret: &str) -> Result<Option<(OneTapLink, User)>> {
    if !short_links::is_code(secret) {
        return Ok(None);
    }
    let found: Option<(OneTapLink, User, String)> = one_tap_links::table
        .inner_join(users::table)
        .inner_join(notifications::table)
        .filter(one_tap_links::secret_hash.eq(short_links::hash(secret)))
        .select((OneTapLink::as_select(), User::as_select(), notifications::recipient_id))
        .first(conn)
        .optional()?;
    Ok(found
        .filter(|(link, user, recipient)| *recipient == link.user_id && user.role == Role::Client)
        .map(|(link, user, _)| (link, user)))
}

/// Whether `secret` is a one-tap link this portal issued (live or not).
/// Reading it changes nothing.
pub fn is_known(conn: &mut DbConnection, secret: &str) -> Result<bool> {
    Ok(find(conn, secret)?.is_some())
}

/// What opening a link finds.
#[derive(Debug, Clone)]
pub enum Opened {
    /// It can still sign this client in.
    Live(User),
    /// It was used, expired or revoked: the client may ask for a fresh code
    /// (and land on the link's page, the second field, once signed in).
    Spent(User, String),
    /// Not a link of this portal.
    Unknown,
}

/// What link `secret` is at `now`. Reading it changes nothing.
pub fn open(conn: &mut DbConnection, secret: &str, now: NaiveDateTime) -> Result<Opened> {
    Ok(match find(conn, secret)? {
        Some((link, user)) if link.used_at.is_none() && link.expires_at > now => Opened::Live(user),
        Some((link, user)) => Opened::Spent(user, link.target),
        None => Opened::Unknown,
    })
}

/// The outcome of pressing the confirmation page's button.
#[derive(Debug, Clone)]
pub enum Redeemed {
    /// Signed in: the new session, and the path to land on.
    SignedIn(SessionGrant, String),
    /// The link was used, expired or revoked (its client, to offer a fresh
    /// code, and its page) or unknown (`None`).
    Refused(Option<(User, String)>),
}

/// Uses link `secret` up and signs its client in, at the `tokens`' clock.
/// Only the first use of a live link succeeds; the sign-in (and a refused use
/// of a known link) is appended to the audit log, from `device`'s address.
pub fn redeem(conn: &mut DbConnection, tokens: &Tokens, secret: &str, device: &Device) -> Result<Redeemed> {
    crate::db::write_transaction(conn, |conn| {
        let Some((link, user)) = find(conn, secret)? else { return Ok(Redeemed::Refused(None)) };
        let t = tokens.clock().now();
        let used = diesel::update(
            one_tap_links::table
                .find(&link.id)
                .filter(one_tap_links::used_at.is_null())
                .filter(one_tap_links::expires_at.gt(t)),
        )
        .set(one_tap_links::used_at.eq(t))
        .execute(conn)?
            == 1;
        let mut event = audit::Event {
            firm_id: Some(&user.firm_id),
            actor: Actor::Anonymous,
            action: "client.sign_in.one_tap_refused",
            target_type: "one_tap_link",
            target_id: Some(&link.id),
            ip: device.ip.as_deref(),
            detail: Some(format!("notification {}", link.notification_id)),
        };
        if !used {
            audit::append(conn, &event, t)?;
            return Ok(Redeemed::Refused(Some((user, link.target))));
        }
        let grant = auth::create_session(conn, tokens, &user.id, device)?;
        event.actor = Actor::Client(&user.id);
        event.action = "client.sign_in.one_tap";
        audit::append(conn, &event, t)?;
        Ok(Redeemed::SignedIn(grant, link.target))
    })
}

/// Ends every unused link of `user_id` at `now` (sign-out everywhere); returns how many.
pub fn revoke_for_user(conn: &mut DbConnection, user_id: &str, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::update(
        one_tap_links::table
            .filter(one_tap_links::user_id.eq(user_id))
            .filter(one_tap_links::used_at.is_null())
            .filter(one_tap_links::expires_at.gt(now)),
    )
    .set(one_tap_links::expires_at.eq(now))
    .execute(conn)?)
}

/// Deletes the links that died more than [`KEPT_AFTER_EXPIRY`] before `now`; returns how many.
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(one_tap_links::table.filter(one_tap_links::expires_at.lt(now - KEPT_AFTER_EXPIRY)))
        .execute(conn)?)
}

/// `text` percent-encoded for a query.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The sign-in page with `email` filled in, landing on `path` once signed in.
pub fn sign_in_url(base_url: &str, email: &str, path: &str) -> String {
    let next = if path == "/" { String::new() } else { format!("&next={}", encode(path)) };
    format!("{base_url}/sign-in?email={}{next}", encode(email))
}

/// Makes the "Open my case" link of an email about to be sent as row
/// `notification_id` to `client` personal: `data["portal_url"]` (a page of
/// this portal) becomes the one-tap link (or, when the firm turned them off,
/// the sign-in page with the client's address filled in), and
/// `data["short"]["open"]` its short form for the plain-text part.
pub fn personalise_email(
    conn: &mut DbConnection,
    composer: &Composer,
    firm: &Firm,
    client: &User,
    notification_id: &str,
    data: &mut Value,
    now: NaiveDateTime,
) -> Result<()> {
    let mut links = NewLinks::default();
    personalise_email_into(&mut links, composer, firm, client, notification_id, data, now);
    links.write(conn)
}

/// What [`personalise_email`] does, with the links added to `links` (stored
/// later, with the rest of a batch) instead of stored at once.
pub fn personalise_email_into(
    links: &mut NewLinks,
    composer: &Composer,
    firm: &Firm,
    client: &User,
    notification_id: &str,
    data: &mut Value,
    now: NaiveDateTime,
) {
    let base = composer.base_url.as_str();
    let url = data["portal_url"].as_str().unwrap_or_default().to_owned();
    let Some(path) = url.strip_prefix(base).filter(|p| p.starts_with('/')) else { return };
    if client.role != Role::Client {
        return;
    }
    if firm.one_tap_sign_in {
        let secret = links.issue(&composer.tokens, &client.id, notification_id, path);
        data["portal_url"] = format!("{base}{PATH}?token={secret}").into();
        data["short"]["open"] = format!("{base}{}{secret}", short_links::PREFIX).into();
    } else {
        let sign_in = sign_in_url(base, &client.email, path);
        let expires_at = composer.tokens.clock().now() + ONE_TAP_TTL;
        data["short"]["open"] = links.short.shorten(base, &sign_in, expires_at, now).into();
        data["portal_url"] = sign_in.into();
    }
}

/// The link of a text about to be sent as row `notification_id` to `client`,
/// leading to `path` on the portal: the short form of a one-tap link (or,
/// when the firm turned them off, a short link to the sign-in page with the
/// client's address filled in).
pub fn personalise_sms(
    conn: &mut DbConnection,
    composer: &Composer,
    firm: &Firm,
    client: &User,
    notification_id: &str,
    path: &str,
    now: NaiveDateTime,
) -> Result<String> {
    let base = composer.base_url.as_str();
    if firm.one_tap_sign_in && client.role == Role::Client {
        let secret = issue(conn, &composer.tokens, &client.id, notification_id, path)?;
        return Ok(format!("{base}{}{secret}", short_links::PREFIX));
    }
    let sign_in = sign_in_url(base, &client.email, path);
    let expires_at = composer.tokens.clock().now() + ONE_TAP_TTL;
    short_links::shorten(conn, base, &sign_in, expires_at, now)
}

#[cfg(test)]
mod tests {
    use super::sign_in_url;

    #[test]
    fn the_sign_in_url_carries_the_address_and_the_page() {
        assert_eq!(
            sign_in_url("https://p.test", "ana+1@x.test", "/matters/7"),
            "https://p.test/sign-in?email=ana%2B1%40x.test&next=%2Fmatters%2F7"
        );
        assert_eq!(sign_in_url("https://p.test", "a@x.test", "/"), "https://p.test/sign-in?email=a%40x.test");
    }
}
