//! Resolve: the desired state's final values, from the model and the live facts.
//!
//! Pure, like the planner: validated stacks, where they are planned ([`Scope`]) and what
//! is live there in; for each stack a [`ResolvedStack`] out, whose values are exactly
//! what AWS will be sent and will report back: topic keys become ARNs, dead-letter
//! queues named by redrive policies fill their alarms' `QueueName` dimension, dashboard
//! bodies are rendered, a policy's warmup left to AWS takes AWS's value. What exists
//! only after an earlier operation of the same apply (the ARN of a scaling policy about
//! to be created) stays a deferred value, [`Action::Policy`], shown as
//! `(known after apply)` and filled in by apply from that operation's output.
//!
//! The checks that need live facts but are not diffs happen here too: the account
//! guard, queues, dead-letter queues and groups that must exist. Other commands (lint,
//! drill, import) read the resolved stacks as public data.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{codes, Diagnostic, Diagnostics, Severity, Span};
use crate::kinds::dashboard;
use crate::model::duration;
use crate::model::workers::LiveTaskDefinition;
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, AlarmName, Arn, CompositeAlarm, Declared,
    DesiredStack, Endpoint, FilterRef, ForeignTopic, LiveState, LiveSubscription, MetricFilter,
    PolicyKind, PolicyRef, ResourceId, ScalableTarget, ScalingPolicy, Scope, ServicePolicy,
    ServicePolicyKind, ServicePolicyRef, ServiceRef, StackName, SubscriptionId, TreatMissingData,
    Widget,
};

/// One stack, where it is planned, and what is live there.
pub struct StackInput<'a> {
    pub desired: &'a DesiredStack,
    pub scope: &'a Scope,
    pub live: &'a LiveState,
}

/// Something the user should know that is not a change, e.g. a pending subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub stack: StackName,
    /// What it is about, e.g. `subscription "t" email:x` or `queue "jobs"`.
    pub subject: String,
    pub message: String,
}

/// A stack's desired state with every value final (or explicitly deferred).
pub struct ResolvedStack<'a> {
    pub desired: &'a DesiredStack,
    pub scope: &'a Scope,
    pub live: &'a LiveState,
    /// Metric alarms with actions as ARNs (or deferred) and DLQ dimensions filled in.
    /// An alarm whose DLQ could not be found is absent (a resolve error says why).
    pub alarms: BTreeMap<AlarmName, Declared<Alarm>>,
    pub composites: BTreeMap<AlarmName, Declared<CompositeAlarm>>,
    /// Policies of groups that exist (a missing group is a resolve error).
    pub policies: BTreeMap<PolicyRef, Declared<ScalingPolicy>>,
    /// Scalable targets and policies of ECS services that exist (a missing cluster or
    /// service is a resolve error).
    pub scalable_targets: BTreeMap<ServiceRef, Declared<ScalableTarget>>,
    pub service_policies: BTreeMap<ServicePolicyRef, Declared<ServicePolicy>>,
    /// Metric filters on log groups that exist (a missing group is a resolve error).
    pub metric_filters: BTreeMap<FilterRef, Declared<MetricFilter>>,
    /// Dashboard bodies, exactly as put.
    pub dashboards: BTreeMap<String, Declared<serde_json::Value>>,
}

impl ResolvedStack<'_> {
    pub fn name(&self) -> &StackName {
        &self.desired.name
    }

    /// The resources a dashboard's alarm widgets show.
    pub fn dashboard_refs(&self, name: &str) -> Vec<ResourceId> {
        let Some(board) = self.desired.dashboards.get(name) else {
            return Vec::new();
        };
        board
            .value
            .widgets
            .iter()
            .filter_map(|w| match w {
                Widget::Alarms { alarms } => Some(alarms),
                _ => None,
            })
            .flatten()
            .map(|alarm| {
                if self.composites.contains_key(alarm) {
                    ResourceId::CompositeAlarm(alarm.clone())
                } else {
                    ResourceId::Alarm(alarm.clone())
                }
            })
            .collect()
    }
}

/// What resolving every stack produced.
#[derive(Default)]
pub struct Resolution<'a> {
    pub stacks: Vec<ResolvedStack<'a>>,
    /// Problems only live facts reveal; a plan with errors is never applied.
    pub errors: Diagnostics,
    pub notices: Vec<Notice>,
}

pub fn resolve<'a>(inputs: &[StackInput<'a>]) -> Resolution<'a> {
    let mut resolution = Resolution::default();
    for input in inputs {
        let mut resolver = Resolver {
            input,
            errors: &mut resolution.errors,
            notices: &mut resolution.notices,
        };
        if let Some(stack) = resolver.stack() {
            resolution.stacks.push(stack);
        }
    }
    drop_ignored(&mut resolution.errors, inputs.iter().map(|i| i.desired));
    resolution
}

