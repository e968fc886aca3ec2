//! The estate written as a stack YAML in the contract's notation: durations as `5m`,
//! thresholds under `above`/`at_least`/..., alarm actions as topic keys where the topic
//! is imported too, composite rules over alarm keys. Every string YAML could misread
//! (`yes`, `on`, `1e3`, `a: b`, `#x`, leading spaces, ...) is double-quoted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{Estate, FoundAlarm, FoundTopic, Item};
use crate::model::duration;
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, CompositeAlarm, Condition, LiveAlarmBody, Metric,
    Protocol, StackName, Tags, OWNER_TAG,
};

/// The YAML, where each resource is in it, and the values of the `${env:...}`
/// placeholders it writes (for the import's own check only).
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    pub text: String,
    /// Each written resource's first and last line (0-based).
    pub lines: BTreeMap<Item, (usize, usize)>,
    pub env: BTreeMap<String, String>,
    /// What rendering itself left out (a composite naming an alarm not imported).
    pub skipped: BTreeMap<Item, String>,
}

impl Rendered {
    /// The resource written at `line` (0-based).
    pub fn item_at(&self, line: usize) -> Option<Item> {
        self.lines
            .iter()
            .find(|(_, (first, last))| (*first..=*last).contains(&line))
            .map(|(item, _)| item.clone())
    }

    fn line(&self) -> usize {
        self.text.matches('\n').count()
    }
}

/// A resource key of the contract: `[a-z0-9]+([-_][a-z0-9]+)*`.
pub fn is_key(text: &str) -> bool {
    !text.is_empty()
        && text.split(['-', '_']).all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// A key from any AWS name: lower case, runs of other characters as one `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "imported".into()
    } else {
        out
    }
}

/// Keys for `names`: `{stack}-{key}` names become `key` (no `name:` needed), others a
/// slug of the name, made unique with `-2`, `-3`, ...; and whether `name:` must be written.
fn keys<'a>(
    stack: &StackName,
    names: impl Iterator<Item = &'a str>,
) -> BTreeMap<String, (String, bool)> {
    let prefix = format!("{stack}-");
    let mut used = BTreeSet::new();
    let mut out = BTreeMap::new();
    let names: Vec<&str> = names.collect();
    // Names that need no `name:` claim their keys first, so that a slug never takes one.
    let mut ordered: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.strip_prefix(&prefix).is_some_and(is_key))
        .collect();
    ordered.extend(
        names
            .iter()
            .copied()
            .filter(|n| !n.strip_prefix(&prefix).is_some_and(is_key)),
    );
    for name in ordered {
        let base = name
            .strip_prefix(&prefix)
            .filter(|k| is_key(k))
            .map_or_else(
                || slug(name.strip_prefix(&prefix).unwrap_or(name)),
                ToString::to_string,
            );
        let mut key = base.clone();
        let mut n = 2;
        while used.contains(&key) {
            key = format!("{base}-{n}");
            n += 1;
        }
        used.insert(key.clone());
        let explicit = format!("{prefix}{key}") != name;
        out.insert(name.to_string(), (key, explicit));
    }
    out
}

/// Words YAML 1.1 or 1.2 reads as something other than a string.
const SPECIAL_WORDS: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
];

/// A string as a YAML scalar: plain when nothing in it can be misread, else
/// double-quoted (JSON's escapes are YAML's).
pub fn scalar(text: &str) -> String {
    let plain = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !SPECIAL_WORDS.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
    }
}

/// A number as the YAML reader takes it back exactly.
fn number(value: f64) -> Option<String> {
    value.is_finite().then(|| format!("{value}"))
}

/// An http(s) endpoint whose path, query or user part may carry a token.
fn secret_url(protocol: Protocol, endpoint: &str) -> bool {
    if !matches!(protocol, Protocol::Http | Protocol::Https) {
        return false;
    }
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    let (host, tail) = rest
        .find(['/', '?', '#'])
        .map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
    host.contains('@') || !(tail.is_empty() || tail == "/")
}

/// `https://hooks.example.com/...`: what a secret endpoint's comment shows.
fn redacted(endpoint: &str) -> String {
    let shown = crate::model::Endpoint::observed(Protocol::Https, endpoint).to_string();
    shown
        .strip_prefix("(sensitive: ")
        .and_then(|s| s.strip_suffix(')'))
        .map_or(shown.clone(), ToString::to_string)
}

