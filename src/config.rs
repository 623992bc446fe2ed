//! `keepstar.toml` + environment + flags, resolved in one place.
//! Precedence: flag > env (`KEEPSTAR_*`, secrets also `KEEPSTAR_*_FILE`) > file > default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::vocab::Secret;

/// What the config file may contain. Unknown keys are an error that names the key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    public_url: Option<String>,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    session_secret: Option<Secret>,
    encryption_key: Option<Secret>,
    trusted_proxies: Option<Vec<String>>,
    limits: Option<Limits>,
    upstream: Option<Upstream>,
}

/// Abuse limits of the public widget API. Per-minute rates allow their whole minute as a burst.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub sessions_per_minute_per_ip: u32,
    pub messages_per_minute_per_ip: u32,
    pub messages_per_minute_per_visitor: u32,
    /// A tenant's `--rate-limit` overrides this.
    pub messages_per_minute_per_tenant: u32,
    pub max_message_chars: usize,
    pub max_body_bytes: usize,
    pub session_ttl_secs: u64,
    /// A connection that takes longer than this to send a request's head, or that sits idle
    /// this long between requests, is closed.
    pub request_head_timeout_secs: u64,
    /// A request's whole body must arrive within this many seconds of its head (408 otherwise,
    /// and the connection is closed)…
    pub request_body_timeout_secs: u64,
    /// …or, for a body too large for that at this rate, within its size at this rate (0: no
    /// allowance for size).
    pub request_body_min_bytes_per_sec: u64,
    /// Connections one client address may hold open at once (an IPv6 client: its /64).
    pub max_connections_per_ip: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            sessions_per_minute_per_ip: 30,
            messages_per_minute_per_ip: 60,
            messages_per_minute_per_visitor: 20,
            messages_per_minute_per_tenant: 600,
            max_message_chars: 4000,
            max_body_bytes: 32 * 1024,
            session_ttl_secs: 3600,
            request_head_timeout_secs: 30,
            // A widget's body is a few hundred bytes sent with its head; 10 s is ample on a
            // poor mobile link and bounds what a body that never ends can hold.
            request_body_timeout_secs: 10,
            // 32 kbit/s; with the default max_body_bytes every body gets the 10 s.
            request_body_min_bytes_per_sec: 4096,
            // A browser opens at most 6 connections to one host over HTTP/1.1, whatever the
            // number of tabs; this leaves room for about 40 browsers behind one NAT.
            max_connections_per_ip: 256,
        }
    }
}

/// How keepstar treats a tenant's upstream (an LLM API or a webhook): deadlines, retries and the
/// circuit breaker. Times are milliseconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Upstream {
    pub connect_timeout_ms: u64,
    /// From sending the request to the first line of the answer.
    pub first_token_timeout_ms: u64,
    /// The longest silence between two lines of a streamed answer.
    pub idle_timeout_ms: u64,
    /// The whole answer, tool rounds and retries included.
    pub total_timeout_ms: u64,
    /// Extra attempts after a connection failure, a 429 or a 5xx, before any answer arrived.
    pub retries: u32,
    /// Consecutive failures after which a tenant's upstream is not called for `breaker_cooldown_ms`.
    pub breaker_failures: u32,
    pub breaker_cooldown_ms: u64,
    /// Tool rounds an LLM may take in one reply.
    pub max_tool_rounds: u32,
}

impl Default for Upstream {
    fn default() -> Upstream {
        Upstream {
            connect_timeout_ms: 5_000,
            first_token_timeout_ms: 30_000,
            idle_timeout_ms: 30_000,
            total_timeout_ms: 120_000,
            retries: 2,
            breaker_failures: 5,
            breaker_cooldown_ms: 30_000,
            max_tool_rounds: 4,
        }
    }
}

/// Values given on the command line (clap fills them from `KEEPSTAR_*` env twins too).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The URL visitors' browsers reach keepstar at (no trailing slash).
    pub public_url: String,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Signs visitor session tokens (HS256).
    pub session_secret: Option<Secret>,
    /// Encrypts provider keys stored in the database.
    pub encryption_key: Option<Secret>,
    /// Addresses whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub limits: Limits,
    pub upstream: Upstream,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DB_FILE: &str = "keepstar.db";

