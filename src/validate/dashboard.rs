//! Dashboards: widgets resolved against the stack's queues, alarms, log groups and saved
//! queries.

use std::collections::{BTreeMap, BTreeSet};

use super::alarm::{metric, Inherited};
use crate::diag::{codes, Diagnostic, Diagnostics, Sp, Span};
use crate::model::{
    AlarmMetric, AlarmName, Dashboard, Declared, Dlq, LogGroupUse, LogView, Metric,
    QueryDefinition, QueueUse, StackName, Widget,
};
use crate::spec::{DashboardSpec, LogsWidgetSpec, MetricEntry, WidgetSpec};

/// A metric widget is half a row unless told otherwise.
const DEFAULT_METRIC_WIDTH: u64 = 12;
/// A logs widget is a full row unless told otherwise: its lines are long.
const DEFAULT_LOGS_WIDTH: u64 = 24;
/// Metrics on dashboards default to 5-minute points, as in the `CloudWatch` console.
const DEFAULT_DASHBOARD_PERIOD: u64 = 300;

/// What a dashboard can refer to.
pub struct Names<'a> {
    pub queues: &'a BTreeMap<String, Declared<QueueUse>>,
    /// Alarm key -> (name, where declared), metric and composite alarms alike, in
    /// declaration order for `alarms: all`.
    pub alarms: &'a [(String, AlarmName, Span)],
    /// Metric alarms' metrics, by key.
    pub metrics: &'a BTreeMap<String, AlarmMetric>,
    /// Keys of composite alarms.
    pub composites: &'a BTreeSet<String>,
    /// Log groups by key.
    pub log_groups: &'a BTreeMap<String, Declared<LogGroupUse>>,
    /// Valid saved queries, by name (`Declared::key` is the key).
    pub queries: &'a BTreeMap<String, Declared<QueryDefinition>>,
    /// Every declared `queries` key, valid or not (an invalid one is already reported).
    pub query_keys: &'a BTreeSet<String>,
    /// What each log metric key publishes (the job-events recipes' included).
    pub log_metrics: &'a BTreeMap<String, (String, String)>,
}

