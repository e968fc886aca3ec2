//! The only module that speaks to AWS. Two separate things come out of it:
//!
//! - **connections** ([`Connections`]): SDK clients per region, each region's pacer and
//!   the retry policy; they implement [`crate::apply::Executor`], the one way plans reach
//!   AWS;
//! - **live state** ([`Observed`]): plain data, each region's [`Scope`] and
//!   [`LiveState`], read in batches ([`read_world`]).
//!
//! One file per kind or service holds its calls (`alarm.rs`, `topic.rs`, `policy.rs`,
//! `queue.rs`, `dashboard.rs`, `tagging.rs`); every call goes through SDK clients that
//! share one [`CallCounter`].

mod alarm;
mod dashboard;
mod drill;
mod ecs_scaling;
mod error;
mod execute;
mod import;
mod log_metric;
mod metrics;
mod policy;
mod query;
mod queue;
mod reached;
mod read;
mod tagging;
mod topic;
mod wellformed;

pub use alarm::band_expression;
pub use drill::{drill_wait, Delivery, Drill};
pub use error::AwsError;
pub use import::Selection;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::model::{DesiredStack, LiveState, ReadRequest, ResourceKind, Scope, StackName};
use crate::pace::Pacer;

/// Reads in flight at once. Well under `CloudWatch`'s `DescribeAlarms` quota (9/s) for the
/// few calls a plan makes; request pacing for large estates is the pacer's business.
const CONCURRENCY: usize = 4;

/// The token of the next page, if there is one. Some APIs (and emulators) answer an
/// empty string on the last page instead of no token: both end the listing.
fn next_page(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(ToString::to_string)
}

/// How to reach AWS: the global flags, before any region is chosen.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// `--region`; a stack's own `region:` wins over it.
    pub region: Option<String>,
    /// `--max-rate` overrides of the default per-operation rates.
    pub rates: BTreeMap<String, f64>,
    /// `--check-redrive`: compare every declared `dead_letter_queue` with the queue's
    /// redrive policy (one `GetQueueAttributes` per such queue).
    pub check_redrive: bool,
    /// Kinds `--exclude` leaves out: not read.
    pub skip: BTreeSet<ResourceKind>,
    /// `--timeout`: one call, retries included.
    pub timeout: std::time::Duration,
    /// `--connect-timeout`.
    pub connect_timeout: std::time::Duration,
}

/// Counts every HTTP request the SDK sends, by `Service.Operation` (retries included).
#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallCounter {
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "monplan::CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map_or_else(|| "unknown".to_string(), |m| m.name().to_string());
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(operation).or_default() += 1;
        }
        Ok(())
    }
}

/// The SDK clients for one region.
#[derive(Clone, Debug)]
pub struct Clients {
    region: String,
    cloudwatch: aws_sdk_cloudwatch::Client,
    sns: aws_sdk_sns::Client,
    tagging: aws_sdk_resourcegroupstagging::Client,
    sts: aws_sdk_sts::Client,
    sqs: aws_sdk_sqs::Client,
    autoscaling: aws_sdk_autoscaling::Client,
    /// Application Auto Scaling, for ECS services.
    appscaling: aws_sdk_applicationautoscaling::Client,
    ecs: aws_sdk_ecs::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    /// Quotas are per account and region: one pacer per region's clients.
    pacer: Arc<Pacer>,
}

