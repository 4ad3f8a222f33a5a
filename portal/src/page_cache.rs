//! The client matter pages this process has rendered, kept to be answered
//! again while the matter is unchanged.
//!
//! The matter page is the portal's busiest, and most of its cost is its
//! rendering, not its statement. A page is kept per matter and client with its
//! [`Stamp`]: the matter's page version (raised by database triggers on every
//! write to what the page shows, whichever process or code makes it), the
//! language, the phase catalogue and the moment time alone would change it. The
//! page's one statement still checks the session and the client's access on
//! every request; it reads the matter again only when the version it is given
//! is not the current one ([`shared::matter_page::load_since`]). So a kept page
//! is never shown to anyone the statement would not show the matter to, and
//! never after the matter changed.
//!
//! The pages kept are bounded by their bytes (`MATTERLINE_PAGE_CACHE_MIB`; 0
//! keeps none), the least recently shown going first.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use shared::matter_page::Stamp;

use crate::pages::PageParts;

/// A rendered matter page with what it depends on.
#[derive(Debug)]
pub struct KeptPage {
    /// The matter's version, language, catalogue and time limit it was rendered at.
    pub stamp: Stamp,
    /// The page's title.
    pub title: String,
    /// The page itself.
    pub parts: PageParts,
}

impl KeptPage {
    /// Bytes the page holds, roughly.
    fn size(&self) -> usize {
        self.parts.size() + self.title.len() + 512
    }
}

/// Rendered matter pages, per matter and client, within a byte budget.
pub struct PageCache {
    budget: usize,
    kept: Mutex<Kept>,
    /// Pages answered from what was kept.
    answered: AtomicU64,
}

struct Kept {
    pages: LruCache<String, Arc<KeptPage>>,
    bytes: usize,
}

impl fmt::Debug for PageCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (pages, bytes) = self.usage();
        f.debug_struct("PageCache").field("budget", &self.budget).field("pages", &pages).field("bytes", &bytes).finish()
    }
}

/// The key of matter `matter_id`'s page for client `user_id`.
fn key(matter_id: &str, user_id: &str) -> String {
    let mut key = String::with_capacity(matter_id.len() + user_id.len() + 1);
    key.push_str(matter_id);
    key.push('\n');
    key.push_str(user_id);
    key
}

impl PageCache {
    /// A cache holding at most `budget_mib` MiB of pages (0: none).
    pub fn new(budget_mib: u64) -> Self {
        let budget = usize::try_from(budget_mib).unwrap_or(usize::MAX / (1 << 20)).saturating_mul(1 << 20);
        Self { budget, kept: Mutex::new(Kept { pages: LruCache::unbounded(), bytes: 0 }), answered: AtomicU64::new(0) }
    }

    /// Counts a page answered from what was kept (also in `/metrics`).
    pub fn answered(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(shared::metrics::MATTER_PAGES, "outcome" => "kept").increment(1);
    }

    /// Counts a page rendered (in `/metrics`).
    pub fn rendered(&self) {
        metrics::counter!(shared::metrics::MATTER_PAGES, "outcome" => "rendered").increment(1);
    }

    /// Pages answered from what was kept, since the process started.
    pub fn answered_count(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }

    /// The page kept of matter `matter_id` for client `user_id`, if any.
    pub fn get(&self, matter_id: &str, user_id: &str) -> Option<Arc<KeptPage>> {
        if self.budget == 0 {
            return None;
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.pages.get(&key(matter_id, user_id)).cloned()
    }

    /// Keeps `page` of matter `matter_id` for client `user_id` (replacing the
    /// one kept before), dropping the least recently shown pages past the budget.
    /// A page larger than the whole budget is not kept.
    pub fn put(&self, matter_id: &str, user_id: &str, page: KeptPage) {
        let size = page.size();
        if size > self.budget {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = kept.pages.put(key(matter_id, user_id), Arc::new(page)) {
            kept.bytes -= old.size();
        }
        kept.bytes += size;
        while kept.bytes > self.budget {
            match kept.pages.pop_lru() {
                Some((_, dropped)) => kept.bytes -= dropped.size(),
                None => break,
            }
        }
    }

    /// Pages kept, and the bytes they hold.
    pub fn usage(&self) -> (usize, usize) {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        (kept.pages.len(), kept.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(version: i64, body_bytes: usize) -> KeptPage {
        KeptPage {
            stamp: Stamp {
                version,
                language: shared::domain::Language::EN,
                firm_id: "firm".into(),
                practice_area: "personal_injury".into(),
                catalogue: Arc::new(Vec::new()),
                valid_until: chrono::NaiveDateTime::MAX,
            },
            title: "A case".into(),
            parts: PageParts {
                frame: serde_json::json!({"lang": "en"}),
                before: "<html>".into(),
                body: vec![b'x'; body_bytes].into(),
                after: "</html>".into(),
            },
        }
    }

    #[test]
    fn pages_are_kept_per_matter_and_client_and_replaced() {
        let cache = PageCache::new(1);
        assert!(cache.get("m1", "c1").is_none());
        cache.put("m1", "c1", page(3, 100));
        cache.put("m1", "c2", page(4, 100));
        assert_eq!(cache.get("m1", "c1").map(|p| p.stamp.version), Some(3));
        assert_eq!(cache.get("m1", "c2").map(|p| p.stamp.version), Some(4));
        assert!(cache.get("m2", "c1").is_none(), "another matter's page is not this one's");
        let before = cache.usage();
        cache.put("m1", "c1", page(5, 100));
        assert_eq!(cache.get("m1", "c1").map(|p| p.stamp.version), Some(5));
        assert_eq!(cache.usage(), before, "a page replaced is not counted twice");
    }

    #[test]
    fn the_least_recently_shown_pages_go_past_the_budget() {
        let cache = PageCache::new(1);
        let each = page(0, 300 * 1024).size();
        for n in 0..3 {
            cache.put(&format!("m{n}"), "c", page(n, 300 * 1024));
        }
        assert!(cache.get("m0", "c").is_some(), "shown now: the most recent");
        cache.put("m3", "c", page(3, 300 * 1024));
        let (pages, bytes) = cache.usage();
        assert!(bytes <= 1 << 20, "{bytes} bytes kept within a 1 MiB budget");
        assert_eq!(pages, bytes / each);
        assert!(cache.get("m1", "c").is_none(), "the least recently shown went first");
        assert!(cache.get("m0", "c").is_some() && cache.get("m3", "c").is_some());
    }

    #[test]
    fn a_budget_of_nothing_keeps_nothing_and_a_page_larger_than_it_is_not_kept() {
        let off = PageCache::new(0);
        off.put("m", "c", page(1, 10));
        assert!(off.get("m", "c").is_none());
        assert_eq!(off.usage(), (0, 0));
        let small = PageCache::new(1);
        small.put("m", "c", page(1, 2 << 20));
        assert_eq!(small.usage(), (0, 0));
    }
}
