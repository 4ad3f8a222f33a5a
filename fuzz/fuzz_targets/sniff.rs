//! Type sniffing: any first bytes of a file either name an accepted type or
//! are refused, never anything else, and never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::documents::{ACCEPTED_TYPES, Refusal, SNIFF_BYTES, sniff};

fuzz_target!(|head: &[u8]| {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    match sniff(head) {
        Ok(content_type) => assert!(ACCEPTED_TYPES.contains(&content_type), "{content_type}"),
        Err(Refusal::Empty) => assert!(head.is_empty()),
        Err(Refusal::UnsupportedType) => assert!(!head.is_empty()),
        Err(Refusal::TooLarge) => panic!("sniffing never decides the size"),
        Err(Refusal::Infected) => panic!("sniffing never scans for viruses"),
    }
});
