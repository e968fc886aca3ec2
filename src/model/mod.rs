//! The canonical model: desired state (from validated specs) and live state (read from
//! AWS) in the same types, so that the planner compares like with like.
//!
//! No serde-from-YAML and no SDK types here; `validate` builds these from specs and
//! `aws` builds them from API responses, normalizing AWS's defaults on the way in.

pub mod duration;
mod names;
pub mod workers;

// Each kind's canonical model lives with the kind (`crate::kinds`); re-exported here so
// that every layer names model types one way.
pub use crate::kinds::alarm::model::{
    Action, Alarm, AlarmActions, AlarmMetric, BandSide, Comparison, CompositeAlarm, Condition,
    Ec2Action, Metric, TreatMissingData,
};
pub use crate::kinds::dashboard::model::{Dashboard, Dlq, LogView, Widget};
pub use crate::kinds::ecs_scaling::model::{
    LiveCluster, LiveScalableTarget, LiveServicePolicy, ScalableTarget, ServicePolicy,
    ServicePolicyKind, ServicePolicyRef, ServiceRef, TargetOwner, FROM_ZERO_COOLDOWN,
};
pub use crate::kinds::log_metric::model::{FilterRef, LogGroupUse, MetricFilter};
pub use crate::kinds::policy::model::{PolicyKind, PolicyRef, ScalingPolicy};
pub use crate::kinds::query::model::{LiveQuery, QueryDefinition};
pub use crate::kinds::topic::model::{Endpoint, Protocol, Subscription, SubscriptionId, Topic};
pub use names::{AlarmName, Arn, StackName, TopicName};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::diag::Span;

/// The tag that proves ownership of taggable resources (see the contract's ownership table).
pub const OWNER_TAG: &str = "monplan:stack";

pub type Tags = BTreeMap<String, String>;

/// What kind of AWS resource a change is about. The declaration order is the order
/// plans show kinds in; it agrees with what kinds refer to (a kind only refers to kinds
/// declared before it), which `plan::order`'s tests check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    Topic,
    Subscription,
    ScalingPolicy,
    /// An ECS service's scalable target (Application Auto Scaling).
    ScalableTarget,
    /// A scaling policy on an ECS service; refers to its scalable target.
    ServicePolicy,
    MetricFilter,
    Query,
    Alarm,
    CompositeAlarm,
    Dashboard,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 10] = [
        ResourceKind::Topic,
        ResourceKind::Subscription,
        ResourceKind::ScalingPolicy,
        ResourceKind::ScalableTarget,
        ResourceKind::ServicePolicy,
        ResourceKind::MetricFilter,
        ResourceKind::Query,
        ResourceKind::Alarm,
        ResourceKind::CompositeAlarm,
        ResourceKind::Dashboard,
    ];
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Topic => "topic",
            ResourceKind::Subscription => "subscription",
            ResourceKind::Alarm => "alarm",
            ResourceKind::CompositeAlarm => "composite alarm",
            ResourceKind::ScalingPolicy => "scaling policy",
            ResourceKind::ScalableTarget => "scalable target",
            ResourceKind::ServicePolicy => "service scaling policy",
            ResourceKind::MetricFilter => "metric filter",
            ResourceKind::Query => "query",
            ResourceKind::Dashboard => "dashboard",
        })
    }
}

/// The identity of one resource, typed by kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceId {
    Topic(TopicName),
    Subscription(SubscriptionId),
    ScalingPolicy(PolicyRef),
    ScalableTarget(ServiceRef),
    ServicePolicy(ServicePolicyRef),
    MetricFilter(FilterRef),
    /// A saved query, by its name `{stack}/{key}`.
    Query(String),
    Alarm(AlarmName),
    CompositeAlarm(AlarmName),
    Dashboard(String),
}

