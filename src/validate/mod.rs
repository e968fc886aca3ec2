//! Specs in, desired state out: every rule of the contract that can be checked without
//! AWS, each problem reported as a located diagnostic, all of them in one run.

mod alarm;
mod composite;
mod dashboard;
mod logs;
mod queue;
mod rules;
mod workers;

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{codes, Diagnostic, Diagnostics, Sp, Span};
use crate::model::{
    Alarm, AlarmMetric, AlarmName, CompositeAlarm, Dashboard, Declared, DesiredStack, Endpoint,
    LogGroupUse, PolicyRef, Protocol, QueryDefinition, QueueUse, ResourceId, ScalableTarget,
    ScalingPolicy, ServicePolicy, ServicePolicyRef, ServiceRef, StackName, Subscription,
    SubscriptionId, Topic, TopicName, OWNER_TAG,
};
use crate::spec::{AlarmSpec, StackSpec, SubscriptionSpec, TopicSpec};

/// Reads `${env:NAME}` references. Injected so that validation stays testable without
/// touching the process environment.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;

    /// Whether an unset variable is only a warning: `validate` checks the files offline,
    /// where a CI job or a laptop often lacks the secrets; plan and apply need the value.
    fn unset_is_warning(&self) -> bool {
        false
    }
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The process environment, as `validate` reads it: an unset variable is a warning.
pub struct OfflineEnv;

impl Env for OfflineEnv {
    fn var(&self, name: &str) -> Option<String> {
        ProcessEnv.var(name)
    }

    fn unset_is_warning(&self) -> bool {
        true
    }
}

/// Checks a stack name given on the command line.
pub fn rules_stack_name(name: &Sp<String>) -> Option<StackName> {
    rules::stack_name(name, &mut Diagnostics::default())
}

/// Validates every stack, then the rules that span stacks (unique stack and AWS names).
pub fn validate(specs: &[StackSpec], env: &dyn Env, d: &mut Diagnostics) -> Vec<DesiredStack> {
    let stacks: Vec<DesiredStack> = specs.iter().filter_map(|s| stack(s, env, d)).collect();
    across_stacks(specs, &stacks, d);
    stacks
}

