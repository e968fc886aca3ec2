//! Queues, their alarm recipes and queue-depth scaling.

use std::collections::BTreeMap;

use super::alarm::Derived;
use super::rules;
use crate::diag::{codes, Diagnostic, Diagnostics, Sp, Span};
use crate::model::{
    duration, Action, AlarmMetric, Comparison, Condition, Declared, Metric, PolicyKind, PolicyRef,
    QueueUse, ScalableTarget, ScalingPolicy, ServicePolicy, ServicePolicyKind, ServicePolicyRef,
    ServiceRef, StackName, TreatMissingData,
};
use crate::spec::{AlarmSpec, QueueSpec, ScalingSpec};

/// `time_to_drain` when the queue has a backlog but is not draining: a year, in seconds,
/// which exceeds any threshold one would set.
pub const NOT_DRAINING_SECONDS: u64 = 31_536_000;

/// One alarm a queue asks for, to be validated with the stack's other alarms.
pub struct RecipeAlarm<'a> {
    /// `{queue}.{recipe}`, located at the recipe's key.
    pub key: Sp<String>,
    /// `{stack}-{queue}-{recipe}` with `-` for `_`, unless `name:` is set.
    pub default_name: String,
    pub spec: &'a AlarmSpec,
    /// The recipe's metric (periods come from the alarm).
    pub metric: AlarmMetric,
    /// The queue whose redrive policy supplies the DLQ dimension, if needed.
    pub redrive_of: Option<String>,
}

/// The alarm that starts an empty group, which monplan derives from a queue's scaling.
pub struct FromZeroAlarm {
    /// `{queue}.from_zero_alarm`, located at `from_zero: true`.
    pub key: Sp<String>,
    /// `{stack}-{queue}-from-zero`.
    pub default_name: String,
    pub alarm: Derived,
}

/// A validated queue with what it contributes to the stack.
pub struct QueueParts<'a> {
    pub queue: Declared<QueueUse>,
    pub recipes: Vec<RecipeAlarm<'a>>,
    pub policies: Vec<Declared<ScalingPolicy>>,
    /// Policy keys (`{queue}.from_zero`) alarms may notify, as the action naming the
    /// policy.
    pub policy_keys: Vec<(String, Action, Span)>,
    /// The scale-from-zero alarm, if any.
    pub from_zero_alarm: Option<FromZeroAlarm>,
    /// An ECS service's scalable target and its policies (`scaling: { service: ... }`).
    pub scalable_targets: Vec<Declared<ScalableTarget>>,
    pub service_policies: Vec<Declared<ServicePolicy>>,
}

/// The period is set from the alarm.
fn sqs(name: &str, queue: &str, stat: &str) -> Metric {
    Metric::sqs(name, queue, stat, 0)
}

/// The recipe's metric. `dlq` is `None` when it must come from the redrive policy: the
/// DLQ metric then has no `QueueName` dimension until the planner adds it (the stack's
/// `redrive_alarms` say which queue's redrive policy gives it).
pub fn recipe_metric(recipe: &str, queue: &str, dlq: Option<&str>) -> Option<AlarmMetric> {
    Some(match recipe {
        "oldest_message_age" => AlarmMetric::Single(sqs("ApproximateAgeOfOldestMessage", queue, "Maximum")),
        "visible_messages" => AlarmMetric::Single(sqs("ApproximateNumberOfMessagesVisible", queue, "Maximum")),
        "in_flight_messages" => AlarmMetric::Single(sqs("ApproximateNumberOfMessagesNotVisible", queue, "Maximum")),
        "dlq_visible_messages" => AlarmMetric::Single(match dlq {
            Some(dlq) => sqs("ApproximateNumberOfMessagesVisible", dlq, "Maximum"),
            None => Metric {
                dimensions: BTreeMap::new(),
                ..sqs("ApproximateNumberOfMessagesVisible", queue, "Maximum")
            },
        }),
        // Seconds until the backlog is gone at the current net drain rate:
        // visible / ((deleted - sent) / period). An empty queue drains in 0 s; a backlog
        // that is not shrinking never drains (a year stands for "never").
        "time_to_drain" => AlarmMetric::Math {
            expression: format!("IF(visible == 0, 0, IF(deleted > sent, visible / ((deleted - sent) / PERIOD(deleted)), {NOT_DRAINING_SECONDS}))"),
            metrics: BTreeMap::from([
                ("visible".to_string(), sqs("ApproximateNumberOfMessagesVisible", queue, "Maximum")),
                ("sent".to_string(), sqs("NumberOfMessagesSent", queue, "Sum")),
                ("deleted".to_string(), sqs("NumberOfMessagesDeleted", queue, "Sum")),
            ]),
        },
        _ => return None,
    })
}

