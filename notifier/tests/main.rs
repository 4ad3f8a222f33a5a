//! The notifier's integration tests, one test binary (each file here is a
//! module of it): weekly updates and one-off notices through the delivery pipeline,
//! mail servers that fail, and the `notifier` executable as it runs in production.

mod contained_panics;
mod mail_faults;
mod notices;
mod processes;
mod rate_limit;
mod weekly_update;

/// A file in tests/ that no `mod` above names would never run.
#[test]
fn every_file_here_is_a_module_of_this_binary() -> anyhow::Result<()> {
    harness::modules::all_declared(env!("CARGO_MANIFEST_DIR"))
}
