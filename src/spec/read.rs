//! Walks a located YAML tree into spec types, reporting every shape problem it meets.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::keys::{
    self, Key, ALARM_KEYS, DASHBOARD_KEYS, DEFAULTS_KEYS, DURATION_RECIPES, JOB_ALARMS,
    JOB_EVENTS_KEYS, LOGS_WIDGET_KEYS, LOG_GROUP_KEYS, LOG_METRIC_KEYS, LOG_METRIC_TARGET_KEYS,
    METRIC_KEYS, METRIC_WIDGET_KEYS, NO_PROGRESS_KEYS, QUERY_KEYS, QUEUE_KEYS, QUEUE_RECIPES,
    RECIPE_KEYS, SAMPLES_KEYS, SCALING_KEYS, STACK_KEYS, TOPIC_KEYS, WIDGET_KINDS, WORKER_KEYS,
};
use super::node::{Node, Value};
use super::{
    AlarmSpec, DashboardSpec, JobEventsSpec, Located, LogGroupSpec, LogMetricSpec, MetricEntry,
    MetricSpec, MetricValueSpec, QuerySpec, QueueSpec, SamplesSpec, ScalingSpec, StackSpec,
    SubscriptionSpec, ThresholdSpec, TopicSpec, WidgetSpec, WorkerSpec,
};
use crate::diag::{codes, Diagnostic, Diagnostics, FileId, Sp};
use crate::model::{BandSide, Comparison, Protocol};

/// Reads one document. Returns `None` only when the root is not a mapping at all.
pub fn read_stack(file: FileId, root: &Node, d: &mut Diagnostics) -> Option<StackSpec> {
    let mut map = Fields::new(root, "a stack (a mapping with `stack:`, `alarms:`, ...)", d)?;
    let mut stack = StackSpec {
        file,
        span: root.span,
        stack: map.take("stack").and_then(|n| string(n, d)),
        region: map.take("region").and_then(|n| string(n, d)),
        account: map.take("account").and_then(|n| account(n, d)),
        tags: map
            .take("tags")
            .map(|n| string_map(n, d))
            .unwrap_or_default(),
        defaults: map
            .take("defaults")
            .and_then(|n| alarm(n, DEFAULTS_KEYS, false, d)),
        topics: Vec::new(),
        queues: Vec::new(),
        log_groups: Vec::new(),
        log_metrics: Vec::new(),
        queries: Vec::new(),
        alarms: Vec::new(),
        dashboards: Vec::new(),
        workers: Vec::new(),
    };
    if let Some(node) = map.take("topics") {
        stack.topics = keyed(node, d, topic);
    }
    if let Some(node) = map.take("queues") {
        stack.queues = keyed(node, d, queue);
    }
    if let Some(node) = map.take("log_groups") {
        stack.log_groups = keyed(node, d, log_group);
    }
    if let Some(node) = map.take("log_metrics") {
        stack.log_metrics = keyed(node, d, log_metric);
    }
    if let Some(node) = map.take("queries") {
        stack.queries = keyed(node, d, query);
    }
    if let Some(node) = map.take("alarms") {
        stack.alarms = keyed(node, d, |n, d| alarm(n, ALARM_KEYS, false, d));
    }
    if let Some(node) = map.take("dashboards") {
        stack.dashboards = keyed(node, d, dashboard);
    }
    if let Some(node) = map.take("workers") {
        stack.workers = keyed(node, d, worker);
    }
    map.finish(STACK_KEYS, d);
    if stack.stack.is_none() && !d.iter().any(|x| x.code == codes::WRONG_TYPE) {
        d.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                "missing `stack:`, the name of this stack",
            )
            .at(first_char(root), "this stack has no `stack:` key")
            .note("every stack file starts with `stack: <name>`, e.g. `stack: transcription`"),
        );
    }
    Some(stack)
}

fn first_char(node: &Node) -> crate::diag::Span {
    crate::diag::Span {
        end: node.span.start + 1,
        ..node.span
    }
}

fn topic(node: &Node, d: &mut Diagnostics) -> Option<TopicSpec> {
    if matches!(node.value, Value::Null) {
        return Some(TopicSpec {
            name: None,
            display_name: None,
            subscriptions: Vec::new(),
            ignore_warnings: None,
            tags: Vec::new(),
            adopt: None,
        });
    }
    let mut map = Fields::new(node, "a topic (a mapping)", d)?;
    let spec = TopicSpec {
        name: map.take("name").and_then(|n| string(n, d)),
        display_name: map.take("display_name").and_then(|n| string(n, d)),
        subscriptions: map
            .take("subscriptions")
            .map(|n| list(n, d, subscription))
            .unwrap_or_default(),
        ignore_warnings: map.take("ignore_warnings").and_then(|n| string_list(n, d)),
        tags: map
            .take("tags")
            .map(|n| string_map(n, d))
            .unwrap_or_default(),
        adopt: map.take("adopt").and_then(|n| boolean(n, d)),
    };
    map.finish(TOPIC_KEYS, d);
    Some(spec)
}

