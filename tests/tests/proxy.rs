//! Behind a reverse proxy: the client's address is the TCP peer unless the
//! peer is one of `MATTERLINE_TRUSTED_PROXIES`, and then the one its forwarding
//! header names; rate limits, the audit log, sessions and the dev mailbox go
//! by it. First against the portal directly (the test plays the proxy, from
//! 127.0.0.1, and other machines, from other loopback addresses), then behind a
//! real Caddy terminating TLS with its internal CA.

use std::net::IpAddr;
use std::time::Instant;

use diesel::prelude::*;
use harness::caddy::{self, Caddy};
use harness::files::{self, pdf};
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use shared::db::schema::{audit_events, sessions};

/// The test itself is the trusted proxy, on 127.0.0.1.
const PROXY: &str = "127.0.0.1/32";

/// An HTTP client to the portal whose connections come from `ip`.
fn from(app: &TestApp, ip: &str) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, reqwest::header::HeaderValue::from_str(&app.origin())?);
    Ok(reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>()?)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Asks for a sign-in link for `email` through `http` at `base`, with `headers`; the status.
async fn ask_sign_in(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<StatusCode> {
    let mut request = http.post(format!("{base}/sign-in")).form(&[("email", email)]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Ok(request.send().await?.status())
}

/// The address recorded on the newest `document.upload` audit event.
async fn last_upload_ip(app: &TestApp) -> anyhow::Result<Option<String>> {
    Ok(app
        .state
        .db
        .run(|c| {
            Ok(audit_events::table
                .filter(audit_events::action.eq("document.upload"))
                .order(audit_events::id.desc())
                .select(audit_events::ip)
                .first::<Option<String>>(c)?)
        })
        .await?)
}

/// Jordan's bearer header and matter.
async fn jordan(app: &TestApp) -> anyhow::Result<(String, String)> {
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    Ok((format!("Bearer {}", app.session_token(&client.id).await?), client.matter_id))
}

/// Uploads a small PDF as `bearer` from `http` with `headers`; the answer's status.
async fn upload(
    app: &TestApp,
    http: &reqwest::Client,
    (bearer, matter): &(String, String),
    headers: &[(&str, &str)],
) -> anyhow::Result<StatusCode> {
    let part = Part::bytes(pdf(2_000)).file_name("bill.pdf").mime_str("application/pdf")?;
    let mut request = http
        .post(app.url(&format!("/api/v1/matters/{matter}/documents")))
        .header("Authorization", bearer)
        .multipart(Form::new().part("file", part));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Ok(request.send().await?.status())
}

/// From the trusted proxy, the audit log records the address its header names
/// (the rightmost one that is not a trusted proxy; what a client wrote to its
/// left is passed over); from any other peer, the peer, whatever it sends. Only
/// the configured header is read. The dev mailbox answers a visitor the proxy
/// forwards from elsewhere 404, though the proxy itself is on loopback.
async fn the_client_is_the_peer_unless_a_trusted_proxy_names_it(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_TRUSTED_PROXIES", PROXY)]).spawn().await?;
    let who = jordan(&app).await?;
    let (proxy, elsewhere) = (from(&app, "127.0.0.1")?, from(&app, "127.0.0.7")?);
    let forged_left = ("X-Forwarded-For", "198.51.100.66, 203.0.113.10");
    for (http, headers, recorded) in [
        (&proxy, vec![forged_left], "203.0.113.10"),
        (&proxy, vec![("X-Forwarded-For", "2001:db8::5"), ("X-Forwarded-For", "127.0.0.1")], "2001:db8::5"),
        (&proxy, vec![], "127.0.0.1"),
        (&proxy, vec![("Forwarded", "for=203.0.113.12")], "127.0.0.1"),
        (&elsewhere, vec![("X-Forwarded-For", "203.0.113.11")], "127.0.0.7"),
        (&elsewhere, vec![forged_left, ("Forwarded", "for=203.0.113.12")], "127.0.0.7"),
    ] {
        assert_eq!(upload(&app, http, &who, &headers).await?, StatusCode::CREATED, "{headers:?}");
        assert_eq!(last_upload_ip(&app).await?.as_deref(), Some(recorded), "{headers:?}");
    }

    let mailbox = |http: &reqwest::Client, forwarded: Option<&str>| {
        let mut request = http.get(app.url("/dev/mailbox"));
        if let Some(address) = forwarded {
            request = request.header("X-Forwarded-For", address);
        }
        async move { Ok::<_, anyhow::Error>(request.send().await?.status()) }
    };
    assert_eq!(mailbox(&proxy, None).await?, StatusCode::OK, "a visitor on this machine");
    assert_eq!(mailbox(&proxy, Some("203.0.113.10")).await?, StatusCode::NOT_FOUND, "forwarded from elsewhere");
    assert_eq!(mailbox(&elsewhere, Some("203.0.113.10")).await?, StatusCode::OK, "an untrusted local peer is itself");

    // A proxy that writes RFC 7239 `Forwarded`: that header is read, and X-Forwarded-For is not.
    let app = TestApp::builder(backend)
        .settings(&[("MATTERLINE_TRUSTED_PROXIES", PROXY), ("MATTERLINE_TRUSTED_PROXY_HEADER", "forwarded")])
        .spawn()
        .await?;
    let who = jordan(&app).await?;
    let proxy = from(&app, "127.0.0.1")?;
    for (headers, recorded) in [
        (vec![("Forwarded", "for=198.51.100.66, for=\"[2001:db8:cafe::17]:4711\";proto=https")], "2001:db8:cafe::17"),
        (vec![("Forwarded", "for=unknown")], "127.0.0.1"),
        (vec![("X-Forwarded-For", "203.0.113.10")], "127.0.0.1"),
    ] {
        assert_eq!(upload(&app, &proxy, &who, &headers).await?, StatusCode::CREATED, "{headers:?}");
        assert_eq!(last_upload_ip(&app).await?.as_deref(), Some(recorded), "{headers:?}");
    }
    Ok(())
}

/// Two clients behind one trusted proxy: one of them using up its 20 sign-in
/// requests per 15 minutes leaves the other its own 20.
async fn two_clients_behind_one_trusted_proxy_keep_their_own_sign_in_limits(backend: Backend) -> anyhow::Result<()> {
    let app =
        TestApp::builder(backend).with_memory_mail().settings(&[("MATTERLINE_TRUSTED_PROXIES", PROXY)]).spawn().await?;
    let proxy = from(&app, "127.0.0.1")?;
    let (a, b) = ([("X-Forwarded-For", "203.0.113.1")], [("X-Forwarded-For", "203.0.113.2")]);
    for n in 0..20 {
        let status = ask_sign_in(&proxy, &app.address, &format!("a{n}@example.test"), &a).await?;
        assert_eq!(status, StatusCode::OK, "client A's request {n}");
    }
    let status = ask_sign_in(&proxy, &app.address, "a-more@example.test", &a).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "client A's 21st request");
    for n in 0..20 {
        let status = ask_sign_in(&proxy, &app.address, &format!("b{n}@example.test"), &b).await?;
        assert_eq!(status, StatusCode::OK, "client B's request {n}, after A was stopped");
    }
    let status = ask_sign_in(&proxy, &app.address, "b-more@example.test", &b).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "client B's 21st request");
    app.background_done().await;
    Ok(())
}

