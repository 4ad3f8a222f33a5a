//! The SMTP connections behind [`crate::mail::Mailer`]: a pool of at most
//! `MATTERLINE_SMTP_CONNECTIONS` connections, each with `TCP_NODELAY` set, and
//! an optional per-server rate limit (`MATTERLINE_SMTP_MAX_PER_SECOND`).
//!
//! lettre 0.11's own pooled transport never sets `TCP_NODELAY`, so each
//! command of a message waited on the server's delayed ACK (about 40 ms on
//! Linux): about 21 messages per second per connection whatever the server.
//! Here lettre still speaks SMTP ([`AsyncSmtpConnection`]), over a stream
//! this module connects itself ([`AsyncSmtpConnection::connect_with_transport`]);
//! STARTTLS, TLS from the first byte (`smtps://`) and AUTH work as lettre's
//! transport did them. A connection used within the last [`TRUSTED_FOR`] is
//! reused without lettre's `NOOP` round trip before every message.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
#[allow(deprecated)]
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Tls};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

/// Connections to one server unless `MATTERLINE_SMTP_CONNECTIONS` says otherwise:
/// Postfix sends to one destination over at most 20, and providers that cap
/// concurrent connections per sender mostly allow 10 or more.
pub const DEFAULT_CONNECTIONS: usize = 8;

/// How long connecting (TCP, TLS, greeting, EHLO, STARTTLS, AUTH) or one
/// message's exchange may take before it is given up as a temporary failure.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A connection that finished a message this recently is used again without
/// a `NOOP` first; one idle for longer is checked.
pub const TRUSTED_FOR: Duration = Duration::from_secs(5);

/// A connection idle for this long is closed instead of reused.
pub const IDLE_FOR: Duration = Duration::from_secs(60);

/// Where and how to connect: what `MATTERLINE_SMTP_URL` (and `MATTERLINE_SMTP_CA_FILE`) say.
#[derive(Clone)]
pub struct Server {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// STARTTLS (required or opportunistic), TLS from the first byte, or none.
    pub tls: Tls,
    /// User name and password for AUTH, if any.
    pub credentials: Option<Credentials>,
    /// The name sent in EHLO.
    pub hello: ClientId,
}

impl fmt::Debug for Server {
    /// Never shows the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tls = match &self.tls {
            Tls::None => "none",
            Tls::Opportunistic(_) => "opportunistic STARTTLS",
            Tls::Required(_) => "required STARTTLS",
            Tls::Wrapper(_) => "TLS from the first byte",
            #[allow(unreachable_patterns)]
            _ => "other",
        };
        f.debug_struct("Server")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &tls)
            .field("auth", &self.credentials.is_some())
            .finish()
    }
}

/// Why a message was not handed to the server.
#[derive(Debug)]
pub enum Failure {
    /// lettre's error: the server's reply, TLS, or the connection.
    Smtp(lettre::transport::smtp::Error),
    /// Connecting or the exchange failed below SMTP, or took longer than [`TIMEOUT`].
    Network(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Smtp(e) => e.fmt(f),
            Self::Network(e) => f.write_str(e),
        }
    }
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        Self::Smtp(e)
    }
}

/// A parked connection and when it last finished a message.
struct Parked {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// At most `connections` SMTP connections to one server, shared by every
/// message this process sends there. Cheap to share (`Arc`).
pub struct Pool {
    server: Server,
    connections: usize,
    slots: tokio::sync::Semaphore,
    idle: Mutex<Vec<Parked>>,
    rate: Option<RateLimit>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("server", &self.server)
            .field("free connections", &self.slots.available_permits())
            .field("rate", &self.rate)
            .finish()
    }
}

impl Pool {
    /// A pool of at most `connections` (at least one) to `server`, sending at
    /// most `rate` messages per second when set.
    pub fn new(server: Server, connections: usize, rate: Option<RateLimit>) -> Self {
        let connections = connections.max(1);
        Self {
            server,
            connections,
            slots: tokio::sync::Semaphore::new(connections),
            idle: Mutex::new(Vec::new()),
            rate,
        }
    }

