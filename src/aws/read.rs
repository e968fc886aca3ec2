//! Reading live state, batched: one tag query for everything the stacks own, alarms by
//! name 100 at a time, and per-topic reads only for the few topics in play.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatch::types::{AlarmType, MetricAlarm};
use futures_util::{stream, StreamExt, TryStreamExt};

use super::{AwsError, Clients};
use crate::model::{
    Action, Alarm, AlarmActions, AlarmName, Arn, Comparison, LiveAlarm, LiveAlarmBody, LiveState,
    LiveSubscription, LiveTopic, Metric, Owner, Protocol, ReadRequest, Scope, StackName, Tags,
    Topic, TopicName, TreatMissingData, OWNER_TAG,
};

/// `DescribeAlarms` accepts at most 100 alarm names per call.
const ALARM_NAMES_PER_CALL: usize = 100;
/// The tagging API accepts at most 20 values per tag filter.
const TAG_VALUES_PER_FILTER: usize = 20;
/// Reads in flight at once. Well under `CloudWatch`'s `DescribeAlarms` quota (9/s) for the
/// few calls a plan makes; request pacing for large estates is the executor's business.
const CONCURRENCY: usize = 4;

/// Reads what `request` names or its stacks own, in `scope`'s region.
pub async fn read_live(
    clients: &Clients,
    scope: &Scope,
    request: &ReadRequest,
) -> Result<LiveState, AwsError> {
    let owned = owned_resources(clients, &request.stacks).await?;
    let owned_alarms: BTreeMap<AlarmName, &Tags> = owned
        .iter()
        .filter_map(|(arn, tags)| Some((arn.alarm_name()?, tags)))
        .collect();
    let owned_topics: BTreeMap<TopicName, (&Arn, &Tags)> = owned
        .iter()
        .filter_map(|(arn, tags)| Some((arn.topic_name()?, (arn, tags))))
        .collect();

    let alarm_names: BTreeSet<AlarmName> = request
        .alarms
        .iter()
        .cloned()
        .chain(owned_alarms.keys().cloned())
        .collect();
    let topic_names: BTreeSet<TopicName> = request
        .topics
        .iter()
        .cloned()
        .chain(owned_topics.keys().cloned())
        .collect();

    let alarms = async {
        let chunks: Vec<Vec<AlarmName>> = alarm_names
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .chunks(ALARM_NAMES_PER_CALL)
            .map(<[AlarmName]>::to_vec)
            .collect();
        let pages: Vec<Vec<(AlarmName, Arn, LiveAlarmBody)>> = stream::iter(chunks)
            .map(|chunk| describe_alarms(clients, chunk))
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        let found: Vec<_> = pages.into_iter().flatten().collect();
        stream::iter(found)
            .map(|(name, arn, body)| {
                let tags = owned_alarms.get(&name).map(|t| (*t).clone());
                async move {
                    let tags = match tags {
                        Some(tags) => tags,
                        // Declared, exists, but not in the tag index: it may be foreign, or
                        // ours and not yet indexed (the tagging API is eventually
                        // consistent). Ask the alarm itself; this is rare, so one call each.
                        None => cloudwatch_tags(clients, &arn).await?,
                    };
                    Ok::<_, AwsError>((name, live_alarm(arn, body, tags)))
                }
            })
            .buffered(CONCURRENCY)
            .try_collect::<BTreeMap<_, _>>()
            .await
    };

    let topics = async {
        stream::iter(topic_names)
            .map(|name| {
                let known = owned_topics
                    .get(&name)
                    .map(|(arn, tags)| ((*arn).clone(), (*tags).clone()));
                async move {
                    let topic = read_topic(clients, scope, &name, known, &request.stacks).await?;
                    Ok::<_, AwsError>(topic.map(|t| (name, t)))
                }
            })
            .buffered(CONCURRENCY)
            .try_filter_map(|entry| async move { Ok(entry) })
            .try_collect::<BTreeMap<_, _>>()
            .await
    };

    let (alarms, topics) = futures_util::try_join!(alarms, topics)?;
    Ok(LiveState { topics, alarms })
}

fn owner_of(tags: &Tags) -> Owner {
    tags.get(OWNER_TAG)
        .map_or(Owner::Foreign, |s| Owner::Stack(StackName::new(s.clone())))
}

