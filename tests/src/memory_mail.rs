//! Reading what a portal started with [`crate::TestAppBuilder::with_memory_mail`]
//! has mailed: the messages as they would have gone on the wire, parsed like
//! maildev's (subject, text and HTML decoded), for tests that are not about SMTP.

use std::time::Duration;

use shared::mail::{SentMail, SentMessage};

use crate::maildev::{Address, Email};

/// The mail one test portal has sent, kept in memory.
#[derive(Debug, Clone)]
pub struct MemoryMail(SentMail);

impl MemoryMail {
    /// Reads `sent`.
    pub fn new(sent: SentMail) -> Self {
        Self(sent)
    }

    /// Every email sent so far, oldest first.
    pub fn emails(&self) -> anyhow::Result<Vec<Email>> {
        self.0.messages().iter().enumerate().map(|(i, m)| parse(i, m)).collect()
    }

    /// Every email sent so far to `to`, oldest first.
    pub fn emails_to(&self, to: &str) -> anyhow::Result<Vec<Email>> {
        let all = self.emails()?;
        Ok(all.into_iter().filter(|e| e.to.iter().any(|a| a.address.eq_ignore_ascii_case(to))).collect())
    }

    /// Waits (up to 10 s) until at least `count` emails were sent to `to`, and returns them
    /// (the portal may send after answering the request that queued them). Woken by each send.
    pub async fn wait_for_emails(&self, to: &str, count: usize) -> anyhow::Result<Vec<Email>> {
        let waited = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let emails = self.emails_to(to)?;
                if emails.len() >= count {
                    return Ok(emails);
                }
                self.0.sent().await;
            }
        })
        .await;
        match waited {
            Ok(found) => found,
            Err(_) => anyhow::bail!("expected {count} email(s) to {to}, {} were sent", self.emails_to(to)?.len()),
        }
    }
}

/// The `index`th message, decoded.
fn parse(index: usize, sent: &SentMessage) -> anyhow::Result<Email> {
    let message = mail_parser::MessageParser::default()
        .parse(&sent.raw)
        .ok_or_else(|| anyhow::anyhow!("message {index} does not parse"))?;
    Ok(Email {
        id: index.to_string(),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        to: sent.to.iter().map(|address| Address { address: address.clone() }).collect(),
    })
}