/// The alarm that starts an empty group: messages are waiting and no instance is in service.
pub fn from_zero_metric(queue: &str, group: &str) -> AlarmMetric {
    AlarmMetric::Math {
        expression: "IF(visible > 0 AND inservice == 0, 1, 0)".into(),
        metrics: BTreeMap::from([
            (
                "visible".to_string(),
                sqs("ApproximateNumberOfMessagesVisible", queue, "Maximum"),
            ),
            ("inservice".to_string(), group_metric(group)),
        ]),
    }
}

/// The scale-from-zero alarm of `queue`: it fires (and runs the step policy `step`) when
/// messages are waiting and `group` has no instance in service. No data is not breaching.
fn from_zero_alarm_of(queue: &str, group: &str, step: &Declared<ScalingPolicy>) -> Derived {
    Derived {
        metric: from_zero_metric(queue, group),
        condition: Condition::Threshold {
            comparison: Comparison::Above,
            value: 0.0,
        },
        treat_missing_data: TreatMissingData::NotBreaching,
        description: Sp::new(
            format!("Messages wait in {queue} and {group} has no instance in service: start one"),
            step.origin,
        ),
        notify: vec![Action::Policy(step.value.policy.clone())],
    }
}

/// The alarm that starts a service without tasks: messages are waiting and no task runs.
/// Container Insights may publish nothing for a service without tasks, so a missing
/// task count counts as 0.
pub fn service_from_zero_metric(queue: &str, service: &ServiceRef) -> AlarmMetric {
    AlarmMetric::Math {
        expression: "IF(visible > 0 AND FILL(tasks, 0) == 0, 1, 0)".into(),
        metrics: BTreeMap::from([
            (
                "visible".to_string(),
                sqs("ApproximateNumberOfMessagesVisible", queue, "Maximum"),
            ),
            ("tasks".to_string(), tasks_metric(service)),
        ]),
    }
}

/// As [`from_zero_alarm_of`], for a service: its action is the service's step policy.
fn service_from_zero_alarm_of(
    queue: &str,
    service: &ServiceRef,
    step: &Declared<ServicePolicy>,
) -> Derived {
    Derived {
        metric: service_from_zero_metric(queue, service),
        condition: Condition::Threshold {
            comparison: Comparison::Above,
            value: 0.0,
        },
        treat_missing_data: TreatMissingData::NotBreaching,
        description: Sp::new(
            format!("Messages wait in {queue} and {service} has no task running: start one"),
            step.origin,
        ),
        notify: vec![Action::ServicePolicy(step.value.policy.clone())],
    }
}

/// The service's running tasks, as the tracking policy counts them. `Maximum`: a task
/// that ran at any time of the minute means the service was not empty.
fn tasks_metric(service: &ServiceRef) -> Metric {
    Metric {
        namespace: crate::kinds::ecs_scaling::TASKS_NAMESPACE.into(),
        name: crate::kinds::ecs_scaling::TASKS_METRIC.into(),
        dimensions: BTreeMap::from([
            ("ClusterName".to_string(), service.cluster.clone()),
            ("ServiceName".to_string(), service.service.clone()),
        ]),
        stat: "Maximum".into(),
        period: 60,
        unit: None,
    }
}

fn group_metric(group: &str) -> Metric {
    Metric {
        namespace: "AWS/AutoScaling".into(),
        name: "GroupInServiceInstances".into(),
        dimensions: BTreeMap::from([("AutoScalingGroupName".to_string(), group.to_string())]),
        stat: "Average".into(),
        period: 60,
        unit: None,
    }
}

