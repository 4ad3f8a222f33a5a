//! Where document bytes live. The embedded default is a local folder; the
//! S3-compatible backend is configured with `MATTERLINE_STORAGE=s3://BUCKET`.

use std::path::PathBuf;

use crate::config::StorageUrl;
use crate::error::{Error, Result};

/// A document store.
#[derive(Debug, Clone)]
pub enum Storage {
    /// Files under a local folder.
    Local {
        /// The folder; object keys become relative paths under it.
        root: PathBuf,
    },
}

impl Storage {
    /// Opens the configured store, creating the local folder when missing.
    pub fn open(url: &StorageUrl) -> Result<Self> {
        match url {
            StorageUrl::Local(root) => {
                std::fs::create_dir_all(root).map_err(|e| Error::Unavailable {
                    service: "storage",
                    cause: anyhow::anyhow!("cannot create {}: {e}", root.display()),
                })?;
                Ok(Self::Local { root: root.clone() })
            }
            StorageUrl::S3 { bucket } => Err(Error::Invalid {
                field: "MATTERLINE_STORAGE",
                reason: format!("s3://{bucket}: this build stores documents in a local folder only (use local:PATH)"),
            }),
        }
    }

    /// Checks that the store is reachable and writable (for `/readyz`).
    pub async fn check(&self) -> Result<()> {
        match self {
            Self::Local { root } => {
                let probe = root.join(".readyz");
                tokio::fs::write(&probe, b"ok").await.and(tokio::fs::remove_file(&probe).await).map_err(|e| {
                    Error::Unavailable { service: "storage", cause: anyhow::anyhow!("{}: {e}", root.display()) }
                })
            }
        }
    }

    /// A description safe for logs.
    pub fn describe(&self) -> String {
        match self {
            Self::Local { root } => format!("local folder {}", root.display()),
        }
    }
}
