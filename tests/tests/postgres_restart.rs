//! PostgreSQL is restarted while clients browse and upload: the portal keeps
//! running and answers again by itself once the database is back — 503 with a
//! readable message while it is down, never a 500 — and every upload it
//! acknowledged, before, during or after the restart, has its row and its
//! object with the SHA-256 of the bytes sent.
//!
//! PostgreSQL only, by nature: it restarts a database server (SQLite has none).
//! The server is a private one made for this test (`harness::postgres`), so
//! the machine's shared PostgreSQL, which other tests use at the same time, is
//! left alone. No other test runs during the restart (`harness::gate::alone`):
//! its time limits and figures are for this load only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::load::{self, Kind};
use harness::postgres::PrivatePostgres;
use harness::{TestApp, TestDb, reliability};

/// How long the database stays down: past the pool's 10 s wait for a
/// connection, so requests during the outage get their 503.
const DOWN_FOR: Duration = Duration::from_secs(12);
const BROWSERS: usize = 30;
const UPLOADERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_portal_rides_out_a_postgresql_restart() -> anyhow::Result<()> {
    let _alone = harness::gate::alone().await;
    let pg = Arc::new(PrivatePostgres::start()?);
    let app = TestApp::builder_on(TestDb::create_on_postgres(&pg.admin_url())?).spawn().await?;
    let demo = app.seed_demo().await?;
    let visitors = app.visitors(&demo, BROWSERS + UPLOADERS).await?;
    let client = load::client()?;
    let running = load::Running::start(&client, &app.address, &visitors, BROWSERS, |_| vec![256 * 1024, 1024 * 1024]);
    let tally = running.tally.clone();

    // Load first, then the restart, then load again until the portal has recovered.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = tally.requests();
    let stopped_at = Instant::now();
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.stop_fast()).await??;
    // While it is down, a page and an API answer say so in words.
    let (page_down, api_down) = {
        let (c, v) = (client.clone(), visitors[0].clone());
        let page = c
            .get(app.url(&format!("/matters/{}", v.matter_id)))
            .header("Cookie", format!("{}={}", portal::session::SESSION_COOKIE, v.token))
            .send();
        let api = c
            .get(app.url(&format!("/api/v1/matters/{}", v.matter_id)))
            .header("Authorization", format!("Bearer {}", v.token))
            .send();
        let waited = tokio::time::sleep(DOWN_FOR);
        let (page, api, ()) = tokio::join!(page, api, waited);
        let (page, api) = (page?, api?);
        ((page.status().as_u16(), page.text().await?), (api.status().as_u16(), api.text().await?))
    };
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.start_again()).await??;
    let restarted_at = Instant::now();
    let during = tally.requests() - before;

    // The same portal (never restarted) answers a signed-in request again.
    let probe = &visitors[0];
    let recovered_after = loop {
        let answer = client
            .get(app.url(&format!("/api/v1/matters/{}", probe.matter_id)))
            .header("Authorization", format!("Bearer {}", probe.token))
            .send()
            .await?;
        if answer.status() == 200 {
            break restarted_at.elapsed();
        }
        anyhow::ensure!(
            restarted_at.elapsed() < Duration::from_secs(30),
            "the portal did not recover: {}",
            answer.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Five more seconds of load after recovery: a duration of load, not a wait for a condition.
    tokio::time::sleep(Duration::from_secs(5)).await;
    running.finish().await?;

    // After the restart every client reads their matter again.
    let mut answered_after = 0;
    for v in &visitors {
        let answer = client
            .get(app.url(&format!("/matters/{}", v.matter_id)))
            .header("Cookie", format!("{}={}", portal::session::SESSION_COOKIE, v.token))
            .send()
            .await?;
        assert_eq!(answer.status(), 200, "a client's page after the restart");
        answered_after += 1;
    }

    let acknowledged = tally.acknowledged();
    // Lost: acknowledged, but the row or object is missing or differs; altered: the
    // 201 itself named other bytes than those sent. Either fails the test.
    let mut lost = load::lost_uploads(&app, &acknowledged).await?;
    lost.extend(tally.altered());
    let unavailable = tally.with_status(|s| s == 503);
    let other_errors = tally.with_status(|s| s >= 500 && s != 503);
    reliability::record(
        "postgres_restart",
        "PostgreSQL restarted under load",
        &format!(
            "A private PostgreSQL server is stopped (`pg_ctl stop -m fast`) for {down} s and started again while \
             {BROWSERS} signed-in clients browse (matter page, API) and {UPLOADERS} upload (256 KiB and 1 MiB \
             files); the portal is not restarted.\n\n\
             | figure | value |\n|---|---|\n\
             | requests sent | {requests} |\n\
             | requests sent while the database was down | {during} |\n\
             | 503 answers (database unavailable) | {unavailable} |\n\
             | other 5xx answers | {other_errors} |\n\
             | requests without an answer | {transport} |\n\
             | first signed-in answer after the database was back | {recovered:.1} s |\n\
             | clients answered 200 after the restart | {answered_after} of {clients} |\n\
             | uploads acknowledged | {acked} |\n\
             | acknowledged uploads lost or altered | {lost} |\n\
             | faults survived | 1 database restart (outage {outage:.1} s) |\n\n{table}",
            down = DOWN_FOR.as_secs(),
            requests = tally.requests(),
            transport = tally.transport_errors(),
            recovered = recovered_after.as_secs_f64(),
            clients = visitors.len(),
            acked = acknowledged.len(),
            lost = lost.len(),
            outage = (restarted_at - stopped_at).as_secs_f64(),
            table = tally.status_table(&[503]),
        ),
    )?;

    let notes = tally.notes();
    assert_eq!(other_errors, 0, "5xx other than 503 during the restart: {notes:#?}");
    assert_eq!(tally.transport_errors(), 0, "requests went unanswered: {notes:#?}");
    assert!(
        tally.with_status(|s| s != 200 && s != 201 && s != 503) == 0,
        "unexpected answers: {:?} {notes:#?}",
        tally.statuses()
    );
    assert!(lost.is_empty(), "acknowledged uploads lost or altered: {lost:#?}");
    assert!(!acknowledged.is_empty(), "no upload was acknowledged at all");
    assert!(tally.statuses().keys().any(|(k, _)| *k == Kind::Page), "no page was browsed");
    assert_eq!(page_down.0, 503, "the matter page while the database is down: {}", page_down.1);
    assert!(page_down.1.contains("The portal is temporarily unavailable"), "{}", page_down.1);
    assert_eq!(api_down.0, 503, "the API while the database is down: {}", api_down.1);
    assert!(api_down.1.contains("database is unavailable"), "{}", api_down.1);
    Ok(())
}

/// The database connection dies inside a transaction (its backend is
/// terminated, as a restart or a failover does): the caller gets "database
/// unavailable" (503), not an internal error, and the next request on the
/// same pool gets a new connection. PostgreSQL only: SQLite has no connection to lose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_killed_mid_transaction_is_unavailable_not_internal() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let db = TestDb::create(harness::Backend::Postgres)?;
    let pool = shared::db::Db::connect(&db.url, 2)?;
    let outcome = pool
        .run(|conn| {
            shared::db::write_transaction(conn, |conn| {
                use diesel::RunQueryDsl;
                diesel::sql_query("SELECT pg_terminate_backend(pg_backend_pid())").execute(conn)?;
                Ok(())
            })
        })
        .await;
    match outcome {
        Err(shared::Error::Unavailable { service: "database", .. }) => {}
        other => anyhow::bail!("expected database unavailable, got {other:?}"),
    }
    for _ in 0..3 {
        pool.run(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// A pooled connection ended from outside while idle (a restart, a failover,
/// an administrator): a connection that worked within the last second is
/// handed out without a check (`shared::db::TRUSTED_FOR`), so the next use may
/// fail, but as "database unavailable", and the use after that gets a working
/// connection: the pool drops a connection libpq reports lost, and checks one
/// whose work failed for any other reason before it is used again. One
/// connection in the pool, so both uses get the killed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_killed_while_idle_costs_at_most_one_unavailable_answer() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    use diesel::{Connection, RunQueryDsl};
    let db = TestDb::create(harness::Backend::Postgres)?;
    let pool = shared::db::Db::connect(&db.url, 1)?;
    let backend_pid = || {
        pool.run(|conn| {
            Ok(diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("pg_backend_pid()"))
                .get_result::<i32>(conn)?)
        })
    };
    let pid = backend_pid().await?;
    let mut admin = diesel::PgConnection::establish(&db.url_string())?;
    diesel::sql_query(format!("SELECT pg_terminate_backend({pid})")).execute(&mut admin)?;
    // Until the server has ended that backend.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"
        ))
        .get_result(&mut admin)?;
        if alive == 0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "backend {pid} still alive 10 s after pg_terminate_backend");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = backend_pid().await;
    match &first {
        Ok(new_pid) => assert_ne!(*new_pid, pid, "a killed connection answered"),
        Err(shared::Error::Unavailable { service: "database", .. }) => {}
        Err(other) => anyhow::bail!("expected database unavailable or a new connection, got {other:?}"),
    }
    let second = backend_pid().await?;
    assert_ne!(second, pid, "the killed connection was handed out again after it failed");
    Ok(())
}
