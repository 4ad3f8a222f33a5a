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
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use futures_util::FutureExt;

use crate::error::AppError;
use crate::pages::PageError;
use crate::state::AppState;

/// Middleware (innermost, so the 500 is rendered as the readable page): a
/// panic while handling the request answers 500 with the request id, and the
/// worker goes on serving.
pub async fn catch_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request = req.request().clone();
    let api = request.path().starts_with("/api/");
    // The call inside the future: a panic while the inner services set up is caught too.
    let panic = match AssertUnwindSafe(async move { next.call(req).await }).catch_unwind().await {
        Ok(answer) => return answer.map(ServiceResponse::map_into_left_body),
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
    let answer = if api { AppError(error).error_response() } else { PageError::Error(error).error_response() };
    Ok(ServiceResponse::new(request, answer).map_into_right_body())
}

/// Middleware: every answer under `/api/`, and every JSON answer elsewhere,
/// carries `Cache-Control: no-store` unless its handler chose a policy itself
/// (a download's `private, no-store`). Errors raised by the middleware inside
/// are answered here, so they carry it too.
pub async fn no_store_json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request = req.request().clone();
    let api = request.path().starts_with("/api/");
    let mut response = match next.call(req).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(e) => ServiceResponse::from_err(e, request),
    };
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
