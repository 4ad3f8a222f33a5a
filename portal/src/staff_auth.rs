//! Staff sign-in: a password (argon2id) and a TOTP code, both required.
//!
//! Failed sign-ins slow guessing down instead of locking anyone out: they are
//! counted per address, from one source (IP address) and from all sources
//! together, and past a free allowance every further try must wait twice as long
//! as the one before (see [`Throttle`]). A try during the wait is refused without
//! checking anything. The counts are kept by address, not by account, so an
//! address no one has gets exactly the answers a staff member's would: the
//! refusals and the waits cannot tell who works at the firm. A source that has
//! not been failing waits at most [`PER_ADDRESS`]'s cap, however many guesses
//! come from elsewhere, and an admin can clear the counts ([`unlock`]).
//!
//! A TOTP code is good once: the step it matched is stored and codes of that
//! step or earlier are refused afterwards (RFC 6238, section 5.2). A successful
//! sign-in creates an ordinary device session.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use shared::auth::{Device, SessionGrant, create_session, normalize_email};
use shared::db::DbConnection;
use shared::db::models::User;
use shared::db::schema::users;
use shared::domain::{Language, Role};
use shared::error::{Error, Result};
use shared::rate_limit;
use shared::staff::Staff;
use shared::tokens::Tokens;
use totp_rs::{Builder, Secret, Totp};

use crate::totp_at_rest::TotpKey;

/// Shortest password accepted for a staff account.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// How failed sign-ins of one kind slow the next try: `free` failures within
/// [`FAILURE_WINDOW`] cost nothing; from then on each try waits
/// `first_wait × 2^(failures − free)` after the latest failure, at most `cap`.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    /// Failures that cost no wait.
    pub free: i64,
    /// The wait after the first failure beyond the free ones.
    pub first_wait: Duration,
    /// The longest wait.
    pub cap: Duration,
}

impl Throttle {
    /// How long after the latest failure the next try may come, with `failures` counted.
    pub fn wait_after(&self, failures: i64) -> Duration {
        if failures < self.free {
            return Duration::zero();
        }
        let doublings = u32::try_from((failures - self.free).min(30)).unwrap_or(30);
        let wait = self.first_wait.checked_mul(1 << doublings).unwrap_or(self.cap);
        wait.min(self.cap)
    }
}

/// Failed sign-ins for one address from one source: a dozen typos pass, then
/// 1 s, 2 s, 4 s … up to 15 minutes between tries (about a hundred a day).
pub const PER_SOURCE: Throttle = Throttle { free: 12, first_wait: Duration::seconds(1), cap: Duration::minutes(15) };
/// Failed sign-ins for one address from every source together: a guesser
/// spread over many addresses gets about one try a minute, and the owner,
/// signing in from elsewhere, waits a minute at most.
pub const PER_ADDRESS: Throttle = Throttle { free: 24, first_wait: Duration::seconds(1), cap: Duration::minutes(1) };
/// How long a failure counts.
pub const FAILURE_WINDOW: Duration = Duration::hours(24);

/// Why a staff sign-in was refused. Wrong email, password and code are one
/// answer, so the form does not reveal which part was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The email, password or code is wrong.
    WrongCredentials,
    /// Too many recent failures for this address: try again after this long.
    /// Nothing was checked, and the answer is the same for any address.
    Wait(Duration),
}

/// The name shared by the failure counts of one address (the prefix [`unlock`] clears).
fn address_bucket(email: &str) -> String {
    rate_limit::bucket("staff-sign-in-failures", email)
}

/// The failure count of one address from one source.
fn source_bucket(email: &str, ip: &str) -> String {
    format!("{}:{}", address_bucket(email), rate_limit::bucket("ip", ip))
}

/// A PHC string (`$argon2id$v=19$...`) for `password`, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a password failed: {e}")))
}

/// True when `password` matches the stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash to verify against when the account does not exist, so that an
/// unknown address takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a real password, only for timing").unwrap_or_default())
}

/// A new TOTP secret, base32 (what authenticator apps take).
pub fn new_totp_secret() -> String {
    Secret::generate().to_base32()
}

/// The TOTP generator for a base32 secret; `account` and `issuer` label it in apps.
pub fn totp(secret: &str, account: &str, issuer: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret).map_err(|_| Error::invalid("totp_secret", "not base32"))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(issuer.replace(':', "")))
        .build()
        .map_err(|e| Error::invalid("totp_secret", e.to_string()))
}

