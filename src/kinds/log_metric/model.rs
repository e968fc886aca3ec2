use std::collections::BTreeMap;
use std::fmt;

/// A metric filter's identity: its log group and its name (`{stack}_{key}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FilterRef {
    pub log_group: String,
    pub name: String,
}

impl fmt::Display for FilterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.name, self.log_group)
    }
}

/// A `CloudWatch` Logs metric filter with its one metric transformation, as AWS keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricFilter {
    pub filter: FilterRef,
    /// The filter pattern, exactly as sent (`""` matches every event).
    pub pattern: String,
    pub namespace: String,
    pub metric: String,
    /// What each matching event publishes: a selector (`$.duration`, `$size`) or a
    /// number written as text (`1`), as the API takes it.
    pub value: String,
    /// Published for a period in which events arrived but none matched.
    pub default_value: Option<f64>,
    pub unit: Option<String>,
    /// Dimension name -> selector (`Worker: $.worker_id`); sorted, at most 3.
    pub dimensions: BTreeMap<String, String>,
}

/// An existing log group a stack reads: monplan never creates, changes or deletes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroupUse {
    pub name: String,
}
