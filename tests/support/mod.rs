//! Shared integration-test support (`mod support;` in a test file).
//!
//! - [`Emulator`]: a private moto server on 127.0.0.1 per test (never real AWS).
//! - [`Emulator::run`] / [`Emulator::monplan`]: the `monplan` binary with a hermetic
//!   environment pointed at that emulator.
//! - [`Emulator::awsctl`]: an independent boto3 client (`tests/support/awsctl.py`) to
//!   inspect what monplan really did, or to change things behind its back.
//! - [`localstack::LocalStack`]: the same for a `LocalStack` server, for what moto lacks
//!   (composite alarms, alarm evaluation); see `localstack.rs`.
//!
//! The moto server comes from `MONPLAN_MOTO_SERVER`, else `.venv-moto/bin/moto_server`
//! (created by `scripts/ensure-moto.sh` on first use); the Python interpreter for awsctl
//! from `MONPLAN_PYTHON`, else `.venv-moto/bin/python`.
#![allow(dead_code)] // not every test file uses every helper

pub mod every_kind;
pub mod localstack;
pub mod proxy;
pub mod replay;

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How long a moto server may take to answer after being spawned.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts with a fresh port when the server exits early (another process took the port).
const START_ATTEMPTS: u32 = 5;
/// How long one `monplan` run may take before the test fails instead of hanging.
const RUN_TIMEOUT: Duration = Duration::from_mins(3);
/// Lines of the moto log shown when something goes wrong.
const LOG_TAIL_LINES: usize = 40;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv() -> PathBuf {
    repo().join(".venv-moto")
}

