//! The one delivery loop: compose the claimed rows, deliver them concurrently
//! over their channels, and record each outcome as soon as it is known (so a
//! crash can repeat at most the messages in flight). Outcomes that arrive
//! together are recorded together, in one statement (see [`Recorder`]).
//!
//! The portal runs it at once on the rows a request queued
//! ([`Deliverer::deliver_now`]); the notifier claims due rows in batches with
//! a lease and runs it until nothing is due ([`Deliverer::deliver_all`]).
//! Either way every attempt is counted in `matterline_notifications_total`.
//!
//! A panic is contained where it happens: one while composing or sending a
//! row fails that row (with the reason recorded) and the others go on; one
//! anywhere else in a run hands the rows still claimed back at once instead of
//! leaving them to the end of the lease, and never reaches the caller (a
//! request whose change was committed still gets its answer).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{Duration, NaiveDateTime};
use diesel::r2d2::R2D2Connection;
use futures_util::{FutureExt, StreamExt};

use super::channel::{Channels, DeliveryError, Message};
use super::compose::{self, Composed, Composer};
use super::queue::{self, AfterFailure};
use crate::db::models::Notification;
use crate::db::{Db, DbConnection};

/// Tallies of a delivery run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Accepted by the channel (the mail server).
    pub sent: usize,
    /// Deliberately not sent (no open matter, no activity and the firm said so, not a client).
    pub skipped: usize,
    /// Given up (permanent error or out of attempts).
    pub failed: usize,
    /// Failed for now; will be retried later.
    pub retrying: usize,
    /// Not started because the claim was about to run out; handed back.
    pub deferred: usize,
    /// Held in the queue until quiet hours end (texts).
    pub held: usize,
}

impl Summary {
    fn add(&mut self, other: Summary) {
        self.sent += other.sent;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.retrying += other.retrying;
        self.deferred += other.deferred;
        self.held += other.held;
    }

    /// Rows handled.
    pub fn total(&self) -> usize {
        self.sent + self.skipped + self.failed + self.retrying + self.deferred + self.held
    }

    /// The outcome label of a one-row summary, for metrics.
    fn outcome(&self) -> &'static str {
        if self.sent > 0 {
            "sent"
        } else if self.failed > 0 {
            "failed"
        } else if self.retrying > 0 {
            "retrying"
        } else if self.held > 0 {
            "held"
        } else {
            "skipped"
        }
    }
}

/// How long the portal's claim on the rows it delivers at once lasts; if it
/// dies meanwhile, the notifier takes them over when the claim ends.
pub const IMMEDIATE_LEASE: Duration = Duration::minutes(2);

/// One delivering worker. Several may run at once, in one process or many.
#[derive(Clone, Debug)]
pub struct Deliverer {
    /// The database.
    pub db: Db,
    /// The transports of every channel.
    pub channels: Channels,
    /// Composes the messages.
    pub composer: Composer,
    /// This worker's claim name (unique per process).
    pub id: String,
    /// How long a claim lasts before another worker may take the rows over.
    pub lease: Duration,
    /// Rows claimed at a time.
    pub batch: i64,
    /// Messages in flight at once.
    pub concurrency: usize,
    /// Set on shutdown: messages already sending finish, nothing new starts,
    /// and the claimed rest is given back (see [`Deliverer::release`]).
    pub stopping: Arc<AtomicBool>,
    /// Faults to inject (tests on debug builds only; see [`Faults`]).
    pub faults: Faults,
}

/// Fault injection for the tests that prove a panic is contained
/// (`MATTERLINE_FAULT_PANIC_MARKER`, which only a debug build accepts): a row
/// whose payload contains the marker panics while it is composed; a message
/// whose recipient's name or subject contains it panics while it is sent.
/// Without a marker (always, in a release build) nothing happens.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    panic_marker: Option<String>,
}

