//! The plan: a pure, deterministic diff of resolved desired state against live state.
//!
//! [`diff`] takes what [`crate::resolve`] produced (no I/O, no clock, `BTreeMap`s only)
//! and returns a [`Plan`]: [`Change`]s, each with the exact AWS operations that carry it
//! out and the resources it refers to. [`order`] derives from those references the order
//! the changes are shown in and the waves apply runs them in ([`Plan::schedule`]), so
//! that apply has no decision left to make. Rendering is a separate adapter ([`render`]).

pub mod cost;
mod diff;
pub mod order;
pub mod render;
pub mod render_comment;
pub mod render_json;
pub mod render_markdown;
pub mod select;

pub use crate::resolve::{Notice, StackInput};
pub use diff::{diff, plan};
pub use order::{Schedule, Step, Wave};

use std::collections::BTreeMap;

use crate::diag::Diagnostics;
use crate::model::{
    Action, Alarm, AlarmName, Arn, CompositeAlarm, Endpoint, FilterRef, MetricFilter, PolicyRef,
    Protocol, QueryDefinition, ResourceId, ScalableTarget, ScalingPolicy, ServicePolicy,
    ServicePolicyRef, ServiceRef, StackName, Tags, Topic,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeAction {
    Create,
    Update,
    /// Deleted and created again: AWS cannot change this resource in place.
    Replace,
    Delete,
    /// An existing resource without an ownership tag, declared with `adopt: true`:
    /// tagged as the stack's (and updated where it differs from the YAML), never
    /// deleted or created again.
    Adopt,
}

impl ChangeAction {
    /// What happened, for apply's progress lines: "created", "updated", ...
    pub fn past_tense(self) -> &'static str {
        match self {
            ChangeAction::Create => "created",
            ChangeAction::Update => "updated",
            ChangeAction::Replace => "replaced",
            ChangeAction::Delete => "destroyed",
            ChangeAction::Adopt => "adopted",
        }
    }
}

impl Change {
    /// SHA-256 of every operation's full payload, secret values included: two changes
    /// with the same digest send AWS exactly the same requests. The secrets only ever
    /// enter the hash; the digest is safe to save and show.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for op in &self.ops {
            // Debug output is deterministic (sorted maps) and complete, except that
            // endpoints redact themselves: their real value is hashed beside it.
            hasher.update(format!("{op:?}").as_bytes());
            if let Op::Subscribe { endpoint, .. } = op {
                hasher.update([0]);
                hasher.update(endpoint.expose().as_bytes());
            }
            hasher.update([0xff]);
        }
        hasher
            .finalize()
            .iter()
            .fold(String::new(), |mut hex, byte| {
                use std::fmt::Write as _;
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }
}

/// One field of a resource, before and after. `None` means "not set".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDiff {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One AWS call of an apply, named after its API operation. Values are final, except
/// for what AWS creates: a scaling policy's ARN is known only once the policy exists, so
/// an alarm that notifies a new policy holds [`Action::Policy`] until apply fills it in
/// from that policy's [`Output`] ([`Op::fill`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    CreateTopic(Topic),
    /// `SetTopicAttributes` of `DisplayName`, the one topic attribute monplan manages.
    SetTopicAttributes {
        topic: Arn,
        display_name: Option<String>,
    },
    DeleteTopic(Arn),
    Subscribe {
        topic: Arn,
        protocol: Protocol,
        endpoint: Endpoint,
    },
    Unsubscribe(Arn),
    /// `with_tags` on creation only: AWS ignores tags when updating.
    PutMetricAlarm {
        alarm: Alarm,
        with_tags: bool,
    },
    /// Tags on creation only, as for metric alarms.
    PutCompositeAlarm {
        alarm: CompositeAlarm,
        with_tags: bool,
    },
    DeleteAlarms(Vec<AlarmName>),
    PutScalingPolicy(ScalingPolicy),
    /// Reads back the ARN of a policy put earlier in the same change, for the alarms that
    /// notify it. Planned only then: AWS returns the ARN from `PutScalingPolicy` too, but
    /// not every AWS-compatible endpoint does, and a planned read keeps the writers free
    /// of lookups.
    DescribePolicies(PolicyRef),
    DeletePolicy(PolicyRef),
    /// Application Auto Scaling: registers an ECS service's scalable target, or updates
    /// its capacity; tags (`with_tags`) on registration only.
    RegisterScalableTarget {
        target: ScalableTarget,
        with_tags: bool,
    },
    /// Application Auto Scaling's `PutScalingPolicy`, service namespace `ecs`.
    PutServiceScalingPolicy(ServicePolicy),
    DeleteScalingPolicy(ServicePolicyRef),
    DeregisterScalableTarget(ServiceRef),
    PutMetricFilter(MetricFilter),
    DeleteMetricFilter(FilterRef),
    /// `id`: the live definition to update; `None` creates one.
    PutQueryDefinition {
        definition: QueryDefinition,
        id: Option<String>,
    },
    DeleteQueryDefinition {
        name: String,
        id: String,
    },
    PutDashboard {
        name: String,
        body: String,
    },
    DeleteDashboards(Vec<String>),
    TagResource {
        arn: Arn,
        tags: Tags,
    },
    UntagResource {
        arn: Arn,
        keys: Vec<String>,
    },
}

/// What an operation produced that later operations need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    PolicyArn(PolicyRef, Arn),
    /// Application Auto Scaling answers `PutScalingPolicy` with the ARN (a required
    /// field of its response), so no read-back is planned for service policies.
    ServicePolicyArn(ServicePolicyRef, Arn),
}

/// The values operations of one apply produced so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outputs {
    policy_arns: BTreeMap<PolicyRef, Arn>,
    service_policy_arns: BTreeMap<ServicePolicyRef, Arn>,
}

