//! `workers:`: a fleet (Auto Scaling group or ECS service), its heartbeat and what
//! happens to a stuck worker, built from AWS-native parts only. One Metrics Insights
//! multi-time-series alarm per fleet, `{stack}-{key}-stuck`, groups the heartbeat by its
//! per-worker dimension: each worker is a contributor with its own state, and EC2 actions
//! run per contributor (`CloudWatch` user guide, *Alarm actions and notifications*), so
//! one static alarm acts on whichever ASG member is stuck, however members come and go.

use std::collections::BTreeMap;

use super::rules;
use crate::diag::{codes, Diagnostic, Diagnostics, Sp, Span};
use crate::model::workers::{Fleet, OnStuck, Stuck, WorkerFleet};
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, AlarmName, Comparison, Condition, Declared,
    Ec2Action, FilterRef, MetricFilter, QueueUse, ServiceRef, StackName, TopicName,
    TreatMissingData,
};
use crate::spec::{StackSpec, WorkerSpec};

/// Metrics Insights has no data finer than one minute: the alarm's period.
const PERIOD: u64 = 60;
/// Metrics Insights alarms evaluate at most the latest 3 hours (`MetricsInsights
/// monitors cannot be checked across more than 3 hours`; *Metrics Insights limits*).
const MAX_WINDOW: u64 = 3 * 3600;

pub struct Inputs<'a> {
    pub stack: &'a StackName,
    pub queues: &'a BTreeMap<String, Declared<QueueUse>>,
    pub log_metrics: &'a BTreeMap<FilterRef, Declared<MetricFilter>>,
    /// Topic key -> (AWS name, where declared).
    pub topics: &'a BTreeMap<String, (TopicName, Span)>,
    pub tags: &'a BTreeMap<String, String>,
    /// The stack's alarms so far, for the fleet-wide `no_progress` alarm.
    pub alarms: &'a BTreeMap<AlarmName, Declared<Alarm>>,
}

/// Every fleet of the stack, with its alarm.
pub fn workers(
    spec: &StackSpec,
    cx: &Inputs<'_>,
    d: &mut Diagnostics,
) -> Vec<(Declared<WorkerFleet>, Declared<Alarm>)> {
    spec.workers
        .iter()
        .filter_map(|(key, worker)| {
            rules::resource_key(key, "worker fleet", d);
            fleet(key, worker, cx, d)
        })
        .collect()
}

