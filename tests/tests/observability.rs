//! What an operator reads: request ids on every answer and error page,
//! and Prometheus metrics that count requests, uploads and emails.

use harness::files::pdf;
use harness::metrics::{parse, total};
use harness::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

async fn every_answer_carries_a_request_id_that_error_pages_show(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let fresh = app.get("/healthz").await?;
    let id = fresh.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(id.len(), 16, "{id:?}");

    let passed = app.client.get(app.url("/healthz")).header("X-Request-Id", "lb-trace-0042").send().await?;
    assert_eq!(passed.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("lb-trace-0042"));
    let replaced = app.client.get(app.url("/healthz")).header("X-Request-Id", "<script>").send().await?;
    assert_ne!(replaced.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("<script>"));

    let demo = app.seed_demo().await?;
    let client = app.client(&demo.email("jordan")).await?;
    let cookie = format!("matterline_session={}", app.session_token(&client.id).await?);
    let missing = app
        .client
        .get(app.url(&format!("/matters/{}", uuid::Uuid::new_v4())))
        .header("Cookie", cookie)
        .header("X-Request-Id", "support-ticket-7")
        .send()
        .await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let page = missing.text().await?;
    assert!(page.contains("Reference: support-ticket-7"), "the error page must show the request id");
    Ok(())
}

async fn metrics_count_requests_uploads_and_emails(backend: Backend) -> anyhow::Result<()> {
    let app = TestApp::builder(backend).spawn().await?;
    let demo = app.seed_demo().await?;
    app.client.post(app.url("/sign-in")).form(&[("email", demo.email("jordan").as_str())]).send().await?;
    app.background_done().await;
    let client = app.client(&demo.email("jordan")).await?;
    let bearer = format!("Bearer {}", app.session_token(&client.id).await?);
    let part = Part::bytes(pdf(10_000)).file_name("bill.pdf").mime_str("application/pdf")?;
    let uploaded = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matters/{}/documents", client.matter_id)))
        .header("Authorization", &bearer)
        .multipart(Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(uploaded.status(), StatusCode::CREATED);

    let response = app.get("/metrics").await?;
    assert_eq!(response.status(), StatusCode::OK);
    let scrape = parse(&response.text().await?)?;
    assert!(total(&scrape, "matterline_http_requests_total", &[("route", "/sign-in"), ("status", "200")]) >= 1.0);
    assert!(total(&scrape, "matterline_uploads_total", &[("outcome", "stored")]) >= 1.0);
    assert!(total(&scrape, "matterline_upload_bytes_total", &[]) >= 10_000.0);
    assert!(total(&scrape, "matterline_notifications_total", &[("kind", "sign_in"), ("outcome", "sent")]) >= 1.0);
    assert!(total(&scrape, "matterline_sign_in_attempts_total", &[("outcome", "link_sent")]) >= 1.0);
    assert!(
        scrape.samples.iter().any(|s| s.metric == "matterline_notifications" && s.labels.get("status") == Some("sent")),
        "the notification rows are counted"
    );
    assert!(
        scrape.samples.iter().any(|s| s.metric.starts_with("matterline_http_request_duration_seconds")),
        "latency histogram"
    );
    Ok(())
}

on_both_backends!(every_answer_carries_a_request_id_that_error_pages_show, metrics_count_requests_uploads_and_emails);