fn live_alarm(arn: Arn, body: LiveAlarmBody, tags: Tags) -> LiveAlarm {
    let owner = owner_of(&tags);
    let body = match body {
        LiveAlarmBody::Metric(mut alarm) => {
            alarm.tags = tags;
            LiveAlarmBody::Metric(alarm)
        }
        other @ LiveAlarmBody::Other(_) => other,
    };
    LiveAlarm { arn, owner, body }
}

/// Every alarm and topic tagged as owned by one of `stacks`, with all its tags.
async fn owned_resources(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
) -> Result<Vec<(Arn, Tags)>, AwsError> {
    let names: Vec<String> = stacks.iter().map(ToString::to_string).collect();
    let mut found = Vec::new();
    for values in names.chunks(TAG_VALUES_PER_FILTER) {
        let filter = aws_sdk_resourcegroupstagging::types::TagFilter::builder()
            .key(OWNER_TAG)
            .set_values(Some(values.to_vec()))
            .build();
        let mut token: Option<String> = None;
        loop {
            let page = clients
                .tagging
                .get_resources()
                .tag_filters(filter.clone())
                .resource_type_filters("cloudwatch:alarm")
                .resource_type_filters("sns")
                .resources_per_page(100)
                .set_pagination_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("GetResources", format!("resources tagged {OWNER_TAG}"), e)
                })?;
            for mapping in page.resource_tag_mapping_list() {
                let Some(arn) = mapping.resource_arn() else {
                    continue;
                };
                let tags: Tags = mapping
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                found.push((Arn::new(arn), tags));
            }
            token = page
                .pagination_token()
                .filter(|t| !t.is_empty())
                .map(ToString::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}

async fn describe_alarms(
    clients: &Clients,
    names: Vec<AlarmName>,
) -> Result<Vec<(AlarmName, Arn, LiveAlarmBody)>, AwsError> {
    let resource = match names.as_slice() {
        [one] => format!("alarm {one}"),
        _ => format!("{} alarms", names.len()),
    };
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(names.iter().map(ToString::to_string).collect()))
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .max_records(100)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeAlarms", resource.clone(), e))?;
        for alarm in page.metric_alarms() {
            let (Some(name), Some(arn)) = (alarm.alarm_name(), alarm.alarm_arn()) else {
                continue;
            };
            found.push((AlarmName::new(name), Arn::new(arn), normalize_alarm(alarm)));
        }
        for alarm in page.composite_alarms() {
            let (Some(name), Some(arn)) = (alarm.alarm_name(), alarm.alarm_arn()) else {
                continue;
            };
            found.push((
                AlarmName::new(name),
                Arn::new(arn),
                LiveAlarmBody::Other("composite alarm".into()),
            ));
        }
        token = page.next_token().map(ToString::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}

/// AWS's view of an alarm in the model's terms, with AWS's implicit defaults made
/// explicit so that an unchanged alarm compares equal to its spec.
fn normalize_alarm(alarm: &MetricAlarm) -> LiveAlarmBody {
    if !alarm.metrics().is_empty() {
        return LiveAlarmBody::Other("metric math alarm".into());
    }
    let Some(comparison) = alarm
        .comparison_operator()
        .and_then(|c| Comparison::from_aws(c.as_str()))
    else {
        return LiveAlarmBody::Other("anomaly detection alarm".into());
    };
    let stat = alarm
        .statistic()
        .map(|s| s.as_str().to_string())
        .or_else(|| alarm.extended_statistic().map(ToString::to_string))
        .unwrap_or_default();
    let evaluation_periods = alarm
        .evaluation_periods()
        .and_then(|e| u32::try_from(e).ok())
        .unwrap_or(1);
    let arns = |list: &[String]| {
        list.iter()
            .map(|a| Action::Arn(Arn::new(a.clone())))
            .collect::<Vec<_>>()
    };
    let mut actions = AlarmActions {
        alarm: arns(alarm.alarm_actions()),
        ok: arns(alarm.ok_actions()),
        insufficient_data: arns(alarm.insufficient_data_actions()),
    };
    actions.normalize();
    LiveAlarmBody::Metric(Alarm {
        name: AlarmName::new(alarm.alarm_name().unwrap_or_default()),
        description: alarm
            .alarm_description()
            .filter(|d| !d.is_empty())
            .map(ToString::to_string),
        metric: Metric {
            namespace: alarm.namespace().unwrap_or_default().to_string(),
            name: alarm.metric_name().unwrap_or_default().to_string(),
            dimensions: alarm
                .dimensions()
                .iter()
                .map(|d| {
                    (
                        d.name().unwrap_or_default().to_string(),
                        d.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            stat,
            period: alarm
                .period()
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(60),
            unit: alarm
                .unit()
                .map(|u| u.as_str().to_string())
                .filter(|u| u != "None"),
        },
        comparison,
        threshold: alarm.threshold().unwrap_or_default(),
        evaluation_periods,
        datapoints_to_alarm: alarm
            .datapoints_to_alarm()
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(evaluation_periods),
        treat_missing_data: alarm
            .treat_missing_data()
            .and_then(TreatMissingData::from_aws)
            .unwrap_or(TreatMissingData::Missing),
        actions_enabled: alarm.actions_enabled().unwrap_or(true),
        actions,
        tags: Tags::new(),
    })
}

async fn cloudwatch_tags(clients: &Clients, arn: &Arn) -> Result<Tags, AwsError> {
    let output = clients
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(arn.as_str())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListTagsForResource", arn.to_string(), e))?;
    Ok(output
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// One topic: `known` when the tag query found it (with its tags), otherwise probed by
/// ARN. Attributes and subscriptions are read only for topics a loaded stack owns.
async fn read_topic(
    clients: &Clients,
    scope: &Scope,
    name: &TopicName,
    known: Option<(Arn, Tags)>,
    stacks: &BTreeSet<StackName>,
) -> Result<Option<LiveTopic>, AwsError> {
    let (arn, tags, attributes) = if let Some((arn, tags)) = known {
        (arn, tags, None)
    } else {
        let arn = scope.topic_arn(name);
        let attributes = match topic_attributes(clients, &arn).await {
            Ok(attributes) => attributes,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error),
        };
        let tags = sns_tags(clients, &arn).await?;
        (arn, tags, Some(attributes))
    };
    let owner = owner_of(&tags);
    let ours = matches!(&owner, Owner::Stack(s) if stacks.contains(s));
    if !ours {
        return Ok(Some(LiveTopic {
            arn,
            owner,
            topic: None,
            subscriptions: Vec::new(),
        }));
    }
    let attributes = match attributes {
        Some(attributes) => attributes,
        None => topic_attributes(clients, &arn).await?,
    };
    let subscriptions = subscriptions(clients, &arn).await?;
    let topic = Topic {
        name: name.clone(),
        display_name: attributes
            .get("DisplayName")
            .filter(|d| !d.is_empty())
            .cloned(),
        tags,
    };
    Ok(Some(LiveTopic {
        arn,
        owner,
        topic: Some(topic),
        subscriptions,
    }))
}

async fn topic_attributes(
    clients: &Clients,
    arn: &Arn,
) -> Result<BTreeMap<String, String>, AwsError> {
    let output = clients
        .sns
        .get_topic_attributes()
        .topic_arn(arn.as_str())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetTopicAttributes", arn.to_string(), e))?;
    Ok(output
        .attributes()
        .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

async fn sns_tags(clients: &Clients, arn: &Arn) -> Result<Tags, AwsError> {
    let output = clients
        .sns
        .list_tags_for_resource()
        .resource_arn(arn.as_str())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListTagsForResource", arn.to_string(), e))?;
    Ok(output
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

async fn subscriptions(clients: &Clients, topic: &Arn) -> Result<Vec<LiveSubscription>, AwsError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(topic.as_str())
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListSubscriptionsByTopic", topic.to_string(), e))?;
        for s in page.subscriptions() {
            // Protocols the contract does not list (application, firehose) are left alone.
            let Some(protocol) = s.protocol().and_then(Protocol::parse) else {
                tracing::debug!(topic = %topic, protocol = ?s.protocol(), "ignoring subscription of an unmanaged protocol");
                continue;
            };
            let arn = match s.subscription_arn() {
                Some("PendingConfirmation") | None => None,
                Some("Deleted") => continue,
                Some(arn) => Some(Arn::new(arn)),
            };
            found.push(LiveSubscription {
                protocol,
                endpoint: s.endpoint().unwrap_or_default().to_string(),
                arn,
            });
        }
        token = page.next_token().map(ToString::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}
