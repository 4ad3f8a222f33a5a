//! Short links from the plain-text part of emails (`/l/{code}`, see
//! `shared::notifications::short_links`): a known, unexpired code answers
//! 303 to the page it stands for, on this portal; anything else gets a
//! readable page that offers to sign in. The code of a one-tap link (see
//! `shared::one_tap`) leads to its confirmation page. Following a short link changes
//! nothing: the pages behind it ask for a button press before they use a
//! token up, so a mail scanner that opens every link uses nothing up.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, web};
use shared::notifications::short_links;
use shared::one_tap;

use crate::pages::{PageCtx, PageResult};

/// Registers the short-link redirect.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(follow);
}

#[get("/l/{code}")]
async fn follow(ctx: PageCtx, code: web::Path<String>) -> PageResult {
    let code = code.into_inner();
    let now = ctx.state.tokens.clock().now();
    let target = ctx
        .state
        .db
        .run(move |conn| {
            Ok(match short_links::resolve(conn, &code, now)? {
                Some(target) => Some(target),
                // The plain-text form of a one-tap link: its secret is the code, stored nowhere.
                None if one_tap::is_known(conn, &code)? => Some(format!("{}?token={code}", one_tap::PATH)),
                None => None,
            })
        })
        .await?;
    // Only a path on this portal is ever stored; anything else is treated as unknown.
    match target.filter(|t| t.starts_with('/') && !t.starts_with("//")) {
        Some(target) => {
            let mut response = crate::pages::see_other(&target);
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        None => Ok(ctx.message(
            StatusCode::NOT_FOUND,
            "short-link-gone-title",
            "short-link-gone-body",
            Some(("/sign-in", "short-link-sign-in")),
        )),
    }
}
