//! Reading live state, batched: one tag query for everything the stacks own, alarms by
//! name 100 at a time, and per-topic reads only for the few topics in play.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatch::types::{AlarmType, Dimension, MetricAlarm, MetricStat, StandardUnit};
use futures_util::{stream, StreamExt, TryStreamExt};

use super::{AwsError, Clients};
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, AlarmName, Arn, BandSide, Comparison, CompositeAlarm,
    Condition, LiveAlarm, LiveAlarmBody, LiveState, LiveSubscription, LiveTopic, Metric, Owner,
    Protocol, ReadRequest, Scope, StackName, Tags, Topic, TopicName, TreatMissingData, OWNER_TAG,
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
    // Everything that does not depend on the tag query runs alongside it: the declared
    // alarms (the bulk of a plan's calls) and what stacks watch or own by name prefix.
    let declared: Vec<AlarmName> = request.alarms.iter().cloned().collect();
    let (owned, declared_found, queues, groups, policies, dashboards) = futures_util::try_join!(
        owned_resources(clients, &request.stacks),
        describe_all(clients, declared),
        super::read_more::queues(clients, &request.queues, &request.redrive),
        super::read_more::groups(clients, &request.groups),
        super::read_more::policies(clients, &request.stacks, !request.groups.is_empty()),
        super::read_more::dashboards(clients, &request.stacks),
    )?;
    let owned_alarms: BTreeMap<AlarmName, &Tags> = owned
        .iter()
        .filter_map(|(arn, tags)| Some((arn.alarm_name()?, tags)))
        .collect();
    let owned_topics: BTreeMap<TopicName, (&Arn, &Tags)> = owned
        .iter()
        .filter_map(|(arn, tags)| Some((arn.topic_name()?, (arn, tags))))
        .collect();
    let topic_names: BTreeSet<TopicName> = request
        .topics
        .iter()
        .cloned()
        .chain(owned_topics.keys().cloned())
        .collect();

    let alarms = async {
        // Owned alarms no stack declares any more: the ones a plan deletes.
        let undeclared: Vec<AlarmName> = owned_alarms
            .keys()
            .filter(|n| !request.alarms.contains(*n))
            .cloned()
            .collect();
        let mut found = declared_found;
        found.extend(describe_all(clients, undeclared).await?);
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
    let (policies, warnings) = policies;
    Ok(LiveState {
        topics,
        alarms,
        queues,
        groups,
        policies,
        dashboards,
        warnings,
    })
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
        LiveAlarmBody::Composite(mut alarm) => {
            alarm.tags = tags;
            LiveAlarmBody::Composite(alarm)
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

/// Every alarm of `names` that exists, 100 names a call, several calls at once.
async fn describe_all(
    clients: &Clients,
    names: Vec<AlarmName>,
) -> Result<Vec<(AlarmName, Arn, LiveAlarmBody)>, AwsError> {
    let chunks: Vec<Vec<AlarmName>> = names
        .chunks(ALARM_NAMES_PER_CALL)
        .map(<[AlarmName]>::to_vec)
        .collect();
    let pages: Vec<Vec<(AlarmName, Arn, LiveAlarmBody)>> = stream::iter(chunks)
        .map(|chunk| describe_alarms(clients, chunk))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(pages.into_iter().flatten().collect())
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
        clients.pacer.wait("DescribeAlarms").await;
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
                normalize_composite(alarm),
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
    let Some((metric, condition)) = alarm_source(alarm) else {
        return LiveAlarmBody::Other("an alarm of a shape monplan does not manage".into());
    };
    let evaluation_periods = alarm
        .evaluation_periods()
        .and_then(|e| u32::try_from(e).ok())
        .unwrap_or(1);
    LiveAlarmBody::Metric(Alarm {
        name: AlarmName::new(alarm.alarm_name().unwrap_or_default()),
        description: alarm
            .alarm_description()
            .filter(|d| !d.is_empty())
            .map(ToString::to_string),
        metric,
        condition,
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
        actions: actions(
            alarm.alarm_actions(),
            alarm.ok_actions(),
            alarm.insufficient_data_actions(),
        ),
        tags: Tags::new(),
    })
}

fn actions(alarm: &[String], ok: &[String], insufficient: &[String]) -> AlarmActions {
    let arns = |list: &[String]| {
        list.iter()
            .map(|a| Action::Arn(Arn::new(a.clone())))
            .collect::<Vec<_>>()
    };
    let mut actions = AlarmActions {
        alarm: arns(alarm),
        ok: arns(ok),
        insufficient_data: arns(insufficient),
    };
    actions.normalize();
    actions
}

fn model_metric(
    namespace: Option<&str>,
    name: Option<&str>,
    dimensions: &[Dimension],
    stat: String,
    period: Option<i32>,
    unit: Option<&StandardUnit>,
) -> Metric {
    Metric {
        namespace: namespace.unwrap_or_default().to_string(),
        name: name.unwrap_or_default().to_string(),
        dimensions: dimensions
            .iter()
            .map(|d| {
                (
                    d.name().unwrap_or_default().to_string(),
                    d.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        stat,
        period: period.and_then(|p| u32::try_from(p).ok()).unwrap_or(60),
        unit: unit.map(|u| u.as_str().to_string()).filter(|u| u != "None"),
    }
}

fn stat_metric(stat: &MetricStat) -> Option<Metric> {
    let metric = stat.metric()?;
    Some(model_metric(
        metric.namespace(),
        metric.metric_name(),
        metric.dimensions(),
        stat.stat()?.to_string(),
        stat.period(),
        stat.unit(),
    ))
}

/// What the alarm watches and when it fires: a single metric with a threshold, metric
/// math with a threshold, or a single metric against an anomaly band.
fn alarm_source(alarm: &MetricAlarm) -> Option<(AlarmMetric, Condition)> {
    let operator = alarm.comparison_operator()?.as_str();
    let queries = alarm.metrics();
    if queries.is_empty() {
        let stat = alarm
            .statistic()
            .map(|s| s.as_str().to_string())
            .or_else(|| alarm.extended_statistic().map(ToString::to_string))?;
        let metric = model_metric(
            alarm.namespace(),
            alarm.metric_name(),
            alarm.dimensions(),
            stat,
            alarm.period(),
            alarm.unit(),
        );
        let comparison = Comparison::from_aws(operator)?;
        return Some((
            AlarmMetric::Single(metric),
            Condition::Threshold {
                comparison,
                value: alarm.threshold().unwrap_or_default(),
            },
        ));
    }
    if let Some(band_id) = alarm.threshold_metric_id() {
        let side = BandSide::from_aws(operator)?;
        let band = queries.iter().find(|q| q.id() == Some(band_id))?;
        let deviations = band_width(band.expression()?)?;
        let watched = queries
            .iter()
            .find(|q| q.id() != Some(band_id) && q.metric_stat().is_some())?;
        let metric = stat_metric(watched.metric_stat()?)?;
        return Some((
            AlarmMetric::Single(metric),
            Condition::Band { side, deviations },
        ));
    }
    let comparison = Comparison::from_aws(operator)?;
    let mut expression = None;
    let mut metrics = BTreeMap::new();
    for query in queries {
        match (query.expression(), query.metric_stat()) {
            (Some(text), None) if query.return_data().unwrap_or(true) => {
                if expression.replace(text.to_string()).is_some() {
                    return None; // two expressions returning data: not a shape of ours
                }
            }
            (None, Some(stat)) => {
                metrics.insert(query.id()?.to_string(), stat_metric(stat)?);
            }
            _ => return None,
        }
    }
    let condition = Condition::Threshold {
        comparison,
        value: alarm.threshold().unwrap_or_default(),
    };
    Some((
        AlarmMetric::Math {
            expression: expression?,
            metrics,
        },
        condition,
    ))
}

/// The width of `ANOMALY_DETECTION_BAND(m1, 2)`; the default width is 2.
fn band_width(expression: &str) -> Option<f64> {
    let inner = expression
        .trim()
        .strip_prefix("ANOMALY_DETECTION_BAND(")?
        .strip_suffix(')')?;
    match inner.split_once(',') {
        Some((_, width)) => width.trim().parse().ok(),
        None => Some(2.0),
    }
}

fn normalize_composite(alarm: &aws_sdk_cloudwatch::types::CompositeAlarm) -> LiveAlarmBody {
    LiveAlarmBody::Composite(CompositeAlarm {
        name: AlarmName::new(alarm.alarm_name().unwrap_or_default()),
        description: alarm
            .alarm_description()
            .filter(|d| !d.is_empty())
            .map(ToString::to_string),
        rule: alarm.alarm_rule().unwrap_or_default().to_string(),
        actions_enabled: alarm.actions_enabled().unwrap_or(true),
        actions: actions(
            alarm.alarm_actions(),
            alarm.ok_actions(),
            alarm.insufficient_data_actions(),
        ),
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
