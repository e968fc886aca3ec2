//! Dashboard bodies: generated deterministically from the declared widgets, compared as
//! JSON, and shown as a diff of the pretty-printed JSON.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use similar::TextDiff;

use crate::model::{Dashboard, Dlq, LogView, Metric, Scope, Widget};

/// `CloudWatch` dashboards are 24 columns wide.
const GRID_WIDTH: u8 = 24;
const HEIGHT: u8 = 6;

/// The body monplan puts for `dashboard`. `dlq_of` gives a queue's dead-letter queue
/// from its redrive policy (for `Dlq::FromRedrive`).
pub fn body(
    dashboard: &Dashboard,
    scope: &Scope,
    dlq_of: &dyn Fn(&str) -> Option<String>,
) -> Value {
    if let Some(body) = &dashboard.body {
        return body.clone();
    }
    let mut placed = Vec::new();
    let (mut x, mut y, mut row_height) = (0u8, 0u32, 0u8);
    for widget in &dashboard.widgets {
        for (width, height, mut value) in widgets(widget, scope, dlq_of) {
            if x + width > GRID_WIDTH {
                x = 0;
                y += u32::from(row_height);
                row_height = 0;
            }
            value["x"] = json!(x);
            value["y"] = json!(y);
            value["width"] = json!(width);
            value["height"] = json!(height);
            placed.push(value);
            x += width;
            row_height = row_height.max(height);
        }
        // Every declared widget starts a new row, except metric and logs widgets (the
        // ones with a width) that fit beside the previous one: a queue row or an alarm
        // list reads best on its own line.
        if !matches!(widget, Widget::Metric { .. } | Widget::Logs { .. }) && x > 0 {
            x = 0;
            y += u32::from(row_height);
            row_height = 0;
        }
    }
    json!({ "widgets": placed })
}

fn metric_line(metric: &Metric) -> Value {
    let mut line = vec![json!(metric.namespace), json!(metric.name)];
    for (k, v) in &metric.dimensions {
        line.push(json!(k));
        line.push(json!(v));
    }
    line.push(json!({ "stat": metric.stat, "period": metric.period }));
    Value::Array(line)
}

/// Dashboard queue rows plot one-minute points.
fn sqs(name: &str, queue: &str, stat: &str) -> Metric {
    Metric::sqs(name, queue, stat, 60)
}

fn graph(title: &str, scope: &Scope, metrics: &[Metric]) -> Value {
    json!({
        "type": "metric",
        "properties": {
            "title": title,
            "region": scope.region,
            "view": "timeSeries",
            "stacked": false,
            "metrics": metrics.iter().map(metric_line).collect::<Vec<_>>(),
        }
    })
}

