//! Cross-site request forgery: state-changing requests from other origins.

use diesel::prelude::*;
use harness::pages::main_text;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, SET_COOKIE};
use serde_json::{Value, json};
use shared::db::schema::users;
use shared::tokens::Purpose;

use super::EVIL;

async fn forms_from_other_sites_are_refused(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let admin = app.user_id(&demo.email("admin")).await?;
    let cookie = format!("matterline_session={}", app.session_token(&client.id).await?);
    let admin_cookie = format!("matterline_session={}", app.session_token(&admin).await?);
    // A client with no default Origin: each request names its own.
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let weekly = || {
        let id = client.id.clone();
        let db = app.state.db.clone();
        async move { db.run(move |c| Ok(users::table.find(&id).select(users::weekly_updates).first::<bool>(c)?)).await }
    };
    let post = |origin: Option<&str>, referer: Option<&str>| {
        let mut r = bare.post(app.url("/preferences")).header("Cookie", &cookie).form(&[("weekly", "")]);
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        if let Some(o) = referer {
            r = r.header("Referer", o);
        }
        r.send()
    };
    let own = app.origin();
    let mut refused = 0;
    // Every row of the database before and after each run of refused requests: what they changed.
    let mut changed = Vec::new();
    let before = app.all_rows().await?;
    for (origin, referer) in [
        (Some(EVIL), None),
        (Some("null"), None),
        (None, Some("https://evil.test/page")),
        (None, None),
        (Some(&*format!("{own}.evil.test")), None),
        (Some(EVIL), Some(&*format!("{own}/preferences"))),
    ] {
        let answer = post(origin, referer).await?;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "origin {origin:?} referer {referer:?}");
        let text = main_text(&answer.text().await?);
        assert!(text.contains("This form came from another site"), "{text}");
        refused += 1;
    }
    changed.extend(harness::rows::changes(&before, &app.all_rows().await?));
    assert!(weekly().await?, "a refused form still changed the preference");
    let by_referer = post(None, Some(&format!("{own}/preferences"))).await?;
    assert_eq!(by_referer.status(), StatusCode::OK, "the portal's own page named by Referer");
    assert!(!weekly().await?);
    let by_origin = post(Some(&own), None).await?;
    assert_eq!(by_origin.status(), StatusCode::OK);

    // Login CSRF: a valid link posted from another site does not sign anyone in, and still works after.
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let before = app.all_rows().await?;
    let forced =
        bare.post(app.url("/sign-in/link")).header("Origin", EVIL).form(&[("token", &grant.token)]).send().await?;
    assert_eq!(forced.status(), StatusCode::FORBIDDEN);
    refused += 1;
    changed.extend(harness::rows::changes(&before, &app.all_rows().await?));
    assert!(forced.headers().get(SET_COOKIE).is_none());
    let own_post =
        bare.post(app.url("/sign-in/link")).header("Origin", &own).form(&[("token", &grant.token)]).send().await?;
    assert_eq!(own_post.status(), StatusCode::SEE_OTHER, "the refused attempt must not use the link up");

    // Every state-changing route, from another site, with a staff session and with none: refused before the handler.
    let mut routes = 0;
    let before = app.all_rows().await?;
    for (method, template) in super::matrix::declared_routes() {
        if method == "GET" || template == "/unsubscribe" {
            continue;
        }
        let path = template.replace("{id}", &client.matter_id).replace("{document}", "d").replace("{request}", "r");
        let path = path.replace("{area}", "personal_injury").replace("{key}", "intake");
        for with_cookie in [true, false] {
            let mut r = bare.request(method.parse()?, app.url(&path)).header("Origin", EVIL);
            if with_cookie {
                r = r.header("Cookie", &admin_cookie);
            }
            let answer = r.send().await?;
            assert_eq!(
                answer.status(),
                StatusCode::FORBIDDEN,
                "{method} {template} from another site (cookie: {with_cookie})"
            );
            if template.starts_with("/api/") {
                assert_eq!(answer.json::<Value>().await?["status"], 403);
            }
            refused += 1;
        }
        routes += 1;
    }
    changed.extend(harness::rows::changes(&before, &app.all_rows().await?));
    // Bearer requests are not forms: another Origin does not matter to them.
    let bearer = format!("Bearer {}", app.session_token(&admin).await?);
    let created = bare
        .post(app.url("/api/v1/staff/clients"))
        .header("Origin", EVIL)
        .header(AUTHORIZATION, bearer)
        .json(&json!({ "full_name": "Bearer Client", "email": format!("bearer@{}", demo.domain) }))
        .send()
        .await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    // RFC 8058 one-click unsubscribe comes from mail providers with no Origin and no cookie.
    let token = app.state.tokens.issue(Purpose::Unsubscribe, &client.id, "n", chrono::Duration::days(1))?;
    let one_click = bare
        .post(app.url("/unsubscribe"))
        .query(&[("token", &token)])
        .body("List-Unsubscribe=One-Click")
        .send()
        .await?;
    assert_eq!(one_click.status(), StatusCode::OK);

    reliability::record(
        &format!("security_csrf_{backend:?}").to_lowercase(),
        &format!("Cross-site requests ({backend:?})"),
        &format!(
            "| figure | value |\n|---|---|\n| state-changing routes tried from another origin | {routes} |\n| cross-site requests sent | {refused} |\n| refused with 403 | {refused} |\n| rows changed by refused requests (every table) | {} |\n",
            changed.len()
        ),
    )?;
    assert!(changed.is_empty(), "refused requests changed rows:\n{}", changed.join("\n"));
    Ok(())
}

on_both_backends!(forms_from_other_sites_are_refused,);
