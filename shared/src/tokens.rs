//! Signed tokens (JWT, HS256). Each purpose has its own audience, so a token
//! issued for one purpose is refused for every other. Times in tokens follow the
//! [`Clock`] the keys carry, the one the portal's other checks go by.
//!
//! Key rotation: every token names the secret that signed it in its header's
//! `kid` (an id derived from the secret, which reveals nothing of it). The
//! current secret (`MATTERLINE_JWT_SECRET`) signs; the previous ones
//! (`MATTERLINE_JWT_PREVIOUS_SECRETS`) still verify what they signed, until they
//! are removed: a token naming a key id that is no longer configured is refused
//! exactly like a forged one. Tokens from before key ids carry no `kid` and are
//! checked against every configured secret.
//!
//! The signatures are computed by ring (HMAC only, [`install_crypto_provider`]):
//! jsonwebtoken's own backends would bring RSA and elliptic-curve code for
//! algorithms Matterline never accepts.

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

/// One signing secret and the key id tokens name it by.
#[derive(Clone)]
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKey {
    fn new(secret: &Secret<String>) -> Self {
        install_crypto_provider();
        let bytes = secret.expose().as_bytes();
        Self {
            kid: key_id(bytes),
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }
}

/// The key id of a secret: the first 8 bytes of HMAC-SHA256(secret, a fixed
/// label), in hex. Anyone holding a token can already test guesses of the
/// secret against its signature; the id gives them nothing more.
fn key_id(secret: &[u8]) -> String {
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret), b"matterline token key id");
    hex::encode(&tag.as_ref()[..8])
}

/// Issues tokens with the current secret and verifies them with it or a previous one.
#[derive(Clone)]
pub struct Tokens {
    current: SigningKey,
    previous: Vec<SigningKey>,
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
        Self::with_previous(secret, &[])
    }

    /// Keys that sign with `current` and also accept what the `previous`
    /// secrets signed (a rotation in progress).
    pub fn with_previous(current: &Secret<String>, previous: &[Secret<String>]) -> Self {
        Self {
            current: SigningKey::new(current),
            previous: previous.iter().map(SigningKey::new).collect(),
            clock: Clock::default(),
        }
    }

    /// The key id that tokens issued now carry in their header (`kid`).
    pub fn current_key_id(&self) -> &str {
        &self.current.kid
    }

    /// The clock tokens are issued and checked by; every check that goes with
    /// them (sign-in rows, sessions, rate limits) reads it too.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Keys from the configured secret or, when none is set, from
    /// `data_dir/jwt-secret`, generated on first use (readable by the owner
    /// only), plus the configured previous secrets.
    pub fn from_config(config: &Config) -> Result<Self> {
        let current = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => load_or_create_secret(&config.data_dir)?,
        };
        Ok(Self::with_previous(&current, &config.jwt_previous_secrets))
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
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.current.encoding)
            .map_err(|e| Error::Internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// The claims of `token` if it is well signed (HS256 only) by the secret its
    /// `kid` names (the current one or a previous one still configured; a token
    /// without `kid` by any of them), unexpired, already valid and issued for
    /// `purpose`; [`Error::Unauthenticated`] otherwise.
    pub fn verify(&self, purpose: Purpose, token: &str) -> Result<Claims> {
        let refused = |reason: &str| {
            tracing::debug!(purpose = purpose.audience(), reason, "token refused");
            Error::Unauthenticated
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused("malformed header"))?;
        let keys = std::iter::once(&self.current).chain(&self.previous);
        let candidates: Vec<&SigningKey> = match header.kid.as_deref() {
            Some(kid) => keys.filter(|key| key.kid == kid).collect(),
            None => keys.collect(),
        };
        if candidates.is_empty() {
            // Signed by a secret that was removed, or never ours.
            return Err(refused("unknown key id"));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[purpose.audience()]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        // Expiry and "not before" are checked below against this clock, not the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = candidates
            .iter()
            .find_map(|key| jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).ok())
            .map(|data| data.claims)
            .ok_or_else(|| refused("signature, algorithm or claims"))?;
        let now = self.clock.timestamp();
        if claims.exp + LEEWAY_SECONDS < now || claims.nbf - LEEWAY_SECONDS > now {
            return Err(refused("expired or not yet valid"));
        }
        Ok(claims)
    }
}

/// Makes ring's HMAC the signature code of jsonwebtoken in this process (once;
/// later calls do nothing). [`Tokens`] calls it; code that signs with
/// jsonwebtoken directly (the test suite's forgeries) calls it first.
///
/// Only the HMAC family (HS256, HS384, HS512) is provided: any other algorithm
/// a token's header names is refused before its signature is looked at, and
/// [`Tokens::verify`] accepts HS256 alone.
pub fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // Fails only if a provider is installed already, which is then the one used.
        let _ = hmac_provider::PROVIDER.install_default();
    });
}

/// jsonwebtoken's signer and verifier for the HMAC family, on ring.
mod hmac_provider {
    use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
    use jsonwebtoken::errors::{ErrorKind, Result};
    use jsonwebtoken::signature::{self, Signer, Verifier};
    use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
    use ring::hmac;

    /// HMAC only; JWK helpers are not provided (Matterline reads no JWKs).
    pub(super) static PROVIDER: CryptoProvider =
        CryptoProvider { signer_factory: signer, verifier_factory: verifier, key_utils: KeyUtils::new_unimplemented() };

    struct RingHmac {
        algorithm: Algorithm,
        key: hmac::Key,
    }

