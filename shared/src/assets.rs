//! Templates, locale files and catalogues: embedded in the binary from
//! `templates/`, so the binaries work from any folder, and overridable file by
//! file from `MATTERLINE_ASSETS_DIR` (a firm's own wording or branding). There
//! a `locales/<tag>/` folder may also add a language ([`Assets::folders_in`],
//! [`Assets::files_in`]; see [`crate::i18n::Locales::load`]).

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

    /// Paths of the files directly in the folder `dir` (e.g. `locales/fr/`)
    /// whose names end in `suffix`: the embedded ones and those the override
    /// folder adds, sorted, each once.
    pub fn files_in(&self, dir: &str, suffix: &str) -> Vec<String> {
        let mut paths: Vec<String> = Embedded::iter()
            .filter(|p| p.strip_prefix(dir).is_some_and(|name| !name.contains('/') && name.ends_with(suffix)))
            .map(Cow::into_owned)
            .collect();
        if let Some(root) = &self.override_dir
            && let Ok(entries) = std::fs::read_dir(root.join(dir))
        {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(suffix) && entry.file_type().is_ok_and(|t| t.is_file()) {
                    paths.push(format!("{dir}{name}"));
                }
            }
        }
        paths.sort();
        paths.dedup();
        paths
    }

    /// Names of the folders directly in `dir` (e.g. `locales/` gives `en`,
    /// `es` and any the override folder adds), sorted, each once.
    pub fn folders_in(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = Embedded::iter()
            .filter_map(|p| p.strip_prefix(dir).and_then(|rest| rest.split_once('/')).map(|(name, _)| name.to_owned()))
            .collect();
        if let Some(root) = &self.override_dir
            && let Ok(entries) = std::fs::read_dir(root.join(dir))
        {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_folder_adds_locale_folders_and_files() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("locales/fr"))?;
        std::fs::write(dir.path().join("locales/fr/portal.ftl"), "app-name = Matterline\n")?;
        std::fs::write(dir.path().join("locales/fr/notes.txt"), "not Fluent")?;
        let assets = Assets::new(Some(dir.path().to_path_buf()));
        assert_eq!(assets.folders_in("locales/"), ["en", "es", "fr"]);
        assert_eq!(assets.files_in("locales/fr/", ".ftl"), ["locales/fr/portal.ftl"]);
        assert_eq!(assets.files_in("locales/en/", ".ftl"), ["locales/en/email.ftl", "locales/en/portal.ftl"]);
        assert_eq!(Assets::default().folders_in("locales/"), ["en", "es"]);
        Ok(())
    }
}
