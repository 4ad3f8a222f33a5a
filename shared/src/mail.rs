//! Sending email: SMTP over [`crate::smtp`]'s pooled connections when
//! `MATTERLINE_SMTP_URL` is set, otherwise the dev mail folder — one `.eml`
//! file per message in `DATA_DIR/mailbox`, listed by the portal at `/dev/mailbox`.
//! Tests may build a mailer that keeps messages in memory ([`Mailer::in_memory`]);
//! no setting selects it, so an operator cannot make mail vanish.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

pub use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT};
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::render::RenderedEmail;

/// Why a message was not sent, as far as a retry policy cares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: connection refused or dropped, timeout, SMTP 4xx.
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// Retrying will not help: SMTP 5xx, an invalid address.
    #[error("permanent mail failure: {0}")]
    Permanent(String),
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        Error::Unavailable { service: "mail", cause: e.into() }
    }
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    /// Recipient's display name.
    pub to_name: String,
    /// Recipient's address.
    pub to_address: String,
    /// Sender, overriding the configured one (a firm's own address).
    pub from: Option<String>,
    /// Subject and bodies.
    pub content: RenderedEmail,
    /// Extra headers, e.g. `List-Unsubscribe`.
    pub headers: Vec<(&'static str, String)>,
    /// Where replies go (name, address), e.g. the case manager. Left out of
    /// the message when the address is not usable in a header; the name
    /// follows [`header_mailbox`]'s rules.
    pub reply_to: Option<(String, String)>,
    /// A fixed Message-ID (`<id@host>`): a message re-sent after a crash keeps
    /// its identity, so mail clients show it once. Generated when `None`.
    pub message_id: Option<String>,
    /// Files sent with the message (an appointment's `.ics`); none for most notices.
    pub attachments: Vec<EmailAttachment>,
}

/// A file attached to an email.
#[derive(Debug, Clone)]
pub struct EmailAttachment {
    /// The file name the recipient sees, e.g. `appointment.ics`.
    pub file_name: String,
    /// The MIME type with its parameters, e.g. `text/calendar; method=REQUEST; charset=UTF-8`.
    pub content_type: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
enum Transport {
    Smtp(Arc<crate::smtp::Pool>),
    /// The dev mail folder (embedded mode).
    MailFolder(AsyncFileTransport<Tokio1Executor>),
    /// Kept in memory, for tests (built only by [`Mailer::in_memory`]).
    Memory(SentMail),
}

/// A message the in-memory transport accepted.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// The envelope's recipients.
    pub to: Vec<String>,
    /// The message as it would have gone on the wire (RFC 5322).
    pub raw: Vec<u8>,
}

/// What an in-memory mailer has sent, oldest first; shared by the mailer's clones.
#[derive(Debug, Clone, Default)]
pub struct SentMail(Arc<(Mutex<Vec<SentMessage>>, tokio::sync::Notify)>);

impl SentMail {
    /// A copy of every message sent so far, oldest first.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.0.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until a message is sent after this call began (or returns at once
    /// if one was sent since the last wait returned).
    pub async fn sent(&self) {
        self.0.1.notified().await;
    }

    fn push(&self, message: SentMessage) {
        self.0.0.lock().unwrap_or_else(PoisonError::into_inner).push(message);
        self.0.1.notify_one();
    }
}

/// SMTP replies about our own credentials or connection security (530 auth
/// required, 534/538 mechanism or encryption required, 535 credentials
/// refused), not about the message: retried with backoff while an operator
/// fixes the setting, instead of failing every email of the week for good.
const SETUP_CODES: [&str; 4] = ["530", "534", "535", "538"];

/// Sends email through the configured transport. Cheap to clone (the SMTP pool is shared).
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    mail_folder: Option<PathBuf>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::MailFolder(_) => "dev mail folder",
            Transport::Memory(_) => "memory",
        };
        f.debug_struct("Mailer").field("transport", &kind).field("from", &self.from.email.to_string()).finish()
    }
}

