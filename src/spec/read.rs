//! Walks a located YAML tree into spec types, reporting every shape problem it meets.

use super::node::{Node, Value};
use super::{AlarmSpec, MetricSpec, StackSpec, SubscriptionSpec, ThresholdSpec, TopicSpec};
use crate::diag::{codes, suggest, Diagnostic, Diagnostics, FileId, Sp};

const STACK_KEYS: &[&str] = &[
    "stack",
    "region",
    "account",
    "tags",
    "defaults",
    "topics",
    "queues",
    "alarms",
    "dashboards",
];
const TOPIC_KEYS: &[&str] = &["name", "display_name", "subscriptions"];
const SUBSCRIPTION_PROTOCOLS: &[&str] = &[
    "email",
    "email-json",
    "http",
    "https",
    "sqs",
    "lambda",
    "sms",
];
const ALARM_KEYS: &[&str] = &[
    "name",
    "description",
    "metric",
    "above",
    "at_least",
    "below",
    "at_most",
    "period",
    "evaluation_periods",
    "datapoints_to_alarm",
    "treat_missing_data",
    "actions_enabled",
    "notify",
    "notify_ok",
    "notify_insufficient_data",
    // Contract keys of alarm kinds this version does not implement yet; they get a
    // "not supported yet" error rather than "unknown key".
    "expression",
    "metrics",
    "rule",
    "outside_band",
    "above_band",
    "below_band",
];
/// The alarm fields `defaults` may set: everything that is not about one alarm's metric.
pub(super) const DEFAULTS_KEYS: &[&str] = &[
    "period",
    "evaluation_periods",
    "datapoints_to_alarm",
    "treat_missing_data",
    "actions_enabled",
    "notify",
    "notify_ok",
    "notify_insufficient_data",
];
const METRIC_KEYS: &[&str] = &["namespace", "name", "dimensions", "stat", "period", "unit"];
const THRESHOLD_KEYS: &[&str] = &["above", "at_least", "below", "at_most"];
const NOT_YET: &[&str] = &[
    "queues",
    "dashboards",
    "expression",
    "metrics",
    "rule",
    "outside_band",
    "above_band",
    "below_band",
];

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
            .and_then(|n| alarm(n, DEFAULTS_KEYS, d)),
        topics: Vec::new(),
        alarms: Vec::new(),
    };
    if let Some(node) = map.take("topics") {
        stack.topics = keyed(node, d, topic);
    }
    if let Some(node) = map.take("alarms") {
        stack.alarms = keyed(node, d, |n, d| alarm(n, ALARM_KEYS, d));
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
    if !SUBSCRIPTION_PROTOCOLS.contains(&protocol.value.as_str()) {
        let mut diag = Diagnostic::error(
            codes::INVALID_VALUE,
            format!("unknown subscription protocol `{}`", protocol.value),
        )
        .at(protocol.span, "not a protocol monplan knows");
        diag = match suggest(&protocol.value, SUBSCRIPTION_PROTOCOLS.iter().copied()) {
            Some(s) => diag.note(format!("did you mean `{s}`?")),
            None => diag.note(format!("protocols: {}", SUBSCRIPTION_PROTOCOLS.join(", "))),
        };
        d.push(diag);
        return None;
    }
    let endpoint = string(value, d)?;
    Some(SubscriptionSpec { protocol, endpoint })
}

fn alarm(node: &Node, allowed: &[&str], d: &mut Diagnostics) -> Option<AlarmSpec> {
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
        unsupported_kind: NOT_YET.iter().any(|k| map.has(k)),
    };
    for keyword in THRESHOLD_KEYS {
        if let Some((key, value)) = map.take_pair(keyword) {
            let value = number(value, d);
            let keyword = Sp::new((*keyword).to_string(), key.span);
            spec.thresholds.push(ThresholdSpec { keyword, value });
        }
    }
    map.finish(allowed, d);
    Some(spec)
}

fn metric(node: &Node, d: &mut Diagnostics) -> Option<Sp<MetricSpec>> {
    let mut map = Fields::new(node, "a metric (a mapping with namespace, name, stat)", d)?;
    let spec = MetricSpec {
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
        for (key, value) in pairs {
            let first = kept
                .iter()
                .find(|(k, _)| k.value == key.value)
                .map(|(k, _)| k.span);
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

    fn has(&self, key: &str) -> bool {
        self.pairs
            .iter()
            .any(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
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

    /// Reports every pair nobody took: an unknown key, a key not allowed here, or a
    /// contract key this version does not implement yet.
    fn finish(self, allowed: &[&str], d: &mut Diagnostics) {
        for (index, (key, _)) in self.pairs.iter().enumerate() {
            if self.taken[index] {
                continue;
            }
            let text = scalar_text(key);
            if NOT_YET.contains(&text.as_str()) && allowed.contains(&text.as_str()) {
                d.push(
                    Diagnostic::error(
                        codes::NOT_SUPPORTED,
                        format!("`{text}` is part of the stack format but not supported by this version of monplan yet"),
                    )
                    .at(key.span, "not supported yet"),
                );
                continue;
            }
            let mut diag = Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown key `{text}`"))
                .at(key.span, "unknown key");
            let known = allowed.iter().copied().filter(|k| !NOT_YET.contains(k));
            if let Some(s) = suggest(&text, known) {
                diag = diag.note(format!("did you mean `{s}`?"));
            } else {
                let list: Vec<&str> = allowed
                    .iter()
                    .copied()
                    .filter(|k| !NOT_YET.contains(k))
                    .collect();
                diag = diag.note(format!("expected one of: {}", list.join(", ")));
            }
            d.push(diag);
        }
    }
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
        Value::Float(f) if f.is_finite() => Some(Sp::new(f, node.span)),
        _ => {
            wrong_type(node, "a number", d);
            None
        }
    }
}

fn count(node: &Node, d: &mut Diagnostics) -> Option<Sp<u64>> {
    match node.value {
        Value::Int(i) if i > 0 => Some(Sp::new(i.unsigned_abs(), node.span)),
        _ => {
            wrong_type(node, "a whole number of 1 or more", d);
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
    }
}
