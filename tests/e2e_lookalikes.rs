//! Look-alikes are never touched (issue 11, item 5).
//!
//! One moto server, one stack `shop` with every kind moto can serve: a topic with an email
//! and an https subscription, queue recipe alarms, metric, metric-math and anomaly-band
//! alarms, a dashboard, an EC2 group's target tracking and from-zero step policies, two ECS
//! services scaled through Application Auto Scaling, two metric filters and a workers
//! stuck alarm (Metrics Insights). moto cannot create composite alarms (`PutCompositeAlarm`
//! is a 500) or saved queries (no query definitions at all), so the stack declares
//! neither; `tests/plan.rs` covers their ownership.
//!
//! Before any monplan run, the independent client (`tests/support/awsctl.py`) plants beside
//! every kind, in five classes:
//!
//! - (a) names that differ from ours by a prefix, a suffix or a separator: stack `shop-eu`'s
//!   resources (tagged `monplan:stack=shop-eu`), `shop-overview` for `shop_overview`, ...;
//! - (b) ours by name (`shop-{key}`, a key the stack does not declare until the conflict
//!   step) but tagged `monplan:stack=shop-eu`;
//! - (c) ours by name and untagged (and an ECS scalable target on a service the stack
//!   scales, registered by someone else);
//! - (d) AWS-created or another owner's beside ours: `TargetTracking-*` alarms as Auto
//!   Scaling names them (one even tagged as ours), the alarms moto's Application Auto
//!   Scaling creates for a foreign policy, a foreign target tracking policy on our group
//!   and on our service, a foreign filter on our log group;
//! - (e) in us-west-2, named and tagged exactly as ours (with their own queue, group, log
//!   group and service).
//!
//! Kinds that cannot be tagged (dashboards, scaling policies, metric filters) are owned
//! by their `{stack}_` name prefix (the contract's ownership table): a `shop_*` one is
//! ours by definition, so classes (b) and (c) do not exist for them.
//!
//! Then: plan, apply, plan (`No changes.`), a stack that declares the (b) and (c) names
//! (plan and apply refuse, each conflict an error at its YAML line), destroy. After each
//! step the client dumps both regions: every planted resource is equal, as full JSON
//! (tags, subscriptions, bodies, policies, thresholds), to its state right after
//! planting, and whatever is new is ours.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};
use support::{Emulator, Output};

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

const STACK: &str = r#"
stack: shop
tags: { team: shop }
defaults:
  notify: [oncall]
topics:
  oncall:
    display_name: Shop on-call
    subscriptions:
      - email: oncall@example.com
      - https: https://hooks.example.com/shop
#+topics
queues:
  jobs:
    name: shop-jobs
    dead_letter_queue: shop-jobs-dlq
    alarms:
      visible_messages: { above: 1000 }
      oldest_message_age: { above: 30m }
      dlq_visible_messages: { above: 0 }
    scaling:
      group: shop-workers
      latency: 10m
      processing_time: 15s
      from_zero: true
  thumbs:
    name: shop-thumbs
    dead_letter_queue: shop-thumbs-dlq
    alarms:
      visible_messages: { above: 5000 }
    scaling:
      service: shop/thumbs
      min: 1
      max: 10
      backlog_per_instance: 20
  renders:
    name: shop-renders
    dead_letter_queue: shop-renders-dlq
    scaling:
      service: shop/renders
      min: 0
      max: 8
      backlog_per_instance: 5
#+queues
log_groups:
  workers:
    name: /shop/workers
log_metrics:
  heartbeat:
    log_group: workers
    pattern: '{ $.event = "HEARTBEAT" }'
    metric: { namespace: Shop, name: SecondsSinceProgress, unit: Seconds }
    value: $.since_progress
    dimensions: { InstanceId: $.instance_id }
  failures:
    log_group: workers
    pattern: 'ERROR'
    metric: { namespace: Shop, name: JobFailed, unit: Count }
workers:
  fleet:
    group: shop-workers
    queue: jobs
    heartbeat: heartbeat
    stuck_after: 10m
    on_stuck: replace
    notify: [oncall]
