//! Where document bytes live: a local folder (the embedded default) or an
//! S3-compatible bucket (`MATTERLINE_STORAGE=s3://BUCKET`).
//!
//! Uploads stream: [`Storage::begin`] opens an [`Upload`], chunks are written
//! as they arrive, and [`Upload::finish`] makes the object exist — or
//! [`Upload::abort`] leaves nothing behind. On S3 a body of up to one part
//! (8 MiB) is a single PutObject; a larger one is a multipart upload whose
//! parts go out as they fill, each sent while the next one fills, so at most
//! two parts are held in memory. Every part in memory holds its share of the
//! process's [`PartBudget`] (`MATTERLINE_UPLOAD_BUFFER_MIB`) from the moment
//! it starts filling until it has been sent: uploads past the budget wait for
//! a part to be sent, which holds back their connections, instead of growing
//! the portal's memory with the number of uploads at once.
//!
//! [`cleanup`]: leftovers storage could not remove at the time, and the sweep
//! that removes them later.

pub mod cleanup;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use bytes::{Bytes, BytesMut};
use shared::config::{Config, S3Checksum, StorageUrl};
use shared::error::{Error, Result};
use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Size of each multipart part (S3 needs at least 5 MiB for all but the last).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// [`PART_SIZE`] in MiB: the budget a part holds.
const PART_MIB: u32 = (PART_SIZE / (1024 * 1024)) as u32;
/// How long a presigned download link works.
pub const DOWNLOAD_LINK_TTL: Duration = Duration::from_secs(300);

/// Uploads of this process that are started and not yet finished or aborted,
/// so a shutdown can abort what the grace period cut off.
static OPEN_UPLOADS: LazyLock<Mutex<HashMap<u64, (Storage, Leftover)>>> = LazyLock::new(Default::default);
static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

fn register(storage: Storage, leftover: Leftover) -> u64 {
    let ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(ticket, key = %leftover.key, "upload opened");
    if let Ok(mut open) = OPEN_UPLOADS.lock() {
        open.insert(ticket, (storage, leftover));
    }
    ticket
}

fn unregister(ticket: Option<u64>) {
    tracing::debug!(?ticket, "upload closed");
    if let (Some(ticket), Ok(mut open)) = (ticket, OPEN_UPLOADS.lock()) {
        open.remove(&ticket);
    }
}

/// Aborts every upload still open in `storage` (this process's) — called at
/// shutdown, after the grace period, when the requests that owned them are
/// gone — through `storage` itself: pass a client opened after the server
/// stopped, since connections pooled by the server's worker runtimes die with
/// them. Returns what could not be removed (to record for the cleanup sweep).
pub async fn abort_open_uploads(storage: &Storage) -> Vec<Leftover> {
    let place = storage.describe();
    let open: Vec<Leftover> = match OPEN_UPLOADS.lock() {
        Ok(mut open) => {
            let tickets: Vec<u64> = open.iter().filter(|(_, (s, _))| s.describe() == place).map(|(t, _)| *t).collect();
            tickets.into_iter().filter_map(|t| open.remove(&t)).map(|(_, leftover)| leftover).collect()
        }
        Err(_) => Vec::new(),
    };
    tracing::info!(open = open.len(), "aborting uploads left open");
    let mut failed = Vec::new();
    for leftover in open {
        match storage.remove_leftover(&leftover).await {
            Ok(()) => tracing::info!(key = %leftover.key, "aborted an upload cut off by shutdown"),
            Err(e) => {
                let cause = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_default();
                tracing::warn!(key = %leftover.key, error = %e, cause, "could not abort an upload at shutdown");
                failed.push(leftover);
            }
        }
    }
    failed
}

/// The memory all uploads of a store may hold at once in part buffers, in
/// MiB: a part takes its 8 MiB ([`PART_SIZE`]) before it starts filling and
/// gives them back once it has been sent (or dropped). A part is taken whole,
/// never a MiB at a time: parts half filled, each waiting for more, could hold
/// the whole budget and never be sent. Clones share the budget.
#[derive(Debug, Clone)]
pub struct PartBudget {
    permits: Arc<Semaphore>,
    mib: u32,
}

