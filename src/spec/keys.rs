//! Every key of the stack format: where it may stand, what it holds and what it means.
//!
//! The reader accepts exactly the keys of these tables (`Fields::finish` checks each
//! mapping against its table), and `monplan schema` renders the same tables as JSON Schema
//! (`super::schema`), so the editor's view of the format cannot drift from the loader's.
//! A key added here and not read is caught by the all-keys document test in `schema`; a
//! key read and not added here is an "unknown key" error on every stack that uses it.

use crate::model::workers::OnStuck;
use crate::model::{BandSide, Comparison, LogView, Protocol, TreatMissingData};

/// One key of a mapping.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub shape: Shape,
    /// Shown by the editor on hover; the first sentence is the summary.
    pub doc: &'static str,
}

/// What a key's value may be, as the reader reads it.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Any string.
    Text,
    /// A 12-digit account id, as a string or (unquoted) a number.
    Account,
    /// A finite number.
    Number,
    /// A whole number of 1 or more.
    Count,
    /// A whole number of 0 or more.
    Whole,
    Bool,
    /// Seconds as a whole number of 1 or more, or `90s`, `5m`, `1h`, `1d`.
    Duration,
    /// Seconds, fractions allowed: `250ms`, `0.25s`, `10m`, or a number.
    FineDuration,
    /// An alarm threshold: a number (a duration for `DURATION_RECIPES`, a percentage for
    /// `failure_rate`, decided by where the alarm stands).
    Threshold,
    /// A string from a fixed set (checked by validate, offered by the editor).
    OneOf(fn() -> Vec<&'static str>),
    /// One string or a list of strings.
    Strings,
    /// A mapping of strings to strings.
    StringMap,
    /// A mapping of resource keys to values of the shape.
    Keyed(&'static Shape),
    /// A list of values of the shape.
    List(&'static Shape),
    /// A mapping of exactly these keys; `nullable`: an empty value means all defaults.
    Object {
        keys: &'static [Key],
        nullable: bool,
    },
    /// `{protocol: endpoint}`: one pair.
    Subscription,
    /// A dashboard widget: one pair of `WIDGET_KINDS`.
    Widget,
    /// A queue's `alarms:`: `QUEUE_RECIPES` to alarm fields.
    Recipes,
    /// A job-events recipe's `alarms:`: `JOB_ALARMS` to alarm fields.
    JobAlarms,
    /// An alarm's `metric:`: a log metric's key, or a `METRIC_KEYS` mapping.
    Metric,
    /// A metric widget's `metrics:` entry: an alarm key, or a `METRIC_KEYS` mapping.
    MetricEntry,
    /// The `alarms` widget's value: `all` or a list of alarm keys.
    AlarmsWidget,
    /// What a metric filter publishes: a selector such as `$.duration`, or a number.
    FilterValue,
}

const fn key(name: &'static str, shape: Shape, doc: &'static str) -> Key {
    Key { name, shape, doc }
}

const fn object(keys: &'static [Key]) -> Shape {
    Shape::Object {
        keys,
        nullable: false,
    }
}

const fn nullable(keys: &'static [Key]) -> Shape {
    Shape::Object {
        keys,
        nullable: true,
    }
}

fn treat_missing() -> Vec<&'static str> {
    TreatMissingData::ALL
        .map(TreatMissingData::keyword)
        .to_vec()
}

fn on_stuck() -> Vec<&'static str> {
    OnStuck::ALL.map(OnStuck::keyword).to_vec()
}

fn log_views() -> Vec<&'static str> {
    LogView::ALL.map(LogView::keyword).to_vec()
}

fn event_formats() -> Vec<&'static str> {
    vec!["text", "json"]
}

/// Whether a table has a key of this name (no allocation: it runs for every mapping read).
pub fn has(keys: &[Key], name: &str) -> bool {
    keys.iter().any(|k| k.name == name)
}

/// The names of a table, for messages and suggestions.
pub fn names(keys: &[Key]) -> Vec<&'static str> {
    keys.iter().map(|k| k.name).collect()
}

/// The protocols a subscription may name.
pub fn protocols() -> Vec<&'static str> {
    Protocol::ALL.map(Protocol::as_str).to_vec()
}

