//! The `notifier` binary as it runs in production: two processes sharing the
//! notifications, a process killed mid-pass and restarted, and `notifier preview`.
//! Large runs go to the recording SMTP server (aiosmtpd), which logs one line
//! per accepted recipient with the message's Message-ID.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use harness::{Backend, TestApp, on_both_backends, reliability, services, test_env};
use shared::db::schema::{notifications, users};

const NOTIFIER: &str = env!("CARGO_BIN_EXE_notifier");
const CLIENTS: usize = 2000;

/// A `notifier` command with the test's environment (and nothing else of ours).
fn notifier(app: &TestApp, args: &[&str], settings: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(NOTIFIER);
    for (key, _) in std::env::vars() {
        if key.starts_with("MATTERLINE_") {
            cmd.env_remove(key);
        }
    }
    let mut all = vec![("MATTERLINE_PUBLIC_URL", app.address.as_str()), ("MATTERLINE_LOG_FORMAT", "json")];
    all.extend_from_slice(settings);
    cmd.envs(test_env(&app.db, &all)).args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Accepted deliveries to `@domain`: recipient -> Message-IDs, in arrival order.
fn accepted(domain: &str) -> anyhow::Result<HashMap<String, Vec<String>>> {
    let suffix = format!("@{domain}");
    let mut by_recipient: HashMap<String, Vec<String>> = HashMap::new();
    for (rcpt, id) in services::fault_smtp_accepted()? {
        if rcpt.ends_with(&suffix) {
            by_recipient.entry(rcpt).or_default().push(id);
        }
    }
    Ok(by_recipient)
}

fn wait_for_success(child: Child, what: &str) -> anyhow::Result<String> {
    let output = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(output.status.success(), "{what} failed: {}\n{stderr}", output.status);
    Ok(String::from_utf8(output.stdout)?)
}

async fn sent_rows(app: &TestApp) -> anyhow::Result<Vec<Option<String>>> {
    Ok(app
        .state
        .db
        .run(|c| {
            Ok(notifications::table
                .filter(notifications::status.eq("sent"))
                .select(notifications::claimed_by)
                .load::<Option<String>>(c)?)
        })
        .await?)
}

/// Sends `signal` (e.g. "STOP", "CONT") to a child process.
fn signal(child: &Child, signal: &str) -> anyhow::Result<()> {
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status()?;
    anyhow::ensure!(status.success(), "kill -{signal} failed");
    Ok(())
}

/// Waits until at least `n` recipients at `domain` have mail, failing if
/// `running` ends first or two minutes pass.
async fn wait_for_deliveries(domain: &str, n: usize, running: &mut Child, what: &str) -> anyhow::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let reached = accepted(domain)?.len();
        if reached >= n {
            return Ok(reached);
        }
        anyhow::ensure!(Instant::now() < deadline, "{what}: only {reached} of {n} clients reached");
        anyhow::ensure!(running.try_wait()?.is_none(), "{what}: the process ended after {reached} clients");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two processes share one queue. The overlap is made certain rather than
/// left to timing: the first is paused (SIGSTOP) while it holds claims, the
/// second starts and delivers, then the first resumes and both run together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_notifiers_at_once_on_postgres_send_every_client_exactly_one_email() -> anyhow::Result<()> {
    let app = TestApp::builder(Backend::Postgres).spawn().await?;
    let demo = app.seed_demo().await?;
    app.add_clients(&demo, CLIENTS - 5).await?;
    let smtp = services::fault_smtp_url()?;
    let args = ["once", "--batch", "50", "--concurrency", "8"];
    let mut first = notifier(&app, &args, &[("MATTERLINE_SMTP_URL", &smtp)]).spawn()?;
    wait_for_deliveries(&demo.domain, 100, &mut first, "first notifier").await?;
    signal(&first, "STOP")?;
    let at_pause = accepted(&demo.domain)?.len();
    let mut second = notifier(&app, &args, &[("MATTERLINE_SMTP_URL", &smtp)]).spawn()?;
    let outcome = wait_for_deliveries(&demo.domain, at_pause + 100, &mut second, "second notifier").await;
    signal(&first, "CONT")?;
    outcome?;
    let (a, b) = (wait_for_success(first, "first notifier")?, wait_for_success(second, "second notifier")?);

    let delivered = accepted(&demo.domain)?;
    assert_eq!(delivered.len(), CLIENTS, "clients reached: {}\n{a}\n{b}", delivered.len());
    let repeated: Vec<_> = delivered.iter().filter(|(_, ids)| ids.len() != 1).collect();
    assert!(repeated.is_empty(), "clients with more than one email: {repeated:?}");

    let sent = sent_rows(&app).await?;
    assert_eq!(sent.len(), CLIENTS);
    let mut workers: Vec<_> = sent.into_iter().flatten().collect();
    workers.sort();
    workers.dedup();
    assert_eq!(workers.len(), 2, "both processes should have sent a share: {workers:?}");
    Ok(())
}

