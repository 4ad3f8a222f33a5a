//! Passwordless sign-in: ask for a link, confirm it, or type the code; sign out.
//!
//! The reply to "email me a link" is the same page, after the same work,
//! whether or not the address belongs to a client: the look-up and the email
//! happen after the answer. Links open a confirmation page and are redeemed by its
//! POST, so mail scanners that prefetch links cannot use them up.
//!
//! A deep link survives sign-in: a signed-out visit to a client page is sent
//! to `/sign-in?next=<path>`, and the path also rides in a short-lived
//! cookie for the emailed link (opened in the same browser). After the code
//! or the link the client lands on that path — only ever a path of this site
//! ([`return_path`]); anything else lands on `/`.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use bytes::Bytes;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use shared::auth::{self, Device};
use shared::db::models::User;
use shared::db::schema::users;
use shared::domain::Role;
use shared::notifications::kinds::sign_in as sign_in_notice;
use shared::rate_limit;
use shared::tokens::Purpose;

use crate::pages::{PageCtx, PageResult, see_other};
use crate::session;
use crate::state::AppState;

/// Registers the sign-in routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sign_in_page)
        .service(request_link)
        .service(link_page)
        .service(redeem_link)
        .service(code_page)
        .service(redeem_code)
        .service(sign_out)
        .service(sign_out_everywhere);
}

/// The device a request comes from, recorded on the session it starts.
pub(crate) fn device(req: &HttpRequest) -> Device {
    Device {
        user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned),
        ip: session::client_ip(req),
    }
}

/// A form that asks for an email address (and on the code page, the code),
/// with the address typed so far, the locale key of what was wrong with it,
/// and the page to land on once signed in (empty for the dashboard).
#[derive(Serialize)]
struct AddressForm<'a> {
    email: &'a str,
    error: Option<&'a str>,
    next: &'a str,
    /// `next`, percent-encoded for a link's query.
    url_next: String,
}

impl<'a> AddressForm<'a> {
    /// The form with `email` typed, the locale key of what was wrong, landing on `next` once signed in.
    fn new(email: &'a str, error: Option<&'a str>, next: &'a str) -> Self {
        AddressForm { email, error, next, url_next: encode(next) }
    }

    /// An empty form that lands on `next` once signed in.
    fn empty(next: &'a str) -> Self {
        Self::new("", None, next)
    }
}

/// The cookie that carries the page to return to through an emailed link.
pub const RETURN_COOKIE: &str = "matterline_return";

/// `raw` if it is a path of this site to return to after sign-in: it starts
/// with one `/` (not `//`), has no backslash, no control character or space
/// (browsers drop tabs and line breaks from a `Location`, so `/<TAB>/host`
/// would become `//host`), and is of a sane length. Anything else (a scheme,
/// `//host`, `/\host`) is `None`, and the caller lands on `/`.
pub fn return_path(raw: &str) -> Option<&str> {
    let raw = raw.trim_matches(' ');
    let mut chars = raw.chars();
    let safe = chars.next() == Some('/')
        && chars.next() != Some('/')
        && !raw.contains('\\')
        && !raw.chars().any(|c| c.is_control() || c.is_whitespace())
        && raw.len() <= 512;
    safe.then_some(raw)
}

/// The answer to a signed-out visit of the client page `path` (with its
/// query): to the sign-in page, which brings the client back to `path`.
pub fn to_sign_in(state: &AppState, path: &str) -> HttpResponse {
    let Some(path) = return_path(path).filter(|p| *p != "/") else { return see_other("/sign-in") };
    let encoded = encode(path);
    let mut response = see_other(&format!("/sign-in?next={encoded}"));
    let _ = response.add_cookie(&return_cookie(state, encoded));
    response
}

/// `text` percent-encoded for a query or a cookie value.
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The cookie that keeps the (percent-encoded) path to return to for an hour,
/// sent only to the sign-in pages.
fn return_cookie(state: &AppState, encoded: String) -> Cookie<'static> {
    Cookie::build(RETURN_COOKIE, encoded)
        .path("/sign-in")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies())
        .max_age(CookieDuration::hours(1))
        .finish()
}

/// The path to return to kept in the request's cookie, if it is a safe one.
fn returning_to(req: &HttpRequest) -> Option<String> {
    let cookie = req.cookie(RETURN_COOKIE)?;
    let decoded = percent_encoding::percent_decode_str(cookie.value()).decode_utf8().ok()?;
    return_path(&decoded).map(str::to_owned)
}

/// The `next` a sign-in page was opened with.
#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

/// What the sign-in page may be opened with: the page to return to, and the
/// address to fill in (the link of an email whose firm turned one-tap links off).
#[derive(Deserialize)]
struct SignInQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    email: String,
}

/// A page that carries a signed token in its form.
#[derive(Serialize)]
struct TokenForm<'a> {
    token: &'a str,
}