/// The comparison keywords (`above`, ...) and band keywords (`outside_band`, ...).
pub fn threshold_keywords() -> Vec<&'static str> {
    let mut all = Comparison::ALL.map(Comparison::keyword).to_vec();
    all.extend(BandSide::ALL.map(BandSide::keyword));
    all
}

pub const STACK_KEYS: &[Key] = &[
    key("stack", Shape::Text, "The stack's name: `[a-z0-9]+(-[a-z0-9]+)*`, at most 32 characters. Every resource monplan creates carries it (name prefix and the `monplan:stack` tag)."),
    key("region", Shape::Text, "The AWS region, e.g. `us-east-1`. Without it the AWS configuration (environment, profile) decides."),
    key("account", Shape::Account, "A guard: plan and apply refuse any other AWS account. Quote it: `\"123456789012\"`."),
    key("tags", Shape::StringMap, "Tags added to every resource AWS can tag (topics, alarms)."),
    key("defaults", object(DEFAULTS_KEYS), "Alarm fields every alarm (and recipe alarm) inherits unless it sets them."),
    key("topics", Shape::Keyed(&nullable(TOPIC_KEYS)), "SNS topics this stack owns, by key. AWS name `{stack}-{key}` unless `name:` is given."),
    key("log_groups", Shape::Keyed(&nullable(LOG_GROUP_KEYS)), "Existing CloudWatch Logs groups this stack reads, by key (and the job-events recipe)."),
    key("log_metrics", Shape::Keyed(&object(LOG_METRIC_KEYS)), "Metric filters on those log groups, by key: filter `{stack}_{key}`."),
    key("queries", Shape::Keyed(&object(QUERY_KEYS)), "Saved Logs Insights queries, by key: query definition `{stack}/{key}`."),
    key("workers", Shape::Keyed(&object(WORKER_KEYS)), "Worker fleets (an EC2 Auto Scaling group or an ECS service) and what happens to their stuck workers."),
    key("queues", Shape::Keyed(&nullable(QUEUE_KEYS)), "Existing SQS queues this stack watches and scales on, by key. monplan never creates or deletes queues."),
    key("alarms", Shape::Keyed(&object(ALARM_KEYS)), "CloudWatch alarms, by key: single metric, metric math, anomaly band or composite. AWS name `{stack}-{key}` unless `name:` is given."),
    key("dashboards", Shape::Keyed(&object(DASHBOARD_KEYS)), "CloudWatch dashboards, by key: dashboard `{stack}_{key}`."),
];

pub const WORKER_KEYS: &[Key] = &[
    key(
        "group",
        Shape::Text,
        "The fleet's EC2 Auto Scaling group name (or give `service`).",
    ),
    key(
        "service",
        Shape::Text,
        "The fleet's ECS service as `cluster/service` (or give `group`).",
    ),
    key(
        "queue",
        Shape::Text,
        "A `queues` key: the jobs the fleet works on.",
    ),
    key(
        "heartbeat",
        Shape::Text,
        "A `log_metrics` key with a per-worker dimension: the worker's sign of life.",
    ),
    key(
        "stuck_after",
        Shape::Duration,
        "How long without a heartbeat before a worker counts as stuck, e.g. `15m`.",
    ),
    key(
        "on_stuck",
        Shape::OneOf(on_stuck),
        "What happens to a stuck worker: `replace`, `reboot` or `notify`.",
    ),
    key(
        "notify",
        Shape::Strings,
        "Topic keys or SNS ARNs told about stuck workers.",
    ),
    key(
        "ignore_warnings",
        Shape::Strings,
        "Review warnings (`W02xx`, `W03xx`) not to report anywhere in this fleet.",
    ),
];

pub const LOG_GROUP_KEYS: &[Key] = &[
    key("name", Shape::Text, "The existing log group's name, e.g. `/aws/ec2/transcription`; defaults to the key. A missing group is a plan error."),
    key("job_events", object(JOB_EVENTS_KEYS), "The job-events recipe: metric filters, alarms and saved queries for workers that log JOB_START / JOB_PROGRESS / JOB_COMPLETE / JOB_FAILED lines."),
];

