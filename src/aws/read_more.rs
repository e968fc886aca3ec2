//! Reading what stacks watch (queues, groups) and what they own beyond tags (scaling
//! policies and dashboards, owned by their `{stack}_` name prefix).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_sqs::types::QueueAttributeName;
use futures_util::{stream, StreamExt, TryStreamExt};

use super::write::BACKLOG_EXPRESSION;
use super::{AwsError, Clients};
use crate::model::{Arn, LivePolicy, LiveQueue, PolicyKind, PolicyRef, ScalingPolicy, StackName};

/// `ListQueues` returns at most 1,000 URLs a page.
const QUEUES_PER_PAGE: i32 = 1000;
/// `DescribeAutoScalingGroups` accepts at most 50 names per call (and returns 100 a page).
const GROUPS_PER_CALL: usize = 50;
const CONCURRENCY: usize = 4;

/// Which of `names` exist (one `ListQueues` pass, 1,000 a page), and for those in
/// `redrive` the dead-letter queue named by their redrive policy.
pub async fn queues(
    clients: &Clients,
    names: &BTreeSet<String>,
    redrive: &BTreeSet<String>,
) -> Result<BTreeMap<String, LiveQueue>, AwsError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut found = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .sqs
            .list_queues()
            .max_results(QUEUES_PER_PAGE)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListQueues", "queues", e))?;
        for url in page.queue_urls() {
            let name = url.rsplit('/').next().unwrap_or_default();
            if names.contains(name) {
                found.insert(
                    name.to_string(),
                    LiveQueue {
                        url: url.clone(),
                        dead_letter_queue: None,
                    },
                );
            }
        }
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(ToString::to_string);
        if token.is_none() {
            break;
        }
    }
    let wanted: Vec<(String, String)> = found
        .iter()
        .filter(|(name, _)| redrive.contains(*name))
        .map(|(name, queue)| (name.clone(), queue.url.clone()))
        .collect();
    let dlqs: Vec<(String, Option<String>)> = stream::iter(wanted)
        .map(|(name, url)| async move {
            let output = clients
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::RedrivePolicy)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("GetQueueAttributes", format!("queue {name}"), e)
                })?;
            let policy = output
                .attributes()
                .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
                .cloned();
            Ok::<_, AwsError>((name, policy.as_deref().and_then(dead_letter_queue)))
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    for (name, dlq) in dlqs {
        if let Some(queue) = found.get_mut(&name) {
            queue.dead_letter_queue = dlq;
        }
    }
    Ok(found)
}

/// The queue name at the end of a redrive policy's `deadLetterTargetArn`. Parsed as
/// JSON: AWS (and emulators) re-serialize the policy with their own spacing.
fn dead_letter_queue(policy: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(policy).ok()?;
    let arn = value.get("deadLetterTargetArn")?.as_str()?;
    arn.rsplit(':').next().map(ToString::to_string)
}

/// Which of `names` exist.
pub async fn groups(
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
pub async fn policies(
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

async fn list_policies(
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
fn normalize_policy(
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

/// Every dashboard named with a loaded stack's prefix, with its body parsed.
pub async fn dashboards(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
) -> Result<BTreeMap<String, serde_json::Value>, AwsError> {
    let mut names = Vec::new();
    for stack in stacks {
        let prefix = format!("{stack}_");
        let mut token: Option<String> = None;
        loop {
            clients.pacer.wait("ListDashboards").await;
            let page = clients
                .cloudwatch
                .list_dashboards()
                .dashboard_name_prefix(&prefix)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("ListDashboards", format!("dashboards {prefix}*"), e)
                })?;
            names.extend(
                page.dashboard_entries()
                    .iter()
                    .filter_map(|e| e.dashboard_name())
                    // The prefix filter is the API's; checked again in case it is ignored.
                    .filter(|n| n.starts_with(&prefix))
                    .map(ToString::to_string),
            );
            token = page.next_token().map(ToString::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    stream::iter(names)
        .map(|name| async move {
            clients.pacer.wait("GetDashboard").await;
            let output = clients
                .cloudwatch
                .get_dashboard()
                .dashboard_name(&name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetDashboard", format!("dashboard {name}"), e))?;
            // A body that is not JSON compares unequal to ours and gets replaced.
            let body = serde_json::from_str(output.dashboard_body().unwrap_or("{}"))
                .unwrap_or(serde_json::Value::Null);
            Ok::<_, AwsError>((name, body))
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redrive_policies_are_read_as_json() {
        let policy = r#"{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:jobs-dlq", "maxReceiveCount": 5}"#;
        assert_eq!(dead_letter_queue(policy).as_deref(), Some("jobs-dlq"));
        assert_eq!(dead_letter_queue("{}"), None);
        assert_eq!(dead_letter_queue("not json"), None);
    }
}