/// Builds clients for `region` (or the configured default). Fails only when no region
/// can be determined; credentials are resolved lazily at the first call.
async fn connect(
    options: &ConnectOptions,
    region: Option<&str>,
    counter: &CallCounter,
) -> Result<Clients, AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = region.or(options.region.as_deref()) {
        loader = loader.region(Region::new(region.to_string()));
    }
    // The SDK sets no operation timeout by default: an endpoint that accepts and never
    // answers would hold a plan for ever. Half the budget per attempt leaves room for
    // one retry of a dropped connection.
    loader = loader.timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(options.connect_timeout)
            .operation_attempt_timeout(options.timeout / 2)
            .operation_timeout(options.timeout)
            .build(),
    );
    let config = loader.load().await;
    let Some(region) = config.region().map(ToString::to_string) else {
        return Err(AwsError::local(
            "configure",
            "region",
            "NoRegion",
            "no AWS region: set `region:` in the stack, pass --region, or set AWS_REGION",
        ));
    };
    // Every client counts its calls, refuses a cut-short XML body and names the endpoint
    // a failed connection tried.
    macro_rules! configured {
        ($sdk:ident) => {
            $sdk::config::Builder::from(&config)
                .interceptor(counter.clone())
                .interceptor(wellformed::WholeXml)
                .interceptor(reached::NameEndpoint)
                .build()
        };
    }
    let cloudwatch = configured!(aws_sdk_cloudwatch);
    let sns = configured!(aws_sdk_sns);
    let tagging = configured!(aws_sdk_resourcegroupstagging);
    let sts = configured!(aws_sdk_sts);
    let sqs = configured!(aws_sdk_sqs);
    let autoscaling = configured!(aws_sdk_autoscaling);
    let appscaling = configured!(aws_sdk_applicationautoscaling);
    let ecs = configured!(aws_sdk_ecs);
    let logs = configured!(aws_sdk_cloudwatchlogs);
    Ok(Clients {
        region,
        cloudwatch: aws_sdk_cloudwatch::Client::from_conf(cloudwatch),
        sns: aws_sdk_sns::Client::from_conf(sns),
        tagging: aws_sdk_resourcegroupstagging::Client::from_conf(tagging),
        sts: aws_sdk_sts::Client::from_conf(sts),
        sqs: aws_sdk_sqs::Client::from_conf(sqs),
        autoscaling: aws_sdk_autoscaling::Client::from_conf(autoscaling),
        appscaling: aws_sdk_applicationautoscaling::Client::from_conf(appscaling),
        ecs: aws_sdk_ecs::Client::from_conf(ecs),
        logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs),
        pacer: Arc::new(Pacer::new(&options.rates)),
    })
}

impl Clients {
    /// Who we are: the partition and account that turn topic keys into ARNs.
    pub async fn scope(&self) -> Result<Scope, AwsError> {
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetCallerIdentity", "caller identity", e))?;
        let account = identity.account().unwrap_or_default().to_string();
        let partition = identity
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .unwrap_or("aws")
            .to_string();
        Ok(Scope {
            partition,
            region: self.region.clone(),
            account,
        })
    }
}

/// One region's identity and live state: data only.
#[derive(Debug)]
pub struct Environment {
    pub scope: Scope,
    pub live: LiveState,
}

/// Live state for every stack of a run, grouped by region.
#[derive(Debug, Default)]
pub struct Observed {
    pub environments: Vec<Environment>,
    /// Index into `environments` per stack.
    pub stack_environment: BTreeMap<StackName, usize>,
}

impl Observed {
    /// Where a stack is planned and what is live there.
    pub fn environment(&self, stack: &StackName) -> Option<&Environment> {
        self.environments.get(*self.stack_environment.get(stack)?)
    }
}

/// How to reach each region the stacks use.
#[derive(Debug, Default)]
pub struct Connections {
    regions: Vec<Clients>,
    /// `--timeout`: the most one planned write may take, its retries included (as the
    /// SDK's operation timeout bounds a read); `None` bounds only each attempt.
    pub(crate) write_timeout: Option<std::time::Duration>,
}

impl Connections {
    fn clients(&self, region: &str) -> Option<&Clients> {
        self.regions.iter().find(|c| c.region == region)
    }

    /// The pacer an apply will use (quotas are per region; estimates use the first).
    pub fn pacer(&self) -> Arc<Pacer> {
        self.regions
            .first()
            .map(|c| c.pacer.clone())
            .unwrap_or_default()
    }
}