pub fn dashboard(
    stack: &StackName,
    key: &Sp<String>,
    spec: &DashboardSpec,
    names: &Names<'_>,
    queues_needing_redrive: &mut Vec<String>,
    d: &mut Diagnostics,
) -> Option<Declared<Dashboard>> {
    super::rules::resource_key(key, "dashboard", d);
    let errors_before = d.error_count();
    let mut widgets = Vec::new();
    if let Some(text) = &spec.body {
        return written_body(stack, key, text, !spec.widgets.is_empty(), d);
    }
    if spec.widgets.is_empty() {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "a dashboard needs `widgets:`")
                .at(key.span, "no widgets"),
        );
    }
    for widget in &spec.widgets {
        match &widget.value {
            WidgetSpec::Queue(queue_key) => {
                let Some(queue) = names.queues.get(&queue_key.value) else {
                    unresolved(
                        d,
                        queue_key,
                        "queue",
                        names.queues.keys().map(String::as_str),
                    );
                    continue;
                };
                let dlq = if let Some(dlq) = &queue.value.dead_letter_queue {
                    Dlq::Named(dlq.value.clone())
                } else {
                    queues_needing_redrive.push(queue_key.value.clone());
                    Dlq::FromRedrive
                };
                widgets.push(Widget::Queue {
                    queue: queue.value.name.clone(),
                    dlq,
                });
            }
            WidgetSpec::Alarms(None) => {
                widgets.push(Widget::Alarms {
                    alarms: names.alarms.iter().map(|(_, n, _)| n.clone()).collect(),
                });
            }
            WidgetSpec::Alarms(Some(keys)) => {
                let mut alarms = Vec::new();
                for alarm_key in keys {
                    match names.alarms.iter().find(|(k, _, _)| *k == alarm_key.value) {
                        Some((_, name, _)) => alarms.push(name.clone()),
                        None => unresolved(
                            d,
                            alarm_key,
                            "alarm",
                            names.alarms.iter().map(|(k, _, _)| k.as_str()),
                        ),
                    }
                }
                widgets.push(Widget::Alarms { alarms });
            }
            WidgetSpec::Metric {
                title,
                width,
                metrics,
            } => {
                let width = columns(width.as_ref(), DEFAULT_METRIC_WIDTH, d);
                let mut resolved: Vec<Metric> = Vec::new();
                for entry in metrics {
                    match entry {
                        MetricEntry::Alarm(alarm_key) => {
                            match names.metrics.get(&alarm_key.value) {
                                Some(AlarmMetric::Single(m)) => resolved.push(m.clone()),
                                Some(AlarmMetric::Math { metrics, .. }) => {
                                    resolved.extend(metrics.values().cloned());
                                }
                                // One series per worker, selected by the query: nothing to
                                // list (stack alarms are never of this kind).
                                Some(AlarmMetric::Insights { .. }) => {}
                                // Known but invalid: already reported. A composite has no metrics.
                                None if names
                                    .alarms
                                    .iter()
                                    .any(|(k, _, _)| *k == alarm_key.value) =>
                                {
                                    if names.composites.contains(&alarm_key.value) {
                                        d.push(
                                            Diagnostic::error(codes::INVALID_VALUE, format!("`{}` is a composite alarm, which has no metrics to show", alarm_key.value))
                                                .at(alarm_key.span, "composite alarm"),
                                        );
                                    }
                                }
                                None => unresolved(
                                    d,
                                    alarm_key,
                                    "metric alarm",
                                    names.metrics.keys().map(String::as_str),
                                ),
                            }
                        }
                        MetricEntry::Metric(spec) => {
                            let period = Inherited {
                                value: DEFAULT_DASHBOARD_PERIOD,
                                span: spec.span,
                                from_defaults: false,
                            };
                            if let Some((m, _)) = metric(spec, Some(period), d) {
                                resolved.push(m);
                            }
                        }
                    }
                }
                if metrics.is_empty() {
                    d.push(
                        Diagnostic::error(codes::MISSING_KEY, "a metric widget needs `metrics:`")
                            .at(widget.span, "no metrics"),
                    );
                }
                widgets.push(Widget::Metric {
                    title: title.as_ref().map(|t| t.value.clone()),
                    width,
                    metrics: resolved,
                });
            }
            WidgetSpec::Text(markdown) => widgets.push(Widget::Text {
                markdown: markdown.value.clone(),
            }),
            WidgetSpec::Logs(spec) => {
                if let Some(logs) = logs_widget(spec, widget.span, names, d) {
                    widgets.push(logs);
                }
            }
            WidgetSpec::JobEvents(group) => widgets.extend(job_events_row(stack, group, names, d)),
        }
    }
    if d.error_count() > errors_before {
        return None;
    }
    let name = format!("{stack}_{}", key.value);
    Some(Declared {
        value: Dashboard {
            name,
            widgets,
            body: None,
        },
        key: key.value.clone(),
        origin: key.span,
    })
}

/// A dashboard given by its JSON body (`body:`): a JSON object, alone (not with
/// `widgets`).
fn written_body(
    stack: &StackName,
    key: &Sp<String>,
    text: &Sp<String>,
    with_widgets: bool,
    d: &mut Diagnostics,
) -> Option<Declared<Dashboard>> {
    if with_widgets {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                "a dashboard has `widgets` or `body`, not both",
            )
            .at(text.span, "the body")
            .note("`body:` is the whole dashboard as JSON; `widgets:` lets monplan lay it out"),
        );
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(&text.value) {
        Ok(body @ serde_json::Value::Object(_)) => Some(Declared {
            value: Dashboard {
                name: format!("{stack}_{}", key.value),
                widgets: Vec::new(),
                body: Some(body),
            },
            key: key.value.clone(),
            origin: key.span,
        }),
        Ok(_) => {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, "a dashboard body is a JSON object")
                    .at(text.span, "not a JSON object")
                    .note("e.g. `body: '{\"widgets\": []}'`"),
            );
            None
        }
        Err(error) => {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("a dashboard body is JSON: {error}"),
                )
                .at(text.span, "not JSON"),
            );
            None
        }
    }
}

