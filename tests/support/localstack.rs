//! A private `LocalStack` server on 127.0.0.1 per test, for what moto lacks (composite
//! alarms, alarm evaluation). Never real AWS.
//!
//! Use as `support::localstack::LocalStack` (`mod support;` in a test file). The API
//! mirrors [`Emulator`](super::Emulator): [`LocalStack::start`], [`LocalStack::run`],
//! [`LocalStack::monplan`], [`LocalStack::awsctl`], [`LocalStack::log_tail`], and the
//! server is stopped when dropped (SIGTERM, then SIGKILL after 5 s).
//!
//! The open-source runtime runs on the host, without Docker, from `.venv-localstack`
//! (created by `scripts/ensure-localstack.sh` on first use, from the pinned
//! `scripts/localstack-requirements.txt`), or from the Python interpreter named by
//! `MONPLAN_LOCALSTACK_PYTHON` (one with `localstack-core` installed). That interpreter
//! also runs awsctl (the requirements include boto3), so these tests need no moto.
//!
//! Each instance has its own port, `FILESYSTEM_ROOT`, `XDG_CACHE_HOME` and `HOME` in a
//! temp dir, so instances run in parallel. Costs: ~1.5 s to start, ~3-4 s to stop, ~110
//! MiB idle and ~500-650 MiB once used; the first request to it takes ~4 s more (it loads
//! its request parsers), the first Tagging API call ~2 s more.
//!
//! Where it differs from AWS (checked against 2026.3.0): the Resource Groups Tagging API
//! returns no `CloudWatch` alarm and no SNS topic, tagged or not; `DescribeAlarms` ignores
//! `AlarmTypes` and `MaxRecords` (always both kinds, one page); `PutCompositeAlarm` checks
//! neither the rule's syntax nor that the alarms it names exist; `DeleteAlarms` deletes an
//! alarm that a composite names, and ignores unknown names; Tags on a put of an existing
//! alarm are merged into its tags (AWS ignores them); a composite alarm is evaluated only
//! when its rule names its children by ARN.
#![allow(dead_code)] // not every test file uses every helper

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::{
    free_port, http, monplan_command, path_var, repo, run_awsctl, run_monplan, tail, Output,
    LOG_TAIL_LINES, START_ATTEMPTS,
};

/// What `SERVICES` is set to: what monplan calls (`CloudWatch`, SNS, STS, the Resource
/// Groups Tagging API) and SQS, to subscribe a queue to a topic and see alarm
/// notifications arrive.
pub const SERVICES: &[&str] = &[
    "cloudwatch",
    "sns",
    "sqs",
    "sts",
    "resourcegroupstaggingapi",
];

/// How long `LocalStack` may take to report every service available (it takes ~1-2 s).
const START_TIMEOUT: Duration = Duration::from_mins(1);
/// How long after SIGTERM before SIGKILL (about 1 in 7 shutdowns hang).
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long after `LocalStack` says "Ready." its own "Running on" line may still be missing
/// before we conclude that another process holds the port. `LocalStack` does not exit when
/// it cannot bind: it prints "Ready." as soon as *something* answers on the port.
const BIND_GRACE: Duration = Duration::from_secs(2);

fn venv() -> PathBuf {
    repo().join(".venv-localstack")
}

/// Runs `scripts/ensure-localstack.sh` at most once per test process. The script itself
/// returns at once (~0.1 s) when the venv is complete and matches the requirements file's
/// hash; otherwise it (re)installs, under an flock that makes parallel callers wait.
fn ensure_localstack() {
    static RESULT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = RESULT.get_or_init(|| {
        let script = repo().join("scripts/ensure-localstack.sh");
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

/// The Python that runs `LocalStack` and awsctl: `MONPLAN_LOCALSTACK_PYTHON`, else
/// `.venv-localstack/bin/python` (installing it if needed).
fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("MONPLAN_LOCALSTACK_PYTHON") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "MONPLAN_LOCALSTACK_PYTHON={} does not exist; unset it or run scripts/ensure-localstack.sh",
            path.display()
        );
        return path;
    }
    ensure_localstack();
    venv().join("bin/python")
}

