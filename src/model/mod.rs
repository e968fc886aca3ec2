//! The canonical model: desired state (from validated specs) and live state (read from
//! AWS) in the same types, so that the planner compares like with like.
//!
//! No serde-from-YAML and no SDK types here; `validate` builds these from specs and
//! `aws` builds them from API responses, normalizing AWS's defaults on the way in.

mod alarm;
mod names;
mod topic;

pub use alarm::{Action, Alarm, AlarmActions, Comparison, Metric, TreatMissingData};
pub use names::{AlarmName, Arn, StackName, TopicName};
pub use topic::{Endpoint, Protocol, Subscription, SubscriptionId, Topic};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::diag::Span;

/// The tag that proves ownership of taggable resources (see the contract's ownership table).
pub const OWNER_TAG: &str = "monplan:stack";

pub type Tags = BTreeMap<String, String>;

/// What kind of AWS resource a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    Topic,
    Subscription,
    Alarm,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Topic => "topic",
            ResourceKind::Subscription => "subscription",
            ResourceKind::Alarm => "alarm",
        })
    }
}

/// The identity of one resource, typed by kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceId {
    Topic(TopicName),
    Subscription(SubscriptionId),
    Alarm(AlarmName),
}

impl ResourceId {
    pub fn kind(&self) -> ResourceKind {
        match self {
            ResourceId::Topic(_) => ResourceKind::Topic,
            ResourceId::Subscription(_) => ResourceKind::Subscription,
            ResourceId::Alarm(_) => ResourceKind::Alarm,
        }
    }
}

impl fmt::Display for ResourceId {
    /// `topic "t"`, `alarm "a"`, `subscription "t" email:x@y`: secrets stay redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceId::Topic(name) => write!(f, "topic \"{name}\""),
            ResourceId::Alarm(name) => write!(f, "alarm \"{name}\""),
            ResourceId::Subscription(id) => write!(
                f,
                "subscription \"{}\" {}:{}",
                id.topic, id.protocol, id.endpoint
            ),
        }
    }
}

/// The AWS partition, region and account a stack is planned in: what turns a topic key
/// into a topic ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Scope {
    pub fn topic_arn(&self, topic: &TopicName) -> Arn {
        Arn::new(format!(
            "arn:{}:sns:{}:{}:{}",
            self.partition, self.region, self.account, topic
        ))
    }

    pub fn alarm_arn(&self, alarm: &AlarmName) -> Arn {
        Arn::new(format!(
            "arn:{}:cloudwatch:{}:{}:alarm:{}",
            self.partition, self.region, self.account, alarm
        ))
    }
}

/// A desired resource and the YAML it was declared by, so that plan errors can point there.
#[derive(Clone, Debug, PartialEq)]
pub struct Declared<T> {
    pub value: T,
    /// The resource's key in the stack, e.g. `oncall` or `job-failures`.
    pub key: String,
    pub origin: Span,
}

/// One stack's desired state.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredStack {
    pub name: StackName,
    pub origin: Span,
    /// `None`: whatever the AWS configuration (flags, env, profile) says.
    pub region: Option<String>,
    pub account: Option<Declared<String>>,
    pub topics: BTreeMap<TopicName, Declared<Topic>>,
    pub subscriptions: BTreeMap<SubscriptionId, Declared<Subscription>>,
    pub alarms: BTreeMap<AlarmName, Declared<Alarm>>,
}

/// Who a live resource belongs to, as far as monplan can prove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Tagged `monplan:stack = name`.
    Stack(StackName),
    /// Exists, but carries no ownership tag of ours.
    Foreign,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LiveTopic {
    pub arn: Arn,
    pub owner: Owner,
    /// Attributes and tags; only read for topics we own.
    pub topic: Option<Topic>,
    /// Only read for topics we own.
    pub subscriptions: Vec<LiveSubscription>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSubscription {
    pub protocol: Protocol,
    pub endpoint: String,
    /// `None` while the subscription waits for confirmation (AWS shows no ARN then).
    pub arn: Option<Arn>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LiveAlarm {
    pub arn: Arn,
    pub owner: Owner,
    pub body: LiveAlarmBody,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LiveAlarmBody {
    /// A single-metric alarm, normalized into the same type as a desired one.
    Metric(Alarm),
    /// Another kind (metric math, anomaly band, composite) that this version only
    /// replaces or deletes; the text says what it is.
    Other(String),
}

/// Everything read from one region: what the stacks declare or own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveState {
    pub topics: BTreeMap<TopicName, LiveTopic>,
    pub alarms: BTreeMap<AlarmName, LiveAlarm>,
}

/// What the reader needs to know of the desired state: names to look up and the stacks
/// whose owned resources to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadRequest {
    pub stacks: BTreeSet<StackName>,
    pub topics: BTreeSet<TopicName>,
    pub alarms: BTreeSet<AlarmName>,
}
