//! One stack with every kind moto can create, a changed version of it, and what the
//! kill and race tests (`tests/e2e_kill.rs`, `tests/e2e_race.rs`) share: the
//! infrastructure it needs, a dump without the ids AWS makes up, a field-by-field diff,
//! and an apply killed by the proxy's kill switch.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::proxy::Proxy;

/// A moto server, the proxy in front of it, and a directory holding the stack: what each
/// kill and race case runs against (the tests add their own methods).
pub struct Bench {
    pub emulator: super::Emulator,
    pub proxy: Proxy,
    pub dir: tempfile::TempDir,
}

impl Bench {
    pub fn new() -> Bench {
        let emulator = super::Emulator::start();
        let proxy = Proxy::start(&emulator.endpoint, &[]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("stacks")).unwrap();
        Bench {
            emulator,
            proxy,
            dir,
        }
    }

    /// The independent client's dump, normalized, without moto's leftover alarms; the
    /// alarm actions in it that name a topic or policy that does not exist; and how many
    /// leftovers were taken out.
    pub fn dump(&self) -> (Value, Vec<String>, usize) {
        let mut raw = self.emulator.awsctl(&["dump"]);
        let leftovers = without_moto_leftovers(&mut raw);
        let dangling = dangling_actions(&raw);
        (normalize(raw), dangling, leftovers)
    }

    /// The dump of a state every later one is compared with: it must hold no dangling
    /// action and no leftover itself.
    pub fn reference_dump(&self) -> Value {
        let (dump, dangling, leftovers) = self.dump();
        assert!(dangling.is_empty(), "actions naming nothing: {dangling:?}");
        assert_eq!(
            leftovers, 0,
            "moto left alarms of a replaced policy: {dump}"
        );
        dump
    }
}

/// How long a killed apply may take to reach its kill point.
const KILL_TIMEOUT: Duration = Duration::from_mins(2);

/// The endpoint from the environment, a secret as far as monplan knows.
pub const HOOK: (&str, &str) = ("KILL_HOOK", "https://hooks.example.com/kill/s3cr3t-token");

pub const STACK: &str = r#"
stack: kill
tags: { team: kill }
defaults:
  notify: [oncall]
topics:
  oncall:
    display_name: Kill on-call
    subscriptions:
      - email: oncall@example.com
      - https: https://hooks.example.com/kill
      - https: ${env:KILL_HOOK}
  audit:
    subscriptions:
      - email: audit@example.com
queues:
  jobs:
    name: kill-jobs
    dead_letter_queue: kill-jobs-dlq
    alarms:
      visible_messages: { above: 1000 }
      oldest_message_age: { above: 30m }
      dlq_visible_messages: { above: 0 }
    scaling:
      group: kill-workers
      latency: 10m
      processing_time: 15s
      from_zero: true
  thumbs:
    name: kill-thumbs
    dead_letter_queue: kill-thumbs-dlq
    alarms:
      visible_messages: { above: 5000 }
    scaling:
      service: kill/thumbs
      min: 1
      max: 10
      backlog_per_instance: 20
  renders:
    name: kill-renders
    dead_letter_queue: kill-renders-dlq
    scaling:
      service: kill/renders
      min: 0
      max: 8
      backlog_per_instance: 5
log_groups:
  workers:
    name: /kill/workers
log_metrics:
  heartbeat:
    log_group: workers
    pattern: '{ $.event = "HEARTBEAT" }'
    metric: { namespace: Kill, name: SecondsSinceProgress, unit: Seconds }
    value: $.since_progress
    dimensions: { InstanceId: $.instance_id }
  failures:
    log_group: workers
    pattern: 'ERROR'
    metric: { namespace: Kill, name: JobFailed, unit: Count }
workers:
  fleet:
    group: kill-workers
    queue: jobs
    heartbeat: heartbeat
    stuck_after: 10m
    on_stuck: replace
    notify: [oncall]
alarms:
  errors:
    metric: { namespace: Kill, name: JobFailed, stat: Sum }
    above: 5
    expect_metric: later
    treat_missing_data: not_breaching
    notify: [oncall, audit]
  backlog-per-worker:
    expression: visible / workers
    metrics:
      visible: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: kill-jobs }, stat: Sum }
      workers: { namespace: AWS/AutoScaling, name: GroupInServiceInstances, dimensions: { AutoScalingGroupName: kill-workers }, stat: Average }
    above: 50
  throughput-anomaly:
    metric: { namespace: AWS/SQS, name: NumberOfMessagesDeleted, dimensions: { QueueName: kill-jobs }, stat: Sum, period: 5m }
    outside_band: 2
    evaluation_periods: 3
    datapoints_to_alarm: 3
dashboards:
  overview:
    widgets:
      - queue: jobs
      - alarms: all
      - text: "Runbook: restart the workers"
"#;

