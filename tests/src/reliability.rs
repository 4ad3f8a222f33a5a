//! Figures the hardening suite writes to `docs/reliability.md`: each test owns
//! one section, between `<!-- BEGIN name -->` and `<!-- END name -->`, and
//! replaces only that section, so suites running in parallel do not clash.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// The figures file of this checkout.
pub fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/reliability.md")
}

const HEADER: &str = "# Reliability figures\n\nWritten by the test suite (`scripts/test`); each section is replaced by the test that owns it on every run.\nDo not edit by hand: change the test instead.\n";

/// Replaces section `name` with a `## title` heading and `markdown` (appended when new).
pub fn record(name: &str, title: &str, markdown: &str) -> anyhow::Result<()> {
    let path = path();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
    file.lock()?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    if text.trim().is_empty() {
        text = HEADER.to_owned();
    }
    let (begin, end) = (format!("<!-- BEGIN {name} -->"), format!("<!-- END {name} -->"));
    let section = format!("{begin}\n## {title}\n\n{}\n{end}", markdown.trim_end());
    let updated = match (text.find(&begin), text.find(&end)) {
        (Some(start), Some(stop)) if stop > start => {
            format!("{}{section}{}", &text[..start], &text[stop + end.len()..])
        }
        _ => format!("{}\n{section}\n", text.trim_end()),
    };
    file.seek(SeekFrom::Start(0))?;
    file.set_len(0)?;
    file.write_all(updated.as_bytes())?;
    file.unlock()?;
    Ok(())
}
