//! ECS services and their scaling through Application Auto Scaling: which clusters and
//! services exist (and whether Container Insights publishes their task counts), the
//! services' scalable targets with who registered them, the policies named with a
//! stack's prefix, and registering, putting, deleting and deregistering them.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, CustomizedMetricSpecification, MetricAggregationType, PolicyType,
    ScalableDimension, ServiceNamespace, StepAdjustment, StepScalingPolicyConfiguration,
    TargetTrackingMetric, TargetTrackingMetricDataQuery, TargetTrackingMetricDimension,
    TargetTrackingMetricStat, TargetTrackingScalingPolicyConfiguration,
};
use futures_util::{stream, StreamExt, TryStreamExt};

use super::{next_page, AwsError, Clients, CONCURRENCY};
use crate::kinds::ecs_scaling::{SERVICE_BACKLOG_EXPRESSION, TASKS_METRIC, TASKS_NAMESPACE};
use crate::model::workers::LiveTaskDefinition;
use crate::model::{
    Arn, LiveCluster, LiveScalableTarget, LiveServicePolicy, ScalableTarget, ServicePolicy,
    ServicePolicyKind, ServicePolicyRef, ServiceRef, StackName, Tags, TargetOwner,
};

/// `DescribeClusters` takes at most 100 clusters a call.
const CLUSTERS_PER_CALL: usize = 100;
/// `DescribeServices` takes at most 10 services a call.
const SERVICES_PER_CALL: usize = 10;
/// `DescribeScalableTargets` takes at most 50 resource ids a call.
const TARGETS_PER_CALL: usize = 50;

fn dimension() -> ScalableDimension {
    ScalableDimension::EcsServiceDesiredCount
}

/// The clusters and services that exist, and the task definitions read.
pub(super) type Services = (
    BTreeMap<String, LiveCluster>,
    BTreeSet<ServiceRef>,
    BTreeMap<ServiceRef, LiveTaskDefinition>,
);

/// Which of the clusters the services name exist (with their Container Insights
/// setting), and which of the services exist, with the task definition each runs. A
/// deleted (`INACTIVE`) cluster or service counts as missing: ECS keeps describing them
/// for a while.
pub(super) async fn services(
    clients: &Clients,
    wanted: &BTreeSet<ServiceRef>,
) -> Result<
    (
        BTreeMap<String, LiveCluster>,
        BTreeSet<ServiceRef>,
        BTreeMap<ServiceRef, String>,
    ),
    AwsError,
> {
    if wanted.is_empty() {
        return Ok((BTreeMap::new(), BTreeSet::new(), BTreeMap::new()));
    }
    let names: Vec<String> = wanted
        .iter()
        .map(|s| s.cluster.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut clusters = BTreeMap::new();
    for chunk in names.chunks(CLUSTERS_PER_CALL) {
        let output = clients
            .ecs
            .describe_clusters()
            .set_clusters(Some(chunk.to_vec()))
            .include(aws_sdk_ecs::types::ClusterField::Settings)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "DescribeClusters",
                    format!("clusters {}", chunk.join(", ")),
                    e,
                )
            })?;
        for cluster in output.clusters() {
            let (Some(name), status) = (cluster.cluster_name(), cluster.status()) else {
                continue;
            };
            if status == Some("INACTIVE") {
                continue;
            }
            let container_insights = cluster
                .settings()
                .iter()
                .find(|s| {
                    s.name() == Some(&aws_sdk_ecs::types::ClusterSettingName::ContainerInsights)
                })
                .and_then(|s| s.value())
                .map(ToString::to_string);
            clusters.insert(name.to_string(), LiveCluster { container_insights });
        }
    }
    // Services only of clusters that exist: DescribeServices on a missing cluster fails
    // (ClusterNotFoundException) instead of reporting the services missing.
    let mut calls: Vec<(String, Vec<String>)> = Vec::new();
    for cluster in clusters.keys() {
        let of_cluster: Vec<String> = wanted
            .iter()
            .filter(|s| s.cluster == *cluster)
            .map(|s| s.service.clone())
            .collect();
        for chunk in of_cluster.chunks(SERVICES_PER_CALL) {
            calls.push((cluster.clone(), chunk.to_vec()));
        }
    }
    let found: Vec<Vec<(ServiceRef, Option<String>)>> = stream::iter(calls)
        .map(|(cluster, chunk)| async move {
            let output = clients
                .ecs
                .describe_services()
                .cluster(&cluster)
                .set_services(Some(chunk.clone()))
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(
                        "DescribeServices",
                        format!("services {} of cluster {cluster}", chunk.join(", ")),
                        e,
                    )
                })?;
            Ok::<_, AwsError>(
                output
                    .services()
                    .iter()
                    .filter(|s| s.status() != Some("INACTIVE"))
                    .filter_map(|s| {
                        let service = ServiceRef {
                            cluster: cluster.clone(),
                            service: s.service_name()?.to_string(),
                        };
                        Some((service, s.task_definition().map(ToString::to_string)))
                    })
                    .collect(),
            )
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let found: Vec<(ServiceRef, Option<String>)> = found.into_iter().flatten().collect();
    let running = found
        .iter()
        .filter_map(|(s, t)| Some((s.clone(), t.clone()?)))
        .collect();
    Ok((
        clusters,
        found.into_iter().map(|(s, _)| s).collect(),
        running,
    ))
}

