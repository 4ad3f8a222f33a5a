//! Short links for the plain-text part of emails. A sign-in, rating or
//! unsubscribe link carries a signed token of a few hundred characters; in a
//! plain-text email that is a wall of characters that wraps, breaks when
//! copied, and hides the portal's address. The text part shows
//! `{public_url}/l/{code}` instead:
//!
//! - the code is 16 random letters (about 91 bits; no digits, so that it never
//!   looks like the 6-digit sign-in code beside it), and only its
//!   SHA-256 is stored, with the path it leads to and the expiry of the token
//!   in that path (a stolen database gives no working link);
//! - `GET /l/{code}` answers 303 to the stored path on the same portal (never
//!   another host), and does nothing else: the pages it leads to already ask
//!   for a button press before anything is used up (the sign-in link page,
//!   unsubscribe), so a mail scanner that follows the link uses nothing up;
//! - an unknown or expired code gets a readable page offering to sign in.
//!
//! The HTML part keeps the direct links (the token is hidden in `href`, and a
//! click needs no extra hop), and so does the `List-Unsubscribe` header, which
//! must accept a one-click POST.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::db::models::ShortLink;
use crate::db::schema::short_links;
use crate::error::Result;

/// The length of a code: 16 letters of 52 possible, about 91 bits.
pub const CODE_LEN: usize = 16;

/// The path prefix short links live under.
pub const PREFIX: &str = "/l/";

/// The stored form of `code`: its hex SHA-256.
pub fn hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// Whether `code` has the shape of a code (so anything else is not looked up).
pub fn is_code(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A new random code.
pub fn new_code() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..CODE_LEN).map(|_| char::from(LETTERS[rng.random_range(0..LETTERS.len())])).collect()
}

/// Stores a short link to `target` (a path on the portal, starting with `/`)
/// that works until `expires_at`; returns its code.
pub fn create(conn: &mut DbConnection, target: &str, expires_at: NaiveDateTime, now: NaiveDateTime) -> Result<String> {
    let mut links = NewLinks::default();
    let code = links.add(target, expires_at, now);
    links.write(conn)?;
    Ok(code)
}

/// Rows inserted by one statement at most: a few thousand bound parameters,
/// well within SQLite's limit (32,766) and PostgreSQL's (65,535).
pub const ROWS_PER_INSERT: usize = 1000;

/// Short links made now and stored later, together: the codes are known at
/// once (they are random, not read back), so a batch of emails can be
/// composed first and its links written in a few multi-row `INSERT`s.
#[derive(Debug, Default)]
pub struct NewLinks {
    rows: Vec<ShortLink>,
}

impl NewLinks {
    /// A short link to `target` (a path on the portal, starting with `/`)
    /// that works until `expires_at`, stored by [`NewLinks::write`]; returns its code.
    pub fn add(&mut self, target: &str, expires_at: NaiveDateTime, now: NaiveDateTime) -> String {
        let code = new_code();
        self.rows.push(ShortLink { code_hash: hash(&code), target: target.to_owned(), expires_at, created_at: now });
        code
    }

    /// What [`shorten`] returns, the link stored by [`NewLinks::write`].
    pub fn shorten(&mut self, base_url: &str, url: &str, expires_at: NaiveDateTime, now: NaiveDateTime) -> String {
        match url.strip_prefix(base_url).filter(|path| path.starts_with('/')) {
            Some(path) => format!("{base_url}{PREFIX}{}", self.add(path, expires_at, now)),
            None => url.to_owned(),
        }
    }

    /// How many links wait to be stored.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no link waits to be stored.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Stores the links: one `INSERT` per [`ROWS_PER_INSERT`] rows.
    pub fn write(self, conn: &mut DbConnection) -> Result<()> {
        for chunk in self.rows.chunks(ROWS_PER_INSERT) {
            crate::insert_many!(conn, short_links::table, chunk)?;
        }
        Ok(())
    }
}

/// The path `code` leads to, if it is known and has not expired at `now`.
/// Reading it changes nothing.
pub fn resolve(conn: &mut DbConnection, code: &str, now: NaiveDateTime) -> Result<Option<String>> {
    if !is_code(code) {
        return Ok(None);
    }
    Ok(short_links::table
        .find(hash(code))
        .filter(short_links::expires_at.gt(now))
        .select(short_links::target)
        .first(conn)
        .optional()?)
}

/// Deletes the links that expired before `now`; returns how many.
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(short_links::table.filter(short_links::expires_at.lt(now))).execute(conn)?)
}

/// The short form of `url` for a plain-text part: a stored short link under
/// `base_url` when `url` is a page of that portal (`base_url` followed by a
/// path), else `url` as it is.
pub fn shorten(
    conn: &mut DbConnection,
    base_url: &str,
    url: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<String> {
    let mut links = NewLinks::default();
    let short = links.shorten(base_url, url, expires_at, now);
    links.write(conn)?;
    Ok(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_long_random_and_recognised() {
        let (a, b) = (new_code(), new_code());
        assert_ne!(a, b);
        assert!(is_code(&a) && is_code(&b), "{a} {b}");
        assert!(!is_code("short") && !is_code("abcdefghijklmno/") && !is_code("abcdefghijklmno1") && !is_code(""));
        assert_eq!(hash("abc").len(), 64);
    }
}