/// A forwarding header from a peer that is not a trusted proxy names no one:
/// a script that makes up a new address for each request is still stopped
/// after 20, with no proxy trusted (the default) and with one trusted that is
/// not the script; a client the trusted proxy forwards is not stopped with it.
async fn a_forwarded_for_from_an_untrusted_peer_is_ignored(backend: Backend) -> anyhow::Result<()> {
    for (trusted, script) in [(None, "127.0.0.1"), (Some(PROXY), "127.0.0.9")] {
        let builder = TestApp::builder(backend).with_memory_mail();
        let builder = match trusted {
            Some(list) => builder.settings(&[("MATTERLINE_TRUSTED_PROXIES", list)]),
            None => builder,
        };
        let app = builder.spawn().await?;
        let http = from(&app, script)?;
        for n in 0..21 {
            let (xff, fwd) = (format!("198.51.100.{n}"), format!("for=198.51.101.{n}"));
            let forged = [("X-Forwarded-For", xff.as_str()), ("Forwarded", fwd.as_str())];
            let status = ask_sign_in(&http, &app.address, &format!("s{n}@example.test"), &forged).await?;
            let expected = if n < 20 { StatusCode::OK } else { StatusCode::TOO_MANY_REQUESTS };
            assert_eq!(status, expected, "request {n} from {script}, trusting {trusted:?}");
        }
        if trusted.is_some() {
            let proxy = from(&app, "127.0.0.1")?;
            let status =
                ask_sign_in(&proxy, &app.address, "someone@example.test", &[("X-Forwarded-For", "198.51.100.1")])
                    .await?;
            assert_eq!(status, StatusCode::OK, "a client forwarded by the proxy, named like a forged one");
        }
        app.background_done().await;
    }
    Ok(())
}