/// The `otpauth://` URI an authenticator app scans or imports.
pub fn totp_uri(secret: &str, account: &str, issuer: &str) -> Result<String> {
    totp(secret, account, issuer)?.to_url().map_err(|e| Error::Internal(anyhow::anyhow!("otpauth URI: {e}")))
}

/// The current code for a secret (for tests and the demo's instructions).
pub fn current_code(secret: &str) -> Result<String> {
    let seconds = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default();
    Ok(totp(secret, "x", "x")?.generate(seconds).to_string())
}

/// A random password for a new account: 20 characters from an unambiguous alphabet.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Checks email, password and TOTP code (the stored secret opened with
/// `totp_key`); on success clears this source's failures and creates a session.
///
/// One write transaction first decides whether the address may try now, and if
/// so counts the try as a failure in advance (per source and per address; on
/// PostgreSQL under a lock on the address). So parallel tries cannot all pass
/// the check before any failure is counted: no more than the free allowance is
/// ever checked at once. Then the password hash is checked (the slow part; an
/// address without a staff account is checked against a decoy hash, so it takes
/// as long). A success takes its advance failures back in the transaction that
/// accepts the code: a code is accepted only if its step is later than the last
/// one used, so parallel tries cannot both use one code, on either database.
#[allow(clippy::too_many_arguments)]
pub fn sign_in(
    conn: &mut DbConnection,
    tokens: &Tokens,
    totp_key: &TotpKey,
    email: &str,
    password: &str,
    code: &str,
    device: &Device,
    now: NaiveDateTime,
) -> Result<std::result::Result<SessionGrant, Refused>> {
    let email = normalize_email(email);
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let (by_address, by_source) = (address_bucket(&email), source_bucket(&email, device.ip.as_deref().unwrap_or("")));
    let counted = shared::db::write_transaction(conn, |conn| -> Result<std::result::Result<[String; 2], Duration>> {
        shared::db::lock_key(conn, &by_address)?;
        let wait = wait_left(conn, &by_source, PER_SOURCE, now)?.max(wait_left(conn, &by_address, PER_ADDRESS, now)?);
        if wait > Duration::zero() {
            return Ok(Err(wait));
        }
        Ok(Ok([rate_limit::record(conn, &by_source, now)?, rate_limit::record(conn, &by_address, now)?]))
    })?;
    let advance = match counted {
        Ok(ids) => ids,
        Err(wait) => return Ok(Err(Refused::Wait(wait))),
    };
    let staff: Option<User> = users::table
        .filter(users::email.eq(&email))
        .filter(users::role.ne(Role::Client))
        .filter(users::password_hash.is_not_null())
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let Some(user) = staff else {
        verify_password(password, decoy_hash());
        return Ok(Err(Refused::WrongCredentials));
    };
    let password_ok = user.password_hash.as_deref().is_some_and(|phc| verify_password(password, phc));
    let step = match (&user.totp_secret, password_ok) {
        (Some(stored), true) => {
            let secret = totp_key.open(&user.id, stored)?;
            let seconds = u64::try_from(now.and_utc().timestamp()).unwrap_or_default();
            totp(&secret, &user.email, "Matterline")?.check(&code, seconds).and_then(|step| i64::try_from(step).ok())
        }
        _ => None,
    };
    let Some(step) = step else { return Ok(Err(Refused::WrongCredentials)) };
    shared::db::write_transaction(conn, |conn| {
        let accepted = diesel::update(
            users::table.find(&user.id).filter(users::totp_last_step.is_null().or(users::totp_last_step.lt(step))),
        )
        .set(users::totp_last_step.eq(Some(step)))
        .execute(conn)?;
        if accepted == 0 {
            // The code's step was used meanwhile: a failure, counted already.
            return Ok(Err(Refused::WrongCredentials));
        }
        // This source knows the password: its failures are forgiven; those of
        // other sources still count against the address.
        rate_limit::clear(conn, &by_source)?;
        rate_limit::forget(conn, &advance[1])?;
        Ok(Ok(create_session(conn, tokens, &user.id, device)?))
    })
}

/// How much longer a try counted in `bucket` must wait under `throttle` at `now`.
fn wait_left(conn: &mut DbConnection, bucket: &str, throttle: Throttle, now: NaiveDateTime) -> Result<Duration> {
    let (failures, latest) = rate_limit::hits_since(conn, bucket, now - FAILURE_WINDOW)?;
    let wait = throttle.wait_after(failures);
    if wait.is_zero() {
        // Within the allowance (a parallel try may have counted a failure at a later `now`).
        return Ok(Duration::zero());
    }
    Ok(latest.map_or(Duration::zero(), |latest| (latest + wait - now).max(Duration::zero())))
}

