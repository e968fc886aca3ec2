//! kill -9 anywhere in an apply converges (issue 11, item 2).
//!
//! One stack declares every kind moto can create: a topic with an email, an https and an
//! `${env:...}` https subscription, queue recipe alarms, metric, metric-math and
//! anomaly-band alarms, a dashboard, an EC2 group's target tracking and from-zero step
//! policies (alarms whose actions are the policies' ARNs), two ECS services scaled
//! through Application Auto Scaling, two metric filters and a workers stuck alarm over
//! one of them. moto cannot create composite alarms (`PutCompositeAlarm` is a 500) or
//! saved queries (it has no query definitions), so the stack declares neither.
//!
//! A full apply through `bench/proxy.py` counts its writes, N. Then, for every k in
//! 1..=N, on a reset moto: `apply --auto-approve` runs through the proxy with its kill
//! switch armed at k (SIGKILL right after the emulator answered the k-th write, before
//! monplan hears the answer: AWS did it, monplan never learned it), and must die of
//! signal 9; the next apply (straight to moto) exits 0; `plan --detailed-exitcode` exits
//! 0 (no changes); and the independent client's dump equals, field for field, the dump
//! after an apply that was never interrupted (ids aside): no second subscription, no
//! orphaned topic, no policy without its alarm, no duplicate filter. The cases run over
//! a few moto servers at once; the test prints one row per kill point and the totals.
//!
//! Three scenarios, each its own test: the apply that creates every kind from empty; the
//! apply of a changed stack (updates, creates, deletes, a rotated `${env:...}` endpoint);
//! and `destroy` of the applied stack (converging on the next `destroy`, the plan of an
//! empty `stack: kill` showing no changes).

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};
use support::every_kind::{
    self, differences, infrastructure, summary, Bench, Killed, CHANGED, HOOK, ROTATED_HOOK, STACK,
};
use support::Output;

/// Where each kill point starts from and what the killed apply applies.
struct Scenario {
    name: &'static str,
    /// Applied, uninterrupted and straight to moto, on each fresh moto before the kill.
    before: Option<(&'static str, &'static str)>,
    /// The stack and the `${env:KILL_HOOK}` value of the killed apply and the next.
    stack: &'static str,
    hook: &'static str,
    /// The command killed, then run again to converge.
    command: &'static [&'static str],
}

const FROM_EMPTY: Scenario = Scenario {
    name: "creating every kind",
    before: None,
    stack: STACK,
    hook: HOOK.1,
    command: APPLY,
};

const CHANGING: Scenario = Scenario {
    name: "changing and deleting",
    before: Some((STACK, HOOK.1)),
    stack: CHANGED,
    hook: ROTATED_HOOK,
    command: APPLY,
};

/// `destroy` of the applied stack; the stack file then declares nothing, so that the
/// plans before and after read "nothing left" as no changes.
const DESTROYING: Scenario = Scenario {
    name: "destroying the stack",
    before: Some((STACK, HOOK.1)),
    stack: "stack: kill\n",
    hook: HOOK.1,
    command: &["destroy", "kill", "--auto-approve", "--max-destroy", "100"],
};

const APPLY: &[&str] = &["apply", "--auto-approve"];

/// moto servers the kill points are spread over (the machine has 2 cores; moto is
/// mostly waiting on Python, monplan on moto).
const SERVERS: usize = 3;

impl Bench {
    /// Fresh state: the infrastructure, and `scenario`'s starting stack applied; then
    /// the stack file is the one to kill the apply of.
    fn reset(&self, scenario: &Scenario) {
        self.emulator.reset();
        self.proxy.config(&json!({"kill_after_writes": null}));
        self.emulator.awsctl(&["batch", &infrastructure()]);
        if let Some((stack, hook)) = scenario.before {
            self.write(stack);
            self.run(&["apply", "--auto-approve"], hook, false)
                .assert_success();
        }
        self.write(scenario.stack);
    }

    fn write(&self, stack: &str) {
        std::fs::write(self.dir.path().join("stacks/kill.yaml"), stack).unwrap();
    }

    fn command(&self, hook: &str, through_proxy: bool) -> Command {
        let mut cmd = self.emulator.monplan();
        cmd.env(HOOK.0, hook).current_dir(self.dir.path());
        if through_proxy {
            cmd.env("AWS_ENDPOINT_URL", &self.proxy.endpoint);
        }
        cmd
    }

    fn run(&self, args: &[&str], hook: &str, through_proxy: bool) -> Output {
        support::run_command(self.command(hook, through_proxy), args, self.dir.path())
    }

