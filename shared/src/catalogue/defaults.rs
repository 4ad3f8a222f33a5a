//! The default catalogue of each practice area, read from
//! `catalogue/<area>.toml` in the assets. A firm gets its own copy of it when
//! the firm is created ([`Catalogue::install`]).

use serde::Deserialize;

use crate::assets::Assets;
use crate::db::DbConnection;
use crate::db::models::{Phase, PhaseText};
use crate::db::schema::{phase_texts, phases};
use crate::domain::{Language, new_id};
use crate::error::{Error, Result};

/// A catalogue file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// The practice area the phases belong to.
    pub practice_area: String,
    /// Phases in order.
    #[serde(rename = "phase")]
    pub phases: Vec<PhaseDefinition>,
}

/// One phase with its texts in every language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseDefinition {
    /// Stable key, e.g. `medical_treatment`.
    pub key: String,
    /// The client is being treated in this phase (gaps in treatment are flagged).
    #[serde(default)]
    pub treatment: bool,
    /// English texts.
    pub en: PhaseWording,
    /// Spanish texts.
    pub es: PhaseWording,
}

/// The three texts a client reads about a phase.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseWording {
    /// Short title, e.g. "Medical treatment".
    pub title: String,
    /// What this phase means for the client.
    pub what_it_means: String,
    /// What happens next.
    pub what_happens_next: String,
}

impl PhaseDefinition {
    /// The wording in a built-in `language` (English for any other: an added
    /// language's texts come from its locale folder, see [`super::locale_phase`]).
    pub fn wording(&self, language: Language) -> &PhaseWording {
        if language == Language::ES { &self.es } else { &self.en }
    }
}

impl Catalogue {
    /// Loads the catalogue of `practice_area` from the assets.
    pub fn load(assets: &Assets, practice_area: &str) -> Result<Self> {
        let path = format!("catalogue/{practice_area}.toml");
        let text = assets.text(&path).ok_or_else(|| Error::invalid("practice_area", format!("no catalogue {path}")))?;
        let catalogue: Catalogue =
            toml::from_str(&text).map_err(|e| Error::Internal(anyhow::anyhow!("{path}: {}", e.message())))?;
        if catalogue.practice_area != practice_area || catalogue.phases.is_empty() {
            return Err(Error::Internal(anyhow::anyhow!("{path}: practice_area or phases missing")));
        }
        Ok(catalogue)
    }

    /// Writes this catalogue as `firm_id`'s phases (and their texts in every language).
    pub fn install(&self, conn: &mut DbConnection, firm_id: &str) -> Result<Vec<Phase>> {
        let mut installed = Vec::with_capacity(self.phases.len());
        let mut texts = Vec::with_capacity(self.phases.len() * Language::BUILT_IN.len());
        for (index, def) in self.phases.iter().enumerate() {
            let phase = Phase {
                id: new_id(),
                firm_id: firm_id.to_owned(),
                practice_area: self.practice_area.clone(),
                key: def.key.clone(),
                position: i32::try_from(index + 1).unwrap_or(i32::MAX),
                treatment: def.treatment,
            };
            for language in Language::BUILT_IN {
                let w = def.wording(language);
                texts.push(PhaseText {
                    phase_id: phase.id.clone(),
                    language,
                    title: w.title.clone(),
                    what_it_means: w.what_it_means.clone(),
                    what_happens_next: w.what_happens_next.clone(),
                });
            }
            installed.push(phase);
        }
        crate::insert_many!(conn, phases::table, &installed)?;
        crate::insert_many!(conn, phase_texts::table, &texts)?;
        super::forget(firm_id);
        Ok(installed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_personal_injury_catalogue_has_ten_phases_worded_in_both_languages() -> Result<()> {
        let c = Catalogue::load(&Assets::default(), super::super::PERSONAL_INJURY)?;
        let keys: Vec<&str> = c.phases.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "intake",
                "investigation",
                "medical_treatment",
                "records_and_bills",
                "demand",
                "negotiation",
                "litigation",
                "settlement",
                "disbursement",
                "closed"
            ]
        );
        for phase in &c.phases {
            for language in Language::BUILT_IN {
                let w = phase.wording(language);
                for text in [&w.title, &w.what_it_means, &w.what_happens_next] {
                    assert!(text.trim().len() > 3, "{} {language}: empty text", phase.key);
                }
            }
            assert_ne!(phase.en.what_it_means, phase.es.what_it_means, "{}: Spanish is a copy of English", phase.key);
        }
        Ok(())
    }
}