/// The stack changed every way an apply can change it: a subscription removed and one
/// rotated (the `${env:...}` value changes too), a topic deleted with its subscription
/// and its place in an alarm's actions, a recipe alarm deleted and one updated, the
/// from-zero step policy and its alarm deleted, an ECS service's scaling removed (policy
/// deleted, target deregistered) and another's bounds changed, a metric filter deleted
/// and one changed, alarms updated, deleted and added, the dashboard rewritten.
pub const CHANGED: &str = r#"
stack: kill
tags: { team: kill }
defaults:
  notify: [oncall]
topics:
  oncall:
    display_name: Kill on-call (changed)
    subscriptions:
      - email: oncall@example.com
      - https: ${env:KILL_HOOK}
      - email: second@example.com
queues:
  jobs:
    name: kill-jobs
    dead_letter_queue: kill-jobs-dlq
    alarms:
      visible_messages: { above: 2000 }
      dlq_visible_messages: { above: 0 }
    scaling:
      group: kill-workers
      latency: 10m
      processing_time: 15s
  thumbs:
    name: kill-thumbs
    dead_letter_queue: kill-thumbs-dlq
    alarms:
      visible_messages: { above: 5000 }
  renders:
    name: kill-renders
    dead_letter_queue: kill-renders-dlq
    scaling:
      service: kill/renders
      min: 0
      max: 12
      backlog_per_instance: 5
log_groups:
  workers:
    name: /kill/workers
log_metrics:
  heartbeat:
    log_group: workers
    pattern: '{ $.event = "HEARTBEAT" && $.since_progress >= 0 }'
    metric: { namespace: Kill, name: SecondsSinceProgress, unit: Seconds }
    value: $.since_progress
    dimensions: { InstanceId: $.instance_id }
workers:
  fleet:
    group: kill-workers
    queue: jobs
    heartbeat: heartbeat
    stuck_after: 20m
    on_stuck: replace
    notify: [oncall]
alarms:
  errors:
    metric: { namespace: Kill, name: JobFailed, stat: Sum }
    above: 10
    expect_metric: later
    treat_missing_data: not_breaching
  backlog-per-worker:
    expression: visible / workers
    metrics:
      visible: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: kill-jobs }, stat: Sum }
      workers: { namespace: AWS/AutoScaling, name: GroupInServiceInstances, dimensions: { AutoScalingGroupName: kill-workers }, stat: Average }
    above: 80
  latency:
    metric: { namespace: Kill, name: Latency, stat: Average }
    above: 2
    expect_metric: later
dashboards:
  overview:
    widgets:
      - alarms: all
      - text: "Runbook: page the owner"
"#;

/// The `${env:KILL_HOOK}` value after a rotation.
pub const ROTATED_HOOK: &str = "https://hooks.example.com/kill/r0tated-token";

/// What the stack watches and scales: made by the independent client on each fresh moto.
pub fn infrastructure() -> String {
    let mut commands: Vec<Vec<String>> = Vec::new();
    for queue in ["kill-jobs", "kill-thumbs", "kill-renders"] {
        let dlq = format!("{queue}-dlq");
        let command = [
            "create-queue",
            queue,
            "--dlq",
            &dlq,
            "--visibility-timeout",
            "1200",
        ];
        commands.push(command.iter().map(ToString::to_string).collect());
    }
    for command in [
        &["create-group", "kill-workers", "--max", "5"][..],
        &["create-log-group", "/kill/workers"],
        &["create-service", "kill", "thumbs"],
        &["create-service", "kill", "renders"],
    ] {
        commands.push(command.iter().map(ToString::to_string).collect());
    }
    serde_json::to_string(&commands).unwrap()
}

/// The dump with what differs between two identical applies taken out: the ids AWS
/// makes up (UUIDs in subscription and policy ARNs, the id of a scalable target's ARN).
pub fn normalize(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(match text.split_once(":scalable-target/") {
            Some((head, _)) => format!("{head}:scalable-target/<id>"),
            None => without_uuids(&text),
        }),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (key, value) in map {
                // Two names that differ only in an id (the alarms a target tracking
                // policy gets, `...-AlarmHigh-<uuid>`) must not merge into one entry: the
                // second is numbered, so that a duplicate shows as an extra entry.
                let base = without_uuids(&key);
                let mut key = base.clone();
                let mut n = 1;
                while out.contains_key(&key) {
                    n += 1;
                    key = format!("{base} #{n}");
                }
                out.insert(key, normalize(value));
            }
            Value::Object(out)
        }
        other => other,
    }
}

