//! Executes one plan operation. No decisions here: the plan already made them.

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDataQuery, MetricStat, StandardUnit, Statistic,
};

use super::{AwsError, Clients};
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, Arn, CompositeAlarm, Condition, Metric, PolicyKind,
    PolicyRef, ScalingPolicy, Tags,
};
use crate::plan::Op;

/// The id of the anomaly-band expression in a band alarm's metric queries.
const BAND_ID: &str = "band";
/// The id of the watched metric in a band alarm.
const BAND_METRIC_ID: &str = "m1";
/// The id of the expression in a metric-math alarm (validation reserves it).
pub const EXPRESSION_ID: &str = "expression";

pub async fn execute(clients: &Clients, op: &Op) -> Result<(), AwsError> {
    clients.pacer.wait(op.operation()).await;
    match op {
        Op::CreateTopic(topic) => {
            let mut request = clients.sns.create_topic().name(topic.name.as_str());
            if let Some(display_name) = &topic.display_name {
                request = request.attributes("DisplayName", display_name);
            }
            for (key, value) in &topic.tags {
                request = request.tags(sns_tag(key, value)?);
            }
            request.send().await.map_err(|e| {
                AwsError::from_sdk("CreateTopic", format!("topic {}", topic.name), e)
            })?;
        }
        Op::SetTopicDisplayName {
            topic,
            display_name,
        } => {
            clients
                .sns
                .set_topic_attributes()
                .topic_arn(topic.as_str())
                .attribute_name("DisplayName")
                .attribute_value(display_name.clone().unwrap_or_default())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("SetTopicAttributes", topic.to_string(), e))?;
        }
        Op::DeleteTopic(topic) => {
            clients
                .sns
                .delete_topic()
                .topic_arn(topic.as_str())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteTopic", topic.to_string(), e))?;
        }
        Op::Subscribe {
            topic,
            protocol,
            endpoint,
        } => {
            clients
                .sns
                .subscribe()
                .topic_arn(topic.as_str())
                .protocol(protocol.as_str())
                .endpoint(endpoint.expose())
                .return_subscription_arn(true)
                .send()
                .await
                .map_err(|e| {
                    let mut error = AwsError::from_sdk(
                        "Subscribe",
                        format!("{topic} {protocol}:{endpoint}"),
                        e,
                    );
                    // AWS quotes rejected endpoints in its message; a secret must not leak that way.
                    if endpoint.is_sensitive() {
                        error.message = error
                            .message
                            .replace(endpoint.expose(), &endpoint.to_string());
                    }
                    error
                })?;
        }
        Op::Unsubscribe(subscription) => {
            clients
                .sns
                .unsubscribe()
                .subscription_arn(subscription.as_str())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("Unsubscribe", subscription.to_string(), e))?;
        }
        Op::PutAlarm { alarm, with_tags } => put_alarm(clients, alarm, *with_tags).await?,
        Op::PutCompositeAlarm { alarm, with_tags } => {
            put_composite(clients, alarm, *with_tags).await?;
        }
        Op::DeleteAlarms(names) => {
            let list: Vec<&str> = names.iter().map(crate::model::AlarmName::as_str).collect();
            clients
                .cloudwatch
                .delete_alarms()
                .set_alarm_names(Some(list.iter().map(ToString::to_string).collect()))
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("DeleteAlarms", format!("alarm {}", list.join(", ")), e)
                })?;
        }
        Op::PutScalingPolicy(policy) => put_policy(clients, policy).await?,
        Op::DeletePolicy(policy) => {
            clients
                .autoscaling
                .delete_policy()
                .auto_scaling_group_name(&policy.group)
                .policy_name(&policy.name)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("DeletePolicy", format!("scaling policy {policy}"), e)
                })?;
        }
        Op::PutDashboard { name, body } => {
            clients
                .cloudwatch
                .put_dashboard()
                .dashboard_name(name)
                .dashboard_body(body)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("PutDashboard", format!("dashboard {name}"), e))?;
        }
        Op::DeleteDashboards(names) => {
            clients
                .cloudwatch
                .delete_dashboards()
                .set_dashboard_names(Some(names.clone()))
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(
                        "DeleteDashboards",
                        format!("dashboard {}", names.join(", ")),
                        e,
                    )
                })?;
        }
        Op::TagResource { arn, tags } => tag(clients, arn, tags).await?,
        Op::UntagResource { arn, keys } => untag(clients, arn, keys).await?,
    }
    Ok(())
}