/// One part's share of a [`PartBudget`], given back when dropped.
#[derive(Debug)]
pub struct PartPermit {
    _permit: OwnedSemaphorePermit,
}

impl PartBudget {
    /// A budget of `mib` MiB; less than one part counts as one part, so an upload can always go on.
    pub fn new(mib: u64) -> Self {
        let mib = u32::try_from(mib).unwrap_or(u32::MAX).max(PART_MIB);
        Self { permits: Arc::new(Semaphore::new(mib as usize)), mib }
    }

    /// The whole budget, MiB.
    pub fn mib(&self) -> u32 {
        self.mib
    }

    /// MiB not held by any part now.
    pub fn available_mib(&self) -> usize {
        self.permits.available_permits()
    }

    /// One part's share, once the budget has room for it (first come, first served).
    pub async fn part(&self) -> Result<PartPermit> {
        if let Ok(permit) = self.permits.clone().try_acquire_many_owned(PART_MIB) {
            return Ok(PartPermit { _permit: permit });
        }
        tracing::debug!(budget_mib = self.mib, "an upload waits for room in the part buffer budget");
        let permit = self.permits.clone().acquire_many_owned(PART_MIB).await.map_err(unavailable)?;
        Ok(PartPermit { _permit: permit })
    }
}

fn unavailable(cause: impl std::fmt::Display) -> Error {
    Error::Unavailable { service: "storage", cause: anyhow::anyhow!("{cause}") }
}

/// An S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    sse: Option<ServerSideEncryption>,
    /// The checksum sent with every object and part, when the operator asked for one.
    checksum: Option<ChecksumAlgorithm>,
    /// The memory the parts of all uploads may hold at once.
    budget: PartBudget,
}

/// A document store.
#[derive(Debug, Clone)]
pub enum Storage {
    /// Files under a local folder.
    Local {
        /// The folder; object keys become relative paths under it.
        root: PathBuf,
    },
    /// An S3-compatible bucket.
    S3(S3Store),
}

/// How a client gets a document's bytes.
#[derive(Debug)]
pub enum Download {
    /// A short-lived presigned URL to redirect to (S3).
    Redirect(String),
    /// A file to stream (local folder).
    File(PathBuf),
}

impl Storage {
    /// Opens the configured store: creates the local folder, or builds the S3
    /// client (endpoint, region, path style and the standard AWS credential chain).
    pub async fn open(config: &Config) -> Result<Self> {
        match &config.storage {
            StorageUrl::Local(root) => {
                std::fs::create_dir_all(root)
                    .map_err(|e| unavailable(format!("cannot create {}: {e}", root.display())))?;
                Ok(Self::Local { root: root.clone() })
            }
            StorageUrl::S3 { bucket } => {
                let http = aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https();
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
                if let Some(region) = &config.s3_region {
                    loader = loader.region(Region::new(region.clone()));
                }
                let shared = loader.load().await;
                let mut s3 = aws_sdk_s3::config::Builder::from(&shared).force_path_style(config.s3_force_path_style);
                if shared.region().is_none() {
                    // S3-compatible servers rarely care; AWS needs one, and this is its default.
                    s3 = s3.region(Region::new("us-east-1"));
                }
                // By default request checksums go only with operations that require one (none
                // of ours does): some S3-compatible servers reject or mis-store the SDK's
                // default CRC32. MATTERLINE_S3_CHECKSUM=crc32 sends one with every object and
                // part; the SDK computes it only under `WhenSupported` (under `WhenRequired`
                // an explicit algorithm is announced in a header but no checksum is sent).
                let (calculation, checksum) = match config.s3_checksum {
                    S3Checksum::None => (RequestChecksumCalculation::WhenRequired, None),
                    S3Checksum::Crc32 => (RequestChecksumCalculation::WhenSupported, Some(ChecksumAlgorithm::Crc32)),
                };
                s3 = s3.request_checksum_calculation(calculation);
                if let Some(endpoint) = &config.s3_endpoint {
                    s3 = s3
                        .endpoint_url(endpoint.as_str().trim_end_matches('/'))
                        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
                }
                let sse = config.s3_sse.as_deref().map(ServerSideEncryption::from);
                Ok(Self::S3(S3Store {
                    client: aws_sdk_s3::Client::from_conf(s3.build()),
                    bucket: bucket.clone(),
                    sse,
                    checksum,
                    budget: PartBudget::new(config.upload_buffer_mib),
                }))
            }
        }
    }

