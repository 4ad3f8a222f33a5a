//! The text message provider's webhooks (see `shared::notifications::sms`):
//! `POST /webhooks/sms` (a client texted us) and `POST /webhooks/sms/status`
//! (what became of a text we sent). Neither has a session or a browser
//! behind it: each is authenticated by its `X-Twilio-Signature` alone (an
//! HMAC-SHA1 of this portal's public URL and the form, keyed by the auth
//! token). Anything unsigned or wrongly signed is refused with 403 and
//! changes nothing; the requests of one address are rate limited first.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::notifications::sms::{self, Inbound};
use shared::rate_limit::{self, Limit};

use crate::session;
use crate::state::AppState;

/// Webhook requests per sender address: a provider sends bursts, an attacker guessing signatures is slowed.
const PER_ADDRESS: Limit = Limit { max: 300, window: chrono::Duration::minutes(1) };

/// Registers the webhooks.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sms_inbound).service(sms_status);
}

/// The form fields of a webhook, when its signature is right; else the answer refusing it.
async fn signed_form(
    state: &AppState,
    req: &HttpRequest,
    body: &web::Bytes,
) -> Result<Vec<(String, String)>, HttpResponse> {
    let ip = session::client_ip(req).unwrap_or_default();
    let now = state.clock().now();
    let allowed = state
        .db
        .run(move |conn| rate_limit::try_hit(conn, &rate_limit::bucket("sms-webhook-ip", &ip), PER_ADDRESS, now))
        .await;
    match allowed {
        Ok(true) => {}
        Ok(false) => return Err(plain(StatusCode::TOO_MANY_REQUESTS, "too many requests")),
        Err(e) => {
            tracing::warn!(error = %e, "the webhook rate limit could not be checked");
            return Err(plain(StatusCode::SERVICE_UNAVAILABLE, "try again later"));
        }
    }
    let Some(token) = state.config.sms_auth_token.as_ref().filter(|_| state.config.sms_enabled()) else {
        return Err(plain(StatusCode::FORBIDDEN, "text messages are not configured"));
    };
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let path = req.uri().path_and_query().map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    let url = format!("{}{path}", state.config.public_url.as_str().trim_end_matches('/'));
    let signature = req.headers().get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if signature.is_empty() || !sms::verify(token.expose(), &url, &params, signature) {
        tracing::warn!(path = %req.path(), signed = !signature.is_empty(), "refused an unsigned or wrongly signed SMS webhook");
        metrics::counter!(shared::metrics::SMS_WEBHOOKS, "outcome" => "refused").increment(1);
        return Err(plain(StatusCode::FORBIDDEN, "signature missing or wrong"));
    }
    Ok(params)
}

fn plain(status: StatusCode, text: &'static str) -> HttpResponse {
    HttpResponse::build(status).content_type(ContentType::plaintext()).body(text)
}

fn field<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn twiml(answer: Option<&str>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(sms::twiml(answer))
}

/// A client texted the firm's number: a keyword (STOP, START, HELP) or a message.
#[post("/webhooks/sms")]
async fn sms_inbound(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let params = match signed_form(&state, &req, &body).await {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    let (Some(from), Some(text)) = (field(&params, "From"), field(&params, "Body")) else {
        return plain(StatusCode::BAD_REQUEST, "From and Body are required");
    };
    let Ok(from) = sms::parse_number("From", from) else {
        // A short code or a sender ID cannot be a client: answer nothing.
        return twiml(None);
    };
    let (text, now, base) = (text.to_owned(), state.clock().now(), state.base_url());
    let renderer = state.renderer.clone();
    let received = state
        .db
        .run(move |conn| sms::receive(conn, renderer.locales(), base.trim_end_matches('/'), &from, &text, now))
        .await;
    match received {
        Ok((what, answer)) => {
            let outcome = match &what {
                Inbound::Keyword(_) => "keyword",
                Inbound::Posted { .. } => "message",
                Inbound::Pointed => "pointed",
            };
            metrics::counter!(shared::metrics::SMS_WEBHOOKS, "outcome" => outcome).increment(1);
            if let Inbound::Posted { matter_id, .. } = &what {
                tracing::info!(matter = %matter_id, "a client's text became a message");
            }
            twiml(answer.as_deref())
        }
        Err(e) => {
            tracing::error!(error = %e, "an inbound text could not be handled");
            // 5xx: the provider retries the webhook.
            plain(StatusCode::INTERNAL_SERVER_ERROR, "could not handle the message")
        }
    }
}

/// The provider reports what became of a text: queued, sent, delivered, undelivered, failed.
#[post("/webhooks/sms/status")]
async fn sms_status(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let params = match signed_form(&state, &req, &body).await {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    let (Some(sid), Some(status)) = (field(&params, "MessageSid"), field(&params, "MessageStatus")) else {
        return plain(StatusCode::BAD_REQUEST, "MessageSid and MessageStatus are required");
    };
    let (sid, status, code) = (sid.to_owned(), status.to_owned(), field(&params, "ErrorCode").map(str::to_owned));
    let now = state.clock().now();
    match state.db.run(move |conn| sms::record_status(conn, &sid, &status, code.as_deref(), now)).await {
        Ok(known) => {
            metrics::counter!(shared::metrics::SMS_WEBHOOKS, "outcome" => if known { "status" } else { "status_unknown" })
                .increment(1);
            HttpResponse::NoContent().finish()
        }
        Err(e) => {
            tracing::error!(error = %e, "a text's status could not be recorded");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "could not record the status")
        }
    }
}
