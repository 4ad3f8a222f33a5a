//! Configuration: `MATTERLINE_*` environment variables, an optional TOML file
//! (`MATTERLINE_CONFIG=path`) with the same keys in lower case, and embedded-mode
//! defaults. The environment wins over the file. An unknown key or a malformed
//! value is a [`ConfigError`] naming the key, so start-up stops with one line.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use url::Url;

use crate::client_address::{ProxyHeader, TrustedProxies};

/// Prefix of every environment variable Matterline reads.
pub const ENV_PREFIX: &str = "MATTERLINE_";
/// Environment variable naming the optional TOML file (not a key of the file itself).
pub const CONFIG_FILE_VAR: &str = "MATTERLINE_CONFIG";

/// A configuration problem, displayed as one line that names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {key}: {message}")]
pub struct ConfigError {
    /// The key as the operator wrote it (`MATTERLINE_BIND`, or `bind` in a file).
    pub key: String,
    /// What is wrong with it, in plain words.
    pub message: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }
}

/// A value that must never be logged: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which database, chosen by the URL scheme. Any other scheme is an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` — a file, created with its folder when missing.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…` — passed to libpq as written.
    Postgres(Secret<String>),
}

impl DatabaseUrl {
    /// Parses a database URL; the error text names what is wrong, not the key.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://./data/matterline.db".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        let url = Url::parse(raw)
            .map_err(|e| format!("not a URL ({e}); expected sqlite://PATH or postgres://USER@HOST/DATABASE"))?;
        match url.scheme() {
            "postgres" | "postgresql" => {
                if url.host_str().is_none_or(str::is_empty) {
                    return Err("a postgres:// URL needs a host, e.g. postgres://USER@HOST:5432/DATABASE".into());
                }
                if url.path().trim_start_matches('/').is_empty() {
                    return Err("a postgres:// URL needs a database name after the host".into());
                }
                Ok(Self::Postgres(Secret::new(raw.to_owned())))
            }
            other => {
                Err(format!("unsupported scheme \"{other}\"; expected sqlite://PATH or postgres://USER@HOST/DATABASE"))
            }
        }
    }

    /// A description safe for logs: the SQLite path, or the PostgreSQL host and database without credentials.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("SQLite {}", path.display()),
            Self::Postgres(url) => match Url::parse(url.expose()) {
                Ok(u) => {
                    format!("PostgreSQL {}:{}{}", u.host_str().unwrap_or_default(), u.port().unwrap_or(5432), u.path())
                }
                Err(_) => "PostgreSQL".into(),
            },
        }
    }
}

/// Where uploaded documents are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    /// `local:PATH` — a folder on this machine (the embedded default).
    Local(PathBuf),
    /// `s3://BUCKET` — an S3-compatible bucket.
    S3 { bucket: String },
}

impl StorageUrl {
    /// Parses `local:PATH` or `s3://BUCKET`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("local:") {
            if path.is_empty() {
                return Err("local: needs a folder, e.g. local:./data/documents".into());
            }
            return Ok(Self::Local(PathBuf::from(path)));
        }
        if let Some(bucket) = raw.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            let valid = (3..=63).contains(&bucket.len())
                && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if !valid {
                return Err(format!(
                    "\"{bucket}\" is not a valid bucket name (3-63 lower-case letters, digits, '-' or '.')"
                ));
            }
            return Ok(Self::S3 { bucket: bucket.to_owned() });
        }
        Err("expected local:PATH or s3://BUCKET".into())
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    fn parse(v: &str) -> Result<Self, String> {
        match v.trim() {
            "pretty" | "text" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            _ => Err("expected \"pretty\" or \"json\"".to_owned()),
        }
    }
}

/// Which checksum the portal adds to the objects and parts it sends to S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Checksum {
    /// None beyond what an operation requires: every S3-compatible server accepts the requests.
    None,
    /// A CRC32 of every object and part, checked by the server as it stores them.
    Crc32,
}

impl S3Checksum {
    fn parse(v: &str) -> Result<Self, String> {
        match v.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(Self::None),
            "crc32" => Ok(Self::Crc32),
            _ => Err("expected crc32 or none".into()),
        }
    }
}

/// Where clamd, the ClamAV daemon that scans every upload, listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdUrl {
    /// `tcp://HOST:PORT` (port 3310 when left out), kept as `HOST:PORT`.
    Tcp(String),
    /// `unix:/path/to/clamd.ctl` — a socket on this machine.
    Unix(PathBuf),
}

impl ClamdUrl {
    /// Parses `tcp://HOST[:PORT]` or `unix:PATH`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        const EXPECTED: &str = "expected tcp://HOST:PORT (e.g. tcp://127.0.0.1:3310) or unix:/path/to/clamd.ctl";
        if let Some(path) = raw.strip_prefix("unix:") {
            // `unix:///run/clamav/clamd.ctl` names the same socket as `unix:/run/clamav/clamd.ctl`.
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(format!("unix: needs the socket's path; {EXPECTED}"));
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        let url = Url::parse(raw).map_err(|e| format!("not a URL ({e}); {EXPECTED}"))?;
        match (url.scheme(), url.host_str()) {
            ("tcp", Some(host)) if !host.is_empty() && matches!(url.path(), "" | "/") => {
                Ok(Self::Tcp(format!("{host}:{}", url.port().unwrap_or(3310))))
            }
            _ => Err(EXPECTED.to_owned()),
        }
    }
}

impl fmt::Display for ClamdUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(address) => write!(f, "tcp://{address}"),
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Whether the portal seeds the demo firm into an empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedDemo {
    /// Seed only when the database is empty and no SMTP server is configured
    /// (a trial or development set-up, never a production one).
    Auto,
    /// Seed whenever the database is empty.
    Always,
    /// Never seed.
    Never,
}

impl SeedDemo {
    fn parse(v: &str) -> Result<Self, String> {
        match v.trim() {
            "auto" => Ok(Self::Auto),
            "true" | "always" => Ok(Self::Always),
            "false" | "never" => Ok(Self::Never),
            _ => Err("expected auto, true or false".to_owned()),
        }
    }
}

