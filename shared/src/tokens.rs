//! Signed tokens (JWT, HS256). Each purpose has its own audience, so a token
//! issued for one purpose is refused for every other. Times in tokens follow the
//! [`Clock`] the keys carry, the one the portal's other checks go by.

use std::path::Path;

use chrono::Duration;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::config::{Config, Secret};
use crate::error::{Error, Result};

const ISSUER: &str = "matterline";
/// Clock skew tolerated on `exp` and `nbf` between portal instances.
const LEEWAY_SECONDS: i64 = 5;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The link in a sign-in email (single use, 15 minutes).
    SignIn,
    /// A device session (cookie or bearer token, revocable).
    Session,
    /// The one-click unsubscribe link in emails.
    Unsubscribe,
    /// The "how are we doing?" rating link in emails.
    Rating,
}

impl Purpose {
    /// The JWT audience of this purpose.
    pub fn audience(self) -> &'static str {
        match self {
            Self::SignIn => "matterline:sign-in",
            Self::Session => "matterline:session",
            Self::Unsubscribe => "matterline:unsubscribe",
            Self::Rating => "matterline:rating",
        }
    }
}

/// The claims of every Matterline token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user the token speaks for.
    pub sub: String,
    /// The purpose's audience.
    pub aud: String,
    /// Always `matterline`.
    pub iss: String,
    /// Unique id: the sign-in token or session row it stands for.
    pub jti: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not valid before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
}

/// Issues and verifies tokens with one secret.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    clock: Clock,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens([redacted])")
    }
}

impl Tokens {
    /// Keys from a secret (at least 32 bytes; the configuration checks that).
    pub fn new(secret: &Secret<String>) -> Self {
        let bytes = secret.expose().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            clock: Clock::default(),
        }
    }

    /// The clock tokens are issued and checked by; every check that goes with
    /// them (sign-in rows, sessions, rate limits) reads it too.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Keys from the configured secret or, when none is set, from
    /// `data_dir/jwt-secret`, generated on first use (readable by the owner only).
    pub fn from_config(config: &Config) -> Result<Self> {
        match &config.jwt_secret {
            Some(secret) => Ok(Self::new(secret)),
            None => Ok(Self::new(&load_or_create_secret(&config.data_dir)?)),
        }
    }

    /// A token for `purpose`, about `subject`, with id `jti`, valid for `ttl`.
    pub fn issue(&self, purpose: Purpose, subject: &str, jti: &str, ttl: Duration) -> Result<String> {
        let now = self.clock.timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            aud: purpose.audience().to_owned(),
            iss: ISSUER.to_owned(),
            jti: jti.to_owned(),
            iat: now,
            nbf: now,
            exp: now + ttl.num_seconds(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// The claims of `token` if it is well signed (HS256 only), unexpired, already
    /// valid and issued for `purpose`; [`Error::Unauthenticated`] otherwise.
    pub fn verify(&self, purpose: Purpose, token: &str) -> Result<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[purpose.audience()]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        // Expiry and "not before" are checked below against this clock, not the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                tracing::debug!(error = %e, purpose = purpose.audience(), "token refused");
                Error::Unauthenticated
            })?;
        let now = self.clock.timestamp();
        if claims.exp + LEEWAY_SECONDS < now || claims.nbf - LEEWAY_SECONDS > now {
            tracing::debug!(purpose = purpose.audience(), "token refused: expired or not yet valid");
            return Err(Error::Unauthenticated);
        }
        Ok(claims)
    }
}

fn load_or_create_secret(data_dir: &Path) -> Result<Secret<String>> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing));
        }
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let io = |e: std::io::Error| Error::Internal(anyhow::anyhow!("cannot write {}: {e}", path.display()));
    std::fs::create_dir_all(data_dir).map_err(io)?;
    write_private(&path, &secret).map_err(io)?;
    tracing::info!(path = %path.display(), "generated a token signing secret (set MATTERLINE_JWT_SECRET to share one between instances)");
    Ok(Secret::new(secret))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&Secret::new("an-unguessable-test-secret-of-40-characters".to_owned()))
    }

    #[test]
    fn a_token_verifies_for_its_own_purpose_only() -> Result<()> {
        let t = tokens();
        let token = t.issue(Purpose::SignIn, "user-1", "jti-1", Duration::minutes(15))?;
        assert_eq!(t.verify(Purpose::SignIn, &token)?.sub, "user-1");
        for other in [Purpose::Session, Purpose::Unsubscribe, Purpose::Rating] {
            assert!(
                matches!(t.verify(other, &token), Err(Error::Unauthenticated)),
                "{other:?} accepted a sign-in token"
            );
        }
        Ok(())
    }

    #[test]
    fn expired_forged_and_unsigned_tokens_are_refused() -> Result<()> {
        let t = tokens();
        let expired = t.issue(Purpose::Session, "u", "j", Duration::seconds(-60))?;
        assert!(matches!(t.verify(Purpose::Session, &expired), Err(Error::Unauthenticated)));

        let other_key = Tokens::new(&Secret::new("a-different-secret-also-forty-characters".to_owned()));
        let forged = other_key.issue(Purpose::Session, "u", "j", Duration::minutes(5))?;
        assert!(matches!(t.verify(Purpose::Session, &forged), Err(Error::Unauthenticated)));

        // alg "none": the header and claims of a valid token with the signature stripped.
        let valid = t.issue(Purpose::Session, "u", "j", Duration::minutes(5))?;
        let claims = valid.split('.').nth(1).unwrap_or_default();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        let unsigned = format!("{none_header}.{claims}.");
        assert!(matches!(t.verify(Purpose::Session, &unsigned), Err(Error::Unauthenticated)));
        Ok(())
    }

    #[test]
    fn a_token_expires_when_its_clock_passes_its_expiry() -> Result<()> {
        let t = tokens();
        let token = t.issue(Purpose::Session, "u", "j", Duration::minutes(15))?;
        t.clock().advance(Duration::minutes(14));
        assert_eq!(t.verify(Purpose::Session, &token)?.jti, "j");
        t.clock().advance(Duration::minutes(2));
        assert!(matches!(t.verify(Purpose::Session, &token), Err(Error::Unauthenticated)));
        // Another portal's keys keep their own time.
        assert!(
            tokens().verify(Purpose::Session, &t.issue(Purpose::Session, "u", "k", Duration::minutes(1))?).is_err()
        );
        Ok(())
    }

    #[test]
    fn the_generated_secret_is_kept_and_reused() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("matterline-secret-{}", uuid::Uuid::new_v4()));
        let first = load_or_create_secret(&dir)?;
        let second = load_or_create_secret(&dir)?;
        assert_eq!(first.expose(), second.expose());
        assert_eq!(first.expose().len(), 64);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
