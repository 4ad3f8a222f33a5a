//! Load for the fault and load suites: signed-in clients browsing (the matter
//! page and the JSON API) and uploading real files, counted by status and
//! timed; and the check that every upload the portal acknowledged has its
//! database row and its object, with the SHA-256 of the bytes sent.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::multipart::{Form, Part};
use shared::db::schema::documents;

use crate::TestApp;
use crate::files::{self, sha256};

/// A signed-in client: their session token and matter.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The session token (sent as the session cookie to pages, as a bearer token to the API).
    pub token: String,
    /// Their matter.
    pub matter_id: String,
}

impl TestApp {
    /// `n` new clients of the demo firm, each signed in with a session of their own.
    pub async fn visitors(&self, demo: &crate::fixtures::Demo, n: usize) -> anyhow::Result<Vec<Visitor>> {
        let ids = self.add_clients(demo, n).await?;
        let mut visitors = Vec::with_capacity(n);
        for id in ids {
            let matter_id = {
                let id = id.clone();
                self.state
                    .db
                    .run(move |c| {
                        use shared::db::schema::matter_clients;
                        Ok(matter_clients::table
                            .filter(matter_clients::client_id.eq(&id))
                            .select(matter_clients::matter_id)
                            .first::<String>(c)?)
                    })
                    .await?
            };
            visitors.push(Visitor { token: self.session_token(&id).await?, matter_id });
        }
        Ok(visitors)
    }
}

/// An upload the portal acknowledged (201, listed as stored).
#[derive(Debug, Clone)]
pub struct Acknowledged {
    /// The document id it answered.
    pub id: String,
    /// SHA-256 of the bytes sent.
    pub sha256: String,
    /// Bytes sent.
    pub size: usize,
}

/// What one answer was, for the tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// GET of the matter page (HTML).
    Page,
    /// GET of the JSON API.
    Api,
    /// POST of a document.
    Upload,
}

/// Every answer of a run: counts by status, latencies, acknowledged uploads,
/// and the first unexpected answers in full, for the failure message.
#[derive(Default)]
pub struct Tally {
    statuses: std::sync::Mutex<BTreeMap<(Kind, u16), u64>>,
    latencies: std::sync::Mutex<BTreeMap<Kind, Vec<Duration>>>,
    acknowledged: std::sync::Mutex<Vec<Acknowledged>>,
    /// 201 answers whose report does not name the bytes sent (another SHA-256, no file).
    altered: std::sync::Mutex<Vec<String>>,
    transport_errors: AtomicU64,
    notes: std::sync::Mutex<Vec<(Option<u16>, String)>>,
    upload_bytes: AtomicU64,
    keep_alive_retries: AtomicU64,
}

