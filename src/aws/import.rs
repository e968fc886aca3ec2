//! What `monplan import` reads: alarms, topics (with attributes, tags and subscriptions)
//! and dashboards selected by name prefix or tag, whoever owns them. Paginated and a few
//! calls at once, like the plan's reads; a failed read is an error, never a short list.

use futures_util::{stream, StreamExt, TryStreamExt};

use super::{alarm, dashboard, next_page, tagging, topic, AwsError, Clients, CONCURRENCY};
use crate::import::{selected, Estate, FoundAlarm, FoundTopic};
use crate::model::{AlarmName, Arn, LiveAlarmBody, Tags, TopicName};

/// What to import: names starting with `prefix`, resources tagged `tag` (both when both
/// are given), and the dashboards named with one of `dashboard_prefixes`.
pub struct Selection<'a> {
    pub prefix: Option<&'a str>,
    pub tag: Option<(&'a str, &'a str)>,
    pub dashboard_prefixes: Vec<String>,
}

pub(super) async fn read_estate(
    clients: &Clients,
    selection: &Selection<'_>,
) -> Result<Estate, AwsError> {
    let (alarms, topics, dashboards) = futures_util::try_join!(
        alarms(clients, selection),
        topics(clients, selection),
        dashboard::by_prefixes(clients, &selection.dashboard_prefixes),
    )?;
    Ok(Estate {
        alarms,
        topics,
        dashboards,
    })
}

/// Alarms by name prefix (`DescribeAlarms` with `AlarmNamePrefix`), or by tag (one
/// tagging query, then 100 names a call), with their tags.
async fn alarms(clients: &Clients, selection: &Selection<'_>) -> Result<Vec<FoundAlarm>, AwsError> {
    let found: Vec<(AlarmName, Arn, LiveAlarmBody)> = match (selection.prefix, selection.tag) {
        (Some(prefix), _) => by_prefix(clients, prefix).await?,
        (None, Some(tag)) => {
            let names: Vec<AlarmName> = tagged(clients, tag)
                .await?
                .iter()
                .filter_map(|(arn, _)| arn.alarm_name())
                .collect();
            alarm::describe_all(clients, names).await?
        }
        (None, None) => Vec::new(),
    };
    let with_tags: Vec<FoundAlarm> = stream::iter(found)
        .map(|(name, arn, body)| async move {
            let tags = alarm::cloudwatch_tags(clients, &arn).await?;
            Ok::<_, AwsError>(FoundAlarm {
                name,
                arn,
                body,
                tags,
            })
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(with_tags
        .into_iter()
        .filter(|a| selected(a.name.as_str(), &a.tags, selection.prefix, selection.tag))
        .collect())
}

async fn by_prefix(
    clients: &Clients,
    prefix: &str,
) -> Result<Vec<(AlarmName, Arn, LiveAlarmBody)>, AwsError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        clients.pacer.wait("DescribeAlarms").await;
        let page = clients
            .cloudwatch
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .alarm_types(aws_sdk_cloudwatch::types::AlarmType::MetricAlarm)
            .alarm_types(aws_sdk_cloudwatch::types::AlarmType::CompositeAlarm)
            .max_records(100)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeAlarms", format!("alarms {prefix}*"), e))?;
        for a in page.metric_alarms() {
            if let (Some(name), Some(arn)) = (a.alarm_name(), a.alarm_arn()) {
                found.push((
                    AlarmName::new(name),
                    Arn::new(arn),
                    alarm::normalize_alarm(a),
                ));
            }
        }
        for a in page.composite_alarms() {
            if let (Some(name), Some(arn)) = (a.alarm_name(), a.alarm_arn()) {
                found.push((
                    AlarmName::new(name),
                    Arn::new(arn),
                    alarm::normalize_composite(a),
                ));
            }
        }
        token = next_page(page.next_token());
        if token.is_none() {
            break;
        }
    }
    // The prefix filter is the API's; checked again in case an endpoint ignores it.
    found.retain(|(name, _, _)| name.as_str().starts_with(prefix));
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.dedup_by(|a, b| a.0 == b.0);
    Ok(found)
}

/// Alarms and topics tagged `key = value`.
async fn tagged(
    clients: &Clients,
    (key, value): (&str, &str),
) -> Result<Vec<(Arn, Tags)>, AwsError> {
    tagging::tagged(clients, key, value).await
}

/// Topics by name prefix (`ListTopics`, filtered here: the API has no prefix filter) or
/// by tag, each with its attributes, tags and subscriptions.
async fn topics(clients: &Clients, selection: &Selection<'_>) -> Result<Vec<FoundTopic>, AwsError> {
    let arns: Vec<Arn> = match (selection.prefix, selection.tag) {
        (Some(prefix), _) => {
            let mut arns = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = clients
                    .sns
                    .list_topics()
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ListTopics", "topics", e))?;
                arns.extend(
                    page.topics()
                        .iter()
                        .filter_map(|t| t.topic_arn())
                        .map(Arn::new)
                        .filter(|arn| {
                            arn.topic_name()
                                .is_some_and(|n| n.as_str().starts_with(prefix))
                        }),
                );
                token = next_page(page.next_token());
                if token.is_none() {
                    break;
                }
            }
            arns
        }
        (None, Some(tag)) => tagged(clients, tag)
            .await?
            .into_iter()
            .map(|(arn, _)| arn)
            .filter(|arn| arn.service() == Some("sns"))
            .collect(),
        (None, None) => Vec::new(),
    };
    let found: Vec<FoundTopic> = stream::iter(arns)
        .map(|arn| async move {
            let name: TopicName = arn
                .topic_name()
                .unwrap_or_else(|| TopicName::new(arn.to_string()));
            let (attributes, tags, subscriptions) = futures_util::try_join!(
                topic::topic_attributes(clients, &arn),
                topic::sns_tags(clients, &arn),
                topic::subscriptions(clients, &arn),
            )?;
            Ok::<_, AwsError>(FoundTopic {
                name,
                display_name: attributes
                    .get("DisplayName")
                    .filter(|d| !d.is_empty())
                    .cloned(),
                arn,
                tags,
                subscriptions,
            })
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .filter(|t| selected(t.name.as_str(), &t.tags, selection.prefix, selection.tag))
        .collect())
}
