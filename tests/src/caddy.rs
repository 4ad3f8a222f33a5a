//! The portal behind a real reverse proxy: Caddy (Debian's `caddy`, found
//! through `MATTERLINE_TEST_CADDY`, which `scripts/test` exports) terminating
//! TLS with certificates from its own internal CA, and HTTPS clients that trust
//! that CA and connect from the loopback address they are given.
//!
//! The site block is the one the README shows under "Behind a reverse proxy",
//! read from the README itself, so the documented configuration is the tested
//! one; only the host names, ports and `tls internal` are the test's.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tempfile::TempDir;

/// The README's section whose first ```caddy block is the site the test serves.
const README_SECTION: &str = "## Behind a reverse proxy";
/// The public host and the portal's address as the README's block writes them.
const README_HOST: &str = "portal.example.com";
const README_UPSTREAM: &str = "127.0.0.1:8080";

/// The README's Caddy site block, as documented.
pub fn documented_site() -> anyhow::Result<String> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&readme).with_context(|| format!("reading {}", readme.display()))?;
    let section = text.split_once(README_SECTION).map(|(_, rest)| rest).context("the README has no proxy section")?;
    let block = section.split_once("```caddy\n").map(|(_, rest)| rest).context("no ```caddy block in it")?;
    let block = block.split_once("```").map(|(block, _)| block).context("the ```caddy block is not closed")?;
    anyhow::ensure!(
        block.contains(README_HOST) && block.contains(README_UPSTREAM),
        "the README's Caddy block should name {README_HOST} and {README_UPSTREAM}: {block}"
    );
    Ok(block.to_owned())
}

/// A running Caddy in front of one portal; killed when dropped.
pub struct Caddy {
    child: Child,
    /// The HTTPS port on 127.0.0.1 (the site is `https://localhost:PORT`).
    pub port: u16,
    /// Caddy's internal root CA certificate (PEM).
    pub root_ca: Vec<u8>,
    /// What Caddy wrote to stderr and its own files.
    pub dir: TempDir,
}

impl Caddy {
    /// Starts Caddy on a free port of 127.0.0.1, proxying `https://localhost:PORT`
    /// to the portal at `upstream` (`127.0.0.1:PORT`) with the README's site block,
    /// and waits until it answers over TLS.
    pub async fn start(upstream: &str, port: u16) -> anyhow::Result<Self> {
        let binary = crate::services::required("MATTERLINE_TEST_CADDY", "Caddy (Debian package caddy)")?;
        let dir = tempfile::tempdir()?;
        let http_port = free_port()?;
        let site = documented_site()?
            .replace(README_HOST, &format!("https://localhost:{port}"))
            .replace(README_UPSTREAM, upstream);
        // The test's own lines: its ports, its CA, no admin endpoint, nothing
        // installed into the machine's trust store.
        let site = site.replacen('{', "{\n\tbind 127.0.0.1\n\ttls internal\n", 1);
        let caddyfile = format!(
            "{{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n\thttp_port {http_port}\n\thttps_port {port}\n}}\n\n{site}"
        );
        let config = dir.path().join("Caddyfile");
        std::fs::write(&config, &caddyfile)?;
        let log = std::fs::File::create(dir.path().join("caddy.log"))?;
        let child = Command::new(&binary)
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&config)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        let mut caddy = Caddy { child, port, root_ca: Vec::new(), dir };
        caddy.wait_until_serving().await?;
        Ok(caddy)
    }

    /// `https://localhost:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// What Caddy has logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("caddy.log")).unwrap_or_default()
    }

    fn root_ca_path(&self) -> PathBuf {
        self.dir.path().join("data/caddy/pki/authorities/local/root.crt")
    }

    async fn wait_until_serving(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut last = String::from("no root certificate yet");
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("caddy exited ({status}):\n{}", self.log());
            }
            if let Ok(pem) = std::fs::read(self.root_ca_path()) {
                self.root_ca = pem;
                let client = self.client("127.0.0.1".parse()?, false)?;
                match client.get(self.url("/healthz")).send().await {
                    Ok(answer) if answer.status().is_success() => return Ok(()),
                    Ok(answer) => last = format!("/healthz answered {}", answer.status()),
                    Err(e) => last = format!("{e:?}"),
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("caddy did not serve https://localhost:{} within 30 s ({last}):\n{}", self.port, self.log())
    }

    /// An HTTPS client that trusts only Caddy's internal CA, connects to it from
    /// `local` (any 127.x.y.z: another machine, as Caddy sees it), names the
    /// site's origin in `Origin` as a browser does on its forms, never follows
    /// redirects, and keeps cookies when `cookies` is set.
    pub fn client(&self, local: IpAddr, cookies: bool) -> anyhow::Result<reqwest::Client> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.root_ca) {
            roots.add(cert?)?;
        }
        // The test binary links two rustls providers: name one.
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, reqwest::header::HeaderValue::from_str(&self.url(""))?);
        Ok(reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], self.port)))
            .local_address(local)
            .cookie_store(cookies)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()?)
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1 (for the portal's public URL, known before Caddy starts).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