#+workers
alarms:
  errors:
    metric: { namespace: Shop, name: JobFailed, stat: Sum }
    above: 5
    expect_metric: later
    treat_missing_data: not_breaching
  backlog-per-worker:
    expression: visible / workers
    metrics:
      visible: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: shop-jobs }, stat: Sum }
      workers: { namespace: AWS/AutoScaling, name: GroupInServiceInstances, dimensions: { AutoScalingGroupName: shop-workers }, stat: Average }
    above: 50
  throughput-anomaly:
    metric: { namespace: AWS/SQS, name: NumberOfMessagesDeleted, dimensions: { QueueName: shop-jobs }, stat: Sum, period: 5m }
    outside_band: 2
    evaluation_periods: 3
    datapoints_to_alarm: 3
#+alarms
dashboards:
  overview:
    widgets:
      - queue: jobs
      - alarms: all
      - text: "Runbook: restart the workers"
"#;

/// What the conflict step adds after each `#+section` marker, the line its error points
/// at (the key that names the resource), and the name and class of the planted
/// resource it collides with.
struct Conflict {
    section: &'static str,
    yaml: &'static str,
    at: &'static str,
    name: &'static str,
    class: &'static str,
}

const CONFLICTS: [Conflict; 7] = [
    Conflict {
        section: "topics",
        yaml: "  pager: {}",
        at: "  pager: {}",
        name: "shop-pager",
        class: "b",
    },
    Conflict {
        section: "topics",
        yaml: "  audit: {}",
        at: "  audit: {}",
        name: "shop-audit",
        class: "c",
    },
    Conflict {
        section: "queues",
        yaml: "  orders:\n    name: shop-orders\n    dead_letter_queue: shop-orders-dlq\n    alarms:\n      visible_messages: { above: 10 }",
        at: "      visible_messages: { above: 10 }",
        name: "shop-orders-visible-messages",
        class: "b",
    },
    Conflict {
        section: "queues",
        yaml: "      oldest_message_age: { above: 5m }",
        at: "      oldest_message_age: { above: 5m }",
        name: "shop-orders-oldest-message-age",
        class: "c",
    },
    Conflict {
        section: "alarms",
        yaml: "  legacy-errors:\n    metric: { namespace: Shop, name: JobFailed, stat: Sum }\n    above: 1\n    expect_metric: later\n    treat_missing_data: not_breaching",
        at: "  legacy-errors:",
        name: "shop-legacy-errors",
        class: "b",
    },
    Conflict {
        section: "alarms",
        yaml: "  latency:\n    metric: { namespace: Shop, name: Latency, stat: Average }\n    above: 2\n    expect_metric: later",
        at: "  latency:",
        name: "shop-latency",
        class: "c",
    },
    Conflict {
        section: "workers",
        yaml: "  pool:\n    group: shop-workers\n    queue: jobs\n    heartbeat: heartbeat\n    stuck_after: 20m\n    on_stuck: notify\n    notify: [oncall]",
        at: "  pool:",
        name: "shop-pool-stuck",
        class: "c",
    },
];

/// The stack with the conflict step's entries inserted (`with`), or as applied.
fn stack(with: bool) -> String {
    let mut text = STACK.to_string();
    if with {
        for section in ["topics", "queues", "alarms", "workers"] {
            let marker = format!("#+{section}\n");
            let mut added = String::new();
            for conflict in CONFLICTS.iter().filter(|c| c.section == section) {
                added.push_str(conflict.yaml);
                added.push('\n');
            }
            text = text.replace(&marker, &format!("{added}{marker}"));
        }
    }
    text
}

/// One planted resource: where `dump` shows it, its kind and class for the report.
struct Plant {
    region: &'static str,
    path: Vec<String>,
    kind: &'static str,
    class: &'static str,
}

/// A `Foreign` metric alarm of `PutMetricAlarm` parameters.
fn alarm_params(namespace: &str, metric: &str, dims: &[(&str, &str)]) -> String {
    json!({
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": dims.iter().map(|(k, v)| json!({"Name": k, "Value": v})).collect::<Vec<_>>(),
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": 70.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmDescription": "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy",
    })
    .to_string()
}

/// A dashboard body that is not the one monplan would write.
fn body(text: &str) -> String {
    json!({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 2,
        "properties": {"markdown": text}}]})
    .to_string()
}

