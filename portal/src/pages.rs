//! Rendering HTML pages: the language, the signed-in user, the request path
//! and the firm's look every page needs ([`PageCtx`]), and one mapping from
//! errors to readable pages.
//!
//! Page handlers return [`PageResult`] and use `?` like the API's handlers: an
//! error becomes a [`PageError`], whose status comes from the one mapping in
//! [`crate::error::status_of`]; [`render_error_pages`] then answers it with the
//! readable page in the request's language.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use shared::domain::Language;
use shared::i18n;

use crate::routes::brand::{self, PageBrand};
use crate::session::{self, Authenticated, LANGUAGE_COOKIE};
use crate::state::AppState;

/// Everything a page handler needs about the request.
#[derive(Clone)]
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
    /// The firm the page answers for (see [`crate::routes::brand`]); the product's name when none.
    pub brand: Option<Arc<PageBrand>>,
}

impl FromRequest for PageCtx {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (state, viewer) = session::viewer_of(&req).await?;
            let mut ctx = PageCtx::new(&req, state, viewer);
            // Signed out: a token's firm wins over the host's (whose look `new` may have found cached).
            if ctx.viewer.is_none() && ctx.viewer_error.is_none() {
                ctx.brand = signed_out_brand(&ctx.state, &req).await;
                req.extensions_mut().insert(ctx.clone());
            }
            Ok(ctx)
        })
    }
}