impl Tally {
    fn count(&self, kind: Kind, status: u16, took: Duration) {
        if let Ok(mut s) = self.statuses.lock() {
            *s.entry((kind, status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latencies.lock() {
            l.entry(kind).or_default().push(took);
        }
    }

    fn note(&self, status: Option<u16>, text: String) {
        if let Ok(mut n) = self.notes.lock()
            && n.len() < 20
        {
            n.push((status, text));
        }
    }

    /// Requests sent (answered or not).
    pub fn requests(&self) -> u64 {
        self.statuses.lock().map(|s| s.values().sum()).unwrap_or(0) + self.transport_errors.load(Ordering::Relaxed)
    }

    /// Answers with `status`, of any kind.
    pub fn with_status(&self, pred: impl Fn(u16) -> bool) -> u64 {
        self.statuses.lock().map(|s| s.iter().filter(|((_, st), _)| pred(*st)).map(|(_, n)| *n).sum()).unwrap_or(0)
    }

    /// Requests that got no HTTP answer at all (connection reset, timeout).
    pub fn transport_errors(&self) -> u64 {
        self.transport_errors.load(Ordering::Relaxed)
    }

    /// Counts by (kind, status).
    pub fn statuses(&self) -> BTreeMap<(Kind, u16), u64> {
        self.statuses.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The uploads the portal acknowledged.
    pub fn acknowledged(&self) -> Vec<Acknowledged> {
        self.acknowledged.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Uploads answered 201 whose report names other bytes than those sent (another
    /// SHA-256) or no stored file at all: each is an acknowledged upload altered.
    pub fn altered(&self) -> Vec<String> {
        self.altered.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// GETs sent again because the server closed their kept-alive connection as they were sent.
    pub fn keep_alive_retries(&self) -> u64 {
        self.keep_alive_retries.load(Ordering::Relaxed)
    }

    /// Bytes of the acknowledged uploads.
    pub fn upload_bytes(&self) -> u64 {
        self.upload_bytes.load(Ordering::Relaxed)
    }

    /// The first answers other than 200/201, in full (status `None`: no answer).
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().map(|n| n.iter().map(|(_, text)| text.clone()).collect()).unwrap_or_default()
    }

    /// The `p`th percentile (0–100) of the latencies of `kind`, in milliseconds.
    pub fn percentile_ms(&self, kind: Kind, p: f64) -> f64 {
        let Ok(mut all) = self.latencies.lock() else { return 0.0 };
        let Some(list) = all.get_mut(&kind) else { return 0.0 };
        if list.is_empty() {
            return 0.0;
        }
        list.sort_unstable();
        let rank = ((p / 100.0) * (list.len() - 1) as f64).round() as usize;
        list[rank.min(list.len() - 1)].as_secs_f64() * 1000.0
    }

    /// A markdown table of answers by kind and status, then the first answers
    /// other than 200/201 and `expected` in full (with the error's causes when
    /// there was no answer).
    pub fn status_table(&self, expected: &[u16]) -> String {
        let mut out = String::from("| request | status | answers |\n|---|---|---|\n");
        for ((kind, status), n) in self.statuses() {
            out.push_str(&format!("| {kind:?} | {status} | {n} |\n"));
        }
        if self.transport_errors() > 0 {
            out.push_str(&format!("| any | no answer | {} |\n", self.transport_errors()));
        }
        let notes: Vec<String> = self
            .notes
            .lock()
            .map(|n| {
                n.iter()
                    .filter(|(status, _)| !status.is_some_and(|s| expected.contains(&s)))
                    .map(|(_, t)| t.clone())
                    .collect()
            })
            .unwrap_or_default();
        if !notes.is_empty() {
            out.push_str("\nFirst unexpected answers:\n\n");
            for note in notes {
                out.push_str(&format!("- `{}`\n", note.replace('`', "'").replace('\n', " ")));
            }
        }
        out
    }
}

/// An error with its causes, for the failure message ("error sending request" alone says nothing).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// A client for the load: one connection pool shared by every simulated
/// client, like a crowd behind one proxy. Idle connections are dropped after
/// 2 s, well before the portal's 30 s keep-alive closes them: a request sent on a
/// connection the server is closing at that instant gets no answer, and that
/// race is the client's to avoid (browsers retry such a GET; this test does not).
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .pool_max_idle_per_host(256)
        .build()?)
}

/// Browses as `visitor` until `stop`: the matter page, the matter in the API, the list of matters.
pub async fn browse(client: reqwest::Client, base: String, visitor: Visitor, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    let page = format!("{base}/matters/{}", visitor.matter_id);
    let api = format!("{base}/api/v1/matters/{}", visitor.matter_id);
    let list = format!("{base}/api/v1/matters");
    let cookie = format!("{}={}", portal::session::SESSION_COOKIE, visitor.token);
    let bearer = format!("Bearer {}", visitor.token);
    let mut turn = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let (kind, request) = match turn % 3 {
            0 => (Kind::Page, client.get(&page).header("Cookie", &cookie)),
            1 => (Kind::Api, client.get(&api).header("Authorization", &bearer)),
            _ => (Kind::Api, client.get(&list).header("Authorization", &bearer)),
        };
        turn += 1;
        let started = Instant::now();
        let retry = request.try_clone();
        let mut sent = request.send().await;
        // A GET sent on a kept-alive connection the server closed at that instant
        // (a clean close, or a reset when the request arrived as it closed) is
        // sent again once, as browsers do (RFC 9112 §9.3.1); counted as a figure.
        if let (Err(e), Some(again)) = (&sent, retry)
            && (causes(e).contains("connection closed before message completed")
                || causes(e).contains("Connection reset by peer"))
        {
            tally.keep_alive_retries.fetch_add(1, Ordering::Relaxed);
            sent = again.send().await;
        }
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                tally.count(kind, status, started.elapsed());
                if status != 200 {
                    tally.note(
                        Some(status),
                        format!(
                            "{kind:?} {status} after {} ms: {}",
                            started.elapsed().as_millis(),
                            body.chars().take(300).collect::<String>()
                        ),
                    );
                }
            }
            Err(e) => {
                tally.transport_errors.fetch_add(1, Ordering::Relaxed);
                tally.note(
                    None,
                    format!("{kind:?}: no answer after {} ms: {}", started.elapsed().as_millis(), causes(&e)),
                );
            }
        }
    }
}

/// A file to upload: unique bytes (a counter written into the filler), a name and its SHA-256.
pub fn unique_file(seq: u64, size: usize) -> (Vec<u8>, String, String) {
    let (mut bytes, name) = if seq.is_multiple_of(2) {
        (files::pdf(size), format!("records-{seq}.pdf"))
    } else {
        (files::jpeg(size), format!("photo-{seq}.jpg"))
    };
    // After the header, so the type is still recognised.
    let at = 64.min(bytes.len().saturating_sub(8));
    bytes[at..at + 8].copy_from_slice(&seq.to_le_bytes());
    let digest = sha256(&bytes);
    (bytes, name, digest)
}

/// Uploads files of `sizes` (in turn) as `visitor` until `stop`; `seq` numbers them across uploaders.
pub async fn upload(
    client: reqwest::Client,
    base: String,
    visitor: Visitor,
    sizes: Vec<usize>,
    seq: Arc<AtomicU64>,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) {
    let url = format!("{base}/api/v1/matters/{}/documents", visitor.matter_id);
    let bearer = format!("Bearer {}", visitor.token);
    let mut turn = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let n = seq.fetch_add(1, Ordering::Relaxed);
        let size = sizes[turn % sizes.len().max(1)];
        turn += 1;
        // Making the file and its SHA-256 (unoptimised in the test build) takes a CPU for a
        // good part of a second: off the runtime, or the load generator's own connections
        // starve (their request heads left unsent) while the portal waits for them.
        let Ok((bytes, name, digest)) = tokio::task::spawn_blocking(move || unique_file(n, size)).await else { return };
        let len = bytes.len();
        let Ok(part) = Part::bytes(bytes).file_name(name).mime_str("application/octet-stream") else { return };
        let started = Instant::now();
        let sent = client.post(&url).header("Authorization", &bearer).multipart(Form::new().part("file", part)).send();
        match sent.await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                tally.count(Kind::Upload, status, started.elapsed());
                if status == 201 {
                    let report: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                    let stored = &report["stored"][0];
                    match (stored["id"].as_str(), stored["sha256"].as_str()) {
                        (Some(id), Some(answered)) if answered == digest => {
                            if let Ok(mut a) = tally.acknowledged.lock() {
                                a.push(Acknowledged { id: id.to_owned(), sha256: digest, size: len });
                            }
                            tally.upload_bytes.fetch_add(len as u64, Ordering::Relaxed);
                        }
                        (id, answered) => {
                            let what = format!(
                                "upload {} ({len} bytes, SHA-256 {digest}) answered 201 with document {id:?} and \
                                 SHA-256 {answered:?}: {}",
                                n,
                                body.chars().take(300).collect::<String>()
                            );
                            if let Ok(mut a) = tally.altered.lock() {
                                a.push(what.clone());
                            }
                            tally.note(Some(status), what);
                        }
                    }
                } else {
                    tally.note(
                        Some(status),
                        format!(
                            "Upload {status} after {} ms: {}",
                            started.elapsed().as_millis(),
                            body.chars().take(300).collect::<String>()
                        ),
                    );
                }
            }
            Err(e) => {
                tally.transport_errors.fetch_add(1, Ordering::Relaxed);
                tally.note(
                    None,
                    format!("Upload: no answer after {} ms: {}", started.elapsed().as_millis(), causes(&e)),
                );
            }
        }
    }
}