#[get("/sign-in")]
async fn sign_in_page(ctx: PageCtx, query: web::Query<SignInQuery>) -> HttpResponse {
    let next = return_path(&query.next).unwrap_or_default();
    if ctx.viewer.is_some() {
        return see_other(if next.is_empty() { "/" } else { next });
    }
    // Only something shaped like an address is filled in: the field shows it back as typed.
    let email = auth::normalize_email(&query.email);
    let email = if auth::looks_like_email(&email) { email.as_str() } else { "" };
    ctx.render(StatusCode::OK, "sign_in", "sign-in-title", AddressForm::new(email, None, next))
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
    #[serde(default)]
    next: String,
}

#[post("/sign-in")]
async fn request_link(ctx: PageCtx, req: HttpRequest, form: web::Form<EmailForm>) -> PageResult {
    let email = auth::normalize_email(&form.email);
    if !auth::looks_like_email(&email) {
        sign_in_metric("invalid_email");
        let next = return_path(&form.next).unwrap_or_default();
        let form = AddressForm::new(&form.email, Some("error-email-invalid"), next);
        return Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, "sign_in", "sign-in-title", form));
    }
    let ip = session::client_ip(&req).unwrap_or_default();
    let state = ctx.state.clone();
    let (bucket_email, now) = (email.clone(), state.clock().now());
    // The limits (per IP, then per address) are all the request does with the
    // address, whoever it belongs to: the same queries, the same answer.
    let allowed = state
        .db
        .run(move |conn| {
            Ok(rate_limit::try_hit(conn, &rate_limit::bucket("sign-in-ip", &ip), rate_limit::SIGN_IN_PER_IP, now)?
                && rate_limit::try_hit(
                    conn,
                    &rate_limit::bucket("sign-in-email", &bucket_email),
                    rate_limit::SIGN_IN_PER_ADDRESS,
                    now,
                )?)
        })
        .await?;
    if !allowed {
        sign_in_metric("rate_limited");
        return Err(shared::Error::RateLimited.into());
    }
    let next = return_path(&form.next).unwrap_or_default();
    let mut answer =
        ctx.render(StatusCode::OK, "check_email", "check-email-title", AddressForm::new(&email, None, next));
    if !next.is_empty() {
        // The emailed link opens in this browser without the form: the cookie brings the client back.
        let _ = answer.add_cookie(&return_cookie(&state, encode(next)));
    }
    Ok(send_sign_in_after_answering(&state, email.clone(), answer))
}

/// An answer's body that, once dropped (written out, or its connection gone),
/// lets the work waiting on `answered` start.
struct ThenAnswered {
    body: BoxBody,
    /// Held for its drop, which is the signal.
    _answered: tokio::sync::oneshot::Sender<()>,
}

