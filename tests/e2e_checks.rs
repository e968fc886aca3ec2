//! The plan's live checks against a moto server of each test's own: an alarm on a
//! metric that does not exist, or not with the alarm's dimensions, is a warning at the
//! alarm's line with what does exist; `--strict` makes it an error; a correct stack plans
//! clean.

mod support;

use std::path::Path;

use support::{Emulator, Output};

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("stacks/checks.yaml"), yaml).unwrap();
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    emulator.run(args, dir, &[])
}

const TYPO: &str = r"
stack: checks
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
alarms:
  backlog:
    notify: [oncall]
    metric:
      namespace: Transcription
      name: Backlog
      dimensions: { QueueName: transcription-job }
      stat: Maximum
    above: 100
";

#[test]
fn a_misspelled_dimension_warns_with_the_right_spelling() {
    let emulator = Emulator::start();
    emulator.awsctl(&[
        "put-metric",
        "Transcription",
        "Backlog",
        "--dim",
        "QueueName=transcription-jobs",
    ]);
    emulator.awsctl(&[
        "put-metric",
        "Transcription",
        "Backlog",
        "--dim",
        "QueueName=other",
    ]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), TYPO);

    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_code(0)
        .assert_stderr_contains(
            "warning[W0202]: Transcription Backlog exists, but not with QueueName=transcription-job",
        )
        .assert_stderr_contains("stacks/checks.yaml:8:3")
        .assert_stderr_contains("it exists with QueueName=transcription-jobs: did you mean that?")
        .assert_stdout_contains("Plan: 3 to add");
    // --strict: the warning stops the plan and the apply.
    run(&emulator, dir.path(), &["plan", "--strict"])
        .assert_code(1)
        .assert_stderr_contains("--strict makes the warnings above errors");
    run(
        &emulator,
        dir.path(),
        &["apply", "--auto-approve", "--strict"],
    )
    .assert_code(1);
    assert!(emulator.awsctl(&["dump"])["alarms"]
        .as_object()
        .unwrap()
        .is_empty());

    // Fixed: no warning at all.
    write(
        dir.path(),
        &TYPO.replace("transcription-job }", "transcription-jobs }"),
    );
    let plan = run(&emulator, dir.path(), &["plan", "--strict"]);
    plan.assert_code(0);
    assert!(!plan.stderr.contains("warning["), "{plan}");
}

/// The issue's case word for word: an alarm on the queue `transcription-job` when the
/// queue AWS publishes metrics for is `transcription-jobs`.
#[test]
fn a_misspelled_queue_name_on_an_sqs_metric_warns_with_the_queue_that_exists() {
    let emulator = Emulator::start();
    emulator.awsctl(&[
        "put-metric",
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "--dim",
        "QueueName=transcription-jobs",
    ]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    let yaml = TYPO
        .replace("namespace: Transcription", "namespace: AWS/SQS")
        .replace("name: Backlog", "name: ApproximateAgeOfOldestMessage");
    write(dir.path(), &yaml);
    run(&emulator, dir.path(), &["plan", "--exclude", "queries"])
        .assert_code(0)
        .assert_stderr_contains("warning[W0202]: AWS/SQS ApproximateAgeOfOldestMessage exists, but not with QueueName=transcription-job")
        .assert_stderr_contains("stacks/checks.yaml:8:3")
        .assert_stderr_contains("it exists with QueueName=transcription-jobs: did you mean that?");
    write(
        dir.path(),
        &yaml.replace("transcription-job }", "transcription-jobs }"),
    );
    let plan = run(
        &emulator,
        dir.path(),
        &["plan", "--strict", "--exclude", "queries"],
    );
    plan.assert_code(0);
    assert!(!plan.stderr.contains("warning["), "{plan}");
}

#[test]
fn a_metric_nobody_publishes_warns_unless_it_is_expected_later() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), TYPO);
    run(&emulator, dir.path(), &["plan"])
        .assert_code(0)
        .assert_stderr_contains("warning[W0201]: no metric Transcription Backlog exists yet")
        .assert_stderr_contains("set `expect_metric: later`");
    write(dir.path(), &format!("{TYPO}    expect_metric: later\n"));
    let plan = run(&emulator, dir.path(), &["plan", "--strict"]);
    plan.assert_code(0);
    assert!(!plan.stderr.contains("W0201"), "{plan}");
}

const PAGER: &str = r"
stack: checks
alarms:
  errors:
    metric: { namespace: Shop, name: Errors, stat: Sum }
    above: 5
    expect_metric: later
    notify: ['arn:aws:sns:us-east-1:123456789012:team-pager']
";

/// A policy keeping `CloudWatch` out of the topic, as a team might write it.
const DENY_CLOUDWATCH: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OwnerOnly","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sns:Publish","Resource":"*"},{"Sid":"NoAlarms","Effect":"Deny","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}]}"#;

/// A topic monplan did not create, notified by ARN: its policy is read with one
/// `GetTopicAttributes`, and a policy that denies `CloudWatch` is a warning at the alarm;
/// the topic's default policy (owner account may publish) plans clean; a topic that does
/// not exist is a warning too.
#[test]
fn a_foreign_topic_whose_policy_denies_cloudwatch_warns_at_the_alarm() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), PAGER);

    // Not there at all.
    run(&emulator, dir.path(), &["plan"])
        .assert_code(0)
        .assert_stderr_contains(
            "warning[W0209]: topic `arn:aws:sns:us-east-1:123456789012:team-pager` does not exist",
        )
        .assert_stderr_contains("stacks/checks.yaml:4:3");

    emulator.awsctl(&["create-topic", "team-pager", "--policy", DENY_CLOUDWATCH]);
    let plan = run(&emulator, dir.path(), &["plan"]);
    plan.assert_code(0)
        .assert_stderr_contains("warning[W0209]: the access policy of topic `arn:aws:sns:us-east-1:123456789012:team-pager` denies CloudWatch sns:Publish")
        .assert_stderr_contains("stacks/checks.yaml:4:3")
        .assert_stderr_contains("statement NoAlarms refuses it");
    run(&emulator, dir.path(), &["plan", "--strict"]).assert_code(1);

    // A topic as SNS creates it: its default policy lets the owner account publish.
    emulator.awsctl(&["create-topic", "team-pager-2"]);
    write(dir.path(), &PAGER.replace("team-pager'", "team-pager-2'"));
    let plan = run(&emulator, dir.path(), &["plan", "--strict"]);
    plan.assert_code(0);
    assert!(!plan.stderr.contains("warning["), "{plan}");
}
