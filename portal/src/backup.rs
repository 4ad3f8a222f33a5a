//! Embedded-mode backups: `portal backup DIR` writes a consistent copy of the
//! SQLite database (`VACUUM INTO`, a read transaction: safe while the portal
//! serves) and then of the local document folder; `portal restore DIR` puts
//! both back (with the portal stopped). Documents are written before their rows
//! and never change, so every row of the copied database finds its file.
//! PostgreSQL and S3 have their own tools (pg_dump, bucket versioning).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use diesel::RunQueryDsl;
use shared::config::{Config, DatabaseUrl, StorageUrl};
use shared::db::{Db, DbConnection};

const DATABASE_FILE: &str = "matterline.db";
const DOCUMENTS_DIR: &str = "documents";

fn embedded_paths(config: &Config) -> anyhow::Result<(PathBuf, PathBuf)> {
    let DatabaseUrl::Sqlite(database) = &config.database_url else {
        bail!(
            "backup and restore are for the embedded SQLite database; for PostgreSQL use pg_dump / pg_restore (see the README)"
        );
    };
    let StorageUrl::Local(documents) = &config.storage else {
        bail!(
            "backup and restore copy a local document folder; for S3 use bucket versioning or replication (see the README)"
        );
    };
    Ok((database.clone(), documents.clone()))
}

/// What a backup or restore copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Document files copied.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Writes `dir/matterline.db` and `dir/documents/`. `dir` must not hold a backup already.
pub fn backup(config: &Config, db: &Db, dir: &Path) -> anyhow::Result<Copied> {
    let (_, documents) = embedded_paths(config)?;
    let target = dir.join(DATABASE_FILE);
    if target.exists() {
        bail!("{} already exists; choose an empty folder", target.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut conn = db.get()?;
    let DbConnection::Sqlite(sqlite) = &mut **conn else { bail!("not a SQLite database") };
    let quoted = target.to_string_lossy().replace('\'', "''");
    diesel::sql_query(format!("VACUUM INTO '{quoted}'")).execute(sqlite).context("copying the database")?;
    copy_tree(&documents, &dir.join(DOCUMENTS_DIR))
}

/// Replaces the database file and the document folder with the backup in `dir`.
/// Run it with the portal stopped.
pub fn restore(config: &Config, dir: &Path) -> anyhow::Result<Copied> {
    let (database, documents) = embedded_paths(config)?;
    let source = dir.join(DATABASE_FILE);
    if !source.is_file() {
        bail!("{} not found: not a Matterline backup folder", source.display());
    }
    if let Some(parent) = database.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Stale WAL files belong to the database being replaced.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    std::fs::copy(&source, &database)
        .with_context(|| format!("copying {} to {}", source.display(), database.display()))?;
    if documents.exists() {
        std::fs::remove_dir_all(&documents).with_context(|| format!("clearing {}", documents.display()))?;
    }
    copy_tree(&dir.join(DOCUMENTS_DIR), &documents)
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