pub const JOB_EVENTS_KEYS: &[Key] = &[
    key("format", Shape::OneOf(event_formats), "How the events are written: `text` (`JOB_COMPLETE job_id=...`, the default) or `json` (`{\"event\": \"JOB_COMPLETE\", ...}`)."),
    key("prefix", Shape::Text, "With `format: json`: a one-word prefix before the JSON, e.g. `TRANSCRIPTION_EVENT`."),
    key("namespace", Shape::Text, "The CloudWatch namespace of the job metrics, e.g. `Transcription`."),
    key("queue", Shape::Text, "A `queues` key: with it, `no_progress` fires only while jobs are in flight."),
    key("alarms", Shape::JobAlarms, "The recipe's alarms: `failures`, `failure_rate` and `no_progress`."),
];

/// The job-events recipe's alarms.
pub const JOB_ALARMS: &[Key] = &[
    key("failures", object(RECIPE_KEYS), "Alarm `{stack}-{group}-failures`: the Sum of JobsFailed above the threshold."),
    key("failure_rate", object(RECIPE_KEYS), "Alarm `{stack}-{group}-failure-rate`: the percent of finished jobs that failed, `above: 10%` (or `10`)."),
    key("no_progress", object(NO_PROGRESS_KEYS), "Alarm `{stack}-{group}-no-progress`, the stuck-worker detector: no progress or completion line `for` one period."),
];

/// `no_progress` takes how long silence lasts (`for`) instead of a threshold.
pub const NO_PROGRESS_KEYS: &[Key] = &[
    key(
        "name",
        Shape::Text,
        "The alarm's AWS name, instead of the generated one.",
    ),
    key(
        "description",
        Shape::Text,
        "The alarm's description (at most 1024 characters).",
    ),
    key(
        "for",
        Shape::Duration,
        "How long without progress before the alarm fires, e.g. `15m` (required).",
    ),
    EVALUATION_PERIODS,
    DATAPOINTS_TO_ALARM,
    TREAT_MISSING_DATA,
    ACTIONS_ENABLED,
    NOTIFY,
    NOTIFY_OK,
    NOTIFY_INSUFFICIENT_DATA,
];

pub const LOG_METRIC_KEYS: &[Key] = &[
    key("log_group", Shape::Text, "A `log_groups` key: the group the filter is put on."),
    key("pattern", Shape::Text, "The CloudWatch Logs filter pattern, e.g. `{ $.event = \"JOB_COMPLETE\" }`; checked offline by validate."),
    key("metric", object(LOG_METRIC_TARGET_KEYS), "The metric the filter publishes: namespace, name, unit."),
    key("value", Shape::FilterValue, "What each matching event publishes: a selector such as `$.duration`, or a number (default 1)."),
    key("default_value", Shape::Number, "What a period without a matching event publishes (not with dimensions)."),
    key("dimensions", Shape::StringMap, "At most 3 dimensions, each a selector, e.g. `{ Worker: $.worker_id }`."),
    key("samples", object(SAMPLES_KEYS), "Log lines validate runs through monplan's own matcher: `match` must match, `no_match` must not."),
];

/// What a metric filter publishes: the metric's identity, not how an alarm reads it.
pub const LOG_METRIC_TARGET_KEYS: &[Key] = &[
    key(
        "namespace",
        Shape::Text,
        "The metric's namespace (not `AWS/...`).",
    ),
    key("name", Shape::Text, "The metric's name."),
    key(
        "unit",
        Shape::Text,
        "The metric's unit, e.g. `Seconds` or `Count`.",
    ),
];

pub const SAMPLES_KEYS: &[Key] = &[
    key(
        "match",
        Shape::List(&Shape::Text),
        "Log lines the pattern must match.",
    ),
    key(
        "no_match",
        Shape::List(&Shape::Text),
        "Log lines the pattern must not match.",
    ),
];

pub const QUERY_KEYS: &[Key] = &[
    key(
        "log_groups",
        Shape::Strings,
        "`log_groups` keys the query runs on.",
    ),
    key(
        "query",
        Shape::Text,
        "The Logs Insights query text; checked offline by validate.",
    ),
];

pub const TOPIC_KEYS: &[Key] = &[
    key("name", Shape::Text, "The topic's AWS name, instead of `{stack}-{key}`."),
    key("display_name", Shape::Text, "The topic's display name (shown in SMS and email senders)."),
    key("subscriptions", Shape::List(&Shape::Subscription), "The topic's subscriptions, reconciled to exactly this set: `- email: oncall@example.com`."),
    key("tags", Shape::StringMap, "Tags of this topic, beside the stack's."),
    key("adopt", Shape::Bool, "Take over an existing topic of this name that monplan does not own (tagging it), instead of refusing."),
    key("ignore_warnings", Shape::Strings, "Review warnings (`W02xx`) not to report for this topic."),
];

