//! Configuration: `MATTERLINE_*` environment variables, an optional TOML file
//! (`MATTERLINE_CONFIG=path`) with the same keys in lower case, and embedded-mode
//! defaults. The environment wins over the file. An unknown key or a malformed
//! value is a [`ConfigError`] naming the key, so start-up stops with one line.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use url::Url;

/// Prefix of every environment variable Matterline reads.
pub const ENV_PREFIX: &str = "MATTERLINE_";
/// Environment variable naming the optional TOML file (not a key of the file itself).
pub const CONFIG_FILE_VAR: &str = "MATTERLINE_CONFIG";

/// Every key the configuration accepts, as spelled in the TOML file.
/// The environment spelling is `MATTERLINE_` + the key in upper case.
pub const KEYS: &[&str] = &[
    "data_dir",
    "database_url",
    "bind",
    "public_url",
    "storage",
    "s3_endpoint",
    "s3_region",
    "s3_force_path_style",
    "s3_sse",
    "s3_checksum",
    "smtp_url",
    "smtp_ca_file",
    "mail_from",
    "jwt_secret",
    "weekly_schedule",
    "max_upload_bytes",
    "log_format",
    "seed_demo",
    "assets_dir",
    "notifier_bind",
    "shutdown_grace_seconds",
    "upload_idle_seconds",
];

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

