//! Rendering pages and emails with handlebars (strict mode) from the assets:
//! `web/*.hbs` pages and `web/partials/*.hbs` partials, and per email
//! `email/<name>/{subject,body.txt,body.html}.hbs` with the shared pieces in
//! `email/partials/` (`{{> email-layout}}`, `{{> email-buttons}}`…). The `t` helper looks a
//! Fluent message up in the language named by the context's `lang`:
//! `{{t "matter-next"}}`, `{{t "greeting" name=client.name}}`. In HTML, email
//! addresses wrap only at their `@` and dots (`{{address x}}` for one on its own).

use std::sync::Arc;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError, RenderErrorReason,
};
use serde::Serialize;

use crate::assets::Assets;
use crate::domain::Language;
use crate::error::{Error, Result};
use crate::i18n::{Locales, args_from_json};

/// A rendered email: what the mailer sends as multipart/alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// What the page layout (`web/partials/layout.hbs`) reads of a page's data,
/// besides the rendered `body`: the frame every page has, and the page's own
/// say on its title, its navigation (`staff_nav`, `staff_unanswered`) and the
/// install hint (`offline`). A key the layout reads and this list lacks fails
/// every page in strict mode.
const LAYOUT_KEYS: [&str; 14] = [
    "lang",
    "languages",
    "path",
    "title",
    "brand",
    "brand_logo",
    "brand_css",
    "theme_colour",
    "brand_phone",
    "brand_tel",
    "user",
    "staff_nav",
    "staff_unanswered",
    "offline",
];

/// What the layout is given of a page's data: its [`LAYOUT_KEYS`], with room for the body.
fn layout_data(data: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut frame = serde_json::Map::with_capacity(LAYOUT_KEYS.len() + 1);
    for key in LAYOUT_KEYS {
        if let Some(value) = data.get(key) {
            frame.insert(key.to_owned(), value.clone());
        }
    }
    frame
}

/// Page and email templates with the locales they speak.
#[derive(Debug, Clone)]
pub struct Renderer {
    html: Arc<Handlebars<'static>>,
    text: Arc<Handlebars<'static>>,
    locales: Arc<Locales>,
}

struct Translate {
    locales: Arc<Locales>,
    escape: bool,
}

impl HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let key =
            h.param(0).and_then(|p| p.value().as_str()).ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let lang = ctx.data().get("lang").and_then(|v| v.as_str()).and_then(Language::parse).unwrap_or(Language::EN);
        let args = args_from_json(h.hash().iter().map(|(name, value)| (*name, value.value())));
        let text = self
            .locales
            .get(lang, key, Some(&args))
            .ok_or_else(|| RenderError::from(RenderErrorReason::Other(format!("no locale message \"{key}\""))))?;
        if !self.escape {
            out.write(&text)?;
        } else if text.contains('@') {
            out.write(&breakable_addresses(&handlebars::html_escape(&text)))?;
        } else {
            out.write(&handlebars::html_escape(&text))?;
        }
        Ok(())
    }
}

/// HTML-escaped text in which each email address may wrap only after its `@`
/// or before a dot (`<wbr>`), never mid-word: a long address on a phone reads
/// "maria.fernanda<wbr>.gonzalez@<wbr>bufete<wbr>.example".
pub fn breakable_addresses(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len() + 16);
    for (n, word) in escaped.split(' ').enumerate() {
        if n > 0 {
            out.push(' ');
        }
        if word.contains('@') {
            for (i, part) in word.split('.').enumerate() {
                if i > 0 {
                    out.push_str("<wbr>.");
                }
                out.push_str(&part.replace('@', "@<wbr>"));
            }
        } else {
            out.push_str(word);
        }
    }
    out
}

/// The width the plain-text part of an email is wrapped at, in characters.
pub const TEXT_WIDTH: usize = 76;

/// `text` with every line longer than `width` characters broken at spaces
/// (a word longer than the width, such as a URL, stays whole on its own
/// line). A continued list item (`- `) is indented to its text.
pub fn wrap_text(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width.max(1));
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.chars().count() <= width {
            out.push_str(line);
            continue;
        }
        let indent = if line.starts_with("- ") { "  " } else { "" };
        let mut used = 0;
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            let len = word.chars().count();
            if used > 0 && used + 1 + len > width {
                out.push('\n');
                out.push_str(indent);
                used = indent.len();
            } else if used > 0 {
                out.push(' ');
                used += 1;
            }
            out.push_str(word);
            used += len;
        }
    }
    out
}