/// What to plant: the `awsctl batch` commands and the resources they leave (the
/// infrastructure the stacks name, queues, groups, log groups and services, is not a
/// look-alike and is not counted).
fn plants() -> (Vec<Vec<String>>, Vec<Plant>) {
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut plants = Vec::new();
    let mut run = |region: &'static str, args: &[&str]| {
        let mut command = vec!["--region".to_string(), region.to_string()];
        command.extend(args.iter().map(ToString::to_string));
        commands.push(command);
    };
    let mut plant = |region: &'static str, path: &[&str], kind: &'static str, class| {
        plants.push(Plant {
            region,
            path: path.iter().map(ToString::to_string).collect(),
            kind,
            class,
        });
    };

    // The infrastructure the stack watches and scales, in both regions.
    for region in [EAST, WEST] {
        for queue in ["shop-jobs", "shop-thumbs", "shop-renders", "shop-orders"] {
            run(
                region,
                &[
                    "create-queue",
                    queue,
                    "--dlq",
                    &format!("{queue}-dlq"),
                    "--visibility-timeout",
                    "1200",
                ],
            );
        }
        run(region, &["create-group", "shop-workers", "--max", "5"]);
        run(region, &["create-log-group", "/shop/workers"]);
        run(region, &["create-service", "shop", "thumbs"]);
        run(region, &["create-service", "shop", "renders"]);
    }
    run(EAST, &["create-log-group", "/shop-eu/workers"]);
    run(EAST, &["create-service", "shop-eu", "thumbs"]);

    // Topics, with subscriptions.
    let eu = "monplan:stack=shop-eu";
    let ours = "monplan:stack=shop";
    for (region, name, tags, class) in [
        (EAST, "shop-eu-oncall", vec![eu, "team=shop"], "a"),
        (EAST, "shop-oncall-old", vec![], "a"),
        (EAST, "shop-pager", vec![eu], "b"),
        (EAST, "shop-audit", vec![], "c"),
        (EAST, "shop-case", vec!["monplan:stack=Shop"], "b"),
        (EAST, "shop-key", vec!["Monplan:stack=shop"], "c"),
        (WEST, "shop-oncall", vec![ours, "team=shop"], "e"),
    ] {
        let mut args = vec!["create-topic", name];
        for tag in &tags {
            args.extend(["--tag", tag]);
        }
        run(region, &args);
        run(region, &["subscribe", name, "email", "oncall@example.com"]);
        run(
            region,
            &["subscribe", name, "https", "https://hooks.example.com/shop"],
        );
        plant(
            region,
            &["topics", name],
            "topic (with subscriptions)",
            class,
        );
    }

    // Metric alarms: queue recipes, plain, workers stuck.
    for (region, name, tags, kind, class) in [
        (
            EAST,
            "shop-eu-jobs-visible-messages",
            vec![eu],
            "queue recipe alarm",
            "a",
        ),
        (
            EAST,
            "shop-eu-jobs-oldest-message-age",
            vec![eu],
            "queue recipe alarm",
            "a",
        ),
        (
            EAST,
            "shop-jobs-visible-messages-old",
            vec![],
            "queue recipe alarm",
            "a",
        ),
        (
            EAST,
            "shop-orders-visible-messages",
            vec![eu],
            "queue recipe alarm",
            "b",
        ),
        (
            EAST,
            "shop-orders-oldest-message-age",
            vec![],
            "queue recipe alarm",
            "c",
        ),
        (
            WEST,
            "shop-jobs-visible-messages",
            vec![ours, "team=shop"],
            "queue recipe alarm",
            "e",
        ),
        (
            WEST,
            "shop-thumbs-visible-messages",
            vec![ours, "team=shop"],
            "queue recipe alarm",
            "e",
        ),
        (EAST, "shop-eu-errors", vec![eu], "metric alarm", "a"),
        (
            EAST,
            "shop-eu-backlog-per-worker",
            vec![eu, "team=shop"],
            "metric alarm",
            "a",
        ),
        (EAST, "shop-legacy-errors", vec![eu], "metric alarm", "b"),
        (EAST, "shop-latency", vec![], "metric alarm", "c"),
        // Owner tags that are only almost ours: another case, a trailing space, the key
        // in another case (AWS compares tags byte for byte).
        (
            EAST,
            "shop-case-errors",
            vec!["monplan:stack=Shop"],
            "metric alarm",
            "b",
        ),
        (
            EAST,
            "shop-space-errors",
            vec!["monplan:stack=shop "],
            "metric alarm",
            "b",
        ),
        (
            EAST,
            "shop-key-errors",
            vec!["Monplan:stack=shop"],
            "metric alarm",
            "c",
        ),
        (
            WEST,
            "shop-errors",
            vec![ours, "team=shop"],
            "metric alarm",
            "e",
        ),
        (
            WEST,
            "shop-backlog-per-worker",
            vec![ours, "team=shop"],
            "metric alarm",
            "e",
        ),
        (
            EAST,
            "shop-eu-fleet-stuck",
            vec![eu],
            "workers stuck alarm",
            "a",
        ),
        (EAST, "shop-pool-stuck", vec![], "workers stuck alarm", "c"),
        (
            WEST,
            "shop-fleet-stuck",
            vec![ours, "team=shop"],
            "workers stuck alarm",
            "e",
        ),
    ] {
        let mut args = vec!["put-alarm", name];
        for tag in &tags {
            args.extend(["--tag", tag]);
        }
        run(region, &args);
        plant(region, &["alarms", name], kind, class);
    }

    // What Auto Scaling creates for a target tracking policy on our group, one of them
    // tagged as ours (AWS never would: the name alone says whose it is).
    let cpu = alarm_params(
        "AWS/EC2",
        "CPUUtilization",
        &[("AutoScalingGroupName", "shop-workers")],
    );
    for (region, name, tags) in [
        (
            EAST,
            "TargetTracking-shop-workers-AlarmHigh-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
            vec![],
        ),
        (
            EAST,
            "TargetTracking-shop-workers-AlarmLow-1c2d3e4f-5061-7283-94a5-b6c7d8e9f0a1",
            vec![],
        ),
        (
            EAST,
            "TargetTracking-shop-workers-AlarmHigh-2d3e4f50-6172-8394-a5b6-c7d8e9f0a1b2",
            vec![ours],
        ),
        (
            WEST,
            "TargetTracking-shop-workers-AlarmHigh-3e4f5061-7283-94a5-b6c7-d8e9f0a1b2c3",
            vec![],
        ),
    ] {
        let mut args = vec!["put-alarm-raw", name, cpu.as_str()];
        for tag in &tags {
            args.extend(["--tag", tag]);
        }
        run(region, &args);
        plant(
            region,
            &["alarms", name],
            "TargetTracking-* alarm",
            if region == WEST { "e" } else { "d" },
        );
    }

    // Dashboards.
    for (region, name, class) in [
        (EAST, "shop-eu_overview", "a"),
        (EAST, "shop-overview", "a"),
        (EAST, "shopping_overview", "a"),
        (WEST, "shop_overview", "e"),
    ] {
        run(region, &["put-dashboard", name, &body(name)]);
        plant(region, &["dashboards", name], "dashboard", class);
    }

    // EC2 Auto Scaling policies on our group (moto keys them by name alone: one name
    // per region).
    for (region, name, class) in [
        (EAST, "shop-eu_jobs", "a"),
        (EAST, "shop-jobs", "a"),
        (EAST, "cpu50", "d"),
        (WEST, "shop_jobs", "e"),
        (WEST, "shop_jobs-from-zero", "e"),
    ] {
        run(region, &["put-policy", "shop-workers", name]);
        plant(
            region,
            &["policies", "shop-workers", name],
            "EC2 scaling policy",
            class,
        );
    }

    // Metric filters.
    for (region, group, name, class) in [
        (EAST, "/shop/workers", "shop-eu_heartbeat", "a"),
        (EAST, "/shop/workers", "shop-heartbeat", "a"),
        (EAST, "/shop-eu/workers", "shop-eu_heartbeat", "a"),
        (EAST, "/shop/workers", "errors", "d"),
        (WEST, "/shop/workers", "shop_heartbeat", "e"),
        (WEST, "/shop/workers", "shop_failures", "e"),
    ] {
        run(region, &["put-metric-filter", group, name, "ERROR"]);
        plant(
            region,
            &["metric_filters", group, name],
            "metric filter",
            class,
        );
    }

    // Application Auto Scaling: someone else's target on a service the stack scales, with
    // their policies on it; another stack's target and policy on `shop-eu/thumbs`; ours
    // in us-west-2.
    run(
        EAST,
        &[
            "register-target",
            "shop",
            "renders",
            "--min",
            "0",
            "--max",
            "4",
        ],
    );
    plant(
        EAST,
        &["scalable_targets", "service/shop/renders"],
        "ECS scalable target",
        "c",
    );
    run(
        EAST,
        &["put-service-policy", "shop", "renders", "cpu-tracking"],
    );
    plant(
        EAST,
        &["service_policies", "service/shop/renders", "cpu-tracking"],
        "ECS scaling policy",
        "d",
    );
    run(
        EAST,
        &["put-service-policy", "shop", "renders", "shop-eu_renders"],
    );
    plant(
        EAST,
        &[
            "service_policies",
            "service/shop/renders",
            "shop-eu_renders",
        ],
        "ECS scaling policy",
        "a",
    );
    run(EAST, &["register-target", "shop-eu", "thumbs"]);
    plant(
        EAST,
        &["scalable_targets", "service/shop-eu/thumbs"],
        "ECS scalable target",
        "a",
    );
    run(
        EAST,
        &["put-service-policy", "shop-eu", "thumbs", "shop-eu_thumbs"],
    );
    plant(
        EAST,
        &[
            "service_policies",
            "service/shop-eu/thumbs",
            "shop-eu_thumbs",
        ],
        "ECS scaling policy",
        "a",
    );
    run(
        WEST,
        &[
            "register-target",
            "shop",
            "thumbs",
            "--min",
            "1",
            "--max",
            "10",
        ],
    );
    plant(
        WEST,
        &["scalable_targets", "service/shop/thumbs"],
        "ECS scalable target",
        "e",
    );
    run(
        WEST,
        &["put-service-policy", "shop", "thumbs", "shop_thumbs"],
    );
    plant(
        WEST,
        &["service_policies", "service/shop/thumbs", "shop_thumbs"],
        "ECS scaling policy",
        "e",
    );

    (commands, plants)
}