/// The firm a signed-out page answers for: a token's user's on the pages reached
/// with one, else by the request's host (see [`crate::routes::brand`]). A
/// failure to find out is logged and shows the product's name.
async fn signed_out_brand(state: &AppState, req: &HttpRequest) -> Option<Arc<PageBrand>> {
    let found = match brand::for_token_page(state, req).await {
        Ok(Some(found)) => Ok(Some(found)),
        Ok(None) => brand::for_host(state, brand::host_of(req)).await,
        Err(e) => Err(e),
    };
    found.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the firm of a signed-out page could not be read");
        None
    })
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
        // Signed out: what is cached for the host now; the extractor finds it when it is not.
        let brand = match &viewer {
            Some(v) => Some(v.brand.clone()),
            None => brand::peek_host(&brand::AppKey::of(&state), &brand::host_of(req)),
        };
        let ctx = PageCtx { state, lang, path, viewer, viewer_error, request_id, brand };
        // Kept for the error page, should the handler answer with an error.
        req.extensions_mut().insert(ctx.clone());
        ctx
    }

    /// A signed-out page context made from what was read of a request
    /// beforehand, for an answer made once the request itself is gone (to a
    /// panic that unwound through it).
    pub fn detached(state: web::Data<AppState>, hints: &LanguageHints, path: String, request_id: String) -> Self {
        PageCtx { state, lang: hints.choose(None), path, viewer: None, viewer_error: None, request_id, brand: None }
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

    /// What every page shows around its body, for a page titled `title`.
    fn frame(&self, title: String) -> Frame<'_> {
        let firm = self.brand.as_deref();
        Frame {
            lang: self.lang,
            languages: language_choices(self.state.renderer.locales(), self.lang),
            path: &self.path,
            title,
            brand: firm.map_or_else(|| self.text("app-name"), |b| b.name.clone()),
            brand_logo: firm.and_then(|b| b.logo.as_deref()),
            brand_css: firm.and_then(PageBrand::stylesheet),
            theme_colour: firm.map_or(shared::branding::DEFAULT_ACCENT, |b| b.accent.as_str()),
            brand_phone: firm.and_then(|b| b.phone.as_deref()).filter(|p| !p.trim().is_empty()),
            brand_tel: firm
                .and_then(|b| b.phone.as_deref())
                .map(|p| p.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect::<String>()),
            user: self.viewer.as_ref().map(|v| SignedInAs { name: &v.user.full_name }),
        }
    }

    /// Renders `template` with `data` (a view struct, or an object) plus what every page needs.
    pub fn render(&self, status: StatusCode, template: &str, title_key: &str, data: impl Serialize) -> HttpResponse {
        let frame = self.frame(self.text(title_key));
        // One JSON value for the template: the frame's fields, then the page's,
        // so the page's own data wins (a matter's title names its page).
        let context = match serde_json::to_value(WithFrame { frame, data }) {
            Ok(context) => context,
            Err(e) => return self.error(shared::Error::Internal(anyhow::anyhow!("page data of {template}: {e}"))),
        };
        let rendered = with_page_buffer(|buffer| {
            self.state.renderer.page_into(template, context, buffer)?;
            Ok(actix_web::web::Bytes::copy_from_slice(buffer))
        });
        match rendered {
            Ok(html) => self.html(status, html),
            Err(e) => {
                tracing::error!(error = %e, template, "page failed to render");
                HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body(self.text("error-internal-title"))
            }
        }
    }

    /// Renders `template` titled `title` with `data` (which must not set the
    /// frame's other keys) in parts: the body, and the layout's text before
    /// and after it with the frame it was rendered from. A kept page is
    /// answered again from its parts ([`PageCtx::answer_parts`]).
    pub fn render_parts(&self, template: &str, title: &str, data: impl Serialize) -> shared::Result<PageParts> {
        let fail = |e: serde_json::Error| shared::Error::Internal(anyhow::anyhow!("page data of {template}: {e}"));
        let context = serde_json::to_value(WithFrame { frame: self.frame(title.to_owned()), data }).map_err(fail)?;
        let body = with_page_buffer(|buffer| {
            self.state.renderer.body_into(template, context, buffer)?;
            Ok(actix_web::web::Bytes::copy_from_slice(buffer))
        })?;
        let frame = self.frame_value(title)?;
        let (before, after) = self.state.renderer.layout_parts(&frame)?;
        Ok(PageParts { frame, before: before.into(), body, after: after.into() })
    }

    /// The frame of this request for a page titled `title`, as [`PageParts`] keep it.
    pub fn frame_value(&self, title: &str) -> shared::Result<serde_json::Value> {
        serde_json::to_value(self.frame(title.to_owned()))
            .map_err(|e| shared::Error::Internal(anyhow::anyhow!("the page's frame: {e}")))
    }

    /// The page made of `parts`, for this request: as kept when its frame is
    /// this request's (`frame`), else its body in a layout rendered again.
    pub fn answer_parts(&self, status: StatusCode, parts: &PageParts, frame: &serde_json::Value) -> HttpResponse {
        let relaid;
        let (before, after) = if parts.frame == *frame {
            (&parts.before[..], &parts.after[..])
        } else {
            match self.state.renderer.layout_parts(frame) {
                Ok(found) => {
                    relaid = found;
                    (relaid.0.as_bytes(), relaid.1.as_bytes())
                }
                Err(e) => return self.error(e),
            }
        };
        let mut html = bytes::BytesMut::with_capacity(before.len() + parts.body.len() + after.len());
        html.extend_from_slice(before);
        html.extend_from_slice(&parts.body);
        html.extend_from_slice(after);
        self.html(status, html.freeze())
    }

    /// An HTML answer in the page's language, never stored by caches.
    fn html(&self, status: StatusCode, html: actix_web::web::Bytes) -> HttpResponse {
        let mut response = HttpResponse::build(status);
        response.content_type("text/html; charset=utf-8");
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        response.insert_header((header::CONTENT_LANGUAGE, self.lang.as_str()));
        response.body(html)
    }

    /// A page with a heading, a paragraph and an optional link (all locale keys).
    pub fn message(&self, status: StatusCode, heading: &str, body: &str, action: Option<(&str, &str)>) -> HttpResponse {
        let page = MessagePage {
            heading,
            body,
            request_id: (status.is_client_error() || status.is_server_error()).then_some(self.request_id.as_str()),
            action_href: action.map(|a| a.0),
            action_label: action.map(|a| a.1),
        };
        self.render(status, "message", heading, page)
    }

    /// The readable page for an error (its cause logged here, never shown).
    pub fn error(&self, error: shared::Error) -> HttpResponse {
        let answer = PageError::from(error).error_response();
        self.answer_error(answer)
    }

    /// Renders the page an error answer asks for; any other answer passes.
    fn answer_error(&self, answer: HttpResponse) -> HttpResponse {
        let page = answer.extensions().get::<ErrorPage>().copied();
        match page {
            Some(page) => {
                let home = page.home.then_some(("/", "back-to-my-cases"));
                self.message(answer.status(), page.heading, page.body, home)
            }
            None => answer,
        }
    }
}

