//! Executes a plan's operations and reports what happened.
//!
//! Apply makes no decision of its own. It runs the plan's changes in waves: all changes
//! of one apply phase (say, every alarm to create) are independent, so they run
//! concurrently, paced per operation at AWS's quotas (see [`crate::aws::pace`]); the next
//! wave starts when one finishes. Deletions of metric alarms are batched, 100 names a
//! call. Throttling and transient errors are retried with backoff; a change AWS rejects
//! as invalid fails at once. After a failure no new change starts, and the report says
//! what was applied, what failed and what never started: running apply again converges,
//! because the next plan starts from what AWS then holds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::{stream, StreamExt};

use crate::aws::{self, AwsError, World};
use crate::model::{ResourceId, ResourceKind};
use crate::plan::{Change, ChangeAction, Op, Plan};

/// Changes in flight at once; the pacer, not this, bounds the request rate.
const CONCURRENCY: usize = 16;
/// `DeleteAlarms` takes at most 100 names a call.
const DELETE_BATCH: usize = 100;
/// Attempts per call when AWS throttles or the network fails.
const MAX_ATTEMPTS: u32 = 6;
/// First retry delay; doubles each time, capped at [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

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

/// What one call failure means for the change.
fn retryable(error: &AwsError) -> bool {
    matches!(
        error.code.as_str(),
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "TooManyRequestsException"
            | "SlowDown"
            | "ServiceUnavailable"
            | "InternalError"
            | "DispatchFailure"
            | "Timeout"
    )
}

fn is_throttling(error: &AwsError) -> bool {
    let code = error.code.as_str();
    code.contains("Throttl")
        || matches!(
            code,
            "RequestLimitExceeded" | "TooManyRequestsException" | "SlowDown"
        )
}

/// A unit of work: one change, or a batch of metric-alarm deletions.
struct Unit<'a> {
    changes: Vec<&'a Change>,
}

/// Runs every change; `progress` hears about each one as it finishes.
pub async fn apply(
    plan: &Plan,
    world: &World,
    mut progress: impl FnMut(&Change, Option<&AwsError>),
) -> Report {
    let mut report = Report::default();
    let stop = AtomicBool::new(false);
    for wave in waves(&plan.changes) {
        if stop.load(Ordering::SeqCst) {
            report
                .not_started
                .extend(wave.iter().map(|c| c.resource.clone()));
            continue;
        }
        let units = units(&wave);
        let mut results = stream::iter(units)
            .map(|unit| run_unit(unit, world, &stop))
            .buffer_unordered(CONCURRENCY);
        while let Some(outcome) = results.next().await {
            report.retries += outcome.retries;
            for change in &outcome.changes {
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

/// Consecutive changes of the same phase and depth.
fn waves(changes: &[Change]) -> Vec<Vec<&Change>> {
    let mut waves: Vec<Vec<&Change>> = Vec::new();
    for change in changes {
        match waves.last_mut() {
            Some(wave) if wave[0].order() == change.order() => wave.push(change),
            _ => waves.push(vec![change]),
        }
    }
    waves
}

/// Deleting metric alarms is batched per region; everything else is one unit each.
/// (A `DeleteAlarms` call may hold at most one composite alarm, so those stay single.)
fn units<'a>(wave: &[&'a Change]) -> Vec<Unit<'a>> {
    let mut units = Vec::new();
    let mut batches: Vec<(String, Vec<&'a Change>)> = Vec::new();
    for change in wave {
        let single_delete = change.action == ChangeAction::Delete
            && change.resource.kind() == ResourceKind::Alarm
            && matches!(change.ops.as_slice(), [Op::DeleteAlarms(names)] if names.len() == 1);
        if !single_delete {
            units.push(Unit {
                changes: vec![*change],
            });
            continue;
        }
        match batches
            .iter_mut()
            .find(|(region, batch)| *region == change.region && batch.len() < DELETE_BATCH)
        {
            Some((_, batch)) => batch.push(change),
            None => batches.push((change.region.clone(), vec![change])),
        }
    }
    units.extend(batches.into_iter().map(|(_, changes)| Unit { changes }));
    units
}

struct Outcome<'a> {
    changes: Vec<&'a Change>,
    started: bool,
    result: Result<(), AwsError>,
    retries: u32,
}

async fn run_unit<'a>(unit: Unit<'a>, world: &World, stop: &AtomicBool) -> Outcome<'a> {
    if stop.load(Ordering::SeqCst) {
        return Outcome {
            changes: unit.changes,
            started: false,
            result: Ok(()),
            retries: 0,
        };
    }
    let first = unit.changes[0];
    let mut retries = 0;
    let result = match world.clients(&first.region) {
        None => Err(AwsError::local(
            "apply",
            first.resource.to_string(),
            "NoClient",
            format!("no AWS clients for region {}", first.region),
        )),
        Some(clients) => {
            let ops: Vec<Op> = if unit.changes.len() > 1 {
                let names = unit.changes.iter().flat_map(|c| match c.ops.as_slice() {
                    [Op::DeleteAlarms(names)] => names.clone(),
                    _ => Vec::new(),
                });
                vec![Op::DeleteAlarms(names.collect())]
            } else {
                first.ops.clone()
            };
            let mut result = Ok(());
            for op in &ops {
                result = call_with_retries(clients, op, &mut retries).await;
                if result.is_err() {
                    break;
                }
            }
            result
        }
    };
    if result.is_err() {
        stop.store(true, Ordering::SeqCst);
    }
    Outcome {
        changes: unit.changes,
        started: true,
        result,
        retries,
    }
}