impl Faults {
    /// The faults the configuration asks for.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self { panic_marker: config.fault_panic_marker.clone().filter(|_| cfg!(debug_assertions)) }
    }

    /// Panics if `text` contains the marker: the portal's fault point for a
    /// request handler (`what` says where, in the panic's message).
    pub fn panic_if_marked(&self, what: &str, text: &str) {
        if self.marked(&[text]) {
            panic!("injected fault: panic while {what}");
        }
    }

    fn marked(&self, texts: &[&str]) -> bool {
        self.panic_marker.as_deref().is_some_and(|marker| texts.iter().any(|t| t.contains(marker)))
    }

    /// Panics if `row` is marked: a fault while composing it.
    fn while_composing(&self, row: &Notification) {
        if self.marked(&[row.payload.as_deref().unwrap_or_default()]) {
            panic!("injected fault: panic while composing notification {}", row.id);
        }
    }

    /// Panics if `message` is marked: a fault while sending it.
    fn while_sending(&self, message: &Message) {
        let marked = match message {
            Message::Email(email) => self.marked(&[&email.to_name, &email.content.subject]),
            Message::Push(push) => self.marked(&[&push.payload]),
            Message::Sms(text) => self.marked(&[&text.body]),
        };
        if marked {
            panic!("injected fault: panic while sending a message");
        }
    }
}

/// The text of a caught panic, for the log and the row's recorded reason.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