/// The portal behind Caddy (TLS from its internal CA), trusting Caddy on
/// 127.0.0.1: `https://localhost:PORT` is its public URL.
async fn behind_caddy(backend: Backend) -> anyhow::Result<(TestApp, Caddy)> {
    let port = caddy::free_port()?;
    let public = format!("https://localhost:{port}");
    let app = TestApp::builder(backend)
        .with_memory_mail()
        .settings(&[("MATTERLINE_TRUSTED_PROXIES", PROXY), ("MATTERLINE_PUBLIC_URL", &public)])
        .spawn()
        .await?;
    let upstream = app.address.trim_start_matches("http://").to_owned();
    let caddy = Caddy::start(&upstream, port).await?;
    Ok((app, caddy))
}

/// Through Caddy over HTTPS, from a client on 127.0.0.2 that sends forged
/// `X-Forwarded-For` and `Forwarded` headers: the emailed code signs in, the
/// session cookie is `Secure` and works, a 100 MB file streams through the
/// proxy and arrives whole, and the session and the upload are recorded
/// with the client's true address (Caddy does not pass on what an untrusted
/// client claims; the portal reads only X-Forwarded-For).
async fn through_caddy_a_client_signs_in_and_uploads_100_mb(backend: Backend) -> anyhow::Result<()> {
    let (app, caddy) = behind_caddy(backend).await?;
    let demo = app.seed_demo().await?;
    let email = demo.email("jordan");
    let phone = caddy.client("127.0.0.2".parse()?, true)?;
    let forged = [("X-Forwarded-For", "198.51.100.7"), ("Forwarded", "for=198.51.100.8")];
    assert_eq!(ask_sign_in(&phone, &caddy.url(""), &email, &forged).await?, StatusCode::OK);
    let code =
        app.mail()?.wait_for_emails(&email, 1).await?[0].six_digit_code().ok_or_else(|| anyhow::anyhow!("no code"))?;
    let mut redeem = phone.post(caddy.url("/sign-in/code")).form(&[("email", email.as_str()), ("code", code.as_str())]);
    for (name, value) in forged {
        redeem = redeem.header(name, value);
    }
    let signed_in = redeem.send().await?;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "{}", caddy.log());
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("matterline_session="))
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?
        .to_owned();
    assert!(cookie.split(';').any(|a| a.trim() == "Secure"), "the session cookie is not Secure: {cookie}");
    assert!(cookie.split(';').any(|a| a.trim() == "HttpOnly"), "{cookie}");

    let jordan = app.client(&email).await?;
    let case = phone.get(caddy.url(&format!("/matters/{}", jordan.matter_id))).send().await?;
    assert_eq!(case.status(), StatusCode::OK, "the Secure cookie came back over HTTPS");
    let session_ips: Vec<Option<String>> = {
        let user = jordan.id.clone();
        app.state
            .db
            .run(move |c| {
                Ok(sessions::table
                    .filter(sessions::user_id.eq(&user))
                    .select(sessions::ip)
                    .load::<Option<String>>(c)?)
            })
            .await?
    };
    assert_eq!(session_ips, [Some("127.0.0.2".to_owned())], "the session's address");

    const SIZE: u64 = 100 * 1024 * 1024;
    let (stream, sha256) = files::streamed_pdf(SIZE);
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), SIZE)
        .file_name("scan.pdf")
        .mime_str("application/pdf")?;
    let started = Instant::now();
    let mut send = phone
        .post(caddy.url(&format!("/api/v1/matters/{}/documents", jordan.matter_id)))
        .multipart(Form::new().part("file", part));
    for (name, value) in forged {
        send = send.header(name, value);
    }
    let answer = send.send().await?;
    let status = answer.status();
    let report: Value = answer.json().await?;
    assert_eq!(status, StatusCode::CREATED, "{report}\n{}", caddy.log());
    println!("100 MB through Caddy over TLS: {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(report["stored"][0]["size_bytes"], SIZE, "{report}");
    assert_eq!(report["stored"][0]["sha256"], sha256.as_str(), "{report}");
    assert_eq!(last_upload_ip(&app).await?.as_deref(), Some("127.0.0.2"), "the upload's audited address");
    Ok(())
}

