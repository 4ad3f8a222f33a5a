//! Staff TOTP secrets at rest: sealed with ChaCha20-Poly1305 (ring's AEAD)
//! under `MATTERLINE_TOTP_KEY`, or a key generated once into
//! `DATA_DIR/totp-key`, so a database dump or backup does not give away the
//! staff's second factor (a sign-in still needs the key, which lives apart).
//!
//! The column holds `v1:<nonce>:<ciphertext and tag>` (base64url, no padding),
//! sealed with the row's user id as associated data: a sealed secret copied onto
//! another account does not open. A value without the `v1:` prefix is a plain
//! base32 secret from before (base32 has no `:`); start-up and `portal migrate`
//! seal those ([`seal_rows`]), and until then they still work.
//!
//! Rotation: `MATTERLINE_TOTP_PREVIOUS_KEYS` lists earlier keys. Secrets sealed
//! with one of them still open, and [`seal_rows`] seals them again with the
//! current key, so after one start-up (or `portal migrate`) the previous key can
//! be removed.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use shared::config::Config;
use shared::db::DbConnection;
use shared::db::schema::users;
use shared::error::{Error, Result};

/// The prefix of a sealed secret; the version names the cipher and layout.
pub const SEALED_PREFIX: &str = "v1:";
/// Name of the generated key file in the data folder.
pub const KEY_FILE: &str = "totp-key";

/// The key TOTP secrets are sealed with (32 bytes), and earlier keys that still
/// open what they sealed; `Debug` prints nothing of them.
#[derive(Clone)]
pub struct TotpKey {
    bytes: [u8; 32],
    previous: Vec<[u8; 32]>,
}

impl std::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpKey([redacted])")
    }
}

impl TotpKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self { bytes, previous: Vec::new() }
    }

    /// This key, also opening what the `previous` keys sealed (a rotation).
    pub fn with_previous(mut self, previous: impl IntoIterator<Item = [u8; 32]>) -> Self {
        self.previous.extend(previous);
        self
    }

    /// A new random key (tests and throw-away databases).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// The configured key or, when none is set, the one in `data_dir/totp-key`,
    /// generated on first use (readable by the owner only). A key file that
    /// exists but does not hold a key is an error: it is never replaced, since
    /// the secrets sealed with it would be lost.
    pub fn from_config(config: &Config) -> Result<Self> {
        let key = match &config.totp_key {
            Some(key) => Self::from_bytes(*key.expose()),
            None => load_or_create(&config.data_dir.join(KEY_FILE))?,
        };
        Ok(key.with_previous(config.totp_previous_keys.iter().map(|k| *k.expose())))
    }

    fn aead(&self) -> Result<LessSafeKey> {
        aead(&self.bytes)
    }

    /// The stored form of `secret` (base32) for the account `user_id`.
    pub fn seal(&self, user_id: &str, secret: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut sealed = secret.as_bytes().to_vec();
        self.aead()?
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), associated(user_id), &mut sealed)
            .map_err(|_| Error::Internal(anyhow::anyhow!("sealing a TOTP secret failed")))?;
        Ok(format!("{SEALED_PREFIX}{}:{}", URL_SAFE_NO_PAD.encode(nonce), URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// The base32 secret of the account `user_id` from its stored form: opened
    /// when sealed, as it is when plain (a row from before sealing). A sealed
    /// value that does not open under this key is an internal error (the
    /// configured key is not the one it was sealed with, or the row was
    /// altered), never a wrong code.
    pub fn open(&self, user_id: &str, stored: &str) -> Result<String> {
        let Some(body) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_owned());
        };
        let broken = |why: &str| {
            Error::Internal(anyhow::anyhow!(
                "the TOTP secret of user {user_id} does not open: {why} (is MATTERLINE_TOTP_KEY the key it was sealed with?)"
            ))
        };
        let (nonce, sealed) = body.split_once(':').ok_or_else(|| broken("malformed"))?;
        let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| broken("malformed nonce"))?;
        let sealed = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| broken("malformed ciphertext"))?;
        for key in std::iter::once(&self.bytes).chain(&self.previous) {
            let mut buffer = sealed.clone();
            if let Ok(plain) =
                aead(key)?.open_in_place(Nonce::assume_unique_for_key(nonce), associated(user_id), &mut buffer)
            {
                return String::from_utf8(plain.to_vec()).map_err(|_| broken("not text"));
            }
        }
        Err(broken("wrong key or altered value"))
    }

    /// Whether `stored` is sealed with the current key (not plain, not a previous key's).
    fn sealed_with_current(&self, user_id: &str, stored: &str) -> bool {
        is_sealed(stored) && Self::from_bytes(self.bytes).open(user_id, stored).is_ok()
    }
}

fn aead(bytes: &[u8; 32]) -> Result<LessSafeKey> {
    UnboundKey::new(&CHACHA20_POLY1305, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| Error::Internal(anyhow::anyhow!("a TOTP key is not a ChaCha20-Poly1305 key")))
}