fn subscription(node: &Node, d: &mut Diagnostics) -> Option<SubscriptionSpec> {
    let expected = "a subscription `{protocol: endpoint}`, e.g. `email: oncall@example.com`";
    let Value::Map(pairs) = &node.value else {
        wrong_type(node, expected, d);
        return None;
    };
    if pairs.len() != 1 {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                "a subscription has exactly one `protocol: endpoint` pair",
            )
            .at(node.span, format!("this has {}", pairs.len()))
            .note("write one list item per subscription"),
        );
        return None;
    }
    let (key, value) = &pairs[0];
    let protocol = string(key, d)?;
    if Protocol::parse(&protocol.value).is_none() {
        let protocols = Protocol::ALL.map(Protocol::as_str);
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("unknown subscription protocol `{}`", protocol.value),
            )
            .at(protocol.span, "not a protocol monplan knows")
            .suggest_or(
                &protocol.value,
                protocols,
                format!("protocols: {}", protocols.join(", ")),
            ),
        );
        return None;
    }
    let endpoint = string(value, d)?;
    Some(SubscriptionSpec { protocol, endpoint })
}

fn queue(node: &Node, d: &mut Diagnostics) -> Option<QueueSpec> {
    if matches!(node.value, Value::Null) {
        return Some(QueueSpec {
            name: None,
            dead_letter_queue: None,
            alarms: Vec::new(),
            scaling: None,
            ignore_warnings: None,
            span: node.extent(),
        });
    }
    let mut map = Fields::new(node, "a queue (a mapping)", d)?;
    let spec = QueueSpec {
        name: map.take("name").and_then(|n| string(n, d)),
        dead_letter_queue: map.take("dead_letter_queue").and_then(|n| string(n, d)),
        alarms: map
            .take("alarms")
            .map(|n| recipes(n, d))
            .unwrap_or_default(),
        scaling: map.take("scaling").and_then(|n| scaling(n, d)),
        ignore_warnings: map.take("ignore_warnings").and_then(|n| string_list(n, d)),
        span: node.extent(),
    };
    map.finish(QUEUE_KEYS, d);
    Some(spec)
}

/// A queue's `alarms:`: recipe name -> alarm fields (duration thresholds for some).
fn recipes(node: &Node, d: &mut Diagnostics) -> Vec<(Sp<String>, AlarmSpec)> {
    if matches!(node.value, Value::Null) {
        return Vec::new();
    }
    let Some(map) = Fields::new(node, "a mapping of recipes to alarm fields", d) else {
        return Vec::new();
    };
    map.pairs
        .iter()
        .filter_map(|(k, v)| {
            let key = string(k, d)?;
            if !keys::has(QUEUE_RECIPES, &key.value) {
                let recipes = keys::names(QUEUE_RECIPES);
                d.push(
                    Diagnostic::error(
                        codes::UNKNOWN_KEY,
                        format!("unknown recipe `{}`", key.value),
                    )
                    .at(key.span, "not a queue alarm recipe")
                    .suggest_or(
                        &key.value,
                        recipes.iter().copied(),
                        format!("recipes: {}", recipes.join(", ")),
                    ),
                );
                return None;
            }
            let durations = DURATION_RECIPES.contains(&key.value.as_str());
            let spec = match v.value {
                Value::Null => AlarmSpec::default(),
                _ => alarm(v, RECIPE_KEYS, durations, d)?,
            };
            Some((key, spec))
        })
        .collect()
}

fn scaling(node: &Node, d: &mut Diagnostics) -> Option<Sp<ScalingSpec>> {
    let mut map = Fields::new(
        node,
        "a scaling mapping (group, backlog_per_instance, ...)",
        d,
    )?;
    let spec = ScalingSpec {
        group: map.take("group").and_then(|n| string(n, d)),
        service: map.take("service").and_then(|n| string(n, d)),
        min: map.take("min").and_then(|n| whole(n, d)),
        max: map.take("max").and_then(|n| count(n, d)),
        backlog_per_instance: map.take("backlog_per_instance").and_then(|n| number(n, d)),
        latency: map.take("latency").and_then(|n| fine_duration(n, d)),
        processing_time: map
            .take("processing_time")
            .and_then(|n| fine_duration(n, d)),
        warmup: map.take("warmup").and_then(|n| duration(n, d)),
        scale_in: map.take("scale_in").and_then(|n| boolean(n, d)),
        from_zero: map.take("from_zero").and_then(|n| boolean(n, d)),
    };
    map.finish(SCALING_KEYS, d);
    Some(Sp::new(spec, node.span))
}

fn worker(node: &Node, d: &mut Diagnostics) -> Option<WorkerSpec> {
    let mut map = Fields::new(
        node,
        "a worker fleet (group or service, queue, heartbeat, ...)",
        d,
    )?;
    let spec = WorkerSpec {
        group: map.take("group").and_then(|n| string(n, d)),
        service: map.take("service").and_then(|n| string(n, d)),
        queue: map.take("queue").and_then(|n| string(n, d)),
        heartbeat: map.take("heartbeat").and_then(|n| string(n, d)),
        stuck_after: map.take("stuck_after").and_then(|n| duration(n, d)),
        on_stuck: map.take("on_stuck").and_then(|n| string(n, d)),
        notify: map.take("notify").and_then(|n| string_list(n, d)),
        ignore_warnings: map.take("ignore_warnings").and_then(|n| string_list(n, d)),
        span: node.extent(),
    };
    map.finish(WORKER_KEYS, d);
    Some(spec)
}

