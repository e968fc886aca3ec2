//! An alarm that fires by itself from data, on `LocalStack`: monplan applies a topic and a
//! 10-second custom-metric alarm, the test subscribes a queue of its own (its observer,
//! independent of monplan) to the topic, puts breaching metric data, and waits for the
//! alarm's own evaluation to reach ALARM and for the notification to arrive on the queue;
//! then puts data below the threshold and sees the alarm return to OK with an OK
//! notification (`notify_ok`). No `SetAlarmState` anywhere: that is the drill's shortcut,
//! and this is the proof that the alarm monplan wrote can fire and reach someone.
//!
//! What `LocalStack` 2026.3.0 needs and does (its v1 `CloudWatch` provider, which the
//! support code selects): it evaluates each alarm every `period x evaluation_periods`
//! seconds from `GetMetricData`, starting one period after the alarm is put. A 10 s period
//! needs no `StorageResolution=1` on the data (plain `PutMetricData` is enough). Each
//! evaluation reads `evaluation_periods + 2` periods back (at least 3) and counts every
//! breaching datapoint among them, so after the last breaching datapoint the alarm
//! returns to OK only 3 to 4 periods later. The notification's reason is "Threshold
//! Crossed", where a drill's says "monplan drill". moto never evaluates alarms.
//!
//! Measured on these machines (two runs): ALARM 6.3 and 6.8 s after the first breaching
//! datapoint (0-10 s, by where the evaluation schedule stands), the notification seen in
//! the same polling round; OK 39.6 s after the first calm datapoint, both times. A round
//! (put, describe, receive with a 1 s wait, each by awsctl) takes ~2 s: that is the
//! resolution of these figures. The test bounds each wait at 90 s and asserts no time.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::localstack::LocalStack;

const STACK: &str = r"
stack: firing
topics:
  oncall: {}
alarms:
  errors:
    description: Errors above 5 in 10 seconds
    metric: { namespace: Firing, name: Errors, stat: Sum, period: 10s }
    above: 5
    evaluation_periods: 1
    treat_missing_data: not_breaching
    notify: [oncall]
    notify_ok: [oncall]
    expect_metric: later
";

const ALARM: &str = "firing-errors";
const TOPIC: &str = "firing-oncall";
/// The test's own queue, subscribed to monplan's topic.
const OBSERVER: &str = "firing-observer";
/// A generous bound on each wait: evaluation runs every 10 s, so 9 evaluations.
const WAIT: Duration = Duration::from_secs(90);

fn state(localstack: &LocalStack) -> String {
    localstack.awsctl(&["alarm-state", ALARM])["StateValue"]
        .as_str()
        .expect("StateValue")
        .to_owned()
}

/// The alarm notifications received on the observer queue (deleted from it) within 1 s:
/// `(topic ARN, subject, message)`.
fn notifications(localstack: &LocalStack) -> Vec<(String, String, Value)> {
    let received = localstack.awsctl(&["receive", OBSERVER, "--wait", "1"]);
    received
        .as_array()
        .expect("a list of messages")
        .iter()
        .map(|m| {
            let n = &m["Notification"];
            assert!(
                n["Message"].is_object(),
                "not an alarm notification on the observer queue: {m}"
            );
            (
                n["TopicArn"].as_str().unwrap_or_default().to_owned(),
                n["Subject"].as_str().unwrap_or_default().to_owned(),
                n["Message"].clone(),
            )
        })
        .collect()
}

/// Puts one datapoint of `value` and polls, until the alarm is in `want` and its
/// notification of the transition to `want` has arrived; returns the seconds from `start`
/// to each, and the notification. Fails with what it saw if `WAIT` passes first.
fn drive_to(
    localstack: &LocalStack,
    value: &str,
    want: &str,
    start: Instant,
) -> (f64, f64, String, String, Value) {
    let mut in_state = None;
    let mut seen = Vec::new();
    let mut last_state = String::new();
    while start.elapsed() < WAIT {
        localstack.awsctl(&["put-metric", "Firing", "Errors", "--value", value]);
        last_state = state(localstack);
        if last_state == want && in_state.is_none() {
            in_state = Some(start.elapsed().as_secs_f64());
        }
        for (topic, subject, message) in notifications(localstack) {
            if message["NewStateValue"] == want {
                let delivered = start.elapsed().as_secs_f64();
                // The notification can be seen before the state: DescribeAlarms was
                // read first in this round.
                let in_state = in_state.unwrap_or(delivered);
                return (in_state, delivered, topic, subject, message);
            }
            seen.push(message);
        }
    }
    panic!(
        "putting {value} every round for {} s: the alarm is {last_state}, not {want}, or no \
         notification of {want} arrived on the observer queue; notifications seen: {seen:#?}\n\
         --- LocalStack log ---\n{}",
        WAIT.as_secs(),
        localstack.log_tail(30)
    );
}

