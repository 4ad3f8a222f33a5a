//! Child processes and what /proc says about them: resident memory (VmRSS,
//! VmHWM), CPU time, readiness over HTTP.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running portal or notifier, stopped (SIGTERM, then waited for) when dropped.
pub struct Service {
    /// The process.
    pub child: Child,
    /// Its name for messages.
    pub name: &'static str,
    /// Where its output goes.
    pub log: std::path::PathBuf,
}

impl Service {
    /// Starts `program` with `env` added, output to `log`.
    pub fn start(
        name: &'static str,
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        log: &Path,
    ) -> anyhow::Result<Self> {
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let child = scrubbed(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", program.display()))?;
        Ok(Self { child, name, log: log.to_owned() })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `GET http://addr{path}` answers 200, at most `limit`; returns the time since `since`.
    pub fn wait_ready(&mut self, addr: &str, path: &str, since: Instant, limit: Duration) -> anyhow::Result<Duration> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                anyhow::bail!("{} exited during start-up ({status}):\n{}", self.name, tail.join("\n"));
            }
            if http_status(addr, path).is_ok_and(|s| s == 200) {
                return Ok(since.elapsed());
            }
            anyhow::ensure!(since.elapsed() < limit, "{} was not ready within {limit:?}", self.name);
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command for `program` without the MATTERLINE_* variables of this
/// environment (the bench's own settings are unknown keys to the portal);
/// callers add the ones they mean.
pub fn scrubbed(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars() {
        if key.starts_with("MATTERLINE_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The status code of a plain `GET` (HTTP/1.0, no keep-alive).
pub fn http_status(addr: &str, path: &str) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut head = [0u8; 16];
    stream.read_exact(&mut head[..12])?;
    let line = String::from_utf8_lossy(&head[..12]);
    Ok(line.get(9..12).unwrap_or_default().parse()?)
}

/// A field of /proc/PID/status in kB (`VmRSS`, `VmHWM`).
pub fn status_kb(pid: u32, field: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/{pid}/status"))
}

/// Resets the process's peak resident size (VmHWM) to its current size, so a
/// later VmHWM is the peak of what follows. Linux: `echo 5 > /proc/PID/clear_refs`.
pub fn reset_peak(pid: u32) -> anyhow::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")?;
    Ok(())
}

/// User + system CPU seconds of a process so far (/proc/PID/stat, fields 14 and 15).
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    Ok(ticks / clock_ticks())
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// What a process's resident memory is made of: private (`RssAnon`), mapped
/// files, above all its own executable (`RssFile`), and shared memory, in kB.
pub fn rss_parts(pid: u32) -> String {
    let kb = |field| status_kb(pid, field).map_or_else(|_| "?".to_owned(), |v| v.to_string());
    format!("anon {} kB, file {} kB, shmem {} kB", kb("RssAnon"), kb("RssFile"), kb("RssShmem"))
}

/// Samples a process's VmRSS every 10 ms on a thread until stopped; returns the largest.
pub struct RssSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssSampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_kb(pid, "VmRSS").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        });
        Self { stop, thread }
    }

    /// Stops; the peak VmRSS seen, in kB.
    pub fn finish(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

/// A free loopback port.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Runs a command to the end; its stdout, or an error with its stderr.
pub fn run(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program).args(args).output().map_err(|e| anyhow::anyhow!("cannot run {program}: {e}"))?;
    anyhow::ensure!(
        out.status.success(),
        "{program} {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// CPU seconds so far of every process, summed by command name (`postgres`, `portal`, `oha`, …).
pub fn cpu_by_command() -> std::collections::HashMap<String, f64> {
    let mut by = std::collections::HashMap::new();
    let ticks = clock_ticks();
    let Ok(dir) = std::fs::read_dir("/proc") else { return by };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(format!("/proc/{name}/stat")) else { continue };
        let (Some(open), Some(close)) = (text.find('('), text.rfind(')')) else { continue };
        let command = text[open + 1..close].to_owned();
        let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
        let cpu = fields.get(11).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        *by.entry(command).or_insert(0.0) += cpu / ticks;
    }
    by
}

/// Where the CPU went between two [`cpu_by_command`] readings: the busiest commands, seconds each.
pub fn cpu_split(
    before: &std::collections::HashMap<String, f64>,
    after: &std::collections::HashMap<String, f64>,
) -> Vec<(String, f64)> {
    let mut split: Vec<(String, f64)> = after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v > 0.05)
        .collect();
    split.sort_by(|a, b| b.1.total_cmp(&a.1));
    split.truncate(5);
    split
}