pub fn queue<'a>(
    stack: &StackName,
    key: &Sp<String>,
    spec: &'a QueueSpec,
    d: &mut Diagnostics,
) -> Option<QueueParts<'a>> {
    rules::resource_key(key, "queue", d);
    let name = spec.name.clone().unwrap_or_else(|| key.clone());
    queue_name(&name, d);
    if let Some(dlq) = &spec.dead_letter_queue {
        queue_name(dlq, d);
    }
    let mut recipes = Vec::new();
    let mut needs_redrive = false;
    for (recipe, alarm_spec) in &spec.alarms {
        let dlq = spec.dead_letter_queue.as_ref().map(|q| q.value.as_str());
        let from_redrive = recipe.value == "dlq_visible_messages" && dlq.is_none();
        needs_redrive |= from_redrive;
        recipes.push(RecipeAlarm {
            key: Sp::new(format!("{}.{}", key.value, recipe.value), recipe.span),
            default_name: format!("{stack}-{}-{}", key.value, recipe.value.replace('_', "-")),
            spec: alarm_spec,
            metric: recipe_metric(&recipe.value, &name.value, dlq)?,
            redrive_of: from_redrive.then(|| name.value.clone()),
        });
    }

    let mut policies = Vec::new();
    let mut policy_keys = Vec::new();
    let mut groups = Vec::new();
    let mut services = Vec::new();
    let mut scalable_targets = Vec::new();
    let mut service_policies = Vec::new();
    let mut from_zero_alarm = None;
    if let Some(scaling_spec) = spec.scaling.as_ref().filter(|s| s.value.service.is_some()) {
        if let Some((service, target, tracking, from_zero)) =
            service_scaling(stack, key, &name.value, scaling_spec, d)
        {
            if let Some(step) = from_zero {
                policy_keys.push((
                    format!("{}.from_zero", key.value),
                    Action::ServicePolicy(step.value.policy.clone()),
                    step.origin,
                ));
                from_zero_alarm = Some(FromZeroAlarm {
                    key: Sp::new(format!("{}.from_zero_alarm", key.value), step.origin),
                    default_name: format!("{stack}-{}-from-zero", key.value),
                    alarm: service_from_zero_alarm_of(&name.value, &service.value, &step),
                });
                service_policies.push(step);
            }
            services.push(service);
            scalable_targets.push(target);
            service_policies.push(tracking);
        }
    } else if let Some(scaling_spec) = &spec.scaling {
        if let Some((group, tracking, from_zero)) =
            scaling(stack, key, &name.value, scaling_spec, d)
        {
            groups.push(group.clone());
            policies.push(tracking);
            if let Some(step) = from_zero {
                policy_keys.push((
                    format!("{}.from_zero", key.value),
                    Action::Policy(step.value.policy.clone()),
                    step.origin,
                ));
                from_zero_alarm = Some(FromZeroAlarm {
                    key: Sp::new(format!("{}.from_zero_alarm", key.value), step.origin),
                    default_name: format!("{stack}-{}-from-zero", key.value),
                    alarm: from_zero_alarm_of(&name.value, &group.value, &step),
                });
                policies.push(step);
            }
        }
    }
    let queue = QueueUse {
        name: name.value.clone(),
        dead_letter_queue: spec.dead_letter_queue.as_ref().map(|q| Declared {
            value: q.value.clone(),
            key: key.value.clone(),
            origin: q.span,
        }),
        needs_redrive,
        groups,
        processing_time: spec
            .scaling
            .as_ref()
            .and_then(|s| s.value.processing_time.as_ref())
            .map(|p| Declared {
                value: p.value,
                key: format!("{}.scaling", key.value),
                origin: p.span,
            }),
        services,
    };
    Some(QueueParts {
        queue: Declared {
            value: queue,
            key: key.value.clone(),
            origin: name.span,
        },
        recipes,
        policies,
        policy_keys,
        from_zero_alarm,
        scalable_targets,
        service_policies,
    })
}

fn queue_name(name: &Sp<String>, d: &mut Diagnostics) {
    let text = &name.value;
    let base = text.strip_suffix(".fifo").unwrap_or(text);
    let ok = !base.is_empty()
        && text.len() <= 80
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("`{text}` is not an SQS queue name"),
            )
            .at(name.span, "invalid queue name")
            .note(
                "queue names are 1 to 80 letters, digits, `-` and `_` (FIFO queues end in `.fifo`)",
            ),
        );
    }
}

type Scaling = (
    Declared<String>,
    Declared<ScalingPolicy>,
    Option<Declared<ScalingPolicy>>,
);

