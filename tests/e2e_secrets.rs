//! Secrets under failure (issue 11, item 6).
//!
//! A stack whose subscription endpoints come from `${env:...}` (a whole https webhook with
//! a token in its path and query, a token inside an https URL, an email address), and AWS
//! credentials with recognisable secret values (`AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`). Every command runs at `-vv` (`validate`, `plan` in each format,
//! `plan --out`, `apply` of the saved plan, `apply`, `drill --dry-run`, `import --out`, a
//! plan and apply after the webhook's token was rotated, `destroy`) in every failure
//! mode: none; each fault of `bench/proxy.py` (500, throttle, reset, hang with a short
//! `--timeout`, malformed) on the subscription reads and writes and on representative
//! other operations; a refused connection; no credentials; a profile that is missing or
//! a config file that is malformed around the secret; a YAML error and an unset variable;
//! an AWS error that quotes the rejected endpoint; SIGINT and SIGKILL mid-apply.
//!
//! Every run's stdout and stderr, and every file it wrote in its directory and `HOME`
//! (saved plans, imported YAML), are scanned for each secret: as is, URL-encoded,
//! JSON-escaped, base64 (standard and URL-safe, at every alignment) and for its
//! distinctive substrings, case-insensitively.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::proxy::Proxy;
use support::{Emulator, Output};

/// The environment's secrets: variable, value, and the substrings that identify it.
const WEBHOOK: (&str, &str, &[&str]) = (
    "VAULT_WEBHOOK",
    "https://hooks.example.com/services/T0WHK7MARKER/B0?token=whk-Yq2z-MARKER&x=1",
    &["T0WHK7MARKER", "whk-Yq2z-MARKER"],
);
/// The webhook after its token was rotated.
const ROTATED: (&str, &str, &[&str]) = (
    "VAULT_WEBHOOK",
    "https://hooks.example.com/services/T1ROTATEDMARKER/B1?token=rot-8Fq1-MARKER",
    &["T1ROTATEDMARKER", "rot-8Fq1-MARKER"],
);
const HOOK_TOKEN: (&str, &str, &[&str]) = (
    "VAULT_HOOK_TOKEN",
    "HOOKTOKEN-k3Zp9-MARKER/x?sig=Zq+9/w==",
    &["HOOKTOKEN-k3Zp9", "Zq+9/w=="],
);
const PAGER_EMAIL: (&str, &str, &[&str]) = (
    "VAULT_PAGER_EMAIL",
    "pager-EMAILMARKER-x8@example.com",
    &["EMAILMARKER"],
);
/// The email address after it was rotated too: the old one is then unsubscribed.
const ROTATED_EMAIL: (&str, &str, &[&str]) = (
    "VAULT_PAGER_EMAIL",
    "pager-NEWMAILMARKER-y9@example.com",
    &["NEWMAILMARKER"],
);
/// Only in the mode whose subscription AWS rejects quoting the endpoint.
const PHONE: (&str, &str, &[&str]) = ("VAULT_PHONE", "+1555..PHONEMARKER", &["PHONEMARKER"]);
const SECRET_KEY: (&str, &str, &[&str]) = (
    "AWS_SECRET_ACCESS_KEY",
    "SECRETKEYMARKER/wJalrXUtn+FEMI=K7MDENG",
    &["SECRETKEYMARKER", "wJalrXUtn"],
);
const SESSION_TOKEN: (&str, &str, &[&str]) = (
    "AWS_SESSION_TOKEN",
    "SESSIONTOKENMARKER//IQoJb3JpZ2luX2Vj+EXAMPLE==",
    &["SESSIONTOKENMARKER", "IQoJb3JpZ2luX2Vj"],
);

const ALL: [(&str, &str, &[&str]); 8] = [
    WEBHOOK,
    ROTATED,
    HOOK_TOKEN,
    PAGER_EMAIL,
    ROTATED_EMAIL,
    PHONE,
    SECRET_KEY,
    SESSION_TOKEN,
];

