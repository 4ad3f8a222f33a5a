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

/// The Fluent bundles of every language: English and Spanish from the binary
/// (or the override folder), and each folder `locales/<tag>/` the override
/// folder adds (see [`Locales::load`]).
pub struct Locales {
    bundles: HashMap<Language, FluentBundle<FluentResource>>,
    keys: HashMap<Language, BTreeSet<String>>,
    /// The languages loaded, built-in first, then added ones by tag.
    languages: Vec<Language>,
}

impl std::fmt::Debug for Locales {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locales").field("languages", &self.languages).finish()
    }
}

/// The message naming a language in itself (e.g. `language-name = Français`),
/// shown by the language switcher and staff forms.
pub const LANGUAGE_NAME_KEY: &str = "language-name";

/// The optional file of an added locale folder with its phase texts.
pub const PHASES_FILE: &str = "phases.toml";

impl Locales {
    /// Loads `locales/<tag>/*.ftl` for English, Spanish and every folder the
    /// override folder adds whose name is a language tag (`fr`, `pt-BR`) and
    /// that holds a `.ftl` file; those become languages of the process
    /// ([`Language::register`]), with their `phases.toml` texts if any
    /// ([`crate::catalogue::add_locale_phases`]). A syntax error or a key defined
    /// twice names its file; a folder that is no language is skipped (logged);
    /// an added language is logged with how many English keys it lacks.
    pub fn load(assets: &Assets) -> Result<Self> {
        let mut languages: Vec<Language> = Language::BUILT_IN.to_vec();
        for folder in assets.folders_in("locales/") {
            if Language::BUILT_IN.iter().any(|l| l.as_str() == folder) {
                continue;
            }
            if assets.files_in(&format!("locales/{folder}/"), ".ftl").is_empty() {
                tracing::warn!(folder = %format!("locales/{folder}"), "a locale folder without .ftl files is skipped");
                continue;
            }
            match Language::register(&folder) {
                Ok(language) => languages.push(language),
                Err(e) => tracing::warn!(folder = %format!("locales/{folder}"), "locale folder skipped: {e}"),
            }
        }
        languages[Language::BUILT_IN.len()..].sort();
        let mut bundles = HashMap::new();
        let mut keys: HashMap<Language, BTreeSet<String>> = HashMap::new();
        for language in &languages {
            let language = *language;
            let id: LanguageIdentifier = language
                .as_str()
                .parse()
                .map_err(|e| Error::Internal(anyhow::anyhow!("language {}: {e}", language.as_str())))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // No Unicode isolation marks: they would end up inside HTML attributes and email subjects.
            bundle.set_use_isolating(false);
            let files = assets.files_in(&format!("locales/{}/", language.as_str()), ".ftl");
            if files.is_empty() {
                return Err(Error::Internal(anyhow::anyhow!("no locale files for {}", language.as_str())));
            }
            for path in files {
                let text = assets.text(&path).ok_or_else(|| Error::Internal(anyhow::anyhow!("{path}: not UTF-8")))?;
                let resource = FluentResource::try_new(text)
                    .map_err(|(_, errors)| Error::Internal(anyhow::anyhow!("{path}: {errors:?}")))?;
                for entry in resource.entries() {
                    if let fluent_syntax::ast::Entry::Message(message) = entry {
                        keys.entry(language).or_default().insert(message.id.name.to_owned());
                    }
                }
                bundle
                    .add_resource(resource)
                    .map_err(|errors| Error::Internal(anyhow::anyhow!("{path}: {errors:?}")))?;
            }
            bundles.insert(language, bundle);
            let phases = format!("locales/{}/{PHASES_FILE}", language.as_str());
            if let Some(text) = assets.get(&phases) {
                let text = String::from_utf8(text.into_owned())
                    .map_err(|_| Error::Internal(anyhow::anyhow!("{phases}: not UTF-8")))?;
                let wordings =
                    toml::from_str(&text).map_err(|e| Error::Internal(anyhow::anyhow!("{phases}: {}", e.message())))?;
                crate::catalogue::add_locale_phases(language, wordings);
            }
        }
        let locales = Self { bundles, keys, languages };
        for language in locales.added() {
            let lacking = locales.lacking(language);
            let name = locales.name(language);
            if lacking.is_empty() {
                tracing::info!(
                    language = language.as_str(),
                    name,
                    "language loaded: every English message is translated"
                );
            } else {
                let first: Vec<&str> = lacking.iter().take(5).map(String::as_str).collect();
                tracing::warn!(
                    language = language.as_str(),
                    name,
                    lacking = lacking.len(),
                    of = locales.keys(Language::EN).count(),
                    first = %first.join(", "),
                    "language loaded: messages it lacks are shown in English"
                );
            }
        }
        Ok(locales)
    }