/// Acknowledged uploads whose row is missing, whose row has another SHA-256, or
/// whose object is missing or differs from what was sent; each with the reason.
/// (A 201 that named other bytes than those sent is in [`Tally::altered`].)
pub async fn lost_uploads(app: &TestApp, acknowledged: &[Acknowledged]) -> anyhow::Result<Vec<String>> {
    let mut lost = Vec::new();
    let ids: Vec<String> = acknowledged.iter().map(|a| a.id.clone()).collect();
    let rows: BTreeMap<String, (String, String, i64)> = app
        .state
        .db
        .run(move |c| {
            let mut found = BTreeMap::new();
            for chunk in ids.chunks(500) {
                let rows: Vec<(String, String, String, i64)> = documents::table
                    .filter(documents::id.eq_any(chunk))
                    .select((documents::id, documents::object_key, documents::sha256, documents::size_bytes))
                    .load(c)?;
                for (id, key, digest, size) in rows {
                    found.insert(id, (key, digest, size));
                }
            }
            Ok(found)
        })
        .await?;
    for a in acknowledged {
        let Some((key, digest, size)) = rows.get(&a.id) else {
            lost.push(format!("{}: no database row", a.id));
            continue;
        };
        if *digest != a.sha256 || *size != a.size as i64 {
            lost.push(format!(
                "{}: the row says {digest} ({size} bytes), {} ({} bytes) was sent",
                a.id, a.sha256, a.size
            ));
            continue;
        }
        match app.state.storage.fetch(key).await {
            Ok(bytes) if sha256(&bytes) == a.sha256 => {}
            Ok(bytes) => lost.push(format!("{}: the object's SHA-256 is {}", a.id, sha256(&bytes))),
            Err(e) => lost.push(format!("{}: no object: {e}", a.id)),
        }
    }
    Ok(lost)
}