/// The task definitions the services run, one `DescribeTaskDefinition` per distinct
/// task definition, with the essential containers that declare a health check.
pub(super) async fn task_definitions(
    clients: &Clients,
    of: &BTreeMap<ServiceRef, String>,
) -> Result<BTreeMap<ServiceRef, LiveTaskDefinition>, AwsError> {
    let distinct: BTreeSet<&String> = of.values().collect();
    let read: BTreeMap<String, LiveTaskDefinition> = stream::iter(distinct)
        .map(|arn| async move {
            let output = clients
                .ecs
                .describe_task_definition()
                .task_definition(arn)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(
                        "DescribeTaskDefinition",
                        format!("task definition {arn}"),
                        e,
                    )
                })?;
            let definition = output.task_definition();
            let name = definition
                .and_then(|d| Some(format!("{}:{}", d.family()?, d.revision())))
                .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(arn).to_string());
            // `essential` defaults to true when the definition leaves it out.
            let health_checked = definition
                .map(aws_sdk_ecs::types::TaskDefinition::container_definitions)
                .unwrap_or_default()
                .iter()
                .filter(|c| c.essential().unwrap_or(true) && c.health_check().is_some())
                .filter_map(|c| c.name().map(ToString::to_string))
                .collect();
            Ok::<_, AwsError>((
                arn.clone(),
                LiveTaskDefinition {
                    name,
                    health_checked,
                },
            ))
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(of
        .iter()
        .filter_map(|(service, arn)| Some((service.clone(), read.get(arn)?.clone())))
        .collect())
}

/// What Application Auto Scaling holds for ECS: policies named with a loaded stack's
/// prefix, and the scalable targets of the `wanted` services and of the services those
/// policies are on, with who registered each.
pub(super) type Scaling = (
    BTreeMap<ServiceRef, LiveScalableTarget>,
    BTreeMap<ServicePolicyRef, LiveServicePolicy>,
);

/// Reads [`Scaling`]. When no stack scales a service, a failure to list (no permission,
/// or an endpoint without the API) is a warning, not an error: a team without ECS need
/// not grant Application Auto Scaling access. It then plans no deletion.
pub(super) async fn scaling(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
    wanted: &BTreeSet<ServiceRef>,
) -> Result<(Scaling, Vec<String>), AwsError> {
    if stacks.is_empty() {
        return Ok(((BTreeMap::new(), BTreeMap::new()), Vec::new()));
    }
    let (policies, on_services) = match list_policies(clients, stacks).await {
        Ok(found) => found,
        Err(error) if wanted.is_empty() => {
            return Ok((
                (BTreeMap::new(), BTreeMap::new()),
                vec![format!("cannot list ECS scaling policies ({error}); policies of a removed `scaling: {{ service: ... }}` would not be deleted")],
            ));
        }
        Err(error) => return Err(error),
    };
    let services: BTreeSet<ServiceRef> = wanted
        .iter()
        .cloned()
        .chain(policies.keys().map(|p| p.service.clone()))
        .collect();
    let targets = targets(clients, &services, &on_services).await?;
    Ok(((targets, policies), Vec::new()))
}