const EVALUATION_PERIODS: Key = key(
    "evaluation_periods",
    Shape::Count,
    "How many recent periods the alarm evaluates.",
);
const DATAPOINTS_TO_ALARM: Key = key(
    "datapoints_to_alarm",
    Shape::Count,
    "How many of those periods must breach (at most `evaluation_periods`).",
);
const TREAT_MISSING_DATA: Key = key(
    "treat_missing_data",
    Shape::OneOf(treat_missing),
    "How a period without data counts: `breaching`, `not_breaching`, `ignore` or `missing`.",
);
const ACTIONS_ENABLED: Key = key(
    "actions_enabled",
    Shape::Bool,
    "Whether the alarm's actions run (default true).",
);
const NOTIFY: Key = key(
    "notify",
    Shape::Strings,
    "On ALARM: topic keys, SNS ARNs, scaling policy keys or `ec2:stop|terminate|reboot|recover` (at most 5).",
);
const NOTIFY_OK: Key = key(
    "notify_ok",
    Shape::Strings,
    "On OK: topic keys, SNS ARNs or scaling policy keys.",
);
const NOTIFY_INSUFFICIENT_DATA: Key = key(
    "notify_insufficient_data",
    Shape::Strings,
    "On INSUFFICIENT_DATA: topic keys, SNS ARNs or scaling policy keys.",
);
const PERIOD: Key = key(
    "period",
    Shape::Duration,
    "The length of one evaluation period: 10s, 30s or a multiple of 60s, e.g. `5m`.",
);
const NAME: Key = key(
    "name",
    Shape::Text,
    "The alarm's AWS name, instead of the generated one.",
);
const DESCRIPTION: Key = key(
    "description",
    Shape::Text,
    "The alarm's description (at most 1024 characters).",
);
const EXPECT_METRIC: Key = key(
    "expect_metric",
    Shape::Text,
    "Why the metric may not exist yet (silences the plan's \"no data for this metric\" warning).",
);
const IGNORE_WARNINGS: Key = key(
    "ignore_warnings",
    Shape::Strings,
    "Review warnings (`W02xx`) not to report for this alarm.",
);
const ABOVE: Key = key(
    "above",
    Shape::Threshold,
    "Fires when the statistic is greater than this (one of above, at_least, below, at_most).",
);
const AT_LEAST: Key = key(
    "at_least",
    Shape::Threshold,
    "Fires when the statistic is greater than or equal to this.",
);
const BELOW: Key = key(
    "below",
    Shape::Threshold,
    "Fires when the statistic is less than this.",
);
const AT_MOST: Key = key(
    "at_most",
    Shape::Threshold,
    "Fires when the statistic is less than or equal to this.",
);

pub const ALARM_KEYS: &[Key] = &[
    NAME,
    DESCRIPTION,
    key("metric", Shape::Metric, "The metric: a mapping (namespace, name, dimensions, stat, period, unit) or a `log_metrics` key."),
    key("expression", Shape::Text, "Metric math over `metrics` ids, e.g. `visible / workers`."),
    key("metrics", Shape::Keyed(&Shape::Metric), "The metrics of `expression`, by id (at most 10): mappings, or `log_metrics` keys."),
    key("rule", Shape::Text, "A composite alarm's rule in CloudWatch rule syntax, with alarm keys inside: `ALARM(jobs.oldest_message_age) OR ALARM(job-failures)`."),
    ABOVE,
    AT_LEAST,
    BELOW,
    AT_MOST,
    key("outside_band", Shape::Number, "An anomaly band alarm: fires outside this many standard deviations."),
    key("above_band", Shape::Number, "An anomaly band alarm: fires above the band of this many standard deviations."),
    key("below_band", Shape::Number, "An anomaly band alarm: fires below the band of this many standard deviations."),
    PERIOD,
    EVALUATION_PERIODS,
    DATAPOINTS_TO_ALARM,
    TREAT_MISSING_DATA,
    ACTIONS_ENABLED,
    NOTIFY,
    NOTIFY_OK,
    NOTIFY_INSUFFICIENT_DATA,
    EXPECT_METRIC,
    IGNORE_WARNINGS,
    key("tags", Shape::StringMap, "Tags of this alarm, beside the stack's."),
    key("adopt", Shape::Bool, "Take over an existing alarm of this name that monplan does not own, instead of refusing."),
];

