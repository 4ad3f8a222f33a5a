//! Staff sign-in: email, password and the authenticator app's code, on one
//! form (and as JSON for the API). Sign-out is the shared `/sign-out`. Too many
//! recent failures for an address answer 429 with `Retry-After`, whoever's
//! address it is ([`crate::staff_auth`]).

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
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
    /// Too many recent failures for this address: try again in this many seconds
    /// (nothing was checked; the same for every address).
    Wait(i64),
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
    let (email, password, code, tokens, totp_key) =
        (email.to_owned(), password.to_owned(), code.to_owned(), state.tokens.clone(), state.totp_key.clone());
    let now = state.clock().now();
    let outcome = state
        .db
        .run(move |conn| {
            let ip = device.ip.clone().unwrap_or_default();
            if !rate_limit::try_hit(conn, &rate_limit::bucket("staff-sign-in-ip", &ip), PER_IP, now)? {
                return Err(shared::Error::RateLimited);
            }
            staff_auth::sign_in(conn, &tokens, &totp_key, &email, &password, &code, &device, now)
        })
        .await?;
    let (attempt, label) = match outcome {
        Ok(grant) => (Attempt::Granted(grant), "staff_signed_in"),
        Err(Refused::WrongCredentials) => (Attempt::Wrong, "staff_refused"),
        // Whole seconds, rounded up: a try after that many seconds is not refused.
        Err(Refused::Wait(wait)) => {
            (Attempt::Wait((wait.num_milliseconds() + 999).div_euclid(1000).max(1)), "staff_throttled")
        }
    };
    metrics::counter!(shared::metrics::SIGN_INS, "outcome" => label).increment(1);
    match &attempt {
        Attempt::Granted(grant) => tracing::info!(user = %grant.user_id, "staff signed in"),
        Attempt::Wrong => tracing::info!("staff sign-in refused"),
        Attempt::Wait(seconds) => tracing::warn!(seconds, "staff sign-in refused: too many recent failures"),
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
/// was refused, and how many seconds the next try must wait.
#[derive(Serialize, Default)]
struct SignInView<'a> {
    email: &'a str,
    /// The password typed, put back after any refusal (a wrong authenticator code is
    /// the usual one), whatever was wrong: the page tells nothing about which part was.
    password: &'a str,
    error: Option<&'a str>,
    seconds: Option<i64>,
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
    code: String,
}

#[post("/staff/sign-in")]
async fn submit(ctx: PageCtx, req: HttpRequest, form: web::Form<SignInForm>) -> PageResult {
    let refused = |ctx: &PageCtx, status: StatusCode, error: &str, seconds: Option<i64>| {
        let view = SignInView { email: &form.email, password: &form.password, error: Some(error), seconds };
        ctx.render(status, "staff_sign_in", "staff-sign-in-title", view)
    };
    match attempt_sign_in(&ctx.state, &req, &form.email, &form.password, &form.code).await? {
        Attempt::Granted(grant) => Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, "/staff"))
            .cookie(session::session_cookie(&ctx.state, grant.token))
            .finish()),
        Attempt::Wrong => Ok(refused(&ctx, StatusCode::UNAUTHORIZED, "staff-sign-in-wrong", None)),
        Attempt::Wait(seconds) => {
            let mut answer = refused(&ctx, StatusCode::TOO_MANY_REQUESTS, "staff-sign-in-wait", Some(seconds));
            answer.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
            Ok(answer)
        }
    }
}