fn dashboard(node: &Node, d: &mut Diagnostics) -> Option<DashboardSpec> {
    let mut map = Fields::new(node, "a dashboard (a mapping with `widgets:`)", d)?;
    let widgets = map
        .take("widgets")
        .map(|n| list(n, d, widget))
        .unwrap_or_default();
    let body = map.take("body").and_then(|n| string(n, d));
    map.finish(DASHBOARD_KEYS, d);
    Some(DashboardSpec { widgets, body })
}

fn widget(node: &Node, d: &mut Diagnostics) -> Option<Sp<WidgetSpec>> {
    let expected =
        "a widget: `queue: KEY`, `alarms: all`, `metric: {...}`, `logs: {...}` or `text: ...`";
    let Value::Map(pairs) = &node.value else {
        wrong_type(node, expected, d);
        return None;
    };
    let [(kind, value)] = pairs.as_slice() else {
        d.push(
            Diagnostic::error(codes::INVALID_VALUE, "a widget is one `kind: value` pair")
                .at(node.span, format!("this has {}", pairs.len()))
                .note("write one list item per widget"),
        );
        return None;
    };
    let kind_text = string(kind, d)?;
    let widget = match kind_text.value.as_str() {
        "queue" => WidgetSpec::Queue(string(value, d)?),
        "text" => WidgetSpec::Text(string(value, d)?),
        "alarms" => match &value.value {
            Value::Str(s) if s == "all" => WidgetSpec::Alarms(None),
            Value::Seq(_) => WidgetSpec::Alarms(Some(list(value, d, string))),
            _ => {
                wrong_type(value, "`all` or a list of alarm keys", d);
                return None;
            }
        },
        "metric" => {
            let mut map = Fields::new(value, "a metric widget (title, metrics, width)", d)?;
            let widget = WidgetSpec::Metric {
                title: map.take("title").and_then(|n| string(n, d)),
                width: map.take("width").and_then(|n| count(n, d)),
                metrics: map
                    .take("metrics")
                    .map(|n| {
                        list(n, d, |item, d| match &item.value {
                            Value::Str(_) => string(item, d).map(MetricEntry::Alarm),
                            _ => metric(item, d).map(MetricEntry::Metric),
                        })
                    })
                    .unwrap_or_default(),
            };
            map.finish(METRIC_WIDGET_KEYS, d);
            widget
        }
        "logs" => WidgetSpec::Logs(logs_widget(value, d)?),
        "job_events" => WidgetSpec::JobEvents(string(value, d)?),
        other => {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, format!("unknown widget `{other}`"))
                    .at(kind.span, "not a widget kind")
                    .suggest_or(
                        other,
                        keys::names(WIDGET_KINDS),
                        format!("widgets: {}", keys::names(WIDGET_KINDS).join(", ")),
                    ),
            );
            return None;
        }
    };
    Some(Sp::new(widget, kind.span))
}

fn logs_widget(node: &Node, d: &mut Diagnostics) -> Option<super::LogsWidgetSpec> {
    let mut map = Fields::new(
        node,
        "a logs widget (`query: KEY` or `insights: TEXT`, log_groups, title, width, view)",
        d,
    )?;
    let spec = super::LogsWidgetSpec {
        query: map.take("query").and_then(|n| string(n, d)),
        insights: map.take("insights").and_then(|n| located(n, d)),
        log_groups: map.take("log_groups").and_then(|n| string_list(n, d)),
        title: map.take("title").and_then(|n| string(n, d)),
        width: map.take("width").and_then(|n| count(n, d)),
        view: map.take("view").and_then(|n| string(n, d)),
    };
    map.finish(LOGS_WIDGET_KEYS, d);
    Some(spec)
}

/// `durations`: thresholds may be written as durations and are kept in seconds.
fn alarm(node: &Node, allowed: &[Key], durations: bool, d: &mut Diagnostics) -> Option<AlarmSpec> {
    let mut map = Fields::new(node, "an alarm (a mapping)", d)?;
    let mut spec = AlarmSpec {
        name: map.take("name").and_then(|n| string(n, d)),
        description: map.take("description").and_then(|n| string(n, d)),
        metric: map.take("metric").and_then(|n| metric(n, d)),
        period: map.take("period").and_then(|n| duration(n, d)),
        evaluation_periods: map.take("evaluation_periods").and_then(|n| count(n, d)),
        datapoints_to_alarm: map.take("datapoints_to_alarm").and_then(|n| count(n, d)),
        treat_missing_data: map.take("treat_missing_data").and_then(|n| string(n, d)),
        actions_enabled: map.take("actions_enabled").and_then(|n| boolean(n, d)),
        notify: map.take("notify").and_then(|n| string_list(n, d)),
        notify_ok: map.take("notify_ok").and_then(|n| string_list(n, d)),
        notify_insufficient_data: map
            .take("notify_insufficient_data")
            .and_then(|n| string_list(n, d)),
        thresholds: Vec::new(),
        expression: map.take("expression").and_then(|n| string(n, d)),
        metrics: Vec::new(),
        bands: Vec::new(),
        rule: map.take("rule").and_then(|n| string(n, d)),
        expect_metric: map.take("expect_metric").and_then(|n| string(n, d)),
        ignore_warnings: map.take("ignore_warnings").and_then(|n| string_list(n, d)),
        tags: map
            .take("tags")
            .map(|n| string_map(n, d))
            .unwrap_or_default(),
        adopt: map.take("adopt").and_then(|n| boolean(n, d)),
    };
    if let Some(node) = map.take("metrics") {
        spec.metrics = keyed(node, d, metric);
    }
    for keyword in Comparison::ALL.map(Comparison::keyword) {
        if let Some((key, value)) = map.take_pair(keyword) {
            let value = if durations {
                threshold_duration(value, d)
            } else {
                number(value, d)
            };
            let keyword = Sp::new(keyword.to_string(), key.span);
            spec.thresholds.push(ThresholdSpec { keyword, value });
        }
    }
    for keyword in BandSide::ALL.map(BandSide::keyword) {
        if let Some((key, value)) = map.take_pair(keyword) {
            let value = number(value, d);
            let keyword = Sp::new(keyword.to_string(), key.span);
            spec.bands.push(ThresholdSpec { keyword, value });
        }
    }
    map.finish(allowed, d);
    Some(spec)
}

