//! Times in API inputs: one parser for every field that takes an instant.
//! RFC 3339 with `Z` or an offset (`2027-01-05T15:00:00Z`,
//! `2027-01-05T10:00:00-05:00`) is the instant it names; a time without a zone
//! (`2027-01-05T15:00:00`, what the API accepted before) is read as UTC, as the
//! API has always documented. Stored times are UTC [`NaiveDateTime`]s.

use chrono::{DateTime, NaiveDateTime, SubsecRound};
use serde::{Deserialize, Deserializer};

/// The UTC instant `text` names, or `None` when it is not a date and time.
/// Accepts RFC 3339 (with `Z` or an offset, `T` or a space between date and
/// time) and, read as UTC, a date and time without a zone (seconds and
/// fractions optional). Kept to microseconds, what PostgreSQL stores.
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.naive_utc().trunc_subsecs(6));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M:%S%.f%z"]
    {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.naive_utc().trunc_subsecs(6));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.trunc_subsecs(6));
        }
    }
    None
}

const EXPECTED: &str = "a date and time in RFC 3339, e.g. 2027-01-05T15:00:00Z or 2027-01-05T10:00:00-05:00";

/// Serde for a required time field: `#[serde(deserialize_with = "shared::timestamps::required")]`.
pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom(format!("\"{text}\" is not {EXPECTED}")))
}

/// Serde for an optional time field (`null` or absent is `None`; pair with `#[serde(default)]`).
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDateTime>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => {
            parse(&text).map(Some).ok_or_else(|| serde::de::Error::custom(format!("\"{text}\" is not {EXPECTED}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_an_offset_and_no_zone_name_the_same_instant() {
        let z = parse("2027-01-05T15:00:00Z");
        assert!(z.is_some());
        assert_eq!(parse("2027-01-05T10:00:00-05:00"), z);
        assert_eq!(parse("2027-01-05T16:00:00+01:00"), z);
        assert_eq!(parse("2027-01-05T15:00:00"), z);
        assert_eq!(parse("2027-01-05 15:00:00Z"), z);
        assert_eq!(parse("2027-01-05T15:00"), z);
        assert_eq!(parse("2027-01-05T15:00:00.000Z"), z);
        assert_eq!(parse("2027-01-05T15:00:00+0000"), z);
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        for text in ["", "tomorrow", "2027-01-05", "2027-13-05T15:00:00Z", "2027-01-05T25:00:00Z"] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn serde_fields_read_rfc_3339() {
        #[derive(serde::Deserialize)]
        struct Input {
            #[serde(deserialize_with = "required")]
            at: NaiveDateTime,
            #[serde(default, deserialize_with = "optional")]
            maybe: Option<NaiveDateTime>,
        }
        let input: Input = serde_json::from_str(r#"{"at":"2027-01-05T10:00:00-05:00"}"#).unwrap();
        assert_eq!(Some(input.at), parse("2027-01-05T15:00:00Z"));
        assert_eq!(input.maybe, None);
        assert!(serde_json::from_str::<Input>(r#"{"at":"soon"}"#).is_err());
    }
}