type Listed = (
    BTreeMap<ServicePolicyRef, LiveServicePolicy>,
    BTreeMap<ServiceRef, Vec<String>>,
);

/// Every ECS policy of the region: the stacks' own ones in the model's terms, and the
/// names of all of them by service (a target's deregistration deletes them all).
async fn list_policies(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
) -> Result<Listed, AwsError> {
    let prefixes: Vec<String> = stacks.iter().map(|s| format!("{s}_")).collect();
    let mut ours = BTreeMap::new();
    let mut names: BTreeMap<ServiceRef, Vec<String>> = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .appscaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("DescribeScalingPolicies", "ECS scaling policies", e)
            })?;
        for policy in page.scaling_policies() {
            if *policy.scalable_dimension() != dimension() {
                continue;
            }
            let Some(service) = ServiceRef::from_resource_id(policy.resource_id()) else {
                continue;
            };
            let name = policy.policy_name();
            names
                .entry(service.clone())
                .or_default()
                .push(name.to_string());
            if !prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                continue;
            }
            let reference = ServicePolicyRef {
                service,
                name: name.to_string(),
            };
            let body = normalize_policy(&reference, policy);
            ours.insert(
                reference,
                LiveServicePolicy {
                    arn: Some(Arn::new(policy.policy_arn())),
                    body,
                },
            );
        }
        token = next_page(page.next_token());
        if token.is_none() {
            break;
        }
    }
    for list in names.values_mut() {
        list.sort();
    }
    Ok((ours, names))
}

