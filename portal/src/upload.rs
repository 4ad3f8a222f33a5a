//! Receiving uploads: each file of a multipart body streams to storage as it
//! arrives while its SHA-256 and size are computed; its type is decided from
//! its first bytes; the database row is written only after the object is
//! stored, and the object is deleted if the row cannot be written. Nothing of
//! a file that failed is left behind. When clamd is configured, each file also
//! streams to it as it arrives (see [`crate::scan`]), and the object is finished
//! only after clamd found it clean. Pages and the API share this, for clients
//! sending documents and for staff sharing documents with a client.

use actix_multipart::{Field, Multipart};
use bytes::BytesMut;
use std::time::Duration;
use tokio::time::Instant;

use futures_util::TryStreamExt;
use serde::Serialize;
use shared::audit;
use shared::db::models::{Document, Matter, User};
use shared::documents::{self, DocumentSource, Refusal, SNIFF_BYTES};
use shared::domain::{DocumentCategory, new_id, now};
use storage::Leftover;
use storage::cleanup as storage_cleanup;
use utoipa::ToSchema;

use crate::scan::{Scan, ScanError, Verdict};
use crate::state::AppState;
use crate::upload_digest::UploadDigest;

/// A file that was stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoredFile {
    /// The new document's id.
    pub id: String,
    /// The file name (sanitised).
    pub name: String,
    /// Bytes stored.
    pub size_bytes: i64,
    /// Type decided from the bytes.
    pub content_type: String,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Category key.
    pub category: shared::domain::DocumentCategory,
}

/// A file that was refused, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusedFile {
    /// The file name (sanitised).
    pub name: String,
    /// Why.
    pub reason: Refusal,
}

/// Why the upload stopped before the end of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// A file went over the size limit; the rest of the body was not read.
    TooLarge,
    /// Storage or the database failed; nothing of that file was kept.
    StorageFailed,
    /// The body ended early or was malformed; nothing of that file was kept.
    Incomplete,
    /// The body had more than [`MAX_PARTS`] parts; the files before were kept, the rest not read.
    TooManyParts,
    /// The upload went on past `MATTERLINE_UPLOAD_TOTAL_SECONDS`; the files
    /// before were kept, nothing of the one being sent.
    TooSlow,
    /// The virus scanner (clamd) could not check a file (down, too slow,
    /// erring, or the file over its size limit) and `MATTERLINE_CLAMD_FAIL_OPEN`
    /// is off: nothing of that file was kept, the files after it were not read.
    ScanFailed,
}

/// What an upload request achieved.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct UploadReport {
    /// Files stored, in order.
    pub stored: Vec<StoredFile>,
    /// Files refused (type, empty), in order.
    pub refused: Vec<RefusedFile>,
    /// Set when the upload stopped early, with the file it stopped at.
    pub stopped: Option<(Stop, String)>,
    /// The open request the form answered, if it named one.
    pub request: Option<String>,
    /// A message's text (the `body` field, read when [`Target::message`] is set).
    #[serde(skip)]
    pub text: Option<MessageText>,
}

/// The text field of a message's form, as sent and as checked.
#[derive(Debug, Clone)]
pub struct MessageText {
    /// What was sent (at most [`MESSAGE_BYTES`] of it), to fill the form again.
    pub sent: String,
    /// The text to store, or what is wrong with it.
    pub checked: Result<String, shared::messages::Problem>,
}

/// The most of a message's text read: [`shared::messages::MAX_CHARS`] characters of up to 4 bytes.
pub const MESSAGE_BYTES: usize = shared::messages::MAX_CHARS * 4;

impl UploadReport {
    /// Nothing was sent: no file chosen (a form's empty file inputs), nothing refused, nothing stopped.
    pub fn none_chosen(&self) -> bool {
        self.stored.is_empty() && self.refused.is_empty() && self.stopped.is_none()
    }
}

/// Who uploads to which matter, from where.
pub struct Target<'a> {
    /// The signed-in client, or the staff member sharing a document with the client.
    pub uploader: &'a User,
    /// `Client` for the client's own upload, `Firm` for a document the firm shares.
    pub source: DocumentSource,
    /// The matter (the client's own, or of the staff member's firm: checked by the caller).
    pub matter: &'a Matter,
    /// The uploader's IP address.
    pub ip: Option<String>,
    /// A message's form: its `body` field is read and checked, and a text
    /// that fails the check stops the upload before any later file is stored.
    pub message: bool,
}

