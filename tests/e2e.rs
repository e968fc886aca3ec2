//! The real binary against a real AWS API (a moto server of each test's own, on
//! 127.0.0.1): plan, apply, plan again; ownership with foreign resources present; a
//! failed apply and its convergence; secrets. Read back with an independent client.

mod support;

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;
use support::{Emulator, Output};

const WEBHOOK: &str = "https://hooks.example.com/services/T000/B000/e2e-secret-token";

fn write(dir: &Path, name: &str, yaml: &str) {
    std::fs::write(dir.join(name), yaml).unwrap();
}

/// Runs monplan in `dir` with the example's webhook variable set.
fn monplan(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    emulator.run(args, dir, &[("ONCALL_WEBHOOK", WEBHOOK)])
}

fn assert_no_secret(outputs: &[&Output]) {
    for output in outputs {
        assert!(
            !output.stdout.contains(WEBHOOK) && !output.stderr.contains(WEBHOOK),
            "secret leaked:\n{output}"
        );
        assert!(
            !output.stdout.contains("e2e-secret-token")
                && !output.stderr.contains("e2e-secret-token"),
            "secret leaked:\n{output}"
        );
    }
}

/// The number after `name ` in `-v`'s "read: N AWS calls in ... (A 1, B 2)" line.
fn calls(output: &Output, operation: &str) -> u64 {
    let line = output
        .stderr
        .lines()
        .find(|l| l.starts_with("read: "))
        .unwrap_or_else(|| panic!("no call count:\n{output}"));
    line.split(['(', ',', ')'])
        .map(str::trim)
        .find_map(|part| {
            part.strip_prefix(operation)
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

fn total_calls(output: &Output) -> u64 {
    let line = output
        .stderr
        .lines()
        .find(|l| l.starts_with("read: "))
        .unwrap();
    line["read: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn alarms(dump: &Value) -> Vec<String> {
    dump["alarms"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

const SHOP: &str = r"
stack: shop
tags: { team: web }
defaults: { notify: [oncall] }
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
      - email: backup@example.com
alarms:
  errors:
    metric: { namespace: Shop, name: Errors, stat: Sum }
    above: 5
  latency:
    metric: { namespace: Shop, name: Latency, stat: p99 }
    above: 800
";

fn apply_clean(emulator: &Emulator, dir: &Path) {
    monplan(emulator, dir, &["apply", "--auto-approve", "stacks"]).assert_code(0);
    monplan(emulator, dir, &["plan", "--detailed-exitcode", "stacks"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");
}

fn stacks_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    dir
}

#[test]
fn changing_one_threshold_plans_exactly_that_field() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    apply_clean(&emulator, dir.path());

    write(
        &dir.path().join("stacks"),
        "shop.yaml",
        &SHOP.replace("above: 5", "above: 10"),
    );
    let plan = monplan(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
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
            "  ~ alarm \"shop-errors\"",
            "      ~ threshold: above 5 -> above 10"
        ],
        "{plan}"
    );
    apply_clean(&emulator, dir.path());
    assert_eq!(
        emulator.awsctl(&["dump"])["alarms"]["shop-errors"]["Threshold"],
        10.0
    );
}

#[test]
fn removing_an_alarm_and_a_subscription_deletes_them() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    apply_clean(&emulator, dir.path());

    let smaller = SHOP
        .replace("      - email: backup@example.com\n", "")
        .replace(
        "  latency:\n    metric: { namespace: Shop, name: Latency, stat: p99 }\n    above: 800\n",
        "",
    );
    write(&dir.path().join("stacks"), "shop.yaml", &smaller);
    let plan = monplan(&emulator, dir.path(), &["plan"]);
    plan.assert_code(0)
        .assert_stdout_contains("- alarm \"shop-latency\"")
        .assert_stdout_contains("- subscription \"shop-oncall\" email:backup@example.com")
        .assert_stdout_contains("Plan: 0 to add, 0 to change, 2 to destroy.");
    apply_clean(&emulator, dir.path());

    let dump = emulator.awsctl(&["dump"]);
    assert_eq!(alarms(&dump), ["shop-errors"]);
    let endpoints: Vec<&str> = dump["topics"]["shop-oncall"]["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["oncall@example.com"]);
}

#[test]
fn foreign_resources_are_never_changed_or_deleted() {
    let emulator = Emulator::start();
    // Named like ours but untagged, owned by another stack, AWS-managed, and a foreign topic.
    emulator.awsctl(&["put-alarm", "shop-manual", "--threshold", "1"]);
    emulator.awsctl(&[
        "put-alarm",
        "billing-errors",
        "--tag",
        "monplan:stack=billing",
    ]);
    emulator.awsctl(&["put-alarm", "TargetTracking-shop-workers-AlarmHigh"]);
    emulator.awsctl(&["create-topic", "shop-legacy"]);
    emulator.awsctl(&["subscribe", "shop-legacy", "email", "legacy@example.com"]);
    let before = emulator.awsctl(&["dump"]);

    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    apply_clean(&emulator, dir.path());
    // Remove everything of ours from the stack: only ours may go.
    write(&dir.path().join("stacks"), "shop.yaml", "stack: shop\n");
    let plan = monplan(&emulator, dir.path(), &["plan"]);
    plan.assert_code(0)
        .assert_stdout_contains("Plan: 0 to add, 0 to change, 3 to destroy.");
    apply_clean(&emulator, dir.path());

    let after = emulator.awsctl(&["dump"]);
    assert_eq!(
        after, before,
        "foreign resources must be exactly as they were"
    );
}

#[test]
fn a_declared_name_that_exists_outside_monplan_is_a_plan_error_and_nothing_changes() {
    let emulator = Emulator::start();
    emulator.awsctl(&["put-alarm", "shop-errors"]);
    emulator.awsctl(&[
        "create-topic",
        "shop-oncall",
        "--tag",
        "monplan:stack=billing",
    ]);
    let before = emulator.awsctl(&["dump"]);
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);

    let plan = monplan(&emulator, dir.path(), &["plan"]);
    plan.assert_code(1)
        .assert_stderr_contains("error[E0101]: alarm `shop-errors` exists outside monplan")
        .assert_stderr_contains(
            "error[E0102]: topic `shop-oncall` belongs to monplan stack `billing`",
        )
        .assert_stderr_contains("shop.yaml:11:3");
    let apply = monplan(&emulator, dir.path(), &["apply", "--auto-approve"]);
    apply
        .assert_code(1)
        .assert_stderr_contains("nothing was changed in AWS");
    assert_eq!(emulator.awsctl(&["dump"]), before);
}

#[test]
fn a_failed_apply_reports_the_aws_error_and_the_next_apply_converges() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    let stack = r"
stack: pager
topics:
  page:
    subscriptions:
      - sms: ${env:PAGER_NUMBER}
alarms:
  down:
    metric: { namespace: Pager, name: Down, stat: Maximum }
    above: 0
    notify: [page]
";
    write(&dir.path().join("stacks"), "pager.yaml", stack);
    // Not a phone number: SNS refuses it. Values from the environment are secrets, so
    // monplan does not check them locally (a diagnostic would have to quote them).
    let bad = "bogus-pager-number";
    let failed = emulator.run(
        &["apply", "--auto-approve"],
        dir.path(),
        &[("PAGER_NUMBER", bad)],
    );
    failed
        .assert_code(1)
        .assert_stderr_contains("topic \"pager-page\": created")
        .assert_stderr_contains("error: apply stopped: subscription \"pager-page\" sms:(sensitive: ${env:PAGER_NUMBER}) failed")
        .assert_stderr_contains("Subscribe on arn:aws:sns:us-east-1:123456789012:pager-page sms:(sensitive: ${env:PAGER_NUMBER}) failed: InvalidParameter:")
        .assert_stderr_contains("not started (1):\n  alarm \"pager-down\"");
    assert!(
        !failed.stderr.contains(bad) && !failed.stdout.contains(bad),
        "the secret leaked:\n{failed}"
    );
    let dump = emulator.awsctl(&["dump"]);
    assert_eq!(
        dump["topics"].as_object().unwrap().len(),
        1,
        "the topic was created before the failure"
    );
    assert!(
        alarms(&dump).is_empty(),
        "nothing after the failure was started"
    );

    let good = [("PAGER_NUMBER", "+15555550100")];
    let retry = emulator.run(&["apply", "--auto-approve"], dir.path(), &good);
    retry
        .assert_code(0)
        .assert_stdout_contains("Resources: 2 added, 0 changed, 0 destroyed.");
    emulator
        .run(&["plan", "--detailed-exitcode"], dir.path(), &good)
        .assert_code(0);
}

#[test]
fn the_emulator_going_away_is_an_aws_error_naming_the_operation() {
    let mut emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    emulator.stop();
    let plan = monplan(&emulator, dir.path(), &["plan"]);
    plan.assert_code(1).assert_stderr_contains(&format!(
        "GetCallerIdentity on caller identity failed: DispatchFailure: cannot reach {}: Connection refused",
        emulator.endpoint
    ));
}

/// Without credentials: one error line saying what to set, no SDK warning before it, and
/// no colour when stderr is not a terminal, even without `NO_COLOR` (and with
/// `--no-color` on top).
#[test]
fn no_credentials_is_one_plain_error_line() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    for extra in [&[][..], &["--no-color"][..]] {
        let mut cmd = emulator.monplan();
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("NO_COLOR");
        let args: Vec<&str> = ["plan"].iter().chain(extra).copied().collect();
        let out = support::run_command(cmd, &args, dir.path());
        out.assert_code(1).assert_stderr_contains(
            "error: reading live state failed: GetCallerIdentity on caller identity failed: NoCredentials: no AWS credentials found",
        );
        assert_eq!(out.stderr.trim_end().lines().count(), 1, "{out}");
        assert!(
            out.stderr.contains("AWS_PROFILE"),
            "says what to set: {out}"
        );
        assert!(
            !out.stderr.contains('\u{1b}'),
            "no colour off a terminal: {out:?}"
        );
    }
}

#[test]
fn apply_without_a_terminal_refuses_unless_auto_approved() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    let refused = monplan(&emulator, dir.path(), &["apply"]);
    refused
        .assert_code(1)
        .assert_stdout_contains("Plan: 5 to add")
        .assert_stderr_contains("--auto-approve");
    let dump = emulator.awsctl(&["dump"]);
    assert!(alarms(&dump).is_empty() && dump["topics"].as_object().unwrap().is_empty());
}

#[test]
fn bad_input_changes_nothing_and_validate_needs_no_credentials() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(
        &dir.path().join("stacks"),
        "shop.yaml",
        &SHOP.replace("above: 5", "above: 5\n    abuve: 6"),
    );
    let apply = monplan(&emulator, dir.path(), &["apply", "--auto-approve"]);
    apply
        .assert_code(1)
        .assert_stderr_contains("stacks/shop.yaml:14:5")
        .assert_stderr_contains("did you mean `above`?");
    let dump = emulator.awsctl(&["dump"]);
    assert!(dump["topics"].as_object().unwrap().is_empty());

    // No AWS variables at all: validate is offline.
    let mut validate = std::process::Command::new(env!("CARGO_BIN_EXE_monplan"));
    validate
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .current_dir(dir.path());
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    let output = validate.arg("validate").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Offline, an unset `${env:...}` is a warning at its line; plan needs the value.
    write(&dir.path().join("stacks"), "hooks.yaml", SECRET_STACK);
    let output = validate.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning[W0011]: environment variable `ONCALL_WEBHOOK` is not set")
            && stderr.contains("stacks/hooks.yaml:7:16"),
        "{stderr}"
    );
    emulator
        .run(&["plan"], dir.path(), &[])
        .assert_code(1)
        .assert_stderr_contains("error[E0011]: environment variable `ONCALL_WEBHOOK` is not set");
}

