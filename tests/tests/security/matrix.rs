//! The authorization matrix: every route the portal's app registers (as actix-web
//! reports it, see [`declared_routes`]) × every kind of caller.

use std::collections::{BTreeMap, BTreeSet};

use harness::files::pdf;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::header::{AUTHORIZATION, LOCATION};
use serde_json::Value;
use shared::domain::{Role, now};
use shared::staff::Staff;
use shared::tokens::Purpose;

/// The route table the matrix covers: every route registered on the portal's
/// app, as actix-web reports the app it built ([`harness::routes::registered`]),
/// not as read from source files. Today that is the
/// (METHOD, path template) of every `#[get("…")]`-style route attribute.
pub(super) fn declared_routes() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    // A route registered any other way (`web::resource`, `.route`, a scope) is in the table as well.
    found.extend(harness::routes::registered().unwrap_or_else(|e| panic!("the portal's route table: {e:#}")));
    found
}

/// The API routes in the table are exactly those of the API description
/// (`portal::routes::openapi::api_routes`): none registered outside it, none
/// described that the app does not register.
#[test]
fn the_registered_api_routes_are_the_described_ones() {
    let registered: BTreeSet<(String, String)> =
        declared_routes().into_iter().filter(|(_, path)| path.starts_with("/api/v1/")).collect();
    let described: BTreeSet<(String, String)> = portal::routes::openapi::api_routes().into_iter().collect();
    let undescribed: Vec<_> = registered.difference(&described).collect();
    let unregistered: Vec<_> = described.difference(&registered).collect();
    assert!(undescribed.is_empty(), "API routes registered without their #[utoipa::path] (cfg.map?): {undescribed:?}");
    assert!(unregistered.is_empty(), "described API routes the app does not register: {unregistered:?}");
    assert!(described.len() >= 25, "only {} API routes", described.len());
}

// ---------------------------------------------------------------------------
// The authorization matrix
// ---------------------------------------------------------------------------

/// Who asks, in the order of every row's expected statuses.
const ACTORS: [&str; 6] =
    ["anonymous", "client A", "client B", "staff of firm A", "admin of firm B", "admin of firm A"];

