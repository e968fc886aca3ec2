//! The plan: a pure, deterministic diff of desired against live state.
//!
//! [`diff::plan`] takes everything as arguments (no I/O, no clock, `BTreeMap`s only) and
//! returns a [`Plan`]: ordered [`Change`]s, each with the exact AWS operations that carry
//! it out, so that apply has no decision left to make. Rendering is a separate adapter
//! ([`render`]).

mod diff;
pub mod render;

pub use diff::{plan, StackInput};

use crate::diag::Diagnostics;
use crate::model::{Alarm, AlarmName, Arn, Endpoint, Protocol, ResourceId, StackName, Tags, Topic};

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
    DeleteAlarms(Vec<AlarmName>),
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
            Op::DeleteAlarms(_) => "DeleteAlarms",
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
    pub ops: Vec<Op>,
}

impl Change {
    /// Apply order: topics, then subscriptions, then alarms; deletions the other way round.
    pub fn phase(&self) -> u8 {
        use crate::model::ResourceKind::{Alarm, Subscription, Topic};
        match (self.action, self.resource.kind()) {
            (ChangeAction::Delete, Alarm) => 0,
            (ChangeAction::Delete, Subscription) => 1,
            (ChangeAction::Delete, Topic) => 2,
            (_, Topic) => 3,
            (_, Subscription) => 4,
            (_, Alarm) => 5,
        }
    }
}

/// Something the user should know that is not a change, e.g. a pending subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub stack: StackName,
    pub resource: ResourceId,
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
