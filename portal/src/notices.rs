//! Delivering queued notices (sign-in links, upload receipts) at once, from the
//! request that queued them. Whatever cannot be sent now stays in the outbox,
//! where the notifier retries it; the request itself never fails for it.

use shared::domain::now;
use shared::notices::{self, Composed, Composer};

use crate::state::AppState;

/// This process's claim name in the outbox.
fn worker() -> String {
    format!("portal-{}", std::process::id())
}

/// Tries to send the queued rows `ids` now; logs what it could not.
pub async fn deliver_now(state: &AppState, ids: Vec<String>) {
    let composer = state.composer();
    for id in ids {
        deliver_one(state, &composer, id).await;
    }
}

async fn deliver_one(state: &AppState, composer: &Composer, id: String) {
    let claimer = worker();
    let composing = composer.clone();
    let claimed = state
        .db
        .run(move |conn| {
            let Some(row) = notices::claim(conn, &id, &claimer, now())? else { return Ok(None) };
            let composed = notices::compose(conn, &composing, &row, now());
            Ok(Some((row, composed)))
        })
        .await;
    let (row, composed) = match claimed {
        Ok(Some(found)) => found,
        Ok(None) => return,
        Err(e) => return tracing::warn!(error = %e, "could not claim a queued email; the notifier will send it"),
    };
    let kind = row.kind;
    let email = match composed {
        Ok(Composed::Send(email)) => email,
        Ok(Composed::Skip(reason)) => {
            let (worker, skipped) = (worker(), row.clone());
            if let Err(e) = state.db.run(move |conn| notices::skip(conn, &skipped, &worker, reason)).await {
                tracing::warn!(error = %e, "could not record a skipped email");
            }
            return;
        }
        Err(e) => {
            // Left claimed: the notifier takes it over when the short lease ends.
            return tracing::warn!(notification = %row.id, error = %e, "could not compose {kind} email; the notifier will retry");
        }
    };
    let result = state.mailer.send(&email).await;
    // The same outcomes as the notifier counts: a temporary failure is retried, not failed.
    let outcome = match &result {
        Ok(()) => "sent",
        Err(shared::mail::SendError::Transient(_)) => "retrying",
        Err(shared::mail::SendError::Permanent(_)) => "failed",
    };
    metrics::counter!(shared::metrics::EMAILS, "kind" => kind.as_str(), "outcome" => outcome).increment(1);
    match &result {
        Ok(()) => tracing::info!(notification = %row.id, recipient = %row.recipient_id, "{kind} email sent"),
        Err(e) => tracing::warn!(
            notification = %row.id,
            error = %shared::telemetry::redact_emails(&e.to_string()),
            "{kind} email not sent yet; the notifier will retry"
        ),
    }
    let worker = worker();
    if let Err(e) = state.db.run(move |conn| notices::settle(conn, &row, &worker, &result, now())).await {
        tracing::warn!(error = %e, "could not record an email's result");
    }
}
