//! ECS services scaled on a queue's depth through Application Auto Scaling: the
//! service's scalable target (`ecs:service:DesiredCount`) and a target-tracking policy
//! `{stack}_{queue}` on it.
//!
//! Ownership differs between the two. A policy is owned by its `{stack}_` name prefix
//! (policies cannot be tagged). A scalable target is owned only if monplan registered
//! it, which the `monplan:stack` tag it was registered with proves; one registered by
//! someone else, or whose tags cannot be read, is used as it is and never changed or
//! deregistered. Deregistering a target deletes every policy on it, so an owned target
//! that still carries a policy of someone else is kept too.

pub mod model;

use super::{changed, created, deleted, Cx, Fields};
use crate::diag::{codes, Diagnostic};
use crate::model::duration;
use crate::model::{
    Owner, ResourceId, ScalableTarget, ServicePolicy, ServicePolicyKind, TargetOwner,
};
use crate::plan::{ChangeAction, Op};

/// What the backlog policy tracks: visible messages per running task.
pub const SERVICE_BACKLOG_EXPRESSION: &str = "visible / tasks";
/// Where a service's running task count is published. `AWS/ECS` has only CPU and memory
/// (and no data at all without tasks); the task counts are Container Insights metrics,
/// which the cluster's `containerInsights` setting turns on.
pub const TASKS_NAMESPACE: &str = "ECS/ContainerInsights";
pub const TASKS_METRIC: &str = "RunningTaskCount";

pub fn target_fields(target: &ScalableTarget) -> Fields {
    let ScalableTarget {
        service,
        min,
        max,
        tags: _,
    } = target;
    vec![
        ("service".into(), service.to_string()),
        ("min".into(), format!("{min} tasks")),
        ("max".into(), format!("{max} tasks")),
    ]
}

pub fn policy_fields(policy: &ServicePolicy) -> Fields {
    let ServicePolicy {
        policy: reference,
        kind,
        note: _,
    } = policy;
    let mut fields: Fields = vec![("service".into(), reference.service.to_string())];
    match kind {
        ServicePolicyKind::Backlog {
            queue,
            target,
            scale_out_cooldown,
            scale_in,
        } => {
            fields.push((
                "type".into(),
                format!("target tracking on {SERVICE_BACKLOG_EXPRESSION} ({TASKS_NAMESPACE} {TASKS_METRIC})"),
            ));
            fields.push(("queue".into(), queue.clone()));
            fields.push(("target".into(), format!("{target} messages per task")));
            if let Some(cooldown) = scale_out_cooldown {
                fields.push(("warmup".into(), duration::yaml(f64::from(*cooldown))));
            }
            fields.push(("scale_in".into(), scale_in.to_string()));
        }
        ServicePolicyKind::FromZero { cooldown } => {
            fields.push((
                "type".into(),
                "step scaling: +1 task while no task runs and messages wait".into(),
            ));
            fields.push(("cooldown".into(), duration::yaml(f64::from(*cooldown))));
        }
    }
    fields
}

/// Whether registering `desired` would change `live`: the capacity. Tags are sent on
/// registration only, so they are not compared.
fn same_target(desired: &ScalableTarget, live: &ScalableTarget) -> bool {
    let ScalableTarget {
        service,
        min,
        max,
        tags: _,
    } = desired;
    *service == live.service && *min == live.min && *max == live.max
}

/// Whether putting `desired` would change `live` (the note is ours, never sent).
fn same_policy(desired: &ServicePolicy, live: &ServicePolicy) -> bool {
    let ServicePolicy {
        policy,
        kind,
        note: _,
    } = desired;
    *policy == live.policy && *kind == live.kind
}

pub fn plan(cx: &mut Cx<'_, '_>) {
    targets(cx);
    policies(cx);
}

fn owned(cx: &Cx<'_, '_>, owner: &TargetOwner) -> bool {
    matches!(owner, TargetOwner::Known(o) if cx.owns(o))
}

