//! Passwordless sign-in and device sessions.
//!
//! A sign-in mails a link (a [`Purpose::SignIn`] token) and a 6-digit code;
//! both stand for one `sign_in_tokens` row that dies on first use or after 15
//! minutes. Redeeming either creates a `sessions` row and a
//! [`Purpose::Session`] token naming it, so a session can be revoked
//! server-side although the token itself stays well signed.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::db::models::{Session, SignInToken, User};
use crate::db::schema::{firms, sessions, sign_in_tokens, users};
use crate::domain::{new_id, now};
use crate::error::{Error, Result};
use crate::tokens::{Purpose, Tokens};

/// How long a sign-in link and code stay valid.
pub const SIGN_IN_TTL: Duration = Duration::minutes(15);
/// How long a device session lasts.
pub const SESSION_TTL: Duration = Duration::days(30);
/// Wrong codes allowed against one sign-in before it dies.
pub const MAX_CODE_ATTEMPTS: i32 = 5;

/// A freshly issued sign-in: what goes into the email.
#[derive(Debug, Clone)]
pub struct SignInGrant {
    /// The signed token for the link.
    pub token: String,
    /// The 6-digit code, for typing on another device.
    pub code: String,
}

/// A freshly created device session.
#[derive(Debug, Clone)]
pub struct SessionGrant {
    /// The session row's id.
    pub session_id: String,
    /// The signed session token (cookie value or bearer token).
    pub token: String,
    /// The signed-in user.
    pub user_id: String,
}

/// Where a request came from, recorded on the session.
#[derive(Debug, Clone, Default)]
pub struct Device {
    /// The browser's User-Agent, shortened.
    pub user_agent: Option<String>,
    /// The client's IP address.
    pub ip: Option<String>,
}

fn code_hash(token_id: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{token_id}:{code}").as_bytes()))
}

/// Records a sign-in for `user_id` and returns its link token and code.
pub fn issue_sign_in(conn: &mut DbConnection, tokens: &Tokens, user_id: &str) -> Result<SignInGrant> {
    let id = new_id();
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let created_at = tokens.clock().now();
    let row = SignInToken {
        code_hash: code_hash(&id, &code),
        id,
        user_id: user_id.to_owned(),
        attempts: 0,
        created_at,
        expires_at: created_at + SIGN_IN_TTL,
        used_at: None,
    };
    diesel::insert_into(sign_in_tokens::table).values(&row).execute(conn)?;
    let token = tokens.issue(Purpose::SignIn, user_id, &row.id, SIGN_IN_TTL)?;
    Ok(SignInGrant { token, code })
}

