//! Logging: readable lines on a terminal, one JSON object per line with
//! `MATTERLINE_LOG_FORMAT=json`. `RUST_LOG` (or `MATTERLINE_LOG`) sets the filter.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Safe to call more than once (later calls are no-ops).
pub fn init(format: LogFormat) {
    let filter = std::env::var("MATTERLINE_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // try_init fails only when a subscriber is already set (tests start several apps).
    let _ = match format {
        LogFormat::Pretty => builder.with_target(false).compact().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}
