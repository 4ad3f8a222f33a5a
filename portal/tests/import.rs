//! `portal import` and `portal audit verify` as a firm's staff run them: the
//! real binary against a fresh database with the demo firm, on both backends.
//! A firm moves 10,000 matters over from its case-management system, runs the
//! same export again without effect, sees exactly which rows were refused, and
//! can prove the audit log was not edited behind its back.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use harness::fixtures::Demo;
use harness::{Backend, TestApp, on_both_backends, test_env};
use shared::db::models::{Matter, User};
use shared::db::schema::{audit_events, firms, matter_clients, matters, milestones, phases, users};

const PORTAL: &str = env!("CARGO_BIN_EXE_portal");
const HEADER: &str =
    "external_id,matter_title,client_name,client_email,client_phone,language,phase,case_manager_email,opened_on";
const PHASES: [&str; 10] = [
    "intake",
    "investigation",
    "medical_treatment",
    "records_and_bills",
    "demand",
    "negotiation",
    "litigation",
    "settlement",
    "disbursement",
    "closed",
];

/// How a `portal` run ended.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: Vec<String>,
    stderr: String,
    took: Duration,
}

/// Runs `portal ARGS` on the test's database, with nothing else of our environment.
async fn portal(app: &TestApp, args: &[&str]) -> anyhow::Result<Run> {
    let mut cmd = Command::new(PORTAL);
    for (key, _) in std::env::vars() {
        if key.starts_with("MATTERLINE_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(test_env(&app.db, &[])).args(args).current_dir(app.db.dir.path());
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || cmd.output()).await??;
    Ok(Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout)?.lines().map(str::to_owned).collect(),
        stderr: String::from_utf8(output.stderr)?,
        took: started.elapsed(),
    })
}