fn log_group(node: &Node, d: &mut Diagnostics) -> Option<LogGroupSpec> {
    if matches!(node.value, Value::Null) {
        return Some(LogGroupSpec::default());
    }
    let mut map = Fields::new(node, "a log group (a mapping)", d)?;
    let spec = LogGroupSpec {
        name: map.take("name").and_then(|n| string(n, d)),
        job_events: map.take("job_events").and_then(|n| job_events(n, d)),
    };
    map.finish(LOG_GROUP_KEYS, d);
    Some(spec)
}

fn job_events(node: &Node, d: &mut Diagnostics) -> Option<Sp<JobEventsSpec>> {
    let mut map = Fields::new(
        node,
        "the job-events recipe (format, namespace, alarms, ...)",
        d,
    )?;
    let format = map.take("format").and_then(|n| string(n, d));
    let prefix = map.take("prefix").and_then(|n| string(n, d));
    let namespace = map.take("namespace").and_then(|n| string(n, d));
    let queue = map.take("queue").and_then(|n| string(n, d));
    // `no_progress` reads differently with a queue than without one.
    let alarms = map
        .take("alarms")
        .map(|n| job_alarms(n, queue.is_some(), d))
        .unwrap_or_default();
    let spec = JobEventsSpec {
        format,
        prefix,
        namespace,
        queue,
        alarms,
    };
    map.finish(JOB_EVENTS_KEYS, d);
    Some(Sp::new(spec, node.span))
}

/// The recipe's alarms. `failure_rate` takes a percentage (`above: 10%`, or `10`);
/// `no_progress: { for: 15m }` reads as a one-period alarm of that period above 0.
fn job_alarms(node: &Node, has_queue: bool, d: &mut Diagnostics) -> Vec<(Sp<String>, AlarmSpec)> {
    let Some(map) = Fields::new(node, "a mapping of job-event alarms to alarm fields", d) else {
        return Vec::new();
    };
    map.pairs
        .iter()
        .filter_map(|(k, v)| {
            let key = string(k, d)?;
            match key.value.as_str() {
                "failures" => {
                    let spec = alarm(v, RECIPE_KEYS, false, d)?;
                    Some((key.clone(), recipe_defaults(spec, &key, "not_breaching")))
                }
                "failure_rate" => {
                    let spec = alarm(&percentages(v), RECIPE_KEYS, false, d)?;
                    Some((key.clone(), recipe_defaults(spec, &key, "not_breaching")))
                }
                // With a queue, no data means no jobs known in flight; without one,
                // silence itself is the alarm.
                "no_progress" => no_progress(key, v, d).map(|(key, mut spec)| {
                    let missing = if has_queue {
                        "not_breaching"
                    } else {
                        "breaching"
                    };
                    spec = recipe_defaults(spec, &key, missing);
                    let one = || Some(Sp::new(1, key.span));
                    spec.evaluation_periods = spec.evaluation_periods.or_else(one);
                    spec.datapoints_to_alarm = spec.datapoints_to_alarm.or_else(one);
                    (key, spec)
                }),
                _ => {
                    d.push(
                        Diagnostic::error(
                            codes::UNKNOWN_KEY,
                            format!("unknown job-events alarm `{}`", key.value),
                        )
                        .at(key.span, "not a job-events alarm")
                        .suggest_or(
                            &key.value,
                            keys::names(JOB_ALARMS),
                            format!("job-events alarms: {}", keys::names(JOB_ALARMS).join(", ")),
                        ),
                    );
                    None
                }
            }
        })
        .collect()
}

/// `no_progress: { for: 15m, ... }`: one period of `for`, firing above 0.
fn no_progress(
    key: Sp<String>,
    node: &Node,
    d: &mut Diagnostics,
) -> Option<(Sp<String>, AlarmSpec)> {
    let silence = match &node.value {
        Value::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == "for"))
            .and_then(|(_, v)| duration(v, d)),
        _ => None,
    };
    let mut spec = alarm(&without(node, "for"), NO_PROGRESS_KEYS, false, d)?;
    let Some(silence) = silence else {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "`no_progress` needs `for:`")
                .at(key.span, "how long without progress")
                .note("e.g. no_progress: { for: 15m }"),
        );
        return None;
    };
    spec.thresholds = vec![ThresholdSpec {
        keyword: Sp::new("above".into(), silence.span),
        value: Some(Sp::new(0.0, silence.span)),
    }];
    spec.period = Some(silence);
    Some((key, spec))
}

