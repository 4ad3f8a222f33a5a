//! `/api/openapi.json`: the API description (OpenAPI 3.1), generated from the handlers.

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::staff::api as staff;
use crate::routes::{api, documents};

/// The generated API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Matterline API", description = "Client portal data for Matterline's web and mobile clients."),
    paths(
        api::me, api::my_matters, api::matter, documents::api_list, documents::api_upload, documents::api_download,
        staff::sign_in, staff::list_clients, staff::create_client, staff::get_client, staff::update_client,
        staff::client_notifications, staff::list_matters, staff::create_matter, staff::get_matter, staff::update_matter,
        staff::post_milestone, staff::open_request, staff::cancel_request, staff::list_documents, staff::share_documents,
        staff::download_document, staff::review_document, staff::list_staff, staff::get_catalogue,
        staff::set_phase_text, staff::get_settings, staff::update_settings, staff::get_ratings, staff::audit_log, staff::import,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "client", description = "What a signed-in client sees"),
        (name = "staff", description = "The firm's side: clients, matters, milestones, requests, documents, logs")
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::session::SESSION_COOKIE))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Registers the description route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json);
}

#[get("/api/openapi.json")]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
