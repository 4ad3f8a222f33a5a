//! `/dev/mailbox`: the emails written to the dev mail folder, newest first. Only
//! registered when no SMTP server is configured (embedded mode), and only
//! answered to visitors on this machine: the page shows every sign-in link.

use actix_web::http::StatusCode;
use actix_web::{get, web};
use mail_parser::MessageParser;
use serde::Serialize;

use crate::pages::{PageCtx, PageResult};

/// Registers the dev mailbox.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(mailbox);
}

/// How many messages the page lists.
const SHOWN: usize = 50;

/// Only visitors on this machine (loopback) may read the dev mailbox: the
/// client's address, so that a trusted proxy on this machine does not make
/// every visitor look local.
fn allowed(client: Option<std::net::IpAddr>) -> bool {
    client.is_some_and(|ip| ip.is_loopback())
}

#[get("/dev/mailbox")]
async fn mailbox(ctx: PageCtx, req: actix_web::HttpRequest) -> PageResult {
    if !allowed(crate::session::client_addr(&req)) {
        return Err(shared::Error::NotFound.into());
    }
    let dir = ctx.state.mailer().mail_folder().map(ToOwned::to_owned).ok_or(shared::Error::NotFound)?;
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<Letter>> {
        let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = std::fs::read_dir(&dir)?
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.0));
        let parser = MessageParser::default();
        Ok(files
            .into_iter()
            .take(SHOWN)
            .filter_map(|(_, path)| {
                let raw = std::fs::read(&path).ok()?;
                let message = parser.parse(&raw)?;
                let to =
                    message.to().and_then(|to| to.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
                Some(Letter {
                    subject: message.subject().unwrap_or_default().to_owned(),
                    to,
                    date: message.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
                    text: message.body_text(0).unwrap_or_default().into_owned(),
                })
            })
            .collect())
    })
    .await;
    let messages = read
        .map_err(|e| shared::Error::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|e| shared::Error::Unavailable { service: "mail", cause: e.into() })?;
    Ok(ctx.render(StatusCode::OK, "mailbox", "mailbox-title", Mailbox { messages }))
}

/// The dev mailbox: the newest emails first.
#[derive(Serialize)]
struct Mailbox {
    messages: Vec<Letter>,
}

/// One email of the dev mail folder.
#[derive(Serialize)]
struct Letter {
    subject: String,
    to: String,
    date: String,
    text: String,
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn only_this_machine_reads_the_dev_mailbox() {
        assert!(allowed("127.0.0.1".parse().ok()));
        assert!(allowed("::1".parse().ok()));
        for other in ["192.168.1.20", "10.0.0.5", "203.0.113.9", "fe80::1"] {
            assert!(!allowed(other.parse().ok()), "{other}");
        }
        assert!(!allowed(None));
    }
}
