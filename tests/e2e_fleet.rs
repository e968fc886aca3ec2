//! Queues, recipes, scaling, metric math, anomaly bands and dashboards against a moto
//! server of each test's own; read back with an independent boto3 client.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::{Emulator, Output};

const FLEET: &str = r"
stack: fleet
defaults:
  evaluation_periods: 3
  notify: [oncall]
topics:
  oncall: {}
queues:
  jobs:
    name: fleet-jobs
    alarms:
      oldest_message_age: { above: 30m }
      visible_messages: { above: 1000 }
      in_flight_messages: { above: 500, evaluation_periods: 1 }
      dlq_visible_messages: { above: 0, evaluation_periods: 1, treat_missing_data: not_breaching }
      time_to_drain: { above: 1h, period: 5m }
    scaling:
      group: fleet-workers
      latency: 10m
      processing_time: 0.25s
      warmup: 5m
      from_zero: true
alarms:
  backlog-per-worker:
    expression: visible / workers
    metrics:
      visible: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: fleet-jobs }, stat: Sum }
      workers: { namespace: AWS/AutoScaling, name: GroupInServiceInstances, dimensions: { AutoScalingGroupName: fleet-workers }, stat: Average }
    above: 50
  throughput-anomaly:
    metric: { namespace: AWS/SQS, name: NumberOfMessagesDeleted, dimensions: { QueueName: fleet-jobs }, stat: Sum }
    outside_band: 2
dashboards:
  overview:
    widgets:
      - queue: jobs
      - alarms: all
      - metric: { title: Backlog per worker, metrics: [backlog-per-worker], width: 12 }
      - metric: { title: Deleted, metrics: [{ namespace: AWS/SQS, name: NumberOfMessagesDeleted, dimensions: { QueueName: fleet-jobs }, stat: Sum }] }
      - text: '## Runbook'
";

fn setup(emulator: &Emulator) -> tempfile::TempDir {
    emulator.awsctl(&["create-queue", "fleet-jobs", "--dlq", "fleet-jobs-dlq"]);
    emulator.awsctl(&["create-group", "fleet-workers", "--min", "0", "--max", "5"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), FLEET);
    dir
}

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("stacks/fleet.yaml"), yaml).unwrap();
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

fn metric_stat(
    namespace: &str,
    name: &str,
    dimension: (&str, &str),
    stat: &str,
    period: u64,
) -> Value {
    json!({"Namespace": namespace, "MetricName": name, "Dimensions": [{"Name": dimension.0, "Value": dimension.1}], "Stat": stat, "Period": period})
}

/// The query `id` of an alarm's `Metrics`, as the independent client sees it.
fn query<'a>(alarm: &'a Value, id: &str) -> &'a Value {
    alarm["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["Id"] == id)
        .unwrap_or_else(|| panic!("no query {id} in {alarm}"))
}

fn stat_of(query: &Value) -> Value {
    let stat = &query["MetricStat"];
    let dims = &stat["Metric"]["Dimensions"];
    json!({"Namespace": stat["Metric"]["Namespace"], "MetricName": stat["Metric"]["MetricName"], "Dimensions": dims, "Stat": stat["Stat"], "Period": stat["Period"]})
}

