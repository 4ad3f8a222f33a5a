//! Email preferences: the preferences page (signed in), the one-click
//! unsubscribe endpoint of the weekly emails (RFC 8058: a POST to the
//! `List-Unsubscribe` URL, no session needed), and the "how are we doing?" rating.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use shared::db::models::Rating;
use shared::db::schema::{notifications, push_subscriptions, ratings, users};
use shared::domain::{new_id, now};
use shared::notifications::sms;
use shared::tokens::Purpose;

use crate::pages::{PageCtx, PageResult};

/// Registers the preference routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(preferences_page)
        .service(save_preferences)
        .service(push_off_everywhere)
        .service(unsubscribe_page)
        .service(unsubscribe)
        .service(rate_page)
        .service(rate);
}

async fn set_weekly_updates(ctx: &PageCtx, user_id: String, on: bool) -> shared::Result<()> {
    ctx.state
        .db
        .run(move |conn| {
            diesel::update(users::table.find(&user_id))
                .set((users::weekly_updates.eq(on), users::updated_at.eq(now())))
                .execute(conn)?;
            Ok(())
        })
        .await
}

/// The preferences form: whether weekly updates are on, and whether they were
/// just saved; how many browsers get push notifications; the text message
/// number and opt-in (when texts are configured).
#[derive(Serialize)]
struct PreferencesView {
    weekly: bool,
    saved: bool,
    push_devices: i64,
    sms: Option<SmsView>,
}

/// The text message part of the form.
#[derive(Serialize, Default)]
struct SmsView {
    /// The number as stored (E.164) or as typed when it was refused.
    number: String,
    /// Opted in and not opted out.
    on: bool,
    /// Why the number was refused, if it was.
    error: Option<String>,
}

/// The client's text message consent as the form shows it; `None` when texts are not configured.
async fn sms_view(ctx: &PageCtx, user_id: String) -> shared::Result<Option<SmsView>> {
    if !ctx.state.config.sms_enabled() {
        return Ok(None);
    }
    let consent = ctx.state.db.run(move |conn| sms::consent_of(conn, &user_id)).await?;
    Ok(Some(consent.map_or_else(SmsView::default, |c| SmsView { on: sms::allows(&c), number: c.number, error: None })))
}

/// How many browsers `user_id` turned push notifications on in.
async fn push_devices(ctx: &PageCtx, user_id: String) -> shared::Result<i64> {
    ctx.state
        .db
        .run(move |conn| {
            Ok(push_subscriptions::table.filter(push_subscriptions::user_id.eq(&user_id)).count().get_result(conn)?)
        })
        .await
}

async fn preferences_view(ctx: &PageCtx, weekly: bool, saved: bool) -> PageResult {
    let user_id = ctx.require_user()?.user.id.clone();
    let push_devices = push_devices(ctx, user_id.clone()).await?;
    let sms = sms_view(ctx, user_id).await?;
    Ok(ctx.render(
        StatusCode::OK,
        "preferences",
        "preferences-title",
        PreferencesView { weekly, saved, push_devices, sms },
    ))
}

#[get("/preferences")]
async fn preferences_page(ctx: PageCtx) -> PageResult {
    let weekly = ctx.require_user()?.user.weekly_updates;
    preferences_view(&ctx, weekly, false).await
}

/// Push notifications off in every browser of mine (works without JavaScript).
#[post("/preferences/push/off")]
async fn push_off_everywhere(ctx: PageCtx) -> PageResult {
    let user_id = ctx.require_user()?.user.id.clone();
    let weekly = ctx.require_user()?.user.weekly_updates;
    let removed = ctx
        .state
        .db
        .run({
            let user_id = user_id.clone();
            move |conn| {
                Ok(diesel::delete(push_subscriptions::table.filter(push_subscriptions::user_id.eq(&user_id)))
                    .execute(conn)?)
            }
        })
        .await?;
    tracing::info!(user = %user_id, removed, "push notifications turned off in every browser");
    preferences_view(&ctx, weekly, true).await
}

#[derive(Deserialize)]
struct PreferencesForm {
    weekly: Option<String>,
    /// The mobile number for texts (blank: none).
    #[serde(default)]
    sms_number: Option<String>,
    /// The explicit opt-in to texts.
    #[serde(default)]
    sms_opt_in: Option<String>,
}

#[post("/preferences")]
async fn save_preferences(ctx: PageCtx, form: web::Form<PreferencesForm>) -> PageResult {
    let user_id = ctx.require_user()?.user.id.clone();
    let on = form.weekly.as_deref() == Some("on");
    // Texts: only when configured, and only with a number that is one.
    if ctx.state.config.sms_enabled() {
        let typed = form.sms_number.as_deref().unwrap_or_default().trim().to_owned();
        let opt_in = form.sms_opt_in.as_deref() == Some("on");
        let number = if typed.is_empty() { Ok(None) } else { sms::parse_number("sms_number", &typed).map(Some) };
        let number = match number {
            Ok(number) => number,
            Err(_) => {
                let push_devices = push_devices(&ctx, user_id).await?;
                let error = Some(ctx.text("preferences-sms-invalid"));
                let sms = Some(SmsView { number: typed, on: opt_in, error });
                let view = PreferencesView { weekly: on, saved: false, push_devices, sms };
                return Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, "preferences", "preferences-title", view));
            }
        };
        let (id, at) = (user_id.clone(), now());
        ctx.state
            .db
            .run(move |conn| {
                shared::db::write_transaction(conn, |conn| {
                    sms::set_consent(conn, &id, number.as_deref(), opt_in, sms::source::CLIENT, at)
                })
            })
            .await?;
        tracing::info!(user = %user_id, sms = opt_in, "text message preferences saved");
    }
    set_weekly_updates(&ctx, user_id.clone(), on).await?;
    tracing::info!(user = %user_id, weekly_updates = on, "email preferences saved");
    preferences_view(&ctx, on, true).await
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

