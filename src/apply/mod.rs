//! Executes a plan and reports what happened.
//!
//! Apply makes no decision of its own: it runs the plan's [`Schedule`] (waves derived
//! from references, batches included) through an [`Executor`], the AWS layer in real
//! runs. The steps of a wave run concurrently; the next wave starts when one finishes.
//! Before each operation, deferred values are filled in from what earlier operations
//! produced ([`Op::fill`]). After a failure no new step starts, and the report says
//! what was applied, what failed and what never started: running apply again
//! converges, because the next plan starts from what AWS then holds.

use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::{stream, StreamExt};

use crate::aws::AwsError;
use crate::model::ResourceId;
use crate::pace::Pacer;
use crate::plan::{Change, ChangeAction, Op, Output, Outputs, Plan, Step};

/// Changes in flight at once; the pacer, not this, bounds the request rate.
const CONCURRENCY: usize = 16;

/// What runs one operation against AWS (or, in tests, against a recording).
pub trait Executor {
    /// Runs `op` in `region`; every deferred value of `op` is already filled in.
    fn execute(&self, region: &str, op: &Op) -> impl Future<Output = Executed>;
}

/// One operation's outcome.
#[derive(Debug)]
pub struct Executed {
    pub result: Result<Option<Output>, AwsError>,
    /// Calls retried after throttling or a transient error.
    pub retries: u32,
}

/// The outcome of an apply.
#[derive(Debug, Default)]
pub struct Report {
    pub applied: Vec<(ResourceId, ChangeAction)>,
    pub failed: Vec<(ResourceId, AwsError)>,
    pub not_started: Vec<ResourceId>,
    /// Calls retried after throttling or a transient error.
    pub retries: u32,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Runs every change; `progress` hears about each one as it finishes.
pub async fn apply(
    plan: &Plan,
    executor: &impl Executor,
    mut progress: impl FnMut(&Change, Option<&AwsError>),
) -> Report {
    let mut report = Report::default();
    let stop = AtomicBool::new(false);
    let outputs = RefCell::new(Outputs::default());
    for wave in plan.schedule().waves {
        if stop.load(Ordering::SeqCst) {
            report.not_started.extend(
                wave.steps
                    .iter()
                    .flat_map(|s| &s.changes)
                    .map(|i| plan.changes[*i].resource.clone()),
            );
            continue;
        }
        let mut results = stream::iter(wave.steps)
            .map(|step| run_step(step, executor, &stop, &outputs))
            .buffer_unordered(CONCURRENCY);
        while let Some(outcome) = results.next().await {
            report.retries += outcome.retries;
            for &i in &outcome.step.changes {
                let change = &plan.changes[i];
                match &outcome.result {
                    _ if !outcome.started => report.not_started.push(change.resource.clone()),
                    Ok(()) => {
                        progress(change, None);
                        report
                            .applied
                            .push((change.resource.clone(), change.action));
                    }
                    Err(error) => {
                        progress(change, Some(error));
                        report.failed.push((change.resource.clone(), error.clone()));
                    }
                }
            }
        }
    }
    report
}

struct Outcome {
    step: Step,
    started: bool,
    result: Result<(), AwsError>,
    retries: u32,
}

async fn run_step(
    step: Step,
    executor: &impl Executor,
    halted: &AtomicBool,
    outputs: &RefCell<Outputs>,
) -> Outcome {
    if halted.load(Ordering::SeqCst) {
        return Outcome {
            step,
            started: false,
            result: Ok(()),
            retries: 0,
        };
    }
    let mut retries = 0;
    let mut result = Ok(());
    for op in &step.ops {
        let filled = op.fill(&outputs.borrow());
        let op = match filled {
            Ok(op) => op,
            Err(unfilled) => {
                result = Err(AwsError::local(
                    op.operation(),
                    unfilled.0,
                    "UnknownAfterApply",
                    "the policy's ARN was not produced by an earlier operation of this apply",
                ));
                break;
            }
        };
        let executed = executor.execute(&step.region, &op).await;
        retries += executed.retries;
        match executed.result {
            Ok(Some(output)) => outputs.borrow_mut().record(output),
            Ok(None) => {}
            Err(error) => {
                result = Err(error);
                break;
            }
        }
    }
    if result.is_err() {
        halted.store(true, Ordering::SeqCst);
    }
    Outcome {
        step,
        started: true,
        result,
        retries,
    }
}

/// How long applying `plan` takes at `pacer`'s rates: per wave, the slowest operation's
/// calls at its rate (waves run one after another, operations within one concurrently).
/// Returns the seconds and the operation that dominates.
pub fn estimate(plan: &Plan, pacer: &Pacer) -> (f64, Option<(String, usize)>) {
    use std::collections::BTreeMap;
    let mut total = 0.0;
    let mut busiest: BTreeMap<String, usize> = BTreeMap::new();
    for wave in plan.schedule().waves {
        let mut calls: BTreeMap<&str, usize> = BTreeMap::new();
        for step in &wave.steps {
            for op in &step.ops {
                *calls.entry(op.operation()).or_default() += 1;
            }
        }
        total += calls
            .iter()
            .map(|(op, n)| pacer.seconds_for(op, *n))
            .fold(0.0, f64::max);
        for (op, n) in calls {
            *busiest.entry(op.to_string()).or_default() += n;
        }
    }
    let dominant = busiest
        .into_iter()
        .filter(|(op, _)| pacer.rate(op).is_some())
        .max_by(|a, b| {
            pacer
                .seconds_for(&a.0, a.1)
                .total_cmp(&pacer.seconds_for(&b.0, b.1))
        });
    (total, dominant)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::model::{
        Action, AlarmName, Arn, PolicyKind, PolicyRef, ScalingPolicy, StackName, TopicName,
    };

    fn change(
        resource: ResourceId,
        action: ChangeAction,
        depends_on: Vec<ResourceId>,
        ops: Vec<Op>,
    ) -> Change {
        Change {
            stack: StackName::new("s"),
            region: "us-east-1".into(),
            resource,
            action,
            fields: Vec::new(),
            body_diff: None,
            depends_on,
            ops,
        }
    }

    fn delete(name: &str) -> Change {
        change(
            ResourceId::Alarm(AlarmName::new(name)),
            ChangeAction::Delete,
            Vec::new(),
            vec![Op::DeleteAlarms(vec![AlarmName::new(name)])],
        )
    }

    /// Records the operations it is asked to run; fails the ones named in `fail`, and
    /// answers `DescribePolicies` with an ARN, as AWS would.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<Op>>,
        fail: Option<&'static str>,
    }