fn fleet(
    key: &Sp<String>,
    spec: &WorkerSpec,
    cx: &Inputs<'_>,
    d: &mut Diagnostics,
) -> Option<(Declared<WorkerFleet>, Declared<Alarm>)> {
    let errors_before = d.error_count();
    let fleet = match (&spec.group, &spec.service) {
        (Some(group), None) => Some(Fleet::Group(Declared {
            value: group.value.clone(),
            key: key.value.clone(),
            origin: group.span,
        })),
        (None, Some(service)) => match service.value.split_once('/') {
            Some((cluster, name))
                if !cluster.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                Some(Fleet::Service(Declared {
                    value: ServiceRef {
                        cluster: cluster.to_string(),
                        service: name.to_string(),
                    },
                    key: key.value.clone(),
                    origin: service.span,
                }))
            }
            _ => {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        "an ECS service is written `cluster/service`",
                    )
                    .at(service.span, "expected `cluster/service`")
                    .note("e.g. service: gpu-cluster/transcription-workers"),
                );
                None
            }
        },
        (Some(group), Some(service)) => {
            d.push(
                Diagnostic::error(
                    codes::INVALID_COMBINATION,
                    "a fleet is a `group` or a `service`, not both",
                )
                .at(service.span, "an ECS service")
                .also(group.span, "an Auto Scaling group"),
            );
            None
        }
        (None, None) => {
            d.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    format!("fleet `{}` names no `group` or `service`", key.value),
                )
                .at(key.span, "what runs these workers?")
                .note("group: AUTO_SCALING_GROUP, or service: CLUSTER/SERVICE"),
            );
            None
        }
    };
    let on_stuck = match &spec.on_stuck {
        None => Some(OnStuck::Notify),
        Some(text) => {
            let parsed = OnStuck::from_keyword(&text.value);
            if parsed.is_none() {
                let choices = OnStuck::ALL.map(OnStuck::keyword);
                d.push(
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        format!("`{}` is not an on_stuck choice", text.value),
                    )
                    .at(text.span, "unknown")
                    .suggest_or(
                        &text.value,
                        choices,
                        format!("on_stuck: {}", choices.join(", ")),
                    ),
                );
            }
            parsed
        }
    };
    let queue = spec.queue.as_ref().and_then(|q| {
        let found = cx.queues.get(&q.value).map(|q| q.value.name.clone());
        if found.is_none() {
            d.push(
                Diagnostic::error(
                    codes::UNRESOLVED_REFERENCE,
                    format!("no queue `{}` in this stack", q.value),
                )
                .at(q.span, "not a `queues` key")
                .suggest_or(
                    &q.value,
                    cx.queues.keys().map(String::as_str),
                    "declare the queue under `queues:`",
                ),
            );
        }
        found
    });
    let Some(stuck_after) = &spec.stuck_after else {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "a fleet needs `stuck_after:`")
                .at(key.span, "how long without progress is stuck")
                .note("e.g. stuck_after: 20m"),
        );
        return None;
    };
    let Some(heartbeat) = &spec.heartbeat else {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "a fleet needs `heartbeat:`")
                .at(key.span, "no heartbeat")
                .note("name a log metric with a per-worker dimension, e.g. heartbeat: heartbeat (log_metrics: { heartbeat: { ..., dimensions: { InstanceId: $.instance_id } } })"),
        );
        return None;
    };
    let filter = cx.log_metrics.values().find(|f| f.key == heartbeat.value);
    let Some(filter) = filter else {
        d.push(
            Diagnostic::error(
                codes::UNRESOLVED_REFERENCE,
                format!("no log metric `{}` in this stack", heartbeat.value),
            )
            .at(heartbeat.span, "not a log metric key")
            .suggest_or(
                &heartbeat.value,
                cx.log_metrics.values().map(|f| f.key.as_str()),
                "name a `log_metrics` key (or a job-events metric such as `workers.jobs_progress`)",
            ),
        );
        return None;
    };
    let filter = &filter.value;
    let dimension = match (
        filter.dimensions.contains_key("InstanceId"),
        filter.dimensions.len(),
    ) {
        (true, _) => Some("InstanceId".to_string()),
        (false, 1) => filter.dimensions.keys().next().cloned(),
        (false, 0) => {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, format!("log metric `{}` has no per-worker dimension", heartbeat.value))
                    .at(heartbeat.span, "every worker publishes into one series")
                    .note("a stuck worker is told apart by its own series: declare a log metric with `dimensions: { InstanceId: $.instance_id }` (the job-events recipe's metrics have no dimensions, so that `no_progress` sees the whole fleet)"),
            );
            None
        }
        (false, _) => {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!(
                        "log metric `{}` has several dimensions and none is `InstanceId`",
                        heartbeat.value
                    ),
                )
                .at(heartbeat.span, "which one is the worker?")
                .note("give the heartbeat one dimension naming the worker"),
            );
            None
        }
    };
    let stuck = if filter.value.starts_with('$') {
        Stuck::Age
    } else {
        Stuck::Silent
    };
    // EC2 actions act on the instance in the contributor's `InstanceId`.
    let ec2 = match (on_stuck, &fleet) {
        (Some(OnStuck::Replace), Some(Fleet::Group(_))) => Some(Ec2Action::Terminate),
        (Some(OnStuck::Reboot), Some(Fleet::Group(_))) => Some(Ec2Action::Reboot),
        _ => None,
    };
    if let (Some(OnStuck::Reboot), Some(Fleet::Service(_)), Some(text)) =
        (on_stuck, &fleet, &spec.on_stuck)
    {
        d.push(
            Diagnostic::error(codes::INVALID_COMBINATION, "`reboot` is not available for an ECS service")
                .at(text.span, "ECS tasks cannot be rebooted")
                .note("Fargate has no host to reboot, and rebooting an ECS-on-EC2 host kills every task on it: use `replace` (ECS replaces tasks whose container health check fails) or `notify`"),
        );
    }
    if let (Some(action), Some(dimension)) = (ec2, &dimension) {
        if dimension != "InstanceId" {
            d.push(
                Diagnostic::error(
                    codes::INVALID_COMBINATION,
                    format!("`on_stuck: {}` needs the heartbeat's worker dimension to be `InstanceId`, not `{dimension}`", spec.on_stuck.as_ref().map_or("", |o| o.value.as_str())),
                )
                .at(heartbeat.span, format!("EC2 `{}` acts on the instance the contributor names", action.keyword()))
                .note("have each worker log its EC2 instance id (from the instance metadata service, IMDS) and declare the dimension as `InstanceId: $.instance_id`; `on_stuck: notify` works with any dimension"),
            );
        }
    }
    let seconds = stuck_after.value;
    let window_ok = seconds % PERIOD == 0 && (PERIOD..=MAX_WINDOW).contains(&seconds);
    if stuck == Stuck::Silent && !window_ok {
        d.push(
            Diagnostic::error(codes::INVALID_VALUE, "`stuck_after` must be whole minutes, from 1m to 3h")
                .at(stuck_after.span, "outside the alarm's window")
                .note("the stuck alarm is a Metrics Insights alarm: one-minute periods, and at most the latest 3 hours evaluated"),
        );
    }
    let mut actions = Vec::new();
    for entry in spec.notify.iter().flat_map(|l| &l.value) {
        match cx.topics.get(&entry.value) {
            Some((topic, _)) => actions.push(Action::Topic(topic.clone())),
            None if entry.value.starts_with("arn:") && rules::is_arn(&entry.value) => {
                actions.push(Action::Arn(crate::model::Arn::new(entry.value.clone())));
            }
            None => d.push(
                Diagnostic::error(
                    codes::UNRESOLVED_REFERENCE,
                    format!("`{}` in `notify` is not a topic of this stack", entry.value),
                )
                .at(entry.span, "unknown topic key")
                .suggest_or(
                    &entry.value,
                    cx.topics.keys().map(String::as_str),
                    "name a key under `topics:`, or write an SNS ARN",
                ),
            ),
        }
    }
    if on_stuck == Some(OnStuck::Notify) && actions.is_empty() && spec.notify.is_none() {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "`on_stuck: notify` needs `notify:`")
                .at(
                    spec.on_stuck.as_ref().map_or(key.span, |o| o.span),
                    "notify whom?",
                )
                .note("e.g. notify: [oncall]"),
        );
    }
    actions.extend(ec2.map(Action::Ec2));
    let name = rules::alarm_name(
        &Sp::new(format!("{}-{}-stuck", cx.stack, key.value), key.span),
        d,
    )?;
    if d.error_count() > errors_before {
        return None;
    }
    let (fleet, on_stuck, dimension) = (fleet?, on_stuck?, dimension?);
    let schema: Vec<String> = filter.dimensions.keys().map(|k| quoted(k)).collect();
    let from = format!(
        "SCHEMA({}, {})",
        quoted(&filter.namespace),
        schema.join(", ")
    );
    let by = quoted(&dimension);
    let metric = quoted(&filter.metric);
    let (query, condition, periods, missing) = match stuck {
        Stuck::Silent => (
            format!("SELECT SUM({metric}) FROM {from} GROUP BY {by} ORDER BY SUM() ASC"),
            Condition::Threshold {
                comparison: Comparison::Below,
                value: 1.0,
            },
            u32::try_from(seconds / PERIOD).ok()?,
            TreatMissingData::Breaching,
        ),
        #[allow(clippy::cast_precision_loss)] // durations are far below 2^53 seconds
        Stuck::Age => (
            format!("SELECT MAX({metric}) FROM {from} GROUP BY {by} ORDER BY MAX() DESC"),
            Condition::Threshold {
                comparison: Comparison::Above,
                value: seconds as f64,
            },
            1,
            TreatMissingData::NotBreaching,
        ),
    };
    let mut actions = AlarmActions {
        alarm: actions,
        ok: Vec::new(),
        insufficient_data: Vec::new(),
    };
    actions.normalize();
    #[allow(clippy::cast_precision_loss)] // durations are far below 2^53 seconds
    let shown = crate::model::duration::yaml(seconds as f64);
    let description = match stuck {
        Stuck::Silent => format!(
            "A worker of {} logged no {} for {}",
            key.value, filter.metric, shown
        ),
        Stuck::Age => format!("A worker of {} made no progress for {}", key.value, shown),
    };
    let alarm = Alarm {
        name: name.clone(),
        description: Some(description),
        metric: AlarmMetric::Insights {
            query,
            period: u32::try_from(PERIOD).ok()?,
        },
        condition,
        evaluation_periods: periods,
        datapoints_to_alarm: periods,
        treat_missing_data: missing,
        actions_enabled: true,
        actions,
        tags: cx.tags.clone(),
    };
    let no_progress = cx
        .alarms
        .iter()
        .find(|(_, a)| a.key.ends_with(".no_progress"))
        .map(|(n, _)| n.clone());
    let worker = WorkerFleet {
        fleet,
        queue,
        alarm: name,
        on_stuck,
        on_stuck_at: spec.on_stuck.as_ref().map_or(key.span, |o| o.span),
        stuck,
        stuck_after: Declared {
            value: seconds,
            key: key.value.clone(),
            origin: stuck_after.span,
        },
        dimension,
        no_progress,
    };
    let declared = |value| Declared {
        value,
        key: key.value.clone(),
        origin: key.span,
    };
    Some((
        declared(worker),
        Declared {
            value: alarm,
            key: format!("{}.stuck", key.value),
            origin: key.span,
        },
    ))
}

/// A Metrics Insights identifier in double quotes, so that any name reads as one.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\\\""))
}