/// A staff member's failed sign-ins within [`FAILURE_WINDOW`], from every source.
pub fn recent_failures(conn: &mut DbConnection, email: &str, now: NaiveDateTime) -> Result<i64> {
    Ok(rate_limit::hits_since(conn, &address_bucket(&normalize_email(email)), now - FAILURE_WINDOW)?.0)
}

/// Clears the failed sign-ins of a staff member of the admin's firm, from every
/// source, so they can sign in at once; audited. Returns how many failed
/// sign-ins were cleared. [`Error::NotFound`] for an address that is not one of the firm's staff.
pub fn unlock(conn: &mut DbConnection, admin: &Staff, email: &str, now: NaiveDateTime) -> Result<i64> {
    admin.require_admin()?;
    let email = normalize_email(email);
    shared::db::write_transaction(conn, |conn| -> Result<i64> {
        let id: String = users::table
            .filter(users::firm_id.eq(&admin.firm_id))
            .filter(users::email.eq(&email))
            .filter(users::role.ne(Role::Client))
            .select(users::id)
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        let failures = recent_failures(conn, &email, now)?;
        rate_limit::clear(conn, &address_bucket(&email))?;
        admin.audit(
            conn,
            "staff.sign_in_unlock",
            "user",
            &id,
            Some(format!("{failures} failed sign-ins cleared")),
            now,
        )?;
        Ok(failures)
    })
}

/// A new staff account's credentials, to hand to its owner once.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// The account.
    pub user: User,
    /// The initial password (shown once, stored only as a hash).
    pub password: String,
    /// The TOTP secret, base32.
    pub totp_secret: String,
}

/// Creates a staff account of `firm_id` with a generated password and TOTP
/// secret (stored sealed with `totp_key`).
pub fn create_staff(
    conn: &mut DbConnection,
    totp_key: &TotpKey,
    firm_id: &str,
    role: Role,
    email: &str,
    full_name: &str,
    now: NaiveDateTime,
) -> Result<NewStaff> {
    if !role.is_staff() {
        return Err(Error::invalid("role", "must be admin or case_manager"));
    }
    shared::staff::validate_email(email)?;
    shared::staff::required("full_name", full_name)?;
    let password = generate_password();
    let totp_secret = new_totp_secret();
    let mut user = User::new(firm_id, role, email, full_name.trim(), Language::EN, now);
    user.weekly_updates = false;
    user.password_hash = Some(hash_password(&password)?);
    user.totp_secret = Some(totp_key.seal(&user.id, &totp_secret)?);
    let inserted = diesel::insert_into(users::table).values(&user).execute(conn);
    match inserted {
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Err(Error::Conflict(format!("{} already has an account at this firm", user.email)))
        }
        other => {
            other?;
            Ok(NewStaff { user, password, totp_secret })
        }
    }
}

/// Sets a staff member's password (at least [`MIN_PASSWORD_CHARS`] characters).
pub fn set_password(conn: &mut DbConnection, user_id: &str, password: &str, now: NaiveDateTime) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid("password", format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    let hash = hash_password(password)?;
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(Some(hash)), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapl", &hash));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn a_totp_code_matches_its_step_and_the_uri_names_the_account() {
        let secret = new_totp_secret();
        let code = current_code(&secret).unwrap();
        assert_eq!(code.len(), 6);
        let seconds = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
        assert!(totp(&secret, "a@b.test", "Firm").unwrap().check(&code, seconds).is_some());
        let uri = totp_uri(&secret, "a@b.test", "Demo Firm").unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        assert!(totp("not base32 !!", "a", "b").is_err());
    }

    #[test]
    fn waits_start_after_the_free_failures_double_and_stop_at_the_cap() {
        let waits: Vec<i64> = (10..=24).map(|n| PER_SOURCE.wait_after(n).num_seconds()).collect();
        assert_eq!(waits, [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert_eq!(PER_SOURCE.wait_after(i64::MAX), Duration::minutes(15));
        assert_eq!(PER_ADDRESS.wait_after(23), Duration::zero());
        assert_eq!(PER_ADDRESS.wait_after(30), Duration::minutes(1));
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
    }
}