/// A job-events alarm's own default for missing data, unless the YAML sets one: the
/// event counts publish 0 only while events arrive, so no data usually means "nothing
/// happened", not "something is wrong".
fn recipe_defaults(mut spec: AlarmSpec, key: &Sp<String>, missing: &str) -> AlarmSpec {
    spec.treat_missing_data
        .get_or_insert_with(|| Sp::new(missing.to_string(), key.span));
    spec
}

/// `node` with its `key` pair left out (read already).
fn without(node: &Node, key: &str) -> Node {
    let mut node = node.clone();
    if let Value::Map(pairs) = &mut node.value {
        pairs.retain(|(k, _)| !matches!(&k.value, Value::Str(s) if s == key));
    }
    node
}

/// A threshold written as a percentage (`10%`) read as its number.
fn percentages(node: &Node) -> Node {
    let mut node = node.clone();
    if let Value::Map(pairs) = &mut node.value {
        for (_, value) in pairs.iter_mut() {
            if let Value::Str(text) = &value.value {
                let number = text
                    .strip_suffix('%')
                    .and_then(|n| n.trim().parse::<f64>().ok());
                if let Some(number) = number {
                    value.value = Value::Float(number);
                }
            }
        }
    }
    node
}

fn log_metric(node: &Node, d: &mut Diagnostics) -> Option<LogMetricSpec> {
    let mut map = Fields::new(node, "a metric filter (a mapping)", d)?;
    let spec = LogMetricSpec {
        log_group: map.take("log_group").and_then(|n| string(n, d)),
        pattern: map.take("pattern").and_then(|n| located(n, d)),
        metric: map.take("metric").and_then(|n| {
            let mut fields = Fields::new(n, "a metric (a mapping with namespace, name)", d)?;
            let spec = MetricSpec {
                namespace: fields.take("namespace").and_then(|n| string(n, d)),
                name: fields.take("name").and_then(|n| string(n, d)),
                unit: fields.take("unit").and_then(|n| string(n, d)),
                ..MetricSpec::default()
            };
            fields.finish(LOG_METRIC_TARGET_KEYS, d);
            Some(Sp::new(spec, n.span))
        }),
        value: map.take("value").and_then(|n| match &n.value {
            Value::Str(text) => Some(Sp::new(MetricValueSpec::Selector(text.clone()), n.span)),
            _ => number(n, d).map(|v| Sp::new(MetricValueSpec::Number(v.value), v.span)),
        }),
        default_value: map.take("default_value").and_then(|n| number(n, d)),
        dimensions: map
            .take("dimensions")
            .map(|n| string_map(n, d))
            .unwrap_or_default(),
        samples: map.take("samples").and_then(|n| samples(n, d)),
    };
    map.finish(LOG_METRIC_KEYS, d);
    Some(spec)
}

fn query(node: &Node, d: &mut Diagnostics) -> Option<QuerySpec> {
    let mut map = Fields::new(
        node,
        "a saved query (a mapping with log_groups and query)",
        d,
    )?;
    let spec = QuerySpec {
        log_groups: map.take("log_groups").and_then(|n| string_list(n, d)),
        query: map.take("query").and_then(|n| located(n, d)),
    };
    map.finish(QUERY_KEYS, d);
    Some(spec)
}

/// A string that a later check may find a problem inside: where its text starts too.
fn located(node: &Node, d: &mut Diagnostics) -> Option<Located<String>> {
    Some(Located {
        value: string(node, d)?,
        inner: node.inner,
    })
}

fn samples(node: &Node, d: &mut Diagnostics) -> Option<SamplesSpec> {
    let mut map = Fields::new(
        node,
        "samples (a mapping with `match` and `no_match` lists)",
        d,
    )?;
    let spec = SamplesSpec {
        matching: map
            .take("match")
            .map(|n| list(n, d, string))
            .unwrap_or_default(),
        not_matching: map
            .take("no_match")
            .map(|n| list(n, d, string))
            .unwrap_or_default(),
    };
    map.finish(SAMPLES_KEYS, d);
    Some(spec)
}

fn metric(node: &Node, d: &mut Diagnostics) -> Option<Sp<MetricSpec>> {
    // `metric: job-duration`: a log metric by its key.
    if let Value::Str(key) = &node.value {
        let spec = MetricSpec {
            log_metric: Some(Sp::new(key.clone(), node.span)),
            ..MetricSpec::default()
        };
        return Some(Sp::new(spec, node.span));
    }
    let mut map = Fields::new(
        node,
        "a metric (a mapping with namespace, name, stat, or a log metric's key)",
        d,
    )?;
    let spec = MetricSpec {
        log_metric: map.take("log_metric").and_then(|n| string(n, d)),
        namespace: map.take("namespace").and_then(|n| string(n, d)),
        name: map.take("name").and_then(|n| string(n, d)),
        dimensions: map
            .take("dimensions")
            .map(|n| string_map(n, d))
            .unwrap_or_default(),
        stat: map.take("stat").and_then(|n| string(n, d)),
        period: map.take("period").and_then(|n| duration(n, d)),
        unit: map.take("unit").and_then(|n| string(n, d)),
    };
    map.finish(METRIC_KEYS, d);
    Some(Sp::new(spec, node.span))
}

