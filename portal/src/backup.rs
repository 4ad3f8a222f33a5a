//! Backups: `portal backup DIR` writes a consistent copy of the database and
//! then of the local document folder; `portal restore DIR` puts both back
//! (with the portal stopped). Documents are written before their rows and
//! never change, so every row of the copied database finds its file.
//!
//! - SQLite: `VACUUM INTO` (a read transaction: safe while the portal serves)
//!   writes `DIR/matterline.db`; the restore copies it back.
//! - PostgreSQL: `pg_dump --format=custom` (one snapshot: safe while serving)
//!   writes `DIR/matterline.pgdump`; the restore runs `pg_restore --clean` in
//!   one transaction, so the database is either the backup's or unchanged.
//!   The client programs must be of the server's major version (or newer);
//!   they are looked for where distributions install them, then on PATH.
//!
//! S3 has its own tools (bucket versioning, replication).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, anyhow, bail};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use shared::config::{Config, DatabaseUrl, StorageUrl};
use shared::db::{Db, DbConnection};

const DATABASE_FILE: &str = "matterline.db";
const POSTGRES_DUMP: &str = "matterline.pgdump";
const DOCUMENTS_DIR: &str = "documents";

fn local_documents(config: &Config) -> anyhow::Result<PathBuf> {
    let StorageUrl::Local(documents) = &config.storage else {
        bail!(
            "backup and restore copy a local document folder; for S3 use bucket versioning or replication (see the README)"
        );
    };
    Ok(documents.clone())
}

