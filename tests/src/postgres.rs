//! A private PostgreSQL server that a test may stop and start again, on its own
//! port and data folder, so restarting it disturbs no other test. It is made
//! with the machine's installed server binaries (`/usr/lib/postgresql/*/bin`,
//! or the folder named by `MATTERLINE_TEST_POSTGRES_BIN`); without them the
//! test fails and says what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// A private PostgreSQL server in a temporary folder, with trust auth for `postgres`.
pub struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// When the tests run as root, the server runs as the `postgres` account (it refuses root).
    run_as_postgres: bool,
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`: the newest installed version.
fn server_binaries() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("MATTERLINE_TEST_POSTGRES_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    let bin = e.path().join("bin");
                    bin.join("initdb").exists().then_some((version, bin))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        anyhow::anyhow!(
            "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin: install the server \
             (Debian: postgresql) or set MATTERLINE_TEST_POSTGRES_BIN to their folder"
        )
    })
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl PrivatePostgres {
    /// Creates a cluster in a new temporary folder and starts it on a free port.
    pub fn start() -> anyhow::Result<Self> {
        let bin = server_binaries()?;
        let dir = tempfile::Builder::new().prefix("matterline-pg-").tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let run_as_postgres = running_as_root();
        if run_as_postgres {
            let status = Command::new("chown").arg("postgres:").arg(dir.path()).status()?;
            anyhow::ensure!(status.success(), "could not give {} to the postgres account", dir.path().display());
        }
        let pg = Self { bin, dir, port, run_as_postgres };
        let data = pg.data_dir();
        pg.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .context("initdb")?;
        pg.start_again()?;
        Ok(pg)
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Runs one of the server's programs (as `postgres` when the tests run as root).
    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).stdin(Stdio::null()).output().with_context(|| format!("{}", path.display()))?;
        anyhow::ensure!(
            output.status.success(),
            "{program} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.log_tail()
        );
        Ok(())
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_file()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Starts the server (again) on the same port and data, and waits until it accepts connections.
    pub fn start_again(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let (data, log) = (self.data_dir(), self.log_file().display().to_string());
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start"])?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "PostgreSQL did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Stops the server the way an operator restarting it does (`pg_ctl stop -m fast`):
    /// open connections are terminated, transactions in flight roll back.
    pub fn stop_fast(&self) -> anyhow::Result<()> {
        let data = self.data_dir();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`, to create test databases on it.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The data folder's parent (holds the log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}
