//! `monplan import`, the pure part: what AWS holds ([`Estate`], read by
//! [`crate::aws::read_estate`]) written as a stack YAML that plans no change but the
//! ownership tags.
//!
//! Faithful or not at all: [`import`] renders the YAML ([`yaml`]), loads and validates it
//! with monplan's own loader, and plans it against the estate itself. A resource the
//! stack format cannot express (the YAML does not validate at its lines) or that the plan
//! would change beyond tagging it is left out, with the reason in the file's header, and
//! the rest is written again, until the plan of what is left only adopts.

pub mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::{Diagnostics, SourceMap};
use crate::model::{
    AlarmName, Arn, LiveAlarm, LiveAlarmBody, LiveState, LiveSubscription, LiveTopic, Owner,
    ResourceId, Scope, StackName, Tags, Topic, TopicName, OWNER_TAG,
};
use crate::plan::{ChangeAction, Op, StackInput};
use crate::validate::Env;

/// Alarms that AWS creates for target-tracking scaling policies; their policy owns them.
const AWS_MANAGED_ALARM_PREFIX: &str = "TargetTracking-";

/// Rounds of leaving out what does not round-trip. Each round leaves out at least one
/// resource or ends; the bound only guards against a bug looping for ever.
const MAX_ROUNDS: usize = 64;

/// What AWS holds that an import selected: plain data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Estate {
    pub alarms: Vec<FoundAlarm>,
    pub topics: Vec<FoundTopic>,
    /// Dashboards by name, with their bodies.
    pub dashboards: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FoundAlarm {
    pub name: AlarmName,
    pub arn: Arn,
    /// As the planner's reader normalizes it, tags not yet filled in.
    pub body: LiveAlarmBody,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FoundTopic {
    pub name: TopicName,
    pub arn: Arn,
    pub display_name: Option<String>,
    pub tags: Tags,
    pub subscriptions: Vec<LiveSubscription>,
}

/// The YAML and what it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub yaml: String,
    /// `(resource, why it is not in the YAML)`.
    pub skipped: Vec<(String, String)>,
    /// How many resources the YAML declares.
    pub written: usize,
}

/// A resource of the estate, as [`yaml::render`] writes it and the header skips it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Item {
    Topic(TopicName),
    Alarm(AlarmName),
    Dashboard(String),
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Topic(name) => write!(f, "topic \"{name}\""),
            Item::Alarm(name) => write!(f, "alarm \"{name}\""),
            Item::Dashboard(name) => write!(f, "dashboard \"{name}\""),
        }
    }
}

/// Environment values for the endpoints the YAML writes as `${env:NAME}`, only for the
/// import's own check; never written.
struct Secrets<'a>(&'a BTreeMap<String, String>);

impl Env for Secrets<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Writes the stack YAML for `estate`: faithful, or the resource is left out and the
/// header says why.
pub fn import(stack: &StackName, estate: &Estate, scope: &Scope, source: &str) -> Imported {
    let mut skipped: BTreeMap<Item, String> = first_pass_skips(stack, estate);
    for _ in 0..MAX_ROUNDS {
        let rendered = yaml::render(stack, estate, &skipped, source);
        let mut more = rendered.skipped.clone();
        match check(stack, estate, scope, &rendered) {
            Ok(problems) => {
                for (item, why) in problems {
                    more.entry(item).or_insert(why);
                }
            }
            Err(reason) => {
                // Nothing to point at: leave everything out rather than write a file
                // that does not validate.
                for item in rendered.lines.keys() {
                    more.entry(item.clone()).or_insert_with(|| reason.clone());
                }
            }
        }
        more.retain(|item, _| !skipped.contains_key(item));
        // Left out while rendering and nothing else: done.
        if more.keys().all(|item| rendered.skipped.contains_key(item)) {
            skipped.extend(more);
            if warn_owned(stack, estate, &mut skipped) {
                // The header must carry the warnings too.
                let rendered = yaml::render(stack, estate, &skipped, source);
                return Imported {
                    written: rendered.lines.len(),
                    yaml: rendered.text,
                    skipped: skipped
                        .into_iter()
                        .map(|(item, why)| (item.to_string(), why))
                        .collect(),
                };
            }
            return Imported {
                written: rendered.lines.len(),
                yaml: rendered.text,
                skipped: skipped
                    .into_iter()
                    .map(|(item, why)| (item.to_string(), why))
                    .collect(),
            };
        }
        skipped.extend(more);
    }
    let rendered = yaml::render(stack, &Estate::default(), &skipped, source);
    Imported {
        yaml: rendered.text,
        skipped: skipped
            .into_iter()
            .map(|(item, why)| (item.to_string(), why))
            .collect(),
        written: 0,
    }
}

