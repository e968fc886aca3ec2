//! ECS services scaled through Application Auto Scaling, against a moto server of each
//! test's own; read back field by field with the independent boto3 client.
//!
//! moto 5.2.5 accepts the tags of `RegisterScalableTarget` but cannot read them back
//! (`ListTagsForResource` answers 500), so here monplan can never prove it registered a
//! target: after the first apply, the target it registered is of unknown ownership,
//! used as it is and never changed or deregistered. The planner tests
//! (`tests/plan.rs`) cover an owned target's update and deregistration.

mod support;

use std::path::Path;

use serde_json::json;
use support::{Emulator, Output};

const ECS: &str = r"
stack: fleet
queues:
  jobs:
    name: fleet-jobs
    scaling:
      service: workers/transcribe
      min: 1
      max: 20
      latency: 10m
      processing_time: 30s
      warmup: 2m
      scale_in: false
";

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("stacks/fleet.yaml"), yaml).unwrap();
}

fn setup(emulator: &Emulator) -> tempfile::TempDir {
    // With a DLQ: a queue without one draws W0212, which these tests are not about.
    emulator.awsctl(&["create-queue", "fleet-jobs", "--dlq", "fleet-jobs-dlq"]);
    emulator.awsctl(&["create-service", "workers", "transcribe"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), ECS);
    dir
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    emulator.run(args, dir, &[])
}