fn stack(spec: &StackSpec, env: &dyn Env, d: &mut Diagnostics) -> Option<DesiredStack> {
    let name = spec.stack.as_ref().and_then(|n| rules::stack_name(n, d));
    // Log metrics first: alarms and dashboards may name them by key, and those
    // references are spelled out before anything else reads the spec.
    let log_groups = logs::log_groups(spec, d);
    let logs::StackLogMetrics {
        filters: mut log_metrics,
        mut refs,
        samples,
    } = name
        .as_ref()
        .map(|stack_name| logs::log_metrics(spec, stack_name, &log_groups, d))
        .unwrap_or_default();
    let mut queries = name.as_ref().map_or_else(BTreeMap::new, |stack_name| {
        logs::queries(spec, stack_name, &log_groups, d)
    });
    // The job-events recipes' filters (named by key like any log metric) and queries.
    let jobs = name
        .as_ref()
        .map(|stack_name| logs::job_events(spec, stack_name, &log_groups, d))
        .unwrap_or_default();
    for filter in jobs.filters.into_values() {
        refs.insert(
            filter.key.clone(),
            logs::LogMetricRef {
                namespace: filter.value.namespace.clone(),
                name: filter.value.metric.clone(),
                unit: filter.value.unit.clone(),
                span: filter.origin,
            },
        );
        log_metrics.insert(filter.value.filter.clone(), filter);
    }
    queries.extend(jobs.queries);
    let expanded = logs::expand_log_metric_refs(spec, &refs, d);
    let spec = &expanded;
    let region = spec.region.as_ref().and_then(|r| rules::region(r, d));
    let account = spec.account.as_ref().and_then(|a| rules::account(a, d));
    let tags = stack_tags(spec, d);

    let topics = topics(spec, name.as_ref(), &tags, env, d);
    // Queues before alarms: their recipes, scaling policies and policy keys join the
    // stack's alarms and what `notify` may name.
    let StackQueues {
        mut queues,
        policies,
        policy_keys,
        alarms: mut queue_alarms,
        scalable_targets,
        service_policies,
    } = name
        .as_ref()
        .map(|stack_name| queues(spec, stack_name, d))
        .unwrap_or_default();
    if let Some(stack_name) = &name {
        let recipes = logs::job_event_alarms(spec, stack_name, &queues, d);
        queue_alarms.extend(recipes.into_iter().map(QueueAlarm::Recipe));
    }

    let context = alarm::Context {
        defaults: spec.defaults.as_ref(),
        topics: &topics.keys,
        policies: &policy_keys,
        tags: &tags,
    };
    if let Some(defaults) = &spec.defaults {
        alarm::defaults(defaults, &context, d);
    }

    let candidates = alarm_candidates(spec, name.as_ref(), queue_alarms, d);
    let alarm_keys = alarm_keys(&candidates, d);
    let mut alarms = alarms(candidates, &alarm_keys, &context, d);
    composite::check_cycles(&alarms.composite_graph, d);
    let mut fleets = BTreeMap::new();
    if let Some(stack_name) = &name {
        let inputs = workers::Inputs {
            stack: stack_name,
            queues: &queues,
            log_metrics: &log_metrics,
            topics: &topics.keys,
            tags: &tags,
            alarms: &alarms.alarms,
        };
        for (fleet, alarm) in workers::workers(spec, &inputs, d) {
            if let Some(first) = alarms.alarms.get(&alarm.value.name).map(|a| a.origin) {
                duplicate_name(d, "alarm", alarm.value.name.as_str(), alarm.origin, first);
                continue;
            }
            fleets.insert(fleet.key.clone(), fleet);
            alarms.alarms.insert(alarm.value.name.clone(), alarm);
        }
    }

    let dashboards = name.as_ref().map_or_else(BTreeMap::new, |stack_name| {
        let published = refs
            .iter()
            .map(|(key, r)| (key.clone(), (r.namespace.clone(), r.name.clone())))
            .collect();
        let logs = DashboardLogs {
            groups: &log_groups,
            queries: &queries,
            published: &published,
        };
        dashboards(
            spec,
            stack_name,
            &mut queues,
            &alarm_keys,
            &alarms,
            &logs,
            d,
        )
    });

    let scalable_targets = scalable_targets
        .into_iter()
        .map(|(service, mut target)| {
            target.value.tags.clone_from(&tags);
            (service, target)
        })
        .collect();
    Some(DesiredStack {
        name: name?,
        origin: spec.stack.as_ref().map_or(spec.span, |s| s.span),
        region: region.map(|r| r.value),
        account,
        topics: topics.topics,
        subscriptions: topics.subscriptions,
        alarms: alarms.alarms,
        composites: alarms.composites,
        queues,
        redrive_alarms: alarms.redrive_alarms,
        policies,
        scalable_targets,
        service_policies,
        log_groups,
        log_metrics,
        queries,
        dashboards,
        samples,
        expect_later: alarms.expect_later,
        ignored: ignored_warnings(spec, d),
        adopt: topics.adopt.into_iter().chain(alarms.adopt).collect(),
        workers: fleets,
    })
}

/// Every `ignore_warnings` list of the stack's topics, alarms (queue recipes too),
/// queues and fleets, with the part of the file it covers: an alarm's or topic's review
/// warnings are located at its key; a queue's and a fleet's at the line inside them that
/// causes them (`processing_time`, `stuck_after`, `service`), so those cover their whole
/// mapping. Only review warnings can be ignored; an error is never optional.
fn ignored_warnings(spec: &StackSpec, d: &mut Diagnostics) -> Vec<(Span, BTreeSet<&'static str>)> {
    let whole = |key: &Sp<String>, value: Span| Span {
        end: value.end.max(key.span.end),
        ..key.span
    };
    let lists = spec
        .topics
        .iter()
        .map(|(key, topic)| (key.span, &topic.ignore_warnings))
        .chain(
            spec.alarms
                .iter()
                .map(|(key, alarm)| (key.span, &alarm.ignore_warnings)),
        )
        .chain(spec.queues.iter().flat_map(|(_, queue)| {
            queue
                .alarms
                .iter()
                .map(|(key, alarm)| (key.span, &alarm.ignore_warnings))
        }))
        .chain(
            spec.queues
                .iter()
                .map(|(key, queue)| (whole(key, queue.span), &queue.ignore_warnings)),
        )
        .chain(
            spec.workers
                .iter()
                .map(|(key, fleet)| (whole(key, fleet.span), &fleet.ignore_warnings)),
        );
    let mut ignored = Vec::new();
    for (region, list) in lists {
        let Some(list) = list else { continue };
        let mut codes_here = BTreeSet::new();
        for code in &list.value {
            match codes::IGNORABLE.iter().find(|c| **c == code.value) {
                Some(known) => {
                    codes_here.insert(*known);
                }
                None => {
                    d.push(
                        Diagnostic::error(
                            codes::INVALID_VALUE,
                            format!(
                                "`{}` is not a review warning monplan can ignore",
                                code.value
                            ),
                        )
                        .at(code.span, "not a review warning")
                        .suggest(&code.value, codes::IGNORABLE.iter().copied())
                        .note(format!(
                            "`ignore_warnings` takes: {}",
                            codes::IGNORABLE.join(", ")
                        )),
                    );
                }
            }
        }
        ignored.push((region, codes_here));
    }
    ignored
}

