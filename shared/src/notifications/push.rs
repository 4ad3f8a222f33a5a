//! The web push channel: a notice to every browser a client turned push
//! notifications on in (`push_subscriptions`, one row per browser).
//!
//! Each message is encrypted for its browser (RFC 8291, `aes128gcm`, with
//! `web-push-native` on RustCrypto's P-256) and signed for the browser's push
//! service with the portal's VAPID key (RFC 8292: an ES256 JWT whose audience
//! is the push service's origin, port included). The push service's answer
//! decides the row's outcome: 201 accepted; 404/410 the subscription is gone
//! (its row is deleted, and the notification's outcome says so); 429 and 5xx
//! are retried; any other 4xx fails with the service's own words.
//!
//! The key is `MATTERLINE_VAPID_PRIVATE_KEY`, else generated once into
//! `DATA_DIR/vapid-private-key` (both binaries read the same file). Browsers
//! subscribe with its public half (`GET /api/v1/push/key`): a new key means
//! every browser must subscribe again.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;
use url::Url;
use web_push_native::p256;
use web_push_native::p256::ecdsa::signature::Signer;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

use super::channel::DeliveryError;
use crate::config::Config;
use crate::db::models::PushSubscription;
use crate::db::schema::push_subscriptions;
use crate::db::{Db, DbConnection};
use crate::error::{Error, Result};

/// The file in `data_dir` holding the generated key (base64url).
pub const KEY_FILE: &str = "vapid-private-key";

/// How long a push service keeps a message for a browser that is offline.
const TTL_SECONDS: u32 = 24 * 60 * 60;

/// How long a VAPID signature is valid (RFC 8292 allows at most 24 hours).
const SIGNATURE_VALID_SECONDS: i64 = 12 * 60 * 60;

/// The portal's VAPID key pair.
#[derive(Clone)]
pub struct VapidKey {
    signing: p256::ecdsa::SigningKey,
    /// The public key as browsers take it: the uncompressed point, base64url.
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey").field("public", &self.public).finish_non_exhaustive()
    }
}

impl VapidKey {
    /// The key whose private scalar is `bytes`.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        let secret = p256::SecretKey::from_slice(bytes)
            .map_err(|_| Error::invalid("MATTERLINE_VAPID_PRIVATE_KEY", "is not a P-256 private key"))?;
        let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Ok(Self { signing: p256::ecdsa::SigningKey::from(secret), public })
    }

    /// A new random key.
    pub fn generate() -> Self {
        loop {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            // All but a 2^-32 share of 32-byte strings are valid scalars.
            if let Ok(key) = Self::from_bytes(&bytes) {
                return key;
            }
        }
    }

    /// The configured key or, when none is set, the one in `data_dir/vapid-private-key`,
    /// created on first use.
    pub fn from_config(config: &Config) -> Result<Self> {
        match &config.vapid_private_key {
            Some(bytes) => Self::from_bytes(bytes.expose()),
            None => load_or_create(&config.data_dir.join(KEY_FILE)),
        }
    }

    /// The public key browsers subscribe with (`applicationServerKey`): base64url, uncompressed point.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The private scalar, base64url (what the key file holds).
    fn private_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signing.to_bytes())
    }

    /// The `Authorization` header for a push to `endpoint` (RFC 8292 §3):
    /// `vapid t=JWT,k=PUBLIC`, the JWT's audience the endpoint's origin, valid
    /// for 12 hours from `now` (Unix seconds), its subject `subject`.
    pub fn authorization(&self, endpoint: &Url, subject: &str, now: i64) -> Result<String> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": now + SIGNATURE_VALID_SECONDS,
            "sub": subject,
        });
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(|e| Error::Internal(e.into()))?);
        let signed = format!("{header}.{claims}");
        let signature: p256::ecdsa::Signature = self.signing.sign(signed.as_bytes());
        Ok(format!("vapid t={signed}.{},k={}", URL_SAFE_NO_PAD.encode(signature.to_bytes()), self.public))
    }
}

/// Reads the key file, or creates it once when missing ([`crate::key_file`]).
fn load_or_create(path: &Path) -> Result<VapidKey> {
    let (text, created) = crate::key_file::read_or_create(path, || VapidKey::generate().private_text())?;
    let key = parse_key(path, &text)?;
    if created {
        tracing::info!(
            path = %path.display(),
            "generated the VAPID key signing web pushes (set MATTERLINE_VAPID_PRIVATE_KEY to share one between hosts)"
        );
    }
    Ok(key)
}

/// The key in a key file's `text` (read from `path`).
fn parse_key(path: &Path, text: &str) -> Result<VapidKey> {
    URL_SAFE_NO_PAD
        .decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(|bytes| VapidKey::from_bytes(&bytes))
        .transpose()?
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "{} does not hold a VAPID key (32 bytes, base64url); it is not replaced, since browsers subscribed with it",
                path.display()
            ))
        })
}

