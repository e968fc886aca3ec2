//! `--target KIND[.KEY]` and `--exclude KIND[.KEY]`: a plan limited to part of the stacks,
//! as Terraform's `-target`. A target brings along the changes it depends on (its
//! references, transitively); nothing outside the selection is deleted; excluded kinds
//! are not even read, so a kind whose API an endpoint lacks can be left out.

use std::collections::BTreeSet;
use std::fmt;

use super::{ChangeAction, Plan};
use crate::model::{ResourceId, ResourceKind, StackName};

/// The kinds a selector may name, by their YAML section.
const KINDS: &[(&str, &[ResourceKind])] = &[
    ("topics", &[ResourceKind::Topic, ResourceKind::Subscription]),
    ("subscriptions", &[ResourceKind::Subscription]),
    (
        "scaling",
        &[
            ResourceKind::ScalingPolicy,
            ResourceKind::ScalableTarget,
            ResourceKind::ServicePolicy,
        ],
    ),
    ("log_metrics", &[ResourceKind::MetricFilter]),
    ("queries", &[ResourceKind::Query]),
    (
        "alarms",
        &[ResourceKind::Alarm, ResourceKind::CompositeAlarm],
    ),
    ("dashboards", &[ResourceKind::Dashboard]),
];

/// One `KIND[.KEY]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    pub kind: &'static str,
    kinds: &'static [ResourceKind],
    /// A resource key (`job-failures`) or AWS name (`shop-job-failures`).
    pub key: Option<String>,
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{}.{key}", self.kind),
            None => f.write_str(self.kind),
        }
    }
}

/// Parses `alarms`, `alarms.job-failures`, `queries`: for clap.
pub fn parse_selector(text: &str) -> Result<Selector, String> {
    let (kind, key) = match text.split_once('.') {
        Some((kind, key)) if !key.is_empty() => (kind, Some(key.to_string())),
        Some(_) => {
            return Err(format!(
                "`{text}`: a key follows the dot, e.g. alarms.job-failures"
            ))
        }
        None => (text, None),
    };
    let (name, kinds) = KINDS
        .iter()
        .find(|(name, _)| *name == kind)
        .ok_or_else(|| {
            let names: Vec<&str> = KINDS.iter().map(|(n, _)| *n).collect();
            format!(
                "`{kind}` is not a kind monplan manages; one of: {}",
                names.join(", ")
            )
        })?;
    Ok(Selector {
        kind: name,
        kinds,
        key,
    })
}

impl Selector {
    fn matches(&self, stack: &StackName, resource: &ResourceId) -> bool {
        if !self.kinds.contains(&resource.kind()) {
            return false;
        }
        let Some(key) = &self.key else {
            return true;
        };
        let name = match resource {
            ResourceId::Topic(n) => n.to_string(),
            ResourceId::Subscription(s) => s.topic.to_string(),
            ResourceId::ScalingPolicy(p) => p.name.clone(),
            ResourceId::ScalableTarget(s) => s.to_string(),
            ResourceId::ServicePolicy(p) => p.name.clone(),
            ResourceId::MetricFilter(f) => f.name.clone(),
            ResourceId::Query(n) | ResourceId::Dashboard(n) => n.clone(),
            ResourceId::Alarm(n) | ResourceId::CompositeAlarm(n) => n.to_string(),
        };
        // The AWS name, or the key as monplan names resources by default.
        name == *key
            || [
                format!("{stack}-{key}"),
                format!("{stack}_{key}"),
                format!("{stack}/{key}"),
            ]
            .contains(&name)
    }
}

/// What `--target` and `--exclude` select.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub targets: Vec<Selector>,
    pub excludes: Vec<Selector>,
}

impl Selection {
    pub fn is_everything(&self) -> bool {
        self.targets.is_empty() && self.excludes.is_empty()
    }

    /// Whether a whole kind is left out, so that it need not be read.
    pub fn excludes_kind(&self, kind: ResourceKind) -> bool {
        let excluded = self
            .excludes
            .iter()
            .any(|s| s.key.is_none() && s.kinds.contains(&kind));
        let targeted =
            self.targets.is_empty() || self.targets.iter().any(|s| s.kinds.contains(&kind));
        excluded || !targeted && !self.targets.is_empty() && !depended_on(kind)
    }

    fn excluded(&self, stack: &StackName, resource: &ResourceId) -> bool {
        self.excludes.iter().any(|s| s.matches(stack, resource))
    }