fn write(app: &TestApp, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = app.db.dir.path().join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// A CSV row of a generated matter `i`; every field is filled.
fn generated_row(i: usize, domain: &str) -> String {
    let language = if i.is_multiple_of(3) { "es" } else { "en" };
    let manager = if i.is_multiple_of(2) { format!("casey@{domain}") } else { String::new() };
    format!(
        "CM-{i:05},\"Matter {i}, slip and fall\",Client {i},Client{i}@Import.test,+1 555 {i:04},{language},{},{manager},2025-{:02}-{:02}",
        PHASES[i % PHASES.len()],
        i % 12 + 1,
        i % 28 + 1
    )
}

async fn count_audit(app: &TestApp) -> anyhow::Result<i64> {
    Ok(app.state.db.run(|c| Ok(audit_events::table.count().get_result(c)?)).await?)
}

/// The matter with `external_id`, its client and its phase key.
async fn matter(app: &TestApp, external_id: &str) -> anyhow::Result<(Matter, User, String)> {
    let external_id = external_id.to_owned();
    Ok(app
        .state
        .db
        .run(move |c| {
            let matter: Matter =
                matters::table.filter(matters::external_id.eq(&external_id)).select(Matter::as_select()).first(c)?;
            let client: User = users::table
                .inner_join(matter_clients::table)
                .filter(matter_clients::matter_id.eq(&matter.id))
                .select(User::as_select())
                .first(c)?;
            let phase: String = phases::table.find(&matter.phase_id).select(phases::key).first(c)?;
            Ok((matter, client, phase))
        })
        .await?)
}

async fn staff_id(app: &TestApp, demo: &Demo, local: &str) -> anyhow::Result<String> {
    let email = demo.email(local);
    Ok(app.state.db.run(move |c| Ok(users::table.filter(users::email.eq(&email)).select(users::id).first(c)?)).await?)
}

async fn ten_thousand_rows_import_once_and_a_second_run_changes_nothing(backend: Backend) -> anyhow::Result<()> {
    const ROWS: usize = 10_000;
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let mut csv = format!("{HEADER}\n");
    for i in 0..ROWS {
        csv.push_str(&generated_row(i, &demo.domain));
        csv.push('\n');
    }
    let file = write(&app, "matters.csv", &csv)?;
    let audit_before = count_audit(&app).await?;

    let first = portal(&app, &["import", arg(&file)]).await?;
    eprintln!("{}: {ROWS} rows imported in {:.1?}", backend.name(), first.took);
    assert_eq!(first.code, Some(0), "{first:?}");
    assert_eq!(first.stdout, [format!("imported {}: 10000 created, 0 updated, 0 unchanged, 0 failed", arg(&file))]);

    let (imported, clients, links) = app
        .state
        .db
        .run(|c| {
            let imported: i64 = matters::table.filter(matters::external_id.like("CM-%")).count().get_result(c)?;
            let clients: i64 = users::table
                .filter(users::email.like("%@import.test"))
                .filter(users::role.eq("client"))
                .count()
                .get_result(c)?;
            let links: i64 = matter_clients::table
                .inner_join(matters::table)
                .filter(matters::external_id.like("CM-%"))
                .count()
                .get_result(c)?;
            Ok((imported, clients, links))
        })
        .await?;
    assert_eq!((imported, clients, links), (10_000, 10_000, 10_000), "(matters, clients, links)");
    let audit_after = count_audit(&app).await?;
    assert_eq!(audit_after - audit_before, 20_000, "one audit event per created client and matter");

    let (m, client, phase) = matter(&app, "CM-04242").await?;
    assert_eq!(m.title, "Matter 4242, slip and fall");
    assert_eq!(phase, "medical_treatment");
    assert_eq!(m.case_manager_id, Some(staff_id(&app, &demo, "casey").await?));
    assert_eq!(m.opened_at.to_string(), "2025-07-15 05:00:00", "midnight in Chicago (CDT), in UTC");
    assert_eq!(m.firm_id, demo.firm_id);
    assert_eq!(
        (client.email.as_str(), client.full_name.as_str(), client.phone.as_deref(), client.language.as_str()),
        ("client4242@import.test", "Client 4242", Some("+1 555 4242"), "es")
    );
    let (m, client, _) = matter(&app, "CM-04243").await?;
    assert_eq!((m.case_manager_id, client.language.as_str()), (None, "en"));

    let second = portal(&app, &["import", arg(&file)]).await?;
    eprintln!("{}: {ROWS} unchanged rows checked in {:.1?}", backend.name(), second.took);
    assert_eq!(second.code, Some(0), "{second:?}");
    assert_eq!(second.stdout, [format!("imported {}: 0 created, 0 updated, 10000 unchanged, 0 failed", arg(&file))]);
    assert_eq!(count_audit(&app).await?, audit_after, "a second run writes no audit rows");

    let verified = portal(&app, &["audit", "verify"]).await?;
    assert_eq!(verified.code, Some(0), "{verified:?}");
    assert_eq!(verified.stdout, [format!("audit log intact: {audit_after} events")]);
    Ok(())
}

async fn three_bad_rows_are_named_by_line_and_field_and_the_rest_imports(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let mut lines = vec![HEADER.to_owned()];
    for i in 2..=20 {
        let row = match i {
            4 => format!("BAD-{i},Matter {i},Client {i},client{i}.import.test,,,,,"),
            9 => format!("BAD-{i},Matter {i},Client {i},client{i}@import.test,,,trial_prep,,"),
            15 => format!("BAD-{i},,Client {i},client{i}@import.test,,,,,"),
            _ => format!("OK-{i},Matter {i},Client {i},client{i}@import.test,,,,casey@{},", demo.domain),
        };
        lines.push(row);
    }
    let file = write(&app, "with-errors.csv", &(lines.join("\n") + "\n"))?;

    let run = portal(&app, &["import", arg(&file)]).await?;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        [
            format!("imported {}: 16 created, 0 updated, 0 unchanged, 3 failed", arg(&file)),
            "line 4: client_email: not an email address".to_owned(),
            format!("line 9: phase: unknown phase \"trial_prep\"; the phases are {}", PHASES.join(", ")),
            "line 15: matter_title: missing".to_owned(),
        ]
    );
    let (good, bad) = app
        .state
        .db
        .run(|c| {
            let good: Vec<Option<String>> = matters::table
                .filter(matters::external_id.like("OK-%"))
                .order(matters::external_id)
                .select(matters::external_id)
                .load(c)?;
            let bad: i64 = matters::table.filter(matters::external_id.like("BAD-%")).count().get_result(c)?;
            Ok((good, bad))
        })
        .await?;
    assert_eq!(good.len(), 16, "{good:?}");
    assert_eq!(bad, 0);
    let (m, _, phase) = matter(&app, "OK-20").await?;
    assert_eq!(
        (m.title.as_str(), phase.as_str()),
        ("Matter 20", "intake"),
        "a matter without a phase starts at intake"
    );
    Ok(())
}