/// The TLS parameters for `host`: the public roots, and `ca_file` as well when set.
fn tls_parameters(host: &str, ca_file: Option<&Path>) -> Result<TlsParameters> {
    let Some(ca_file) = ca_file else {
        return TlsParameters::new(host.to_owned()).map_err(|e| Error::invalid("MATTERLINE_SMTP_URL", e.to_string()));
    };
    let invalid = |reason: String| Error::invalid("MATTERLINE_SMTP_CA_FILE", reason);
    let pem = std::fs::read(ca_file).map_err(|e| invalid(format!("{}: {e}", ca_file.display())))?;
    let certificate = Certificate::from_pem(&pem).map_err(|e| invalid(format!("{}: {e}", ca_file.display())))?;
    TlsParameters::builder(host.to_owned())
        .add_root_certificate(certificate)
        .build()
        .map_err(|e| invalid(e.to_string()))
}

/// The server `MATTERLINE_SMTP_URL` names, read as lettre reads such a URL:
/// `smtp://` (port 25, no TLS), `smtp://…?tls=required` or `?tls=opportunistic`
/// (STARTTLS, port 587), `smtps://` (TLS from the first byte, port 465); user
/// and password (percent-decoded) for AUTH; a path names the EHLO host.
/// `ca_file` is trusted besides the public roots.
pub fn smtp_server(url: &url::Url, ca_file: Option<&Path>) -> Result<crate::smtp::Server> {
    let invalid = |reason: String| Error::invalid("MATTERLINE_SMTP_URL", reason);
    let host = url.host_str().ok_or_else(|| invalid("no host".to_owned()))?.to_owned();
    let mode = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
    let (tls, default_port) = match (url.scheme(), mode.as_deref()) {
        ("smtp", None) => (Tls::None, SMTP_PORT),
        ("smtp", Some("required")) => (Tls::Required(tls_parameters(&host, ca_file)?), SUBMISSION_PORT),
        ("smtp", Some("opportunistic")) => (Tls::Opportunistic(tls_parameters(&host, ca_file)?), SUBMISSION_PORT),
        ("smtps", _) => (Tls::Wrapper(tls_parameters(&host, ca_file)?), SUBMISSIONS_PORT),
        (scheme, mode) => return Err(invalid(format!("unknown scheme {scheme:?} or tls={mode:?}"))),
    };
    let hello = match url.path().trim_matches('/') {
        "" => ClientId::default(),
        name => ClientId::Domain(name.to_owned()),
    };
    let credentials = match url.password() {
        Some(password) => {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|s| s.into_owned())
                    .map_err(|e| invalid(format!("user or password: {e}")))
            };
            Some(Credentials::new(decode(url.username())?, decode(password)?))
        }
        None => None,
    };
    Ok(crate::smtp::Server { host, port: url.port().unwrap_or(default_port), tls, credentials, hello })
}

/// The sender for a firm: its own address, else the configured address under
/// the firm's name (the address alone when the name cannot go in a header).
pub fn sender_for(configured: &Mailbox, firm_name: &str, firm_from: Option<&str>) -> String {
    firm_from.map(str::to_owned).unwrap_or_else(|| {
        let mailbox = Mailbox::new(crate::text::display_name(firm_name), configured.email.clone());
        header_mailbox(mailbox).to_string()
    })
}

/// `mailbox` with its display name only when a header can carry it: a name
/// with a line break makes lettre's `Display` fail (and `to_string` panic), and
/// control, text-direction or zero-width characters have no place in a header.
/// The address alone otherwise.
pub fn header_mailbox(mailbox: Mailbox) -> Mailbox {
    let name = mailbox.name.as_deref().and_then(crate::text::display_name);
    Mailbox::new(name, mailbox.email)
}

/// The Reply-To mailbox for `name` and `address`, by the rules of the other
/// headers: `None` when the address is not one clean line or not an address;
/// the name only when a header can carry it.
pub fn reply_to_mailbox(name: &str, address: &str) -> Option<Mailbox> {
    let address = address.trim();
    if !crate::text::is_clean_line(address) {
        return None;
    }
    let address = address.parse().ok()?;
    Some(Mailbox::new(crate::text::display_name(name), address))
}