fn scaling(
    stack: &StackName,
    key: &Sp<String>,
    queue: &str,
    spec: &Sp<ScalingSpec>,
    d: &mut Diagnostics,
) -> Option<Scaling> {
    let s = &spec.value;
    let Some(group) = &s.group else {
        d.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                "scaling needs `group:` (an Auto Scaling group) or `service:` (an ECS service)",
            )
            .at(spec.span, "nothing to scale")
            .note("e.g. group: transcription-workers, or service: workers/transcription"),
        );
        return None;
    };
    // The group's capacity is the group's own: monplan does not change groups.
    if let Some(bound) = s.min.as_ref().or(s.max.as_ref()) {
        d.push(
            Diagnostic::error(
                codes::NOT_SUPPORTED,
                "`min` and `max` are for `service:` (the scalable target's tasks)",
            )
            .at(bound.span, "not with `group:`")
            .note("an Auto Scaling group keeps its own MinSize and MaxSize; monplan does not change groups"),
        );
        return None;
    }
    let (target, note, warmup) = target(spec, "instance", d)?;
    let tracking = PolicyRef {
        group: group.value.clone(),
        name: format!("{stack}_{}", key.value),
    };
    let policy = ScalingPolicy {
        policy: tracking,
        kind: PolicyKind::Backlog {
            queue: queue.to_string(),
            target,
            warmup,
            scale_in: s.scale_in.as_ref().is_none_or(|b| b.value),
        },
        note,
    };
    let from_zero = s.from_zero.as_ref().filter(|f| f.value).map(|f| Declared {
        value: ScalingPolicy {
            policy: PolicyRef {
                group: group.value.clone(),
                name: format!("{stack}_{}-from-zero", key.value),
            },
            kind: PolicyKind::FromZero,
            note: None,
        },
        key: format!("{}.from_zero", key.value),
        origin: f.span,
    });
    let group_use = Declared {
        value: group.value.clone(),
        key: key.value.clone(),
        origin: group.span,
    };
    Some((
        group_use,
        Declared {
            value: policy,
            key: format!("{}.scaling", key.value),
            origin: spec.span,
        },
        from_zero,
    ))
}

/// A tracking target in messages per `unit` (with how it was computed), and the warmup
/// in seconds: what group and service scaling share.
fn target(
    spec: &Sp<ScalingSpec>,
    unit: &str,
    d: &mut Diagnostics,
) -> Option<(f64, Option<String>, Option<u32>)> {
    let s = &spec.value;
    let (target, note) = match (&s.backlog_per_instance, &s.latency, &s.processing_time) {
        (Some(backlog), None, None) => (backlog.clone(), None),
        (None, Some(latency), Some(processing)) => {
            let target = latency.value / processing.value;
            let note = format!(
                "latency {} / processing_time {}",
                duration::yaml(latency.value),
                duration::yaml(processing.value)
            );
            (Sp::new(target, latency.span), Some(note))
        }
        (Some(backlog), Some(other), _) | (Some(backlog), _, Some(other)) => {
            d.push(
                Diagnostic::error(
                    codes::INVALID_COMBINATION,
                    "give either `backlog_per_instance` or `latency` with `processing_time`",
                )
                .at(other.span, "this")
                .also(backlog.span, "and this"),
            );
            return None;
        }
        (None, Some(one), None) | (None, None, Some(one)) => {
            d.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    "`latency` and `processing_time` go together",
                )
                .at(one.span, "the other one is missing")
                .note(format!(
                    "target = latency / processing_time messages per {unit}"
                )),
            );
            return None;
        }
        (None, None, None) => {
            d.push(
                Diagnostic::error(codes::MISSING_KEY, "scaling needs a target")
                    .at(spec.span, "no target")
                    .note("set `backlog_per_instance: 10`, or `latency: 10m` with `processing_time: 30s`"),
            );
            return None;
        }
    };
    if target.value <= 0.0 || !target.value.is_finite() {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("the target must be more than 0 messages per {unit}"),
            )
            .at(target.span, "here"),
        );
        return None;
    }
    let warmup = match &s.warmup {
        Some(w) if w.value > 3600 => {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, "warmup is at most 1h")
                    .at(w.span, "too long"),
            );
            return None;
        }
        Some(w) => u32::try_from(w.value).ok(),
        None => None,
    };
    Some((target.value, note, warmup))
}

type ServiceScaling = (
    Declared<ServiceRef>,
    Declared<ScalableTarget>,
    Declared<ServicePolicy>,
    Option<Declared<ServicePolicy>>,
);

