//! The firm's look on pages: which firm a page answers for ([`PageBrand`]),
//! kept in memory for a few seconds, and the two public routes pages and
//! emails load it from: the logo (`/brand/{firm}/logo/{digest}`) and a tiny
//! stylesheet setting the accent colour (`/brand/{firm}/accent-{hex}.css`),
//! both cacheable forever because their URL changes with their content.
//!
//! Which firm a page answers for: the signed-in user's; else, on a page reached
//! with a token (sign-in link, unsubscribe, rating), the token's user's; else
//! the firm whose `public_host` is the request's host; else the only firm when
//! the database holds exactly one; else none (the product's name is shown).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use serde::Serialize;
use shared::branding::{self, DEFAULT_ACCENT};
use shared::config::Config;
use shared::db::DbConnection;
use shared::db::models::Firm;
use shared::db::schema::{firm_logos, firms, users};
use shared::tokens::Purpose;

use crate::state::AppState;

/// Registers the logo and accent stylesheet routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(logo_file).service(accent_stylesheet);
}

/// How long a firm's look is reused before it is read again. A change made
/// in the settings clears it at once; anything else shows within this time.
pub const CACHE_FOR: Duration = Duration::from_secs(5);

/// `Cache-Control` of what is named by its content (the logo's digest, the accent's hex).
const FOREVER: &str = "public, max-age=31536000, immutable";

/// What a page shows of the firm it answers for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageBrand {
    /// Firm id.
    pub firm_id: String,
    /// The name clients see.
    pub name: String,
    /// Accent colour, `#rrggbb`.
    pub accent: String,
    /// Path of the logo, if the firm has one.
    pub logo: Option<String>,
    /// The firm's phone number, if it gave one.
    pub phone: Option<String>,
}

impl PageBrand {
    /// The stylesheet that sets the accent colour, when it is not the built-in one.
    pub fn stylesheet(&self) -> Option<String> {
        (self.accent != DEFAULT_ACCENT)
            .then(|| format!("/brand/{}/accent-{}.css", self.firm_id, self.accent.trim_start_matches('#')))
    }

    /// The look of `firm`, whose logo digest is `logo_digest`.
    fn of(firm: Firm, logo_digest: Option<String>) -> Self {
        let accent = firm.accent_colour.unwrap_or_else(|| DEFAULT_ACCENT.to_owned());
        let logo = logo_digest.map(|d| format!("/brand/{}/logo/{d}", firm.id));
        Self { firm_id: firm.id, name: firm.name, accent, logo, phone: firm.phone }
    }
}

/// One portal app (its configuration's allocation), so that apps in one
/// process (the tests run many) never share cached looks.
#[derive(Clone)]
pub struct AppKey(Weak<Config>);

impl AppKey {
    /// The app of `state`.
    pub fn of(state: &AppState) -> Self {
        Self(Arc::downgrade(&state.config))
    }

    fn id(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

/// What a cached look was found by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Lookup {
    Firm(String),
}

/// Which firm answers for which host: the firms' public hosts, and the only
/// firm when the database holds exactly one. Read whole (a portal holds a few
/// firms), so that a request naming any host, known or not, finds its answer
/// in memory.
#[derive(Debug, Default)]
struct Hosts {
    named: HashMap<String, String>,
    only: Option<String>,
}

impl Hosts {
    fn read(conn: &mut DbConnection) -> shared::Result<Self> {
        let firms: Vec<(String, Option<String>)> =
            firms::table.select((firms::id, firms::public_host)).limit(10_000).load(conn)?;
        let only = (firms.len() == 1).then(|| firms[0].0.clone());
        let named = firms.into_iter().filter_map(|(id, host)| host.map(|h| (h, id))).collect();
        Ok(Self { named, only })
    }

