//! Reading live state, batched: one tag query for everything the stacks own, alarms by
//! name 100 at a time, and per-topic reads only for the few topics in play. Each kind's
//! calls live in its own file; this one runs them together.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{stream, StreamExt, TryStreamExt};

use super::{
    alarm, dashboard, ecs_scaling, log_metric, metrics, policy, query, queue, tagging, topic,
    AwsError, Clients, CONCURRENCY,
};
use crate::model::{
    AlarmName, Arn, LiveAlarm, LiveAlarmBody, LiveState, Owner, ReadRequest, ResourceKind, Scope,
    StackName, Tags, TopicName, OWNER_TAG,
};

/// Reads what `request` names or its stacks own, in `scope`'s region.
pub async fn read_live(
    clients: &Clients,
    scope: &Scope,
    request: &ReadRequest,
) -> Result<LiveState, AwsError> {
    // Everything that does not depend on the tag query runs alongside it: the declared
    // alarms (the bulk of a plan's calls) and what stacks watch or own by name prefix.
    let declared: Vec<AlarmName> = request.alarms.iter().cloned().collect();
    // The stacks whose resources of `kind` to list: none when `--exclude` leaves it out.
    let nothing = BTreeSet::new();
    let read = |kind: ResourceKind| {
        if request.skip.contains(&kind) {
            &nothing
        } else {
            &request.stacks
        }
    };
    let (
        owned,
        declared_found,
        queues,
        groups,
        policies,
        ecs_services,
        service_scaling,
        dashboards,
        log_groups,
        filters,
        queries,
        watched,
    ) = futures_util::try_join!(
        tagging::owned_resources(clients, &request.stacks),
        alarm::describe_all(clients, declared),
        queue::queues(clients, &request.queues, &request.redrive),
        policy::groups(clients, &request.groups),
        policy::policies(clients, &request.stacks, !request.groups.is_empty()),
        ecs_services(clients, request),
        ecs_scaling::scaling(clients, &request.stacks, &request.services),
        dashboard::dashboards(clients, read(ResourceKind::Dashboard)),
        log_metric::log_groups(clients, &request.log_groups),
        log_metric::owned_filters(
            clients,
            read(ResourceKind::MetricFilter),
            !request.log_groups.is_empty()
        ),
        query::owned_queries(clients, read(ResourceKind::Query), request.queries),
        async { Ok(metrics::metrics(clients, &request.metrics).await) },
    )?;
    let (metrics, metric_warnings) = watched;
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
        found.extend(alarm::describe_all(clients, undeclared).await?);
        stream::iter(found)
            .map(|(name, arn, body)| {
                let tags = owned_alarms.get(&name).map(|t| (*t).clone());
                async move {
                    let tags = match tags {
                        Some(tags) => tags,
                        // Declared, exists, but not in the tag index: it may be foreign, or
                        // ours and not yet indexed (the tagging API is eventually
                        // consistent). Ask the alarm itself; this is rare, so one call each.
                        None => alarm::cloudwatch_tags(clients, &arn).await?,
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
                    let adopt = request.adopt_topics.contains(&name);
                    let topic =
                        topic::read_topic(clients, scope, &name, known, &request.stacks, adopt)
                            .await?;
                    Ok::<_, AwsError>(topic.map(|t| (name, t)))
                }
            })
            .buffered(CONCURRENCY)
            .try_filter_map(|entry| async move { Ok(entry) })
            .try_collect::<BTreeMap<_, _>>()
            .await
    };

    // Topics alarms notify by ARN, here, that no loaded stack declares or owns: their
    // policies decide whether CloudWatch may publish (a foreign region or account is a
    // warning of its own, and its topic is not ours to read).
    let foreign: Vec<Arn> = request
        .foreign_topics
        .iter()
        .filter(|arn| {
            let parts: Vec<&str> = arn.as_str().split(':').collect();
            parts.get(3) == Some(&scope.region.as_str())
                && parts.get(4) == Some(&scope.account.as_str())
                && arn
                    .topic_name()
                    .is_some_and(|n| !request.topics.contains(&n) && !owned_topics.contains_key(&n))
        })
        .cloned()
        .collect();
    let foreign_topics = async { Ok(topic::foreign_policies(clients, foreign).await) };

    // The kinds listed by `read` above: skipping one leaves what the stacks own of it
    // unknown. Alarms and topics are read whatever the selection (references need them).
    let unread = [
        ResourceKind::Dashboard,
        ResourceKind::MetricFilter,
        ResourceKind::Query,
    ]
    .into_iter()
    .filter(|kind| request.skip.contains(kind))
    .collect();

    let (alarms, topics, foreign_topics) = futures_util::try_join!(alarms, topics, foreign_topics)?;
    let (policies, mut warnings) = policies;
    let (clusters, services, task_definitions) = ecs_services;
    let ((scalable_targets, service_policies), scaling_warnings) = service_scaling;
    warnings.extend(scaling_warnings);
    let (metric_filters, filter_warnings) = filters;
    warnings.extend(filter_warnings);
    let (queries, query_warnings) = queries;
    warnings.extend(query_warnings);
    warnings.extend(metric_warnings);
    let (queues, queue_delivery) = queues;
    Ok(LiveState {
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
    })
}

/// The ECS clusters and services the stacks scale or run fleets on, and the task
/// definitions of the services `request.task_definitions` names, one
/// `DescribeTaskDefinition` per distinct task definition.
async fn ecs_services(
    clients: &Clients,
    request: &ReadRequest,
) -> Result<ecs_scaling::Services, AwsError> {
    let wanted: BTreeSet<_> = request
        .services
        .union(&request.fleet_services)
        .cloned()
        .collect();
    let (clusters, services, running) = ecs_scaling::services(clients, &wanted).await?;
    let of: BTreeMap<_, _> = running
        .into_iter()
        .filter(|(service, _)| request.task_definitions.contains(service))
        .collect();
    let task_definitions = ecs_scaling::task_definitions(clients, &of).await?;
    Ok((clusters, services, task_definitions))
}

pub(super) fn owner_of(tags: &Tags) -> Owner {
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