fn write(dir: &Path) {
    std::fs::create_dir(dir.join("stacks")).unwrap();
    std::fs::write(dir.join("stacks/firing.yaml"), STACK).unwrap();
}

#[test]
fn an_alarm_fires_by_itself_from_metric_data_and_its_notifications_reach_a_subscribed_queue() {
    let localstack = LocalStack::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path());
    localstack
        .run(
            &["apply", "--auto-approve", "--exclude", "queries"],
            dir.path(),
            &[],
        )
        .assert_code(0)
        .assert_stdout_contains("Apply complete! Resources: 2 added");
    let dump = localstack.awsctl(&["dump"]);
    let topic_arn = dump["topics"][TOPIC]["arn"]
        .as_str()
        .expect("monplan created the topic")
        .to_owned();
    assert_eq!(dump["alarms"][ALARM]["Period"], 10, "{dump:#}");

    let queue = localstack.awsctl(&["create-queue", OBSERVER]);
    let queue_arn = queue["arn"].as_str().expect("queue ARN");
    localstack.awsctl(&["subscribe", TOPIC, "sqs", queue_arn]);

    // No data yet, treated as not breaching: the first evaluation moves the alarm from
    // INSUFFICIENT_DATA to OK (and may notify OK). Breaching data only once it is OK, so
    // that the ALARM below comes from the data.
    let settle = Instant::now();
    while state(&localstack) != "OK" {
        assert!(
            settle.elapsed() < WAIT,
            "the alarm never left {} without data within {} s",
            state(&localstack),
            WAIT.as_secs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let early = notifications(&localstack);
    assert!(
        early.iter().all(|(_, _, m)| m["NewStateValue"] == "OK"),
        "before any data only OK may be notified: {early:#?}"
    );

    // Errors 10 > 5, every round.
    let start = Instant::now();
    let (to_alarm, delivered, topic, subject, message) =
        drive_to(&localstack, "10", "ALARM", start);
    eprintln!(
        "fired by itself: ALARM seen {to_alarm:.1} s after the first breaching datapoint, \
         its notification on the queue after {delivered:.1} s"
    );
    assert_eq!(topic, topic_arn, "delivered through monplan's topic");
    assert_eq!(subject, format!("ALARM: \"{ALARM}\" in us-east-1"));
    assert_eq!(message["AlarmName"], ALARM, "{message:#}");
    assert_eq!(message["NewStateValue"], "ALARM", "{message:#}");
    assert_eq!(message["OldStateValue"], "OK", "{message:#}");
    assert_eq!(
        message["AlarmDescription"], "Errors above 5 in 10 seconds",
        "{message:#}"
    );
    // The alarm's own evaluation did it, not a SetAlarmState (a drill's says so).
    assert_eq!(
        message["NewStateReason"], "Threshold Crossed",
        "{message:#}"
    );
    assert_eq!(message["Trigger"]["MetricName"], "Errors", "{message:#}");
    assert_eq!(message["Trigger"]["Namespace"], "Firing", "{message:#}");
    assert_eq!(message["Trigger"]["Period"], 10, "{message:#}");
    assert_eq!(message["Trigger"]["Threshold"], 5.0, "{message:#}");
    assert_eq!(
        message["Trigger"]["ComparisonOperator"], "GreaterThanThreshold",
        "{message:#}"
    );
    assert_eq!(message["OKActions"], serde_json::json!([topic_arn]));

    // Errors 1, not above 5, every round: back to OK, and notify_ok says so.
    let calm = Instant::now();
    let (to_ok, delivered_ok, topic, subject, message) = drive_to(&localstack, "1", "OK", calm);
    eprintln!(
        "back by itself: OK seen {to_ok:.1} s after the first calm datapoint, its \
         notification on the queue after {delivered_ok:.1} s"
    );
    assert_eq!(topic, topic_arn);
    assert_eq!(subject, format!("OK: \"{ALARM}\" in us-east-1"));
    assert_eq!(message["AlarmName"], ALARM, "{message:#}");
    assert_eq!(message["OldStateValue"], "ALARM", "{message:#}");
    assert_eq!(message["NewStateValue"], "OK", "{message:#}");
    assert_eq!(
        message["NewStateReason"], "Threshold Crossed",
        "{message:#}"
    );
}
