//! Every request gets a request id (the caller's `X-Request-Id` if it is a
//! sane one, else a new one), echoed in the response header, shown on error
//! pages and carried by every log line of the request; one log line and the
//! HTTP metrics per request, with route template, status, latency, user id and
//! the client's IP address (behind a trusted proxy, the one it names) — never
//! an email address, a token or file contents.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

/// The request id of the current request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The signed-in user of the current request, once known (for the request log line).
#[derive(Debug, Clone)]
pub struct UserId(pub String);

const HEADER: &str = "x-request-id";

fn accepted(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The middleware (`actix_web::middleware::from_fn(request_context)`).
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| accepted(v))
        .map_or_else(|| shared::domain::new_id().replace('-', "")[..16].to_owned(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().to_string();
    // The client's address (behind a trusted proxy, the one it names), on every line of the request.
    let client = crate::session::client_addr(req.request()).map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let span = tracing::info_span!("request", request_id = %id, client = %client);
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed();
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let user = response.request().extensions().get::<UserId>().map(|u| u.0.clone());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HeaderName::from_static(HEADER), value);
    }
    metrics::counter!(shared::metrics::HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(shared::metrics::HTTP_DURATION, "route" => route.clone()).record(elapsed.as_secs_f64());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(method, route, status, latency_ms, user = user.as_deref().unwrap_or("-"), "request");
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::accepted;

    #[test]
    fn only_sane_request_ids_are_taken_over() {
        assert!(accepted("3f2a9c0d1e4b5a6c"));
        assert!(accepted("lb-7f3a-22_1"));
        for bad in ["", "short", "has space in it", "new\nline-injected", &"x".repeat(65)] {
            assert!(!accepted(bad), "{bad:?}");
        }
    }
}