    fn killed_apply(&self, k: u64, scenario: &Scenario) -> Killed {
        let mut cmd = self.command(scenario.hook, true);
        cmd.args(scenario.command);
        every_kind::killed_after(&self.proxy, k, cmd)
    }
}

/// One kill point's outcome.
struct Case {
    k: u64,
    fired_on: String,
    /// The summary line of the plan right after the kill: what was left undone.
    left: String,
    /// Alarms moto left of a target tracking policy it replaced (see
    /// [`without_moto_leftovers`]).
    leftovers: usize,
    converged: bool,
    problems: Vec<String>,
}

fn case(bench: &Bench, scenario: &Scenario, k: u64, reference: &Value) -> Case {
    bench.reset(scenario);
    let hook = scenario.hook;
    let mut problems = Vec::new();
    let Killed {
        signal,
        code,
        fired_on,
        stderr,
    } = bench.killed_apply(k, scenario);
    if signal != Some(9) {
        problems.push(format!(
            "the apply was not killed (signal {signal:?}, exit {code:?}):\n{stderr}"
        ));
    }
    let after_kill = bench.run(&["plan", "--detailed-exitcode"], hook, false);
    let left = match after_kill.code {
        0 => "nothing".to_string(),
        2 => summary(&after_kill.stdout),
        _ => {
            problems.push(format!("the plan after the kill failed:\n{after_kill}"));
            "error".to_string()
        }
    };
    let apply = bench.run(scenario.command, hook, false);
    if apply.code != 0 {
        problems.push(format!("the next apply failed:\n{apply}"));
    }
    let plan = bench.run(&["plan", "--detailed-exitcode"], hook, false);
    if plan.code != 0 {
        problems.push(format!("the plan after it is not empty:\n{plan}"));
    }
    let mut diff = Vec::new();
    let (dump, dangling, leftovers) = bench.dump();
    if !dangling.is_empty() {
        problems.push(format!("alarm actions naming nothing: {dangling:?}"));
    }
    differences("", reference, &dump, &mut diff);
    if !diff.is_empty() {
        problems.push(format!(
            "the independent client sees another state than after an uninterrupted apply:\n  {}",
            diff.join("\n  ")
        ));
    }
    Case {
        k,
        fired_on,
        left,
        leftovers,
        converged: problems.is_empty(),
        problems,
    }
}