    /// The firm of `host`: the one it is the public host of, else the only one.
    fn firm(&self, host: &str) -> Option<String> {
        self.named.get(host).or(self.only.as_ref()).cloned()
    }
}

type HostCache = HashMap<usize, (Weak<Config>, Instant, Arc<Hosts>)>;

static HOSTS: LazyLock<Mutex<HostCache>> = LazyLock::new(Mutex::default);

fn cached_hosts(app: &AppKey) -> Option<Arc<Hosts>> {
    let cache = HOSTS.lock().ok()?;
    let (weak, at, hosts) = cache.get(&app.id())?;
    (weak.ptr_eq(&app.0) && at.elapsed() < CACHE_FOR).then(|| hosts.clone())
}

fn keep_hosts(app: &AppKey, hosts: Arc<Hosts>) {
    if let Ok(mut cache) = HOSTS.lock() {
        cache.retain(|_, (weak, _, _)| weak.strong_count() > 0);
        cache.insert(app.id(), (app.0.clone(), Instant::now(), hosts));
    }
}

struct Entry {
    /// Held so that the app's address is not reused while the entry exists.
    app: Weak<Config>,
    at: Instant,
    brand: Option<Arc<PageBrand>>,
}

static CACHE: LazyLock<Mutex<HashMap<(usize, Lookup), Entry>>> = LazyLock::new(Mutex::default);

fn cached(app: &AppKey, lookup: &Lookup) -> Option<Option<Arc<PageBrand>>> {
    let cache = CACHE.lock().ok()?;
    let entry = cache.get(&(app.id(), lookup.clone()))?;
    (entry.app.ptr_eq(&app.0) && entry.at.elapsed() < CACHE_FOR).then(|| entry.brand.clone())
}

fn keep(app: &AppKey, lookup: Lookup, brand: Option<Arc<PageBrand>>) {
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() > 1024 {
            cache.retain(|_, e| e.at.elapsed() < CACHE_FOR && e.app.strong_count() > 0);
        }
        cache.insert((app.id(), lookup), Entry { app: app.0.clone(), at: Instant::now(), brand });
    }
}

/// Forgets every look cached for `app` (after its settings changed).
pub fn forget(app: &AppKey) {
    if let Ok(mut cache) = CACHE.lock() {
        cache.retain(|(id, _), e| *id != app.id() && e.app.strong_count() > 0);
    }
    if let Ok(mut cache) = HOSTS.lock() {
        cache.retain(|id, (weak, _, _)| *id != app.id() && weak.strong_count() > 0);
    }
}

/// The look of `firm` (already read), from the cache or with one read of its logo's digest.
pub fn of_firm(conn: &mut DbConnection, app: &AppKey, firm: &Firm) -> shared::Result<Arc<PageBrand>> {
    let lookup = Lookup::Firm(firm.id.clone());
    if let Some(Some(brand)) = cached(app, &lookup) {
        return Ok(brand);
    }
    let digest = firm_logos::table.find(&firm.id).select(firm_logos::digest).first(conn).optional()?;
    let brand = Arc::new(PageBrand::of(firm.clone(), digest));
    keep(app, lookup, Some(brand.clone()));
    Ok(brand)
}

/// The look of firm `firm_id`, from the cache or the database.
pub fn of_firm_id(conn: &mut DbConnection, app: &AppKey, firm_id: &str) -> shared::Result<Arc<PageBrand>> {
    if let Some(Some(brand)) = cached(app, &Lookup::Firm(firm_id.to_owned())) {
        return Ok(brand);
    }
    let firm: Firm = firms::table.find(firm_id).select(Firm::as_select()).first(conn)?;
    of_firm(conn, app, &firm)
}

