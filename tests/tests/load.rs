//! Load: 200 signed-in clients browse (their matter page, the matter and the
//! list of matters in the API) and 20 more upload real PDF and JPEG files of a
//! few MB, all at once for 60 s, against a portal on PostgreSQL and S3
//! (s3s-fs). No answer may be a 5xx, and every upload the portal acknowledged
//! must have its database row and its object with the SHA-256 of the bytes
//! sent. Latencies are written to `docs/reliability.md` as figures, never asserted.
//!
//! PostgreSQL only, by nature: this is the production set-up (several
//! instances, one database server); the embedded SQLite mode serves one firm's
//! handful of users and is not what this load is about.
//!
//! No other test runs meanwhile (`harness::gate::alone`): the figures are of
//! this load on a machine that is its own, and the others' time limits do not
//! meet 220 busy clients.

use std::time::{Duration, Instant};

use harness::load::{self, Kind};
use harness::s3::PrivateS3;
use harness::{Backend, TestApp, reliability};

const BROWSERS: usize = 200;
const UPLOADERS: usize = 20;
const RUN_FOR: Duration = Duration::from_secs(60);
/// Upload sizes, in turn: the last is over one 8 MiB part, so S3 multipart uploads run too.
const SIZES: [usize; 3] = [2 * 1024 * 1024, 4 * 1024 * 1024 + 123, 9 * 1024 * 1024 + 7];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_clients_browse_while_twenty_upload_for_a_minute() -> anyhow::Result<()> {
    let _alone = harness::gate::alone().await;
    // A private S3 server: its folder (the minute's uploads) goes when the test ends.
    let s3 = PrivateS3::start()?;
    let app = TestApp::builder(Backend::Postgres).with_s3_at(&s3.endpoint()).spawn().await?;
    let demo = app.seed_demo().await?;
    let visitors = app.visitors(&demo, BROWSERS + UPLOADERS).await?;
    let client = load::client()?;
    let started = Instant::now();
    // Each uploader starts at a different size, so all sizes are in flight at once.
    let running = load::Running::start(&client, &app.address, &visitors, BROWSERS, |i| {
        (0..SIZES.len()).map(|k| SIZES[(i + k) % SIZES.len()]).collect()
    });
    // The load runs for a fixed minute: that duration is the test, not a wait for a condition.
    tokio::time::sleep(RUN_FOR).await;
    let tally = running.finish().await?;
    let elapsed = started.elapsed();

    let acknowledged = tally.acknowledged();
    let checked = Instant::now();
    // Lost: acknowledged, but the row or object is missing or differs; altered: the
    // 201 itself named other bytes than those sent. Either fails the test.
    let mut lost = load::lost_uploads(&app, &acknowledged).await?;
    lost.extend(tally.altered());
    let server_errors = tally.with_status(|s| s >= 500);
    let requests = tally.requests();
    reliability::record(
        "load",
        "Load: 200 clients browsing, 20 uploading, 60 s (PostgreSQL + S3)",
        &format!(
            "{BROWSERS} signed-in clients browse without pause (matter page, matter and list in the API) while \
             {UPLOADERS} upload PDF and JPEG files of 2, 4 and 9 MiB one after another, for {secs} s, against one \
             portal on PostgreSQL and s3s-fs, all on the test machine (2 cores, shared with the load generator).\n\n\
             | figure | value |\n|---|---|\n\
             | requests sent | {requests} ({rate:.0}/s) |\n\
             | 5xx answers | {server_errors} |\n\
             | requests without an answer | {transport} |\n\
             | GETs sent again after the server closed a kept-alive connection | {retries} |\n\
             | page latency p50 / p99 / max | {page50:.0} / {page99:.0} / {pagemax:.0} ms |\n\
             | API latency p50 / p99 / max | {api50:.0} / {api99:.0} / {apimax:.0} ms |\n\
             | upload latency p50 / p99 / max | {up50:.0} / {up99:.0} / {upmax:.0} ms |\n\
             | uploads acknowledged | {acked} ({mib:.0} MiB) |\n\
             | acknowledged uploads checked (row + object SHA-256) | {acked} in {check:.1} s |\n\
             | acknowledged uploads lost or altered | {lost} |\n\n{table}",
            secs = elapsed.as_secs(),
            rate = requests as f64 / elapsed.as_secs_f64(),
            transport = tally.transport_errors(),
            retries = tally.keep_alive_retries(),
            page50 = tally.percentile_ms(Kind::Page, 50.0),
            page99 = tally.percentile_ms(Kind::Page, 99.0),
            api50 = tally.percentile_ms(Kind::Api, 50.0),
            api99 = tally.percentile_ms(Kind::Api, 99.0),
            up50 = tally.percentile_ms(Kind::Upload, 50.0),
            up99 = tally.percentile_ms(Kind::Upload, 99.0),
            pagemax = tally.percentile_ms(Kind::Page, 100.0),
            apimax = tally.percentile_ms(Kind::Api, 100.0),
            upmax = tally.percentile_ms(Kind::Upload, 100.0),
            acked = acknowledged.len(),
            mib = tally.upload_bytes() as f64 / (1024.0 * 1024.0),
            check = checked.elapsed().as_secs_f64(),
            lost = lost.len(),
            table = tally.status_table(&[]),
        ),
    )?;

    let notes = tally.notes();
    assert_eq!(server_errors, 0, "5xx answers under load: {notes:#?}");
    assert_eq!(tally.transport_errors(), 0, "requests went unanswered: {notes:#?}");
    assert_eq!(tally.with_status(|s| s != 200 && s != 201), 0, "unexpected answers: {notes:#?}");
    assert!(lost.is_empty(), "acknowledged uploads lost or altered: {lost:#?}");
    assert!(acknowledged.len() >= UPLOADERS, "too few uploads went through to say anything: {}", acknowledged.len());
    Ok(())
}