/// Declares the configuration once: one entry per key gives everything the
/// loader and the operator listing need, and generates [`KEYS`], the fields of
/// [`Config`], its parsing (`Config::from_raw`) and [`Config::redacted`].
///
/// ```text
/// /// Field documentation.
/// key: Type, default EXPR, parse PARSER[, unset TEXT];
/// ```
///
/// - `key` is the field name and the TOML spelling; the environment spelling is
///   `MATTERLINE_` + the key in upper case.
/// - `default EXPR` is the value when neither the environment nor the file sets
///   the key. It may use the keys declared above it by name (`data_dir`, `bind`)
///   and `?` on a [`ConfigError`].
/// - `parse PARSER` is an `Fn(&str) -> Result<Type, String>`; an error is
///   reported with the key as the operator wrote it.
/// - The value is shown by its type's [`Shown`] (a [`Secret`] never in the
///   clear); an `Option` field gives the `unset TEXT` shown for `None`, which may
///   use any key by name (as a reference).
///
/// The keys are parsed, listed and shown in the order of the table.
macro_rules! declare_config {
    (@show $field:ident) => {
        Shown::shown($field)
    };
    (@show $field:ident, $unset:expr) => {
        shown_or($field, $unset)
    };
    ($(
        $(#[$doc:meta])*
        $field:ident: $ty:ty, default $default:expr, parse $parse:expr $(, unset $unset:expr)?;
    )*) => {
        /// Every key the configuration accepts, as spelled in the TOML file.
        /// The environment spelling is `MATTERLINE_` + the key in upper case.
        pub const KEYS: &[&str] = &[$(stringify!($field)),*];

        /// The effective configuration of a Matterline process.
        #[derive(Debug, Clone)]
        pub struct Config {
            $(
                $(#[$doc])*
                pub $field: $ty,
            )*
        }

        impl Config {
            /// Parses the values that were set and fills in the defaults, key by key in table order.
            fn from_raw(mut raw: BTreeMap<&'static str, Raw>) -> Result<Self, ConfigError> {
                $(
                    let $field: $ty = match raw.remove(stringify!($field)) {
                        Some(r) => parse_with(&r, $parse)?,
                        None => $default,
                    };
                )*
                Ok(Self { $($field),* })
            }

            /// The effective settings as `(MATTERLINE_KEY, value)` lines for an operator,
            /// with passwords and secrets replaced by `[redacted]`.
            pub fn redacted(&self) -> Vec<(String, String)> {
                let Self { $($field),* } = self;
                vec![$((env_name(stringify!($field)), declare_config!(@show $field $(, $unset)?))),*]
            }
        }
    };
}

declare_config! {
    /// Folder for embedded-mode state: the SQLite file, documents, dev mail folder, generated secret.
    data_dir: PathBuf, default PathBuf::from("./data"), parse |v| Ok(PathBuf::from(v));
    /// The database to use.
    database_url: DatabaseUrl, default DatabaseUrl::Sqlite(data_dir.join("matterline.db")), parse DatabaseUrl::parse;
    /// Address the portal listens on.
    bind: SocketAddr, default SocketAddr::from(([127, 0, 0, 1], 8080)),
        parse |v| v.parse().map_err(|_| "expected HOST:PORT, e.g. 127.0.0.1:8080".to_owned());
    /// Base URL used in links in emails.
    public_url: Url, default url_of_bind(bind)?, parse parse_http_url;
    /// Reverse proxies (addresses and CIDR ranges) whose forwarding header names the
    /// client; empty: the TCP peer is the client (`crate::client_address`).
    trusted_proxies: TrustedProxies, default TrustedProxies::default(), parse TrustedProxies::parse;
    /// The header the trusted proxies name the client in: `x-forwarded-for` or `forwarded`.
    trusted_proxy_header: ProxyHeader, default ProxyHeader::default(), parse ProxyHeader::parse;
    /// Where documents are stored.
    storage: StorageUrl, default StorageUrl::Local(data_dir.join("documents")), parse StorageUrl::parse;
    /// Custom S3 endpoint (MinIO, Garage, R2 …); AWS when unset.
    s3_endpoint: Option<Url>, default None, parse |v| parse_http_url(v).map(Some), unset "(unset)";
    /// S3 region; the AWS default chain when unset.
    s3_region: Option<String>, default None, parse none_if_blank(|v| Ok(v.to_owned())), unset "(unset)";
    /// Path-style bucket addressing (needed by most self-hosted S3 servers).
    s3_force_path_style: bool, default false, parse parse_bool;
    /// Server-side encryption asked of S3 for every object (`AES256`, `aws:kms`); none when unset.
    s3_sse: Option<String>, default None, parse none_if_blank(|v| Ok(v.trim().to_owned())), unset "(unset)";
    /// The request checksum sent with every object and part (`MATTERLINE_S3_CHECKSUM`).
    s3_checksum: S3Checksum, default S3Checksum::None, parse S3Checksum::parse;
    /// SMTP server URL; unset means the dev mail folder `data_dir/mailbox`.
    smtp_url: Option<Secret<Url>>, default None, parse none_if_blank(|v| parse_smtp_url(v).map(Secret::new)),
        unset "(unset: dev mail folder)";
    /// A PEM certificate to trust for the SMTP server's TLS (a private CA or a
    /// self-signed relay), besides the public roots.
    smtp_ca_file: Option<PathBuf>, default None, parse none_if_blank(parse_readable_file), unset "(unset)";
    /// SMTP connections to the server at most, shared by every message this
    /// process sends (each message holds one while it is sent).
    smtp_connections: u64, default crate::smtp::DEFAULT_CONNECTIONS as u64, parse |v| parse_positive(v, "connections");
    /// Messages per second the SMTP server takes from this process at most (a
    /// provider's sending rate, e.g. 14 on Amazon SES's first production tier);
    /// no limit when unset.
    smtp_max_per_second: Option<u64>, default None, parse none_if_blank(|v| parse_positive(v, "messages per second")),
        unset "(unset: no limit)";
    /// Sender of every email, `Name <address>`.
    mail_from: String, default "Matterline <no-reply@localhost>".to_owned(), parse parse_mailbox;
    /// Secret signing every token; generated once into `data_dir` when unset.
    jwt_secret: Option<Secret<String>>, default None, parse |v| parse_jwt_secret(v).map(Some),
        unset format!("(generated in {})", data_dir.join("jwt-secret").display());
    /// Earlier token signing secrets, comma-separated: what they signed is still
    /// accepted until they are removed; only `jwt_secret` signs.
    jwt_previous_secrets: Vec<Secret<String>>, default Vec::new(), parse parse_previous_secrets;
    /// Key sealing staff TOTP secrets in the database (32 bytes, hex or base64);
    /// generated once into `data_dir` when unset.
    totp_key: Option<Secret<[u8; 32]>>, default None, parse |v| parse_totp_key(v).map(Some),
        unset format!("(generated in {})", data_dir.join("totp-key").display());
    /// Earlier TOTP keys, comma-separated: secrets sealed with one of them are
    /// sealed again with `totp_key` at start-up (and by `portal migrate`).
    totp_previous_keys: Vec<Secret<[u8; 32]>>, default Vec::new(), parse parse_previous_totp_keys;
    /// The VAPID private key signing every web push (a P-256 scalar: 32 bytes,
    /// base64url as `web-push generate-vapid-keys` prints it, or hex); generated
    /// once into `data_dir` when unset.
    vapid_private_key: Option<Secret<[u8; 32]>>, default None, parse |v| parse_vapid_key(v).map(Some),
        unset format!("(generated in {})", data_dir.join("vapid-private-key").display());
    /// Who push services may contact about this portal's pushes (`mailto:` or
    /// `https:`); the address of `mail_from` when unset.
    vapid_subject: Option<String>, default None, parse none_if_blank(parse_vapid_subject),
        unset format!("(mailto: of {mail_from})");
    /// Cron expression of the weekly update; `None` when blank (off).
    weekly_schedule: Option<String>, default Some("0 0 9 * * Mon".to_owned()), parse none_if_blank(parse_cron_shape),
        unset "(blank: off)";
    /// Largest accepted upload, per file.
    max_upload_bytes: u64, default 262_144_000, parse |v| parse_positive(v, "bytes");
    /// clamd to scan every upload with as it streams to storage (`tcp://HOST:PORT`
    /// or `unix:/path/to/clamd.ctl`); uploads are not scanned when unset.
    clamd_url: Option<ClamdUrl>, default None, parse none_if_blank(ClamdUrl::parse),
        unset "(unset: uploads are not scanned for viruses)";
    /// Store a file that clamd could not check (down, too slow, over its size
    /// limit) with a warning in the log, instead of refusing it (the default).
    clamd_fail_open: bool, default false, parse parse_bool;
    /// Log line format.
    log_format: LogFormat, default LogFormat::Pretty, parse LogFormat::parse;
    /// Demo seeding policy.
    seed_demo: SeedDemo, default SeedDemo::Auto, parse SeedDemo::parse;
    /// Folder whose `web/`, `email/`, `locales/` and `catalogue/` files override the embedded ones.
    assets_dir: Option<PathBuf>, default None, parse |v| Ok((!v.is_empty()).then(|| PathBuf::from(v))), unset "(unset)";
    /// Where `notifier run` serves `/metrics` and `/healthz`; `None` when blank.
    notifier_bind: Option<SocketAddr>, default Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        parse none_if_blank(|v| v.trim().parse().map_err(|_| "expected HOST:PORT, e.g. 127.0.0.1:9464".to_owned())),
        unset "(blank: off)";
    /// How long the portal lets requests in flight (uploads included) finish after SIGTERM or SIGINT.
    shutdown_grace_seconds: u64, default 30,
        parse |v| v.trim().parse().map_err(|_| "expected a number of seconds".to_owned());
    /// How long an upload may send nothing before the portal gives up on it
    /// (a stalled or deliberately slow body must not hold a connection forever).
    upload_idle_seconds: u64, default 30, parse |v| parse_positive(v, "seconds");
    /// How long one upload may take in all before the portal gives up on it: a
    /// body that trickles a byte now and then never trips the idle limit, but
    /// must not hold a connection (and an open storage upload) for hours.
    upload_total_seconds: u64, default 3600, parse |v| parse_positive(v, "seconds");
    /// Memory the portal holds at most for the parts of uploads to S3 (MiB), in
    /// all uploads together: each holds 8 MiB of it per part in memory (one
    /// filling, one being sent), and uploads past it wait, their connections
    /// held back, until parts are sent. At least one part (8 MiB).
    upload_buffer_mib: u64, default 96, parse parse_upload_buffer;
    /// Memory (MiB) the portal keeps rendered client matter pages in, to answer
    /// them again while their matters are unchanged; 0 keeps none.
    page_cache_mib: u64, default 16,
        parse |v| v.trim().parse().map_err(|_| "expected a number of MiB (0: keep no pages)".to_owned());
    /// Fault injection for the test suite, honoured by debug builds only (a
    /// release build refuses the key): a notification whose content or
    /// recipient's name contains this text panics while it is composed or
    /// sent, to prove that a panic is contained.
    fault_panic_marker: Option<String>, default None, parse none_if_blank(parse_fault_marker), unset "(unset)";
    /// The base of the Twilio-compatible text message API (`{base}/2010-04-01/Accounts/{sid}/Messages.json`).
    sms_url: Url, default Url::parse("https://api.twilio.com/").map_err(|e| ConfigError::new("MATTERLINE_SMS_URL", e.to_string()))?,
        parse parse_http_url;
    /// The account SID of the text message API; texts are off when unset.
    sms_account_sid: Option<String>, default None, parse none_if_blank(parse_sms_id), unset "(unset: texts are off)";
    /// The auth token of the text message API: signs requests to it (basic auth) and its webhooks to us.
    sms_auth_token: Option<Secret<String>>, default None, parse none_if_blank(|v| Ok(Secret::new(v.trim().to_owned()))),
        unset "(unset: texts are off)";
    /// The number texts are sent from (E.164); or set `sms_messaging_service_sid`.
    sms_from: Option<String>, default None, parse none_if_blank(parse_sms_from), unset "(unset)";
    /// The messaging service texts are sent through, instead of `sms_from`.
    sms_messaging_service_sid: Option<String>, default None, parse none_if_blank(parse_sms_id), unset "(unset)";
}

/// An account or messaging service SID: letters and digits only (it is part of a URL path).
fn parse_sms_id(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.len() > 64 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("expected letters and digits, e.g. AC0123456789abcdef0123456789abcdef".to_owned());
    }
    Ok(v.to_owned())
}

/// A sender number in E.164 (`+15550001111`), or an alphanumeric sender ID.
fn parse_sms_from(v: &str) -> Result<String, String> {
    let v = v.trim();
    let e164 =
        v.strip_prefix('+').is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
    let alpha = (1..=11).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ');
    if e164 || alpha { Ok(v.to_owned()) } else { Err("expected a number in E.164, e.g. +15550001111".to_owned()) }
}

impl Config {
    /// Whether text messages are configured: an account, its token, and a sender number or messaging service.
    pub fn sms_enabled(&self) -> bool {
        self.sms_account_sid.is_some()
            && self.sms_auth_token.is_some()
            && (self.sms_from.is_some() || self.sms_messaging_service_sid.is_some())
    }
}

/// One raw value and the name to blame when it is malformed.
struct Raw {
    value: String,
    origin: String,
}

impl Config {
    /// Reads the process environment and, when `MATTERLINE_CONFIG` names one, the TOML file.
    pub fn load() -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let file = env.iter().find(|(k, _)| k == CONFIG_FILE_VAR).map(|(_, v)| PathBuf::from(v));
        Self::from_sources(env, file.as_deref())
    }

    /// Builds the configuration from explicit sources (used by [`Config::load`] and by tests).
    /// Variables without the `MATTERLINE_` prefix are ignored.
    pub fn from_sources<I>(env: I, file: Option<&Path>) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut raw: BTreeMap<&'static str, Raw> = BTreeMap::new();
        if let Some(path) = file {
            read_file(path, &mut raw)?;
        }
        for (name, value) in env {
            let Some(suffix) = name.strip_prefix(ENV_PREFIX) else { continue };
            // MATTERLINE_LOG is the log filter; MATTERLINE_TEST_* belong to the test suite.
            if name == CONFIG_FILE_VAR || suffix == "LOG" || suffix.starts_with("TEST_") {
                continue;
            }
            let lower = suffix.to_ascii_lowercase();
            let key = known_key(&lower).ok_or_else(|| ConfigError::new(&name, "unknown setting"))?;
            raw.insert(key, Raw { value, origin: name });
        }
        Self::from_raw(raw)
    }

    /// Whether the demo firm should be seeded into an empty database.
    pub fn wants_demo_seed(&self) -> bool {
        match self.seed_demo {
            SeedDemo::Always => true,
            SeedDemo::Never => false,
            SeedDemo::Auto => self.smtp_url.is_none(),
        }
    }
}

