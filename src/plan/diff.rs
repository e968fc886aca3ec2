//! The planner proper. Pure: inputs in, plan out.

use std::collections::BTreeMap;

use super::fields::{
    alarm_fields, all_alarm_fields, all_composite_fields, changed, composite_fields, created,
    deleted, policy_fields, tag_fields, topic_fields, Fields,
};
use super::{dashboard, Change, ChangeAction, FieldDiff, Notice, Op, Plan};
use crate::diag::{codes, Diagnostic};
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, AlarmName, Arn, Declared, DesiredStack, Endpoint,
    LiveAlarmBody, LiveState, Owner, PolicyKind, ResourceId, Scope, StackName, SubscriptionId,
    Tags, Topic, TopicName,
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
        (a.order(), &a.stack, &a.resource).cmp(&(b.order(), &b.stack, &b.resource))
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
        if !self.account_matches() {
            return;
        }
        self.queues();
        self.topics();
        self.policies();
        self.alarms();
        self.dashboards();
    }

    /// The stack's `account:` guard: a stack meant for another account plans nothing.
    fn account_matches(&mut self) -> bool {
        let Some(expected) = &self.input.desired.account else {
            return true;
        };
        let actual = &self.input.scope.account;
        if expected.value == *actual {
            return true;
        }
        self.plan.errors.push(
            Diagnostic::error(
                codes::WRONG_ACCOUNT,
                format!(
                    "stack `{}` is for account {}, but the credentials are for account {actual}",
                    self.stack(),
                    expected.value
                ),
            )
            .at(expected.origin, format!("expects {}", expected.value))
            .note("switch credentials (profile, role) to the stack's account, or fix `account:`"),
        );
        false
    }

    fn push(&mut self, change: Change) {
        self.plan.changes.push(change);
    }

    fn change(
        &mut self,
        resource: ResourceId,
        action: ChangeAction,
        fields: Vec<FieldDiff>,
        ops: Vec<Op>,
    ) {
        let change = Change::new(self, resource, action, fields, ops);
        self.push(change);
    }

    fn notice(&mut self, subject: impl std::fmt::Display, message: String) {
        self.plan.notices.push(Notice {
            stack: self.stack().clone(),
            subject: subject.to_string(),
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

    /// Queues, dead-letter queues and groups must exist: monplan never creates them.
    fn queues(&mut self) {
        let desired = self.input.desired;
        let live = self.input.live;
        let region = self.input.scope.region.clone();
        for declared in desired.queues.values() {
            let queue = &declared.value;
            if !live.queues.contains_key(&queue.name) {
                self.plan.errors.push(
                    Diagnostic::error(codes::MISSING_RESOURCE, format!("queue `{}` does not exist in {region}", queue.name))
                        .at(declared.origin, "no such queue")
                        .note("monplan watches existing queues and never creates them; create it, or fix the name"),
                );
            }
            if let Some(dlq) = &queue.dead_letter_queue {
                if !live.queues.contains_key(&dlq.value) {
                    self.plan.errors.push(
                        Diagnostic::error(
                            codes::MISSING_RESOURCE,
                            format!(
                                "dead-letter queue `{}` does not exist in {region}",
                                dlq.value
                            ),
                        )
                        .at(dlq.origin, "no such queue"),
                    );
                }
                let redrive = live
                    .queues
                    .get(&queue.name)
                    .and_then(|q| q.dead_letter_queue.as_ref());
                if let Some(redrive) = redrive.filter(|r| **r != dlq.value) {
                    self.notice(
                        format!("queue \"{}\"", queue.name),
                        format!("queue `{}` sends failed messages to `{redrive}` (redrive policy), but the stack names `{}` as its dead-letter queue", queue.name, dlq.value),
                    );
                }
            }
            for group in &queue.groups {
                if !live.groups.contains(&group.value) {
                    self.plan.errors.push(
                        Diagnostic::error(
                            codes::MISSING_RESOURCE,
                            format!(
                                "Auto Scaling group `{}` does not exist in {region}",
                                group.value
                            ),
                        )
                        .at(group.origin, "no such group")
                        .note("monplan scales existing groups and never creates them"),
                    );
                }
            }
        }
    }

    /// The DLQ of a queue from its redrive policy, or a plan error (once per queue).
    fn redrive_dlq(&mut self, queue_name: &str) -> Option<String> {
        let live = self.input.live;
        let queue = live.queues.get(queue_name)?; // a missing queue is reported by `queues`
        if let Some(dlq) = &queue.dead_letter_queue {
            return Some(dlq.clone());
        }
        let declared = self
            .input
            .desired
            .queues
            .values()
            .find(|q| q.value.name == queue_name)?;
        self.plan.errors.push(
            Diagnostic::error(
                codes::MISSING_RESOURCE,
                format!("queue `{queue_name}` has no dead-letter queue"),
            )
            .at(
                declared.origin,
                "no redrive policy, and no `dead_letter_queue:` given",
            )
            .note("set `dead_letter_queue:` on the queue, or give the queue a redrive policy"),
        );
        None
    }

    /// Topic keys and policy keys become the ARNs AWS will report, and DLQ dimensions
    /// come from redrive policies, so that desired and live compare equal.
    fn resolve_actions(&self, actions: &mut AlarmActions) {
        for list in [
            &mut actions.alarm,
            &mut actions.ok,
            &mut actions.insufficient_data,
        ] {
            for action in list.iter_mut() {
                match action {
                    Action::Topic(name) => *action = Action::Arn(self.input.scope.topic_arn(name)),
                    Action::Policy(policy) => {
                        let arn = self
                            .input
                            .live
                            .policies
                            .get(policy)
                            .and_then(|p| p.arn.clone());
                        if let Some(arn) = arn {
                            *action = Action::Arn(arn);
                        }
                    }
                    Action::Arn(_) => {}
                }
            }
        }
        actions.normalize();
    }

    fn resolve(&mut self, declared: &Alarm) -> Option<Alarm> {
        let mut alarm = declared.clone();
        self.resolve_actions(&mut alarm.actions);
        if let Some(queue) = self.input.desired.redrive_alarms.get(&alarm.name) {
            let dlq = self.redrive_dlq(queue)?;
            if let AlarmMetric::Single(metric) = &mut alarm.metric {
                metric.dimensions.insert("QueueName".into(), dlq);
            }
        }
        Some(alarm)
    }

    fn policies(&mut self) {
        let desired = self.input.desired;
        let live = self.input.live;
        for (policy_ref, declared) in &desired.policies {
            if !live.groups.contains(&policy_ref.group) {
                continue; // reported by `queues`
            }
            let mut policy = declared.value.clone();
            let id = ResourceId::ScalingPolicy(policy_ref.clone());
            let note = policy.note.take();
            let (action, mut fields) = match live.policies.get(policy_ref).map(|p| &p.body) {
                None => (ChangeAction::Create, created(policy_fields(&policy))),
                Some(None) => (
                    ChangeAction::Update,
                    changed(
                        &vec![("type".into(), "unmanaged shape".into())],
                        &policy_fields(&policy),
                    ),
                ),
                Some(Some(current)) => {
                    // No warmup declared means "AWS's default": whatever AWS holds.
                    if let (
                        PolicyKind::Backlog { warmup, .. },
                        PolicyKind::Backlog {
                            warmup: live_warmup,
                            ..
                        },
                    ) = (&mut policy.kind, &current.kind)
                    {
                        if warmup.is_none() {
                            *warmup = *live_warmup;
                        }
                    }
                    (
                        ChangeAction::Update,
                        changed(&policy_fields(current), &policy_fields(&policy)),
                    )
                }
            };
            if action == ChangeAction::Update && fields.is_empty() {
                continue;
            }
            if let Some(note) = note {
                for field in fields.iter_mut().filter(|f| f.name == "target") {
                    if let Some(after) = &mut field.after {
                        *after = format!("{after} ({note})");
                    }
                }
            }
            self.change(id, action, fields, vec![Op::PutScalingPolicy(policy)]);
        }
        let prefix = format!("{}_", self.stack());
        for (policy_ref, live_policy) in &live.policies {
            if policy_ref.name.starts_with(&prefix) && !desired.policies.contains_key(policy_ref) {
                let fields = live_policy
                    .body
                    .as_ref()
                    .map(policy_fields)
                    .map(deleted)
                    .unwrap_or_default();
                self.change(
                    ResourceId::ScalingPolicy(policy_ref.clone()),
                    ChangeAction::Delete,
                    fields,
                    vec![Op::DeletePolicy(policy_ref.clone())],
                );
            }
        }
    }

    fn alarms(&mut self) {
        let desired = self.input.desired;
        let live = self.input.live;
        for (name, declared) in &desired.alarms {
            let Some(alarm) = self.resolve(&declared.value) else {
                continue;
            };
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
                    let put = Op::PutAlarm {
                        alarm: alarm.clone(),
                        with_tags: false,
                    };
                    let (fields, ops) = update(
                        (&alarm_fields(current), &alarm_fields(&alarm)),
                        put,
                        &live_alarm.arn,
                        (&current.tags, &alarm.tags),
                    );
                    if !ops.is_empty() {
                        self.change(id, ChangeAction::Update, fields, ops);
                    }
                }
                other => {
                    // Another alarm kind under our name: AWS cannot turn one into the
                    // other in place, so delete and create it again.
                    let mut fields = created(all_alarm_fields(&alarm));
                    fields.insert(
                        0,
                        FieldDiff {
                            name: "kind".into(),
                            before: Some(kind_of(other)),
                            after: Some("metric alarm".into()),
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
        for (name, declared) in &desired.composites {
            let mut alarm = declared.value.clone();
            self.resolve_actions(&mut alarm.actions);
            let id = ResourceId::CompositeAlarm(name.clone());
            let depth = self.depth(name);
            let Some(live_alarm) = live.alarms.get(name) else {
                let ops = vec![Op::PutCompositeAlarm {
                    alarm: alarm.clone(),
                    with_tags: true,
                }];
                self.push(
                    Change::new(
                        self,
                        id,
                        ChangeAction::Create,
                        created(all_composite_fields(&alarm)),
                        ops,
                    )
                    .at_depth(depth),
                );
                continue;
            };
            if !self.check_owner("alarm", name.as_str(), &live_alarm.owner, declared) {
                continue;
            }
            match &live_alarm.body {
                LiveAlarmBody::Composite(current) => {
                    let put = Op::PutCompositeAlarm {
                        alarm: alarm.clone(),
                        with_tags: false,
                    };
                    let (fields, ops) = update(
                        (&composite_fields(current), &composite_fields(&alarm)),
                        put,
                        &live_alarm.arn,
                        (&current.tags, &alarm.tags),
                    );
                    if !ops.is_empty() {
                        self.push(
                            Change::new(self, id, ChangeAction::Update, fields, ops)
                                .at_depth(depth),
                        );
                    }
                }
                other => {
                    let mut fields = created(all_composite_fields(&alarm));
                    fields.insert(
                        0,
                        FieldDiff {
                            name: "kind".into(),
                            before: Some(kind_of(other)),
                            after: Some("composite alarm".into()),
                        },
                    );
                    let ops = vec![
                        Op::DeleteAlarms(vec![name.clone()]),
                        Op::PutCompositeAlarm {
                            alarm,
                            with_tags: true,
                        },
                    ];
                    self.push(
                        Change::new(self, id, ChangeAction::Replace, fields, ops).at_depth(depth),
                    );
                }
            }
        }
        for (name, live_alarm) in &live.alarms {
            let ours = live_alarm.owner == Owner::Stack(self.stack().clone());
            let declared =
                desired.alarms.contains_key(name) || desired.composites.contains_key(name);
            if !ours || declared || name.as_str().starts_with(AWS_MANAGED_ALARM_PREFIX) {
                continue;
            }
            let ops = vec![Op::DeleteAlarms(vec![name.clone()])];
            let change = match &live_alarm.body {
                LiveAlarmBody::Metric(alarm) => Change::new(
                    self,
                    ResourceId::Alarm(name.clone()),
                    ChangeAction::Delete,
                    deleted(all_alarm_fields(alarm)),
                    ops,
                ),
                LiveAlarmBody::Composite(alarm) => {
                    let depth = self.depth(name);
                    Change::new(
                        self,
                        ResourceId::CompositeAlarm(name.clone()),
                        ChangeAction::Delete,
                        deleted(all_composite_fields(alarm)),
                        ops,
                    )
                    .at_depth(depth)
                }
                LiveAlarmBody::Other(kind) => Change::new(
                    self,
                    ResourceId::Alarm(name.clone()),
                    ChangeAction::Delete,
                    deleted(vec![("kind".into(), kind.clone())]),
                    ops,
                ),
            };
            self.push(change);
        }
    }

    /// How many composite alarms deep `name` sits among this stack's composites, desired
    /// and live: its children are created before it and deleted after it.
    fn depth(&self, name: &AlarmName) -> u32 {
        let mut graph: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (n, c) in &self.input.desired.composites {
            graph.insert(n.as_str(), c.value.children());
        }
        for (n, a) in &self.input.live.alarms {
            if let LiveAlarmBody::Composite(c) = &a.body {
                graph.entry(n.as_str()).or_insert_with(|| c.children());
            }
        }
        walk(name.as_str(), &graph, &mut Vec::new())
    }

    fn dashboards(&mut self) {
        let desired = self.input.desired;
        let live = self.input.live;
        for (name, declared) in &desired.dashboards {
            let dlq_of = |queue: &str| {
                live.queues
                    .get(queue)
                    .and_then(|q| q.dead_letter_queue.clone())
            };
            let body = dashboard::body(&declared.value, self.input.scope, &dlq_of);
            let text = serde_json::to_string(&dashboard::canonical(&body)).unwrap_or_default();
            let id = ResourceId::Dashboard(name.clone());
            let ops = vec![Op::PutDashboard {
                name: name.clone(),
                body: text,
            }];
            let widgets = body["widgets"].as_array().map_or(0, Vec::len);
            match live.dashboards.get(name) {
                None => {
                    let fields = created(vec![("widgets".into(), widgets.to_string())]);
                    self.change(id, ChangeAction::Create, fields, ops);
                }
                Some(current) if *current != body => {
                    let mut change = Change::new(self, id, ChangeAction::Update, Vec::new(), ops);
                    change.body_diff = Some(dashboard::diff(current, &body));
                    self.push(change);
                }
                Some(_) => {}
            }
        }
        let prefix = format!("{}_", self.stack());
        for (name, body) in &live.dashboards {
            if name.starts_with(&prefix) && !desired.dashboards.contains_key(name) {
                let widgets = body["widgets"].as_array().map_or(0, Vec::len);
                let fields = deleted(vec![("widgets".into(), widgets.to_string())]);
                self.change(
                    ResourceId::Dashboard(name.clone()),
                    ChangeAction::Delete,
                    fields,
                    vec![Op::DeleteDashboards(vec![name.clone()])],
                );
            }
        }
    }
}

impl Change {
    fn new(
        planner: &Planner<'_, '_>,
        resource: ResourceId,
        action: ChangeAction,
        fields: Vec<FieldDiff>,
        ops: Vec<Op>,
    ) -> Self {
        Change {
            stack: planner.stack().clone(),
            region: planner.input.scope.region.clone(),
            resource,
            action,
            fields,
            body_diff: None,
            depth: 0,
            ops,
        }
    }

    fn at_depth(mut self, depth: u32) -> Self {
        self.depth = depth;
        self
    }
}

/// Depth-first: how many composites deep `node` sits; cycles count as 0.
fn walk(node: &str, graph: &BTreeMap<&str, Vec<String>>, seen: &mut Vec<String>) -> u32 {
    if seen.iter().any(|s| s == node) {
        return 0; // a cycle (rejected in validation for desired ones)
    }
    seen.push(node.to_string());
    let depth = graph.get(node).map_or(0, |children| {
        children
            .iter()
            .filter(|c| graph.contains_key(c.as_str()))
            .map(|c| walk(c, graph, seen) + 1)
            .max()
            .unwrap_or(0)
    });
    seen.pop();
    depth
}

fn kind_of(body: &LiveAlarmBody) -> String {
    match body {
        LiveAlarmBody::Metric(_) => "metric alarm".into(),
        LiveAlarmBody::Composite(_) => "composite alarm".into(),
        LiveAlarmBody::Other(kind) => kind.clone(),
    }
}

/// An in-place update of an alarm: `put` when a field differs, and the tagging calls for
/// tag changes (AWS ignores tags on a put of an existing alarm). Pairs are (live, desired).
fn update(
    fields: (&Fields, &Fields),
    put: Op,
    arn: &Arn,
    tags: (&Tags, &Tags),
) -> (Vec<FieldDiff>, Vec<Op>) {
    let (live_tags, desired_tags) = tags;
    let mut diffs = changed(fields.0, fields.1);
    let mut ops = Vec::new();
    if !diffs.is_empty() {
        ops.push(put);
    }
    let tag_changes = tag_ops(arn, desired_tags, live_tags);
    if !tag_changes.is_empty() {
        diffs.extend(changed(&tag_fields(live_tags), &tag_fields(desired_tags)));
        ops.extend(tag_changes);
    }
    (diffs, ops)
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
