//! Relay-overhead benchmark: how much later the first `delta` of an LLM reply reaches a visitor
//! through keepstar than the first content chunk reaches a client that calls the same upstream
//! directly.
//!
//! ```sh
//! cargo build --release
//! cargo bench --bench relay -- [--streams 1,100,1000] [--mode burst|steady|both] [--runs 3]
//! ```
//!
//! A fake OpenAI-compatible upstream runs in its own process (this binary, re-executed with
//! `--fake-upstream`): `POST /v1/chat/completions` answers `text/event-stream` chunks at a fixed
//! pace, the first content chunk `--think` ms after the request arrived. The real release binary
//! is started with a tenant whose `openai` responder points at it. For each number of concurrent
//! streams C, C visitors post a message with `Accept: text/event-stream` and time the first
//! `event: delta`; C direct clients post to the fake and time its first content chunk. Both
//! paths share the think time, so overhead = keepstar's time − the direct time.
//!
//! Every C and every run gets a fresh server in a fresh temp dir. See docs/BENCHMARKS.md.
//!
//! What this shares with benches/load.rs (the open-file limit re-exec, the /proc readers, the
//! server process and its stop on drop, the HTTP client, SSE parsing, percentiles and the report
//! helpers) is in benches/support/mod.rs.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};

use support::{
    CpuMark, CpuSum, DataDir, Percentiles, ServerProcess, ULIMIT, UNTHROTTLED, args_or_exit,
    client, clock_ticks_per_sec, counts, fd_limits, machine, mb, median, next_event, percentiles,
    raise_fd_limit, run_or_exit, short_error, stamp,
};
/// The environment variable of the server process that holds the fake upstream's key.
const KEY_ENV: &str = "BENCH_UPSTREAM_KEY";
const ORIGIN: &str = "http://bench.local";
const QUESTION: &str = "Which tent would you take for two people in the mountains?";
/// A stream that takes longer counts as an error.
const STREAM_TIMEOUT: Duration = Duration::from_secs(60);
/// Samples per path that `--rounds auto` aims for in burst mode.
const AUTO_SAMPLES: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// All C streams start at the same moment, round after round.
    Burst,
    /// C streams always in flight: each client posts again as soon as its stream ended.
    Steady,
}

#[derive(Debug, Clone)]
struct Args {
    streams: Vec<usize>,
    modes: Vec<Mode>,
    /// Burst rounds per path (after one unmeasured warm-up round); `None`: enough for about
    /// [`AUTO_SAMPLES`] samples, between 5 and 200.
    rounds: Option<usize>,
    seconds: u64,
    warmup: u64,
    runs: usize,
    pace: Pace,
    server: PathBuf,
}

/// How the fake upstream streams.
#[derive(Debug, Clone, Copy)]
struct Pace {
    think_ms: u64,
    interval_ms: u64,
    chunks: usize,
}

impl Pace {
    fn stream_len(&self) -> Duration {
        Duration::from_millis(self.think_ms + self.interval_ms * self.chunks as u64)
    }
}