/// Marks what is left out although this stack already owns it: the plan of the written
/// YAML deletes it (the stack no longer declares it). Whether any was marked.
fn warn_owned(stack: &StackName, estate: &Estate, skipped: &mut BTreeMap<Item, String>) -> bool {
    const WARNING: &str = "; WARNING: it is tagged monplan:stack=";
    let owned: Vec<Item> = estate
        .alarms
        .iter()
        .filter(|a| a.tags.get(OWNER_TAG).map(String::as_str) == Some(stack.as_str()))
        .map(|a| Item::Alarm(a.name.clone()))
        .chain(
            estate
                .topics
                .iter()
                .filter(|t| t.tags.get(OWNER_TAG).map(String::as_str) == Some(stack.as_str()))
                .map(|t| Item::Topic(t.name.clone())),
        )
        .collect();
    let mut marked = false;
    for item in owned {
        if let Some(why) = skipped.get_mut(&item) {
            if !why.contains(WARNING) {
                let _ = std::fmt::Write::write_fmt(
                    why,
                    format_args!("{WARNING}{stack}, so a plan of this file deletes it: declare it by hand before you apply"),
                );
                marked = true;
            }
        }
    }
    marked
}

/// What is left out before anything is written: what belongs to someone else, and
/// dashboards this stack cannot own.
fn first_pass_skips(stack: &StackName, estate: &Estate) -> BTreeMap<Item, String> {
    let mut skipped = BTreeMap::new();
    let other_stack = |tags: &Tags| {
        tags.get(OWNER_TAG)
            .filter(|s| *s != stack.as_str())
            .map(|s| format!("tagged monplan:stack={s}: it belongs to that stack"))
    };
    for topic in &estate.topics {
        if let Some(why) = other_stack(&topic.tags) {
            skipped.insert(Item::Topic(topic.name.clone()), why);
        }
    }
    for alarm in &estate.alarms {
        let item = Item::Alarm(alarm.name.clone());
        if let Some(why) = other_stack(&alarm.tags) {
            skipped.insert(item, why);
        } else if alarm.name.as_str().starts_with(AWS_MANAGED_ALARM_PREFIX) {
            skipped.insert(
                item,
                "created by AWS for a target-tracking scaling policy, which manages it".into(),
            );
        } else if let LiveAlarmBody::Other(what) = &alarm.body {
            skipped.insert(item, format!("{what}: the stack format cannot express it"));
        }
    }
    let prefix = format!("{stack}_");
    for name in estate.dashboards.keys() {
        let key = name.strip_prefix(&prefix).unwrap_or_default();
        if !yaml::is_key(key) {
            skipped.insert(
                Item::Dashboard(name.clone()),
                if name.starts_with(&prefix) {
                    format!(
                        "`{key}` is not a valid key; WARNING: named with the prefix `{prefix}`, it is owned by this stack, whose plan deletes it: rename it before you apply"
                    )
                } else {
                    format!(
                        "monplan owns dashboards by the name `{stack}_KEY` (dashboards cannot be tagged): rename it to `{stack}_...` or recreate it from widgets"
                    )
                },
            );
        }
    }
    skipped
}

