//! What every request handler can reach.

use std::sync::Arc;

use shared::assets::Assets;
use shared::config::Config;
use shared::db::Db;
use shared::storage::Storage;
use shared::tokens::Tokens;

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
}
