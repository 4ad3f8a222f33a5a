//! File-name sanitising: whatever a client sends as a file name, what is kept
//! is display text — one path segment, no control or bidirectional-override
//! characters, no leading dot, 1 to 120 characters — and sanitising it again
//! changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::documents::sanitize_file_name;

fuzz_target!(|raw: &str| {
    let name = sanitize_file_name(raw);
    let count = name.chars().count();
    assert!((1..=120).contains(&count), "{count} characters: {name:?}");
    assert!(!name.contains(['/', '\\']), "{name:?}");
    assert!(!name.starts_with('.'), "{name:?}");
    assert!(!name.chars().any(char::is_control), "{name:?}");
    assert!(
        !name.chars().any(
            |c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        ),
        "{name:?}"
    );
    assert_eq!(sanitize_file_name(&name), name, "sanitising twice changed {raw:?}");
});