    /// Keeps the selected changes, the changes they depend on, and no deletion outside
    /// the selection. The plan then says it is limited.
    pub fn apply(&self, plan: &mut Plan) {
        if self.is_everything() {
            return;
        }
        let mut keep: BTreeSet<usize> = (0..plan.changes.len())
            .filter(|&i| {
                let change = &plan.changes[i];
                let targeted = self.targets.is_empty()
                    || self
                        .targets
                        .iter()
                        .any(|s| s.matches(&change.stack, &change.resource));
                targeted && !self.excluded(&change.stack, &change.resource)
            })
            .collect();
        // Dependencies of what is kept come along (not deletions: those only when named).
        let mut frontier: Vec<usize> = keep.iter().copied().collect();
        while let Some(i) = frontier.pop() {
            let change = &plan.changes[i];
            for reference in &change.depends_on {
                for (j, other) in plan.changes.iter().enumerate() {
                    let needed = other.stack == change.stack
                        && other.resource == *reference
                        && other.action != ChangeAction::Delete
                        && change.action != ChangeAction::Delete
                        && !self.excluded(&other.stack, &other.resource);
                    if needed && keep.insert(j) {
                        frontier.push(j);
                    }
                }
            }
        }
        let mut index = 0;
        plan.changes.retain(|_| {
            let kept = keep.contains(&index);
            index += 1;
            kept
        });
        // What is not planned costs nothing more (or less) this time.
        let kept: BTreeSet<(String, String)> = plan
            .changes
            .iter()
            .map(|c| (c.stack.to_string(), c.resource.to_string()))
            .collect();
        plan.cost.deltas.retain(|key, _| kept.contains(key));
        plan.limited = Some(self.to_string());
    }
}

/// Kinds others depend on are read even when not targeted: a target may need them.
fn depended_on(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::Topic
            | ResourceKind::Subscription
            | ResourceKind::ScalingPolicy
            | ResourceKind::ScalableTarget
            | ResourceKind::MetricFilter
            | ResourceKind::Alarm
            | ResourceKind::CompositeAlarm
    )
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.targets.is_empty() {
            let list: Vec<String> = self.targets.iter().map(ToString::to_string).collect();
            parts.push(format!("--target {}", list.join(", ")));
        }
        if !self.excludes.is_empty() {
            let list: Vec<String> = self.excludes.iter().map(ToString::to_string).collect();
            parts.push(format!("--exclude {}", list.join(", ")));
        }
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlarmName, TopicName};
    use crate::plan::Change;

    fn change(resource: ResourceId, action: ChangeAction, depends_on: Vec<ResourceId>) -> Change {
        Change {
            stack: StackName::new("s"),
            region: "us-east-1".into(),
            resource,
            action,
            fields: Vec::new(),
            body_diff: None,
            depends_on,
            ops: Vec::new(),
        }
    }

    #[test]
    fn a_target_brings_its_dependencies_and_nothing_outside_is_deleted() {
        let topic = ResourceId::Topic(TopicName::new("s-oncall"));
        let mut plan = Plan {
            changes: vec![
                change(topic.clone(), ChangeAction::Create, vec![]),
                change(
                    ResourceId::Alarm(AlarmName::new("s-a")),
                    ChangeAction::Create,
                    vec![topic],
                ),
                change(
                    ResourceId::Alarm(AlarmName::new("s-b")),
                    ChangeAction::Create,
                    vec![],
                ),
                change(
                    ResourceId::Query("s/old".into()),
                    ChangeAction::Delete,
                    vec![],
                ),
            ],
            ..Plan::default()
        };
        let selection = Selection {
            targets: vec![parse_selector("alarms.a").unwrap()],
            excludes: Vec::new(),
        };
        selection.apply(&mut plan);
        let kept: Vec<String> = plan
            .changes
            .iter()
            .map(|c| c.resource.to_string())
            .collect();
        assert_eq!(kept, ["topic \"s-oncall\"", "alarm \"s-a\""]);
        assert_eq!(plan.limited.as_deref(), Some("--target alarms.a"));
    }

    #[test]
    fn an_excluded_dependency_is_not_brought_back() {
        let filter = ResourceId::MetricFilter(crate::model::FilterRef {
            log_group: "/g".into(),
            name: "s_f".into(),
        });
        let mut plan = Plan {
            changes: vec![
                change(filter.clone(), ChangeAction::Create, vec![]),
                change(
                    ResourceId::Alarm(AlarmName::new("s-a")),
                    ChangeAction::Create,
                    vec![filter],
                ),
            ],
            ..Plan::default()
        };
        let selection = Selection {
            targets: Vec::new(),
            excludes: vec![parse_selector("log_metrics").unwrap()],
        };
        selection.apply(&mut plan);
        let kept: Vec<String> = plan
            .changes
            .iter()
            .map(|c| c.resource.to_string())
            .collect();
        assert_eq!(kept, ["alarm \"s-a\""]);
    }

    #[test]
    fn excluded_kinds_are_not_read_and_not_planned() {
        let selection = Selection {
            targets: Vec::new(),
            excludes: vec![parse_selector("queries").unwrap()],
        };
        assert!(selection.excludes_kind(ResourceKind::Query));
        assert!(!selection.excludes_kind(ResourceKind::Alarm));
        let mut plan = Plan {
            changes: vec![
                change(
                    ResourceId::Query("s/q".into()),
                    ChangeAction::Create,
                    vec![],
                ),
                change(
                    ResourceId::Dashboard("s_d".into()),
                    ChangeAction::Delete,
                    vec![],
                ),
            ],
            ..Plan::default()
        };
        selection.apply(&mut plan);
        assert_eq!(
            plan.changes.len(),
            1,
            "the dashboard deletion is not excluded"
        );
        assert!(parse_selector("alarm")
            .unwrap_err()
            .contains("one of: topics"));
        assert!(parse_selector("alarms.").is_err());
    }
}
