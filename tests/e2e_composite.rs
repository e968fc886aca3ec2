//! Composite alarms, against `LocalStack` (moto does not implement `PutCompositeAlarm`).

mod support;

use std::path::Path;

use support::localstack::LocalStack;

const STACK: &str = r"
stack: svc
alarms:
  stuck:
    metric: { namespace: Svc, name: OldestAge, stat: Maximum }
    above: 1800
  failures:
    metric: { namespace: Svc, name: Failures, stat: Sum }
    above: 5
  down:
    description: Service down
    rule: ALARM(stuck) OR ALARM(failures)
  paged:
    rule: ALARM(down) AND NOT OK(failures)
";

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("stacks/svc.yaml"), yaml).unwrap();
}

#[test]
fn composites_are_created_after_and_deleted_before_their_children() {
    let localstack = LocalStack::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), STACK);

    let plan = localstack.run(&["plan"], dir.path(), &[]);
    plan.assert_code(0)
        .assert_stdout_contains("Plan: 4 to add, 0 to change, 0 to destroy.");
    let order: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.starts_with("  + "))
        .collect();
    assert_eq!(
        order,
        [
            "  + alarm \"svc-failures\"",
            "  + alarm \"svc-stuck\"",
            "  + composite alarm \"svc-down\"",
            "  + composite alarm \"svc-paged\""
        ],
        "children first, then composites by depth:\n{plan}"
    );
    let apply = localstack.run(&["apply", "--auto-approve"], dir.path(), &[]);
    apply
        .assert_code(0)
        .assert_stdout_contains("Resources: 4 added");
    localstack
        .run(&["plan", "--detailed-exitcode"], dir.path(), &[])
        .assert_code(0)
        .assert_stdout_contains("No changes.");

    let dump = localstack.awsctl(&["dump"]);
    let down = &dump["composite_alarms"]["svc-down"];
    assert_eq!(
        down["AlarmRule"],
        "ALARM(\"svc-stuck\") OR ALARM(\"svc-failures\")"
    );
    assert_eq!(down["AlarmDescription"], "Service down");
    // Ownership is proven by the tag; LocalStack's v1 provider shows composite alarms'
    // tags only through the tagging API, which is what monplan reads (the re-plan above
    // found them owned), so the independent client does not check them here.
    assert_eq!(
        dump["composite_alarms"]["svc-paged"]["AlarmRule"],
        "ALARM(\"svc-down\") AND NOT OK(\"svc-failures\")"
    );

    // Everything goes in one apply: composites first, deepest first, then the children.
    write(dir.path(), "stack: svc\n");
    let plan = localstack.run(&["plan"], dir.path(), &[]);
    plan.assert_code(0)
        .assert_stdout_contains("Plan: 0 to add, 0 to change, 4 to destroy.");
    let order: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.starts_with("  - "))
        .collect();
    assert_eq!(
        order,
        [
            "  - composite alarm \"svc-paged\"",
            "  - composite alarm \"svc-down\"",
            "  - alarm \"svc-failures\"",
            "  - alarm \"svc-stuck\""
        ],
        "{plan}"
    );
    localstack
        .run(&["apply", "--auto-approve"], dir.path(), &[])
        .assert_code(0);
    localstack
        .run(&["plan", "--detailed-exitcode"], dir.path(), &[])
        .assert_code(0);
    let dump = localstack.awsctl(&["dump"]);
    assert!(
        dump["composite_alarms"].as_object().unwrap().is_empty()
            && dump["alarms"].as_object().unwrap().is_empty(),
        "{dump}"
    );
}
