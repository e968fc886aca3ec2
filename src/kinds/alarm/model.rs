use std::collections::BTreeMap;
use std::fmt;

use crate::model::{Arn, Tags, TopicName};

/// A metric alarm (single metric, metric math or anomaly band), fully defaulted: every
/// field AWS would fill in is explicit here, so that desired and live compare equal when
/// nothing changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub name: crate::model::AlarmName,
    pub description: Option<String>,
    pub metric: AlarmMetric,
    pub condition: Condition,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub treat_missing_data: TreatMissingData,
    pub actions_enabled: bool,
    pub actions: AlarmActions,
    pub tags: Tags,
}

impl Alarm {
    /// The period the alarm evaluates: its metric's, or for metric math the longest of
    /// its metrics' (`CloudWatch` evaluates the expression at that granularity).
    pub fn period(&self) -> u32 {
        match &self.metric {
            AlarmMetric::Single(metric) => metric.period,
            AlarmMetric::Math { metrics, .. } => {
                metrics.values().map(|m| m.period).max().unwrap_or(60)
            }
            AlarmMetric::Insights { period, .. } => *period,
        }
    }
}

/// What an alarm watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlarmMetric {
    Single(Metric),
    /// `expression` over named metrics (ids are the YAML's keys).
    Math {
        expression: String,
        metrics: BTreeMap<String, Metric>,
    },
    /// A Metrics Insights query (`SELECT ... GROUP BY ... ORDER BY ...`) evaluated at
    /// `period` seconds. With `GROUP BY` it is a multi-time-series alarm: each returned
    /// series is a contributor with its own state, and EC2 actions run per contributor
    /// (`CloudWatch` user guide, *Alarm actions and notifications*).
    Insights {
        query: String,
        period: u32,
    },
}

impl AlarmMetric {
    /// The id monplan gives the expression itself among a metric-math alarm's metric
    /// queries (the writer sends it with `ReturnData`). It is reserved: a metric of the
    /// alarm may not use it as its id, or the queries would have two entries with one id.
    pub const EXPRESSION_ID: &'static str = "expression";

    /// The metrics it names one by one (none for a Metrics Insights query, which
    /// selects them by schema).
    pub fn metrics(&self) -> Vec<&Metric> {
        match self {
            AlarmMetric::Single(metric) => vec![metric],
            AlarmMetric::Math { metrics, .. } => metrics.values().collect(),
            AlarmMetric::Insights { .. } => Vec::new(),
        }
    }
}

/// When an alarm fires.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Condition {
    Threshold {
        comparison: Comparison,
        value: f64,
    },
    /// Outside (or above, or below) an anomaly-detection band this many standard
    /// deviations wide.
    Band {
        side: BandSide,
        deviations: f64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BandSide {
    Outside,
    Above,
    Below,
}

impl BandSide {
    pub const ALL: [BandSide; 3] = [BandSide::Outside, BandSide::Above, BandSide::Below];

    pub fn keyword(self) -> &'static str {
        match self {
            BandSide::Outside => "outside_band",
            BandSide::Above => "above_band",
            BandSide::Below => "below_band",
        }
    }

    pub fn aws_operator(self) -> &'static str {
        match self {
            BandSide::Outside => "LessThanLowerOrGreaterThanUpperThreshold",
            BandSide::Above => "GreaterThanUpperThreshold",
            BandSide::Below => "LessThanLowerThreshold",
        }
    }

    pub fn from_keyword(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.keyword() == text)
    }

    pub fn from_aws(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.aws_operator() == text)
    }
}

/// A composite alarm: a rule over other alarms' states.
#[derive(Clone, Debug, PartialEq)]
pub struct CompositeAlarm {
    pub name: crate::model::AlarmName,
    pub description: Option<String>,
    /// The rule with alarm keys rewritten to quoted AWS names, exactly as sent to AWS.
    pub rule: String,
    pub actions_enabled: bool,
    pub actions: AlarmActions,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub namespace: String,
    pub name: String,
    /// Sorted: AWS does not promise to keep the order we sent.
    pub dimensions: BTreeMap<String, String>,
    /// `Sum`, `Average`, ... or an extended statistic such as `p99`.
    pub stat: String,
    /// Seconds.
    pub period: u32,
    pub unit: Option<String>,
}

impl Metric {
    pub const STANDARD_STATS: [&'static str; 5] =
        ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

    /// An `AWS/SQS` metric of one queue.
    pub fn sqs(name: &str, queue: &str, stat: &str, period: u32) -> Self {
        Self {
            namespace: "AWS/SQS".into(),
            name: name.into(),
            dimensions: BTreeMap::from([("QueueName".to_string(), queue.to_string())]),
            stat: stat.into(),
            period,
            unit: None,
        }
    }

    /// Whether the stat goes into `Statistic` (standard) or `ExtendedStatistic`.
    pub fn is_standard_stat(&self) -> bool {
        Self::STANDARD_STATS.contains(&self.stat.as_str())
    }
}

/// `above`, `at_least`, `below`, `at_most` in the YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Comparison {
    Above,
    AtLeast,
    Below,
    AtMost,
}

