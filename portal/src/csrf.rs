//! Cross-site request forgery: a state-changing request (POST, PUT, PATCH,
//! DELETE) is accepted only from the portal's own pages. Browsers name the page
//! a request comes from in `Origin` (or, failing that, `Referer`); it must be
//! the origin of `MATTERLINE_PUBLIC_URL`. A request that names no origin at all
//! is refused when it carries the session cookie (that is what a forged form
//! would ride on) and let through otherwise: scripts, mail providers' one-click
//! unsubscribe. `Authorization: Bearer` requests are exempt — a page on another
//! site cannot attach that header. SameSite=Lax cookies stay as a second wall.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

use crate::error::ErrorBody;
use crate::pages::PageCtx;
use crate::session::SESSION_COOKIE;
use crate::state::AppState;

/// Paths whose POST is authenticated by a token in the URL alone and is made by
/// mail providers on the reader's behalf (RFC 8058 one-click unsubscribe).
const EXEMPT: &[&str] = &["/unsubscribe"];

/// What a request says about where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `Origin` or `Referer` names this origin (`scheme://host[:port]`, or `null`).
    Named(String),
    /// Neither header is present.
    Unnamed,
}

/// The origin a request names: `Origin` first, else the origin of `Referer`.
pub fn source_of(origin: Option<&str>, referer: Option<&str>) -> Source {
    if let Some(origin) = origin {
        return Source::Named(origin.trim().to_owned());
    }
    match referer {
        Some(referer) => Source::Named(
            url::Url::parse(referer.trim()).map_or_else(|_| "null".to_owned(), |u| u.origin().ascii_serialization()),
        ),
        None => Source::Unnamed,
    }
}

/// Whether an unsafe request may proceed: its named origin is the portal's, or
/// it names none and carries no session cookie.
pub fn allowed(source: &Source, portal_origin: &str, has_session_cookie: bool) -> bool {
    match source {
        Source::Named(origin) => origin.eq_ignore_ascii_case(portal_origin),
        Source::Unnamed => !has_session_cookie,
    }
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

fn bearer(req: &ServiceRequest) -> bool {
    req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Bearer "))
}

/// The middleware (`actix_web::middleware::from_fn(csrf::check)`).
pub async fn check(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if !is_unsafe(req.method()) || bearer(&req) || EXEMPT.contains(&req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let header_text = |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
    let source = source_of(header_text(header::ORIGIN), header_text(header::REFERER));
    let portal_origin = state.config.public_url.origin().ascii_serialization();
    if allowed(&source, &portal_origin, req.cookie(SESSION_COOKIE).is_some()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let named = match &source {
        Source::Named(origin) => origin.chars().take(100).collect::<String>(),
        Source::Unnamed => "(none)".to_owned(),
    };
    tracing::warn!(origin = %named, method = %req.method(), path = req.path(), "cross-site request refused");
    let response = if req.path().starts_with("/api/") {
        HttpResponse::Forbidden()
            .json(ErrorBody { error: "cross-site request refused".to_owned(), status: StatusCode::FORBIDDEN.as_u16() })
    } else {
        match req.extract::<PageCtx>().await {
            Ok(ctx) => ctx.message(
                StatusCode::FORBIDDEN,
                "error-cross-site-title",
                "error-cross-site-body",
                Some(("/", "back-to-my-cases")),
            ),
            Err(_) => HttpResponse::Forbidden().finish(),
        }
    };
    Ok(req.into_response(response).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTAL: &str = "https://portal.example-firm.test";

    #[test]
    fn only_the_portals_own_origin_may_change_things() {
        let ok = |o: Option<&str>, r: Option<&str>, cookie| allowed(&source_of(o, r), PORTAL, cookie);
        assert!(ok(Some(PORTAL), None, true));
        assert!(ok(Some("HTTPS://Portal.Example-Firm.test"), None, true));
        assert!(ok(None, Some("https://portal.example-firm.test/matters/1?x=2"), true));
        assert!(ok(None, None, false), "no origin and no session: a script or a mail provider");
        for (origin, referer) in [
            (Some("https://evil.test"), None),
            (Some("null"), None),
            (Some("http://portal.example-firm.test"), None),
            (Some("https://portal.example-firm.test.evil.test"), None),
            (Some("https://portal.example-firm.test:8443"), None),
            (None, Some("https://evil.test/https://portal.example-firm.test/")),
            (None, Some("not a url")),
            (Some("https://evil.test"), Some("https://portal.example-firm.test/")),
        ] {
            assert!(!ok(origin, referer, true), "{origin:?} {referer:?}");
            assert!(!ok(origin, referer, false), "{origin:?} {referer:?} without a cookie");
        }
        assert!(!ok(None, None, true), "a session cookie with no origin named");
    }
}