/// Marks the sign-in row used, if it still can be at `t`; true when this call used it.
fn consume(conn: &mut DbConnection, token_id: &str, user_id: &str, t: NaiveDateTime) -> Result<bool> {
    let updated = diesel::update(
        sign_in_tokens::table
            .filter(sign_in_tokens::id.eq(token_id))
            .filter(sign_in_tokens::user_id.eq(user_id))
            .filter(sign_in_tokens::used_at.is_null())
            .filter(sign_in_tokens::expires_at.gt(t)),
    )
    .set(sign_in_tokens::used_at.eq(t))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Redeems a sign-in link. A used, expired, forged or foreign token is
/// [`Error::Unauthenticated`]; only the first redemption succeeds.
pub fn redeem_link(conn: &mut DbConnection, tokens: &Tokens, token: &str, device: &Device) -> Result<SessionGrant> {
    let claims = tokens.verify(Purpose::SignIn, token)?;
    crate::db::write_transaction(conn, |conn| {
        if !consume(conn, &claims.jti, &claims.sub, tokens.clock().now())? {
            return Err(Error::Unauthenticated);
        }
        create_session(conn, tokens, &claims.sub, device)
    })
}

/// Redeems a 6-digit code typed with the email address. Each wrong code counts
/// against every live sign-in of that address; after [`MAX_CODE_ATTEMPTS`] they die.
pub fn redeem_code(
    conn: &mut DbConnection,
    tokens: &Tokens,
    email: &str,
    code: &str,
    device: &Device,
) -> Result<SessionGrant> {
    let email = normalize_email(email);
    let code = code.trim();
    // The transaction commits in both outcomes: a wrong code's attempt count must stick.
    // It reads, then writes: on SQLite it must hold the write lock from its start, or a
    // writer committing in between fails it with "database is locked" (a 500 for the client).
    let granted = crate::db::write_transaction(conn, |conn| -> Result<Option<SessionGrant>> {
        let t = tokens.clock().now();
        let live: Vec<SignInToken> = sign_in_tokens::table
            .inner_join(users::table)
            .filter(users::email.eq(&email))
            .filter(sign_in_tokens::used_at.is_null())
            .filter(sign_in_tokens::expires_at.gt(t))
            .filter(sign_in_tokens::attempts.lt(MAX_CODE_ATTEMPTS))
            .order(sign_in_tokens::id) // rows are locked in one order: concurrent guesses cannot deadlock
            .select(SignInToken::as_select())
            .load(conn)?;
        // Each guess is counted against a sign-in before it is checked against it, and only
        // while that sign-in has attempts left: concurrent guesses wait for the row (on
        // PostgreSQL the update re-checks the count after the wait), so no sign-in has its
        // code checked more than MAX_CODE_ATTEMPTS times in all.
        for row in &live {
            let counted = diesel::update(
                sign_in_tokens::table
                    .filter(sign_in_tokens::id.eq(&row.id))
                    .filter(sign_in_tokens::used_at.is_null())
                    .filter(sign_in_tokens::attempts.lt(MAX_CODE_ATTEMPTS)),
            )
            .set(sign_in_tokens::attempts.eq(sign_in_tokens::attempts + 1))
            .execute(conn)?
                == 1;
            if counted && row.code_hash == code_hash(&row.id, code) && consume(conn, &row.id, &row.user_id, t)? {
                return create_session(conn, tokens, &row.user_id, device).map(Some);
            }
        }
        Ok(None)
    })?;
    granted.ok_or(Error::Unauthenticated)
}

/// Creates a session for `user_id` and its token.
pub fn create_session(
    conn: &mut DbConnection,
    tokens: &Tokens,
    user_id: &str,
    device: &Device,
) -> Result<SessionGrant> {
    let t = tokens.clock().now();
    let session = Session {
        id: new_id(),
        user_id: user_id.to_owned(),
        created_at: t,
        last_seen_at: t,
        expires_at: t + SESSION_TTL,
        revoked_at: None,
        user_agent: device.user_agent.as_deref().map(|ua| ua.chars().take(200).collect()),
        ip: device.ip.clone(),
    };
    diesel::insert_into(sessions::table).values(&session).execute(conn)?;
    diesel::update(users::table.find(user_id)).set(users::last_active_at.eq(t)).execute(conn)?;
    let token = tokens.issue(Purpose::Session, user_id, &session.id, SESSION_TTL)?;
    Ok(SessionGrant { session_id: session.id, token, user_id: user_id.to_owned() })
}

/// The live session and user behind a session token, or [`Error::Unauthenticated`].
pub fn authenticate(conn: &mut DbConnection, tokens: &Tokens, token: &str) -> Result<(Session, User)> {
    authenticate_in_firm(conn, tokens, token).map(|(session, user, _)| (session, user))
}

/// What a page shows of the signed-in user's firm.
#[derive(Debug, Clone, Queryable)]
pub struct FirmBrand {
    /// The firm's name.
    pub name: String,
    /// The firm's time zone (IANA name).
    pub time_zone: String,
}

/// [`authenticate`], with the user's firm's name and time zone, in one query
/// (every page needs them).
pub fn authenticate_in_firm(
    conn: &mut DbConnection,
    tokens: &Tokens,
    token: &str,
) -> Result<(Session, User, FirmBrand)> {
    let claims = tokens.verify(Purpose::Session, token)?;
    let t = tokens.clock().now();
    let found: Option<(Session, User, FirmBrand)> = sessions::table
        .inner_join(users::table.inner_join(firms::table))
        .filter(sessions::id.eq(&claims.jti))
        .filter(sessions::user_id.eq(&claims.sub))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(t))
        .select((Session::as_select(), User::as_select(), (firms::name, firms::time_zone)))
        .first(conn)
        .optional()?;
    let (session, user, firm) = found.ok_or(Error::Unauthenticated)?;
    seen(conn, &session.id, session.last_seen_at, &user.id, t)?;
    Ok((session, user, firm))
}