/// Whether a stored value is sealed (else a plain secret from before).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// The associated data binding a sealed secret to its account.
fn associated(user_id: &str) -> Aad<Vec<u8>> {
    Aad::from(format!("matterline totp secret v1 user {user_id}").into_bytes())
}

/// Seals every TOTP secret in `users` that is plain, or sealed with a previous
/// key, with the current key, in one write transaction; returns how many rows
/// were sealed. Idempotent: rows sealed with the current key are left as they
/// are, and a row is rewritten only if it still holds the value read (another
/// instance starting at the same moment seals each row once). A row that opens
/// under no configured key is left alone and logged: its owner cannot sign in
/// until the key it was sealed with is configured again.
pub fn seal_rows(conn: &mut DbConnection, key: &TotpKey) -> Result<usize> {
    shared::db::write_transaction(conn, |conn| {
        let stored: Vec<(String, Option<String>)> =
            users::table.filter(users::totp_secret.is_not_null()).select((users::id, users::totp_secret)).load(conn)?;
        let mut sealed = 0;
        for (id, value) in stored {
            let Some(value) = value.filter(|v| !key.sealed_with_current(&id, v)) else { continue };
            let secret = match key.open(&id, &value) {
                Ok(secret) => secret,
                Err(e) => {
                    tracing::error!(user = %id, error = %e, "a TOTP secret opens under no configured key; left as it is");
                    continue;
                }
            };
            sealed += diesel::update(users::table.find(&id).filter(users::totp_secret.eq(&value)))
                .set(users::totp_secret.eq(Some(key.seal(&id, &secret)?)))
                .execute(conn)?;
        }
        Ok(sealed)
    })
}

/// Reads the key file, or creates it once when missing ([`shared::key_file`]).
fn load_or_create(path: &Path) -> Result<TotpKey> {
    let (text, created) = shared::key_file::read_or_create(path, || hex::encode(TotpKey::generate().bytes))?;
    let key = parse_key(path, &text)?;
    if created {
        tracing::info!(
            path = %path.display(),
            "generated the key sealing staff TOTP secrets (set MATTERLINE_TOTP_KEY to share one between instances; back it up apart from the database)"
        );
    }
    Ok(key)
}

/// The key in a key file's `text` (read from `path`).
fn parse_key(path: &Path, text: &str) -> Result<TotpKey> {
    hex::decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).map(TotpKey::from_bytes).ok_or_else(
        || {
            Error::Internal(anyhow::anyhow!(
                "{} does not hold a TOTP key (64 hex digits); it is not replaced, since the staff's TOTP secrets are sealed with it",
                path.display()
            ))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn a_sealed_secret_opens_for_its_own_account_under_its_own_key_only() -> Result<()> {
        let key = TotpKey::generate();
        let sealed = key.seal("user-1", SECRET)?;
        assert!(is_sealed(&sealed) && !sealed.contains(SECRET), "{sealed}");
        assert_ne!(sealed, key.seal("user-1", SECRET)?, "a fresh nonce each time");
        assert_eq!(key.open("user-1", &sealed)?, SECRET);
        assert!(key.open("user-2", &sealed).is_err(), "copied onto another account");
        assert!(TotpKey::generate().open("user-1", &sealed).is_err(), "another key");
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open("user-1", &altered).is_err(), "an altered value");
        assert_eq!(key.open("user-1", SECRET)?, SECRET, "a plain row from before sealing");
        Ok(())
    }

    #[test]
    fn a_previous_key_opens_what_it_sealed_and_only_the_current_key_seals() -> Result<()> {
        let old = TotpKey::generate();
        let sealed_before = old.seal("user-1", SECRET)?;
        let new = TotpKey::generate().with_previous([old.bytes]);
        assert_eq!(new.open("user-1", &sealed_before)?, SECRET);
        assert!(!new.sealed_with_current("user-1", &sealed_before), "to be sealed again");
        let sealed_now = new.seal("user-1", SECRET)?;
        assert!(new.sealed_with_current("user-1", &sealed_now));
        assert!(old.open("user-1", &sealed_now).is_err(), "the old key does not open what the new one sealed");
        assert!(TotpKey::from_bytes(new.bytes).open("user-1", &sealed_before).is_err(), "once removed");
        Ok(())
    }

    #[test]
    fn the_generated_key_file_is_kept_private_and_never_replaced() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Internal(e.into()))?;
        let path = dir.path().join("data").join(KEY_FILE);
        let first = load_or_create(&path)?;
        let second = load_or_create(&path)?;
        assert_eq!(first.bytes, second.bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map_err(|e| Error::Internal(e.into()))?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "garbage").map_err(|e| Error::Internal(e.into()))?;
        assert!(load_or_create(&path).is_err(), "a damaged key file stops start-up");
        assert_eq!(std::fs::read_to_string(&path).map_err(|e| Error::Internal(e.into()))?, "garbage");
        Ok(())
    }
}