/// A mapping whose keys are resource keys, e.g. `topics:` or `alarms:`.
fn keyed<T>(
    node: &Node,
    d: &mut Diagnostics,
    item: impl Fn(&Node, &mut Diagnostics) -> Option<T>,
) -> Vec<(Sp<String>, T)> {
    if matches!(node.value, Value::Null) {
        return Vec::new();
    }
    let Some(map) = Fields::new(node, "a mapping of keys to resources", d) else {
        return Vec::new();
    };
    map.pairs
        .iter()
        .filter_map(|(k, v)| Some((string(k, d)?, item(v, d)?)))
        .collect()
}

fn list<T>(
    node: &Node,
    d: &mut Diagnostics,
    item: impl Fn(&Node, &mut Diagnostics) -> Option<T>,
) -> Vec<T> {
    match &node.value {
        Value::Null => Vec::new(),
        Value::Seq(items) => items.iter().filter_map(|n| item(n, d)).collect(),
        _ => {
            wrong_type(node, "a list", d);
            Vec::new()
        }
    }
}

/// The pairs of a mapping, with duplicates reported, taken one by one; what is left at
/// [`Fields::finish`] is unknown.
struct Fields<'a> {
    pairs: Vec<(&'a Node, &'a Node)>,
    taken: Vec<bool>,
}

impl<'a> Fields<'a> {
    fn new(node: &'a Node, expected: &str, d: &mut Diagnostics) -> Option<Self> {
        let Value::Map(pairs) = &node.value else {
            wrong_type(node, expected, d);
            return None;
        };
        let mut kept: Vec<(&Node, &Node)> = Vec::new();
        // Keys are bucketed by a hash of their value, so that a mapping of 100,000
        // alarms is read in linear time (a scan of the kept keys per key took minutes);
        // within a bucket, keys are compared as values.
        let mut seen: HashMap<u64, Vec<&Node>> = HashMap::new();
        for (key, value) in pairs {
            // A key holding NaN equals no key, itself included: it is never a duplicate,
            // and kept out of the buckets (100,000 `.nan` keys would share one).
            #[allow(clippy::eq_op)] // deliberately: false exactly when the key holds NaN
            let comparable = key.value == key.value;
            let first = if comparable {
                let bucket = seen.entry(fingerprint(&key.value)).or_default();
                let first = bucket.iter().find(|k| k.value == key.value).map(|k| k.span);
                if first.is_none() {
                    bucket.push(key);
                }
                first
            } else {
                None
            };
            if let Some(first) = first {
                d.push(
                    Diagnostic::error(
                        codes::DUPLICATE_KEY,
                        format!("duplicate key `{}`", scalar_text(key)),
                    )
                    .at(key.span, "defined again here")
                    .also(first, "first defined here"),
                );
            } else {
                kept.push((key, value));
            }
        }
        let taken = vec![false; kept.len()];
        Some(Self { pairs: kept, taken })
    }

    fn take(&mut self, key: &str) -> Option<&'a Node> {
        self.take_pair(key).map(|(_, v)| v)
    }

    fn take_pair(&mut self, key: &str) -> Option<(&'a Node, &'a Node)> {
        let index = self
            .pairs
            .iter()
            .position(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))?;
        self.taken[index] = true;
        Some(self.pairs[index])
    }

    /// Reports every pair nobody took, or that is not allowed here (e.g. `metric:` in
    /// `defaults`), as an unknown key with the closest allowed one suggested.
    fn finish(self, table: &[Key], d: &mut Diagnostics) {
        for (index, (key, _)) in self.pairs.iter().enumerate() {
            // Taken keys are read as strings, so only a leftover needs its text made.
            let known =
                self.taken[index] && matches!(&key.value, Value::Str(s) if keys::has(table, s));
            if known {
                continue;
            }
            let text = scalar_text(key);
            let allowed = keys::names(table);
            let label = if self.taken[index] {
                "not allowed here"
            } else {
                "unknown key"
            };
            d.push(
                Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown key `{text}`"))
                    .at(key.span, label)
                    .suggest_or(
                        &text,
                        allowed.iter().copied(),
                        format!("expected one of: {}", allowed.join(", ")),
                    ),
            );
        }
    }
}

/// A hash of a key's value, equal for equal values (`==` on [`Value`]: `-0.0` is `0.0`;
/// NaN equals nothing, so how it hashes does not matter). Recursive, which the parser's
/// depth limit keeps shallow.
fn fingerprint(value: &Value) -> u64 {
    fn feed(value: &Value, h: &mut DefaultHasher) {
        match value {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, b).hash(h),
            Value::Int(i) => (2u8, i).hash(h),
            Value::Float(f) => (3u8, (f + 0.0).to_bits()).hash(h),
            Value::Str(s) => (4u8, s).hash(h),
            Value::Seq(items) => {
                (5u8, items.len()).hash(h);
                for item in items {
                    feed(&item.value, h);
                }
            }
            Value::Map(pairs) => {
                (6u8, pairs.len()).hash(h);
                for (k, v) in pairs {
                    feed(&k.value, h);
                    feed(&v.value, h);
                }
            }
        }
    }
    let mut h = DefaultHasher::new();
    feed(value, &mut h);
    h.finish()
}

fn scalar_text(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.type_name().to_string(),
    }
}