/// Bytes a worker thread's page buffer starts with (a matter page is about this size).
const PAGE_BUFFER_START: usize = 32 * 1024;
/// A page buffer grown past this by an unusually large page is replaced after it.
const PAGE_BUFFER_KEPT: usize = 1024 * 1024;

thread_local! {
    /// Each worker thread renders its pages into one buffer, reused from page to
    /// page, and the answer takes a copy of exactly the page's size: no string
    /// growing by doubling and no UTF-8 check of the whole page per request.
    static PAGE_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(PAGE_BUFFER_START));
}

/// Runs `render` with this worker thread's page buffer; a buffer grown far
/// past a usual page does not keep its memory.
fn with_page_buffer<T>(render: impl FnOnce(&mut Vec<u8>) -> shared::Result<T>) -> shared::Result<T> {
    PAGE_BUFFER.with_borrow_mut(|buffer| {
        buffer.clear();
        let done = render(buffer);
        if buffer.capacity() > PAGE_BUFFER_KEPT {
            *buffer = Vec::with_capacity(PAGE_BUFFER_START);
        }
        done
    })
}

/// A page rendered in parts ([`PageCtx::render_parts`]): kept, it is answered
/// again as `before + body + after` while its frame is the request's.
#[derive(Debug)]
pub struct PageParts {
    /// The layout's data the parts were rendered with.
    pub frame: serde_json::Value,
    /// The layout before the body.
    pub before: actix_web::web::Bytes,
    /// The page's own template, rendered.
    pub body: actix_web::web::Bytes,
    /// The layout after the body.
    pub after: actix_web::web::Bytes,
}

impl PageParts {
    /// Bytes the parts hold (the frame roughly).
    pub fn size(&self) -> usize {
        self.before.len() + self.body.len() + self.after.len() + 2 * 1024
    }
}

/// A page's data after the frame's, in one JSON object (the later key wins).
#[derive(Serialize)]
struct WithFrame<'a, T> {
    #[serde(flatten)]
    frame: Frame<'a>,
    #[serde(flatten)]
    data: T,
}

/// What every page shows: its language, path (for the language switcher), title,
/// the firm's name, logo, colour and phone, and who is signed in.
#[derive(Serialize)]
struct Frame<'a> {
    lang: Language,
    /// Every loaded language, for the language switcher and staff forms.
    languages: Vec<LanguageChoice>,
    path: &'a str,
    title: String,
    brand: String,
    /// Path of the firm's logo.
    brand_logo: Option<&'a str>,
    /// The stylesheet setting the firm's accent colour, when it has its own.
    brand_css: Option<String>,
    /// `<meta name="theme-color">`.
    theme_colour: &'a str,
    /// The firm's phone, for the signed-out footer.
    brand_phone: Option<&'a str>,
    /// The phone as a `tel:` link wants it (digits and `+`).
    brand_tel: Option<String>,
    user: Option<SignedInAs<'a>>,
}

/// A language a page offers: its tag, its name in itself, and whether it is the page's.
#[derive(Debug, Serialize)]
pub struct LanguageChoice {
    /// The tag, e.g. `es`.
    pub code: Language,
    /// Its name in itself, e.g. "Español".
    pub name: String,
    /// Whether it is the language of the page (or the person it lists the choices for).
    pub current: bool,
}

/// The loaded languages as choices, `current` marked.
pub fn language_choices(locales: &i18n::Locales, current: Language) -> Vec<LanguageChoice> {
    locales
        .languages()
        .iter()
        .map(|&code| LanguageChoice { code, name: locales.name(code), current: code == current })
        .collect()
}

