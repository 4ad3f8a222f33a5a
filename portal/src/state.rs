//! What every request handler can reach.

use std::sync::Arc;

use shared::assets::Assets;
use shared::clock::Clock;
use shared::config::Config;
use shared::db::Db;
use shared::mail::Mailer;
use shared::notifications::Deliverer;
use shared::render::Renderer;
use shared::tokens::Tokens;
use storage::Storage;

use crate::background::Background;
use crate::page_cache::PageCache;
use crate::totp_at_rest::TotpKey;

/// Shared, cheaply cloned application state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The effective configuration.
    pub config: Arc<Config>,
    /// The database pool.
    pub db: Db,
    /// The document store.
    pub storage: Storage,
    /// Token signing and verification.
    pub tokens: Tokens,
    /// The key staff TOTP secrets are sealed with in the database.
    pub totp_key: TotpKey,
    /// Templates, locales and catalogues.
    pub assets: Assets,
    /// Page and email templates with their locales.
    pub renderer: Renderer,
    /// Delivers the notifications a request queues, at once (the notifier retries what fails).
    pub notifications: Deliverer,
    /// Work a request started and answered without waiting for (a sign-in email);
    /// a graceful stop waits for it.
    pub background: Background,
    /// Client matter pages rendered, kept while their matters are unchanged.
    pub pages: Arc<PageCache>,
}

impl AppState {
    /// The public base URL without a trailing slash, for links.
    pub fn base_url(&self) -> String {
        self.config.public_url.as_str().trim_end_matches('/').to_owned()
    }

    /// The time sign-ins, sessions, rate limits and staff sign-in delays go by
    /// (the tokens' clock; tests move it forward).
    pub fn clock(&self) -> &Clock {
        self.tokens.clock()
    }

    /// Outgoing mail (SMTP, or the dev mail folder).
    pub fn mailer(&self) -> &Mailer {
        &self.notifications.channels.email
    }

    /// Whether cookies must be `Secure` (the portal is served over https).
    pub fn secure_cookies(&self) -> bool {
        self.config.public_url.scheme() == "https"
    }
}