/// A queue recipe is an alarm whose metric the recipe defines.
pub const RECIPE_KEYS: &[Key] = &[
    NAME,
    DESCRIPTION,
    ABOVE,
    AT_LEAST,
    BELOW,
    AT_MOST,
    PERIOD,
    EVALUATION_PERIODS,
    DATAPOINTS_TO_ALARM,
    TREAT_MISSING_DATA,
    ACTIONS_ENABLED,
    NOTIFY,
    NOTIFY_OK,
    NOTIFY_INSUFFICIENT_DATA,
    EXPECT_METRIC,
    IGNORE_WARNINGS,
];

pub const QUEUE_KEYS: &[Key] = &[
    key("name", Shape::Text, "The existing queue's name; defaults to the key."),
    key("dead_letter_queue", Shape::Text, "The queue's existing dead-letter queue (for `dlq_visible_messages`)."),
    key("alarms", Shape::Recipes, "Alarm recipes, each one alarm `{stack}-{queue}-{recipe}`: `oldest_message_age: { above: 30m }`."),
    key("scaling", object(SCALING_KEYS), "Queue-depth target tracking of an existing EC2 Auto Scaling group or ECS service."),
    key("ignore_warnings", Shape::Strings, "Review warnings (`W02xx`) not to report for this queue."),
];

pub const SCALING_KEYS: &[Key] = &[
    key("group", Shape::Text, "The EC2 Auto Scaling group to scale (or give `service`)."),
    key("service", Shape::Text, "The ECS service to scale, as `cluster/service` (or give `group`)."),
    key("min", Shape::Whole, "ECS: the scalable target's minimum task count."),
    key("max", Shape::Count, "ECS: the scalable target's maximum task count."),
    key("backlog_per_instance", Shape::Number, "Target visible messages per in-service instance (or give latency and processing_time)."),
    key("latency", Shape::FineDuration, "The acceptable wait for a job, e.g. `10m`: target = latency / processing_time."),
    key("processing_time", Shape::FineDuration, "How long one job takes, e.g. `30s`."),
    key("warmup", Shape::Duration, "How long a new instance takes before it counts, e.g. `5m`."),
    key("scale_in", Shape::Bool, "Whether the policy may remove instances (default true)."),
    key("from_zero", Shape::Bool, "Add a step policy and its alarm that start the first instance when jobs wait and the group is empty."),
];

/// The queue alarm recipes of the contract, plus `time_to_drain`.
pub const QUEUE_RECIPES: &[Key] = &[
    key("oldest_message_age", nullable(RECIPE_KEYS), "Stuck jobs: ApproximateAgeOfOldestMessage (Maximum), threshold a duration: `{ above: 30m }`."),
    key("visible_messages", nullable(RECIPE_KEYS), "Backlog: ApproximateNumberOfMessagesVisible (Maximum)."),
    key("in_flight_messages", nullable(RECIPE_KEYS), "Jobs being worked on: ApproximateNumberOfMessagesNotVisible (Maximum)."),
    key("dlq_visible_messages", nullable(RECIPE_KEYS), "Failed jobs: ApproximateNumberOfMessagesVisible of the dead-letter queue (needs `dead_letter_queue`)."),
    key("time_to_drain", nullable(RECIPE_KEYS), "How long the backlog takes to drain at the current delete rate, threshold a duration: `{ above: 2h }`."),
];

/// Recipes whose threshold is a duration (`above: 30m`).
pub const DURATION_RECIPES: &[&str] = &["oldest_message_age", "time_to_drain"];

pub const DASHBOARD_KEYS: &[Key] = &[
    key(
        "widgets",
        Shape::List(&Shape::Widget),
        "The widgets, laid out in rows 24 columns wide, in this order.",
    ),
    key(
        "body",
        Shape::Text,
        "A whole dashboard body as JSON text, instead of widgets.",
    ),
];

