//! The language switcher on every page: a cookie for visitors, the saved
//! preference for signed-in users; then back to the page it came from.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{post, web};
use diesel::prelude::*;
use serde::Deserialize;
use shared::db::schema::users;
use shared::domain::{Language, now};

use crate::pages::{PageCtx, PageResult, see_other};
use crate::session::LANGUAGE_COOKIE;

/// Registers the language switcher.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(switch_language);
}

#[derive(Deserialize)]
struct LanguageForm {
    lang: String,
    #[serde(default)]
    next: String,
}

/// Only paths on this site: `/x` but not `//host` or `/\host`, so the switcher is no open redirect.
/// Control characters are refused outright: browsers drop tabs and line breaks
/// from a `Location`, so `/<TAB>/host` would become `//host`.
fn local_path(next: &str) -> &str {
    let mut chars = next.chars();
    let safe =
        chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\')) && !next.chars().any(char::is_control);
    if safe { next } else { "/" }
}

#[post("/language")]
async fn switch_language(ctx: PageCtx, form: web::Form<LanguageForm>) -> PageResult {
    let lang = Language::parse(&form.lang)
        .filter(|lang| ctx.state.renderer.locales().speaks(*lang))
        .ok_or_else(|| shared::Error::invalid("lang", "unknown language"))?;
    if let Some(viewer) = &ctx.viewer {
        let id = viewer.user.id.clone();
        ctx.state
            .db
            .run(move |conn| {
                diesel::update(users::table.find(&id))
                    .set((users::language.eq(lang), users::updated_at.eq(now())))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
    }
    let cookie = Cookie::build(LANGUAGE_COOKIE, lang.as_str())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(ctx.state.secure_cookies())
        .max_age(CookieDuration::days(365))
        .finish();
    let mut response = see_other(local_path(&form.next));
    let _ = response.add_cookie(&cookie);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/matters/1?x=2"), "/matters/1?x=2");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "",
            "matters",
            "/a\r\nSet-Cookie: x",
            "/\t/evil.example",
            "/\n/evil.example",
            "\\/evil.example",
            "/\u{0}/evil.example",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }
}