/// Connects once per region the stacks use, learns the account, and reads live state.
pub async fn read_world(
    stacks: &[DesiredStack],
    options: &ConnectOptions,
    counter: &CallCounter,
) -> Result<(Connections, Observed), AwsError> {
    let mut by_region: BTreeMap<Option<&str>, Vec<&DesiredStack>> = BTreeMap::new();
    for stack in stacks {
        by_region
            .entry(stack.region.as_deref())
            .or_default()
            .push(stack);
    }
    let mut connections = Connections {
        write_timeout: Some(options.timeout),
        ..Connections::default()
    };
    let mut observed = Observed::default();
    for (region, members) in by_region {
        let clients = connect(options, region, counter).await?;
        let scope = clients.scope().await?;
        // The account guard holds before any read: a stack meant for another account
        // reads nothing (resolve reports the mismatch).
        let right_account = members.iter().copied().filter(|stack| {
            stack
                .account
                .as_ref()
                .is_none_or(|a| a.value == scope.account)
        });
        let mut request = read_request(right_account, options.check_redrive);
        request.skip.clone_from(&options.skip);
        // Boxed: the read future holds every concurrent request and is large.
        let live = Box::pin(read::read_live(&clients, &scope, &request)).await?;
        // Two spellings of one region (explicit and default) share live state.
        let index = if let Some(index) = observed.environments.iter().position(|e| e.scope == scope)
        {
            merge(&mut observed.environments[index].live, live);
            index
        } else {
            observed.environments.push(Environment { scope, live });
            connections.regions.push(clients);
            observed.environments.len() - 1
        };
        for stack in members {
            observed.stack_environment.insert(stack.name.clone(), index);
        }
    }
    Ok((connections, observed))
}

/// What `monplan import` selects, read in the configured region, with the scope
/// (account, region) it was read in.
pub async fn read_estate(
    options: &ConnectOptions,
    selection: &Selection<'_>,
    counter: &CallCounter,
) -> Result<(Scope, crate::import::Estate), AwsError> {
    let clients = connect(options, None, counter).await?;
    let scope = clients.scope().await?;
    let estate = Box::pin(import::read_estate(&clients, selection)).await?;
    Ok((scope, estate))
}

/// For each (pattern, lines), whether AWS's own matcher (`TestMetricFilter`) matches
/// each line, in `region` (or the configured one).
pub async fn test_metric_filters(
    options: &ConnectOptions,
    region: Option<&str>,
    tests: &[(String, Vec<String>)],
    counter: &CallCounter,
) -> Result<Vec<Vec<bool>>, AwsError> {
    let clients = connect(options, region, counter).await?;
    let mut results = Vec::new();
    for (pattern, lines) in tests {
        results.push(log_metric::test_metric_filter(&clients, pattern, lines).await?);
    }
    Ok(results)
}