/// A stack's validated topics and subscriptions, and the topic keys `notify` may name.
struct StackTopics {
    topics: BTreeMap<TopicName, Declared<Topic>>,
    subscriptions: BTreeMap<SubscriptionId, Declared<Subscription>>,
    /// Topic key -> (AWS name, where declared).
    keys: BTreeMap<String, (TopicName, Span)>,
    /// Topics with `adopt: true`.
    adopt: BTreeSet<ResourceId>,
}

/// Validates `topics:`: keys, AWS names (unique in the stack), display names and each
/// topic's subscriptions (endpoints expanded from the environment, none listed twice).
fn topics(
    spec: &StackSpec,
    stack: Option<&StackName>,
    tags: &BTreeMap<String, String>,
    env: &dyn Env,
    d: &mut Diagnostics,
) -> StackTopics {
    let mut topics = BTreeMap::new();
    let mut subscriptions = BTreeMap::new();
    let mut keys: BTreeMap<String, (TopicName, Span)> = BTreeMap::new();
    let mut adopt = BTreeSet::new();
    for (key, topic_spec) in &spec.topics {
        rules::resource_key(key, "topic", d);
        let Some(topic_name) = aws_name(key, topic_spec.name.as_ref(), stack, rules::topic_name, d)
        else {
            continue;
        };
        if let Some(first) = topics.get(&topic_name).map(|t: &Declared<Topic>| t.origin) {
            duplicate_name(d, "topic", topic_name.as_str(), key.span, first);
            continue;
        }
        for sub in &topic_spec.subscriptions {
            let Some(id) = subscription(&topic_name, sub, env, d) else {
                continue;
            };
            let origin = sub.protocol.span;
            if let Some(first) = subscriptions
                .get(&id)
                .map(|s: &Declared<Subscription>| s.origin)
            {
                d.push(
                    Diagnostic::error(codes::DUPLICATE_NAME, "this subscription is listed twice")
                        .at(origin, "listed again here")
                        .also(first, "first listed here"),
                );
                continue;
            }
            let value = Subscription { id: id.clone() };
            subscriptions.insert(
                id,
                Declared {
                    value,
                    key: key.value.clone(),
                    origin,
                },
            );
        }
        keys.insert(key.value.clone(), (topic_name.clone(), key.span));
        if topic_spec.adopt.as_ref().is_some_and(|a| a.value) {
            adopt.insert(ResourceId::Topic(topic_name.clone()));
        }
        let own_tags = resource_tags(tags, &topic_spec.tags, d);
        let value = topic(&topic_name, topic_spec, &own_tags, d);
        topics.insert(
            topic_name,
            Declared {
                value,
                key: key.value.clone(),
                origin: key.span,
            },
        );
    }
    StackTopics {
        topics,
        subscriptions,
        keys,
        adopt,
    }
}

/// What a stack's queues contribute: the queues, their scaling policies, the policy keys
/// `notify` may name and the alarms they ask for (recipes, scale-from-zero).
#[derive(Default)]
struct StackQueues<'a> {
    queues: BTreeMap<String, Declared<QueueUse>>,
    policies: BTreeMap<PolicyRef, Declared<ScalingPolicy>>,
    /// Policy key (`{queue}.from_zero`) -> (the action naming the policy, where declared).
    policy_keys: BTreeMap<String, (crate::model::Action, Span)>,
    alarms: Vec<QueueAlarm<'a>>,
    scalable_targets: BTreeMap<ServiceRef, Declared<ScalableTarget>>,
    service_policies: BTreeMap<ServicePolicyRef, Declared<ServicePolicy>>,
}

/// An alarm a queue asks for, in the order the stack's alarms are named.
enum QueueAlarm<'a> {
    Recipe(queue::RecipeAlarm<'a>),
    FromZero(queue::FromZeroAlarm),
}

