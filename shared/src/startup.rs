//! What both binaries do first and last: load the configuration (a bad one is
//! one line on stderr and exit code 2), start logging and the async runtime,
//! report a failure as one line, and wait for SIGTERM or SIGINT.

use std::process::ExitCode;

use crate::config::Config;

/// The configuration and a multi-threaded runtime, or the exit code to stop with.
pub fn boot() -> Result<(Config, tokio::runtime::Runtime), ExitCode> {
    let config = Config::load().map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })?;
    crate::telemetry::init(config.log_format);
    crate::mail::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::FAILURE
    })?;
    Ok((config, runtime))
}

/// The exit code for a command's result; a failure is printed as one line with its causes.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