    /// Every loaded language: English, Spanish, then the added ones by tag.
    pub fn languages(&self) -> &[Language] {
        &self.languages
    }

    /// The languages added by locale folders (not built in).
    pub fn added(&self) -> impl Iterator<Item = Language> + '_ {
        self.languages.iter().copied().filter(|l| !Language::BUILT_IN.contains(l))
    }

    /// Whether `language` is loaded here.
    pub fn speaks(&self, language: Language) -> bool {
        self.bundles.contains_key(&language)
    }

    /// The name of `language` in itself (its `language-name` message, e.g.
    /// "Español"); its tag when it names itself nowhere.
    pub fn name(&self, language: Language) -> String {
        self.bundles
            .get(&language)
            .and_then(|bundle| {
                let pattern = bundle.get_message(LANGUAGE_NAME_KEY)?.value()?;
                Some(bundle.format_pattern(pattern, None, &mut Vec::new()).into_owned())
            })
            .unwrap_or_else(|| language.as_str().to_owned())
    }

    /// What `portal check-locales` prints: per language its tag, name, the
    /// English messages it lacks (shown in English) and its phase texts.
    pub fn report(&self, assets: &Assets) -> String {
        let phase_keys: Vec<String> = crate::catalogue::Catalogue::load(assets, crate::catalogue::PERSONAL_INJURY)
            .map(|c| c.phases.into_iter().map(|p| p.key).collect())
            .unwrap_or_default();
        let total = self.keys(Language::EN).count();
        let mut out = String::new();
        for &language in &self.languages {
            let lacking = self.lacking(language);
            let messages = if lacking.is_empty() {
                format!("all {total} messages")
            } else {
                let first: Vec<&str> = lacking.iter().take(8).map(String::as_str).collect();
                let more = if lacking.len() > first.len() { ", …" } else { "" };
                format!("{} of {total} messages; in English: {}{more}", total - lacking.len(), first.join(", "))
            };
            let phases = if Language::BUILT_IN.contains(&language) {
                "phases from the catalogue".to_owned()
            } else {
                let own = crate::catalogue::locale_phase_keys(language);
                let unknown: Vec<&str> = own.iter().filter(|k| !phase_keys.contains(k)).map(String::as_str).collect();
                let known = own.len() - unknown.len();
                let mut text = format!("{known} of {} phases in {PHASES_FILE} (the rest in English)", phase_keys.len());
                if !unknown.is_empty() {
                    text.push_str(&format!("; unknown phase keys: {}", unknown.join(", ")));
                }
                text
            };
            out.push_str(&format!("{} ({}): {messages}; {phases}\n", language.as_str(), self.name(language)));
        }
        out
    }

    /// The English keys `language` does not define (shown in English), sorted.
    pub fn lacking(&self, language: Language) -> Vec<String> {
        let have = self.keys.get(&language);
        self.keys(Language::EN).filter(|key| !have.is_some_and(|h| h.contains(*key))).map(str::to_owned).collect()
    }

    /// The message `key` in `language` (falling back to English), or `None`
    /// when no language defines it.
    pub fn get(&self, language: Language, key: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        [language, Language::EN].into_iter().find_map(|lang| {
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

    /// `(language, key)` for every key English or Spanish defines and the
    /// other lacks: the built-in languages stay complete (added ones fall back
    /// to English, see [`Locales::lacking`]).
    pub fn missing_keys(&self) -> Vec<(Language, String)> {
        let all: BTreeSet<&String> = Language::BUILT_IN.iter().filter_map(|l| self.keys.get(l)).flatten().collect();
        let mut missing = Vec::new();
        for language in Language::BUILT_IN {
            let have = self.keys.get(&language);
            for key in &all {
                if !have.is_some_and(|h| h.contains(*key)) {
                    missing.push((language, (*key).clone()));
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

/// Picks the language for a visitor among the loaded ones: a saved preference
/// first, then the best match in an `Accept-Language` header (the whole tag,
/// e.g. `pt-BR`, else its language, `pt`), then English.
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
        if let Some(lang) = Language::parse(&tag).or_else(|| Language::parse(primary))
            && quality > 0.0
            && best.is_none_or(|(q, _)| quality > q)
        {
            best = Some((quality, lang));
        }
    }
    best.map_or(Language::EN, |(_, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_preference_wins_then_accept_language_then_english() {
        assert_eq!(negotiate(Some("es"), Some("en-US")), Language::ES);
        assert_eq!(negotiate(None, Some("fr-FR, es-MX;q=0.8, en;q=0.5")), Language::ES);
        assert_eq!(negotiate(None, Some("en-GB,en;q=0.9,es;q=0.8")), Language::EN);
        assert_eq!(negotiate(None, Some("de, fr")), Language::EN);
        assert_eq!(negotiate(Some("xx"), None), Language::EN);
        assert_eq!(negotiate(None, Some("es;q=0")), Language::EN);
    }

    /// A locale folder in the override folder adds a language: its messages,
    /// English for the rest, its name, and its phase texts.
    #[test]
    fn an_added_locale_folder_is_a_language_that_falls_back_to_english() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let it = dir.path().join("locales/it");
        std::fs::create_dir_all(&it)?;
        std::fs::write(it.join("portal.ftl"), "language-name = Italiano\nnav-my-cases = Le mie pratiche\n")?;
        std::fs::write(
            it.join(PHASES_FILE),
            "[intake]\ntitle = \"Apertura\"\nwhat_it_means = \"Abbiamo aperto la pratica.\"\nwhat_happens_next = \"Vi chiamiamo.\"\n",
        )?;
        std::fs::create_dir_all(dir.path().join("locales/not a tag"))?;
        std::fs::write(dir.path().join("locales/not a tag/x.ftl"), "a = b\n")?;
        std::fs::create_dir_all(dir.path().join("locales/nl"))?;
        let locales = Locales::load(&Assets::new(Some(dir.path().to_path_buf())))?;
        let italian = Language::parse("it").ok_or_else(|| anyhow::anyhow!("it is not loaded"))?;
        assert_eq!(locales.languages(), [Language::EN, Language::ES, italian]);
        assert_eq!(Language::parse("nl"), None, "a folder without .ftl files is no language");
        assert_eq!(locales.name(italian), "Italiano");
        assert_eq!(locales.name(Language::ES), "Español");
        assert_eq!(locales.text(italian, "nav-my-cases"), "Le mie pratiche");
        assert_eq!(locales.text(italian, "nav-sign-out"), locales.text(Language::EN, "nav-sign-out"));
        assert!(locales.lacking(italian).contains(&"nav-sign-out".to_owned()));
        assert!(locales.lacking(Language::ES).is_empty());
        assert_eq!(negotiate(None, Some("it-IT, en;q=0.5")), italian);
        let intake = crate::catalogue::locale_phase(italian, "intake").ok_or_else(|| anyhow::anyhow!("no phase"))?;
        assert_eq!(intake.title, "Apertura");
        let report = locales.report(&Assets::default());
        assert!(report.starts_with("en (English): all "), "{report}");
        assert!(report.contains("\nit (Italiano): 2 of "), "{report}");
        assert!(report.contains("; in English: "), "{report}");
        assert!(report.contains("1 of 10 phases in phases.toml"), "{report}");
        Ok(())
    }
}
