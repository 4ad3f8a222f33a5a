//! Reading what a portal started with [`crate::TestAppBuilder::with_memory_mail`]
//! has mailed: the messages as they would have gone on the wire, parsed like
//! maildev's (subject, text and HTML decoded), for tests that are not about SMTP.

use std::time::{Duration, Instant};

use shared::mail::{MemoryOutbox, SentMessage};

use crate::maildev::{Address, Email};

/// The in-memory outbox of one test portal.
#[derive(Debug, Clone)]
pub struct MemoryMail(MemoryOutbox);

impl MemoryMail {
    /// Reads `outbox`.
    pub fn new(outbox: MemoryOutbox) -> Self {
        Self(outbox)
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
    /// (the portal sends after answering the request that queued them).
    pub async fn wait_for_emails(&self, to: &str, count: usize) -> anyhow::Result<Vec<Email>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let emails = self.emails_to(to)?;
            if emails.len() >= count {
                return Ok(emails);
            }
            if Instant::now() > deadline {
                anyhow::bail!("expected {count} email(s) to {to}, {} were sent", emails.len());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
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
