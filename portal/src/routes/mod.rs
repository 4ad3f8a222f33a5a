//! Routes, one file per group.

pub mod api;
pub mod brand;
pub mod client;
pub mod dev_mailbox;
pub mod documents;
pub mod health;
pub mod install;
pub mod language;
pub mod messages;
pub mod one_tap;
pub mod openapi;
pub mod preferences;
pub mod push;
pub mod short_links;
pub mod sign_in;
pub mod sms;
pub mod staff;
pub mod static_files;
pub mod treatment;

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{App, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

/// What an API group's `configure` registers its routes on: actix-web's
/// `ServiceConfig`, wrapped so that `cfg.service(handler)` also adds the
/// handler's `#[utoipa::path]` to the API description. Routes that are not
/// part of the API (pages, health, static files) go on the wrapped config
/// through `cfg.map(…)`, as before, and stay out of the description.
pub type ApiConfig<'a> = utoipa_actix_web::service_config::ServiceConfig<'a>;

/// Registers every route on `app` and returns it with the API description
/// that its API routes make up; the app serves that description at
/// `/api/openapi.json`. The dev mailbox exists only while mail goes to the
/// dev mail folder.
pub fn register<T>(app: App<T>, dev_mailbox: bool) -> (App<T>, utoipa::openapi::OpenApi)
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let (app, description) = app
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(|cfg| configure(cfg, dev_mailbox))
        .split_for_parts();
    (app.app_data(web::Data::new(openapi::Served::new(&description))), description)
}

/// Registers every route, in this order.
///
/// The router tries routes in this order, matching a path with a parameter by
/// regular expression: the busiest routes (health, the client's API and pages)
/// come first. No two groups' paths overlap, so the order changes nothing else.
///
/// Adding an API route is one edit beside its handler: the handler carries
/// its route (`#[get("/api/v1/…")]`) and its description (`#[utoipa::path]`,
/// without method or path: they are read from the route attribute), and its
/// group's `configure` registers it with `cfg.service(handler)` on the
/// [`ApiConfig`], which puts it both on the app and in `/api/openapi.json`.
/// Pages and the other routes outside the API keep their groups' plain
/// `configure(&mut web::ServiceConfig)`, called here through `cfg.map`.
///
/// The tests read the route table from the app — actix-web's own report of
/// what was registered, and [`openapi::api_routes`] — not from these files:
/// the authorization matrix fails until a new route has its row, and an API
/// route registered through `cfg.map` (on the app, but not described) fails
/// the description's tests.
pub fn configure(cfg: &mut ApiConfig, dev_mailbox: bool) {
    cfg.map(|cfg| cfg.configure(health::configure));
    api::configure(cfg);
    cfg.map(|cfg| {
        cfg.configure(client::configure)
            .configure(static_files::configure)
            .configure(brand::configure)
            .configure(sign_in::configure)
            .configure(language::configure)
            .configure(documents::configure)
            .configure(messages::configure)
            .configure(short_links::configure)
            .configure(one_tap::configure)
            .configure(treatment::configure)
            .configure(install::configure)
            .configure(sms::configure)
    });
    documents::configure_api(cfg);
    messages::configure_api(cfg);
    treatment::configure_api(cfg);
    push::configure(cfg);
    cfg.map(|cfg| cfg.configure(preferences::configure));
    staff::configure(cfg);
    cfg.map(|cfg| cfg.configure(openapi::configure));
    if dev_mailbox {
        cfg.map(|cfg| cfg.configure(self::dev_mailbox::configure));
    }
}

/// Any path no route matches: JSON under `/api/`, the readable page elsewhere.
pub async fn not_found(ctx: crate::pages::PageCtx, req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    if req.path().starts_with("/api/") {
        return actix_web::HttpResponse::NotFound()
            .json(crate::error::ErrorBody { error: "not found".to_owned(), status: 404 });
    }
    ctx.error(shared::Error::NotFound)
}
