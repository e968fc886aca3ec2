//! Apply under throttling, through the project's loopback proxy (`bench/proxy.py`)
//! that answers `Throttling` above a per-operation rate, in front of moto.

mod support;

use std::fmt::Write as _;

use serde_json::Value;
use support::proxy::Proxy;
use support::Emulator;

fn count(stats: &Value, operation: &str, field: &str) -> u64 {
    stats[operation][field].as_u64().unwrap_or(0)
}

#[test]
fn an_apply_under_throttling_applies_every_change_exactly_once() {
    let emulator = Emulator::start();
    // AWS would allow 3/s; this account allows 2/s, but monplan is told 6/s: it will be
    // throttled, back off and retry.
    let proxy = Proxy::start(&emulator.endpoint, &["--rate", "PutMetricAlarm=2"]);
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("stack: load\nalarms:\n");
    for i in 0..12 {
        let _ = writeln!(
            yaml,
            "  a{i}:\n    metric: {{ namespace: Load, name: M{i}, stat: Sum }}\n    above: {i}"
        );
    }
    std::fs::write(dir.path().join("load.yaml"), yaml).unwrap();
    let endpoint = [("AWS_ENDPOINT_URL", proxy.endpoint.as_str())];
    let apply = emulator.run(
        &[
            "apply",
            "--auto-approve",
            "-v",
            "--max-rate",
            "PutMetricAlarm=6",
            "load.yaml",
        ],
        dir.path(),
        &endpoint,
    );
    apply
        .assert_code(0)
        .assert_stdout_contains("Resources: 12 added");
    let stats = proxy.stats()["operations"].clone();
    assert!(
        count(&stats, "PutMetricAlarm", "throttled") > 0,
        "the proxy throttled: {stats}"
    );
    assert_eq!(
        count(&stats, "PutMetricAlarm", "forwarded"),
        12,
        "each alarm put exactly once: {stats}"
    );
    assert!(!apply.stderr.contains(" 0 call(s) retried"), "{apply}");
    emulator
        .run(
            &["plan", "--detailed-exitcode", "load.yaml"],
            dir.path(),
            &endpoint,
        )
        .assert_code(0);
}

#[test]
fn an_invalid_change_fails_fast_without_retries() {
    let emulator = Emulator::start();
    let proxy = Proxy::start(&emulator.endpoint, &[]);
    let dir = tempfile::tempdir().unwrap();
    let yaml = "stack: pager\ntopics:\n  page:\n    subscriptions:\n      - sms: ${env:PAGER}\n";
    std::fs::write(dir.path().join("pager.yaml"), yaml).unwrap();
    let envs = [
        ("AWS_ENDPOINT_URL", proxy.endpoint.as_str()),
        ("PAGER", "not-a-number"),
    ];
    let apply = emulator.run(
        &["apply", "--auto-approve", "pager.yaml"],
        dir.path(),
        &envs,
    );
    apply
        .assert_code(1)
        .assert_stderr_contains("InvalidParameter");
    let stats = proxy.stats()["operations"].clone();
    assert_eq!(
        count(&stats, "Subscribe", "forwarded"),
        1,
        "rejected as invalid: not retried: {stats}"
    );
}
