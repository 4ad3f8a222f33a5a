//! Languages: every string a person reads comes from `locales/<lang>/*.ftl`
//! (Fluent). A key missing in one language falls back to English; a key
//! missing everywhere is an error when rendering, so a test catches it.

use std::collections::{BTreeSet, HashMap};

use fluent_bundle::types::FluentNumber;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

use crate::assets::Assets;
use crate::domain::Language;
use crate::error::{Error, Result};

/// The Fluent bundles of every language.
pub struct Locales {
    bundles: HashMap<Language, FluentBundle<FluentResource>>,
    keys: HashMap<Language, BTreeSet<String>>,
}

impl std::fmt::Debug for Locales {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locales").field("languages", &self.bundles.keys().collect::<Vec<_>>()).finish()
    }
}

impl Locales {
    /// Loads `locales/<code>/*.ftl` for every [`Language`]; a syntax error or a
    /// key defined twice names its file.
    pub fn load(assets: &Assets) -> Result<Self> {
        let mut bundles = HashMap::new();
        let mut keys: HashMap<Language, BTreeSet<String>> = HashMap::new();
        for language in Language::ALL {
            let id: LanguageIdentifier = language
                .as_str()
                .parse()
                .map_err(|e| Error::Internal(anyhow::anyhow!("language {}: {e}", language.as_str())))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // No Unicode isolation marks: they would end up inside HTML attributes and email subjects.
            bundle.set_use_isolating(false);
            let files = assets.list(&format!("locales/{}/", language.as_str()));
            if files.is_empty() {
                return Err(Error::Internal(anyhow::anyhow!("no locale files for {}", language.as_str())));
            }
            for path in files {
                let text = assets.text(&path).ok_or_else(|| Error::Internal(anyhow::anyhow!("{path}: not UTF-8")))?;
                let resource = FluentResource::try_new(text)
                    .map_err(|(_, errors)| Error::Internal(anyhow::anyhow!("{path}: {errors:?}")))?;
                for entry in resource.entries() {
                    if let fluent_syntax::ast::Entry::Message(message) = entry {
                        keys.entry(*language).or_default().insert(message.id.name.to_owned());
                    }
                }
                bundle
                    .add_resource(resource)
                    .map_err(|errors| Error::Internal(anyhow::anyhow!("{path}: {errors:?}")))?;
            }
            bundles.insert(*language, bundle);
        }
        Ok(Self { bundles, keys })
    }

    /// The message `key` in `language` (falling back to English), or `None`
    /// when no language defines it.
    pub fn get(&self, language: Language, key: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        [language, Language::En].into_iter().find_map(|lang| {
            let bundle = self.bundles.get(&lang)?;
            let pattern = bundle.get_message(key)?.value()?;
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, args, &mut errors).into_owned();
            if !errors.is_empty() {
                tracing::warn!(key, language = lang.as_str(), ?errors, "locale message formatted with errors");
            }
            Some(text)
        })
    }

    /// The message `key`, or the key itself (logged) when it is missing.
    pub fn text(&self, language: Language, key: &str) -> String {
        self.get(language, key, None).unwrap_or_else(|| {
            tracing::warn!(key, "missing locale message");
            key.to_owned()
        })
    }

    /// `(language, key)` for every key some language defines and this one lacks.
    pub fn missing_keys(&self) -> Vec<(Language, String)> {
        let all: BTreeSet<&String> = self.keys.values().flatten().collect();
        let mut missing = Vec::new();
        for language in Language::ALL {
            let have = self.keys.get(language);
            for key in &all {
                if !have.is_some_and(|h| h.contains(*key)) {
                    missing.push((*language, (*key).clone()));
                }
            }
        }
        missing
    }

    /// A date in `language`, e.g. "November 28, 2026" or "28 de noviembre de 2026".
    pub fn date(&self, language: Language, date: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        let month = serde_json::Value::String(self.text(language, &format!("month-{}", date.month())));
        let day = serde_json::Value::String(date.day().to_string());
        let year = serde_json::Value::String(date.year().to_string());
        let args = args_from_json([("month", &month), ("day", &day), ("year", &year)]);
        self.get(language, "date-format", Some(&args)).unwrap_or_else(|| date.to_string())
    }

    /// A day in `language` with its weekday and no year, e.g. "Friday, January 8"
    /// or "viernes 8 de enero" (a due date, near enough not to need the year).
    pub fn day(&self, language: Language, date: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        let weekday = date.weekday().to_string().to_ascii_lowercase();
        let weekday = serde_json::Value::String(self.text(language, &format!("weekday-{weekday}")));
        let month = serde_json::Value::String(self.text(language, &format!("month-{}", date.month())));
        let day = serde_json::Value::String(date.day().to_string());
        let args = args_from_json([("weekday", &weekday), ("month", &month), ("day", &day)]);
        self.get(language, "day-format", Some(&args)).unwrap_or_else(|| date.to_string())
    }

    /// Every key of `language`.
    pub fn keys(&self, language: Language) -> impl Iterator<Item = &str> {
        self.keys.get(&language).into_iter().flatten().map(String::as_str)
    }
}

/// Fluent arguments from JSON values (strings and numbers; anything else as text).
pub fn args_from_json<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>) -> FluentArgs<'a> {
    let mut args = FluentArgs::new();
    for (name, value) in pairs {
        match value {
            serde_json::Value::String(s) => args.set(name, s.as_str()),
            serde_json::Value::Number(n) => args.set(name, FluentNumber::from(n.as_f64().unwrap_or_default())),
            other => args.set(name, other.to_string()),
        }
    }
    args
}

/// Picks the language for a visitor: a saved preference first, then the
/// best match in an `Accept-Language` header, then English.
pub fn negotiate(saved: Option<&str>, accept_language: Option<&str>) -> Language {
    if let Some(lang) = saved.and_then(Language::parse) {
        return lang;
    }
    let mut best: Option<(f32, Language)> = None;
    for part in accept_language.unwrap_or_default().split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality =
            pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or_default();
        if let Some(lang) = Language::parse(primary)
            && quality > 0.0
            && best.is_none_or(|(q, _)| quality > q)
        {
            best = Some((quality, lang));
        }
    }
    best.map_or(Language::En, |(_, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_preference_wins_then_accept_language_then_english() {
        assert_eq!(negotiate(Some("es"), Some("en-US")), Language::Es);
        assert_eq!(negotiate(None, Some("fr-FR, es-MX;q=0.8, en;q=0.5")), Language::Es);
        assert_eq!(negotiate(None, Some("en-GB,en;q=0.9,es;q=0.8")), Language::En);
        assert_eq!(negotiate(None, Some("de, fr")), Language::En);
        assert_eq!(negotiate(Some("xx"), None), Language::En);
        assert_eq!(negotiate(None, Some("es;q=0")), Language::En);
    }
}
