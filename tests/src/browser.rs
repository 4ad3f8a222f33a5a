//! Headless Chromium over WebDriver (chromedriver), for tests that look at pages
//! the way a client does: on a phone-sized screen and on a desktop.

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::services;

/// A screen to render pages at.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// CSS pixels wide.
    pub width: u32,
    /// CSS pixels high.
    pub height: u32,
    /// A touch screen with a mobile browser's behaviour (meta viewport honoured).
    pub mobile: bool,
}

/// A phone (390×844, the size of a common current phone).
pub const PHONE: Screen = Screen { width: 390, height: 844, mobile: true };
/// A laptop (1280×800).
pub const DESKTOP: Screen = Screen { width: 1280, height: 800, mobile: false };

/// Starts a headless Chromium session whose viewport is exactly `screen`.
pub async fn open(screen: Screen) -> anyhow::Result<Client> {
    let webdriver = services::webdriver()?;
    let chromium = std::env::var("MATTERLINE_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                format!("--window-size={},{}", screen.width, screen.height),
            ],
            // The viewport (and so every screenshot) is exactly the screen's size; the window
            // size alone leaves the browser's own frame out of the viewport's height.
            "mobileEmulation": { "deviceMetrics": {
                "width": screen.width, "height": screen.height, "pixelRatio": 1,
                "mobile": screen.mobile, "touch": screen.mobile,
            } },
        }
    });
    let capabilities = match capabilities {
        serde_json::Value::Object(map) => map,
        _ => anyhow::bail!("capabilities must be an object"),
    };
    Ok(ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).connect(&webdriver).await?)
}

/// Where screenshots go: `target/screenshots/` of the workspace.
pub fn screenshot_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

/// Saves a screenshot of the viewport as `target/screenshots/<name>.png`; returns its (width, height).
pub async fn screenshot(browser: &Client, name: &str) -> anyhow::Result<(u32, u32)> {
    let png = browser.screenshot().await?;
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.png")), &png)?;
    png_size(&png)
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(png: &[u8]) -> anyhow::Result<(u32, u32)> {
    anyhow::ensure!(png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    Ok((width, height))
}

/// The visible text of the page's `<main>`.
pub async fn main_text(browser: &Client) -> anyhow::Result<String> {
    Ok(browser.find(fantoccini::Locator::Css("main")).await?.text().await?)
}

/// Waits (up to 10 s) until the page's `<main>` contains `text`, then returns all of it.
/// Clicking a link or a form button navigates; this is how a test knows the new page is there.
pub async fn wait_for_text(browser: &Client, text: &str) -> anyhow::Result<String> {
    anyhow::ensure!(!text.contains('\''), "the text is put in an XPath string literal");
    let xpath = format!("//main[contains(normalize-space(.), '{text}')]");
    browser
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(fantoccini::Locator::XPath(&xpath))
        .await
        .map_err(|e| anyhow::anyhow!("the page never showed {text:?}: {e}"))?;
    main_text(browser).await
}

/// The serious and critical accessibility violations axe-core finds on the
/// current page, as "rule: help (n nodes)" lines. WCAG 2.2's 24 px tap target
/// rule (`target-size`, off in axe by default) is on.
pub async fn axe_violations(browser: &Client) -> anyhow::Result<Vec<String>> {
    let script = services::axe_script()?;
    browser.execute(&format!("{script}\nreturn true;"), vec![]).await?;
    let result = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];\n\
             axe.run(document, { resultTypes: ['violations'], rules: { 'target-size': { enabled: true } } })\n\
               .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\n\
                 .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes: ' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))\n\
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await?;
    Ok(result.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect())
}

/// Every visible form control in `<main>` smaller than 24 × 24 CSS pixels, and
/// every label that is not above its own control (a label beside a value reads
/// as that value's), as readable lines.
pub async fn form_layout_faults(browser: &Client) -> anyhow::Result<Vec<String>> {
    let found = browser
        .execute(
            "const faults = [];\n\
             const seen = e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden';\n\
             for (const e of document.querySelectorAll('main input:not([type=hidden]), main select, main textarea, main button')) {\n\
               if (!seen(e)) continue;\n\
               const r = e.getBoundingClientRect();\n\
               if (r.height < 24 || r.width < 24) faults.push(`${e.tagName.toLowerCase()}#${e.id || e.name} is ${Math.round(r.width)}x${Math.round(r.height)} px`);\n\
             }\n\
             for (const label of document.querySelectorAll('main label[for]')) {\n\
               const control = document.getElementById(label.htmlFor);\n\
               if (!control || !seen(label) || !seen(control) || control.type === 'checkbox' || control.type === 'radio') continue;\n\
               const l = label.getBoundingClientRect(), c = control.getBoundingClientRect();\n\
               if (l.bottom > c.top + 1 || Math.abs(l.left - c.left) > 4) faults.push(`label for #${control.id} is not above it`);\n\
             }\n\
             return faults;",
            vec![],
        )
        .await?;
    Ok(found.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect())
}