/// Why reading the body failed: malformed or cut short, nothing arrived for
/// `MATTERLINE_UPLOAD_IDLE_SECONDS`, or the upload as a whole went on past
/// `MATTERLINE_UPLOAD_TOTAL_SECONDS`.
#[derive(Debug)]
enum ReadError {
    Malformed(actix_multipart::MultipartError),
    Stalled,
    TooSlow,
}

impl ReadError {
    /// Why the upload stops.
    fn stop(&self) -> Stop {
        match self {
            Self::TooSlow => Stop::TooSlow,
            Self::Malformed(_) | Self::Stalled => Stop::Incomplete,
        }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(e) => e.fmt(f),
            Self::Stalled => f.write_str("the client sent nothing for too long"),
            Self::TooSlow => f.write_str("the upload took longer than the time allowed"),
        }
    }
}

/// The time limits of one upload's reads: each read may wait `idle` for a
/// byte, and none may end after `deadline`.
#[derive(Debug, Clone, Copy)]
struct Pace {
    idle: Duration,
    deadline: Instant,
}

impl Pace {
    /// The limits the configuration sets, for an upload that starts now.
    fn of(config: &shared::config::Config) -> Self {
        Self {
            idle: Duration::from_secs(config.upload_idle_seconds),
            deadline: Instant::now() + Duration::from_secs(config.upload_total_seconds),
        }
    }
}

/// One read of the body, given up after `pace.idle` without a byte or at
/// `pace.deadline`: a slow, stalled or trickling sender must not hold a
/// connection (and an open storage upload) forever.
async fn within<T>(
    pace: Pace,
    read: impl std::future::Future<Output = Result<Option<T>, actix_multipart::MultipartError>>,
) -> Result<Option<T>, ReadError> {
    let left = pace.deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ReadError::TooSlow);
    }
    match tokio::time::timeout(pace.idle.min(left), read).await {
        Ok(read) => read.map_err(ReadError::Malformed),
        Err(_) if pace.idle < left => Err(ReadError::Stalled),
        Err(_) => Err(ReadError::TooSlow),
    }
}

/// A field that remembers it ended: actix-multipart panics if a finished field is polled again.
struct Tracked<'a> {
    field: &'a mut Field,
    done: bool,
    pace: Pace,
}

impl<'a> Tracked<'a> {
    fn new(field: &'a mut Field, pace: Pace) -> Self {
        Self { field, done: false, pace }
    }