const SECRET_STACK: &str = r"
stack: hooks
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
      - https: ${env:ONCALL_WEBHOOK}
alarms:
  errors:
    metric: { namespace: Hooks, name: Errors, stat: Sum }
    above: 1
    notify: [oncall]
";

#[test]
fn secrets_stay_out_of_every_output_even_verbose() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "hooks.yaml", SECRET_STACK);
    let apply = monplan(&emulator, dir.path(), &["apply", "--auto-approve", "-vv"]);
    apply
        .assert_code(0)
        .assert_stdout_contains("(sensitive: ${env:ONCALL_WEBHOOK})");
    let live = emulator.awsctl(&["dump"]);
    let endpoints: Vec<&str> = live["topics"]["hooks-oncall"]["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["endpoint"].as_str().unwrap())
        .collect();
    assert!(
        endpoints.contains(&WEBHOOK),
        "the real value reached AWS: {endpoints:?}"
    );
    // Remove the webhook from the YAML: its deletion must not print the URL either.
    write(
        &dir.path().join("stacks"),
        "hooks.yaml",
        &SECRET_STACK.replace("      - https: ${env:ONCALL_WEBHOOK}\n", ""),
    );
    let plan = monplan(&emulator, dir.path(), &["plan", "-vv"]);
    plan.assert_code(0).assert_stdout_contains(
        "- subscription \"hooks-oncall\" https:(sensitive: https://hooks.example.com/...)",
    );
    let delete = monplan(&emulator, dir.path(), &["apply", "--auto-approve", "-vv"]);
    delete.assert_code(0);
    assert_no_secret(&[&apply, &plan, &delete]);
}

