//! Resources as named, canonically rendered fields: what a plan compares and shows.
//! Names follow the YAML (`threshold`, `metric.period`, `notify`), values its notation
//! (`5m`, `above 5`), so that a plan reads like the stack that caused it.

use std::collections::{BTreeMap, BTreeSet};

use super::FieldDiff;
use crate::model::{
    Alarm, AlarmActions, AlarmMetric, CompositeAlarm, Condition, Metric, PolicyKind, ScalingPolicy,
    Tags, Topic,
};

pub type Fields = Vec<(String, String)>;

pub fn topic_fields(topic: &Topic) -> Fields {
    let mut fields = Vec::new();
    if let Some(display_name) = &topic.display_name {
        fields.push(("display_name".into(), quote(display_name)));
    }
    fields.extend(tag_fields(&topic.tags));
    fields
}

pub fn tag_fields(tags: &Tags) -> Fields {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (format!("tags.{k}"), quote(v)))
        .collect()
}

fn metric_fields(prefix: &str, metric: &Metric, fields: &mut Fields) {
    fields.push((format!("{prefix}.namespace"), metric.namespace.clone()));
    fields.push((format!("{prefix}.name"), metric.name.clone()));
    for (k, v) in &metric.dimensions {
        fields.push((format!("{prefix}.dimensions.{k}"), v.clone()));
    }
    fields.push((format!("{prefix}.stat"), metric.stat.clone()));
    fields.push((format!("{prefix}.period"), duration(metric.period)));
    if let Some(unit) = &metric.unit {
        fields.push((format!("{prefix}.unit"), unit.clone()));
    }
}

fn action_fields(actions: &AlarmActions, fields: &mut Fields) {
    for (name, list) in [
        ("notify", &actions.alarm),
        ("notify_ok", &actions.ok),
        ("notify_insufficient_data", &actions.insufficient_data),
    ] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(ToString::to_string).collect();
            fields.push((name.into(), format!("[{}]", items.join(", "))));
        }
    }
}

/// A metric alarm's fields. Tags are separate: AWS updates them through another API.
pub fn alarm_fields(alarm: &Alarm) -> Fields {
    let mut fields: Fields = Vec::new();
    if let Some(description) = &alarm.description {
        fields.push(("description".into(), quote(description)));
    }
    match &alarm.metric {
        AlarmMetric::Single(metric) => metric_fields("metric", metric, &mut fields),
        AlarmMetric::Math {
            expression,
            metrics,
        } => {
            fields.push(("expression".into(), expression.clone()));
            for (id, metric) in metrics {
                metric_fields(&format!("metrics.{id}"), metric, &mut fields);
            }
        }
    }
    match alarm.condition {
        Condition::Threshold { comparison, value } => {
            fields.push((
                "threshold".into(),
                format!("{} {value}", comparison.keyword()),
            ));
        }
        Condition::Band { side, deviations } => {
            fields.push(("band".into(), format!("{} {deviations}", side.keyword())));
        }
    }
    fields.push((
        "evaluation_periods".into(),
        alarm.evaluation_periods.to_string(),
    ));
    fields.push((
        "datapoints_to_alarm".into(),
        alarm.datapoints_to_alarm.to_string(),
    ));
    fields.push((
        "treat_missing_data".into(),
        alarm.treat_missing_data.keyword().into(),
    ));
    fields.push(("actions_enabled".into(), alarm.actions_enabled.to_string()));
    action_fields(&alarm.actions, &mut fields);
    fields
}

/// Every field, tags included: what a create or delete shows.
pub fn all_alarm_fields(alarm: &Alarm) -> Fields {
    let mut fields = alarm_fields(alarm);
    fields.extend(tag_fields(&alarm.tags));
    fields
}

pub fn composite_fields(alarm: &CompositeAlarm) -> Fields {
    let mut fields: Fields = Vec::new();
    if let Some(description) = &alarm.description {
        fields.push(("description".into(), quote(description)));
    }
    fields.push(("rule".into(), alarm.rule.clone()));
    fields.push(("actions_enabled".into(), alarm.actions_enabled.to_string()));
    action_fields(&alarm.actions, &mut fields);
    fields
}

pub fn all_composite_fields(alarm: &CompositeAlarm) -> Fields {
    let mut fields = composite_fields(alarm);
    fields.extend(tag_fields(&alarm.tags));
    fields
}

pub fn policy_fields(policy: &ScalingPolicy) -> Fields {
    let mut fields: Fields = vec![("group".into(), policy.policy.group.clone())];
    match &policy.kind {
        PolicyKind::Backlog {
            queue,
            target,
            warmup,
            scale_in,
        } => {
            fields.push((
                "type".into(),
                "target tracking on visible / inservice".into(),
            ));
            fields.push(("queue".into(), queue.clone()));
            fields.push(("target".into(), format!("{target} messages per instance")));
            if let Some(warmup) = warmup {
                fields.push(("warmup".into(), duration(*warmup)));
            }
            fields.push(("scale_in".into(), scale_in.to_string()));
        }
        PolicyKind::FromZero => {
            fields.push((
                "type".into(),
                "step scaling: +1 instance while the group is empty and messages wait".into(),
            ));
        }
    }
    fields
}

pub fn quote(text: &str) -> String {
    format!("{text:?}")
}

/// `90s`, `5m`, `1h`, `1d`: the way the YAML writes durations.
pub fn duration(seconds: u32) -> String {
    match seconds {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

pub fn created(fields: Fields) -> Vec<FieldDiff> {
    fields
        .into_iter()
        .map(|(name, v)| FieldDiff {
            name,
            before: None,
            after: Some(v),
        })
        .collect()
}

pub fn deleted(fields: Fields) -> Vec<FieldDiff> {
    fields
        .into_iter()
        .map(|(name, v)| FieldDiff {
            name,
            before: Some(v),
            after: None,
        })
        .collect()
}

/// The fields whose rendered value differs, in the order the desired side lists them.
pub fn changed(before: &Fields, after: &Fields) -> Vec<FieldDiff> {
    let before_map: BTreeMap<&String, &String> = before.iter().map(|(k, v)| (k, v)).collect();
    let after_map: BTreeMap<&String, &String> = after.iter().map(|(k, v)| (k, v)).collect();
    let mut names: Vec<&String> = after.iter().map(|(k, _)| k).collect();
    let seen: BTreeSet<&String> = names.iter().copied().collect();
    names.extend(before.iter().map(|(k, _)| k).filter(|k| !seen.contains(k)));
    names
        .into_iter()
        .filter(|k| before_map.get(k) != after_map.get(k))
        .map(|k| FieldDiff {
            name: k.clone(),
            before: before_map.get(k).map(|v| (*v).clone()),
            after: after_map.get(k).map(|v| (*v).clone()),
        })
        .collect()
}