fn wrong_type(node: &Node, expected: &str, d: &mut Diagnostics) {
    d.push(
        Diagnostic::error(codes::WRONG_TYPE, format!("expected {expected}"))
            .at(node.span, format!("found {}", node.value.type_name())),
    );
}

fn string(node: &Node, d: &mut Diagnostics) -> Option<Sp<String>> {
    if let Value::Str(s) = &node.value {
        Some(Sp::new(s.clone(), node.span))
    } else {
        wrong_type(node, "a string", d);
        None
    }
}

/// An AWS account id: 12 digits. Written unquoted it parses as a number, which is fine
/// unless it has leading zeros (they would be lost), so those must be quoted.
fn account(node: &Node, d: &mut Diagnostics) -> Option<Sp<String>> {
    match &node.value {
        Value::Int(i) => Some(Sp::new(format!("{i:012}"), node.span)),
        Value::Str(s) => Some(Sp::new(s.clone(), node.span)),
        _ => {
            wrong_type(node, "a 12-digit AWS account id in quotes", d);
            None
        }
    }
}

fn number(node: &Node, d: &mut Diagnostics) -> Option<Sp<f64>> {
    match node.value {
        #[allow(clippy::cast_precision_loss)] // thresholds beyond 2^53 are not a real concern
        Value::Int(i) => Some(Sp::new(i as f64, node.span)),
        // `+ 0.0` makes `-0.0` plain 0: a threshold of "minus zero" is zero, and AWS
        // and the plan should not show the sign.
        Value::Float(f) if f.is_finite() => Some(Sp::new(f + 0.0, node.span)),
        _ => {
            wrong_number(node, "a number", d);
            None
        }
    }
}

fn count(node: &Node, d: &mut Diagnostics) -> Option<Sp<u64>> {
    match node.value {
        Value::Int(i) if i > 0 => Some(Sp::new(i.unsigned_abs(), node.span)),
        _ => {
            wrong_number(node, "a whole number of 1 or more", d);
            None
        }
    }
}

/// "expected a number", with what is wrong with a value that looks like one: infinite,
/// not a number, out of range or not whole.
// `node` and `note` are the YAML node and the note about it: both names say it best.
#[allow(clippy::similar_names)]
fn wrong_number(node: &Node, expected: &str, d: &mut Diagnostics) {
    // The parser hands over `1e999` as the text `.inf`: the message says what the value
    // is rather than quoting it.
    let note = match &node.value {
        Value::Str(text) => {
            let lower = text.trim().to_ascii_lowercase();
            if lower == ".nan" {
                Some(
                    "this is YAML's \"not a number\", which no threshold or count can be"
                        .to_string(),
                )
            } else if matches!(lower.as_str(), ".inf" | "+.inf" | "-.inf")
                || lower.parse::<f64>().is_ok_and(f64::is_infinite)
            {
                Some("this number is infinite (or beyond about 1.8e308), which is not a value AWS can compare against".to_string())
            } else {
                None
            }
        }
        Value::Float(f) if f.is_finite() && expected.contains("whole") => {
            Some(if f.fract() == 0.0 {
                "this number is too large to be a count".to_string()
            } else {
                "a count has no fraction".to_string()
            })
        }
        Value::Int(i) if *i < 0 && expected.contains("whole") => {
            Some("a count cannot be negative".to_string())
        }
        _ => None,
    };
    let diagnostic = Diagnostic::error(codes::WRONG_TYPE, format!("expected {expected}"))
        .at(node.span, format!("found {}", node.value.type_name()));
    d.push(match note {
        Some(note) => diagnostic.note(note),
        None => diagnostic,
    });
}

/// A count that may be 0 (a service's `min` tasks).
fn whole(node: &Node, d: &mut Diagnostics) -> Option<Sp<u64>> {
    match node.value {
        Value::Int(i) if i >= 0 => Some(Sp::new(i.unsigned_abs(), node.span)),
        _ => {
            wrong_number(node, "a whole number of 0 or more", d);
            None
        }
    }
}

fn boolean(node: &Node, d: &mut Diagnostics) -> Option<Sp<bool>> {
    if let Value::Bool(b) = node.value {
        Some(Sp::new(b, node.span))
    } else {
        wrong_type(node, "true or false", d);
        None
    }
}

/// A duration: `90s`, `5m`, `1h`, `1d`, or a bare integer of seconds. Returns seconds.
fn duration(node: &Node, d: &mut Diagnostics) -> Option<Sp<u64>> {
    let seconds = match &node.value {
        Value::Int(i) if *i > 0 => Some(i.unsigned_abs()),
        Value::Str(s) => parse_duration(s),
        _ => None,
    };
    if seconds.is_none() {
        wrong_type(node, "a duration such as `90s`, `5m`, `1h` or `1d`", d);
    }
    seconds.map(|s| Sp::new(s, node.span))
}

/// A threshold of a duration recipe: a duration or a bare number, in seconds.
fn threshold_duration(node: &Node, d: &mut Diagnostics) -> Option<Sp<f64>> {
    let seconds = match &node.value {
        #[allow(clippy::cast_precision_loss)]
        Value::Int(i) if *i >= 0 => Some(*i as f64),
        Value::Float(f) if *f >= 0.0 && f.is_finite() => Some(*f + 0.0),
        Value::Str(s) => parse_fine_duration(s),
        _ => None,
    };
    if seconds.is_none() {
        wrong_number(node, "a duration such as `30m` (or a number of seconds)", d);
    }
    seconds.map(|s| Sp::new(s, node.span))
}

