//! The SHA-256 of a file being uploaded, computed beside the upload.
//!
//! Hashing is the largest cost of receiving a file (without SHA extensions in
//! the CPU it runs at a few hundred MB/s, about what a disk-backed S3 server
//! accepts), so it runs on a blocking-pool thread while the request's worker
//! goes on parsing the body and filling the next storage part. Chunks are
//! handed over by reference count, not copied, a quarter MiB at a time; the
//! queue is bounded, so a hasher that falls behind slows the upload instead
//! of holding its bytes.

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Bytes gathered before they are handed to the hashing thread: multipart
/// chunks are a few KiB, and one hand-over (a wake-up of the other thread)
/// per chunk would cost more than it saves.
const HAND_OVER: usize = 256 * 1024;
/// Hand-overs waiting at most: the hasher is at most about 4 MiB behind, and
/// an upload it cannot keep up with waits for it.
const QUEUE: usize = 16;

/// A SHA-256 running on its own thread.
pub struct BackgroundSha256 {
    gathered: Vec<Bytes>,
    gathered_len: usize,
    hand_overs: mpsc::Sender<Vec<Bytes>>,
    digest: JoinHandle<String>,
}

impl BackgroundSha256 {
    /// Starts an empty hash.
    pub fn start() -> Self {
        let (hand_overs, mut queue) = mpsc::channel::<Vec<Bytes>>(QUEUE);
        let digest = tokio::task::spawn_blocking(move || {
            let mut context = ring::digest::Context::new(&ring::digest::SHA256);
            while let Some(chunks) = queue.blocking_recv() {
                for chunk in chunks {
                    context.update(&chunk);
                }
            }
            hex::encode(context.finish())
        });
        Self { gathered: Vec::new(), gathered_len: 0, hand_overs, digest }
    }

    /// Adds `chunk` (a reference-counted handle to the same bytes, not a copy).
    /// Waits only when the hasher is [`QUEUE`] hand-overs behind.
    pub async fn update(&mut self, chunk: Bytes) -> Result<(), Lost> {
        self.gathered_len += chunk.len();
        self.gathered.push(chunk);
        if self.gathered_len < HAND_OVER {
            return Ok(());
        }
        self.gathered_len = 0;
        self.hand_overs.send(std::mem::take(&mut self.gathered)).await.map_err(|_| Lost)
    }

    /// The lowercase hex digest of everything added.
    pub async fn finish(self) -> Result<String, Lost> {
        if !self.gathered.is_empty() {
            self.hand_overs.send(self.gathered).await.map_err(|_| Lost)?;
        }
        drop(self.hand_overs);
        self.digest.await.map_err(|_| Lost)
    }
}

/// The hashing thread stopped before the end (it panicked or the runtime is
/// shutting down): the digest is unknown, so the file must not be recorded.
#[derive(Debug)]
pub struct Lost;

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the checksum of the upload could not be computed")
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[tokio::test]
    async fn matches_a_one_shot_sha256_over_many_chunks() {
        let data: Vec<u8> = (0..1_000_003u32).map(|i| (i * 7 + i / 255) as u8).collect();
        let mut hash = BackgroundSha256::start();
        for piece in data.chunks(4093) {
            assert!(hash.update(Bytes::copy_from_slice(piece)).await.is_ok());
        }
        let digest = hash.finish().await.expect("digest");
        assert_eq!(digest, hex::encode(Sha256::digest(&data)));
    }

    #[tokio::test]
    async fn an_empty_file_has_the_empty_digest() {
        let digest = BackgroundSha256::start().finish().await.expect("digest");
        assert_eq!(digest, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