fn usage() -> &'static str {
    "usage: cargo bench --bench relay -- [--streams N[,N…]] [--mode burst|steady|both] [--rounds K]\n\
     \x20      [--seconds S] [--warmup S] [--runs K] [--think MS] [--interval MS] [--chunks N]\n\
     \x20      [--server PATH]\n\
     defaults: --streams 1,100,1000 --mode both --rounds auto --seconds 10 --warmup 2 --runs 1\n\
     \x20         --think 20 --interval 10 --chunks 20 --server target/release/keepstar\n\
     burst: every round, all N clients of a path start a stream at the same moment (--rounds K\n\
     rounds per path, alternating keepstar and direct; auto = about 2000 samples, 5..200 rounds).\n\
     steady: N clients per path each start a new stream as soon as theirs ended, for --seconds."
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        streams: vec![1, 100, 1000],
        modes: vec![Mode::Burst, Mode::Steady],
        rounds: None,
        seconds: 10,
        warmup: 2,
        runs: 1,
        pace: Pace {
            think_ms: 20,
            interval_ms: 10,
            chunks: 20,
        },
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
            "--streams" => {
                args.streams = counts(&value()?).context("--streams")?;
            }
            "--mode" => {
                args.modes = match value()?.as_str() {
                    "burst" => vec![Mode::Burst],
                    "steady" => vec![Mode::Steady],
                    "both" => vec![Mode::Burst, Mode::Steady],
                    other => bail!("--mode is burst, steady or both, not {other}"),
                }
            }
            "--rounds" => {
                let v = value()?;
                args.rounds = match v.as_str() {
                    "auto" => None,
                    n => Some(n.parse::<usize>().context("--rounds")?.max(1)),
                };
            }
            "--seconds" => args.seconds = value()?.parse().context("--seconds")?,
            "--warmup" => args.warmup = value()?.parse().context("--warmup")?,
            "--runs" => args.runs = value()?.parse::<usize>().context("--runs")?.max(1),
            "--think" => args.pace.think_ms = value()?.parse().context("--think")?,
            "--interval" => args.pace.interval_ms = value()?.parse().context("--interval")?,
            "--chunks" => args.pace.chunks = value()?.parse::<usize>().context("--chunks")?.max(1),
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
    args.streams.retain(|&c| c > 0);
    // The CLI runs inside each run's temp dir.
    args.server = std::path::absolute(&args.server).context("--server")?;
    Ok(args)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--fake-upstream") {
        fake::main();
        return;
    }
    let args = args_or_exit(parse_args());
    let max = args.streams.iter().copied().max().unwrap_or(0);
    // Per stream: a connection to keepstar and one to the fake (the bench), and the same pair on
    // the server's and the fake's side.
    raise_fd_limit(2 * max + 1024);
    let upstream = match Upstream::start(args.pace) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: starting the fake upstream: {e:#}");
            std::process::exit(1);
        }
    };
    run_or_exit(run(args, upstream));
}

// ---------------------------------------------------------------------------------------------
// The fake upstream (its own process)

mod fake {
    //! An OpenAI-compatible `/v1/chat/completions` that streams at a fixed pace: a role chunk at
    //! once, the first content chunk `think` ms after the request arrived, then one every
    //! `interval` ms, then a `finish_reason: "stop"` chunk, a usage chunk and `[DONE]`, and then
    //! the end of the body in a write of its own.

    use std::io::Read as _;

    use super::*;
    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use axum::serve::ListenerExt as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::time::Instant as TokioInstant;

    struct Script {
        /// Connections accepted and requests answered so far (`GET /stats`).
        connections: AtomicU64,
        requests: AtomicU64,
        pace: Pace,
        authorization: String,
        role: Bytes,
        contents: Vec<Bytes>,
        end: Bytes,
    }

    fn frame(v: &Value) -> Bytes {
        Bytes::from(format!("data: {v}\n\n"))
    }