/// `kill -9` halfway through, then a restart. Messages that were in flight at
/// the kill may reach the server a second time, with the same Message-ID (mail
/// clients show such a message once); every client gets exactly one message.
async fn a_notifier_killed_mid_pass_resumes_without_losing_or_repeating_a_message(
    backend: Backend,
) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.add_clients(&demo, CLIENTS - 5).await?;
    let smtp = services::fault_smtp_url()?;
    let concurrency = 8;
    let args = ["once", "--lease-seconds", "2", "--batch", "50", "--concurrency", "8"];
    let mut victim = notifier(&app, &args, &[("MATTERLINE_SMTP_URL", &smtp)]).spawn()?;

    // The only progress signal is the SMTP server's log; poll it.
    wait_for_deliveries(&demo.domain, CLIENTS / 2, &mut victim, "the notifier before the kill").await?;
    victim.kill()?; // SIGKILL: no clean-up, no released claims.
    victim.wait()?;
    let at_kill = accepted(&demo.domain)?.len();
    assert!(at_kill < CLIENTS, "everything was sent before the kill");

    // Its claims run out after the 2-second lease; then a new process takes over.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = shared::domain::now();
        let leased: i64 = app
            .state
            .db
            .run(move |c| {
                Ok(notifications::table
                    .filter(notifications::status.eq("sending"))
                    .filter(notifications::claimed_until.ge(now))
                    .count()
                    .get_result(c)?)
            })
            .await?;
        if leased == 0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "claims never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let restarted = notifier(&app, &args, &[("MATTERLINE_SMTP_URL", &smtp)]).spawn()?;
    let report = wait_for_success(restarted, "restarted notifier")?;
    assert!(report.contains("weekly pass: 0 enqueued"), "the restart enqueued again: {report}");

    let delivered = accepted(&demo.domain)?;
    assert_eq!(delivered.len(), CLIENTS, "clients reached after the restart");
    let mut resent = 0;
    for (rcpt, ids) in &delivered {
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 1, "{rcpt} got {} different messages: {ids:?}", distinct.len());
        assert!(!distinct[0].is_empty(), "{rcpt}'s message has no Message-ID");
        resent += ids.len() - 1;
    }
    assert!(resent <= concurrency, "{resent} messages re-sent; at most the {concurrency} in flight may be");
    assert_eq!(sent_rows(&app).await?.len(), CLIENTS);
    reliability::record(
        &format!("notifier_sigkill_{}", backend.name()),
        &format!("Notifier killed mid-pass (SIGKILL) and restarted ({})", backend.name()),
        &format!(
            "`notifier once` is killed with SIGKILL halfway through a pass of {CLIENTS} weekly updates \
             (concurrency {concurrency}, 2 s lease); a new process takes over when the lease ends.\n\n\
             | figure | value |\n|---|---|\n\
             | clients | {CLIENTS} |\n\
             | clients reached before the kill | {at_kill} |\n\
             | clients reached in all | {reached} |\n\
             | messages in flight at the kill that reached the server again (same Message-ID) | {resent} |\n\
             | clients who got two different messages | 0 |\n\
             | lost | {lost} |",
            reached = delivered.len(),
            lost = CLIENTS - delivered.len(),
        ),
    )?;
    Ok(())
}

