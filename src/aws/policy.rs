//! EC2 Auto Scaling: which groups exist, the scaling policies named with a stack's
//! prefix, and putting and deleting them.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{stream, StreamExt, TryStreamExt};

use super::{AwsError, Clients, CONCURRENCY};
use crate::kinds::policy::BACKLOG_EXPRESSION;
use crate::model::{Arn, LivePolicy, PolicyKind, PolicyRef, ScalingPolicy, StackName};

/// `DescribeAutoScalingGroups` accepts at most 50 names per call (and returns 100 a page).
const GROUPS_PER_CALL: usize = 50;

/// Which of `names` exist.
pub(super) async fn groups(
    clients: &Clients,
    names: &BTreeSet<String>,
) -> Result<BTreeSet<String>, AwsError> {
    let chunks: Vec<Vec<String>> = names
        .iter()
        .cloned()
        .collect::<Vec<_>>()
        .chunks(GROUPS_PER_CALL)
        .map(<[String]>::to_vec)
        .collect();
    let pages: Vec<Vec<String>> = stream::iter(chunks)
        .map(|chunk| async move {
            let mut found = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = clients
                    .autoscaling
                    .describe_auto_scaling_groups()
                    .set_auto_scaling_group_names(Some(chunk.clone()))
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk(
                            "DescribeAutoScalingGroups",
                            format!("groups {}", chunk.join(", ")),
                            e,
                        )
                    })?;
                found.extend(
                    page.auto_scaling_groups()
                        .iter()
                        .filter_map(|g| g.auto_scaling_group_name())
                        .map(ToString::to_string),
                );
                token = page.next_token().map(ToString::to_string);
                if token.is_none() {
                    break;
                }
            }
            Ok::<_, AwsError>(found)
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(pages.into_iter().flatten().collect())
}

/// Every scaling policy in the region named with a loaded stack's prefix. Listing all
/// policies (not per group) is what finds ours after `scaling:` left the YAML.
///
/// When no stack declares scaling, a failure to list (no Auto Scaling permission, or an
/// emulator without the API) is a warning, not an error: a team that does not scale
/// need not grant Auto Scaling access.
pub(super) async fn policies(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
    required: bool,
) -> Result<(BTreeMap<PolicyRef, LivePolicy>, Vec<String>), AwsError> {
    if stacks.is_empty() {
        return Ok((BTreeMap::new(), Vec::new()));
    }
    match list_policies(clients, stacks).await {
        Ok(found) => Ok((found, Vec::new())),
        Err(error) if !required => Ok((
            BTreeMap::new(),
            vec![format!("cannot list scaling policies ({error}); policies of a removed `scaling:` block would not be deleted")],
        )),
        Err(error) => Err(error),
    }
}

pub(super) async fn list_policies(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
) -> Result<BTreeMap<PolicyRef, LivePolicy>, AwsError> {
    let prefixes: Vec<String> = stacks.iter().map(|s| format!("{s}_")).collect();
    let mut found = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .autoscaling
            .describe_policies()
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribePolicies", "scaling policies", e))?;
        for policy in page.scaling_policies() {
            let (Some(group), Some(name)) =
                (policy.auto_scaling_group_name(), policy.policy_name())
            else {
                continue;
            };
            if !prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                continue;
            }
            let reference = PolicyRef {
                group: group.to_string(),
                name: name.to_string(),
            };
            let body = normalize_policy(&reference, policy);
            found.insert(
                reference,
                LivePolicy {
                    arn: policy.policy_arn().map(Arn::new),
                    body,
                },
            );
        }
        token = page.next_token().map(ToString::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}

/// A policy in the model's terms, if it has a shape monplan writes.
pub(super) fn normalize_policy(
    reference: &PolicyRef,
    policy: &aws_sdk_autoscaling::types::ScalingPolicy,
) -> Option<ScalingPolicy> {
    let kind = match policy.policy_type()? {
        "TargetTrackingScaling" => {
            let config = policy.target_tracking_configuration()?;
            let queries = config.customized_metric_specification()?.metrics();
            let expression = queries.iter().find_map(|q| q.expression())?;
            if expression != BACKLOG_EXPRESSION {
                return None;
            }
            let visible = queries
                .iter()
                .find(|q| q.id() == Some("visible"))?
                .metric_stat()?
                .metric()?;
            let queue = visible
                .dimensions()
                .iter()
                .find(|d| d.name() == Some("QueueName"))?
                .value()?
                .to_string();
            PolicyKind::Backlog {
                queue,
                target: config.target_value()?,
                warmup: policy
                    .estimated_instance_warmup()
                    .and_then(|w| u32::try_from(w).ok()),
                scale_in: !config.disable_scale_in().unwrap_or(false),
            }
        }
        "StepScaling" => {
            let steps = policy.step_adjustments();
            let one_step = matches!(steps, [step] if step.scaling_adjustment() == Some(1)
                && step.metric_interval_lower_bound() == Some(0.0)
                && step.metric_interval_upper_bound().is_none());
            if policy.adjustment_type() != Some("ChangeInCapacity") || !one_step {
                return None;
            }
            PolicyKind::FromZero
        }
        _ => return None,
    };
    Some(ScalingPolicy {
        policy: reference.clone(),
        kind,
        note: None,
    })
}

