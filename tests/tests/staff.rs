//! The firm's side: staff sign in with password and TOTP, create clients and
//! matters, post milestones and document requests that the client then sees —
//! and staff of one firm can neither read nor change anything of another.

use diesel::prelude::*;
use harness::pages::main_text;
use harness::session::Session;
use harness::{Backend, TestApp, on_both_backends};
use portal::staff_auth::current_code;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::{audit_events, sessions};

async fn a_staff_member_signs_in_and_what_they_post_reaches_the_client(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = demo.staff_login("admin")?.clone();

    // Not signed in: the staff pages send you to the staff sign-in.
    let start = app.get("/staff").await?;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    assert_eq!(start.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/staff/sign-in"));

    // A wrong code is refused like a wrong password, and does not sign in.
    let wrong = app
        .client
        .post(app.url("/staff/sign-in"))
        .form(&[("email", admin.email.as_str()), ("password", admin.password.as_str()), ("code", "000000")])
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(main_text(&wrong.text().await?).contains("The email, password or code is not right"));
    let wrong_password = app
        .client
        .post(app.url("/staff/sign-in"))
        .form(&[
            ("email", admin.email.as_str()),
            ("password", "not-the-password"),
            ("code", &current_code(&admin.totp_secret)?),
        ])
        .send()
        .await?;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);

    let code = current_code(&admin.totp_secret)?;
    let signed_in = app
        .client
        .post(app.url("/staff/sign-in"))
        .form(&[("email", admin.email.as_str()), ("password", admin.password.as_str()), ("code", code.as_str())])
        .send()
        .await?;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/staff"));
    let cookie = signed_in.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.starts_with("matterline_session=") && cookie.contains("HttpOnly"), "{cookie}");

    let list = main_text(&app.get("/staff").await?.text().await?);
    assert!(list.contains("5 matters"), "{list}");
    assert!(list.contains("Rear-end collision on Route 9"), "{list}");

    // A new client and matter, from the page's form.
    let client_email = format!("new.client@{}", demo.domain);
    let created = app
        .client
        .post(app.url("/staff/matters"))
        .form(&[
            ("client_name", "Nora Nueva"),
            ("client_email", client_email.as_str()),
            ("client_phone", "+1 555 0199"),
            ("language", "es"),
            ("title", "Choque en un estacionamiento"),
            ("phase", "intake"),
            ("case_manager_id", ""),
            ("external_id", "CMS-7781"),
        ])
        .send()
        .await?;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let matter_id = location.strip_prefix("/staff/matters/").unwrap_or_default().to_owned();
    assert!(!matter_id.is_empty(), "{location}");

    // A phase change and a document request, from the matter page's forms.
    let moved = app
        .client
        .post(app.url(&format!("/staff/matters/{matter_id}/milestones")))
        .form(&[("kind", "phase_change"), ("phase", "investigation"), ("body", "")])
        .send()
        .await?;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let asked = app
        .client
        .post(app.url(&format!("/staff/matters/{matter_id}/requests")))
        .form(&[
            ("title", "Informe policial del choque"),
            ("details", "Una copia basta."),
            ("category", "police_report"),
        ])
        .send()
        .await?;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let staff_page = main_text(&app.get(&format!("/staff/matters/{matter_id}")).await?.text().await?);
    assert!(staff_page.contains("Phase: Investigation"), "{staff_page}");
    assert!(staff_page.contains("Informe policial del choque"), "{staff_page}");

    // The client (Spanish) sees the new phase and the request on their page.
    let client = app.signed_in_client(&client_email).await?;
    let page = client.request(Method::GET, &format!("/matters/{matter_id}")).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let page = main_text(&page.text().await?);
    assert!(page.contains("Choque en un estacionamiento"), "{page}");
    assert!(page.contains("Investigación"), "the new phase in Spanish: {page}");
    assert!(page.contains("Informe policial del choque"), "the request: {page}");
    assert!(page.contains("Una copia basta."), "{page}");

    // The client asks for a sign-in link; the staff matter page shows what was sent to whom.
    let asked_link =
        app.new_client()?.post(app.url("/sign-in")).form(&[("email", client_email.as_str())]).send().await?;
    assert_eq!(asked_link.status(), StatusCode::OK);
    app.background_done().await;
    let staff_page = main_text(&app.get(&format!("/staff/matters/{matter_id}")).await?.text().await?);
    assert!(staff_page.contains("Nora Nueva Sign-in link · sent"), "{staff_page}");

    // Every change is in the audit log, with the staff member and their address.
    let admin_id = app.user_id(&admin.email).await?;
    let actions: Vec<(String, Option<String>, Option<String>)> = app
        .state
        .db
        .run(|c| {
            Ok(audit_events::table
                .filter(audit_events::actor_kind.eq("staff"))
                .order(audit_events::id)
                .select((audit_events::action, audit_events::actor_id, audit_events::ip))
                .load(c)?)
        })
        .await?;
    let names: Vec<&str> = actions.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(names, ["client.create", "matter.create", "milestone.phase_change", "request.open"]);
    assert!(
        actions
            .iter()
            .all(|(_, actor, ip)| actor.as_deref() == Some(admin_id.as_str()) && ip.as_deref() == Some("127.0.0.1"))
    );
    Ok(())
}