fn known_key(lower: &str) -> Option<&'static str> {
    KEYS.iter().copied().find(|k| *k == lower)
}

/// The environment spelling of a key: `MATTERLINE_` + the key in upper case.
fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_uppercase())
}

fn read_file(path: &Path, raw: &mut BTreeMap<&'static str, Raw>) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(CONFIG_FILE_VAR, format!("cannot read {}: {e}", path.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::new(path.display().to_string(), e.message().to_owned()))?;
    for (name, value) in table {
        let origin = format!("{}: {name}", path.display());
        let key = known_key(&name).ok_or_else(|| ConfigError::new(&origin, "unknown setting"))?;
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => return Err(ConfigError::new(origin, "expected a string, number or boolean")),
        };
        raw.insert(key, Raw { value, origin });
    }
    Ok(())
}

fn parse_with<T>(raw: &Raw, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, ConfigError> {
    parse(&raw.value).map_err(|message| ConfigError::new(&raw.origin, message))
}

/// A parser for an optional key: `None` when the value is blank, else what `parse` makes of it.
fn none_if_blank<T>(parse: impl Fn(&str) -> Result<T, String>) -> impl Fn(&str) -> Result<Option<T>, String> {
    move |v| if v.trim().is_empty() { Ok(None) } else { parse(v).map(Some) }
}

/// The default public URL, `http://BIND/`. An IPv6 bind address with a zone
/// (`[fe80::1%2]:8080`) makes no URL, and then `MATTERLINE_PUBLIC_URL` must be set.
fn url_of_bind(bind: SocketAddr) -> Result<Url, ConfigError> {
    Url::parse(&format!("http://{bind}/")).map_err(|e| ConfigError::new("MATTERLINE_PUBLIC_URL", e.to_string()))
}

fn parse_http_url(v: &str) -> Result<Url, String> {
    let url = Url::parse(v.trim()).map_err(|e| format!("not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(url),
        _ => Err("expected an http:// or https:// URL".into()),
    }
}

fn parse_smtp_url(v: &str) -> Result<Url, String> {
    let url = Url::parse(v.trim()).map_err(|e| format!("not a URL ({e})"))?;
    match url.scheme() {
        "smtp" | "smtps" if url.host_str().is_some() => Ok(url),
        _ => Err("expected smtp://USER:PASS@HOST:PORT or smtps://…".into()),
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

/// A whole number above zero; `unit` names what it counts in the error.
fn parse_positive(v: &str, unit: &str) -> Result<u64, String> {
    match v.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive number of {unit}")),
    }
}

/// The upload buffer budget: at least one 8 MiB part, so an upload can always go on.
fn parse_upload_buffer(v: &str) -> Result<u64, String> {
    match v.trim().parse::<u64>() {
        Ok(n) if n >= 8 => Ok(n),
        _ => Err("expected a number of MiB, at least 8 (one upload part)".to_owned()),
    }
}

fn parse_readable_file(v: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(v.trim());
    if path.is_file() { Ok(path) } else { Err(format!("{} is not a readable file", path.display())) }
}

/// The token signing secret, taken as written (spaces count) when long enough.
fn parse_jwt_secret(v: &str) -> Result<Secret<String>, String> {
    if v.len() < 32 {
        return Err("must be at least 32 characters (e.g. `openssl rand -hex 32`)".into());
    }
    Ok(Secret::new(v.to_owned()))
}

/// A VAPID private key: 32 bytes as base64url (or any base64) or 64 hex digits.
fn parse_vapid_key(v: &str) -> Result<Secret<[u8; 32]>, String> {
    parse_totp_key(v).map_err(|_| {
        "expected a P-256 private key: 32 bytes as base64url or 64 hex digits (e.g. from `npx web-push generate-vapid-keys`)"
            .to_owned()
    })
}

/// The VAPID subject: a `mailto:` address or an `https:` URL (RFC 8292).
fn parse_vapid_subject(v: &str) -> Result<String, String> {
    let v = v.trim();
    let ok = match v.split_once(':') {
        Some(("mailto", address)) => address.contains('@') && !address.contains(char::is_whitespace),
        Some(("https", _)) => Url::parse(v).is_ok_and(|u| u.host().is_some()),
        _ => false,
    };
    if ok { Ok(v.to_owned()) } else { Err("expected mailto:address@host or an https: URL".to_owned()) }
}

/// Previous token secrets: comma-separated, each as long as a current one; blank means none.
fn parse_previous_secrets(v: &str) -> Result<Vec<Secret<String>>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| {
            parse_jwt_secret(s).map_err(|e| format!("secret {} (comma-separated, counted from 1) {e}", i + 1))
        })
        .collect()
}

/// A 32-byte key as 64 hex digits or base64 (standard or URL-safe, padded or not).
fn parse_totp_key(v: &str) -> Result<Secret<[u8; 32]>, String> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let v = v.trim();
    let bytes = if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(v).ok()
    } else {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|engine| engine.decode(v).ok())
    };
    bytes
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Secret::new)
        .ok_or_else(|| "expected 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)".to_owned())
}

