//! `/api/openapi.json`: the API description (OpenAPI 3.1), generated from the
//! handlers as they are registered (see [`super::register`]): each API route's
//! `#[utoipa::path]` joins the description when its group's `configure` puts it
//! on the app. What is said here once: info, shared schemas, security schemes, tags.

use actix_web::http::header::ContentType;
use actix_web::{App, HttpResponse, get, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::AppError;

/// The API description without its paths: the routes add theirs as they are registered.
#[derive(OpenApi)]
#[openapi(
    info(title = "Matterline API", description = "Client portal data for Matterline's web and mobile clients."),
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

/// The whole API description: the one the portal serves, made by registering
/// the routes on an app as the server does.
pub fn description() -> utoipa::openapi::OpenApi {
    super::register(App::new(), false).1
}

/// Every API route registered on the app, as (METHOD, path template) — e.g.
/// `("GET", "/api/v1/matters/{id}")` — read from the description the
/// registration built, sorted.
pub fn api_routes() -> Vec<(String, String)> {
    let description = description();
    let mut routes = Vec::new();
    for (path, item) in &description.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("OPTIONS", &item.options),
            ("HEAD", &item.head),
            ("PATCH", &item.patch),
            ("TRACE", &item.trace),
        ];
        for (method, operation) in operations {
            if operation.is_some() {
                routes.push((method.to_owned(), path.clone()));
            }
        }
    }
    routes.sort();
    routes
}

/// The description an app serves (app data, set by [`super::register`]): its
/// JSON, written once when the app is built. The description itself is about
/// 1.6 MiB of small allocations per worker; its JSON is about 110 kB.
pub(crate) struct Served(Result<web::Bytes, String>);

impl Served {
    /// `description` as the JSON to serve.
    pub(crate) fn new(description: &utoipa::openapi::OpenApi) -> Self {
        Self(serde_json::to_vec(description).map(web::Bytes::from).map_err(|e| e.to_string()))
    }
}

/// Registers the description route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json);
}

#[get("/api/openapi.json")]
async fn openapi_json(served: web::Data<Served>) -> Result<HttpResponse, AppError> {
    match &served.0 {
        Ok(json) => Ok(HttpResponse::Ok().content_type(ContentType::json()).body(json.clone())),
        Err(e) => Err(AppError(shared::Error::Internal(anyhow::anyhow!("the API description as JSON: {e}")))),
    }
}