impl MessageBody for ThenAnswered {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// Looks the address up and, for each client account with it, queues a sign-in
/// and sends it, in a task that starts once `answer` has been written: nothing
/// of it runs while the answer is made, so whether the address is a client's
/// changes nothing the requester can time. The rows are queued before sending,
/// so a mail server that is down only delays the email (the notifier retries
/// it). The task is tracked from the start: a graceful stop waits for it
/// ([`AppState::background`]).
fn send_sign_in_after_answering(state: &AppState, email: String, answer: HttpResponse) -> HttpResponse {
    let (answered, when_answered) = tokio::sync::oneshot::channel::<()>();
    let state = state.clone();
    state.background.clone().spawn(async move {
        // Woken when the answer's body is dropped (the sender goes with it).
        let _ = when_answered.await;
        // The queue runs on the system clock, like the notifier that retries it.
        let now = shared::domain::now();
        let queued = state
            .db
            .run(move |conn| {
                let clients: Vec<User> = users::table
                    .filter(users::email.eq(&email))
                    .filter(users::role.eq(Role::Client))
                    .select(User::as_select())
                    .load(conn)?;
                clients.iter().map(|user| sign_in_notice::enqueue(conn, user, now)).collect::<shared::Result<Vec<_>>>()
            })
            .await;
        match queued {
            Ok(queued) if queued.is_empty() => {}
            Ok(queued) => {
                sign_in_metric("link_sent");
                state.notifications.deliver_now(queued).await;
            }
            Err(e) => tracing::error!(error = %e, "could not queue a sign-in email"),
        }
    });
    answer.map_body(|_, body| ThenAnswered { body, _answered: answered }).map_into_boxed_body()
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

#[get("/sign-in/link")]
async fn link_page(ctx: PageCtx, query: web::Query<TokenQuery>) -> HttpResponse {
    if ctx.state.tokens.verify(Purpose::SignIn, &query.token).is_err() {
        return link_refused(&ctx);
    }
    ctx.render(StatusCode::OK, "link", "link-title", TokenForm { token: &query.token })
}

fn sign_in_metric(outcome: &'static str) {
    metrics::counter!(shared::metrics::SIGN_INS, "outcome" => outcome).increment(1);
}

fn link_refused(ctx: &PageCtx) -> HttpResponse {
    sign_in_metric("refused");
    ctx.message(
        StatusCode::UNAUTHORIZED,
        "error-link-used-title",
        "error-link-used-body",
        Some(("/sign-in", "back-to-sign-in")),
    )
}

#[post("/sign-in/link")]
async fn redeem_link(ctx: PageCtx, req: HttpRequest, form: web::Form<TokenQuery>) -> PageResult {
    let tokens = ctx.state.tokens.clone();
    let token = form.into_inner().token;
    let device = device(&req);
    let next = returning_to(&req);
    match ctx.state.db.run(move |conn| auth::redeem_link(conn, &tokens, &token, &device)).await {
        Ok(grant) => Ok(signed_in(&ctx, grant, next.as_deref())),
        Err(shared::Error::Unauthenticated) => Ok(link_refused(&ctx)),
        Err(e) => Err(e.into()),
    }
}

#[get("/sign-in/code")]
async fn code_page(ctx: PageCtx, query: web::Query<NextQuery>) -> HttpResponse {
    let next = return_path(&query.next).unwrap_or_default();
    ctx.render(StatusCode::OK, "code", "code-title", AddressForm::empty(next))
}

#[derive(Deserialize)]
struct CodeForm {
    email: String,
    code: String,
    #[serde(default)]
    next: String,
}

#[post("/sign-in/code")]
async fn redeem_code(ctx: PageCtx, req: HttpRequest, form: web::Form<CodeForm>) -> PageResult {
    let CodeForm { email, code, next } = form.into_inner();
    // The page the form carries, else the one the cookie kept; unsafe ones are dropped.
    let next = return_path(&next).map(str::to_owned).or_else(|| returning_to(&req));
    // Pasted codes come with spaces or dashes ("123 456", " 988219 ", "123-456"): only digits count.
    let code: String = code.chars().filter(|c| !(c.is_whitespace() || matches!(c, '-' | '‐' | '‑' | '–'))).collect();
    let kept = next.clone().unwrap_or_default();
    let error = |ctx: &PageCtx, status, key: &str, email: &str| {
        Ok(ctx.render(status, "code", "code-title", AddressForm::new(email, Some(key), &kept)))
    };
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return error(&ctx, StatusCode::UNPROCESSABLE_ENTITY, "error-code-invalid", &email);
    }
    let tokens = ctx.state.tokens.clone();
    let device = device(&req);
    let lookup = email.clone();
    match ctx.state.db.run(move |conn| auth::redeem_code(conn, &tokens, &lookup, &code, &device)).await {
        Ok(grant) => Ok(signed_in(&ctx, grant, next.as_deref())),
        Err(shared::Error::Unauthenticated) => {
            sign_in_metric("refused");
            error(&ctx, StatusCode::UNAUTHORIZED, "error-code-wrong-body", &email)
        }
        Err(e) => Err(e.into()),
    }
}

/// Signed in: the session cookie, and on to `next` (a checked path) or the dashboard.
pub(crate) fn signed_in(ctx: &PageCtx, grant: auth::SessionGrant, next: Option<&str>) -> HttpResponse {
    tracing::info!(user = %grant.user_id, "signed in");
    sign_in_metric("redeemed");
    let mut spent = return_cookie(&ctx.state, String::new());
    spent.make_removal();
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, next.and_then(return_path).unwrap_or("/")))
        .cookie(session::session_cookie(&ctx.state, grant.token))
        .cookie(spent)
        .finish()
}

#[post("/sign-out")]
async fn sign_out(ctx: PageCtx) -> PageResult {
    if let Some(viewer) = &ctx.viewer {
        let id = viewer.session_id.clone();
        ctx.state.db.run(move |conn| auth::revoke_session(conn, &id)).await?;
    }
    Ok(signed_out(ctx, "signed-out-body"))
}

#[post("/sign-out/everywhere")]
async fn sign_out_everywhere(ctx: PageCtx) -> PageResult {
    if let Some(viewer) = &ctx.viewer {
        let user_id = viewer.user.id.clone();
        let tokens = ctx.state.tokens.clone();
        ctx.state.db.run(move |conn| auth::revoke_all_sessions(conn, &tokens, &user_id)).await?;
    }
    Ok(signed_out(ctx, "signed-out-everywhere-body"))
}

fn signed_out(mut ctx: PageCtx, body: &str) -> HttpResponse {
    ctx.viewer = None;
    let mut response = ctx.message(StatusCode::OK, "signed-out-title", body, Some(("/sign-in", "back-to-sign-in")));
    let _ = response.add_cookie(&session::cleared_session_cookie(&ctx.state));
    response
}

#[cfg(test)]
mod tests {
    use super::return_path;

    #[test]
    fn only_paths_of_this_site_are_returned_to() {
        assert_eq!(return_path("/matters/1"), Some("/matters/1"));
        assert_eq!(return_path("/matters/1/upload?request=2"), Some("/matters/1/upload?request=2"));
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/matters\\..\\evil",
            "",
            "matters",
            "javascript:alert(1)",
            "/a\r\nSet-Cookie: x",
            "/\t/evil.example",
            "\\/evil.example",
            "/\u{0}/evil.example",
        ] {
            assert_eq!(return_path(bad), None, "{bad:?} was accepted");
        }
    }
}
