use std::fmt;

use crate::model::{Arn, Owner};

/// An ECS service, as Application Auto Scaling names it: `service/{cluster}/{service}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceRef {
    pub cluster: String,
    pub service: String,
}

impl ServiceRef {
    /// Application Auto Scaling's `ResourceId` of the service.
    pub fn resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster, self.service)
    }

    /// The inverse of [`ServiceRef::resource_id`]; `None` for another resource type.
    pub fn from_resource_id(id: &str) -> Option<Self> {
        let rest = id.strip_prefix("service/")?;
        let (cluster, service) = rest.split_once('/')?;
        (!cluster.is_empty() && !service.is_empty() && !service.contains('/')).then(|| Self {
            cluster: cluster.to_string(),
            service: service.to_string(),
        })
    }
}

impl fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cluster, self.service)
    }
}

/// The scalable target of a service's desired task count (`ecs:service:DesiredCount`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalableTarget {
    pub service: ServiceRef,
    /// Tasks.
    pub min: u32,
    pub max: u32,
    /// Sent on registration only and never compared: they are what proves ownership,
    /// and where they cannot be read back ownership is unknown (see [`TargetOwner`]).
    /// Live targets carry the tags read, if any.
    pub tags: crate::model::Tags,
}

/// Who registered a live scalable target, as far as monplan can prove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetOwner {
    /// Its tags say (`monplan:stack`, or no such tag: foreign).
    Known(Owner),
    /// Its tags could not be read (the operation and error): treated as not ours.
    Unknown(String),
}

/// A scalable target as read from AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveScalableTarget {
    pub target: ScalableTarget,
    pub arn: Option<Arn>,
    pub owner: TargetOwner,
    /// The names of every scaling policy on it, whoever put them: deregistering the
    /// target deletes them all.
    pub policies: Vec<String>,
}

/// An Application Auto Scaling policy's identity: its service and name (`{stack}_...`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServicePolicyRef {
    pub service: ServiceRef,
    pub name: String,
}

impl fmt::Display for ServicePolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.service, self.name)
    }
}

/// A scaling policy on an ECS service that monplan manages.
#[derive(Clone, Debug, PartialEq)]
pub struct ServicePolicy {
    pub policy: ServicePolicyRef,
    pub kind: ServicePolicyKind,
    /// How the target was computed, shown in plans; never compared (AWS does not keep it).
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ServicePolicyKind {
    /// Target tracking on `visible / tasks`: SQS messages visible per running task
    /// (Container Insights' `RunningTaskCount`).
    Backlog {
        queue: String,
        target: f64,
        /// `ScaleOutCooldown`, seconds, from `warmup:`; `None` leaves AWS's value.
        scale_out_cooldown: Option<u32>,
        scale_in: bool,
    },
    /// Step scaling by +1 task, driven by an alarm that fires while messages wait and
    /// no task runs: target tracking on `visible / tasks` has no value at zero tasks.
    FromZero {
        /// `Cooldown`, seconds: no second task is added before the first had time to
        /// start (`warmup:`, else [`FROM_ZERO_COOLDOWN`]).
        cooldown: u32,
    },
}

/// The from-zero step policy's cooldown without `warmup:`: Application Auto Scaling's
/// own default for a step policy, sent so that it reads back the same everywhere.
pub const FROM_ZERO_COOLDOWN: u32 = 300;

/// A live policy on an ECS service named with a loaded stack's prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveServicePolicy {
    pub arn: Option<Arn>,
    /// `None` when the policy is not of a shape monplan writes.
    pub body: Option<ServicePolicy>,
}

/// What the read learned of an ECS cluster the stacks name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveCluster {
    /// The cluster's `containerInsights` setting (`enabled`, `enhanced`, `disabled`),
    /// `None` when the cluster reports none.
    pub container_insights: Option<String>,
}