/// Runs `scripts/ensure-moto.sh` at most once per test process, and only when the venv is
/// missing or incomplete (no stamp: never installed, or another process is installing;
/// the script's flock makes us wait for that one).
fn ensure_moto() {
    static RESULT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = RESULT.get_or_init(|| {
        let venv = venv();
        if venv.join("bin/moto_server").is_file() && venv.join(".moto-version").is_file() {
            return Ok(());
        }
        let script = repo().join("scripts/ensure-moto.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({}):\n{}{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A tool from an environment variable, else from `.venv-moto/bin/` (installing it if needed).
fn tool(var: &str, default: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{var}={} does not exist; unset it or run scripts/ensure-moto.sh",
            path.display()
        );
        return path;
    }
    ensure_moto();
    venv().join("bin").join(default)
}

fn moto_server() -> PathBuf {
    tool("MONPLAN_MOTO_SERVER", "moto_server")
}

pub fn python() -> PathBuf {
    tool("MONPLAN_PYTHON", "python")
}

fn path_var() -> OsString {
    std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// A bare HTTP/1.0 request to 127.0.0.1:`port`; returns the status code and body.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let status = response
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:.200}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    Ok((status, body))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read(path).map_or_else(
        |e| format!("<cannot read {}: {e}>", path.display()),
        |bytes| String::from_utf8_lossy(&bytes).into_owned(),
    );
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

enum Startup {
    Ready,
    Exited(ExitStatus),
    TimedOut,
}

/// A moto server of our own on 127.0.0.1, killed when dropped.
pub struct Emulator {
    pub port: u16,
    /// `http://127.0.0.1:PORT`, what `AWS_ENDPOINT_URL` is set to.
    pub endpoint: String,
    child: Child,
    log: PathBuf,
    /// Holds the server log and the `HOME` given to monplan and awsctl.
    scratch: tempfile::TempDir,
}

impl Emulator {
    /// Starts a fresh moto server and waits until it answers.
    ///
    /// # Panics
    /// If moto cannot be installed or does not answer within 30 s (shows the log tail).
    pub fn start() -> Emulator {
        Self::start_in_account(None)
    }

    /// A moto server whose resources live in `account` (`MOTO_ACCOUNT_ID`) instead of
    /// moto's 123456789012: beside `LocalStack`, whose default account is 000000000000,
    /// both emulators then are one account, as the services of one AWS account are.
    pub fn start_as_account(account: &str) -> Emulator {
        Self::start_in_account(Some(account))
    }

    fn start_in_account(account: Option<&str>) -> Emulator {
        let server = moto_server();
        let scratch = tempfile::Builder::new()
            .prefix("monplan-test-")
            .tempdir()
            .expect("create a temp dir");
        fs::create_dir(scratch.path().join("home")).expect("create temp HOME");
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let log = scratch.path().join(format!("moto-{port}.log"));
            let file = fs::File::create(&log).expect("create the moto log");
            let mut cmd = Command::new(&server);
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env_clear()
                .env("PATH", path_var())
                .env("HOME", scratch.path().join("home"))
                .env("PYTHONUNBUFFERED", "1")
                .envs(account.map(|a| ("MOTO_ACCOUNT_ID", a)))
                .stdin(Stdio::null())
                .stdout(file.try_clone().expect("clone the log handle"))
                .stderr(file);
            if let Some(tmp) = std::env::var_os("TMPDIR") {
                cmd.env("TMPDIR", tmp);
            }
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", server.display()));
            match wait_until_ready(&mut child, port, &log) {
                Startup::Ready => {
                    return Emulator {
                        port,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        child,
                        log,
                        scratch,
                    };
                }
                Startup::Exited(status) => {
                    // Most likely lost a race for the port: try another one.
                    failures.push(format!(
                        "port {port}: moto_server exited early ({status}):\n{}",
                        tail(&log, 10)
                    ));
                }
                Startup::TimedOut => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "moto_server on port {port} did not answer within {}s; last lines of {}:\n{}",
                        START_TIMEOUT.as_secs(),
                        log.display(),
                        tail(&log, LOG_TAIL_LINES)
                    );
                }
            }
        }
        panic!(
            "moto_server failed to start {START_ATTEMPTS} times:\n{}",
            failures.join("\n")
        );
    }

    /// Kills the server now (e.g. to simulate the emulator dying). Idempotent.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    /// Wipes all emulator state (`POST /moto-api/reset`).
    ///
    /// # Panics
    /// If the server does not answer 200.
    pub fn reset(&self) {
        match http(self.port, "POST", "/moto-api/reset") {
            Ok((200, _)) => {}
            Ok((status, body)) => panic!("moto reset answered {status}: {body:.500}"),
            Err(e) => panic!("moto reset failed: {e}\n{}", self.log_tail(LOG_TAIL_LINES)),
        }
    }

    /// The last `lines` lines of the server log (requests and errors).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// The temporary `HOME` given to monplan and awsctl.
    pub fn home(&self) -> PathBuf {
        self.scratch.path().join("home")
    }

    /// A `Command` for the monplan binary with a hermetic environment aimed at this
    /// emulator: only `PATH`, a temp `HOME`, static test credentials, `us-east-1`, no IMDS,
    /// no config/credential files, one attempt per request, and `NO_COLOR=1`.
    pub fn monplan(&self) -> Command {
        monplan_command(&self.home(), &self.endpoint)
    }

    /// Runs monplan with `args` in `dir`, with `envs` added to the hermetic environment
    /// and stdin closed. Fails the test if it runs longer than 3 minutes.
    ///
    /// # Panics
    /// If monplan cannot be spawned or times out.
    pub fn run(&self, args: &[&str], dir: &Path, envs: &[(&str, &str)]) -> Output {
        run_monplan(self.monplan(), args, dir, envs)
    }

    /// As [`Emulator::run`], with the variables `unset` removed from the hermetic
    /// environment (e.g. the static credentials, to see a run without any).
    ///
    /// # Panics
    /// If monplan cannot be spawned or times out.
    pub fn run_without(
        &self,
        args: &[&str],
        dir: &Path,
        envs: &[(&str, &str)],
        unset: &[&str],
    ) -> Output {
        let mut cmd = self.monplan();
        for var in unset {
            cmd.env_remove(var);
        }
        run_monplan(cmd, args, dir, envs)
    }

    /// As [`Emulator::run`], but with standard error (and input) on a pseudo-terminal
    /// (`tests/support/terminal.py`) and colour allowed (no `NO_COLOR`), as on a user's
    /// terminal. The result's `stderr` is every byte the terminal received, escape
    /// sequences included.
    ///
    /// # Panics
    /// If the program cannot be run or runs over 150 s.
    pub fn run_on_terminal(&self, args: &[&str], dir: &Path, envs: &[(&str, &str)]) -> Output {
        let monplan = self.monplan();
        let mut cmd = Command::new(python());
        cmd.env_clear();
        for (key, value) in monplan.get_envs() {
            if let Some(value) = value {
                cmd.env(key, value);
            }
        }
        cmd.env_remove("NO_COLOR")
            .env("TERM", "xterm-256color")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/terminal.py"))
            .arg(env!("CARGO_BIN_EXE_monplan"))
            .args(args)
            .current_dir(dir);
        for (key, value) in envs {
            cmd.env(key, value);
        }
        let ran = run_with_timeout(&mut cmd, RUN_TIMEOUT);
        assert_eq!(ran.code, 0, "terminal.py failed\n{ran}");
        let result: serde_json::Value =
            serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{e}: {ran}"));
        Output {
            code: result["code"]
                .as_i64()
                .and_then(|c| i32::try_from(c).ok())
                .unwrap_or(-1),
            stdout: result["stdout"].as_str().unwrap_or_default().to_string(),
            stderr: result["terminal"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// Runs `tests/support/awsctl.py ARGS` against this emulator and parses its JSON.
    ///
    /// # Panics
    /// If awsctl fails (shows its stderr) or prints something that is not JSON.
    pub fn awsctl(&self, args: &[&str]) -> serde_json::Value {
        run_awsctl(&python(), &self.home(), &self.endpoint, args)
    }
}

/// Replaces `cmd`'s environment with a hermetic one aimed at the emulator at `endpoint`
/// (shared by [`Emulator`] and [`localstack::LocalStack`]).
/// The monplan binary with the hermetic environment of [`hermetic_env`] and `NO_COLOR=1`.
fn monplan_command(home: &Path, endpoint: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_monplan"));
    hermetic_env(&mut cmd, home, endpoint);
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs a prepared monplan `cmd` (from [`Emulator::monplan`], its environment changed)
/// with `args` in `dir`, stdin closed, within 3 minutes.
pub fn run_command(cmd: Command, args: &[&str], dir: &Path) -> Output {
    run_monplan(cmd, args, dir, &[])
}

/// Runs `cmd` with `args` in `dir` and `envs` added, stdin closed, within 3 minutes.
fn run_monplan(mut cmd: Command, args: &[&str], dir: &Path, envs: &[(&str, &str)]) -> Output {
    cmd.args(args).current_dir(dir);
    for (key, value) in envs {
        cmd.env(key, value);
    }
    run_with_timeout(&mut cmd, RUN_TIMEOUT)
}

/// Runs `tests/support/awsctl.py ARGS` with `python` against `endpoint`; its JSON.
fn run_awsctl(python: &Path, home: &Path, endpoint: &str, args: &[&str]) -> serde_json::Value {
    let script = repo().join("tests/support/awsctl.py");
    let mut cmd = Command::new(python);
    hermetic_env(&mut cmd, home, endpoint);
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(&script)
        .arg("--endpoint")
        .arg(endpoint)
        .args(args);
    let out = run_with_timeout(&mut cmd, RUN_TIMEOUT);
    assert!(out.code == 0, "awsctl {args:?} failed\n{out}");
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("awsctl {args:?} printed invalid JSON ({e})\n{out}"))
}

fn hermetic_env(cmd: &mut Command, home: &Path, endpoint: &str) {
    cmd.env_clear()
        .env("PATH", path_var())
        .env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_ENDPOINT_URL", endpoint);
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- last lines of the moto log ({}) ---\n{}",
                self.endpoint,
                self.log_tail(LOG_TAIL_LINES)
            );
        }
        self.stop();
    }
}

