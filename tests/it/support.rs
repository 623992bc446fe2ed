//! A temp dir with an initialised keepstar, and a way to run the real binary in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Kit {
    pub dir: tempfile::TempDir,
}

/// What a run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts a runtime refusal: exit 1, one `error:` line that mentions `needle`.
    #[track_caller]
    pub fn fails_with(self, needle: &str) -> Run {
        assert_eq!(
            self.code, 1,
            "expected exit 1\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let first = self.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: "), "stderr: {}", self.stderr);
        assert!(first.contains(needle), "expected {needle:?} in {first:?}");
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl Kit {
    /// An empty temp dir.
    pub fn empty() -> Kit {
        Kit {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A temp dir after `keepstar init --public-url https://chat.example.com`.
    pub fn init() -> Kit {
        let kit = Kit::empty();
        kit.run(&["init", "--public-url", "https://chat.example.com"])
            .ok();
        kit
    }

    /// An initialised kit with tenant `shop` allowed on https://shop.example.
    pub fn with_shop() -> Kit {
        let kit = Kit::init();
        kit.run(&[
            "tenant",
            "add",
            "shop",
            "--name",
            "Shop",
            "--origin",
            "https://shop.example",
        ])
        .ok();
        kit
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.path().join("data/keepstar.db")
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keepstar"));
        cmd.current_dir(self.path())
            .env_remove("KEEPSTAR_CONFIG")
            .env_remove("KEEPSTAR_DATA_DIR")
            .env_remove("KEEPSTAR_PUBLIC_URL")
            .env_remove("KEEPSTAR_SESSION_SECRET")
            .env_remove("KEEPSTAR_ENCRYPTION_KEY")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_cmd(self.command().args(args))
    }

    /// Runs the binary with `input` on its stdin.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run keepstar");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }

    pub fn run_cmd(&self, cmd: &mut Command) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().expect("run keepstar");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }

    /// A read-only look at the database, as a test's independent witness.
    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.db_path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.sql().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Every byte of the database files, the WAL included.
    pub fn raw_db(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(self.path().join("data")).unwrap() {
            bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        bytes
    }

    /// Every row of every table, as text, to compare whole databases.
    pub fn dump(&self) -> String {
        dump(&self.sql())
    }
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn dump(conn: &rusqlite::Connection) -> String {
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables.retain(|t| t != "refinery_schema_history");
    let mut out = String::new();
    for table in tables {
        out.push_str(&format!("== {table}\n"));
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            out.push_str(&cells.join(" | "));
            out.push('\n');
        }
    }
    out
}
