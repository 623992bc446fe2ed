//! Load benchmark: the real release binary in its own process, driven over HTTP.
//!
//! ```sh
//! cargo build --release
//! cargo bench --bench load -- [--visitors 200] [--seconds 20] [--idle-streams 10000]
//! ```
//!
//! Phase 1 (turns): N concurrent visitors each open a session and then post messages with
//! `Accept: text/event-stream`, reading each reply to its `done` event, one turn after another,
//! against the builtin responder of the demo tenant. Reports turns/s, the time from sending to
//! the first `delta` frame and to `done`, errors, the server's peak and current RSS, and the CPU
//! the server, this client and everything else on the machine used during the measured window.
//!
//! Phase 2 (idle streams): N visitors each open a session, post one message (202), and open
//! `GET /api/v1/events`, all held open; reports the server's RSS before and after.
//!
//! With `--stalled-bodies N` and `--idle-connections M`, phase 1 runs while N requests whose
//! bodies stop short and M connections that send nothing are held against the server (from
//! another address, each opened again when the server closes it), and a new connection asks
//! `GET /healthz` every 20 ms.
//!
//! Every run (each visitor count, each repeat, the idle phase) gets a fresh server in a fresh
//! temp dir, so one run's data and heap do not skew the next. See docs/BENCHMARKS.md.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use support::{
    CpuMark, CpuSum, DataDir, Mem, Percentiles, SETUP_TIMEOUT, ServerProcess, UNTHROTTLED,
    args_or_exit, client, clock_ticks_per_sec, counts, fd_limits, machine, mb, median, next_event,
    percentiles, raise_fd_limit, run_or_exit, short_error, stamp,
};

const QUERIES: &[&str] = &[
    "tents under $300",
    "grinders between 100 and 300",
    "headlamps",
    "what is your return policy?",
    "sleeping bags",
    "kettles under 50",
    "do you ship internationally?",
    "espresso machines",
    "a warm sleeping bag for winter",
    "backpacks",
    "how long does delivery take?",
    "camping stoves under 100",
];

/// Per-turn deadline: a turn that takes longer counts as an error.
const TURN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clients {
    /// One reqwest client (one connection pool) shared by all visitors.
    Shared,
    /// One reqwest client per visitor, like separate browsers.
    PerVisitor,
}

#[derive(Debug, Clone)]
struct Args {
    visitors: Vec<usize>,
    seconds: u64,
    warmup: u64,
    runs: usize,
    idle_streams: usize,
    open_concurrency: usize,
    clients: Clients,
    /// Total offered turns/s, spread over the visitors; `None`: each visitor sends its next
    /// message as soon as the reply is done.
    rate: Option<f64>,
    /// Requests whose bodies stop short, held during the turns.
    stalled_bodies: usize,
    /// Connections that send nothing, held during the turns.
    idle_connections: usize,
    /// Lines added to the server's `[limits]` table.
    limits: Vec<String>,
    /// The server's soft and hard open-file limits; default: as high as they go.
    server_nofile: Option<(u64, u64)>,
    server: PathBuf,
}

