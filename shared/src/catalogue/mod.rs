//! Phase catalogues: each firm's ordered phases per practice area, with a
//! plain-language title, "what this means" and "what happens next" in every
//! language. Every read and write of a firm's catalogue goes through this
//! module. Reads of one language ([`phases_in`]) are kept per process for
//! [`CACHE_TTL`], since every page a client opens shows the phase tracker;
//! the writes here drop the cached copy themselves, after their transaction
//! commits, so no writer can forget to. (A change made through another
//! process is seen within the TTL.)

mod defaults;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use diesel::prelude::*;

pub use self::defaults::{Catalogue, PhaseDefinition, PhaseWording};
use crate::db::models::{Phase, PhaseText};
use crate::db::schema::{phase_texts, phases};
use crate::db::{DbConnection, write_transaction};
use crate::domain::Language;
use crate::error::{Error, Result};

/// The practice area every firm starts with.
pub const PERSONAL_INJURY: &str = "personal_injury";

/// A firm's phases in order, each with its texts in one language.
pub type PhaseCatalogue = Arc<Vec<(Phase, PhaseText)>>;

/// How long a catalogue read by [`phases_in`] is reused in a process.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

type CacheKey = (String, Vec<String>, Language);

static CACHE: LazyLock<Mutex<HashMap<CacheKey, (Instant, PhaseCatalogue)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The phase texts of added locale folders (`locales/<tag>/phases.toml`), per
/// language and phase key: what a client reads where the firm's own
/// catalogue has no text in their language (before English).
static LOCALE_PHASES: LazyLock<RwLock<HashMap<Language, Arc<LocalePhases>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// One locale folder's phase texts: phase key → texts.
type LocalePhases = HashMap<String, PhaseWording>;

/// Makes `wordings` (phase key → texts) the locale folder's phase texts of
/// `language` (see [`crate::i18n::Locales::load`]); if they differ from the
/// ones held, cached catalogues are dropped. Loading the same folder again
/// (each app a process starts loads its locales) keeps them: the matter pages
/// kept with them stay current.
pub fn add_locale_phases(language: Language, wordings: HashMap<String, PhaseWording>) {
    let mut all = LOCALE_PHASES.write().unwrap_or_else(PoisonError::into_inner);
    if all.get(&language).is_some_and(|held| **held == wordings) {
        return;
    }
    all.insert(language, Arc::new(wordings));
    drop(all);
    if let Ok(mut cached) = CACHE.lock() {
        cached.clear();
    }
}

/// The locale folder's texts of the phase `key` in `language`, if it has them.
pub fn locale_phase(language: Language, key: &str) -> Option<PhaseWording> {
    LOCALE_PHASES.read().unwrap_or_else(PoisonError::into_inner).get(&language)?.get(key).cloned()
}

/// The phase keys the locale folder of `language` has texts for, sorted.
pub fn locale_phase_keys(language: Language) -> Vec<String> {
    let all = LOCALE_PHASES.read().unwrap_or_else(PoisonError::into_inner);
    let mut keys: Vec<String> = all.get(&language).map(|w| w.keys().cloned().collect()).unwrap_or_default();
    keys.sort();
    keys
}

/// `phase`'s text in `language` from the locale folder, if it has one.
fn locale_text(phase: &Phase, language: Language) -> Option<PhaseText> {
    locale_phase(language, &phase.key).map(|w| PhaseText {
        phase_id: phase.id.clone(),
        language,
        title: w.title,
        what_it_means: w.what_it_means,
        what_happens_next: w.what_happens_next,
    })
}

/// Drops this process's cached catalogues of `firm_id`.
fn forget(firm_id: &str) {
    if let Ok(mut cached) = CACHE.lock() {
        cached.retain(|(firm, _, _), _| firm != firm_id);
    }
}

/// This process's copy of the catalogue [`phases_in`] answers with for one
/// practice area, if it holds one still within its [`CACHE_TTL`]; no read.
pub fn cached(firm_id: &str, practice_area: &str, language: Language) -> Option<PhaseCatalogue> {
    let key: CacheKey = (firm_id.to_owned(), vec![practice_area.to_owned()], language);
    let cached = CACHE.lock().ok()?;
    cached.get(&key).filter(|(read, _)| read.elapsed() < CACHE_TTL).map(|(_, catalogue)| catalogue.clone())
}

/// Phases of `firm_id`'s practice areas with texts in `language` (where the
/// firm has none in it: the locale folder's, else English), read at most once
/// per [`CACHE_TTL`] in a process.
pub fn phases_in(
    conn: &mut DbConnection,
    firm_id: &str,
    practice_areas: &[&str],
    language: Language,
) -> Result<PhaseCatalogue> {
    let key: CacheKey = (firm_id.to_owned(), practice_areas.iter().map(|a| (*a).to_owned()).collect(), language);
    let fresh = |(read, _): &(Instant, PhaseCatalogue)| read.elapsed() < CACHE_TTL;
    if let Some((_, catalogue)) = CACHE.lock().ok().and_then(|c| c.get(&key).filter(|e| fresh(e)).cloned()) {
        return Ok(catalogue);
    }
    let catalogue = Arc::new(read_phases_in(conn, firm_id, practice_areas, language)?);
    if let Ok(mut cached) = CACHE.lock() {
        cached.retain(|_, e| fresh(e));
        cached.insert(key, (Instant::now(), catalogue.clone()));
    }
    Ok(catalogue)
}