fn stack(name: &str, extra_subscription: &str) -> String {
    format!(
        r"stack: {name}
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
      - https: ${{env:VAULT_WEBHOOK}}
      - https: https://hooks.example.com/services/${{env:VAULT_HOOK_TOKEN}}
      - email: ${{env:VAULT_PAGER_EMAIL}}
{extra_subscription}queues:
  jobs:
    name: vault-jobs
    dead_letter_queue: vault-jobs-dlq
    alarms:
      visible_messages: {{ above: 10 }}
alarms:
  errors:
    metric: {{ namespace: Vault, name: Errors, stat: Sum }}
    above: 1
    expect_metric: later
    treat_missing_data: not_breaching
    notify: [oncall]
dashboards:
  overview:
    widgets:
      - alarms: all
"
    )
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The base64 characters of `bytes`' whole 3-byte groups (no padding, no partial tail).
fn base64_groups(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks_exact(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(B64[((n >> shift) & 63) as usize]));
        }
    }
    out
}

/// Percent-encoding of everything but the unreserved characters (a query string or a
/// form body), with upper- and lower-case hex digits.
fn url_encoded(text: &str) -> [String; 2] {
    let mut upper = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            upper.push(char::from(byte));
        } else {
            let _ = write!(upper, "%{byte:02X}");
        }
    }
    let lower = upper
        .split('%')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 || part.len() < 2 {
                part.to_string()
            } else {
                format!("{}{}", part[..2].to_ascii_lowercase(), &part[2..])
            }
        })
        .collect::<Vec<_>>()
        .join("%");
    [upper, lower]
}

/// Every form of one secret to look for, lower-cased (the scan is case-insensitive):
/// the value, URL-encoded, JSON-escaped (also with `\/`), base64 standard and URL-safe
/// at each of the three alignments it can have inside a longer encoded text, and its
/// distinctive substrings.
fn forms(value: &str, substrings: &[&str]) -> Vec<(String, String)> {
    let mut forms = vec![("as is".to_string(), value.to_string())];
    for encoded in url_encoded(value) {
        forms.push(("URL-encoded".into(), encoded));
    }
    let json = serde_json::to_string(value).unwrap();
    let json = json.trim_matches('"').to_string();
    forms.push(("JSON-escaped".into(), json.replace('/', "\\/")));
    forms.push(("JSON-escaped".into(), json));
    for skip in 0..3 {
        let groups = base64_groups(&value.as_bytes()[skip..]);
        forms.push(("base64".into(), groups.clone()));
        forms.push((
            "base64url".into(),
            groups.replace('+', "-").replace('/', "_"),
        ));
    }
    for substring in substrings {
        forms.push(("substring".into(), (*substring).to_string()));
    }
    // base64 is case-sensitive: keep it exact; the other forms are looked for in any case.
    forms
        .into_iter()
        .map(|(how, form)| {
            if how.starts_with("base64") {
                (how, form)
            } else {
                (how, form.to_lowercase())
            }
        })
        .collect()
}

/// Where a secret was found: what was scanned, which secret, in which form.
struct Found {
    mode: String,
    run: String,
    place: String,
    secret: &'static str,
    form: String,
}

/// Every form of every secret in `text`.
fn scan(text: &[u8], patterns: &[(&'static str, String, String)]) -> Vec<(&'static str, String)> {
    let exact = String::from_utf8_lossy(text);
    let lower = exact.to_lowercase();
    patterns
        .iter()
        .filter(|(_, how, form)| {
            if how.starts_with("base64") {
                exact.contains(form.as_str())
            } else {
                lower.contains(form.as_str())
            }
        })
        .map(|(secret, how, _)| (*secret, how.clone()))
        .collect()
}

fn patterns() -> Vec<(&'static str, String, String)> {
    ALL.iter()
        .flat_map(|(var, value, substrings)| {
            forms(value, substrings)
                .into_iter()
                .map(move |(how, form)| (*var, how, form))
        })
        .collect()
}

/// Every file under `dir` with its content.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.insert(path, bytes);
            }
        }
    }
    out
}

