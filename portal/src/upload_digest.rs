//! An upload's SHA-256, computed while the upload goes on: the chunks that
//! arrived are hashed in batches on tokio's blocking pool while the
//! connection's worker receives the next ones and the part before goes to
//! storage. One batch of an upload is hashed at a time (SHA-256 is
//! sequential), and the whole process hashes at most [`hashing_lanes`]
//! batches at once, so twenty uploads share those lanes instead of each taking
//! a core from the workers that answer other requests (a thread per upload
//! did that: see BENCHMARKS.md, third round).
//!
//! ring's SHA-256 (assembly) runs about twice as fast as the `sha2` crate on
//! CPUs without SHA extensions.

use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use ring::digest::{Context, SHA256};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Bytes gathered before they are handed to a hashing lane: large enough that
/// the hand-off (tens of microseconds) is lost in the hashing (a few
/// milliseconds), small enough that an upload holds little besides its part.
pub const BATCH_BYTES: usize = 1024 * 1024;

/// Batches hashed at once in the whole process: half the cores (at least one),
/// leaving the other half to the workers.
pub fn hashing_lanes() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

static LANES: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(hashing_lanes())));

/// Why the digest could not be computed (the runtime is shutting down).
#[derive(Debug)]
pub struct Stopped(String);

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hashing the upload stopped: {}", self.0)
    }
}

impl std::error::Error for Stopped {}

/// The SHA-256 of the chunks given to [`UploadDigest::update`], in order.
pub struct UploadDigest {
    /// The context, when no batch is being hashed.
    idle: Option<Context>,
    /// The batch being hashed; it hands the context back.
    running: Option<JoinHandle<Context>>,
    /// Chunks waiting for the next batch.
    pending: Vec<Bytes>,
    pending_bytes: usize,
}

impl Default for UploadDigest {
    fn default() -> Self {
        Self { idle: Some(Context::new(&SHA256)), running: None, pending: Vec::new(), pending_bytes: 0 }
    }
}

impl UploadDigest {
    /// Adds a chunk (no copy: it is kept until its batch is hashed). Waits
    /// only when a batch is ready while the one before is still being hashed.
    pub async fn update(&mut self, chunk: Bytes) -> Result<(), Stopped> {
        self.pending_bytes += chunk.len();
        self.pending.push(chunk);
        if self.pending_bytes >= BATCH_BYTES {
            self.hand_off().await?;
        }
        Ok(())
    }

    /// The context, once the batch being hashed (if any) is done.
    async fn context(&mut self) -> Result<Context, Stopped> {
        match self.running.take() {
            Some(batch) => batch.await.map_err(|e| Stopped(e.to_string())),
            None => self.idle.take().ok_or_else(|| Stopped("no hashing context".to_owned())),
        }
    }

    /// Starts hashing the pending chunks on a lane.
    async fn hand_off(&mut self) -> Result<(), Stopped> {
        let mut context = self.context().await?;
        let batch = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let lane = LANES.clone().acquire_owned().await.map_err(|e| Stopped(e.to_string()))?;
        self.running = Some(tokio::task::spawn_blocking(move || {
            for chunk in &batch {
                context.update(chunk);
            }
            drop(lane);
            context
        }));
        Ok(())
    }

    /// The digest, hex. A body smaller than one batch is hashed here at once.
    pub async fn finish(mut self) -> Result<String, Stopped> {
        let mut context = self.context().await?;
        // What is left is less than a batch: a few milliseconds at most.
        for chunk in &self.pending {
            context.update(chunk);
        }
        Ok(hex::encode(context.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_digest_is_the_sha256_of_the_chunks_in_order() -> Result<(), Stopped> {
        let data: Vec<u8> = (0..5 * BATCH_BYTES + 12_345).map(|i| (i * 7 % 251) as u8).collect();
        let mut digest = UploadDigest::default();
        // Uneven chunks, as a multipart body delivers them.
        let mut rest = &data[..];
        let mut size = 1;
        while !rest.is_empty() {
            let (now, later) = rest.split_at(size.min(rest.len()));
            digest.update(Bytes::copy_from_slice(now)).await?;
            rest = later;
            size = size * 3 % 200_003 + 1;
        }
        assert_eq!(digest.finish().await?, hex::encode(ring::digest::digest(&SHA256, &data)));
        Ok(())
    }

    #[tokio::test]
    async fn an_empty_or_small_body_is_hashed_too() -> Result<(), Stopped> {
        assert_eq!(UploadDigest::default().finish().await?, hex::encode(ring::digest::digest(&SHA256, b"")));
        let mut digest = UploadDigest::default();
        digest.update(Bytes::from_static(b"%PDF-1.7")).await?;
        assert_eq!(digest.finish().await?, hex::encode(ring::digest::digest(&SHA256, b"%PDF-1.7")));
        Ok(())
    }
}