fn dump(emulator: &Emulator) -> BTreeMap<&'static str, Value> {
    let both = emulator.awsctl(&["batch", r#"[["dump"], ["--region", "us-west-2", "dump"]]"#]);
    BTreeMap::from([(EAST, both[0].clone()), (WEST, both[1].clone())])
}

/// Every resource of a dump, by region and path (`alarms/NAME`,
/// `policies/GROUP/NAME`, ...), at the granularity monplan creates and deletes.
fn resources(dumps: &BTreeMap<&'static str, Value>) -> BTreeMap<Vec<String>, Value> {
    let mut out = BTreeMap::new();
    for (region, dump) in dumps {
        for (section, depth) in [
            ("topics", 1),
            ("alarms", 1),
            ("composite_alarms", 1),
            ("dashboards", 1),
            ("scalable_targets", 1),
            ("policies", 2),
            ("metric_filters", 2),
            ("service_policies", 2),
        ] {
            let Some(map) = dump[section].as_object() else {
                panic!("dump has no {section}: {dump}");
            };
            for (name, value) in map {
                let base = vec![(*region).to_string(), section.to_string(), name.clone()];
                if depth == 1 {
                    out.insert(base, value.clone());
                } else {
                    for (inner, value) in value.as_object().into_iter().flatten() {
                        let mut path = base.clone();
                        path.push(inner.clone());
                        out.insert(path, value.clone());
                    }
                }
            }
        }
    }
    out
}

fn key(region: &str, path: &[String]) -> Vec<String> {
    std::iter::once(region.to_string())
        .chain(path.iter().cloned())
        .collect()
}

/// Whether `path` (region first) is one of the stack's own resources: in us-east-1,
/// named with its prefix, or the alarms moto's Application Auto Scaling creates for
/// the policies it puts (`TargetTracking-service/shop/...`, created after planting).
fn ours(path: &[String]) -> bool {
    let [region, section, rest @ ..] = path else {
        return false;
    };
    let name = rest.last().map_or("", String::as_str);
    region == EAST
        && match section.as_str() {
            "topics" => name == "shop-oncall",
            "alarms" => {
                (name.starts_with("shop-") && !name.starts_with("shop-eu-"))
                    || name.starts_with("TargetTracking-service/shop/")
            }
            "dashboards" | "policies" | "metric_filters" | "service_policies" => {
                name.starts_with("shop_")
            }
            // The target monplan registers (moto cannot read its tags back).
            "scalable_targets" => name == "service/shop/thumbs",
            _ => false,
        }
}

/// Asserts that every planted resource (all of `baseline`) is as it was, and that what
/// is new is the stack's own. Returns the paths that differ, for the report.
fn untouched(
    step: &str,
    baseline: &BTreeMap<Vec<String>, Value>,
    now: &BTreeMap<Vec<String>, Value>,
) -> usize {
    let mut touched = Vec::new();
    for (path, before) in baseline {
        match now.get(path) {
            Some(after) if after == before => {}
            Some(after) => touched.push(format!(
                "{}: changed\n  before: {before}\n  after:  {after}",
                path.join("/")
            )),
            None => touched.push(format!("{}: deleted (was {before})", path.join("/"))),
        }
    }
    let strangers: Vec<String> = now
        .keys()
        .filter(|path| !baseline.contains_key(*path) && !ours(path))
        .map(|path| path.join("/"))
        .collect();
    assert!(
        strangers.is_empty(),
        "after {step}: resources that are neither planted nor ours: {strangers:?}"
    );
    assert!(
        touched.is_empty(),
        "after {step}: {} planted resources touched:\n{}",
        touched.len(),
        touched.join("\n")
    );
    touched.len()
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    emulator.run(args, dir, &[])
}

/// 1-based line of the first line of `text` equal to `line`.
fn line_of(text: &str, line: &str) -> usize {
    text.lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line:?} not in the stack"))
        + 1
}