/// The effective configuration of a Matterline process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for embedded-mode state: the SQLite file, documents, dev outbox, generated secret.
    pub data_dir: PathBuf,
    /// The database to use.
    pub database_url: DatabaseUrl,
    /// Address the portal listens on.
    pub bind: SocketAddr,
    /// Base URL used in links in emails.
    pub public_url: Url,
    /// Where documents are stored.
    pub storage: StorageUrl,
    /// Custom S3 endpoint (MinIO, Garage, R2 …); AWS when unset.
    pub s3_endpoint: Option<Url>,
    /// S3 region; the AWS default chain when unset.
    pub s3_region: Option<String>,
    /// Path-style bucket addressing (needed by most self-hosted S3 servers).
    pub s3_force_path_style: bool,
    /// Server-side encryption asked of S3 for every object (`AES256`, `aws:kms`); none when unset.
    pub s3_sse: Option<String>,
    /// The request checksum sent with every object and part (`MATTERLINE_S3_CHECKSUM`).
    pub s3_checksum: S3Checksum,
    /// SMTP server URL; unset means the dev outbox in `data_dir/outbox`.
    pub smtp_url: Option<Secret<Url>>,
    /// A PEM certificate to trust for the SMTP server's TLS (a private CA or a
    /// self-signed relay), besides the public roots.
    pub smtp_ca_file: Option<PathBuf>,
    /// Sender of every email, `Name <address>`.
    pub mail_from: String,
    /// Secret signing every token; generated once into `data_dir` when unset.
    pub jwt_secret: Option<Secret<String>>,
    /// Cron expression of the weekly update; `None` when blank (off).
    pub weekly_schedule: Option<String>,
    /// Largest accepted upload, per file.
    pub max_upload_bytes: u64,
    /// Log line format.
    pub log_format: LogFormat,
    /// Demo seeding policy.
    pub seed_demo: SeedDemo,
    /// Folder whose `web/`, `email/`, `locales/` and `catalogue/` files override the embedded ones.
    pub assets_dir: Option<PathBuf>,
    /// Where `notifier run` serves `/metrics` and `/healthz`; `None` when blank.
    pub notifier_bind: Option<SocketAddr>,
    /// How long the portal lets requests in flight (uploads included) finish after SIGTERM or SIGINT.
    pub shutdown_grace_seconds: u64,
    /// How long an upload may send nothing before the portal gives up on it
    /// (a stalled or deliberately slow body must not hold a connection forever).
    pub upload_idle_seconds: u64,
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

    fn from_raw(mut raw: BTreeMap<&'static str, Raw>) -> Result<Self, ConfigError> {
        let mut take = |key: &'static str| raw.remove(key);

        let data_dir = take("data_dir").map(|r| PathBuf::from(r.value)).unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = match take("database_url") {
            Some(r) => parse_with(&r, DatabaseUrl::parse)?,
            None => DatabaseUrl::Sqlite(data_dir.join("matterline.db")),
        };
        let bind = match take("bind") {
            Some(r) => parse_with(&r, |v| {
                v.parse::<SocketAddr>().map_err(|_| "expected HOST:PORT, e.g. 127.0.0.1:8080".to_owned())
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let public_url = match take("public_url") {
            Some(r) => parse_with(&r, parse_http_url)?,
            None => Url::parse(&format!("http://{bind}/"))
                .map_err(|e| ConfigError::new("MATTERLINE_PUBLIC_URL", e.to_string()))?,
        };
        let storage = match take("storage") {
            Some(r) => parse_with(&r, StorageUrl::parse)?,
            None => StorageUrl::Local(data_dir.join("documents")),
        };
        let s3_endpoint = take("s3_endpoint").map(|r| parse_with(&r, parse_http_url)).transpose()?;
        let s3_region = take("s3_region").map(|r| r.value).filter(|v| !v.trim().is_empty());
        let s3_force_path_style =
            take("s3_force_path_style").map(|r| parse_with(&r, parse_bool)).transpose()?.unwrap_or(false);
        let s3_sse = take("s3_sse").map(|r| r.value.trim().to_owned()).filter(|v| !v.is_empty());
        let s3_checksum =
            take("s3_checksum").map(|r| parse_with(&r, S3Checksum::parse)).transpose()?.unwrap_or(S3Checksum::None);
        let smtp_url = take("smtp_url")
            .filter(|r| !r.value.trim().is_empty())
            .map(|r| parse_with(&r, parse_smtp_url))
            .transpose()?
            .map(Secret::new);
        let smtp_ca_file = match take("smtp_ca_file") {
            Some(r) if r.value.trim().is_empty() => None,
            Some(r) => Some(parse_with(&r, |v| {
                let path = PathBuf::from(v.trim());
                if path.is_file() { Ok(path) } else { Err(format!("{} is not a readable file", path.display())) }
            })?),
            None => None,
        };
        let mail_from = match take("mail_from") {
            Some(r) => parse_with(&r, parse_mailbox)?,
            None => "Matterline <no-reply@localhost>".to_owned(),
        };
        let jwt_secret = match take("jwt_secret") {
            Some(r) if r.value.len() < 32 => {
                return Err(ConfigError::new(r.origin, "must be at least 32 characters (e.g. `openssl rand -hex 32`)"));
            }
            Some(r) => Some(Secret::new(r.value)),
            None => None,
        };
        let weekly_schedule = match take("weekly_schedule") {
            Some(r) if r.value.trim().is_empty() => None,
            Some(r) => Some(parse_with(&r, parse_cron_shape)?),
            None => Some("0 0 9 * * Mon".to_owned()),
        };
        let max_upload_bytes = match take("max_upload_bytes") {
            Some(r) => parse_with(&r, |v| match v.trim().parse::<u64>() {
                Ok(0) | Err(_) => Err("expected a positive number of bytes".to_owned()),
                Ok(n) => Ok(n),
            })?,
            None => 262_144_000,
        };
        let log_format = match take("log_format") {
            Some(r) => parse_with(&r, |v| match v.trim() {
                "pretty" | "text" => Ok(LogFormat::Pretty),
                "json" => Ok(LogFormat::Json),
                _ => Err("expected \"pretty\" or \"json\"".to_owned()),
            })?,
            None => LogFormat::Pretty,
        };
        let seed_demo = match take("seed_demo") {
            Some(r) => parse_with(&r, |v| match v.trim() {
                "auto" => Ok(SeedDemo::Auto),
                "true" | "always" => Ok(SeedDemo::Always),
                "false" | "never" => Ok(SeedDemo::Never),
                _ => Err("expected auto, true or false".to_owned()),
            })?,
            None => SeedDemo::Auto,
        };
        let notifier_bind = match take("notifier_bind") {
            Some(r) if r.value.trim().is_empty() => None,
            Some(r) => Some(parse_with(&r, |v| {
                v.trim().parse::<SocketAddr>().map_err(|_| "expected HOST:PORT, e.g. 127.0.0.1:9464".to_owned())
            })?),
            None => Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        };
        let shutdown_grace_seconds = match take("shutdown_grace_seconds") {
            Some(r) => {
                parse_with(&r, |v| v.trim().parse::<u64>().map_err(|_| "expected a number of seconds".to_owned()))?
            }
            None => 30,
        };
        let upload_idle_seconds = match take("upload_idle_seconds") {
            Some(r) => parse_with(&r, |v| match v.trim().parse::<u64>() {
                Ok(0) | Err(_) => Err("expected a positive number of seconds".to_owned()),
                Ok(n) => Ok(n),
            })?,
            None => 30,
        };
        let assets_dir = take("assets_dir").map(|r| PathBuf::from(r.value)).filter(|p| !p.as_os_str().is_empty());

        Ok(Self {
            data_dir,
            database_url,
            bind,
            public_url,
            storage,
            s3_endpoint,
            s3_region,
            s3_force_path_style,
            s3_sse,
            s3_checksum,
            smtp_url,
            smtp_ca_file,
            mail_from,
            jwt_secret,
            weekly_schedule,
            max_upload_bytes,
            log_format,
            seed_demo,
            assets_dir,
            notifier_bind,
            shutdown_grace_seconds,
            upload_idle_seconds,
        })
    }

    /// The effective settings as `(MATTERLINE_KEY, value)` lines for an operator,
    /// with passwords and secrets replaced by `[redacted]`.
    pub fn redacted(&self) -> Vec<(String, String)> {
        let hide_password = |url: &Url| {
            let mut shown = url.clone();
            if shown.password().is_some() {
                let _ = shown.set_password(Some("[redacted]"));
            }
            shown.to_string()
        };
        let database = match &self.database_url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => {
                Url::parse(url.expose()).map_or_else(|_| "[redacted]".to_owned(), |u| hide_password(&u))
            }
        };
        let storage = match &self.storage {
            StorageUrl::Local(path) => format!("local:{}", path.display()),
            StorageUrl::S3 { bucket } => format!("s3://{bucket}"),
        };
        let or_unset = |v: Option<String>| v.unwrap_or_else(|| "(unset)".to_owned());
        let lines = [
            ("data_dir", self.data_dir.display().to_string()),
            ("database_url", database),
            ("bind", self.bind.to_string()),
            ("public_url", self.public_url.to_string()),
            ("storage", storage),
            ("s3_endpoint", or_unset(self.s3_endpoint.as_ref().map(Url::to_string))),
            ("s3_region", or_unset(self.s3_region.clone())),
            ("s3_force_path_style", self.s3_force_path_style.to_string()),
            ("s3_sse", or_unset(self.s3_sse.clone())),
            ("s3_checksum", format!("{:?}", self.s3_checksum).to_lowercase()),
            (
                "smtp_url",
                self.smtp_url.as_ref().map_or_else(|| "(unset: dev outbox)".to_owned(), |u| hide_password(u.expose())),
            ),
            ("smtp_ca_file", or_unset(self.smtp_ca_file.as_ref().map(|p| p.display().to_string()))),
            ("mail_from", self.mail_from.clone()),
            (
                "jwt_secret",
                if self.jwt_secret.is_some() {
                    "[redacted]".to_owned()
                } else {
                    format!("(generated in {})", self.data_dir.join("jwt-secret").display())
                },
            ),
            ("weekly_schedule", self.weekly_schedule.clone().unwrap_or_else(|| "(blank: off)".to_owned())),
            ("max_upload_bytes", self.max_upload_bytes.to_string()),
            ("log_format", format!("{:?}", self.log_format).to_lowercase()),
            ("seed_demo", format!("{:?}", self.seed_demo).to_lowercase()),
            ("assets_dir", or_unset(self.assets_dir.as_ref().map(|p| p.display().to_string()))),
            ("notifier_bind", self.notifier_bind.map_or_else(|| "(blank: off)".to_owned(), |b| b.to_string())),
            ("shutdown_grace_seconds", self.shutdown_grace_seconds.to_string()),
            ("upload_idle_seconds", self.upload_idle_seconds.to_string()),
        ];
        lines.into_iter().map(|(k, v)| (format!("{ENV_PREFIX}{}", k.to_uppercase()), v)).collect()
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
        assert_eq!(c.s3_checksum, S3Checksum::None, "only what the server requires");
        assert!(c.smtp_url.is_none());
        assert!(c.wants_demo_seed());
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
            ("MATTERLINE_SMTP_URL", "http://mail"),
            ("MATTERLINE_JWT_SECRET", "short"),
            ("MATTERLINE_WEEKLY_SCHEDULE", "every monday"),
            ("MATTERLINE_LOG_FORMAT", "xml"),
            ("MATTERLINE_MAIL_FROM", "Firm <nobody>"),
            ("MATTERLINE_DATABASE_URL", "postgres:///nohost"),
            ("MATTERLINE_S3_CHECKSUM", "sha1024"),
        ] {
            let err = Config::from_sources(env(&[(key, value)]), None).err();
            assert_eq!(err.as_ref().map(|e| e.key.as_str()), Some(key), "{key}={value} gave {err:?}");
        }
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
                ("MATTERLINE_SMTP_URL", "smtp://user:hunter2@mail.example:587"),
                ("MATTERLINE_DATABASE_URL", "postgres://app:pg-password@db.example/matterline"),
            ]),
            None,
        )?;
        let printed = format!("{c:?}");
        let listed = format!("{:?}", c.redacted());
        for secret in ["very-secret", "hunter2", "pg-password"] {
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
}