    /// The S3 client, for operators' tools and tests (`None` for a local folder).
    pub fn s3_client(&self) -> Option<(&aws_sdk_s3::Client, &str)> {
        match self {
            Self::S3(s) => Some((&s.client, &s.bucket)),
            Self::Local { .. } => None,
        }
    }

    /// The memory budget of part buffers (`None` for a local folder, which holds none).
    pub fn part_budget(&self) -> Option<&PartBudget> {
        match self {
            Self::S3(s) => Some(&s.budget),
            Self::Local { .. } => None,
        }
    }

    /// Checks that the store is reachable and writable (for `/readyz`).
    pub async fn check(&self) -> Result<()> {
        match self {
            Self::Local { root } => {
                let probe = root.join(".readyz");
                tokio::fs::write(&probe, b"ok")
                    .await
                    .and(tokio::fs::remove_file(&probe).await)
                    .map_err(|e| unavailable(format!("{}: {e}", root.display())))
            }
            Self::S3(s) => s.client.head_bucket().bucket(&s.bucket).send().await.map(|_| ()).map_err(|e| {
                unavailable(format!("bucket {}: {}", s.bucket, aws_sdk_s3::error::DisplayErrorContext(&e)))
            }),
        }
    }

    /// A description safe for logs.
    pub fn describe(&self) -> String {
        match self {
            Self::Local { root } => format!("local folder {}", root.display()),
            Self::S3(s) => format!("S3 bucket {}", s.bucket),
        }
    }

    /// Starts writing the object `key`.
    pub async fn begin(&self, key: &str, content_type: &str) -> Result<Upload> {
        match self {
            Self::Local { root } => {
                let path = local_path(root, key)?;
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await.map_err(unavailable)?;
                }
                let partial = path.with_extension("partial");
                let file = tokio::fs::File::create(&partial).await.map_err(unavailable)?;
                let ticket = register(self.clone(), Leftover { key: partial.display().to_string(), upload_id: None });
                Ok(Upload::Local { file, partial, path, ticket })
            }
            Self::S3(s) => Ok(Upload::S3(S3Upload {
                store: s.clone(),
                key: key.to_owned(),
                content_type: content_type.to_owned(),
                buffer: BytesMut::new(),
                held: None,
                upload_id: None,
                parts: Vec::new(),
                sending: None,
                ticket: None,
            })),
        }
    }

    /// Deletes the object `key` (no error if it is already gone).
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self {
            Self::Local { root } => match tokio::fs::remove_file(local_path(root, key)?).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(unavailable(e)),
            },
            Self::S3(s) => s
                .client
                .delete_object()
                .bucket(&s.bucket)
                .key(key)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| unavailable(format!("deleting {key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))),
        }
    }

    /// How to hand the object to a client: a presigned URL that makes the
    /// browser save it as `file_name`, or the local file to stream.
    pub async fn download(&self, key: &str, file_name: &str) -> Result<Download> {
        match self {
            Self::Local { root } => Ok(Download::File(local_path(root, key)?)),
            Self::S3(s) => {
                let presigning =
                    PresigningConfig::expires_in(DOWNLOAD_LINK_TTL).map_err(|e| Error::Internal(e.into()))?;
                let request = s
                    .client
                    .get_object()
                    .bucket(&s.bucket)
                    .key(key)
                    .response_content_disposition(attachment(file_name))
                    .presigned(presigning)
                    .await
                    .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(&e)))?;
                Ok(Download::Redirect(request.uri().to_owned()))
            }
        }
    }

    /// The whole object in memory: for small objects, operators' checks and tests.
    pub async fn fetch(&self, key: &str) -> Result<Vec<u8>> {
        match self {
            Self::Local { root } => tokio::fs::read(local_path(root, key)?).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::NotFound,
                _ => unavailable(e),
            }),
            Self::S3(s) => {
                let object = s.client.get_object().bucket(&s.bucket).key(key).send().await.map_err(|e| {
                    if e.as_service_error().is_some_and(|e| e.is_no_such_key()) {
                        Error::NotFound
                    } else {
                        unavailable(aws_sdk_s3::error::DisplayErrorContext(&e))
                    }
                })?;
                let body = object.body.collect().await.map_err(unavailable)?;
                Ok(body.into_bytes().to_vec())
            }
        }
    }
}