    fn chunk(delta: Value, finish: Option<&str>) -> Value {
        json!({
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
    }

    pub fn main() {
        let mut pace = Pace {
            think_ms: 20,
            interval_ms: 10,
            chunks: 20,
        };
        let mut key = String::new();
        let mut it = std::env::args().skip(2);
        while let Some(flag) = it.next() {
            let value = it.next().unwrap_or_default();
            match flag.as_str() {
                "--think" => pace.think_ms = value.parse().expect("--think"),
                "--interval" => pace.interval_ms = value.parse().expect("--interval"),
                "--chunks" => pace.chunks = value.parse().expect("--chunks"),
                "--key" => key = value,
                other => panic!("fake upstream: unknown argument {other}"),
            }
        }
        // Never outlive the bench: it holds our stdin open.
        std::thread::spawn(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            std::process::exit(0);
        });
        let mut usage = chunk(json!({}), None);
        usage["choices"] = json!([]);
        usage["usage"] = json!({"prompt_tokens": 250, "completion_tokens": pace.chunks, "total_tokens": 250 + pace.chunks});
        let mut end = Vec::new();
        end.extend_from_slice(&frame(&chunk(json!({}), Some("stop"))));
        end.extend_from_slice(&frame(&usage));
        end.extend_from_slice(b"data: [DONE]\n\n");
        let script = Arc::new(Script {
            connections: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            pace,
            authorization: format!("Bearer {key}"),
            role: frame(&chunk(json!({"role": "assistant", "content": ""}), None)),
            contents: (0..pace.chunks)
                .map(|i| frame(&chunk(json!({"content": format!("word{i} ")}), None)))
                .collect(),
            end: Bytes::from(end),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            println!("{}", listener.local_addr().expect("address").port());
            let counted = script.clone();
            let listener = listener.tap_io(move |tcp| {
                let _ = tcp.set_nodelay(true);
                counted.connections.fetch_add(1, Ordering::Relaxed);
            });
            let app = Router::new()
                .route("/v1/chat/completions", post(completions))
                .route("/stats", get(stats))
                .with_state(script);
            axum::serve(listener, app).await.expect("serve");
        });
    }

    async fn stats(State(script): State<Arc<Script>>) -> axum::Json<Value> {
        axum::Json(json!({
            "connections": script.connections.load(Ordering::Relaxed),
            "requests": script.requests.load(Ordering::Relaxed),
        }))
    }

    async fn completions(
        State(script): State<Arc<Script>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let arrived = TokioInstant::now();
        script.requests.fetch_add(1, Ordering::Relaxed);
        let authorized = headers
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v.as_bytes() == script.authorization.as_bytes());
        if !authorized {
            let error = json!({"error": {"message": "bad key", "type": "invalid_request_error", "code": "invalid_api_key"}});
            return (StatusCode::UNAUTHORIZED, axum::Json(error)).into_response();
        }
        // Read the request as a real server would.
        let streamed = serde_json::from_slice::<Value>(&body)
            .ok()
            .is_some_and(|v| v["stream"] == json!(true) && v["messages"].is_array());
        if !streamed {
            let error = json!({"error": {"message": "expected a streamed chat request", "type": "invalid_request_error"}});
            return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
        }
        let first = arrived + Duration::from_millis(script.pace.think_ms);
        let interval = Duration::from_millis(script.pace.interval_ms);
        let frames = futures_util::stream::unfold(0usize, move |i| {
            let script = script.clone();
            async move {
                let n = script.contents.len();
                let bytes = match i {
                    0 => script.role.clone(),
                    i if i <= n => {
                        tokio::time::sleep_until(first + interval * (i as u32 - 1)).await;
                        script.contents[i - 1].clone()
                    }
                    i if i == n + 1 => {
                        tokio::time::sleep_until(first + interval * n as u32).await;
                        script.end.clone()
                    }
                    _ => {
                        // Servers that flush every event write the end of the chunked body
                        // apart from `[DONE]`: let the server flush before it ends the body.
                        tokio::task::yield_now().await;
                        return None;
                    }
                };
                Some((Ok::<_, Infallible>(bytes), i + 1))
            }
        });
        Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(Body::from_stream(frames))
            .expect("a response")
    }
}

/// The fake upstream's process.
struct Upstream {
    child: Child,
    pid: u32,
    /// `http://127.0.0.1:PORT/v1`
    base_url: String,
    /// `GET` it for the connections accepted and requests answered so far.
    stats_url: String,
    key: String,
}

impl Upstream {
    fn start(pace: Pace) -> Result<Upstream> {
        let exe = std::env::current_exe()?;
        let key = format!("sk-bench-{}", std::process::id());
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("{ULIMIT}; exec \"$0\" \"$@\""))
            .arg(exe)
            .arg("--fake-upstream")
            .args(["--think", &pace.think_ms.to_string()])
            .args(["--interval", &pace.interval_ms.to_string()])
            .args(["--chunks", &pace.chunks.to_string()])
            .args(["--key", &key])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let pid = child.id();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().context("the fake's stdout")?)
            .read_line(&mut line)?;
        let port: u16 = line
            .trim()
            .parse()
            .with_context(|| format!("the fake upstream said {line:?}, not its port"))?;
        Ok(Upstream {
            child,
            pid,
            base_url: format!("http://127.0.0.1:{port}/v1"),
            stats_url: format!("http://127.0.0.1:{port}/stats"),
            key,
        })
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    /// A fresh data dir with tenant `bench` answered by the `openai` responder against `upstream`.
    async fn start(bin: &Path, upstream: &Upstream) -> Result<Server> {
        // A slow moment on a shared machine must not open the tenant's circuit for the rest of
        // the run.
        let config = format!("{UNTHROTTLED}\n[upstream]\nbreaker_failures = 1000000\n");
        let data = DataDir::init(bin, &config)?;
        let envs = [(KEY_ENV, upstream.key.as_str())];
        let tenant = [
            "tenant", "add", "bench", "--name", "Bench", "--origin", ORIGIN,
        ];
        data.cli(&tenant, &envs)?;
        let provider = [
            "tenant",
            "set",
            "bench",
            "--provider",
            "openai",
            "--model",
            "fake",
            "--base-url",
            &upstream.base_url,
            "--api-key-env",
            KEY_ENV,
        ];
        data.cli(&provider, &envs)?;
        let key = data.cli(&["key", "issue", "bench"], &envs)?;
        let (process, url) = data.serve(&[], &envs).await?;
        Ok(Server {
            pid: process.pid,
            process,
            url,
            key,
        })
    }

    fn mem(&self) -> support::Mem {
        self.process.mem()
    }
}

