//! Delivering the outbox: claim a batch of due rows, derive and render each
//! client's update, send them concurrently over the pooled SMTP connection,
//! and record each result as soon as it is known (so a crash can repeat at
//! most the messages in flight). Results that arrive together are recorded
//! together, in one statement (see [`Recorder`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use shared::db::Db;
use shared::db::models::Notification;
use shared::domain::NotificationKind;
use shared::mail::{Mailer, OutgoingEmail, SendError};
use shared::notices::{self, Composed};
use shared::outbox::{self, AfterFailure};
use shared::weekly::{self, WeeklyDigest};

use crate::email::EmailContext;

/// Tallies of a delivery run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Accepted by the mail server.
    pub sent: usize,
    /// Deliberately not sent (no open matter, no activity and the firm said so, not a client).
    pub skipped: usize,
    /// Given up (permanent error or out of attempts).
    pub failed: usize,
    /// Failed for now; will be retried later.
    pub retrying: usize,
    /// Not started because the claim was about to run out; handed back.
    pub deferred: usize,
}

impl Summary {
    fn add(&mut self, other: Summary) {
        self.sent += other.sent;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.retrying += other.retrying;
        self.deferred += other.deferred;
    }

    /// Rows handled.
    pub fn total(&self) -> usize {
        self.sent + self.skipped + self.failed + self.retrying + self.deferred
    }
}

/// One delivering worker. Several may run at once, in one process or many.
#[derive(Clone, Debug)]
pub struct Worker {
    /// The database.
    pub db: Db,
    /// The mail transport.
    pub mailer: Mailer,
    /// Composes the emails.
    pub email: EmailContext,
    /// This worker's claim name (unique per process).
    pub id: String,
    /// How long a claim lasts before another worker may take the rows over.
    pub lease: Duration,
    /// Rows claimed at a time.
    pub batch: i64,
    /// Messages in flight at once.
    pub concurrency: usize,
    /// Set on shutdown: messages already sending finish, nothing new starts,
    /// and the claimed rest is given back (see [`shared::outbox::release`]).
    pub stopping: Arc<AtomicBool>,
}

/// What to do with one claimed row.
enum Plan {
    Send(Box<OutgoingEmail>),
    /// A one-off notice (sign-in, upload receipt, phase change), composed when it is sent.
    Notice,
    Skip(&'static str),
    Fail(String),
}

impl Worker {
    /// Claims and delivers one batch as of `now`; `None` when nothing was due.
    /// `on_row` is called once per handled row (for a progress bar).
    pub async fn deliver_batch(
        &self,
        now: NaiveDateTime,
        on_row: &(dyn Fn() + Sync),
    ) -> shared::Result<Option<Summary>> {
        // Due as of `now` (tests pass a later time), but a claim lasts `lease` from the real clock:
        // a long pass started earlier must not claim rows that are already free for the taking.
        let lease_end = now.max(shared::domain::now()) + self.lease;
        let (worker, batch) = (self.id.clone(), self.batch);
        let rows = self.db.run(move |conn| outbox::claim_due(conn, &worker, lease_end, batch, now)).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        self.deliver_rows(rows, now, on_row).await.map(Some)
    }

