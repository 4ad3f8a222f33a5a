//! `/api/v1`: the client's data as JSON, for a future mobile app. The same
//! session as the pages (cookie), or `Authorization: Bearer <session token>`.

use actix_web::{get, web};
use serde::Serialize;
use shared::client_view::{self, MatterDetail, MatterSummary};
use shared::domain::Language;
use shared::matter_page::{self, Wanted};
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};
use crate::routes::ApiConfig;
use crate::session::{ApiUser, Checked, SignedIn};
use crate::state::AppState;

/// Registers the API routes, each with its description in `/api/openapi.json`.
pub fn configure(cfg: &mut ApiConfig) {
    cfg.service(me).service(my_matters).service(matter);
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// `client`, `case_manager` or `admin`.
    pub role: shared::domain::Role,
    /// Preferred language (`en`, `es` or one the firm added); texts in responses are in it.
    pub language: shared::domain::Language,
    /// The firm's name.
    pub firm: String,
}

fn language_of(user: &ApiUser) -> Language {
    user.0.user.language
}

/// Who am I?
#[utoipa::path(
    tag = "client",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/me")]
async fn me(user: ApiUser) -> AppResult<web::Json<Me>> {
    let u = &user.0.user;
    Ok(web::Json(Me {
        id: u.id.clone(),
        name: u.full_name.clone(),
        email: u.email.clone(),
        role: u.role,
        language: u.language,
        firm: user.0.firm_name.clone(),
    }))
}

/// My matters, open ones first.
#[utoipa::path(
    tag = "client",
    responses((status = 200, body = Vec<MatterSummary>), (status = 401, body = crate::error::ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/matters")]
async fn my_matters(state: web::Data<AppState>, user: ApiUser) -> AppResult<web::Json<Vec<MatterSummary>>> {
    let lang = language_of(&user);
    let client = user.0.user;
    Ok(web::Json(state.db.run(move |conn| client_view::my_matters(conn, &client, lang)).await?))
}

/// One of my matters: phase, what it means, what happens next, what is needed, recent updates, contact.
#[utoipa::path(
    tag = "client",
    params(("id" = String, Path, description = "Matter id")),
    responses(
        (status = 200, body = MatterDetail),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, description = "No such matter, or not one of yours", body = crate::error::ErrorBody)
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
#[get("/api/v1/matters/{id}")]
async fn matter(signed_in: SignedIn, id: web::Path<String>) -> AppResult<web::Json<MatterDetail>> {
    // Busy: the session is checked in the same database trip as the matter.
    let id = id.into_inner();
    let checked = signed_in
        .run_checked(move |conn, tokens, token| {
            let (viewer, page) = matter_page::load(conn, tokens, token, &id, Wanted::Detail, shared::domain::now())?;
            Ok((viewer, page.map(|p| p.detail)))
        })
        .await?;
    match checked {
        Checked::Nobody => Err(AppError(shared::Error::Unauthenticated)),
        Checked::Viewer(_, detail) => Ok(web::Json(detail?)),
    }
}