fn targets(cx: &mut Cx<'_, '_>) {
    let stack = cx.stack;
    let live = stack.live;
    for (service, declared) in &stack.scalable_targets {
        let target = &declared.value;
        let id = ResourceId::ScalableTarget(service.clone());
        let Some(current) = live.scalable_targets.get(service) else {
            cx.change(
                id,
                ChangeAction::Create,
                created(target_fields(target)),
                Vec::new(),
                vec![Op::RegisterScalableTarget {
                    target: target.clone(),
                    with_tags: true,
                }],
            );
            continue;
        };
        if owned(cx, &current.owner) {
            if !same_target(target, &current.target) {
                cx.change(
                    id,
                    ChangeAction::Update,
                    changed(&target_fields(&current.target), &target_fields(target)),
                    Vec::new(),
                    vec![Op::RegisterScalableTarget {
                        target: target.clone(),
                        with_tags: false,
                    }],
                );
            }
            continue;
        }
        // Not provably ours: used as it is, whatever the YAML says of its capacity.
        let who = match &current.owner {
            TargetOwner::Known(Owner::Stack(other)) => {
                format!("registered by monplan stack `{other}`")
            }
            TargetOwner::Known(Owner::Foreign) => {
                "registered outside monplan (no monplan:stack tag)".to_string()
            }
            TargetOwner::Unknown(error) => {
                format!("of unknown origin: its tags could not be read ({error})")
            }
        };
        let (min, max) = (current.target.min, current.target.max);
        cx.notice(
            &id,
            format!("{who}: used as it is (min {min}, max {max} tasks), never changed or deregistered by this stack"),
        );
        if (min, max) != (target.min, target.max) {
            cx.plan.errors.push(
                Diagnostic::warning(
                    codes::TARGET_NOT_OURS,
                    format!(
                        "the scalable target of `{service}` has min {min}, max {max} tasks; the stack says min {}, max {}",
                        target.min, target.max
                    ),
                )
                .at(declared.origin, "monplan did not register this target and will not change it")
                .note("change the capacity where the target is managed, or match `min`/`max` to it"),
            );
        }
    }
    let prefix = cx.prefix();
    for (service, current) in &live.scalable_targets {
        if stack.desired.scalable_targets.contains_key(service) || !owned(cx, &current.owner) {
            continue;
        }
        let id = ResourceId::ScalableTarget(service.clone());
        // AWS deletes every policy of a deregistered target, whoever put it.
        let foreign: Vec<&str> = current
            .policies
            .iter()
            .filter(|name| !name.starts_with(&prefix))
            .map(String::as_str)
            .collect();
        if !foreign.is_empty() {
            cx.notice(
                &id,
                format!("kept, though no longer declared: deregistering it would also delete the scaling policies {} that this stack does not own", foreign.join(", ")),
            );
            continue;
        }
        cx.change(
            id,
            ChangeAction::Delete,
            deleted(target_fields(&current.target)),
            Vec::new(),
            vec![Op::DeregisterScalableTarget(service.clone())],
        );
    }
}

fn policies(cx: &mut Cx<'_, '_>) {
    let stack = cx.stack;
    let live = stack.live;
    for (policy_ref, declared) in &stack.service_policies {
        let policy = &declared.value;
        let id = ResourceId::ServicePolicy(policy_ref.clone());
        let (action, mut fields) = match live.service_policies.get(policy_ref).map(|p| &p.body) {
            None => (ChangeAction::Create, created(policy_fields(policy))),
            Some(None) => (
                ChangeAction::Update,
                changed(
                    &vec![("type".into(), "unmanaged shape".into())],
                    &policy_fields(policy),
                ),
            ),
            Some(Some(current)) if same_policy(policy, current) => continue,
            Some(Some(current)) => (
                ChangeAction::Update,
                changed(&policy_fields(current), &policy_fields(policy)),
            ),
        };
        // The computed target, shown as for groups: `20 messages per task (latency ...)`.
        if let Some(note) = &policy.note {
            for field in fields.iter_mut().filter(|f| f.name == "target") {
                if let Some(after) = &mut field.after {
                    *after = format!("{after} ({note})");
                }
            }
        }
        let mut put = policy.clone();
        put.note = None;
        cx.change(
            id,
            action,
            fields,
            vec![ResourceId::ScalableTarget(policy_ref.service.clone())],
            vec![Op::PutServiceScalingPolicy(put)],
        );
    }
    let prefix = cx.prefix();
    for (policy_ref, current) in &live.service_policies {
        if !policy_ref.name.starts_with(&prefix)
            || stack.desired.service_policies.contains_key(policy_ref)
        {
            continue;
        }
        let fields = current
            .body
            .as_ref()
            .map(policy_fields)
            .map(deleted)
            .unwrap_or_default();
        cx.change(
            ResourceId::ServicePolicy(policy_ref.clone()),
            ChangeAction::Delete,
            fields,
            vec![ResourceId::ScalableTarget(policy_ref.service.clone())],
            vec![Op::DeleteScalingPolicy(policy_ref.clone())],
        );
    }
}