fn read_phases_in(
    conn: &mut DbConnection,
    firm_id: &str,
    practice_areas: &[&str],
    language: Language,
) -> Result<Vec<(Phase, PhaseText)>> {
    let rows: Vec<(Phase, PhaseText)> = phases::table
        .inner_join(phase_texts::table)
        .filter(phases::firm_id.eq(firm_id))
        .filter(phases::practice_area.eq_any(practice_areas))
        .filter(phase_texts::language.eq_any([language, Language::EN]))
        .order((phases::practice_area, phases::position))
        .select((Phase::as_select(), PhaseText::as_select()))
        .load(conn)?;
    let mut chosen: Vec<(Phase, PhaseText)> = Vec::new();
    for (phase, text) in rows {
        match chosen.last_mut() {
            Some((last, last_text)) if last.id == phase.id => {
                if text.language == language {
                    *last_text = text;
                }
            }
            _ => chosen.push((phase, text)),
        }
    }
    for (phase, text) in &mut chosen {
        if text.language != language
            && let Some(own) = locale_text(phase, language)
        {
            *text = own;
        }
    }
    Ok(chosen)
}

/// The phases of several firms with their texts in every language (the weekly
/// update's batch: one query for all the firms of a claim), plus the locale
/// folders' texts in the languages a firm has none in.
pub fn every_text_of(conn: &mut DbConnection, firm_ids: &[&str]) -> Result<Vec<(Phase, PhaseText)>> {
    let mut rows: Vec<(Phase, PhaseText)> = phases::table
        .inner_join(phase_texts::table)
        .filter(phases::firm_id.eq_any(firm_ids))
        .select((Phase::as_select(), PhaseText::as_select()))
        .load(conn)?;
    let languages: Vec<Language> =
        LOCALE_PHASES.read().unwrap_or_else(PoisonError::into_inner).keys().copied().collect();
    if languages.is_empty() {
        return Ok(rows);
    }
    let have: std::collections::HashSet<(String, Language)> =
        rows.iter().map(|(p, t)| (p.id.clone(), t.language)).collect();
    let mut seen = std::collections::HashSet::new();
    let phases: Vec<Phase> = rows.iter().filter(|(p, _)| seen.insert(p.id.clone())).map(|(p, _)| p.clone()).collect();
    for phase in phases {
        for language in &languages {
            if !have.contains(&(phase.id.clone(), *language))
                && let Some(text) = locale_text(&phase, *language)
            {
                rows.push((phase.clone(), text));
            }
        }
    }
    Ok(rows)
}

/// Each phase of the firm's catalogue with its texts in every language (the settings page).
pub fn texts_by_phase(conn: &mut DbConnection, firm_id: &str) -> Result<Vec<(Phase, Vec<PhaseText>)>> {
    let found: Vec<Phase> = phases::table
        .filter(phases::firm_id.eq(firm_id))
        .order((phases::practice_area, phases::position))
        .select(Phase::as_select())
        .load(conn)?;
    let texts: Vec<PhaseText> = phase_texts::table
        .filter(phase_texts::phase_id.eq_any(found.iter().map(|p| &p.id)))
        .order(phase_texts::language)
        .select(PhaseText::as_select())
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|p| {
            let own = texts.iter().filter(|t| t.phase_id == p.id).cloned().collect();
            (p, own)
        })
        .collect())
}

/// The phase `key` of the firm's `practice_area`, if there is one.
pub fn phase_by_key(conn: &mut DbConnection, firm_id: &str, practice_area: &str, key: &str) -> Result<Option<Phase>> {
    Ok(phases::table
        .filter(phases::firm_id.eq(firm_id))
        .filter(phases::practice_area.eq(practice_area))
        .filter(phases::key.eq(key.trim()))
        .select(Phase::as_select())
        .first(conn)
        .optional()?)
}

/// The first phase of the firm's `practice_area` (where a new matter starts).
pub fn first_phase(conn: &mut DbConnection, firm_id: &str, practice_area: &str) -> Result<Option<Phase>> {
    Ok(phases::table
        .filter(phases::firm_id.eq(firm_id))
        .filter(phases::practice_area.eq(practice_area))
        .order(phases::position)
        .select(Phase::as_select())
        .first(conn)
        .optional()?)
}

/// (key, id) of every phase of the firm's `practice_area`, in order (an import's lookup).
pub fn keys_and_ids(conn: &mut DbConnection, firm_id: &str, practice_area: &str) -> Result<Vec<(String, String)>> {
    Ok(phases::table
        .filter(phases::firm_id.eq(firm_id))
        .filter(phases::practice_area.eq(practice_area))
        .order(phases::position)
        .select((phases::key, phases::id))
        .load(conn)?)
}

/// Replaces the texts of the phase `key` in `language`, and runs `also` (the
/// audit record) in the same transaction, with the phase's id. The cached
/// copies are dropped once it commits. [`Error::NotFound`] for no such phase.
#[allow(clippy::too_many_arguments)]
pub fn set_text(
    conn: &mut DbConnection,
    firm_id: &str,
    practice_area: &str,
    key: &str,
    language: Language,
    wording: &PhaseWording,
    also: impl FnOnce(&mut DbConnection, &str) -> Result<()>,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let phase_id = phase_by_key(conn, firm_id, practice_area, key)?.ok_or(Error::NotFound)?.id;
        let updated = diesel::update(phase_texts::table.find((&phase_id, language)))
            .set((
                phase_texts::title.eq(&wording.title),
                phase_texts::what_it_means.eq(&wording.what_it_means),
                phase_texts::what_happens_next.eq(&wording.what_happens_next),
            ))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(phase_texts::table)
                .values(&PhaseText {
                    phase_id: phase_id.clone(),
                    language,
                    title: wording.title.clone(),
                    what_it_means: wording.what_it_means.clone(),
                    what_happens_next: wording.what_happens_next.clone(),
                })
                .execute(conn)?;
        }
        also(conn, &phase_id)
    })?;
    forget(firm_id);
    Ok(())
}