impl ResourceId {
    pub fn kind(&self) -> ResourceKind {
        match self {
            ResourceId::Topic(_) => ResourceKind::Topic,
            ResourceId::Subscription(_) => ResourceKind::Subscription,
            ResourceId::Alarm(_) => ResourceKind::Alarm,
            ResourceId::CompositeAlarm(_) => ResourceKind::CompositeAlarm,
            ResourceId::ScalingPolicy(_) => ResourceKind::ScalingPolicy,
            ResourceId::ScalableTarget(_) => ResourceKind::ScalableTarget,
            ResourceId::ServicePolicy(_) => ResourceKind::ServicePolicy,
            ResourceId::MetricFilter(_) => ResourceKind::MetricFilter,
            ResourceId::Query(_) => ResourceKind::Query,
            ResourceId::Dashboard(_) => ResourceKind::Dashboard,
        }
    }
}

impl fmt::Display for ResourceId {
    /// `topic "t"`, `alarm "a"`, `subscription "t" email:x@y`: secrets stay redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceId::Topic(name) => write!(f, "topic \"{name}\""),
            ResourceId::Alarm(name) => write!(f, "alarm \"{name}\""),
            ResourceId::CompositeAlarm(name) => write!(f, "composite alarm \"{name}\""),
            ResourceId::ScalingPolicy(policy) => write!(f, "scaling policy \"{policy}\""),
            ResourceId::ScalableTarget(service) => {
                write!(f, "scalable target \"{}\"", service.resource_id())
            }
            ResourceId::ServicePolicy(policy) => {
                write!(f, "service scaling policy \"{policy}\"")
            }
            ResourceId::MetricFilter(filter) => write!(
                f,
                "metric filter \"{}\" on {}",
                filter.name, filter.log_group
            ),
            ResourceId::Dashboard(name) => write!(f, "dashboard \"{name}\""),
            ResourceId::Query(name) => write!(f, "query \"{name}\""),
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
    pub composites: BTreeMap<AlarmName, Declared<CompositeAlarm>>,
    /// Existing queues the stack watches, by key.
    pub queues: BTreeMap<String, Declared<QueueUse>>,
    /// Alarms whose `QueueName` dimension is the DLQ of this queue (by name), taken from
    /// its redrive policy at plan time.
    pub redrive_alarms: BTreeMap<AlarmName, String>,
    pub policies: BTreeMap<PolicyRef, Declared<ScalingPolicy>>,
    /// Scalable targets of the ECS services the stack scales, located at `service:`.
    pub scalable_targets: BTreeMap<ServiceRef, Declared<ScalableTarget>>,
    pub service_policies: BTreeMap<ServicePolicyRef, Declared<ServicePolicy>>,
    /// Existing log groups the stack reads, by key.
    pub log_groups: BTreeMap<String, Declared<LogGroupUse>>,
    pub log_metrics: BTreeMap<FilterRef, Declared<MetricFilter>>,
    /// Saved queries by name (`{stack}/{key}`).
    pub queries: BTreeMap<String, Declared<QueryDefinition>>,
    pub dashboards: BTreeMap<String, Declared<Dashboard>>,
    /// What each matching `samples` line of a log metric publishes, as monplan's matcher
    /// reads it (for `monplan validate` to show).
    pub samples: Vec<SampleRun>,
    /// Alarms with `expect_metric: later`: their metric need not exist yet.
    pub expect_later: BTreeSet<AlarmName>,
    /// `ignore_warnings`: where an alarm or topic is declared -> the review warnings not
    /// to report there.
    pub ignored: Vec<(Span, BTreeSet<&'static str>)>,
    /// Topics and alarms declared with `adopt: true`: when one exists without an
    /// ownership tag, the plan takes it over by tagging it instead of refusing.
    pub adopt: BTreeSet<ResourceId>,
    /// Worker fleets by key (their alarms are among `alarms`).
    pub workers: BTreeMap<String, Declared<workers::WorkerFleet>>,
}

/// One sample line of a log metric, as monplan's matcher reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleRun {
    pub log_metric: String,
    /// The filter's pattern, for `validate --remote` to send with the line.
    pub pattern: String,
    pub line: String,
    /// Listed under `match` (else `no_match`).
    pub expected: bool,
    /// Where the line is written.
    pub origin: Span,
    /// What it publishes when it matches: `1200 (Worker=w-1)`.
    pub publishes: Option<String>,
}