#[test]
#[allow(clippy::too_many_lines)] // one scenario, step by step
fn look_alikes_of_every_kind_are_never_touched() {
    let started = Instant::now();
    let emulator = Emulator::start();
    let (commands, plants) = plants();
    emulator.awsctl(&["batch", &serde_json::to_string(&commands).unwrap()]);
    let baseline = resources(&dump(&emulator));
    for plant in &plants {
        assert!(
            baseline.contains_key(&key(plant.region, &plant.path)),
            "planted {} {:?} in {}: not in the dump",
            plant.kind,
            plant.path,
            plant.region
        );
    }
    // What moto's Application Auto Scaling created for the foreign target tracking
    // policies (as AWS does): AWS-created alarms beside ours, class (d), or (e) in
    // us-west-2.
    let created_by_aws: Vec<&Vec<String>> = baseline
        .keys()
        .filter(|p| p[1] == "alarms" && p[2].starts_with("TargetTracking-service/"))
        .collect();
    assert!(
        created_by_aws.iter().any(|p| p[0] == EAST) && created_by_aws.iter().any(|p| p[0] == WEST),
        "moto creates the target tracking alarms of a service policy: {created_by_aws:?}"
    );
    let planted = baseline.len();
    assert_eq!(
        planted,
        plants.len() + created_by_aws.len(),
        "every resource of the dump is a plant"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    let file = dir.path().join("stacks/shop.yaml");
    std::fs::write(&file, stack(false)).unwrap();
    let mut steps = Vec::new();

    let plan = run(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
    plan.assert_code(2)
        .assert_stdout_contains("Plan: 20 to add, 0 to change, 0 to destroy.")
        // Someone else's target on shop/renders: used as it is, never registered again.
        .assert_stdout_contains("note: scalable target \"service/shop/renders\" (stack shop)")
        .assert_stderr_contains("warning[W0302]: the scalable target of `shop/renders` has min 0, max 4 tasks; the stack says min 0, max 8");
    assert!(!plan.stdout.contains("will be destroyed"), "{plan}");
    steps.push((
        "plan",
        untouched("plan", &baseline, &resources(&dump(&emulator))),
    ));

    run(&emulator, dir.path(), &["apply", "--auto-approve"])
        .assert_code(0)
        .assert_stdout_contains("Apply complete! Resources: 20 added, 0 changed, 0 destroyed.");
    let applied = resources(&dump(&emulator));
    steps.push(("apply", untouched("apply", &baseline, &applied)));
    let created = applied
        .keys()
        .filter(|p| !baseline.contains_key(*p))
        .count();

    run(&emulator, dir.path(), &["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");
    steps.push((
        "plan again",
        untouched("plan again", &baseline, &resources(&dump(&emulator))),
    ));

    // The stack now declares the names of the (b) and (c) plants: each is a plan error at
    // its line, and the apply refuses without a single write.
    let conflicting = stack(true);
    std::fs::write(&file, &conflicting).unwrap();
    for (step, command) in [
        ("plan with conflicts", &["plan"][..]),
        ("apply with conflicts", &["apply", "--auto-approve"]),
    ] {
        let out = run(&emulator, dir.path(), command);
        out.assert_code(1);
        assert!(!out.stdout.contains("Apply complete"), "{out}");
        for Conflict {
            at, name, class, ..
        } in CONFLICTS
        {
            let line = line_of(&conflicting, at);
            let column = at.len() - at.trim_start().len() + 1;
            let at = format!("stacks/shop.yaml:{line}:{column}");
            let why = if class == "b" {
                format!("`{name}` belongs to monplan stack `shop-eu`")
            } else {
                format!("`{name}` exists outside monplan")
            };
            // The diagnostic's title line, then its location on the next.
            let located = out
                .stderr
                .lines()
                .zip(out.stderr.lines().skip(1))
                .any(|(title, place)| title.contains(&why) && place.ends_with(&at));
            assert!(located, "{name}: {why} at {at}\n{out}");
        }
        let now = resources(&dump(&emulator));
        assert_eq!(
            now, applied,
            "{command:?} with conflicts changes nothing at all"
        );
        steps.push((step, untouched(step, &baseline, &now)));
    }
    std::fs::write(&file, stack(false)).unwrap();

    run(
        &emulator,
        dir.path(),
        &["destroy", "shop", "--auto-approve"],
    )
    .assert_code(0)
    .assert_stdout_contains("destroyed.");
    let destroyed = resources(&dump(&emulator));
    steps.push(("destroy", untouched("destroy", &baseline, &destroyed)));
    // Of ours, only what monplan cannot prove it owns stays: the scalable target it
    // registered (moto cannot read its tags back, see tests/e2e_ecs.rs).
    let left: Vec<String> = destroyed
        .keys()
        .filter(|p| !baseline.contains_key(*p))
        .map(|p| p.join("/"))
        .collect();
    assert_eq!(
        left,
        ["us-east-1/scalable_targets/service/shop/thumbs"],
        "destroy leaves only the target of unknown origin"
    );

    // The report: plants per kind and class.
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for plant in &plants {
        *counts.entry((plant.kind, plant.class)).or_default() += 1;
    }
    for path in &created_by_aws {
        let class = if path[0] == WEST { "e" } else { "d" };
        *counts
            .entry(("TargetTracking-* alarm (created by moto)", class))
            .or_default() += 1;
    }
    let mut kinds: Vec<&str> = counts.keys().map(|(k, _)| *k).collect();
    kinds.dedup();
    let mut table = format!(
        "{:<42} {:>3} {:>3} {:>3} {:>3} {:>3} {:>5}",
        "kind", "a", "b", "c", "d", "e", "total"
    );
    for kind in kinds {
        let row: Vec<usize> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|c| counts.get(&(kind, *c)).copied().unwrap_or(0))
            .collect();
        let _ = write!(table, "\n{kind:<42}");
        for n in &row {
            let _ = write!(table, " {n:>3}");
        }
        let _ = write!(table, " {:>5}", row.iter().sum::<usize>());
    }
    let touched: usize = steps.iter().map(|(_, n)| n).sum();
    eprintln!(
        "{table}\n\nlook-alikes planted: {planted} (us-east-1 and us-west-2)\n\
         monplan created {created} resources of its own beside them\n\
         steps checked: {}\n\
         look-alikes touched: {touched}\n\
         wall time: {:.1} s",
        steps.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", "),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(touched, 0);
}
