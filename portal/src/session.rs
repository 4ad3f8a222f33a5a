//! Who is asking: the session token from the `matterline_session` cookie or an
//! `Authorization: Bearer` header, checked against the `sessions` table.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use shared::db::models::User;

use crate::error::AppError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "matterline_session";
/// Name of the language cookie (for visitors who are not signed in).
pub const LANGUAGE_COOKIE: &str = "matterline_lang";

/// A signed-in user and their session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user.
    pub user: User,
    /// The session row's id (for "sign out").
    pub session_id: String,
    /// The user's firm's name, for page headers.
    pub firm_name: String,
    /// The firm's time zone, for dates on pages.
    pub firm_time_zone: String,
    /// The firm's look (name, accent colour, logo) for page headers.
    pub brand: std::sync::Arc<crate::routes::brand::PageBrand>,
}

/// The session token a request carries, if any: the bearer token wins over the cookie.
pub fn token_of(req: &HttpRequest) -> Option<String> {
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    bearer.or_else(|| req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()))
}

/// Looks the token up. `Ok(None)` for a missing, forged, expired or revoked token.
pub async fn resolve(state: &AppState, token: Option<String>) -> Result<Option<Authenticated>, shared::Error> {
    let Some(token) = token else { return Ok(None) };
    let tokens = state.tokens.clone();
    let app = crate::routes::brand::AppKey::of(state);
    state
        .db
        .run(move |conn| match shared::auth::authenticate_in_firm(conn, &tokens, &token) {
            Ok((session, user, firm)) => Ok(Some(Authenticated {
                brand: crate::routes::brand::of_firm_id(conn, &app, &user.firm_id)?,
                user,
                session_id: session.id,
                firm_name: firm.name,
                firm_time_zone: firm.time_zone,
            })),
            Err(shared::Error::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        })
        .await
}

/// The application state and the signed-in user of a request (`Ok(None)` when
/// nobody is; `Err` when the session could not be checked). Marks the request
/// with the user id for its log line.
pub async fn viewer_of(
    req: &HttpRequest,
) -> Result<(web::Data<AppState>, shared::Result<Option<Authenticated>>), AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError(shared::Error::Internal(anyhow::anyhow!("no app state"))))?;
    let viewer = resolve(&state, token_of(req)).await;
    if let Ok(Some(v)) = &viewer {
        req.extensions_mut().insert(crate::observe::UserId(v.user.id.clone()));
    }
    Ok((state, viewer))
}

/// The session cookie carrying `token`.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies())
        .max_age(CookieDuration::days(shared::auth::SESSION_TTL.num_days()))
        .finish()
}

/// A cookie that removes the session cookie.
pub fn cleared_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = session_cookie(state, String::new());
    cookie.make_removal();
    cookie
}

/// The signed-in user of an API request; 401 JSON otherwise.
#[derive(Debug, Clone)]
pub struct ApiUser(pub Authenticated);

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match viewer_of(&req).await?.1? {
                Some(user) => Ok(ApiUser(user)),
                None => Err(AppError(shared::Error::Unauthenticated)),
            }
        })
    }
}

/// The address a request came from: the TCP peer, or, when the peer is one of
/// `MATTERLINE_TRUSTED_PROXIES`, the client its forwarding header names
/// (`shared::client_address`). Rate limits, sessions, the audit log, the
/// request log and the dev mailbox all go by it.
pub fn client_addr(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let Some(state) = req.app_data::<web::Data<AppState>>() else { return Some(peer.to_canonical()) };
    let (proxies, header) = (&state.config.trusted_proxies, state.config.trusted_proxy_header);
    // A line that is not text still counts as a hop (naming no one): skipping it
    // could skip the line a proxy wrote and believe the one the client sent.
    let lines = req.headers().get_all(header.name()).map(|v| v.to_str().unwrap_or(""));
    Some(proxies.client_address(peer, header, lines))
}

/// [`client_addr`] as text, for sessions, rate-limit buckets and the audit log.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    client_addr(req).map(|ip| ip.to_string())
}

/// A request whose session is checked in the same trip to the database as the
/// work it asks for: one hand-off to the blocking pool and one pooled
/// connection instead of two. For the busiest routes (the matter page and its
/// API); other routes resolve the session in their extractor.
pub struct SignedIn {
    req: HttpRequest,
    state: web::Data<AppState>,
}

/// What [`SignedIn::run`] found.
pub enum Checked<T> {
    /// Nobody is signed in (no token, or a forged, expired or revoked one).
    Nobody,
    /// The signed-in user, and what the work returned.
    Viewer(Box<Authenticated>, shared::Result<T>),
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.app_data::<web::Data<AppState>>()
                .cloned()
                .map(|state| SignedIn { req: req.clone(), state })
                .ok_or_else(|| AppError(shared::Error::Internal(anyhow::anyhow!("no app state")))),
        )
    }
}

impl SignedIn {
    /// The request.
    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// The application state.
    pub fn state(&self) -> &web::Data<AppState> {
        &self.state
    }
}

impl SignedIn {
    /// Runs `work`, which checks the session token it is given itself (in
    /// the same statement as the data it loads: [`shared::matter_page`]), on
    /// one connection. [`shared::Error::Unauthenticated`] from `work` means
    /// nobody is signed in; other errors mean the session could not be checked.
    pub async fn run_checked<T, F>(&self, work: F) -> shared::Result<Checked<T>>
    where
        F: FnOnce(
                &mut shared::db::DbConnection,
                &shared::tokens::Tokens,
                &str,
            ) -> shared::Result<(shared::matter_page::Viewer, shared::Result<T>)>
            + Send
            + 'static,
        T: Send + 'static,
    {
        let Some(token) = token_of(&self.req) else { return Ok(Checked::Nobody) };
        let tokens = self.state.tokens.clone();
        let app = crate::routes::brand::AppKey::of(&self.state);
        let checked = self
            .state
            .db
            .run(move |conn| match work(conn, &tokens, &token) {
                Ok((found, done)) => {
                    let viewer = Authenticated {
                        brand: crate::routes::brand::of_firm_id(conn, &app, &found.user.firm_id)?,
                        user: found.user,
                        session_id: found.session_id,
                        firm_name: found.firm.name,
                        firm_time_zone: found.firm.time_zone,
                    };
                    Ok(Checked::Viewer(Box::new(viewer), done))
                }
                Err(shared::Error::Unauthenticated) => Ok(Checked::Nobody),
                Err(e) => Err(e),
            })
            .await?;
        if let Checked::Viewer(viewer, _) = &checked {
            self.req.extensions_mut().insert(crate::observe::UserId(viewer.user.id.clone()));
        }
        Ok(checked)
    }
}

/// A signed-in staff member on an API request: 401 JSON when nobody is signed
/// in, 403 for a client.
#[derive(Debug, Clone)]
pub struct StaffApi {
    /// The signed-in user.
    pub viewer: Authenticated,
    /// The same person as the acting staff member.
    pub staff: shared::staff::Staff,
}

impl FromRequest for StaffApi {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let viewer = viewer_of(&req).await?.1?.ok_or(AppError(shared::Error::Unauthenticated))?;
            let staff = shared::staff::Staff::from_user(&viewer.user, client_ip(&req))?;
            Ok(StaffApi { viewer, staff })
        })
    }
}