impl DesiredStack {
    /// A stack that declares nothing: planning it deletes everything it owns.
    pub fn empty(
        name: StackName,
        origin: Span,
        region: Option<String>,
        account: Option<Declared<String>>,
    ) -> Self {
        Self {
            name,
            origin,
            region,
            account,
            topics: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            alarms: BTreeMap::new(),
            composites: BTreeMap::new(),
            queues: BTreeMap::new(),
            redrive_alarms: BTreeMap::new(),
            policies: BTreeMap::new(),
            scalable_targets: BTreeMap::new(),
            service_policies: BTreeMap::new(),
            log_groups: BTreeMap::new(),
            log_metrics: BTreeMap::new(),
            queries: BTreeMap::new(),
            dashboards: BTreeMap::new(),
            samples: Vec::new(),
            expect_later: BTreeSet::new(),
            ignored: Vec::new(),
            adopt: BTreeSet::new(),
            workers: BTreeMap::new(),
        }
    }
}

/// A queue a stack watches: monplan never creates, changes or deletes it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueUse {
    pub name: String,
    /// Given in the YAML; otherwise taken from the redrive policy when needed.
    pub dead_letter_queue: Option<Declared<String>>,
    /// Whether something needs the DLQ from the redrive policy (a recipe or a dashboard row).
    pub needs_redrive: bool,
    /// Auto Scaling groups scaled on this queue, with where they were named.
    pub groups: Vec<Declared<String>>,
    /// How long one job takes (`scaling.processing_time`, seconds), where written: the
    /// plan compares the queue's visibility timeout with it.
    pub processing_time: Option<Declared<f64>>,
    /// ECS services scaled on this queue, with where they were named.
    pub services: Vec<Declared<ServiceRef>>,
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
    /// Attributes and tags; only read for topics we own or adopt.
    pub topic: Option<Topic>,
    /// Only read for topics we own or adopt.
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
    /// A metric alarm, normalized into the same type as a desired one.
    Metric(Alarm),
    Composite(CompositeAlarm),
    /// Something monplan cannot express (e.g. metric math it cannot parse back); it is
    /// only ever replaced or deleted. The text says what it is.
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveQueue {
    pub url: String,
    /// From the redrive policy; only read when something needs it.
    pub dead_letter_queue: Option<String>,
}

