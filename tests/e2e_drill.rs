//! `monplan drill` against `LocalStack`, which runs alarm actions on `SetAlarmState` and
//! delivers SNS messages to a subscribed SQS queue (moto runs no alarm actions).
//!
//! "Not delivered" is tested with an alarm whose actions are disabled, not with a topic
//! whose access policy denies `CloudWatch`: `LocalStack` 2026.3.0 stores such a policy
//! (`SetTopicAttributes Policy`, read back as set) but does not enforce it on the alarm's
//! publish. With a policy whose only statement is `Deny` for the principal
//! `Service: cloudwatch.amazonaws.com` on `sns:Publish` to the topic, the drill still
//! reports "delivered in 0.1 s" and the message is on every subscribed queue (its
//! `CloudWatch` provider publishes through an internal client, and the free runtime
//! enforces no IAM or resource policy). The first test pins that: when it fails there,
//! `LocalStack` has started enforcing topic policies, and a "not delivered because of
//! the policy" drill test becomes possible.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::localstack::LocalStack;

const STACK: &str = r"
stack: drill
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
alarms:
  failures:
    metric: { namespace: Drill, name: Failures, stat: Sum }
    above: 5
    notify: [oncall]
  muted:
    metric: { namespace: Drill, name: Other, stat: Sum }
    above: 5
    notify: [oncall]
    actions_enabled: false
";

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("stacks/drill.yaml"), yaml).unwrap();
}

#[test]
fn a_drill_proves_delivery_reports_whom_it_paged_and_leaves_nothing_behind() {
    let localstack = LocalStack::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), STACK);
    localstack
        .run(
            &["apply", "--auto-approve", "--exclude", "queries"],
            dir.path(),
            &[],
        )
        .assert_code(0);
    let before = localstack.awsctl(&["dump"]);

    // It pages people: refused without --auto-approve when not on a terminal.
    localstack
        .run(&["drill", "drill"], dir.path(), &[])
        .assert_code(1)
        .assert_stderr_contains("refusing to drill");
    localstack
        .run(&["drill", "drill", "--dry-run"], dir.path(), &[])
        .assert_code(0)
        .assert_stdout_contains("set alarm \"drill-failures\" to ALARM")
        .assert_stdout_contains("Nothing was done.");

    let drill = localstack.run(
        &[
            "drill",
            "drill",
            "failures",
            "--auto-approve",
            "--wait",
            "30",
        ],
        dir.path(),
        &[],
    );
    drill
        .assert_code(0)
        .assert_stdout_contains("alarm \"drill-failures\" -> topic drill-oncall: delivered in")
        .assert_stdout_contains("also sent to: email:oncall@example.com")
        .assert_stdout_contains("Every notification arrived.");

    // A topic policy denying CloudWatch: AWS would drop the notification; LocalStack
    // does not enforce it (see the module doc), so the drill still delivers.
    let deny = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyCloudWatch",
            "Effect": "Deny",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": before["topics"]["drill-oncall"]["arn"],
        }],
    });
    let attributes = localstack.awsctl(&[
        "set-topic-attribute",
        "drill-oncall",
        "Policy",
        &deny.to_string(),
    ]);
    let stored: serde_json::Value =
        serde_json::from_str(attributes["Policy"].as_str().expect("a Policy")).unwrap();
    assert_eq!(stored, deny, "LocalStack stores the policy as set");
    localstack
        .run(
            &[
                "drill",
                "drill",
                "failures",
                "--auto-approve",
                "--wait",
                "10",
            ],
            dir.path(),
            &[],
        )
        .assert_code(0)
        .assert_stdout_contains("alarm \"drill-failures\" -> topic drill-oncall: delivered in");

    // Actions disabled: the notification never comes, and the drill says so.
    let muted = localstack.run(
        &["drill", "drill", "muted", "--auto-approve", "--wait", "5"],
        dir.path(),
        &[],
    );
    muted.assert_code(1).assert_stdout_contains(
        "alarm \"drill-muted\" -> topic drill-oncall: NOT delivered within 5 s",
    );

    // Nothing left behind: no queue, no subscription beyond the declared ones.
    assert_eq!(localstack.awsctl(&["list-queues"]), serde_json::json!([]));
    let after = localstack.awsctl(&["dump"]);
    assert_eq!(
        after["topics"]["drill-oncall"]["subscriptions"],
        before["topics"]["drill-oncall"]["subscriptions"]
    );
}

/// Sends SIGINT (what Ctrl-C sends) to `pid`; by `kill(1)`, as this crate forbids `unsafe`.
fn interrupt(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT {pid}: {status}");
}

#[test]
fn an_interrupted_drill_removes_its_queue_and_subscription_and_sets_the_alarm_back() {
    let localstack = LocalStack::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), STACK);
    localstack
        .run(
            &["apply", "--auto-approve", "--exclude", "queries"],
            dir.path(),
            &[],
        )
        .assert_code(0);
    let before = localstack.awsctl(&["dump"]);
    let state_before = localstack.awsctl(&["alarm-state", "drill-muted"])["StateValue"].clone();

    // The muted alarm's notification never comes: the drill would wait its full 120 s.
    let out_path = dir.path().join("drill.out");
    let err_path = dir.path().join("drill.err");
    let mut child = localstack
        .monplan()
        .args(["drill", "drill", "muted", "--auto-approve", "--wait", "120"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("spawn monplan drill");
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_mins(1);
    while !read(&err_path).contains("alarm \"drill-muted\": set to ALARM") {
        if Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the drill did not start waiting\n--- stdout ---\n{}\n--- stderr ---\n{}",
                read(&out_path),
                read(&err_path)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Mid-drill: its queue exists and the alarm is in ALARM.
    let queues = localstack.awsctl(&["list-queues"]);
    assert_eq!(queues.as_array().map(Vec::len), Some(1), "{queues}");
    assert_eq!(
        localstack.awsctl(&["alarm-state", "drill-muted"])["StateValue"],
        "ALARM"
    );
    let interrupted = Instant::now();
    interrupt(child.id());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for monplan") {
            break status;
        }
        if interrupted.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the drill did not end within 30 s of SIGINT\n--- stderr ---\n{}",
                read(&err_path)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = read(&err_path);
    eprintln!(
        "the interrupted drill ended {:.1} s after SIGINT",
        interrupted.elapsed().as_secs_f64()
    );
    // It handled the signal (a process killed by SIGINT has no exit code).
    assert_eq!(status.code(), Some(1), "{status}\n{stderr}");
    assert!(stderr.contains("interrupted (Ctrl-C)"), "{stderr}");
    assert!(
        stderr.contains("drill: removed queue monplan-drill-drill-"),
        "{stderr}"
    );
    assert!(
        !read(&out_path).contains("Drill report"),
        "no report after an interrupted drill"
    );

    // Nothing left behind: no queue, no extra subscription, the alarm as it was.
    assert_eq!(localstack.awsctl(&["list-queues"]), serde_json::json!([]));
    let after = localstack.awsctl(&["dump"]);
    assert_eq!(
        after["topics"]["drill-oncall"]["subscriptions"],
        before["topics"]["drill-oncall"]["subscriptions"]
    );
    let state_after = localstack.awsctl(&["alarm-state", "drill-muted"]);
    assert_eq!(state_after["StateValue"], state_before, "{state_after}");
    // Set back by the drill, not by LocalStack's own evaluation of the alarm.
    assert_eq!(
        state_after["StateReason"], "monplan drill: back to the state before the drill",
        "{state_after}"
    );
}