/// ARNs for an action list. A scaling policy's ARN exists only once the policy does; the
/// plan created it earlier in this apply, so it is looked up now.
async fn action_arns(clients: &Clients, actions: &[Action]) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    for action in actions {
        arns.push(match action {
            Action::Arn(arn) => arn.to_string(),
            // The planner resolves topic keys; sending a bare name would make AWS reject
            // the call with a clear message.
            Action::Topic(name) => name.to_string(),
            Action::Policy(policy) => policy_arn(clients, policy).await?,
        });
    }
    Ok(arns)
}

pub(super) async fn policy_arn(clients: &Clients, policy: &PolicyRef) -> Result<String, AwsError> {
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
        .map(ToString::to_string)
        .ok_or_else(|| {
            AwsError::local(
                "DescribePolicies",
                format!("scaling policy {policy}"),
                "PolicyNotFound",
                "the policy has no ARN yet",
            )
        })
}

struct ActionArns {
    alarm: Vec<String>,
    ok: Vec<String>,
    insufficient_data: Vec<String>,
}

async fn all_action_arns(
    clients: &Clients,
    actions: &AlarmActions,
) -> Result<ActionArns, AwsError> {
    Ok(ActionArns {
        alarm: action_arns(clients, &actions.alarm).await?,
        ok: action_arns(clients, &actions.ok).await?,
        insufficient_data: action_arns(clients, &actions.insufficient_data).await?,
    })
}

fn metric_stat(metric: &Metric) -> MetricStat {
    let mut stat = MetricStat::builder()
        .metric(
            aws_sdk_cloudwatch::types::Metric::builder()
                .namespace(&metric.namespace)
                .metric_name(&metric.name)
                .set_dimensions(Some(dimensions(metric)))
                .build(),
        )
        .period(i32::try_from(metric.period).unwrap_or(i32::MAX))
        .stat(&metric.stat);
    if let Some(unit) = &metric.unit {
        stat = stat.unit(StandardUnit::from(unit.as_str()));
    }
    stat.build()
}

fn dimensions(metric: &Metric) -> Vec<Dimension> {
    metric
        .dimensions
        .iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect()
}

async fn put_alarm(clients: &Clients, alarm: &Alarm, with_tags: bool) -> Result<(), AwsError> {
    // Destructured so that a new model field is a compile error until it is sent.
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
        tags,
    } = alarm;
    let resource = format!("alarm {name}");
    let arns = all_action_arns(clients, actions).await?;
    let mut request = clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name.as_str())
        // An empty description clears one set before; AWS treats "" as none.
        .alarm_description(description.clone().unwrap_or_default())
        .evaluation_periods(i32::try_from(*evaluation_periods).unwrap_or(i32::MAX))
        .datapoints_to_alarm(i32::try_from(*datapoints_to_alarm).unwrap_or(i32::MAX))
        .treat_missing_data(treat_missing_data.aws_value())
        .actions_enabled(*actions_enabled)
        .set_alarm_actions(Some(arns.alarm))
        .set_ok_actions(Some(arns.ok))
        .set_insufficient_data_actions(Some(arns.insufficient_data));
    request = match (metric, condition) {
        (AlarmMetric::Single(m), Condition::Threshold { comparison, value }) => {
            request = request
                .namespace(&m.namespace)
                .metric_name(&m.name)
                .set_dimensions(Some(dimensions(m)))
                .period(i32::try_from(m.period).unwrap_or(i32::MAX))
                .comparison_operator(ComparisonOperator::from(comparison.aws_operator()))
                .threshold(*value);
            request = if m.is_standard_stat() {
                request.statistic(Statistic::from(m.stat.as_str()))
            } else {
                request.extended_statistic(&m.stat)
            };
            match &m.unit {
                Some(unit) => request.unit(StandardUnit::from(unit.as_str())),
                None => request,
            }
        }
        (
            AlarmMetric::Math {
                expression,
                metrics,
            },
            Condition::Threshold { comparison, value },
        ) => {
            let mut queries: Vec<MetricDataQuery> = metrics
                .iter()
                .map(|(id, m)| {
                    MetricDataQuery::builder()
                        .id(id)
                        .metric_stat(metric_stat(m))
                        .return_data(false)
                        .build()
                })
                .collect();
            queries.push(
                MetricDataQuery::builder()
                    .id(EXPRESSION_ID)
                    .expression(expression)
                    .return_data(true)
                    .build(),
            );
            request
                .set_metrics(Some(queries))
                .comparison_operator(ComparisonOperator::from(comparison.aws_operator()))
                .threshold(*value)
        }
        (AlarmMetric::Single(m), Condition::Band { side, deviations }) => {
            let queries = vec![
                MetricDataQuery::builder()
                    .id(BAND_METRIC_ID)
                    .metric_stat(metric_stat(m))
                    .return_data(true)
                    .build(),
                MetricDataQuery::builder()
                    .id(BAND_ID)
                    .expression(band_expression(*deviations))
                    .return_data(true)
                    .build(),
            ];
            request
                .set_metrics(Some(queries))
                .threshold_metric_id(BAND_ID)
                .comparison_operator(ComparisonOperator::from(side.aws_operator()))
        }
        (AlarmMetric::Math { .. }, Condition::Band { .. }) => {
            return Err(AwsError::local(
                "PutMetricAlarm",
                resource,
                "InvalidAlarm",
                "an anomaly band needs a single metric",
            ));
        }
    };
    if with_tags {
        for (key, value) in tags {
            request = request.tags(cloudwatch_tag(key, value));
        }
    }
    request
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PutMetricAlarm", resource, e))?;
    Ok(())
}

