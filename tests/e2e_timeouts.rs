//! A hung endpoint ends a run in bounded time: `CloudWatch` is sent to a loopback listener
//! that accepts connections and never answers (everything else to moto). Before
//! `--timeout`, such a `DescribeAlarms` kept `plan` waiting with no end; now the plan and
//! the apply fail with an error naming the `CloudWatch` operation, and nothing is applied.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::time::Instant;

use support::Emulator;

const STACK: &str = r"
stack: hung
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
alarms:
  errors:
    metric: { namespace: Hung, name: Errors, stat: Sum }
    above: 5
    expect_metric: later
    notify: [oncall]
";

/// A listener that accepts every connection, reads what it is sent and never answers,
/// for as long as the test runs.
fn black_hole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut sink = [0_u8; 4096];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    endpoint
}

#[test]
fn a_cloudwatch_that_never_answers_is_an_error_naming_the_operation_and_nothing_is_applied() {
    let emulator = Emulator::start();
    let hole = black_hole();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    std::fs::write(dir.path().join("stacks/hung.yaml"), STACK).unwrap();
    let envs = [("AWS_ENDPOINT_URL_CLOUDWATCH", hole.as_str())];
    // moto loads its backends on first use, which can take more than a second on a busy
    // machine: warm it, and give each attempt 4 s, so that only the black hole times out.
    emulator.awsctl(&["dump"]);

    let started = Instant::now();
    let plan = emulator.run(&["plan", "--timeout", "8"], dir.path(), &envs);
    eprintln!(
        "plan against a hung CloudWatch ended after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    plan.assert_code(1).assert_stderr_contains("Timeout");
    let named = [
        "DescribeAlarms",
        "ListMetrics",
        "ListDashboards",
        "ListTagsForResource",
    ]
    .iter()
    .any(|operation| plan.stderr.contains(&format!("{operation} on ")));
    assert!(named, "the error names the CloudWatch operation: {plan}");
    assert!(!plan.stdout.contains("Plan:"), "no plan is shown: {plan}");

    let apply = emulator.run(
        &["apply", "--auto-approve", "--timeout", "8"],
        dir.path(),
        &envs,
    );
    apply.assert_code(1).assert_stderr_contains("Timeout");
    let dump = emulator.awsctl(&["dump"]);
    assert!(
        dump["topics"].as_object().unwrap().is_empty(),
        "nothing applied: {dump}"
    );

    // The flag is checked: a timeout must be a positive number of seconds.
    emulator
        .run(&["plan", "--timeout", "0"], dir.path(), &envs)
        .assert_code(2)
        .assert_stderr_contains("a timeout is more than 0");
}

/// A write that never answers ends at `--timeout` too, retries included. Before, the
/// executor gave each of its 6 attempts half of `--timeout` and slept its backoffs
/// besides: with `--timeout 4`, a hung `Subscribe` ended the apply after about 21 s.
#[test]
fn a_write_that_never_answers_ends_at_the_timeout_with_an_error_naming_it() {
    let emulator = Emulator::start();
    let proxy = support::proxy::Proxy::start(&emulator.endpoint, &["--fault", "Subscribe=hang"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    std::fs::write(dir.path().join("stacks/hung.yaml"), STACK).unwrap();
    let envs = [("AWS_ENDPOINT_URL", proxy.endpoint.as_str())];
    emulator.awsctl(&["dump"]);

    let started = Instant::now();
    let apply = emulator.run(
        &["apply", "--auto-approve", "--timeout", "4"],
        dir.path(),
        &envs,
    );
    let elapsed = started.elapsed().as_secs_f64();
    let subscribes = proxy.stats()["operations"]["Subscribe"]["faulted"].clone();
    eprintln!("apply with a hung Subscribe (--timeout 4) ended after {elapsed:.1} s; Subscribe attempts: {subscribes}");
    apply
        .assert_code(1)
        .assert_stderr_contains("Subscribe on ")
        .assert_stderr_contains("Timeout");
    // The bound is generous (a loaded machine is slow to read and plan); what it rules
    // out is the old 6 attempts and their backoffs, about 21 s.
    assert!(
        elapsed < 15.0,
        "the hung write ran past --timeout for {elapsed:.1} s\n{apply}"
    );
    // Within 4 s, the 2 s attempts leave room for at most two tries.
    let attempts = subscribes.as_u64().unwrap_or_default();
    assert!(
        (1..=2).contains(&attempts),
        "Subscribe was tried {attempts} times\n{apply}"
    );
}