/// `notifier preview` prints the weekly update (sending nothing); compared with a
/// reviewed insta snapshot per language (tests/snapshots/weekly_update_preview.*.snap;
/// `cargo insta review` after a change). Tokens, the case's id and the per-test domain are masked.
async fn the_preview_matches_its_snapshot_in_both_languages(backend: Backend) -> anyhow::Result<()> {
    harness::snapshots::compared_not_written();
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let jordan = app.client(&demo.email("jordan")).await?;
    for lang in ["en", "es"] {
        let html = app.db.dir.path().join(format!("preview-{lang}.html"));
        let html_arg = html.display().to_string();
        let args = ["preview", "--client", jordan.id.as_str(), "--lang", lang, "--html", html_arg.as_str()];
        let child = notifier(&app, &args, &[("MATTERLINE_PUBLIC_URL", "https://portal.example-firm.test")]).spawn()?;
        let text = wait_for_success(child, "notifier preview")?;
        // The case's id is in its links ("Open my case" leads to the one case).
        let masked = mask(&text, &demo.domain).replace(jordan.matter_id.as_str(), "MATTER");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(format!("weekly_update_preview.{lang}"), masked));
        let page = std::fs::read_to_string(&html)?;
        assert!(page.contains(&format!("<html lang=\"{lang}\">")), "the HTML part was not written in {lang}");
    }
    let stored: i64 = app.state.db.run(|c| Ok(notifications::table.count().get_result(c)?)).await?;
    assert_eq!(stored, 0, "preview must not enqueue or record anything");
    Ok(())
}

