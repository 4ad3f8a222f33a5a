//! The upload body as the portal reads it: any bytes after a multipart
//! header go through actix-multipart field by field, as `portal::upload`
//! does — each field's name, its file name (sanitised), its first
//! `SNIFF_BYTES` sniffed — without a panic or a hang; a malformed body is an
//! error, never a crash. The input arrives in small chunks, as from a network.
#![no_main]

use actix_multipart::Multipart;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use libfuzzer_sys::fuzz_target;
use shared::documents::{ACCEPTED_TYPES, SNIFF_BYTES, sanitize_file_name, sniff};

/// The header every input is read under; seeds in `corpus/multipart` use this boundary.
const CONTENT_TYPE: &str = "multipart/form-data; boundary=matterline-fuzz-boundary";

fuzz_target!(|input: &[u8]| {
    // The first byte chooses the chunk size (1–256 bytes), the rest is the body.
    let Some((&split, body)) = input.split_first() else { return };
    let chunk = usize::from(split) + 1;
    let chunks: Vec<Result<Bytes, actix_web::error::PayloadError>> =
        body.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else { return };
    runtime.block_on(async move {
        let mut multipart = Multipart::new(&headers, futures_util::stream::iter(chunks).boxed_local());
        // A body holds at most as many fields as it has bytes.
        for _ in 0..=body.len() {
            let mut field = match multipart.try_next().await {
                Ok(Some(field)) => field,
                Ok(None) | Err(_) => return,
            };
            let _ = field.name();
            let raw = field.content_disposition().and_then(|cd| cd.get_filename()).unwrap_or_default().to_owned();
            let name = sanitize_file_name(&raw);
            assert!(!name.is_empty() && name.chars().count() <= 120);
            let mut head = Vec::new();
            loop {
                match field.try_next().await {
                    Ok(Some(bytes)) => {
                        if head.len() < SNIFF_BYTES {
                            head.extend_from_slice(&bytes);
                        }
                    }
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
            if let Ok(content_type) = sniff(&head) {
                assert!(ACCEPTED_TYPES.contains(&content_type));
            }
        }
    });
});