/// Validates `queues:` (which needs the stack's name: recipe alarms and policies are
/// named after it), each queue's alarms in the order written, then its scaling.
fn queues<'a>(spec: &'a StackSpec, stack: &StackName, d: &mut Diagnostics) -> StackQueues<'a> {
    let mut out = StackQueues::default();
    for (key, queue_spec) in &spec.queues {
        let Some(parts) = queue::queue(stack, key, queue_spec, d) else {
            continue;
        };
        out.queues.insert(key.value.clone(), parts.queue);
        for policy in parts.policies {
            out.policies.insert(policy.value.policy.clone(), policy);
        }
        for target in parts.scalable_targets {
            scalable_target(&mut out.scalable_targets, target, d);
        }
        for policy in parts.service_policies {
            out.service_policies
                .insert(policy.value.policy.clone(), policy);
        }
        for (policy_key, policy, span) in parts.policy_keys {
            out.policy_keys.insert(policy_key, (policy, span));
        }
        out.alarms
            .extend(parts.recipes.into_iter().map(QueueAlarm::Recipe));
        out.alarms
            .extend(parts.from_zero_alarm.map(QueueAlarm::FromZero));
    }
    out
}

/// One scalable target per service: two queues of a stack scaling one service would
/// fight over its capacity.
fn scalable_target(
    targets: &mut BTreeMap<ServiceRef, Declared<ScalableTarget>>,
    target: Declared<ScalableTarget>,
    d: &mut Diagnostics,
) {
    if let Some(first) = targets.get(&target.value.service) {
        d.push(
            Diagnostic::error(
                codes::DUPLICATE_NAME,
                format!("service `{}` is scaled twice", target.value.service),
            )
            .at(target.origin, "scaled here")
            .also(first.origin, "and here")
            .note("one service has one scalable target; scale it from one queue"),
        );
        return;
    }
    targets.insert(target.value.service.clone(), target);
}

/// An alarm to validate, once its key and AWS name are known.
struct Candidate<'a> {
    /// `job-failures`, or `jobs.oldest_message_age` for a queue's alarm; located.
    key: Sp<String>,
    name: AlarmName,
    kind: CandidateKind<'a>,
}

enum CandidateKind<'a> {
    /// A metric alarm, from its fields and its metric's source.
    Metric {
        spec: &'a AlarmSpec,
        source: alarm::Source,
        /// The queue whose redrive policy gives its DLQ dimension, if it needs one.
        redrive_of: Option<String>,
    },
    /// A metric alarm monplan derives (a queue's scale-from-zero alarm).
    Derived(alarm::Derived),
    /// A composite alarm: `rule` over the stack's alarms.
    Composite(&'a AlarmSpec),
}

/// Names every alarm of the stack, the queues' first and then `alarms:`, before any is
/// validated: composite rules and dashboards refer to them. An alarm whose AWS name is
/// invalid is reported here and left out.
fn alarm_candidates<'a>(
    spec: &'a StackSpec,
    stack: Option<&StackName>,
    queue_alarms: Vec<QueueAlarm<'a>>,
    d: &mut Diagnostics,
) -> Vec<Candidate<'a>> {
    let mut candidates = Vec::new();
    for queue_alarm in queue_alarms {
        match queue_alarm {
            QueueAlarm::Recipe(recipe) => {
                let generated = Sp::new(recipe.default_name, recipe.key.span);
                let written = recipe.spec.name.as_ref().unwrap_or(&generated);
                let Some(alarm_name) = rules::alarm_name(written, d) else {
                    continue;
                };
                candidates.push(Candidate {
                    key: recipe.key,
                    name: alarm_name,
                    kind: CandidateKind::Metric {
                        spec: recipe.spec,
                        source: alarm::Source::Recipe(recipe.metric),
                        redrive_of: recipe.redrive_of,
                    },
                });
            }
            QueueAlarm::FromZero(from_zero) => {
                let generated = Sp::new(from_zero.default_name, from_zero.key.span);
                let Some(alarm_name) = rules::alarm_name(&generated, d) else {
                    continue;
                };
                candidates.push(Candidate {
                    key: from_zero.key,
                    name: alarm_name,
                    kind: CandidateKind::Derived(from_zero.alarm),
                });
            }
        }
    }
    for (key, alarm_spec) in &spec.alarms {
        rules::resource_key(key, "alarm", d);
        let Some(alarm_name) = aws_name(key, alarm_spec.name.as_ref(), stack, rules::alarm_name, d)
        else {
            continue;
        };
        let kind = if alarm_spec.rule.is_some() {
            CandidateKind::Composite(alarm_spec)
        } else {
            CandidateKind::Metric {
                spec: alarm_spec,
                source: alarm::Source::Spec,
                redrive_of: None,
            }
        };
        candidates.push(Candidate {
            key: key.clone(),
            name: alarm_name,
            kind,
        });
    }
    candidates
}

