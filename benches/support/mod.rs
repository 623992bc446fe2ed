//! What benches/load.rs and benches/relay.rs share: the command line's plumbing, the open-file
//! limit re-exec, the /proc readers, the server under test (its data dir and CLI, its process
//! started under a raised limit and stopped on drop), the HTTP client and sessions, Server-Sent
//! Events parsing and the report helpers.
//!
//! Included by each bench with `#[path = "support/mod.rs"] mod support;` (Cargo does not take a
//! file in a subdirectory of benches/ for a bench target unless it is `main.rs`).

// Each bench uses only part of this module.
#![allow(dead_code)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

const REEXEC_ENV: &str = "KEEPSTAR_BENCH_REEXEC";
/// Deadline for one setup request (a session).
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// The command line

/// The parsed arguments, or their error on stderr and exit code 2.
pub fn args_or_exit<T>(parsed: Result<T>) -> T {
    parsed.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    })
}

/// Runs the bench on a multi-threaded runtime; its error on stderr and exit code 1.
pub fn run_or_exit(bench: impl Future<Output = Result<()>>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(bench) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// `1,50,200` as numbers.
pub fn counts(value: &str) -> Result<Vec<usize>> {
    value
        .split(',')
        .map(|v| v.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("{value:?}: numbers separated by commas, e.g. 1,100,1000"))
}

// ---------------------------------------------------------------------------------------------
// File descriptors, /proc

/// The soft and hard `Max open files` of a process.
pub fn fd_limits(pid: &str) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let mut nums = line
        .split_whitespace()
        .filter_map(|w| w.parse::<u64>().ok());
    Some((nums.next()?, nums.next().unwrap_or(u64::MAX)))
}

/// The shell prefix that raises the soft open-file limit as far as it may go (65536, or the
/// hard limit when that is lower and cannot be raised).
pub const ULIMIT: &str = "ulimit -n 65536 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"";

