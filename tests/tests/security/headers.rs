//! Security headers on every kind of answer, cookie flags, and open redirects.

use harness::files::jpeg;
use harness::{Backend, TestApp, on_both_backends, reliability};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, LOCATION, SET_COOKIE};
use serde_json::Value;

use super::EVIL;

async fn every_kind_of_answer_carries_the_security_headers(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let token = app.session_token(&client.id).await?;
    let http = app.raw_client()?;
    let uploaded: Value =
        http.post(app.url(&format!("/api/v1/matters/{}/documents", client.matter_id)))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .multipart(reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(jpeg(2000)).file_name("photo.jpg").mime_str("image/jpeg")?,
            ))
            .send()
            .await?
            .json()
            .await?;
    let doc = uploaded["stored"][0]["id"].as_str().unwrap_or_default().to_owned();
    let cookie = format!("matterline_session={token}");
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let answers = vec![
        ("page", http.get(app.url("/sign-in")).send().await?),
        ("signed-in page", http.get(app.url("/")).header("Cookie", &cookie).send().await?),
        ("API", http.get(app.url("/api/v1/me")).header("Cookie", &cookie).send().await?),
        ("API error", http.get(app.url("/api/v1/me")).send().await?),
        ("API not found", http.get(app.url("/api/v1/nothing")).send().await?),
        ("static file", http.get(app.url("/static/app.css")).send().await?),
        ("error page", http.get(app.url("/no/such/page")).send().await?),
        ("redirect", http.get(app.url("/staff")).send().await?),
        (
            "download",
            http.get(app.url(&format!("/matters/{}/documents/{doc}", client.matter_id)))
                .header("Cookie", &cookie)
                .send()
                .await?,
        ),
        (
            "cross-site refusal",
            bare.post(app.url("/preferences")).header("Cookie", &cookie).header("Origin", EVIL).send().await?,
        ),
        ("health", http.get(app.url("/healthz")).send().await?),
    ];
    for (what, answer) in &answers {
        let header =
            |name: &str| answer.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{what}: CSP lacks {directive}: {csp:?}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("x-frame-options"), "DENY", "{what}");
        assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    }
    let download = &answers[8].1;
    assert_eq!(download.status(), StatusCode::OK);
    let disposition = download.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(disposition.starts_with("attachment;"), "{disposition}");

    // Cookies: the session cookie is HttpOnly and SameSite=Lax, Secure on https; so is its removal.
    let (tokens, id) = (app.state.tokens.clone(), client.id.clone());
    let grant = app.state.db.run(move |c| shared::auth::issue_sign_in(c, &tokens, &id)).await?;
    let signed_in = http.post(app.url("/sign-in/link")).form(&[("token", &grant.token)]).send().await?;
    let set = signed_in.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(flag), "session cookie lacks {flag}: {set}");
    }
    let mut cookies = 1;
    let out = http.post(app.url("/sign-out")).header("Cookie", &cookie).send().await?;
    let cleared = out.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(
        cleared.contains("HttpOnly") && cleared.contains("SameSite=Lax") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    cookies += 1;
    let https = TestApp::builder(backend)
        .settings(&[("MATTERLINE_PUBLIC_URL", "https://portal.example-firm.test")])
        .spawn()
        .await?;
    let language =
        https.raw_client()?.post(https.url("/language")).form(&[("lang", "es"), ("next", "/")]).send().await?;
    let lang_cookie = language.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(lang_cookie.contains("Secure") && lang_cookie.contains("SameSite=Lax"), "{lang_cookie}");
    cookies += 1;
    let hsts = |r: &reqwest::Response| r.headers().get("strict-transport-security").is_some();
    assert!(hsts(&language), "an https portal sends Strict-Transport-Security");
    assert!(!hsts(&answers[0].1), "a plain-http portal does not");

    // Open redirects: the language switcher's `next` only follows paths of this site.
    let mut redirects = 0;
    for next in [
        "//evil.test",
        "https://evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "\\/evil.test",
        "/\t/evil.test",
        "/\n/evil.test",
        "/\r\n/evil.test",
        "http:evil.test",
        "javascript:alert(1)",
        "evil.test",
        " //evil.test",
        "/%0d%0aSet-Cookie:x=1",
    ] {
        let answer = http.post(app.url("/language")).form(&[("lang", "en"), ("next", next)]).send().await?;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{next:?}");
        let to = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let cleaned: String = to.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
        assert!(
            cleaned.starts_with('/') && !cleaned.starts_with("//") && !cleaned.starts_with("/\\"),
            "{next:?} → {to:?}"
        );
        assert!(!to.contains("evil") || to.starts_with("/%0d"), "{next:?} → {to:?}");
        redirects += 1;
    }
    let kept = http.post(app.url("/language")).form(&[("lang", "en"), ("next", "/preferences?x=1")]).send().await?;
    assert_eq!(kept.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/preferences?x=1"));

    reliability::record(
        &format!("security_headers_{backend:?}").to_lowercase(),
        &format!("Headers, cookies and redirects ({backend:?})"),
        &format!(
            "| figure | value |\n|---|---|\n| kinds of answer checked for CSP, nosniff, framing, referrer | {} |\n| cookies checked (session, removal, language on https) | {cookies} |\n| redirect targets tried | {redirects} |\n| redirects off the site | 0 |\n",
            answers.len()
        ),
    )?;
    Ok(())
}

on_both_backends!(every_kind_of_answer_carries_the_security_headers,);
