//! Text typed by staff or taken from a firm's files, checked once at the edge.
//!
//! A name or title ends up in email headers, file names and pages. A line
//! break there can add a header, a NUL or another control character breaks
//! mail composition, and bidirectional overrides or zero-width characters make
//! a name read differently from what it is ("invoice\u{202E}fdp.exe"). So every
//! entry point (the staff API and pages, the import, the settings) goes through
//! [`line`] or [`multiline`], which refuse such characters naming the field,
//! and what leaves for a header goes through [`display_name`] or [`header_text`],
//! which also protect data stored before the checks existed.

use crate::error::{Error, Result};

/// Characters that change how the text around them is ordered (bidirectional
/// embeddings, overrides and isolates, and the implicit direction marks).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that take no room on screen: zero-width space, joiners, word
/// joiner and invisible operators, the byte-order mark, the soft hyphen and
/// the Mongolian vowel separator.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
}

/// Line and paragraph separators (U+2028, U+2029): line breaks to most renderers.
pub fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// What kind of character `c` is, when no typed text may hold it (`\n` aside,
/// which multi-line text keeps); `None` for an ordinary character.
fn refused_kind(c: char) -> Option<&'static str> {
    if c == '\n' || c == '\r' || is_line_separator(c) {
        Some("a line break")
    } else if c.is_control() {
        Some("a control character")
    } else if is_bidi_control(c) {
        Some("a text-direction control character")
    } else if c == '\u{00AD}' {
        // A soft hyphen is invisible but harmless in typed text; file names lose it (see `display_name`).
        None
    } else if is_invisible(c) {
        Some("an invisible (zero-width) character")
    } else {
        None
    }
}

fn refuse(field: &'static str, c: char, kind: &str) -> Error {
    Error::invalid(field, format!("contains {kind} (U+{:04X}), which is not allowed here", c as u32))
}

/// A single-line value (a name, a title, an address, a phone number): `value`
/// trimmed, or an error naming `field` if it holds a line break, a control
/// character, a text-direction control or a zero-width character.
pub fn line(field: &'static str, value: &str) -> Result<String> {
    let value = value.trim();
    match value.chars().find_map(|c| refused_kind(c).map(|kind| (c, kind))) {
        Some((c, kind)) => Err(refuse(field, c, kind)),
        None => Ok(value.to_owned()),
    }
}

/// Multi-line free text (a note, a request's details): trimmed, `\r\n` and a
/// lone `\r` made `\n`; an error naming `field` for any other character
/// [`line`] refuses (tabs and other control characters included).
pub fn multiline(field: &'static str, value: &str) -> Result<String> {
    let value = value.trim().replace("\r\n", "\n").replace('\r', "\n");
    match value.chars().filter(|c| *c != '\n').find_map(|c| refused_kind(c).map(|kind| (c, kind))) {
        Some((c, kind)) => Err(refuse(field, c, kind)),
        None => Ok(value),
    }
}

/// Whether `value` could pass [`line`] as it is.
pub fn is_clean_line(value: &str) -> bool {
    value.chars().all(|c| refused_kind(c).is_none())
}

/// A display name for an email header (`"Name" <address>`), or `None` when it
/// holds anything [`line`] refuses or is blank: the header then carries the
/// address alone. For names stored before the checks, or changed behind them.
pub fn display_name(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty() && is_clean_line(value)).then(|| value.to_owned())
}

/// `value` made safe for an unstructured header such as a subject: line breaks
/// and control characters become spaces, text-direction and invisible
/// characters are dropped, runs of spaces become one.
pub fn header_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let c = if c.is_control() || is_line_separator(c) { ' ' } else { c };
        if is_bidi_control(c) || is_invisible(c) || (c == ' ' && (out.is_empty() || out.ends_with(' '))) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_lines_refuse_what_changes_how_they_read() {
        assert_eq!(line("full_name", "  Ana María Pérez ").unwrap(), "Ana María Pérez");
        assert_eq!(line("full_name", "李小龍 O'Brien-Smith").unwrap(), "李小龍 O'Brien-Smith");
        for bad in [
            "Ana\nBcc: x@evil.test",
            "A\rna",
            "A\0na",
            "A\tna",
            "A\u{1b}[31mna",
            "A\u{85}na",
            "A\u{9f}na",
            "in\u{202E}fdp.exe",
            "A\u{2066}na",
            "A\u{200E}na",
            "A\u{061C}na",
            "A\u{200B}na",
            "A\u{200D}na",
            "A\u{2060}na",
            "A\u{FEFF}na",
            "A\u{2028}na",
        ] {
            let err = line("full_name", bad).unwrap_err().to_string();
            assert!(err.starts_with("full_name: contains "), "{bad:?}: {err}");
        }
        assert_eq!(
            line("title", "a\u{202E}b").unwrap_err().to_string(),
            "title: contains a text-direction control character (U+202E), which is not allowed here"
        );
    }

    #[test]
    fn free_text_keeps_its_lines_and_nothing_else() {
        assert_eq!(multiline("body", " one\r\ntwo\rthree\n").unwrap(), "one\ntwo\nthree");
        for bad in ["a\tb", "a\0b", "a\u{202E}b", "a\u{200B}b", "a\u{2029}b", "a\u{7f}b"] {
            assert!(multiline("body", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn headers_get_names_only_when_clean() {
        assert_eq!(display_name(" Ana "), Some("Ana".to_owned()));
        assert_eq!(display_name("Ana\r\nBcc: x@evil.test"), None);
        assert_eq!(display_name("Ana\u{202E}"), None);
        assert_eq!(display_name("  "), None);
        assert_eq!(header_text("Your\r\n case\u{0}\u{202E}  moved\u{200B}"), "Your case moved");
    }
}