impl Deliverer {
    /// Delivers the rows `ids` that a request just queued, now, if they are
    /// still pending. Never fails its caller: whatever cannot be delivered
    /// now stays queued (or claimed for [`IMMEDIATE_LEASE`]), and the
    /// notifier retries it.
    pub async fn deliver_now(&self, ids: Vec<String>) -> Summary {
        let now = crate::domain::now();
        let (worker, lease_end) = (self.id.clone(), now + IMMEDIATE_LEASE);
        let claimed = self.db.run(move |conn| queue::claim_ids(conn, &ids, &worker, lease_end)).await;
        let rows = match claimed {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim queued notifications; the notifier will send them");
                return Summary::default();
            }
        };
        if rows.is_empty() {
            return Summary::default();
        }
        match self.deliver_claimed(rows, now, &|| {}).await {
            Ok(summary) => summary,
            Err(e) => {
                tracing::warn!(error = %e, "could not deliver queued notifications now; the notifier will retry");
                Summary::default()
            }
        }
    }

    /// Delivers rows this worker just claimed. A panic anywhere in the run is
    /// caught here: the rows of the batch still claimed are handed back at
    /// once (not after the lease), and the panic becomes an error.
    async fn deliver_claimed(
        &self,
        rows: Vec<Notification>,
        now: NaiveDateTime,
        on_row: &(dyn Fn() + Sync),
    ) -> crate::Result<Summary> {
        let ids = ids_of(&rows);
        self.handing_back_on_panic(ids, self.deliver_rows(rows, now, on_row)).await
    }

    /// Runs `step`, a step of a run over the claimed rows `ids`. Should it
    /// panic, the rows still claimed are handed back at once (not after the
    /// lease), and the panic becomes the run's error.
    async fn handing_back_on_panic<T>(
        &self,
        ids: Vec<String>,
        step: impl std::future::Future<Output = crate::Result<T>>,
    ) -> crate::Result<T> {
        let panic = match AssertUnwindSafe(step).catch_unwind().await {
            Ok(done) => return done,
            Err(panic) => panic_text(panic.as_ref()),
        };
        tracing::error!(panic = %panic, "a delivery run panicked; handing its claimed rows back");
        metrics::counter!(crate::metrics::PANICS, "where" => "delivery").increment(1);
        self.hand_back(ids).await;
        Err(crate::Error::Internal(anyhow::anyhow!("delivery panicked: {panic}")))
    }

    /// Hands the rows `ids` this worker claimed back to the queue now.
    async fn hand_back(&self, ids: Vec<String>) {
        let worker = self.id.clone();
        match self.db.run(move |conn| queue::release_ids(conn, &ids, &worker)).await {
            Ok(released) => tracing::warn!(released, "claimed rows handed back"),
            Err(e) => tracing::error!(error = %e, "could not hand claimed rows back; they wait for the lease"),
        }
    }

    /// Claims the next batch due as of `now` and composes it; `None` when
    /// nothing was due. A panic hands the batch back (see [`Deliverer::deliver_claimed`]).
    async fn prepare_batch(&self, now: NaiveDateTime) -> crate::Result<Option<ComposedBatch>> {
        // Due as of `now` (tests pass a later time), but a claim lasts `lease` from the real clock:
        // a long pass started earlier must not claim rows that are already free for the taking.
        let lease_end = now.max(crate::domain::now()) + self.lease;
        let (worker, batch) = (self.id.clone(), self.batch);
        let rows = self.db.run(move |conn| queue::claim_due(conn, &worker, lease_end, batch, now)).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let ids = ids_of(&rows);
        self.handing_back_on_panic(ids, self.compose_batch(rows, now)).await.map(Some)
    }

    /// Sends a composed batch (see [`Deliverer::send_batch`]), a panic handing its rows back.
    async fn send_prepared(&self, batch: ComposedBatch, on_row: &(dyn Fn() + Sync)) -> crate::Result<Summary> {
        let ids = ids_of(&batch.rows);
        self.handing_back_on_panic(ids, self.send_batch(batch, on_row)).await
    }

    /// Delivers batches until nothing is due as of `now`; `on_row` is called
    /// once per handled row (for a progress bar). While one batch is
    /// sent, the next is claimed and composed: composing (one thread's CPU)
    /// and sending (mostly waiting on the server) overlap instead of taking
    /// turns. Should sending fail, the batch composed meanwhile is handed back.
    pub async fn deliver_all(&self, now: NaiveDateTime, on_row: &(dyn Fn() + Sync)) -> crate::Result<Summary> {
        let mut total = Summary::default();
        if self.stopping.load(Ordering::Relaxed) {
            return Ok(total);
        }
        let mut next = self.prepare_batch(now).await?;
        while let Some(batch) = next.take() {
            let prepare_next =
                async { if self.stopping.load(Ordering::Relaxed) { Ok(None) } else { self.prepare_batch(now).await } };
            let (sent, following) = futures_util::join!(self.send_prepared(batch, on_row), prepare_next);
            match sent {
                Ok(sent) => total.add(sent),
                Err(e) => {
                    if let Ok(Some(unsent)) = following {
                        self.hand_back(ids_of(&unsent.rows)).await;
                    }
                    return Err(e);
                }
            }
            // Stopping: a batch composed meanwhile stays claimed and is released with the rest when the worker stops.
            next = following?.filter(|_| !self.stopping.load(Ordering::Relaxed));
        }
        Ok(total)
    }

    /// Gives every row this worker still holds back (a clean shutdown).
    pub async fn release(&self) -> crate::Result<usize> {
        let worker = self.id.clone();
        self.db.run(move |conn| queue::release(conn, &worker)).await
    }

    /// Delivers rows this worker has claimed, composed as of `now`.
    pub async fn deliver_rows(
        &self,
        rows: Vec<Notification>,
        now: NaiveDateTime,
        on_row: &(dyn Fn() + Sync),
    ) -> crate::Result<Summary> {
        let batch = self.compose_batch(rows, now).await?;
        self.send_batch(batch, on_row).await
    }

    /// Composes rows this worker has claimed as of `now` (on a database thread).
    async fn compose_batch(&self, rows: Vec<Notification>, now: NaiveDateTime) -> crate::Result<ComposedBatch> {
        let (composer, faults) = (self.composer.clone(), self.faults.clone());
        self.db
            .run(move |conn| {
                let composed = compose_contained(conn, &composer, &faults, &rows, now)?;
                Ok(ComposedBatch { rows, composed })
            })
            .await
    }

    /// Sends a composed batch, `concurrency` at a time, recording each outcome.
    async fn send_batch(&self, batch: ComposedBatch, on_row: &(dyn Fn() + Sync)) -> crate::Result<Summary> {
        let ComposedBatch { rows, composed } = batch;
        let recorder = Recorder::start(self.db.clone(), self.id.clone(), self.concurrency.min(rows.len()));
        let outcomes = futures_util::stream::iter(rows.into_iter().zip(composed))
            .map(|(row, composed)| {
                let recorder = &recorder;
                async move {
                    let outcome = self.carry_out(recorder, &row, composed).await;
                    on_row();
                    outcome.map(|summary| (row.id, summary))
                }
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        recorder.finish().await;
        let mut summary = Summary::default();
        let mut deferred = Vec::new();
        for outcome in outcomes {
            let (id, one) = outcome?;
            if one.deferred > 0 {
                deferred.push(id);
            }
            summary.add(one);
        }
        if !deferred.is_empty() && !self.stopping.load(Ordering::Relaxed) {
            let worker = self.id.clone();
            let released = self.db.run(move |conn| queue::release_ids(conn, &deferred, &worker)).await?;
            tracing::warn!(released, "claims ran short before every message was sent; handed back (lease too short?)");
        }
        Ok(summary)
    }

    /// Delivers (or skips, or fails) one claimed row and records the outcome.
    async fn carry_out(
        &self,
        recorder: &Recorder,
        row: &Notification,
        composed: Result<Composed, Uncomposed>,
    ) -> crate::Result<Summary> {
        if self.stopping.load(Ordering::Relaxed) {
            // Left claimed; released when the worker stops.
            return Ok(Summary::default());
        }
        if !self.time_to_send(row) {
            // Another worker may take the row over once the lease ends: don't race it.
            return Ok(Summary { deferred: 1, ..Summary::default() });
        }
        let summary = match composed {
            Ok(Composed::Send(message)) => {
                let sending = recorder.sending();
                match self.send_contained(&message).await {
                    Ok(()) => {
                        let kept = sending.record(row.id.clone(), Outcome::Sent).await?;
                        if !kept {
                            tracing::warn!(notification = %row.id, "sent after the claim was lost (lease too short?)");
                        }
                        tracing::debug!(notification = %row.id, kind = %row.kind, channel = %row.channel, "sent");
                        Summary { sent: 1, ..Summary::default() }
                    }
                    Err(error) => {
                        drop(sending);
                        self.failed(row, error).await?
                    }
                }
            }
            Ok(Composed::Hold(until)) => {
                // Quiet hours: back to the queue, due at `until`, the attempt not counted.
                let (worker, id) = (self.id.clone(), row.id.clone());
                self.db.run(move |conn| queue::hold(conn, &id, &worker, until)).await?;
                tracing::debug!(notification = %row.id, until = %until, "held for quiet hours");
                Summary { held: 1, ..Summary::default() }
            }
            Ok(Composed::Skip(reason)) => {
                recorder.record(row.id.clone(), Outcome::Skipped(reason)).await?;
                Summary { skipped: 1, ..Summary::default() }
            }
            // Composing reads the database: a failure there is retried like a server that is down.
            Err(Uncomposed::Error(e)) => {
                self.failed(row, DeliveryError::Transient(format!("could not compose the message: {e}"))).await?
            }
            // A panic is a bug that a retry would only repeat.
            Err(Uncomposed::Panicked(panic)) => {
                self.failed(
                    row,
                    DeliveryError::Permanent(format!("could not compose the message: internal error ({panic})")),
                )
                .await?
            }
        };
        metrics::counter!(
            crate::metrics::NOTIFICATIONS,
            "kind" => row.kind.as_str(),
            "channel" => row.channel.as_str(),
            "outcome" => summary.outcome(),
        )
        .increment(1);
        Ok(summary)
    }

    /// Sends `message` over its channel; a panic there fails this message for
    /// good (a bug a retry would repeat), not the run.
    async fn send_contained(&self, message: &Message) -> Result<(), DeliveryError> {
        let send = async {
            self.faults.while_sending(message);
            self.channels.deliver(message).await
        };
        match AssertUnwindSafe(send).catch_unwind().await {
            Ok(sent) => sent,
            Err(panic) => {
                let panic = panic_text(panic.as_ref());
                tracing::error!(panic = %panic, "sending a message panicked");
                metrics::counter!(crate::metrics::PANICS, "where" => "sending").increment(1);
                Err(DeliveryError::Permanent(format!("the message could not be sent: internal error ({panic})")))
            }
        }
    }

    /// Records a failed attempt: retried later with backoff, or given up.
    async fn failed(&self, row: &Notification, error: DeliveryError) -> crate::Result<Summary> {
        tracing::warn!(
            notification = %row.id,
            kind = %row.kind,
            channel = %row.channel,
            recipient = %row.recipient_id,
            error = %crate::telemetry::redact_emails(&error.to_string()),
            "not delivered"
        );
        let (worker, failed_row, now) = (self.id.clone(), row.clone(), crate::domain::now());
        let after = self.db.run(move |conn| queue::mark_failure(conn, &failed_row, &worker, &error, now)).await?;
        Ok(match after {
            AfterFailure::RetryAt(_) => Summary { retrying: 1, ..Summary::default() },
            AfterFailure::Failed => Summary { failed: 1, ..Summary::default() },
        })
    }

    /// Whether the claim on `row` leaves time for a send (an SMTP exchange that
    /// times out takes [`SEND_MARGIN`]); past that, another worker may already
    /// have taken the row over.
    fn time_to_send(&self, row: &Notification) -> bool {
        let margin = SEND_MARGIN.min(self.lease / 2);
        row.claimed_until.is_none_or(|until| crate::domain::now() + margin < until)
    }
}

/// The ids of `rows`.
fn ids_of(rows: &[Notification]) -> Vec<String> {
    rows.iter().map(|r| r.id.clone()).collect()
}

/// Claimed rows and what each composed to, in the same order.
struct ComposedBatch {
    rows: Vec<Notification>,
    composed: Vec<Result<Composed, Uncomposed>>,
}

/// Why a row has no message to send.
#[derive(Debug)]
enum Uncomposed {
    /// Composing failed (the database, a template): retried later.
    Error(crate::Error),
    /// Composing panicked: the row fails with this text.
    Panicked(String),
}

/// Composes `rows` (see [`compose::compose_rows`]) with any panic contained:
/// when one panics, each row is composed alone, so that only the row that
/// panics fails. A panic that left the connection unusable (in a
/// transaction, say) leaves the rows after it uncomposed, to be retried.
fn compose_contained(
    conn: &mut DbConnection,
    composer: &Composer,
    faults: &Faults,
    rows: &[Notification],
    now: NaiveDateTime,
) -> crate::Result<Vec<Result<Composed, Uncomposed>>> {
    let together = std::panic::catch_unwind(AssertUnwindSafe(|| {
        rows.iter().for_each(|row| faults.while_composing(row));
        compose::compose_rows(conn, composer, rows, now)
    }));
    match together {
        Ok(composed) => return Ok(composed?.into_iter().map(|c| c.map_err(Uncomposed::Error)).collect()),
        Err(panic) => {
            tracing::error!(panic = %panic_text(panic.as_ref()), "composing a batch panicked; one row at a time")
        }
    }
    let mut composed = Vec::with_capacity(rows.len());
    for row in rows {
        if conn.is_broken() {
            let unusable = anyhow::anyhow!("the database connection was left unusable by a panic");
            composed.push(Err(Uncomposed::Error(crate::Error::Internal(unusable))));
            continue;
        }
        let one = std::panic::catch_unwind(AssertUnwindSafe(|| {
            faults.while_composing(row);
            compose::compose_one(conn, composer, row, now)
        }));
        composed.push(match one {
            Ok(done) => done.map_err(Uncomposed::Error),
            Err(panic) => {
                let panic = panic_text(panic.as_ref());
                tracing::error!(notification = %row.id, panic = %panic, "composing a notification panicked");
                metrics::counter!(crate::metrics::PANICS, "where" => "composing").increment(1);
                Err(Uncomposed::Panicked(panic))
            }
        });
    }
    Ok(composed)
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

/// What the [`Recorder`]'s thread hears.
enum Event {
    /// An outcome to write for the row `id`, and who waits for it.
    Outcome(String, Outcome, Ack),
    /// A send ended without an outcome to write (it failed: its row is
    /// written elsewhere): one fewer in flight.
    Ended,
}

/// Records the outcomes of one batch on one database connection, several
/// rows per statement (group commit). A row's send counts as in flight until
/// its outcome is written (it keeps its slot), so a crash still repeats at
/// most the messages in flight. A group is written as soon as no more
/// outcomes can come soon: when no other send is in flight any more (the
/// others all wait on this group), once half the sends that may be in flight
/// have finished (the other half keep the mail server busy meanwhile), or
/// [`GATHER_FOR`] after its first outcome, whichever comes first.
/// (Writing each outcome as it came took one statement per email, since a
/// mail server usually accepts one message at a time; waiting 50 ms for half
/// the slots, as this once did, bounded a pass at 8 slots / 50 ms = 160
/// emails per second whenever the last sends of a group were slow.)
struct Recorder {
    queue: std::sync::mpsc::Sender<Event>,
    /// Sends started ([`Recorder::sending`]) whose outcome is not queued yet.
    in_flight: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

/// How long the first outcome of a group waits for others at most.
const GATHER_FOR: std::time::Duration = std::time::Duration::from_millis(5);

/// A send in flight (see [`Recorder::sending`]); its outcome goes to
/// [`Sending::record`], or, dropped unrecorded, it tells the recorder it ended.
struct Sending<'a> {
    recorder: &'a Recorder,
    done: bool,
}

impl Sending<'_> {
    /// Writes `outcome` for the row `id` (with whatever else is waiting); false when the claim was lost.
    async fn record(mut self, id: String, outcome: Outcome) -> crate::Result<bool> {
        self.done = true;
        self.recorder.record_after(id, outcome, true).await
    }
}

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.recorder.in_flight.fetch_sub(1, Ordering::SeqCst);
            let _ = self.recorder.queue.send(Event::Ended);
        }
    }
}