/// `notifier run`: the cron schedule fires (here every second), the updates go
/// out once — one address is refused (550) and fails — its own `/metrics`
/// counts the sent and failed emails and the weekly pass, and SIGTERM stops the
/// daemon cleanly (exit 0).
async fn the_daemon_sends_when_the_schedule_fires_and_stops_on_sigterm(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    // The fault server answers 550 to `reject…@`.
    let (jordan, rejected) = (demo.email("jordan"), format!("reject-jordan@{}", demo.domain));
    app.state
        .db
        .run(move |c| {
            diesel::update(users::table.filter(users::email.eq(&jordan))).set(users::email.eq(&rejected)).execute(c)?;
            Ok(())
        })
        .await?;
    let smtp = services::fault_smtp_url()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let bind = format!("127.0.0.1:{port}");
    let settings = [
        ("MATTERLINE_SMTP_URL", smtp.as_str()),
        ("MATTERLINE_WEEKLY_SCHEDULE", "* * * * * *"),
        ("MATTERLINE_NOTIFIER_BIND", bind.as_str()),
    ];
    let mut daemon = notifier(&app, &["run", "--poll-seconds", "1"], &settings).spawn()?;
    wait_for_deliveries(&demo.domain, 4, &mut daemon, "the daemon").await?;
    // The daemon's own /metrics counts what it sent. The SMTP server logs a
    // message before the notifier has read its reply and counted it, and the
    // pass is timed when it ends, so the figures may trail the log for a moment: wait for them.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = reqwest::get(format!("http://{bind}/metrics")).await?.text().await?;
        let scrape = harness::metrics::parse(&text)?;
        let emails = |outcome| {
            harness::metrics::total(
                &scrape,
                "matterline_notifications_total",
                &[("kind", "weekly_update"), ("outcome", outcome)],
            )
        };
        let (sent, failed) = (emails("sent"), emails("failed"));
        let passes = harness::metrics::histogram_count(&scrape, "matterline_weekly_pass_seconds", &[]);
        if sent >= 4.0 && failed >= 1.0 && passes >= 1.0 {
            assert_eq!((sent, failed), (4.0, 1.0), "weekly updates sent and failed according to /metrics");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "according to /metrics: {sent} weekly updates sent, {failed} failed, {passes} weekly passes\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal(&daemon, "TERM")?;
    wait_for_success(daemon, "notifier run after SIGTERM")?;
    let delivered = accepted(&demo.domain)?;
    assert_eq!(delivered.len(), 4, "{delivered:?}");
    assert!(delivered.values().all(|ids| ids.len() == 1), "the schedule firing every second sent twice: {delivered:?}");
    Ok(())
}

/// SIGTERM in the middle of 2,000 updates: the messages in flight finish, no new
/// ones start, the claims are given back and the process exits 0; a later pass
/// sends the rest — every client exactly once, nothing sent twice.
async fn sigterm_mid_pass_finishes_what_is_in_flight_and_loses_nothing(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.add_clients(&demo, CLIENTS - 5).await?;
    let smtp = services::fault_smtp_url()?;
    let settings = [("MATTERLINE_SMTP_URL", smtp.as_str()), ("MATTERLINE_WEEKLY_SCHEDULE", "* * * * * *")];
    let mut daemon = notifier(&app, &["run", "--poll-seconds", "1", "--batch", "50"], &settings).spawn()?;
    wait_for_deliveries(&demo.domain, CLIENTS / 4, &mut daemon, "the daemon").await?;
    signal(&daemon, "TERM")?;
    wait_for_success(daemon, "notifier run after SIGTERM")?;
    let at_stop = accepted(&demo.domain)?.len();
    assert!(at_stop < CLIENTS, "everything was sent before the stop");
    let claimed: i64 = app
        .state
        .db
        .run(|c| Ok(notifications::table.filter(notifications::status.eq("sending")).count().get_result(c)?))
        .await?;
    assert_eq!(claimed, 0, "claims were not given back");

    let rest = notifier(&app, &["once"], &[("MATTERLINE_SMTP_URL", &smtp)]).spawn()?;
    wait_for_success(rest, "notifier once")?;
    let delivered = accepted(&demo.domain)?;
    assert_eq!(delivered.len(), CLIENTS);
    let repeated: Vec<_> = delivered.iter().filter(|(_, ids)| ids.len() != 1).collect();
    assert!(repeated.is_empty(), "sent twice after a clean stop: {repeated:?}");
    reliability::record(
        &format!("notifier_sigterm_{}", backend.name()),
        &format!("Notifier stopped mid-pass (SIGTERM) ({})", backend.name()),
        &format!(
            "`notifier run` gets SIGTERM while sending {CLIENTS} weekly updates; `notifier once` sends the rest.\n\n\
             | figure | value |\n|---|---|\n\
             | clients | {CLIENTS} |\n\
             | clients reached before the stop | {at_stop} |\n\
             | claims left behind | {claimed} |\n\
             | clients reached in all | {reached} |\n\
             | sent twice | {twice} |\n\
             | lost | {lost} |",
            reached = delivered.len(),
            twice = repeated.len(),
            lost = CLIENTS - delivered.len(),
        ),
    )?;
    Ok(())
}

/// Replaces signed tokens with TOKEN and the test's unique domain with demo.test.
fn mask(text: &str, domain: &str) -> String {
    let mut out = String::new();
    let mut rest = text.replace(domain, "demo.test");
    while let Some(at) = rest.find("token=") {
        out.push_str(&rest[..at + "token=".len()]);
        let after = &rest[at + "token=".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-'))
            .unwrap_or(after.len());
        out.push_str("TOKEN");
        rest = after[end..].to_owned();
    }
    out.push_str(&rest);
    out
}

on_both_backends!(
    a_notifier_killed_mid_pass_resumes_without_losing_or_repeating_a_message,
    the_preview_matches_its_snapshot_in_both_languages,
    the_daemon_sends_when_the_schedule_fires_and_stops_on_sigterm,
    sigterm_mid_pass_finishes_what_is_in_flight_and_loses_nothing,
);

/// `notifier ARGS --help`, which must succeed.
fn help(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(NOTIFIER).args(args).arg("--help").output()?;
    assert!(output.status.success(), "notifier {args:?} --help: {}", output.status);
    Ok(String::from_utf8(output.stdout)?)
}

#[test]
fn help_lists_every_notifier_command_and_the_worker_defaults() -> anyhow::Result<()> {
    let top = help(&[])?;
    for command in ["run", "once", "preview", "check"] {
        assert!(top.lines().any(|l| l.trim_start().starts_with(command)), "{command} missing from --help:\n{top}");
    }
    let worker = [
        "--lease-seconds <LEASE_SECONDS>",
        "[default: 300]",
        "--concurrency <CONCURRENCY>",
        "[default: 8]",
        "--batch <BATCH>",
        "[default: 1000]",
    ];
    let mut run = vec!["--poll-seconds <POLL_SECONDS>", "[default: 30]"];
    run.extend(worker);
    let commands: &[(&str, &[&str])] = &[
        ("run", &run),
        ("once", &worker),
        ("preview", &["--client <CLIENT>", "--lang <LANG>", "--html <HTML>", "[default: weekly-update-preview.html]"]),
        ("check", &["apply pending migrations", "-h, --help"]),
    ];
    for (command, expected) in commands {
        let text = help(&[command])?;
        for piece in *expected {
            assert!(text.contains(piece), "{piece:?} missing from notifier {command} --help:\n{text}");
        }
    }
    Ok(())
}