/// Loads, validates and plans the rendered YAML against the estate: the resources whose
/// lines have a diagnostic, or that the plan changes beyond tagging, with why. `Err`
/// when a problem cannot be pinned on a resource.
fn check(
    stack: &StackName,
    estate: &Estate,
    scope: &Scope,
    rendered: &yaml::Rendered,
) -> Result<BTreeMap<Item, String>, String> {
    let mut sources = SourceMap::default();
    let mut d = Diagnostics::default();
    let file = sources.add(Path::new("import.yaml"), rendered.text.clone());
    let root = crate::spec::node::parse(file, sources.source(file))
        .map_err(|e| format!("the written YAML does not parse: {}", e.message))?;
    let spec = crate::spec::read_stack(file, &root, &mut d);
    let specs: Vec<_> = spec.into_iter().collect();
    let desired = crate::validate::validate(&specs, &Secrets(&rendered.env), &mut d);
    let mut problems = BTreeMap::new();
    for diagnostic in d.iter() {
        let Some((span, _)) = &diagnostic.primary else {
            return Err(format!("{}: {}", diagnostic.code, diagnostic.message));
        };
        let line = rendered.text[..span.start.min(rendered.text.len())]
            .matches('\n')
            .count();
        let Some(item) = rendered.item_at(line) else {
            return Err(format!("{}: {}", diagnostic.code, diagnostic.message));
        };
        problems.entry(item).or_insert_with(|| {
            format!(
                "the stack format cannot express it as read ({})",
                diagnostic.message
            )
        });
    }
    if !problems.is_empty() {
        return Ok(problems);
    }
    let Some(desired) = desired.first() else {
        return Err("the written YAML declares no stack".into());
    };
    let live = live_state(stack, estate);
    let plan = crate::plan::plan(&[StackInput {
        desired,
        scope,
        live: &live,
    }]);
    // Review warnings (a pending subscription, a statistic that fits badly) are advice
    // about what exists, which the plan of the file shows again: not a reason to leave
    // a resource out.
    if let Some(error) = plan
        .errors
        .iter()
        .find(|d| d.severity == crate::diag::Severity::Error)
    {
        return Err(format!("{}: {}", error.code, error.message));
    }
    for change in &plan.changes {
        let only_tags = change.action == ChangeAction::Adopt
            && change
                .ops
                .iter()
                .all(|op| matches!(op, Op::TagResource { .. }));
        if only_tags {
            continue;
        }
        let item = match &change.resource {
            ResourceId::Topic(name) => Item::Topic(name.clone()),
            ResourceId::Subscription(id) => Item::Topic(id.topic.clone()),
            ResourceId::Alarm(name) | ResourceId::CompositeAlarm(name) => Item::Alarm(name.clone()),
            ResourceId::Dashboard(name) => Item::Dashboard(name.clone()),
            other => return Err(format!("the plan would change {other}")),
        };
        let fields: Vec<&str> = change.fields.iter().map(|f| f.name.as_str()).collect();
        let what = if fields.is_empty() {
            change.action.past_tense().to_string()
        } else {
            format!("{} ({})", change.action.past_tense(), fields.join(", "))
        };
        problems.entry(item).or_insert_with(|| {
            format!("written as the stack format allows, monplan would plan it {what}: not imported rather than changed")
        });
    }
    Ok(problems)
}

/// The estate as the planner's reader would see it.
pub fn live_state(stack: &StackName, estate: &Estate) -> LiveState {
    let owner = |tags: &Tags| {
        tags.get(OWNER_TAG)
            .map_or(Owner::Foreign, |s| Owner::Stack(StackName::new(s.clone())))
    };
    let mut live = LiveState::default();
    for topic in &estate.topics {
        live.topics.insert(
            topic.name.clone(),
            LiveTopic {
                arn: topic.arn.clone(),
                owner: owner(&topic.tags),
                topic: Some(Topic {
                    name: topic.name.clone(),
                    display_name: topic.display_name.clone(),
                    tags: topic.tags.clone(),
                }),
                subscriptions: topic.subscriptions.clone(),
            },
        );
    }
    for alarm in &estate.alarms {
        let body = match alarm.body.clone() {
            LiveAlarmBody::Metric(mut metric) => {
                metric.tags.clone_from(&alarm.tags);
                LiveAlarmBody::Metric(metric)
            }
            LiveAlarmBody::Composite(mut composite) => {
                composite.tags.clone_from(&alarm.tags);
                LiveAlarmBody::Composite(composite)
            }
            other @ LiveAlarmBody::Other(_) => other,
        };
        live.alarms.insert(
            alarm.name.clone(),
            LiveAlarm {
                arn: alarm.arn.clone(),
                owner: owner(&alarm.tags),
                body,
            },
        );
    }
    let prefix = format!("{stack}_");
    live.dashboards = estate
        .dashboards
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(name, body)| (name.clone(), body.clone()))
        .collect();
    live
}

