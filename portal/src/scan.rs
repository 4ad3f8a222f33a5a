//! Virus scanning with clamd (the ClamAV daemon), over its INSTREAM command:
//! an upload's bytes are sent to clamd as they arrive, beside the storage
//! upload, and clamd's verdict decides whether the object is finished.
//!
//! The protocol (clamd(8)): the command `zINSTREAM\0`, then the data as chunks
//! each led by its length (4 bytes, big-endian), then a chunk of length zero;
//! clamd answers one NUL-terminated line: `stream: OK`, `stream: NAME FOUND`,
//! or `… ERROR` (e.g. `INSTREAM size limit exceeded. ERROR` once the stream is
//! longer than its `StreamMaxLength`, after which it closes the connection).
//! `zPING\0` is answered `PONG`. Every step has a time limit, so a clamd that
//! hangs costs an upload [`REPLY_TIMEOUT`] at most, never a stuck connection.

use std::fmt;
use std::io;
use std::time::Duration;

use bytes::Buf;
use shared::config::ClamdUrl;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How long connecting to clamd may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one write to clamd may wait (clamd reads as fast as it can: a
/// write that waits this long means it is stuck).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long clamd may take to answer after the last byte (it scans then: a
/// large PDF or archive takes seconds; clamd's own limit, `MaxScanTime`, is 120 s).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(150);
/// The longest answer read from clamd.
const MAX_REPLY: usize = 4096;
/// The largest chunk sent at once (clamd takes any chunk up to `StreamMaxLength`).
const MAX_CHUNK: usize = 1 << 20;

/// What clamd found in a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing: `stream: OK`.
    Clean,
    /// Malware, with the name of the signature that matched.
    Infected(String),
}

/// Why a file could not be checked.
#[derive(Debug)]
pub enum ScanError {
    /// clamd could not be reached (refused, unreachable, no such socket).
    Connect(io::Error),
    /// clamd did not answer (or take data) in time; names the step.
    TimedOut(&'static str),
    /// The connection failed while sending or reading.
    Io(io::Error),
    /// The stream is longer than clamd's `StreamMaxLength`.
    SizeLimit,
    /// clamd answered with an error, or with something that is not an answer.
    Clamd(String),
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "cannot connect to clamd: {e}"),
            Self::TimedOut(step) => write!(f, "clamd did not answer in time ({step})"),
            Self::Io(e) => write!(f, "the connection to clamd failed: {e}"),
            Self::SizeLimit => f.write_str(
                "the file is longer than clamd's StreamMaxLength (raise it to MATTERLINE_MAX_UPLOAD_BYTES or more)",
            ),
            Self::Clamd(reply) => write!(f, "clamd answered {reply:?}"),
        }
    }
}

impl std::error::Error for ScanError {}

/// A connection to clamd: TCP or a Unix socket.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

/// `step` within `limit`, a time-out named after `what`.
async fn within<T>(
    limit: Duration,
    what: &'static str,
    step: impl Future<Output = io::Result<T>>,
) -> Result<T, ScanError> {
    match tokio::time::timeout(limit, step).await {
        Ok(done) => done.map_err(ScanError::Io),
        Err(_) => Err(ScanError::TimedOut(what)),
    }
}

async fn connect(url: &ClamdUrl) -> Result<Box<dyn Connection>, ScanError> {
    let connected: io::Result<Box<dyn Connection>> = match tokio::time::timeout(CONNECT_TIMEOUT, async {
        match url {
            ClamdUrl::Tcp(address) => {
                let stream = tokio::net::TcpStream::connect(address.as_str()).await?;
                // The end of a stream is 4 bytes, then the answer is awaited: no Nagle delay.
                stream.set_nodelay(true)?;
                Ok(Box::new(stream) as Box<dyn Connection>)
            }
            #[cfg(unix)]
            ClamdUrl::Unix(path) => Ok(Box::new(tokio::net::UnixStream::connect(path).await?) as Box<dyn Connection>),
            #[cfg(not(unix))]
            ClamdUrl::Unix(_) => Err(io::Error::new(io::ErrorKind::Unsupported, "unix sockets need a Unix system")),
        }
    })
    .await
    {
        Ok(connected) => connected,
        Err(_) => return Err(ScanError::TimedOut("connect")),
    };
    connected.map_err(ScanError::Connect)
}

/// Reads clamd's answer: up to its terminating NUL (or the end of the
/// connection), without the NUL and surrounding white space.
async fn read_reply(conn: &mut (dyn Connection + '_)) -> io::Result<String> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
        if let Some(end) = reply.iter().position(|b| *b == 0) {
            reply.truncate(end);
            break;
        }
        if reply.len() > MAX_REPLY {
            reply.truncate(MAX_REPLY);
            break;
        }
    }
    Ok(String::from_utf8_lossy(&reply).trim().to_owned())
}