/// The uninterrupted apply of `scenario`: its writes, as the proxy counts them, and the
/// state it leaves, as the independent client dumps it.
fn uninterrupted(bench: &Bench, scenario: &Scenario) -> (u64, Value) {
    bench.reset(scenario);
    let before = bench.proxy.stats();
    let apply = bench.run(scenario.command, scenario.hook, true);
    apply.assert_success();
    let after = bench.proxy.stats();
    let writes =
        after["kill"]["writes"].as_u64().unwrap() - before["kill"]["writes"].as_u64().unwrap();
    // The writes by operation, as the proxy counts them (its rule: whatever does not
    // start like a read is a write), for the report.
    let mut mix = BTreeMap::new();
    for (operation, counts) in after["operations"].as_object().unwrap() {
        let read = [
            "Describe", "List", "Get", "Test", "Filter", "BatchGet", "Lookup", "Search",
        ]
        .iter()
        .any(|prefix| operation.starts_with(prefix));
        let count = counts["forwarded"].as_u64().unwrap_or_default()
            - before["operations"][operation]["forwarded"]
                .as_u64()
                .unwrap_or_default();
        if !read && count > 0 {
            mix.insert(operation.clone(), count);
        }
    }
    eprintln!(
        "{}: the uninterrupted apply's {writes} writes: {mix:?}\n{}",
        scenario.name,
        apply
            .stdout
            .lines()
            .filter(|l| l.starts_with("Apply") || l.starts_with("Plan:"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    bench
        .run(&["plan", "--detailed-exitcode"], scenario.hook, false)
        .assert_success()
        .assert_stdout_contains("No changes.");
    (writes, bench.reference_dump())
}

/// Every kill point of `scenario` over `benches`; prints the table, asserts that each
/// converged.
fn every_kill_point(benches: &[Bench], scenario: &Scenario, writes: u64, reference: &Value) {
    let started = Instant::now();

    // Every kill point, spread over a few servers.
    let next = Mutex::new(1..=writes);
    let cases = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for bench in benches {
            let (next, cases) = (&next, &cases);
            scope.spawn(move || loop {
                let Some(k) = next.lock().unwrap().next() else {
                    break;
                };
                let outcome = case(bench, scenario, k, reference);
                cases.lock().unwrap().push(outcome);
            });
        }
    });
    let mut cases = cases.into_inner().unwrap();
    cases.sort_by_key(|c| c.k);

    let mut table = String::from(
        "| k | killed after | the plan after the kill | converged |\n|---|---|---|---|\n",
    );
    for case in &cases {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} |",
            case.k,
            case.fired_on,
            case.left,
            if case.converged { "yes" } else { "no" }
        );
    }
    let converged = cases.iter().filter(|c| c.converged).count();
    let mut by_operation: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        *by_operation.entry(case.fired_on.as_str()).or_default() += 1;
    }
    eprintln!("kill -9 while {}:\n{table}", scenario.name);
    eprintln!("kill points by operation: {by_operation:?}");
    eprintln!(
        "kill points tried: {}, converged: {converged} ({writes} writes in the uninterrupted apply; {:.0} s over {SERVERS} moto servers)",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter(|c| !c.converged)
        .map(|c| {
            format!(
                "k = {} (after {}):\n{}",
                c.k,
                c.fired_on,
                c.problems.join("\n")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} kill points did not converge:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert_eq!(cases.len(), usize::try_from(writes).unwrap());
    // The kills did interrupt: at least half left work for the next run (a kill in the last
    // wave may leave none: the wave's other writes were already on their way).
    let partial = cases.iter().filter(|c| c.left != "nothing").count();
    eprintln!("kills that left work undone: {partial} of {}", cases.len());
    eprintln!(
        "alarms moto left of a replaced target tracking policy (not compared): {}",
        cases.iter().map(|c| c.leftovers).sum::<usize>()
    );
    assert!(
        partial * 2 >= cases.len(),
        "only {partial} of {} kills left anything undone",
        cases.len()
    );
}

/// The two tests take turns: each already spreads its cases over the cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `SERVERS` benches, started at once.
fn benches() -> Vec<Bench> {
    std::thread::scope(|scope| {
        let spawned: Vec<_> = (0..SERVERS).map(|_| scope.spawn(Bench::new)).collect();
        spawned.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_kill_after_any_write_of_an_apply_from_empty_converges_on_the_next_apply() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let benches = benches();
    let (writes, reference) = uninterrupted(&benches[0], &FROM_EMPTY);
    let topics = reference["topics"].as_object().unwrap();
    assert_eq!(topics.len(), 2, "two topics: {reference}");
    assert_eq!(
        reference["topics"]["kill-oncall"]["subscriptions"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "three subscriptions on the on-call topic: {reference}"
    );
    assert!(writes > 20, "a full apply makes {writes} writes");
    // The dangling-action check has something to check: alarms whose actions are
    // scaling policies (the step policy's, and those moto makes for a target tracking
    // policy).
    let policy_actions = reference["alarms"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|alarm| alarm["AlarmActions"].as_array().into_iter().flatten())
        .filter(|action| {
            action
                .as_str()
                .is_some_and(|a| a.contains(":scalingPolicy:"))
        })
        .count();
    assert!(
        policy_actions >= 2,
        "alarms trigger scaling policies: {reference}"
    );
    every_kill_point(&benches, &FROM_EMPTY, writes, &reference);
}

#[test]
fn a_kill_after_any_write_of_an_apply_that_changes_and_deletes_converges_on_the_next_apply() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let benches = benches();
    let (writes, reference) = uninterrupted(&benches[0], &CHANGING);
    assert!(
        reference["topics"].get("kill-audit").is_none(),
        "the audit topic is deleted: {reference}"
    );
    let endpoints: Vec<&str> = reference["topics"]["kill-oncall"]["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints,
        ["oncall@example.com", "second@example.com", ROTATED_HOOK],
        "the subscriptions after the change: {reference}"
    );
    assert!(writes > 15, "the changing apply makes {writes} writes");
    every_kill_point(&benches, &CHANGING, writes, &reference);
}

#[test]
fn a_kill_after_any_write_of_a_destroy_converges_on_the_next_destroy() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let benches = benches();
    let (writes, reference) = uninterrupted(&benches[0], &DESTROYING);
    assert!(
        reference["topics"].as_object().unwrap().is_empty()
            && reference["metric_filters"]["/kill/workers"]
                .as_object()
                .is_none_or(serde_json::Map::is_empty),
        "the stack's topics and filters are gone: {reference}"
    );
    assert!(writes >= 8, "the destroy makes {writes} writes");
    every_kill_point(&benches, &DESTROYING, writes, &reference);
}