/// `ANOMALY_DETECTION_BAND(m1, 2)`: the band expression for a width in standard deviations.
pub fn band_expression(deviations: f64) -> String {
    format!("ANOMALY_DETECTION_BAND({BAND_METRIC_ID}, {deviations})")
}

async fn put_composite(
    clients: &Clients,
    alarm: &CompositeAlarm,
    with_tags: bool,
) -> Result<(), AwsError> {
    let CompositeAlarm {
        name,
        description,
        rule,
        actions_enabled,
        actions,
        tags,
    } = alarm;
    let arns = all_action_arns(clients, actions).await?;
    let mut request = clients
        .cloudwatch
        .put_composite_alarm()
        .alarm_name(name.as_str())
        .alarm_description(description.clone().unwrap_or_default())
        .alarm_rule(rule)
        .actions_enabled(*actions_enabled)
        .set_alarm_actions(Some(arns.alarm))
        .set_ok_actions(Some(arns.ok))
        .set_insufficient_data_actions(Some(arns.insufficient_data));
    if with_tags {
        for (key, value) in tags {
            request = request.tags(cloudwatch_tag(key, value));
        }
    }
    request.send().await.map_err(|e| {
        AwsError::from_sdk("PutCompositeAlarm", format!("composite alarm {name}"), e)
    })?;
    Ok(())
}

/// What the backlog policy tracks: visible messages per in-service instance.
pub const BACKLOG_EXPRESSION: &str = "visible / inservice";

async fn put_policy(clients: &Clients, policy: &ScalingPolicy) -> Result<(), AwsError> {
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
    request.send().await.map_err(|e| {
        AwsError::from_sdk("PutScalingPolicy", format!("scaling policy {reference}"), e)
    })?;
    Ok(())
}

fn sns_tag(key: &str, value: &str) -> Result<aws_sdk_sns::types::Tag, AwsError> {
    aws_sdk_sns::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| AwsError::local("TagResource", key.to_string(), "InvalidTag", e.to_string()))
}

fn cloudwatch_tag(key: &str, value: &str) -> aws_sdk_cloudwatch::types::Tag {
    aws_sdk_cloudwatch::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
}

async fn tag(clients: &Clients, arn: &Arn, tags: &Tags) -> Result<(), AwsError> {
    if arn.service() == Some("sns") {
        let mut request = clients.sns.tag_resource().resource_arn(arn.as_str());
        for (key, value) in tags {
            request = request.tags(sns_tag(key, value)?);
        }
        request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", arn.to_string(), e))?;
    } else {
        let mut request = clients.cloudwatch.tag_resource().resource_arn(arn.as_str());
        for (key, value) in tags {
            request = request.tags(cloudwatch_tag(key, value));
        }
        request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", arn.to_string(), e))?;
    }
    Ok(())
}

async fn untag(clients: &Clients, arn: &Arn, keys: &[String]) -> Result<(), AwsError> {
    if arn.service() == Some("sns") {
        clients
            .sns
            .untag_resource()
            .resource_arn(arn.as_str())
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", arn.to_string(), e))?;
    } else {
        clients
            .cloudwatch
            .untag_resource()
            .resource_arn(arn.as_str())
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", arn.to_string(), e))?;
    }
    Ok(())
}