/// A `Content-Disposition: attachment` value naming the file in UTF-8 (RFC 6266).
pub fn attachment(file_name: &str) -> String {
    let ascii: String =
        file_name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The local path of `key`, refusing anything that could leave the root.
fn local_path(root: &Path, key: &str) -> Result<PathBuf> {
    let relative = Path::new(key);
    if key.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Error::invalid("key", "not a plain relative object key"));
    }
    Ok(root.join(relative))
}

/// A failed [`Upload::finish`].
#[derive(Debug)]
pub struct Unfinished {
    /// What went wrong.
    pub error: Error,
    /// What could not be removed from storage, if anything.
    pub leftover: Option<Leftover>,
}

/// Something an aborted upload left in storage because storage was unreachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The object key (for a local folder: the partial file's path).
    pub key: String,
    /// The multipart upload to abort, on S3.
    pub upload_id: Option<String>,
}

impl Storage {
    /// Removes a leftover: aborts its multipart upload, or deletes the object or partial file.
    pub async fn remove_leftover(&self, leftover: &Leftover) -> Result<()> {
        match (self, &leftover.upload_id) {
            (Self::S3(s), Some(upload_id)) => match s
                .client
                .abort_multipart_upload()
                .bucket(&s.bucket)
                .key(&leftover.key)
                .upload_id(upload_id)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                // Already gone (completed or aborted elsewhere): nothing left to remove.
                Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_upload()) => Ok(()),
                Err(e) => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(&e))),
            },
            (Self::Local { .. }, _) => match tokio::fs::remove_file(&leftover.key).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(unavailable(e)),
            },
            (Self::S3(_), None) => self.delete(&leftover.key).await,
        }
    }
}

/// An S3 upload in progress: the current part's buffer, and the multipart
/// upload once the body outgrew one part. A full part is sent while the next
/// one fills (at most one part sending and one filling: two parts in memory,
/// each holding its share of the store's [`PartBudget`]).
#[derive(Debug)]
pub struct S3Upload {
    store: S3Store,
    key: String,
    content_type: String,
    buffer: BytesMut,
    /// The budget the part filling in `buffer` holds (none before its first byte).
    held: Option<PartPermit>,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    sending: Option<tokio::task::JoinHandle<Result<CompletedPart>>>,
    ticket: Option<u64>,
}

/// An object being written.
#[derive(Debug)]
pub enum Upload {
    /// A local file, written under a `.partial` name and renamed when finished.
    Local {
        /// The open partial file.
        file: tokio::fs::File,
        /// The partial file's path.
        partial: PathBuf,
        /// The final path.
        path: PathBuf,
        /// Its entry among the process's open uploads.
        ticket: u64,
    },
    /// An S3 object.
    S3(S3Upload),
}

impl S3Upload {
    /// Starts sending the buffer as the next part, once the part before it is through.
    async fn send_part(&mut self) -> Result<()> {
        self.settle().await?;
        let s = &self.store;
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let created = s
                    .client
                    .create_multipart_upload()
                    .bucket(&s.bucket)
                    .key(&self.key)
                    .content_type(&self.content_type)
                    .set_server_side_encryption(s.sse.clone())
                    .set_checksum_algorithm(s.checksum.clone())
                    .send()
                    .await
                    .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(&e)))?;
                let id =
                    created.upload_id().ok_or_else(|| unavailable("no upload id in CreateMultipartUpload"))?.to_owned();
                self.upload_id = Some(id.clone());
                let leftover = Leftover { key: self.key.clone(), upload_id: Some(id.clone()) };
                self.ticket = Some(register(Storage::S3(self.store.clone()), leftover));
                id
            }
        };
        let number = i32::try_from(self.parts.len() + 1).map_err(|_| Error::invalid("file", "too many parts"))?;
        // The part leaves with its whole allocation (nothing of it stays referenced
        // here) and its budget, both given back once it has been sent; the next
        // part gets a new allocation when its budget is granted.
        let body: Bytes = std::mem::take(&mut self.buffer).freeze();
        let held = self.held.take();
        let request = s
            .client
            .upload_part()
            .bucket(&s.bucket)
            .key(&self.key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .set_checksum_algorithm(s.checksum.clone())
            // UNSIGNED-PAYLOAD: no second SHA-256 pass over every part (the portal already
            // hashes the stream); the body is in memory, so any checksum goes in a header.
            .customize()
            .disable_payload_signing();
        self.sending = Some(tokio::spawn(async move {
            let part = request.send().await.map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(&e)));
            // The request, and with it the part's bytes, is gone: its budget goes back.
            drop(held);
            let part = part?;
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .set_checksum_crc32(part.checksum_crc32().map(str::to_owned))
                .build())
        }));
        Ok(())
    }

    /// Waits for the part being sent, if any.
    async fn settle(&mut self) -> Result<()> {
        if let Some(sending) = self.sending.take() {
            let part = sending.await.map_err(|e| unavailable(format!("sending a part failed: {e}")))??;
            self.parts.push(part);
        }
        Ok(())
    }
}

