//! The portal starts on either database, reports its health honestly, and
//! seeds a usable demo exactly once.

use diesel::prelude::*;
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::Value;
use shared::auth::{self, Device};
use shared::db::schema::{document_requests, matters, phases, users};

async fn health_and_readiness_answer(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let health = app.get("/healthz").await?;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await?["status"], "ok");

    let ready = app.get("/readyz").await?;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await?;
    assert_eq!(body["database"], "ok");
    assert_eq!(body["storage"], "ok");
    Ok(())
}

async fn readiness_fails_and_names_storage_when_the_document_folder_is_gone(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let documents = app.db.dir.path().join("data").join("documents");
    std::fs::remove_dir_all(&documents)?;
    // A plain file where the folder was: nothing can be written below it, even as root.
    std::fs::write(&documents, b"not a folder")?;

    let ready = app.get("/readyz").await?;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await?;
    assert_eq!(body["database"], "ok");
    assert!(body["storage"].as_str().is_some_and(|s| s.contains("storage is unavailable")), "{body}");
    // The process itself is still up.
    assert_eq!(app.get("/healthz").await?.status(), StatusCode::OK);
    Ok(())
}

async fn the_demo_is_seeded_once_and_its_sign_in_link_works_once(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_SEED_DEMO", "true")]).spawn().await?;
    let link = app.demo_link.clone().ok_or_else(|| anyhow::anyhow!("no demo link printed"))?;
    assert!(link.starts_with(&format!("{}/sign-in/link?token=", app.address)), "{link}");

    let db = app.state.db.clone();
    let (staff, clients, distinct_phases, open_requests) = db
        .run(|c| {
            let staff: i64 = users::table.filter(users::role.ne("client")).count().get_result(c)?;
            let clients: i64 = users::table.filter(users::role.eq("client")).count().get_result(c)?;
            let phase_keys: Vec<String> =
                matters::table.inner_join(phases::table).select(phases::key).distinct().load(c)?;
            let open: i64 =
                document_requests::table.filter(document_requests::status.eq("open")).count().get_result(c)?;
            Ok((staff, clients, phase_keys.len(), open))
        })
        .await?;
    assert_eq!((staff, clients, open_requests), (2, 5, 1));
    assert!(distinct_phases >= 4, "matters should spread over the phases, got {distinct_phases}");

    // The printed link redeems once; the second time it is refused.
    let token = link.split("token=").nth(1).unwrap_or_default().to_owned();
    let tokens = app.state.tokens.clone();
    let (first, second) = db
        .run(move |c| {
            let first = auth::redeem_link(c, &tokens, &token, &Device::default());
            let second = auth::redeem_link(c, &tokens, &token, &Device::default());
            Ok((first, second))
        })
        .await?;
    let session = first?;
    assert!(matches!(second, Err(shared::Error::Unauthenticated)), "a sign-in link worked twice");

    // The session token names a live session until it is revoked.
    let tokens = app.state.tokens.clone();
    let revoked_still_works = db
        .run(move |c| {
            let (_, user) = auth::authenticate(c, &tokens, &session.token)?;
            assert_eq!(user.email, "jordan@demo.matterline.test");
            auth::revoke_session(c, &session.session_id)?;
            Ok(auth::authenticate(c, &tokens, &session.token).is_ok())
        })
        .await?;
    assert!(!revoked_still_works, "a revoked session still authenticated");

    // A second start on the same database seeds nothing more.
    app.stop().await;
    let url = app.db.url_string();
    let data_dir = app.db.dir.path().join("data").display().to_string();
    let again =
        TestApp::spawn_on(&app.db, &[("MATTERLINE_SEED_DEMO", "true"), ("MATTERLINE_DATA_DIR", &data_dir)]).await?;
    assert!(again.demo_link.is_none(), "the demo was seeded into a database that had data ({url})");
    let clients: i64 =
        again.state.db.run(|c| Ok(users::table.filter(users::role.eq("client")).count().get_result(c)?)).await?;
    assert_eq!(clients, 5);
    Ok(())
}