/// Every alarm's key, AWS name and where it is declared, in candidate order; two alarms
/// with one AWS name are reported (both are kept here, so that references to either resolve).
fn alarm_keys(candidates: &[Candidate<'_>], d: &mut Diagnostics) -> Vec<(String, AlarmName, Span)> {
    let mut seen_names: BTreeMap<AlarmName, Span> = BTreeMap::new();
    let mut keys = Vec::new();
    for candidate in candidates {
        let (key, alarm_name) = (&candidate.key, &candidate.name);
        if let Some(first) = seen_names.insert(alarm_name.clone(), key.span) {
            duplicate_name(d, "alarm", alarm_name.as_str(), key.span, first);
        }
        keys.push((key.value.clone(), alarm_name.clone(), key.span));
    }
    keys
}

/// The validated metric and composite alarms, with what later steps need of them.
struct StackAlarms {
    alarms: BTreeMap<AlarmName, Declared<Alarm>>,
    composites: BTreeMap<AlarmName, Declared<CompositeAlarm>>,
    /// Alarm -> the queue whose redrive policy gives its DLQ dimension.
    redrive_alarms: BTreeMap<AlarmName, String>,
    /// Composite key -> (the alarm keys its rule names, where declared).
    composite_graph: BTreeMap<String, (Vec<String>, Span)>,
    /// Metric alarm key -> what it watches, for dashboards.
    metrics: BTreeMap<String, AlarmMetric>,
    /// Alarms with `expect_metric: later`.
    expect_later: BTreeSet<AlarmName>,
    /// Alarms with `adopt: true`.
    adopt: BTreeSet<ResourceId>,
}

/// Validates every candidate in order: a metric alarm (own metric, recipe or derived) or
/// a composite, whose rule may name any alarm key of the stack.
fn alarms(
    candidates: Vec<Candidate<'_>>,
    alarm_keys: &[(String, AlarmName, Span)],
    context: &alarm::Context<'_>,
    d: &mut Diagnostics,
) -> StackAlarms {
    let key_map: BTreeMap<String, (AlarmName, Span)> = alarm_keys
        .iter()
        .map(|(k, n, s)| (k.clone(), (n.clone(), *s)))
        .collect();
    let mut out = StackAlarms {
        alarms: BTreeMap::new(),
        composites: BTreeMap::new(),
        redrive_alarms: BTreeMap::new(),
        composite_graph: BTreeMap::new(),
        metrics: BTreeMap::new(),
        expect_later: BTreeSet::new(),
        adopt: BTreeSet::new(),
    };
    for Candidate {
        key,
        name: alarm_name,
        kind,
    } in candidates
    {
        let (key_text, origin) = (key.value.clone(), key.span);
        let (alarm, redrive_of) = match kind {
            CandidateKind::Metric {
                spec,
                source,
                redrive_of,
            } => {
                if adopts(spec) {
                    out.adopt.insert(ResourceId::Alarm(alarm_name.clone()));
                }
                let own_tags = resource_tags(context.tags, &spec.tags, d);
                if let Some(expect) = &spec.expect_metric {
                    if expect.value == "later" {
                        out.expect_later.insert(alarm_name.clone());
                    } else {
                        d.push(
                            Diagnostic::error(codes::INVALID_VALUE, "`expect_metric` takes `later`")
                                .at(expect.span, "expected `later`")
                                .note("`expect_metric: later` says the metric appears only after the first deploy or traffic"),
                        );
                    }
                }
                (
                    alarm::alarm(alarm_name.clone(), &key, spec, source, context, d).map(
                        |mut alarm| {
                            alarm.tags = own_tags;
                            alarm
                        },
                    ),
                    redrive_of,
                )
            }
            CandidateKind::Derived(derived) => (
                alarm::derived(alarm_name.clone(), derived, context, d),
                None,
            ),
            CandidateKind::Composite(spec) => {
                let Some((mut composite, children)) =
                    alarm::composite(alarm_name.clone(), spec, &key_map, context, d)
                else {
                    continue;
                };
                composite.tags = resource_tags(context.tags, &spec.tags, d);
                if adopts(spec) {
                    out.adopt
                        .insert(ResourceId::CompositeAlarm(alarm_name.clone()));
                }
                out.composite_graph
                    .insert(key.value.clone(), (children, key.span));
                out.composites.insert(
                    alarm_name,
                    Declared {
                        value: composite,
                        key: key_text,
                        origin,
                    },
                );
                continue;
            }
        };
        let Some(alarm) = alarm else {
            continue;
        };
        out.metrics.insert(
            key.value.clone(),
            dashboard_metric(&alarm, redrive_of.is_some()),
        );
        if let Some(queue) = redrive_of {
            out.redrive_alarms.insert(alarm_name.clone(), queue);
        }
        out.alarms.insert(
            alarm_name,
            Declared {
                value: alarm,
                key: key_text,
                origin,
            },
        );
    }
    out
}

/// What a dashboard's metric widget shows for a metric alarm. Resolve gives an alarm
/// whose DLQ comes from the redrive policy its `QueueName`, but not a dashboard line
/// naming that alarm: such a line keeps the empty `QueueName` it has always had.
// TODO: resolve it from the redrive policy in the dashboard body, as `Dlq::FromRedrive`
// does for queue widgets.
fn dashboard_metric(alarm: &Alarm, dlq_from_redrive: bool) -> AlarmMetric {
    let mut metric = alarm.metric.clone();
    if let (AlarmMetric::Single(m), true) = (&mut metric, dlq_from_redrive) {
        m.dimensions.insert("QueueName".into(), String::new());
    }
    metric
}

/// Validates `dashboards:` against the stack's queues and alarms, and marks the queues
/// whose DLQ a dashboard takes from the redrive policy.
/// What `logs` widgets may name: the validated log groups and saved queries (the
/// job-events recipes' included).
struct DashboardLogs<'a> {
    groups: &'a BTreeMap<String, Declared<LogGroupUse>>,
    queries: &'a BTreeMap<String, Declared<QueryDefinition>>,
    /// Log metric key -> (namespace, metric name).
    published: &'a BTreeMap<String, (String, String)>,
}

