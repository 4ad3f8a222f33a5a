//! What every request handler can reach.

use std::sync::Arc;

use shared::assets::Assets;
use shared::config::Config;
use shared::db::Db;
use shared::mail::Mailer;
use shared::render::Renderer;
use shared::tokens::Tokens;
use storage::Storage;

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
    /// Templates, locales and catalogues.
    pub assets: Assets,
    /// Page and email templates with their locales.
    pub renderer: Renderer,
    /// Outgoing mail.
    pub mailer: Mailer,
}

impl AppState {
    /// The public base URL without a trailing slash, for links.
    pub fn base_url(&self) -> String {
        self.config.public_url.as_str().trim_end_matches('/').to_owned()
    }

    /// What composing a queued email needs.
    pub fn composer(&self) -> shared::notices::Composer {
        shared::notices::Composer {
            renderer: self.renderer.clone(),
            mailer: self.mailer.clone(),
            tokens: self.tokens.clone(),
            base_url: self.base_url(),
        }
    }

    /// Whether cookies must be `Secure` (the portal is served over https).
    pub fn secure_cookies(&self) -> bool {
        self.config.public_url.scheme() == "https"
    }
}