/// The Message-ID of the email for notification `row_id`: the same on every
/// attempt, so a message that reaches the server twice shows once.
pub fn message_id(base_url: &str, row_id: &str) -> String {
    let host = base_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("matterline.invalid");
    format!("<{row_id}@{host}>")
}

/// Installs ring as the process-wide rustls crypto provider. Both binaries call
/// it at start-up: the dependency tree carries two providers, and rustls
/// refuses to guess. Later calls are no-ops.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Mailer {
    /// The mailer the configuration describes.
    pub fn from_config(config: &Config) -> Result<Self> {
        let from: Mailbox =
            config.mail_from.parse().map_err(|e| Error::invalid("MATTERLINE_MAIL_FROM", format!("{e}")))?;
        match &config.smtp_url {
            Some(url) => {
                let server = smtp_server(url.expose(), config.smtp_ca_file.as_deref())?;
                let rate = config.smtp_max_per_second.map(|n| {
                    let clock: Arc<dyn crate::smtp::RateClock> = Arc::new(crate::smtp::SystemClock::default());
                    crate::smtp::RateLimit::new(usize::try_from(n).unwrap_or(usize::MAX), clock)
                });
                let connections = usize::try_from(config.smtp_connections).unwrap_or(usize::MAX);
                let pool = crate::smtp::Pool::new(server, connections, rate);
                Ok(Self { transport: Transport::Smtp(Arc::new(pool)), from, mail_folder: None })
            }
            None => {
                let dir = config.data_dir.join("mailbox");
                std::fs::create_dir_all(&dir).map_err(|e| Error::Unavailable {
                    service: "mail",
                    cause: anyhow::anyhow!("cannot create {}: {e}", dir.display()),
                })?;
                Ok(Self {
                    transport: Transport::MailFolder(AsyncFileTransport::new(&dir)),
                    from,
                    mail_folder: Some(dir),
                })
            }
        }
    }

    /// A mailer that keeps every message in memory instead of sending it, for
    /// tests that read what was sent ([`Mailer::sent_mail`]) without an
    /// SMTP server. Only code builds it: no configuration leads here.
    pub fn in_memory(from: Mailbox) -> Self {
        Self { transport: Transport::Memory(SentMail::default()), from, mail_folder: None }
    }

    /// The same mailer with its SMTP rate limit going by `clock` (a
    /// [`crate::smtp::TestClock`] in tests); unchanged without an SMTP rate limit.
    pub fn with_rate_clock(self, clock: Arc<dyn crate::smtp::RateClock>) -> Self {
        let transport = match self.transport {
            Transport::Smtp(pool) => Transport::Smtp(Arc::new(pool.with_rate_clock(clock))),
            other => other,
        };
        Self { transport, ..self }
    }

    /// What an in-memory mailer has kept; `None` for the other transports.
    pub fn sent_mail(&self) -> Option<&SentMail> {
        match &self.transport {
            Transport::Memory(sent) => Some(sent),
            _ => None,
        }
    }

    /// The sender for a firm (see [`sender_for`]).
    pub fn sender_for(&self, firm_name: &str, firm_from: Option<&str>) -> String {
        sender_for(&self.from, firm_name, firm_from)
    }

    /// The dev mail folder, when mail goes there instead of SMTP.
    pub fn mail_folder(&self) -> Option<&Path> {
        self.mail_folder.as_deref()
    }

    /// Builds the multipart/alternative message for `email`. Whatever the
    /// names, subject and header values hold, this does not panic: a display
    /// name a header cannot carry is left out (the address alone), a subject
    /// or header value loses its control characters, and what cannot be
    /// built at all (an unusable address) is a [`SendError::Permanent`]
    /// that the queue records on the row. A panic inside lettre all the same
    /// is caught and reported the same way.
    pub fn build(&self, email: &OutgoingEmail) -> std::result::Result<Message, SendError> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.build_message(email))).unwrap_or_else(|_| {
            Err(SendError::Permanent("the message could not be built from the stored names and text".to_owned()))
        })
    }

    /// [`Mailer::build`] without the panic guard, for the property tests that prove it needs none.
    #[doc(hidden)]
    pub fn build_message(&self, email: &OutgoingEmail) -> std::result::Result<Message, SendError> {
        let unusable = |what: &str, value: &str| {
            SendError::Permanent(format!("{what} {:?} is not a usable address", crate::text::header_text(value)))
        };
        let from: Mailbox = match &email.from {
            Some(f) if crate::text::is_clean_line(f) => f.parse().map_err(|_| unusable("sender", f))?,
            Some(f) => return Err(unusable("sender", f)),
            None => self.from.clone(),
        };
        let to_address = match email.to_address.trim() {
            address if crate::text::is_clean_line(address) => {
                address.parse().map_err(|_| unusable("recipient", &email.to_address))?
            }
            _ => return Err(unusable("recipient", &email.to_address)),
        };
        let to = Mailbox::new(crate::text::display_name(&email.to_name), to_address);
        let mut builder = Message::builder()
            .message_id(email.message_id.as_deref().map(crate::text::header_text))
            .from(header_mailbox(from))
            .to(to);
        if let Some(reply_to) = email.reply_to.as_ref().and_then(|(name, address)| reply_to_mailbox(name, address)) {
            builder = builder.reply_to(reply_to);
        }
        let alternative = MultiPart::alternative_plain_html(email.content.text.clone(), email.content.html.clone());
        // With attachments: multipart/mixed of the two bodies and the files.
        let body = if email.attachments.is_empty() {
            alternative
        } else {
            let mut mixed = MultiPart::mixed().multipart(alternative);
            for file in &email.attachments {
                let content_type = ContentType::parse(&file.content_type).map_err(|e| {
                    SendError::Permanent(format!(
                        "attachment type {:?}: {e}",
                        crate::text::header_text(&file.content_type)
                    ))
                })?;
                let name = crate::text::header_text(&file.file_name);
                mixed = mixed.singlepart(Attachment::new(name).body(file.bytes.clone(), content_type));
            }
            mixed
        };
        let mut message = builder
            .subject(crate::text::header_text(&email.content.subject))
            .multipart(body)
            .map_err(|e| SendError::Permanent(format!("building the message: {e}")))?;
        for (name, value) in &email.headers {
            let name = HeaderName::new_from_ascii((*name).to_owned())
                .map_err(|_| SendError::Permanent(format!("header name {name:?} is not valid")))?;
            message.headers_mut().insert_raw(HeaderValue::new(name, crate::text::header_text(value)));
        }
        Ok(message)
    }

    /// Sends one message.
    pub async fn send(&self, email: &OutgoingEmail) -> std::result::Result<(), SendError> {
        let message = self.build(email)?;
        self.send_message(message).await
    }

    /// Sends an already built message.
    pub async fn send_message(&self, message: Message) -> std::result::Result<(), SendError> {
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message.envelope(), &message.formatted()).await.map_err(|e| match e {
                crate::smtp::Failure::Smtp(e) => {
                    let setup = e.status().is_some_and(|code| SETUP_CODES.contains(&code.to_string().as_str()));
                    if setup {
                        SendError::Transient(format!(
                            "the mail server refused the sign-in (check MATTERLINE_SMTP_URL): {e}"
                        ))
                    } else if e.is_permanent() {
                        SendError::Permanent(e.to_string())
                    } else {
                        SendError::Transient(e.to_string())
                    }
                }
                crate::smtp::Failure::Network(e) => SendError::Transient(e),
            }),
            Transport::MailFolder(file) => {
                file.send(message).await.map(|_| ()).map_err(|e| SendError::Transient(format!("dev mail folder: {e}")))
            }
            Transport::Memory(sent) => {
                let to = message.envelope().to().iter().map(ToString::to_string).collect();
                sent.push(SentMessage { to, raw: message.formatted() });
                Ok(())
            }
        }
    }
}
