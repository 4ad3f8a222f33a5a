//! The error policy, in one place.
//!
//! - Queries and domain functions in `shared` return [`Result<T>`] with an
//!   [`Error`] whose *kind* says what the caller should do about it.
//! - The portal maps each kind to exactly one HTTP status, in one function
//!   (`portal::error`); pages and the API show the kind's message, never the cause.
//! - Causes (`anyhow` chains) are logged once, where the error is answered,
//!   with the request id; they never reach a client (they may hold paths or SQL).
//! - Binaries use `anyhow` at start-up and in commands; a configuration error
//!   prints one line and exits 2, without a stack trace.
//! - `NotFound` is also the answer for "exists but is not yours": callers must
//!   not be able to tell the two apart.

/// What went wrong, as far as the caller needs to know.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record does not exist, or the caller may not see it.
    #[error("not found")]
    NotFound,
    /// Input failed validation; `field` names the offending input.
    #[error("{field}: {reason}")]
    Invalid {
        /// Name of the field or parameter.
        field: &'static str,
        /// What is wrong with it, in plain words.
        reason: String,
    },
    /// No valid session or token.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but the role may not do this (a case manager on an admin-only action).
    #[error("not allowed for your role")]
    Forbidden,
    /// The request conflicts with the current state (e.g. a token already used).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again later.
    #[error("too many attempts")]
    RateLimited,
    /// A backing service (database, storage, mail) is unreachable.
    #[error("{service} is unavailable")]
    Unavailable {
        /// Which service: "database", "storage", "mail".
        service: &'static str,
        /// The underlying failure, for the log.
        #[source]
        cause: anyhow::Error,
    },
    /// Anything else: a bug or an unexpected state. Logged, shown as a generic message.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Result with the shared [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A validation error for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid { field, reason: reason.into() }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match e {
            D::NotFound => Self::NotFound,
            D::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, info) => {
                Self::Unavailable { service: "database", cause: anyhow::anyhow!("{}", info.message()) }
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable { service: "database", cause: e.into() }
    }
}
