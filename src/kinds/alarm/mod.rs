//! `CloudWatch` alarms, metric and composite: one name space, one ownership tag, one way
//! to plan. Both kinds go through [`AlarmKind`], so that creating, updating in place
//! (with tags through the tagging API, since AWS ignores tags on a put of an existing
//! alarm), replacing one kind by the other and deleting are written once.

pub mod model;
pub mod stats;

use super::{
    adopt_tag_ops, changed, created, deleted, quote, tag_fields, tag_ops, Claim, Cx, Fields,
};
use crate::diag::{codes, Diagnostic};
use crate::model::duration;
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, AlarmName, CompositeAlarm, Condition, Declared,
    LiveAlarmBody, Metric, ResourceId, Tags, TopicName,
};
use crate::plan::{ChangeAction, FieldDiff, Op};
use crate::resolve::ResolvedStack;

/// Alarms that AWS creates itself for target-tracking scaling; never ours to touch.
const AWS_MANAGED_ALARM_PREFIX: &str = "TargetTracking-";

/// What metric and composite alarms have in common, for planning.
trait AlarmKind: Clone {
    /// `metric alarm`, `composite alarm`: what a replacement says it was and becomes.
    const LABEL: &'static str;
    fn id(name: &AlarmName) -> ResourceId;
    /// The live alarm, if it is of this kind.
    fn of(body: &LiveAlarmBody) -> Option<&Self>;
    /// Every field but the tags, which AWS updates through another API.
    fn fields(&self) -> Fields;
    fn tags(&self) -> &Tags;
    /// Whether the put call would change anything (tags aside).
    fn same_config(&self, live: &Self) -> bool;
    fn put(self, with_tags: bool) -> Op;
    /// The resources the alarm refers to; `declared`: as declared (with the declared
    /// subscriptions of the topics it notifies), else as live.
    fn refs(&self, stack: &ResolvedStack<'_>, declared: bool) -> Vec<ResourceId>;
}

impl AlarmKind for Alarm {
    const LABEL: &'static str = "metric alarm";

    fn id(name: &AlarmName) -> ResourceId {
        ResourceId::Alarm(name.clone())
    }

    fn of(body: &LiveAlarmBody) -> Option<&Self> {
        match body {
            LiveAlarmBody::Metric(alarm) => Some(alarm),
            _ => None,
        }
    }

    fn fields(&self) -> Fields {
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
        } = self;
        let mut fields: Fields = Vec::new();
        if let Some(description) = description {
            fields.push(("description".into(), quote(description)));
        }
        match metric {
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
            AlarmMetric::Insights { query, period } => {
                fields.push(("query".into(), query.clone()));
                fields.push(("period".into(), duration::yaml(f64::from(*period))));
            }
        }
        match condition {
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
        fields.push(("evaluation_periods".into(), evaluation_periods.to_string()));
        fields.push((
            "datapoints_to_alarm".into(),
            datapoints_to_alarm.to_string(),
        ));
        fields.push((
            "treat_missing_data".into(),
            treat_missing_data.keyword().into(),
        ));
        fields.push(("actions_enabled".into(), actions_enabled.to_string()));
        action_fields(actions, &mut fields);
        fields
    }

    fn tags(&self) -> &Tags {
        &self.tags
    }

    fn same_config(&self, live: &Self) -> bool {
        let Alarm {
            name,
            description,
            metric,
            condition,
            evaluation_periods,
            datapoints_to_alarm,
            treat_missing_data,
            actions_enabled,
            actions,
            tags: _,
        } = self;
        *name == live.name
            && *description == live.description
            && *metric == live.metric
            && *condition == live.condition
            && *evaluation_periods == live.evaluation_periods
            && *datapoints_to_alarm == live.datapoints_to_alarm
            && *treat_missing_data == live.treat_missing_data
            && *actions_enabled == live.actions_enabled
            && *actions == live.actions
    }

    fn put(self, with_tags: bool) -> Op {
        Op::PutMetricAlarm {
            alarm: self,
            with_tags,
        }
    }