/// Records that session `session_id` of `user_id`, last seen at `last_seen_at`,
/// was used at `t`: at most every five minutes, since a write per page view is
/// wasted work.
pub(crate) fn seen(
    conn: &mut DbConnection,
    session_id: &str,
    last_seen_at: NaiveDateTime,
    user_id: &str,
    t: NaiveDateTime,
) -> Result<()> {
    if t - last_seen_at > Duration::minutes(5) {
        diesel::update(sessions::table.find(session_id)).set(sessions::last_seen_at.eq(t)).execute(conn)?;
        diesel::update(users::table.find(user_id)).set(users::last_active_at.eq(t)).execute(conn)?;
    }
    Ok(())
}

/// Revokes one session ("sign out").
pub fn revoke_session(conn: &mut DbConnection, session_id: &str) -> Result<()> {
    diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now()))
        .execute(conn)?;
    Ok(())
}

/// Revokes every session of a user ("sign out everywhere") and ends the
/// unused one-tap links of their emails ([`crate::one_tap`]); returns how many sessions.
pub fn revoke_all_sessions(conn: &mut DbConnection, tokens: &Tokens, user_id: &str) -> Result<usize> {
    crate::db::write_transaction(conn, |conn| {
        crate::one_tap::revoke_for_user(conn, user_id, tokens.clock().now())?;
        Ok(diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
            .set(sessions::revoked_at.eq(now()))
            .execute(conn)?)
    })
}

/// Email addresses are compared trimmed and in lower case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausible email address: something@something.tld, no spaces, sane length.
pub fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
}

/// Deletes what no longer serves a purpose: sign-in links and codes a day past
/// their expiry, sessions a week past theirs (revoked or expired), and
/// rate-limit hits older than a day, email short links past their expiry, and
/// one-tap links a month past theirs.
/// Returns the rows deleted.
pub fn purge_expired(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> Result<usize> {
    use crate::db::schema::rate_limit_hits;
    let tokens = diesel::delete(sign_in_tokens::table.filter(sign_in_tokens::expires_at.lt(now - Duration::days(1))))
        .execute(conn)?;
    let sessions =
        diesel::delete(sessions::table.filter(sessions::expires_at.lt(now - Duration::days(7)))).execute(conn)?;
    let revoked =
        diesel::delete(sessions::table.filter(sessions::revoked_at.lt(now - Duration::days(7)))).execute(conn)?;
    let hits = diesel::delete(rate_limit_hits::table.filter(rate_limit_hits::created_at.lt(now - Duration::days(1))))
        .execute(conn)?;
    let links = crate::notifications::short_links::purge_expired(conn, now)?;
    let one_tap = crate::one_tap::purge_expired(conn, now)?;
    Ok(tokens + sessions + revoked + hits + links + one_tap)
}

#[cfg(test)]
mod tests {
    use super::looks_like_email;

    #[test]
    fn email_shapes() {
        for ok in ["a@b.co", "jordan@demo.matterline.test", "x.y+z@sub.example.org"] {
            assert!(looks_like_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.co", "a@b.co,c@d.co", "<a@b.co>", "a@b@c.co"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
