//! Web push subscriptions: the portal's public VAPID key for browsers to
//! subscribe with, and a signed-in client's browsers turning push
//! notifications on and off. The page's script (`/static/app.js`) calls these
//! with the session cookie; like every state-changing request they must come
//! from the portal's own pages (`crate::csrf`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use shared::db::models::PushSubscription;
use shared::db::schema::push_subscriptions;
use shared::domain::{Role, new_id, now};
use utoipa::ToSchema;

use crate::error::{AppError, AppResult, ErrorBody};
use crate::routes::ApiConfig;
use crate::session::ApiUser;
use crate::state::AppState;

/// Registers the push routes, each with its description in `/api/openapi.json`.
pub fn configure(cfg: &mut ApiConfig) {
    cfg.service(push_key).service(push_subscribe).service(push_unsubscribe).service(push_unsubscribe_id);
}

/// The key browsers subscribe with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushKey {
    /// The VAPID public key (`applicationServerKey`): an uncompressed P-256 point, base64url.
    pub public_key: String,
}

/// The portal's VAPID public key. Public: it is in every subscription a browser makes.
#[utoipa::path(tag = "client", responses((status = 200, body = PushKey)))]
#[get("/api/v1/push/key")]
async fn push_key(state: web::Data<AppState>) -> web::Json<PushKey> {
    web::Json(PushKey { public_key: state.notifications.channels.push.public_key().to_owned() })
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSubscription {
    /// The push service's URL for this browser (https; http only to a loopback address).
    pub endpoint: String,
    /// The browser's keys.
    pub keys: SubscriptionKeys,
}

/// A browser's keys for payload encryption (RFC 8291).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// P-256 public key, base64url.
    pub p256dh: String,
    /// 16-byte authentication secret, base64url.
    pub auth: String,
}

/// A subscribed browser.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscribed {
    /// The subscription's id (to turn it off with `DELETE /api/v1/push/subscriptions/{id}`).
    pub id: String,
}

/// Which browser to turn off, by its endpoint.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Unsubscription {
    /// The endpoint the browser subscribed with.
    pub endpoint: String,
}

/// Only clients get pushes: staff are refused.
fn client_of(user: ApiUser) -> AppResult<shared::db::models::User> {
    let user = user.0.user;
    if user.role != Role::Client {
        return Err(AppError(shared::Error::Forbidden));
    }
    Ok(user)
}

/// The endpoint, checked: an https URL (or http to a loopback address, for a
/// push service on this machine), at most 1,000 characters.
fn checked_endpoint(endpoint: &str) -> AppResult<String> {
    let endpoint = endpoint.trim();
    let invalid = || AppError(shared::Error::invalid("endpoint", "must be the push service's https URL"));
    if endpoint.len() > 1000 {
        return Err(invalid());
    }
    let url = url::Url::parse(endpoint).map_err(|_| invalid())?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => return Err(invalid()),
    };
    match url.scheme() {
        "https" => Ok(endpoint.to_owned()),
        "http" if loopback => Ok(endpoint.to_owned()),
        _ => Err(invalid()),
    }
}

/// Turn push notifications on in this browser. A browser that subscribes again
/// (same endpoint) replaces its earlier subscription, whoever made it.
#[utoipa::path(
    tag = "client",
    request_body = NewSubscription,
    responses(
        (status = 201, body = Subscribed),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Staff get no push notifications", body = ErrorBody),
        (status = 422, description = "Not an https endpoint, or keys that are not P-256 / 16 bytes", body = ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[post("/api/v1/push/subscriptions")]
async fn push_subscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: ApiUser,
    body: web::Json<NewSubscription>,
) -> AppResult<HttpResponse> {
    let client = client_of(user)?;
    let body = body.into_inner();
    let endpoint = checked_endpoint(&body.endpoint)?;
    shared::notifications::push::check_keys(&body.keys.p256dh, &body.keys.auth)?;
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(300).collect::<String>());
    let row = PushSubscription {
        id: new_id(),
        user_id: client.id.clone(),
        endpoint,
        p256dh: body.keys.p256dh.trim().to_owned(),
        auth: body.keys.auth.trim().to_owned(),
        user_agent,
        created_at: now(),
        last_success_at: None,
    };
    let id = state
        .db
        .run(move |conn| {
            shared::db::write_transaction(conn, |conn| {
                diesel::delete(push_subscriptions::table.filter(push_subscriptions::endpoint.eq(&row.endpoint)))
                    .execute(conn)?;
                diesel::insert_into(push_subscriptions::table).values(&row).execute(conn)?;
                Ok(row.id.clone())
            })
        })
        .await?;
    tracing::info!(user = %client.id, subscription = %id, "push notifications turned on in a browser");
    Ok(HttpResponse::Created().json(Subscribed { id }))
}

/// Turn push notifications off in the browser that subscribed with `endpoint`.
/// 204 whether or not it was subscribed.
#[utoipa::path(
    tag = "client",
    request_body = Unsubscription,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[delete("/api/v1/push/subscriptions")]
async fn push_unsubscribe(
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Json<Unsubscription>,
) -> AppResult<HttpResponse> {
    let client = client_of(user)?;
    let endpoint = body.into_inner().endpoint.trim().to_owned();
    let removed = state
        .db
        .run(move |conn| {
            Ok(diesel::delete(
                push_subscriptions::table
                    .filter(push_subscriptions::user_id.eq(&client.id))
                    .filter(push_subscriptions::endpoint.eq(&endpoint)),
            )
            .execute(conn)?)
        })
        .await?;
    tracing::info!(removed, "push notifications turned off in a browser");
    Ok(HttpResponse::NoContent().finish())
}

/// Turn one of my subscriptions off; 404 when it is not mine.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[delete("/api/v1/push/subscriptions/{id}")]
async fn push_unsubscribe_id(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let client = client_of(user)?;
    let id = id.into_inner();
    let removed = state
        .db
        .run(move |conn| {
            Ok(diesel::delete(
                push_subscriptions::table
                    .filter(push_subscriptions::id.eq(&id))
                    .filter(push_subscriptions::user_id.eq(&client.id)),
            )
            .execute(conn)?)
        })
        .await?;
    if removed == 0 {
        return Err(AppError(shared::Error::NotFound));
    }
    Ok(HttpResponse::NoContent().finish())
}
