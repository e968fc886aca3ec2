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