/// Drops each warning a reviewed exception (`ignore_warnings`) covers: at the resource's
/// key, or anywhere inside a queue or fleet that lists it. The planner calls it again for
/// the warnings its kinds add.
pub fn drop_ignored<'d>(errors: &mut Diagnostics, stacks: impl Iterator<Item = &'d DesiredStack>) {
    let ignored: Vec<&(Span, BTreeSet<&'static str>)> = stacks.flat_map(|s| &s.ignored).collect();
    errors.retain(|d| {
        let Some((span, _)) = &d.primary else {
            return true;
        };
        d.severity != Severity::Warning
            || !ignored.iter().any(|(at, codes)| {
                at.file == span.file
                    && at.start <= span.start
                    && span.end <= at.end
                    && codes.contains(d.code)
            })
    });
}

struct Resolver<'i, 'a, 'r> {
    input: &'i StackInput<'a>,
    errors: &'r mut Diagnostics,
    notices: &'r mut Vec<Notice>,
}

impl<'a> Resolver<'_, 'a, '_> {
    fn stack(&mut self) -> Option<ResolvedStack<'a>> {
        if !self.account_matches() {
            return None;
        }
        self.queues();
        self.deliveries();
        self.workers();
        self.log_groups();
        let desired = self.input.desired;
        let alarms = desired
            .alarms
            .iter()
            .filter_map(|(name, declared)| {
                let value = self.alarm(&declared.value)?;
                Some((name.clone(), with_value(declared, value)))
            })
            .collect();
        self.metrics_exist(&alarms);
        let composites = desired
            .composites
            .iter()
            .map(|(name, declared)| {
                let mut value = declared.value.clone();
                self.actions(&mut value.actions);
                (name.clone(), with_value(declared, value))
            })
            .collect();
        self.review(&alarms, &composites);
        let policies = desired
            .policies
            .iter()
            .filter(|(policy, _)| self.input.live.groups.contains(&policy.group))
            .map(|(policy, declared)| {
                (
                    policy.clone(),
                    with_value(declared, self.policy(policy, &declared.value)),
                )
            })
            .collect();
        let scalable_targets = desired
            .scalable_targets
            .iter()
            .filter(|(service, _)| self.input.live.services.contains(service))
            .map(|(service, declared)| (service.clone(), declared.clone()))
            .collect();
        let service_policies = desired
            .service_policies
            .iter()
            .filter(|(policy, _)| self.input.live.services.contains(&policy.service))
            .map(|(policy, declared)| {
                (
                    policy.clone(),
                    with_value(declared, self.service_policy(policy, &declared.value)),
                )
            })
            .collect();
        let metric_filters = desired
            .log_metrics
            .iter()
            .filter(|(filter, _)| self.input.live.log_groups.contains(&filter.log_group))
            .map(|(filter, declared)| (filter.clone(), declared.clone()))
            .collect();
        let dashboards = desired
            .dashboards
            .iter()
            .map(|(name, declared)| {
                let live = self.input.live;
                let dlq_of = |queue: &str| {
                    live.queues
                        .get(queue)
                        .and_then(|q| q.dead_letter_queue.clone())
                };
                let body = dashboard::body::body(&declared.value, self.input.scope, &dlq_of);
                (name.clone(), with_value(declared, body))
            })
            .collect();
        Some(ResolvedStack {
            desired,
            scope: self.input.scope,
            live: self.input.live,
            alarms,
            composites,
            policies,
            scalable_targets,
            service_policies,
            metric_filters,
            dashboards,
        })
    }

    fn stack_name(&self) -> &StackName {
        &self.input.desired.name
    }

    fn notice(&mut self, subject: impl std::fmt::Display, message: String) {
        self.notices.push(Notice {
            stack: self.stack_name().clone(),
            subject: subject.to_string(),
            message,
        });
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
        self.errors.push(
            Diagnostic::error(
                codes::WRONG_ACCOUNT,
                format!(
                    "stack `{}` is for account {}, but the credentials are for account {actual}",
                    self.stack_name(),
                    expected.value
                ),
            )
            .at(expected.origin, format!("expects {}", expected.value))
            .note("switch credentials (profile, role) to the stack's account, or fix `account:`"),
        );
        false
    }

    /// Log groups must exist: monplan reads them and never creates them.
    fn log_groups(&mut self) {
        let region = self.input.scope.region.clone();
        for declared in self.input.desired.log_groups.values() {
            let name = &declared.value.name;
            if !self.input.live.log_groups.contains(name) {
                self.errors.push(
                    Diagnostic::error(
                        codes::MISSING_RESOURCE,
                        format!("log group `{name}` does not exist in {region}"),
                    )
                    .at(declared.origin, "no such log group")
                    .note("monplan reads existing log groups and never creates them; create it (your workers' logging does), or fix the name"),
                );
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
                self.errors.push(
                    Diagnostic::error(codes::MISSING_RESOURCE, format!("queue `{}` does not exist in {region}", queue.name))
                        .at(declared.origin, "no such queue")
                        .note("monplan watches existing queues and never creates them; create it, or fix the name"),
                );
            }
            if let Some(dlq) = &queue.dead_letter_queue {
                if !live.queues.contains_key(&dlq.value) {
                    self.errors.push(
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
                    self.errors.push(
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
            for service in &queue.services {
                self.service(service);
            }
        }
    }

    /// An ECS service must exist, and its cluster publish the task count its policy
    /// tracks.
    fn service(&mut self, declared: &Declared<ServiceRef>) {
        let live = self.input.live;
        let region = &self.input.scope.region;
        let ServiceRef { cluster, service } = &declared.value;
        let Some(live_cluster) = live.clusters.get(cluster) else {
            self.errors.push(
                Diagnostic::error(
                    codes::MISSING_RESOURCE,
                    format!("ECS cluster `{cluster}` does not exist in {region}"),
                )
                .at(declared.origin, "no such cluster")
                .note("monplan scales existing services and never creates them"),
            );
            return;
        };
        if !live.services.contains(&declared.value) {
            self.errors.push(
                Diagnostic::error(
                    codes::MISSING_RESOURCE,
                    format!("ECS service `{service}` does not exist in cluster `{cluster}`"),
                )
                .at(declared.origin, "no such service")
                .note("monplan scales existing services and never creates them"),
            );
            return;
        }
        // Without Container Insights there is no RunningTaskCount: the policy's metric
        // has no data and the service is never scaled.
        let on = matches!(
            live_cluster.container_insights.as_deref(),
            Some("enabled" | "enhanced")
        );
        if !on {
            let setting = live_cluster
                .container_insights
                .as_deref()
                .unwrap_or("not set");
            self.errors.push(
                Diagnostic::warning(
                    codes::CONTAINER_INSIGHTS,
                    format!("cluster `{cluster}` has Container Insights {setting}, so ECS/ContainerInsights RunningTaskCount has no data"),
                )
                .at(declared.origin, "this service's policy would never scale it")
                .note(format!("turn it on: aws ecs update-cluster-settings --cluster {cluster} --settings name=containerInsights,value=enabled (Container Insights metrics are billed as custom metrics)")),
            );
        }
    }

    /// What protects the job of a dead worker, per watched queue that exists: a notice
    /// of what SQS does with it, and warnings where that does not protect it. SQS makes
    /// a message not deleted within the visibility timeout visible again (a failed
    /// receive), and moves it to the DLQ once `maxReceiveCount` receives are exceeded
    /// (SQS developer guide, *visibility timeout*, *dead-letter queues*).
    fn deliveries(&mut self) {
        let desired = self.input.desired;
        let live = self.input.live;
        for declared in desired.queues.values() {
            let queue = &declared.value;
            let Some(delivery) = live.queue_delivery.get(&queue.name) else {
                continue; // a missing queue is reported by `queues`
            };
            let timeout = duration::yaml(f64::from(delivery.visibility_timeout));
            let after = match &delivery.redrive {
                Some(redrive) => format!(
                    " and moves to {} after {} receives",
                    redrive.dead_letter_queue,
                    redrive
                        .max_receive_count
                        .map_or_else(|| "its redrive policy's".to_string(), |n| n.to_string())
                ),
                None => ", again and again: there is no dead-letter queue".to_string(),
            };
            self.notice(
                format!("queue \"{}\"", queue.name),
                format!("a job held by a dead worker reappears after {timeout} (visibility timeout){after}"),
            );
            if let Some(processing) = &queue.processing_time {
                if f64::from(delivery.visibility_timeout) < processing.value {
                    self.errors.push(
                        Diagnostic::warning(
                            codes::VISIBILITY_SHORT,
                            format!(
                                "queue `{}` makes a job visible again after {timeout}, but one job takes {}",
                                queue.name,
                                duration::yaml(processing.value)
                            ),
                        )
                        .at(processing.origin, "longer than the visibility timeout")
                        .note("a second worker receives the job while the first still works on it, and the first one's delete fails; set the queue's VisibilityTimeout to at least the processing time (at most 12h), or extend it from the worker while it works (ChangeMessageVisibility)"),
                    );
                }
            }
            if delivery.redrive.is_none() {
                self.errors.push(
                    Diagnostic::warning(
                        codes::NO_DEAD_LETTER_QUEUE,
                        format!("queue `{}` has no dead-letter queue", queue.name),
                    )
                    .at(declared.origin, "no redrive policy")
                    .note("a job that kills its worker every time comes back after each visibility timeout until the retention period drops it; give the queue a redrive policy (deadLetterTargetArn, maxReceiveCount)"),
                );
            }
        }
    }

    /// Worker fleets: a group or service must exist, a service replacing stuck tasks must
    /// run a task definition with a health check (W0303), the queue's visibility timeout must outlast
    /// `stuck_after` (W0211), and the plan says what happens to a stuck worker and its
    /// job, and what the alarm cannot see.
    fn workers(&mut self) {
        use crate::model::workers::{Fleet, OnStuck, Stuck};
        let desired = self.input.desired;
        let live = self.input.live;
        let region = self.input.scope.region.clone();
        for (key, declared) in &desired.workers {
            let fleet = &declared.value;
            if let Fleet::Group(group) = &fleet.fleet {
                if !live.groups.contains(&group.value) {
                    self.errors.push(
                        Diagnostic::error(
                            codes::MISSING_RESOURCE,
                            format!(
                                "Auto Scaling group `{}` does not exist in {region}",
                                group.value
                            ),
                        )
                        .at(group.origin, "no such group")
                        .note("monplan watches existing groups and never creates them"),
                    );
                }
            }
            let mut replaced_by = None;
            if let Fleet::Service(service) = &fleet.fleet {
                if self.fleet_service(service) && fleet.on_stuck == OnStuck::Replace {
                    replaced_by = self.health_checked(service, fleet.on_stuck_at);
                }
            }
            let stuck_after = duration::yaml(f64::from(
                u32::try_from(fleet.stuck_after.value).unwrap_or(u32::MAX),
            ));
            let delivery = fleet
                .queue
                .as_ref()
                .and_then(|q| Some((q, live.queue_delivery.get(q)?)));
            if let Some((queue, delivery)) = delivery {
                if u64::from(delivery.visibility_timeout) < fleet.stuck_after.value {
                    self.errors.push(
                        Diagnostic::warning(
                            codes::VISIBILITY_SHORT,
                            format!("queue `{queue}` makes a job visible again after {}, before a worker counts as stuck ({stuck_after})", duration::yaml(f64::from(delivery.visibility_timeout))),
                        )
                        .at(fleet.stuck_after.origin, "longer than the visibility timeout")
                        .note("another worker receives the job while the stuck one still holds it; raise the queue's VisibilityTimeout above stuck_after, or lower stuck_after"),
                    );
                }
            }
            let seen = match fleet.stuck {
                Stuck::Silent => format!("logs no heartbeat in any minute of {stuck_after} while its series still has data in the window (missing minutes count as breaching; AWS does not document that per contributor: verify on AWS before relying on it)"),
                Stuck::Age => format!("reports more than {stuck_after} since its last progress"),
            };
            let job = fleet.queue.as_ref().map_or_else(String::new, |q| {
                format!("; its job reappears on {q} after the visibility timeout")
            });
            let what = match (&fleet.fleet, fleet.on_stuck) {
                (Fleet::Group(g), OnStuck::Replace) => format!(
                    "is terminated (ec2:terminate) and group {} launches a replacement{job}",
                    g.value
                ),
                (Fleet::Group(_), OnStuck::Reboot) => {
                    format!("is rebooted (ec2:reboot); the instance stays in its group{job}")
                }
                (Fleet::Group(_), OnStuck::Notify)
                | (Fleet::Service(_), OnStuck::Notify | OnStuck::Reboot) => {
                    "is notified to its topics, naming the worker; nothing acts on it".to_string()
                }
                (Fleet::Service(service), OnStuck::Replace) => {
                    let by = match &replaced_by {
                        Some(d) if d.health_checked.is_empty() => format!(
                            "task definition {} declares none, so nothing replaces a stuck task",
                            d.name
                        ),
                        Some(d) => format!(
                            "task definition {} declares one ({})",
                            d.name,
                            d.health_checked.join(", ")
                        ),
                        None => "its task definition must declare one".to_string(),
                    };
                    format!("is notified; no alarm action can stop an ECS task: ECS itself replaces a task of {} whose essential container's health check fails, and {by} (monplan does not change task definitions)", service.value)
                }
            };
            let blind = match (&fleet.fleet, &fleet.no_progress) {
                (Fleet::Group(_), Some(np)) => format!("{np} notifies fleet-wide, and the group's EC2 status checks replace an instance that fails them"),
                (Fleet::Group(_), None) => "nothing in this stack notices (add the job-events recipe's `no_progress`); the group's EC2 status checks replace an instance that fails them".to_string(),
                (Fleet::Service(_), Some(np)) => format!("{np} notifies fleet-wide, and ECS replaces a task whose container stops"),
                (Fleet::Service(_), None) => "nothing in this stack notices (add the job-events recipe's `no_progress`); ECS replaces a task whose container stops".to_string(),
            };
            self.notice(
                format!("workers \"{key}\""),
                format!(
                    "alarm {} has one contributor per {}: a worker that {seen} {what}. A worker that goes fully silent is not a contributor (a series exists only while it has data): {blind}",
                    fleet.alarm, fleet.dimension
                ),
            );
        }
    }

    /// A fleet's ECS service must exist (E0104 at `service:`), as for scaling; without
    /// the Container Insights check, which only the scaling policy's metric needs.
    /// Whether it exists.
    fn fleet_service(&mut self, declared: &Declared<ServiceRef>) -> bool {
        let live = self.input.live;
        let ServiceRef { cluster, service } = &declared.value;
        let error = if !live.clusters.contains_key(cluster) {
            Diagnostic::error(
                codes::MISSING_RESOURCE,
                format!(
                    "ECS cluster `{cluster}` does not exist in {}",
                    self.input.scope.region
                ),
            )
            .at(declared.origin, "no such cluster")
        } else if !live.services.contains(&declared.value) {
            Diagnostic::error(
                codes::MISSING_RESOURCE,
                format!("ECS service `{service}` does not exist in cluster `{cluster}`"),
            )
            .at(declared.origin, "no such service")
        } else {
            return true;
        };
        self.errors
            .push(error.note("monplan watches existing services and never creates them"));
        false
    }

    /// With `on_stuck: replace`, only ECS replaces a stuck task, and only one whose
    /// essential container's health check fails: without one, a warning at `on_stuck`.
    /// The task definition, `None` when it was not read.
    fn health_checked(
        &mut self,
        service: &Declared<ServiceRef>,
        on_stuck: Span,
    ) -> Option<LiveTaskDefinition> {
        let definition = self.input.live.task_definitions.get(&service.value)?;
        if definition.health_checked.is_empty() {
            self.errors.push(
                Diagnostic::warning(
                    codes::NO_HEALTH_CHECK,
                    format!(
                        "no essential container of task definition {} (service {}) has a health check, so ECS never replaces a stuck task",
                        definition.name, service.value
                    ),
                )
                .at(on_stuck, "nothing would replace the task")
                .also(service.origin, "runs that task definition")
                .note("ECS stops a task whose essential container reports UNHEALTHY and the service starts a new one: give the worker's container a `healthCheck` that fails when it stops making progress (e.g. a file the worker touches after each step, checked for age), or use `on_stuck: notify`"),
            );
        }
        Some(definition.clone())
    }

    /// The DLQ of a queue from its redrive policy, or a resolve error.
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
        self.errors.push(
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

    /// Topic keys and policy keys become the ARNs AWS will report; a policy that does
    /// not exist yet stays deferred.
    fn actions(&self, actions: &mut AlarmActions) {
        for list in [
            &mut actions.alarm,
            &mut actions.ok,
            &mut actions.insufficient_data,
        ] {
            for action in list.iter_mut() {
                match action {
                    Action::Topic(name) => *action = Action::Arn(self.input.scope.topic_arn(name)),
                    Action::Ec2(ec2) => {
                        let scope = self.input.scope;
                        *action = Action::Arn(ec2.arn(&scope.partition, &scope.region));
                    }
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
                    Action::ServicePolicy(policy) => {
                        let arn = self
                            .input
                            .live
                            .service_policies
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

    fn alarm(&mut self, declared: &Alarm) -> Option<Alarm> {
        let mut alarm = declared.clone();
        self.actions(&mut alarm.actions);
        if let Some(queue) = self.input.desired.redrive_alarms.get(&alarm.name) {
            let dlq = self.redrive_dlq(queue)?;
            if let AlarmMetric::Single(metric) = &mut alarm.metric {
                metric.dimensions.insert("QueueName".into(), dlq);
            }
        }
        Some(alarm)
    }

    /// Every alarm's metric exists with the alarm's dimensions, as far as `ListMetrics`
    /// says: an alarm on a metric that does not exist never fires. A metric the read did
    /// not look for (an alarm with `expect_metric: later`, a log metric of the stack, a
    /// read that failed) is not checked.
    fn metrics_exist(&mut self, alarms: &BTreeMap<AlarmName, Declared<Alarm>>) {
        let live = self.input.live;
        let desired = self.input.desired;
        let mut quiet = BTreeSet::new();
        for declared in alarms.values() {
            if desired.expect_later.contains(&declared.value.name) {
                continue;
            }
            let metrics: Vec<&crate::model::Metric> = declared.value.metric.metrics();
            for metric in metrics {
                // The stack's own filters publish it once they exist.
                let published = desired.log_metrics.values().any(|f| {
                    f.value.namespace == metric.namespace && f.value.metric == metric.name
                });
                // An AWS metric of a queue or group that exists but has had no activity
                // yet (a new queue, an idle dead-letter queue) has no data: expected.
                let idle = metric.namespace.starts_with("AWS/")
                    && metric
                        .dimensions
                        .values()
                        .any(|v| live.queues.contains_key(v) || live.groups.contains(v));
                if published {
                    continue;
                }
                let key = (metric.namespace.clone(), metric.name.clone());
                let Some(sets) = live.metrics.get(&key) else {
                    continue;
                };
                if sets.contains(&metric.dimensions) {
                    continue;
                }
                if idle {
                    quiet.insert(metric.name.clone());
                    continue;
                }
                let what = format!("{} {}", metric.namespace, metric.name);
                let shown = dimensions_text(&metric.dimensions);
                if sets.is_empty() {
                    if metric.namespace.starts_with("AWS/") {
                        // AWS publishes these once the resource sees traffic: expected.
                        quiet.insert(metric.name.clone());
                    } else {
                        self.errors.push(
                            Diagnostic::warning(codes::METRIC_MISSING, format!("no metric {what} exists yet"))
                                .at(declared.origin, "this alarm watches it")
                                .note("an alarm on a metric nobody publishes never fires; if the first deploy or first traffic creates it, set `expect_metric: later`"),
                        );
                    }
                    continue;
                }
                let mut warning = Diagnostic::warning(
                    codes::METRIC_DIMENSIONS,
                    format!("{what} exists, but not with{shown}"),
                )
                .at(declared.origin, "this alarm would never see data");
                if let Some(closest) = closest_dimensions(&metric.dimensions, sets) {
                    warning = warning.note(format!(
                        "it exists with{}: did you mean that?",
                        dimensions_text(closest)
                    ));
                }
                self.errors.push(warning);
            }
        }
        if !quiet.is_empty() {
            let names: Vec<String> = quiet.into_iter().collect();
            self.notice(
                "alarms",
                format!(
                    "no data yet for the AWS metrics {}: AWS publishes them once the queues and groups have activity, so those alarms start in INSUFFICIENT_DATA",
                    names.join(", ")
                ),
            );
        }
    }

    /// What a careful reviewer of a monitoring change would flag, beyond the metric's
    /// existence: each a warning at the alarm or topic, never a block (`--strict` makes
    /// them errors). Composite alarms' actions count as much as metric alarms'.
    fn review(
        &mut self,
        alarms: &BTreeMap<AlarmName, Declared<Alarm>>,
        composites: &BTreeMap<AlarmName, Declared<CompositeAlarm>>,
    ) {
        for declared in alarms.values() {
            self.review_metrics(declared);
        }
        let all: Vec<Notifier<'_>> = alarms
            .iter()
            .map(|(name, a)| Notifier {
                name,
                origin: a.origin,
                actions: &a.value.actions,
                enabled: a.value.actions_enabled,
            })
            .chain(composites.iter().map(|(name, a)| Notifier {
                name,
                origin: a.origin,
                actions: &a.value.actions,
                enabled: a.value.actions_enabled,
            }))
            .collect();
        for alarm in &all {
            self.foreign_action(alarm.origin, alarm.actions);
        }
        self.notifies_nobody(&all, composites);
        let notified: BTreeSet<&Arn> = all
            .iter()
            .flat_map(|alarm| all_actions(alarm.actions))
            .filter_map(|action| match action {
                Action::Arn(arn) => Some(arn),
                _ => None,
            })
            .collect();
        self.topics(&notified);
        self.foreign_topics(&all);
    }

    /// The checks on what an alarm watches: period, statistic, missing data.
    fn review_metrics(&mut self, declared: &Declared<Alarm>) {
        let desired = self.input.desired;
        let alarm = &declared.value;
        let metrics: Vec<&crate::model::Metric> = alarm.metric.metrics();
        // AWS/SQS and AWS/AutoScaling publish one datapoint a minute (SQS and EC2 Auto
        // Scaling user guides, "available CloudWatch metrics"): a shorter period
        // evaluates mostly missing data.
        if let Some(fast) = metrics.iter().find(|m| {
            m.period < 60 && matches!(m.namespace.as_str(), "AWS/SQS" | "AWS/AutoScaling")
        }) {
            self.errors.push(
                Diagnostic::warning(
                    codes::PERIOD_BELOW_RESOLUTION,
                    format!(
                        "{} publishes {} once a minute, but the alarm's period is {}s",
                        fast.namespace, fast.name, fast.period
                    ),
                )
                .at(
                    declared.origin,
                    "evaluated on missing data most of the time",
                )
                .note("use a period of 1m or more"),
            );
        }
        // A statistic that means nothing for the metric (the table in `stats`).
        let filters: Vec<&MetricFilter> = desired.log_metrics.values().map(|f| &f.value).collect();
        if let Some((why, fix)) = metrics
            .iter()
            .find_map(|m| crate::kinds::alarm::stats::unfit(m, &filters))
        {
            self.errors.push(
                Diagnostic::warning(codes::STATISTIC_UNFIT, why)
                    .at(declared.origin, "this alarm compares a meaningless number")
                    .note(fix),
            );
        }
        // A log metric without a default value has no data while no line matches.
        let silent = metrics.iter().find(|m| {
            desired.log_metrics.values().any(|f| {
                f.value.namespace == m.namespace
                    && f.value.metric == m.name
                    && f.value.default_value.is_none()
            })
        });
        if let (Some(metric), TreatMissingData::Missing) = (silent, alarm.treat_missing_data) {
            self.errors.push(
                Diagnostic::warning(
                    codes::MISSING_DATA,
                    format!("{} has no data while no log line matches, and missing data is `missing`", metric.name),
                )
                .at(declared.origin, "sits in INSUFFICIENT_DATA between matching lines")
                .note("set `treat_missing_data` (`not_breaching` for events that mean trouble), or give the log metric a `default_value`"),
            );
        }
    }

    /// Actions in another region or account are rejected or never run.
    fn foreign_action(&mut self, origin: Span, actions: &AlarmActions) {
        let scope = self.input.scope;
        let foreign = all_actions(actions).find_map(|action| match action {
            Action::Arn(arn) => {
                let parts: Vec<&str> = arn.as_str().split(':').collect();
                let (region, account) = (parts.get(3).copied(), parts.get(4).copied());
                // EC2 actions (`arn:aws:automate:REGION:ec2:stop`) name no account.
                let is_account = |a: &&str| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit());
                let elsewhere = region.is_some_and(|r| !r.is_empty() && r != scope.region)
                    || account
                        .filter(is_account)
                        .is_some_and(|a| a != scope.account);
                elsewhere.then(|| arn.to_string())
            }
            _ => None,
        });
        if let Some(arn) = foreign {
            self.errors.push(
                Diagnostic::warning(
                    codes::FOREIGN_ACTION,
                    format!("`{arn}` is in another region or account than the alarm"),
                )
                .at(origin, format!("an alarm in {} / {}", scope.region, scope.account))
                .note("CloudWatch runs alarm actions of its own region and account only (a cross-account topic needs a policy and the alarm's region)"),
            );
        }
    }

    /// An alarm whose state change reaches nobody: no actions (or actions disabled), no
    /// composite that watches it and no dashboard that shows it.
    fn notifies_nobody(
        &mut self,
        all: &[Notifier<'_>],
        composites: &BTreeMap<AlarmName, Declared<CompositeAlarm>>,
    ) {
        let desired = self.input.desired;
        let watched: BTreeSet<String> = composites
            .values()
            .flat_map(|c| c.value.children())
            .collect();
        let shown: BTreeSet<&AlarmName> = desired
            .dashboards
            .values()
            .flat_map(|d| &d.value.widgets)
            .filter_map(|w| match w {
                Widget::Alarms { alarms } => Some(alarms),
                _ => None,
            })
            .flatten()
            .collect();
        for Notifier {
            name,
            origin,
            actions,
            enabled,
        } in all
        {
            let silent = !*enabled || all_actions(actions).next().is_none();
            if !silent || watched.contains(name.as_str()) || shown.contains(name) {
                continue;
            }
            let why = if *enabled {
                format!("alarm `{name}` has no actions")
            } else {
                format!("alarm `{name}` has its actions disabled (`actions_enabled: false`)")
            };
            self.errors.push(
                Diagnostic::warning(codes::NOTIFIES_NOBODY, format!("{why}, and no composite alarm or dashboard uses it"))
                    .at(*origin, "its state changes reach nobody")
                    .note("give it `notify:`, name it in a composite alarm's rule, or show it on a dashboard"),
            );
        }
    }

    /// The stack's topics that alarms notify: someone must be subscribed (W0206), and
    /// the live subscriptions confirmed (W0208). SNS reports no subscription's age
    /// (neither `ListSubscriptionsByTopic` nor `GetSubscriptionAttributes` has one, and
    /// a pending one has no ARN to ask about), so "pending longer than a day" cannot be
    /// known: every pending subscription of a notified topic is reported.
    fn topics(&mut self, notified: &BTreeSet<&Arn>) {
        let desired = self.input.desired;
        let scope = self.input.scope;
        for (name, topic) in &desired.topics {
            if !notified.contains(&scope.topic_arn(name)) {
                continue;
            }
            let subscribed = desired.subscriptions.keys().any(|s| s.topic == *name);
            if !subscribed {
                self.errors.push(
                    Diagnostic::warning(
                        codes::NOBODY_SUBSCRIBED,
                        format!("topic `{name}` has no subscriptions, but alarms notify it"),
                    )
                    .at(topic.origin, "nobody receives these alarms")
                    .note("add `subscriptions:` (email, https, ...) to the topic"),
                );
                continue;
            }
            let Some(live) = self.input.live.topics.get(name) else {
                continue;
            };
            let pending: Vec<&LiveSubscription> = live
                .subscriptions
                .iter()
                .filter(|s| s.arn.is_none())
                .collect();
            if pending.is_empty() {
                continue;
            }
            // A pending subscription is most often a declared one (an email address
            // from `${env:...}` stays pending until its owner confirms): shown as the
            // YAML writes it, never by its value.
            let declared: Vec<&SubscriptionId> = desired
                .subscriptions
                .keys()
                .filter(|s| s.topic == *name)
                .collect();
            let endpoints: Vec<String> = pending
                .iter()
                .map(|s| {
                    format!(
                        "{}:{}",
                        s.protocol,
                        Endpoint::on_topic(s.protocol, &s.endpoint, declared.iter().copied())
                    )
                })
                .collect();
            let message = if pending.len() == live.subscriptions.len() {
                format!("topic `{name}` has no confirmed subscription, but alarms notify it")
            } else {
                format!("topic `{name}` has subscriptions pending confirmation")
            };
            self.errors.push(
                Diagnostic::warning(codes::UNCONFIRMED, message)
                    .at(topic.origin, format!("pending: {}", endpoints.join(", ")))
                    .note("SNS delivers nothing to a subscription until its endpoint confirms it; the confirmation link is valid for 3 days, after which AWS removes the subscription and the next apply subscribes again"),
            );
        }
    }

    /// Topics monplan did not create, notified by ARN: their access policy must let
    /// `CloudWatch` publish. One warning per topic, at the first alarm that notifies it.
    fn foreign_topics(&mut self, all: &[Notifier<'_>]) {
        use crate::kinds::topic::policy::{cloudwatch_may_publish, Verdict};
        let live = self.input.live;
        let mut seen = BTreeSet::new();
        for alarm in all {
            for action in all_actions(alarm.actions) {
                let Action::Arn(arn) = action else { continue };
                let Some(topic) = live.foreign_topics.get(arn) else {
                    continue;
                };
                if !seen.insert(arn) {
                    continue;
                }
                let (message, note) = match topic {
                    ForeignTopic::Missing => (
                        format!("topic `{arn}` does not exist"),
                        "create it, or fix the ARN: CloudWatch drops notifications to a missing topic".to_string(),
                    ),
                    ForeignTopic::Unread(error) => (
                        format!("could not read the access policy of topic `{arn}`, so whether CloudWatch may publish to it is unknown"),
                        format!("{error}; allow sns:GetTopicAttributes on it to have it checked"),
                    ),
                    ForeignTopic::Policy(policy) => {
                        match cloudwatch_may_publish(policy, arn.as_str(), &self.input.scope.account) {
                            Verdict::Publishes => continue,
                            Verdict::Denied(sid) => (
                                format!("the access policy of topic `{arn}` denies CloudWatch sns:Publish"),
                                format!("statement {} refuses it; alarms notifying this topic page nobody", sid.as_deref().unwrap_or("(no Sid)")),
                            ),
                            Verdict::NotAllowed => (
                                format!("the access policy of topic `{arn}` does not let CloudWatch publish"),
                                format!("allow sns:Publish to the service principal {} (or the account) on the topic", crate::kinds::topic::policy::CLOUDWATCH),
                            ),
                            Verdict::Unreadable(error) => (
                                format!("the access policy of topic `{arn}` is not a policy document"),
                                error,
                            ),
                        }
                    }
                };
                self.errors.push(
                    Diagnostic::warning(codes::TOPIC_POLICY, message)
                        .at(alarm.origin, "this alarm notifies it")
                        .note(note),
                );
            }
        }
    }

    /// No warmup declared means "AWS's default": whatever AWS holds.
    fn policy(&self, reference: &PolicyRef, declared: &ScalingPolicy) -> ScalingPolicy {
        let mut policy = declared.clone();
        let live = self
            .input
            .live
            .policies
            .get(reference)
            .and_then(|p| p.body.as_ref());
        if let (
            PolicyKind::Backlog { warmup, .. },
            Some(ScalingPolicy {
                kind:
                    PolicyKind::Backlog {
                        warmup: live_warmup,
                        ..
                    },
                ..
            }),
        ) = (&mut policy.kind, live)
        {
            if warmup.is_none() {
                *warmup = *live_warmup;
            }
        }
        policy
    }
}

impl Resolver<'_, '_, '_> {
    /// No warmup declared means "AWS's value" of the scale-out cooldown: whatever AWS
    /// holds.
    fn service_policy(
        &self,
        reference: &ServicePolicyRef,
        declared: &ServicePolicy,
    ) -> ServicePolicy {
        let mut policy = declared.clone();
        let live = self
            .input
            .live
            .service_policies
            .get(reference)
            .and_then(|p| p.body.as_ref());
        let ServicePolicyKind::Backlog {
            scale_out_cooldown, ..
        } = &mut policy.kind
        else {
            // The from-zero policy always sends its cooldown.
            return policy;
        };
        if let Some(ServicePolicy {
            kind:
                ServicePolicyKind::Backlog {
                    scale_out_cooldown: live_cooldown,
                    ..
                },
            ..
        }) = live
        {
            if scale_out_cooldown.is_none() {
                *scale_out_cooldown = *live_cooldown;
            }
        }
        policy
    }
}

/// ` QueueName=transcription-jobs`, or ` no dimensions`.
fn dimensions_text(dimensions: &BTreeMap<String, String>) -> String {
    if dimensions.is_empty() {
        return " no dimensions".to_string();
    }
    dimensions.iter().fold(String::new(), |mut text, (k, v)| {
        use std::fmt::Write as _;
        let _ = write!(text, " {k}={v}");
        text
    })
}

/// The dimension set closest to `wanted`: the same names first, then the fewest edits
/// to the values (`transcription-job` is one from `transcription-jobs`).
fn closest_dimensions<'a>(
    wanted: &BTreeMap<String, String>,
    sets: &'a [BTreeMap<String, String>],
) -> Option<&'a BTreeMap<String, String>> {
    let distance = |set: &BTreeMap<String, String>| {
        let same_names = set.keys().eq(wanted.keys());
        let edits: usize = wanted
            .iter()
            .map(|(k, v)| {
                set.get(k).map_or(v.len() + k.len(), |other| {
                    crate::diag::edit_distance(v, other)
                })
            })
            .sum();
        (!same_names, edits)
    };
    sets.iter().min_by_key(|set| distance(set))
}

/// A metric or composite alarm, as far as whom it notifies goes.
struct Notifier<'a> {
    name: &'a AlarmName,
    origin: Span,
    actions: &'a AlarmActions,
    enabled: bool,
}

/// Every action of an alarm, whichever state runs it.
fn all_actions(actions: &AlarmActions) -> impl Iterator<Item = &Action> {
    actions
        .alarm
        .iter()
        .chain(&actions.ok)
        .chain(&actions.insufficient_data)
}

fn with_value<T, U>(declared: &Declared<T>, value: U) -> Declared<U> {
    Declared {
        value,
        key: declared.key.clone(),
        origin: declared.origin,
    }
}
