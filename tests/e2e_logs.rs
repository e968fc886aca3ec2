//! Log groups and metric filters against a moto server of each test's own; read back with
//! an independent boto3 client. (moto's filters publish no metrics and do not check
//! patterns: what a pattern matches is the matcher's business, tested without AWS.)

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::{Emulator, Output};

const GROUP: &str = "/aws/ec2/transcription";

const LOGS: &str = r#"
stack: logs
topics:
  oncall: {}
log_groups:
  workers:
    name: /aws/ec2/transcription
log_metrics:
  job-failures:
    log_group: workers
    pattern: '{ $.event = "JOB_FAILED" }'
    metric: { namespace: Transcription, name: JobFailed, unit: Count }
    default_value: 0
    samples:
      match: ['{"event": "JOB_FAILED", "job_id": "job-1"}']
      no_match: ['{"event": "JOB_START", "job_id": "job-1"}']
  job-duration:
    log_group: workers
    pattern: '{ $.event = "JOB_COMPLETE" }'
    metric: { namespace: Transcription, name: JobDuration, unit: Seconds }
    value: $.duration
    dimensions: { Worker: $.worker_id }
    samples:
      match: ['{"event": "JOB_COMPLETE", "duration": 1200, "worker_id": "w-1"}']
alarms:
  failures:
    metric: job-failures
    above: 5
    period: 5m
    notify: [oncall]
"#;

fn setup(emulator: &Emulator) -> tempfile::TempDir {
    emulator.awsctl(&["create-log-group", GROUP]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), LOGS);
    dir
}

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("stacks/logs.yaml"), yaml).unwrap();
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    emulator.run(args, dir, &[])
}

fn apply_clean(emulator: &Emulator, dir: &Path) {
    run(emulator, dir, &["apply", "--auto-approve"]).assert_code(0);
    run(emulator, dir, &["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");
    run(emulator, dir, &["apply", "--auto-approve"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");
}

fn filters(emulator: &Emulator) -> Value {
    emulator.awsctl(&["dump"])["metric_filters"][GROUP].clone()
}

#[test]
fn metric_filters_apply_read_back_as_declared_and_converge() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    emulator.awsctl(&["put-metric-filter", GROUP, "handmade", "ERROR"]);
    emulator.awsctl(&["put-metric-filter", GROUP, "logs-eu_failures", "ERROR"]);

    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_code(0)
        .assert_stdout_contains("+ metric filter \"logs_job-failures\" on /aws/ec2/transcription")
        .assert_stdout_contains("+ pattern: \"{ $.event = \\\"JOB_FAILED\\\" }\"")
        .assert_stdout_contains("+ dimensions.Worker: $.worker_id")
        .assert_stdout_contains("Plan: 4 to add, 0 to change, 0 to destroy.");
    // The alarm on the log metric comes after the filter that publishes it.
    let order: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.starts_with("  + "))
        .collect();
    let filter_at = order.iter().position(|l| l.contains("logs_job-failures"));
    let alarm_at = order
        .iter()
        .position(|l| l.contains("alarm \"logs-failures\""));
    assert!(filter_at < alarm_at, "{plan}");
    apply_clean(&emulator, dir.path());

    let found = filters(&emulator);
    assert_eq!(
        found["logs_job-failures"],
        json!({
            "filterName": "logs_job-failures",
            "logGroupName": GROUP,
            "filterPattern": "{ $.event = \"JOB_FAILED\" }",
            "metricTransformations": [{
                "metricName": "JobFailed",
                "metricNamespace": "Transcription",
                "metricValue": "1",
                "defaultValue": 0.0,
                "unit": "Count",
            }],
        }),
        "{found}"
    );
    let duration = &found["logs_job-duration"]["metricTransformations"][0];
    assert_eq!(duration["metricValue"], "$.duration");
    assert_eq!(duration["dimensions"], json!({"Worker": "$.worker_id"}));
    assert_eq!(duration["unit"], "Seconds");
    let alarm = &emulator.awsctl(&["dump"])["alarms"]["logs-failures"];
    assert_eq!(alarm["Namespace"], "Transcription");
    assert_eq!(alarm["MetricName"], "JobFailed");
    assert_eq!(
        alarm["Statistic"], "Sum",
        "a log metric's default statistic"
    );
    assert_eq!(alarm["Unit"], "Count", "the filter's unit");

    // Removed from the YAML: ours are deleted, the foreign and look-alike filters stay.
    let without = LOGS.split("log_metrics:").next().unwrap().to_string() + "alarms: {}\n";
    write(dir.path(), &without);
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_stdout_contains("- metric filter \"logs_job-failures\" on /aws/ec2/transcription")
        .assert_stdout_contains("Plan: 0 to add, 0 to change, 3 to destroy.");
    apply_clean(&emulator, dir.path());
    let left: Vec<String> = filters(&emulator)
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(left, ["handmade", "logs-eu_failures"]);

    // Back, then one field changes: the plan shows exactly that field. (Last: moto keeps
    // the old filter beside the new one on an update, where AWS replaces it, so a
    // deletion after an update would leave moto's stale copy behind.)
    write(dir.path(), LOGS);
    apply_clean(&emulator, dir.path());
    write(
        dir.path(),
        &LOGS.replace("JOB_COMPLETE\" }'", "JOB_COMPLETE\" && $.duration > 0 }'"),
    );
    let plan = run(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
    plan.assert_code(2)
        .assert_stdout_contains("~ metric filter \"logs_job-duration\" on /aws/ec2/transcription")
        .assert_stdout_contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    let changed: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("~ ") && !l.contains("metric filter"))
        .collect();
    assert_eq!(changed.len(), 1, "{plan}");
    assert!(changed[0].contains("pattern:"), "{plan}");
    apply_clean(&emulator, dir.path());
    assert_eq!(
        filters(&emulator)["logs_job-duration"]["filterPattern"],
        "{ $.event = \"JOB_COMPLETE\" && $.duration > 0 }"
    );
}

#[test]
fn a_missing_log_group_is_a_located_error_and_nothing_is_applied() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), LOGS);
    let apply = run(&emulator, dir.path(), &["apply", "--auto-approve"]);
    apply
        .assert_code(1)
        .assert_stderr_contains("log group `/aws/ec2/transcription` does not exist in us-east-1")
        .assert_stderr_contains("stacks/logs.yaml:7:11");
    let dump = emulator.awsctl(&["dump"]);
    assert!(dump["topics"].as_object().unwrap().is_empty(), "{dump}");
    assert!(dump["alarms"].as_object().unwrap().is_empty(), "{dump}");
}

