//! The firm's look: its name, accent colour and logo, on every page and email a
//! client sees.
//!
//! The accent colour is stored as `#rrggbb` and only accepted when white text
//! on it, and it as text on white, reach WCAG 2.x's 4.5:1 contrast ratio
//! ([`check_accent`]). The logo lives in `firm_logos`, apart from `firms`, and
//! is addressed by its digest so that a new logo gets a new URL
//! ([`Brand::logo_path`]).

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::db::schema::{firm_logos, firms};
use crate::{Error, Result};

/// The accent colour when a firm has not chosen one (the portal's blue).
pub const DEFAULT_ACCENT: &str = "#1d4ed8";

/// The least contrast ratio an accent colour must have against white (WCAG AA, normal text).
pub const MIN_CONTRAST: f64 = 4.5;

/// What a page or email needs to look like the firm's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Brand {
    /// Firm id.
    pub firm_id: String,
    /// The name clients see.
    pub name: String,
    /// Accent colour, `#rrggbb` (the firm's, else [`DEFAULT_ACCENT`]).
    pub accent: String,
    /// Digest of the current logo, if the firm has one.
    pub logo_digest: Option<String>,
}

impl Brand {
    /// The logo's path on the portal (`/brand/{firm}/logo/{digest}`), if the firm has one.
    pub fn logo_path(&self) -> Option<String> {
        self.logo_digest.as_ref().map(|d| format!("/brand/{}/logo/{d}", self.firm_id))
    }
}

/// The brand of firm `firm_id`.
pub fn brand_of(conn: &mut DbConnection, firm_id: &str) -> Result<Brand> {
    let (name, accent): (String, Option<String>) =
        firms::table.find(firm_id).select((firms::name, firms::accent_colour)).first(conn)?;
    let logo_digest = firm_logos::table.find(firm_id).select(firm_logos::digest).first(conn).optional()?;
    Ok(Brand {
        firm_id: firm_id.to_owned(),
        name,
        accent: accent.unwrap_or_else(|| DEFAULT_ACCENT.to_owned()),
        logo_digest,
    })
}

/// `#rrggbb` (or `rrggbb`, any case) as red, green and blue.
pub fn parse_hex(colour: &str) -> Option<[u8; 3]> {
    let hex = colour.strip_prefix('#').unwrap_or(colour);
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// WCAG 2.x relative luminance of an sRGB colour.
fn luminance(rgb: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
}

/// WCAG 2.x contrast ratio between two colours, from 1 to 21.
pub fn contrast_ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (light, dark) = if la > lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

/// The accent colour `colour` normalised to lower-case `#rrggbb`, or a readable
/// error naming `field` when it is not a colour or too light to read white text on.
pub fn check_accent(field: &'static str, colour: &str) -> Result<String> {
    let rgb = parse_hex(colour.trim())
        .ok_or_else(|| Error::invalid(field, "must be a colour written #rrggbb, for example #1d4ed8"))?;
    let ratio = contrast_ratio(rgb, [255, 255, 255]);
    if ratio < MIN_CONTRAST {
        return Err(Error::invalid(
            field,
            format!(
                "is too light: white text on it has a contrast of {ratio:.1}:1, and at least {MIN_CONTRAST}:1 is needed"
            ),
        ));
    }
    Ok(format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]))
}

/// The darker shade of an accent, for hover states: each channel at three
/// quarters, so white text on it keeps at least the accent's contrast.
pub fn darker(accent: &str) -> String {
    let [r, g, b] = parse_hex(accent).unwrap_or([0x1d, 0x4e, 0xd8]);
    let dim = |c: u8| (u16::from(c) * 3 / 4) as u8;
    format!("#{:02x}{:02x}{:02x}", dim(r), dim(g), dim(b))
}

/// A pale tint of an accent (a quarter of it over white), for rings and backgrounds.
pub fn tint(accent: &str) -> String {
    let [r, g, b] = parse_hex(accent).unwrap_or([0x1d, 0x4e, 0xd8]);
    let pale = |c: u8| ((u16::from(c) + 3 * 255) / 4) as u8;
    format!("#{:02x}{:02x}{:02x}", pale(r), pale(g), pale(b))
}

/// The largest logo accepted, in bytes (512 KB).
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

