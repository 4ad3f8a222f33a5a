//! Keys generated once into the data folder when none is configured (the key
//! sealing staff TOTP secrets, the VAPID key signing web pushes). A key file
//! is written whole and private (mode 0600) under a temporary name, then
//! hard-linked into place, so that a portal and a notifier starting at once
//! end up with the same key and nobody reads half a file. A file that is there
//! is never replaced: what was sealed or subscribed with it depends on it.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use rand::RngCore;

use crate::error::{Error, Result};

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Internal(anyhow::anyhow!("{}: {e}", path.display()))
}

/// The text of the key file at `path`, `None` when there is none.
pub fn read(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// The key file at `path`: the text already there, else `new()`'s, written
/// once. The flag says whether this call wrote it (worth a log line).
pub fn read_or_create(path: &Path, new: impl FnOnce() -> String) -> Result<(String, bool)> {
    if let Some(text) = read(path)? {
        return Ok((text, false));
    }
    let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let temporary = dir.join(format!(".{name}.{:016x}", rand::rng().next_u64()));
    let text = new();
    write_private(&temporary, &text).map_err(|e| io_error(&temporary, e))?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok((text, true)),
        // Another process got there first: its key is the key.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => read(path)?
            .map(|text| (text, false))
            .ok_or_else(|| io_error(path, std::io::Error::other("vanished while being created"))),
        Err(e) => Err(io_error(path, e)),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_written_once_privately_and_then_read() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("nested").join("test-key");
        assert_eq!(read(&path)?, None);
        let (first, created) = read_or_create(&path, || "one".to_owned())?;
        assert_eq!((first.as_str(), created), ("one", true));
        let (again, created) = read_or_create(&path, || "two".to_owned())?;
        assert_eq!((again.as_str(), created), ("one", false), "an existing key is never replaced");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        }
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap_or(dir.path()))?.collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        Ok(())
    }
}