/// What a backup or restore copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Document files copied.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Writes the database (`dir/matterline.db` or `dir/matterline.pgdump`) and
/// then `dir/documents/`. `dir` must not hold a backup already; a folder it
/// creates is readable by the owner only.
pub fn backup(config: &Config, db: &Db, dir: &Path) -> anyhow::Result<Copied> {
    let documents = local_documents(config)?;
    for name in [DATABASE_FILE, POSTGRES_DUMP] {
        let existing = dir.join(name);
        if existing.exists() {
            bail!("{} already exists; choose an empty folder", existing.display());
        }
    }
    create_private_dir(dir)?;
    let mut conn = db.get()?;
    let written = match (&config.database_url, &mut **conn) {
        (DatabaseUrl::Sqlite(_), DbConnection::Sqlite(sqlite)) => {
            let target = dir.join(DATABASE_FILE);
            let quoted = target.to_string_lossy().replace('\'', "''");
            diesel::sql_query(format!("VACUUM INTO '{quoted}'")).execute(sqlite).context("copying the database")?;
            target
        }
        (DatabaseUrl::Postgres(url), DbConnection::Postgresql(pg)) => {
            let major = server_major(pg)?;
            let pg_dump = find_pg_program("pg_dump", major, &search_folders(major))?;
            let target = dir.join(POSTGRES_DUMP);
            // Written under another name first: a dump cut short never looks like a backup.
            let partial = dir.join(format!("{POSTGRES_DUMP}.partial"));
            let result = run_pg(
                pg_command(&pg_dump, url.expose())?.arg("--format=custom").arg("--file").arg(&partial),
                "pg_dump",
            );
            if let Err(e) = result {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            std::fs::rename(&partial, &target).with_context(|| format!("naming {}", target.display()))?;
            target
        }
        _ => bail!("the database connection does not match MATTERLINE_DATABASE_URL"),
    };
    drop(conn);
    owner_only(&written)?;
    copy_tree(&documents, &dir.join(DOCUMENTS_DIR))
}

/// Replaces the database and the document folder with the backup in `dir`.
/// Run it with the portal stopped. A SQLite backup goes back into a SQLite
/// database, a PostgreSQL one into the PostgreSQL database the URL names
/// (its Matterline tables are replaced; on failure nothing changes).
pub fn restore(config: &Config, dir: &Path) -> anyhow::Result<Copied> {
    let documents = local_documents(config)?;
    let (sqlite_file, postgres_dump) = (dir.join(DATABASE_FILE), dir.join(POSTGRES_DUMP));
    match &config.database_url {
        DatabaseUrl::Sqlite(database) => {
            if !sqlite_file.is_file() {
                if postgres_dump.is_file() {
                    bail!(
                        "{} holds a PostgreSQL backup, but MATTERLINE_DATABASE_URL names a SQLite database: \
                         set it to the PostgreSQL database to restore into",
                        dir.display()
                    );
                }
                bail!("{} not found: not a Matterline backup folder", sqlite_file.display());
            }
            restore_sqlite(&sqlite_file, database)?;
        }
        DatabaseUrl::Postgres(url) => {
            if !postgres_dump.is_file() {
                if sqlite_file.is_file() {
                    bail!(
                        "{} holds a SQLite backup, but MATTERLINE_DATABASE_URL names a PostgreSQL database: \
                         set it to sqlite://PATH to restore into",
                        dir.display()
                    );
                }
                bail!("{} not found: not a Matterline backup folder", postgres_dump.display());
            }
            let major = {
                let mut conn = PgConnection::establish(url.expose())
                    .with_context(|| format!("connecting to {}", config.database_url.describe()))?;
                server_major(&mut conn)?
            };
            let pg_restore = find_pg_program("pg_restore", major, &search_folders(major))?;
            // --clean --if-exists: the backup's tables replace what is there;
            // --single-transaction: all of it or, on any error, nothing.
            run_pg(
                pg_command(&pg_restore, url.expose())?
                    .args(["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction"])
                    .arg(&postgres_dump),
                "pg_restore",
            )?;
        }
    }
    if documents.exists() {
        std::fs::remove_dir_all(&documents).with_context(|| format!("clearing {}", documents.display()))?;
    }
    copy_tree(&dir.join(DOCUMENTS_DIR), &documents)
}

fn restore_sqlite(source: &Path, database: &Path) -> anyhow::Result<()> {
    if let Some(parent) = database.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Stale WAL files belong to the database being replaced.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    std::fs::copy(source, database)
        .with_context(|| format!("copying {} to {}", source.display(), database.display()))?;
    Ok(())
}

#[derive(QueryableByName)]
struct ServerVersion {
    #[diesel(sql_type = diesel::sql_types::Text)]
    server_version_num: String,
}

/// The server's major version (15 for 15.20).
fn server_major(conn: &mut PgConnection) -> anyhow::Result<u32> {
    let version: ServerVersion =
        diesel::sql_query("SHOW server_version_num").get_result(conn).context("asking PostgreSQL for its version")?;
    let number: u32 = version.server_version_num.trim().parse().context("reading PostgreSQL's version")?;
    Ok(number / 10_000)
}

/// Where the client programs of PostgreSQL `major` are looked for: the
/// folders distributions install them in, then every folder on PATH.
pub fn search_folders(major: u32) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = [
        format!("/usr/lib/postgresql/{major}/bin"),          // Debian, Ubuntu
        format!("/usr/pgsql-{major}/bin"),                   // RHEL, Fedora (PGDG packages)
        format!("/opt/homebrew/opt/postgresql@{major}/bin"), // macOS, Homebrew
        format!("/usr/local/opt/postgresql@{major}/bin"),
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect();
    if let Some(path) = std::env::var_os("PATH") {
        folders.extend(std::env::split_paths(&path));
    }
    folders
}

/// `program` (`pg_dump`, `pg_restore`) of PostgreSQL `major` from the first of
/// `folders` that has it, else the closest newer version found (they work with
/// older servers); otherwise an error naming what to install.
pub fn find_pg_program(program: &str, major: u32, folders: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let mut newer: Option<(u32, PathBuf)> = None;
    let mut unfit = Vec::new();
    for folder in folders {
        let path = folder.join(program);
        if !path.is_file() {
            continue;
        }
        match program_major(&path) {
            Some(found) if found == major => return Ok(path),
            Some(found) if found > major => {
                if newer.as_ref().is_none_or(|(closest, _)| found < *closest) {
                    newer = Some((found, path));
                }
            }
            Some(found) => unfit.push(format!("{} is PostgreSQL {found}, older than the server", path.display())),
            None => unfit.push(format!("{} did not say its version", path.display())),
        }
    }
    if let Some((_, path)) = newer {
        return Ok(path);
    }
    let looked = folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ");
    let unfit = if unfit.is_empty() { String::new() } else { format!(" ({})", unfit.join("; ")) };
    bail!(
        "{program} of PostgreSQL {major} not found{unfit}; looked in: {looked}. Install the PostgreSQL {major} \
         client programs (Debian, Ubuntu: apt install postgresql-client-{major}; RHEL, Fedora: dnf install \
         postgresql{major}) or put their folder first on PATH"
    )
}

/// The major version a PostgreSQL program reports (`pg_dump (PostgreSQL) 15.20 (Debian …)` → 15).
fn program_major(path: &Path) -> Option<u32> {
    let output = Command::new(path).arg("--version").stdin(Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let number = text.split_once(')')?.1.split_whitespace().next()?;
    number.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// A PostgreSQL client program pointed at the database `url`. The password
/// goes into its environment (`PGPASSWORD`), not onto its command line,
/// which every local user can read.
pub fn pg_command(program: &Path, url: &str) -> anyhow::Result<Command> {
    let mut parsed = url::Url::parse(url).context("reading the database URL")?;
    let mut password =
        parsed.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    if password.is_some() {
        parsed.set_password(None).map_err(|()| anyhow!("cannot take the password out of the database URL"))?;
    }
    // libpq also reads `?password=…`.
    let pairs: Vec<(String, String)> = parsed.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if pairs.iter().any(|(k, _)| k == "password") {
        let mut kept = Vec::new();
        for (key, value) in pairs {
            if key == "password" {
                password = Some(value);
            } else {
                kept.push((key, value));
            }
        }
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    let mut command = Command::new(program);
    command.arg("--dbname").arg(OsStr::new(parsed.as_str())).stdin(Stdio::null()).stdout(Stdio::null());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    Ok(command)
}

fn run_pg(command: &mut Command, name: &str) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("starting {name}"))?;
    if !output.status.success() {
        bail!("{name} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// Creates `dir` (and missing parents) readable by the owner only: a backup
/// holds every client's data. An existing folder is left as it is.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// The database copy is readable by its owner only.
fn owner_only(file: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", file.display()))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Copies every regular file below `from` to the same place below `to`
/// (skipping unfinished `.partial` uploads).
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<Copied> {
    let mut copied = Copied::default();
    std::fs::create_dir_all(to)?;
    if !from.exists() {
        return Ok(copied);
    }
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            let relative = path.strip_prefix(from)?;
            if entry.file_type()?.is_dir() {
                std::fs::create_dir_all(to.join(relative))?;
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "partial") && !relative.starts_with(".readyz") {
                copied.bytes +=
                    std::fs::copy(&path, to.join(relative)).with_context(|| format!("copying {}", path.display()))?;
                copied.files += 1;
            }
        }
    }
    Ok(copied)
}
