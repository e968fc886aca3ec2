//! The plan: a pure, deterministic diff of desired against live state.
//!
//! [`diff::plan`] takes everything as arguments (no I/O, no clock, `BTreeMap`s only) and
//! returns a [`Plan`]: ordered [`Change`]s, each with the exact AWS operations that carry
//! it out, so that apply has no decision left to make. Rendering is a separate adapter
//! ([`render`]).

mod dashboard;
mod diff;
mod fields;
pub mod render;
pub mod render_json;
pub mod render_markdown;

pub use diff::{plan, StackInput};

use crate::diag::Diagnostics;
use crate::model::{
    Alarm, AlarmName, Arn, CompositeAlarm, Endpoint, PolicyRef, Protocol, ResourceId,
    ScalingPolicy, StackName, Tags, Topic,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeAction {
    Create,
    Update,
    /// Deleted and created again: AWS cannot change this resource in place.
    Replace,
    Delete,
}

impl ChangeAction {
    /// What happened, for apply's progress lines: "created", "updated", ...
    pub fn past_tense(self) -> &'static str {
        match self {
            ChangeAction::Create => "created",
            ChangeAction::Update => "updated",
            ChangeAction::Replace => "replaced",
            ChangeAction::Delete => "destroyed",
        }
    }
}

/// One field of a resource, before and after. `None` means "not set".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDiff {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One AWS call of an apply. Values are final: topic keys are resolved to ARNs.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    CreateTopic(Topic),
    SetTopicDisplayName {
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
    /// `PutMetricAlarm`. `with_tags` on creation only: AWS ignores tags when updating.
    PutAlarm {
        alarm: Alarm,
        with_tags: bool,
    },
    /// `PutCompositeAlarm`; tags on creation only, as for metric alarms.
    PutCompositeAlarm {
        alarm: CompositeAlarm,
        with_tags: bool,
    },
    DeleteAlarms(Vec<AlarmName>),
    PutScalingPolicy(ScalingPolicy),
    DeletePolicy(PolicyRef),
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

impl Op {
    /// The AWS operation name, as the API reference spells it.
    pub fn operation(&self) -> &'static str {
        match self {
            Op::CreateTopic(_) => "CreateTopic",
            Op::SetTopicDisplayName { .. } => "SetTopicAttributes",
            Op::DeleteTopic(_) => "DeleteTopic",
            Op::Subscribe { .. } => "Subscribe",
            Op::Unsubscribe(_) => "Unsubscribe",
            Op::PutAlarm { .. } => "PutMetricAlarm",
            Op::PutCompositeAlarm { .. } => "PutCompositeAlarm",
            Op::DeleteAlarms(_) => "DeleteAlarms",
            Op::PutScalingPolicy(_) => "PutScalingPolicy",
            Op::DeletePolicy(_) => "DeletePolicy",
            Op::PutDashboard { .. } => "PutDashboard",
            Op::DeleteDashboards(_) => "DeleteDashboards",
            Op::TagResource { .. } => "TagResource",
            Op::UntagResource { .. } => "UntagResource",
        }
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
    /// Composite alarms that reference other composites sit deeper: created after and
    /// deleted before them. 0 for everything else.
    pub depth: u32,
    pub ops: Vec<Op>,
}

impl Change {
    /// Apply order. Deletions first, dependents before what they depend on (composite
    /// alarms, alarms, policies, subscriptions, topics, dashboards); then creations and
    /// updates the other way round (topics, subscriptions, policies, alarms, composite
    /// alarms, dashboards).
    pub fn phase(&self) -> u8 {
        use crate::model::ResourceKind::{
            Alarm, CompositeAlarm, Dashboard, ScalingPolicy, Subscription, Topic,
        };
        let delete = self.action == ChangeAction::Delete;
        match (delete, self.resource.kind()) {
            (true, CompositeAlarm) => 0,
            (true, Alarm) => 1,
            (true, ScalingPolicy) => 2,
            (true, Subscription) => 3,
            (true, Topic) => 4,
            (true, Dashboard) => 5,
            (false, Topic) => 6,
            (false, Subscription) => 7,
            (false, ScalingPolicy) => 8,
            (false, Alarm) => 9,
            (false, CompositeAlarm) => 10,
            (false, Dashboard) => 11,
        }
    }

    /// The full sort key: phase, then depth (deepest first when deleting).
    pub fn order(&self) -> (u8, u32) {
        let depth = if self.action == ChangeAction::Delete {
            u32::MAX - self.depth
        } else {
            self.depth
        };
        (self.phase(), depth)
    }
}

/// Something the user should know that is not a change, e.g. a pending subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub stack: StackName,
    /// What it is about, e.g. `subscription "t" email:x` or `queue "jobs"`.
    pub subject: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub notices: Vec<Notice>,
    /// Plan errors (e.g. a name that exists outside monplan). A plan with errors is
    /// never applied.
    pub errors: Diagnostics,
}

/// The closing line's numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
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
            }
        }
        summary
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}