#[test]
fn validate_shows_what_each_matching_sample_publishes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), LOGS);
    let validate = Emulator::start().run(&["validate"], dir.path(), &[]);
    validate
        .assert_code(0)
        .assert_stderr_contains("log metric `job-duration` matches sample \"{\\\"event\\\": \\\"JOB_COMPLETE\\\", \\\"duration\\\": 1200, \\\"worker_id\\\": \\\"w-1\\\"}\" and publishes 1200 (Worker=w-1)")
        .assert_stderr_contains("log metric `job-failures` matches sample")
        .assert_stderr_contains("1 stack(s) valid: logs");
}

#[test]
fn samples_that_go_the_wrong_way_fail_validate_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(
        dir.path(),
        &LOGS.replace(
            "no_match: ['{\"event\": \"JOB_START\", \"job_id\": \"job-1\"}']",
            "no_match: ['{\"event\": \"JOB_FAILED\", \"job_id\": \"job-2\"}']",
        ),
    );
    // validate is offline; the emulator only gives it the hermetic environment.
    let validate = Emulator::start().run(&["validate"], dir.path(), &[]);
    validate
        .assert_code(1)
        .assert_stderr_contains("error[E0013]: this sample matches the pattern")
        .assert_stderr_contains("stacks/logs.yaml:16:")
        .assert_stderr_contains("it would publish 1");
}

#[test]
fn a_broken_pattern_is_caught_offline_at_its_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(
        dir.path(),
        &LOGS.replace(
            "'{ $.event = \"JOB_FAILED\" }'",
            "'{ $.event == \"JOB_FAILED\" }'",
        ),
    );
    // validate is offline; the emulator only gives it the hermetic environment.
    let validate = Emulator::start().run(&["validate"], dir.path(), &[]);
    validate
        .assert_code(1)
        .assert_stderr_contains("invalid filter pattern")
        .assert_stderr_contains("stacks/logs.yaml:11:26");
}