enum Startup {
    Ready,
    /// Another process holds the port (`LocalStack` keeps running without serving).
    PortTaken,
    Exited(ExitStatus),
    TimedOut,
}

/// A `LocalStack` server of our own on 127.0.0.1, stopped when dropped.
pub struct LocalStack {
    pub port: u16,
    /// `http://127.0.0.1:PORT`, what `AWS_ENDPOINT_URL` is set to.
    pub endpoint: String,
    child: Child,
    log: PathBuf,
    /// Holds the server log, its filesystem root and cache, and the `HOME` given to
    /// `LocalStack`, monplan and awsctl.
    scratch: tempfile::TempDir,
}

impl LocalStack {
    /// Starts a fresh `LocalStack` server and waits until it reports every one of
    /// [`SERVICES`] available.
    ///
    /// # Panics
    /// If `LocalStack` cannot be installed or is not ready within 60 s (shows the log tail).
    pub fn start() -> LocalStack {
        let python = python();
        let scratch = tempfile::Builder::new()
            .prefix("monplan-localstack-")
            .tempdir()
            .expect("create a temp dir");
        fs::create_dir(scratch.path().join("home")).expect("create temp HOME");
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let attempt = scratch.path().join(format!("ls-{port}"));
            fs::create_dir_all(&attempt).expect("create the LocalStack dir");
            let log = attempt.join("localstack.log");
            let file = fs::File::create(&log).expect("create the LocalStack log");
            let listen = format!("127.0.0.1:{port}");
            let mut cmd = Command::new(&python);
            cmd.args(["-m", "localstack.runtime.main"])
                .env_clear()
                .env("PATH", path_var())
                .env("HOME", scratch.path().join("home"))
                .env("PYTHONUNBUFFERED", "1")
                .env("PYTHONDONTWRITEBYTECODE", "1")
                // The machine looks like a container to LocalStack; it is not one.
                .env("OVERRIDE_IN_DOCKER", "0")
                .env("FILESYSTEM_ROOT", attempt.join("fs"))
                .env("XDG_CACHE_HOME", attempt.join("cache"))
                .env("GATEWAY_LISTEN", &listen)
                .env("LOCALSTACK_HOST", &listen)
                // The default server binds 0.0.0.0 whatever GATEWAY_LISTEN says.
                .env("GATEWAY_SERVER", "hypercorn")
                .env("SERVICES", SERVICES.join(","))
                // The v1 CloudWatch provider indexes alarms (metric and composite) in the
                // Resource Groups Tagging API, which is how monplan finds what a stack
                // owns; the default v2 provider's alarms are invisible there.
                .env("PROVIDER_OVERRIDE_CLOUDWATCH", "v1")
                .env("PERSISTENCE", "0")
                .env("DISABLE_EVENTS", "1")
                // No DNS server of its own.
                .env("DNS_ADDRESS", "0")
                // Never reach the internet: no certificate download, no license or
                // analytics calls (port 9 on loopback refuses at once).
                .env("SKIP_SSL_CERT_DOWNLOAD", "1")
                .env("API_ENDPOINT", "http://127.0.0.1:9/v1")
                .env("ANALYTICS_API", "http://127.0.0.1:9/v1")
                .stdin(Stdio::null())
                .stdout(file.try_clone().expect("clone the log handle"))
                .stderr(file);
            if let Some(tmp) = std::env::var_os("TMPDIR") {
                cmd.env("TMPDIR", tmp);
            }
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", python.display()));
            match wait_until_ready(&mut child, port, &log) {
                Startup::Ready => {
                    return LocalStack {
                        port,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        child,
                        log,
                        scratch,
                    };
                }
                Startup::PortTaken => {
                    terminate(&mut child);
                    failures.push(format!(
                        "port {port}: taken by another process:\n{}",
                        tail(&log, 10)
                    ));
                }
                Startup::Exited(status) => {
                    failures.push(format!(
                        "port {port}: LocalStack exited early ({status}):\n{}",
                        tail(&log, 10)
                    ));
                }
                Startup::TimedOut => {
                    terminate(&mut child);
                    panic!(
                        "LocalStack on port {port} was not ready within {}s; last lines of {}:\n{}",
                        START_TIMEOUT.as_secs(),
                        log.display(),
                        tail(&log, LOG_TAIL_LINES)
                    );
                }
            }
        }
        panic!(
            "LocalStack failed to start {START_ATTEMPTS} times:\n{}",
            failures.join("\n")
        );
    }

    /// Stops the server now: SIGTERM, then SIGKILL if it has not exited within 5 s.
    /// Idempotent.
    pub fn stop(&mut self) {
        terminate(&mut self.child);
    }

    /// The server's process id (e.g. to read its memory use from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last `lines` lines of the server log (one line per request, and errors).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// The temporary `HOME` given to `LocalStack`, monplan and awsctl.
    pub fn home(&self) -> PathBuf {
        self.scratch.path().join("home")
    }

    /// A `Command` for the monplan binary with the same hermetic environment as
    /// [`Emulator::monplan`](super::Emulator::monplan), aimed at this server.
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

    /// Runs `tests/support/awsctl.py ARGS` against this server and parses its JSON.
    ///
    /// # Panics
    /// If awsctl fails (shows its stderr) or prints something that is not JSON.
    pub fn awsctl(&self, args: &[&str]) -> serde_json::Value {
        run_awsctl(&python(), &self.home(), &self.endpoint, args)
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- last lines of the LocalStack log ({}) ---\n{}",
                self.endpoint,
                self.log_tail(LOG_TAIL_LINES)
            );
        }
        self.stop();
    }
}

