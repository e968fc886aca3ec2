use crate::model::{AlarmName, Metric};

/// A dashboard as declared; its JSON body is rendered by `crate::resolve`, which knows the
/// region, the account and the queues' dead-letter queues.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    pub name: String,
    pub widgets: Vec<Widget>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Widget {
    /// The standard queue row: visible, in flight, oldest age, sent vs deleted, and the
    /// dead-letter queue if there is one.
    Queue {
        queue: String,
        dlq: Dlq,
    },
    /// Alarm status of these alarms.
    Alarms {
        alarms: Vec<AlarmName>,
    },
    Metric {
        title: Option<String>,
        width: u8,
        metrics: Vec<Metric>,
    },
    Text {
        markdown: String,
    },
}

/// Where a queue's dead-letter queue comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dlq {
    None,
    Named(String),
    /// From the queue's redrive policy, read at plan time.
    FromRedrive,
}