async fn open_session(http: &reqwest::Client, server: &Server) -> Result<String> {
    let page = format!("{ORIGIN}/");
    support::open_session(http, &server.url, ORIGIN, "bench", &server.key, &page).await
}

// ---------------------------------------------------------------------------------------------
// One stream on either path

/// Where a client's streams go.
#[derive(Clone)]
enum Target {
    /// A visitor of tenant `bench`, with its session token.
    Keepstar { url: Arc<str>, token: Arc<str> },
    /// The fake upstream itself.
    Direct {
        url: Arc<str>,
        authorization: Arc<str>,
    },
}

enum Outcome {
    /// Time from sending to the first `delta` (keepstar) or content chunk (direct).
    Streamed(Duration),
    Failed(String),
}

/// What a path's event means for the stream.
enum Seen {
    First,
    End,
    Error(String),
    Other,
}

fn keepstar_event(name: &str, data: &str) -> Seen {
    match name {
        "delta" => Seen::First,
        "done" => Seen::End,
        "error" => {
            let code = serde_json::from_str::<Value>(data)
                .ok()
                .and_then(|v| v["code"].as_str().map(String::from))
                .unwrap_or_default();
            Seen::Error(format!("error event {code}"))
        }
        _ => Seen::Other,
    }
}

fn direct_event(data: &str) -> Seen {
    if data.trim() == "[DONE]" {
        return Seen::End;
    }
    match serde_json::from_str::<Value>(data) {
        Ok(v)
            if v["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|t| !t.is_empty()) =>
        {
            Seen::First
        }
        Ok(_) => Seen::Other,
        Err(_) => Seen::Error("malformed chunk".into()),
    }
}

/// Posts one message (or one chat request) and reads the stream to its end, so the connection
/// goes back to the pool.
async fn one_stream(http: &reqwest::Client, target: &Target, client_id: &str) -> Outcome {
    let request = match target {
        Target::Keepstar { url, token } => http
            .post(format!("{url}/api/v1/messages"))
            .header("origin", ORIGIN)
            .header("accept", "text/event-stream")
            .bearer_auth(token)
            .json(&json!({ "text": QUESTION, "client_id": client_id })),
        Target::Direct { url, authorization } => http
            .post(format!("{url}/chat/completions"))
            .header("accept", "text/event-stream")
            .header("authorization", &**authorization)
            .json(&json!({
                "model": "fake",
                "messages": [
                    {"role": "system", "content": "You are the shop assistant of Bench."},
                    {"role": "user", "content": QUESTION},
                ],
                "stream": true,
                "stream_options": {"include_usage": true},
            })),
    };
    let keepstar = matches!(target, Target::Keepstar { .. });
    let sent = Instant::now();
    let res = match request.send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(format!("request: {}", short_error(&e))),
    };
    let status = res.status();
    if status != 200 {
        let body = res.text().await.unwrap_or_default();
        let code = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(String::from))
            .unwrap_or_default();
        return Outcome::Failed(format!("HTTP {} {code}", status.as_u16()));
    }
    let mut body = res.bytes_stream();
    let mut buf = Vec::with_capacity(4096);
    let mut first = None;
    let mut ended = false;
    loop {
        let chunk = match body.next().await {
            Some(Ok(c)) => c,
            Some(Err(e)) => return Outcome::Failed(format!("body: {}", short_error(&e))),
            None if ended => break,
            None => return Outcome::Failed("stream ended early".into()),
        };
        let at = sent.elapsed();
        buf.extend_from_slice(&chunk);
        while let Some((name, data)) = next_event(&mut buf) {
            let seen = if keepstar {
                keepstar_event(&name, &data)
            } else {
                direct_event(&data)
            };
            match seen {
                Seen::First => {
                    first.get_or_insert(at);
                }
                Seen::End => ended = true,
                Seen::Error(why) => return Outcome::Failed(why),
                Seen::Other => {}
            }
        }
    }
    match first {
        Some(d) => Outcome::Streamed(d),
        None => Outcome::Failed("no content before the end".into()),
    }
}

