//! Reading server-rendered pages in tests without a browser.

/// The visible text of a page's <main>, tags stripped, whitespace collapsed
/// (a `<wbr>`, a wrap point inside a word, is no space).
pub fn main_text(html: &str) -> String {
    let main = html.split("<main").nth(1).and_then(|m| m.split("</main>").next()).unwrap_or(html);
    let main = main.replace("<wbr>", "");
    let mut text = String::new();
    let mut in_tag = false;
    for c in main.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    [("&#x3D;", "="), ("&quot;", "\""), ("&#x27;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")]
        .iter()
        .fold(text, |t, (entity, c)| t.replace(entity, c))
}
