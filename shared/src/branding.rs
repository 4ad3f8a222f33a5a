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
}