    fn refs(&self, stack: &ResolvedStack<'_>, declared: bool) -> Vec<ResourceId> {
        let mut refs = action_refs(&self.actions, stack, declared);
        // An alarm on a log metric comes after the filter that publishes it.
        let metrics: Vec<&Metric> = self.metric.metrics();
        for metric in metrics {
            let filters: Vec<&crate::model::MetricFilter> = if declared {
                stack.metric_filters.values().map(|f| &f.value).collect()
            } else {
                stack.live.metric_filters.values().collect()
            };
            if let Some(filter) =
                crate::kinds::log_metric::publishing(filters, &metric.namespace, &metric.name)
            {
                refs.push(ResourceId::MetricFilter(filter.clone()));
            }
        }
        refs
    }
}

impl AlarmKind for CompositeAlarm {
    const LABEL: &'static str = "composite alarm";

    fn id(name: &AlarmName) -> ResourceId {
        ResourceId::CompositeAlarm(name.clone())
    }

    fn of(body: &LiveAlarmBody) -> Option<&Self> {
        match body {
            LiveAlarmBody::Composite(alarm) => Some(alarm),
            _ => None,
        }
    }

    fn fields(&self) -> Fields {
        let CompositeAlarm {
            name: _,
            description,
            rule,
            actions_enabled,
            actions,
            tags: _,
        } = self;
        let mut fields: Fields = Vec::new();
        if let Some(description) = description {
            fields.push(("description".into(), quote(description)));
        }
        fields.push(("rule".into(), rule.clone()));
        fields.push(("actions_enabled".into(), actions_enabled.to_string()));
        action_fields(actions, &mut fields);
        fields
    }

    fn tags(&self) -> &Tags {
        &self.tags
    }

    fn same_config(&self, live: &Self) -> bool {
        let CompositeAlarm {
            name,
            description,
            rule,
            actions_enabled,
            actions,
            tags: _,
        } = self;
        *name == live.name
            && *description == live.description
            && *rule == live.rule
            && *actions_enabled == live.actions_enabled
            && *actions == live.actions
    }

    fn put(self, with_tags: bool) -> Op {
        Op::PutCompositeAlarm {
            alarm: self,
            with_tags,
        }
    }