/// One failure mode: its name, the proxy faults, extra variables, variables removed,
/// extra global flags, and what to write before the first run.
struct Mode {
    name: String,
    faults: Vec<String>,
    set: Vec<(String, String)>,
    unset: Vec<&'static str>,
    flags: Vec<&'static str>,
    /// A subscription line added to the stack.
    extra_subscription: &'static str,
    /// The stack file is broken: validation fails.
    broken_yaml: bool,
    /// Files to write under the mode's `HOME` (relative path, content).
    home_files: Vec<(&'static str, String)>,
    /// The endpoint is a port nothing listens on.
    refused: bool,
}

impl Mode {
    fn new(name: &str) -> Mode {
        Mode {
            name: name.to_string(),
            faults: Vec::new(),
            set: Vec::new(),
            unset: Vec::new(),
            flags: Vec::new(),
            extra_subscription: "",
            broken_yaml: false,
            home_files: Vec::new(),
            refused: false,
        }
    }
}

/// Operations faulted in turn: the subscription read and writes (the calls that carry
/// an endpoint), and the tag query every plan starts with.
const FAULTED: [&str; 4] = [
    "ListSubscriptionsByTopic",
    "Subscribe",
    "Unsubscribe",
    "GetResources",
];
const KINDS: [&str; 5] = ["500", "throttle", "reset", "hang", "malformed"];

fn modes() -> Vec<Mode> {
    let mut modes = vec![Mode::new("no fault")];
    for op in FAULTED {
        for kind in KINDS {
            let mut mode = Mode::new(&format!("{op}={kind}"));
            mode.faults.push(format!("{op}={kind}"));
            modes.push(mode);
        }
    }
    let mut refused = Mode::new("connection refused");
    refused.refused = true;
    modes.push(refused);

    let mut none = Mode::new("no credentials");
    none.unset = vec!["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
    modes.push(none);

    // The secret key sits in a credentials file; the profile asked for is not there.
    let mut profile = Mode::new("missing profile");
    profile.unset = vec![
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ];
    profile.flags = vec!["--profile", "missing"];
    profile.home_files = vec![(
        ".aws/credentials",
        format!(
            "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {}\naws_session_token = {}\n",
            SECRET_KEY.1, SESSION_TOKEN.1
        ),
    )];
    modes.push(profile);

    // A config file malformed on the very lines that hold the secrets.
    let mut malformed = Mode::new("malformed config file");
    malformed.unset = vec![
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ];
    malformed.home_files = vec![(
        ".aws/config",
        format!(
            "[default]\naws_access_key_id = AKIDEXAMPLE\n  aws_secret_access_key {}\n[profile\naws_session_token = {}\n",
            SECRET_KEY.1, SESSION_TOKEN.1
        ),
    )];
    modes.push(malformed);

    // The SDK's own logs stay off whatever the environment asks: its trace logs would
    // show request headers (the session token) and bodies (the endpoints).
    let mut rust_log = Mode::new("RUST_LOG trace");
    rust_log.set = vec![("RUST_LOG".into(), "trace".into())];
    modes.push(rust_log);

    let mut yaml = Mode::new("YAML error and an unset variable");
    yaml.broken_yaml = true;
    modes.push(yaml);

    // moto rejects an SMS endpoint quoting it: "Invalid SMS endpoint: <endpoint>".
    let mut echo = Mode::new("AWS error quoting the endpoint");
    echo.extra_subscription = "      - sms: ${env:VAULT_PHONE}\n";
    echo.set = vec![(PHONE.0.to_string(), PHONE.1.to_string())];
    modes.push(echo);
    modes
}

/// The commands of one mode, in order. `{stack}` is the mode's stack name, `{n}` a
/// counter for file names.
const COMMANDS: &[&[&str]] = &[
    &["validate"],
    &["plan"],
    &["plan", "--format", "json"],
    &["plan", "--format", "markdown"],
    &["plan", "--out", "saved-plan.json"],
    &["apply", "saved-plan.json"],
    &["apply", "--auto-approve"],
    &["drill", "{stack}", "--dry-run"],
    &["import", "--prefix", "{stack}-", "--out", "imported.yaml"],
    // The webhook's token rotated: the old subscription goes, the new one comes.
    &["rotate", "plan"],
    &["rotate", "apply", "--auto-approve"],
    &["destroy", "{stack}", "--auto-approve"],
];

struct Run {
    mode: String,
    label: String,
    seconds: f64,
    output: Output,
    wrote: BTreeMap<PathBuf, Vec<u8>>,
}

#[allow(clippy::too_many_lines)] // one mode's runs, step by step
fn run_mode(emulator: &Emulator, index: usize, mode: &Mode, runs: &Mutex<Vec<Run>>) -> u64 {
    let name = format!("s{index}");
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    for (path, content) in &mode.home_files {
        let path = home.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    let mut yaml = stack(&name, mode.extra_subscription);
    if mode.broken_yaml {
        yaml = yaml
            .replace("    subscriptions:", "    subscription:")
            .replace("${env:VAULT_HOOK_TOKEN}", "${env:VAULT_UNSET}");
    }
    std::fs::write(dir.path().join(format!("stacks/{name}.yaml")), yaml).unwrap();

    let flags: Vec<&str> = mode
        .faults
        .iter()
        .flat_map(|f| ["--fault", f.as_str()])
        .collect();
    let proxy = (!mode.refused).then(|| Proxy::start(&emulator.endpoint, &flags));
    let refused_endpoint = {
        // A port that was free a moment ago: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    let endpoint = proxy
        .as_ref()
        .map_or(refused_endpoint, |p| p.endpoint.clone());
    let home_var = home.to_string_lossy().into_owned();
    let mut set: Vec<(String, String)> = vec![
        (WEBHOOK.0.into(), WEBHOOK.1.into()),
        (HOOK_TOKEN.0.into(), HOOK_TOKEN.1.into()),
        (PAGER_EMAIL.0.into(), PAGER_EMAIL.1.into()),
        ("AWS_ENDPOINT_URL".into(), endpoint),
        ("HOME".into(), home_var),
    ];
    if !mode.unset.contains(&"AWS_SECRET_ACCESS_KEY") {
        set.push((SECRET_KEY.0.into(), SECRET_KEY.1.into()));
    }
    if !mode.unset.contains(&"AWS_SESSION_TOKEN") {
        set.push((SESSION_TOKEN.0.into(), SESSION_TOKEN.1.into()));
    }
    if !mode.home_files.is_empty() {
        for (path, _) in &mode.home_files {
            let var = if path.ends_with("credentials") {
                "AWS_SHARED_CREDENTIALS_FILE"
            } else {
                "AWS_CONFIG_FILE"
            };
            set.push((var.into(), home.join(path).to_string_lossy().into_owned()));
        }
    }
    set.extend(mode.set.iter().cloned());

    let mut counter = 0;
    for command in COMMANDS {
        counter += 1;
        let mut envs = set.clone();
        let command: &[&str] = if command[0] == "rotate" {
            for (key, value) in &mut envs {
                if key == WEBHOOK.0 {
                    *value = ROTATED.1.to_string();
                } else if key == PAGER_EMAIL.0 {
                    *value = ROTATED_EMAIL.1.to_string();
                }
            }
            &command[1..]
        } else {
            command
        };
        let out_name = format!("imported-{counter}.yaml");
        // A short bound only where a call hangs: elsewhere a busy machine must not turn
        // into timeouts.
        let timeout = if mode.name.ends_with("=hang") {
            "4"
        } else {
            "60"
        };
        let args: Vec<String> = ["-vv", "--timeout", timeout]
            .iter()
            .chain(mode.flags.iter())
            .map(ToString::to_string)
            .chain(command.iter().map(|a| match *a {
                "{stack}" => name.clone(),
                "{stack}-" => format!("{name}-"),
                "imported.yaml" => out_name.clone(),
                other => other.to_string(),
            }))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let before = files(dir.path());
        let start = Instant::now();
        let output = emulator.run_without(&args, dir.path(), &envs, &mode.unset);
        let seconds = start.elapsed().as_secs_f64();
        let wrote: BTreeMap<PathBuf, Vec<u8>> = files(dir.path())
            .into_iter()
            .filter(|(path, bytes)| before.get(path) != Some(bytes))
            .collect();
        runs.lock().unwrap().push(Run {
            mode: mode.name.clone(),
            label: args.join(" "),
            seconds,
            output,
            wrote,
        });
    }
    proxy.map_or(0, |p| p.stats()["totals"]["faulted"].as_u64().unwrap_or(0))
}

/// apply, interrupted while a `PutMetricAlarm` hangs: SIGINT, then SIGKILL.
fn interrupted(emulator: &Emulator, signal: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("sig{}", signal.to_lowercase());
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(
        dir.path().join(format!("stacks/{name}.yaml")),
        stack(&name, ""),
    )
    .unwrap();
    let proxy = Proxy::start(&emulator.endpoint, &["--fault", "PutMetricAlarm=hang"]);
    let mut cmd = emulator.monplan();
    cmd.args(["-vv", "--timeout", "60", "apply", "--auto-approve"])
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .env(SECRET_KEY.0, SECRET_KEY.1)
        .env(SESSION_TOKEN.0, SESSION_TOKEN.1)
        .env(WEBHOOK.0, WEBHOOK.1)
        .env(HOOK_TOKEN.0, HOOK_TOKEN.1)
        .env(PAGER_EMAIL.0, PAGER_EMAIL.1)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let before = files(dir.path());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    // Until the hung write is in flight: the subscriptions are made by then.
    let deadline = Instant::now() + Duration::from_mins(1);
    while proxy.stats()["totals"]["faulted"].as_u64().unwrap_or(0) == 0 {
        assert!(
            Instant::now() < deadline,
            "the apply never reached PutMetricAlarm"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("monplan did not end within 30 s of SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        code,
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    };
    let wrote = files(dir.path())
        .into_iter()
        .filter(|(path, bytes)| before.get(path) != Some(bytes))
        .collect();
    Run {
        mode: format!("SIG{signal} mid-apply"),
        label: "-vv apply --auto-approve".into(),
        seconds: 0.0,
        output,
        wrote,
    }
}

#[test]
#[allow(clippy::too_many_lines)] // the modes, the scan and the report
fn no_secret_in_any_output_or_file_in_any_failure_mode() {
    let started = Instant::now();
    let emulator = Emulator::start();
    emulator.awsctl(&["create-queue", "vault-jobs", "--dlq", "vault-jobs-dlq"]);
    let mut modes = modes();
    // The modes that wait for timeouts take longest: start them first.
    modes.sort_by_key(|m| !m.name.ends_with("=hang"));
    let runs = Mutex::new(Vec::new());
    let faulted = Mutex::new(BTreeMap::new());
    let queue = Mutex::new(modes.iter().enumerate());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| loop {
                let Some((index, mode)) = queue.lock().unwrap().next() else {
                    break;
                };
                let start = Instant::now();
                let n = run_mode(&emulator, index, mode, &runs);
                faulted
                    .lock()
                    .unwrap()
                    .insert(mode.name.clone(), (n, start.elapsed().as_secs_f64()));
            });
        }
        scope.spawn(|| {
            for signal in ["INT", "KILL"] {
                let run = interrupted(&emulator, signal);
                runs.lock().unwrap().push(run);
            }
        });
    });
    let runs = runs.into_inner().unwrap();
    let faulted = faulted.into_inner().unwrap();

    let patterns = patterns();
    let mut found: Vec<Found> = Vec::new();
    // `import` writes email, SQS, Lambda and SMS endpoints as AWS returns them (README,
    // "Secrets" under import): it cannot know that one came from `${env:...}` in a YAML
    // it does not read. Counted apart, not as a leak.
    let mut by_design: Vec<Found> = Vec::new();
    let mut scanned_files = 0;
    let mut scanned_bytes = 0;
    for run in &runs {
        let mut places: Vec<(String, &[u8])> = vec![
            ("stdout".into(), run.output.stdout.as_bytes()),
            ("stderr".into(), run.output.stderr.as_bytes()),
        ];
        for (path, bytes) in &run.wrote {
            places.push((path.display().to_string(), bytes));
        }
        scanned_files += run.wrote.len();
        for (place, bytes) in places {
            scanned_bytes += bytes.len();
            for (secret, form) in scan(bytes, &patterns) {
                let hit = Found {
                    mode: run.mode.clone(),
                    run: run.label.clone(),
                    place: place.clone(),
                    secret,
                    form,
                };
                let imported = run.label.contains(" import ") && place.ends_with("imported.yaml")
                    || place.contains("/imported-");
                if imported && secret == PAGER_EMAIL.0 && !hit.form.starts_with("base64") {
                    by_design.push(hit);
                } else {
                    found.push(hit);
                }
            }
        }
    }

    let modes_run: std::collections::BTreeSet<&str> =
        runs.iter().map(|r| r.mode.as_str()).collect();
    eprintln!(
        "modes: {} ({} fault modes: {} operations x {} kinds; plus the others and 2 signals)\n\
         runs: {} (each at -vv)\n\
         scanned: {} outputs and {} written files, {} bytes, for {} secrets in {} forms\n\
         secret bytes found: {}\n\
         the email from ${{env:...}} in import's YAML (documented): {} runs\n\
         wall time: {:.1} s",
        modes_run.len(),
        FAULTED.len() * KINDS.len(),
        FAULTED.len(),
        KINDS.len(),
        runs.len(),
        runs.len() * 2,
        scanned_files,
        scanned_bytes,
        ALL.len(),
        patterns.len(),
        found.len(),
        by_design
            .iter()
            .map(|f| (&f.mode, &f.run))
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        started.elapsed().as_secs_f64()
    );
    // The runs did what each mode is about: no mode passed for want of trying.
    let by_mode = |name: &'static str| runs.iter().filter(move |r| r.mode == name);
    let clean: Vec<&Run> = by_mode("no fault").collect();
    for run in &clean {
        assert!(
            run.output.code == 0 || run.label.contains("plan"),
            "no fault: {} {}",
            run.label,
            run.output
        );
    }
    assert!(
        clean.iter().any(|r| r
            .output
            .stdout
            .contains("(sensitive: ${env:VAULT_WEBHOOK})")),
        "the plan shows the webhook redacted"
    );
    assert!(
        clean.iter().any(|r| r
            .output
            .stdout
            .lines()
            .any(|l| l
                .contains("https:(sensitive: https://hooks.example.com/...) will be destroyed"))),
        "the rotated webhook's old subscription is shown as https://hooks.example.com/..."
    );
    let slowest = faulted
        .iter()
        .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
        .map(|(mode, (_, secs))| format!("{mode} ({secs:.1} s)"))
        .unwrap_or_default();
    let mut slow: Vec<&Run> = runs.iter().collect();
    slow.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    let slow: Vec<String> = slow
        .iter()
        .take(5)
        .map(|r| format!("{} | {} ({:.1} s)", r.mode, r.label, r.seconds))
        .collect();
    eprintln!(
        "slowest mode: {slowest}\nslowest runs:\n  {}",
        slow.join("\n  ")
    );
    for run in runs.iter().filter(|r| r.mode.starts_with("SIG")) {
        eprintln!(
            "{}: exit {}, last stderr line: {:?}",
            run.mode,
            run.output.code,
            run.output.stderr.lines().last().unwrap_or("")
        );
    }
    for (mode, (n, _)) in &faulted {
        if mode.contains('=') {
            assert!(*n > 0, "{mode}: the fault was injected");
        }
    }
    assert!(
        clean.iter().any(|r| r
            .output
            .stdout
            .contains("email:(sensitive: ...@example.com) will be destroyed")),
        "the rotated email's old subscription is shown by its domain only"
    );
    assert!(
        runs.iter().any(|r| r.output.stderr.contains("DEBUG")),
        "-vv prints monplan's debug logs (e.g. the retries of a throttled call)"
    );
    let echo: Vec<&Run> = by_mode("AWS error quoting the endpoint").collect();
    assert!(
        echo.iter().any(|r| r
            .output
            .stderr
            .contains("Invalid SMS endpoint: (sensitive: ${env:VAULT_PHONE})")),
        "moto rejected the SMS endpoint quoting it, and monplan redacted the quote"
    );
    for run in by_mode("no credentials").chain(by_mode("missing profile")) {
        // validate and drill --dry-run make no AWS call.
        if !run.label.contains("validate") && !run.label.contains("--dry-run") {
            assert_eq!(run.output.code, 1, "{}: {}", run.label, run.output);
        }
    }

    let report: Vec<String> = found
        .iter()
        .map(|f| {
            format!(
                "{} | {} | {}: {} ({})",
                f.mode, f.run, f.place, f.secret, f.form
            )
        })
        .collect();
    assert!(found.is_empty(), "secrets found:\n{}", report.join("\n"));
}
