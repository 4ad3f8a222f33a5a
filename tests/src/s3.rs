//! A private S3-compatible server (s3s-fs) that a test may stop and start
//! again on the same port and folder, to see what the portal does meanwhile.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::services;

/// A private s3s-fs the test may stop and start again on the same port and folder.
pub struct PrivateS3 {
    port: u16,
    root: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateS3 {
    /// Starts one on a free port with an empty folder.
    pub fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut s3 = Self { port, root: tempfile::tempdir()?, child: None };
        s3.restart()?;
        Ok(s3)
    }

    /// Starts it (again).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let key = std::env::var("AWS_ACCESS_KEY_ID")?;
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY")?;
        let child = Command::new(services::s3s_binary()?)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--access-key",
                &key,
                "--secret-key",
                &secret,
            ])
            .arg(self.root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "s3s-fs did not start on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Stops it (SIGKILL).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Its URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// s3s-fs's files for unfinished multipart uploads (parts, upload records, their metadata).
    pub fn staging_files(&self) -> anyhow::Result<Vec<String>> {
        Ok(std::fs::read_dir(self.root.path())?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".upload"))
            .collect())
    }
}

impl Drop for PrivateS3 {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The unfinished multipart uploads s3s-fs (0.14) holds for `bucket` under its
/// folder `root`, as (object key, upload id). s3s-fs does not implement
/// ListMultipartUploads; it keeps each open upload as files at its root:
/// `.bucket-{b64(bucket)}.object-{b64(key)}.upload-{id}.metadata.json` (from
/// CreateMultipartUpload until Complete or Abort), `.upload-{id}.json` and
/// `.upload_id-{id}.part-{n}` (b64: URL-safe base64 without padding). The
/// first names the bucket, so tests sharing one server see only their own.
pub fn unfinished_uploads(root: &std::path::Path, bucket: &str) -> anyhow::Result<Vec<(String, String)>> {
    let prefix = format!(".bucket-{}.object-", base64_url(bucket.as_bytes()));
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".metadata.json")) else { continue };
        let Some((key, upload_id)) = rest.split_once(".upload-") else { continue };
        found.push((String::from_utf8_lossy(&base64_url_decode(key)?).into_owned(), upload_id.to_owned()));
    }
    found.sort();
    Ok(found)
}

/// Files at the root of s3s-fs that belong to multipart upload `upload_id` (its record and parts).
pub fn upload_files(root: &std::path::Path, upload_id: &str) -> anyhow::Result<Vec<String>> {
    let (record, parts) = (format!(".upload-{upload_id}.json"), format!(".upload_id-{upload_id}.part-"));
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name == record || name.starts_with(&parts) {
            found.push(name);
        }
    }
    Ok(found)
}

const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding, as s3s-fs names its files.
fn base64_url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64_URL[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn base64_url_decode(text: &str) -> anyhow::Result<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let value = BASE64_URL.iter().position(|b| *b == c).ok_or_else(|| anyhow::anyhow!("not base64url: {text}"))?;
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(((bits >> count) & 0xFF) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_as_s3s_fs_encodes_them() -> anyhow::Result<()> {
        // Values from RFC 4648's test vectors, in the URL-safe alphabet without padding.
        for (plain, encoded) in
            [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE")]
        {
            assert_eq!(base64_url(plain.as_bytes()), encoded);
            assert_eq!(base64_url_decode(encoded)?, plain.as_bytes());
        }
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8", "the URL-safe letters");
        Ok(())
    }
}