    impl RingHmac {
        fn new(algorithm: Algorithm, family: AlgorithmFamily, secret: &[u8]) -> Result<Self> {
            let ring_algorithm = match algorithm {
                Algorithm::HS256 => hmac::HMAC_SHA256,
                Algorithm::HS384 => hmac::HMAC_SHA384,
                Algorithm::HS512 => hmac::HMAC_SHA512,
                _ => return Err(ErrorKind::InvalidAlgorithm.into()),
            };
            if family != AlgorithmFamily::Hmac {
                return Err(ErrorKind::InvalidKeyFormat.into());
            }
            Ok(Self { algorithm, key: hmac::Key::new(ring_algorithm, secret) })
        }
    }

    fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
        Ok(Box::new(RingHmac::new(*algorithm, key.family(), key.as_bytes())?))
    }

    fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
        Ok(Box::new(RingHmac::new(*algorithm, key.family(), key.try_get_as_bytes()?)?))
    }

    impl Signer<Vec<u8>> for RingHmac {
        fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
            Ok(hmac::sign(&self.key, msg).as_ref().to_vec())
        }
    }

    impl JwtSigner for RingHmac {
        fn algorithm(&self) -> Algorithm {
            self.algorithm
        }
    }

    impl Verifier<Vec<u8>> for RingHmac {
        fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> std::result::Result<(), signature::Error> {
            // Constant-time comparison.
            hmac::verify(&self.key, msg, signature).map_err(|_| signature::Error::new())
        }
    }

    impl JwtVerifier for RingHmac {
        fn algorithm(&self) -> Algorithm {
            self.algorithm
        }
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

    fn secret(text: &str) -> Secret<String> {
        Secret::new(text.to_owned())
    }

    #[test]
    fn tokens_name_their_key_and_a_previous_secret_verifies_until_removed() -> Result<()> {
        let old = secret("the-old-secret-that-signed-last-month-0000");
        let new = secret("the-new-secret-after-the-rotation-00000000");
        let before = Tokens::new(&old);
        let token = before.issue(Purpose::Session, "u", "j", Duration::days(30))?;
        let kid = jsonwebtoken::decode_header(&token).map_err(|e| Error::Internal(e.into()))?.kid;
        assert_eq!(kid.as_deref(), Some(before.current_key_id()), "a token names its key");
        assert_eq!(before.current_key_id().len(), 16);
        assert!(!old.expose().contains(before.current_key_id()), "the key id is not a piece of the secret");

        let rotating = Tokens::with_previous(&new, std::slice::from_ref(&old));
        assert_ne!(rotating.current_key_id(), before.current_key_id());
        assert_eq!(rotating.verify(Purpose::Session, &token)?.jti, "j", "the previous secret still verifies");
        let fresh = rotating.issue(Purpose::Session, "u", "k", Duration::days(30))?;
        let fresh_kid = jsonwebtoken::decode_header(&fresh).map_err(|e| Error::Internal(e.into()))?.kid;
        assert_eq!(fresh_kid.as_deref(), Some(rotating.current_key_id()), "only the current secret signs");
        assert!(before.verify(Purpose::Session, &fresh).is_err(), "the old keys do not know the new secret");

        let rotated = Tokens::new(&new);
        assert!(
            matches!(rotated.verify(Purpose::Session, &token), Err(Error::Unauthenticated)),
            "a removed secret's tokens are refused"
        );
        assert_eq!(rotated.verify(Purpose::Session, &fresh)?.jti, "k");
        Ok(())
    }

    #[test]
    fn a_token_without_a_key_id_is_checked_against_every_configured_secret() -> Result<()> {
        let old = secret("the-old-secret-that-signed-last-month-0000");
        let new = secret("the-new-secret-after-the-rotation-00000000");
        // A token as issued before key ids: no `kid` in its header.
        let before = Tokens::new(&old);
        let now = before.clock().timestamp();
        let claims = Claims {
            sub: "u".into(),
            aud: Purpose::Rating.audience().into(),
            iss: ISSUER.into(),
            jti: "j".into(),
            iat: now,
            nbf: now,
            exp: now + 600,
        };
        let legacy = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &before.current.encoding)
            .map_err(|e| Error::Internal(e.into()))?;
        assert_eq!(before.verify(Purpose::Rating, &legacy)?.jti, "j");
        assert_eq!(Tokens::with_previous(&new, &[old]).verify(Purpose::Rating, &legacy)?.jti, "j");
        assert!(Tokens::new(&new).verify(Purpose::Rating, &legacy).is_err());
        Ok(())
    }

    #[test]
    fn a_token_naming_an_unknown_key_or_another_algorithm_is_refused() -> Result<()> {
        let t = tokens();
        let good = t.issue(Purpose::Session, "u", "j", Duration::minutes(5))?;
        let claims =
            jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(&good).map_err(|e| Error::Internal(e.into()))?;
        for (alg, kid) in [
            (Algorithm::HS256, Some("0000000000000000".to_owned())),
            (Algorithm::HS384, Some(t.current_key_id().to_owned())),
            (Algorithm::HS512, None),
        ] {
            let mut header = Header::new(alg);
            header.kid = kid.clone();
            let forged =
                jsonwebtoken::encode(&header, &claims, &t.current.encoding).map_err(|e| Error::Internal(e.into()))?;
            assert!(
                matches!(t.verify(Purpose::Session, &forged), Err(Error::Unauthenticated)),
                "{alg:?} with kid {kid:?} accepted"
            );
        }
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