/// The scalable targets of `services`, 50 a call, and who registered each.
async fn targets(
    clients: &Clients,
    services: &BTreeSet<ServiceRef>,
    policy_names: &BTreeMap<ServiceRef, Vec<String>>,
) -> Result<BTreeMap<ServiceRef, LiveScalableTarget>, AwsError> {
    let ids: Vec<String> = services.iter().map(ServiceRef::resource_id).collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(TARGETS_PER_CALL) {
        let mut token: Option<String> = None;
        loop {
            let page = clients
                .appscaling
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(dimension())
                .set_resource_ids(Some(chunk.to_vec()))
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(
                        "DescribeScalableTargets",
                        format!("scalable targets {}", chunk.join(", ")),
                        e,
                    )
                })?;
            for target in page.scalable_targets() {
                let Some(service) = ServiceRef::from_resource_id(target.resource_id()) else {
                    continue;
                };
                let (Ok(min), Ok(max)) = (
                    u32::try_from(target.min_capacity()),
                    u32::try_from(target.max_capacity()),
                ) else {
                    continue;
                };
                found.push((
                    ScalableTarget {
                        service,
                        min,
                        max,
                        tags: Tags::new(),
                    },
                    target.scalable_target_arn().map(Arn::new),
                ));
            }
            token = next_page(page.next_token());
            if token.is_none() {
                break;
            }
        }
    }
    stream::iter(found)
        .map(|(target, arn)| async move {
            let mut target = target;
            let owner = match &arn {
                Some(arn) => match target_tags(clients, arn).await {
                    Ok(tags) => {
                        let owner = TargetOwner::Known(super::read::owner_of(&tags));
                        target.tags = tags;
                        owner
                    }
                    Err(error) => TargetOwner::Unknown(error.to_string()),
                },
                None => TargetOwner::Unknown(
                    "DescribeScalableTargets returned no ScalableTargetARN to read tags from"
                        .to_string(),
                ),
            };
            let policies = policy_names
                .get(&target.service)
                .cloned()
                .unwrap_or_default();
            Ok::<_, AwsError>((
                target.service.clone(),
                LiveScalableTarget {
                    target,
                    arn,
                    owner,
                    policies,
                },
            ))
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await
}

async fn target_tags(clients: &Clients, arn: &Arn) -> Result<Tags, AwsError> {
    let output = clients
        .appscaling
        .list_tags_for_resource()
        .resource_arn(arn.as_str())
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk("ListTagsForResource", format!("scalable target {arn}"), e)
        })?;
    Ok(output
        .tags()
        .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// A policy in the model's terms, if it has a shape monplan writes: target tracking on
/// `visible / tasks` with the service's own task count, or the from-zero step policy.
fn normalize_policy(
    reference: &ServicePolicyRef,
    policy: &aws_sdk_applicationautoscaling::types::ScalingPolicy,
) -> Option<ServicePolicy> {
    if *policy.policy_type() == PolicyType::StepScaling {
        return normalize_step(reference, policy.step_scaling_policy_configuration()?);
    }
    if *policy.policy_type() != PolicyType::TargetTrackingScaling {
        return None;
    }
    let config = policy.target_tracking_scaling_policy_configuration()?;
    let queries = config.customized_metric_specification()?.metrics();
    let returned: Vec<&TargetTrackingMetricDataQuery> = queries
        .iter()
        .filter(|q| q.return_data().unwrap_or(true))
        .collect();
    match returned.as_slice() {
        [only] if only.expression() == Some(SERVICE_BACKLOG_EXPRESSION) => {}
        _ => return None,
    }
    let metric = |id: &str| {
        queries
            .iter()
            .find(|q| q.id() == id)?
            .metric_stat()?
            .metric()
    };
    let dimension = |metric: &TargetTrackingMetric, name: &str| {
        metric
            .dimensions()
            .iter()
            .find(|d| d.name() == name)
            .map(|d| d.value().to_string())
    };
    let visible = metric("visible")?;
    let queue = dimension(visible, "QueueName")?;
    let tasks = metric("tasks")?;
    let counts_this_service = tasks.namespace() == Some(TASKS_NAMESPACE)
        && tasks.metric_name() == Some(TASKS_METRIC)
        && dimension(tasks, "ClusterName").as_deref() == Some(reference.service.cluster.as_str())
        && dimension(tasks, "ServiceName").as_deref() == Some(reference.service.service.as_str());
    if !counts_this_service {
        return None;
    }
    Some(ServicePolicy {
        policy: reference.clone(),
        kind: ServicePolicyKind::Backlog {
            queue,
            target: config.target_value(),
            scale_out_cooldown: config
                .scale_out_cooldown()
                .and_then(|c| u32::try_from(c).ok()),
            scale_in: !config.disable_scale_in().unwrap_or(false),
        },
        note: None,
    })
}

/// The from-zero policy as [`put_policy`] writes it: +1 task, one step from 0 up,
/// `Maximum`, with a cooldown. Anything else is not of a shape monplan writes.
fn normalize_step(
    reference: &ServicePolicyRef,
    config: &StepScalingPolicyConfiguration,
) -> Option<ServicePolicy> {
    let one_step = matches!(config.step_adjustments(), [step]
        if step.scaling_adjustment() == 1
            && step.metric_interval_lower_bound() == Some(0.0)
            && step.metric_interval_upper_bound().is_none());
    let shaped = one_step
        && config.adjustment_type() == Some(&AdjustmentType::ChangeInCapacity)
        && config.metric_aggregation_type() == Some(&MetricAggregationType::Maximum)
        && config.min_adjustment_magnitude().is_none();
    if !shaped {
        return None;
    }
    Some(ServicePolicy {
        policy: reference.clone(),
        kind: ServicePolicyKind::FromZero {
            cooldown: u32::try_from(config.cooldown()?).ok()?,
        },
        note: None,
    })
}

/// Registers the service's scalable target, or updates its capacity; the tags only
/// `with_tags` (on registration).
pub(super) async fn register_target(
    clients: &Clients,
    target: &ScalableTarget,
    with_tags: bool,
) -> Result<(), AwsError> {
    let ScalableTarget {
        service,
        min,
        max,
        tags,
    } = target;
    let capacity = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    clients
        .appscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(service.resource_id())
        .scalable_dimension(dimension())
        .min_capacity(capacity(*min))
        .max_capacity(capacity(*max))
        .set_tags(with_tags.then(|| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "RegisterScalableTarget",
                format!("scalable target {}", service.resource_id()),
                e,
            )
        })?;
    Ok(())
}

pub(super) async fn deregister_target(
    clients: &Clients,
    service: &ServiceRef,
) -> Result<(), AwsError> {
    clients
        .appscaling
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(service.resource_id())
        .scalable_dimension(dimension())
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "DeregisterScalableTarget",
                format!("scalable target {}", service.resource_id()),
                e,
            )
        })?;
    Ok(())
}

