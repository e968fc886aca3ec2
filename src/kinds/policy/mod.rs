//! EC2 Auto Scaling policies on a queue's depth, owned by their `{stack}_` name prefix
//! (policies cannot be tagged).

pub mod model;

use super::{changed, created, deleted, Cx, Fields};
use crate::model::duration;
use crate::model::{Action, PolicyKind, PolicyRef, ResourceId, ScalingPolicy};
use crate::plan::{ChangeAction, Op};

/// What the backlog policy tracks: visible messages per in-service instance.
pub const BACKLOG_EXPRESSION: &str = "visible / inservice";

pub fn fields(policy: &ScalingPolicy) -> Fields {
    let ScalingPolicy {
        policy: reference,
        kind,
        note: _,
    } = policy;
    let mut fields: Fields = vec![("group".into(), reference.group.clone())];
    match kind {
        PolicyKind::Backlog {
            queue,
            target,
            warmup,
            scale_in,
        } => {
            fields.push((
                "type".into(),
                format!("target tracking on {BACKLOG_EXPRESSION}"),
            ));
            fields.push(("queue".into(), queue.clone()));
            fields.push(("target".into(), format!("{target} messages per instance")));
            if let Some(warmup) = warmup {
                fields.push(("warmup".into(), duration::yaml(f64::from(*warmup))));
            }
            fields.push(("scale_in".into(), scale_in.to_string()));
        }
        PolicyKind::FromZero => {
            fields.push((
                "type".into(),
                "step scaling: +1 instance while the group is empty and messages wait".into(),
            ));
        }
    }
    fields
}

/// Whether putting `desired` would change `live` (the note is ours, never sent).
fn same(desired: &ScalingPolicy, live: &ScalingPolicy) -> bool {
    let ScalingPolicy {
        policy,
        kind,
        note: _,
    } = desired;
    *policy == live.policy && *kind == live.kind
}

pub fn plan(cx: &mut Cx<'_, '_>) {
    let stack = cx.stack;
    let live = stack.live;
    for (policy_ref, declared) in &stack.policies {
        let policy = &declared.value;
        let id = ResourceId::ScalingPolicy(policy_ref.clone());
        let (action, mut fields) = match live.policies.get(policy_ref).map(|p| &p.body) {
            None => (ChangeAction::Create, created(fields(policy))),
            Some(None) => (
                ChangeAction::Update,
                changed(
                    &vec![("type".into(), "unmanaged shape".into())],
                    &fields(policy),
                ),
            ),
            Some(Some(current)) if same(policy, current) => continue,
            Some(Some(current)) => (
                ChangeAction::Update,
                changed(&fields(current), &fields(policy)),
            ),
        };
        if let Some(note) = &policy.note {
            for field in fields.iter_mut().filter(|f| f.name == "target") {
                if let Some(after) = &mut field.after {
                    *after = format!("{after} ({note})");
                }
            }
        }
        let mut put = policy.clone();
        put.note = None;
        let mut ops = vec![Op::PutScalingPolicy(put)];
        // An alarm of this plan waits for the ARN: read it back once the policy exists.
        if awaited(cx, policy_ref) {
            ops.push(Op::DescribePolicies(policy_ref.clone()));
        }
        cx.change(id, action, fields, Vec::new(), ops);
    }
    let prefix = cx.prefix();
    for (policy_ref, live_policy) in &live.policies {
        if policy_ref.name.starts_with(&prefix) && !stack.desired.policies.contains_key(policy_ref)
        {
            let fields = live_policy
                .body
                .as_ref()
                .map(fields)
                .map(deleted)
                .unwrap_or_default();
            cx.change(
                ResourceId::ScalingPolicy(policy_ref.clone()),
                ChangeAction::Delete,
                fields,
                Vec::new(),
                vec![Op::DeletePolicy(policy_ref.clone())],
            );
        }
    }
}

/// Whether a resolved alarm of the stack holds this policy's ARN as a deferred value.
fn awaited(cx: &Cx<'_, '_>, policy: &PolicyRef) -> bool {
    let deferred = |actions: &crate::model::AlarmActions| {
        actions
            .alarm
            .iter()
            .chain(&actions.ok)
            .chain(&actions.insufficient_data)
            .any(|a| matches!(a, Action::Policy(p) if p == policy))
    };
    cx.stack.alarms.values().any(|a| deferred(&a.value.actions))
        || cx
            .stack
            .composites
            .values()
            .any(|a| deferred(&a.value.actions))
}