/// The keys of a subscription as a browser gives them, checked.
pub fn check_keys(p256dh: &str, auth: &str) -> Result<()> {
    decode_keys(p256dh, auth).map(|_| ())
}

fn decode_keys(p256dh: &str, auth: &str) -> Result<(p256::PublicKey, web_push_native::Auth)> {
    let decode = |v: &str| URL_SAFE_NO_PAD.decode(v.trim().trim_end_matches('='));
    let public = decode(p256dh)
        .ok()
        .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
        .ok_or_else(|| Error::invalid("keys.p256dh", "is not a P-256 public key (base64url)"))?;
    let auth = decode(auth)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(web_push_native::Auth::from)
        .ok_or_else(|| Error::invalid("keys.auth", "is not a 16-byte secret (base64url)"))?;
    Ok((public, auth))
}

/// A notification composed for web push: the same payload to each of the
/// recipient's browsers.
#[derive(Debug, Clone)]
pub struct PushMessage {
    /// The browsers to send it to.
    pub subscriptions: Vec<PushSubscription>,
    /// The JSON the service worker shows: `title`, `body`, `url`.
    pub payload: String,
}

/// What one push service said about one browser.
#[derive(Debug)]
enum Answer {
    Accepted,
    /// 404/410: the browser's subscription no longer exists.
    Gone(u16),
    Transient(String),
    Permanent(String),
}

/// Sends pushes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PushSender {
    http: reqwest::Client,
    key: Arc<VapidKey>,
    subject: String,
    db: Db,
}

impl PushSender {
    /// The sender the configuration describes, keeping subscriptions up to date in `db`.
    pub fn from_config(config: &Config, db: Db) -> Result<Self> {
        let key = VapidKey::from_config(config)?;
        let subject = match &config.vapid_subject {
            Some(subject) => subject.clone(),
            None => format!("mailto:{}", mail_address(&config.mail_from)),
        };
        // reqwest's rustls takes the process's provider (ring): installed here too, for any caller.
        crate::mail::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Internal(anyhow::anyhow!("the web push HTTP client: {e}")))?;
        Ok(Self { http, key: Arc::new(key), subject, db })
    }

    /// The public key browsers subscribe with.
    pub fn public_key(&self) -> &str {
        self.key.public_key()
    }

    /// Sends `message` to each of its browsers. Accepted by any: delivered.
    /// Browsers whose subscription is gone are forgotten. Otherwise the
    /// failure of the browsers that failed, transient first.
    pub async fn send(&self, message: &PushMessage) -> Result<(), DeliveryError> {
        let answers = futures_util::future::join_all(
            message.subscriptions.iter().map(|s| async move { (s, self.send_one(s, &message.payload).await) }),
        )
        .await;
        let (mut accepted, mut gone) = (Vec::new(), Vec::new());
        let (mut transient, mut permanent) = (None, None);
        for (subscription, answer) in answers {
            match answer {
                Answer::Accepted => accepted.push(subscription.id.clone()),
                Answer::Gone(status) => gone.push((subscription.id.clone(), status)),
                Answer::Transient(why) => transient = transient.or(Some(why)),
                Answer::Permanent(why) => permanent = permanent.or(Some(why)),
            }
        }
        let (accepted_ids, gone_ids): (Vec<String>, Vec<String>) =
            (accepted.clone(), gone.iter().map(|(id, _)| id.clone()).collect());
        if !accepted_ids.is_empty() || !gone_ids.is_empty() {
            let now = crate::domain::now();
            let kept = self.db.run(move |conn| record_answers(conn, &accepted_ids, &gone_ids, now)).await;
            if let Err(e) = kept {
                tracing::warn!(error = %e, "could not record the push services' answers");
            }
        }
        if !accepted.is_empty() {
            return Ok(());
        }
        if let Some(why) = transient {
            return Err(DeliveryError::Transient(why));
        }
        if let Some(why) = permanent {
            return Err(DeliveryError::Permanent(why));
        }
        match gone.first() {
            Some((_, status)) => Err(DeliveryError::Permanent(format!(
                "push service answered {status}: the browser's subscription is gone; removed ({} of them)",
                gone.len()
            ))),
            None => Err(DeliveryError::Permanent("no browser to send to".to_owned())),
        }
    }

    async fn send_one(&self, subscription: &PushSubscription, payload: &str) -> Answer {
        let (public, auth) = match decode_keys(&subscription.p256dh, &subscription.auth) {
            Ok(keys) => keys,
            Err(e) => return Answer::Permanent(format!("the subscription's keys: {e}")),
        };
        let Ok(endpoint) = Url::parse(&subscription.endpoint) else {
            return Answer::Permanent("the subscription's endpoint is not a URL".to_owned());
        };
        let body = match web_push_native::encrypt(payload.as_bytes().to_vec(), &public, &auth) {
            Ok(body) => body,
            Err(e) => return Answer::Permanent(format!("could not encrypt the push: {e}")),
        };
        let authorization = match self.key.authorization(&endpoint, &self.subject, chrono::Utc::now().timestamp()) {
            Ok(a) => a,
            Err(e) => return Answer::Permanent(format!("could not sign the push: {e}")),
        };
        let sent = self
            .http
            .post(endpoint)
            .header("TTL", TTL_SECONDS.to_string())
            .header("Urgency", "normal")
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Answer::Transient(format!("push service unreachable: {e}")),
        };
        let status = response.status().as_u16();
        match status {
            200..=299 => Answer::Accepted,
            404 | 410 => Answer::Gone(status),
            _ => {
                let words: String = response.text().await.unwrap_or_default().trim().chars().take(300).collect();
                let why = format!("push service answered {status}: {words}");
                if status == 429 || status >= 500 { Answer::Transient(why) } else { Answer::Permanent(why) }
            }
        }
    }
}