/// Re-executes this binary under `sh -c 'ulimit -n …; exec …'` when the soft limit is too low
/// for `needed` descriptors (no unsafe `setrlimit` needed).
pub fn raise_fd_limit(needed: usize) {
    let Some((soft, _)) = fd_limits("self") else {
        return;
    };
    if soft >= needed as u64 {
        return;
    }
    if std::env::var_os(REEXEC_ENV).is_some() {
        eprintln!(
            "warning: the open-file limit is {soft} but this run needs about {needed}; \
             run `ulimit -n 65536` first (streams beyond the limit will fail)"
        );
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    use std::os::unix::process::CommandExt as _;
    let err = Command::new("sh")
        .arg("-c")
        .arg(format!("{ULIMIT}; exec \"$0\" \"$@\""))
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(REEXEC_ENV, "1")
        .exec();
    eprintln!("warning: could not re-exec under a raised open-file limit: {err}");
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Mem {
    pub rss_kb: u64,
    pub hwm_kb: u64,
    pub threads: u64,
}

pub fn mem_of(pid: u32) -> Mem {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Mem {
        rss_kb: field("VmRSS:"),
        hwm_kb: field("VmHWM:"),
        threads: field("Threads:"),
    }
}

/// utime + stime of a process, in clock ticks.
pub fn cpu_ticks(pid: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 overall, so utime (14) and stime (15) are at 11 and 12.
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// Busy and total ticks of the whole machine (all cores), from /proc/stat.
pub fn machine_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().next() else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

pub fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// CPU ticks of the server, an upstream process (if any; 0 without), this bench and the whole
/// machine at a moment.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    at: Instant,
    server: u64,
    upstream: u64,
    bench: u64,
    busy: u64,
}

impl CpuMark {
    pub fn take(server: u32, upstream: Option<u32>) -> CpuMark {
        CpuMark {
            at: Instant::now(),
            server: cpu_ticks(&server.to_string()),
            upstream: upstream.map_or(0, |pid| cpu_ticks(&pid.to_string())),
            bench: cpu_ticks("self"),
            busy: machine_ticks().0,
        }
    }
}

/// CPU summed over one or more windows.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuSum {
    secs: f64,
    server: u64,
    upstream: u64,
    bench: u64,
    busy: u64,
}

impl CpuSum {
    pub fn add(&mut self, from: &CpuMark, to: &CpuMark) {
        self.secs += to.at.duration_since(from.at).as_secs_f64();
        self.server += to.server.saturating_sub(from.server);
        self.upstream += to.upstream.saturating_sub(from.upstream);
        self.bench += to.bench.saturating_sub(from.bench);
        self.busy += to.busy.saturating_sub(from.busy);
    }

    /// % of one core: server, upstream, bench, everything else.
    pub fn shares(&self, hz: f64) -> [f64; 4] {
        let pct = |t: u64| t as f64 / hz / self.secs.max(1e-9) * 100.0;
        let (s, u, b) = (pct(self.server), pct(self.upstream), pct(self.bench));
        [s, u, b, (pct(self.busy) - s - u - b).max(0.0)]
    }
}

// ---------------------------------------------------------------------------------------------
// The server under test

pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Fails unless the release binary is there.
pub fn check_server_binary(bin: &Path) -> Result<()> {
    if !bin.exists() {
        bail!(
            "{} does not exist: run `cargo build --release` first",
            bin.display()
        );
    }
    Ok(())
}

/// Per-minute limits no benchmark from one address reaches (the defaults would throttle it).
/// [`DataDir::init`] adds the cap on connections per address for a binary that has one.
pub const UNTHROTTLED: &str = "\n[limits]\nsessions_per_minute_per_ip = 100000000\n\
    messages_per_minute_per_ip = 100000000\nmessages_per_minute_per_visitor = 100000000\n\
    messages_per_minute_per_tenant = 100000000\n";

/// The `[limits]` key of the cap on connections per client address, which every stream of a
/// benchmark from one address counts against.
const CONNECTION_CAP: &str = "max_connections_per_ip";

/// A fresh temp dir where `keepstar init` ran, for a server on a free port.
pub struct DataDir {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub port: u16,
    pub url: String,
    bin: PathBuf,
    /// The shell command run before the server to set its open-file limits.
    pub ulimit: String,
}

impl DataDir {
    /// Runs `keepstar init` in a new temp dir and appends `extra_config` to its config; when
    /// that has a `[limits]` table and the binary caps connections per address (its config
    /// names the key), the cap is raised out of reach too.
    pub fn init(bin: &Path, extra_config: &str) -> Result<DataDir> {
        check_server_binary(bin)?;
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let data = DataDir {
            config: dir.path().join("keepstar.toml"),
            url: format!("http://127.0.0.1:{port}"),
            port,
            bin: bin.to_owned(),
            ulimit: ULIMIT.to_owned(),
            dir,
        };
        let path = data.dir.path().join("data");
        data.cli(
            &[
                "init",
                "--public-url",
                &data.url,
                "--dir",
                &path.to_string_lossy(),
            ],
            &[],
        )?;
        let mut text = std::fs::read_to_string(&data.config)?;
        let uncapped = format!("\n[limits]\n{CONNECTION_CAP} = 100000000\n");
        if text.contains(CONNECTION_CAP) && !extra_config.contains(&format!("{CONNECTION_CAP} =")) {
            text.push_str(&extra_config.replacen("\n[limits]\n", &uncapped, 1));
        } else {
            text.push_str(extra_config);
        }
        std::fs::write(&data.config, text)?;
        Ok(data)
    }

    /// Runs `keepstar --config CONFIG ARGS` in the dir with `envs`; its trimmed stdout.
    pub fn cli(&self, args: &[&str], envs: &[(&str, &str)]) -> Result<String> {
        let out = Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .envs(envs.iter().copied())
            .current_dir(self.dir.path())
            .output()
            .with_context(|| format!("running keepstar {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "keepstar {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// `keepstar serve SERVE_ARGS` on this dir (see [`ServerProcess::serve`]), and its URL.
    pub async fn serve(
        self,
        serve_args: &[&str],
        envs: &[(&str, &str)],
    ) -> Result<(ServerProcess, String)> {
        let (bin, config, port, url) = (self.bin, self.config, self.port, self.url);
        let process = ServerProcess::serve(
            &bin,
            self.dir,
            &config,
            port,
            &self.ulimit,
            serve_args,
            envs,
        );
        Ok((process.await?, url))
    }
}

/// A running `keepstar serve` with its temp dir; stopped (and the dir removed) on drop.
pub struct ServerProcess {
    child: Child,
    pub pid: u32,
    log: PathBuf,
    // Last, so the server is stopped before its dir goes.
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Runs `bin --config CONFIG serve SERVE_ARGS --listen 127.0.0.1:PORT --public-url
    /// http://127.0.0.1:PORT` after `ulimit` (a shell command setting its open-file limits, e.g.
    /// [`ULIMIT`]), in `dir`, with `envs` and its output in `dir/server.log`, and waits until
    /// `/readyz` answers.
    pub async fn serve(
        bin: &Path,
        dir: tempfile::TempDir,
        config: &Path,
        port: u16,
        ulimit: &str,
        serve_args: &[&str],
        envs: &[(&str, &str)],
    ) -> Result<ServerProcess> {
        let url = &format!("http://127.0.0.1:{port}");
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log)?;
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("{ulimit}; exec \"$0\" \"$@\""))
            .arg(bin)
            .arg("--config")
            .arg(config)
            .arg("serve")
            .args(serve_args)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(["--public-url", url])
            .envs(envs.iter().copied())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .context("starting keepstar serve")?;
        let pid = child.id();
        let mut server = ServerProcess {
            child,
            pid,
            log,
            _dir: dir,
        };
        let http = client();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("the server exited ({status}):\n{}", server.log_tail());
            }
            let ready = http
                .get(format!("{url}/readyz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("the server was not ready in 60 s:\n{}", server.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    pub fn mem(&self) -> Mem {
        mem_of(self.pid)
    }

    pub fn fd_soft_limit(&self) -> u64 {
        fd_limits(&self.pid.to_string()).map_or(0, |l| l.0)
    }

    /// The last 20 lines of the server's log.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for ServerProcess {
    /// SIGTERM, as an operator would stop it; a kill if it does not exit in 20 s. Also on an
    /// early return, so no server outlives the bench.
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("warning: the server did not stop in 20 s after SIGTERM; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP, Server-Sent Events

/// HTTP/1.1 keep-alive, TCP_NODELAY, no proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(usize::MAX)
        // Before the server's 30 s `request_head_timeout_secs` closes an idle connection.
        .pool_idle_timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// `POST /api/v1/sessions` for `tenant` with its public `key`, from `origin` on page `page`;
/// the session's token.
pub async fn open_session(
    http: &reqwest::Client,
    url: &str,
    origin: &str,
    tenant: &str,
    key: &str,
    page: &str,
) -> Result<String> {
    let session = async {
        let res = http
            .post(format!("{url}/api/v1/sessions"))
            .header("origin", origin)
            .json(&json!({ "tenant": tenant, "key": key, "page": { "url": page } }))
            .send()
            .await?;
        let status = res.status();
        if status != 200 {
            bail!(
                "POST /api/v1/sessions: {status} {}",
                res.text().await.unwrap_or_default()
            );
        }
        let body: Value = res.json().await?;
        Ok(body["token"]
            .as_str()
            .ok_or_else(|| anyhow!("no token in {body}"))?
            .to_owned())
    };
    tokio::time::timeout(SETUP_TIMEOUT, session)
        .await
        .map_err(|_| anyhow!("POST /api/v1/sessions: no answer within {SETUP_TIMEOUT:?}"))?
}

/// Takes the next complete event out of `buf`: its name (default `message`) and data;
/// keep-alive comments are skipped.
pub fn next_event(buf: &mut Vec<u8>) -> Option<(String, String)> {
    loop {
        let end = buf.windows(2).position(|w| w == b"\n\n")?;
        let block: Vec<u8> = buf.drain(..end + 2).collect();
        let text = String::from_utf8_lossy(&block);
        let mut name = None;
        let mut data = String::new();
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if name.is_none() && data.is_empty() {
            continue;
        }
        return Some((name.unwrap_or_else(|| "message".into()), data));
    }
}

/// The kind of a request error and its deepest cause.
pub fn short_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() {
        "body"
    } else if e.is_request() {
        "request"
    } else {
        "other"
    };
    let mut source = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(s) = source {
        deepest = Some(s.to_string());
        source = s.source();
    }
    match deepest {
        Some(d) => format!("{kind} ({d})"),
        None => kind.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring, reporting

#[derive(Debug, Default, Clone, Copy)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// Milliseconds at the 50th, 90th and 99th percentile (nearest rank) and the maximum.
pub fn percentiles(mut us: Vec<u32>) -> Percentiles {
    if us.is_empty() {
        return Percentiles::default();
    }
    us.sort_unstable();
    let at = |p: f64| {
        let rank = ((p / 100.0) * us.len() as f64).ceil() as usize;
        f64::from(us[rank.clamp(1, us.len()) - 1]) / 1000.0
    };
    Percentiles {
        p50: at(50.0),
        p90: at(90.0),
        p99: at(99.0),
        max: f64::from(*us.last().unwrap_or(&0)) / 1000.0,
    }
}

pub fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The trimmed output of a command run in the crate's dir, or `unknown`.
pub fn stamp(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// Cores and CPU model.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} cores ({model})")
}