/// Through Caddy, clients on 127.0.0.2 and 127.0.0.3 keep their own sign-in
/// limits: the first is stopped after 20 requests, the second is not; and a
/// client on 127.0.0.4 that claims a new address in X-Forwarded-For with every
/// request is stopped after 20 too.
async fn through_caddy_clients_keep_their_own_limits_and_cannot_name_themselves(
    backend: Backend,
) -> anyhow::Result<()> {
    let (app, caddy) = behind_caddy(backend).await?;
    let base = caddy.url("");
    let (a, b, script) = (
        caddy.client("127.0.0.2".parse()?, false)?,
        caddy.client("127.0.0.3".parse()?, false)?,
        caddy.client("127.0.0.4".parse()?, false)?,
    );
    for n in 0..20 {
        assert_eq!(ask_sign_in(&a, &base, &format!("a{n}@example.test"), &[]).await?, StatusCode::OK, "A's {n}");
    }
    assert_eq!(ask_sign_in(&a, &base, "a-more@example.test", &[]).await?, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ask_sign_in(&b, &base, "b@example.test", &[]).await?, StatusCode::OK, "B is not stopped with A");
    for n in 0..21 {
        let claimed = format!("203.0.113.{n}");
        let status =
            ask_sign_in(&script, &base, &format!("s{n}@example.test"), &[("X-Forwarded-For", &claimed)]).await?;
        let expected = if n < 20 { StatusCode::OK } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(status, expected, "the script's request {n}");
    }
    assert_eq!(
        ask_sign_in(&b, &base, "b2@example.test", &[]).await?,
        StatusCode::OK,
        "B is not stopped with the script"
    );
    app.background_done().await;
    drop(caddy);
    Ok(())
}

/// Which firm a signed-out page shows may follow the host a proxy forwards
/// (`X-Forwarded-Host`), but only from a trusted proxy: from anyone else the
/// `Host` header decides, so a visitor cannot dress one firm's pages in another's look.
async fn a_forwarded_host_counts_only_from_a_trusted_proxy(backend: Backend) -> anyhow::Result<()> {
    for trusted in [false, true] {
        let settings: Vec<(&str, &str)> = if trusted { vec![("MATTERLINE_TRUSTED_PROXIES", PROXY)] } else { vec![] };
        let app = TestApp::builder(backend).settings(&settings).spawn().await?;
        let _first = app.seed_demo().await?;
        let second = app.seed_demo().await?;
        let admin = app.signed_in_staff(&second, "admin").await?;
        let _: Value = admin
            .patch_json(
                "/api/v1/staff/settings",
                &serde_json::json!({ "name": "Second Street Law", "public_host": "portal.secondstreet.example" }),
                StatusCode::OK,
            )
            .await?;
        let page = from(&app, "127.0.0.1")?
            .get(app.url("/sign-in"))
            .header("X-Forwarded-Host", "portal.secondstreet.example")
            .send()
            .await?
            .text()
            .await?;
        let header = page.split("</header>").next().unwrap_or_default();
        assert_eq!(
            header.contains("Second Street Law"),
            trusted,
            "trusted proxy {trusted}: the forwarded host was {}",
            if trusted { "ignored" } else { "believed" }
        );
    }
    Ok(())
}

on_both_backends!(
    a_forwarded_host_counts_only_from_a_trusted_proxy,
    the_client_is_the_peer_unless_a_trusted_proxy_names_it,
    two_clients_behind_one_trusted_proxy_keep_their_own_sign_in_limits,
    a_forwarded_for_from_an_untrusted_peer_is_ignored,
    through_caddy_a_client_signs_in_and_uploads_100_mb,
    through_caddy_clients_keep_their_own_limits_and_cannot_name_themselves,
);
