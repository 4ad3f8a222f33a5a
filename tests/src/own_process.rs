//! One test in a process of its own, inside the binary that holds every test
//! of its crate: for a test that measures its process (resident memory), which
//! other tests running beside it in the same process would add to.

use std::process::Command;

/// Set in the process started by [`run`] to the name of the test it runs.
const VAR: &str = "MATTERLINE_TEST_OWN_PROCESS";

/// A test's name as `cargo test -- --list` shows it: `module_path` (from
/// `module_path!()`, which starts with the crate's name) without the crate's
/// name, then `function`.
pub fn test_name(module_path: &str, function: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, path)) => format!("{path}::{function}"),
        None => function.to_owned(),
    }
}

/// Runs `test` in a new process of this test binary that runs the test `name`
/// and nothing else, and returns its outcome; its output is printed as this
/// test's. In that process (where [`VAR`] names the test) `test` runs right here.
pub fn run(name: &str, test: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
    if std::env::var(VAR).is_ok_and(|v| v == name) {
        return test();
    }
    let output = Command::new(std::env::current_exe()?)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(VAR, name)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    anyhow::ensure!(output.status.success(), "{name} failed in its own process ({})", output.status);
    // A name that matches no test runs nothing and succeeds: that is no pass.
    anyhow::ensure!(stdout.contains("test result: ok. 1 passed"), "no test {name} ran in its own process");
    Ok(())
}