#[test]
fn plan_reads_are_batched_whatever_the_number_of_alarms() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    let mut yaml = String::from("stack: big\ntopics:\n  oncall: {}\nalarms:\n");
    for i in 0..250 {
        let _ = write!(
            yaml,"  a{i}:\n    metric: {{ namespace: Big, name: M{i}, stat: Sum }}\n    above: {i}\n    notify: [oncall]\n");
    }
    write(&dir.path().join("stacks"), "big.yaml", &yaml);
    let empty = monplan(&emulator, dir.path(), &["plan", "-v"]);
    empty
        .assert_code(0)
        .assert_stdout_contains("Plan: 251 to add");
    apply_clean(&emulator, dir.path());
    let plan = monplan(
        &emulator,
        dir.path(),
        &["plan", "-v", "--detailed-exitcode"],
    );
    plan.assert_code(0);
    // 250 names at 100 per call; one tag query; the topic's attributes and subscriptions;
    // who we are. Nothing per alarm.
    assert_eq!(calls(&plan, "DescribeAlarms"), 3, "{plan}");
    assert_eq!(calls(&plan, "GetResources"), 3, "{plan}"); // 251 tagged resources, 100 a page
    assert_eq!(calls(&plan, "ListTagsForResource"), 0, "{plan}");
    // Plus one DescribePolicies, DescribeScalingPolicies (ECS), ListDashboards,
    // DescribeMetricFilters and DescribeQueryDefinitions each: what the stack owns by
    // name prefix.
    assert_eq!(calls(&plan, "DescribePolicies"), 1, "{plan}");
    assert_eq!(calls(&plan, "DescribeScalingPolicies"), 1, "{plan}");
    assert_eq!(calls(&plan, "ListDashboards"), 1, "{plan}");
    assert_eq!(calls(&plan, "DescribeMetricFilters"), 1, "{plan}");
    assert_eq!(calls(&plan, "DescribeQueryDefinitions"), 1, "{plan}");
    // And one ListMetrics for the namespace of the 250 watched metrics, to check they exist.
    assert_eq!(calls(&plan, "ListMetrics"), 1, "{plan}");
    assert_eq!(
        total_calls(&plan),
        3 + 3 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 2,
        "{plan}"
    );
}

