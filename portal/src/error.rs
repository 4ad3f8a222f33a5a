//! The one place that maps [`shared::Error`] kinds to HTTP answers.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// A request handler's error: the shared error, answered with one status per kind.
#[derive(Debug)]
pub struct AppError(pub shared::Error);

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<shared::Error>> From<E> for AppError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

/// The HTTP status of each kind of error, for the API and the pages alike
/// (a page answers "not signed in" with a redirect to the sign-in page instead).
pub fn status_of(error: &shared::Error) -> StatusCode {
    use shared::Error as E;
    match error {
        E::NotFound => StatusCode::NOT_FOUND,
        E::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        E::Unauthenticated => StatusCode::UNAUTHORIZED,
        E::Forbidden => StatusCode::FORBIDDEN,
        E::Conflict(_) => StatusCode::CONFLICT,
        E::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        E::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        E::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Logs an error's cause, once, where it is answered: internal errors in full,
/// a backing service's with email addresses redacted, bad input briefly.
pub fn log_cause(error: &shared::Error) {
    use shared::Error as E;
    match error {
        E::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
        E::Unavailable { service, cause } => {
            let cause = shared::telemetry::redact_emails(&format!("{cause:#}"));
            tracing::warn!(service, error = %cause, "backing service unavailable");
        }
        E::Invalid { field, reason } => tracing::info!(field, reason, "invalid input"),
        E::Conflict(reason) => tracing::info!(reason, "conflict"),
        E::NotFound | E::Unauthenticated | E::Forbidden | E::RateLimited => {}
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        // Causes are logged here, once; the client sees only the kind's message.
        let message = match &self.0 {
            e @ (shared::Error::Internal(_) | shared::Error::Unavailable { .. }) => {
                log_cause(e);
                match e {
                    shared::Error::Internal(_) => "internal error".to_owned(),
                    other => other.to_string(),
                }
            }
            other => other.to_string(),
        };
        HttpResponse::build(status).json(ErrorBody { error: message, status: status.as_u16() })
    }
}

/// The JSON body of every API error.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in plain words.
    pub error: String,
    /// The HTTP status, repeated.
    pub status: u16,
}

/// Result of a request handler.
pub type AppResult<T> = Result<T, AppError>;

/// A request body or query that does not parse: 422 with the parser's message,
/// which names the field ("missing field `title`", "unknown variant ...").
pub fn bad_input(part: &'static str, error: &dyn std::fmt::Display) -> actix_web::Error {
    AppError(shared::Error::invalid(part, error.to_string())).into()
}

/// A JSON body that could not be read: 413 when it is larger than the limit
/// (`JsonConfig`), else 422 with the parser's message naming the field.
pub fn bad_json(error: actix_web::error::JsonPayloadError) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    match error {
        J::Overflow { limit } | J::OverflowKnownLength { limit, .. } => too_large("body", limit),
        other => bad_input("body", &other),
    }
}

/// 413 for a request `part` larger than `limit` bytes, as the API's JSON error.
pub fn too_large(part: &'static str, limit: usize) -> actix_web::Error {
    actix_web::error::InternalError::from_response(format!("{part} too large"), too_large_answer(part, limit)).into()
}

/// The answer of [`too_large`], for a handler that reads its body itself.
pub fn too_large_answer(part: &'static str, limit: usize) -> HttpResponse {
    let status = StatusCode::PAYLOAD_TOO_LARGE;
    let error = format!("{part}: larger than the limit of {limit} bytes");
    HttpResponse::build(status).json(ErrorBody { error, status: status.as_u16() })
}