    /// The next chunk; `Ok(None)` at the end (and ever after).
    async fn next(&mut self) -> Result<Option<bytes::Bytes>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let chunk = within(self.pace, self.field.try_next()).await;
        if matches!(chunk, Ok(None) | Err(_)) {
            self.done = true;
        }
        chunk
    }

    /// Reads and discards up to `limit` bytes; true if the field ended within it.
    async fn skip(&mut self, limit: &mut u64) -> bool {
        loop {
            match self.next().await {
                Ok(Some(chunk)) => match limit.checked_sub(chunk.len() as u64) {
                    Some(rest) => *limit = rest,
                    None => return false,
                },
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }
}

/// After an upload stopped early, reads (and discards) the fields left in the
/// body, up to `limit` bytes in all, so the client gets to read the answer
/// instead of a reset connection. Past the limit the connection is closed.
/// (The current field must be finished and dropped first: the body yields no
/// next field while one is alive.)
async fn drain_rest(body: &mut Multipart, mut limit: u64, pace: Pace) {
    while let Ok(Some(mut field)) = within(pace, body.try_next()).await {
        if !Tracked::new(&mut field, pace).skip(&mut limit).await {
            return;
        }
    }
}

/// How much of a refused body is read to deliver the answer.
pub const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// Parts (files and fields) read from one upload. Every refused file costs an
/// audit row and every `request` field a query, so a body of a million tiny
/// parts must not get to cost a million writes; a phone sends a handful.
pub const MAX_PARTS: usize = 100;

async fn read_text(field: &mut Field, pace: Pace) -> Result<String, ReadError> {
    let mut text = Vec::new();
    while let Some(chunk) = within(pace, field.try_next()).await? {
        // Form fields other than files are short; ignore anything past 256 bytes.
        let room = 256usize.saturating_sub(text.len());
        text.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(String::from_utf8_lossy(&text).trim().to_owned())
}

/// Reads a message's text field: up to [`MESSAGE_BYTES`] kept, the rest read
/// and counted (so an over-long text is refused as too long, not cut).
async fn read_message(field: &mut Field, pace: Pace) -> Result<MessageText, ReadError> {
    let mut text = Vec::new();
    let mut over = false;
    while let Some(chunk) = within(pace, field.try_next()).await? {
        let room = (MESSAGE_BYTES + 1).saturating_sub(text.len());
        over |= chunk.len() > room;
        text.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    let sent = String::from_utf8_lossy(&text).into_owned();
    let checked = if over { Err(shared::messages::Problem::TooLong) } else { shared::messages::check_text(&sent) };
    Ok(MessageText { sent: sent.chars().take(shared::messages::MAX_CHARS).collect(), checked })
}

async fn drain(field: &mut Field, pace: Pace) -> Result<(), ReadError> {
    while within(pace, field.try_next()).await?.is_some() {}
    Ok(())
}

/// Refuses a whole upload because its matter is closed to uploads: counted,
/// audited against the matter, and the body read and discarded (up to
/// [`DRAIN_LIMIT`]) so the client gets to read the answer instead of a reset
/// connection. Nothing of it is stored.
pub async fn refuse_closed_matter(state: &AppState, target: &Target<'_>, mut body: Multipart) {
    metrics::counter!(shared::metrics::UPLOADS, "outcome" => "matter_closed").increment(1);
    audit_attempt(state, target, "document.refused", "matter closed".to_owned()).await;
    drain_rest(&mut body, DRAIN_LIMIT, Pace::of(&state.config)).await;
}

/// Reads and discards a body that is refused before it is read (a rate
/// limit), up to [`DRAIN_LIMIT`], so the client gets to read the answer.
pub async fn discard(state: &AppState, mut body: Multipart) {
    drain_rest(&mut body, DRAIN_LIMIT, Pace::of(&state.config)).await;
}

/// Reads the whole multipart body. Fields: `request` (an open request id; its
/// category becomes the default), `category` (applies to the files after it),
/// and `file` (any number).
pub async fn receive(state: &AppState, target: Target<'_>, mut body: Multipart) -> UploadReport {
    let report = receive_fields(state, &target, &mut body).await;
    if let Some((stop, name)) = &report.stopped {
        let outcome = match stop {
            Stop::TooLarge => None, // counted and audited with the refusal
            Stop::StorageFailed => Some("storage_failed"),
            Stop::Incomplete => Some("incomplete"),
            Stop::TooManyParts => Some("too_many_parts"),
            Stop::TooSlow => Some("too_slow"),
            Stop::ScanFailed => Some("scan_failed"),
        };
        if let Some(outcome) = outcome {
            metrics::counter!(shared::metrics::UPLOADS, "outcome" => outcome).increment(1);
            let detail = if name.is_empty() { outcome.to_owned() } else { format!("{outcome}: {name}") };
            audit_attempt(state, &target, "document.upload_failed", detail).await;
        }
    }
    report
}

async fn receive_fields(state: &AppState, target: &Target<'_>, body: &mut Multipart) -> UploadReport {
    let mut report = UploadReport::default();
    let mut category = DocumentCategory::Other;
    let mut request_id: Option<String> = None;
    // The upload's one "document received" milestone, once its first file is stored.
    let mut receipt: Option<String> = None;
    let pace = Pace::of(&state.config);
    let mut parts = 0;
    loop {
        let mut field = match within(pace, body.try_next()).await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, "malformed, truncated or too slow multipart body");
                report.stopped = Some((e.stop(), String::new()));
                break;
            }
        };
        parts += 1;
        if parts > MAX_PARTS {
            tracing::info!(max = MAX_PARTS, "upload has too many parts; the rest is not read");
            drop(field);
            drain_rest(body, DRAIN_LIMIT, pace).await;
            report.stopped = Some((Stop::TooManyParts, String::new()));
            break;
        }
        let outcome = match field.name().unwrap_or_default() {
            "category" => read_text(&mut field, pace).await.map(|text| {
                if let Some(c) = DocumentCategory::parse(&text) {
                    category = c;
                }
            }),
            // Only a client's upload fulfils a request: the firm does not answer its own.
            "request" if target.source == DocumentSource::Firm => drain(&mut field, pace).await,
            "request" => match read_text(&mut field, pace).await {
                Ok(id) if !id.is_empty() => {
                    let (db, matter_id, lookup) = (state.db.clone(), target.matter.id.clone(), id.clone());
                    if let Ok(c) = db.run(move |conn| documents::open_request(conn, &matter_id, &lookup)).await {
                        category = c;
                        report.request = Some(id.clone());
                        request_id = Some(id);
                    }
                    Ok(())
                }
                other => other.map(|_| ()),
            },
            "body" if target.message => match read_message(&mut field, pace).await {
                Ok(text) => {
                    let refused = text.checked.is_err();
                    report.text = Some(text);
                    if refused {
                        // The text is refused: no file after it is stored.
                        drop(field);
                        drain_rest(body, DRAIN_LIMIT, pace).await;
                        break;
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            },
            "file" | "files" => {
                let mut tracked = Tracked::new(&mut field, pace);
                let file = FileMeta { category, request_id: request_id.clone() };
                let stop = receive_file(state, target, &mut tracked, file, &mut receipt, &mut report).await;
                if let Some(stop) = stop {
                    let mut limit = DRAIN_LIMIT;
                    let cut_off = matches!(stop.0, Stop::Incomplete | Stop::TooSlow);
                    let finished = !cut_off && tracked.skip(&mut limit).await;
                    drop(field);
                    if finished {
                        drain_rest(body, limit, pace).await;
                    }
                    report.stopped = Some(stop);
                    break;
                }
                Ok(())
            }
            _ => drain(&mut field, pace).await,
        };
        if let Err(e) = outcome {
            tracing::info!(error = %e, "multipart field failed");
            report.stopped = Some((e.stop(), String::new()));
            break;
        }
    }
    report
}

/// Records what an abort could not remove, for the cleanup sweep.
async fn forget(state: &AppState, leftover: Option<Leftover>) {
    let Some(leftover) = leftover else { return };
    if let Err(e) = storage_cleanup::remember(&state.db, leftover.clone()).await {
        tracing::error!(error = %e, ?leftover, "could not record a storage leftover");
    }
}

/// Records a refused file in the audit log.
async fn refuse(state: &AppState, target: &Target<'_>, name: &str, reason: Refusal) {
    refuse_with(state, target, name, reason, None).await;
}

/// Records a refused file in the audit log, with what else is known of it
/// (the signature clamd found).
async fn refuse_with(state: &AppState, target: &Target<'_>, name: &str, reason: Refusal, note: Option<&str>) {
    let outcome = match reason {
        Refusal::UnsupportedType => "refused_type",
        Refusal::Empty => "refused_empty",
        Refusal::TooLarge => "too_large",
        Refusal::Infected => "infected",
    };
    metrics::counter!(shared::metrics::UPLOADS, "outcome" => outcome).increment(1);
    let detail = match note {
        Some(note) => format!("{reason:?}: {name} ({note})"),
        None => format!("{reason:?}: {name}"),
    };
    audit_attempt(state, target, "document.refused", detail).await;
}

/// Logs and counts a file clamd could not check. True when the file is to be
/// stored anyway (`MATTERLINE_CLAMD_FAIL_OPEN`), false when it is refused.
fn unchecked(state: &AppState, name: &str, error: &ScanError) -> bool {
    metrics::counter!(shared::metrics::VIRUS_SCANS, "outcome" => "failed").increment(1);
    if state.config.clamd_fail_open {
        tracing::warn!(%error, file = %name, "could not scan an upload for viruses; storing it unscanned (MATTERLINE_CLAMD_FAIL_OPEN)");
        true
    } else {
        tracing::warn!(%error, file = %name, "could not scan an upload for viruses; refusing it");
        false
    }
}

/// Records an attempt that stored nothing (a refused file, or an upload that
/// stopped) in the audit log, against the matter. A failure to record is
/// logged, not shown: the answer does not depend on it.
async fn audit_attempt(state: &AppState, target: &Target<'_>, action: &'static str, detail: String) {
    let (firm, uploader, ip, source) =
        (target.matter.firm_id.clone(), target.uploader.id.clone(), target.ip.clone(), target.source);
    let matter = target.matter.id.clone();
    let recorded = state
        .db
        .run(move |conn| {
            audit::record(
                conn,
                &audit::Event {
                    firm_id: Some(&firm),
                    actor: source.actor(&uploader),
                    action,
                    target_type: "matter",
                    target_id: Some(&matter),
                    ip: ip.as_deref(),
                    detail: Some(detail),
                },
                now(),
            )
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, action, "could not record an upload attempt in the audit log");
    }
}

/// What the fields before a file said about it.
struct FileMeta {
    /// The category the last `category` (or `request`) field chose.
    category: DocumentCategory,
    /// The open request the upload answers, if any.
    request_id: Option<String>,
}

/// Streams one file to storage. Returns why the whole upload must stop, if it
/// must. `receipt` is the upload's "document received" milestone: set by its
/// first stored file, extended by the next ones.
async fn receive_file(
    state: &AppState,
    target: &Target<'_>,
    field: &mut Tracked<'_>,
    meta: FileMeta,
    receipt: &mut Option<String>,
    report: &mut UploadReport,
) -> Option<(Stop, String)> {
    let FileMeta { category, request_id } = meta;
    let raw_name = field.field.content_disposition().and_then(|cd| cd.get_filename()).unwrap_or_default().to_owned();
    let name = documents::sanitize_file_name(&raw_name);
    let max = state.config.max_upload_bytes;

    // The first bytes decide the type before anything is stored. A first
    // chunk that holds them all (the usual case) is used as it is, not copied.
    let mut head = BytesMut::new();
    let mut first: Option<bytes::Bytes> = None;
    while head.len() < SNIFF_BYTES {
        match field.next().await {
            Ok(Some(chunk)) if head.is_empty() && chunk.len() >= SNIFF_BYTES => {
                first = Some(chunk);
                break;
            }
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => return Some((e.stop(), name)),
        }
    }
    let head = first.unwrap_or_else(|| head.freeze());
    if head.is_empty() && raw_name.is_empty() {
        // An empty file input: the browser sends a part with no name and no bytes.
        return None;
    }
    let content_type = match documents::sniff(&head) {
        Ok(t) => t,
        Err(reason) => {
            refuse(state, target, &name, reason).await;
            report.refused.push(RefusedFile { name, reason });
            // Read past the refused file (it is not stored), but not beyond the size limit.
            let mut limit = max;
            return if field.skip(&mut limit).await {
                None
            } else {
                let slow = Instant::now() >= field.pace.deadline;
                Some((if slow { Stop::TooSlow } else { Stop::Incomplete }, String::new()))
            };
        }
    };
    // The virus scan starts before the storage upload: a clamd that is down
    // refuses the file before anything of it is stored.
    let mut scan: Option<Scan> = match &state.config.clamd_url {
        None => None,
        Some(url) => match Scan::start(url).await {
            Ok(started) => Some(started),
            Err(e) if unchecked(state, &name, &e) => None,
            Err(_) => return Some((Stop::ScanFailed, name)),
        },
    };
    let id = new_id();
    let key = documents::object_key(&target.matter.firm_id, &target.matter.id, &id);
    let mut upload = match state.storage.begin(&key, content_type).await {
        Ok(upload) => upload,
        Err(e) => {
            tracing::warn!(error = %e, "storage refused a new upload");
            return Some((Stop::StorageFailed, name));
        }
    };
    // Hashed in batches on the process's hashing lanes while the next chunks
    // arrive and the part before goes to storage (see crate::upload_digest).
    let mut hasher = UploadDigest::default();
    let mut size: u64 = 0;
    let mut chunk = head;
    loop {
        size += chunk.len() as u64;
        if size > max {
            forget(state, upload.abort().await).await;
            refuse(state, target, &name, Refusal::TooLarge).await;
            report.refused.push(RefusedFile { name: name.clone(), reason: Refusal::TooLarge });
            return Some((Stop::TooLarge, name));
        }
        if let Err(e) = hasher.update(chunk.clone()).await {
            tracing::warn!(error = %e, file = %name, "hashing failed during an upload");
            forget(state, upload.abort().await).await;
            return Some((Stop::StorageFailed, name));
        }
        // The chunk goes to storage and to clamd at the same time.
        let (stored, scanned) = match scan.as_mut() {
            Some(scan) => {
                let (stored, scanned) = tokio::join!(upload.write(&chunk), scan.write(&chunk));
                (stored, Some(scanned))
            }
            None => (upload.write(&chunk).await, None),
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, file = %name, "storage failed during an upload");
            forget(state, upload.abort().await).await;
            return Some((Stop::StorageFailed, name));
        }
        if let Some(Err(e)) = scanned {
            scan = None;
            if !unchecked(state, &name, &e) {
                forget(state, upload.abort().await).await;
                return Some((Stop::ScanFailed, name));
            }
        }
        chunk = match field.next().await {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, file = %name, "upload body ended early or too slowly");
                forget(state, upload.abort().await).await;
                return Some((e.stop(), name));
            }
        };
    }
    let sha256 = match hasher.finish().await {
        Ok(sha256) => sha256,
        Err(e) => {
            tracing::warn!(error = %e, file = %name, "hashing failed during an upload");
            forget(state, upload.abort().await).await;
            return Some((Stop::StorageFailed, name));
        }
    };
    // Only a file clamd found clean (or could not check, when failing open) is finished.
    if let Some(scan) = scan {
        match scan.finish().await {
            Ok(Verdict::Clean) => {
                metrics::counter!(shared::metrics::VIRUS_SCANS, "outcome" => "clean").increment(1);
            }
            Ok(Verdict::Infected(signature)) => {
                metrics::counter!(shared::metrics::VIRUS_SCANS, "outcome" => "infected").increment(1);
                tracing::warn!(file = %name, %signature, bytes = size, "refused an infected upload");
                forget(state, upload.abort().await).await;
                refuse_with(state, target, &name, Refusal::Infected, Some(&signature)).await;
                report.refused.push(RefusedFile { name, reason: Refusal::Infected });
                // The file was read to its end: the next one follows.
                return None;
            }
            Err(e) if unchecked(state, &name, &e) => {}
            Err(_) => {
                forget(state, upload.abort().await).await;
                return Some((Stop::ScanFailed, name));
            }
        }
    }
    if let Err(unfinished) = upload.finish().await {
        tracing::warn!(error = %unfinished.error, file = %name, "storage could not complete an upload");
        forget(state, unfinished.leftover).await;
        return Some((Stop::StorageFailed, name));
    }
    let document = Document {
        id: id.clone(),
        matter_id: target.matter.id.clone(),
        request_id,
        object_key: key.clone(),
        original_name: name.clone(),
        content_type: content_type.to_owned(),
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        sha256,
        category,
        source: target.source,
        uploaded_by: Some(target.uploader.id.clone()),
        reviewed_at: None,
        reviewed_by: None,
        created_at: now(),
    };
    let (row, ip, extend) = (document.clone(), target.ip.clone(), receipt.clone());
    let recorded = state
        .db
        .run(move |conn| documents::record_upload(conn, &row, ip.as_deref(), row.created_at, extend.as_deref()))
        .await;
    if let Ok(Some(milestone)) = &recorded {
        *receipt = Some(milestone.clone());
    }
    if let Err(e) = recorded {
        tracing::error!(error = %e, file = %name, "stored an object but could not record it; deleting the object");
        if let Err(e) = state.storage.delete(&key).await {
            tracing::error!(error = %e, key, "could not delete an unrecorded object; will retry");
            forget(state, Some(Leftover { key: key.clone(), upload_id: None })).await;
        }
        return Some((Stop::StorageFailed, name));
    }
    tracing::info!(document = %id, bytes = size, content_type, "document stored");
    metrics::counter!(shared::metrics::UPLOADS, "outcome" => "stored").increment(1);
    metrics::counter!(shared::metrics::UPLOAD_BYTES).increment(size);
    report.stored.push(StoredFile {
        id,
        name,
        size_bytes: document.size_bytes,
        content_type: document.content_type,
        sha256: document.sha256,
        category: document.category,
    });
    None
}
