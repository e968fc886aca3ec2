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
            Ok(problems) => more.extend(problems),
            Err(reason) => {
                // Nothing to point at: leave everything out rather than write a file
                // that does not validate.
                for item in rendered.lines.keys() {
                    more.insert(item.clone(), reason.clone());
                }
            }
        }
        more.retain(|item, _| !skipped.contains_key(item));
        // Left out while rendering and nothing else: done.
        if more.keys().all(|item| rendered.skipped.contains_key(item)) {
            skipped.extend(more);
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
    if let Some(error) = plan.errors.iter().next() {
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