fn usage() -> &'static str {
    "usage: cargo bench --bench load -- [--visitors N[,N…]] [--seconds S] [--warmup S] [--runs K]\n\
     \x20      [--idle-streams N] [--open-concurrency C] [--clients shared|per-visitor] [--rate TURNS_PER_S]\n\
     \x20      [--stalled-bodies N] [--idle-connections N] [--limit KEY=VALUE]… [--server-nofile SOFT[:HARD]]\n\
     \x20      [--server PATH]\n\
     defaults: --visitors 200 --seconds 20 --warmup 2 --runs 1 --idle-streams 10000\n\
     \x20         --open-concurrency 200 --clients shared --server target/release/keepstar\n\
     --visitors 0 skips the turns phase; --idle-streams 0 skips the idle-stream phase.\n\
     --rate R paces the visitors to R turns/s in total (latency then counts from each turn's\n\
     scheduled start); without it every visitor sends its next message as soon as a reply is done.\n\
     --stalled-bodies/--idle-connections hold that many connections during the turns phase;\n\
     --limit adds a line to the server's [limits]; --server-nofile sets its open-file limits."
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        visitors: vec![200],
        seconds: 20,
        warmup: 2,
        runs: 1,
        idle_streams: 10_000,
        open_concurrency: 200,
        clients: Clients::Shared,
        rate: None,
        stalled_bodies: 0,
        idle_connections: 0,
        limits: Vec::new(),
        server_nofile: None,
        server: PathBuf::from(env!("CARGO_BIN_EXE_keepstar")),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| anyhow!("{flag} needs a value\n{}", usage()))
        };
        match flag.as_str() {
            // `cargo bench` passes this to every bench binary.
            "--bench" => {}
            "--visitors" => {
                args.visitors = counts(&value()?).context("--visitors")?;
            }
            "--seconds" => args.seconds = value()?.parse().context("--seconds")?,
            "--warmup" => args.warmup = value()?.parse().context("--warmup")?,
            "--runs" => args.runs = value()?.parse::<usize>().context("--runs")?.max(1),
            "--idle-streams" => args.idle_streams = value()?.parse().context("--idle-streams")?,
            "--open-concurrency" => {
                args.open_concurrency = value()?
                    .parse::<usize>()
                    .context("--open-concurrency")?
                    .max(1);
            }
            "--clients" => {
                args.clients = match value()?.as_str() {
                    "shared" => Clients::Shared,
                    "per-visitor" => Clients::PerVisitor,
                    other => bail!("--clients is shared or per-visitor, not {other}"),
                }
            }
            "--rate" => {
                let r: f64 = value()?.parse().context("--rate")?;
                args.rate = (r > 0.0).then_some(r);
            }
            "--stalled-bodies" => {
                args.stalled_bodies = value()?.parse().context("--stalled-bodies")?;
            }
            "--idle-connections" => {
                args.idle_connections = value()?.parse().context("--idle-connections")?;
            }
            "--limit" => {
                let v = value()?;
                let (key, val) = v
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--limit KEY=VALUE, not {v}"))?;
                args.limits.push(format!("{} = {}", key.trim(), val.trim()));
            }
            "--server-nofile" => {
                let v = value()?;
                let (soft, hard) = v.split_once(':').unwrap_or((&v, &v));
                let n = |s: &str| s.parse::<u64>().context("--server-nofile SOFT[:HARD]");
                args.server_nofile = Some((n(soft)?, n(hard)?));
            }
            "--server" => args.server = PathBuf::from(value()?),
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{}", usage()),
        }
    }
    if args.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    Ok(args)
}

fn main() {
    let args = args_or_exit(parse_args());
    let max_visitors = args.visitors.iter().copied().max().unwrap_or(0);
    let held = args.stalled_bodies + args.idle_connections;
    raise_fd_limit(args.idle_streams.max(held) + max_visitors + 1024);
    run_or_exit(run(args));
}

// ---------------------------------------------------------------------------------------------
// CPU

/// CPU used over a window, as a percentage of one core.
#[derive(Debug, Default, Clone, Copy)]
struct CpuShare {
    server: f64,
    bench: f64,
    other: f64,
}