#[test]
fn the_whole_fleet_applies_reads_back_as_declared_and_converges() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    let first = run(&emulator, dir.path(), &["plan"]);
    first
        .assert_code(0)
        .assert_stdout_contains("Plan: 12 to add, 0 to change, 0 to destroy.")
        .assert_stdout_contains(
            "+ target: 2400 messages per instance (latency 10m / processing_time 0.25s)",
        );
    apply_clean(&emulator, dir.path());
    run(&emulator, dir.path(), &["apply", "--auto-approve"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");

    let dump = emulator.awsctl(&["dump"]);
    let alarms = &dump["alarms"];
    let oncall = "arn:aws:sns:us-east-1:123456789012:fleet-oncall";
    let recipe = |name: &str, metric: &str, queue: &str, threshold: f64, periods: u64| {
        let alarm = &alarms[name];
        assert_eq!(alarm["Namespace"], "AWS/SQS", "{name}");
        assert_eq!(alarm["MetricName"], metric, "{name}");
        assert_eq!(alarm["Dimensions"], json!({"QueueName": queue}), "{name}");
        assert_eq!(alarm["Statistic"], "Maximum", "{name}");
        assert_eq!(alarm["Period"], 60, "{name}");
        assert_eq!(alarm["Threshold"], threshold, "{name}");
        assert_eq!(
            alarm["ComparisonOperator"], "GreaterThanThreshold",
            "{name}"
        );
        assert_eq!(alarm["EvaluationPeriods"], periods, "{name}");
        assert_eq!(alarm["AlarmActions"], json!([oncall]), "{name}");
        assert_eq!(alarm["Tags"], json!({"monplan:stack": "fleet"}), "{name}");
    };
    recipe(
        "fleet-jobs-oldest-message-age",
        "ApproximateAgeOfOldestMessage",
        "fleet-jobs",
        1800.0,
        3,
    );
    recipe(
        "fleet-jobs-visible-messages",
        "ApproximateNumberOfMessagesVisible",
        "fleet-jobs",
        1000.0,
        3,
    );
    recipe(
        "fleet-jobs-in-flight-messages",
        "ApproximateNumberOfMessagesNotVisible",
        "fleet-jobs",
        500.0,
        1,
    );
    // The DLQ was not named: it comes from the queue's redrive policy.
    recipe(
        "fleet-jobs-dlq-visible-messages",
        "ApproximateNumberOfMessagesVisible",
        "fleet-jobs-dlq",
        0.0,
        1,
    );
    assert_eq!(
        alarms["fleet-jobs-dlq-visible-messages"]["TreatMissingData"],
        "notBreaching"
    );

    let drain = &alarms["fleet-jobs-time-to-drain"];
    assert_eq!(drain["Threshold"], 3600.0);
    assert_eq!(
        query(drain, "expression")["Expression"],
        "IF(visible == 0, 0, IF(deleted > sent, visible / ((deleted - sent) / PERIOD(deleted)), 31536000))"
    );
    assert_eq!(
        stat_of(query(drain, "deleted")),
        metric_stat(
            "AWS/SQS",
            "NumberOfMessagesDeleted",
            ("QueueName", "fleet-jobs"),
            "Sum",
            300
        )
    );

    let math = &alarms["fleet-backlog-per-worker"];
    assert_eq!(query(math, "expression")["Expression"], "visible / workers");
    assert_eq!(query(math, "expression")["ReturnData"], true);
    assert_eq!(query(math, "visible")["ReturnData"], false);
    assert_eq!(
        stat_of(query(math, "workers")),
        metric_stat(
            "AWS/AutoScaling",
            "GroupInServiceInstances",
            ("AutoScalingGroupName", "fleet-workers"),
            "Average",
            60
        )
    );
    assert_eq!(math["Threshold"], 50.0);

    let band = &alarms["fleet-throughput-anomaly"];
    assert_eq!(band["ThresholdMetricId"], "band");
    assert_eq!(
        band["ComparisonOperator"],
        "LessThanLowerOrGreaterThanUpperThreshold"
    );
    assert_eq!(
        query(band, "band")["Expression"],
        "ANOMALY_DETECTION_BAND(m1, 2)"
    );
    assert_eq!(
        stat_of(query(band, "m1")),
        metric_stat(
            "AWS/SQS",
            "NumberOfMessagesDeleted",
            ("QueueName", "fleet-jobs"),
            "Sum",
            60
        )
    );

    let policies = &dump["policies"]["fleet-workers"];
    let tracking = &policies["fleet_jobs"];
    assert_eq!(tracking["PolicyType"], "TargetTrackingScaling");
    assert_eq!(tracking["EstimatedInstanceWarmup"], 300);
    let config = &tracking["TargetTrackingConfiguration"];
    assert_eq!(config["TargetValue"], 2400.0);
    assert_eq!(config["DisableScaleIn"], false);
    let metrics = config["CustomizedMetricSpecification"]["Metrics"]
        .as_array()
        .unwrap();
    let expression: Vec<&Value> = metrics
        .iter()
        .filter(|m| m.get("Expression").is_some())
        .collect();
    assert_eq!(expression[0]["Expression"], "visible / inservice");
    let step = &policies["fleet_jobs-from-zero"];
    assert_eq!(
        (step["PolicyType"].as_str(), step["AdjustmentType"].as_str()),
        (Some("StepScaling"), Some("ChangeInCapacity"))
    );
    assert_eq!(
        step["StepAdjustments"],
        json!([{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}])
    );
    // The from-zero alarm drives the step policy, by its ARN.
    let from_zero = &alarms["fleet-jobs-from-zero"];
    assert_eq!(from_zero["AlarmActions"], json!([step["PolicyARN"]]));
    assert_eq!(
        query(from_zero, "expression")["Expression"],
        "IF(visible > 0 AND inservice == 0, 1, 0)"
    );

    let board = &dump["dashboards"]["fleet_overview"];
    let widgets = board["widgets"].as_array().unwrap();
    let layout: Vec<(u64, u64, u64)> = widgets
        .iter()
        .map(|w| {
            (
                w["x"].as_u64().unwrap(),
                w["y"].as_u64().unwrap(),
                w["width"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        layout,
        [
            (0, 0, 6),
            (6, 0, 6),
            (12, 0, 6),
            (18, 0, 6),
            (0, 6, 24),
            (0, 12, 12),
            (12, 12, 12),
            (0, 18, 24)
        ]
    );
    assert_eq!(
        widgets[3]["properties"]["title"],
        "fleet-jobs-dlq: failed jobs (dead-letter queue)"
    );
    assert_eq!(
        widgets[4]["properties"]["alarms"].as_array().unwrap().len(),
        8,
        "alarms: all"
    );
}

#[test]
fn scaling_changes_are_one_field_and_removal_deletes_only_our_policies() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    let simple = FLEET.replace(
        "      latency: 10m\n      processing_time: 0.25s\n",
        "      backlog_per_instance: 10\n",
    );
    write(dir.path(), &simple);
    apply_clean(&emulator, dir.path());
    emulator.awsctl(&["put-policy", "fleet-workers", "cpu-by-someone-else"]);

    // scale_in: false is one field too, and reads back as DisableScaleIn.
    write(
        dir.path(),
        &simple.replace(
            "      warmup: 5m\n",
            "      warmup: 5m\n      scale_in: false\n",
        ),
    );
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_stdout_contains("~ scale_in: true -> false")
        .assert_stdout_contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    apply_clean(&emulator, dir.path());
    let tracking = emulator.awsctl(&["dump"])["policies"]["fleet-workers"]["fleet_jobs"].clone();
    assert_eq!(
        tracking["TargetTrackingConfiguration"]["DisableScaleIn"],
        true
    );
    assert_eq!(tracking["TargetTrackingConfiguration"]["TargetValue"], 10.0);
    write(dir.path(), &simple);
    apply_clean(&emulator, dir.path());

    write(
        dir.path(),
        &simple.replace("backlog_per_instance: 10", "backlog_per_instance: 25"),
    );
    let plan = run(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
    plan.assert_code(2)
        .assert_stdout_contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    let changed: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('~'))
        .collect();
    assert_eq!(
        changed,
        [
            "  ~ scaling policy \"fleet-workers/fleet_jobs\"",
            "      ~ target: 10 messages per instance -> 25 messages per instance"
        ],
        "{plan}"
    );
    apply_clean(&emulator, dir.path());

    let without = simple.replace(
        "    scaling:\n      group: fleet-workers\n      backlog_per_instance: 10\n      warmup: 5m\n      from_zero: true\n",
        "",
    );
    assert_ne!(without, simple);
    write(dir.path(), &without);
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_stdout_contains("- scaling policy \"fleet-workers/fleet_jobs\"")
        .assert_stdout_contains("- scaling policy \"fleet-workers/fleet_jobs-from-zero\"")
        .assert_stdout_contains("- alarm \"fleet-jobs-from-zero\"");
    apply_clean(&emulator, dir.path());
    let policies = emulator.awsctl(&["dump"])["policies"]["fleet-workers"].clone();
    assert_eq!(
        policies.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["cpu-by-someone-else"]
    );
}

#[test]
fn dashboards_diff_as_json_and_foreign_ones_stay() {
    let emulator = Emulator::start();
    let dir = setup(&emulator);
    emulator.awsctl(&["put-dashboard", "fleet-handmade", r#"{"widgets":[]}"#]);
    emulator.awsctl(&["put-dashboard", "other_overview", r#"{"widgets":[]}"#]);
    apply_clean(&emulator, dir.path());

    // Move the text widget before the alarm list: a small diff, not the whole body.
    let moved = FLEET.replace("      - alarms: all\n", "").replace(
        "      - text: '## Runbook'\n",
        "      - text: '## Runbook'\n      - alarms: all\n",
    );
    write(dir.path(), &moved);
    let plan = run(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
    plan.assert_code(2)
        .assert_stdout_contains("~ dashboard \"fleet_overview\"")
        .assert_stdout_contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    let diff_lines = plan
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(['+', '-']) && !l.contains("dashboard"))
        .count();
    let body_lines =
        serde_json::to_string_pretty(&emulator.awsctl(&["dump"])["dashboards"]["fleet_overview"])
            .unwrap()
            .lines()
            .count();
    assert!(
        diff_lines > 0 && diff_lines < body_lines / 2,
        "{diff_lines} changed lines of {body_lines}:\n{plan}"
    );
    apply_clean(&emulator, dir.path());

    write(
        dir.path(),
        FLEET
            .replace("dashboards:", "unused_dashboards:")
            .split("unused_dashboards:")
            .next()
            .unwrap(),
    );
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_stdout_contains("- dashboard \"fleet_overview\"")
        .assert_stdout_contains("Plan: 0 to add, 0 to change, 1 to destroy.");
    apply_clean(&emulator, dir.path());
    let boards = emulator.awsctl(&["dump"])["dashboards"].clone();
    assert_eq!(
        boards.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["fleet-handmade", "other_overview"]
    );
}

#[test]
fn missing_queues_and_groups_are_located_errors_and_nothing_is_applied() {
    let emulator = Emulator::start();
    emulator.awsctl(&["create-queue", "fleet-jobs"]); // exists, but has no redrive policy
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    let yaml = r"
stack: fleet
queues:
  jobs:
    name: fleet-jobs
    alarms:
      dlq_visible_messages: { above: 0 }
  orders:
    name: fleet-orders
    dead_letter_queue: fleet-orders-dlq
    scaling: { group: fleet-nowhere, backlog_per_instance: 10 }
";
    write(dir.path(), yaml);
    let before = emulator.awsctl(&["dump"]);
    let plan = run(&emulator, dir.path(), &["apply", "--auto-approve"]);
    plan.assert_code(1)
        .assert_stderr_contains("error[E0104]: queue `fleet-jobs` has no dead-letter queue")
        .assert_stderr_contains("error[E0104]: queue `fleet-orders` does not exist in us-east-1")
        .assert_stderr_contains("stacks/fleet.yaml:9:11")
        .assert_stderr_contains(
            "error[E0104]: dead-letter queue `fleet-orders-dlq` does not exist in us-east-1",
        )
        .assert_stderr_contains(
            "error[E0104]: Auto Scaling group `fleet-nowhere` does not exist in us-east-1",
        );
    assert_eq!(plan.stderr.matches("error[E0104]").count(), 4, "{plan}");
    assert_eq!(emulator.awsctl(&["dump"]), before);
}

#[test]
fn a_named_dlq_is_checked_against_the_redrive_policy_only_when_asked() {
    let emulator = Emulator::start();
    emulator.awsctl(&["create-queue", "fleet-jobs", "--dlq", "fleet-jobs-dlq"]);
    emulator.awsctl(&["create-queue", "fleet-other-dlq"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(
        dir.path(),
        "stack: fleet\nqueues:\n  jobs:\n    name: fleet-jobs\n    dead_letter_queue: fleet-other-dlq\n    alarms:\n      dlq_visible_messages: { above: 0 }\n",
    );
    let plain = run(&emulator, dir.path(), &["plan", "-v"]);
    // Every plan reads each watched queue's visibility timeout and redrive policy (what
    // happens to a dead worker's job, issue 10), but compares a named DLQ with the
    // redrive policy only when asked.
    plain
        .assert_code(0)
        .assert_stdout_contains("a job held by a dead worker reappears after 30s (visibility timeout) and moves to fleet-jobs-dlq after 5 receives");
    assert!(
        !plain.stdout.contains("sends failed messages to"),
        "compared only with --check-redrive:\n{plain}"
    );
    let checked = run(&emulator, dir.path(), &["plan", "-v", "--check-redrive"]);
    checked
        .assert_code(0)
        .assert_stdout_contains("queue `fleet-jobs` sends failed messages to `fleet-jobs-dlq` (redrive policy), but the stack names `fleet-other-dlq`")
        // One per queue the stack names, the named DLQ included.
        .assert_stderr_contains("GetQueueAttributes 2");
}

/// A saved query's widget and one with its own query, both on log groups; moto has no
/// query definitions, so the saved query itself is left out of the plan (`--exclude
/// queries`): its widget carries its text and does not need it to exist.
const LOGS_BOARD: &str = r"
stack: fleet
log_groups:
  workers: { name: /aws/ec2/fleet-workers }
  api: { name: /aws/ec2/fleet-api }
queries:
  recent-failures:
    log_groups: [workers, api]
    query: fields @timestamp, @message | filter @message like /JOB_FAILED/ | sort @timestamp desc | limit 20
dashboards:
  logs:
    widgets:
      - logs: { query: recent-failures, title: Recent failures, width: 12 }
      - logs:
          log_groups: [workers]
          insights: |
            filter @message like /JOB_FAILED/
            | stats count(*) as failures by bin(1h)
          view: timeSeries
          width: 12
      - text: '## Failures'
";

#[test]
fn logs_widgets_apply_as_log_widgets_on_their_sources_and_converge() {
    let emulator = Emulator::start();
    emulator.awsctl(&["create-log-group", "/aws/ec2/fleet-workers"]);
    emulator.awsctl(&["create-log-group", "/aws/ec2/fleet-api"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), LOGS_BOARD);
    let except_queries = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--exclude", "queries"]);
        run(&emulator, dir.path(), &args)
    };

    except_queries(&["plan"])
        .assert_code(0)
        .assert_stdout_contains("+ dashboard \"fleet_logs\"")
        .assert_stdout_contains("+ widgets: 3");
    except_queries(&["apply", "--auto-approve"]).assert_code(0);

    let body = emulator.awsctl(&["dump"])["dashboards"]["fleet_logs"].clone();
    let widgets = body["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 3, "{body:#}");
    assert_eq!(
        widgets[0],
        json!({
            "type": "log",
            "x": 0, "y": 0, "width": 12, "height": 6,
            "properties": {
                "query": "SOURCE '/aws/ec2/fleet-api' | SOURCE '/aws/ec2/fleet-workers' | fields @timestamp, @message | filter @message like /JOB_FAILED/ | sort @timestamp desc | limit 20",
                "region": "us-east-1",
                "title": "Recent failures",
                "view": "table",
            }
        })
    );
    assert_eq!(
        widgets[1],
        json!({
            "type": "log",
            "x": 12, "y": 0, "width": 12, "height": 6,
            "properties": {
                "query": "SOURCE '/aws/ec2/fleet-workers' | filter @message like /JOB_FAILED/\n| stats count(*) as failures by bin(1h)",
                "region": "us-east-1",
                "title": "/aws/ec2/fleet-workers",
                "view": "timeSeries",
            }
        })
    );
    assert_eq!((&widgets[2]["x"], &widgets[2]["y"]), (&json!(0), &json!(6)));

    except_queries(&["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");

    // A view changes one line of the body.
    write(
        dir.path(),
        &LOGS_BOARD.replace("view: timeSeries", "view: bar"),
    );
    let plan = except_queries(&["plan", "--detailed-exitcode"]);
    plan.assert_code(2)
        .assert_stdout_contains("~ dashboard \"fleet_logs\"")
        .assert_stdout_contains("\"view\": \"bar\"");
    except_queries(&["apply", "--auto-approve"]).assert_code(0);
    except_queries(&["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");
    assert_eq!(
        emulator.awsctl(&["dump"])["dashboards"]["fleet_logs"]["widgets"][1]["properties"]["view"],
        "bar"
    );
}