impl Comparison {
    pub const ALL: [Comparison; 4] = [
        Comparison::Above,
        Comparison::AtLeast,
        Comparison::Below,
        Comparison::AtMost,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            Comparison::Above => "above",
            Comparison::AtLeast => "at_least",
            Comparison::Below => "below",
            Comparison::AtMost => "at_most",
        }
    }

    pub fn aws_operator(self) -> &'static str {
        match self {
            Comparison::Above => "GreaterThanThreshold",
            Comparison::AtLeast => "GreaterThanOrEqualToThreshold",
            Comparison::Below => "LessThanThreshold",
            Comparison::AtMost => "LessThanOrEqualToThreshold",
        }
    }

    pub fn from_keyword(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.keyword() == text)
    }

    pub fn from_aws(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.aws_operator() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TreatMissingData {
    Breaching,
    NotBreaching,
    Ignore,
    Missing,
}

impl TreatMissingData {
    pub const ALL: [TreatMissingData; 4] = [
        TreatMissingData::Breaching,
        TreatMissingData::NotBreaching,
        TreatMissingData::Ignore,
        TreatMissingData::Missing,
    ];

    /// The YAML spelling.
    pub fn keyword(self) -> &'static str {
        match self {
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "not_breaching",
            TreatMissingData::Ignore => "ignore",
            TreatMissingData::Missing => "missing",
        }
    }

    /// The API spelling.
    pub fn aws_value(self) -> &'static str {
        match self {
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Ignore => "ignore",
            TreatMissingData::Missing => "missing",
        }
    }

    pub fn from_keyword(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.keyword() == text)
    }

    pub fn from_aws(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.aws_value() == text)
    }
}

/// Where an alarm notifies: a topic of the same stack (resolved to its ARN when the
/// account is known) or an ARN written out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Topic(TopicName),
    /// A scaling policy of the same stack; its ARN exists only once the policy does.
    /// After resolve, this is a deferred value: the policy is about to be created, and
    /// apply fills the ARN in from that operation's output.
    Policy(crate::model::PolicyRef),
    /// The same for an Application Auto Scaling policy of an ECS service (its
    /// `from_zero` step policy); apply fills the ARN in from its `PutScalingPolicy`.
    ServicePolicy(crate::model::ServicePolicyRef),
    /// An EC2 instance action (`notify: [ec2:reboot]`); resolve turns it into the ARN of
    /// the stack's partition and region, the only form AWS reports back.
    Ec2(Ec2Action),
    Arn(Arn),
}

/// What `CloudWatch` itself can do to the instance an alarm's metric names
/// (`PutMetricAlarm` `AlarmActions`: `arn:aws:automate:REGION:ec2:stop|terminate|reboot|recover`).
/// The ARNs name no account: the instance is the one in the metric's `InstanceId`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ec2Action {
    Reboot,
    Recover,
    Stop,
    Terminate,
}

impl Ec2Action {
    pub const ALL: [Ec2Action; 4] = [
        Ec2Action::Reboot,
        Ec2Action::Recover,
        Ec2Action::Stop,
        Ec2Action::Terminate,
    ];

    /// The YAML spelling, after `ec2:`, and the ARN's last part.
    pub fn keyword(self) -> &'static str {
        match self {
            Ec2Action::Reboot => "reboot",
            Ec2Action::Recover => "recover",
            Ec2Action::Stop => "stop",
            Ec2Action::Terminate => "terminate",
        }
    }

    pub fn from_keyword(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.keyword() == text)
    }

    /// `arn:{partition}:automate:{region}:ec2:{action}`, as CDK builds it too
    /// (`aws-cloudwatch-actions/lib/ec2.js`): China and `GovCloud` have their own partitions.
    pub fn arn(self, partition: &str, region: &str) -> Arn {
        Arn::new(format!(
            "arn:{partition}:automate:{region}:ec2:{}",
            self.keyword()
        ))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Topic(name) => write!(f, "topic {name}"),
            // Shown where a plan would show the ARN, the way Terraform shows values that
            // exist only once an earlier change is made.
            Action::Policy(policy) => write!(f, "(known after apply: scaling policy {policy})"),
            Action::ServicePolicy(policy) => {
                write!(f, "(known after apply: service scaling policy {policy})")
            }
            Action::Ec2(action) => write!(f, "ec2:{}", action.keyword()),
            Action::Arn(arn) => write!(f, "{arn}"),
        }
    }
}

/// The actions per alarm state. Kept sorted and free of duplicates: AWS treats them as
/// sets and may return them in another order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlarmActions {
    pub alarm: Vec<Action>,
    pub ok: Vec<Action>,
    pub insufficient_data: Vec<Action>,
}

impl AlarmActions {
    pub fn normalize(&mut self) {
        for list in [&mut self.alarm, &mut self.ok, &mut self.insufficient_data] {
            list.sort();
            list.dedup();
        }
    }
}

impl CompositeAlarm {
    /// The alarm names the rule refers to (`ALARM("a")`, `OK(b)`, ...).
    pub fn children(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = self.rule.as_str();
        while let Some(open) = rest.find('(') {
            let before = rest[..open].trim_end();
            let after = &rest[open + 1..];
            let is_state = ["ALARM", "OK", "INSUFFICIENT_DATA"]
                .iter()
                .any(|f| before.ends_with(f));
            match after.find(')') {
                Some(close) if is_state => {
                    names.push(after[..close].trim().trim_matches('"').to_string());
                    rest = &after[close + 1..];
                }
                _ => rest = after,
            }
        }
        names
    }
}
