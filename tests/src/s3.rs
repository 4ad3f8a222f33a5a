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