/// A widget's width: 1 to 24 columns of the grid.
fn columns(width: Option<&Sp<u64>>, default: u64, d: &mut Diagnostics) -> u8 {
    let value = width.map_or(default, |w| w.value);
    if !(1..=24).contains(&value) {
        if let Some(w) = width {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, "a widget is 1 to 24 columns wide")
                    .at(w.span, "here"),
            );
        }
    }
    u8::try_from(value.clamp(1, 24)).unwrap_or(24)
}

/// A `logs` widget: the saved query `query:` names (its text and groups), or the query
/// text `insights:` on `log_groups:`. `span` is the widget's `logs` key.
/// A job-events recipe's row: jobs started, completed and failed; job duration p50 and
/// p99 (when the lines are JSON, the only form a filter reads durations from); and the
/// recent-failures query as a table.
fn job_events_row(
    stack: &StackName,
    group: &Sp<String>,
    names: &Names<'_>,
    d: &mut Diagnostics,
) -> Vec<Widget> {
    let metric = |suffix: &str, stat: &str| {
        names
            .log_metrics
            .get(&format!("{}.{suffix}", group.value))
            .map(|(namespace, name)| Metric {
                namespace: namespace.clone(),
                name: name.clone(),
                dimensions: BTreeMap::new(),
                stat: stat.into(),
                period: 300,
                unit: None,
            })
    };
    let failures = names
        .queries
        .get(&format!("{stack}/{}.recent-failures", group.value));
    let (Some(started), Some(failures)) = (metric("jobs_started", "Sum"), failures) else {
        let mut diagnostic = Diagnostic::error(
            codes::UNRESOLVED_REFERENCE,
            format!("log group `{}` has no job-events recipe", group.value),
        )
        .at(group.span, "not a `log_groups` key with `job_events:`");
        if !names.log_groups.contains_key(&group.value) {
            diagnostic =
                diagnostic.suggest(&group.value, names.log_groups.keys().map(String::as_str));
        }
        d.push(diagnostic);
        return Vec::new();
    };
    let counts: Vec<Metric> = [
        Some(started),
        metric("jobs_completed", "Sum"),
        metric("jobs_failed", "Sum"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let durations: Vec<Metric> = [
        metric("jobs_duration", "p50"),
        metric("jobs_duration", "p99"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let width = if durations.is_empty() { 12 } else { 8 };
    let mut row = vec![Widget::Metric {
        title: Some(format!("{}: jobs started, completed, failed", group.value)),
        width,
        metrics: counts,
    }];
    if !durations.is_empty() {
        row.push(Widget::Metric {
            title: Some(format!("{}: job duration p50 / p99", group.value)),
            width,
            metrics: durations,
        });
    }
    row.push(Widget::Logs {
        title: format!("{}: recent failures", group.value),
        width,
        view: LogView::Table,
        log_groups: failures.value.log_groups.clone(),
        query: failures.value.query.clone(),
    });
    row
}

fn logs_widget(
    spec: &LogsWidgetSpec,
    span: Span,
    names: &Names<'_>,
    d: &mut Diagnostics,
) -> Option<Widget> {
    let LogsWidgetSpec {
        query,
        insights,
        log_groups,
        title,
        width,
        view,
    } = spec;
    let width = columns(width.as_ref(), DEFAULT_LOGS_WIDTH, d);
    let view = log_view(view.as_ref(), d);
    let (default_title, groups, text) = match (query, insights) {
        (Some(key), Some(text)) => {
            d.push(
                Diagnostic::error(
                    codes::INVALID_COMBINATION,
                    "a logs widget shows a saved query (`query:`) or its own (`insights:`), not both",
                )
                .at(text.value.span, "query text here")
                .also(key.span, "and a saved query here"),
            );
            return None;
        }
        (None, None) => {
            d.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    "a logs widget needs `query:` (a `queries` key) or `insights:` (query text)",
                )
                .at(span, "no query")
                .note("e.g. logs: { query: recent-failures } or logs: { log_groups: [workers], insights: 'fields @message | limit 20' }"),
            );
            return None;
        }
        (Some(key), None) => {
            if let Some(list) = log_groups {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_COMBINATION,
                        "a saved query's widget reads the saved query's log groups",
                    )
                    .at(list.span, "not allowed with `query:`")
                    .also(key.span, "this saved query names its own"),
                );
            }
            let Some(saved) = names.queries.values().find(|q| q.key == key.value) else {
                // Declared but invalid: already reported.
                if !names.query_keys.contains(&key.value) {
                    let looks_like_text = key.value.contains([' ', '\n', '|']);
                    let mut diagnostic = Diagnostic::error(
                        codes::UNRESOLVED_REFERENCE,
                        format!("no saved query `{}` in this stack", key.value),
                    )
                    .at(key.span, "not a `queries` key");
                    diagnostic = if looks_like_text {
                        diagnostic.note("`query:` names a saved query; write query text under `insights:`, with `log_groups:`")
                    } else {
                        diagnostic.suggest_or(
                            &key.value,
                            names.query_keys.iter().map(String::as_str),
                            "declare it under `queries:`, or write the query under `insights:`",
                        )
                    };
                    d.push(diagnostic);
                }
                return None;
            };
            let definition = &saved.value;
            (
                key.value.clone(),
                definition.log_groups.clone(),
                definition.query.clone(),
            )
        }
        (None, Some(text)) => {
            let ok = super::logs::check_query(text, d);
            let groups = widget_log_groups(log_groups.as_ref(), text.value.span, names, d)?;
            if !ok {
                return None;
            }
            (groups.join(", "), groups, text.value.value.clone())
        }
    };
    Some(Widget::Logs {
        title: title.as_ref().map_or(default_title, |t| t.value.clone()),
        width,
        view: view?,
        log_groups: groups,
        query: text.trim().to_string(),
    })
}