async fn call_with_retries(
    clients: &aws::Clients,
    op: &Op,
    retries: &mut u32,
) -> Result<(), AwsError> {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match aws::execute(clients, op).await {
            Err(error) if retryable(&error) && attempt < MAX_ATTEMPTS => {
                tracing::debug!(operation = op.operation(), code = %error.code, attempt, "retrying");
                if is_throttling(&error) {
                    clients.pacer.throttled(op.operation());
                }
                *retries += 1;
                attempt += 1;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            other => return other,
        }
    }
}

/// How long applying `plan` takes at `pacer`'s rates: per wave, the slowest operation's
/// calls at its rate (waves run one after another, operations within one concurrently).
/// Returns the seconds and the operation that dominates.
pub fn estimate(plan: &Plan, pacer: &aws::pace::Pacer) -> (f64, Option<(String, usize)>) {
    let mut total = 0.0;
    let mut busiest: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for wave in waves(&plan.changes) {
        let mut calls: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for unit in units(&wave) {
            if unit.changes.len() > 1 {
                *calls.entry("DeleteAlarms").or_default() += 1;
                continue;
            }
            for op in &unit.changes[0].ops {
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
    use super::*;
    use crate::model::{AlarmName, StackName};

    fn delete(name: &str) -> Change {
        Change {
            stack: StackName::new("s"),
            region: "us-east-1".into(),
            resource: ResourceId::Alarm(AlarmName::new(name)),
            action: ChangeAction::Delete,
            fields: Vec::new(),
            body_diff: None,
            depth: 0,
            ops: vec![Op::DeleteAlarms(vec![AlarmName::new(name)])],
        }
    }

    #[test]
    fn alarm_deletions_are_batched_by_one_hundred() {
        let changes: Vec<Change> = (0..250).map(|i| delete(&format!("a{i}"))).collect();
        let waves = waves(&changes);
        assert_eq!(waves.len(), 1);
        let sizes: Vec<usize> = units(&waves[0]).iter().map(|u| u.changes.len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
    }

    #[test]
    fn the_estimate_follows_the_slowest_operation_per_wave() {
        let plan = Plan {
            changes: (0..1000).map(|i| delete(&format!("a{i}"))).collect(),
            ..Plan::default()
        };
        let pacer = aws::pace::Pacer::default();
        let (seconds, dominant) = estimate(&plan, &pacer);
        // Ten DeleteAlarms calls at 3/s, the first two at once.
        assert!((seconds - 8.0 / 3.0).abs() < 1e-9, "{seconds}");
        assert_eq!(dominant, Some(("DeleteAlarms".to_string(), 10)));
    }

    #[test]
    fn throttling_is_retried_and_invalid_input_is_not() {
        let error = |code: &str| AwsError::local("PutMetricAlarm", "alarm a", code, "x");
        assert!(retryable(&error("Throttling")));
        assert!(retryable(&error("DispatchFailure")));
        assert!(!retryable(&error("ValidationError")));
        assert!(!retryable(&error("InvalidParameterValue")));
    }
}