impl Upload {
    /// Appends a chunk of the body.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        match self {
            Self::Local { file, .. } => file.write_all(chunk).await.map_err(unavailable),
            Self::S3(upload) => {
                let mut rest = chunk;
                while !rest.is_empty() {
                    if upload.held.is_none() {
                        // A new part: its budget first (this is where uploads past the
                        // budget wait), then its memory, all at once.
                        upload.held = Some(upload.store.budget.part().await?);
                        upload.buffer = BytesMut::with_capacity(PART_SIZE);
                    }
                    let room = PART_SIZE - upload.buffer.len();
                    let (now, later) = rest.split_at(room.min(rest.len()));
                    upload.buffer.extend_from_slice(now);
                    rest = later;
                    if upload.buffer.len() == PART_SIZE {
                        upload.send_part().await?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Makes the object exist with everything written so far. On failure nothing
    /// is kept, except what storage could not be reached to remove ([`Unfinished::leftover`]).
    pub async fn finish(self) -> std::result::Result<(), Unfinished> {
        match self {
            Self::Local { mut file, partial, path, ticket } => {
                let done = async {
                    file.flush().await?;
                    file.sync_all().await?;
                    drop(file);
                    tokio::fs::rename(&partial, &path).await
                }
                .await;
                unregister(Some(ticket));
                if let Err(e) = done {
                    let leftover = match tokio::fs::remove_file(&partial).await {
                        Ok(()) => None,
                        Err(_) => Some(Leftover { key: partial.display().to_string(), upload_id: None }),
                    };
                    return Err(Unfinished { error: unavailable(e), leftover });
                }
                Ok(())
            }
            Self::S3(mut upload) => {
                if upload.upload_id.is_none() {
                    unregister(upload.ticket);
                    // The whole body fit in one part: a single PutObject.
                    let s = &upload.store;
                    let body = std::mem::take(&mut upload.buffer).freeze();
                    return s
                        .client
                        .put_object()
                        .bucket(&s.bucket)
                        .key(&upload.key)
                        .content_type(&upload.content_type)
                        .set_server_side_encryption(s.sse.clone())
                        .body(ByteStream::from(body))
                        .set_checksum_algorithm(s.checksum.clone())
                        .customize()
                        .disable_payload_signing()
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| Unfinished {
                            error: unavailable(aws_sdk_s3::error::DisplayErrorContext(&e)),
                            leftover: None,
                        });
                }
                let completed = async {
                    if !upload.buffer.is_empty() {
                        upload.send_part().await?;
                    }
                    upload.settle().await?;
                    let s = &upload.store;
                    s.client
                        .complete_multipart_upload()
                        .bucket(&s.bucket)
                        .key(&upload.key)
                        .upload_id(upload.upload_id.as_deref().unwrap_or_default())
                        .multipart_upload(
                            CompletedMultipartUpload::builder().set_parts(Some(upload.parts.clone())).build(),
                        )
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(&e)))
                }
                .await;
                match completed {
                    Ok(()) => {
                        unregister(upload.ticket);
                        Ok(())
                    }
                    Err(error) => Err(Unfinished { error, leftover: Self::S3(upload).abort().await }),
                }
            }
        }
    }