/// The `log_groups:` of a widget with its own query: at least one, each a `log_groups`
/// key; names in the order written, each once.
fn widget_log_groups(
    list: Option<&Sp<Vec<Sp<String>>>>,
    query_span: Span,
    names: &Names<'_>,
    d: &mut Diagnostics,
) -> Option<Vec<String>> {
    let Some(list) = list else {
        d.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                "a logs widget with `insights:` needs `log_groups:`",
            )
            .at(query_span, "which log groups does this query read?")
            .note("name `log_groups` keys, e.g. log_groups: [workers]"),
        );
        return None;
    };
    if list.value.is_empty() {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                "a logs widget reads at least one log group",
            )
            .at(list.span, "empty"),
        );
        return None;
    }
    let mut groups: Vec<String> = Vec::new();
    let mut ok = true;
    for key in &list.value {
        let Some(group) = names.log_groups.get(&key.value) else {
            ok = false;
            d.push(
                Diagnostic::error(
                    codes::UNRESOLVED_REFERENCE,
                    format!("no log group `{}` in this stack", key.value),
                )
                .at(key.span, "not a `log_groups` key")
                .suggest_or(
                    &key.value,
                    names.log_groups.keys().map(String::as_str),
                    "declare the group under `log_groups:` first",
                ),
            );
            continue;
        };
        if !groups.contains(&group.value.name) {
            groups.push(group.value.name.clone());
        }
    }
    ok.then_some(groups)
}

/// `view:`, `table` when not given.
fn log_view(view: Option<&Sp<String>>, d: &mut Diagnostics) -> Option<LogView> {
    let Some(view) = view else {
        return Some(LogView::Table);
    };
    let found = LogView::ALL.into_iter().find(|v| v.keyword() == view.value);
    if found.is_none() {
        let keywords = LogView::ALL.map(LogView::keyword);
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("unknown view `{}`", view.value),
            )
            .at(view.span, "not a logs widget view")
            .suggest_or(
                &view.value,
                keywords,
                format!("views: {}", keywords.join(", ")),
            ),
        );
    }
    found
}

fn unresolved<'a>(
    d: &mut Diagnostics,
    reference: &Sp<String>,
    kind: &str,
    candidates: impl Iterator<Item = &'a str>,
) {
    d.push(
        Diagnostic::error(
            codes::UNRESOLVED_REFERENCE,
            format!(
                "`{}` is not {} {kind} of this stack",
                reference.value,
                if kind.starts_with('a') { "an" } else { "a" }
            ),
        )
        .at(reference.span, format!("unknown {kind} key"))
        .suggest(&reference.value, candidates),
    );
}