#[test]
fn a_target_limits_the_plan_and_brings_what_it_refers_to() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    // The alarm on the log metric: its topic and its filter come along, nothing else.
    let plan = run(
        &emulator,
        dir.path(),
        &["plan", "--target", "alarms.failures"],
    );
    plan.assert_code(0)
        .assert_stdout_contains("+ alarm \"logs-failures\"")
        .assert_stdout_contains("+ topic \"logs-oncall\"")
        .assert_stdout_contains("+ metric filter \"logs_job-failures\"")
        .assert_stdout_contains("Plan: 3 to add, 0 to change, 0 to destroy.")
        .assert_stdout_contains("Limited by --target alarms.failures");
    assert!(!plan.stdout.contains("logs_job-duration"), "{plan}");
    run(
        &emulator,
        dir.path(),
        &["apply", "--auto-approve", "--exclude", "alarms"],
    )
    .assert_code(0);
    let dump = emulator.awsctl(&["dump"]);
    assert!(dump["alarms"].as_object().unwrap().is_empty(), "{dump}");
    assert_eq!(dump["metric_filters"][GROUP].as_object().unwrap().len(), 2);
    // A bad selector is refused before anything runs.
    run(&emulator, dir.path(), &["plan", "--target", "alarm"])
        .assert_code(2)
        .assert_stderr_contains("`alarm` is not a kind monplan manages");
}

const JOBS: &str = r"
stack: jobs
topics:
  oncall: {}
queues:
  work: { name: transcription-jobs }
log_groups:
  workers:
    name: /aws/ec2/transcription
    job_events:
      format: json
      namespace: Transcription
      queue: work
      alarms:
        failures: { above: 5, period: 5m, notify: [oncall] }
        failure_rate: { above: 10%, period: 15m, notify: [oncall] }
        no_progress: { for: 15m, notify: [oncall] }
";

#[test]
fn the_job_events_recipe_makes_filters_alarms_and_queries_that_converge() {
    let emulator = Emulator::start();
    emulator.awsctl(&["create-log-group", GROUP]);
    emulator.awsctl(&["create-queue", "transcription-jobs"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), JOBS);

    // moto has no saved queries: the four the recipe adds are tested in e2e_queries.
    let exclude = ["--exclude", "queries"];
    let run_x = |args: &[&str]| {
        let args: Vec<&str> = args.iter().chain(&exclude).copied().collect();
        run(&emulator, dir.path(), &args)
    };
    let plan = run_x(&["plan"]);
    plan.assert_code(0)
        .assert_stdout_contains("Plan: 9 to add, 0 to change, 0 to destroy.");
    run_x(&["apply", "--auto-approve"]).assert_code(0);
    run_x(&["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");

    let dump = emulator.awsctl(&["dump"]);
    let filters = &dump["metric_filters"][GROUP];
    let names: Vec<&String> = filters.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "jobs_workers.jobs_completed",
            "jobs_workers.jobs_duration",
            "jobs_workers.jobs_failed",
            "jobs_workers.jobs_progress",
            "jobs_workers.jobs_started",
        ]
    );
    assert_eq!(
        filters["jobs_workers.jobs_failed"]["filterPattern"],
        "{ $.event = \"JOB_FAILED\" }"
    );
    assert_eq!(
        filters["jobs_workers.jobs_failed"]["metricTransformations"][0]["defaultValue"],
        0.0
    );
    let alarms = &dump["alarms"];
    assert_eq!(alarms["jobs-workers-failures"]["MetricName"], "JobsFailed");
    assert_eq!(alarms["jobs-workers-failures"]["Threshold"], 5.0);
    assert_eq!(
        alarms["jobs-workers-failures"]["TreatMissingData"],
        "notBreaching"
    );
    assert_eq!(alarms["jobs-workers-failure-rate"]["Threshold"], 10.0);
    let stuck = &alarms["jobs-workers-no-progress"];
    assert_eq!(stuck["EvaluationPeriods"], 1);
    let expression = stuck["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|q| q["Expression"].as_str())
        .unwrap();
    assert_eq!(
        expression,
        "IF(inflight > 0 AND (FILL(progress, 0) + FILL(completed, 0)) == 0, 1, 0)"
    );
    let inflight = stuck["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["Id"] == "inflight")
        .unwrap();
    assert_eq!(inflight["MetricStat"]["Period"], 900);
    assert_eq!(
        inflight["MetricStat"]["Metric"]["Dimensions"],
        json!([{"Name": "QueueName", "Value": "transcription-jobs"}])
    );
}