fn dashboards(
    spec: &StackSpec,
    stack: &StackName,
    queues: &mut BTreeMap<String, Declared<QueueUse>>,
    alarm_keys: &[(String, AlarmName, Span)],
    alarms: &StackAlarms,
    logs: &DashboardLogs<'_>,
    d: &mut Diagnostics,
) -> BTreeMap<String, Declared<Dashboard>> {
    let mut dashboards = BTreeMap::new();
    let composite_keys = alarms.composite_graph.keys().cloned().collect();
    // Every query key, valid or not: an invalid one is reported where it is declared.
    let query_keys = spec
        .queries
        .iter()
        .map(|(k, _)| k.value.clone())
        .chain(logs.queries.values().map(|q| q.key.clone()))
        .collect();
    let names = dashboard::Names {
        queues,
        alarms: alarm_keys,
        metrics: &alarms.metrics,
        composites: &composite_keys,
        log_groups: logs.groups,
        queries: logs.queries,
        query_keys: &query_keys,
        log_metrics: logs.published,
    };
    let mut redrive_queues = Vec::new();
    for (key, dashboard_spec) in &spec.dashboards {
        if let Some(board) =
            dashboard::dashboard(stack, key, dashboard_spec, &names, &mut redrive_queues, d)
        {
            dashboards.insert(board.value.name.clone(), board);
        }
    }
    for queue_key in redrive_queues {
        if let Some(queue) = queues.get_mut(&queue_key) {
            queue.value.needs_redrive = true;
        }
    }
    dashboards
}

/// The AWS name of a resource: `name:` if given, else `{stack}-{key}`.
fn aws_name<N>(
    key: &Sp<String>,
    explicit: Option<&Sp<String>>,
    stack: Option<&StackName>,
    check: fn(&Sp<String>, &mut Diagnostics) -> Option<N>,
    d: &mut Diagnostics,
) -> Option<N> {
    if let Some(name) = explicit {
        check(name, d)
    } else {
        let generated = Sp::new(format!("{}-{}", stack?, key.value), key.span);
        check(&generated, d)
    }
}

fn duplicate_name(d: &mut Diagnostics, kind: &str, name: &str, here: Span, first: Span) {
    d.push(
        Diagnostic::error(
            codes::DUPLICATE_NAME,
            format!("two {kind}s would be named `{name}`"),
        )
        .at(here, "this one")
        .also(first, "and this one")
        .note("AWS names must be unique; set `name:` on one of them"),
    );
}

fn stack_tags(spec: &StackSpec, d: &mut Diagnostics) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for (key, value) in &spec.tags {
        if rules::tag(key, value, d) {
            tags.insert(key.value.clone(), value.value.clone());
        }
    }
    // AWS allows 50 tags per resource; one is ours.
    if tags.len() > 49 {
        if let Some((key, _)) = spec.tags.get(49) {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, "too many tags")
                    .at(key.span, "the 50th tag")
                    .note("AWS allows 50 tags per resource and monplan adds `monplan:stack`"),
            );
        }
    }
    if let Some(stack) = &spec.stack {
        tags.insert(OWNER_TAG.to_string(), stack.value.clone());
    }
    tags
}

/// Whether an alarm says `adopt: true`.
fn adopts(spec: &AlarmSpec) -> bool {
    spec.adopt.as_ref().is_some_and(|a| a.value)
}