/// What clamd's answer to INSTREAM means.
pub fn parse_reply(reply: &str) -> Result<Verdict, ScanError> {
    if reply == "stream: OK" {
        return Ok(Verdict::Clean);
    }
    if let Some(name) = reply.strip_prefix("stream: ").and_then(|r| r.strip_suffix(" FOUND")) {
        let name = name.trim();
        if !name.is_empty() {
            // A signature name is short and printable; keep it so in logs and the audit row.
            let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
            return Ok(Verdict::Infected(name));
        }
    }
    if reply.contains("size limit exceeded") {
        return Err(ScanError::SizeLimit);
    }
    Err(ScanError::Clamd(reply.chars().filter(|c| !c.is_control()).take(200).collect()))
}

/// One stream being scanned: [`Scan::start`], [`Scan::write`] every chunk, [`Scan::finish`].
/// Dropping it closes the connection (clamd then forgets the stream).
pub struct Scan {
    conn: Box<dyn Connection>,
}

impl fmt::Debug for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scan")
    }
}

impl Scan {
    /// Connects to clamd and starts a stream.
    pub async fn start(url: &ClamdUrl) -> Result<Self, ScanError> {
        let mut conn = connect(url).await?;
        within(WRITE_TIMEOUT, "command", conn.write_all(b"zINSTREAM\0")).await?;
        Ok(Self { conn })
    }

    /// Sends `data` (of any length) as one or more chunks.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), ScanError> {
        for piece in data.chunks(MAX_CHUNK) {
            let length = u32::try_from(piece.len()).unwrap_or(u32::MAX).to_be_bytes();
            let mut chunk = Buf::chain(&length[..], piece);
            let sent = within(WRITE_TIMEOUT, "data", self.conn.write_all_buf(&mut chunk)).await;
            if let Err(e) = sent {
                return Err(self.why_cut_off(e).await);
            }
        }
        Ok(())
    }

    /// Ends the stream and waits for clamd's verdict.
    pub async fn finish(mut self) -> Result<Verdict, ScanError> {
        let ended = async {
            self.conn.write_all(&[0, 0, 0, 0]).await?;
            self.conn.flush().await
        };
        if let Err(e) = within(WRITE_TIMEOUT, "end of stream", ended).await {
            return Err(self.why_cut_off(e).await);
        }
        let reply = within(REPLY_TIMEOUT, "verdict", read_reply(self.conn.as_mut())).await?;
        parse_reply(&reply)
    }

    /// After a failed write: clamd closes the connection when a stream goes
    /// over its size limit, after saying so. That answer, if it came, says
    /// more than the broken pipe.
    async fn why_cut_off(&mut self, error: ScanError) -> ScanError {
        let said = tokio::time::timeout(Duration::from_secs(1), read_reply(self.conn.as_mut())).await;
        match said {
            Ok(Ok(reply)) if !reply.is_empty() => parse_reply(&reply).err().unwrap_or(error),
            _ => error,
        }
    }
}

/// Scans `data` whole (one stream).
pub async fn scan_bytes(url: &ClamdUrl, data: &[u8]) -> Result<Verdict, ScanError> {
    let mut scan = Scan::start(url).await?;
    scan.write(data).await?;
    scan.finish().await
}

/// Asks clamd `PING`; `Ok` when it answers `PONG`.
pub async fn ping(url: &ClamdUrl) -> Result<(), ScanError> {
    let mut conn = connect(url).await?;
    within(WRITE_TIMEOUT, "ping", conn.write_all(b"zPING\0")).await?;
    let reply = within(CONNECT_TIMEOUT, "ping", read_reply(conn.as_mut())).await?;
    if reply == "PONG" { Ok(()) } else { Err(ScanError::Clamd(reply)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_clamd_writes_them() {
        assert_eq!(parse_reply("stream: OK").ok(), Some(Verdict::Clean));
        assert_eq!(
            parse_reply("stream: Win.Test.EICAR_HDB-1 FOUND").ok(),
            Some(Verdict::Infected("Win.Test.EICAR_HDB-1".into()))
        );
        assert!(matches!(parse_reply("INSTREAM size limit exceeded. ERROR"), Err(ScanError::SizeLimit)));
        assert!(matches!(parse_reply("stream: FOUND"), Err(ScanError::Clamd(_))), "no signature named");
        assert!(matches!(parse_reply(""), Err(ScanError::Clamd(_))), "the connection closed without an answer");
        assert!(matches!(parse_reply("COMMAND READ TIMED OUT"), Err(ScanError::Clamd(_))));
        assert!(matches!(parse_reply("stream: OK FOUND?"), Err(ScanError::Clamd(_))));
    }
}
