//! The end-to-end suites against real services, one test binary (each file or
//! folder here is a module of it). Its tests run in parallel threads of one
//! process: the few that must not run beside others hold `harness::gate::alone`
//! (the load test, the PostgreSQL restart), and the one that measures its
//! process's memory runs in a process of its own (`harness::own_process`).

mod adoption;
mod backup;
mod branding;
mod browser;
mod case_page;
mod client_portal;
mod email_design;
mod emails;
mod experience;
mod foundation;
mod insights;
mod kept_pages;
mod languages;
mod limits;
mod load;
mod messages;
mod observability;
mod one_tap;
mod phone_upload;
mod postgres_restart;
mod proxy;
mod request_reminders;
mod schema;
mod security;
mod services;
mod shutdown;
mod sms;
mod staff;
mod staff_messages;
mod staff_workspace;
mod storage_outage;
mod treatment;
mod upload_memory;
mod uploads;
mod virus_scan;
mod web_push;

/// A file in tests/ that no `mod` above names would never run.
#[test]
fn every_file_here_is_a_module_of_this_binary() -> anyhow::Result<()> {
    harness::modules::all_declared(env!("CARGO_MANIFEST_DIR"))
}
