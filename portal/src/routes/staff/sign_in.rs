//! Staff sign-in: email, password and the authenticator app's code, on one
//! form (and as JSON for the API). Sign-out is the shared `/sign-out`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use shared::auth::{Device, SessionGrant};
use shared::rate_limit::{self, Limit};

use crate::pages::{PageCtx, PageResult, see_other};
use crate::session;
use crate::staff_auth::{self, Refused};
use crate::state::AppState;

/// Staff sign-in attempts per IP address: generous for an office, hard for guessing.
const PER_IP: Limit = Limit { max: 30, window: chrono::Duration::minutes(15) };

/// Registers the staff sign-in pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(submit);
}

/// What a sign-in attempt came to.
pub enum Attempt {
    /// Signed in.
    Granted(SessionGrant),
    /// Email, password or code is wrong.
    Wrong,
    /// The account is locked until then (UTC).
    Locked(NaiveDateTime),
}

/// Checks the credentials (rate-limited per IP) and creates a session.
pub async fn attempt_sign_in(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: &str,
    code: &str,
) -> shared::Result<Attempt> {
    let device = Device {
        user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned),
        ip: session::client_ip(req),
    };
    let (email, password, code, tokens) =
        (email.to_owned(), password.to_owned(), code.to_owned(), state.tokens.clone());
    let outcome = state
        .db
        .run(move |conn| {
            let ip = device.ip.clone().unwrap_or_default();
            if !rate_limit::try_hit(conn, &rate_limit::bucket("staff-sign-in-ip", &ip), PER_IP)? {
                return Err(shared::Error::RateLimited);
            }
            staff_auth::sign_in(conn, &tokens, &email, &password, &code, &device, shared::domain::now())
        })
        .await?;
    let (attempt, label) = match outcome {
        Ok(grant) => (Attempt::Granted(grant), "staff_signed_in"),
        Err(Refused::WrongCredentials) => (Attempt::Wrong, "staff_refused"),
        Err(Refused::Locked(until)) => (Attempt::Locked(until), "staff_locked"),
    };
    metrics::counter!(shared::metrics::SIGN_INS, "outcome" => label).increment(1);
    match &attempt {
        Attempt::Granted(grant) => tracing::info!(user = %grant.user_id, "staff signed in"),
        Attempt::Wrong => tracing::info!("staff sign-in refused"),
        Attempt::Locked(until) => tracing::warn!(%until, "staff sign-in refused: account locked"),
    }
    Ok(attempt)
}

#[get("/staff/sign-in")]
async fn page(ctx: PageCtx) -> HttpResponse {
    if ctx.viewer.as_ref().is_some_and(|v| super::is_staff(&v.user)) {
        return see_other("/staff");
    }
    ctx.render(StatusCode::OK, "staff_sign_in", "staff-sign-in-title", SignInView::default())
}

/// The staff sign-in form: the address typed so far, the locale key of why it
/// was refused, and until when a locked account waits.
#[derive(Serialize, Default)]
struct SignInView<'a> {
    email: &'a str,
    error: Option<&'a str>,
    until: Option<String>,
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
    code: String,
}

#[post("/staff/sign-in")]
async fn submit(ctx: PageCtx, req: HttpRequest, form: web::Form<SignInForm>) -> PageResult {
    let refused = |ctx: &PageCtx, status: StatusCode, error: &str, until: Option<String>| {
        let view = SignInView { email: &form.email, error: Some(error), until };
        Ok(ctx.render(status, "staff_sign_in", "staff-sign-in-title", view))
    };
    match attempt_sign_in(&ctx.state, &req, &form.email, &form.password, &form.code).await? {
        Attempt::Granted(grant) => Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, "/staff"))
            .cookie(session::session_cookie(&ctx.state, grant.token))
            .finish()),
        Attempt::Wrong => refused(&ctx, StatusCode::UNAUTHORIZED, "staff-sign-in-wrong", None),
        Attempt::Locked(until) => {
            let until = until.and_utc().format("%H:%M UTC").to_string();
            refused(&ctx, StatusCode::TOO_MANY_REQUESTS, "staff-sign-in-locked", Some(until))
        }
    }
}