    /// A pool like this one (no connections yet) whose rate limit, if it has
    /// one, goes by `clock`: for tests, with a [`TestClock`].
    pub fn with_rate_clock(&self, clock: Arc<dyn RateClock>) -> Self {
        let rate = self.rate.as_ref().map(|rate| RateLimit::new(rate.per_second, clock));
        Self::new(self.server.clone(), self.connections, rate)
    }

    /// Connections at most.
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// The rate limit, when one is set.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate.as_ref()
    }

    /// Sends one message (`body` as formatted, RFC 5322) to the envelope's
    /// recipients: waits for a free connection, then for the rate limit, then
    /// sends over a pooled connection or a new one.
    pub async fn send(&self, envelope: &Envelope, body: &[u8]) -> Result<(), Failure> {
        let _slot = self.slots.acquire().await.map_err(|_| Failure::Network("the SMTP pool is closed".to_owned()))?;
        let mut conn = match self.checkout().await {
            Some(conn) => conn,
            None => within("connecting to the mail server", self.connect()).await?,
        };
        if let Some(rate) = &self.rate {
            rate.acquire().await;
        }
        let sent = within("sending the message", async { Ok(conn.send(envelope, body).await.map(drop)?) }).await;
        if sent.is_ok() && !conn.has_broken() {
            self.park(conn);
        }
        // Otherwise lettre has already said QUIT and closed it; dropping it is all that is left.
        sent
    }

    /// A parked connection still fit for use, if any (one idle for a while is checked with `NOOP`).
    async fn checkout(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let parked = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop()?;
            let idle = parked.since.elapsed();
            let mut conn = parked.conn;
            if idle >= IDLE_FOR {
                conn.abort().await;
                continue;
            }
            if idle < TRUSTED_FOR || tokio::time::timeout(TIMEOUT, conn.test_connected()).await.unwrap_or(false) {
                return Some(conn);
            }
            conn.abort().await;
        }
    }

    fn park(&self, conn: AsyncSmtpConnection) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(Parked { conn, since: Instant::now() });
    }

    /// A new connection: TCP with `TCP_NODELAY`, TLS as configured, EHLO, AUTH.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let server = &self.server;
        let network = |e: io::Error| Failure::Network(format!("connecting to {}:{}: {e}", server.host, server.port));
        let tcp = TcpStream::connect((server.host.as_str(), server.port)).await.map_err(network)?;
        // Each SMTP command is one small write that waits for its reply: without
        // this, Nagle's algorithm holds it back until the server's delayed ACK.
        tcp.set_nodelay(true).map_err(network)?;
        let mut conn = match &server.tls {
            Tls::Wrapper(parameters) => {
                let peer = tcp.peer_addr().map_err(network)?;
                #[allow(deprecated)]
                let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
                stream.upgrade_tls(parameters.clone()).await?;
                let stream = TlsFromTheStart { inner: stream.compat(), peer };
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &server.hello).await?
            }
            _ => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &server.hello).await?,
        };
        match &server.tls {
            Tls::Opportunistic(parameters) if conn.can_starttls() => {
                conn.starttls(parameters.clone(), &server.hello).await?;
            }
            Tls::Required(parameters) => conn.starttls(parameters.clone(), &server.hello).await?,
            _ => {}
        }
        if let Some(credentials) = &server.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }
}

/// `work`, given up after [`TIMEOUT`] (`what` says what timed out).
async fn within<T>(what: &str, work: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::time::timeout(TIMEOUT, work)
        .await
        .unwrap_or_else(|_| Err(Failure::Network(format!("{what} took longer than {} s", TIMEOUT.as_secs()))))
}

/// A stream that spoke TLS from its first byte (`smtps://`), handed to lettre
/// as if it were a plain one: lettre's own TLS upgrade of a stream we
/// connected, seen through tokio's I/O traits.
#[allow(deprecated)]
struct TlsFromTheStart {
    inner: Compat<AsyncNetworkStream>,
    peer: SocketAddr,
}

impl fmt::Debug for TlsFromTheStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsFromTheStart").field("peer", &self.peer).finish()
    }
}