    impl Executor for Recorder {
        async fn execute(&self, _region: &str, op: &Op) -> Executed {
            self.calls.lock().unwrap().push(op.clone());
            let result = match op {
                _ if self.fail == Some(op.operation()) => Err(AwsError::local(
                    op.operation(),
                    "x",
                    "ValidationError",
                    "rejected",
                )),
                Op::DescribePolicies(policy) => Ok(Some(Output::PolicyArn(
                    policy.clone(),
                    Arn::new(format!(
                        "arn:aws:autoscaling:us-east-1:1:scalingPolicy:u:policyName/{}",
                        policy.name
                    )),
                ))),
                _ => Ok(None),
            };
            Executed { result, retries: 0 }
        }
    }

    fn policy_and_alarm() -> Plan {
        let policy = PolicyRef {
            group: "g".into(),
            name: "s_q-from-zero".into(),
        };
        let mut alarm = crate::model::Alarm {
            name: AlarmName::new("s-q-from-zero"),
            description: None,
            metric: crate::model::AlarmMetric::Single(crate::model::Metric::sqs(
                "ApproximateNumberOfMessagesVisible",
                "q",
                "Maximum",
                60,
            )),
            condition: crate::model::Condition::Threshold {
                comparison: crate::model::Comparison::Above,
                value: 0.0,
            },
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing_data: crate::model::TreatMissingData::NotBreaching,
            actions_enabled: true,
            actions: crate::model::AlarmActions::default(),
            tags: crate::model::Tags::new(),
        };
        alarm.actions.alarm = vec![Action::Policy(policy.clone())];
        Plan {
            changes: vec![
                change(
                    ResourceId::Alarm(alarm.name.clone()),
                    ChangeAction::Create,
                    vec![ResourceId::ScalingPolicy(policy.clone())],
                    vec![Op::PutMetricAlarm {
                        alarm,
                        with_tags: true,
                    }],
                ),
                change(
                    ResourceId::ScalingPolicy(policy.clone()),
                    ChangeAction::Create,
                    Vec::new(),
                    vec![
                        Op::PutScalingPolicy(ScalingPolicy {
                            policy: policy.clone(),
                            kind: PolicyKind::FromZero,
                            note: None,
                        }),
                        Op::DescribePolicies(policy),
                    ],
                ),
            ],
            ..Plan::default()
        }
    }

