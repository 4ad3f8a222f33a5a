//! `portal staff add`: an operator creates a staff account with the real
//! binary, and the printed password and authenticator secret sign in.

use std::process::Command;

use harness::{Backend, TestApp, on_both_backends, test_env};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PORTAL: &str = env!("CARGO_BIN_EXE_portal");

/// Runs `portal ARGS` on the test's database: (exit code, stdout, stderr).
fn portal(app: &TestApp, args: &[&str]) -> anyhow::Result<(Option<i32>, String, String)> {
    let mut cmd = Command::new(PORTAL);
    for (key, _) in std::env::vars() {
        if key.starts_with("MATTERLINE_") {
            cmd.env_remove(key);
        }
    }
    let output = cmd.envs(test_env(&app.db, &[])).args(args).current_dir(app.db.dir.path()).output()?;
    Ok((output.status.code(), String::from_utf8(output.stdout)?, String::from_utf8(output.stderr)?))
}

/// The value after `label` on its line of `text`.
fn printed(text: &str, label: &str) -> Option<String> {
    text.lines().find_map(|l| l.trim().strip_prefix(label)).map(|v| v.trim().to_owned())
}

async fn an_account_made_with_staff_add_signs_in(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    let email = format!("new.admin@{}", demo.domain);
    let args = ["staff", "add", "--email", &email, "--name", "Robin Rivera", "--role", "admin"];
    let (code, out, err) = tokio::task::block_in_place(|| portal(&app, &args))?;
    assert_eq!(code, Some(0), "{out}\n{err}");
    let password = printed(&out, "password:").ok_or_else(|| anyhow::anyhow!("no password in {out}"))?;
    let secret = printed(&out, "authenticator secret:").ok_or_else(|| anyhow::anyhow!("no secret in {out}"))?;
    let uri = printed(&out, "authenticator URI:").unwrap_or_default();
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&secret), "{uri}");
    assert_eq!(password.chars().count(), 20);

    let again = tokio::task::block_in_place(|| portal(&app, &args))?;
    assert_eq!(again.0, Some(1), "a second account with the same email: {again:?}");
    assert!(again.2.contains("already has an account"), "{}", again.2);
    let bad_role = tokio::task::block_in_place(|| {
        portal(&app, &["staff", "add", "--email", "x@y.test", "--name", "X", "--role", "client"])
    })?;
    assert_ne!(bad_role.0, Some(0));
    assert!(bad_role.2.contains("--role must be admin or case_manager"), "{}", bad_role.2);

    let code = portal::staff_auth::current_code(&secret)?;
    let reply = app
        .new_client()?
        .post(app.url("/api/v1/staff/sign-in"))
        .json(&json!({ "email": email, "password": password, "code": code }))
        .send()
        .await?;
    assert_eq!(reply.status(), StatusCode::OK);
    let token = reply.json::<Value>().await?["token"].as_str().unwrap_or_default().to_owned();
    let settings = app
        .new_client()?
        .get(app.url("/api/v1/staff/settings"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await?;
    assert_eq!(settings.json::<Value>().await?["name"], "Demo Injury Law");
    Ok(())
}

on_both_backends!(an_account_made_with_staff_add_signs_in);