#[test]
fn max_destroy_refuses_before_doing_anything() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    apply_clean(&emulator, dir.path());
    write(&dir.path().join("stacks"), "shop.yaml", "stack: shop\n");
    let before = emulator.awsctl(&["dump"]);
    let refused = monplan(
        &emulator,
        dir.path(),
        &["apply", "--auto-approve", "--max-destroy", "2"],
    );
    refused.assert_code(1).assert_stderr_contains(
        "the plan destroys 3 resources, more than --max-destroy 2. Nothing was changed.",
    );
    assert_eq!(emulator.awsctl(&["dump"]), before);
    monplan(
        &emulator,
        dir.path(),
        &["apply", "--auto-approve", "--max-destroy", "3"],
    )
    .assert_code(0);
    let after = emulator.awsctl(&["dump"]);
    assert!(alarms(&after).is_empty());
}

#[test]
fn destroy_deletes_what_the_stack_owns_and_nothing_else() {
    let emulator = Emulator::start();
    emulator.awsctl(&["put-alarm", "shop-manual"]);
    emulator.awsctl(&[
        "put-alarm",
        "billing-errors",
        "--tag",
        "monplan:stack=billing",
    ]);
    emulator.awsctl(&["create-topic", "shop-legacy"]);
    let before = emulator.awsctl(&["dump"]);
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    apply_clean(&emulator, dir.path());

    let refused = monplan(&emulator, dir.path(), &["destroy", "shop"]);
    refused
        .assert_code(1)
        .assert_stdout_contains("Plan: 0 to add, 0 to change, 3 to destroy.")
        .assert_stderr_contains("--auto-approve");
    let destroyed = monplan(
        &emulator,
        dir.path(),
        &["destroy", "shop", "--auto-approve"],
    );
    destroyed
        .assert_code(0)
        .assert_stdout_contains("Resources: 0 added, 0 changed, 3 destroyed.");
    assert_eq!(
        emulator.awsctl(&["dump"]),
        before,
        "only the stack's own resources went"
    );
    monplan(
        &emulator,
        dir.path(),
        &["destroy", "shop", "--auto-approve"],
    )
    .assert_code(0)
    .assert_stdout_contains("No changes.");
}