async fn a_json_export_imports_and_a_changed_field_counts_as_updated(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let records = |email_1: &str, title_2: &str, phase_2: &str, phone_3: &str| {
        serde_json::json!([
            {"external_id": "J-1", "matter_title": "Bicycle v. bus", "client_name": "Ana Uno",
             "client_email": email_1, "language": "es", "phase": "intake", "opened_on": "2026-02-01"},
            {"external_id": "J-2", "matter_title": title_2, "client_name": "Ben Dos",
             "client_email": "ben@json.test", "phase": phase_2, "case_manager_email": demo.email("casey")},
            {"external_id": 3, "matter_title": "Workplace fall", "client_name": "Cleo Tres",
             "client_email": "cleo@json.test", "client_phone": phone_3, "opened_on": null},
        ])
        .to_string()
    };
    let file =
        write(&app, "export.json", &records("ana@json.test", "Rear-end collision", "investigation", "+1 555 0303"))?;
    let first = portal(&app, &["import", arg(&file)]).await?;
    assert_eq!(first.code, Some(0), "{first:?}");
    assert_eq!(first.stdout, [format!("imported {}: 3 created, 0 updated, 0 unchanged, 0 failed", arg(&file))]);
    let (m, client, phase) = matter(&app, "3").await?;
    assert_eq!((m.title.as_str(), phase.as_str()), ("Workplace fall", "intake"));
    assert_eq!((client.phone.as_deref(), client.language.as_str()), (Some("+1 555 0303"), "en"));
    let (_, ana, _) = matter(&app, "J-1").await?;
    assert_eq!((ana.full_name.as_str(), ana.language.as_str()), ("Ana Uno", "es"));

    // The firm's system renamed J-2 and moved it on; Cleo has a new phone.
    write(&app, "export.json", &records("ana@json.test", "Rear-end collision on I-90", "demand", "+1 555 0404"))?;
    let last_event: Option<i64> =
        app.state.db.run(|c| Ok(audit_events::table.select(diesel::dsl::max(audit_events::id)).first(c)?)).await?;
    let second = portal(&app, &["import", arg(&file)]).await?;
    assert_eq!(second.code, Some(0), "{second:?}");
    assert_eq!(second.stdout, [format!("imported {}: 0 created, 2 updated, 1 unchanged, 0 failed", arg(&file))]);
    let (m, ben, phase) = matter(&app, "J-2").await?;
    assert_eq!((m.title.as_str(), phase.as_str()), ("Rear-end collision on I-90", "demand"));
    assert_eq!(ben.email, "ben@json.test");
    assert_eq!(m.case_manager_id, Some(staff_id(&app, &demo, "casey").await?));
    let (_, cleo, _) = matter(&app, "3").await?;
    assert_eq!(cleo.phone.as_deref(), Some("+1 555 0404"));

    let matter_id = m.id.clone();
    let (moves, actions) = app
        .state
        .db
        .run(move |c| {
            let moves: Vec<String> = milestones::table
                .inner_join(phases::table.on(milestones::phase_id.eq(phases::id.nullable())))
                .filter(milestones::matter_id.eq(&matter_id))
                .filter(milestones::kind.eq("phase_change"))
                .select(phases::key)
                .load(c)?;
            let actions: Vec<(String, Option<String>)> = audit_events::table
                .filter(audit_events::id.gt(last_event.unwrap_or(i64::MIN)))
                .order(audit_events::id)
                .select((audit_events::action, audit_events::detail))
                .load(c)?;
            Ok((moves, actions))
        })
        .await?;
    assert_eq!(moves, ["demand"], "the phase change is a milestone the weekly update reports");
    assert_eq!(
        actions,
        [
            ("client.import.update".to_owned(), Some("changed: phone".to_owned())),
            ("matter.import.update".to_owned(), Some("external id J-2; changed: title, phase".to_owned())),
        ]
    );

    let third = portal(&app, &["import", arg(&file)]).await?;
    assert_eq!(third.stdout, [format!("imported {}: 0 created, 0 updated, 3 unchanged, 0 failed", arg(&file))]);

    // The firm corrected Ana's address: the matter moves to that client, the old address loses it.
    write(&app, "export.json", &records("ana.uno@json.test", "Rear-end collision on I-90", "demand", "+1 555 0404"))?;
    let fourth = portal(&app, &["import", arg(&file)]).await?;
    assert_eq!(fourth.stdout, [format!("imported {}: 0 created, 1 updated, 2 unchanged, 0 failed", arg(&file))]);
    let (m, ana, _) = matter(&app, "J-1").await?;
    assert_eq!((ana.email.as_str(), ana.full_name.as_str()), ("ana.uno@json.test", "Ana Uno"));
    let matter_id = m.id.clone();
    let clients: Vec<String> = app
        .state
        .db
        .run(move |c| {
            Ok(matter_clients::table
                .inner_join(users::table)
                .filter(matter_clients::matter_id.eq(&matter_id))
                .select(users::email)
                .load(c)?)
        })
        .await?;
    assert_eq!(clients, ["ana.uno@json.test"]);
    Ok(())
}

