//! Reading what the real SMTP server (maildev) received, through its HTTP API.

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::services;

/// One received email.
#[derive(Debug, Clone, Deserialize)]
pub struct Email {
    /// maildev's id.
    pub id: String,
    /// Subject, decoded.
    #[serde(default)]
    pub subject: String,
    /// Plain-text body, decoded.
    #[serde(default)]
    pub text: String,
    /// HTML body, decoded.
    #[serde(default)]
    pub html: String,
    /// Recipients.
    #[serde(default)]
    pub to: Vec<Address>,
}

/// A recipient.
#[derive(Debug, Clone, Deserialize)]
pub struct Address {
    /// The address.
    pub address: String,
}

impl Email {
    /// The first `http…` link in the text body that contains `needle`.
    /// The plain-text part carries short links (`/l/…`) for long ones, so a
    /// link not found there is looked for among the HTML part's `href`s.
    pub fn link_containing(&self, needle: &str) -> Option<String> {
        self.text.split_whitespace().find(|w| w.starts_with("http") && w.contains(needle)).map(str::to_owned).or_else(
            || {
                self.html
                    .split("href=\"")
                    .skip(1)
                    .filter_map(|rest| rest.split('"').next())
                    .map(|href| href.replace("&#x3D;", "=").replace("&amp;", "&"))
                    .find(|href| href.starts_with("http") && href.contains(needle))
            },
        )
    }

    /// The first run of exactly six digits in the text body (the sign-in code).
    pub fn six_digit_code(&self) -> Option<String> {
        self.text.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).map(str::to_owned)
    }

    /// The raw message source (maildev's JSON omits custom headers).
    pub async fn source(&self) -> anyhow::Result<String> {
        Ok(reqwest::get(format!("{}/api/email/{}/source", services::maildev_api()?, self.id)).await?.text().await?)
    }
}

/// Every email maildev holds for `to`, oldest first.
pub async fn emails_to(to: &str) -> anyhow::Result<Vec<Email>> {
    let all: Vec<Email> = reqwest::get(format!("{}/api/email", services::maildev_api()?)).await?.json().await?;
    Ok(all.into_iter().filter(|e| e.to.iter().any(|a| a.address.eq_ignore_ascii_case(to))).collect())
}

/// Every email maildev holds for addresses `@domain`.
pub async fn emails_to_domain(domain: &str) -> anyhow::Result<Vec<Email>> {
    let all: Vec<Email> = reqwest::get(format!("{}/api/email", services::maildev_api()?)).await?.json().await?;
    let suffix = format!("@{}", domain.to_lowercase());
    Ok(all.into_iter().filter(|e| e.to.iter().any(|a| a.address.to_lowercase().ends_with(&suffix))).collect())
}

/// Waits (up to 10 s) until maildev holds at least `count` emails for `to`, and returns them.
pub async fn wait_for_emails(to: &str, count: usize) -> anyhow::Result<Vec<Email>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let emails = emails_to(to).await?;
        if emails.len() >= count {
            return Ok(emails);
        }
        if Instant::now() > deadline {
            anyhow::bail!("expected {count} email(s) to {to}, maildev has {}", emails.len());
        }
        // Polling the API is the only way maildev offers to wait for a message.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