#[test]
fn a_saved_plan_applies_exactly_and_holds_no_secret() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "hooks.yaml", SECRET_STACK);
    let plan = monplan(&emulator, dir.path(), &["plan", "--out", "plan.json"]);
    plan.assert_code(0)
        .assert_stderr_contains("monplan apply plan.json");
    let saved = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    assert!(
        !saved.contains("e2e-secret-token"),
        "a saved plan holds no secret"
    );
    let document: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(document["plan"]["summary"]["add"], 4);
    // No prompt: the saved plan was the review.
    let apply = monplan(&emulator, dir.path(), &["apply", "plan.json"]);
    apply
        .assert_code(0)
        .assert_stdout_contains("Resources: 4 added");
    monplan(&emulator, dir.path(), &["plan", "--detailed-exitcode"]).assert_code(0);
}

#[test]
fn a_saved_plan_is_refused_when_a_secret_changed_since_planning() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "hooks.yaml", SECRET_STACK);
    monplan(&emulator, dir.path(), &["plan", "--out", "plan.json"]).assert_code(0);
    // Same files, same live state, same redacted plan text; only the webhook differs.
    let rotated = "https://hooks.example.com/services/T000/B000/rotated-token";
    let refused = emulator.run(
        &["apply", "plan.json"],
        dir.path(),
        &[("ONCALL_WEBHOOK", rotated)],
    );
    refused
        .assert_code(1)
        .assert_stderr_contains("refusing to apply plan.json: it is stale")
        .assert_stderr_contains("its operations differ from the saved ones");
    assert!(
        !refused.stderr.contains("rotated-token") && !refused.stdout.contains("rotated-token"),
        "{refused}"
    );
    assert_no_secret(&[&refused]);
    assert!(
        emulator.awsctl(&["dump"])["topics"]
            .as_object()
            .unwrap()
            .is_empty(),
        "nothing applied"
    );
}

