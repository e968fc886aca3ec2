//! Two applies at once (issue 11, item 3): two CI jobs applying the same stack to the same
//! account, with no lock between them.
//!
//! The stack is `tests/support/every_kind.rs`'s, every kind moto can create. Each race
//! starts two `monplan apply --auto-approve` processes against one moto server, from one
//! of four starting points, at once or staggered:
//!
//! - from empty (nothing of the stack exists);
//! - half-applied: an apply killed by the proxy's kill switch after half its writes;
//! - a change pending: the stack applied, then changed so that the plan updates, creates
//!   and deletes (a topic, subscriptions, alarms, a step policy, an ECS service's scaling,
//!   a metric filter);
//! - applied, nothing to do.
//!
//! Each race must end with both exiting 0, or one exiting 1 with an AWS error that names
//! the operation (never a panic, never another code); then a plan shows no changes and the
//! independent client's dump equals, field for field, the dump after one uninterrupted
//! apply (ids aside): no second subscription, topic, alarm, policy or filter.
//!
//! What makes this hold without a lock is what the test checks: every create is keyed by
//! name and idempotent at AWS (`CreateTopic` of an existing name returns its ARN,
//! `Subscribe` of an existing protocol and endpoint returns the existing subscription,
//! `PutMetricAlarm`, `PutScalingPolicy`, `RegisterScalableTarget`, `PutMetricFilter` and
//! `PutDashboard` create or overwrite by name), the two applies put the same values, and
//! a delete of what the other one already deleted is done (`src/aws/execute.rs`).

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::every_kind::{
    differences, infrastructure, killed_after, Bench, Killed, CHANGED, HOOK, ROTATED_HOOK, STACK,
};
use support::Output;

/// Where a race starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Empty,
    HalfApplied,
    ChangePending,
    Applied,
}

struct Race {
    start: Start,
    /// How long the second apply starts after the first.
    stagger: Duration,
}

/// moto servers the races are spread over.
const SERVERS: usize = 2;

const fn race(start: Start, stagger_ms: u64) -> Race {
    Race {
        start,
        stagger: Duration::from_millis(stagger_ms),
    }
}

const RACES: [Race; 14] = [
    race(Start::Empty, 0),
    race(Start::Empty, 0),
    race(Start::Empty, 0),
    race(Start::Empty, 300),
    race(Start::Empty, 1000),
    race(Start::Empty, 2000),
    race(Start::HalfApplied, 0),
    race(Start::HalfApplied, 0),
    race(Start::HalfApplied, 700),
    race(Start::ChangePending, 0),
    race(Start::ChangePending, 0),
    race(Start::ChangePending, 500),
    race(Start::ChangePending, 1500),
    race(Start::Applied, 0),
];

impl Bench {
    fn write(&self, stack: &str) {
        std::fs::write(self.dir.path().join("stacks/race.yaml"), stack).unwrap();
    }

    fn run(&self, args: &[&str], hook: &str) -> Output {
        let mut cmd = self.emulator.monplan();
        cmd.env(HOOK.0, hook);
        support::run_command(cmd, args, self.dir.path())
    }

    /// An apply through the proxy (never armed during a race: it only counts the
    /// writes), with when it started and ended.
    fn timed_apply(&self, hook: &str, epoch: Instant) -> (Output, Duration, Duration) {
        let mut cmd = self.emulator.monplan();
        cmd.env(HOOK.0, hook)
            .env("AWS_ENDPOINT_URL", &self.proxy.endpoint);
        let start = epoch.elapsed();
        let output = support::run_command(cmd, &["apply", "--auto-approve"], self.dir.path());
        (output, start, epoch.elapsed())
    }