/// Puts the policy; the ARN AWS answers with, which alarms of the same apply wait for.
pub(super) async fn put_policy(clients: &Clients, policy: &ServicePolicy) -> Result<Arn, AwsError> {
    let ServicePolicy {
        policy: reference,
        kind,
        note: _,
    } = policy;
    let resource = || format!("scaling policy {reference}");
    let invalid = |e: aws_smithy_types::error::operation::BuildError| {
        AwsError::local(
            "PutScalingPolicy",
            resource(),
            "InvalidRequest",
            e.to_string(),
        )
    };
    let request = clients
        .appscaling
        .put_scaling_policy()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(reference.service.resource_id())
        .scalable_dimension(dimension())
        .policy_name(&reference.name);
    let request = match kind {
        ServicePolicyKind::Backlog {
            queue,
            target,
            scale_out_cooldown,
            scale_in,
        } => request
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(
                tracking(reference, queue, *target, *scale_out_cooldown, *scale_in)
                    .map_err(invalid)?,
            ),
        // The alarm's value is 1 while it fires; one step from 0 up adds one task.
        ServicePolicyKind::FromZero { cooldown } => request
            .policy_type(PolicyType::StepScaling)
            .step_scaling_policy_configuration(
                StepScalingPolicyConfiguration::builder()
                    .adjustment_type(AdjustmentType::ChangeInCapacity)
                    .metric_aggregation_type(MetricAggregationType::Maximum)
                    .cooldown(i32::try_from(*cooldown).unwrap_or(i32::MAX))
                    .step_adjustments(
                        StepAdjustment::builder()
                            .metric_interval_lower_bound(0.0)
                            .scaling_adjustment(1)
                            .build()
                            .map_err(invalid)?,
                    )
                    .build(),
            ),
    };
    let output = request
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PutScalingPolicy", resource(), e))?;
    Ok(Arn::new(output.policy_arn()))
}

/// The target-tracking configuration of the backlog policy: `visible / tasks`.
fn tracking(
    reference: &ServicePolicyRef,
    queue: &str,
    target: f64,
    scale_out_cooldown: Option<u32>,
    scale_in: bool,
) -> Result<TargetTrackingScalingPolicyConfiguration, aws_smithy_types::error::operation::BuildError>
{
    let stat =
        |id: &str, namespace: &str, metric: &str, dimensions: &[(&str, &str)], stat: &str| {
            let dimensions = dimensions
                .iter()
                .map(|(name, value)| {
                    TargetTrackingMetricDimension::builder()
                        .name(*name)
                        .value(*value)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            TargetTrackingMetricDataQuery::builder()
                .id(id)
                .metric_stat(
                    TargetTrackingMetricStat::builder()
                        .metric(
                            TargetTrackingMetric::builder()
                                .namespace(namespace)
                                .metric_name(metric)
                                .set_dimensions(Some(dimensions))
                                .build(),
                        )
                        .stat(stat)
                        .build()?,
                )
                .return_data(false)
                .build()
        };
    let metrics = CustomizedMetricSpecification::builder()
        .metrics(stat(
            "visible",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            &[("QueueName", queue)],
            "Sum",
        )?)
        .metrics(stat(
            "tasks",
            TASKS_NAMESPACE,
            TASKS_METRIC,
            &[
                ("ClusterName", &reference.service.cluster),
                ("ServiceName", &reference.service.service),
            ],
            "Average",
        )?)
        .metrics(
            TargetTrackingMetricDataQuery::builder()
                .id("backlog")
                .expression(SERVICE_BACKLOG_EXPRESSION)
                .return_data(true)
                .build()?,
        )
        .build();
    TargetTrackingScalingPolicyConfiguration::builder()
        .customized_metric_specification(metrics)
        .target_value(target)
        .disable_scale_in(!scale_in)
        .set_scale_out_cooldown(scale_out_cooldown.map(|c| i32::try_from(c).unwrap_or(i32::MAX)))
        .build()
}

pub(super) async fn delete_policy(
    clients: &Clients,
    policy: &ServicePolicyRef,
) -> Result<(), AwsError> {
    clients
        .appscaling
        .delete_scaling_policy()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(policy.service.resource_id())
        .scalable_dimension(dimension())
        .policy_name(&policy.name)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk("DeleteScalingPolicy", format!("scaling policy {policy}"), e)
        })?;
    Ok(())
}