#[test]
fn a_saved_plan_is_refused_when_the_live_state_or_the_files_changed() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    apply_clean(&emulator, dir.path());
    write(
        &dir.path().join("stacks"),
        "shop.yaml",
        &SHOP.replace("above: 5", "above: 10"),
    );
    monplan(&emulator, dir.path(), &["plan", "--out", "plan.json"]).assert_code(0);

    // Someone edits the alarm behind our back: the plan's `before` no longer holds.
    emulator.awsctl(&["set-threshold", "shop-errors", "42"]);
    let refused = monplan(&emulator, dir.path(), &["apply", "plan.json"]);
    refused
        .assert_code(1)
        .assert_stderr_contains("refusing to apply plan.json: it is stale")
        .assert_stderr_contains(
            "alarm \"shop-errors\": its live state changed since the plan was made",
        );
    assert_eq!(
        emulator.awsctl(&["dump"])["alarms"]["shop-errors"]["Threshold"],
        42.0,
        "nothing applied"
    );

    // A fresh plan applies; then a stack file edit makes the next saved plan stale.
    monplan(&emulator, dir.path(), &["plan", "--out", "plan.json"]).assert_code(0);
    write(
        &dir.path().join("stacks"),
        "shop.yaml",
        &SHOP.replace("above: 5", "above: 11"),
    );
    let refused = monplan(&emulator, dir.path(), &["apply", "plan.json"]);
    refused
        .assert_code(1)
        .assert_stderr_contains("stack file stacks/shop.yaml changed since the plan was made");
    assert_eq!(
        emulator.awsctl(&["dump"])["alarms"]["shop-errors"]["Threshold"],
        42.0,
        "nothing applied"
    );
}

#[test]
fn plans_render_as_json_and_markdown() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(&dir.path().join("stacks"), "shop.yaml", SHOP);
    let json_plan = monplan(&emulator, dir.path(), &["plan", "--format", "json"]);
    json_plan.assert_code(0);
    let document: Value = serde_json::from_str(&json_plan.stdout).unwrap();
    assert_eq!(document["format_version"], 1);
    assert_eq!(
        document["summary"],
        serde_json::json!({"add": 5, "change": 0, "destroy": 0, "adopt": 0})
    );
    assert_eq!(document["changes"][0]["action"], "create");
    assert!(document["estimated_apply_seconds"]
        .as_f64()
        .is_some_and(|s| s >= 0.0));
    let markdown = monplan(&emulator, dir.path(), &["plan", "--format", "markdown"]);
    markdown
        .assert_code(0)
        .assert_stdout_contains("Plan: 5 to add, 0 to change, 0 to destroy.")
        .assert_stdout_contains("<details>");
}

#[test]
fn the_account_guard_is_checked_before_any_read() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    write(
        &dir.path().join("stacks"),
        "shop.yaml",
        &format!("account: \"210987654321\"\n{SHOP}"),
    );
    let plan = monplan(&emulator, dir.path(), &["plan", "-v"]);
    plan.assert_code(1)
        .assert_stderr_contains("error[E0103]: stack `shop` is for account 210987654321, but the credentials are for account 123456789012");
    assert_eq!(total_calls(&plan), 1, "only GetCallerIdentity:\n{plan}");
    assert_eq!(calls(&plan, "GetCallerIdentity"), 1);
}
