//! `monplan import` against a moto server of each test's own: alarms, topics and
//! dashboards a team clicked together become a stack whose plan only adopts them (adds
//! the ownership tag); apply tags them; the plan after is empty. Look-alikes under
//! another prefix and a resource tagged for another stack are left out and untouched.

mod support;

use std::path::Path;

use support::Emulator;

const HOOK: &str = "https://hooks.example.com/services/T000/B000/secret-token";

fn plant(emulator: &Emulator) -> String {
    let topic = emulator.awsctl(&["create-topic", "shop-alerts", "--tag", "team=web"]);
    let topic_arn = topic["arn"].as_str().unwrap().to_string();
    emulator.awsctl(&[
        "set-topic-attribute",
        "shop-alerts",
        "DisplayName",
        "Shop: on call",
    ]);
    emulator.awsctl(&["subscribe", "shop-alerts", "email", "oncall@example.com"]);
    emulator.awsctl(&["subscribe", "shop-alerts", "https", HOOK]);
    // Console-like names: capitals, spaces; a description with `: ` and a `#`.
    let errors = serde_json::json!({
        "AlarmDescription": "Errors: too many # of 5xx",
        "Namespace": "Shop",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "Service", "Value": "cart"}],
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [topic_arn],
        "OKActions": [topic_arn],
    });
    emulator.awsctl(&[
        "put-alarm-raw",
        "shop-Cart Errors",
        &errors.to_string(),
        "--tag",
        "owner=alice",
    ]);
    let latency = serde_json::json!({
        "Namespace": "Shop",
        "MetricName": "Latency",
        "ExtendedStatistic": "p99",
        "Period": 60,
        "EvaluationPeriods": 5,
        "Threshold": 800.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "Unit": "Milliseconds",
    });
    emulator.awsctl(&["put-alarm-raw", "shop-latency", &latency.to_string()]);
    // Left out: a look-alike under another prefix, one of another monplan stack.
    emulator.awsctl(&["put-alarm", "shopping-errors", "--threshold", "7"]);
    emulator.awsctl(&[
        "put-alarm",
        "shop-billing",
        "--tag",
        "monplan:stack=billing",
    ]);
    emulator.awsctl(&["create-topic", "shopping-alerts"]);
    // A dashboard this stack owns by name, and one it cannot own.
    let board = r#"{"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":3,"properties":{"markdown":"hi"}}]}"#;
    emulator.awsctl(&["put-dashboard", "shop_overview", board]);
    emulator.awsctl(&["put-dashboard", "shop-legacy", board]);
    topic_arn
}

fn stacks_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    dir
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str], hook_var: &str) -> support::Output {
    emulator.run(args, dir, &[(hook_var, HOOK)])
}

#[test]
fn imported_resources_plan_only_their_ownership_tags_and_converge() {
    let emulator = Emulator::start();
    plant(&emulator);
    let foreign_before = emulator.awsctl(&["dump", "--prefix", "shopping"]);
    let billing_before = emulator.awsctl(&["dump", "--prefix", "shop-billing"]);
    let dir = stacks_dir();
    let file = dir.path().join("stacks/shop.yaml");
    let file_arg = file.to_str().unwrap();

    let imported = emulator.run(
        &["import", "--prefix", "shop-", "--out", file_arg],
        dir.path(),
        &[],
    );
    imported.assert_success();
    let yaml = std::fs::read_to_string(&file).unwrap();
    assert!(!yaml.contains("secret-token"), "{yaml}");
    assert!(yaml.contains("stack: shop\n"), "{yaml}");
    assert!(yaml.contains("name: \"shop-Cart Errors\""), "{yaml}");
    assert!(yaml.contains("notify: [alerts]"), "{yaml}");
    assert!(yaml.contains("adopt: true"), "{yaml}");
    assert!(
        yaml.contains("#   alarm \"shop-billing\": tagged monplan:stack=billing"),
        "{yaml}"
    );
    assert!(yaml.contains("#   dashboard \"shop-legacy\""), "{yaml}");
    assert!(!yaml.contains("shopping"), "{yaml}");
    let hook_var = yaml
        .lines()
        .find_map(|l| l.strip_prefix("#   ")?.split_once(": the https endpoint"))
        .map_or_else(
            || panic!("the hook's variable is named: {yaml}"),
            |(name, _)| name.to_string(),
        );
    // Without a --out, the same YAML goes to stdout.
    let stdout = emulator.run(&["import", "--prefix", "shop-"], dir.path(), &[]);
    stdout.assert_success();
    assert_eq!(stdout.stdout, yaml);

    let validated = run(&emulator, dir.path(), &["validate", file_arg], &hook_var);
    validated.assert_success();
    assert!(!validated.stderr.contains("warning"), "{validated}");

    let plan = run(&emulator, dir.path(), &["plan"], &hook_var);
    plan.assert_code(0)
        .assert_stdout_contains("Plan: 0 to add, 3 to adopt, 0 to change, 0 to destroy.")
        .assert_stdout_contains("adopting only adds the ownership tag monplan:stack=shop");
    assert!(!plan.stdout.contains("will be created"), "{plan}");
    assert!(!plan.stdout.contains("will be destroyed"), "{plan}");
    assert!(!plan.stdout.contains("will be updated"), "{plan}");
    let json = run(
        &emulator,
        dir.path(),
        &["plan", "--format", "json"],
        &hook_var,
    );
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    for change in doc["changes"].as_array().unwrap() {
        assert_eq!(change["action"], "adopt", "{change}");
        let fields: Vec<&str> = change["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["tags.monplan:stack"], "{change}");
    }

    run(
        &emulator,
        dir.path(),
        &["apply", "--auto-approve"],
        &hook_var,
    )
    .assert_success()
    .assert_stdout_contains("3 adopted");
    let after = emulator.awsctl(&["dump", "--prefix", "shop-"]);
    assert_eq!(
        after["alarms"]["shop-Cart Errors"]["Tags"]["monplan:stack"],
        "shop"
    );
    assert_eq!(
        after["alarms"]["shop-Cart Errors"]["Tags"]["owner"],
        "alice"
    );
    assert_eq!(after["topics"]["shop-alerts"]["tags"]["team"], "web");
    assert_eq!(
        after["topics"]["shop-alerts"]["subscriptions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    run(
        &emulator,
        dir.path(),
        &["plan", "--detailed-exitcode"],
        &hook_var,
    )
    .assert_code(0)
    .assert_stdout_contains("No changes.");
    run(
        &emulator,
        dir.path(),
        &["apply", "--auto-approve"],
        &hook_var,
    )
    .assert_success()
    .assert_stdout_contains("No changes.");

    assert_eq!(
        emulator.awsctl(&["dump", "--prefix", "shopping"]),
        foreign_before
    );
    assert_eq!(
        emulator.awsctl(&["dump", "--prefix", "shop-billing"]),
        billing_before
    );
    assert!(
        emulator.awsctl(&["dump", "--prefix", "shop-legacy"])["dashboards"]["shop-legacy"]
            .is_object()
    );
}

#[test]
fn import_needs_a_selection_and_a_valid_stack_name() {
    let emulator = Emulator::start();
    let dir = stacks_dir();
    emulator.run(&["import"], dir.path(), &[]).assert_code(2);
    emulator
        .run(&["import", "--prefix", "Shop Alarms"], dir.path(), &[])
        .assert_code(1)
        .assert_stderr_contains("is not a valid stack name");
    emulator
        .run(
            &["import", "--tag", "team=web", "--stack", "web"],
            dir.path(),
            &[],
        )
        .assert_success();
}