/// The type of a logo's bytes (`image/png`, `image/jpeg` or `image/webp`), read
/// from the bytes themselves, or a readable refusal: too large, an SVG (it can
/// carry scripts), or not a picture of those kinds.
pub fn sniff_logo(bytes: &[u8]) -> Result<&'static str> {
    if bytes.is_empty() {
        return Err(Error::invalid("logo", "choose a picture to upload"));
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(Error::invalid("logo", "must be at most 512 KB; save it smaller and try again"));
    }
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some(kind @ ("image/png" | "image/jpeg" | "image/webp")) => Ok(kind),
        _ => {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
            if head.contains("<svg") {
                Err(Error::invalid("logo", "cannot be an SVG; upload a PNG, JPEG or WebP picture"))
            } else {
                Err(Error::invalid("logo", "must be a PNG, JPEG or WebP picture"))
            }
        }
    }
}

/// Hex SHA-256 of a logo's bytes: the version named in its URL.
pub fn logo_digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// The host name `host` normalised to lower case (a trailing dot dropped), or a
/// readable error naming `field`: it must be a name like `portal.smithlaw.example`
/// (letters, digits and hyphens in dot-separated labels), without scheme, port or path.
pub fn check_host(field: &'static str, host: &str) -> Result<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let refused =
        || Error::invalid(field, "must be a host name such as portal.smithlaw.example, without https:// or a path");
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let top_is_name = labels.last().is_some_and(|t| t.bytes().any(|b| b.is_ascii_alphabetic()));
    if host.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) || !top_is_name {
        return Err(refused());
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_the_wcag_examples() {
        let ratio = contrast_ratio([0, 0, 0], [255, 255, 255]);
        assert!((ratio - 21.0).abs() < 1e-9, "{ratio}");
        assert!((contrast_ratio([255, 255, 255], [255, 255, 255]) - 1.0).abs() < 1e-9);
        // #767676 on white is the well-known 4.54:1 grey.
        let grey = contrast_ratio(parse_hex("#767676").expect("hex"), [255, 255, 255]);
        assert!((grey - 4.54).abs() < 0.01, "{grey}");
    }

    #[test]
    fn accents_are_normalised_or_refused_with_a_reason() {
        assert_eq!(check_accent("accent_colour", " #1D4ED8 ").expect("dark blue passes"), "#1d4ed8");
        assert_eq!(check_accent("accent_colour", DEFAULT_ACCENT).expect("default passes"), DEFAULT_ACCENT);
        let light = check_accent("accent_colour", "#ffd700").expect_err("gold on white is unreadable");
        assert!(light.to_string().contains("too light"), "{light}");
        for bad in ["", "#12345", "#12345g", "blue", "#1d4ed8ff"] {
            let e = check_accent("accent_colour", bad).expect_err(bad);
            assert!(e.to_string().contains("#rrggbb"), "{bad}: {e}");
        }
    }

    #[test]
    fn shades_keep_their_hue() {
        assert_eq!(darker("#800000"), "#600000");
        assert_eq!(tint("#000000"), "#bfbfbf");
        let dark = parse_hex(&darker("#1d4ed8")).expect("hex");
        assert!(contrast_ratio(dark, [255, 255, 255]) > contrast_ratio([0x1d, 0x4e, 0xd8], [255, 255, 255]));
    }

    #[test]
    fn hosts_are_names_not_urls() {
        assert_eq!(check_host("public_host", " Portal.SmithLaw.example. ").expect("a name"), "portal.smithlaw.example");
        for bad in [
            "",
            "localhost",
            "https://portal.example",
            "portal.example/x",
            "portal.example:8080",
            "10.0.0.1",
            "-a.example",
            "a..example",
        ] {
            assert!(check_host("public_host", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn logos_are_sniffed_from_their_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00";
        assert_eq!(sniff_logo(png).expect("png"), "image/png");
        let svg = sniff_logo(b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>").expect_err("svg");
        assert!(svg.to_string().contains("SVG"), "{svg}");
        assert!(sniff_logo(b"hello").expect_err("text").to_string().contains("PNG, JPEG or WebP"));
        let mut big = png.to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 7);
        assert!(sniff_logo(&big).expect_err("big").to_string().contains("512 KB"));
    }
}