impl Recorder {
    /// `concurrency`: the sends in flight at most (half of them make a full group).
    fn start(db: Db, worker: String, concurrency: usize) -> Self {
        let (queue, incoming) = std::sync::mpsc::channel::<Event>();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let group_size = (concurrency / 2).max(1);
        let sending = in_flight.clone();
        let task = tokio::task::spawn_blocking(move || {
            let mut conn = None;
            let mut group = Vec::new();
            while let Ok(first) = incoming.recv() {
                let Event::Outcome(id, outcome, ack) = first else { continue };
                group.push((id, outcome, ack));
                let deadline = std::time::Instant::now() + GATHER_FOR;
                loop {
                    // Whatever is already waiting.
                    group.extend(incoming.try_iter().filter_map(Event::outcome));
                    // Read after the queue: a send takes itself off before it queues its outcome.
                    if group.len() >= group_size || sending.load(Ordering::SeqCst) == 0 {
                        break;
                    }
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    match incoming.recv_timeout(left) {
                        Ok(next) => group.extend(next.outcome()),
                        Err(_) => break,
                    }
                }
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
                for (_, outcome, ack) in group.drain(..) {
                    let _ = ack.send(written.as_ref().map(|lost| !lost.contains(&outcome)).map_err(Clone::clone));
                }
            }
        });
        Self { queue, in_flight, task }
    }

