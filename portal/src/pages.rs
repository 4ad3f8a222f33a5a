//! Rendering HTML pages: the language, the signed-in user and the request path
//! every page needs, and one mapping from errors to readable pages.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use shared::domain::Language;
use shared::i18n;

use crate::session::{self, Authenticated, LANGUAGE_COOKIE};
use crate::state::AppState;

/// Everything a page handler needs about the request.
pub struct PageCtx {
    /// Application state.
    pub state: web::Data<AppState>,
    /// The language to answer in.
    pub lang: Language,
    /// The request path (for the language switcher's return).
    pub path: String,
    /// The signed-in user, if any.
    pub viewer: Option<Authenticated>,
    /// Set when the session could not be checked (database down).
    viewer_error: Option<String>,
    /// The request id, shown on error pages so a client can quote it.
    pub request_id: String,
}

impl FromRequest for PageCtx {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (state, viewer) = session::viewer_of(&req).await?;
            Ok(PageCtx::new(&req, state, viewer))
        })
    }
}

/// The client's language preferences a request carries (cookie and
/// `Accept-Language`), for choosing a language before the session is known.
#[derive(Debug, Clone)]
pub struct LanguageHints {
    cookie: Option<String>,
    accept: Option<String>,
}

impl LanguageHints {
    /// The hints of `req`.
    pub fn of(req: &HttpRequest) -> Self {
        Self {
            cookie: req.cookie(LANGUAGE_COOKIE).map(|c| c.value().to_owned()),
            accept: req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(str::to_owned),
        }
    }

    /// The page language: the signed-in user's saved preference, else the cookie, else `Accept-Language`.
    pub fn choose(&self, saved: Option<Language>) -> Language {
        saved.unwrap_or_else(|| i18n::negotiate(self.cookie.as_deref(), self.accept.as_deref()))
    }
}

impl PageCtx {
    /// The page context of `req` for the session check's outcome `viewer`.
    pub fn new(req: &HttpRequest, state: web::Data<AppState>, viewer: shared::Result<Option<Authenticated>>) -> Self {
        let (viewer, viewer_error) = match viewer {
            Ok(viewer) => (viewer, None),
            Err(e) => (None, Some(e.to_string())),
        };
        let request_id = req.extensions().get::<crate::observe::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let lang = LanguageHints::of(req).choose(viewer.as_ref().map(|v| v.user.language));
        let path = match req.query_string() {
            "" => req.path().to_owned(),
            q => format!("{}?{q}", req.path()),
        };
        PageCtx { state, lang, path, viewer, viewer_error, request_id }
    }

    /// The page context for what [`session::SignedIn::run`] found, and the work's
    /// result (the error to show when nobody is signed in or the check failed).
    pub fn checked<T>(
        signed_in: &session::SignedIn,
        checked: shared::Result<session::Checked<T>>,
    ) -> (Self, shared::Result<T>) {
        let (req, state) = (signed_in.request(), signed_in.state().clone());
        match checked {
            Err(e) => {
                // Shown as the database being unavailable, as on every other page.
                let ctx = PageCtx::new(req, state, Err(e));
                let error = ctx.require_user().err().unwrap_or(shared::Error::Unauthenticated);
                (ctx, Err(error))
            }
            Ok(session::Checked::Nobody) => (PageCtx::new(req, state, Ok(None)), Err(shared::Error::Unauthenticated)),
            Ok(session::Checked::Viewer(viewer, done)) => (PageCtx::new(req, state, Ok(Some(*viewer))), done),
        }
    }

    /// The signed-in user, or the error to answer with (sign-in redirect, or unavailable).
    pub fn require_user(&self) -> Result<&Authenticated, shared::Error> {
        match (&self.viewer, &self.viewer_error) {
            (Some(viewer), _) => Ok(viewer),
            (None, Some(e)) => Err(shared::Error::Unavailable { service: "database", cause: anyhow::anyhow!("{e}") }),
            (None, None) => Err(shared::Error::Unauthenticated),
        }
    }