    /// Delivers rows this worker has claimed, deriving weekly updates as of `now`.
    pub async fn deliver_rows(
        &self,
        rows: Vec<Notification>,
        now: NaiveDateTime,
        on_row: &(dyn Fn() + Sync),
    ) -> shared::Result<Summary> {
        let recipients: Vec<String> =
            rows.iter().filter(|r| r.kind == NotificationKind::WeeklyUpdate).map(|r| r.recipient_id.clone()).collect();
        let digests: HashMap<String, WeeklyDigest> = self
            .db
            .run(move |conn| weekly::derive(conn, &recipients, now, None))
            .await?
            .into_iter()
            .map(|d| (d.client.id.clone(), d))
            .collect();

        let planned: Vec<(Notification, Plan)> = rows
            .into_iter()
            .map(|row| {
                let plan = self.plan(&row, digests.get(&row.recipient_id));
                (row, plan)
            })
            .collect();
        let recorder = Recorder::start(self.db.clone(), self.id.clone(), self.concurrency);
        let outcomes = futures_util::stream::iter(planned)
            .map(|(row, plan)| {
                let recorder = &recorder;
                async move {
                    let outcome = self.carry_out(recorder, &row, plan, now).await;
                    on_row();
                    outcome
                }
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        recorder.finish().await;
        let mut summary = Summary::default();
        for outcome in outcomes {
            summary.add(outcome?);
        }
        if summary.deferred > 0 && !self.stopping.load(Ordering::Relaxed) {
            let worker = self.id.clone();
            let released = self.db.run(move |conn| outbox::release(conn, &worker)).await?;
            tracing::warn!(released, "claims ran short before every message was sent; handed back (lease too short?)");
        }
        Ok(summary)
    }

    fn plan(&self, row: &Notification, digest: Option<&WeeklyDigest>) -> Plan {
        if notices::is_notice(row.kind) {
            return Plan::Notice;
        }
        if row.kind != NotificationKind::WeeklyUpdate {
            return Plan::Fail(format!("the notifier does not send \"{}\" emails", row.kind));
        }
        let Some(digest) = digest else { return Plan::Skip("the recipient is no longer a client") };
        if !digest.client.weekly_updates {
            return Plan::Skip("the client turned weekly updates off");
        }
        if digest.matters.is_empty() {
            return Plan::Skip("the client has no open matter");
        }
        if !digest.has_activity() && !digest.firm.no_activity_updates {
            return Plan::Skip("no activity this week, and the firm sends no quiet-week updates");
        }
        match self.email.weekly_email(digest, &row.id) {
            Ok(email) => Plan::Send(Box::new(email)),
            Err(e) => Plan::Fail(format!("rendering failed: {e}")),
        }
    }

    async fn carry_out(
        &self,
        recorder: &Recorder,
        row: &Notification,
        plan: Plan,
        as_of: NaiveDateTime,
    ) -> shared::Result<Summary> {
        if self.stopping.load(Ordering::Relaxed) {
            // Left claimed; released when the worker stops.
            return Ok(Summary::default());
        }
        if !self.time_to_send(row) {
            // Another worker may take the row over once the lease ends: don't race it.
            return Ok(Summary { deferred: 1, ..Summary::default() });
        }
        let summary = self.carry_out_plan(recorder, row, plan, as_of).await?;
        let outcome = if summary.sent > 0 {
            "sent"
        } else if summary.failed > 0 {
            "failed"
        } else if summary.retrying > 0 {
            "retrying"
        } else {
            "skipped"
        };
        metrics::counter!(shared::metrics::EMAILS, "kind" => row.kind.as_str(), "outcome" => outcome).increment(1);
        Ok(summary)
    }

    /// Sends (or skips) one row; one-off notices are composed as of `as_of`.
    async fn carry_out_plan(
        &self,
        recorder: &Recorder,
        row: &Notification,
        plan: Plan,
        as_of: NaiveDateTime,
    ) -> shared::Result<Summary> {
        let worker = self.id.clone();
        let (id, row_copy) = (row.id.clone(), row.clone());
        let plan = match plan {
            Plan::Notice => {
                let composer = self.email.composer(&self.mailer);
                let notice_row = row.clone();
                let now = as_of;
                match self.db.run(move |conn| notices::compose(conn, &composer, &notice_row, now)).await {
                    Ok(Composed::Send(email)) => Plan::Send(email),
                    Ok(Composed::Skip(reason)) => Plan::Skip(reason),
                    Err(e) => Plan::Fail(format!("composing the {} email failed: {e}", row.kind)),
                }
            }
            other => other,
        };
        match plan {
            Plan::Send(email) => {
                let result = self.mailer.send(&email).await;
                let now = shared::domain::now();
                match result {
                    Ok(()) => {
                        let kept = recorder.record(id, Outcome::Sent).await?;
                        if !kept {
                            tracing::warn!(notification = %row.id, "sent after the claim was lost (lease too short?)");
                        }
                        Ok(Summary { sent: 1, ..Summary::default() })
                    }
                    Err(error) => {
                        tracing::warn!(
                            notification = %row.id,
                            recipient = %row.recipient_id,
                            error = %shared::telemetry::redact_emails(&error.to_string()),
                            "send failed"
                        );
                        let after = self
                            .db
                            .run(move |conn| outbox::mark_failure(conn, &row_copy, &worker, &error, now))
                            .await?;
                        Ok(match after {
                            AfterFailure::RetryAt(_) => Summary { retrying: 1, ..Summary::default() },
                            AfterFailure::Failed => Summary { failed: 1, ..Summary::default() },
                        })
                    }
                }
            }
            Plan::Skip(reason) => {
                recorder.record(id, Outcome::Skipped(reason)).await?;
                Ok(Summary { skipped: 1, ..Summary::default() })
            }
            Plan::Notice => Err(shared::Error::Internal(anyhow::anyhow!("notice plan left unresolved"))),
            Plan::Fail(reason) => {
                let now = shared::domain::now();
                let error = SendError::Permanent(reason);
                self.db.run(move |conn| outbox::mark_failure(conn, &row_copy, &worker, &error, now)).await?;
                Ok(Summary { failed: 1, ..Summary::default() })
            }
        }
    }

    /// Whether the claim on `row` leaves time for a send (an SMTP exchange that
    /// times out takes [`SEND_MARGIN`]); past that, another worker may already
    /// have taken the row over.
    fn time_to_send(&self, row: &Notification) -> bool {
        let margin = SEND_MARGIN.min(self.lease / 2);
        row.claimed_until.is_none_or(|until| shared::domain::now() + margin < until)
    }

    /// Delivers batches until nothing is due as of `now`.
    pub async fn deliver_all(&self, now: NaiveDateTime, on_row: &(dyn Fn() + Sync)) -> shared::Result<Summary> {
        let mut total = Summary::default();
        while !self.stopping.load(Ordering::Relaxed) {
            let Some(batch) = self.deliver_batch(now, on_row).await? else { break };
            total.add(batch);
        }
        Ok(total)
    }
}

/// How long before its claim runs out a message is no longer started: about
/// one SMTP exchange that times out (the transport's timeout is 20 s).
const SEND_MARGIN: Duration = Duration::seconds(30);

/// An outcome the [`Recorder`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Outcome {
    Sent,
    Skipped(&'static str),
}

/// The answer to one recorded row: whether it was still this worker's claim.
type Ack = tokio::sync::oneshot::Sender<Result<bool, String>>;

/// Records the outcomes of one batch on one database connection, several
/// rows per statement (group commit): a group is written once half the sends
/// that may be in flight have finished, or [`GATHER_FOR`] after its first
/// outcome, whichever comes first. A row's send counts as in flight until its
/// outcome is written, so a crash still repeats at most the messages in
/// flight, and the other half of them keep the mail server busy meanwhile.
/// (Writing each outcome as it came took one statement per email, since a
/// mail server usually accepts one message at a time.)
struct Recorder {
    queue: std::sync::mpsc::Sender<(String, Outcome, Ack)>,
    task: tokio::task::JoinHandle<()>,
}

/// How long the first outcome of a group waits for others at most.
const GATHER_FOR: std::time::Duration = std::time::Duration::from_millis(50);

impl Recorder {
    /// `concurrency`: the sends in flight at most (a group is half of them).
    fn start(db: Db, worker: String, concurrency: usize) -> Self {
        let (queue, incoming) = std::sync::mpsc::channel::<(String, Outcome, Ack)>();
        let group_size = (concurrency / 2).max(1);
        let task = tokio::task::spawn_blocking(move || {
            let mut conn = None;
            while let Ok(first) = incoming.recv() {
                let deadline = std::time::Instant::now() + GATHER_FOR;
                let mut group = vec![first];
                while group.len() < group_size {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    match incoming.recv_timeout(left) {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                // And whatever else is already waiting.
                group.extend(incoming.try_iter());
                if conn.is_none() {
                    conn = db
                        .get()
                        .map_err(|e| tracing::error!(error = %e, "no database connection to record results"))
                        .ok();
                }
                let written = match conn.as_mut() {
                    Some(conn) => write_outcomes(conn, &worker, &group).map_err(|e| e.to_string()),
                    None => Err("no database connection to record results".to_owned()),
                };
                for (_, outcome, ack) in group {
                    let _ = ack.send(written.as_ref().map(|lost| !lost.contains(&outcome)).map_err(Clone::clone));
                }
            }
        });
        Self { queue, task }
    }

    /// Writes `outcome` for the row `id` (with whatever else is waiting); false when the claim was lost.
    async fn record(&self, id: String, outcome: Outcome) -> shared::Result<bool> {
        let stopped = || shared::Error::Internal(anyhow::anyhow!("the result recorder stopped"));
        let (ack, answer) = tokio::sync::oneshot::channel();
        self.queue.send((id, outcome, ack)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(|e| shared::Error::Internal(anyhow::anyhow!(e)))
    }

    /// Waits until everything queued is written.
    async fn finish(self) {
        drop(self.queue);
        let _ = self.task.await;
    }
}

/// Writes a group of outcomes: one statement per kind of outcome. Returns the
/// outcomes some of whose rows were no longer this worker's claim.
fn write_outcomes(
    conn: &mut shared::db::DbConnection,
    worker: &str,
    group: &[(String, Outcome, Ack)],
) -> shared::Result<Vec<Outcome>> {
    let mut by_outcome: HashMap<Outcome, Vec<String>> = HashMap::new();
    for (id, outcome, _) in group {
        by_outcome.entry(*outcome).or_default().push(id.clone());
    }
    let now = shared::domain::now();
    let mut lost = Vec::new();
    for (outcome, ids) in by_outcome {
        let kept = match outcome {
            Outcome::Sent => outbox::mark_sent_many(conn, &ids, worker, now)?,
            Outcome::Skipped(reason) => outbox::mark_skipped_many(conn, &ids, worker, reason)?,
        };
        if kept < ids.len() {
            lost.push(outcome);
        }
    }
    Ok(lost)
}