impl CpuShare {
    fn between(start: &CpuMark, end: &CpuMark, hz: f64) -> CpuShare {
        let mut sum = CpuSum::default();
        sum.add(start, end);
        let [server, _, bench, other] = sum.shares(hz);
        CpuShare {
            server,
            bench,
            other,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server under test

struct Server {
    process: ServerProcess,
    pid: u32,
    url: String,
    key: String,
}

impl Server {
    async fn start(args: &Args) -> Result<Server> {
        let mut config = UNTHROTTLED.to_owned();
        for line in &args.limits {
            let _ = writeln!(config, "{line}");
        }
        let mut data = DataDir::init(&args.server, &config)?;
        if let Some((soft, hard)) = args.server_nofile {
            data.ulimit = format!("ulimit -Sn {soft} && ulimit -Hn {hard}");
        }
        let (process, url) = data.serve(&["--demo"], &[]).await?;
        let http = client();
        let page = http
            .get(format!("{url}/demo"))
            .timeout(Duration::from_secs(10))
            .send()
            .await?
            .text()
            .await?;
        let key = page
            .split("data-key=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| anyhow!("no data-key in the /demo page"))?
            .to_owned();
        Ok(Server {
            pid: process.pid,
            process,
            url,
            key,
        })
    }

    fn mem(&self) -> Mem {
        self.process.mem()
    }

    fn fd_soft_limit(&self) -> u64 {
        self.process.fd_soft_limit()
    }

    /// SIGTERM, as an operator would stop it; a kill if it does not exit in 20 s (the
    /// process's drop, which also runs on an early return, so no server outlives the bench).
    fn stop(self) {
        drop(self);
    }

    fn origin(&self) -> &str {
        &self.url
    }
}

struct Session {
    token: String,
}

/// `fut`, or an error when it takes longer than [`SETUP_TIMEOUT`] (e.g. a server that cannot
/// accept more connections leaves them waiting in the listen backlog).
async fn within<T>(what: &str, fut: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(SETUP_TIMEOUT, fut)
        .await
        .map_err(|_| anyhow!("{what}: no answer within {SETUP_TIMEOUT:?}"))?
}

async fn open_session(http: &reqwest::Client, server: &Server) -> Result<Session> {
    let page = format!("{}/demo", server.url);
    let (url, origin, key) = (&server.url, server.origin(), &server.key);
    let token = support::open_session(http, url, origin, "demo", key, &page).await?;
    Ok(Session { token })
}

// ---------------------------------------------------------------------------------------------
// Phase 1: turns

#[derive(Debug, Default)]
struct VisitorResult {
    /// Microseconds from send to the first `delta`, for turns sent inside the window.
    first_delta: Vec<u32>,
    /// Microseconds from send to `done`, same turns.
    done: Vec<u32>,
    /// Turns whose `done` arrived inside the measured window.
    turns: u64,
    /// Turns completed without any `delta` (e.g. a formation-only reply).
    no_delta: u64,
    errors: BTreeMap<String, u64>,
}

enum TurnOutcome {
    Done {
        first_delta: Option<Duration>,
        done: Duration,
    },
    Failed(String),
}

async fn one_turn(
    http: &reqwest::Client,
    server: &Server,
    session: &Session,
    text: &str,
    client_id: &str,
) -> TurnOutcome {
    let sent = Instant::now();
    let res = match http
        .post(format!("{}/api/v1/messages", server.url))
        .header("origin", server.origin())
        .header("accept", "text/event-stream")
        .bearer_auth(&session.token)
        .json(&json!({ "text": text, "client_id": client_id }))
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return TurnOutcome::Failed(format!("request: {}", short_error(&e))),
    };
    let status = res.status();
    if status != 200 {
        let body = res.text().await.unwrap_or_default();
        let code = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(String::from))
            .unwrap_or_default();
        return TurnOutcome::Failed(format!("HTTP {} {code}", status.as_u16()));
    }
    let mut body = res.bytes_stream();
    let mut buf = Vec::with_capacity(4096);
    let mut first_delta = None;
    loop {
        let chunk = match body.next().await {
            Some(Ok(c)) => c,
            Some(Err(e)) => return TurnOutcome::Failed(format!("body: {}", short_error(&e))),
            None => return TurnOutcome::Failed("stream ended before done".into()),
        };
        let at = sent.elapsed();
        buf.extend_from_slice(&chunk);
        while let Some((name, data)) = next_event(&mut buf) {
            match name.as_str() {
                "delta" => {
                    first_delta.get_or_insert(at);
                }
                "done" => {
                    return TurnOutcome::Done {
                        first_delta,
                        done: at,
                    };
                }
                "error" => {
                    let code = serde_json::from_str::<Value>(&data)
                        .ok()
                        .and_then(|v| v["code"].as_str().map(String::from))
                        .unwrap_or_default();
                    return TurnOutcome::Failed(format!("error event {code}"));
                }
                _ => {}
            }
        }
    }
}

/// When the visitors' turns happen.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    start: Instant,
    measure_from: Instant,
    measure_to: Instant,
    /// With `--rate`: each visitor's time between turn starts.
    interval: Option<Duration>,
}

async fn visitor(
    index: usize,
    visitors: usize,
    http: reqwest::Client,
    server: Arc<Server>,
    session: Session,
    when: Schedule,
) -> VisitorResult {
    let mut out = VisitorResult::default();
    let mut n = 0usize;
    // Paced visitors start spread over one interval, so the offered load is even.
    let mut next = when.start
        + when.interval.map_or(Duration::ZERO, |iv| {
            iv.mul_f64(index as f64 / visitors as f64)
        });
    loop {
        // Latency counts from the scheduled start: a turn that has to wait because the
        // previous one ran late is charged that wait (no coordinated omission).
        let scheduled = match when.interval {
            Some(iv) => {
                tokio::time::sleep_until(next.into()).await;
                let s = next;
                next += iv;
                s
            }
            None => Instant::now(),
        };
        if scheduled >= when.measure_to {
            break;
        }
        let text = QUERIES[(index + n) % QUERIES.len()];
        let client_id = format!("v{index}-{n}");
        n += 1;
        let sent = scheduled;
        let late = Instant::now().duration_since(scheduled);
        let outcome = match tokio::time::timeout(
            TURN_TIMEOUT,
            one_turn(&http, &server, &session, text, &client_id),
        )
        .await
        {
            Ok(o) => o,
            Err(_) => TurnOutcome::Failed(format!("no done within {TURN_TIMEOUT:?}")),
        };
        let finished = Instant::now();
        let in_window = finished >= when.measure_from && finished <= when.measure_to;
        match outcome {
            TurnOutcome::Done { first_delta, done } => {
                if in_window {
                    out.turns += 1;
                }
                if sent >= when.measure_from && in_window {
                    match first_delta {
                        Some(d) => out.first_delta.push((late + d).as_micros() as u32),
                        None => out.no_delta += 1,
                    }
                    out.done.push((late + done).as_micros() as u32);
                }
            }
            TurnOutcome::Failed(why) => {
                if finished >= when.measure_from {
                    *out.errors.entry(why).or_default() += 1;
                }
                // Do not spin on a dead server.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
struct TurnsResult {
    visitors: usize,
    /// Offered turns/s with `--rate`; `None` is closed loop (as fast as the replies come).
    rate: Option<f64>,
    turns: u64,
    turns_per_sec: f64,
    first_delta: Percentiles,
    done: Percentiles,
    no_delta: u64,
    errors: BTreeMap<String, u64>,
    peak_rss_kb: u64,
    rss_kb: u64,
    max_threads: u64,
    cpu: CpuShare,
    held: Option<HeldReport>,
}

async fn turns_run(args: &Args, visitors: usize, hz: f64) -> Result<TurnsResult> {
    let server = Arc::new(Server::start(args).await?);
    let shared = client();
    let clients: Vec<reqwest::Client> = (0..visitors)
        .map(|_| match args.clients {
            Clients::Shared => shared.clone(),
            Clients::PerVisitor => client(),
        })
        .collect();
    // Sessions first, a bounded number at a time, so the measured window is only turns.
    let sessions: Vec<Result<Session>> = futures_util::stream::iter(clients.iter())
        .map(|http| open_session(http, &server))
        .buffered(args.open_concurrency)
        .collect()
        .await;
    let sessions: Vec<Session> = sessions.into_iter().collect::<Result<_>>()?;
    let hold = match args.stalled_bodies + args.idle_connections {
        0 => None,
        _ => Some(Hold::open(&server, args.stalled_bodies, args.idle_connections).await?),
    };
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let when = Schedule {
        start,
        measure_from,
        measure_to: measure_from + Duration::from_secs(args.seconds),
        interval: args
            .rate
            .map(|r| Duration::from_secs_f64(visitors as f64 / r)),
    };
    let mut tasks = Vec::with_capacity(visitors);
    for (index, (http, session)) in clients.into_iter().zip(sessions).enumerate() {
        tasks.push(tokio::spawn(visitor(
            index,
            visitors,
            http,
            server.clone(),
            session,
            when,
        )));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let probe = hold
        .is_some()
        .then(|| tokio::spawn(probe_new_connections(server.url.clone(), when.measure_to)));
    let open_at_start = hold.as_ref().map_or(0, Hold::open_now);
    let cpu_start = CpuMark::take(server.pid, None);
    let mut max_threads = 0;
    while Instant::now() < when.measure_to {
        max_threads = max_threads.max(server.mem().threads);
        tokio::time::sleep(Duration::from_millis(250).min(when.measure_to - Instant::now())).await;
    }
    let cpu_end = CpuMark::take(server.pid, None);
    let held = match (hold, probe) {
        (Some(hold), Some(probe)) => {
            let (probe, probe_errors) = probe.await.context("the probe panicked")?;
            Some(hold.report(open_at_start, probe, probe_errors, server.fd_soft_limit()))
        }
        _ => None,
    };
    let mem = server.mem();
    let mut all = VisitorResult::default();
    for task in tasks {
        let r = task.await.context("a visitor task panicked")?;
        all.first_delta.extend(r.first_delta);
        all.done.extend(r.done);
        all.turns += r.turns;
        all.no_delta += r.no_delta;
        for (k, v) in r.errors {
            *all.errors.entry(k).or_default() += v;
        }
    }
    let after = server.mem();
    let seconds = args.seconds as f64;
    let result = TurnsResult {
        visitors,
        rate: args.rate,
        turns: all.turns,
        turns_per_sec: all.turns as f64 / seconds,
        first_delta: percentiles(all.first_delta),
        done: percentiles(all.done),
        no_delta: all.no_delta,
        errors: all.errors,
        peak_rss_kb: mem.hwm_kb.max(after.hwm_kb),
        rss_kb: mem.rss_kb,
        max_threads: max_threads.max(mem.threads),
        cpu: CpuShare::between(&cpu_start, &cpu_end, hz),
        held,
    };
    match Arc::try_unwrap(server) {
        Ok(s) => s.stop(),
        Err(_) => bail!("the server handle is still shared"),
    }
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Held connections

/// Where the held connections come from: not the visitors' 127.0.0.1 (any address of
/// 127.0.0.0/8 is this machine), so a cap per client address counts them apart.
const HOLDER: [u8; 4] = [127, 0, 0, 2];

/// The head and the start of a body that never comes in full.
const STALLED: &[u8] = b"POST /api/v1/sessions HTTP/1.1\r\nhost: bench\r\n\
    content-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"tenant\":\"demo\",";

/// Connections held against the server, as a client out to use up its descriptors would hold
/// them: requests whose bodies stop short of their `Content-Length`, and connections that send
/// nothing. Each is opened again as soon as the server closes it. Dropped, they close.
struct Hold {
    stalled: usize,
    idle: usize,
    counts: Arc<HoldCounts>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Default)]
struct HoldCounts {
    open: AtomicU64,
    /// Closed by the server, and of those answered 408 or 429 first.
    closed: AtomicU64,
    timeouts: AtomicU64,
    refused: AtomicU64,
    connect_failed: AtomicU64,
}

impl Hold {
    /// Opens them all and waits until they are (at most [`SETUP_TIMEOUT`]).
    async fn open(server: &Server, stalled: usize, idle: usize) -> Result<Hold> {
        let addr: SocketAddr = server.url.trim_start_matches("http://").parse()?;
        let counts = Arc::new(HoldCounts::default());
        let tasks = (0..stalled + idle)
            .map(|i| {
                let request = (i < stalled).then_some(STALLED);
                tokio::spawn(held_connection(addr, request, counts.clone()))
            })
            .collect();
        let hold = Hold {
            stalled,
            idle,
            counts,
            tasks,
        };
        let started = Instant::now();
        while hold.open_now() < (stalled + idle) as u64 {
            if started.elapsed() > SETUP_TIMEOUT {
                eprintln!(
                    "warning: only {} of {} held connections open after {SETUP_TIMEOUT:?}",
                    hold.open_now(),
                    stalled + idle
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(hold)
    }

    fn open_now(&self) -> u64 {
        self.counts.open.load(Ordering::Relaxed)
    }

    fn report(
        self,
        open_at_start: u64,
        probe: Vec<u32>,
        probe_errors: u64,
        server_fd_limit: u64,
    ) -> HeldReport {
        let c = &self.counts;
        let report = HeldReport {
            stalled: self.stalled,
            idle: self.idle,
            open_at_start,
            open_at_end: self.open_now(),
            closed: c.closed.load(Ordering::Relaxed),
            timeouts: c.timeouts.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            connect_failed: c.connect_failed.load(Ordering::Relaxed),
            probe_count: probe.len(),
            probe: percentiles(probe),
            probe_errors,
            server_fd_limit,
        };
        for task in &self.tasks {
            task.abort();
        }
        report
    }
}

/// One held connection, opened again whenever the server closes it.
async fn held_connection(
    addr: SocketAddr,
    request: Option<&'static [u8]>,
    counts: Arc<HoldCounts>,
) {
    loop {
        let connected = async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(SocketAddr::from((HOLDER, 0)))?;
            let mut tcp = socket.connect(addr).await?;
            if let Some(request) = request {
                tcp.write_all(request).await?;
            }
            Ok::<_, std::io::Error>(tcp)
        };
        let mut tcp = match connected.await {
            Ok(tcp) => tcp,
            Err(_) => {
                counts.connect_failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        counts.open.fetch_add(1, Ordering::Relaxed);
        let mut answer = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(n @ 1..) = tcp.read(&mut buf).await {
            if answer.len() < 64 {
                answer.extend_from_slice(&buf[..n]);
            }
        }
        counts.open.fetch_sub(1, Ordering::Relaxed);
        counts.closed.fetch_add(1, Ordering::Relaxed);
        if answer.starts_with(b"HTTP/1.1 408") {
            counts.timeouts.fetch_add(1, Ordering::Relaxed);
        } else if answer.starts_with(b"HTTP/1.1 429") {
            counts.refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `GET /healthz` on a new connection every 20 ms until `until`, as new visitors arrive: the
/// latencies (µs) of the answers and the count of failures (an error, a non-200, no answer in 5 s).
async fn probe_new_connections(url: String, until: Instant) -> (Vec<u32>, u64) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("reqwest client");
    let mut every = tokio::time::interval(Duration::from_millis(20));
    let mut probes = Vec::new();
    while Instant::now() < until {
        every.tick().await;
        let (http, url) = (http.clone(), url.clone());
        probes.push(tokio::spawn(async move {
            let sent = Instant::now();
            let res = http.get(format!("{url}/healthz")).send().await.ok()?;
            let ok = res.status() == 200 && res.text().await.is_ok();
            ok.then(|| sent.elapsed().as_micros() as u32)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for probe in probes {
        match probe.await {
            Ok(Some(us)) => latencies.push(us),
            _ => errors += 1,
        }
    }
    (latencies, errors)
}

#[derive(Debug, Clone)]
struct HeldReport {
    stalled: usize,
    idle: usize,
    open_at_start: u64,
    open_at_end: u64,
    closed: u64,
    timeouts: u64,
    refused: u64,
    connect_failed: u64,
    probe_count: usize,
    probe: Percentiles,
    probe_errors: u64,
    server_fd_limit: u64,
}

// ---------------------------------------------------------------------------------------------
// Phase 2: idle event streams

#[derive(Debug)]
struct IdleResult {
    streams: usize,
    opened: usize,
    failed: BTreeMap<String, u64>,
    open_secs: f64,
    baseline: Mem,
    after_sessions: Mem,
    after_streams: Mem,
    closed_early: u64,
    server_fd_limit: u64,
    probe: Option<(Percentiles, usize)>,
}

async fn idle_run(args: &Args) -> Result<IdleResult> {
    let n = args.idle_streams;
    let server = Arc::new(Server::start(args).await?);
    let http = client();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = server.mem();
    let server_fd_limit = server.fd_soft_limit();
    let own_fd_limit = fd_limits("self").map_or(0, |l| l.0);
    for (who, limit) in [("the server", server_fd_limit), ("the bench", own_fd_limit)] {
        if limit < n as u64 + 100 {
            eprintln!(
                "warning: {who} may open {limit} files, too few for {n} streams; \
                 streams beyond it will fail (raise the hard limit: ulimit -Hn)"
            );
        }
    }
    let started = Instant::now();
    let mut failed: BTreeMap<String, u64> = BTreeMap::new();

    // Pass 1: every visitor gets a session and posts one message (202, the reply runs in the
    // background and lands in the conversation's event buffer).
    let posted: Vec<Result<(Session, String)>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let (http, server) = (http.clone(), server.clone());
            async move {
                let session = open_session(&http, &server).await?;
                let res = within("POST /api/v1/messages", async {
                    Ok(http
                    .post(format!("{}/api/v1/messages", server.url))
                    .header("origin", server.origin())
                    .bearer_auth(&session.token)
                    .json(&json!({ "text": QUERIES[i % QUERIES.len()], "client_id": format!("idle-{i}") }))
                    .send()
                    .await?)
                })
                .await?;
                if res.status() != 202 {
                    bail!("POST /api/v1/messages: {}", res.status());
                }
                let body: Value = within("reading a 202 body", async { Ok(res.json().await?) }).await?;
                let conversation = body["conversation"]
                    .as_str()
                    .ok_or_else(|| anyhow!("no conversation in {body}"))?
                    .to_owned();
                Ok((session, conversation))
            }
        })
        .buffer_unordered(args.open_concurrency)
        .collect()
        .await;
    let mut visitors = Vec::with_capacity(n);
    for p in posted {
        match p {
            Ok(v) => visitors.push(v),
            Err(e) => *failed.entry(format!("setup: {e:#}")).or_default() += 1,
        }
    }
    // Let the background replies finish and settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_sessions = server.mem();

    // Pass 2: open every event stream and keep it open; a task per stream drains keep-alives and
    // notes when a stream ends early.
    let closed = Arc::new(AtomicU64::new(0));
    let opened: Vec<Result<tokio::task::JoinHandle<()>>> = futures_util::stream::iter(visitors)
        .map(|(session, conversation)| {
            let (http, server, closed) = (http.clone(), server.clone(), closed.clone());
            async move {
                let res = within("GET /api/v1/events", async {
                    http.get(format!(
                        "{}/api/v1/events?conversation={conversation}",
                        server.url
                    ))
                    .header("origin", server.origin())
                    .header("accept", "text/event-stream")
                    .bearer_auth(&session.token)
                    .send()
                    .await
                    .map_err(|e| anyhow!("GET /api/v1/events: {}", short_error(&e)))
                })
                .await?;
                if res.status() != 200 {
                    bail!("GET /api/v1/events: {}", res.status());
                }
                Ok(tokio::spawn(async move {
                    let mut body = res.bytes_stream();
                    while let Some(Ok(_)) = body.next().await {}
                    closed.fetch_add(1, Ordering::Relaxed);
                }))
            }
        })
        .buffer_unordered(args.open_concurrency)
        .collect()
        .await;
    let mut streams = Vec::with_capacity(n);
    for o in opened {
        match o {
            Ok(h) => streams.push(h),
            Err(e) => *failed.entry(format!("{e:#}")).or_default() += 1,
        }
    }
    let open_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_streams = server.mem();
    let closed_early = closed.load(Ordering::Relaxed);

    // With every stream open, is a turn still quick? 100 turns, one after another.
    let probe = match open_session(&http, &server).await {
        Ok(session) => {
            let mut first = Vec::new();
            for i in 0..100 {
                let q = QUERIES[i % QUERIES.len()];
                if let TurnOutcome::Done {
                    first_delta: Some(d),
                    ..
                } = one_turn(&http, &server, &session, q, &format!("probe-{i}")).await
                {
                    first.push(d.as_micros() as u32);
                }
            }
            let ok = first.len();
            Some((percentiles(first), ok))
        }
        Err(_) => None,
    };

    let result = IdleResult {
        streams: n,
        opened: streams.len(),
        failed,
        open_secs,
        baseline,
        after_sessions,
        after_streams,
        closed_early,
        server_fd_limit,
        probe,
    };
    match Arc::try_unwrap(server) {
        Ok(s) => s.stop(),
        Err(_) => bail!("the server handle is still shared"),
    }
    for s in streams {
        s.abort();
    }
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Report

const TURNS_HEADER: &str = "| visitors | offered | run | turns | turns/s | first delta p50 / p90 / p99 / max (ms) | done p50 / p99 (ms) | errors | server peak RSS | server RSS | server threads (max) | CPU server / bench / other (% of 1 core) |\n\
                            |---:|---:|---|---:|---:|---|---|---:|---:|---:|---:|---|";

const HELD_HEADER: &str = "| visitors | offered | run | held stalled + idle | open at window start / end | closed by the server in the run (408 / 429) | failed connects | new connection GET /healthz: answered, p50 / p99 / max (ms) | failed | server fd limit |\n\
                           |---:|---:|---|---|---|---|---:|---|---:|---:|";

fn held_row(run: &str, r: &TurnsResult) -> Option<String> {
    let h = r.held.as_ref()?;
    Some(format!(
        "| {} | {} | {run} | {} + {} | {} / {} | {} ({} / {}) | {} | {}, {:.2} / {:.2} / {:.2} | {} | {} |",
        r.visitors,
        offered(r.rate),
        h.stalled,
        h.idle,
        h.open_at_start,
        h.open_at_end,
        h.closed,
        h.timeouts,
        h.refused,
        h.connect_failed,
        h.probe_count,
        h.probe.p50,
        h.probe.p99,
        h.probe.max,
        h.probe_errors,
        h.server_fd_limit,
    ))
}

fn offered(rate: Option<f64>) -> String {
    rate.map_or_else(|| "closed loop".into(), |r| format!("{r:.0}/s"))
}

fn turns_row(run: &str, r: &TurnsResult) -> String {
    let errors: u64 = r.errors.values().sum();
    format!(
        "| {} | {} | {run} | {} | {:.0} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} | {errors} | {} | {} | {} | {:.0} / {:.0} / {:.0} |",
        r.visitors,
        offered(r.rate),
        r.turns,
        r.turns_per_sec,
        r.first_delta.p50,
        r.first_delta.p90,
        r.first_delta.p99,
        r.first_delta.max,
        r.done.p50,
        r.done.p99,
        mb(r.peak_rss_kb),
        mb(r.rss_kb),
        r.max_threads,
        r.cpu.server,
        r.cpu.bench,
        r.cpu.other,
    )
}

/// A row of per-column medians over several runs.
fn median_row(runs: &[TurnsResult]) -> String {
    let m = |f: &dyn Fn(&TurnsResult) -> f64| median(runs.iter().map(f).collect());
    let errors = m(&|r| r.errors.values().sum::<u64>() as f64);
    format!(
        "| {} | {} | median of {} | {:.0} | {:.0} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} | {errors:.0} | {} | {} | {:.0} | {:.0} / {:.0} / {:.0} |",
        runs[0].visitors,
        offered(runs[0].rate),
        runs.len(),
        m(&|r| r.turns as f64),
        m(&|r| r.turns_per_sec),
        m(&|r| r.first_delta.p50),
        m(&|r| r.first_delta.p90),
        m(&|r| r.first_delta.p99),
        m(&|r| r.first_delta.max),
        m(&|r| r.done.p50),
        m(&|r| r.done.p99),
        mb(m(&|r| r.peak_rss_kb as f64) as u64),
        mb(m(&|r| r.rss_kb as f64) as u64),
        m(&|r| r.max_threads as f64),
        m(&|r| r.cpu.server),
        m(&|r| r.cpu.bench),
        m(&|r| r.cpu.other),
    )
}

fn idle_report(r: &IdleResult) -> String {
    let mut s = String::new();
    let per = |a: Mem, b: Mem, count: usize| {
        if count == 0 {
            0.0
        } else {
            (a.rss_kb as f64 - b.rss_kb as f64) / count as f64
        }
    };
    let _ = writeln!(
        s,
        "| streams asked | opened (HTTP 200) | failed | closed early | open all (s) | server RSS before | after sessions + 1 message each | with all streams open | per visitor (total) | per open stream | server threads | server fd limit |"
    );
    let _ = writeln!(
        s,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let _ = writeln!(
        s,
        "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {:.1} KB | {:.1} KB | {} | {} |",
        r.streams,
        r.opened,
        r.failed.values().sum::<u64>(),
        r.closed_early,
        r.open_secs,
        mb(r.baseline.rss_kb),
        mb(r.after_sessions.rss_kb),
        mb(r.after_streams.rss_kb),
        per(r.after_streams, r.baseline, r.opened),
        per(r.after_streams, r.after_sessions, r.opened),
        r.after_streams.threads,
        r.server_fd_limit,
    );
    let _ = writeln!(
        s,
        "server peak RSS during the idle run: {}",
        mb(r.after_streams.hwm_kb)
    );
    if let Some((p, ok)) = &r.probe {
        let _ = writeln!(
            s,
            "with all streams open, 100 sequential turns: {ok} ok, first delta p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            p.p50, p.p99, p.max
        );
    }
    for (why, count) in &r.failed {
        let _ = writeln!(s, "  failed ×{count}: {why}");
    }
    s
}

async fn run(args: Args) -> Result<()> {
    let hz = clock_ticks_per_sec();
    let (soft, _) = fd_limits("self").unwrap_or((0, 0));
    println!("# keepstar load bench");
    println!(
        "date: {}; commit: {}",
        stamp("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        stamp("git", &["describe", "--always", "--dirty"])
    );
    println!(
        "machine: {}; server: {}; client: {}; bench fd limit {soft}",
        machine(),
        args.server.display(),
        match args.clients {
            Clients::Shared => "one shared reqwest client (HTTP/1.1 keep-alive pool)",
            Clients::PerVisitor => "one reqwest client per visitor (HTTP/1.1 keep-alive)",
        }
    );
    let mut all: Vec<Vec<TurnsResult>> = Vec::new();
    for &visitors in args.visitors.iter().filter(|&&v| v > 0) {
        let mut runs = Vec::new();
        for run in 1..=args.runs {
            eprintln!(
                "turns: {visitors} visitors, run {run}/{}: {} s warm-up + {} s …",
                args.runs, args.warmup, args.seconds
            );
            let r = turns_run(&args, visitors, hz).await?;
            eprintln!("{}", turns_row(&run.to_string(), &r));
            if let Some(row) = held_row(&run.to_string(), &r) {
                eprintln!("{row}");
            }
            for (why, count) in &r.errors {
                eprintln!("  error ×{count}: {why}");
            }
            if r.no_delta > 0 {
                eprintln!("  {} turns ended without a delta", r.no_delta);
            }
            runs.push(r);
        }
        all.push(runs);
    }
    if !all.is_empty() {
        println!();
        println!(
            "## Turns ({} s warm-up, {} s measured, builtin responder)",
            args.warmup, args.seconds
        );
        println!("{TURNS_HEADER}");
        for runs in &all {
            for (i, r) in runs.iter().enumerate() {
                println!("{}", turns_row(&(i + 1).to_string(), r));
            }
            if runs.len() > 1 {
                println!("{}", median_row(runs));
            }
        }
        if all.iter().flatten().any(|r| r.held.is_some()) {
            println!();
            println!("## Held connections during the turns");
            println!("{HELD_HEADER}");
            for runs in &all {
                for (i, r) in runs.iter().enumerate() {
                    if let Some(row) = held_row(&(i + 1).to_string(), r) {
                        println!("{row}");
                    }
                }
            }
        }
        let errors: Vec<String> = all
            .iter()
            .flatten()
            .flat_map(|r| {
                r.errors
                    .iter()
                    .map(move |(k, v)| format!("{} visitors: {k} ×{v}", r.visitors))
            })
            .collect();
        if !errors.is_empty() {
            println!("errors: {}", errors.join("; "));
        }
    }
    if args.idle_streams > 0 {
        eprintln!(
            "idle streams: opening {} event streams, {} at a time …",
            args.idle_streams, args.open_concurrency
        );
        let r = idle_run(&args).await?;
        println!();
        println!("## Idle event streams");
        print!("{}", idle_report(&r));
    }
    Ok(())
}
