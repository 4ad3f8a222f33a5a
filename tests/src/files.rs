//! Sample files for upload tests: real format signatures, padded to a size,
//! and bodies streamed without holding them in memory.

use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};

/// A PDF of `size` bytes (a valid header, then filler).
pub fn pdf(size: usize) -> Vec<u8> {
    padded(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", size)
}

/// A JPEG of `size` bytes (a JFIF header, then filler).
pub fn jpeg(size: usize) -> Vec<u8> {
    padded(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00], size)
}

/// A PNG of `size` bytes (signature and IHDR, then filler).
pub fn png(size: usize) -> Vec<u8> {
    padded(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00", size)
}

/// A Windows executable (the "MZ" header).
pub fn exe() -> Vec<u8> {
    padded(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00", 4096)
}

/// Filler that is not all zeros, so compression or deduplication cannot hide bugs.
fn padded(header: &[u8], size: usize) -> Vec<u8> {
    let mut bytes = header.to_vec();
    let mut x: u32 = 2_463_534_242;
    while bytes.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push((x & 0xFF) as u8);
    }
    bytes.truncate(size.max(header.len()));
    bytes
}

/// Hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A PDF body of `size` bytes generated 1 MiB at a time (never held whole),
/// and the SHA-256 it will have.
pub fn streamed_pdf(size: u64) -> (impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static, String) {
    const CHUNK: u64 = 1024 * 1024;
    let block = Bytes::from(pdf(CHUNK as usize));
    let mut hasher = Sha256::new();
    let mut left = size;
    while left > 0 {
        let n = left.min(CHUNK) as usize;
        hasher.update(&block[..n]);
        left -= n as u64;
    }
    let digest = hex::encode(hasher.finalize());
    let stream = futures_util::stream::unfold(size, move |left| {
        let block = block.clone();
        async move {
            if left == 0 {
                return None;
            }
            let n = left.min(CHUNK);
            Some((Ok(block.slice(..n as usize)), left - n))
        }
    });
    (stream, digest)
}

/// Like [`streamed_pdf`], but the stream stops after `pause_after` bytes until `resume` fires.
pub fn paused_pdf(
    size: u64,
    pause_after: u64,
    resume: tokio::sync::oneshot::Receiver<()>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    const CHUNK: u64 = 1024 * 1024;
    let block = Bytes::from(pdf(CHUNK as usize));
    futures_util::stream::unfold((0u64, Some(resume)), move |(sent, mut resume)| {
        let block = block.clone();
        async move {
            if sent >= size {
                return None;
            }
            if sent >= pause_after
                && let Some(signal) = resume.take()
            {
                let _ = signal.await;
            }
            let n = (size - sent).min(CHUNK);
            Some((Ok(block.slice(..n as usize)), (sent + n, resume)))
        }
    })
}

/// The resident memory of this process, in bytes (from /proc/self/status).
pub fn resident_bytes() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))?;
    Ok(kb * 1024)
}