/// `scaling: { service: cluster/service, min, max, ... }`: the service's scalable target,
/// a target-tracking policy on messages visible per running task, and with `from_zero`
/// the step policy that starts the first task.
fn service_scaling(
    stack: &StackName,
    key: &Sp<String>,
    queue: &str,
    spec: &Sp<ScalingSpec>,
    d: &mut Diagnostics,
) -> Option<ServiceScaling> {
    let s = &spec.value;
    let named = s.service.as_ref()?;
    if let Some(group) = &s.group {
        d.push(
            Diagnostic::error(
                codes::INVALID_COMBINATION,
                "scaling takes either `group:` or `service:`, not both",
            )
            .at(group.span, "this")
            .also(named.span, "and this")
            .note("one queue's scaling drives one fleet"),
        );
        return None;
    }
    let service = service_ref(named, d);
    let bounds = capacity(spec, d);
    let (target, note, warmup) = target(spec, "task", d)?;
    let (service, (min, max)) = (service?, bounds?);
    let policy = ServicePolicy {
        policy: ServicePolicyRef {
            service: service.clone(),
            name: format!("{stack}_{}", key.value),
        },
        kind: ServicePolicyKind::Backlog {
            queue: queue.to_string(),
            target,
            scale_out_cooldown: warmup,
            scale_in: s.scale_in.as_ref().is_none_or(|b| b.value),
        },
        note,
    };
    // Named as the group's step policy is; the warmup a new task needs is also how
    // long the policy waits before adding another.
    let from_zero = s.from_zero.as_ref().filter(|f| f.value).map(|f| Declared {
        value: ServicePolicy {
            policy: ServicePolicyRef {
                service: service.clone(),
                name: format!("{stack}_{}-from-zero", key.value),
            },
            kind: ServicePolicyKind::FromZero {
                cooldown: warmup.unwrap_or(crate::model::FROM_ZERO_COOLDOWN),
            },
            note: None,
        },
        key: format!("{}.from_zero", key.value),
        origin: f.span,
    });
    Some((
        Declared {
            value: service.clone(),
            key: key.value.clone(),
            origin: named.span,
        },
        Declared {
            value: ScalableTarget {
                service,
                min,
                max,
                // The stack's tags, filled in with the stack's other resources'.
                tags: crate::model::Tags::new(),
            },
            key: format!("{}.scaling", key.value),
            origin: named.span,
        },
        Declared {
            value: policy,
            key: format!("{}.scaling", key.value),
            origin: spec.span,
        },
        from_zero,
    ))
}

/// `cluster/service`, each an ECS name: 1 to 255 letters, digits, `-` and `_`.
fn service_ref(named: &Sp<String>, d: &mut Diagnostics) -> Option<ServiceRef> {
    let ecs_name = |n: &str| {
        (1..=255).contains(&n.len())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    match named.value.split_once('/') {
        Some((cluster, service)) if ecs_name(cluster) && ecs_name(service) => Some(ServiceRef {
            cluster: cluster.to_string(),
            service: service.to_string(),
        }),
        _ => {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("`{}` is not `cluster/service`", named.value),
                )
                .at(named.span, "expected an ECS cluster and service name")
                .note("e.g. service: workers/transcription; names are 1 to 255 letters, digits, `-` and `_`"),
            );
            None
        }
    }
}

/// The scalable target's `min` and `max` tasks: both required, since
/// `RegisterScalableTarget` needs both to register a new target.
fn capacity(spec: &Sp<ScalingSpec>, d: &mut Diagnostics) -> Option<(u32, u32)> {
    let s = &spec.value;
    let (Some(min), Some(max)) = (&s.min, &s.max) else {
        let missing = match (&s.min, &s.max) {
            (None, None) => "`min` and `max`",
            (None, _) => "`min`",
            _ => "`max`",
        };
        d.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                format!("scaling a service needs {missing} (tasks)"),
            )
            .at(spec.span, "the scalable target's capacity")
            .note(
                "e.g. min: 1, max: 20; Application Auto Scaling keeps the task count between them",
            ),
        );
        return None;
    };
    // Application Auto Scaling takes 32-bit signed capacities.
    let bound = |n: &Sp<u64>| {
        u32::try_from(n.value)
            .ok()
            .filter(|n| i32::try_from(*n).is_ok())
    };
    let (Some(low), Some(high)) = (bound(min), bound(max)) else {
        let big = if bound(min).is_none() { min } else { max };
        d.push(
            Diagnostic::error(codes::INVALID_VALUE, "too many tasks")
                .at(big.span, "at most 2147483647"),
        );
        return None;
    };
    if low > high {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("`min` ({low}) is more than `max` ({high})"),
            )
            .at(min.span, "min")
            .also(max.span, "max"),
        );
        return None;
    }
    Some((low, high))
}