async fn a_sign_in_code_works_once_and_wrong_codes_run_out(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).settings(&[("MATTERLINE_SEED_DEMO", "true")]).spawn().await?;
    let tokens = app.state.tokens.clone();
    let outcome = app
        .state
        .db
        .run(move |c| {
            let user_id: String =
                users::table.filter(users::email.eq("sam@demo.matterline.test")).select(users::id).first(c)?;
            let grant = auth::issue_sign_in(c, &tokens, &user_id)?;
            let wrong = if grant.code == "000000" { "000001" } else { "000000" };
            let refused =
                auth::redeem_code(c, &tokens, "Sam@Demo.Matterline.test ", wrong, &Device::default()).is_err();
            let accepted =
                auth::redeem_code(c, &tokens, "sam@demo.matterline.test", &grant.code, &Device::default()).is_ok();
            let replay =
                auth::redeem_code(c, &tokens, "sam@demo.matterline.test", &grant.code, &Device::default()).is_ok();

            // Five wrong codes kill a fresh sign-in even for its right code.
            let grant = auth::issue_sign_in(c, &tokens, &user_id)?;
            for _ in 0..auth::MAX_CODE_ATTEMPTS {
                let _ = auth::redeem_code(c, &tokens, "sam@demo.matterline.test", wrong, &Device::default());
            }
            let after_lockout =
                auth::redeem_code(c, &tokens, "sam@demo.matterline.test", &grant.code, &Device::default()).is_ok();
            Ok((refused, accepted, replay, after_lockout))
        })
        .await?;
    assert_eq!(
        outcome,
        (true, true, false, false),
        "(wrong refused, right accepted, replay accepted, accepted after lockout)"
    );
    Ok(())
}

async fn expired_sign_ins_and_sessions_are_purged_and_live_ones_kept(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("sam")).await?;
    let live = app.session_token(&client.id).await?;
    let tokens = app.state.tokens.clone();
    let id = client.id.clone();
    let (purged, kept) = app
        .state
        .db
        .run(move |c| {
            use shared::db::schema::{sessions, sign_in_tokens};
            auth::issue_sign_in(c, &tokens, &id)?;
            // A month from now the sign-in is long expired; the 30-day session is still live a week before.
            let month_later = shared::domain::now() + chrono::Duration::days(32);
            let purged_early = auth::purge_expired(c, shared::domain::now())?;
            assert_eq!(purged_early, 0, "nothing is expired yet");
            let purged = auth::purge_expired(c, month_later)?;
            let kept: i64 = sessions::table.count().get_result(c)?;
            let tokens_left: i64 = sign_in_tokens::table.count().get_result(c)?;
            assert_eq!(tokens_left, 0);
            Ok((purged, kept))
        })
        .await?;
    assert_eq!(purged, 1, "the expired sign-in");
    assert_eq!(kept, 1, "a session within its 30 days plus a week stays");
    assert_eq!(
        app.client.get(app.url("/api/v1/me")).header("Authorization", format!("Bearer {live}")).send().await?.status(),
        StatusCode::OK
    );
    Ok(())
}