/// `{{address value}}`: the value HTML-escaped, with the wrap points of [`breakable_addresses`].
fn address_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let value = h.param(0).map(|p| p.value().as_str().unwrap_or_default().to_owned()).unwrap_or_default();
    out.write(&breakable_addresses(&handlebars::html_escape(&value)))?;
    Ok(())
}

impl Renderer {
    /// Loads every template and the locales from `assets`; a template that does
    /// not parse names its file.
    pub fn load(assets: &Assets) -> Result<Self> {
        let locales = Arc::new(Locales::load(assets)?);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        html.register_helper("t", Box::new(Translate { locales: locales.clone(), escape: true }));
        html.register_helper("address", Box::new(address_helper));
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        text.register_helper("t", Box::new(Translate { locales: locales.clone(), escape: false }));

        let source =
            |path: &str| assets.text(path).ok_or_else(|| Error::Internal(anyhow::anyhow!("{path}: not UTF-8")));
        let bad = |path: &str, e: handlebars::TemplateError| Error::Internal(anyhow::anyhow!("{path}: {e}"));
        for path in assets.list("web/") {
            let Some(stem) = path.strip_suffix(".hbs") else { continue };
            if let Some(partial) = stem.strip_prefix("web/partials/") {
                html.register_partial(partial, source(&path)?).map_err(|e| bad(&path, e))?;
            } else if let Some(page) = stem.strip_prefix("web/") {
                html.register_template_string(page, source(&path)?).map_err(|e| bad(&path, e))?;
            }
        }
        for path in assets.list("email/") {
            let Some(stem) = path.strip_suffix(".hbs") else { continue };
            // Shared pieces of every email: `email/partials/x.html.hbs` is `{{> email-x}}` in HTML parts,
            // `email/partials/x.txt.hbs` the same in subjects and text parts.
            if let Some(partial) = stem.strip_prefix("email/partials/") {
                if let Some(name) = partial.strip_suffix(".html") {
                    html.register_partial(&format!("email-{name}"), source(&path)?).map_err(|e| bad(&path, e))?;
                } else if let Some(name) = partial.strip_suffix(".txt") {
                    text.register_partial(&format!("email-{name}"), source(&path)?).map_err(|e| bad(&path, e))?;
                }
                continue;
            }
            if stem.ends_with("/body.html") {
                html.register_template_string(stem, source(&path)?).map_err(|e| bad(&path, e))?;
            } else {
                text.register_template_string(stem, source(&path)?).map_err(|e| bad(&path, e))?;
            }
        }
        Ok(Self { html: Arc::new(html), text: Arc::new(text), locales })
    }

    /// The locales behind the `t` helper.
    pub fn locales(&self) -> &Locales {
        &self.locales
    }

    /// Whether a page template of that name exists.
    pub fn has_page(&self, name: &str) -> bool {
        self.html.has_template(name)
    }

    /// Renders the page `web/<name>.hbs`; `data` must carry `lang`. Takes the
    /// page's JSON by value: handlebars renders from it as it is, where a
    /// borrowed value would be serialized into a copy first.
    pub fn page(&self, name: &str, data: serde_json::Value) -> Result<String> {
        let mut out = Vec::new();
        self.page_into(name, data, &mut out)?;
        String::from_utf8(out).map_err(|e| Error::Internal(anyhow::anyhow!("rendering page {name}: {e}")))
    }