fn wait_until_ready(child: &mut Child, port: u16, log: &Path) -> Startup {
    // Only once *our* server logs that it holds the port can a 200 be trusted to come from
    // it rather than from another process that won a race for the same port.
    let bound = format!("Running on http://127.0.0.1:{port}");
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Startup::Exited(status);
        }
        let holds_port = fs::read_to_string(log).is_ok_and(|text| text.contains(&bound));
        if holds_port && matches!(http(port, "GET", "/moto-api/"), Ok((200, _))) {
            return Startup::Ready;
        }
        thread::sleep(Duration::from_millis(50));
    }
    Startup::TimedOut
}

fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for {cmd:?}: {e}"),
        }
    };
    let output = Output {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out_reader.join().expect("stdout reader")).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned(),
    };
    assert!(
        status.is_some(),
        "{cmd:?} did not finish within {}s and was killed\n{output}",
        timeout.as_secs()
    );
    output
}

/// What a finished process printed. `code` is -1 if it was killed by a signal.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing both streams if it differs.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert!(
            self.code == code,
            "expected exit code {code}, got {}\n{self}",
            self.code
        );
        self
    }

    /// Same as `assert_code(0)`.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// Asserts that stdout contains `needle`, showing both streams otherwise.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout does not contain {needle:?}\n{self}"
        );
        self
    }

    /// Asserts that stderr contains `needle`, showing both streams otherwise.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr does not contain {needle:?}\n{self}"
        );
        self
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- exit code: {} ---", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// Every `*.yaml` file below `dir`, recursively (the examples and the fixtures).
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
