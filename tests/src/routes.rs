//! The portal's route table as the app itself has it: the routes that
//! [`portal::routes::register`] put on an actix-web app, as actix-web reports
//! them after building that app (its `experimental-introspection` feature,
//! on in the test build only). Nothing here reads source files: a route
//! registered in any way — an attribute, `web::resource`, `.route`, a scope —
//! is in the table, with the methods its guards allow.

use std::collections::BTreeSet;

use actix_web::introspection::IntrospectionTree;
use actix_web::{App, HttpResponse, test, web};
use anyhow::Context;
use serde_json::Value;

/// Every route registered on the portal's app (the dev mailbox included), as
/// (METHOD, path template), e.g. `("GET", "/matters/{id}")`. A route that no
/// method guard limits is listed with the method `ANY`.
pub fn registered() -> anyhow::Result<BTreeSet<(String, String)>> {
    // The app is built and asked on a thread of its own, so this can be called
    // from a test's runtime as well as from a plain test.
    std::thread::spawn(|| tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(report()))
        .join()
        .map_err(|_| anyhow::anyhow!("building the portal's app panicked"))?
}

async fn report() -> anyhow::Result<BTreeSet<(String, String)>> {
    let (app, _description) = portal::routes::register(App::new(), true);
    // The report is app data once the app is built; the default service (which
    // is not a route, so not in the report) hands it out.
    let app = app.default_service(web::to(|tree: web::Data<IntrospectionTree>| async move {
        HttpResponse::Ok().body(tree.report_as_json())
    }));
    let service = test::init_service(app).await;
    let answer =
        test::call_service(&service, test::TestRequest::get().uri("/no-such-route/route-table").to_request()).await;
    anyhow::ensure!(answer.status().is_success(), "the route report answered {}", answer.status());
    let items: Vec<Value> = serde_json::from_slice(&test::read_body(answer).await)?;
    let mut routes = BTreeSet::new();
    for item in &items {
        if item["resource_type"] != "resource" {
            continue;
        }
        let path = item["full_path"].as_str().context("a route without full_path")?;
        let methods = item["methods"].as_array().context("a route without methods")?;
        if methods.is_empty() {
            routes.insert(("ANY".to_owned(), path.to_owned()));
        }
        for method in methods {
            routes.insert((method.as_str().context("a method that is not text")?.to_owned(), path.to_owned()));
        }
    }
    anyhow::ensure!(!routes.is_empty(), "actix-web reported no routes: {items:?}");
    Ok(routes)
}