/// Takes out of `dump` the alarms moto's Application Auto Scaling left behind: a
/// `TargetTracking-*` alarm every action of which names a scaling policy that no longer
/// exists; how many. moto replaces a target tracking policy put again (two applies at
/// once both put it) with a new one, new ARN and new alarms, and keeps the old alarms;
/// AWS updates the policy and its alarms in place. These alarms are AWS's, not monplan's
/// (it never reads, writes or deletes `TargetTracking-*` alarms).
pub fn without_moto_leftovers(dump: &mut Value) -> usize {
    let known = policy_arns(dump);
    let Some(alarms) = dump["alarms"].as_object_mut() else {
        return 0;
    };
    let before = alarms.len();
    alarms.retain(|name, alarm| {
        let actions: Vec<&str> = alarm["AlarmActions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let orphaned = name.starts_with("TargetTracking-")
            && !actions.is_empty()
            && actions.iter().all(|action| {
                let policy = action.split(":createdBy/").next().unwrap_or(action);
                policy.contains(":scalingPolicy:") && !known.iter().any(|k| k == policy)
            });
        !orphaned
    });
    before - alarms.len()
}

/// The ARNs of every EC2 and ECS scaling policy in `dump`.
fn policy_arns(dump: &Value) -> Vec<String> {
    let mut arns = Vec::new();
    for section in ["policies", "service_policies"] {
        for (_, policies) in dump[section].as_object().into_iter().flatten() {
            for (_, policy) in policies.as_object().into_iter().flatten() {
                arns.extend(policy["PolicyARN"].as_str().map(str::to_string));
            }
        }
    }
    arns
}

/// Alarm actions that name a topic or a scaling policy the dump does not hold (an alarm
/// left pointing at a policy replaced since, or at a deleted topic); read from the dump
/// before [`normalize`], which would make two such ARNs look alike.
pub fn dangling_actions(dump: &Value) -> Vec<String> {
    let mut known = policy_arns(dump);
    for topic in dump["topics"].as_object().into_iter().flatten() {
        known.extend(topic.1["arn"].as_str().map(str::to_string));
    }
    let mut dangling = Vec::new();
    for (name, alarm) in dump["alarms"].as_object().into_iter().flatten() {
        for list in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
            for action in alarm[list].as_array().into_iter().flatten() {
                let Some(action) = action.as_str() else {
                    continue;
                };
                let ours = action.contains(":sns:") || action.contains(":scalingPolicy:");
                // The alarms Application Auto Scaling makes for a target tracking policy
                // name it with a `:createdBy/<id>` suffix (as moto writes them).
                let target = action.split(":createdBy/").next().unwrap_or(action);
                if ours && !known.iter().any(|k| k == target) {
                    dangling.push(format!("alarm {name} {list}: {action}"));
                }
            }
        }
    }
    dangling
}

/// `text` with every UUID (8-4-4-4-12 hex digits) replaced by `<id>`.
fn without_uuids(text: &str) -> String {
    let is_uuid = |candidate: &[u8]| {
        candidate.len() == 36
            && candidate.iter().enumerate().all(|(i, b)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    *b == b'-'
                } else {
                    b.is_ascii_hexdigit()
                }
            })
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 36 <= bytes.len() && is_uuid(&bytes[i..i + 36]) {
            out.push_str("<id>");
            i += 36;
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Where two dumps differ, one line per path.
pub fn differences(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let (x, y) = (&a.get(key), &b.get(key));
                match (x, y) {
                    (Some(x), Some(y)) => differences(&format!("{path}/{key}"), x, y, out),
                    (Some(_), None) => out.push(format!("{path}/{key}: missing")),
                    (None, _) => out.push(format!("{path}/{key}: extra")),
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: expected {a}, found {b}")),
    }
}

/// `N to add, M to change, ...` of a plan's closing line.
pub fn summary(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("Plan: "))
        .map_or_else(
            || "?".to_string(),
            |rest| rest.trim_end_matches('.').to_string(),
        )
}

/// How an apply killed by the proxy ended.
pub struct Killed {
    /// The signal that ended it (`Some(9)`: the kill switch fired).
    pub signal: Option<i32>,
    /// Its exit code, had it exited by itself.
    pub code: Option<i32>,
    /// The operation of the write the switch fired after (`-`: it did not fire).
    pub fired_on: String,
    pub stderr: String,
}

/// Runs `cmd` (an apply aimed at `proxy`) with the kill switch armed at the `k`-th write.
///
/// # Panics
/// If it cannot be spawned, or the proxy refuses the settings.
pub fn killed_after(proxy: &Proxy, k: u64, mut cmd: Command) -> Killed {
    // Armed before the spawn: a write waits for the pid, so none can slip past.
    proxy.config(&json!({"kill_after_writes": k}));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn monplan");
    proxy.config(&json!({"kill_pid": i64::from(child.id())}));
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut { stderr }, &mut text);
        text
    });
    let deadline = Instant::now() + KILL_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap();
    let counts = proxy.stats();
    proxy.config(&json!({"kill_after_writes": null}));
    Killed {
        signal: status.signal(),
        code: status.code(),
        fired_on: counts["kill"]["fired_on"]
            .as_str()
            .unwrap_or("-")
            .to_string(),
        stderr,
    }
}