    /// [`Renderer::page`] written into `out` (cleared first): a caller that
    /// keeps one buffer per thread renders every page without growing a new one.
    ///
    /// The page's own template renders its body from `data` as it is; the
    /// layout (`web/partials/layout.hbs`) then renders around it from the
    /// [`LAYOUT_KEYS`] of `data` and the body. Called as a handlebars partial
    /// (`{{#> layout}}`), the layout would be handed a copy of the page's
    /// whole data, and the body rendered into a string of its own first.
    pub fn page_into(&self, name: &str, data: serde_json::Value, out: &mut Vec<u8>) -> Result<()> {
        let fail = |e: RenderError| Error::Internal(anyhow::anyhow!("rendering page {name}: {e}"));
        let mut frame = layout_data(&data);
        out.clear();
        self.html.render_with_context_to_write(name, &Context::from(data), &mut *out).map_err(fail)?;
        let body = String::from_utf8(out.clone())
            .map_err(|e| Error::Internal(anyhow::anyhow!("rendering page {name}: {e}")))?;
        frame.insert("body".to_owned(), serde_json::Value::String(body));
        out.clear();
        self.html
            .render_with_context_to_write("layout", &Context::from(serde_json::Value::Object(frame)), out)
            .map_err(fail)
    }

    /// The page template `name` alone, without the layout, written into `out`
    /// (cleared first); `data` must carry what the layout's keys give a page
    /// too (`lang` for the `t` helper).
    pub fn body_into(&self, name: &str, data: serde_json::Value, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        self.html
            .render_with_context_to_write(name, &Context::from(data), out)
            .map_err(|e| Error::Internal(anyhow::anyhow!("rendering page {name}: {e}")))
    }

    /// The layout rendered from `frame` (the [`LAYOUT_KEYS`] a page gives it),
    /// as the text before its body and the text after it: a page kept without
    /// its frame is answered again as `before + body + after`.
    pub fn layout_parts(&self, frame: &serde_json::Value) -> Result<(String, String)> {
        const MARK: &str = "\u{0}matterline-page-body\u{0}";
        let fail = |why: String| Error::Internal(anyhow::anyhow!("rendering the layout in parts: {why}"));
        let mut data = layout_data(frame);
        data.insert("body".to_owned(), serde_json::Value::String(MARK.to_owned()));
        let page = self
            .html
            .render_with_context("layout", &Context::from(serde_json::Value::Object(data)))
            .map_err(|e| fail(e.to_string()))?;
        match page.split_once(MARK) {
            Some((before, after)) if !after.contains(MARK) => Ok((before.to_owned(), after.to_owned())),
            _ => Err(fail("the layout must show its body exactly once".to_owned())),
        }
    }

    /// Renders the email `email/<name>/`; `data` must carry `lang`.
    pub fn email(&self, name: &str, data: &impl Serialize) -> Result<RenderedEmail> {
        let fail = |part: &str, e: RenderError| Error::Internal(anyhow::anyhow!("rendering email {name}/{part}: {e}"));
        let subject = self.text.render(&format!("email/{name}/subject"), data).map_err(|e| fail("subject", e))?;
        Ok(RenderedEmail {
            // A subject is one line, whatever the template's trailing newline.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: wrap_text(
                &self.text.render(&format!("email/{name}/body.txt"), data).map_err(|e| fail("body.txt", e))?,
                TEXT_WIDTH,
            ),
            html: self.html.render(&format!("email/{name}/body.html"), data).map_err(|e| fail("body.html", e))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::breakable_addresses;

    #[test]
    fn long_text_lines_wrap_at_spaces_and_urls_stay_whole() {
        let long = format!("- {}", "word ".repeat(30));
        let wrapped = super::wrap_text(&format!("Hi Sam,\n\n{long}\nhttps://example.test/{}", "x".repeat(90)), 40);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert_eq!(lines[0], "Hi Sam,");
        assert!(lines[2].starts_with("- word") && lines[3].starts_with("  word"), "{wrapped}");
        assert!(lines.iter().filter(|l| !l.starts_with("https")).all(|l| l.chars().count() <= 40), "{wrapped}");
        assert_eq!(lines.last().map(|l| l.len()), Some(111));
    }

    #[test]
    fn addresses_wrap_only_after_the_at_sign_or_before_a_dot() {
        assert_eq!(
            breakable_addresses("Si maria.gonzalez@bufete.example pertenece a un cliente."),
            "Si maria<wbr>.gonzalez@<wbr>bufete<wbr>.example pertenece a un cliente."
        );
        assert_eq!(breakable_addresses("No address here. Two sentences."), "No address here. Two sentences.");
    }
}
