//! What every client email shares: the firm's look at the top (its logo as
//! an absolute URL with its size, else its name; its accent colour on the
//! buttons and the header rule), the greeting by first name, the step as
//! "phase N of M", and the Reply-To the case manager when the firm asks for it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::branding::{Brand, DEFAULT_ACCENT, check_accent};
use crate::client_view::ContactView;
use crate::db::DbConnection;
use crate::db::models::Firm;
use crate::db::schema::firm_logos;
use crate::error::Result;

/// The tallest a logo is shown, in CSS pixels.
pub const LOGO_MAX_HEIGHT: u32 = 48;
/// The widest a logo is shown, in CSS pixels.
pub const LOGO_MAX_WIDTH: u32 = 200;

/// The firm's brand as far as the `firms` row tells (no logo: that needs a query).
pub fn brand_of_firm(firm: &Firm) -> Brand {
    Brand {
        firm_id: firm.id.clone(),
        name: firm.name.clone(),
        accent: firm.accent_colour.clone().unwrap_or_else(|| DEFAULT_ACCENT.to_owned()),
        logo_digest: None,
    }
}

/// The `brand` object of an email's template data: name, accent colour (a
/// stored colour that is not `#rrggbb` or too light falls back to the
/// default: it goes into inline styles) and the logo, when `logo` gives its
/// size in pixels, as an absolute URL under `base_url` with the size it is shown at.
pub fn brand_data(base_url: &str, brand: &Brand, logo: Option<(u32, u32)>) -> Value {
    let accent = check_accent("accent_colour", &brand.accent).unwrap_or_else(|_| DEFAULT_ACCENT.to_owned());
    let logo = brand.logo_path().zip(logo).map(|(path, (width, height))| {
        let (width, height) = shown_size(width, height);
        json!({ "url": format!("{base_url}{path}"), "width": width, "height": height })
    });
    json!({ "name": brand.name, "accent": accent, "logo": logo })
}

/// The size a `width` × `height` logo is shown at: its shape kept, at most
/// [`LOGO_MAX_WIDTH`] × [`LOGO_MAX_HEIGHT`], never enlarged, at least 1 × 1.
pub fn shown_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (f64::from(LOGO_MAX_WIDTH) / w).min(f64::from(LOGO_MAX_HEIGHT) / h).min(1.0);
    // Bounded by the maxima above, so the casts cannot overflow.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = ((w * scale).round().max(1.0) as u32, (h * scale).round().max(1.0) as u32);
    size
}

/// Sets `data["brand"]` to the firm's full brand, logo included: the logo's
/// size is read from the picture once per version and remembered.
pub fn with_logo(conn: &mut DbConnection, base_url: &str, firm: &Firm, data: &mut Value) -> Result<()> {
    data["brand"] = brand_with_logo(conn, base_url, firm)?;
    Ok(())
}

/// The firm's full brand as [`with_logo`] sets it: what a batch of emails of
/// one firm reads once and shares.
pub fn brand_with_logo(conn: &mut DbConnection, base_url: &str, firm: &Firm) -> Result<Value> {
    let brand = crate::branding::brand_of(conn, &firm.id)?;
    let size = match &brand.logo_digest {
        None => None,
        Some(digest) => logo_size(conn, &firm.id, digest)?,
    };
    Ok(brand_data(base_url, &brand, size))
}

/// The sizes of the logos read so far, by digest (`None`: not a picture we can measure).
type Sizes = Mutex<HashMap<String, Option<(u32, u32)>>>;

fn logo_size(conn: &mut DbConnection, firm_id: &str, digest: &str) -> Result<Option<(u32, u32)>> {
    static SIZES: OnceLock<Sizes> = OnceLock::new();
    let sizes = SIZES.get_or_init(Mutex::default);
    if let Some(size) = sizes.lock().unwrap_or_else(PoisonError::into_inner).get(digest) {
        return Ok(*size);
    }
    let bytes: Option<Vec<u8>> = firm_logos::table
        .find(firm_id)
        .filter(firm_logos::digest.eq(digest))
        .select(firm_logos::bytes)
        .first(conn)
        .optional()?;
    let size = bytes.as_deref().and_then(image_size);
    sizes.lock().unwrap_or_else(PoisonError::into_inner).insert(digest.to_owned(), size);
    Ok(size)
}

