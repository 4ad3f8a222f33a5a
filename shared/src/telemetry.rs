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

/// `text` with every email address replaced by `[address]`: mail servers quote
/// the recipient in their errors, and logs must not carry addresses.
pub fn redact_emails(text: &str) -> String {
    text.split_inclusive(|c: char| c.is_whitespace())
        .map(|word| {
            let trimmed = word.trim_end();
            let core =
                trimmed.trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | ':' | '"' | '\''));
            match core.split_once('@') {
                Some((local, domain)) if !local.is_empty() && domain.contains('.') => {
                    word.replacen(core, "[address]", 1)
                }
                _ => word.to_owned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::redact_emails;

    #[test]
    fn addresses_are_removed_from_log_text() {
        assert_eq!(
            redact_emails("permanent mail failure: 550 5.1.1 <jordan@firm.example>: mailbox unavailable"),
            "permanent mail failure: 550 5.1.1 <[address]>: mailbox unavailable"
        );
        assert_eq!(redact_emails("Connection error: refused"), "Connection error: refused");
        assert_eq!(redact_emails("to a@b.co, c@d.org"), "to [address], [address]");
    }
}