/// SIGTERM, then SIGKILL after [`STOP_GRACE`]; reaps the child. Idempotent. The signal is
/// sent by `kill(1)` because this crate forbids `unsafe` (no `libc::kill`); the pid cannot
/// have been reused, as the child is not reaped until `wait` below.
fn terminate(child: &mut Child) {
    if matches!(child.try_wait(), Ok(None)) {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_GRACE;
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
        }
    }
    let _ = child.wait();
}

/// Whether `/_localstack/health` reports every one of [`SERVICES`] `available` (loads on
/// first request) or `running`.
fn services_ready(port: u16) -> bool {
    let Ok((200, body)) = http(port, "GET", "/_localstack/health") else {
        return false;
    };
    let Ok(health) = serde_json::from_str::<serde_json::Value>(&body) else {
        return false;
    };
    SERVICES.iter().all(|name| {
        matches!(
            health["services"][name].as_str(),
            Some("available" | "running")
        )
    })
}

fn wait_until_ready(child: &mut Child, port: u16, log: &Path) -> Startup {
    // Only once *our* server logs that it holds the port can a healthy answer be trusted
    // to come from it rather than from another process that won a race for the port.
    let bound = format!("://127.0.0.1:{port} ");
    let deadline = Instant::now() + START_TIMEOUT;
    let mut ready_unbound_since: Option<Instant> = None;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Startup::Exited(status);
        }
        let text = fs::read_to_string(log).unwrap_or_default();
        let holds_port = text
            .lines()
            .any(|line| line.contains("Running on ") && line.contains(&bound));
        if holds_port {
            if services_ready(port) {
                return Startup::Ready;
            }
        } else if text.lines().any(|line| line.trim() == "Ready.") {
            let since = *ready_unbound_since.get_or_insert_with(Instant::now);
            if since.elapsed() > BIND_GRACE {
                return Startup::PortTaken;
            }
        }
        thread::sleep(Duration::from_millis(100));
    }
    Startup::TimedOut
}