/// The width and height of a PNG, JPEG or WebP picture, read from its header.
pub fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| bytes.get(i..i + 2).map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])));
    let be32 = |i: usize| bytes.get(i..i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let le16 = |i: usize| bytes.get(i..i + 2).map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])));
    let le24 = |i: usize| bytes.get(i..i + 3).map(|b| u32::from_le_bytes([b[0], b[1], b[2], 0]));
    let size = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        (be32(16)?, be32(20)?)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        // Walk the JPEG segments to the first start-of-frame.
        let mut i = 2;
        loop {
            if *bytes.get(i)? != 0xFF {
                return None;
            }
            let marker = *bytes.get(i + 1)?;
            if marker == 0xFF {
                i += 1;
                continue;
            }
            let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if is_frame {
                break (be16(i + 7)?, be16(i + 5)?);
            }
            i += 2 + usize::try_from(be16(i + 2)?).ok()?;
        }
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        match bytes.get(12..16)? {
            b"VP8 " => (le16(26)? & 0x3FFF, le16(28)? & 0x3FFF),
            b"VP8L" => {
                let bits = be32(21).map(u32::swap_bytes)?;
                ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            }
            b"VP8X" => (le24(24)? + 1, le24(27)? + 1),
            _ => return None,
        }
    } else {
        return None;
    };
    (size.0 > 0 && size.1 > 0).then_some(size)
}

/// The first name in `full_name` (its first word), or `None` when it has none.
pub fn first_name(full_name: &str) -> Option<String> {
    full_name.split_whitespace().next().map(str::to_owned)
}

/// The colour of a step not reached yet in a progress bar.
pub const STEP_AHEAD: &str = "#d1d5db";

/// The steps of a progress bar for phase `position` (from 1) of `total`:
/// one `{ "colour": … }` per phase, `accent` up to `position`, grey after.
pub fn steps(position: i32, total: usize, accent: &str) -> Vec<Value> {
    let accent = check_accent("accent_colour", accent).unwrap_or_else(|_| DEFAULT_ACCENT.to_owned());
    (1..=total)
        .map(|n| {
            let done = i32::try_from(n).is_ok_and(|n| n <= position);
            json!({ "colour": if done { accent.as_str() } else { STEP_AHEAD } })
        })
        .collect()
}

/// The Reply-To (name, address) of a client email about a matter whose case
/// manager is `contact`: the case manager when the firm turned the setting on
/// and the case manager has an address.
pub fn reply_to(firm: &Firm, contact: Option<&ContactView>) -> Option<(String, String)> {
    contact
        .filter(|c| firm.reply_to_case_manager && !c.email.trim().is_empty())
        .map(|c| (c.name.clone(), c.email.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logos_keep_their_shape_within_the_box() {
        assert_eq!(shown_size(400, 100), (192, 48));
        assert_eq!(shown_size(1000, 100), (200, 20));
        assert_eq!(shown_size(20, 10), (20, 10));
        assert_eq!(shown_size(0, 0), (1, 1));
    }

    #[test]
    fn picture_sizes_are_read_from_their_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 1, 144, 0, 0, 0, 100]);
        assert_eq!(image_size(&png), Some((400, 100)));
        // SOI, an APP0 segment of length 4, then SOF0 with height 50 and width 300.
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0, 50, 1, 44];
        assert_eq!(image_size(&jpeg), Some((300, 50)));
        assert_eq!(image_size(b"GIF89a"), None);
        assert_eq!(image_size(&[0xFF, 0xD8, 0xFF]), None);
    }

    #[test]
    fn the_greeting_uses_the_first_word_only() {
        assert_eq!(first_name("  Sam Rivera ").as_deref(), Some("Sam"));
        assert_eq!(first_name(" \t"), None);
    }
}
