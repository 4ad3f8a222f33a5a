//! Staff sign-in: a password (argon2id) and a TOTP code, both required.
//!
//! Failures count per account; after [`MAX_FAILURES`] in a row the account is
//! locked for [`LOCKOUT`]. A TOTP code is good once: the step it matched is
//! stored and codes of that step or earlier are refused afterwards (RFC 6238,
//! section 5.2). A successful sign-in creates an ordinary device session.

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
use shared::tokens::Tokens;
use totp_rs::{Builder, Secret, Totp};

/// Failed attempts in a row before the account locks.
pub const MAX_FAILURES: i32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// Shortest password accepted for a staff account.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Why a staff sign-in was refused. Wrong email, password and code are one
/// answer, so the form does not reveal which part was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The email, password or code is wrong.
    WrongCredentials,
    /// Too many failures: locked until this time (UTC).
    Locked(NaiveDateTime),
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

/// Checks email, password and TOTP code; on success resets the failure count
/// and creates a session.
///
/// The password hash is checked before any lock is taken (it is the slow part).
/// Then one write transaction records the outcome with updates that re-check the
/// account: a failure is counted only while the account is unlocked, and a code
/// is accepted only if its step is later than the last one used. So parallel
/// attempts cannot lose failures or both use one code, on either database.
pub fn sign_in(
    conn: &mut DbConnection,
    tokens: &Tokens,
    email: &str,
    password: &str,
    code: &str,
    device: &Device,
    now: NaiveDateTime,
) -> Result<std::result::Result<SessionGrant, Refused>> {
    let email = normalize_email(email);
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
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
    if let Some(until) = user.locked_until.filter(|until| *until > now) {
        return Ok(Err(Refused::Locked(until)));
    }
    let password_ok = user.password_hash.as_deref().is_some_and(|phc| verify_password(password, phc));
    let step = match (&user.totp_secret, password_ok) {
        (Some(secret), true) => {
            let seconds = u64::try_from(now.and_utc().timestamp()).unwrap_or_default();
            totp(secret, &user.email, "Matterline")?.check(&code, seconds).and_then(|step| i64::try_from(step).ok())
        }
        _ => None,
    };
    let unlocked = users::locked_until.is_null().or(users::locked_until.le(now));
    shared::db::write_transaction(conn, |conn| {
        if let Some(step) = step {
            let accepted = diesel::update(
                users::table
                    .find(&user.id)
                    .filter(unlocked)
                    .filter(users::totp_last_step.is_null().or(users::totp_last_step.lt(step))),
            )
            .set((
                users::failed_sign_ins.eq(0),
                users::locked_until.eq(None::<NaiveDateTime>),
                users::totp_last_step.eq(Some(step)),
            ))
            .execute(conn)?;
            if accepted == 1 {
                return Ok(Ok(create_session(conn, tokens, &user.id, device)?));
            }
            // The code's step was used meanwhile, or the account was locked meanwhile: a failure.
        }
        // Counting takes the row's lock, so the count read back is the latest one.
        let counted = diesel::update(users::table.find(&user.id).filter(unlocked))
            .set(users::failed_sign_ins.eq(users::failed_sign_ins + 1))
            .execute(conn)?;
        let (failures, locked_until): (i32, Option<NaiveDateTime>) =
            users::table.find(&user.id).select((users::failed_sign_ins, users::locked_until)).first(conn)?;
        if counted == 0 {
            // Locked by a parallel attempt after this one began.
            return Ok(Err(locked_until.map_or(Refused::WrongCredentials, Refused::Locked)));
        }
        if failures < MAX_FAILURES {
            return Ok(Err(Refused::WrongCredentials));
        }
        let until = now + LOCKOUT;
        diesel::update(users::table.find(&user.id))
            .set((users::failed_sign_ins.eq(0), users::locked_until.eq(Some(until))))
            .execute(conn)?;
        Ok(Err(Refused::Locked(until)))
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

/// Creates a staff account of `firm_id` with a generated password and TOTP secret.
pub fn create_staff(
    conn: &mut DbConnection,
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
    let mut user = User::new(firm_id, role, email, full_name.trim(), Language::En, now);
    user.weekly_updates = false;
    user.password_hash = Some(hash_password(&password)?);
    user.totp_secret = Some(totp_secret.clone());
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
    fn generated_passwords_are_long_and_differ() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
    }
}
