//! What every answer gets, whatever a handler does: a panic becomes a 500
//! (the readable page, or JSON under `/api/`) instead of a connection closed
//! without an answer, and JSON answers — every one under `/api/` — are never
//! kept by a browser or a proxy (`Cache-Control: no-store`), as pages are not.
//!
//! Work a request does after its change is committed (delivering the email it
//! queued) contains its own panics ([`shared::notifications::Deliverer`]), so
//! such a request still gets its real answer; this is the net under the rest.

use std::panic::AssertUnwindSafe;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};
use futures_util::FutureExt;

use crate::error::AppError;
use crate::observe::RequestId;
use crate::pages::{LanguageHints, PageCtx};
use crate::state::AppState;

/// The security headers of every answer: a strict Content-Security-Policy
/// (the pages use only their own stylesheet and script), no framing, no type
/// sniffing, no referrer leaving the site; on an https portal, browsers are
/// told to keep to https. (Names in lower case, as HTTP/2 and actix write them.)
pub fn security_headers(https: bool) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'; worker-src 'self'; manifest-src 'self'",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("permissions-policy", "camera=(self), geolocation=(), microphone=()"),
    ];
    if https {
        headers.insert(0, ("strict-transport-security", "max-age=31536000; includeSubDomains"));
    }
    headers
}

/// Middleware (innermost): a panic while handling the request answers 500 —
/// the readable page in the request's language with its request id, or the
/// API's JSON error — with the headers every answer has, and the worker goes
/// on serving.
///
/// The request itself is gone once the panic unwinds (and it may not be
/// cloned beforehand: the router needs it unshared), so what the answer needs
/// is read first and the answer travels up as an error whose response it is;
/// the middleware outside pass errors through untouched.
pub async fn catch_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let api = req.path().starts_with("/api/");
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let hints = LanguageHints::of(req.request());
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let (path, method) = (req.path().to_owned(), req.method().to_string());
    // The call inside the future: a panic while the inner services set up is caught too.
    let panic = match AssertUnwindSafe(async move { next.call(req).await }).catch_unwind().await {
        Ok(answer) => return answer,
        Err(panic) => panic,
    };
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    metrics::counter!(shared::metrics::PANICS, "where" => "request").increment(1);
    let error = shared::Error::Internal(anyhow::anyhow!("the request handler panicked: {text}"));
    // Each logs the cause once, with the request id of the span around it.
    let https = state.as_ref().is_some_and(|s| s.secure_cookies());
    let mut answer = match state {
        Some(state) if !api => PageCtx::detached(state, &hints, path, request_id.clone()).error(error),
        _ => AppError(error).error_response(),
    };
    let headers = answer.headers_mut();
    for (name, value) in security_headers(https) {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static("x-request-id"), id);
    }
    metrics::counter!(shared::metrics::HTTP_REQUESTS, "method" => method, "route" => "panicked", "status" => "500")
        .increment(1);
    Err(actix_web::error::InternalError::from_response("the request handler panicked", answer).into())
}

/// Middleware: every answer under `/api/`, and every JSON answer elsewhere,
/// carries `Cache-Control: no-store` unless its handler chose a policy itself
/// (a download's `private, no-store`).
pub async fn no_store_json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let api = req.path().starts_with("/api/");
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("application/problem+json"));
    if (api || json) && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// Middleware for the fault-injection tests (`MATTERLINE_FAULT_PANIC_MARKER`,
/// debug builds only): a request whose query string holds the marker panics
/// where its handler would run. Does nothing without a marker.
pub async fn injected_faults(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        state.notifications.faults.panic_if_marked("handling a request", req.query_string());
    }
    next.call(req).await
}