    fn refs(&self, stack: &ResolvedStack<'_>, declared: bool) -> Vec<ResourceId> {
        let mut refs = action_refs(&self.actions, stack, declared);
        refs.extend(self.children().into_iter().map(|child| {
            let name = AlarmName::new(child);
            if is_composite(stack, &name) {
                ResourceId::CompositeAlarm(name)
            } else {
                ResourceId::Alarm(name)
            }
        }));
        refs
    }
}

/// Whether `name` is a composite alarm, desired or live.
fn is_composite(stack: &ResolvedStack<'_>, name: &AlarmName) -> bool {
    // What the alarm will be when it is declared (a replacement changes its kind), else
    // what it is.
    if stack.composites.contains_key(name) {
        return true;
    }
    if stack.alarms.contains_key(name) {
        return false;
    }
    stack
        .live
        .alarms
        .get(name)
        .is_some_and(|a| matches!(a.body, LiveAlarmBody::Composite(_)))
}

/// The topics and scaling policies an alarm notifies. A declared alarm also waits for
/// the declared subscriptions of its topics: created before them, it could fire into a
/// topic nobody listens to yet.
fn action_refs(
    actions: &AlarmActions,
    stack: &ResolvedStack<'_>,
    declared: bool,
) -> Vec<ResourceId> {
    let live = stack.live;
    let AlarmActions {
        alarm,
        ok,
        insufficient_data,
    } = actions;
    let mut refs: Vec<ResourceId> = alarm
        .iter()
        .chain(ok)
        .chain(insufficient_data)
        .filter_map(|action| match action {
            Action::Topic(name) => Some(ResourceId::Topic(name.clone())),
            Action::Policy(policy) => Some(ResourceId::ScalingPolicy(policy.clone())),
            Action::ServicePolicy(policy) => Some(ResourceId::ServicePolicy(policy.clone())),
            // An instance monplan does not manage.
            Action::Ec2(_) => None,
            Action::Arn(arn) => arn
                .topic_name()
                .map(ResourceId::Topic)
                .or_else(|| {
                    live.policies
                        .iter()
                        .find(|(_, p)| p.arn.as_ref() == Some(arn))
                        .map(|(policy, _)| ResourceId::ScalingPolicy(policy.clone()))
                })
                // So that the alarm is deleted before the service policy it notifies.
                .or_else(|| {
                    live.service_policies
                        .iter()
                        .find(|(_, p)| p.arn.as_ref() == Some(arn))
                        .map(|(policy, _)| ResourceId::ServicePolicy(policy.clone()))
                }),
        })
        .collect();
    if declared {
        let topics: Vec<TopicName> = refs
            .iter()
            .filter_map(|r| match r {
                ResourceId::Topic(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        refs.extend(
            stack
                .desired
                .subscriptions
                .keys()
                .filter(|id| topics.contains(&id.topic))
                .cloned()
                .map(ResourceId::Subscription),
        );
    }
    refs.sort();
    refs.dedup();
    refs
}

fn metric_fields(prefix: &str, metric: &Metric, fields: &mut Fields) {
    let Metric {
        namespace,
        name,
        dimensions,
        stat,
        period,
        unit,
    } = metric;
    fields.push((format!("{prefix}.namespace"), namespace.clone()));
    fields.push((format!("{prefix}.name"), name.clone()));
    for (k, v) in dimensions {
        fields.push((format!("{prefix}.dimensions.{k}"), v.clone()));
    }
    fields.push((format!("{prefix}.stat"), stat.clone()));
    fields.push((
        format!("{prefix}.period"),
        duration::yaml(f64::from(*period)),
    ));
    if let Some(unit) = unit {
        fields.push((format!("{prefix}.unit"), unit.clone()));
    }
}

fn action_fields(actions: &AlarmActions, fields: &mut Fields) {
    let AlarmActions {
        alarm,
        ok,
        insufficient_data,
    } = actions;
    for (name, list) in [
        ("notify", alarm),
        ("notify_ok", ok),
        ("notify_insufficient_data", insufficient_data),
    ] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(ToString::to_string).collect();
            fields.push((name.into(), format!("[{}]", items.join(", "))));
        }
    }
}

/// Every field, tags included: what a create or delete shows.
fn all_fields<A: AlarmKind>(alarm: &A) -> Fields {
    let mut fields = alarm.fields();
    fields.extend(tag_fields(alarm.tags()));
    fields
}

fn kind_of(body: &LiveAlarmBody) -> String {
    match body {
        LiveAlarmBody::Metric(_) => Alarm::LABEL.into(),
        LiveAlarmBody::Composite(_) => CompositeAlarm::LABEL.into(),
        LiveAlarmBody::Other(kind) => kind.clone(),
    }
}

pub fn plan(cx: &mut Cx<'_, '_>) {
    let stack = cx.stack;
    for (name, declared) in &stack.alarms {
        reconcile(cx, name, declared);
    }
    for (name, declared) in &stack.composites {
        reconcile(cx, name, declared);
    }
    let desired = stack.desired;
    for (name, live_alarm) in &stack.live.alarms {
        let declared = desired.alarms.contains_key(name) || desired.composites.contains_key(name);
        if !cx.owns(&live_alarm.owner)
            || declared
            || name.as_str().starts_with(AWS_MANAGED_ALARM_PREFIX)
        {
            continue;
        }
        let ops = vec![Op::DeleteAlarms(vec![name.clone()])];
        let (id, fields, refs) = match &live_alarm.body {
            LiveAlarmBody::Metric(alarm) => {
                (Alarm::id(name), all_fields(alarm), alarm.refs(stack, false))
            }
            LiveAlarmBody::Composite(alarm) => (
                CompositeAlarm::id(name),
                all_fields(alarm),
                alarm.refs(stack, false),
            ),
            LiveAlarmBody::Other(kind) => (
                Alarm::id(name),
                vec![("kind".into(), kind.clone())],
                Vec::new(),
            ),
        };
        cx.change(id, ChangeAction::Delete, deleted(fields), refs, ops);
    }
}

/// Takes over an untagged alarm of the declared kind: the ownership tag (and declared
/// tags) set, the configuration put again if it differs, nothing removed. An alarm of
/// another kind would have to be deleted and created again: adoption refuses that.
fn adopt<A: AlarmKind>(
    cx: &mut Cx<'_, '_>,
    name: &AlarmName,
    declared: &Declared<A>,
    live_alarm: &crate::model::LiveAlarm,
    refs: Vec<ResourceId>,
) {
    let alarm = &declared.value;
    let id = A::id(name);
    let Some(current) = A::of(&live_alarm.body) else {
        cx.plan.errors.push(
            Diagnostic::error(
                codes::EXISTS_OUTSIDE,
                format!("{id} cannot be adopted: it is a {}", kind_of(&live_alarm.body)),
            )
            .at(declared.origin, format!("declared here as a {}", A::LABEL))
            .note("adopting never deletes: AWS cannot turn one alarm kind into another in place. Declare it as it is (`monplan import` writes it), or delete it yourself"),
        );
        return;
    };
    let mut fields = Vec::new();
    let mut ops = Vec::new();
    let updates = !alarm.same_config(current);
    if updates {
        fields = changed(&current.fields(), &alarm.fields());
        ops.push(alarm.clone().put(false));
    }
    let (tagging, kept) = adopt_tag_ops(&live_alarm.arn, alarm.tags(), current.tags());
    let mut shown = current.tags().clone();
    shown.extend(alarm.tags().clone());
    fields.extend(changed(&tag_fields(current.tags()), &tag_fields(&shown)));
    ops.extend(tagging);
    cx.change(id.clone(), ChangeAction::Adopt, fields, refs, ops);
    cx.adopt_notice(&id, updates, &kept);
}

/// One declared alarm against what AWS holds under its name.
fn reconcile<A: AlarmKind>(cx: &mut Cx<'_, '_>, name: &AlarmName, declared: &Declared<A>) {
    let alarm = &declared.value;
    let id = A::id(name);
    let refs = alarm.refs(cx.stack, true);
    let Some(live_alarm) = cx.stack.live.alarms.get(name) else {
        let fields = created(all_fields(alarm));
        cx.change(
            id,
            ChangeAction::Create,
            fields,
            refs,
            vec![alarm.clone().put(true)],
        );
        return;
    };
    let claim = cx.claim(&id, &live_alarm.owner, declared);
    if claim == Claim::Refused {
        return;
    }
    if claim == Claim::Adopt {
        adopt(cx, name, declared, live_alarm, refs);
        return;
    }
    if let Some(current) = A::of(&live_alarm.body) {
        let mut fields = Vec::new();
        let mut ops = Vec::new();
        if !alarm.same_config(current) {
            fields = changed(&current.fields(), &alarm.fields());
            ops.push(alarm.clone().put(false));
        }
        let tag_changes = tag_ops(&live_alarm.arn, alarm.tags(), current.tags());
        if !tag_changes.is_empty() {
            fields.extend(changed(
                &tag_fields(current.tags()),
                &tag_fields(alarm.tags()),
            ));
            ops.extend(tag_changes);
        }
        if !ops.is_empty() {
            // What the live alarm refers to and the update drops (a child a composite's
            // rule no longer names) may be deleted only once the update is done: AWS
            // refuses to delete an alarm a composite still names.
            let mut refs = refs;
            for released in current.refs(cx.stack, false) {
                if !refs.contains(&released) {
                    refs.push(released);
                }
            }
            cx.change(id, ChangeAction::Update, fields, refs, ops);
        }
        return;
    }
    // Another alarm kind under our name: AWS cannot turn one into the other in place,
    // so delete and create it again.
    let mut fields = created(all_fields(alarm));
    fields.insert(
        0,
        FieldDiff {
            name: "kind".into(),
            before: Some(kind_of(&live_alarm.body)),
            after: Some(A::LABEL.into()),
        },
    );
    let ops = vec![
        Op::DeleteAlarms(vec![name.clone()]),
        alarm.clone().put(true),
    ];
    cx.change(id, ChangeAction::Replace, fields, refs, ops);
}