/// A configuration problem, with a hint for the operator where one helps.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
    pub hint: Option<String>,
}

fn invalid(message: String) -> ConfigError {
    ConfigError {
        message,
        hint: None,
    }
}

impl Config {
    /// Loads `path` and applies env and flag overrides.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            message: format!("cannot read config {}: {e}", path.display()),
            hint: (e.kind() == std::io::ErrorKind::NotFound).then(|| {
                "run `keepstar init` to create one, or pass --config PATH (env KEEPSTAR_CONFIG)"
                    .into()
            }),
        })?;
        let file: FileConfig = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            let at = line.map(|l| format!(" line {l}")).unwrap_or_default();
            invalid(format!("{}{at}: {}", path.display(), e.message()))
        })?;
        Config::resolve(path, file, overrides, &|name| std::env::var(name).ok())
    }

    fn resolve(
        path: &Path,
        file: FileConfig,
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let base = path.parent().unwrap_or(Path::new("."));
        let public_url = overrides
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{DEFAULT_LISTEN}"));
        let listen = overrides
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let data_dir = overrides
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| DEFAULT_DATA_DIR.into());
        let trusted_proxies = match env("KEEPSTAR_TRUSTED_PROXIES") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        };
        Ok(Config {
            path: path.to_owned(),
            public_url: normalize_public_url(&public_url)?,
            listen: listen.parse().map_err(|_| {
                invalid(format!(
                    "invalid listen address {listen:?}: expected IP:PORT, e.g. 0.0.0.0:8080"
                ))
            })?,
            data_dir: base.join(data_dir),
            session_secret: secret("SESSION_SECRET", file.session_secret, env)?,
            encryption_key: secret("ENCRYPTION_KEY", file.encryption_key, env)?,
            trusted_proxies: trusted_proxies
                .iter()
                .map(|p| {
                    p.parse()
                        .map_err(|_| invalid(format!("invalid trusted proxy address {p:?}")))
                })
                .collect::<Result<_, _>>()?,
            limits: file.limits.unwrap_or_default(),
            upstream: file.upstream.unwrap_or_default(),
        })
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join(DB_FILE)
    }
}

/// Reads a secret from `KEEPSTAR_<NAME>`, then `KEEPSTAR_<NAME>_FILE`, then the file; checks its strength.
fn secret(
    name: &str,
    from_file: Option<Secret>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    let var = format!("KEEPSTAR_{name}");
    let value = if let Some(v) = env(&var) {
        Some(v)
    } else if let Some(file) = env(&format!("{var}_FILE")) {
        let v = std::fs::read_to_string(&file)
            .map_err(|e| invalid(format!("cannot read {var}_FILE {file}: {e}")))?;
        Some(v.trim().to_owned())
    } else {
        from_file.map(|s| s.expose().to_owned())
    };
    match value {
        Some(v) if v.len() < 32 => Err(ConfigError {
            message: format!(
                "{} is too short: use at least 32 random characters",
                name.to_lowercase()
            ),
            hint: Some(
                "`keepstar init` writes fresh secrets; or: head -c 32 /dev/urandom | base64".into(),
            ),
        }),
        v => Ok(v.map(Secret::new)),
    }
}