/// Previous TOTP keys: comma-separated, each like a current one; blank means none.
fn parse_previous_totp_keys(v: &str) -> Result<Vec<Secret<[u8; 32]>>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| parse_totp_key(s).map_err(|e| format!("key {} (comma-separated, counted from 1): {e}", i + 1)))
        .collect()
}

/// Accepts `address@host` or `Display Name <address@host>`.
fn parse_mailbox(v: &str) -> Result<String, String> {
    let v = v.trim();
    let address = match (v.find('<'), v.rfind('>')) {
        (Some(open), Some(close)) if open < close && close == v.len() - 1 => &v[open + 1..close],
        (None, None) => v,
        _ => return Err("expected address@host or Name <address@host>".into()),
    };
    match address.split_once('@') {
        Some((local, host)) if !local.is_empty() && !host.is_empty() && !address.contains(char::is_whitespace) => {
            Ok(v.to_owned())
        }
        _ => Err("expected address@host or Name <address@host>".into()),
    }
}

/// A fault-injection marker: at least 8 characters (so no ordinary text
/// contains it by chance), and only in a debug build.
fn parse_fault_marker(v: &str) -> Result<String, String> {
    if !cfg!(debug_assertions) {
        return Err("fault injection is for test (debug) builds only; remove this setting".into());
    }
    let v = v.trim();
    if v.chars().count() < 8 {
        return Err("expected a marker of at least 8 characters".into());
    }
    Ok(v.to_owned())
}

