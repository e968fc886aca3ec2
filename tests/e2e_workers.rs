//! What happens to failed workers (issue 10): EC2 actions on instance alarms, against a
//! moto server of each test's own; read back with the independent boto3 client.

mod support;

use std::path::Path;

use serde_json::json;
use support::{Emulator, Output};

fn stack_dir(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), yaml);
    dir
}

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("stacks/workers.yaml"), yaml).unwrap();
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    emulator.run(args, dir, &[])
}

fn apply_clean(emulator: &Emulator, dir: &Path) -> Output {
    let apply = run(emulator, dir, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    run(emulator, dir, &["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");
    apply
}

const STATIC: &str = r"
stack: boxes
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
alarms:
  gpu-box-hung:
    metric: { namespace: AWS/EC2, name: StatusCheckFailed_Instance, dimensions: { InstanceId: i-0123456789abcdef0 }, stat: Maximum }
    above: 0
    notify: [oncall, ec2:reboot]
    notify_ok: [oncall]
";

/// A static instance's alarm reboots it: the action is stored as the automate ARN of the
/// region, read back exactly, and plans no change.
#[test]
fn an_ec2_reboot_action_applies_reads_back_and_converges() {
    let emulator = Emulator::start();
    let dir = stack_dir(STATIC);
    run(&emulator, dir.path(), &["plan"])
        .assert_code(0)
        .assert_stdout_contains("arn:aws:automate:us-east-1:ec2:reboot");
    apply_clean(&emulator, dir.path());
    let dump = emulator.awsctl(&["dump", "--prefix", "boxes-"]);
    let alarm = &dump["alarms"]["boxes-gpu-box-hung"];
    let mut actions: Vec<String> = serde_json::from_value(alarm["AlarmActions"].clone()).unwrap();
    actions.sort();
    assert_eq!(
        actions,
        [
            "arn:aws:automate:us-east-1:ec2:reboot",
            "arn:aws:sns:us-east-1:123456789012:boxes-oncall"
        ]
    );
    assert_eq!(
        alarm["OKActions"],
        json!(["arn:aws:sns:us-east-1:123456789012:boxes-oncall"])
    );
    assert_eq!(
        alarm["Dimensions"],
        json!({"InstanceId": "i-0123456789abcdef0"})
    );
    // Taking the action away is one update, and converges again.
    write(
        dir.path(),
        &STATIC.replace("[oncall, ec2:reboot]", "[oncall]"),
    );
    run(&emulator, dir.path(), &["plan"])
        .assert_code(0)
        .assert_stdout_contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    apply_clean(&emulator, dir.path());
}

/// A metric without `InstanceId` cannot carry an EC2 action: a located error before any
/// AWS call, and nothing applied.
#[test]
fn an_ec2_action_on_a_metric_without_an_instance_is_a_located_error() {
    let emulator = Emulator::start();
    let dir =
        stack_dir(&STATIC.replace("{ InstanceId: i-0123456789abcdef0 }", "{ QueueName: jobs }"));
    run(&emulator, dir.path(), &["apply", "--auto-approve"])
        .assert_code(1)
        .assert_stderr_contains("stacks/workers.yaml:11:22")
        .assert_stderr_contains("names no instance (no `InstanceId` dimension)");
    let dump = emulator.awsctl(&["dump", "--prefix", "boxes-"]);
    assert_eq!(dump["alarms"], json!({}));
}

const SLOW_JOBS: &str = r"
stack: slow
queues:
  jobs:
    name: slow-jobs
    scaling:
      group: slow-workers
      latency: 1h
      processing_time: 10m
";

/// The queue's visibility timeout and redrive policy are read in the plan's batched
/// queue read: 30 s against 10-minute jobs warns at `processing_time`; the fixed queue
/// plans clean with the notice of what happens to a dead worker's job.
#[test]
fn a_visibility_timeout_shorter_than_a_job_warns_at_the_line() {
    let emulator = Emulator::start();
    emulator.awsctl(&[
        "create-queue",
        "slow-jobs",
        "--dlq",
        "slow-jobs-dlq",
        "--visibility-timeout",
        "30",
    ]);
    emulator.awsctl(&["create-group", "slow-workers", "--min", "0", "--max", "2"]);
    let dir = stack_dir(SLOW_JOBS);
    run(&emulator, dir.path(), &["plan"])
        .assert_code(0)
        .assert_stderr_contains("warning[W0211]: queue `slow-jobs` makes a job visible again after 30s, but one job takes 10m")
        .assert_stderr_contains("stacks/workers.yaml:9:24")
        .assert_stdout_contains("a job held by a dead worker reappears after 30s (visibility timeout) and moves to slow-jobs-dlq after 5 receives");
    // A queue long enough, and the same check with no DLQ: W0212 at the queue instead.
    emulator.awsctl(&[
        "create-queue",
        "slow-jobs-2",
        "--visibility-timeout",
        "1200",
    ]);
    write(
        dir.path(),
        &SLOW_JOBS.replace("name: slow-jobs", "name: slow-jobs-2"),
    );
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_code(0)
        .assert_stderr_contains("warning[W0212]: queue `slow-jobs-2` has no dead-letter queue")
        .assert_stdout_contains("reappears after 20m (visibility timeout), again and again: there is no dead-letter queue");
    assert!(!plan.stderr.contains("W0211"), "{plan}");
}

const FLEET: &str = r"
stack: tx
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
queues:
  jobs:
    name: tx-jobs
log_groups:
  workers: { name: /aws/ec2/tx }
log_metrics:
  heartbeat:
    log_group: workers
    pattern: '{ $.event = %JOB_PROGRESS% }'
    metric: { namespace: Tx, name: Heartbeat }
    dimensions: { InstanceId: $.instance_id }
workers:
  gpu-fleet:
    group: tx-workers
    queue: jobs
    heartbeat: heartbeat
    stuck_after: 20m
    on_stuck: replace
    notify: [oncall]
";

/// Each `on_stuck` mode of a group fleet applies one Metrics Insights alarm that moto
/// stores and reads back exactly (query, period, windows, actions), and re-plans clean.
#[test]
fn each_on_stuck_mode_applies_its_contributor_alarm_and_converges() {
    let emulator = Emulator::start();
    emulator.awsctl(&[
        "create-queue",
        "tx-jobs",
        "--dlq",
        "tx-jobs-dlq",
        "--visibility-timeout",
        "1800",
    ]);
    emulator.awsctl(&["create-group", "tx-workers", "--min", "0", "--max", "2"]);
    emulator.awsctl(&["create-log-group", "/aws/ec2/tx"]);
    let fleet = FLEET.replace('%', "\"");
    let dir = stack_dir(&fleet);
    for (mode, ec2) in [
        ("replace", Some("terminate")),
        ("reboot", Some("reboot")),
        ("notify", None),
    ] {
        write(
            dir.path(),
            &fleet.replace("on_stuck: replace", &format!("on_stuck: {mode}")),
        );
        let apply = apply_clean(&emulator, dir.path());
        if mode == "replace" {
            apply.assert_stdout_contains(
                "is terminated (ec2:terminate) and group tx-workers launches a replacement",
            );
        }
        let dump = emulator.awsctl(&["dump", "--prefix", "tx-"]);
        let alarm = &dump["alarms"]["tx-gpu-fleet-stuck"];
        assert_eq!(
            alarm["Metrics"],
            json!([{"Id": "q", "Expression": "SELECT SUM(\"Heartbeat\") FROM SCHEMA(\"Tx\", \"InstanceId\") GROUP BY \"InstanceId\" ORDER BY SUM() ASC", "Period": 60, "ReturnData": true}]),
            "{mode}"
        );
        assert_eq!(alarm["EvaluationPeriods"], 20);
        assert_eq!(alarm["DatapointsToAlarm"], 20);
        assert_eq!(alarm["Threshold"], 1.0);
        assert_eq!(alarm["ComparisonOperator"], "LessThanThreshold");
        assert_eq!(alarm["TreatMissingData"], "breaching");
        let mut actions: Vec<String> =
            serde_json::from_value(alarm["AlarmActions"].clone()).unwrap();
        actions.sort();
        let mut expected = vec!["arn:aws:sns:us-east-1:123456789012:tx-oncall".to_string()];
        if let Some(action) = ec2 {
            expected.insert(0, format!("arn:aws:automate:us-east-1:ec2:{action}"));
        }
        assert_eq!(actions, expected, "{mode}");
    }
}

const ECS_FLEET: &str = r"
stack: thumbs
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
queues:
  jobs:
    name: thumbs-jobs
log_groups:
  tasks: { name: /ecs/thumbs }
log_metrics:
  heartbeat:
    log_group: tasks
    pattern: '{ $.event = %HEARTBEAT% }'
    metric: { namespace: Thumbs, name: SecondsSinceProgress }
    value: $.since_progress
    dimensions: { TaskId: $.task_id }
workers:
  thumbnailers:
    service: media/thumbnails
    queue: jobs
    heartbeat: heartbeat
    stuck_after: 5m
    on_stuck: replace
    notify: [oncall]
";

/// A fleet on an ECS service is checked live in the plan's ECS read: a missing cluster
/// or service is an error at `service:`; with `on_stuck: replace` the service's task
/// definition is read (`DescribeTaskDefinition`), and one without a container health
/// check warns at `on_stuck`, one with a check plans clean; both apply and converge.
#[test]
fn an_ecs_fleet_is_checked_live_down_to_its_task_health_check() {
    let emulator = Emulator::start();
    emulator.awsctl(&[
        "create-queue",
        "thumbs-jobs",
        "--dlq",
        "thumbs-jobs-dlq",
        "--visibility-timeout",
        "900",
    ]);
    emulator.awsctl(&["create-log-group", "/ecs/thumbs"]);
    let fleet = ECS_FLEET.replace('%', "\"");
    let dir = stack_dir(&fleet);
    run(&emulator, dir.path(), &["plan"])
        .assert_code(1)
        .assert_stderr_contains("error[E0104]: ECS cluster `media` does not exist in us-east-1")
        .assert_stderr_contains("stacks/workers.yaml:21:14");
    emulator.awsctl(&["create-service", "media", "other"]);
    run(&emulator, dir.path(), &["plan"])
        .assert_code(1)
        .assert_stderr_contains(
            "error[E0104]: ECS service `thumbnails` does not exist in cluster `media`",
        )
        .assert_stderr_contains("stacks/workers.yaml:21:14");

    emulator.awsctl(&["create-service", "media", "thumbnails"]);
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_code(0)
        .assert_stderr_contains("warning[W0303]: no essential container of task definition awsctl-worker:2 (service media/thumbnails) has a health check")
        .assert_stderr_contains("stacks/workers.yaml:25:15")
        .assert_stdout_contains("task definition awsctl-worker:2 declares none");
    apply_clean(&emulator, dir.path());

    emulator.awsctl(&["create-service", "media", "checked", "--health-check"]);
    write(
        dir.path(),
        &fleet.replace("media/thumbnails", "media/checked"),
    );
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_code(0)
        .assert_stdout_contains("task definition awsctl-worker:3 declares one (worker)");
    assert!(!plan.stderr.contains("warning["), "{plan}");
    // Another service runs the same alarm: nothing to change.
    plan.assert_stdout_contains("No changes.");
    // The stuck alarm notifies only: no alarm action stops an ECS task.
    let dump = emulator.awsctl(&["dump", "--prefix", "thumbs-"]);
    assert_eq!(
        dump["alarms"]["thumbs-thumbnailers-stuck"]["AlarmActions"],
        json!(["arn:aws:sns:us-east-1:123456789012:thumbs-oncall"])
    );
}
