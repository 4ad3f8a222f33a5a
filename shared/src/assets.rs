//! Templates, locale files and catalogues: embedded in the binary from
//! `templates/`, so the binaries work from any folder, and overridable file by
//! file from `MATTERLINE_ASSETS_DIR` (a firm's own wording or branding).

use std::borrow::Cow;
use std::path::PathBuf;

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../templates"]
struct Embedded;

/// Read access to the asset tree (`web/`, `email/`, `locales/`, `catalogue/`).
#[derive(Debug, Clone, Default)]
pub struct Assets {
    override_dir: Option<PathBuf>,
}

impl Assets {
    /// Assets with an optional override folder laid out like `templates/`.
    pub fn new(override_dir: Option<PathBuf>) -> Self {
        Self { override_dir }
    }

    /// The file at `path` (e.g. `web/matter.hbs`): the override if present, else the embedded copy.
    pub fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        if let Some(dir) = &self.override_dir
            && let Ok(bytes) = std::fs::read(dir.join(path))
        {
            return Some(Cow::Owned(bytes));
        }
        Embedded::get(path).map(|f| f.data)
    }

    /// The file at `path` as UTF-8 text.
    pub fn text(&self, path: &str) -> Option<String> {
        self.get(path).and_then(|bytes| String::from_utf8(bytes.into_owned()).ok())
    }

    /// Paths of the embedded files under `prefix`, sorted (overrides replace files, they do not add them).
    pub fn list(&self, prefix: &str) -> Vec<String> {
        let mut paths: Vec<String> = Embedded::iter().filter(|p| p.starts_with(prefix)).map(Cow::into_owned).collect();
        paths.sort();
        paths
    }
}