async fn timed_stream(http: &reqwest::Client, target: &Target, client_id: &str) -> Outcome {
    tokio::time::timeout(STREAM_TIMEOUT, one_stream(http, target, client_id))
        .await
        .unwrap_or_else(|_| Outcome::Failed(format!("not finished within {STREAM_TIMEOUT:?}")))
}

// ---------------------------------------------------------------------------------------------
// Measuring

/// What one path measured in one run.
#[derive(Debug, Default)]
struct PathSamples {
    /// Microseconds from sending to the first content.
    first: Vec<u32>,
    errors: BTreeMap<String, u64>,
    cpu: CpuSum,
    /// Connections the fake upstream accepted and requests it answered meanwhile.
    upstream: UpstreamCount,
}

#[derive(Debug, Default, Clone, Copy)]
struct UpstreamCount {
    connections: u64,
    requests: u64,
}

impl UpstreamCount {
    async fn now(http: &reqwest::Client, url: &str) -> Result<UpstreamCount> {
        let v: Value = http.get(url).send().await?.json().await?;
        Ok(UpstreamCount {
            connections: v["connections"].as_u64().unwrap_or(0),
            requests: v["requests"].as_u64().unwrap_or(0),
        })
    }

    fn add(&mut self, from: UpstreamCount, to: UpstreamCount) {
        self.connections += to.connections.saturating_sub(from.connections);
        self.requests += to.requests.saturating_sub(from.requests);
    }
}

impl PathSamples {
    fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Streamed(d) => self.first.push(d.as_micros() as u32),
            Outcome::Failed(why) => *self.errors.entry(why).or_default() += 1,
        }
    }
}

#[derive(Debug, Clone)]
struct RunResult {
    streams: usize,
    samples: usize,
    keepstar: Percentiles,
    direct: Percentiles,
    errors: BTreeMap<String, u64>,
    peak_rss_kb: u64,
    max_threads: u64,
    /// % of one core while keepstar's streams ran: server, upstream, bench, other.
    cpu: [f64; 4],
    /// The same while the direct streams ran.
    cpu_direct: [f64; 4],
    /// New connections from keepstar to the upstream per request it made.
    upstream_connections_per_request: f64,
}

struct Bench {
    server: Server,
    upstream_pid: u32,
    upstream_stats: String,
    keepstar_http: reqwest::Client,
    direct_http: reqwest::Client,
    visitors: Vec<Target>,
    direct: Target,
    max_threads: u64,
}

impl Bench {
    fn mark(&self) -> CpuMark {
        CpuMark::take(self.server.pid, Some(self.upstream_pid))
    }