/// One declared widget as placed widgets: (width, height, JSON without position).
fn widgets(
    widget: &Widget,
    scope: &Scope,
    dlq_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<(u8, u8, Value)> {
    match widget {
        Widget::Queue { queue, dlq } => {
            let dlq = match dlq {
                Dlq::None => None,
                Dlq::Named(name) => Some(name.clone()),
                Dlq::FromRedrive => dlq_of(queue),
            };
            let mut row = vec![
                graph(
                    &format!("{queue}: messages waiting and in flight"),
                    scope,
                    &[
                        sqs("ApproximateNumberOfMessagesVisible", queue, "Maximum"),
                        sqs("ApproximateNumberOfMessagesNotVisible", queue, "Maximum"),
                    ],
                ),
                graph(
                    &format!("{queue}: age of oldest message"),
                    scope,
                    &[sqs("ApproximateAgeOfOldestMessage", queue, "Maximum")],
                ),
                graph(
                    &format!("{queue}: sent vs deleted"),
                    scope,
                    &[
                        sqs("NumberOfMessagesSent", queue, "Sum"),
                        sqs("NumberOfMessagesDeleted", queue, "Sum"),
                    ],
                ),
            ];
            if let Some(dlq) = dlq {
                row.push(graph(
                    &format!("{dlq}: failed jobs (dead-letter queue)"),
                    scope,
                    &[sqs("ApproximateNumberOfMessagesVisible", &dlq, "Maximum")],
                ));
            }
            let width = GRID_WIDTH / u8::try_from(row.len()).unwrap_or(4);
            row.into_iter().map(|w| (width, HEIGHT, w)).collect()
        }
        Widget::Alarms { alarms } => {
            let arns: Vec<String> = alarms
                .iter()
                .map(|a| scope.alarm_arn(a).to_string())
                .collect();
            let widget =
                json!({ "type": "alarm", "properties": { "title": "Alarms", "alarms": arns } });
            vec![(GRID_WIDTH, HEIGHT, widget)]
        }
        Widget::Metric {
            title,
            width,
            metrics,
        } => {
            let title = title.clone().unwrap_or_else(|| {
                metrics
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            vec![(*width, HEIGHT, graph(&title, scope, metrics))]
        }
        Widget::Text { markdown } => {
            let lines = u8::try_from(markdown.lines().count()).unwrap_or(u8::MAX);
            let widget = json!({ "type": "text", "properties": { "markdown": markdown } });
            vec![(GRID_WIDTH, lines.saturating_add(1).clamp(2, 12), widget)]
        }
        Widget::Logs {
            title,
            width,
            view,
            log_groups,
            query,
        } => vec![(*width, HEIGHT, logs(title, *view, log_groups, query, scope))],
    }
}

/// A `log` widget. AWS documents its `query` as the log groups, each written
/// `SOURCE 'name'` and separated by `|`, then another `|` and the query; the query's lines
/// stay as they are (AWS's example separates them with `\n|`). See "Properties of a Log
/// Widget Object" in the `CloudWatch` API Reference,
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html#CloudWatch-Dashboard-Properties-Log-Widget-Object>.
/// Log group names cannot contain a quote (validation checks them).
fn logs(title: &str, view: LogView, log_groups: &[String], query: &str, scope: &Scope) -> Value {
    let mut sources: Vec<String> = log_groups
        .iter()
        .map(|group| format!("SOURCE '{group}'"))
        .collect();
    sources.push(query.to_string());
    let text = sources.join(" | ");
    json!({
        "type": "log",
        "properties": {
            "query": text,
            "region": scope.region,
            "title": title,
            "view": view.keyword(),
        }
    })
}

/// Keys sorted at every level, so that two bodies that differ only in key order print
/// the same and a diff shows only real changes.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), v))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(&canonical(value)).unwrap_or_default() + "\n"
}

/// The changed lines of the two pretty-printed bodies with three lines of context.
pub fn diff(before: &Value, after: &Value) -> String {
    let (before, after) = (pretty(before), pretty(after));
    TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlarmName;

    fn scope() -> Scope {
        Scope {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }

    #[test]
    fn layout_is_deterministic_and_fills_rows_of_24() {
        let dashboard = Dashboard {
            body: None,
            name: "s_overview".into(),
            widgets: vec![
                Widget::Queue {
                    queue: "jobs".into(),
                    dlq: Dlq::FromRedrive,
                },
                Widget::Metric {
                    title: Some("a".into()),
                    width: 12,
                    metrics: vec![],
                },
                Widget::Metric {
                    title: Some("b".into()),
                    width: 12,
                    metrics: vec![],
                },
                Widget::Alarms {
                    alarms: vec![AlarmName::new("s-x")],
                },
                Widget::Text {
                    markdown: "# Runbook\nRestart".into(),
                },
            ],
        };
        let dlq = |q: &str| (q == "jobs").then(|| "jobs-dlq".to_string());
        let body = body(&dashboard, &scope(), &dlq);
        let positions: Vec<(u64, u64, u64)> = body["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["x"].as_u64().unwrap(),
                    w["y"].as_u64().unwrap(),
                    w["width"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            positions,
            [
                (0, 0, 6),
                (6, 0, 6),
                (12, 0, 6),
                (18, 0, 6),
                (0, 6, 12),
                (12, 6, 12),
                (0, 12, 24),
                (0, 18, 24)
            ]
        );
        assert_eq!(
            body["widgets"][3]["properties"]["title"],
            "jobs-dlq: failed jobs (dead-letter queue)"
        );
        assert_eq!(
            body["widgets"][6]["properties"]["alarms"][0],
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:s-x"
        );
        assert_eq!(
            body,
            super::body(&dashboard, &scope(), &dlq),
            "same input, same body"
        );
    }

    #[test]
    fn logs_widgets_name_their_groups_with_source_and_flow_like_metric_widgets() {
        let dashboard = Dashboard {
            body: None,
            name: "s_logs".into(),
            widgets: vec![
                Widget::Logs {
                    title: "Recent failures".into(),
                    width: 12,
                    view: LogView::Table,
                    log_groups: vec!["/aws/ec2/workers".into(), "/aws/ec2/api".into()],
                    query: "fields @timestamp, @message\n| filter @message like /JOB_FAILED/\n| limit 20"
                        .into(),
                },
                Widget::Logs {
                    title: "Failures by hour".into(),
                    width: 12,
                    view: LogView::TimeSeries,
                    log_groups: vec!["/aws/ec2/workers".into()],
                    query: "stats count(*) by bin(1h)".into(),
                },
                Widget::Logs {
                    title: "wide".into(),
                    width: 24,
                    view: LogView::Pie,
                    log_groups: vec!["/aws/ec2/workers".into()],
                    query: "stats count(*) by level".into(),
                },
            ],
        };
        let body = body(&dashboard, &scope(), &|_| None);
        assert_eq!(
            body["widgets"][0],
            json!({
                "type": "log",
                "x": 0,
                "y": 0,
                "width": 12,
                "height": 6,
                "properties": {
                    "query": "SOURCE '/aws/ec2/workers' | SOURCE '/aws/ec2/api' | fields @timestamp, @message\n| filter @message like /JOB_FAILED/\n| limit 20",
                    "region": "us-east-1",
                    "title": "Recent failures",
                    "view": "table",
                }
            })
        );
        let placed: Vec<(&Value, &Value, &Value)> = body["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (&w["x"], &w["y"], &w["properties"]["view"]))
            .collect();
        assert_eq!(
            placed,
            [
                (&json!(0), &json!(0), &json!("table")),
                (&json!(12), &json!(0), &json!("timeSeries")),
                (&json!(0), &json!(6), &json!("pie")),
            ]
        );
        assert_eq!(
            body["widgets"][1]["properties"]["query"],
            "SOURCE '/aws/ec2/workers' | stats count(*) by bin(1h)"
        );
    }

    #[test]
    fn bodies_compare_as_json_and_diff_shows_only_changed_lines() {
        let a: Value = serde_json::from_str(
            r#"{"widgets":[{"x":0,"type":"text","properties":{"markdown":"hi"}}]}"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(
            r#"{"widgets":[{"type":"text","x":0,"properties":{"markdown":"hi"}}]}"#,
        )
        .unwrap();
        assert_eq!(a, b, "key order does not matter");
        let c: Value = serde_json::from_str(
            r#"{"widgets":[{"type":"text","x":6,"properties":{"markdown":"hi"}}]}"#,
        )
        .unwrap();
        let text = diff(&a, &c);
        assert!(
            text.contains("-      \"x\": 0") && text.contains("+      \"x\": 6"),
            "{text}"
        );
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                .count(),
            1
        );
    }
}
