//! Figures the hardening suite writes to `docs/reliability.md`: each test owns
//! one section, between `<!-- BEGIN name -->` and `<!-- END name -->`, and
//! replaces only that section, so suites running in parallel do not clash.
//!
//! A run of the whole suite (`scripts/test`) names a ledger file in
//! `MATTERLINE_FIGURES_RUN`: every section written is listed there, and at the
//! end the sections not written in that run (of tests that no longer exist or
//! did not run) are removed with [`prune`], so no stale figure stays behind.

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
    if let Some(ledger) = std::env::var_os(LEDGER) {
        let mut ledger = std::fs::OpenOptions::new().create(true).append(true).open(ledger)?;
        ledger.write_all(format!("{name}\n").as_bytes())?;
    }
    Ok(())
}

/// The variable naming the file where a full run lists the sections it wrote.
pub const LEDGER: &str = "MATTERLINE_FIGURES_RUN";

/// `text` without the sections whose names are not in `written`, and the names removed.
pub fn without_unwritten(text: &str, written: &std::collections::BTreeSet<String>) -> (String, Vec<String>) {
    let mut kept = String::new();
    let mut removed = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!-- BEGIN ") {
        let name_end = rest[start..].find(" -->").map(|i| start + i);
        let Some(name_end) = name_end else { break };
        let name = &rest[start + "<!-- BEGIN ".len()..name_end];
        let end_marker = format!("<!-- END {name} -->");
        let Some(stop) = rest[name_end..].find(&end_marker).map(|i| name_end + i + end_marker.len()) else { break };
        if written.contains(name) {
            kept.push_str(&rest[..stop]);
            rest = &rest[stop..];
        } else {
            kept.push_str(&rest[..start]);
            removed.push(name.to_owned());
            rest = rest[stop..].strip_prefix('\n').unwrap_or(&rest[stop..]);
        }
    }
    kept.push_str(rest);
    (kept, removed)
}

/// Removes from the figures file every section not listed in the `ledger` file; the names removed.
pub fn prune(ledger: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let written: std::collections::BTreeSet<String> =
        std::fs::read_to_string(ledger)?.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    anyhow::ensure!(!written.is_empty(), "no section was written in this run: nothing is pruned");
    let mut file = std::fs::OpenOptions::new().read(true).write(true).open(path())?;
    file.lock()?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let (kept, removed) = without_unwritten(&text, &written);
    file.seek(SeekFrom::Start(0))?;
    file.set_len(0)?;
    file.write_all(kept.as_bytes())?;
    file.unlock()?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_not_written_in_the_run_are_removed() {
        let text = "# Figures\n\n<!-- BEGIN a -->\n## A\n\n1\n<!-- END a -->\n<!-- BEGIN gone -->\n## Gone\n\n2\n<!-- END gone -->\n<!-- BEGIN b -->\n## B\n<!-- END b -->\n";
        let written = ["a".to_owned(), "b".to_owned()].into();
        let (kept, removed) = without_unwritten(text, &written);
        assert_eq!(removed, ["gone"]);
        assert_eq!(
            kept,
            "# Figures\n\n<!-- BEGIN a -->\n## A\n\n1\n<!-- END a -->\n<!-- BEGIN b -->\n## B\n<!-- END b -->\n"
        );
        // The last section removed: the file still ends with its newline.
        let only_a = ["a".to_owned(), "gone".to_owned()].into();
        let (kept, removed) = without_unwritten(text, &only_a);
        assert_eq!(removed, ["b"]);
        assert!(kept.ends_with("<!-- END gone -->\n"), "{kept:?}");
        let all = ["a".to_owned(), "b".to_owned(), "gone".to_owned()].into();
        assert_eq!(without_unwritten(text, &all), (text.to_owned(), vec![]));
    }
}