    /// All `targets` start a stream at the same moment; waits for every one to end.
    async fn burst(
        &mut self,
        keepstar: bool,
        round: usize,
        into: Option<&mut PathSamples>,
    ) -> Result<()> {
        let (http, targets) = if keepstar {
            (&self.keepstar_http, self.visitors.clone())
        } else {
            (
                &self.direct_http,
                vec![self.direct.clone(); self.visitors.len()],
            )
        };
        // Time for every task to be spawned and waiting before the common start.
        let at = Instant::now() + Duration::from_millis(5 + targets.len() as u64 / 50);
        let tasks: Vec<_> = targets
            .into_iter()
            .enumerate()
            .map(|(i, target)| {
                let http = http.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(at.into()).await;
                    timed_stream(&http, &target, &format!("r{round}-v{i}")).await
                })
            })
            .collect();
        let count_start = UpstreamCount::now(&self.direct_http, &self.upstream_stats).await?;
        tokio::time::sleep_until(at.into()).await;
        let start = self.mark();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for task in tasks {
            outcomes.push(task.await.context("a stream task panicked")?);
        }
        let end = self.mark();
        let count_end = UpstreamCount::now(&self.direct_http, &self.upstream_stats).await?;
        if keepstar {
            self.max_threads = self.max_threads.max(self.server.mem().threads);
        }
        if let Some(samples) = into {
            samples.cpu.add(&start, &end);
            samples.upstream.add(count_start, count_end);
            for o in outcomes {
                samples.record(o);
            }
        }
        Ok(())
    }

    /// `targets.len()` clients each start a new stream as soon as the last one ended, staggered
    /// over one stream's length at the start; samples from streams sent inside the window.
    async fn steady(
        &mut self,
        keepstar: bool,
        pace: Pace,
        warmup: Duration,
        seconds: Duration,
    ) -> Result<PathSamples> {
        let (http, targets) = if keepstar {
            (&self.keepstar_http, self.visitors.clone())
        } else {
            (
                &self.direct_http,
                vec![self.direct.clone(); self.visitors.len()],
            )
        };
        let n = targets.len();
        let count_start = UpstreamCount::now(&self.direct_http, &self.upstream_stats).await?;
        let start = Instant::now();
        let from = start + warmup;
        let to = from + seconds;
        let tasks: Vec<_> = targets
            .into_iter()
            .enumerate()
            .map(|(i, target)| {
                let http = http.clone();
                let offset = pace.stream_len().mul_f64(i as f64 / n as f64);
                tokio::spawn(async move {
                    let mut out = PathSamples::default();
                    tokio::time::sleep_until((start + offset).into()).await;
                    let mut k = 0;
                    loop {
                        let sent = Instant::now();
                        if sent >= to {
                            break;
                        }
                        let outcome = timed_stream(&http, &target, &format!("s{i}-{k}")).await;
                        k += 1;
                        if sent >= from {
                            out.record(outcome);
                        } else if let Outcome::Failed(_) = outcome {
                            // Do not spin on a dead server.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                    out
                })
            })
            .collect();
        tokio::time::sleep_until(from.into()).await;
        let cpu_start = self.mark();
        while Instant::now() < to {
            if keepstar {
                self.max_threads = self.max_threads.max(self.server.mem().threads);
            }
            tokio::time::sleep(Duration::from_millis(250).min(to - Instant::now())).await;
        }
        let cpu_end = self.mark();
        let mut all = PathSamples::default();
        all.cpu.add(&cpu_start, &cpu_end);
        for task in tasks {
            let r = task.await.context("a stream task panicked")?;
            all.first.extend(r.first);
            for (k, v) in r.errors {
                *all.errors.entry(k).or_default() += v;
            }
        }
        // Over the whole phase, warm-up included.
        let count_end = UpstreamCount::now(&self.direct_http, &self.upstream_stats).await?;
        all.upstream.add(count_start, count_end);
        Ok(all)
    }
}

fn auto_rounds(streams: usize) -> usize {
    AUTO_SAMPLES.div_ceil(streams).clamp(5, 200)
}

async fn one_run(
    args: &Args,
    mode: Mode,
    upstream: &Upstream,
    streams: usize,
    run: usize,
    hz: f64,
) -> Result<RunResult> {
    let server = Server::start(&args.server, upstream).await?;
    let keepstar_http = client();
    let sessions: Vec<Result<String>> = futures_util::stream::iter(0..streams)
        .map(|_| open_session(&keepstar_http, &server))
        .buffered(200)
        .collect()
        .await;
    let url: Arc<str> = server.url.as_str().into();
    let visitors = sessions
        .into_iter()
        .map(|token| {
            Ok(Target::Keepstar {
                url: url.clone(),
                token: token?.into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut bench = Bench {
        upstream_pid: upstream.pid,
        upstream_stats: upstream.stats_url.clone(),
        keepstar_http,
        direct_http: client(),
        visitors,
        direct: Target::Direct {
            url: upstream.base_url.as_str().into(),
            authorization: format!("Bearer {}", upstream.key).into(),
        },
        max_threads: 0,
        server,
    };
    let (keepstar, direct) = match mode {
        Mode::Burst => {
            let rounds = args.rounds.unwrap_or_else(|| auto_rounds(streams));
            // One unmeasured round per path opens every connection (bench → keepstar →
            // upstream, bench → upstream), so neither path pays for connecting.
            bench.burst(true, 0, None).await?;
            bench.burst(false, 0, None).await?;
            let mut keepstar = PathSamples::default();
            let mut direct = PathSamples::default();
            for round in 1..=rounds {
                // Alternate which path goes first, so neither always follows the other.
                for keepstar_path in [round % 2 == 1, round % 2 == 0] {
                    let into = if keepstar_path {
                        &mut keepstar
                    } else {
                        &mut direct
                    };
                    bench.burst(keepstar_path, round, Some(into)).await?;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            (keepstar, direct)
        }
        Mode::Steady => {
            let warmup = Duration::from_secs(args.warmup);
            let seconds = Duration::from_secs(args.seconds);
            // Alternate which path goes first from run to run.
            if run % 2 == 1 {
                let k = bench.steady(true, args.pace, warmup, seconds).await?;
                let d = bench.steady(false, args.pace, warmup, seconds).await?;
                (k, d)
            } else {
                let d = bench.steady(false, args.pace, warmup, seconds).await?;
                let k = bench.steady(true, args.pace, warmup, seconds).await?;
                (k, d)
            }
        }
    };
    let mem = bench.server.mem();
    let mut errors = BTreeMap::new();
    for (path, samples) in [("keepstar", &keepstar), ("direct", &direct)] {
        for (why, n) in &samples.errors {
            *errors.entry(format!("{path}: {why}")).or_default() += n;
        }
    }
    let k = keepstar.upstream;
    Ok(RunResult {
        upstream_connections_per_request: k.connections as f64 / k.requests.max(1) as f64,
        streams,
        samples: keepstar.first.len().min(direct.first.len()),
        cpu: keepstar.cpu.shares(hz),
        cpu_direct: direct.cpu.shares(hz),
        keepstar: percentiles(keepstar.first),
        direct: percentiles(direct.first),
        errors,
        peak_rss_kb: mem.hwm_kb,
        max_threads: bench.max_threads.max(mem.threads),
    })
}

// ---------------------------------------------------------------------------------------------
// Report

const HEADER: &str = "| streams | run | samples per path | through keepstar p50 / p90 / p99 / max (ms) | direct p50 / p90 / p99 / max (ms) | overhead p50 / p99 (ms) | errors | keepstar → upstream connections per request | server peak RSS | server threads (max) | CPU server / upstream / bench / other, keepstar streams (% of 1 core) | same, direct streams |\n\
                      |---:|---|---:|---|---|---|---:|---:|---:|---:|---|---|";

fn row(run: &str, r: &RunResult) -> String {
    let errors: u64 = r.errors.values().sum();
    format!(
        "| {} | {run} | {} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} | {errors} | {:.2} | {} | {} | {:.0} / {:.0} / {:.0} / {:.0} | {:.0} / {:.0} / {:.0} / {:.0} |",
        r.streams,
        r.samples,
        r.keepstar.p50,
        r.keepstar.p90,
        r.keepstar.p99,
        r.keepstar.max,
        r.direct.p50,
        r.direct.p90,
        r.direct.p99,
        r.direct.max,
        r.keepstar.p50 - r.direct.p50,
        r.keepstar.p99 - r.direct.p99,
        r.upstream_connections_per_request,
        mb(r.peak_rss_kb),
        r.max_threads,
        r.cpu[0],
        r.cpu[1],
        r.cpu[2],
        r.cpu[3],
        r.cpu_direct[0],
        r.cpu_direct[1],
        r.cpu_direct[2],
        r.cpu_direct[3],
    )
}

/// Per-column medians over several runs (the overheads are medians of each run's overhead).
fn median_row(runs: &[RunResult]) -> String {
    let m = |f: &dyn Fn(&RunResult) -> f64| median(runs.iter().map(f).collect());
    format!(
        "| {} | median of {} | {:.0} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} | {:.0} | {:.2} | {} | {:.0} | {:.0} / {:.0} / {:.0} / {:.0} | {:.0} / {:.0} / {:.0} / {:.0} |",
        runs[0].streams,
        runs.len(),
        m(&|r| r.samples as f64),
        m(&|r| r.keepstar.p50),
        m(&|r| r.keepstar.p90),
        m(&|r| r.keepstar.p99),
        m(&|r| r.keepstar.max),
        m(&|r| r.direct.p50),
        m(&|r| r.direct.p90),
        m(&|r| r.direct.p99),
        m(&|r| r.direct.max),
        m(&|r| r.keepstar.p50 - r.direct.p50),
        m(&|r| r.keepstar.p99 - r.direct.p99),
        m(&|r| r.errors.values().sum::<u64>() as f64),
        m(&|r| r.upstream_connections_per_request),
        mb(m(&|r| r.peak_rss_kb as f64) as u64),
        m(&|r| r.max_threads as f64),
        m(&|r| r.cpu[0]),
        m(&|r| r.cpu[1]),
        m(&|r| r.cpu[2]),
        m(&|r| r.cpu[3]),
        m(&|r| r.cpu_direct[0]),
        m(&|r| r.cpu_direct[1]),
        m(&|r| r.cpu_direct[2]),
        m(&|r| r.cpu_direct[3]),
    )
}

async fn run(args: Args, upstream: Upstream) -> Result<()> {
    let hz = clock_ticks_per_sec();
    let (soft, _) = fd_limits("self").unwrap_or((0, 0));
    println!("# keepstar relay bench");
    println!(
        "date: {}; commit: {}",
        stamp("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        stamp("git", &["describe", "--always", "--dirty"])
    );
    let p = args.pace;
    println!(
        "machine: {}; server: {}; bench fd limit {soft}",
        machine(),
        args.server.display()
    );
    println!(
        "fake upstream (own process, pid {}): first content chunk {} ms after the request, then one every {} ms, {} in all",
        upstream.pid, p.think_ms, p.interval_ms, p.chunks
    );
    let mut all: Vec<Vec<RunResult>> = Vec::new();
    for &mode in &args.modes {
        let what = match mode {
            Mode::Burst => "burst: all streams of a path start at the same moment, round after round (rounds alternate keepstar / direct)".to_owned(),
            Mode::Steady => format!(
                "steady: each client starts its next stream as soon as the last ended; {} s warm-up + {} s measured per path",
                args.warmup, args.seconds
            ),
        };
        let mut runs_by_streams = Vec::new();
        for &streams in &args.streams {
            let mut runs = Vec::new();
            for run in 1..=args.runs {
                let how = match mode {
                    Mode::Burst => format!(
                        "burst, {} rounds per path",
                        args.rounds.unwrap_or_else(|| auto_rounds(streams))
                    ),
                    Mode::Steady => {
                        format!("steady, {} s + {} s per path", args.warmup, args.seconds)
                    }
                };
                eprintln!("{streams} streams, run {run}/{}: {how} …", args.runs);
                let r = one_run(&args, mode, &upstream, streams, run, hz).await?;
                eprintln!("{}", row(&run.to_string(), &r));
                for (why, count) in &r.errors {
                    eprintln!("  error ×{count}: {why}");
                }
                runs.push(r);
            }
            runs_by_streams.push(runs);
        }
        println!();
        println!("## {what}");
        println!();
        println!("{HEADER}");
        for runs in &runs_by_streams {
            for (i, r) in runs.iter().enumerate() {
                println!("{}", row(&(i + 1).to_string(), r));
            }
            if runs.len() > 1 {
                println!("{}", median_row(runs));
            }
        }
        all.extend(runs_by_streams);
    }
    let errors: Vec<String> = all
        .iter()
        .flatten()
        .flat_map(|r| {
            r.errors
                .iter()
                .map(move |(k, v)| format!("{} streams: {k} ×{v}", r.streams))
        })
        .collect();
    if !errors.is_empty() {
        println!("errors: {}", errors.join("; "));
    }
    Ok(())
}
