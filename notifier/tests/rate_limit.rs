//! `MATTERLINE_SMTP_MAX_PER_SECOND`: the weekly pass, end to end against the
//! real SMTP server, asks the rate limit once per email and never lets more
//! than the limit go in any one second. The limit's clock is a test clock that
//! moves only when the limit makes a message wait, so this counts grants and
//! compares the times they were given; nothing here measures elapsed time.

use std::sync::Arc;
use std::time::Duration;

use harness::{Backend, TestApp, maildev, on_both_backends, services};
use notifier::Notifier;
use notifier::cli::WorkerOptions;
use shared::smtp::TestClock;

async fn the_weekly_pass_keeps_to_the_smtp_rate_limit(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let config = app.config(&[
        ("MATTERLINE_SMTP_URL", &services::smtp_url()?),
        ("MATTERLINE_SMTP_MAX_PER_SECOND", "2"),
        ("MATTERLINE_SMTP_CONNECTIONS", "4"),
    ])?;
    // More in flight than the limit allows per second: the limit, not the concurrency, paces them.
    let mut notifier = Notifier::build(config, &WorkerOptions { lease_seconds: 300, concurrency: 8, batch: 100 })?;
    let clock = Arc::new(TestClock::default());
    notifier.delivery.channels.email = notifier.delivery.channels.email.clone().with_rate_clock(clock.clone());

    let (_, summary) = notifier.once().await?;
    assert!(summary.sent >= 3, "the demo's clients get their weekly updates: {summary:?}");
    assert_eq!((summary.failed, summary.retrying), (0, 0), "{summary:?}");

    // Asked once per email sent, no more, no fewer.
    let mut granted = clock.granted();
    assert_eq!(granted.len(), summary.sent, "{granted:?}");
    // No one-second window holds more than two: the third after any two waits a second after the first.
    granted.sort();
    for window in granted.windows(3) {
        assert!(window[2] >= window[0] + Duration::from_secs(1), "three emails within a second: {granted:?}");
    }
    // And no email waited longer than the limit needs: two per second from the start.
    let last = granted.last().copied().unwrap_or_default();
    let needed = Duration::from_secs(u64::try_from(summary.sent.div_ceil(2) - 1)?);
    assert_eq!(last, needed, "{granted:?}");

    // Every one of them reached the server.
    let received = maildev::emails_to_domain(&demo.domain).await?;
    assert_eq!(received.len(), summary.sent, "messages the SMTP server received");
    Ok(())
}

on_both_backends!(the_weekly_pass_keeps_to_the_smtp_rate_limit);
