//! The portal's integration tests, one test binary (each file here is a
//! module of it): the `portal` executable as an operator runs it, and its
//! `import`, `audit verify` and `staff add` commands.

mod import;
mod staff_cli;
mod startup;

/// A file in tests/ that no `mod` above names would never run.
#[test]
fn every_file_here_is_a_module_of_this_binary() -> anyhow::Result<()> {
    harness::modules::all_declared(env!("CARGO_MANIFEST_DIR"))
}