/// A resource's own `tags:` over the stack's (which carry the ownership tag): the
/// resource's value wins for a key both set.
fn resource_tags(
    stack: &BTreeMap<String, String>,
    own: &[(Sp<String>, Sp<String>)],
    d: &mut Diagnostics,
) -> BTreeMap<String, String> {
    let mut tags = stack.clone();
    for (key, value) in own {
        if rules::tag(key, value, d) {
            tags.insert(key.value.clone(), value.value.clone());
        }
    }
    // AWS allows 50 tags per resource, the ownership tag included.
    if tags.len() > 50 {
        if let Some((key, _)) = own.last() {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, "too many tags")
                    .at(key.span, format!("{} tags with the stack's", tags.len()))
                    .note("AWS allows 50 tags per resource and monplan adds `monplan:stack`"),
            );
        }
    }
    tags
}

fn topic(
    name: &TopicName,
    spec: &TopicSpec,
    tags: &BTreeMap<String, String>,
    d: &mut Diagnostics,
) -> Topic {
    let display_name = spec.display_name.as_ref().and_then(|n| {
        if n.value.chars().count() > 100 {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    "a topic's display name has at most 100 characters",
                )
                .at(n.span, format!("{} characters", n.value.chars().count())),
            );
        }
        (!n.value.is_empty()).then(|| n.value.clone())
    });
    Topic {
        name: name.clone(),
        display_name,
        tags: tags.clone(),
    }
}

fn subscription(
    topic: &TopicName,
    spec: &SubscriptionSpec,
    env: &dyn Env,
    d: &mut Diagnostics,
) -> Option<SubscriptionId> {
    // The reader only lets known protocols through.
    let protocol = Protocol::parse(&spec.protocol.value)?;
    let endpoint = endpoint(&spec.endpoint, env, d)?;
    if !endpoint.is_sensitive() {
        rules::endpoint(protocol, &spec.endpoint, d);
    }
    Some(SubscriptionId {
        topic: topic.clone(),
        protocol,
        endpoint,
    })
}

/// Expands every `${env:NAME}` in an endpoint. Values from the environment are not
/// checked locally (AWS checks them at apply): a diagnostic would have to quote them.
fn endpoint(written: &Sp<String>, env: &dyn Env, d: &mut Diagnostics) -> Option<Endpoint> {
    let text = &written.value;
    if !text.contains("${") {
        return Some(Endpoint::literal(text.clone()));
    }
    let mut value = String::new();
    let mut rest = text.as_str();
    let mut ok = true;
    while let Some(start) = rest.find("${") {
        value.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, "unterminated `${` in an endpoint")
                    .at(written.span, "expected `${env:NAME}`"),
            );
            return None;
        };
        let reference = &after[..end];
        if let Some(variable) = reference
            .strip_prefix("env:")
            .filter(|n| rules::is_env_name(n))
        {
            match env.var(variable) {
                Some(v) if !v.is_empty() => value.push_str(&v),
                _ if env.unset_is_warning() => {
                    d.push(
                        Diagnostic::warning(
                            codes::UNSET_ENV,
                            format!("environment variable `{variable}` is not set"),
                        )
                        .at(written.span, format!("plan and apply need `{variable}`"))
                        .note(format!(
                            "validate checks the files offline; set {variable} where plan and apply run (its value is never printed)"
                        )),
                    );
                    // Stands for the value: the reference itself, so two endpoints
                    // naming different variables stay different.
                    value.push_str(&rest[start..=start + 2 + end]);
                }
                _ => {
                    d.push(
                        Diagnostic::error(
                            codes::MISSING_ENV,
                            format!("environment variable `{variable}` is not set"),
                        )
                        .at(written.span, format!("needs `{variable}`"))
                        .note(format!(
                            "set {variable} in the environment that runs monplan (its value is never printed)"
                        )),
                    );
                    ok = false;
                }
            }
        } else {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("`${{{reference}}}` is not a reference monplan knows"),
                )
                .at(written.span, "expected `${env:NAME}`"),
            );
            ok = false;
        }
        rest = &after[end + 1..];
    }
    value.push_str(rest);
    ok.then(|| Endpoint::sensitive(text.clone(), value))
}

