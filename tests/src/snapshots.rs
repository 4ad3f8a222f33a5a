//! Snapshots in CI are compared, never written: insta writes a snapshot in
//! place (and passes) under `INSTA_UPDATE=always|unseen|force`, and passes any
//! mismatch under `INSTA_FORCE_PASS`, even with `CI=true`. A snapshot test
//! calls [`compared_not_written`] first, so that in CI such a setting fails
//! the test instead of comparing a freshly written snapshot with itself.

/// Whether insta counts this environment as CI (its own rule: `CI` set and not
/// `false`/`0`/empty, or `TF_BUILD` set).
fn is_ci(ci: Option<&str>, tf_build: bool) -> bool {
    match ci {
        Some("false" | "0" | "") => false,
        None => tf_build,
        Some(_) => true,
    }
}

/// Why the snapshot settings `update` (`INSTA_UPDATE`) and `force_pass`
/// (`INSTA_FORCE_PASS`) must not run in CI, if they must not.
pub fn refusal(ci: Option<&str>, tf_build: bool, update: Option<&str>, force_pass: Option<&str>) -> Option<String> {
    if !is_ci(ci, tf_build) {
        return None;
    }
    if let Some(update @ ("always" | "unseen" | "force" | "1")) = update {
        return Some(format!(
            "INSTA_UPDATE={update} writes snapshots in place, so the test would compare a fresh snapshot with \
             itself; in CI snapshots are compared only (INSTA_UPDATE=no)"
        ));
    }
    if force_pass.is_some_and(|f| !matches!(f, "" | "0" | "false")) {
        return Some("INSTA_FORCE_PASS passes every mismatch; in CI a mismatch must fail".to_owned());
    }
    None
}

/// Panics when this process would write snapshots instead of comparing them in CI.
pub fn compared_not_written() {
    let var = |name: &str| std::env::var(name).ok();
    let (ci, update, force_pass) = (var("CI"), var("INSTA_UPDATE"), var("INSTA_FORCE_PASS"));
    if let Some(why) =
        refusal(ci.as_deref(), std::env::var_os("TF_BUILD").is_some(), update.as_deref(), force_pass.as_deref())
    {
        panic!("{why}");
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn in_ci_a_snapshot_is_compared_never_written() {
        for update in ["always", "unseen", "force", "1"] {
            assert!(refusal(Some("true"), false, Some(update), None).is_some(), "{update}");
            assert!(refusal(None, true, Some(update), None).is_some(), "{update} on Azure (TF_BUILD)");
        }
        assert!(refusal(Some("true"), false, None, Some("1")).is_some());
        for fine in [None, Some("no"), Some("auto"), Some("new")] {
            assert_eq!(refusal(Some("true"), false, fine, None), None, "{fine:?}");
        }
        // Outside CI, a developer may accept snapshots in place.
        assert_eq!(refusal(None, false, Some("always"), None), None);
        assert_eq!(refusal(Some("false"), false, Some("always"), Some("1")), None);
    }
}
