//! The example stacks (EC2 and ECS) end to end, as the README's demo runs them:
//! `LocalStack` as the default endpoint (it implements composite alarms) and moto for
//! SQS, Auto Scaling, Logs, ECS and Application Auto Scaling (`LocalStack`'s free runtime
//! has none of the scaling APIs), through the SDK's per-service endpoint variables. Read
//! back with the independent client on each.

mod support;

use serde_json::{json, Value};
use support::localstack::LocalStack;
use support::{Emulator, Output};

const WEBHOOK: &str = "https://hooks.example.com/services/T000/B000/example-secret-token";

fn run(localstack: &LocalStack, moto: &Emulator, dir: &std::path::Path, args: &[&str]) -> Output {
    let envs = [
        ("ONCALL_WEBHOOK", WEBHOOK),
        ("AWS_ENDPOINT_URL_SQS", moto.endpoint.as_str()),
        ("AWS_ENDPOINT_URL_AUTO_SCALING", moto.endpoint.as_str()),
        ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", moto.endpoint.as_str()),
        ("AWS_ENDPOINT_URL_ECS", moto.endpoint.as_str()),
        (
            "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING",
            moto.endpoint.as_str(),
        ),
    ];
    // As the demo: no emulator has saved queries.
    // After the command: `--exclude` is an option of the commands that read AWS.
    let args: Vec<&str> = args
        .iter()
        .chain(&["--exclude", "queries"])
        .copied()
        .collect();
    let output = localstack.run(&args, dir, &envs);
    assert!(
        !output.stdout.contains("example-secret-token")
            && !output.stderr.contains("example-secret-token"),
        "secret leaked:\n{output}"
    );
    output
}