/// The notifier's bookkeeping writes (`write_transaction_unflushed`) commit
/// like any other, are seen at once by other connections, roll back on an
/// error, and on PostgreSQL skip the disk flush for that transaction only:
/// the connection goes back to the pool with the server's setting.
async fn an_unflushed_write_commits_rolls_back_and_leaves_the_session_as_it_was(
    backend: Backend,
) -> anyhow::Result<()> {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    fn synchronous_commit(conn: &mut shared::db::DbConnection) -> shared::Result<Option<String>> {
        let shared::db::DbConnection::Postgresql(pg) = conn else { return Ok(None) };
        let setting: Setting =
            diesel::sql_query("SELECT current_setting('synchronous_commit') AS value").get_result(pg)?;
        Ok(Some(setting.value))
    }
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?.id;
    let client = jordan.clone();
    let (before, inside, after) = app
        .state
        .db
        .run(move |conn| {
            let before = synchronous_commit(conn)?;
            let inside = shared::db::write_transaction_unflushed(conn, |conn| {
                diesel::update(users::table.find(&client))
                    .set(users::full_name.eq("Renamed Unflushed"))
                    .execute(conn)?;
                synchronous_commit(conn)
            })?;
            Ok((before, inside, synchronous_commit(conn)?))
        })
        .await?;
    if matches!(backend, Backend::Postgres) {
        assert_eq!(inside.as_deref(), Some("off"), "the transaction skips the flush");
        assert!(before.is_some(), "the setting is read on PostgreSQL");
        assert_eq!(after, before, "the session keeps the server's setting");
    }
    let client = jordan.clone();
    let failed = app
        .state
        .db
        .run(move |conn| {
            shared::db::write_transaction_unflushed(conn, |conn| {
                diesel::update(users::table.find(&client)).set(users::full_name.eq("Never Stored")).execute(conn)?;
                Err::<(), _>(shared::Error::invalid("test", "a step after the write failed"))
            })
        })
        .await;
    assert!(failed.is_err(), "the error reaches the caller");
    let client = jordan.clone();
    let name: String =
        app.state.db.run(move |conn| Ok(users::table.find(&client).select(users::full_name).first(conn)?)).await?;
    assert_eq!(name, "Renamed Unflushed", "the first write committed, the failed one rolled back");
    Ok(())
}

/// The libpq built into the binaries (pq-sys's bundled build) speaks TLS when
/// the URL asks for it, and reaches the server through its Unix socket when
/// the URL names the socket's folder, as the README's database URL row says.
/// A build without OpenSSL would fail the first; the server here has TLS on
/// (Debian's default).
#[test]
fn the_built_in_libpq_connects_over_tls_and_through_the_unix_socket() -> anyhow::Result<()> {
    #[derive(diesel::QueryableByName)]
    struct Answer {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    fn ask(url: &url::Url, sql: &str) -> anyhow::Result<String> {
        let url = shared::config::DatabaseUrl::parse(url.as_str()).map_err(anyhow::Error::msg)?;
        let db = shared::db::Db::connect(&url, 1)?;
        let mut conn = db.get()?;
        let shared::db::DbConnection::Postgresql(pg) = &mut **conn else { anyhow::bail!("not a PostgreSQL URL") };
        Ok(diesel::sql_query(sql).get_result::<Answer>(pg)?.value)
    }
    let admin = url::Url::parse(&harness::postgres_admin_url())?;
    let tls_on = ask(&admin, "SELECT current_setting('ssl') AS value")?;
    assert_eq!(tls_on, "on", "the PostgreSQL server at {admin} has ssl = off: this test needs it on");

    let mut tls = admin.clone();
    tls.query_pairs_mut().append_pair("sslmode", "require");
    let protocol = ask(
        &tls,
        "SELECT coalesce(max(version), 'none') AS value FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl",
    )?;
    assert!(protocol.starts_with("TLS"), "sslmode=require gave a connection without TLS: {protocol}");

    let folders = ask(&admin, "SELECT current_setting('unix_socket_directories') AS value")?;
    let folder = folders.split(',').map(str::trim).find(|f| !f.is_empty() && !f.starts_with('@'));
    let folder = folder.ok_or_else(|| anyhow::anyhow!("the server listens on no socket folder ({folders:?})"))?;
    let mut socket = admin.clone();
    socket.set_host(Some("localhost"))?;
    socket.query_pairs_mut().append_pair("host", folder);
    let over = ask(&socket, "SELECT CASE WHEN inet_client_addr() IS NULL THEN 'socket' ELSE 'tcp' END AS value")?;
    assert_eq!(over, "socket", "host={folder} in the URL connects through the Unix socket");
    Ok(())
}

on_both_backends!(
    an_unflushed_write_commits_rolls_back_and_leaves_the_session_as_it_was,
    expired_sign_ins_and_sessions_are_purged_and_live_ones_kept,
    health_and_readiness_answer,
    readiness_fails_and_names_storage_when_the_document_folder_is_gone,
    the_demo_is_seeded_once_and_its_sign_in_link_works_once,
    a_sign_in_code_works_once_and_wrong_codes_run_out,
);
