//! Worker fleets (`workers:`) and what happens to their stuck workers: the facts the plan
//! explains and checks. The alarm a fleet asks for is an ordinary [`crate::model::Alarm`]
//! (a Metrics Insights multi-time-series alarm) among the stack's alarms.

use crate::diag::Span;
use crate::model::{AlarmName, Declared, ServiceRef};

/// What runs the workers.
#[derive(Clone, Debug, PartialEq)]
pub enum Fleet {
    /// An EC2 Auto Scaling group, by name.
    Group(Declared<String>),
    /// An ECS service, located at `service:`'s value.
    Service(Declared<ServiceRef>),
}

/// `on_stuck:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStuck {
    Replace,
    Reboot,
    Notify,
}

impl OnStuck {
    pub const ALL: [OnStuck; 3] = [OnStuck::Replace, OnStuck::Reboot, OnStuck::Notify];

    pub fn keyword(self) -> &'static str {
        match self {
            OnStuck::Replace => "replace",
            OnStuck::Reboot => "reboot",
            OnStuck::Notify => "notify",
        }
    }

    pub fn from_keyword(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.keyword() == text)
    }
}

/// How the heartbeat tells a stuck worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stuck {
    /// The heartbeat counts progress lines: fewer than one in every minute of
    /// `stuck_after` (missing minutes breaching) while the worker's series exists.
    Silent,
    /// The heartbeat publishes seconds since the worker's last progress: above
    /// `stuck_after` in a minute.
    Age,
}

/// One fleet of `workers:`.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerFleet {
    pub fleet: Fleet,
    /// The queue's AWS name, if the fleet names one.
    pub queue: Option<String>,
    /// The fleet's `{stack}-{key}-stuck` alarm.
    pub alarm: AlarmName,
    pub on_stuck: OnStuck,
    /// Where `on_stuck:` is written (the fleet's key when it is left to its default).
    pub on_stuck_at: Span,
    pub stuck: Stuck,
    /// Seconds, where written.
    pub stuck_after: Declared<u64>,
    /// The heartbeat's per-worker dimension (`InstanceId`, `Worker`).
    pub dimension: String,
    /// The fleet-wide job-events `no_progress` alarm of the stack, if there is one.
    pub no_progress: Option<AlarmName>,
}

/// What the read learned of the task definition an ECS service runs: whether ECS can
/// tell a stuck task. A task is UNHEALTHY when an essential container's health check
/// fails, and the service scheduler then replaces it (ECS API reference, `HealthCheck`);
/// health checks of non-essential containers do not make the task unhealthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveTaskDefinition {
    /// `family:revision`, as the service names it.
    pub name: String,
    /// The essential containers that declare a `healthCheck`.
    pub health_checked: Vec<String>,
}