fn env_name(stack: &StackName, key: &str, n: usize) -> String {
    let name = format!("{stack}_{key}_endpoint_{n}")
        .to_ascii_uppercase()
        .replace('-', "_");
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

/// The YAML for what of `estate` is not `skipped`. `source`: how it was selected, for
/// the header.
pub fn render(
    stack: &StackName,
    estate: &Estate,
    skipped: &BTreeMap<Item, String>,
    source: &str,
) -> Rendered {
    let topics: Vec<&FoundTopic> = estate
        .topics
        .iter()
        .filter(|t| !skipped.contains_key(&Item::Topic(t.name.clone())))
        .collect();
    let alarms: Vec<&FoundAlarm> = estate
        .alarms
        .iter()
        .filter(|a| !skipped.contains_key(&Item::Alarm(a.name.clone())))
        .collect();
    let prefix = format!("{stack}_");
    let dashboards: Vec<(&String, &serde_json::Value)> = estate
        .dashboards
        .iter()
        .filter(|(name, _)| {
            name.starts_with(&prefix) && !skipped.contains_key(&Item::Dashboard((*name).clone()))
        })
        .collect();
    let topic_keys = keys(stack, topics.iter().map(|t| t.name.as_str()));
    let alarm_keys = keys(stack, alarms.iter().map(|a| a.name.as_str()));
    let topic_arns: BTreeMap<String, String> = topics
        .iter()
        .map(|t| (t.arn.to_string(), topic_keys[t.name.as_str()].0.clone()))
        .collect();

    let mut body = Rendered::default();
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut composite_skips: BTreeMap<Item, String> = BTreeMap::new();
    let _ = writeln!(body.text, "stack: {}", scalar(stack.as_str()));
    if !topics.is_empty() {
        body.text.push_str("topics:\n");
        for topic in &topics {
            let (key, explicit) = &topic_keys[topic.name.as_str()];
            let first = body.line();
            let _ = writeln!(body.text, "  {key}:");
            if *explicit {
                let _ = writeln!(body.text, "    name: {}", scalar(topic.name.as_str()));
            }
            adopt_line(stack, &topic.tags, &mut body.text);
            if let Some(display_name) = &topic.display_name {
                let _ = writeln!(body.text, "    display_name: {}", scalar(display_name));
            }
            let mut subscriptions: Vec<_> = topic.subscriptions.iter().collect();
            subscriptions.sort_by(|a, b| (a.protocol, &a.endpoint).cmp(&(b.protocol, &b.endpoint)));
            subscriptions.dedup_by(|a, b| a.protocol == b.protocol && a.endpoint == b.endpoint);
            if !subscriptions.is_empty() {
                body.text.push_str("    subscriptions:\n");
                for s in subscriptions {
                    let endpoint = if secret_url(s.protocol, &s.endpoint) {
                        let name = env_name(stack, key, secrets.len() + 1);
                        body.env.insert(name.clone(), s.endpoint.clone());
                        secrets.push((
                            name.clone(),
                            format!(
                                "the {} endpoint of topic {} ({})",
                                s.protocol,
                                topic.name,
                                redacted(&s.endpoint)
                            ),
                        ));
                        format!("${{env:{name}}}")
                    } else {
                        s.endpoint.clone()
                    };
                    let _ = writeln!(body.text, "      - {}: {}", s.protocol, scalar(&endpoint));
                }
            }
            tag_lines(&topic.tags, "    ", &mut body.text);
            body.lines
                .insert(Item::Topic(topic.name.clone()), (first, body.line() - 1));
        }
    }
    let names: BTreeMap<&str, &str> = alarm_keys
        .iter()
        .map(|(name, (key, _))| (name.as_str(), key.as_str()))
        .collect();
    let mut alarm_text = String::new();
    let mut alarm_lines = Vec::new();
    for alarm in &alarms {
        let (key, explicit) = &alarm_keys[alarm.name.as_str()];
        let mut out = String::new();
        let _ = writeln!(out, "  {key}:");
        if *explicit {
            let _ = writeln!(out, "    name: {}", scalar(alarm.name.as_str()));
        }
        adopt_line(stack, &alarm.tags, &mut out);
        let written = match &alarm.body {
            LiveAlarmBody::Metric(metric) => metric_alarm(metric, &topic_arns, &mut out),
            LiveAlarmBody::Composite(composite) => {
                composite_alarm(composite, &names, &topic_arns, &mut out)
            }
            LiveAlarmBody::Other(what) => Err(what.clone()),
        };
        if let Err(why) = written {
            composite_skips.insert(Item::Alarm(alarm.name.clone()), why);
            continue;
        }
        tag_lines(&alarm.tags, "    ", &mut out);
        alarm_lines.push((alarm.name.clone(), out.matches('\n').count()));
        alarm_text.push_str(&out);
    }
    if !alarm_text.is_empty() {
        body.text.push_str("alarms:\n");
        let mut line = body.line();
        for (name, count) in alarm_lines {
            body.lines
                .insert(Item::Alarm(name), (line, line + count - 1));
            line += count;
        }
        body.text.push_str(&alarm_text);
    }
    if !dashboards.is_empty() {
        body.text.push_str("dashboards:\n");
        for (name, value) in dashboards {
            let key = name.strip_prefix(&prefix).unwrap_or(name);
            let first = body.line();
            let json = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into());
            let _ = writeln!(body.text, "  {key}:");
            body.text.push_str("    body: |\n");
            for line in json.lines() {
                let _ = writeln!(body.text, "      {line}");
            }
            body.lines
                .insert(Item::Dashboard(name.clone()), (first, body.line() - 1));
        }
    }

    let mut all_skipped: Vec<(String, String)> = skipped
        .iter()
        .chain(&composite_skips)
        .map(|(item, why)| (item.to_string(), why.clone()))
        .collect();
    all_skipped.sort();
    body.skipped = composite_skips;
    let head = header(source, &all_skipped, &secrets);
    let offset = head.matches('\n').count();
    for range in body.lines.values_mut() {
        range.0 += offset;
        range.1 += offset;
    }
    body.text = head + &body.text;
    body
}