/// The host a request was made to, lower case, without its port. A proxy's
/// `X-Forwarded-Host` (or `Forwarded: host=`) counts only when the peer is one
/// of `MATTERLINE_TRUSTED_PROXIES`; from anyone else, the `Host` header does.
pub fn host_of(req: &HttpRequest) -> String {
    let trusted = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .zip(req.peer_addr())
        .is_some_and(|(state, peer)| state.config.trusted_proxies.contains(peer.ip().to_canonical()));
    let info = req.connection_info();
    let host = if trusted {
        info.host().to_owned()
    } else {
        req.headers()
            .get(actix_web::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| req.uri().authority().map(|a| a.to_string()).unwrap_or_default(), str::to_owned)
    };
    let host = host.as_str();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The look for a signed-out page on `host` if it is cached (no database work).
pub fn peek_host(app: &AppKey, host: &str) -> Option<Arc<PageBrand>> {
    let firm = cached_hosts(app)?.firm(host)?;
    cached(app, &Lookup::Firm(firm)).flatten()
}

/// The look for a signed-out page on `host`: the firm with that public host,
/// else the only firm; `None` when neither applies. What it needs is kept for
/// [`CACHE_FOR`]: the hosts of every firm (one query), and the firm's look.
pub async fn for_host(state: &AppState, host: String) -> shared::Result<Option<Arc<PageBrand>>> {
    let app = AppKey::of(state);
    let hosts = cached_hosts(&app);
    if let Some(hosts) = &hosts {
        match hosts.firm(&host) {
            None => return Ok(None),
            Some(firm) => {
                if let Some(Some(brand)) = cached(&app, &Lookup::Firm(firm)) {
                    return Ok(Some(brand));
                }
            }
        }
    }
    state
        .db
        .run(move |conn| {
            let hosts = match hosts {
                Some(hosts) => hosts,
                None => {
                    let hosts = Arc::new(Hosts::read(conn)?);
                    keep_hosts(&app, hosts.clone());
                    hosts
                }
            };
            hosts.firm(&host).map(|firm| of_firm_id(conn, &app, &firm)).transpose()
        })
        .await
}

/// The look for a page reached with a token: the token's user's firm, for the
/// sign-in link, unsubscribe and rating pages; `None` for any other page or a
/// token that does not verify.
pub async fn for_token_page(state: &AppState, req: &HttpRequest) -> shared::Result<Option<Arc<PageBrand>>> {
    let purpose = match req.path() {
        "/sign-in/link" => Purpose::SignIn,
        "/unsubscribe" => Purpose::Unsubscribe,
        "/rate" => Purpose::Rating,
        _ => return Ok(None),
    };
    let token = url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v);
    let Some(token) = token else { return Ok(None) };
    match state.tokens.verify(purpose, &token) {
        Ok(claims) => for_user(state, claims.sub).await,
        Err(_) => Ok(None),
    }
}

/// The look of user `user_id`'s firm (`None` when there is no such user).
pub async fn for_user(state: &AppState, user_id: String) -> shared::Result<Option<Arc<PageBrand>>> {
    let app = AppKey::of(state);
    state
        .db
        .run(move |conn| {
            let firm_id: Option<String> = users::table.find(&user_id).select(users::firm_id).first(conn).optional()?;
            firm_id.map(|id| of_firm_id(conn, &app, &id)).transpose()
        })
        .await
}

/// The firm's logo, in its stored type, cacheable forever under its digest;
/// 404 for another digest (an old logo) or a firm without one. Public: emails load it.
#[get("/brand/{firm}/logo/{digest}")]
async fn logo_file(state: web::Data<AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (firm, digest) = path.into_inner();
    let found = state
        .db
        .run(move |conn| {
            Ok(firm_logos::table
                .find(&firm)
                .filter(firm_logos::digest.eq(&digest))
                .select((firm_logos::content_type, firm_logos::bytes))
                .first::<(String, Vec<u8>)>(conn)
                .optional()?)
        })
        .await;
    match found {
        Ok(Some((content_type, bytes))) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, FOREVER))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(bytes),
        Ok(None) => HttpResponse::NotFound()
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => {
            tracing::warn!(error = %e, "a firm's logo could not be read");
            HttpResponse::ServiceUnavailable().insert_header((header::CACHE_CONTROL, "no-store")).finish()
        }
    }
}

/// The accent stylesheet: `--brand` and its shades for the colour in the URL
/// (only a colour that passes the contrast check). No database work.
#[get("/brand/{firm}/accent-{hex}.css")]
async fn accent_stylesheet(path: web::Path<(String, String)>) -> HttpResponse {
    let (_, hex) = path.into_inner();
    let Ok(accent) = branding::check_accent("accent", &format!("#{hex}")) else {
        return HttpResponse::NotFound().finish();
    };
    let css = format!(
        ":root{{--brand:{accent};--brand-dark:{};--brand-tint:{}}}\n",
        branding::darker(&accent),
        branding::tint(&accent)
    );
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, FOREVER))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(css)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_custom_accent_has_a_stylesheet() {
        let mut brand = PageBrand {
            firm_id: "f1".to_owned(),
            name: "Smith Law".to_owned(),
            accent: DEFAULT_ACCENT.to_owned(),
            logo: None,
            phone: None,
        };
        assert_eq!(brand.stylesheet(), None);
        brand.accent = "#8b1a1a".to_owned();
        assert_eq!(brand.stylesheet().as_deref(), Some("/brand/f1/accent-8b1a1a.css"));
    }
}