/// The import's stack name from `--prefix`: the prefix without trailing `-` or `_`.
pub fn stack_from_prefix(prefix: &str) -> String {
    prefix.trim_end_matches(['-', '_']).to_string()
}

/// Whether a resource named `name` with `tags` is selected by `--prefix` and `--tag`
/// (both, when both are given).
pub fn selected(name: &str, tags: &Tags, prefix: Option<&str>, tag: Option<(&str, &str)>) -> bool {
    prefix.is_none_or(|p| name.starts_with(p))
        && tag.is_none_or(|(k, v)| tags.get(k).is_some_and(|t| t == v))
}

/// The contract's stack names: `[a-z0-9]+(-[a-z0-9]+)*`, at most 32 characters.
pub fn valid_stack_name(name: &str) -> bool {
    name.len() <= 32
        && !name.is_empty()
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Action, Alarm, AlarmActions, AlarmMetric, BandSide, Comparison, CompositeAlarm, Condition,
        Metric, Protocol, TreatMissingData,
    };

    fn scope() -> Scope {
        Scope {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }

    fn metric_alarm(name: &str, description: Option<&str>, metric: AlarmMetric) -> FoundAlarm {
        let topic = Arn::new("arn:aws:sns:us-east-1:123456789012:shop-alerts");
        let mut actions = AlarmActions {
            alarm: vec![
                Action::Arn(topic),
                Action::Arn(Arn::new("arn:aws:sns:us-east-1:123456789012:elsewhere")),
            ],
            ok: Vec::new(),
            insufficient_data: Vec::new(),
        };
        // As the reader returns them.
        actions.normalize();
        FoundAlarm {
            name: AlarmName::new(name),
            arn: scope().alarm_arn(&AlarmName::new(name)),
            body: LiveAlarmBody::Metric(Alarm {
                name: AlarmName::new(name),
                description: description.map(ToString::to_string),
                metric,
                condition: Condition::Threshold {
                    comparison: Comparison::AtLeast,
                    value: 0.25,
                },
                evaluation_periods: 3,
                datapoints_to_alarm: 2,
                treat_missing_data: TreatMissingData::NotBreaching,
                actions_enabled: true,
                actions,
                tags: Tags::new(),
            }),
            tags: Tags::from([("yes".to_string(), "on: #1".to_string())]),
        }
    }

    fn single(stat: &str) -> AlarmMetric {
        AlarmMetric::Single(Metric {
            namespace: "AWS/SQS".into(),
            name: "ApproximateNumberOfMessagesVisible".into(),
            dimensions: BTreeMap::from([("QueueName".to_string(), "1e3".to_string())]),
            stat: stat.into(),
            period: 300,
            unit: Some("Count".into()),
        })
    }

    fn estate(description: &str) -> Estate {
        let math = AlarmMetric::Math {
            expression: "visible / workers".into(),
            metrics: BTreeMap::from([
                (
                    "visible".to_string(),
                    match single("Sum") {
                        AlarmMetric::Single(m) => m,
                        _ => unreachable!("single() is one metric"),
                    },
                ),
                (
                    "workers".to_string(),
                    Metric {
                        namespace: "AWS/AutoScaling".into(),
                        name: "GroupInServiceInstances".into(),
                        dimensions: BTreeMap::new(),
                        stat: "Average".into(),
                        period: 60,
                        unit: None,
                    },
                ),
            ]),
        };
        let mut band = metric_alarm("shop-band", None, single("Average"));
        if let LiveAlarmBody::Metric(alarm) = &mut band.body {
            alarm.condition = Condition::Band {
                side: BandSide::Outside,
                deviations: 2.0,
            };
        }
        let composite = FoundAlarm {
            name: AlarmName::new("shop-down"),
            arn: scope().alarm_arn(&AlarmName::new("shop-down")),
            body: LiveAlarmBody::Composite(CompositeAlarm {
                name: AlarmName::new("shop-down"),
                description: None,
                rule: "ALARM(\"Shop: Visible\") OR ALARM(\"shop-band\")".into(),
                actions_enabled: false,
                actions: AlarmActions::default(),
                tags: Tags::new(),
            }),
            tags: Tags::from([(OWNER_TAG.to_string(), "shop".to_string())]),
        };
        Estate {
            alarms: vec![
                metric_alarm("Shop: Visible", Some(description), single("p99")),
                metric_alarm("shop-math", Some("  leading spaces"), math),
                band,
                composite,
                FoundAlarm {
                    name: AlarmName::new("TargetTracking-shop-1"),
                    ..metric_alarm("x", None, single("Sum"))
                },
                FoundAlarm {
                    tags: Tags::from([(OWNER_TAG.to_string(), "billing".to_string())]),
                    ..metric_alarm("shop-billing", None, single("Sum"))
                },
            ],
            topics: vec![FoundTopic {
                name: TopicName::new("shop-alerts"),
                arn: Arn::new("arn:aws:sns:us-east-1:123456789012:shop-alerts"),
                display_name: Some("true".into()),
                tags: Tags::from([("aws:cloudformation:x".to_string(), "y".to_string())]),
                subscriptions: vec![
                    LiveSubscription {
                        protocol: Protocol::Email,
                        endpoint: "a@example.com".into(),
                        arn: None,
                    },
                    LiveSubscription {
                        protocol: Protocol::Https,
                        endpoint: "https://hooks.example.com/T0/secret?token=abc".into(),
                        arn: Some(Arn::new("arn:aws:sns:us-east-1:123456789012:shop-alerts:1")),
                    },
                ],
            }],
            dashboards: BTreeMap::from([
                (
                    "shop_main".to_string(),
                    serde_json::json!({"widgets": [], "x": "a\nb"}),
                ),
                ("shop-old".to_string(), serde_json::json!({"widgets": []})),
            ]),
        }
    }

    fn validated(
        imported: &Imported,
        env: &BTreeMap<String, String>,
    ) -> crate::model::DesiredStack {
        let mut sources = SourceMap::default();
        let mut d = Diagnostics::default();
        let file = sources.add(Path::new("i.yaml"), imported.yaml.clone());
        let root = crate::spec::node::parse(file, sources.source(file)).expect("parses");
        let spec = crate::spec::read_stack(file, &root, &mut d).expect("a stack");
        let mut stacks = crate::validate::validate(&[spec], &Secrets(env), &mut d);
        assert!(
            d.iter().next().is_none(),
            "{}\n{}",
            d.render(&sources, false),
            imported.yaml
        );
        stacks.remove(0)
    }

    fn hook_env(yaml: &str) -> BTreeMap<String, String> {
        yaml.lines()
            .filter_map(|l| l.strip_prefix("#   ")?.split_once(": the https endpoint"))
            .map(|(name, _)| {
                (
                    name.to_string(),
                    "https://hooks.example.com/T0/secret?token=abc".to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn every_kind_round_trips_and_what_cannot_is_left_out_with_why() {
        let stack = StackName::new("shop");
        let imported = import(
            &stack,
            &estate("Errors: too many # of them"),
            &scope(),
            "test",
        );
        let skipped: Vec<&str> = imported.skipped.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(
            skipped,
            [
                "alarm \"TargetTracking-shop-1\"",
                "alarm \"shop-billing\"",
                "dashboard \"shop-old\""
            ],
            "{}",
            imported.yaml
        );
        assert_eq!(imported.written, 6, "{}", imported.yaml);
        assert!(!imported.yaml.contains("secret"), "{}", imported.yaml);
        assert!(
            imported
                .yaml
                .contains("rule: \"ALARM(shop-visible) OR ALARM(band)\""),
            "{}",
            imported.yaml
        );
        assert!(
            imported
                .yaml
                .contains("notify: [\"arn:aws:sns:us-east-1:123456789012:elsewhere\", alerts]"),
            "{}",
            imported.yaml
        );
        let desired = validated(&imported, &hook_env(&imported.yaml));
        // Same model as read, tags aside (the YAML adds the ownership tag).
        for found in &estate("Errors: too many # of them").alarms[..3] {
            let LiveAlarmBody::Metric(live) = &found.body else {
                unreachable!()
            };
            let mut written = desired.alarms[&found.name].value.clone();
            written.tags = live.tags.clone();
            // Topic keys become ARNs when resolved; the import's own plan compared those.
            written.actions = live.actions.clone();
            assert_eq!(&written, live);
            assert_eq!(
                desired.alarms[&found.name]
                    .value
                    .tags
                    .get("yes")
                    .map(String::as_str),
                Some("on: #1")
            );
        }
        assert!(desired
            .adopt
            .contains(&ResourceId::Alarm(AlarmName::new("shop-math"))));
        // Already owned: no `adopt`.
        assert!(!desired
            .adopt
            .contains(&ResourceId::CompositeAlarm(AlarmName::new("shop-down"))));
        assert_eq!(
            desired.topics[&TopicName::new("shop-alerts")]
                .value
                .display_name
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            desired.dashboards["shop_main"].value.body,
            Some(serde_json::json!({"widgets": [], "x": "a\nb"}))
        );
    }

    #[test]
    fn a_composite_naming_an_alarm_left_out_is_left_out_too() {
        let stack = StackName::new("shop");
        let mut estate = estate("d");
        if let LiveAlarmBody::Composite(c) = &mut estate.alarms[3].body {
            c.rule = "ALARM(\"shop-billing\")".into();
        }
        let imported = import(&stack, &estate, &scope(), "test");
        assert!(
            imported
                .skipped
                .iter()
                .any(|(item, why)| item == "alarm \"shop-down\""
                    && why.contains("`shop-billing`, which is not imported")),
            "{:?}",
            imported.skipped
        );
        validated(&imported, &hook_env(&imported.yaml));
    }

    /// Property: whatever the strings AWS holds, the output validates (what cannot be
    /// written is left out, never written wrong).
    #[test]
    fn the_output_always_validates() {
        const PIECES: &[&str] = &[
            "yes", "on", "No", "null", "~", "1e3", "0x1F", "-", ": ", "#", " ", "'", "\"", "\\",
            "\n", "\t", "{", "}", "[", "]", "&a", "*a", "!x", "%", "@", "`", "|", ">", "é", "🙂",
            "${env:X}", "a", "Z9", ",", "?", "",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            usize::try_from(seed >> 33).unwrap_or(0)
        };
        let stack = StackName::new("shop");
        for _ in 0..150 {
            let mut text = String::new();
            for _ in 0..(next() % 6) {
                text.push_str(PIECES[next() % PIECES.len()]);
            }
            let mut estate = estate(&text);
            estate.alarms[1].name = AlarmName::new(format!("shop{text}"));
            estate.topics[0].display_name = Some(text.clone());
            estate.alarms[0]
                .tags
                .insert(format!("k{text}"), text.clone());
            let imported = import(&stack, &estate, &scope(), &text);
            validated(&imported, &hook_env(&imported.yaml));
        }
    }

    #[test]
    fn keys_and_stack_names() {
        assert_eq!(stack_from_prefix("shop-"), "shop");
        assert_eq!(stack_from_prefix("shop_-"), "shop");
        assert!(valid_stack_name("shop-2"));
        assert!(!valid_stack_name("Shop"));
        assert!(!valid_stack_name(""));
        assert_eq!(yaml::scalar("AWS/SQS"), "AWS/SQS");
        for tricky in ["yes", "On", "1e3", "a: b", "#x", " x", "", "arn:aws:sns:x"] {
            assert!(yaml::scalar(tricky).starts_with('"'), "{tricky}");
        }
    }
}