/// Text for a `#` comment: one line, control characters escaped.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn header(source: &str, skipped: &[(String, String)], secrets: &[(String, String)]) -> String {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "# Written by `monplan import` from {}.",
        comment(source)
    );
    head.push_str(
        "# `adopt: true` marks what has no monplan:stack tag yet: the first apply only tags it\n\
         # as this stack's. Remove `adopt` afterwards, or leave it: it is then a no-op.\n",
    );
    if !secrets.is_empty() {
        head.push_str(
            "# Webhook endpoints are not written out (their paths and queries carry tokens);\n\
             # set these variables to them before `monplan validate` or `plan`:\n",
        );
        for (name, what) in secrets {
            let _ = writeln!(head, "#   {name}: {}", comment(what));
        }
    }
    if !skipped.is_empty() {
        head.push_str("# Not imported:\n");
        for (item, why) in skipped {
            let _ = writeln!(head, "#   {}: {}", comment(item), comment(why));
        }
    }
    head
}

fn adopt_line(stack: &StackName, tags: &Tags, out: &mut String) {
    if tags.get(OWNER_TAG).map(String::as_str) != Some(stack.as_str()) {
        out.push_str("    adopt: true\n");
    }
}

/// The tags the YAML must list for the plan to keep them: all but monplan's and AWS's.
fn tag_lines(tags: &Tags, indent: &str, out: &mut String) {
    let own: Vec<(&String, &String)> = tags
        .iter()
        .filter(|(k, _)| k.as_str() != OWNER_TAG && !k.starts_with("aws:"))
        .collect();
    if own.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}tags:");
    for (k, v) in own {
        let _ = writeln!(out, "{indent}  {}: {}", scalar(k), scalar(v));
    }
}

fn metric_lines(metric: &Metric, indent: &str, out: &mut String) {
    let Metric {
        namespace,
        name,
        dimensions,
        stat,
        period,
        unit,
    } = metric;
    let _ = writeln!(out, "{indent}namespace: {}", scalar(namespace));
    let _ = writeln!(out, "{indent}name: {}", scalar(name));
    if !dimensions.is_empty() {
        let _ = writeln!(out, "{indent}dimensions:");
        for (k, v) in dimensions {
            let _ = writeln!(out, "{indent}  {}: {}", scalar(k), scalar(v));
        }
    }
    let _ = writeln!(out, "{indent}stat: {}", scalar(stat));
    let _ = writeln!(
        out,
        "{indent}period: {}",
        duration::yaml(f64::from(*period))
    );
    if let Some(unit) = unit {
        let _ = writeln!(out, "{indent}unit: {}", scalar(unit));
    }
}