/// A duration that may be fractional or in milliseconds (`0.25s`, `250ms`), in seconds.
fn fine_duration(node: &Node, d: &mut Diagnostics) -> Option<Sp<f64>> {
    let seconds = match &node.value {
        #[allow(clippy::cast_precision_loss)]
        Value::Int(i) if *i > 0 => Some(*i as f64),
        Value::Float(f) if *f > 0.0 && f.is_finite() => Some(*f),
        Value::Str(s) => parse_fine_duration(s).filter(|v| *v > 0.0),
        _ => None,
    };
    if seconds.is_none() {
        wrong_type(node, "a duration such as `250ms`, `0.25s` or `10m`", d);
    }
    seconds.map(|s| Sp::new(s, node.span))
}

pub(crate) fn parse_fine_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let amount: f64 = number
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let scale = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return None,
    };
    Some(amount * scale)
}

pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits.parse().ok().filter(|n| *n > 0)?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    amount.checked_mul(scale)
}

/// A list of strings; a single string is accepted as a list of one (`notify: oncall`).
fn string_list(node: &Node, d: &mut Diagnostics) -> Option<Sp<Vec<Sp<String>>>> {
    match &node.value {
        Value::Str(_) => string(node, d).map(|s| Sp::new(vec![s], node.span)),
        Value::Null => Some(Sp::new(Vec::new(), node.span)),
        Value::Seq(items) => {
            let strings = items.iter().filter_map(|n| string(n, d)).collect();
            Some(Sp::new(strings, node.span))
        }
        _ => {
            wrong_type(node, "a list of names", d);
            None
        }
    }
}

/// A mapping of strings to strings (`tags`, `dimensions`). Numbers and booleans are
/// accepted as values and kept as written, because `{ Shard: 3 }` means the string "3".
fn string_map(node: &Node, d: &mut Diagnostics) -> Vec<(Sp<String>, Sp<String>)> {
    if matches!(node.value, Value::Null) {
        return Vec::new();
    }
    let Some(map) = Fields::new(node, "a mapping of names to values", d) else {
        return Vec::new();
    };
    map.pairs
        .iter()
        .filter_map(|(k, v)| {
            let key = string(k, d)?;
            let value = match &v.value {
                Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                    Sp::new(scalar_text(v), v.span)
                }
                _ => {
                    wrong_type(v, "a string", d);
                    return None;
                }
            };
            Some((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("1h"), Some(3600));
        assert_eq!(parse_duration("1d"), Some(86_400));
        assert_eq!(parse_duration("45"), Some(45));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("5 minutes"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
        assert_eq!(parse_fine_duration("250ms"), Some(0.25));
        assert_eq!(parse_fine_duration("0.25s"), Some(0.25));
        assert_eq!(parse_fine_duration("10m"), Some(600.0));
        assert_eq!(parse_fine_duration("1.5h"), Some(5400.0));
        assert_eq!(parse_fine_duration("fast"), None);
        assert_eq!(parse_fine_duration("1.2.3s"), None);
    }

    /// The duplicate-key check by hashed buckets finds what comparing every pair found:
    /// equal scalars of every type, `0.0` and `-0.0`, `.nan` (which the parser hands over
    /// as text); lists used as keys are compared as nodes, their locations included, so
    /// two are never equal, as before.
    #[test]
    fn duplicate_keys_of_every_type() {
        let source = "a: 1\n1: 1\ntrue: 1\n~: 1\n0.0: 1\n? [x, {y: 1}]\n: 1\n.nan: 1\n\
                      a: 2\n1: 2\ntrue: 2\n~: 2\n-0.0: 2\n? [x, {y: 1}]\n: 2\n.nan: 2\n\
                      '1': 2\n? [x, {y: 2}]\n: 2\n";
        let root = crate::spec::node::parse(FileId(0), source).expect("valid YAML");
        let mut d = Diagnostics::default();
        let fields = Fields::new(&root, "a mapping", &mut d).expect("a mapping");
        let duplicates: Vec<String> = d
            .iter()
            .map(|x| {
                assert_eq!(x.code, codes::DUPLICATE_KEY);
                x.message.clone()
            })
            .collect();
        assert_eq!(
            duplicates,
            [
                "duplicate key `a`",
                "duplicate key `1`",
                "duplicate key `true`",
                "duplicate key `nothing (null)`",
                "duplicate key `-0`",
                "duplicate key `.nan`",
            ]
        );
        // The first of each is kept, and the three lists and the string `'1'`.
        assert_eq!(fields.pairs.len(), 10);
    }

    /// The threshold and band keys are read from the model's keywords; the key lists that
    /// `finish` checks (and quotes in "expected one of") must allow every one of them.
    #[test]
    fn key_lists_allow_every_model_keyword() {
        for keyword in Comparison::ALL.map(Comparison::keyword) {
            assert!(keys::names(ALARM_KEYS).contains(&keyword), "{keyword}");
            assert!(keys::names(RECIPE_KEYS).contains(&keyword), "{keyword}");
        }
        for keyword in BandSide::ALL.map(BandSide::keyword) {
            assert!(keys::names(ALARM_KEYS).contains(&keyword), "{keyword}");
        }
    }
}