async fn the_staff_api_covers_the_same_flow_and_names_invalid_fields(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let casey = demo.staff_login("casey")?.clone();
    let http = app.new_client()?;

    // Sign-in through the API, with the TOTP code; the same code does not work twice.
    let code = current_code(&casey.totp_secret)?;
    let credentials = json!({ "email": casey.email, "password": casey.password, "code": code });
    let reply = http.post(app.url("/api/v1/staff/sign-in")).json(&credentials).send().await?;
    assert_eq!(reply.status(), StatusCode::OK);
    let token = reply.json::<Value>().await?["token"].as_str().unwrap_or_default().to_owned();
    let replay = http.post(app.url("/api/v1/staff/sign-in")).json(&credentials).send().await?;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED, "a TOTP code was accepted twice");
    let casey_id = app.user_id(&casey.email).await?;
    let staff = app.session(&token, &casey_id)?;

    let bad: Value = staff
        .post_json(
            "/api/v1/staff/clients",
            &json!({ "full_name": "Ana", "email": "not-an-email" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await?;
    assert_eq!(bad["error"], "email: is not an email address");
    let missing: Value = staff
        .post_json("/api/v1/staff/clients", &json!({ "email": "ana@example.com" }), StatusCode::UNPROCESSABLE_ENTITY)
        .await?;
    let message = missing["error"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("full_name"), "{message}");

    let ana = json!({ "full_name": "Ana Apple", "email": format!("ana@{}", demo.domain), "language": "en" });
    let client: Value = staff.post_json("/api/v1/staff/clients", &ana, StatusCode::CREATED).await?;
    let again = json!({ "full_name": "Ana Again", "email": format!("ANA@{}", demo.domain) });
    let _: Value = staff.post_json("/api/v1/staff/clients", &again, StatusCode::CONFLICT).await?;

    let matter: Value = staff
        .post_json(
            "/api/v1/staff/matters",
            &json!({ "title": "Bicycle hit by a car door", "client_ids": [client["id"]], "case_manager_id": casey_id }),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(matter["phase_key"], "intake");
    assert_eq!(matter["case_manager"]["name"], "Casey Manager");
    let id = matter["id"].as_str().unwrap_or_default().to_owned();

    let post = |body: Value, path: String| {
        let request = staff.request(Method::POST, &path).json(&body);
        async move { request.send().await }
    };
    let unknown =
        post(json!({ "kind": "gossip", "body": "x" }), format!("/api/v1/staff/matters/{id}/milestones")).await?;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.json::<Value>().await?["error"].as_str().unwrap_or_default().starts_with("kind:"));
    let no_body = post(json!({ "kind": "client_note" }), format!("/api/v1/staff/matters/{id}/milestones")).await?;
    assert_eq!(no_body.json::<Value>().await?["error"], "body: is required for a note");
    let bad_phase =
        post(json!({ "kind": "phase_change", "phase": "moon" }), format!("/api/v1/staff/matters/{id}/milestones"))
            .await?;
    assert!(bad_phase.json::<Value>().await?["error"].as_str().unwrap_or_default().starts_with("phase:"));

    for body in [
        json!({ "kind": "phase_change", "phase": "medical_treatment" }),
        json!({ "kind": "appointment", "body": "Orthopaedic visit", "occurs_at": "2026-12-03T15:30:00" }),
        json!({ "kind": "client_note", "body": "We received the police report." }),
        json!({ "kind": "internal_note", "body": "Adjuster slow to answer." }),
    ] {
        let reply = post(body.clone(), format!("/api/v1/staff/matters/{id}/milestones")).await?;
        assert_eq!(reply.status(), StatusCode::CREATED, "{body}");
    }
    let request = post(
        json!({ "title": "Wage statements", "category": "wage_proof" }),
        format!("/api/v1/staff/matters/{id}/requests"),
    )
    .await?;
    assert_eq!(request.status(), StatusCode::CREATED);
    let request_id = request.json::<Value>().await?["id"].as_str().unwrap_or_default().to_owned();

    let detail: Value = staff.get(&format!("/api/v1/staff/matters/{id}")).await?;
    assert_eq!(detail["phase_key"], "medical_treatment");
    let kinds: Vec<&str> =
        detail["timeline"].as_array().into_iter().flatten().filter_map(|m| m["kind"].as_str()).collect();
    for kind in ["phase_change", "appointment", "client_note", "internal_note", "request_opened"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(detail["open_requests"], 1);

    // The client sees the note and the appointment, never the internal note.
    let ana = app.signed_in_client(&format!("ana@{}", demo.domain)).await?;
    let seen: Value = ana.get(&format!("/api/v1/matters/{id}")).await?;
    let text = seen.to_string();
    assert!(text.contains("We received the police report.") && text.contains("Orthopaedic visit"), "{text}");
    assert!(!text.contains("Adjuster slow"), "an internal note reached the client: {text}");
    assert_eq!(seen["phase"]["key"], "medical_treatment");

    // Cancelled twice at the same moment: one cancels, the other is told it already is.
    let cancel = format!("/api/v1/staff/matters/{id}/requests/{request_id}/cancel");
    let (one, other) = tokio::try_join!(post(json!({}), cancel.clone()), post(json!({}), cancel))?;
    let mut statuses = [one.status(), other.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::CONFLICT]);
    let refusal = if one.status() == StatusCode::CONFLICT { one } else { other };
    let refusal = refusal.json::<Value>().await?;
    assert!(refusal["error"].as_str().is_some_and(|e| e.contains("already cancelled")), "{refusal}");

    let closed: Value = staff
        .patch_json(
            &format!("/api/v1/staff/matters/{id}"),
            &json!({ "closed": true, "case_manager_id": "" }),
            StatusCode::OK,
        )
        .await?;
    assert!(closed["closed_at"].is_string() && closed["case_manager"].is_null(), "{closed}");

    // Filters: the stale list has every open demo matter (nobody was sent an update), the closed one is gone.
    let stale: Value = staff.get("/api/v1/staff/matters?stale=true&phase=records_and_bills").await?;
    let titles: Vec<&str> = stale.as_array().into_iter().flatten().filter_map(|m| m["title"].as_str()).collect();
    assert_eq!(titles, ["Rear-end collision on Route 9"]);
    assert_eq!(staff.get_status("/api/v1/staff/matters?phase=moon").await?, StatusCode::UNPROCESSABLE_ENTITY);

    // A case manager may not change firm settings or read the audit log; a client may not use the staff API.
    let _: Value =
        staff.patch_json("/api/v1/staff/settings", &json!({ "name": "Taken Over" }), StatusCode::FORBIDDEN).await?;
    assert_eq!(staff.get_status("/api/v1/staff/audit").await?, StatusCode::FORBIDDEN);
    assert_eq!(ana.get_status("/api/v1/staff/matters").await?, StatusCode::FORBIDDEN);
    let anonymous = app.new_client()?.get(app.url("/api/v1/staff/matters")).send().await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

async fn an_admin_changes_settings_and_reads_the_audit_log(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let settings = "/api/v1/staff/settings";
    let bad_zone: Value =
        admin.patch_json(settings, &json!({ "time_zone": "Mars/Olympus" }), StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert!(bad_zone["error"].as_str().unwrap_or_default().starts_with("time_zone:"));
    let bad_cron: Value = admin
        .patch_json(settings, &json!({ "weekly_schedule": "every monday" }), StatusCode::UNPROCESSABLE_ENTITY)
        .await?;
    assert!(bad_cron["error"].as_str().unwrap_or_default().starts_with("weekly_schedule:"));
    let changes = json!({
        "name": "Demo Injury Law LLP", "time_zone": "America/New_York",
        "weekly_schedule": "0 0 9 * * Mon", "no_activity_updates": false, "mail_from": "Updates <updates@demo.test>"
    });
    let saved: Value = admin.patch_json(settings, &changes, StatusCode::OK).await?;
    assert_eq!(saved["name"], "Demo Injury Law LLP");
    assert_eq!(saved["weekly_schedule"], "0 0 9 * * Mon");
    assert_eq!(saved["no_activity_updates"], false);

    // A client's page reads the catalogue (and the process keeps it for a minute) ...
    let sam = app.client(&demo.email("sam")).await?;
    let sam_session = app.signed_in_client(&sam.email).await?;
    let sam_page = || {
        let request = sam_session.request(Method::GET, &format!("/matters/{}", sam.matter_id));
        async move { anyhow::Ok(main_text(&request.send().await?.text().await?)) }
    };
    let before = sam_page().await?;
    assert!(before.contains("Getting started"), "{before}");
    let english = json!({ "language": "en", "title": "First steps", "what_it_means": "We begin.", "what_happens_next": "We call you." });
    let intake = "/api/v1/staff/catalogue/personal_injury/intake";
    admin.put_json::<()>(intake, &english, StatusCode::NO_CONTENT).await?;
    // ... and shows the new wording at once after an admin changes it.
    let after = sam_page().await?;
    assert!(
        after.contains("First steps") && after.contains("We begin.") && !after.contains("Getting started"),
        "{after}"
    );

    let text = json!({ "language": "es", "title": "Ingreso", "what_it_means": "Empezamos.", "what_happens_next": "Le llamamos." });
    admin.put_json::<()>(intake, &text, StatusCode::NO_CONTENT).await?;
    let catalogue: Value = admin.get("/api/v1/staff/catalogue").await?;
    let intake = catalogue.as_array().into_iter().flatten().find(|p| p["key"] == "intake").cloned().unwrap_or_default();
    assert!(
        intake["texts"].as_array().into_iter().flatten().any(|t| t["language"] == "es" && t["title"] == "Ingreso"),
        "{intake}"
    );

    let log: Value = admin.get("/api/v1/staff/audit?action=firm.").await?;
    let entries = log.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["detail"], "name,mail_from,time_zone,weekly_schedule,no_activity_updates");

    let ratings: Value = admin.get("/api/v1/staff/ratings").await?;
    assert_eq!(ratings["count"], 0);
    let jordan = app.user_id(&demo.email("jordan")).await?;
    let log: Value = admin.get(&format!("/api/v1/staff/clients/{jordan}/notifications")).await?;
    assert_eq!(log, json!([]));
    Ok(())
}

/// A document a client uploads through the API; its id.
async fn uploaded_by(app: &TestApp, client: &harness::fixtures::Client, name: &str) -> anyhow::Result<String> {
    let session = app.signed_in_client(&client.email).await?;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(harness::files::pdf(2500))
            .file_name(name.to_owned())
            .mime_str("application/pdf")?,
    );
    let path = format!("/api/v1/matters/{}/documents", client.matter_id);
    let report: Value = session.request(Method::POST, &path).multipart(form).send().await?.json().await?;
    let id = report["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!id.is_empty(), "the upload of {name} failed: {report}");
    Ok(id)
}

/// Every staff endpoint with firm B's ids (real ones: B's client, matter, open
/// request and an uploaded document), called by firm A's admin: 404, and no row
/// of firm B changes in any table. A document of another matter is not found
/// through a matter of one's own either (another firm's, or another client's of the same firm).
async fn staff_of_one_firm_cannot_read_or_change_another_firm(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let firm_a = app.seed_demo().await?;
    let firm_b = app.seed_demo().await?;
    let admin = app.signed_in_staff(&firm_a, "admin").await?;
    let b_client = app.client(&firm_b.email("jordan")).await?;
    let (client, matter) = (b_client.id.clone(), b_client.matter_id.clone());
    let b_doc = uploaded_by(&app, &b_client, "b-bill.pdf").await?;
    let a_client = app.client(&firm_a.email("jordan")).await?;
    let a_other = app.client(&firm_a.email("lucia")).await?;
    let a_other_doc = uploaded_by(&app, &a_other, "lucia-bill.pdf").await?;
    let a_matter = a_client.matter_id.clone();
    // The control: these ids are real. B's admin downloads B's document, A's admin Lucia's.
    let b_admin = app.signed_in_staff(&firm_b, "admin").await?;
    let b_download = format!("/api/v1/staff/matters/{matter}/documents/{b_doc}/download");
    assert_eq!(b_admin.get_status(&b_download).await?, StatusCode::OK, "B's own document");
    let own = format!("/api/v1/staff/matters/{}/documents/{a_other_doc}/download", a_other.matter_id);
    assert_eq!(admin.get_status(&own).await?, StatusCode::OK, "A's own document");

    app.queue_settled().await?;
    let before = app.firm_rows(&firm_b.firm_id).await?;
    let a_before = app.firm_rows(&firm_a.firm_id).await?;
    assert!(before.get("documents").is_some_and(|d| d.len() == 1), "{before:?}");
    // The comparison covers firm B's data in every table that holds some.
    for table in ["firms", "users", "matters", "matter_clients", "milestones", "document_requests", "audit_events"] {
        assert!(before.get(table).is_some_and(|rows| !rows.is_empty()), "no rows of firm B in {table}");
    }
    let request_id: String = {
        let matter = matter.clone();
        app.state
            .db
            .run(move |c| {
                use shared::db::schema::document_requests;
                Ok(document_requests::table
                    .filter(document_requests::matter_id.eq(&matter))
                    .select(document_requests::id)
                    .first(c)?)
            })
            .await?
    };
    let calls: Vec<(&str, String, Value)> = vec![
        ("GET", format!("/api/v1/staff/clients/{client}"), Value::Null),
        ("PATCH", format!("/api/v1/staff/clients/{client}"), json!({ "full_name": "Taken" })),
        ("GET", format!("/api/v1/staff/clients/{client}/notifications"), Value::Null),
        ("GET", format!("/api/v1/staff/matters/{matter}"), Value::Null),
        ("PATCH", format!("/api/v1/staff/matters/{matter}"), json!({ "title": "Taken", "closed": true })),
        (
            "POST",
            format!("/api/v1/staff/matters/{matter}/milestones"),
            json!({ "kind": "phase_change", "phase": "closed" }),
        ),
        ("POST", format!("/api/v1/staff/matters/{matter}/requests"), json!({ "title": "Everything" })),
        ("POST", format!("/api/v1/staff/matters/{matter}/requests/{request_id}/cancel"), json!({})),
        ("GET", format!("/api/v1/staff/matters/{matter}/documents"), Value::Null),
        ("GET", b_download.clone(), Value::Null),
        ("POST", format!("/api/v1/staff/matters/{matter}/documents/{b_doc}/review"), json!({})),
        // B's document through A's own matter.
        ("GET", format!("/api/v1/staff/matters/{a_matter}/documents/{b_doc}/download"), Value::Null),
        ("POST", format!("/api/v1/staff/matters/{a_matter}/documents/{b_doc}/review"), json!({})),
        // Another client's document of firm A through Jordan's matter.
        ("GET", format!("/api/v1/staff/matters/{a_matter}/documents/{a_other_doc}/download"), Value::Null),
        ("POST", format!("/api/v1/staff/matters/{a_matter}/documents/{a_other_doc}/review"), json!({})),
    ];
    for (method, path, body) in &calls {
        let mut request = admin.request(method.parse()?, path);
        if !body.is_null() {
            request = request.json(body);
        }
        let reply = request.send().await?;
        assert_eq!(reply.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    // A's matter with B's client is refused too, naming the field.
    let mixed = json!({ "title": "Mixed", "client_ids": [client] });
    let _: Value = admin.post_json("/api/v1/staff/matters", &mixed, StatusCode::UNPROCESSABLE_ENTITY).await?;
    // Pages: B's matter is "not found"; lists show only A's records.
    assert_eq!(admin.get_status(&format!("/staff/matters/{matter}")).await?, StatusCode::NOT_FOUND);
    let listed: Value = admin.get("/api/v1/staff/clients?limit=500").await?;
    let emails: Vec<&str> = listed.as_array().into_iter().flatten().filter_map(|c| c["email"].as_str()).collect();
    assert_eq!(emails.len(), 5);
    assert!(emails.iter().all(|e| e.ends_with(&firm_a.domain)), "{emails:?}");
    let matters_seen: Value = admin.get("/api/v1/staff/matters?include_closed=true").await?;
    assert!(!matters_seen.to_string().contains(&matter), "firm B's matter is listed to firm A");
    // The client download route and the staff review form, by staff of A, with B's real document: 404 as well.
    for (method, path) in [
        (Method::GET, format!("/matters/{matter}/documents/{b_doc}")),
        (Method::GET, format!("/matters/{a_matter}/documents/{b_doc}")),
        (Method::GET, format!("/matters/{a_matter}/documents/{a_other_doc}")),
        (Method::POST, format!("/staff/matters/{matter}/documents/{b_doc}/review")),
        (Method::POST, format!("/staff/matters/{a_matter}/documents/{b_doc}/review")),
        (Method::POST, format!("/staff/matters/{a_matter}/documents/{a_other_doc}/review")),
    ] {
        let status = admin.request(method.clone(), &path).send().await?.status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let changed = harness::rows::changes(&before, &app.firm_rows(&firm_b.firm_id).await?);
    assert!(changed.is_empty(), "rows of firm B changed:\n{}", changed.join("\n"));
    // Lucia's document was not reviewed through Jordan's matter either.
    let reviewed = harness::rows::changes(&a_before, &app.firm_rows(&firm_a.firm_id).await?);
    assert!(!reviewed.iter().any(|r| r.starts_with("documents:")), "{reviewed:?}");
    Ok(())
}

/// The import through the API: admins only, bad rows named by line, a second run changes nothing.
async fn an_admin_imports_a_case_management_export_through_the_api(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let d = &demo.domain;
    let csv = format!(
        "external_id,matter_title,client_name,client_email,phase\n\
         CMS-1,Slip at a pharmacy,Pat One,pat@{d},intake\n\
         CMS-2,Hit by a delivery van,Kim Two,kim@{d},demand\n\
         CMS-3,Broken stair,Lee Three,not-an-email,intake\n"
    );
    let send = |session: &Session| {
        let request =
            session.request(Method::POST, "/api/v1/staff/import").header("content-type", "text/csv").body(csv.clone());
        async move { request.send().await }
    };
    let casey = app.signed_in_staff(&demo, "casey").await?;
    assert_eq!(send(&casey).await?.status(), StatusCode::FORBIDDEN);
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let first = send(&admin).await?;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await?;
    assert_eq!((first["created"].as_u64(), first["updated"].as_u64()), (Some(2), Some(0)), "{first}");
    let failed = first["failed"].as_array().cloned().unwrap_or_default();
    assert_eq!(failed.len(), 1, "{first}");
    assert_eq!((failed[0]["line"].as_u64(), failed[0]["field"].as_str()), (Some(4), Some("client_email")), "{first}");
    let again: Value = send(&admin).await?.json().await?;
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(0), Some(2))
    );
    let found: Value = admin.get("/api/v1/staff/matters?q=CMS-2").await?;
    assert_eq!(found[0]["title"], "Hit by a delivery van");
    assert_eq!(found[0]["phase_key"], "demand");
    let bad_type = admin
        .request(Method::POST, "/api/v1/staff/import")
        .header("content-type", "application/zip")
        .body("PK")
        .send()
        .await?;
    assert_eq!(bad_type.status(), StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}

/// A client's upload shows up for review; staff download it (audited, same
/// bytes) and mark it reviewed, which takes the matter off the "to review" list.
async fn staff_review_and_download_a_client_upload(backend: Backend) -> anyhow::Result<()> {
    use sha2::{Digest, Sha256};
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    let jordan_session = app.signed_in_client(&jordan.email).await?;
    let bytes = harness::files::pdf(50_000);
    let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name("er bill.pdf").mime_str("application/pdf")?;
    let form = reqwest::multipart::Form::new().text("category", "medical_bill").part("file", part);
    let matter = jordan.matter_id.clone();
    let uploaded = jordan_session
        .request(Method::POST, &format!("/api/v1/matters/{matter}/documents"))
        .multipart(form)
        .send()
        .await?;
    assert_eq!(uploaded.status(), StatusCode::CREATED);

    let casey = app.signed_in_staff(&demo, "casey").await?;
    let to_review: Value = casey.get("/api/v1/staff/matters?unreviewed=true").await?;
    let ids: Vec<&str> = to_review.as_array().into_iter().flatten().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, [matter.as_str()]);
    assert_eq!(to_review[0]["unreviewed_documents"], 1);

    let docs: Value = casey.get(&format!("/api/v1/staff/matters/{matter}/documents")).await?;
    let doc = docs[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(docs[0]["name"], "er bill.pdf");
    assert_eq!(docs[0]["uploaded_by"]["name"], "Jordan Example");
    assert!(docs[0]["reviewed_at"].is_null());

    let download =
        casey.request(Method::GET, &format!("/api/v1/staff/matters/{matter}/documents/{doc}/download")).send().await?;
    assert_eq!(download.status(), StatusCode::OK);
    let got = download.bytes().await?;
    assert_eq!(hex::encode(Sha256::digest(&got)), hex::encode(Sha256::digest(&bytes)));
    let casey_id = casey.user_id.clone();
    let target = doc.clone();
    let downloads: Vec<(String, Option<String>)> = app
        .state
        .db
        .run(move |c| {
            Ok(audit_events::table
                .filter(audit_events::action.eq("document.download"))
                .filter(audit_events::target_id.eq(&target))
                .select((audit_events::actor_kind, audit_events::actor_id))
                .load(c)?)
        })
        .await?;
    assert_eq!(downloads, [("staff".to_owned(), Some(casey_id.clone()))]);

    // Two staff members mark it reviewed at the same moment: both are told it is
    // reviewed, and one review is kept and audited, by whoever came first.
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let review = |session: &Session| {
        let request = session.request(Method::POST, &format!("/api/v1/staff/matters/{matter}/documents/{doc}/review"));
        async move { anyhow::Ok(request.send().await?.status()) }
    };
    let both = tokio::try_join!(review(&casey), review(&admin))?;
    assert_eq!(both, (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT));
    let target = doc.clone();
    let reviews: Vec<Option<String>> = app
        .state
        .db
        .run(move |c| {
            Ok(audit_events::table
                .filter(audit_events::action.eq("document.review"))
                .filter(audit_events::target_id.eq(&target))
                .select(audit_events::actor_id)
                .load(c)?)
        })
        .await?;
    assert_eq!(reviews.len(), 1, "one document reviewed at once by two: {reviews:?}");
    let to_review: Value = casey.get("/api/v1/staff/matters?unreviewed=true").await?;
    assert_eq!(to_review, json!([]));
    let docs: Value = casey.get(&format!("/api/v1/staff/matters/{matter}/documents")).await?;
    assert_eq!(docs[0]["reviewed_by"]["id"], json!(reviews[0]), "the review kept is not the one audited");
    assert!([casey_id, admin.user_id.clone()].map(Some).contains(&reviews[0]), "{reviews:?}");
    Ok(())
}

/// Staff sign-ins sent at once, as a password-guessing script would: of
/// fourteen wrong passwords for one account from one source, exactly the free
/// allowance is checked (refused as wrong) and the rest are told to wait, with
/// every checked one counted, however they race; and four sign-ins with the
/// right password and the same TOTP code make exactly one session.
async fn parallel_staff_sign_ins_lose_no_failure_and_use_a_code_once(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let url = app.url("/api/v1/staff/sign-in");
    let all_at_once = |bodies: Vec<Value>| {
        let (app, url) = (&app, url.clone());
        futures_util::future::try_join_all(bodies.into_iter().map(move |body| {
            let url = url.clone();
            async move { anyhow::Ok(app.new_client()?.post(url).json(&body).send().await?.status()) }
        }))
    };
    let count = |statuses: &[StatusCode], status: StatusCode| statuses.iter().filter(|s| **s == status).count();

    let admin = demo.staff_login("admin")?.clone();
    let code = current_code(&admin.totp_secret)?;
    let free = usize::try_from(portal::staff_auth::PER_SOURCE.free)?;
    let guesses = (0..free + 2)
        .map(|n| json!({ "email": admin.email, "password": format!("guess {n}"), "code": code }))
        .collect();
    let statuses = all_at_once(guesses).await?;
    assert_eq!(
        (count(&statuses, StatusCode::UNAUTHORIZED), count(&statuses, StatusCode::TOO_MANY_REQUESTS)),
        (free, 2),
        "{statuses:?}"
    );
    let (email, now) = (admin.email.clone(), app.state.clock().now());
    let counted = app.state.db.run(move |c| portal::staff_auth::recent_failures(c, &email, now)).await?;
    assert_eq!(counted, i64::try_from(free)?, "failures counted");

    let casey = demo.staff_login("casey")?.clone();
    let code = current_code(&casey.totp_secret)?;
    let same = json!({ "email": casey.email, "password": casey.password, "code": code });
    let statuses = all_at_once(vec![same.clone(), same.clone(), same.clone(), same]).await?;
    assert_eq!((count(&statuses, StatusCode::OK), count(&statuses, StatusCode::UNAUTHORIZED)), (1, 3), "{statuses:?}");
    let casey_id = app.user_id(&casey.email).await?;
    let sessions: i64 = app
        .state
        .db
        .run(move |c| Ok(sessions::table.filter(sessions::user_id.eq(&casey_id)).count().get_result(c)?))
        .await?;
    assert_eq!(sessions, 1, "one TOTP code made {sessions} sessions");
    Ok(())
}

/// The same phase change sent twice at once (a double-clicked form, a retried
/// API call): the matter moves once, one milestone is written, and each client
/// of the matter is told once; the other request gets the readable "already in
/// this phase" answer.
async fn a_phase_change_sent_twice_at_once_moves_the_matter_once(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let admin = app.signed_in_staff(&demo, "admin").await?;
    let sam = app.client(&demo.email("sam")).await?; // in "intake"
    let path = format!("/api/v1/staff/matters/{}/milestones", sam.matter_id);
    let body = json!({ "kind": "phase_change", "phase": "investigation" });
    let send = || {
        let request = admin.request(Method::POST, &path).json(&body);
        async move {
            let reply = request.send().await?;
            anyhow::Ok((reply.status(), reply.text().await?))
        }
    };
    let before = phase_changes_of(&app, &sam).await?;
    let (first, second) = tokio::try_join!(send(), send())?;
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY], "{first:?} {second:?}");
    let refusal = if first.0 == StatusCode::CREATED { &second.1 } else { &first.1 };
    assert!(refusal.contains("already in this phase"), "{refusal}");

    let (milestones, told) = phase_changes_of(&app, &sam).await?;
    assert_eq!(
        (milestones - before.0, told - before.1),
        (1, 1),
        "phase-change milestones written and emails queued to the client"
    );
    Ok(())
}

/// The phase-change milestones of a client's matter, and the phase-change emails queued to them.
async fn phase_changes_of(app: &TestApp, client: &harness::fixtures::Client) -> anyhow::Result<(i64, i64)> {
    use shared::db::schema::{milestones, notifications};
    let (matter, recipient) = (client.matter_id.clone(), client.id.clone());
    app.state
        .db
        .run(move |c| {
            let written = milestones::table
                .filter(milestones::matter_id.eq(&matter))
                .filter(milestones::kind.eq("phase_change"))
                .count()
                .get_result(c)?;
            let queued = notifications::table
                .filter(notifications::kind.eq("phase_change"))
                .filter(notifications::recipient_id.eq(&recipient))
                .count()
                .get_result(c)?;
            Ok((written, queued))
        })
        .await
        .map_err(Into::into)
}

on_both_backends!(
    staff_review_and_download_a_client_upload,
    an_admin_imports_a_case_management_export_through_the_api,
    a_staff_member_signs_in_and_what_they_post_reaches_the_client,
    the_staff_api_covers_the_same_flow_and_names_invalid_fields,
    an_admin_changes_settings_and_reads_the_audit_log,
    parallel_staff_sign_ins_lose_no_failure_and_use_a_code_once,
    a_phase_change_sent_twice_at_once_moves_the_matter_once,
    staff_of_one_firm_cannot_read_or_change_another_firm,
);

#[tokio::test]
async fn the_openapi_description_is_valid_openapi_3_and_lists_every_api_route() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let app = TestApp::builder(Backend::Sqlite).spawn().await?;
    let text = app.get("/api/openapi.json").await?.text().await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &text)?;
    let validator = harness::services::openapi_validator()?;
    let checked = std::process::Command::new(&validator).arg(&file).output()?;
    assert!(
        checked.status.success(),
        "{validator} rejected the description:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    let spec: Value = serde_json::from_str(&text)?;
    // The API routes registered on the app, as the portal lists them; and, to
    // check that list, the `/api/v1` routes actix-web itself reports registered.
    let routes: std::collections::BTreeSet<(String, String)> =
        portal::routes::openapi::api_routes().into_iter().collect();
    let in_app: std::collections::BTreeSet<(String, String)> =
        harness::routes::registered()?.into_iter().filter(|(_, p)| p.starts_with("/api/v1/")).collect();
    assert_eq!(routes, in_app, "the portal's API route list is not what the app registers");
    assert!(routes.len() >= 25, "found only {} API routes registered", routes.len());
    assert!(routes.iter().filter(|(_, p)| p.starts_with("/api/v1/staff")).count() >= 22);
    // Both directions: every registered route is in the served description,
    // and the description has no operation that is not a registered route.
    for (method, path) in &routes {
        let method = method.to_lowercase();
        assert!(spec["paths"][path][&method].is_object(), "{method} {path} is not in /api/openapi.json");
    }
    let operations = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut described = std::collections::BTreeSet::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, _) in item.as_object().into_iter().flatten().filter(|(k, _)| operations.contains(&k.as_str())) {
            described.insert((method.to_uppercase(), path.clone()));
        }
    }
    let unregistered: Vec<_> = described.difference(&routes).collect();
    assert!(unregistered.is_empty(), "/api/openapi.json describes routes the app does not register: {unregistered:?}");
    for schema in ["StaffMatter", "MatterRow", "ClientView", "NewMilestone", "AuditEntry", "FirmSettings", "LogEntry"] {
        assert!(spec["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
    Ok(())
}