fn metric_alarm(
    alarm: &Alarm,
    topics: &BTreeMap<String, String>,
    out: &mut String,
) -> Result<(), String> {
    let Alarm {
        name: _,
        description,
        metric,
        condition,
        evaluation_periods,
        datapoints_to_alarm,
        treat_missing_data,
        actions_enabled,
        actions,
        tags: _,
    } = alarm;
    if let Some(description) = description {
        let _ = writeln!(out, "    description: {}", scalar(description));
    }
    match metric {
        AlarmMetric::Single(metric) => {
            out.push_str("    metric:\n");
            metric_lines(metric, "      ", out);
        }
        AlarmMetric::Math {
            expression,
            metrics,
        } => {
            let _ = writeln!(out, "    expression: {}", scalar(expression));
            out.push_str("    metrics:\n");
            for (id, metric) in metrics {
                let _ = writeln!(out, "      {}:", scalar(id));
                metric_lines(metric, "        ", out);
            }
        }
        // The stack format writes Metrics Insights alarms only as a `workers:` fleet's
        // stuck detector, which an alarm clicked together is not.
        AlarmMetric::Insights { .. } => {
            return Err("it is a Metrics Insights query alarm; the stack format makes those only for `workers:` fleets".into());
        }
    }
    match condition {
        Condition::Threshold { comparison, value } => {
            let value = number(*value).ok_or("its threshold is not a finite number")?;
            let _ = writeln!(out, "    {}: {value}", comparison.keyword());
        }
        Condition::Band { side, deviations } => {
            let value = number(*deviations).ok_or("its band width is not a finite number")?;
            let _ = writeln!(out, "    {}: {value}", side.keyword());
        }
    }
    let _ = writeln!(out, "    evaluation_periods: {evaluation_periods}");
    let _ = writeln!(out, "    datapoints_to_alarm: {datapoints_to_alarm}");
    let _ = writeln!(
        out,
        "    treat_missing_data: {}",
        treat_missing_data.keyword()
    );
    action_lines(*actions_enabled, actions, topics, out);
    Ok(())
}

fn action_lines(
    enabled: bool,
    actions: &AlarmActions,
    topics: &BTreeMap<String, String>,
    out: &mut String,
) {
    let AlarmActions {
        alarm,
        ok,
        insufficient_data,
    } = actions;
    let _ = writeln!(out, "    actions_enabled: {enabled}");
    for (key, list) in [
        ("notify", alarm),
        ("notify_ok", ok),
        ("notify_insufficient_data", insufficient_data),
    ] {
        let items: Vec<String> = list
            .iter()
            .map(|action| match action {
                Action::Arn(arn) => topics
                    .get(arn.as_str())
                    .cloned()
                    .unwrap_or_else(|| scalar(arn.as_str())),
                Action::Topic(name) => scalar(name.as_str()),
                Action::Policy(policy) => scalar(&policy.to_string()),
                Action::ServicePolicy(policy) => scalar(&policy.to_string()),
                Action::Ec2(action) => format!("ec2:{}", action.keyword()),
            })
            .collect();
        // The YAML has no `defaults:`, so an empty list needs no writing.
        if !items.is_empty() {
            let _ = writeln!(out, "    {key}: [{}]", items.join(", "));
        }
    }
}

fn composite_alarm(
    alarm: &CompositeAlarm,
    keys: &BTreeMap<&str, &str>,
    topics: &BTreeMap<String, String>,
    out: &mut String,
) -> Result<(), String> {
    let CompositeAlarm {
        name: _,
        description,
        rule,
        actions_enabled,
        actions,
        tags: _,
    } = alarm;
    if let Some(description) = description {
        let _ = writeln!(out, "    description: {}", scalar(description));
    }
    let _ = writeln!(out, "    rule: {}", scalar(&rule_over_keys(rule, keys)?));
    action_lines(*actions_enabled, actions, topics, out);
    Ok(())
}

/// `ALARM("shop-a") OR OK(b)` with the alarms' keys for their names; every alarm the
/// rule names must be imported too.
pub fn rule_over_keys(rule: &str, keys: &BTreeMap<&str, &str>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = rule;
    while let Some(open) = rest.find('(') {
        let before = &rest[..open];
        let is_state = ["ALARM", "OK", "INSUFFICIENT_DATA"]
            .iter()
            .any(|f| before.trim_end().ends_with(f));
        out.push_str(before);
        out.push('(');
        let after = &rest[open + 1..];
        if !is_state {
            rest = after;
            continue;
        }
        let Some(close) = after.find(')') else {
            return Err("its rule cannot be read".into());
        };
        let name = after[..close].trim().trim_matches('"').trim();
        let Some(key) = keys.get(name) else {
            return Err(format!(
                "its rule names alarm `{name}`, which is not imported (composite rules name alarms of the same stack)"
            ));
        };
        out.push_str(key);
        out.push(')');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