    #[tokio::test]
    async fn deferred_values_are_filled_from_earlier_outputs() {
        let recorder = Recorder::default();
        let plan = policy_and_alarm();
        let report = apply(&plan, &recorder, |_, _| {}).await;
        assert!(report.succeeded(), "{report:?}");
        let calls = recorder.calls.lock().unwrap();
        let names: Vec<&str> = calls.iter().map(Op::operation).collect();
        assert_eq!(
            names,
            ["PutScalingPolicy", "DescribePolicies", "PutMetricAlarm"]
        );
        let Op::PutMetricAlarm { alarm, .. } = &calls[2] else {
            panic!("{calls:?}");
        };
        assert!(
            matches!(&alarm.actions.alarm[..], [Action::Arn(arn)] if arn.as_str().ends_with("policyName/s_q-from-zero")),
            "{alarm:?}"
        );
    }

    #[tokio::test]
    async fn a_failure_stops_what_has_not_started() {
        let recorder = Recorder {
            fail: Some("PutScalingPolicy"),
            ..Recorder::default()
        };
        let plan = policy_and_alarm();
        let report = apply(&plan, &recorder, |_, _| {}).await;
        assert_eq!(report.failed.len(), 1);
        assert_eq!(
            report.not_started,
            [ResourceId::Alarm(AlarmName::new("s-q-from-zero"))]
        );
        let names: Vec<&str> = recorder
            .calls
            .lock()
            .unwrap()
            .iter()
            .map(Op::operation)
            .collect();
        assert_eq!(names, ["PutScalingPolicy"], "the alarm never ran");
    }

    #[tokio::test]
    async fn an_unfilled_deferred_value_fails_without_a_call() {
        let recorder = Recorder::default();
        let mut plan = policy_and_alarm();
        plan.changes[1].ops.pop(); // no DescribePolicies: nothing produces the ARN
        let report = apply(&plan, &recorder, |_, _| {}).await;
        assert_eq!(report.failed.len(), 1);
        assert_eq!(report.failed[0].1.code, "UnknownAfterApply");
        assert_eq!(recorder.calls.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn batched_deletions_run_as_one_call() {
        let recorder = Recorder::default();
        let mut changes: Vec<Change> = (0..150).map(|i| delete(&format!("a{i}"))).collect();
        changes.push(change(
            ResourceId::Topic(TopicName::new("t")),
            ChangeAction::Delete,
            Vec::new(),
            vec![Op::DeleteTopic(Arn::new("arn:aws:sns:us-east-1:1:t"))],
        ));
        let plan = Plan {
            changes,
            ..Plan::default()
        };
        let report = apply(&plan, &recorder, |_, _| {}).await;
        assert_eq!(report.applied.len(), 151);
        let calls = recorder.calls.lock().unwrap();
        let sizes: Vec<usize> = calls
            .iter()
            .filter_map(|op| match op {
                Op::DeleteAlarms(names) => Some(names.len()),
                _ => None,
            })
            .collect();
        assert_eq!(sizes, [100, 50]);
    }

    #[test]
    fn the_estimate_follows_the_slowest_operation_per_wave() {
        let plan = Plan {
            changes: (0..1000).map(|i| delete(&format!("a{i}"))).collect(),
            ..Plan::default()
        };
        let pacer = Pacer::default();
        let (seconds, dominant) = estimate(&plan, &pacer);
        // Ten DeleteAlarms calls at 3/s, the first two at once.
        assert!((seconds - 8.0 / 3.0).abs() < 1e-9, "{seconds}");
        assert_eq!(dominant, Some(("DeleteAlarms".to_string(), 10)));
    }
}