/// A request body; `{n}`, `{signin}`, `{rating}`, `{client}`, `{domain}` are filled in per request.
#[derive(Clone, Copy)]
enum Body {
    Empty,
    Form(&'static [(&'static str, &'static str)]),
    Json(&'static str),
    Pdf,
    Csv(&'static str),
}

/// (method, route template, query, body, expected status per actor).
type Row = (&'static str, &'static str, &'static str, Body, [u16; 6]);

const EVERYONE_200: [u16; 6] = [200; 6];
/// A client page: sign-in for nobody, the page for its client, 404 for anyone else.
const OWN_CLIENT_PAGE: [u16; 6] = [303, 200, 404, 404, 404, 404];
const SIGNED_IN_PAGE: [u16; 6] = [303, 200, 200, 200, 200, 200];
const SIGNED_IN_API: [u16; 6] = [401, 200, 200, 200, 200, 200];
const STAFF_LIST_API: [u16; 6] = [401, 403, 403, 200, 200, 200];
const STAFF_RECORD_API: [u16; 6] = [401, 403, 403, 200, 404, 200];
const STAFF_ADMIN_API: [u16; 6] = [401, 403, 403, 403, 200, 200];
const STAFF_PAGE: [u16; 6] = [303, 403, 403, 200, 200, 200];
const STAFF_RECORD_PAGE: [u16; 6] = [303, 403, 403, 200, 404, 200];
const STAFF_RECORD_FORM: [u16; 6] = [303, 403, 403, 303, 404, 303];

const ROWS: &[Row] = &[
    ("GET", "/healthz", "", Body::Empty, EVERYONE_200),
    ("GET", "/readyz", "", Body::Empty, EVERYONE_200),
    ("GET", "/metrics", "", Body::Empty, EVERYONE_200),
    ("GET", "/static/{file}", "", Body::Empty, EVERYONE_200),
    ("GET", "/api/openapi.json", "", Body::Empty, EVERYONE_200),
    ("GET", "/dev/mailbox", "", Body::Empty, EVERYONE_200),
    ("GET", "/sign-in", "", Body::Empty, [200, 303, 303, 303, 303, 303]),
    ("POST", "/sign-in", "", Body::Form(&[("email", "nobody-{n}@{domain}")]), EVERYONE_200),
    ("GET", "/sign-in/link", "token={signin}", Body::Empty, EVERYONE_200),
    ("POST", "/sign-in/link", "", Body::Form(&[("token", "{signin}")]), [303; 6]),
    ("GET", "/l/{code}", "", Body::Empty, [404; 6]),
    // An unknown one-tap link: the readable "ask for a code" page, for anyone.
    ("GET", "/one-tap", "token=ABCDEFGHIJKLMNOP", Body::Empty, [401; 6]),
    ("POST", "/one-tap", "", Body::Form(&[("token", "ABCDEFGHIJKLMNOP")]), [401; 6]),
    ("GET", "/sign-in/code", "", Body::Empty, EVERYONE_200),
    ("POST", "/sign-in/code", "", Body::Form(&[("email", "nobody@{domain}"), ("code", "000000")]), [401; 6]),
    ("POST", "/sign-out", "", Body::Empty, EVERYONE_200),
    ("POST", "/sign-out/everywhere", "", Body::Empty, EVERYONE_200),
    ("POST", "/language", "", Body::Form(&[("lang", "en"), ("next", "/")]), [303; 6]),
    // A client with one open case is sent straight to it.
    ("GET", "/", "", Body::Empty, [303, 303, 303, 303, 303, 303]),
    ("GET", "/matters/{id}", "", Body::Empty, OWN_CLIENT_PAGE),
    ("GET", "/matters/{id}/upload", "", Body::Empty, OWN_CLIENT_PAGE),
    ("POST", "/matters/{id}/upload", "", Body::Pdf, OWN_CLIENT_PAGE),
    ("GET", "/matters/{id}/documents/{document}", "", Body::Empty, [303, 200, 404, 200, 404, 200]),
    ("GET", "/matters/{id}/messages", "", Body::Empty, OWN_CLIENT_PAGE),
    // A message of one file: sent, then back to the conversation.
    ("POST", "/matters/{id}/messages", "", Body::Pdf, [303, 303, 404, 404, 404, 404]),
    ("GET", "/preferences", "", Body::Empty, SIGNED_IN_PAGE),
    ("POST", "/preferences", "", Body::Form(&[("weekly", "on")]), SIGNED_IN_PAGE),
    ("GET", "/unsubscribe", "token={unsubscribe}", Body::Empty, EVERYONE_200),
    ("POST", "/unsubscribe", "token={unsubscribe}", Body::Empty, EVERYONE_200),
    ("GET", "/rate", "token={rating}&score=4", Body::Empty, EVERYONE_200),
    ("POST", "/rate", "", Body::Form(&[("token", "{rating}"), ("score", "4")]), EVERYONE_200),
    ("GET", "/api/v1/me", "", Body::Empty, SIGNED_IN_API),
    // The installable app: public, per host (the manifest names the page's firm).
    ("GET", "/manifest.webmanifest", "", Body::Empty, EVERYONE_200),
    ("GET", "/sw.js", "", Body::Empty, EVERYONE_200),
    ("GET", "/offline", "", Body::Empty, EVERYONE_200),
    // Web push: the public key is public; subscriptions are clients' only (staff get no pushes).
    ("GET", "/api/v1/push/key", "", Body::Empty, EVERYONE_200),
    (
        "POST",
        "/api/v1/push/subscriptions",
        "",
        Body::Json(
            r#"{"endpoint":"https://push.example/{n}","keys":{"p256dh":"BLPM5nuGhCIqsVxNuvtKNhix-mwbEyqYBCaBUTJjoGKcX2U6NImBmZfPFwu7nL0HkojDIK8TGeszzV3gXL-_NYo","auth":"xsrwzmNZ6SmnZLLoXm2-4A"}}"#,
        ),
        [401, 201, 201, 403, 403, 403],
    ),
    (
        "DELETE",
        "/api/v1/push/subscriptions",
        "",
        Body::Json(r#"{"endpoint":"https://push.example/{n}"}"#),
        [401, 204, 204, 403, 403, 403],
    ),
    // Not a subscription of anyone's: 404 for clients, after the role check.
    ("DELETE", "/api/v1/push/subscriptions/{id}", "", Body::Empty, [401, 404, 404, 403, 403, 403]),
    ("POST", "/preferences/push/off", "", Body::Empty, SIGNED_IN_PAGE),
    // The text message provider's webhooks: a signature or nothing, whoever asks (sessions count for nothing).
    ("POST", "/webhooks/sms", "", Body::Form(&[("From", "+12015550123"), ("Body", "STOP")]), [403; 6]),
    (
        "POST",
        "/webhooks/sms/status",
        "",
        Body::Form(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]),
        [403; 6],
    ),
    ("GET", "/api/v1/matters", "", Body::Empty, SIGNED_IN_API),
    ("GET", "/api/v1/matters/{id}", "", Body::Empty, [401, 200, 404, 404, 404, 404]),
    ("GET", "/api/v1/matters/{id}/documents", "", Body::Empty, [401, 200, 404, 404, 404, 404]),
    ("POST", "/api/v1/matters/{id}/documents", "", Body::Pdf, [401, 201, 404, 404, 404, 404]),
    ("GET", "/api/v1/matters/{id}/documents/{document}/download", "", Body::Empty, [401, 200, 404, 200, 404, 200]),
    ("GET", "/api/v1/matters/{id}/messages", "", Body::Empty, [401, 200, 404, 404, 404, 404]),
    (
        "POST",
        "/api/v1/matters/{id}/messages",
        "",
        Body::Json(r#"{"body":"Question {n}"}"#),
        [401, 201, 404, 404, 404, 404],
    ),
    (
        "POST",
        "/api/v1/staff/sign-in",
        "",
        Body::Json(r#"{"email":"nobody@{domain}","password":"not-a-password","code":"000000"}"#),
        [401; 6],
    ),
    ("GET", "/api/v1/staff/clients", "", Body::Empty, STAFF_LIST_API),
    (
        "POST",
        "/api/v1/staff/clients",
        "",
        Body::Json(r#"{"full_name":"New Client {n}","email":"new-{n}@{domain}"}"#),
        [401, 403, 403, 201, 201, 201],
    ),
    ("GET", "/api/v1/staff/clients/{id}", "", Body::Empty, STAFF_RECORD_API),
    ("PATCH", "/api/v1/staff/clients/{id}", "", Body::Json(r#"{"phone":"+1 555 0100"}"#), STAFF_RECORD_API),
    ("GET", "/api/v1/staff/clients/{id}/notifications", "", Body::Empty, STAFF_RECORD_API),
    ("GET", "/api/v1/staff/matters", "", Body::Empty, STAFF_LIST_API),
    (
        "POST",
        "/api/v1/staff/matters",
        "",
        Body::Json(r#"{"title":"Matter {n}","client_ids":["{client}"]}"#),
        // Another firm's client id is refused like an unknown one: "not a client of this firm".
        [401, 403, 403, 201, 422, 201],
    ),
    ("GET", "/api/v1/staff/matters/{id}", "", Body::Empty, STAFF_RECORD_API),
    ("PATCH", "/api/v1/staff/matters/{id}", "", Body::Json(r#"{"external_id":"EXT-{n}"}"#), STAFF_RECORD_API),
    (
        "POST",
        "/api/v1/staff/matters/{id}/milestones",
        "",
        Body::Json(r#"{"kind":"internal_note","body":"note {n}"}"#),
        [401, 403, 403, 201, 404, 201],
    ),
    (
        "POST",
        "/api/v1/staff/matters/{id}/requests",
        "",
        Body::Json(r#"{"title":"Request {n}"}"#),
        [401, 403, 403, 201, 404, 201],
    ),
    ("POST", "/api/v1/staff/matters/{id}/requests/{request}/cancel", "", Body::Empty, [401, 403, 403, 204, 404, 204]),
    (
        "PATCH",
        "/api/v1/staff/matters/{id}/requests/{request}",
        "",
        Body::Json(r#"{"due_date":"2030-01-08"}"#),
        STAFF_RECORD_API,
    ),
    ("POST", "/api/v1/staff/matters/{id}/requests/{request}/complete", "", Body::Empty, STAFF_RECORD_API),
    ("GET", "/api/v1/staff/request-templates", "", Body::Empty, STAFF_LIST_API),
    ("GET", "/api/v1/staff/matters/{id}/documents", "", Body::Empty, STAFF_RECORD_API),
    ("POST", "/api/v1/staff/matters/{id}/documents", "", Body::Pdf, [401, 403, 403, 201, 404, 201]),
    ("GET", "/api/v1/staff/matters/{id}/documents/{document}/download", "", Body::Empty, STAFF_RECORD_API),
    ("POST", "/api/v1/staff/matters/{id}/documents/{document}/review", "", Body::Empty, [401, 403, 403, 204, 404, 204]),
    (
        "POST",
        "/api/v1/staff/matters/{id}/documents/review",
        "",
        Body::Json(r#"{"ids":["{document}"]}"#),
        STAFF_RECORD_API,
    ),
    ("PATCH", "/api/v1/staff/documents/{id}", "", Body::Json(r#"{"category":"medical_bill"}"#), STAFF_RECORD_API),
    ("GET", "/api/v1/staff/staff", "", Body::Empty, STAFF_LIST_API),
    (
        "POST",
        "/api/v1/staff/staff/unlock",
        "",
        Body::Json(r#"{"email":"casey@{domain}"}"#),
        [401, 403, 403, 403, 404, 204],
    ),
    ("GET", "/api/v1/staff/catalogue", "", Body::Empty, STAFF_LIST_API),
    (
        "PUT",
        "/api/v1/staff/catalogue/{area}/{key}",
        "",
        Body::Json(
            r#"{"language":"en","title":"Getting started","what_it_means":"We are starting.","what_happens_next":"We call you."}"#,
        ),
        [401, 403, 403, 403, 204, 204],
    ),
    ("GET", "/api/v1/staff/settings", "", Body::Empty, STAFF_LIST_API),
    ("PATCH", "/api/v1/staff/settings", "", Body::Json(r#"{"phone":"+1 555 0100"}"#), STAFF_ADMIN_API),
    // Not a picture: refused for admins, after the role check.
    ("PUT", "/api/v1/staff/settings/logo", "", Body::Csv("not,a,picture\n"), [401, 403, 403, 403, 422, 422]),
    ("DELETE", "/api/v1/staff/settings/logo", "", Body::Empty, [401, 403, 403, 403, 204, 204]),
    // Public: pages and emails load them. No logo is stored, so every digest is unknown.
    ("GET", "/brand/{firm}/logo/{digest}", "", Body::Empty, [404; 6]),
    ("GET", "/brand/{firm}/accent-{hex}.css", "", Body::Empty, EVERYONE_200),
    ("GET", "/api/v1/staff/conversations", "show=all", Body::Empty, STAFF_LIST_API),
    ("GET", "/api/v1/staff/matters/{id}/messages", "", Body::Empty, STAFF_RECORD_API),
    (
        "POST",
        "/api/v1/staff/matters/{id}/messages",
        "",
        Body::Json(r#"{"body":"Reply {n}","internal":false}"#),
        [401, 403, 403, 201, 404, 201],
    ),
    // A client message waits before each request (see `World::send`), so there is something to mark.
    ("POST", "/api/v1/staff/matters/{id}/messages/handled", "", Body::Empty, STAFF_RECORD_API),
    ("GET", "/api/v1/staff/ratings", "", Body::Empty, STAFF_LIST_API),
    ("GET", "/api/v1/staff/adoption", "", Body::Empty, STAFF_LIST_API),
    ("GET", "/api/v1/staff/insights", "", Body::Empty, STAFF_LIST_API),
    ("GET", "/api/v1/staff/insights/csv/{table}", "", Body::Empty, STAFF_LIST_API),
    ("GET", "/api/v1/staff/audit", "", Body::Empty, STAFF_ADMIN_API),
    (
        "POST",
        "/api/v1/staff/import",
        "",
        Body::Csv(
            "external_id,matter_title,client_name,client_email\nIMP-{n},Imported {n},Imported Client,imp-{n}@{domain}\n",
        ),
        STAFF_ADMIN_API,
    ),
    ("GET", "/staff", "", Body::Empty, STAFF_PAGE),
    ("GET", "/staff/sign-in", "", Body::Empty, [200, 200, 200, 303, 303, 303]),
    (
        "POST",
        "/staff/sign-in",
        "",
        Body::Form(&[("email", "nobody@{domain}"), ("password", "not-a-password"), ("code", "000000")]),
        [401; 6],
    ),
    ("GET", "/staff/matters/new", "", Body::Empty, STAFF_PAGE),
    (
        "POST",
        "/staff/matters",
        "",
        Body::Form(&[
            ("client_name", "Page Client {n}"),
            ("client_email", "page-{n}@{domain}"),
            ("title", "Page matter {n}"),
        ]),
        [303, 403, 403, 303, 303, 303],
    ),
    ("GET", "/staff/matters/{id}", "", Body::Empty, STAFF_RECORD_PAGE),
    (
        "POST",
        "/staff/matters/{id}/milestones",
        "",
        Body::Form(&[("kind", "internal_note"), ("body", "page note {n}")]),
        STAFF_RECORD_FORM,
    ),
    ("POST", "/staff/matters/{id}/requests", "", Body::Form(&[("title", "Page request {n}")]), STAFF_RECORD_FORM),
    ("POST", "/staff/matters/{id}/requests/{request}/cancel", "", Body::Empty, STAFF_RECORD_FORM),
    ("POST", "/staff/matters/{id}/requests/{request}/complete", "", Body::Empty, STAFF_RECORD_FORM),
    (
        "POST",
        "/staff/matters/{id}/requests/{request}/due",
        "",
        Body::Form(&[("due_date", "2030-01-08")]),
        STAFF_RECORD_FORM,
    ),
    ("POST", "/staff/matters/{id}/documents", "", Body::Pdf, STAFF_RECORD_FORM),
    ("POST", "/staff/matters/{id}/documents/{document}/review", "", Body::Empty, STAFF_RECORD_FORM),
    ("POST", "/staff/matters/{id}/documents/review", "", Body::Form(&[("ids", "{document}")]), STAFF_RECORD_FORM),
    (
        "POST",
        "/staff/matters/{id}/documents/{document}/category",
        "",
        Body::Form(&[("category", "medical_bill")]),
        STAFF_RECORD_FORM,
    ),
    ("GET", "/staff/matters/{id}/documents/{document}/preview", "", Body::Empty, STAFF_RECORD_PAGE),
    (
        "POST",
        "/staff/filters",
        "",
        Body::Form(&[("name", "Filter {n}"), ("query", "phase=intake")]),
        [303, 403, 403, 303, 303, 303],
    ),
    // A saved filter is its owner's alone: an id that is not one of theirs is 404.
    ("POST", "/staff/filters/{id}/delete", "", Body::Empty, [303, 403, 403, 404, 404, 404]),
    ("GET", "/staff/messages", "show=all", Body::Empty, STAFF_PAGE),
    // The firm's figures: a case manager sees their own matters, firm B's admin their own firm's.
    ("GET", "/staff/insights", "", Body::Empty, STAFF_PAGE),
    ("POST", "/staff/matters/{id}/messages", "", Body::Form(&[("body", "Page reply {n}")]), STAFF_RECORD_FORM),
    ("POST", "/staff/matters/{id}/messages/handled", "", Body::Form(&[("back", "inbox")]), STAFF_RECORD_FORM),
    ("GET", "/staff/settings", "", Body::Empty, STAFF_PAGE),
    ("POST", "/staff/settings/unlock", "", Body::Form(&[("email", "casey@{domain}")]), [303, 403, 403, 403, 404, 303]),
    (
        "POST",
        "/staff/settings",
        "",
        Body::Form(&[("name", "Demo Injury Law"), ("time_zone", "America/Chicago")]),
        [303, 403, 403, 403, 303, 303],
    ),
    // A PDF is not a logo: refused for admins, after the role check.
    ("POST", "/staff/settings/logo", "", Body::Pdf, [303, 403, 403, 403, 422, 422]),
    ("POST", "/staff/settings/logo/remove", "", Body::Empty, [303, 403, 403, 403, 303, 303]),
    // --- treatment: the treatment log and appointments ---
    ("GET", "/matters/{id}/treatment", "", Body::Empty, OWN_CLIENT_PAGE),
    (
        "POST",
        "/matters/{id}/treatment/visits",
        "",
        Body::Form(&[("status", "visited"), ("visit_on", "2026-01-01"), ("provider_name", "Dr. {n}")]),
        [303, 303, 404, 404, 404, 404],
    ),
    ("GET", "/api/v1/matters/{id}/treatment", "", Body::Empty, [401, 200, 404, 404, 404, 404]),
    (
        "POST",
        "/api/v1/matters/{id}/treatment/visits",
        "",
        Body::Json(r#"{"new_provider":{"name":"Dr. {n}"},"visit_on":"2026-01-01"}"#),
        [401, 201, 404, 404, 404, 404],
    ),
    (
        "POST",
        "/api/v1/matters/{id}/treatment/providers",
        "",
        Body::Json(r#"{"name":"Clinic {n}","kind":"imaging"}"#),
        [401, 201, 404, 404, 404, 404],
    ),
    ("GET", "/api/v1/matters/{id}/appointments", "", Body::Empty, [401, 200, 404, 404, 404, 404]),
    ("GET", "/api/v1/staff/matters/{id}/treatment", "", Body::Empty, STAFF_RECORD_API),
    (
        "POST",
        "/api/v1/staff/matters/{id}/treatment/visits",
        "",
        Body::Json(r#"{"new_provider":{"name":"Dr. {n}"},"visit_on":"2026-01-01"}"#),
        [401, 403, 403, 201, 404, 201],
    ),
    (
        "POST",
        "/api/v1/staff/matters/{id}/treatment/providers",
        "",
        Body::Json(r#"{"name":"Clinic {n}"}"#),
        [401, 403, 403, 201, 404, 201],
    ),
    ("GET", "/api/v1/staff/matters/{id}/appointments", "", Body::Empty, STAFF_RECORD_API),
    (
        "POST",
        "/api/v1/staff/matters/{id}/appointments",
        "",
        Body::Json(r#"{"kind":"call","starts_at":"2030-01-05T15:00:00Z","place":"By phone {n}"}"#),
        [401, 403, 403, 201, 404, 201],
    ),
    (
        "PATCH",
        "/api/v1/staff/matters/{id}/appointments/{appointment}",
        "",
        Body::Json(r#"{"place":"Room {n}"}"#),
        STAFF_RECORD_API,
    ),
    ("POST", "/api/v1/staff/matters/{id}/appointments/{appointment}/cancel", "", Body::Empty, STAFF_RECORD_API),
    (
        "POST",
        "/staff/matters/{id}/treatment/visits",
        "",
        Body::Form(&[("status", "visited"), ("visit_on", "2026-01-01"), ("provider_name", "Dr. {n}")]),
        STAFF_RECORD_FORM,
    ),
    (
        "POST",
        "/staff/matters/{id}/appointments",
        "",
        Body::Form(&[("kind", "call"), ("starts_at", "2030-01-05T09:00"), ("place", "By phone {n}")]),
        STAFF_RECORD_FORM,
    ),
    ("POST", "/staff/matters/{id}/appointments/{appointment}/cancel", "", Body::Empty, STAFF_RECORD_FORM),
];

/// The two firms, their people, and a document on client A's matter.
struct World {
    app: TestApp,
    domain: String,
    /// User ids in the order of [`ACTORS`] (`None`: anonymous).
    actors: [Option<String>; 6],
    client_a: harness::fixtures::Client,
    document: String,
    admin_a: Staff,
}

async fn world(backend: Backend) -> anyhow::Result<World> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let other = app.seed_demo().await?;
    let client_a = app.client(&demo.email("jordan")).await?;
    let client_b = app.client(&demo.email("lucia")).await?;
    let casey = app.user_id(&demo.email("casey")).await?;
    let admin_b = app.user_id(&other.email("admin")).await?;
    let admin_a = app.user_id(&demo.email("admin")).await?;
    let bearer = format!("Bearer {}", app.session_token(&client_a.id).await?);
    let uploaded: Value = app
        .raw_client()?
        .post(app.url(&format!("/api/v1/matters/{}/documents", client_a.matter_id)))
        .header(AUTHORIZATION, bearer)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pdf(3000)).file_name("bill.pdf").mime_str("application/pdf")?,
        ))
        .send()
        .await?
        .json()
        .await?;
    let document = uploaded["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!document.is_empty(), "setup upload failed: {uploaded}");
    let admin_staff = Staff { id: admin_a.clone(), firm_id: demo.firm_id.clone(), role: Role::Admin, ip: None };
    Ok(World {
        domain: demo.domain.clone(),
        actors: [None, Some(client_a.id.clone()), Some(client_b.id), Some(casey), Some(admin_b), Some(admin_a)],
        client_a,
        document,
        admin_a: admin_staff,
        app,
    })
}

impl World {
    /// A new open document request on client A's matter.
    async fn fresh_request(&self) -> anyhow::Result<String> {
        let (staff, matter) = (self.admin_a.clone(), self.client_a.matter_id.clone());
        let input = shared::staff::updates::NewRequest { title: "Another bill".to_owned(), ..Default::default() };
        Ok(self
            .app
            .state
            .db
            .run(move |c| shared::staff::updates::open_request(c, &staff, &matter, &input, now()))
            .await?
            .id)
    }

    /// A new message from client A on their matter, waiting for a reply.
    async fn fresh_client_message(&self) -> anyhow::Result<()> {
        let (client, matter) = (self.client_a.id.clone(), self.client_a.matter_id.clone());
        self.app
            .state
            .db
            .run(move |c| {
                use diesel::prelude::*;
                use shared::db::models::{Matter, User};
                use shared::db::schema::{matters, users};
                let client: User = users::table.find(&client).select(User::as_select()).first(c)?;
                let matter: Matter = matters::table.find(&matter).select(Matter::as_select()).first(c)?;
                shared::messages::post_by_client(c, &client, &matter, "Any news?", &[], None, now()).map(|_| ())
            })
            .await?;
        Ok(())
    }

    /// A new appointment on client A's matter.
    async fn fresh_appointment(&self) -> anyhow::Result<String> {
        let (staff, matter) = (self.admin_a.clone(), self.client_a.matter_id.clone());
        let input = shared::appointments::NewAppointment {
            kind: "call".to_owned(),
            starts_at: now() + chrono::Duration::days(30),
            duration_minutes: None,
            place: "By phone".to_owned(),
            bring: None,
        };
        Ok(self
            .app
            .state
            .db
            .run(move |c| shared::appointments::schedule(c, &staff, &matter, &input, now()))
            .await?
            .0
            .id)
    }

    /// A new sign-in link token for client A.
    async fn fresh_sign_in(&self) -> anyhow::Result<String> {
        let (tokens, id) = (self.app.state.tokens.clone(), self.client_a.id.clone());
        Ok(self.app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?.token)
    }

    /// `text` with the placeholders of a row filled in for one request.
    async fn fill(&self, text: &str, n: usize) -> anyhow::Result<String> {
        let mut text = text
            .replace("{n}", &n.to_string())
            .replace("{domain}", &self.domain)
            .replace("{client}", &self.client_a.id)
            .replace("{document}", &self.document)
            .replace("{area}", shared::catalogue::PERSONAL_INJURY)
            .replace("{key}", "intake")
            .replace("{file}", "app.css")
            .replace("{firm}", &self.admin_a.firm_id)
            .replace("{hex}", "8b1a1a")
            .replace("{table}", "phases");
        text = if text.contains("/clients/{id}") {
            text.replace("{id}", &self.client_a.id)
        } else if text.contains("/staff/documents/{id}") {
            text.replace("{id}", &self.document)
        } else {
            text.replace("{id}", &self.client_a.matter_id)
        };
        if text.contains("{request}") {
            text = text.replace("{request}", &self.fresh_request().await?);
        }
        if text.contains("{appointment}") {
            text = text.replace("{appointment}", &self.fresh_appointment().await?);
        }
        if text.contains("{signin}") {
            text = text.replace("{signin}", &self.fresh_sign_in().await?);
        }
        let tokens = &self.app.state.tokens;
        let id = shared::domain::new_id();
        if text.contains("{unsubscribe}") {
            text = text.replace(
                "{unsubscribe}",
                &tokens.issue(Purpose::Unsubscribe, &self.client_a.id, &id, chrono::Duration::days(1))?,
            );
        }
        if text.contains("{rating}") {
            text = text.replace(
                "{rating}",
                &tokens.issue(Purpose::Rating, &self.client_a.id, &id, chrono::Duration::days(1))?,
            );
        }
        Ok(text)
    }

    /// Sends one row's request as `actor` (a fresh session each time, as a cookie).
    async fn send(
        &self,
        http: &reqwest::Client,
        row: &Row,
        actor: usize,
        n: usize,
    ) -> anyhow::Result<reqwest::Response> {
        let (method, template, query, body, _) = *row;
        if template.ends_with("/messages/handled") {
            self.fresh_client_message().await?;
        }
        let mut url = self.app.url(&self.fill(template, n).await?);
        if !query.is_empty() {
            url = format!("{url}?{}", self.fill(query, n).await?);
        }
        let mut request = http.request(method.parse()?, url);
        if let Some(user) = &self.actors[actor] {
            request = request.header("Cookie", format!("matterline_session={}", self.app.session_token(user).await?));
        }
        request = match body {
            Body::Empty => request,
            Body::Form(pairs) => {
                let mut filled = Vec::new();
                for (k, v) in pairs {
                    filled.push(((*k).to_owned(), self.fill(v, n).await?));
                }
                request.form(&filled)
            }
            Body::Json(text) => request.header("Content-Type", "application/json").body(self.fill(text, n).await?),
            Body::Csv(text) => request.header("Content-Type", "text/csv").body(self.fill(text, n).await?),
            Body::Pdf => request.multipart(
                reqwest::multipart::Form::new().part(
                    "file",
                    reqwest::multipart::Part::bytes(pdf(2000))
                        .file_name(format!("matrix-{n}.pdf"))
                        .mime_str("application/pdf")?,
                ),
            ),
        };
        Ok(request.send().await?)
    }
}

async fn every_route_answers_every_actor_as_expected(backend: Backend) -> anyhow::Result<()> {
    let declared = declared_routes();
    let in_matrix: BTreeSet<(String, String)> = ROWS.iter().map(|r| (r.0.to_owned(), r.1.to_owned())).collect();
    let missing: Vec<_> = declared.difference(&in_matrix).collect();
    let stale: Vec<_> = in_matrix.difference(&declared).collect();
    assert!(missing.is_empty(), "routes without a row in the authorization matrix: {missing:?}");
    assert!(stale.is_empty(), "matrix rows for routes that no longer exist: {stale:?}");
    assert_eq!(ROWS.len(), declared.len(), "one row per route");

    let world = world(backend).await?;
    let http = world.app.raw_client()?;
    let mut wrong = Vec::new();
    let mut tally: BTreeMap<u16, usize> = BTreeMap::new();
    let mut n = 0;
    for row in ROWS {
        for (actor, expected) in row.4.iter().enumerate() {
            n += 1;
            let response = world.send(&http, row, actor, n).await?;
            let status = response.status().as_u16();
            *tally.entry(status).or_default() += 1;
            if status != *expected {
                let body: String = response.text().await.unwrap_or_default().chars().take(160).collect();
                wrong.push(format!(
                    "{} {} as {}: expected {expected}, got {status}: {body}",
                    row.0, row.1, ACTORS[actor]
                ));
                continue;
            }
            // Nobody signed in is sent to the right sign-in page, never elsewhere.
            if actor == 0 && status == 303 && !["/language", "/sign-in/link"].contains(&row.1) {
                let to = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
                let fine = if row.1.starts_with("/staff") { "/staff/sign-in" } else { "/sign-in" };
                // A client page is returned to after sign-in: `/sign-in?next=` and its own path.
                let returns = fine == "/sign-in" && to.starts_with("/sign-in?next=%2F");
                if to != fine && !returns {
                    wrong.push(format!("{} {} as anonymous: redirected to {to:?}, expected {fine}", row.0, row.1));
                }
            }
        }
    }
    let statuses: Vec<String> = tally.iter().map(|(s, c)| format!("{s}: {c}")).collect();
    reliability::record(
        &format!("security_matrix_{backend:?}").to_lowercase(),
        &format!("Authorization matrix ({backend:?})"),
        &format!(
            "Every route registered on the portal's app (as actix-web reports it) × {{{}}}.\n\n| figure | value |\n|---|---|\n| routes | {} |\n| requests sent | {n} |\n| statuses seen | {} |\n| unexpected statuses | {} |\n",
            ACTORS.join(", "),
            ROWS.len(),
            statuses.join(", "),
            wrong.len()
        ),
    )?;
    assert!(wrong.is_empty(), "{} cells of the matrix are wrong:\n{}", wrong.len(), wrong.join("\n"));
    Ok(())
}

/// Every route that names a document, with the real document of client A (firm A)
/// put under a matter the caller may see: client B's own matter, a matter of firm
/// B for firm B's admin, client B's matter for firm A's staff. Each is 404, and
/// nothing of firm A changes; the same document under its own matter is served
/// (the control), so each 404 is about the document, not a made-up id.
async fn a_document_is_found_only_under_its_own_matter(backend: Backend) -> anyhow::Result<()> {
    let world = world(backend).await?;
    let app = &world.app;
    let http = app.raw_client()?;
    let matter_of = |user: String| {
        let db = app.state.db.clone();
        async move {
            db.run(move |c| {
                use diesel::prelude::*;
                use shared::db::schema::{matters, users};
                let firm: String = users::table.find(&user).select(users::firm_id).first(c)?;
                Ok(matters::table.filter(matters::firm_id.eq(&firm)).select(matters::id).load::<String>(c)?)
            })
            .await
        }
    };
    let [_, _, Some(client_b), Some(staff_a), Some(admin_b), Some(admin_a)] = world.actors.clone() else {
        anyhow::bail!("the matrix's actors changed");
    };
    let client_b_matter = app.client(&format!("lucia@{}", world.domain)).await?.matter_id;
    let firm_b_matter =
        matter_of(admin_b.clone()).await?.into_iter().next().ok_or_else(|| anyhow::anyhow!("firm B has no matter"))?;
    assert_ne!(client_b_matter, world.client_a.matter_id);
    // One session per caller, made before firm A's rows are read.
    let mut cookies = BTreeMap::new();
    for user in [&client_b, &staff_a, &admin_b, &admin_a] {
        cookies.insert(user.clone(), format!("matterline_session={}", app.session_token(user).await?));
    }
    let firm_a = app.firm_rows(&world.admin_a.firm_id).await?;
    let routes: Vec<&Row> = ROWS.iter().filter(|r| r.1.contains("{document}")).collect();
    assert_eq!(routes.len(), 7, "the routes that name a document");
    let (mut tried, mut others) = (0, 0);
    for row in &routes {
        let (method, template, ..) = **row;
        let client_route = !template.contains("/staff/");
        let mut callers = vec![
            (&admin_b, &firm_b_matter, "admin of firm B, a matter of firm B"),
            (&staff_a, &client_b_matter, "staff of firm A, client B's matter"),
        ];
        if client_route {
            callers.push((&client_b, &client_b_matter, "client B, her own matter"));
        }
        for (caller, matter, who) in callers {
            tried += 1;
            let url = app.url(&world.fill(&template.replace("{id}", matter), tried).await?);
            let status = http.request(method.parse()?, &url).header("Cookie", &cookies[caller]).send().await?.status();
            others += usize::from(status.as_u16() != 404);
            assert_eq!(status.as_u16(), 404, "{method} {template} as {who}");
        }
    }
    let changed = harness::rows::changes(&firm_a, &app.firm_rows(&world.admin_a.firm_id).await?);
    assert!(changed.is_empty(), "rows of firm A changed: {changed:?}");
    // The control: firm A's admin reaches the same document under its own matter.
    for row in &routes {
        let (method, template, ..) = **row;
        let url = app.url(&world.fill(template, 0).await?);
        let status = http.request(method.parse()?, &url).header("Cookie", &cookies[&admin_a]).send().await?.status();
        assert_eq!(status.as_u16(), row.4[5], "{method} {template} as admin of firm A (the control)");
    }
    reliability::record(
        &format!("security_documents_{}", backend.name()),
        &format!("A document only under its own matter ({})", backend.name()),
        &format!(
            "Client A's real document under a matter the caller may see.\n\n| figure | value |\n|---|---|\n| routes naming a document | {} |\n| requests with another matter | {tried} |\n| answered other than 404 | {others} |\n| rows of firm A changed | {} |\n",
            routes.len(),
            changed.len()
        ),
    )?;
    Ok(())
}

on_both_backends!(every_route_answers_every_actor_as_expected, a_document_is_found_only_under_its_own_matter);