async fn audit_verify_finds_the_one_changed_event(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let mut csv = format!("{HEADER}\n");
    for i in 0..5 {
        csv.push_str(&generated_row(i, &demo.domain));
        csv.push('\n');
    }
    let file = write(&app, "five.csv", &csv)?;
    assert_eq!(portal(&app, &["import", arg(&file)]).await?.code, Some(0));
    let ids: Vec<i64> =
        app.state.db.run(|c| Ok(audit_events::table.order(audit_events::id).select(audit_events::id).load(c)?)).await?;
    assert_eq!(ids.len(), 10, "two events per imported row");

    let intact = portal(&app, &["audit", "verify"]).await?;
    assert_eq!(intact.code, Some(0), "{intact:?}");
    assert_eq!(intact.stdout, ["audit log intact: 10 events"]);

    let victim = ids[6];
    let changed = app
        .state
        .db
        .run(move |c| {
            Ok(diesel::update(audit_events::table.find(victim))
                .set(audit_events::detail.eq("external id CM-99999"))
                .execute(c)?)
        })
        .await?;
    assert_eq!(changed, 1);
    let broken = portal(&app, &["audit", "verify"]).await?;
    assert_eq!(broken.code, Some(1), "{broken:?}");
    assert_eq!(
        broken.stdout,
        [format!("audit log broken at event {victim}: this event was changed, or the one before it was removed")]
    );
    Ok(())
}

async fn a_whole_file_problem_imports_nothing_and_says_what_to_fix(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let file =
        write(&app, "renamed.csv", "external_id,matter_name,client_name,client_email\nA-1,One,Ann,ann@x.test\n")?;
    let run = portal(&app, &["import", arg(&file)]).await?;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.trim_end().ends_with(&format!(
            "error: {}: unknown column \"matter_name\"; the columns are external_id, matter_title, client_name, \
             client_email, client_phone, language, phase, case_manager_email, opened_on",
            arg(&file)
        )),
        "{}",
        run.stderr
    );

    // A second firm: the import must be told which one.
    let firm_id = demo.firm_id.clone();
    app.state
        .db
        .run(|c| {
            diesel::insert_into(firms::table)
                .values((
                    firms::id.eq("second-firm"),
                    firms::name.eq("Second Firm"),
                    firms::time_zone.eq("UTC"),
                    firms::no_activity_updates.eq(true),
                    firms::created_at.eq(shared::domain::now()),
                ))
                .execute(c)?;
            Ok(())
        })
        .await?;
    let good = write(&app, "good.csv", "external_id,matter_title,client_name,client_email\nA-1,One,Ann,ann@x.test\n")?;
    let unsure = portal(&app, &["import", arg(&good)]).await?;
    assert_eq!(unsure.code, Some(1), "{unsure:?}");
    assert!(unsure.stderr.contains("the database holds 2 firms; choose one with --firm ID"), "{}", unsure.stderr);
    assert!(unsure.stderr.contains(&format!("{firm_id} (Demo Injury Law)")), "{}", unsure.stderr);
    let chosen = portal(&app, &["import", arg(&good), "--firm", &firm_id]).await?;
    assert_eq!(chosen.code, Some(0), "{chosen:?}");
    let (m, _, _) = matter(&app, "A-1").await?;
    assert_eq!(m.firm_id, firm_id);
    Ok(())
}

on_both_backends!(
    ten_thousand_rows_import_once_and_a_second_run_changes_nothing,
    three_bad_rows_are_named_by_line_and_field_and_the_rest_imports,
    a_json_export_imports_and_a_changed_field_counts_as_updated,
    audit_verify_finds_the_one_changed_event,
    a_whole_file_problem_imports_nothing_and_says_what_to_fix,
);
