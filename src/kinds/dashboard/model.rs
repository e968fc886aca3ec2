use crate::model::{AlarmName, Metric};

/// A dashboard as declared; its JSON body is rendered by `crate::resolve`, which knows the
/// region, the account and the queues' dead-letter queues.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    pub name: String,
    pub widgets: Vec<Widget>,
    /// A body given as JSON (`body:`), sent as written; then `widgets` is empty.
    pub body: Option<serde_json::Value>,
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
    /// The results of a Logs Insights query: a saved query's text and groups, copied at
    /// validation, or a query written in the widget.
    Logs {
        title: String,
        width: u8,
        view: LogView,
        /// Log group names, in the order the query reads them.
        log_groups: Vec<String>,
        query: String,
    },
}

/// How a `logs` widget shows its query's results: the `view` values AWS documents for a
/// `log` widget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogView {
    Table,
    TimeSeries,
    Bar,
    Pie,
}

impl LogView {
    pub const ALL: [LogView; 4] = [
        LogView::Table,
        LogView::TimeSeries,
        LogView::Bar,
        LogView::Pie,
    ];

    /// As written in the YAML and in the dashboard body.
    pub fn keyword(self) -> &'static str {
        match self {
            LogView::Table => "table",
            LogView::TimeSeries => "timeSeries",
            LogView::Bar => "bar",
            LogView::Pie => "pie",
        }
    }
}

/// Where a queue's dead-letter queue comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dlq {
    None,
    Named(String),
    /// From the queue's redrive policy, read at plan time.
    FromRedrive,
}
