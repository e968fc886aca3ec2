//! Dashboards: widgets resolved against the stack's queues and alarms.

use std::collections::BTreeMap;

use super::alarm::{metric, Inherited};
use crate::diag::{codes, Diagnostic, Diagnostics, Sp, Span};
use crate::model::{
    AlarmMetric, AlarmName, Dashboard, Declared, Dlq, Metric, QueueUse, StackName, Widget,
};
use crate::spec::{DashboardSpec, MetricEntry, WidgetSpec};

/// A metric widget is half a row unless told otherwise.
const DEFAULT_METRIC_WIDTH: u64 = 12;
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
    pub composites: &'a std::collections::BTreeSet<String>,
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
                let width_value = width.as_ref().map_or(DEFAULT_METRIC_WIDTH, |w| w.value);
                if !(1..=24).contains(&width_value) {
                    if let Some(w) = width {
                        d.push(
                            Diagnostic::error(
                                codes::INVALID_VALUE,
                                "a widget is 1 to 24 columns wide",
                            )
                            .at(w.span, "here"),
                        );
                    }
                }
                let mut resolved: Vec<Metric> = Vec::new();
                for entry in metrics {
                    match entry {
                        MetricEntry::Alarm(alarm_key) => {
                            match names.metrics.get(&alarm_key.value) {
                                Some(AlarmMetric::Single(m)) => resolved.push(m.clone()),
                                Some(AlarmMetric::Math { metrics, .. }) => {
                                    resolved.extend(metrics.values().cloned());
                                }
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
                    width: u8::try_from(width_value.clamp(1, 24)).unwrap_or(12),
                    metrics: resolved,
                });
            }
            WidgetSpec::Text(markdown) => widgets.push(Widget::Text {
                markdown: markdown.value.clone(),
            }),
        }
    }
    if d.error_count() > errors_before {
        return None;
    }
    let name = format!("{stack}_{}", key.value);
    Some(Declared {
        value: Dashboard { name, widgets },
        key: key.value.clone(),
        origin: key.span,
    })
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