/// Checks a public URL (http/https, no query) and drops a trailing slash.
pub fn normalize_public_url(input: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(input)
        .map_err(|e| invalid(format!("invalid public URL {input:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(format!(
            "invalid public URL {input:?}: use http(s)://host[:port][/path]"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "invalid public URL {input:?}: no query or fragment"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The text `keepstar init` writes.
pub fn initial_file(public_url: &str, data_dir: &Path) -> String {
    format!(
        r#"# keepstar configuration. Every key can also be set by a flag or a KEEPSTAR_* variable;
# secrets also by KEEPSTAR_*_FILE. Keep this file private (mode 0600).

# The URL visitors' browsers reach keepstar at (behind your TLS proxy).
public_url = "{public_url}"
# Address and port `keepstar serve` listens on.
listen = "{DEFAULT_LISTEN}"
# Where the database lives, relative to this file.
data_dir = "{data_dir}"
# Proxies whose X-Forwarded-For is believed, e.g. ["127.0.0.1"].
trusted_proxies = []

# Signs visitor session tokens. Changing it signs every visitor out.
session_secret = "{session}"
# Encrypts provider API keys stored in the database. Changing it makes them unreadable.
encryption_key = "{encryption}"

# Abuse limits of the public widget API (defaults shown).
# [limits]
# sessions_per_minute_per_ip = 30
# messages_per_minute_per_ip = 60
# messages_per_minute_per_visitor = 20
# messages_per_minute_per_tenant = 600
# max_message_chars = 4000
# max_body_bytes = 32768
# session_ttl_secs = 3600
# request_head_timeout_secs = 30
# request_body_timeout_secs = 10
# request_body_min_bytes_per_sec = 4096
# max_connections_per_ip = 256

# Calls to LLM providers and webhooks (defaults shown; milliseconds).
# [upstream]
# connect_timeout_ms = 5000
# first_token_timeout_ms = 30000
# idle_timeout_ms = 30000
# total_timeout_ms = 120000
# retries = 2
# breaker_failures = 5
# breaker_cooldown_ms = 30000
# max_tool_rounds = 4
"#,
        data_dir = data_dir
            .display()
            .to_string()
            .replace('\\', "\\\\")
            .replace('"', "\\\""),
        session = crate::token::config_secret(),
        encryption = crate::token::config_secret(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        toml_text: &str,
        overrides: &Overrides,
        env: &[(&str, &str)],
    ) -> Result<Config, ConfigError> {
        let file: FileConfig =
            toml::from_str(toml_text).map_err(|e| invalid(e.message().to_owned()))?;
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(
            Path::new("/etc/keepstar/keepstar.toml"),
            file,
            overrides,
            &|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        )
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let c = resolve("", &Overrides::default(), &[]).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, Path::new("/etc/keepstar/data"));
        assert!(c.session_secret.is_none());
    }

    #[test]
    fn flag_beats_file_and_env_beats_file_for_secrets() {
        let file = format!(
            "listen = \"0.0.0.0:9000\"\nsession_secret = \"{}\"",
            "f".repeat(40)
        );
        let overrides = Overrides {
            listen: Some("127.0.0.1:7000".into()),
            ..Overrides::default()
        };
        let env_secret = "e".repeat(40);
        let c = resolve(
            &file,
            &overrides,
            &[("KEEPSTAR_SESSION_SECRET", &env_secret)],
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(c.session_secret.unwrap().expose(), env_secret);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = resolve("listn = \"x\"", &Overrides::default(), &[]).unwrap_err();
        assert!(err.message.contains("listn"), "{}", err.message);
    }

    #[test]
    fn short_secrets_and_bad_urls_are_refused() {
        assert!(resolve("session_secret = \"short\"", &Overrides::default(), &[]).is_err());
        assert!(resolve("public_url = \"ftp://x\"", &Overrides::default(), &[]).is_err());
        assert!(resolve("listen = \"nowhere\"", &Overrides::default(), &[]).is_err());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = resolve(
            &format!("session_secret = \"{}\"", "s".repeat(40)),
            &Overrides::default(),
            &[],
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains(&"s".repeat(40)));
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn the_initial_file_parses_with_fresh_secrets() {
        let a = initial_file("https://chat.example.com", Path::new("data"));
        let b = initial_file("https://chat.example.com", Path::new("data"));
        let ca = resolve(&a, &Overrides::default(), &[]).unwrap();
        let cb = resolve(&b, &Overrides::default(), &[]).unwrap();
        assert_eq!(ca.public_url, "https://chat.example.com");
        assert_ne!(ca.session_secret, cb.session_secret);
        assert_ne!(ca.session_secret, ca.encryption_key);
    }
}