/// The signed-in person, as the page header names them.
#[derive(Serialize)]
struct SignedInAs<'a> {
    name: &'a str,
}

/// A page with a heading, a paragraph and an optional link (locale keys), and
/// on an error, the request id a client can quote.
#[derive(Serialize)]
struct MessagePage<'a> {
    heading: &'a str,
    body: &'a str,
    request_id: Option<&'a str>,
    action_href: Option<&'a str>,
    action_label: Option<&'a str>,
}

/// What a page handler answers: the page (or a redirect), or an error shown as a page.
pub type PageResult = Result<HttpResponse, PageError>;

/// An error a page answers with.
#[derive(Debug)]
pub enum PageError {
    /// Shown as the readable page for its kind; "not signed in" sends to the client sign-in.
    Error(shared::Error),
    /// A 303 redirect (e.g. to the staff sign-in for a staff page).
    SeeOther(&'static str),
}

impl From<shared::Error> for PageError {
    fn from(e: shared::Error) -> Self {
        Self::Error(e)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Error(e) => e.fmt(f),
            Self::SeeOther(to) => write!(f, "see {to}"),
        }
    }
}

/// The readable page for an error kind: locale keys of its heading and text,
/// and whether it offers the way back to the client's cases.
#[derive(Debug, Clone, Copy)]
struct ErrorPage {
    heading: &'static str,
    body: &'static str,
    home: bool,
}

impl ErrorPage {
    fn of(error: &shared::Error) -> Self {
        use shared::Error as E;
        let (heading, body, home) = match error {
            E::NotFound => ("error-not-found-title", "error-not-found-body", true),
            E::Forbidden => ("error-forbidden-title", "error-forbidden-body", true),
            E::RateLimited => ("error-rate-limited-title", "error-rate-limited-body", false),
            E::Unavailable { service: "mail", .. } => ("error-mail-down-title", "error-mail-down-body", false),
            E::Unavailable { .. } => ("error-unavailable-title", "error-unavailable-body", false),
            E::Invalid { .. } | E::Conflict(_) => ("error-invalid-title", "", true),
            E::Internal(_) | E::Unauthenticated => ("error-internal-title", "error-internal-body", true),
        };
        Self { heading, body, home }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Error(shared::Error::Unauthenticated) | Self::SeeOther(_) => StatusCode::SEE_OTHER,
            Self::Error(e) => crate::error::status_of(e),
        }
    }

    /// The status, and what page to show, for [`render_error_pages`] to render
    /// in the request's language. The cause is logged here, once.
    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Error(shared::Error::Unauthenticated) => see_other("/sign-in"),
            Self::SeeOther(to) => see_other(to),
            Self::Error(e) => {
                crate::error::log_cause(e);
                let mut response = HttpResponse::build(self.status_code()).finish();
                response.extensions_mut().insert(ErrorPage::of(e));
                response
            }
        }
    }
}

/// Middleware: renders the readable page for a [`PageError`] answer, with the
/// page context of the request (or, before one was made, a signed-out one).
pub async fn render_error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(req).await?;
    if response.response().extensions().get::<ErrorPage>().is_none() {
        return Ok(response.map_into_left_body());
    }
    let (req, answer) = response.into_parts();
    let ctx = req.extensions().get::<PageCtx>().cloned();
    let ctx = match ctx {
        Some(ctx) => ctx,
        None => match req.app_data::<web::Data<AppState>>() {
            Some(state) => {
                let mut ctx = PageCtx::new(&req, state.clone(), Ok(None));
                if ctx.brand.is_none() {
                    ctx.brand = signed_out_brand(state, &req).await;
                }
                ctx
            }
            None => return Ok(ServiceResponse::new(req, answer.map_into_boxed_body()).map_into_right_body()),
        },
    };
    let page = ctx.answer_error(answer.map_into_boxed_body());
    Ok(ServiceResponse::new(req, page).map_into_right_body())
}

/// A 303 redirect to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}