fn invalid_link(ctx: &PageCtx) -> HttpResponse {
    ctx.message(
        StatusCode::UNAUTHORIZED,
        "link-invalid-title",
        "link-invalid-body",
        Some(("/sign-in", "back-to-sign-in")),
    )
}

/// A page whose form carries a signed token (and on the rating page, the scores to choose from).
#[derive(Serialize)]
struct TokenView<'a> {
    token: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scores: Vec<Score>,
    /// The score the emailed link chose, not yet sent: the page asks for one more tap.
    chosen: Option<i32>,
}

/// One of the five scores, marked when the emailed link chose it.
#[derive(Serialize)]
struct Score {
    score: i32,
    chosen: bool,
}

#[get("/unsubscribe")]
async fn unsubscribe_page(ctx: PageCtx, query: web::Query<TokenQuery>) -> HttpResponse {
    if ctx.state.tokens.verify(Purpose::Unsubscribe, &query.token).is_err() {
        return invalid_link(&ctx);
    }
    ctx.render(
        StatusCode::OK,
        "unsubscribe",
        "unsubscribe-title",
        TokenView { token: &query.token, scores: Vec::new(), chosen: None },
    )
}

/// The one-click endpoint: mail clients POST `List-Unsubscribe=One-Click` here; the page's button posts too.
#[post("/unsubscribe")]
async fn unsubscribe(ctx: PageCtx, query: web::Query<TokenQuery>) -> PageResult {
    let Ok(claims) = ctx.state.tokens.verify(Purpose::Unsubscribe, &query.token) else {
        return Ok(invalid_link(&ctx));
    };
    set_weekly_updates(&ctx, claims.sub.clone(), false).await?;
    tracing::info!(user = %claims.sub, "unsubscribed from weekly updates");
    Ok(ctx.message(
        StatusCode::OK,
        "unsubscribed-title",
        "unsubscribed-body",
        Some(("/preferences", "nav-preferences")),
    ))
}

#[derive(Deserialize)]
struct RateQuery {
    token: String,
    score: Option<i32>,
}

#[get("/rate")]
async fn rate_page(ctx: PageCtx, query: web::Query<RateQuery>) -> HttpResponse {
    if ctx.state.tokens.verify(Purpose::Rating, &query.token).is_err() {
        return invalid_link(&ctx);
    }
    // A link may choose a score, but opening it records nothing: mail scanners open every
    // link of an email. The page says so and one tap on its button sends the chosen score.
    let chosen = query.score.filter(|score| (1..=5).contains(score));
    let scores = (1..=5).map(|score| Score { score, chosen: chosen == Some(score) }).collect();
    ctx.render(StatusCode::OK, "rate", "rate-title", TokenView { token: &query.token, scores, chosen })
}

#[derive(Deserialize)]
struct RateForm {
    token: String,
    score: i32,
}

#[post("/rate")]
async fn rate(mut ctx: PageCtx, form: web::Form<RateForm>) -> PageResult {
    let Ok(claims) = ctx.state.tokens.verify(Purpose::Rating, &form.token) else {
        return Ok(invalid_link(&ctx));
    };
    // The token is in the form here, not the address: the page answers for its client's firm.
    if ctx.viewer.is_none() {
        match crate::routes::brand::for_user(&ctx.state, claims.sub.clone()).await {
            Ok(Some(brand)) => ctx.brand = Some(brand),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the firm of a rating page could not be read"),
        }
    }
    if !(1..=5).contains(&form.score) {
        return Err(shared::Error::invalid("score", "expected 1 to 5").into());
    }
    let score = form.score;
    ctx.state
        .db
        .run(move |conn| {
            let firm_id: String = users::table.find(&claims.sub).select(users::firm_id).first(conn)?;
            // The token names the weekly update it came with; keep the link only when that row exists.
            let notification: Option<String> =
                notifications::table.find(&claims.jti).select(notifications::id).first(conn).optional()?;
            shared::db::write_transaction(conn, |conn| {
                // Two clicks at once (a double tap) must not both find no rating and both add one.
                shared::db::lock_key(conn, &format!("rating:{}", claims.sub))?;
                let mine = ratings::table.filter(ratings::client_id.eq(&claims.sub));
                let existing = match &notification {
                    Some(id) => mine.filter(ratings::notification_id.eq(id)).select(ratings::id).first::<String>(conn),
                    None => mine.filter(ratings::notification_id.is_null()).select(ratings::id).first::<String>(conn),
                }
                .optional()?;
                match existing {
                    // A second click on the same email changes the answer instead of adding one.
                    Some(id) => {
                        diesel::update(ratings::table.find(id))
                            .set((ratings::score.eq(score), ratings::created_at.eq(now())))
                            .execute(conn)?;
                    }
                    None => {
                        let row = Rating {
                            id: new_id(),
                            firm_id,
                            client_id: claims.sub.clone(),
                            notification_id: notification.clone(),
                            score,
                            created_at: now(),
                        };
                        diesel::insert_into(ratings::table).values(&row).execute(conn)?;
                    }
                }
                Ok(())
            })
        })
        .await?;
    Ok(ctx.message(StatusCode::OK, "rated-title", "rated-body", None))
}