    /// The writes the proxy has forwarded so far, by operation.
    fn writes(&self) -> BTreeMap<String, u64> {
        let counts = self.proxy.stats();
        counts["operations"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(operation, _)| {
                ![
                    "Describe", "List", "Get", "Test", "Filter", "BatchGet", "Lookup", "Search",
                ]
                .iter()
                .any(|prefix| operation.starts_with(prefix))
            })
            .map(|(operation, c)| {
                (
                    operation.clone(),
                    c["forwarded"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The stack file and `${env:KILL_HOOK}` value of the race, from `start`.
    fn prepare(&self, start: Start, half: u64) -> (&'static str, &'static str) {
        self.emulator.reset();
        self.emulator.awsctl(&["batch", &infrastructure()]);
        self.write(STACK);
        match start {
            Start::Empty => {}
            Start::HalfApplied => {
                let mut cmd = self.emulator.monplan();
                cmd.env(HOOK.0, HOOK.1)
                    .env("AWS_ENDPOINT_URL", &self.proxy.endpoint)
                    .current_dir(self.dir.path())
                    .args(["apply", "--auto-approve"]);
                let Killed { signal, stderr, .. } = killed_after(&self.proxy, half, cmd);
                assert_eq!(signal, Some(9), "the half apply was killed: {stderr}");
            }
            Start::ChangePending | Start::Applied => {
                self.run(&["apply", "--auto-approve"], HOOK.1)
                    .assert_success();
            }
        }
        if start == Start::ChangePending {
            self.write(CHANGED);
            return (CHANGED, ROTATED_HOOK);
        }
        (STACK, HOOK.1)
    }
}

/// A failed apply's AWS error, if it names the operation: the line under `error: apply
/// stopped: RESOURCE failed` that reads `OPERATION on RESOURCE failed: CODE: ...`
/// (warnings, which name failed reads too, do not count).
fn aws_error(output: &Output) -> Option<&str> {
    let mut lines = output.stderr.lines();
    lines.find(|l| l.starts_with("error: "))?;
    lines
        .map(str::trim)
        .find(|l| !l.starts_with("warning") && l.contains(" on ") && l.contains(" failed: "))
}

/// Whether a failed apply failed cleanly: exit 1, an AWS error naming the operation, no
/// panic.
fn clean_failure(output: &Output) -> bool {
    output.code == 1 && aws_error(output).is_some() && !output.stderr.contains("panicked")
}

/// `N added, M changed, K destroyed` of an apply's closing line, `no changes`, or `-`
/// (it failed).
fn closing(output: &Output) -> String {
    let applied = output
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Apply complete! Resources: "));
    match applied {
        Some(rest) => rest.trim_end_matches('.').to_string(),
        // An apply with nothing to do prints the empty plan and no closing line.
        None if output.code == 0 => "no changes".to_string(),
        None => "-".to_string(),
    }
}

struct Outcome {
    index: usize,
    codes: (i32, i32),
    /// Each apply's closing line (`N added, M changed, K destroyed`).
    applied: (String, String),
    /// How long both applies ran at the same time.
    overlap: Duration,
    /// Writes both made, by operation (the proxy's count).
    writes: BTreeMap<String, u64>,
    /// Alarms moto left of a target tracking policy both applies put (see
    /// [`without_moto_leftovers`]).
    leftovers: usize,
    /// A failed apply's error line.
    error: Option<String>,
    problems: Vec<String>,
}

fn run_race(
    bench: &Bench,
    index: usize,
    race: &Race,
    half: u64,
    reference: &[Value; 2],
) -> Outcome {
    let (_, hook) = bench.prepare(race.start, half);
    let before = bench.writes();
    let epoch = Instant::now();
    let ((first, start1, end1), (second, start2, end2)) = std::thread::scope(|scope| {
        let first = scope.spawn(|| bench.timed_apply(hook, epoch));
        let second = scope.spawn(|| {
            std::thread::sleep(race.stagger);
            bench.timed_apply(hook, epoch)
        });
        (first.join().unwrap(), second.join().unwrap())
    });
    let overlap = end1.min(end2).saturating_sub(start1.max(start2));
    let writes = bench
        .writes()
        .into_iter()
        .map(|(operation, count)| {
            let made = count - before.get(&operation).copied().unwrap_or_default();
            (operation, made)
        })
        .filter(|(_, made)| *made > 0)
        .collect();
    let mut problems = Vec::new();
    let mut error = None;
    for output in [&first, &second] {
        if output.stderr.contains("panicked") || ![0, 1].contains(&output.code) {
            problems.push(format!(
                "an apply neither succeeded nor failed cleanly:\n{output}"
            ));
        } else if output.code == 1 {
            if clean_failure(output) {
                error = aws_error(output).map(str::to_string);
            } else {
                problems.push(format!(
                    "an apply failed without naming the operation:\n{output}"
                ));
            }
        }
    }
    if first.code == 1 && second.code == 1 {
        problems.push(format!("both applies failed:\n{first}\n{second}"));
    }
    let plan = bench.run(&["plan", "--detailed-exitcode"], hook);
    if plan.code != 0 {
        problems.push(format!("the plan after the race is not empty:\n{plan}"));
    }
    let expected = &reference[usize::from(race.start == Start::ChangePending)];
    let mut diff = Vec::new();
    let (dump, dangling, leftovers) = bench.dump();
    if !dangling.is_empty() {
        problems.push(format!("alarm actions naming nothing: {dangling:?}"));
    }
    differences("", expected, &dump, &mut diff);
    if !diff.is_empty() {
        problems.push(format!(
            "the independent client sees another state than after one apply:\n  {}",
            diff.join("\n  ")
        ));
    }
    Outcome {
        index,
        codes: (first.code, second.code),
        applied: (closing(&first), closing(&second)),
        overlap,
        writes,
        leftovers,
        error,
        problems,
    }
}

#[test]
fn two_applies_at_once_both_finish_or_one_fails_cleanly_and_nothing_is_duplicated() {
    let started = Instant::now();
    let benches: Vec<Bench> = std::thread::scope(|scope| {
        let spawned: Vec<_> = (0..SERVERS).map(|_| scope.spawn(Bench::new)).collect();
        spawned.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // One uninterrupted apply of each stack: the writes of the first (half of them is
    // where the half-applied start is killed) and the state each leaves.
    let bench = &benches[0];
    bench.prepare(Start::Empty, 0);
    let before = bench.proxy.stats()["kill"]["writes"].as_u64().unwrap();
    let mut cmd = bench.emulator.monplan();
    cmd.env(HOOK.0, HOOK.1)
        .env("AWS_ENDPOINT_URL", &bench.proxy.endpoint);
    support::run_command(cmd, &["apply", "--auto-approve"], bench.dir.path()).assert_success();
    let writes = bench.proxy.stats()["kill"]["writes"].as_u64().unwrap() - before;
    let created = bench.reference_dump();
    bench.prepare(Start::ChangePending, 0);
    bench
        .run(&["apply", "--auto-approve"], ROTATED_HOOK)
        .assert_success();
    let changed = bench.reference_dump();
    let reference = [created, changed];
    let half = writes / 2;

    let next = Mutex::new(RACES.iter().enumerate());
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for bench in &benches {
            let (next, outcomes, reference) = (&next, &outcomes, &reference);
            scope.spawn(move || loop {
                let Some((index, race)) = next.lock().unwrap().next() else {
                    break;
                };
                let outcome = run_race(bench, index, race, half, reference);
                outcomes.lock().unwrap().push(outcome);
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by_key(|o| o.index);

    let mut table = String::from(
        "| race | start | second apply after | ran together | exit codes | first apply | second apply | writes (both) | moto's leftover alarms | a failure's error | converged, no duplicates |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for outcome in &outcomes {
        let race = &RACES[outcome.index];
        let _ = writeln!(
            table,
            "| {} | {:?} | {} ms | {:.1} s | {}, {} | {} | {} | {} | {} | {} | {} |",
            outcome.index + 1,
            race.start,
            race.stagger.as_millis(),
            outcome.overlap.as_secs_f64(),
            outcome.codes.0,
            outcome.codes.1,
            outcome.applied.0,
            outcome.applied.1,
            outcome.writes.values().sum::<u64>(),
            outcome.leftovers,
            outcome.error.as_deref().unwrap_or("-"),
            if outcome.problems.is_empty() {
                "yes"
            } else {
                "no"
            }
        );
    }
    for outcome in &outcomes {
        eprintln!("race {} writes: {:?}", outcome.index + 1, outcome.writes);
    }
    let both = outcomes.iter().filter(|o| o.codes == (0, 0)).count();
    let converged = outcomes.iter().filter(|o| o.problems.is_empty()).count();
    let leftovers: usize = outcomes.iter().map(|o| o.leftovers).sum();
    let races_with_leftovers = outcomes.iter().filter(|o| o.leftovers > 0).count();
    eprintln!("{table}");
    eprintln!(
        "moto's leftover TargetTracking alarms (not monplan's, not compared): {leftovers} in {races_with_leftovers} races"
    );
    eprintln!(
        "races run: {}, both exited 0: {both}, one failed cleanly: {}, converged with no duplicates: {converged} ({writes} writes in a full apply; half-applied = killed after {half}; {:.0} s over {SERVERS} moto servers)",
        outcomes.len(),
        outcomes.len() - both,
        started.elapsed().as_secs_f64()
    );
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.problems.is_empty())
        .map(|o| format!("race {}:\n{}", o.index + 1, o.problems.join("\n")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} races did not converge:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The races were races: in each simultaneous one from empty, both applies ran at
    // the same time and each created things (so AWS, not a second read, kept them from
    // being duplicated).
    for outcome in &outcomes {
        let race = &RACES[outcome.index];
        if race.start == Start::Empty && race.stagger.is_zero() {
            assert!(
                !outcome.overlap.is_zero()
                    && outcome.applied.0.chars().next().is_some_and(|c| c != '0')
                    && outcome.applied.1.chars().next().is_some_and(|c| c != '0'),
                "race {} did not race: {:?}, overlap {:?}",
                outcome.index + 1,
                outcome.applied,
                outcome.overlap
            );
        }
    }
}