impl Outputs {
    pub fn record(&mut self, output: Output) {
        match output {
            Output::PolicyArn(policy, arn) => {
                self.policy_arns.insert(policy, arn);
            }
            Output::ServicePolicyArn(policy, arn) => {
                self.service_policy_arns.insert(policy, arn);
            }
        }
    }
}

/// A deferred value that no earlier operation produced: the policy, as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unfilled(pub String);

impl Op {
    /// The AWS operation name, as the API reference spells it.
    pub fn operation(&self) -> &'static str {
        match self {
            Op::CreateTopic(_) => "CreateTopic",
            Op::SetTopicAttributes { .. } => "SetTopicAttributes",
            Op::DeleteTopic(_) => "DeleteTopic",
            Op::Subscribe { .. } => "Subscribe",
            Op::Unsubscribe(_) => "Unsubscribe",
            Op::PutMetricAlarm { .. } => "PutMetricAlarm",
            Op::PutCompositeAlarm { .. } => "PutCompositeAlarm",
            Op::DeleteAlarms(_) => "DeleteAlarms",
            // Two APIs share the name: EC2 Auto Scaling's and Application Auto Scaling's.
            Op::PutScalingPolicy(_) | Op::PutServiceScalingPolicy(_) => "PutScalingPolicy",
            Op::DescribePolicies(_) => "DescribePolicies",
            Op::DeletePolicy(_) => "DeletePolicy",
            Op::RegisterScalableTarget { .. } => "RegisterScalableTarget",
            Op::DeleteScalingPolicy(_) => "DeleteScalingPolicy",
            Op::DeregisterScalableTarget(_) => "DeregisterScalableTarget",
            Op::PutMetricFilter(_) => "PutMetricFilter",
            Op::DeleteMetricFilter(_) => "DeleteMetricFilter",
            Op::PutQueryDefinition { .. } => "PutQueryDefinition",
            Op::DeleteQueryDefinition { .. } => "DeleteQueryDefinition",
            Op::PutDashboard { .. } => "PutDashboard",
            Op::DeleteDashboards(_) => "DeleteDashboards",
            Op::TagResource { .. } => "TagResource",
            Op::UntagResource { .. } => "UntagResource",
        }
    }

    /// The operation with every deferred value replaced by what an earlier operation
    /// produced, or the first value nothing produced.
    pub fn fill(&self, outputs: &Outputs) -> Result<Op, Unfilled> {
        let fill_actions = |actions: &mut crate::model::AlarmActions| {
            for list in [
                &mut actions.alarm,
                &mut actions.ok,
                &mut actions.insufficient_data,
            ] {
                for action in list.iter_mut() {
                    let arn = match action {
                        Action::Policy(policy) => outputs
                            .policy_arns
                            .get(policy)
                            .ok_or_else(|| Unfilled(format!("scaling policy {policy}")))?,
                        Action::ServicePolicy(policy) => outputs
                            .service_policy_arns
                            .get(policy)
                            .ok_or_else(|| Unfilled(format!("service scaling policy {policy}")))?,
                        _ => continue,
                    };
                    *action = Action::Arn(arn.clone());
                }
                list.sort();
            }
            Ok(())
        };
        let mut op = self.clone();
        match &mut op {
            Op::PutMetricAlarm { alarm, .. } => fill_actions(&mut alarm.actions)?,
            Op::PutCompositeAlarm { alarm, .. } => fill_actions(&mut alarm.actions)?,
            _ => {}
        }
        Ok(op)
    }
}

/// One resource's change.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub stack: StackName,
    pub region: String,
    pub resource: ResourceId,
    pub action: ChangeAction,
    /// Every field for creates and deletes; the differing ones for updates.
    pub fields: Vec<FieldDiff>,
    /// For documents (dashboard bodies): the changed lines of the pretty-printed JSON
    /// with context, as a unified diff.
    pub body_diff: Option<String>,
    /// The resources this one refers to (the topics an alarm notifies, the alarms a
    /// composite's rule names, ...): desired references for creates and updates, live
    /// ones for deletes. [`order`] runs a change after the changes of what it refers to,
    /// and a deletion before the deletions of what it refers to.
    pub depends_on: Vec<ResourceId>,
    pub ops: Vec<Op>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub notices: Vec<Notice>,
    /// Plan errors (e.g. a name that exists outside monplan). A plan with errors is
    /// never applied.
    pub errors: Diagnostics,
    /// Set when `--target`/`--exclude` limited the plan: what they were.
    pub limited: Option<String>,
    /// What the stacks cost a month now and after apply, at list prices.
    pub cost: cost::PlanCost,
}

/// The closing line's numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub adopt: usize,
}

impl Summary {
    /// `Plan: 1 to add, 0 to change, 0 to destroy.`; adoptions are named only when
    /// there are some (`Plan: 0 to add, 2 to adopt, ...`), so that plans without any
    /// read as they always did.
    pub fn line(&self) -> String {
        let Summary {
            add,
            change,
            destroy,
            adopt,
        } = self;
        let adopted = if *adopt > 0 {
            format!(" {adopt} to adopt,")
        } else {
            String::new()
        };
        format!("Plan: {add} to add,{adopted} {change} to change, {destroy} to destroy.")
    }
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.action {
                ChangeAction::Create => summary.add += 1,
                ChangeAction::Update => summary.change += 1,
                ChangeAction::Replace => {
                    summary.add += 1;
                    summary.destroy += 1;
                }
                ChangeAction::Delete => summary.destroy += 1,
                ChangeAction::Adopt => summary.adopt += 1,
            }
        }
        summary
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}