    /// A send starts: it counts as in flight until its outcome is queued (or it is dropped).
    fn sending(&self) -> Sending<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Sending { recorder: self, done: false }
    }

    /// Writes `outcome` for the row `id`, which was not sent (with whatever
    /// else is waiting); false when the claim was lost.
    async fn record(&self, id: String, outcome: Outcome) -> crate::Result<bool> {
        self.record_after(id, outcome, false).await
    }

    /// Queues `outcome` for the row `id` (taking a send off the ones in
    /// flight first if `was_sending`) and waits until it is written.
    async fn record_after(&self, id: String, outcome: Outcome, was_sending: bool) -> crate::Result<bool> {
        let stopped = || crate::Error::Internal(anyhow::anyhow!("the result recorder stopped"));
        let (ack, answer) = tokio::sync::oneshot::channel();
        if was_sending {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        self.queue.send(Event::Outcome(id, outcome, ack)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(|e| crate::Error::Internal(anyhow::anyhow!(e)))
    }

    /// Waits until everything queued is written.
    async fn finish(self) {
        drop(self.queue);
        let _ = self.task.await;
    }
}

impl Event {
    /// The outcome this event carries, if any.
    fn outcome(self) -> Option<(String, Outcome, Ack)> {
        match self {
            Self::Outcome(id, outcome, ack) => Some((id, outcome, ack)),
            Self::Ended => None,
        }
    }
}

/// Writes a group of outcomes: one statement per kind of outcome, in one
/// transaction whose commit does not wait for the disk flush (see
/// [`crate::db::write_transaction_unflushed`]: only a crash of the database
/// server can lose it, and then the emails are sent again). Returns the
/// outcomes some of whose rows were no longer this worker's claim.
fn write_outcomes(
    conn: &mut crate::db::DbConnection,
    worker: &str,
    group: &[(String, Outcome, Ack)],
) -> crate::Result<Vec<Outcome>> {
    let mut by_outcome: HashMap<Outcome, Vec<String>> = HashMap::new();
    for (id, outcome, _) in group {
        by_outcome.entry(*outcome).or_default().push(id.clone());
    }
    let now = crate::domain::now();
    crate::db::write_transaction_unflushed(conn, |conn| {
        let mut lost = Vec::new();
        for (outcome, ids) in by_outcome {
            let kept = match outcome {
                Outcome::Sent => queue::mark_sent_many(conn, &ids, worker, now)?,
                Outcome::Skipped(reason) => queue::mark_skipped_many(conn, &ids, worker, reason)?,
            };
            if kept < ids.len() {
                lost.push(outcome);
            }
        }
        Ok(lost)
    })
}
