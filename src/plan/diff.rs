//! The planner proper. Pure: inputs in, plan out.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, ChangeAction, FieldDiff, Notice, Op, Plan};
use crate::diag::{codes, Diagnostic};
use crate::model::{
    Action, Alarm, Arn, Declared, DesiredStack, Endpoint, LiveAlarmBody, LiveState, Owner,
    ResourceId, Scope, StackName, SubscriptionId, Tags, Topic, TopicName,
};

/// Alarms that AWS creates itself for target-tracking scaling; never ours to touch.
const AWS_MANAGED_ALARM_PREFIX: &str = "TargetTracking-";

/// One stack, where it is planned, and what is live there.
pub struct StackInput<'a> {
    pub desired: &'a DesiredStack,
    pub scope: &'a Scope,
    pub live: &'a LiveState,
}

pub fn plan(stacks: &[StackInput<'_>]) -> Plan {
    let mut plan = Plan::default();
    for input in stacks {
        Planner {
            input,
            plan: &mut plan,
        }
        .run();
    }
    plan.changes.sort_by(|a, b| {
        (a.phase(), &a.stack, &a.resource).cmp(&(b.phase(), &b.stack, &b.resource))
    });
    plan.errors.sort();
    plan
}

struct Planner<'a, 'p> {
    input: &'a StackInput<'a>,
    plan: &'p mut Plan,
}

impl Planner<'_, '_> {
    fn stack(&self) -> &StackName {
        &self.input.desired.name
    }

    fn run(&mut self) {
        self.topics();
        self.alarms();
    }

    fn change(
        &mut self,
        resource: ResourceId,
        action: ChangeAction,
        fields: Vec<FieldDiff>,
        ops: Vec<Op>,
    ) {
        self.plan.changes.push(Change {
            stack: self.stack().clone(),
            region: self.input.scope.region.clone(),
            resource,
            action,
            fields,
            ops,
        });
    }

    fn notice(&mut self, resource: ResourceId, message: String) {
        self.plan.notices.push(Notice {
            stack: self.stack().clone(),
            resource,
            message,
        });
    }

    /// A declared name that exists but is not ours: a plan error, never an overwrite.
    fn check_owner<T>(
        &mut self,
        kind: &str,
        name: &str,
        owner: &Owner,
        declared: &Declared<T>,
    ) -> bool {
        let stack = self.stack().clone();
        match owner {
            Owner::Stack(s) if *s == stack => true,
            Owner::Stack(other) => {
                self.plan.errors.push(
                    Diagnostic::error(codes::OWNED_ELSEWHERE, format!("{kind} `{name}` belongs to monplan stack `{other}`"))
                        .at(declared.origin, format!("declared here by stack `{stack}`"))
                        .note(format!("it is tagged monplan:stack={other}; two stacks cannot manage one {kind}. Rename one with `name:`")),
                );
                false
            }
            Owner::Foreign => {
                self.plan.errors.push(
                    Diagnostic::error(codes::EXISTS_OUTSIDE, format!("{kind} `{name}` exists outside monplan"))
                        .at(declared.origin, "declared here")
                        .note(format!(
                            "it has no monplan:stack tag, so monplan will not change or delete it. Choose another name with `name:`, or adopt it by tagging it monplan:stack={stack}"
                        )),
                );
                false
            }
        }
    }

    fn topics(&mut self) {
        let desired = self.input.desired;
        let live = self.input.live;
        for (name, declared) in &desired.topics {
            let subs: Vec<&SubscriptionId> = desired
                .subscriptions
                .keys()
                .filter(|id| id.topic == *name)
                .collect();
            let Some(live_topic) = live.topics.get(name) else {
                let topic = &declared.value;
                self.change(
                    ResourceId::Topic(name.clone()),
                    ChangeAction::Create,
                    created(topic_fields(topic)),
                    vec![Op::CreateTopic(topic.clone())],
                );
                let arn = self.input.scope.topic_arn(name);
                for id in subs {
                    self.subscribe(id, &arn);
                }
                continue;
            };
            if !self.check_owner("topic", name.as_str(), &live_topic.owner, declared) {
                continue;
            }
            if let Some(current) = &live_topic.topic {
                self.update_topic(&declared.value, current, &live_topic.arn);
            }
            self.subscriptions(name, &subs, live_topic);
        }
        for (name, live_topic) in &live.topics {
            if live_topic.owner == Owner::Stack(self.stack().clone())
                && !desired.topics.contains_key(name)
            {
                let mut fields = live_topic
                    .topic
                    .as_ref()
                    .map(topic_fields)
                    .map(deleted)
                    .unwrap_or_default();
                fields.push(FieldDiff {
                    name: "subscriptions".into(),
                    before: Some(format!(
                        "{} (deleted with the topic)",
                        live_topic.subscriptions.len()
                    )),
                    after: None,
                });
                self.change(
                    ResourceId::Topic(name.clone()),
                    ChangeAction::Delete,
                    fields,
                    vec![Op::DeleteTopic(live_topic.arn.clone())],
                );
            }
        }
    }

    fn update_topic(&mut self, desired: &Topic, live: &Topic, arn: &Arn) {
        let mut ops = Vec::new();
        if desired.display_name != live.display_name {
            ops.push(Op::SetTopicDisplayName {
                topic: arn.clone(),
                display_name: desired.display_name.clone(),
            });
        }
        ops.extend(tag_ops(arn, &desired.tags, &live.tags));
        if !ops.is_empty() {
            let fields = changed(&topic_fields(live), &topic_fields(desired));
            self.change(
                ResourceId::Topic(desired.name.clone()),
                ChangeAction::Update,
                fields,
                ops,
            );
        }
    }

    fn subscribe(&mut self, id: &SubscriptionId, topic: &Arn) {
        let fields = created(vec![
            ("protocol".into(), id.protocol.to_string()),
            ("endpoint".into(), id.endpoint.to_string()),
        ]);
        let op = Op::Subscribe {
            topic: topic.clone(),
            protocol: id.protocol,
            endpoint: id.endpoint.clone(),
        };
        self.change(
            ResourceId::Subscription(id.clone()),
            ChangeAction::Create,
            fields,
            vec![op],
        );
    }

    /// Reconciles an owned topic's subscriptions to exactly the declared set.
    fn subscriptions(
        &mut self,
        topic: &TopicName,
        declared: &[&SubscriptionId],
        live: &crate::model::LiveTopic,
    ) {
        for id in declared {
            let found = live
                .subscriptions
                .iter()
                .find(|s| s.protocol == id.protocol && s.endpoint == id.endpoint.expose());
            match found {
                None => self.subscribe(id, &live.arn),
                Some(s) if s.arn.is_none() => self.notice(
                    ResourceId::Subscription((*id).clone()),
                    "pending confirmation: AWS sent a confirmation request; it is not re-created"
                        .into(),
                ),
                Some(_) => {}
            }
        }
        for s in &live.subscriptions {
            let wanted = declared
                .iter()
                .any(|id| id.protocol == s.protocol && id.endpoint.expose() == s.endpoint);
            if wanted {
                continue;
            }
            let id = SubscriptionId {
                topic: topic.clone(),
                protocol: s.protocol,
                endpoint: Endpoint::observed(s.protocol, s.endpoint.clone()),
            };
            match &s.arn {
                Some(arn) => {
                    let fields = deleted(vec![("protocol".into(), s.protocol.to_string()), ("endpoint".into(), id.endpoint.to_string())]);
                    self.change(ResourceId::Subscription(id), ChangeAction::Delete, fields, vec![Op::Unsubscribe(arn.clone())]);
                }
                None => self.notice(
                    ResourceId::Subscription(id),
                    "pending confirmation and no longer declared: AWS cannot delete it until it is confirmed; unconfirmed subscriptions expire after 3 days".into(),
                ),
            }
        }
    }

    fn alarms(&mut self) {
        let desired = self.input.desired;
        let live = self.input.live;
        for (name, declared) in &desired.alarms {
            let alarm = resolve(&declared.value, self.input.scope);
            let id = ResourceId::Alarm(name.clone());
            let Some(live_alarm) = live.alarms.get(name) else {
                self.change(
                    id,
                    ChangeAction::Create,
                    created(all_alarm_fields(&alarm)),
                    vec![Op::PutAlarm {
                        alarm,
                        with_tags: true,
                    }],
                );
                continue;
            };
            if !self.check_owner("alarm", name.as_str(), &live_alarm.owner, declared) {
                continue;
            }
            match &live_alarm.body {
                LiveAlarmBody::Metric(current) => {
                    let mut fields = changed(&alarm_fields(current), &alarm_fields(&alarm));
                    let mut ops = Vec::new();
                    if !fields.is_empty() {
                        ops.push(Op::PutAlarm {
                            alarm: alarm.clone(),
                            with_tags: false,
                        });
                    }
                    let tag_changes = tag_ops(&live_alarm.arn, &alarm.tags, &current.tags);
                    if !tag_changes.is_empty() {
                        fields.extend(changed(
                            &tag_fields(&current.tags),
                            &tag_fields(&alarm.tags),
                        ));
                        ops.extend(tag_changes);
                    }
                    if !ops.is_empty() {
                        self.change(id, ChangeAction::Update, fields, ops);
                    }
                }
                LiveAlarmBody::Other(kind) => {
                    // A different alarm kind under our name: AWS cannot turn one into the
                    // other in place, so delete and create it again.
                    let mut fields = created(all_alarm_fields(&alarm));
                    fields.insert(
                        0,
                        FieldDiff {
                            name: "kind".into(),
                            before: Some(kind.clone()),
                            after: Some("single metric".into()),
                        },
                    );
                    let ops = vec![
                        Op::DeleteAlarms(vec![name.clone()]),
                        Op::PutAlarm {
                            alarm,
                            with_tags: true,
                        },
                    ];
                    self.change(id, ChangeAction::Replace, fields, ops);
                }
            }
        }
        for (name, live_alarm) in &live.alarms {
            let ours = live_alarm.owner == Owner::Stack(self.stack().clone());
            if ours
                && !desired.alarms.contains_key(name)
                && !name.as_str().starts_with(AWS_MANAGED_ALARM_PREFIX)
            {
                let fields = match &live_alarm.body {
                    LiveAlarmBody::Metric(alarm) => deleted(all_alarm_fields(alarm)),
                    LiveAlarmBody::Other(kind) => deleted(vec![("kind".into(), kind.clone())]),
                };
                self.change(
                    ResourceId::Alarm(name.clone()),
                    ChangeAction::Delete,
                    fields,
                    vec![Op::DeleteAlarms(vec![name.clone()])],
                );
            }
        }
    }
}

/// Topic keys become the ARNs AWS will report, so that desired and live compare equal.
fn resolve(alarm: &Alarm, scope: &Scope) -> Alarm {
    let mut resolved = alarm.clone();
    for list in [
        &mut resolved.actions.alarm,
        &mut resolved.actions.ok,
        &mut resolved.actions.insufficient_data,
    ] {
        for action in list.iter_mut() {
            if let Action::Topic(name) = action {
                *action = Action::Arn(scope.topic_arn(name));
            }
        }
    }
    resolved.actions.normalize();
    resolved
}

fn tag_ops(arn: &Arn, desired: &Tags, live: &Tags) -> Vec<Op> {
    let mut ops = Vec::new();
    let set: Tags = desired
        .iter()
        .filter(|(k, v)| live.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !set.is_empty() {
        ops.push(Op::TagResource {
            arn: arn.clone(),
            tags: set,
        });
    }
    // Tags AWS itself sets (`aws:` prefix) cannot be removed and are not ours.
    let remove: Vec<String> = live
        .keys()
        .filter(|k| !desired.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    if !remove.is_empty() {
        ops.push(Op::UntagResource {
            arn: arn.clone(),
            keys: remove,
        });
    }
    ops
}

type Fields = Vec<(String, String)>;

fn topic_fields(topic: &Topic) -> Fields {
    let mut fields = Vec::new();
    if let Some(display_name) = &topic.display_name {
        fields.push(("display_name".into(), quote(display_name)));
    }
    fields.extend(tag_fields(&topic.tags));
    fields
}

fn tag_fields(tags: &Tags) -> Fields {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (format!("tags.{k}"), quote(v)))
        .collect()
}

/// An alarm's fields as the YAML names them, rendered canonically. Tags are separate
/// because AWS updates them through another API.
fn alarm_fields(alarm: &Alarm) -> Fields {
    let metric = &alarm.metric;
    let mut fields: Fields = Vec::new();
    if let Some(description) = &alarm.description {
        fields.push(("description".into(), quote(description)));
    }
    fields.push(("metric.namespace".into(), metric.namespace.clone()));
    fields.push(("metric.name".into(), metric.name.clone()));
    for (k, v) in &metric.dimensions {
        fields.push((format!("metric.dimensions.{k}"), v.clone()));
    }
    fields.push(("metric.stat".into(), metric.stat.clone()));
    fields.push(("metric.period".into(), duration(metric.period)));
    if let Some(unit) = &metric.unit {
        fields.push(("metric.unit".into(), unit.clone()));
    }
    fields.push((
        "threshold".into(),
        format!("{} {}", alarm.comparison.keyword(), alarm.threshold),
    ));
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
    for (name, list) in [
        ("notify", &alarm.actions.alarm),
        ("notify_ok", &alarm.actions.ok),
        ("notify_insufficient_data", &alarm.actions.insufficient_data),
    ] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(ToString::to_string).collect();
            fields.push((name.into(), format!("[{}]", items.join(", "))));
        }
    }
    fields
}

/// Every field, tags included: what a create or delete shows.
fn all_alarm_fields(alarm: &Alarm) -> Fields {
    let mut fields = alarm_fields(alarm);
    fields.extend(tag_fields(&alarm.tags));
    fields
}

fn quote(text: &str) -> String {
    format!("{text:?}")
}

/// `90s`, `5m`, `1h`, `1d`: the way the YAML writes durations.
pub(crate) fn duration(seconds: u32) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn created(fields: Fields) -> Vec<FieldDiff> {
    fields
        .into_iter()
        .map(|(name, v)| FieldDiff {
            name,
            before: None,
            after: Some(v),
        })
        .collect()
}

fn deleted(fields: Fields) -> Vec<FieldDiff> {
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
fn changed(before: &Fields, after: &Fields) -> Vec<FieldDiff> {
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