    /// Gives up: removes the partial file, or aborts the multipart upload so no
    /// parts stay behind. When storage cannot be reached for that, returns what
    /// is left over, for [`cleanup`] to remove later.
    pub async fn abort(self) -> Option<Leftover> {
        match self {
            Self::Local { file, partial, path, ticket } => {
                // Unregistered only once done: if this future is dropped half-way
                // (a shutdown), the entry stays for `abort_open_uploads`.
                drop(file);
                let removed = tokio::fs::remove_file(&partial).await;
                unregister(Some(ticket));
                match removed {
                    Ok(()) => None,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => {
                        tracing::warn!(path = %partial.display(), error = %e, "could not remove a partial upload");
                        Some(Leftover { key: path.with_extension("partial").display().to_string(), upload_id: None })
                    }
                }
            }
            Self::S3(mut upload) => {
                // A part still being sent would land after the abort and stay behind.
                if let Some(sending) = upload.sending.take() {
                    let _ = sending.await;
                }
                unregister(upload.ticket);
                let upload_id = upload.upload_id.clone()?;
                let s = &upload.store;
                let aborted = s
                    .client
                    .abort_multipart_upload()
                    .bucket(&s.bucket)
                    .key(&upload.key)
                    .upload_id(&upload_id)
                    .send()
                    .await;
                match aborted {
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(key = %upload.key, error = %aws_sdk_s3::error::DisplayErrorContext(&e), "could not abort a multipart upload");
                        Some(Leftover { key: upload.key.clone(), upload_id: Some(upload_id) })
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_leave_the_local_root() {
        let root = Path::new("/data/documents");
        assert!(local_path(root, "firms/a/matters/b/documents/c").is_ok());
        for bad in ["", "../etc/passwd", "/etc/passwd", "firms/../../x", "./x"] {
            assert!(local_path(root, bad).is_err(), "{bad}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parts_in_memory_never_exceed_the_budget() -> Result<()> {
        let budget = PartBudget::new(20);
        assert_eq!(budget.mib(), 20);
        let held = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let (budget, held, most) = (budget.clone(), held.clone(), most.clone());
                tokio::spawn(async move {
                    for _ in 0..5 {
                        let permit = budget.part().await?;
                        let now = held.fetch_add(u64::from(PART_MIB), Ordering::SeqCst) + u64::from(PART_MIB);
                        most.fetch_max(now, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        held.fetch_sub(u64::from(PART_MIB), Ordering::SeqCst);
                        drop(permit);
                    }
                    Ok::<_, Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.map_err(|e| Error::Internal(e.into()))??;
        }
        // 20 MiB hold two 8 MiB parts at most, never a third.
        assert!(most.load(Ordering::SeqCst) <= 16, "{most:?} MiB held at once");
        assert_eq!(budget.available_mib(), 20, "every part gave its budget back");
        Ok(())
    }

    #[tokio::test]
    async fn a_waiting_part_goes_on_once_a_part_is_sent() -> Result<()> {
        let budget = PartBudget::new(16);
        let (first, second) = (budget.part().await?, budget.part().await?);
        assert_eq!(budget.available_mib(), 0);
        let waiter = tokio::spawn({
            let budget = budget.clone();
            async move { budget.part().await }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiter.is_finished(), "a third part fits no 16 MiB budget");
        drop(first);
        let third = waiter.await.map_err(|e| Error::Internal(e.into()))??;
        assert_eq!(budget.available_mib(), 0);
        drop((second, third));
        assert_eq!(budget.available_mib(), 16);
        Ok(())
    }

    #[tokio::test]
    async fn a_budget_below_one_part_still_lets_one_part_through() -> Result<()> {
        let budget = PartBudget::new(1);
        assert_eq!(budget.mib(), PART_MIB);
        drop(budget.part().await?);
        assert_eq!(budget.available_mib(), PART_MIB as usize);
        Ok(())
    }

    #[test]
    fn attachment_names_survive_unicode_and_quotes() {
        assert_eq!(
            attachment("factura médica \"1\".pdf"),
            "attachment; filename=\"factura m_dica _1_.pdf\"; filename*=UTF-8''factura%20m%C3%A9dica%20%221%22.pdf"
        );
    }
}
