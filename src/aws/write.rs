//! Executes one plan operation. No decisions here: the plan already made them.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StandardUnit, Statistic};

use super::{AwsError, Clients};
use crate::model::{Action, Alarm, Arn, Tags};
use crate::plan::Op;

pub async fn execute(clients: &Clients, op: &Op) -> Result<(), AwsError> {
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
        Op::DeleteAlarms(names) => {
            clients
                .cloudwatch
                .delete_alarms()
                .set_alarm_names(Some(names.iter().map(ToString::to_string).collect()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteAlarms", alarm_list(names), e))?;
        }
        Op::TagResource { arn, tags } => tag(clients, arn, tags).await?,
        Op::UntagResource { arn, keys } => untag(clients, arn, keys).await?,
    }
    Ok(())
}

fn alarm_list(names: &[crate::model::AlarmName]) -> String {
    let names: Vec<&str> = names.iter().map(crate::model::AlarmName::as_str).collect();
    format!("alarm {}", names.join(", "))
}

fn action_arns(actions: &[Action]) -> Vec<String> {
    // The planner resolves topic keys; a key reaching here would be a planner bug, and
    // sending it would make AWS reject the call with a clear message anyway.
    actions
        .iter()
        .map(|a| match a {
            Action::Arn(arn) => arn.to_string(),
            Action::Topic(name) => name.to_string(),
        })
        .collect()
}

async fn put_alarm(clients: &Clients, alarm: &Alarm, with_tags: bool) -> Result<(), AwsError> {
    // Destructured so that a new model field is a compile error until it is sent.
    let Alarm {
        name,
        description,
        metric,
        comparison,
        threshold,
        evaluation_periods,
        datapoints_to_alarm,
        treat_missing_data,
        actions_enabled,
        actions,
        tags,
    } = alarm;
    let resource = format!("alarm {name}");
    let mut request = clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name.as_str())
        // An empty description clears one set before; AWS treats "" as none.
        .alarm_description(description.clone().unwrap_or_default())
        .namespace(&metric.namespace)
        .metric_name(&metric.name)
        .set_dimensions(Some(
            metric
                .dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                .collect(),
        ))
        .period(i32::try_from(metric.period).unwrap_or(i32::MAX))
        .comparison_operator(ComparisonOperator::from(comparison.aws_operator()))
        .threshold(*threshold)
        .evaluation_periods(i32::try_from(*evaluation_periods).unwrap_or(i32::MAX))
        .datapoints_to_alarm(i32::try_from(*datapoints_to_alarm).unwrap_or(i32::MAX))
        .treat_missing_data(treat_missing_data.aws_value())
        .actions_enabled(*actions_enabled)
        .set_alarm_actions(Some(action_arns(&actions.alarm)))
        .set_ok_actions(Some(action_arns(&actions.ok)))
        .set_insufficient_data_actions(Some(action_arns(&actions.insufficient_data)));
    request = if metric.is_standard_stat() {
        request.statistic(Statistic::from(metric.stat.as_str()))
    } else {
        request.extended_statistic(&metric.stat)
    };
    if let Some(unit) = &metric.unit {
        request = request.unit(StandardUnit::from(unit.as_str()));
    }
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