/// What SQS does with a job whose worker died holding it: the message reappears once its
/// visibility timeout ends, and after `maxReceiveCount` receives moves to the DLQ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueDelivery {
    /// `VisibilityTimeout`, seconds.
    pub visibility_timeout: u32,
    /// `None`: no redrive policy (a failing job is received again and again).
    pub redrive: Option<Redrive>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redrive {
    pub dead_letter_queue: String,
    /// `None` when the policy does not say (or says something that is not a count).
    pub max_receive_count: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LivePolicy {
    pub arn: Option<Arn>,
    /// `None` when the policy is not of a shape monplan manages.
    pub body: Option<ScalingPolicy>,
}

/// Everything read from one region: what the stacks declare or own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveState {
    pub topics: BTreeMap<TopicName, LiveTopic>,
    pub alarms: BTreeMap<AlarmName, LiveAlarm>,
    /// The queues asked for that exist.
    pub queues: BTreeMap<String, LiveQueue>,
    /// Visibility timeout and redrive policy of those queues, by name.
    pub queue_delivery: BTreeMap<String, QueueDelivery>,
    /// The Auto Scaling groups asked for that exist.
    pub groups: BTreeSet<String>,
    /// Scaling policies named with a loaded stack's prefix `{stack}_`, on any group.
    pub policies: BTreeMap<PolicyRef, LivePolicy>,
    /// The ECS clusters asked for that exist.
    pub clusters: BTreeMap<String, LiveCluster>,
    /// The ECS services asked for that exist (and are not deleted).
    pub services: BTreeSet<ServiceRef>,
    /// The task definitions of the services asked for by `task_definitions`.
    pub task_definitions: BTreeMap<ServiceRef, workers::LiveTaskDefinition>,
    /// Scalable targets of the services asked for, and of services where a loaded
    /// stack's policies are.
    pub scalable_targets: BTreeMap<ServiceRef, LiveScalableTarget>,
    /// Application Auto Scaling policies on ECS services named with a loaded stack's
    /// prefix `{stack}_`.
    pub service_policies: BTreeMap<ServicePolicyRef, LiveServicePolicy>,
    /// Dashboards named with a loaded stack's prefix `{stack}_`, with parsed bodies.
    pub dashboards: BTreeMap<String, serde_json::Value>,
    /// The log groups asked for that exist.
    pub log_groups: BTreeSet<String>,
    /// Metric filters named with a loaded stack's prefix `{stack}_`, on any log group.
    pub metric_filters: BTreeMap<FilterRef, MetricFilter>,
    /// Query definitions named with a loaded stack's prefix `{stack}/`, by name; several
    /// may share a name (sorted by id).
    pub queries: BTreeMap<String, Vec<LiveQuery>>,
    /// The metrics asked for that exist, by (namespace, name), with their dimension sets.
    pub metrics: BTreeMap<(String, String), MetricDimensions>,
    /// Topics of the plan's region and account that alarm actions name by ARN and no
    /// stack declares, with what their access policy says (for the plan's check that
    /// `CloudWatch` may publish to them).
    pub foreign_topics: BTreeMap<Arn, ForeignTopic>,
    /// Kinds whose owned resources were not listed because `--exclude`/`--target` left
    /// them out: what the stacks own of them is unknown (the cost's "now" says so).
    pub unread: BTreeSet<ResourceKind>,
    /// What could not be read but did not stop the plan, for the user to know.
    pub warnings: Vec<String>,
}

/// A topic monplan did not create, as far as its access policy goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForeignTopic {
    /// The topic's `Policy` attribute, as `GetTopicAttributes` returns it.
    Policy(String),
    /// `GetTopicAttributes` says there is no such topic.
    Missing,
    /// The read failed (operation, code, message): the check could not be made.
    Unread(String),
}

/// What the reader needs to know of the desired state: names to look up and the stacks
/// whose owned resources to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadRequest {
    pub stacks: BTreeSet<StackName>,
    pub topics: BTreeSet<TopicName>,
    /// Declared topics with `adopt: true`: read in full even when untagged, for the plan
    /// to compare.
    pub adopt_topics: BTreeSet<TopicName>,
    pub alarms: BTreeSet<AlarmName>,
    pub queues: BTreeSet<String>,
    /// Queues whose redrive policy is needed.
    pub redrive: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// ECS services the stacks scale.
    pub services: BTreeSet<ServiceRef>,
    /// ECS services `workers:` fleets run on: their existence is checked, they are not
    /// scaled.
    pub fleet_services: BTreeSet<ServiceRef>,
    /// Services whose task definition is read (fleets with `on_stuck: replace`).
    pub task_definitions: BTreeSet<ServiceRef>,
    pub log_groups: BTreeSet<String>,
    /// Whether a stack declares saved queries (listing them may then not fail).
    pub queries: bool,
    /// Kinds left out of this run (`--exclude`): not read at all.
    pub skip: BTreeSet<ResourceKind>,
    /// The metrics the stacks' alarms watch, by (namespace, metric name), for the
    /// plan's check that they exist.
    pub metrics: BTreeSet<(String, String)>,
    /// SNS topic ARNs that alarm actions name directly (`notify: ['arn:...']`); the
    /// reader keeps those of its region and account that no stack declares.
    pub foreign_topics: BTreeSet<Arn>,
}

/// The dimension sets under which one metric exists (from `ListMetrics`).
pub type MetricDimensions = Vec<BTreeMap<String, String>>;
