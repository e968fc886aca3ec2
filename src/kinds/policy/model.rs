use std::fmt;

/// A scaling policy's identity: its Auto Scaling group and its name (`{stack}_...`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyRef {
    pub group: String,
    pub name: String,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.group, self.name)
    }
}

/// An EC2 Auto Scaling policy monplan manages.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingPolicy {
    pub policy: PolicyRef,
    pub kind: PolicyKind,
    /// How the target was computed (`latency 10m / processing_time 0.25s = ...`), shown
    /// in plans; never compared, since AWS does not keep it.
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PolicyKind {
    /// Target tracking on `visible / inservice`: SQS messages visible per in-service
    /// instance of the group.
    Backlog {
        queue: String,
        target: f64,
        /// Seconds; `None` leaves AWS's default (the group's default warmup).
        warmup: Option<u32>,
        scale_in: bool,
    },
    /// Step scaling by +1 instance, driven by an alarm that fires while messages wait
    /// and the group is empty: target tracking cannot scale out from zero.
    FromZero,
}