/// Browsers and uploaders running until [`Running::finish`]: the shared start
/// and stop of the load and restart suites.
pub struct Running {
    /// What was answered so far.
    pub tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Starts `visitors[..browsers]` browsing and the rest uploading; uploader
    /// `i` sends files of `sizes(i)` bytes in turn.
    pub fn start(
        client: &reqwest::Client,
        base: &str,
        visitors: &[Visitor],
        browsers: usize,
        sizes: impl Fn(usize) -> Vec<usize>,
    ) -> Self {
        let (tally, stop, seq) =
            (Arc::new(Tally::default()), Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let mut tasks = Vec::new();
        for v in &visitors[..browsers] {
            tasks.push(tokio::spawn(browse(client.clone(), base.to_owned(), v.clone(), tally.clone(), stop.clone())));
        }
        for (i, v) in visitors[browsers..].iter().enumerate() {
            tasks.push(tokio::spawn(upload(
                client.clone(),
                base.to_owned(),
                v.clone(),
                sizes(i),
                seq.clone(),
                tally.clone(),
                stop.clone(),
            )));
        }
        Self { tally, stop, tasks }
    }

    /// Stops every task after its request in flight and waits for them.
    pub async fn finish(self) -> anyhow::Result<Arc<Tally>> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await?;
        }
        Ok(self.tally)
    }
}