/// What the reader needs to know of the desired state: names to look up and the stacks
/// whose owned resources to list.
fn read_request<'a>(
    stacks: impl Iterator<Item = &'a DesiredStack>,
    check_redrive: bool,
) -> ReadRequest {
    let mut request = ReadRequest::default();
    for stack in stacks {
        request.stacks.insert(stack.name.clone());
        request.topics.extend(stack.topics.keys().cloned());
        request
            .adopt_topics
            .extend(stack.adopt.iter().filter_map(|id| match id {
                crate::model::ResourceId::Topic(name) => Some(name.clone()),
                _ => None,
            }));
        request.alarms.extend(stack.alarms.keys().cloned());
        request.alarms.extend(stack.composites.keys().cloned());
        for queue in stack.queues.values() {
            request.queues.insert(queue.value.name.clone());
            request.queues.extend(
                queue
                    .value
                    .dead_letter_queue
                    .iter()
                    .map(|d| d.value.clone()),
            );
            // Attributes only when needed: a queue without `dead_letter_queue:` whose
            // DLQ something uses, or, with --check-redrive, every queue naming one.
            let check = check_redrive && queue.value.dead_letter_queue.is_some();
            if queue.value.needs_redrive || check {
                request.redrive.insert(queue.value.name.clone());
            }
            request
                .groups
                .extend(queue.value.groups.iter().map(|g| g.value.clone()));
            request
                .services
                .extend(queue.value.services.iter().map(|s| s.value.clone()));
        }
        for fleet in stack.workers.values() {
            use crate::model::workers::{Fleet, OnStuck};
            match &fleet.value.fleet {
                Fleet::Group(group) => {
                    request.groups.insert(group.value.clone());
                }
                Fleet::Service(service) => {
                    request.fleet_services.insert(service.value.clone());
                    // Only `replace` relies on the task definition's health checks.
                    if fleet.value.on_stuck == OnStuck::Replace {
                        request.task_definitions.insert(service.value.clone());
                    }
                }
            }
        }
        request
            .log_groups
            .extend(stack.log_groups.values().map(|g| g.value.name.clone()));
        request.queries |= !stack.queries.is_empty();
        request.metrics.extend(watched_metrics(stack));
        request.foreign_topics.extend(topic_arns(stack));
    }
    request
}

/// The SNS topic ARNs the stack's alarms and composites notify by ARN.
fn topic_arns(stack: &DesiredStack) -> impl Iterator<Item = crate::model::Arn> + '_ {
    let metric = stack.alarms.values().map(|a| &a.value.actions);
    let composite = stack.composites.values().map(|a| &a.value.actions);
    metric
        .chain(composite)
        .flat_map(|actions| {
            actions
                .alarm
                .iter()
                .chain(&actions.ok)
                .chain(&actions.insufficient_data)
        })
        .filter_map(|action| match action {
            crate::model::Action::Arn(arn) if arn.topic_name().is_some() => Some(arn.clone()),
            _ => None,
        })
}

/// The (namespace, name) of every metric the stack's alarms watch that should exist
/// already: not those of alarms with `expect_metric: later`, nor the log metrics the
/// stack's own filters publish.
fn watched_metrics(stack: &DesiredStack) -> BTreeSet<(String, String)> {
    let published: BTreeSet<(&str, &str)> = stack
        .log_metrics
        .values()
        .map(|f| (f.value.namespace.as_str(), f.value.metric.as_str()))
        .collect();
    stack
        .alarms
        .iter()
        .filter(|(name, _)| !stack.expect_later.contains(*name))
        .flat_map(|(_, alarm)| alarm.value.metric.metrics())
        .filter(|m| !published.contains(&(m.namespace.as_str(), m.name.as_str())))
        .map(|m| (m.namespace.clone(), m.name.clone()))
        .collect()
}

fn merge(into: &mut LiveState, from: LiveState) {
    let LiveState {
        topics,
        alarms,
        queues,
        queue_delivery,
        groups,
        policies,
        clusters,
        services,
        task_definitions,
        scalable_targets,
        service_policies,
        dashboards,
        log_groups,
        metric_filters,
        queries,
        metrics,
        foreign_topics,
        unread,
        warnings,
    } = from;
    into.queue_delivery.extend(queue_delivery);
    into.clusters.extend(clusters);
    into.services.extend(services);
    into.task_definitions.extend(task_definitions);
    into.scalable_targets.extend(scalable_targets);
    into.service_policies.extend(service_policies);
    into.foreign_topics.extend(foreign_topics);
    into.unread.extend(unread);
    into.topics.extend(topics);
    into.alarms.extend(alarms);
    into.queues.extend(queues);
    into.groups.extend(groups);
    into.policies.extend(policies);
    into.dashboards.extend(dashboards);
    into.log_groups.extend(log_groups);
    into.metric_filters.extend(metric_filters);
    into.queries.extend(queries);
    into.metrics.extend(metrics);
    into.warnings.extend(warnings);
}