fn across_stacks(specs: &[StackSpec], stacks: &[DesiredStack], d: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for spec in specs {
        let Some(name) = &spec.stack else { continue };
        if let Some(first) = seen.get(name.value.as_str()) {
            d.push(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!("two files define stack `{}`", name.value),
                )
                .at(name.span, "defined again here")
                .also(*first, "first defined here")
                .note("a stack is one file; rename one of them"),
            );
        } else {
            seen.insert(&name.value, name.span);
        }
    }
    // Same AWS name declared by two stacks in the same region: one would overwrite the other.
    let mut alarm_names: BTreeMap<(Option<&str>, &str), Span> = BTreeMap::new();
    let mut topic_names: BTreeMap<(Option<&str>, &str), Span> = BTreeMap::new();
    for stack in stacks {
        let region = stack.region.as_deref();
        for (name, alarm) in &stack.alarms {
            if let Some(first) = alarm_names.insert((region, name.as_str()), alarm.origin) {
                if first.file != alarm.origin.file {
                    duplicate_name(d, "alarm", name.as_str(), alarm.origin, first);
                }
            }
        }
        for (name, topic) in &stack.topics {
            if let Some(first) = topic_names.insert((region, name.as_str()), topic.origin) {
                if first.file != topic.origin.file {
                    duplicate_name(d, "topic", name.as_str(), topic.origin, first);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::model::{Action, Comparison, Condition, TreatMissingData};
    use crate::spec::read_stack;

    struct NoEnv;

    impl Env for NoEnv {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
    }

    fn desired(yaml: &str) -> (Option<DesiredStack>, Diagnostics) {
        let mut d = Diagnostics::default();
        let root = crate::spec::node::parse(FileId(0), yaml).expect("valid YAML");
        let spec = read_stack(FileId(0), &root, &mut d).expect("a stack");
        (stack(&spec, &NoEnv, &mut d), d)
    }

    /// The scale-from-zero alarm is monplan's: the stack's `defaults` do not reach it.
    #[test]
    fn the_from_zero_alarm_ignores_the_stack_defaults() {
        let (stack, d) = desired(
            "stack: s\ntags: { team: a }\n\
             defaults: { period: 5m, evaluation_periods: 4, datapoints_to_alarm: 2, \
             treat_missing_data: breaching, actions_enabled: false, notify: [t], notify_ok: [t] }\n\
             topics: { t: {} }\n\
             queues:\n  q:\n    scaling: { group: g, backlog_per_instance: 5, from_zero: true }\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let stack = stack.expect("a stack");
        let alarm = &stack.alarms[&AlarmName::new("s-q-from-zero")];
        assert_eq!(alarm.key, "q.from_zero_alarm");
        let alarm = &alarm.value;
        assert_eq!(
            alarm.description.as_deref(),
            Some("Messages wait in q and g has no instance in service: start one")
        );
        let AlarmMetric::Math {
            expression,
            metrics,
        } = &alarm.metric
        else {
            panic!("metric math");
        };
        let AlarmMetric::Math {
            expression: expected,
            metrics: expected_metrics,
        } = queue::from_zero_metric("q", "g")
        else {
            panic!("metric math");
        };
        assert_eq!(*expression, expected);
        for (id, mut m) in expected_metrics {
            m.period = 60;
            assert_eq!(metrics.get(&id), Some(&m), "{id}");
        }
        assert_eq!(
            alarm.condition,
            Condition::Threshold {
                comparison: Comparison::Above,
                value: 0.0
            }
        );
        assert_eq!(
            (alarm.evaluation_periods, alarm.datapoints_to_alarm),
            (1, 1)
        );
        assert_eq!(alarm.treat_missing_data, TreatMissingData::NotBreaching);
        assert!(alarm.actions_enabled);
        assert_eq!(
            alarm.actions.alarm,
            vec![Action::Policy(PolicyRef {
                group: "g".into(),
                name: "s_q-from-zero".into()
            })]
        );
        assert!(alarm.actions.ok.is_empty() && alarm.actions.insufficient_data.is_empty());
        assert_eq!(alarm.tags.get("team").map(String::as_str), Some("a"));
        assert_eq!(alarm.tags.get(OWNER_TAG).map(String::as_str), Some("s"));
    }

    /// `dlq_visible_messages` without `dead_letter_queue:` watches no queue until the
    /// plan takes the DLQ from the redrive policy.
    #[test]
    fn a_dlq_from_the_redrive_policy_is_left_to_the_plan() {
        let (stack, d) = desired(
            "stack: s\nqueues:\n  q:\n    alarms:\n      dlq_visible_messages: { above: 0 }\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let stack = stack.expect("a stack");
        let name = AlarmName::new("s-q-dlq-visible-messages");
        let AlarmMetric::Single(metric) = &stack.alarms[&name].value.metric else {
            panic!("a single metric");
        };
        assert!(metric.dimensions.is_empty(), "{:?}", metric.dimensions);
        assert_eq!(
            stack.redrive_alarms.get(&name).map(String::as_str),
            Some("q")
        );
    }
}
