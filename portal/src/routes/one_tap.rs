//! One-tap links from client emails (see `shared::one_tap`): `GET /one-tap`
//! shows a confirmation page and uses nothing up (mail scanners prefetch
//! links); its button's `POST` signs the client in and lands on the page the
//! email was about. A used, expired, revoked or unknown link gets a readable
//! page, in the client's language, that offers a fresh code with the client's
//! address filled in (a form posting to the ordinary sign-in).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use shared::db::models::User;
use shared::one_tap::{self, Opened, Redeemed};
use shared::rate_limit;

use crate::pages::{PageCtx, PageResult};
use crate::routes::brand;
use crate::routes::sign_in::return_path;
use crate::session;

/// Registers the one-tap routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(one_tap_page).service(one_tap_redeem);
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    token: String,
}

/// The confirmation page's data.
#[derive(Serialize)]
struct Confirm<'a> {
    token: &'a str,
}

/// The "no longer works" page's data: the address to send a fresh code to,
/// and the page to land on once signed in.
#[derive(Serialize)]
struct Spent<'a> {
    email: &'a str,
    next: &'a str,
}

/// Answers in `user`'s language (unless the visitor chose one with the
/// switcher) and their firm's look: the page is about them.
async fn as_for(ctx: &mut PageCtx, req: &HttpRequest, user: &User) {
    if req.cookie(session::LANGUAGE_COOKIE).is_none() {
        ctx.lang = user.language;
    }
    match brand::for_user(&ctx.state, user.id.clone()).await {
        Ok(Some(found)) => ctx.brand = Some(found),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "the firm of a one-tap page could not be read"),
    }
}

/// Pages that carry a live secret are never stored by a cache.
fn private(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page for a link that cannot sign in: a fresh code for its client's
/// address, landing on its page (nothing filled in when the link is unknown).
async fn spent_page(mut ctx: PageCtx, req: &HttpRequest, spent: Option<(User, String)>) -> HttpResponse {
    metrics::counter!(shared::metrics::SIGN_INS, "outcome" => "refused").increment(1);
    if let Some((user, _)) = &spent {
        as_for(&mut ctx, req, user).await;
    }
    let (email, next) = match &spent {
        Some((user, target)) => (user.email.as_str(), return_path(target).filter(|p| *p != "/").unwrap_or_default()),
        None => ("", ""),
    };
    private(ctx.render(StatusCode::UNAUTHORIZED, "one_tap_spent", "one-tap-spent-title", Spent { email, next }))
}

#[get("/one-tap")]
async fn one_tap_page(mut ctx: PageCtx, req: HttpRequest, query: web::Query<TokenForm>) -> PageResult {
    let token = query.into_inner().token;
    let now = ctx.state.tokens.clock().now();
    let lookup = token.clone();
    let opened = ctx.state.db.run(move |conn| one_tap::open(conn, &lookup, now)).await?;
    Ok(match opened {
        Opened::Live(user) => {
            as_for(&mut ctx, &req, &user).await;
            private(ctx.render(StatusCode::OK, "one_tap", "one-tap-title", Confirm { token: &token }))
        }
        Opened::Spent(user, target) => spent_page(ctx, &req, Some((user, target))).await,
        Opened::Unknown => spent_page(ctx, &req, None).await,
    })
}

#[post("/one-tap")]
async fn one_tap_redeem(ctx: PageCtx, req: HttpRequest, form: web::Form<TokenForm>) -> PageResult {
    let token = form.into_inner().token;
    let ip = session::client_ip(&req).unwrap_or_default();
    let (state, tokens) = (ctx.state.clone(), ctx.state.tokens.clone());
    let now = tokens.clock().now();
    // Limited per IP address like the other sign-in forms: the secrets are unguessable, the database is not free.
    let allowed = state
        .db
        .run(move |conn| {
            rate_limit::try_hit(conn, &rate_limit::bucket("one-tap-ip", &ip), rate_limit::SIGN_IN_PER_IP, now)
        })
        .await?;
    if !allowed {
        metrics::counter!(shared::metrics::SIGN_INS, "outcome" => "rate_limited").increment(1);
        return Err(shared::Error::RateLimited.into());
    }
    let device = crate::routes::sign_in::device(&req);
    match state.db.run(move |conn| one_tap::redeem(conn, &tokens, &token, &device)).await? {
        Redeemed::SignedIn(grant, target) => Ok(crate::routes::sign_in::signed_in(&ctx, grant, Some(&target))),
        Redeemed::Refused(spent) => Ok(spent_page(ctx, &req, spent).await),
    }
}