    /// A message in the page's language.
    pub fn text(&self, key: &str) -> String {
        self.state.renderer.locales().text(self.lang, key)
    }

    /// A date in the page's language and the firm's time zone, e.g. "November 28, 2026".
    pub fn date(&self, at: chrono::NaiveDateTime) -> String {
        let zone = self.viewer.as_ref().map_or("UTC", |v| v.firm_time_zone.as_str());
        self.state.renderer.locales().date(self.lang, shared::domain::local_date(zone, at))
    }

    /// Renders `template` with `data` (an object) plus what every page needs.
    pub fn render(&self, status: StatusCode, template: &str, title_key: &str, data: Value) -> HttpResponse {
        let mut context = json!({
            "lang": self.lang.as_str(),
            "path": self.path,
            "title": self.text(title_key),
            "brand": self.viewer.as_ref().map_or_else(|| self.text("app-name"), |v| v.firm_name.clone()),
            "user": self.viewer.as_ref().map(|v| json!({ "name": v.user.full_name })),
        });
        if let (Some(base), Value::Object(extra)) = (context.as_object_mut(), data) {
            base.extend(extra);
        }
        match self.state.renderer.page(template, context) {
            Ok(html) => {
                let mut response = HttpResponse::build(status);
                response.content_type("text/html; charset=utf-8");
                response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
                response.insert_header((header::CONTENT_LANGUAGE, self.lang.as_str()));
                response.body(html)
            }
            Err(e) => {
                tracing::error!(error = %e, template, "page failed to render");
                HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body(self.text("error-internal-title"))
            }
        }
    }

    /// A page with a heading, a paragraph and an optional link (all locale keys).
    pub fn message(&self, status: StatusCode, heading: &str, body: &str, action: Option<(&str, &str)>) -> HttpResponse {
        self.render(
            status,
            "message",
            heading,
            json!({
                "heading": heading,
                "body": body,
                "request_id": (status.is_client_error() || status.is_server_error()).then(|| self.request_id.clone()),
                "action_href": action.map(|a| a.0),
                "action_label": action.map(|a| a.1),
            }),
        )
    }

    /// The readable page for an error. Causes are logged here, never shown.
    pub fn error(&self, error: shared::Error) -> HttpResponse {
        use shared::Error as E;
        let home = Some(("/", "back-to-my-cases"));
        match error {
            E::NotFound => self.message(StatusCode::NOT_FOUND, "error-not-found-title", "error-not-found-body", home),
            E::Unauthenticated => HttpResponse::SeeOther().insert_header((header::LOCATION, "/sign-in")).finish(),
            E::Forbidden => self.message(StatusCode::FORBIDDEN, "error-forbidden-title", "error-forbidden-body", home),
            E::RateLimited => {
                self.message(StatusCode::TOO_MANY_REQUESTS, "error-rate-limited-title", "error-rate-limited-body", None)
            }
            E::Unavailable { service, cause } => {
                let cause = shared::telemetry::redact_emails(&format!("{cause:#}"));
                tracing::warn!(service, error = %cause, path = %self.path, "backing service unavailable");
                let (title, body) = if service == "mail" {
                    ("error-mail-down-title", "error-mail-down-body")
                } else {
                    ("error-unavailable-title", "error-unavailable-body")
                };
                self.message(StatusCode::SERVICE_UNAVAILABLE, title, body, None)
            }
            E::Invalid { field, reason } => {
                tracing::info!(field, reason, path = %self.path, "invalid input");
                self.message(StatusCode::UNPROCESSABLE_ENTITY, "error-invalid-title", "", home)
            }
            E::Conflict(reason) => {
                tracing::info!(reason, path = %self.path, "conflict");
                self.message(StatusCode::CONFLICT, "error-invalid-title", "", home)
            }
            E::Internal(cause) => {
                tracing::error!(error = ?cause, path = %self.path, "request failed");
                self.message(StatusCode::INTERNAL_SERVER_ERROR, "error-internal-title", "error-internal-body", home)
            }
        }
    }
}

/// A 303 redirect to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}