impl AsyncRead for TlsFromTheStart {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsFromTheStart {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsFromTheStart {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

/// The time a [`RateLimit`] goes by: the real one ([`SystemClock`]), or one
/// that tests move by hand ([`TestClock`]). Times are offsets from the clock's start.
pub trait RateClock: Send + Sync + fmt::Debug {
    /// The time now.
    fn now(&self) -> Duration;
    /// Waits until `at` (at once when it has passed).
    fn wait_until(&self, at: Duration) -> BoxFuture<'static, ()>;
}

/// The real clock (tokio's).
#[derive(Debug)]
pub struct SystemClock {
    start: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self { start: Instant::now() }
    }
}

impl RateClock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn wait_until(&self, at: Duration) -> BoxFuture<'static, ()> {
        if at <= self.now() {
            return futures_util::future::ready(()).boxed();
        }
        tokio::time::sleep_until(self.start + at).boxed()
    }
}

/// A clock for tests: time moves only when a wait asks for a later time, at
/// once, and every wait (one per message allowed) is recorded.
#[derive(Debug, Default)]
pub struct TestClock {
    state: Mutex<(Duration, Vec<Duration>)>,
}

impl TestClock {
    /// The times the limit let messages go, in the order it granted them.
    pub fn granted(&self) -> Vec<Duration> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).1.clone()
    }
}

impl RateClock for TestClock {
    fn now(&self) -> Duration {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).0
    }

    fn wait_until(&self, at: Duration) -> BoxFuture<'static, ()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 = state.0.max(at);
        state.1.push(at);
        futures_util::future::ready(()).boxed()
    }
}

/// At most `per_second` messages in any one second (a sliding window): the
/// message after the `per_second`-th waits until a second after the first of
/// them. Providers cap senders this way (Amazon SES starts at one per second).
pub struct RateLimit {
    per_second: usize,
    /// The times granted to the last `per_second` messages, oldest first.
    recent: Mutex<VecDeque<Duration>>,
    clock: Arc<dyn RateClock>,
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit").field("per_second", &self.per_second).finish()
    }
}

impl RateLimit {
    /// At most `per_second` (at least one) messages per second by `clock`.
    pub fn new(per_second: usize, clock: Arc<dyn RateClock>) -> Self {
        let per_second = per_second.max(1);
        Self { per_second, recent: Mutex::new(VecDeque::with_capacity(per_second)), clock }
    }

    /// Messages allowed per second.
    pub fn per_second(&self) -> usize {
        self.per_second
    }

    /// Waits until one more message may go. Each call takes the earliest time
    /// that keeps every one-second window at `per_second` or fewer, in the
    /// order of the calls (the times granted never go back).
    pub async fn acquire(&self) {
        let at = {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            let mut at = self.clock.now();
            if recent.len() >= self.per_second
                && let Some(oldest) = recent.pop_front()
            {
                at = at.max(oldest + Duration::from_secs(1));
            }
            if let Some(last) = recent.back() {
                at = at.max(*last);
            }
            recent.push_back(at);
            at
        };
        self.clock.wait_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether no one-second window holds more than `per_second` of the times.
    fn within_one_second(granted: &[Duration], per_second: usize) -> bool {
        let mut sorted = granted.to_vec();
        sorted.sort();
        sorted.windows(per_second + 1).all(|w| w[per_second] >= w[0] + Duration::from_secs(1))
    }

    #[tokio::test]
    async fn the_limit_lets_at_most_so_many_messages_go_in_any_second() {
        let clock = Arc::new(TestClock::default());
        let limit = RateLimit::new(2, clock.clone());
        for _ in 0..7 {
            limit.acquire().await;
        }
        let granted = clock.granted();
        assert_eq!(granted.len(), 7, "one grant per message");
        assert!(within_one_second(&granted, 2), "{granted:?}");
        assert!(granted.windows(2).all(|w| w[1] >= w[0]), "{granted:?}");
        // Two at 0 s, two at 1 s, two at 2 s, one at 3 s: no later than needed either.
        assert_eq!(granted[6], Duration::from_secs(3), "{granted:?}");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_limit() {
        let clock = Arc::new(TestClock::default());
        let limit = Arc::new(RateLimit::new(3, clock.clone()));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let limit = limit.clone();
                tokio::spawn(async move { limit.acquire().await })
            })
            .collect();
        for task in tasks {
            assert!(task.await.is_ok());
        }
        let granted = clock.granted();
        assert_eq!(granted.len(), 10);
        assert!(within_one_second(&granted, 3), "{granted:?}");
    }
}