#[test]
fn the_example_applies_converges_and_reads_back_as_declared() {
    let moto = Emulator::start_as_account("000000000000");
    let localstack = LocalStack::start();
    moto.awsctl(&[
        "create-queue",
        "transcription-jobs",
        "--dlq",
        "transcription-jobs-dlq",
        "--visibility-timeout",
        "1200",
    ]);
    moto.awsctl(&[
        "create-group",
        "transcription-workers",
        "--min",
        "0",
        "--max",
        "10",
    ]);
    moto.awsctl(&["create-log-group", "/aws/ec2/transcription"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("stacks/example.yaml", dir.path().join("example.yaml")).unwrap();

    let plan = run(
        &localstack,
        &moto,
        dir.path(),
        &["plan", "--detailed-exitcode", "example.yaml"],
    );
    plan.assert_code(2)
        .assert_stdout_contains("Plan: 27 to add, 0 to change, 0 to destroy.");
    // The example is a correct stack: the live checks find nothing to warn about.
    assert!(!plan.stderr.contains("warning["), "{plan}");
    let apply = run(
        &localstack,
        &moto,
        dir.path(),
        &["apply", "--auto-approve", "example.yaml"],
    );
    apply
        .assert_code(0)
        .assert_stdout_contains("Apply complete! Resources: 27 added, 0 changed, 0 destroyed.");
    let replan = run(
        &localstack,
        &moto,
        dir.path(),
        &["plan", "--detailed-exitcode", "example.yaml"],
    );
    replan.assert_code(0).assert_stdout_contains("No changes.");
    // The applied stack draws no warning either: every ARN it made is in its account.
    assert!(!replan.stderr.contains("warning["), "{replan}");
    let again = run(
        &localstack,
        &moto,
        dir.path(),
        &["apply", "--auto-approve", "example.yaml"],
    );
    again.assert_code(0).assert_stdout_contains("No changes.");
    assert!(!again.stdout.contains("Apply complete"), "{again}");

    let dump = localstack.awsctl(&["dump"]);
    let tags =
        json!({"monplan:stack": "example", "team": "ml-platform", "service": "transcription"});
    let topic = &dump["topics"]["example-oncall"];
    assert_eq!(topic["attributes"]["DisplayName"], "Transcription on-call");
    assert_eq!(topic["tags"], tags);
    let mut endpoints: Vec<&str> = topic["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["endpoint"].as_str().unwrap())
        .collect();
    endpoints.sort_unstable();
    assert_eq!(endpoints, [WEBHOOK, "oncall@example.com"]);

    let alarms = dump["alarms"].as_object().unwrap();
    let names: Vec<&String> = alarms.keys().collect();
    assert_eq!(
        names,
        [
            "example-backlog-per-worker",
            "example-job-failures",
            "example-jobs-dlq-visible-messages",
            "example-jobs-from-zero",
            "example-jobs-oldest-message-age",
            "example-jobs-time-to-drain",
            "example-jobs-visible-messages",
            "example-slow-transcriptions",
            "example-throughput-anomaly",
            "example-transcribers-stuck",
            "example-workers-failure-rate",
            "example-workers-failures",
            "example-workers-no-progress",
        ]
    );
    let oncall = format!(
        "arn:aws:sns:us-east-1:{}:example-oncall",
        account(&topic["arn"])
    );
    let stuck = &alarms["example-jobs-oldest-message-age"];
    for (field, value) in [
        ("MetricName", json!("ApproximateAgeOfOldestMessage")),
        ("Namespace", json!("AWS/SQS")),
        ("Dimensions", json!({"QueueName": "transcription-jobs"})),
        ("Statistic", json!("Maximum")),
        ("Period", json!(60)),
        ("Threshold", json!(1800.0)),
        ("EvaluationPeriods", json!(5)),
        ("DatapointsToAlarm", json!(3)),
        ("AlarmActions", json!([oncall])),
        ("OKActions", json!([oncall])),
        ("Tags", tags.clone()),
    ] {
        assert_eq!(stuck[field], value, "oldest_message_age {field}");
    }
    assert_eq!(
        alarms["example-jobs-dlq-visible-messages"]["Dimensions"],
        json!({"QueueName": "transcription-jobs-dlq"})
    );
    assert_eq!(
        alarms["example-slow-transcriptions"]["ExtendedStatistic"],
        "p99"
    );
    // The alarm names the log metric by key; the filter publishes it.
    assert_eq!(
        alarms["example-slow-transcriptions"]["MetricName"],
        "JobDuration"
    );
    assert_eq!(alarms["example-slow-transcriptions"]["Unit"], "Seconds");
    let moto_dump = moto.awsctl(&["dump"]);
    let filters = &moto_dump["metric_filters"]["/aws/ec2/transcription"];
    assert_eq!(
        filters["example_audio-seconds"]["metricTransformations"],
        json!([{"metricName": "AudioSeconds", "metricNamespace": "Transcription", "metricValue": "$.audio_duration", "unit": "Seconds"}])
    );
    assert_eq!(
        filters["example_workers.jobs_duration"]["filterPattern"],
        "{ $.event = \"JOB_COMPLETE\" && $.duration >= 0 }"
    );
    assert_eq!(
        filters.as_object().unwrap().len(),
        7,
        "the recipe's five and two by hand"
    );
    for alarm in [
        "example-workers-failures",
        "example-workers-failure-rate",
        "example-workers-no-progress",
    ] {
        assert!(alarms.contains_key(alarm), "{alarm}");
    }

    // The fleet's stuck alarm: one contributor per instance, terminated when stuck.
    let stuck = &alarms["example-transcribers-stuck"];
    assert_eq!(
        stuck["Metrics"][0]["Expression"],
        "SELECT MAX(\"SecondsSinceProgress\") FROM SCHEMA(\"Transcription\", \"InstanceId\") GROUP BY \"InstanceId\" ORDER BY MAX() DESC"
    );
    assert_eq!(stuck["Threshold"], 600.0, "stuck_after: 10m");
    let mut actions: Vec<String> = serde_json::from_value(stuck["AlarmActions"].clone()).unwrap();
    actions.sort();
    assert_eq!(
        actions,
        [
            "arn:aws:automate:us-east-1:ec2:terminate".to_string(),
            oncall.clone()
        ]
    );

    let composite = &dump["composite_alarms"]["example-transcription-down"];
    assert_eq!(
        composite["AlarmRule"],
        "ALARM(\"example-jobs-oldest-message-age\") OR ALARM(\"example-job-failures\")"
    );
    assert_eq!(composite["AlarmActions"], json!([oncall]));

    let board = &dump["dashboards"]["example_overview"];
    assert_eq!(
        board["widgets"].as_array().unwrap().len(),
        11,
        "queue row of 4, job-events row of 3, alarms, 2 metrics, text"
    );
    let failures = board["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["type"] == "log")
        .unwrap();
    assert!(
        failures["properties"]["query"]
            .as_str()
            .unwrap()
            .starts_with("SOURCE '/aws/ec2/transcription' | fields @timestamp, @message | filter @message like /JOB_FAILED/"),
        "{failures}"
    );

    let policies = &moto_dump["policies"]["transcription-workers"];
    let tracking = &policies["example_jobs"]["TargetTrackingConfiguration"];
    assert_eq!(
        tracking["TargetValue"], 40.0,
        "latency 10m / processing_time 15s"
    );
    let step = &policies["example_jobs-from-zero"];
    assert_eq!(
        alarms["example-jobs-from-zero"]["AlarmActions"],
        json!([step["PolicyARN"]])
    );
}

/// The account in an ARN (`LocalStack`'s differs from moto's).
fn account(arn: &Value) -> String {
    arn.as_str().unwrap().split(':').nth(4).unwrap().to_string()
}

#[test]
fn the_ecs_example_applies_converges_and_reads_back_as_declared() {
    let moto = Emulator::start_as_account("000000000000");
    let localstack = LocalStack::start();
    moto.awsctl(&[
        "create-queue",
        "thumbnail-jobs",
        "--dlq",
        "thumbnail-jobs-dlq",
        "--visibility-timeout",
        "600",
    ]);
    moto.awsctl(&["create-service", "media", "thumbnails", "--health-check"]);
    moto.awsctl(&["create-log-group", "/ecs/thumbnails"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        "stacks/example-ecs.yaml",
        dir.path().join("example-ecs.yaml"),
    )
    .unwrap();
    let file = "example-ecs.yaml";

    let plan = run(
        &localstack,
        &moto,
        dir.path(),
        &["plan", "--detailed-exitcode", file],
    );
    plan.assert_code(2)
        .assert_stdout_contains("Plan: 10 to add, 0 to change, 0 to destroy.")
        .assert_stdout_contains("+ target: 20 messages per task")
        // `replace` relies on the task definition's health check, read and named.
        .assert_stdout_contains("task definition awsctl-worker:1 declares one (worker)");
    // A correct stack: the live checks (Container Insights included) find nothing.
    assert!(!plan.stderr.contains("warning"), "{plan}");
    run(
        &localstack,
        &moto,
        dir.path(),
        &["apply", "--auto-approve", file],
    )
    .assert_code(0)
    .assert_stdout_contains("Apply complete! Resources: 10 added, 0 changed, 0 destroyed.");
    run(
        &localstack,
        &moto,
        dir.path(),
        &["plan", "--detailed-exitcode", file],
    )
    .assert_code(0)
    .assert_stdout_contains("No changes.");
    let again = run(
        &localstack,
        &moto,
        dir.path(),
        &["apply", "--auto-approve", file],
    );
    again.assert_code(0).assert_stdout_contains("No changes.");
    assert!(!again.stdout.contains("Apply complete"), "{again}");

    let moto_dump = moto.awsctl(&["dump"]);
    let target = &moto_dump["scalable_targets"]["service/media/thumbnails"];
    assert_eq!(
        (&target["MinCapacity"], &target["MaxCapacity"]),
        (&json!(1), &json!(50))
    );
    let policy = &moto_dump["service_policies"]["service/media/thumbnails"]["example-ecs_jobs"];
    let config = &policy["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(config["TargetValue"], 20.0);
    assert_eq!(config["ScaleOutCooldown"], 60, "warmup: 1m");
    assert_eq!(config["DisableScaleIn"], false);
    let tasks = config["CustomizedMetricSpecification"]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["Id"] == "tasks")
        .unwrap();
    assert_eq!(
        tasks["MetricStat"]["Metric"]["Dimensions"],
        json!([{"Name": "ClusterName", "Value": "media"}, {"Name": "ServiceName", "Value": "thumbnails"}])
    );

    let dump = localstack.awsctl(&["dump"]);
    let alarms: Vec<&String> = dump["alarms"].as_object().unwrap().keys().collect();
    assert_eq!(
        alarms,
        [
            "example-ecs-jobs-dlq-visible-messages",
            "example-ecs-jobs-oldest-message-age",
            "example-ecs-jobs-visible-messages",
            "example-ecs-thumbnailers-stuck",
        ]
    );
    // The alarm itself only notifies: no alarm action stops an ECS task (ECS replaces it).
    let stuck = &dump["alarms"]["example-ecs-thumbnailers-stuck"];
    assert_eq!(
        stuck["Metrics"][0]["Expression"],
        "SELECT MAX(\"SecondsSinceProgress\") FROM SCHEMA(\"Thumbnails\", \"TaskId\") GROUP BY \"TaskId\" ORDER BY MAX() DESC"
    );
    assert_eq!(
        stuck["AlarmActions"],
        json!([dump["topics"]["example-ecs-oncall"]["arn"]])
    );
    assert_eq!(
        dump["topics"]["example-ecs-oncall"]["tags"],
        json!({"monplan:stack": "example-ecs", "team": "media", "service": "thumbnails"})
    );
    assert!(dump["dashboards"]["example-ecs_overview"]["widgets"].is_array());
}
