//! Passwordless sign-in: ask for a link, confirm it, or type the code; sign out.
//!
//! The reply to "email me a link" is the same page, after the same work,
//! whether or not the address belongs to a client: the look-up and the email
//! happen after the answer. Links open a confirmation page and are redeemed by its
//! POST, so mail scanners that prefetch links cannot use them up.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
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

fn device(req: &HttpRequest) -> Device {
    Device {
        user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned),
        ip: req.peer_addr().map(|a| a.ip().to_string()),
    }
}

/// A form that asks for an email address (and on the code page, the code),
/// with the address typed so far and the locale key of what was wrong with it.
#[derive(Serialize)]
struct AddressForm<'a> {
    email: &'a str,
    error: Option<&'a str>,
}

impl<'a> AddressForm<'a> {
    const EMPTY: AddressForm<'static> = AddressForm { email: "", error: None };
}

/// A page that carries a signed token in its form.
#[derive(Serialize)]
struct TokenForm<'a> {
    token: &'a str,
}

#[get("/sign-in")]
async fn sign_in_page(ctx: PageCtx) -> HttpResponse {
    if ctx.viewer.is_some() {
        return see_other("/");
    }
    ctx.render(StatusCode::OK, "sign_in", "sign-in-title", AddressForm::EMPTY)
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

#[post("/sign-in")]
async fn request_link(ctx: PageCtx, req: HttpRequest, form: web::Form<EmailForm>) -> PageResult {
    let email = auth::normalize_email(&form.email);
    if !auth::looks_like_email(&email) {
        sign_in_metric("invalid_email");
        let form = AddressForm { email: &form.email, error: Some("error-email-invalid") };
        return Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, "sign_in", "sign-in-title", form));
    }
    let ip = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
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
    let answer =
        ctx.render(StatusCode::OK, "check_email", "check-email-title", AddressForm { email: &email, error: None });
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
    match ctx.state.db.run(move |conn| auth::redeem_link(conn, &tokens, &token, &device)).await {
        Ok(grant) => Ok(signed_in(&ctx, grant)),
        Err(shared::Error::Unauthenticated) => Ok(link_refused(&ctx)),
        Err(e) => Err(e.into()),
    }
}

#[get("/sign-in/code")]
async fn code_page(ctx: PageCtx) -> HttpResponse {
    ctx.render(StatusCode::OK, "code", "code-title", AddressForm::EMPTY)
}

#[derive(Deserialize)]
struct CodeForm {
    email: String,
    code: String,
}

#[post("/sign-in/code")]
async fn redeem_code(ctx: PageCtx, req: HttpRequest, form: web::Form<CodeForm>) -> PageResult {
    let CodeForm { email, code } = form.into_inner();
    // Pasted codes come with spaces or dashes ("123 456", " 988219 ", "123-456"): only digits count.
    let code: String = code.chars().filter(|c| !(c.is_whitespace() || matches!(c, '-' | '‐' | '‑' | '–'))).collect();
    let error = |ctx: &PageCtx, status, key: &str, email: &str| {
        Ok(ctx.render(status, "code", "code-title", AddressForm { email, error: Some(key) }))
    };
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return error(&ctx, StatusCode::UNPROCESSABLE_ENTITY, "error-code-invalid", &email);
    }
    let tokens = ctx.state.tokens.clone();
    let device = device(&req);
    let lookup = email.clone();
    match ctx.state.db.run(move |conn| auth::redeem_code(conn, &tokens, &lookup, &code, &device)).await {
        Ok(grant) => Ok(signed_in(&ctx, grant)),
        Err(shared::Error::Unauthenticated) => {
            sign_in_metric("refused");
            error(&ctx, StatusCode::UNAUTHORIZED, "error-code-wrong-body", &email)
        }
        Err(e) => Err(e.into()),
    }
}

fn signed_in(ctx: &PageCtx, grant: auth::SessionGrant) -> HttpResponse {
    tracing::info!(user = %grant.user_id, "signed in");
    sign_in_metric("redeemed");
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, "/"))
        .cookie(session::session_cookie(&ctx.state, grant.token))
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
        ctx.state.db.run(move |conn| auth::revoke_all_sessions(conn, &user_id)).await?;
    }
    Ok(signed_out(ctx, "signed-out-everywhere-body"))
}

fn signed_out(mut ctx: PageCtx, body: &str) -> HttpResponse {
    ctx.viewer = None;
    let mut response = ctx.message(StatusCode::OK, "signed-out-title", body, Some(("/sign-in", "back-to-sign-in")));
    let _ = response.add_cookie(&session::cleared_session_cookie(&ctx.state));
    response
}