/// Checks the shape of a cron expression (6 or 7 fields: seconds first); the
/// notifier parses it fully with the `cron` crate.
fn parse_cron_shape(v: &str) -> Result<String, String> {
    let fields = v.split_whitespace().count();
    if (6..=7).contains(&fields) {
        Ok(v.trim().to_owned())
    } else {
        Err(format!(
            "expected a cron expression with 6 or 7 fields (sec min hour day month weekday [year]), got {fields}"
        ))
    }
}

/// How [`Config::redacted`] shows a value to an operator: a secret never in the clear.
trait Shown {
    fn shown(&self) -> String;
}

/// An optional value as its [`Shown`] text, or `unset` when it is `None`.
fn shown_or<T: Shown>(value: &Option<T>, unset: impl fmt::Display) -> String {
    value.as_ref().map_or_else(|| unset.to_string(), Shown::shown)
}

/// A URL with its password, if any, replaced by `[redacted]`.
fn without_password(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("[redacted]"));
    }
    shown.to_string()
}

impl Shown for PathBuf {
    fn shown(&self) -> String {
        self.display().to_string()
    }
}

/// Values shown as they print.
macro_rules! shown_as_displayed {
    ($($ty:ty),*) => {$(
        impl Shown for $ty {
            fn shown(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

shown_as_displayed!(String, bool, u64, SocketAddr, Url);

impl Shown for ClamdUrl {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for Secret<String> {
    fn shown(&self) -> String {
        "[redacted]".to_owned()
    }
}

impl Shown for Secret<[u8; 32]> {
    fn shown(&self) -> String {
        "[redacted]".to_owned()
    }
}

impl<T> Shown for Vec<Secret<T>> {
    fn shown(&self) -> String {
        match self.len() {
            0 => "(none)".to_owned(),
            n => format!("{n} × [redacted]"),
        }
    }
}

impl Shown for Secret<Url> {
    fn shown(&self) -> String {
        without_password(self.expose())
    }
}

impl Shown for DatabaseUrl {
    fn shown(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => {
                Url::parse(url.expose()).map_or_else(|_| "[redacted]".to_owned(), |u| without_password(&u))
            }
        }
    }
}

impl Shown for StorageUrl {
    fn shown(&self) -> String {
        match self {
            Self::Local(path) => format!("local:{}", path.display()),
            Self::S3 { bucket } => format!("s3://{bucket}"),
        }
    }
}

impl Shown for S3Checksum {
    fn shown(&self) -> String {
        match self {
            Self::None => "none",
            Self::Crc32 => "crc32",
        }
        .to_owned()
    }
}

impl Shown for LogFormat {
    fn shown(&self) -> String {
        match self {
            Self::Pretty => "pretty",
            Self::Json => "json",
        }
        .to_owned()
    }
}

impl Shown for TrustedProxies {
    fn shown(&self) -> String {
        if self.is_empty() { "(none)".to_owned() } else { self.to_string() }
    }
}

impl Shown for ProxyHeader {
    fn shown(&self) -> String {
        self.name().to_owned()
    }
}

impl Shown for SeedDemo {
    fn shown(&self) -> String {
        match self {
            Self::Auto => "auto",
            Self::Always => "always",
            Self::Never => "never",
        }
        .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn no_configuration_gives_the_embedded_defaults() -> Result<(), ConfigError> {
        let c = Config::from_sources(env(&[("HOME", "/root")]), None)?;
        assert_eq!(c.database_url, DatabaseUrl::Sqlite(PathBuf::from("./data/matterline.db")));
        assert_eq!(c.storage, StorageUrl::Local(PathBuf::from("./data/documents")));
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(c.weekly_schedule.as_deref(), Some("0 0 9 * * Mon"));
        assert_eq!(c.max_upload_bytes, 262_144_000);
        assert_eq!(c.upload_idle_seconds, 30);
        assert_eq!(c.upload_total_seconds, 3600);
        assert_eq!(c.upload_buffer_mib, 96);
        assert_eq!(c.page_cache_mib, 16);
        assert!(c.fault_panic_marker.is_none(), "no fault is injected unless asked");
        assert_eq!(c.s3_checksum, S3Checksum::None, "only what the server requires");
        assert!(c.smtp_url.is_none());
        assert!(c.wants_demo_seed());
        assert!(c.trusted_proxies.is_empty(), "no proxy is trusted unless named");
        assert_eq!(c.trusted_proxy_header, ProxyHeader::XForwardedFor);
        Ok(())
    }

    #[test]
    fn trusted_proxies_are_read_and_a_bad_entry_is_named() -> Result<(), ConfigError> {
        let c = Config::from_sources(
            env(&[
                ("MATTERLINE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
                ("MATTERLINE_TRUSTED_PROXY_HEADER", "forwarded"),
            ]),
            None,
        )?;
        assert!(c.trusted_proxies.contains("10.2.3.4".parse().map_err(|_| ConfigError::new("test", "address"))?));
        assert_eq!(c.trusted_proxy_header, ProxyHeader::Forwarded);
        let shown = c.redacted();
        assert!(shown.contains(&("MATTERLINE_TRUSTED_PROXIES".to_owned(), "127.0.0.1/32,10.0.0.0/8".to_owned())));
        let err = Config::from_sources(env(&[("MATTERLINE_TRUSTED_PROXIES", "10.0.0.0/8, 10.1.2.3/16")]), None).err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some(
                "configuration error: MATTERLINE_TRUSTED_PROXIES: \"10.1.2.3/16\" has bits set after its prefix; the range is 10.1.0.0/16"
            )
        );
        Ok(())
    }

    #[test]
    fn an_unknown_variable_is_named_in_the_error() {
        let err = Config::from_sources(env(&[("MATTERLINE_DATABSE_URL", "x")]), None).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("configuration error: MATTERLINE_DATABSE_URL: unknown setting".to_owned())
        );
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_not_turned_into_a_file() {
        let err = Config::from_sources(env(&[("MATTERLINE_DATABASE_URL", "mysql://root@localhost/db")]), None).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.starts_with("configuration error: MATTERLINE_DATABASE_URL: unsupported scheme \"mysql\""),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn malformed_values_name_their_key() {
        for (key, value) in [
            ("MATTERLINE_BIND", "localhost"),
            ("MATTERLINE_PUBLIC_URL", "ftp://x"),
            ("MATTERLINE_STORAGE", "gcs://bucket"),
            ("MATTERLINE_MAX_UPLOAD_BYTES", "-5"),
            ("MATTERLINE_UPLOAD_IDLE_SECONDS", "0"),
            ("MATTERLINE_UPLOAD_IDLE_SECONDS", "soon"),
            ("MATTERLINE_UPLOAD_TOTAL_SECONDS", "0"),
            ("MATTERLINE_UPLOAD_BUFFER_MIB", "7"),
            ("MATTERLINE_UPLOAD_BUFFER_MIB", "lots"),
            ("MATTERLINE_FAULT_PANIC_MARKER", "short"),
            ("MATTERLINE_SMTP_URL", "http://mail"),
            ("MATTERLINE_JWT_SECRET", "short"),
            ("MATTERLINE_JWT_PREVIOUS_SECRETS", "0123456789abcdef0123456789abcdef-old,short"),
            ("MATTERLINE_TOTP_KEY", "0011"),
            ("MATTERLINE_TOTP_KEY", "not base64 at all, not 32 bytes"),
            ("MATTERLINE_TOTP_PREVIOUS_KEYS", "0011"),
            ("MATTERLINE_WEEKLY_SCHEDULE", "every monday"),
            ("MATTERLINE_LOG_FORMAT", "xml"),
            ("MATTERLINE_MAIL_FROM", "Firm <nobody>"),
            ("MATTERLINE_DATABASE_URL", "postgres:///nohost"),
            ("MATTERLINE_S3_CHECKSUM", "sha1024"),
            ("MATTERLINE_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
            ("MATTERLINE_TRUSTED_PROXY_HEADER", "x-real-ip"),
        ] {
            let err = Config::from_sources(env(&[(key, value)]), None).err();
            assert_eq!(err.as_ref().map(|e| e.key.as_str()), Some(key), "{key}={value} gave {err:?}");
        }
    }

    #[test]
    fn previous_secrets_and_the_totp_key_are_read_in_every_spelling() -> Result<(), ConfigError> {
        let c = Config::from_sources(
            env(&[
                ("MATTERLINE_JWT_PREVIOUS_SECRETS", " 0123456789abcdef0123456789abcdef-old-one ,, "),
                ("MATTERLINE_TOTP_KEY", &"0f".repeat(32)),
            ]),
            None,
        )?;
        assert_eq!(c.jwt_previous_secrets.len(), 1);
        assert_eq!(c.jwt_previous_secrets[0].expose(), "0123456789abcdef0123456789abcdef-old-one");
        assert_eq!(c.totp_key.as_ref().map(|k| *k.expose()), Some([0x0f; 32]));
        let bytes: [u8; 32] = std::array::from_fn(|i| u8::try_from(i * 7 + 250).unwrap_or(0));
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        for spelling in
            [hex::encode(bytes), hex::encode_upper(bytes), STANDARD.encode(bytes), URL_SAFE_NO_PAD.encode(bytes)]
        {
            let c = Config::from_sources(env(&[("MATTERLINE_TOTP_KEY", &spelling)]), None)?;
            assert_eq!(c.totp_key.map(|k| *k.expose()), Some(bytes), "{spelling}");
        }
        let err = Config::from_sources(env(&[("MATTERLINE_TOTP_KEY", &STANDARD.encode([1u8; 16]))]), None).err();
        assert_eq!(err.map(|e| e.key), Some("MATTERLINE_TOTP_KEY".to_owned()), "16 bytes are not a key");
        let err = Config::from_sources(env(&[("MATTERLINE_JWT_PREVIOUS_SECRETS", "too-short")]), None).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(
                "configuration error: MATTERLINE_JWT_PREVIOUS_SECRETS: secret 1 (comma-separated, counted from 1) \
                 must be at least 32 characters (e.g. `openssl rand -hex 32`)"
                    .to_owned()
            )
        );
        Ok(())
    }

    #[test]
    fn the_s3_checksum_is_crc32_or_none() -> Result<(), ConfigError> {
        for (value, expected) in [
            ("crc32", S3Checksum::Crc32),
            ("CRC32", S3Checksum::Crc32),
            ("none", S3Checksum::None),
            ("", S3Checksum::None),
        ] {
            let c = Config::from_sources(env(&[("MATTERLINE_S3_CHECKSUM", value)]), None)?;
            assert_eq!(c.s3_checksum, expected, "{value:?}");
        }
        let err = Config::from_sources(env(&[("MATTERLINE_S3_CHECKSUM", "md5")]), None).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("configuration error: MATTERLINE_S3_CHECKSUM: expected crc32 or none"));
        Ok(())
    }

    #[test]
    fn the_environment_wins_over_the_file_and_the_file_rejects_unknown_keys() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = std::env::temp_dir().join(format!("matterline-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("matterline.toml");
        std::fs::write(&path, "bind = \"0.0.0.0:9000\"\nmax_upload_bytes = 1000\n")?;
        let c = Config::from_sources(env(&[("MATTERLINE_BIND", "127.0.0.1:9001")]), Some(&path))?;
        assert_eq!(c.bind.to_string(), "127.0.0.1:9001");
        assert_eq!(c.max_upload_bytes, 1000);

        std::fs::write(&path, "colour = \"blue\"\n")?;
        let err = Config::from_sources(Vec::new(), Some(&path)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.ends_with("colour: unknown setting"), "{err}");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn secrets_never_appear_in_debug_output() -> Result<(), ConfigError> {
        let c = Config::from_sources(
            env(&[
                ("MATTERLINE_JWT_SECRET", "0123456789abcdef0123456789abcdef-very-secret"),
                ("MATTERLINE_JWT_PREVIOUS_SECRETS", "0123456789abcdef0123456789abcdef-once-secret"),
                ("MATTERLINE_TOTP_KEY", "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"),
                ("MATTERLINE_SMTP_URL", "smtp://user:hunter2@mail.example:587"),
                ("MATTERLINE_DATABASE_URL", "postgres://app:pg-password@db.example/matterline"),
            ]),
            None,
        )?;
        let printed = format!("{c:?}");
        let listed = format!("{:?}", c.redacted());
        for secret in ["very-secret", "once-secret", "5e5e5e5e", "94, 94", "hunter2", "pg-password"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
            assert!(!listed.contains(secret), "{secret} leaked: {listed}");
        }
        assert_eq!(c.redacted().len(), KEYS.len(), "every key is listed");
        assert!(
            listed.contains("postgres://app:%5Bredacted%5D@db.example/matterline")
                || listed.contains("postgres://app:[redacted]@db.example/matterline"),
            "{listed}"
        );
        assert_eq!(c.database_url.describe(), "PostgreSQL db.example:5432/matterline");
        assert!(!c.wants_demo_seed(), "an SMTP server means production: no demo seed");
        Ok(())
    }

    /// What `redacted()` lists, as `KEY=value` lines.
    fn listed(c: &Config) -> Vec<String> {
        c.redacted().into_iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    #[test]
    fn every_key_is_listed_in_table_order_under_its_environment_name() -> Result<(), ConfigError> {
        let c = Config::from_sources(Vec::new(), None)?;
        let names: Vec<String> = c.redacted().into_iter().map(|(k, _)| k).collect();
        let expected: Vec<String> = KEYS.iter().map(|k| format!("MATTERLINE_{}", k.to_uppercase())).collect();
        assert_eq!(names, expected);
        Ok(())
    }

    #[test]
    fn the_defaults_are_listed_for_an_operator() -> Result<(), ConfigError> {
        let c = Config::from_sources(Vec::new(), None)?;
        assert_eq!(
            listed(&c),
            [
                "MATTERLINE_DATA_DIR=./data",
                "MATTERLINE_DATABASE_URL=sqlite://./data/matterline.db",
                "MATTERLINE_BIND=127.0.0.1:8080",
                "MATTERLINE_PUBLIC_URL=http://127.0.0.1:8080/",
                "MATTERLINE_TRUSTED_PROXIES=(none)",
                "MATTERLINE_TRUSTED_PROXY_HEADER=x-forwarded-for",
                "MATTERLINE_STORAGE=local:./data/documents",
                "MATTERLINE_S3_ENDPOINT=(unset)",
                "MATTERLINE_S3_REGION=(unset)",
                "MATTERLINE_S3_FORCE_PATH_STYLE=false",
                "MATTERLINE_S3_SSE=(unset)",
                "MATTERLINE_S3_CHECKSUM=none",
                "MATTERLINE_SMTP_URL=(unset: dev mail folder)",
                "MATTERLINE_SMTP_CA_FILE=(unset)",
                "MATTERLINE_SMTP_CONNECTIONS=8",
                "MATTERLINE_SMTP_MAX_PER_SECOND=(unset: no limit)",
                "MATTERLINE_MAIL_FROM=Matterline <no-reply@localhost>",
                "MATTERLINE_JWT_SECRET=(generated in ./data/jwt-secret)",
                "MATTERLINE_JWT_PREVIOUS_SECRETS=(none)",
                "MATTERLINE_TOTP_KEY=(generated in ./data/totp-key)",
                "MATTERLINE_TOTP_PREVIOUS_KEYS=(none)",
                "MATTERLINE_VAPID_PRIVATE_KEY=(generated in ./data/vapid-private-key)",
                "MATTERLINE_VAPID_SUBJECT=(mailto: of Matterline <no-reply@localhost>)",
                "MATTERLINE_WEEKLY_SCHEDULE=0 0 9 * * Mon",
                "MATTERLINE_MAX_UPLOAD_BYTES=262144000",
                "MATTERLINE_CLAMD_URL=(unset: uploads are not scanned for viruses)",
                "MATTERLINE_CLAMD_FAIL_OPEN=false",
                "MATTERLINE_LOG_FORMAT=pretty",
                "MATTERLINE_SEED_DEMO=auto",
                "MATTERLINE_ASSETS_DIR=(unset)",
                "MATTERLINE_NOTIFIER_BIND=127.0.0.1:9464",
                "MATTERLINE_SHUTDOWN_GRACE_SECONDS=30",
                "MATTERLINE_UPLOAD_IDLE_SECONDS=30",
                "MATTERLINE_UPLOAD_TOTAL_SECONDS=3600",
                "MATTERLINE_UPLOAD_BUFFER_MIB=96",
                "MATTERLINE_PAGE_CACHE_MIB=16",
                "MATTERLINE_FAULT_PANIC_MARKER=(unset)",
                "MATTERLINE_SMS_URL=https://api.twilio.com/",
                "MATTERLINE_SMS_ACCOUNT_SID=(unset: texts are off)",
                "MATTERLINE_SMS_AUTH_TOKEN=(unset: texts are off)",
                "MATTERLINE_SMS_FROM=(unset)",
                "MATTERLINE_SMS_MESSAGING_SERVICE_SID=(unset)",
            ]
        );
        Ok(())
    }

    #[test]
    fn every_key_is_accepted_from_the_environment_and_from_the_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("matterline-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, "not checked here")?;
        let ca = ca.display().to_string();
        // Every key with a value that is not its default, and how it is then listed.
        let settings = [
            ("data_dir", "/srv/matterline", "/srv/matterline"),
            (
                "database_url",
                "postgres://app:pg-password@db.example/matterline",
                "postgres://app:%5Bredacted%5D@db.example/matterline",
            ),
            ("bind", "0.0.0.0:9000", "0.0.0.0:9000"),
            ("public_url", "https://portal.example", "https://portal.example/"),
            ("trusted_proxies", "10.0.0.0/8, ::1", "10.0.0.0/8,::1/128"),
            ("trusted_proxy_header", "Forwarded", "forwarded"),
            ("storage", "s3://matter-docs/", "s3://matter-docs"),
            ("s3_endpoint", "http://minio:9000", "http://minio:9000/"),
            ("s3_region", "eu-west-1", "eu-west-1"),
            ("s3_force_path_style", "yes", "true"),
            ("s3_sse", " AES256 ", "AES256"),
            ("s3_checksum", "CRC32", "crc32"),
            ("smtp_url", "smtps://mailer:hunter2@mail.example:465", "smtps://mailer:%5Bredacted%5D@mail.example:465"),
            ("smtp_ca_file", &ca, &ca),
            ("smtp_connections", "32", "32"),
            ("smtp_max_per_second", "14", "14"),
            ("mail_from", "Firm <office@firm.example>", "Firm <office@firm.example>"),
            ("jwt_secret", "0123456789abcdef0123456789abcdef-very-secret", "[redacted]"),
            (
                "jwt_previous_secrets",
                "0123456789abcdef0123456789abcdef-old-one, 0123456789abcdef0123456789abcdef-older-one",
                "2 × [redacted]",
            ),
            ("totp_key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "[redacted]"),
            ("totp_previous_keys", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "1 × [redacted]"),
            ("vapid_private_key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "[redacted]"),
            ("vapid_subject", "mailto:it@firm.example", "mailto:it@firm.example"),
            ("weekly_schedule", " ", "(blank: off)"),
            ("max_upload_bytes", "1000", "1000"),
            ("clamd_url", "unix:///run/clamav/clamd.ctl", "unix:/run/clamav/clamd.ctl"),
            ("clamd_fail_open", "yes", "true"),
            ("log_format", "json", "json"),
            ("seed_demo", "never", "never"),
            ("assets_dir", "/srv/assets", "/srv/assets"),
            ("notifier_bind", "", "(blank: off)"),
            ("shutdown_grace_seconds", "0", "0"),
            ("upload_idle_seconds", "5", "5"),
            ("upload_total_seconds", "600", "600"),
            ("upload_buffer_mib", "16", "16"),
            ("page_cache_mib", "0", "0"),
            ("fault_panic_marker", " panic-here-7f3a ", "panic-here-7f3a"),
            ("sms_url", "http://127.0.0.1:9999", "http://127.0.0.1:9999/"),
            ("sms_account_sid", "AC0123456789abcdef", "AC0123456789abcdef"),
            ("sms_auth_token", "sms-token-hunter2", "[redacted]"),
            ("sms_from", "+15550001111", "+15550001111"),
            ("sms_messaging_service_sid", "MG0123456789abcdef", "MG0123456789abcdef"),
        ];
        let mut keys: Vec<&str> = settings.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let mut declared = KEYS.to_vec();
        declared.sort_unstable();
        assert_eq!(keys, declared, "a sample for every key");
        let expected: Vec<String> =
            settings.iter().map(|(k, _, shown)| format!("MATTERLINE_{}={shown}", k.to_uppercase())).collect();

        let from_env = settings.iter().map(|(k, v, _)| (format!("MATTERLINE_{}", k.to_uppercase()), (*v).to_owned()));
        let from_env = Config::from_sources(from_env, None)?;
        let mut sorted = listed(&from_env);
        sorted.sort_unstable();
        let mut sorted_expected = expected.clone();
        sorted_expected.sort_unstable();
        assert_eq!(sorted, sorted_expected);

        let path = dir.join("matterline.toml");
        let toml: String = settings.iter().map(|(k, v, _)| format!("{k} = {}\n", toml::Value::from(*v))).collect();
        std::fs::write(&path, toml)?;
        let from_file = Config::from_sources(Vec::new(), Some(&path))?;
        assert_eq!(listed(&from_file), listed(&from_env));
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn a_malformed_value_in_the_file_names_the_file_and_key() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("matterline-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("matterline.toml");
        std::fs::write(&path, "upload_idle_seconds = 0\n")?;
        let err = Config::from_sources(Vec::new(), Some(&path)).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(format!(
                "configuration error: {}: upload_idle_seconds: expected a positive number of seconds",
                path.display()
            ))
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn defaults_follow_the_keys_they_are_computed_from() -> Result<(), ConfigError> {
        let c =
            Config::from_sources(env(&[("MATTERLINE_DATA_DIR", "/srv/m"), ("MATTERLINE_BIND", "[::1]:8443")]), None)?;
        assert_eq!(c.database_url, DatabaseUrl::Sqlite(PathBuf::from("/srv/m/matterline.db")));
        assert_eq!(c.storage, StorageUrl::Local(PathBuf::from("/srv/m/documents")));
        assert_eq!(c.public_url.as_str(), "http://[::1]:8443/");
        // A zoned IPv6 address makes no URL: the operator is asked for the public URL.
        let err = Config::from_sources(env(&[("MATTERLINE_BIND", "[fe80::1%2]:8080")]), None).err();
        assert_eq!(err.map(|e| e.key), Some("MATTERLINE_PUBLIC_URL".to_owned()));
        let c = Config::from_sources(
            env(&[("MATTERLINE_BIND", "[fe80::1%2]:8080"), ("MATTERLINE_PUBLIC_URL", "https://portal.example/")]),
            None,
        )?;
        assert_eq!(c.public_url.as_str(), "https://portal.example/");
        Ok(())
    }

    #[test]
    fn clamd_is_reached_over_tcp_or_a_unix_socket_and_anything_else_is_refused() -> Result<(), ConfigError> {
        let none = Config::from_sources(env(&[]), None)?;
        assert_eq!((none.clamd_url, none.clamd_fail_open), (None, false), "no scanning, and fail closed");
        for (raw, parsed) in [
            ("tcp://127.0.0.1:3310", ClamdUrl::Tcp("127.0.0.1:3310".into())),
            ("tcp://clamav", ClamdUrl::Tcp("clamav:3310".into())),
            ("tcp://[::1]:3311/", ClamdUrl::Tcp("[::1]:3311".into())),
            ("unix:/run/clamav/clamd.ctl", ClamdUrl::Unix("/run/clamav/clamd.ctl".into())),
            ("unix:///run/clamav/clamd.ctl", ClamdUrl::Unix("/run/clamav/clamd.ctl".into())),
        ] {
            let c = Config::from_sources(
                env(&[("MATTERLINE_CLAMD_URL", raw), ("MATTERLINE_CLAMD_FAIL_OPEN", "true")]),
                None,
            )?;
            assert_eq!(c.clamd_url.as_ref(), Some(&parsed), "{raw}");
            assert!(c.clamd_fail_open);
            let shown = c.redacted().into_iter().find(|(k, _)| k == "MATTERLINE_CLAMD_URL").map(|(_, v)| v);
            assert_eq!(shown, Some(parsed.to_string()), "{raw}");
        }
        for raw in ["127.0.0.1:3310", "http://127.0.0.1:3310", "tcp://", "tcp://host:3310/scan", "unix:"] {
            let err = Config::from_sources(env(&[("MATTERLINE_CLAMD_URL", raw)]), None).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.starts_with("configuration error: MATTERLINE_CLAMD_URL: ")),
                "{raw}: {err:?}"
            );
        }
        Ok(())
    }
}