/// Puts the policy; the ARN AWS answers with, if the endpoint sends one.
pub(super) async fn put_policy(
    clients: &Clients,
    policy: &ScalingPolicy,
) -> Result<Option<Arn>, AwsError> {
    use aws_sdk_autoscaling::types::{
        CustomizedMetricSpecification, MetricDimension, StepAdjustment,
        TargetTrackingConfiguration, TargetTrackingMetricDataQuery, TargetTrackingMetricStat,
    };
    let ScalingPolicy {
        policy: reference,
        kind,
        note: _,
    } = policy;
    let stat = |id: &str, namespace: &str, metric: &str, dimension: (&str, &str), stat: &str| {
        TargetTrackingMetricDataQuery::builder()
            .id(id)
            .metric_stat(
                TargetTrackingMetricStat::builder()
                    .metric(
                        aws_sdk_autoscaling::types::Metric::builder()
                            .namespace(namespace)
                            .metric_name(metric)
                            .dimensions(
                                MetricDimension::builder()
                                    .name(dimension.0)
                                    .value(dimension.1)
                                    .build(),
                            )
                            .build(),
                    )
                    .stat(stat)
                    .build(),
            )
            .return_data(false)
            .build()
    };
    let request = clients
        .autoscaling
        .put_scaling_policy()
        .auto_scaling_group_name(&reference.group)
        .policy_name(&reference.name);
    let request = match kind {
        PolicyKind::Backlog {
            queue,
            target,
            warmup,
            scale_in,
        } => {
            let metrics = CustomizedMetricSpecification::builder()
                .metrics(stat(
                    "visible",
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    ("QueueName", queue),
                    "Sum",
                ))
                .metrics(stat(
                    "inservice",
                    "AWS/AutoScaling",
                    "GroupInServiceInstances",
                    ("AutoScalingGroupName", &reference.group),
                    "Average",
                ))
                .metrics(
                    TargetTrackingMetricDataQuery::builder()
                        .id("backlog")
                        .expression(BACKLOG_EXPRESSION)
                        .return_data(true)
                        .build(),
                )
                .build();
            request
                .policy_type("TargetTrackingScaling")
                .set_estimated_instance_warmup(warmup.map(|w| i32::try_from(w).unwrap_or(i32::MAX)))
                .target_tracking_configuration(
                    TargetTrackingConfiguration::builder()
                        .customized_metric_specification(metrics)
                        .target_value(*target)
                        .disable_scale_in(!scale_in)
                        .build(),
                )
        }
        PolicyKind::FromZero => request
            .policy_type("StepScaling")
            .adjustment_type("ChangeInCapacity")
            .metric_aggregation_type("Maximum")
            .step_adjustments(
                StepAdjustment::builder()
                    .metric_interval_lower_bound(0.0)
                    .scaling_adjustment(1)
                    .build(),
            ),
    };
    let output = request.send().await.map_err(|e| {
        AwsError::from_sdk("PutScalingPolicy", format!("scaling policy {reference}"), e)
    })?;
    Ok(output.policy_arn().map(Arn::new))
}

/// The ARN of one policy, for [`crate::plan::Op::DescribePolicies`].
pub(super) async fn policy_arn(clients: &Clients, policy: &PolicyRef) -> Result<Arn, AwsError> {
    let output = clients
        .autoscaling
        .describe_policies()
        .auto_scaling_group_name(&policy.group)
        .policy_names(&policy.name)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk("DescribePolicies", format!("scaling policy {policy}"), e)
        })?;
    output
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == Some(policy.name.as_str()))
        .and_then(|p| p.policy_arn())
        .map(Arn::new)
        .ok_or_else(|| {
            AwsError::local(
                "DescribePolicies",
                format!("scaling policy {policy}"),
                "PolicyNotFound",
                "the policy has no ARN yet",
            )
        })
}

pub(super) async fn delete_policy(clients: &Clients, policy: &PolicyRef) -> Result<(), AwsError> {
    clients
        .autoscaling
        .delete_policy()
        .auto_scaling_group_name(&policy.group)
        .policy_name(&policy.name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DeletePolicy", format!("scaling policy {policy}"), e))?;
    Ok(())
}