#[test]
fn a_scaled_service_applies_reads_back_as_declared_and_converges() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    // Someone else's target and policy on another service of the same cluster.
    emulator.awsctl(&["create-service", "workers", "thumbnails"]);
    let foreign_target = emulator.awsctl(&[
        "register-target",
        "workers",
        "thumbnails",
        "--min",
        "0",
        "--max",
        "4",
    ]);
    let foreign_policy = emulator.awsctl(&[
        "put-service-policy",
        "workers",
        "thumbnails",
        "cpu-tracking",
    ]);

    let plan = run(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
    plan.assert_code(2)
        .assert_stdout_contains("Plan: 2 to add, 0 to change, 0 to destroy.")
        .assert_stdout_contains("+ scalable target \"service/workers/transcribe\"")
        .assert_stdout_contains(
            "+ target: 20 messages per task (latency 10m / processing_time 30s)",
        );
    assert!(!plan.stderr.contains("warning["), "{plan}");
    run(&emulator, dir.path(), &["apply", "--auto-approve"])
        .assert_code(0)
        .assert_stdout_contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.");

    let dump = emulator.awsctl(&["dump"]);
    let target = &dump["scalable_targets"]["service/workers/transcribe"];
    assert_eq!(target["ServiceNamespace"], "ecs");
    assert_eq!(target["ScalableDimension"], "ecs:service:DesiredCount");
    assert_eq!(target["MinCapacity"], 1);
    assert_eq!(target["MaxCapacity"], 20);
    assert!(target["ScalableTargetARN"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/"));
    let policy = &dump["service_policies"]["service/workers/transcribe"]["fleet_jobs"];
    assert_eq!(policy["ServiceNamespace"], "ecs");
    assert_eq!(policy["ScalableDimension"], "ecs:service:DesiredCount");
    assert_eq!(policy["PolicyType"], "TargetTrackingScaling");
    let config = &policy["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(
        config["TargetValue"], 20.0,
        "latency 10m / processing_time 30s"
    );
    assert_eq!(config["ScaleOutCooldown"], 120, "warmup: 2m");
    assert_eq!(config["DisableScaleIn"], true, "scale_in: false");
    assert_eq!(
        config["CustomizedMetricSpecification"],
        json!({"Metrics": [
            {"Id": "visible", "MetricStat": {"Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": [{"Name": "QueueName", "Value": "fleet-jobs"}]}, "Stat": "Sum"}, "ReturnData": false},
            {"Id": "tasks", "MetricStat": {"Metric": {"Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount", "Dimensions": [{"Name": "ClusterName", "Value": "workers"}, {"Name": "ServiceName", "Value": "transcribe"}]}, "Stat": "Average"}, "ReturnData": false},
            {"Id": "backlog", "Expression": "visible / tasks", "ReturnData": true},
        ]})
    );

    // Plan again: nothing to do. The target's tags cannot be read in moto, so monplan
    // says it will not touch it.
    let again = run(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
    again
        .assert_code(0)
        .assert_stdout_contains("No changes.")
        .assert_stdout_contains("note: scalable target \"service/workers/transcribe\" (stack fleet): of unknown origin: its tags could not be read (ListTagsForResource")
        .assert_stdout_contains("used as it is (min 1, max 20 tasks), never changed or deregistered");
    let second = run(&emulator, dir.path(), &["apply", "--auto-approve"]);
    second.assert_code(0).assert_stdout_contains("No changes.");
    assert!(!second.stdout.contains("Apply complete"), "{second}");
    assert_eq!(
        emulator.awsctl(&["dump"]),
        dump,
        "a no-op apply changes nothing"
    );

    // Another capacity for a target monplan cannot prove it registered: a warning at
    // `service:`, no change.
    write(dir.path(), &ECS.replace("max: 20", "max: 30"));
    run(&emulator, dir.path(), &["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.")
        .assert_stderr_contains("warning[W0302]: the scalable target of `workers/transcribe` has min 1, max 20 tasks; the stack says min 1, max 30")
        .assert_stderr_contains("stacks/fleet.yaml:7:16");
    write(dir.path(), ECS);

    // Destroy: the policy goes (ours by name); the target of unknown ownership stays,
    // and so do the foreign target and policy.
    run(
        &emulator,
        dir.path(),
        &["destroy", "fleet", "--auto-approve"],
    )
    .assert_code(0)
    .assert_stdout_contains("Resources: 0 added, 0 changed, 1 destroyed.");
    let after = emulator.awsctl(&["dump"]);
    assert_eq!(
        after["service_policies"]["service/workers/thumbnails"]["cpu-tracking"],
        foreign_policy
    );
    assert!(after["service_policies"]
        .get("service/workers/transcribe")
        .is_none());
    assert_eq!(
        after["scalable_targets"]["service/workers/thumbnails"],
        foreign_target
    );
    assert_eq!(
        after["scalable_targets"]["service/workers/transcribe"],
        *target
    );
}

#[test]
fn a_missing_service_or_cluster_is_an_error_at_service() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    write(
        dir.path(),
        &ECS.replace("workers/transcribe", "workers/ghost"),
    );
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_code(1)
        .assert_stderr_contains(
            "error[E0104]: ECS service `ghost` does not exist in cluster `workers`",
        )
        .assert_stderr_contains("stacks/fleet.yaml:7:16");
    write(
        dir.path(),
        &ECS.replace("workers/transcribe", "ghosts/transcribe"),
    );
    run(&emulator, dir.path(), &["plan"])
        .assert_code(1)
        .assert_stderr_contains("error[E0104]: ECS cluster `ghosts` does not exist in us-east-1")
        .assert_stderr_contains("stacks/fleet.yaml:7:16");
    assert!(emulator.awsctl(&["dump"])["scalable_targets"]
        .as_object()
        .unwrap()
        .is_empty());
}

#[test]
fn a_cluster_without_container_insights_is_a_warning_at_service() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    emulator.awsctl(&[
        "create-service",
        "plain",
        "transcribe",
        "--container-insights",
        "disabled",
    ]);
    write(
        dir.path(),
        &ECS.replace("workers/transcribe", "plain/transcribe"),
    );
    run(&emulator, dir.path(), &["plan"])
        .assert_code(0)
        .assert_stdout_contains("Plan: 2 to add")
        .assert_stderr_contains("warning[W0301]: cluster `plain` has Container Insights disabled")
        .assert_stderr_contains("stacks/fleet.yaml:7:16");
}

/// `from_zero`: a step policy and the alarm that runs it, the alarm's action the ARN
/// Application Auto Scaling answered the policy's `PutScalingPolicy` with.
#[test]
fn from_zero_on_a_service_applies_a_step_policy_and_its_alarm_and_converges() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    let yaml = ECS
        .replace("min: 1", "min: 0")
        .replace("      scale_in: false\n", "      from_zero: true\n");
    write(dir.path(), &yaml);
    run(&emulator, dir.path(), &["plan", "--detailed-exitcode"])
        .assert_code(2)
        .assert_stdout_contains("Plan: 4 to add, 0 to change, 0 to destroy.")
        .assert_stdout_contains(
            "(known after apply: service scaling policy workers/transcribe/fleet_jobs-from-zero)",
        );
    run(&emulator, dir.path(), &["apply", "--auto-approve"])
        .assert_code(0)
        .assert_stdout_contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed.");

    let dump = emulator.awsctl(&["dump"]);
    let step = &dump["service_policies"]["service/workers/transcribe"]["fleet_jobs-from-zero"];
    assert_eq!(step["PolicyType"], "StepScaling");
    assert_eq!(step["ScalableDimension"], "ecs:service:DesiredCount");
    assert_eq!(
        step["StepScalingPolicyConfiguration"],
        json!({
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}],
            "Cooldown": 120,
            "MetricAggregationType": "Maximum",
        }),
        "+1 task, the cooldown from warmup: 2m"
    );
    let arn = step["PolicyARN"].as_str().unwrap();
    let alarm = &dump["alarms"]["fleet-jobs-from-zero"];
    assert_eq!(alarm["AlarmActions"], json!([arn]), "{alarm}");
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanThreshold");
    assert_eq!(alarm["Threshold"], 0.0);
    assert_eq!(alarm["TreatMissingData"], "notBreaching");
    let metrics = alarm["Metrics"].as_array().unwrap();
    let expression = metrics.iter().find(|m| m["ReturnData"] == true).unwrap();
    assert_eq!(
        expression["Expression"],
        "IF(visible > 0 AND FILL(tasks, 0) == 0, 1, 0)"
    );
    let tasks = metrics.iter().find(|m| m["Id"] == "tasks").unwrap();
    assert_eq!(
        tasks["MetricStat"]["Metric"],
        json!({"Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount", "Dimensions": [{"Name": "ClusterName", "Value": "workers"}, {"Name": "ServiceName", "Value": "transcribe"}]})
    );

    run(&emulator, dir.path(), &["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");

    // Without `from_zero`: the alarm and the step policy go, the rest stays.
    write(dir.path(), &yaml.replace("      from_zero: true\n", ""));
    run(&emulator, dir.path(), &["apply", "--auto-approve"])
        .assert_code(0)
        .assert_stdout_contains("Resources: 0 added, 0 changed, 2 destroyed.");
    let after = emulator.awsctl(&["dump"]);
    assert!(after["alarms"].get("fleet-jobs-from-zero").is_none());
    let policies = &after["service_policies"]["service/workers/transcribe"];
    assert!(policies.get("fleet_jobs-from-zero").is_none(), "{policies}");
    assert!(policies.get("fleet_jobs").is_some(), "{policies}");
}