/// The address in `Name <address>` or a bare address.
fn mail_address(mailbox: &str) -> &str {
    match (mailbox.find('<'), mailbox.rfind('>')) {
        (Some(open), Some(close)) if open < close => &mailbox[open + 1..close],
        _ => mailbox.trim(),
    }
}

/// Marks the browsers that accepted a push, and forgets those that are gone.
fn record_answers(conn: &mut DbConnection, accepted: &[String], gone: &[String], now: NaiveDateTime) -> Result<()> {
    if !accepted.is_empty() {
        diesel::update(push_subscriptions::table.filter(push_subscriptions::id.eq_any(accepted)))
            .set(push_subscriptions::last_success_at.eq(now))
            .execute(conn)?;
    }
    if !gone.is_empty() {
        diesel::delete(push_subscriptions::table.filter(push_subscriptions::id.eq_any(gone))).execute(conn)?;
        tracing::info!(removed = gone.len(), "forgot browsers whose push subscription is gone");
    }
    Ok(())
}

/// The browsers `user_id` turned push notifications on in.
pub fn subscriptions_of(conn: &mut DbConnection, user_id: &str) -> Result<Vec<PushSubscription>> {
    Ok(push_subscriptions::table
        .filter(push_subscriptions::user_id.eq(user_id))
        .order(push_subscriptions::created_at)
        .select(PushSubscription::as_select())
        .load(conn)?)
}

/// Those of `users` with at least one browser subscribed (who get push rows).
pub fn subscribed(conn: &mut DbConnection, users: &[String]) -> Result<Vec<String>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<String> = push_subscriptions::table
        .filter(push_subscriptions::user_id.eq_any(users))
        .select(push_subscriptions::user_id)
        .distinct()
        .load(conn)?;
    found.sort_unstable();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vapid_header_is_an_es256_jwt_for_the_endpoints_origin_with_its_port() -> Result<()> {
        let key = VapidKey::generate();
        let endpoint = Url::parse("http://127.0.0.1:8443/push/abc").map_err(|e| Error::Internal(e.into()))?;
        let header = key.authorization(&endpoint, "mailto:it@firm.example", 1_000)?;
        let rest = header.strip_prefix("vapid t=").unwrap_or_default();
        let (jwt, k) = rest.split_once(",k=").unwrap_or_default();
        assert_eq!(k, key.public_key());
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default())
            .map_err(|e| Error::Internal(e.into()))?;
        assert_eq!(claims["aud"], "http://127.0.0.1:8443");
        assert_eq!(claims["exp"], 1_000 + SIGNATURE_VALID_SECONDS);
        assert_eq!(claims["sub"], "mailto:it@firm.example");
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
        let signature = p256::ecdsa::Signature::from_slice(&signature).map_err(|e| Error::Internal(e.into()))?;
        use web_push_native::p256::ecdsa::signature::Verifier;
        let verifying = p256::ecdsa::VerifyingKey::from(&key.signing);
        assert!(verifying.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).is_ok());
        Ok(())
    }

    #[test]
    fn the_generated_key_is_kept_and_read_back() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("matterline-vapid-{}", uuid::Uuid::new_v4()));
        let path = dir.join(KEY_FILE);
        let first = load_or_create(&path)?;
        let again = load_or_create(&path)?;
        assert_eq!(first.public_key(), again.public_key());
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn subscription_keys_are_checked() {
        let browser = VapidKey::generate();
        assert!(check_keys(browser.public_key(), "AAAAAAAAAAAAAAAAAAAAAA").is_ok());
        assert!(check_keys(browser.public_key(), "AAAA").is_err());
        assert!(check_keys("not-a-key", "AAAAAAAAAAAAAAAAAAAAAA").is_err());
    }
}
