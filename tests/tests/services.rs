//! The real services the suites depend on are up and are what they claim to
//! be. Without them, this fails loudly instead of letting later tests skip.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;

use harness::services;
use serde_json::Value;

#[tokio::test]
async fn the_s3_server_answers_unsigned_requests_with_an_s3_error() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let endpoint = services::s3_endpoint()?;
    let response = reqwest::get(format!("{endpoint}/")).await?;
    // An unsigned ListBuckets is refused the S3 way: a status and an XML <Error> body.
    assert!(response.status().is_client_error(), "{}", response.status());
    let body = response.text().await?;
    assert!(body.contains("<Error>") || body.contains("<Code>"), "not an S3 error document: {body}");
    Ok(())
}

#[tokio::test]
async fn the_smtp_server_greets_and_its_api_lists_messages() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let smtp = url::Url::parse(&services::smtp_url()?)?;
    let stream = TcpStream::connect((smtp.host_str().unwrap_or("127.0.0.1"), smtp.port().unwrap_or(25)))?;
    let mut greeting = String::new();
    BufReader::new(stream).read_line(&mut greeting)?;
    assert!(greeting.starts_with("220"), "SMTP greeting: {greeting:?}");

    let emails: Value = reqwest::get(format!("{}/api/email", services::maildev_api()?)).await?.json().await?;
    assert!(emails.is_array(), "{emails}");
    Ok(())
}

#[tokio::test]
async fn chromedriver_is_ready_to_drive_chromium() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others().await;
    let status: Value = reqwest::get(format!("{}/status", services::webdriver()?)).await?.json().await?;
    assert_eq!(status["value"]["ready"], true, "{status}");
    Ok(())
}