/// A widget is one pair: its kind and what it shows.
pub const WIDGET_KINDS: &[Key] = &[
    key(
        "queue",
        Shape::Text,
        "The standard row of a `queues` key: visible, in flight, oldest age, sent vs deleted, DLQ.",
    ),
    key(
        "alarms",
        Shape::AlarmsWidget,
        "An alarm status widget: `all` or a list of alarm keys.",
    ),
    key(
        "metric",
        object(METRIC_WIDGET_KEYS),
        "A graph: `{ title: Failures, metrics: [job-failures], width: 12 }`.",
    ),
    key("text", Shape::Text, "Markdown text, e.g. a runbook."),
    key(
        "logs",
        object(LOGS_WIDGET_KEYS),
        "A Logs Insights table or chart: a saved query (`query`) or query text (`insights`).",
    ),
    key(
        "job_events",
        Shape::Text,
        "The job-events row of a `log_groups` key with `job_events:`.",
    ),
];

pub const METRIC_WIDGET_KEYS: &[Key] = &[
    key("title", Shape::Text, "The graph's title."),
    key(
        "metrics",
        Shape::List(&Shape::MetricEntry),
        "What the graph shows: alarm keys (their metrics) or metric mappings.",
    ),
    key("width", Shape::Count, "Columns of 24, e.g. `12`."),
];

/// A `logs` widget: a saved query (`query`) or query text (`insights`) on log groups.
pub const LOGS_WIDGET_KEYS: &[Key] = &[
    key(
        "query",
        Shape::Text,
        "A `queries` key (or `GROUP.QUERY` of a job-events recipe).",
    ),
    key(
        "insights",
        Shape::Text,
        "Logs Insights query text, instead of `query`.",
    ),
    key(
        "log_groups",
        Shape::Strings,
        "`log_groups` keys the `insights` text runs on.",
    ),
    key("title", Shape::Text, "The widget's title."),
    key("width", Shape::Count, "Columns of 24, e.g. `24`."),
    key(
        "view",
        Shape::OneOf(log_views),
        "How results are shown: a table or a chart.",
    ),
];

/// The alarm fields `defaults` may set: everything that is not about one alarm's metric.
pub const DEFAULTS_KEYS: &[Key] = &[
    PERIOD,
    EVALUATION_PERIODS,
    DATAPOINTS_TO_ALARM,
    TREAT_MISSING_DATA,
    ACTIONS_ENABLED,
    NOTIFY,
    NOTIFY_OK,
    NOTIFY_INSUFFICIENT_DATA,
];

pub const METRIC_KEYS: &[Key] = &[
    key("log_metric", Shape::Text, "A `log_metrics` key: its namespace, name and unit (statistic Sum unless `stat` says otherwise)."),
    key("namespace", Shape::Text, "The metric's namespace, e.g. `AWS/SQS`."),
    key("name", Shape::Text, "The metric's name, e.g. `ApproximateNumberOfMessagesVisible`."),
    key("dimensions", Shape::StringMap, "The metric's dimensions, e.g. `{ QueueName: transcription-jobs }`."),
    key("stat", Shape::Text, "The statistic: Average, Sum, Minimum, Maximum, SampleCount, p99, tm90, ..."),
    PERIOD,
    key("unit", Shape::Text, "The metric's unit, e.g. `Count` (optional)."),
];

/// Every key name of the format, for the fuzzer's mutations.
pub fn all_names() -> Vec<&'static str> {
    let tables: &[&[Key]] = &[
        STACK_KEYS,
        WORKER_KEYS,
        LOG_GROUP_KEYS,
        JOB_EVENTS_KEYS,
        JOB_ALARMS,
        NO_PROGRESS_KEYS,
        LOG_METRIC_KEYS,
        LOG_METRIC_TARGET_KEYS,
        SAMPLES_KEYS,
        QUERY_KEYS,
        TOPIC_KEYS,
        ALARM_KEYS,
        RECIPE_KEYS,
        QUEUE_KEYS,
        SCALING_KEYS,
        QUEUE_RECIPES,
        DASHBOARD_KEYS,
        WIDGET_KINDS,
        METRIC_WIDGET_KEYS,
        LOGS_WIDGET_KEYS,
        DEFAULTS_KEYS,
        METRIC_KEYS,
    ];
    let mut names: Vec<&'static str> = tables.iter().flat_map(|t| names(t)).collect();
    names.extend(protocols());
    names.sort_unstable();
    names.dedup();
    names
}
