//! Each crate's integration tests are the modules of one test binary,
//! `tests/main.rs`, rather than a binary per file, each linking the whole
//! stack. Cargo is told so (`autotests = false` and one `[[test]]`), so a file
//! there that no `mod` names would be neither compiled nor run: [`undeclared`]
//! finds such files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The `.rs` files and module folders (with a `mod.rs`) beside `root` (a
/// `main.rs` or `mod.rs`) that it does not declare with `mod NAME;`, and those
/// of its module folders, recursively.
pub fn undeclared(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(root).map_err(|e| anyhow::anyhow!("{}: {e}", root.display()))?;
    let declared: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("pub ").strip_prefix("mod ")?.strip_suffix(';'))
        .map(str::trim)
        .collect();
    let dir = root.parent().ok_or_else(|| anyhow::anyhow!("{} has no folder", root.display()))?;
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let module = if path.join("mod.rs").is_file() {
            missing.extend(undeclared(&path.join("mod.rs"))?);
            path.file_name()
        } else if path.extension().is_some_and(|e| e == "rs") && path != root {
            path.file_stem()
        } else {
            continue;
        };
        let name = module.map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !declared.contains(name.as_str()) {
            missing.push(path);
        }
    }
    missing.sort();
    Ok(missing)
}

/// An error naming the files under `tests/` of the package at `manifest_dir`
/// (`env!("CARGO_MANIFEST_DIR")`) that `tests/main.rs` leaves out.
pub fn all_declared(manifest_dir: &str) -> anyhow::Result<()> {
    let missing = undeclared(&Path::new(manifest_dir).join("tests/main.rs"))?;
    anyhow::ensure!(
        missing.is_empty(),
        "no `mod` declares {missing:?}: add `mod NAME;` to tests/main.rs (or its mod.rs)"
    );
    Ok(())
}
