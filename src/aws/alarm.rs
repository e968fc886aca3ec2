//! `CloudWatch` alarms, metric and composite: read 100 names a call and normalized into
//! the model, with AWS's implicit defaults made explicit; written with `PutMetricAlarm`,
//! `PutCompositeAlarm` and `DeleteAlarms`.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, MetricAlarm, MetricDataQuery, MetricStat,
    StandardUnit, Statistic,
};
use futures_util::{stream, StreamExt, TryStreamExt};

use super::{AwsError, Clients, CONCURRENCY};
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, AlarmName, Arn, BandSide, Comparison, CompositeAlarm,
    Condition, LiveAlarmBody, Metric, Tags, TreatMissingData,
};

/// `DescribeAlarms` accepts at most 100 alarm names per call.
const ALARM_NAMES_PER_CALL: usize = 100;

/// The id of the anomaly-band expression in a band alarm's metric queries.
const BAND_ID: &str = "band";

/// The id of a Metrics Insights alarm's one query.
const INSIGHTS_ID: &str = "q";

/// The id of the watched metric in a band alarm.
const BAND_METRIC_ID: &str = "m1";

/// Every alarm of `names` that exists, 100 names a call, several calls at once.
pub(super) async fn describe_all(
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

pub(super) async fn describe_alarms(
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
pub(super) fn normalize_alarm(alarm: &MetricAlarm) -> LiveAlarmBody {
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

pub(super) fn actions(alarm: &[String], ok: &[String], insufficient: &[String]) -> AlarmActions {
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

pub(super) fn model_metric(
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

pub(super) fn stat_metric(stat: &MetricStat) -> Option<Metric> {
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
pub(super) fn alarm_source(alarm: &MetricAlarm) -> Option<(AlarmMetric, Condition)> {
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
    // One query, a Metrics Insights `SELECT`, with its own period: a multi-time-series
    // alarm (metric math expressions never start with SELECT).
    if let [query] = queries {
        let text = query.expression().unwrap_or_default();
        if query.metric_stat().is_none()
            && text
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("SELECT ")
        {
            let period = query.period().and_then(|p| u32::try_from(p).ok())?;
            return Some((
                AlarmMetric::Insights {
                    query: text.to_string(),
                    period,
                },
                Condition::Threshold {
                    comparison,
                    value: alarm.threshold().unwrap_or_default(),
                },
            ));
        }
    }
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
pub(super) fn band_width(expression: &str) -> Option<f64> {
    let inner = expression
        .trim()
        .strip_prefix("ANOMALY_DETECTION_BAND(")?
        .strip_suffix(')')?;
    match inner.split_once(',') {
        Some((_, width)) => width.trim().parse().ok(),
        None => Some(2.0),
    }
}

pub(super) fn normalize_composite(
    alarm: &aws_sdk_cloudwatch::types::CompositeAlarm,
) -> LiveAlarmBody {
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

pub(super) async fn cloudwatch_tags(clients: &Clients, arn: &Arn) -> Result<Tags, AwsError> {
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

/// ARNs for an action list. Every value is final by now: topic keys were resolved before
/// planning, and apply fills a new policy's ARN in from the operation that produced it.
fn action_arns(actions: &[Action], resource: &str) -> Result<Vec<String>, AwsError> {
    actions
        .iter()
        .map(|action| match action {
            Action::Arn(arn) => Ok(arn.to_string()),
            Action::Topic(_) | Action::Policy(_) | Action::ServicePolicy(_) | Action::Ec2(_) => {
                Err(AwsError::local(
                    "PutMetricAlarm",
                    resource.to_string(),
                    "UnresolvedAction",
                    format!("{action} has no ARN yet"),
                ))
            }
        })
        .collect()
}

struct ActionArns {
    alarm: Vec<String>,
    ok: Vec<String>,
    insufficient_data: Vec<String>,
}

fn all_action_arns(actions: &AlarmActions, resource: &str) -> Result<ActionArns, AwsError> {
    let AlarmActions {
        alarm,
        ok,
        insufficient_data,
    } = actions;
    Ok(ActionArns {
        alarm: action_arns(alarm, resource)?,
        ok: action_arns(ok, resource)?,
        insufficient_data: action_arns(insufficient_data, resource)?,
    })
}

pub(super) fn metric_stat(metric: &Metric) -> MetricStat {
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

pub(super) fn dimensions(metric: &Metric) -> Vec<Dimension> {
    metric
        .dimensions
        .iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect()
}

pub(super) async fn put_alarm(
    clients: &Clients,
    alarm: &Alarm,
    with_tags: bool,
) -> Result<(), AwsError> {
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
    let arns = all_action_arns(actions, &resource)?;
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
                    .id(AlarmMetric::EXPRESSION_ID)
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
        (AlarmMetric::Insights { query, period }, Condition::Threshold { comparison, value }) => {
            let query = MetricDataQuery::builder()
                .id(INSIGHTS_ID)
                .expression(query)
                .period(i32::try_from(*period).unwrap_or(i32::MAX))
                .return_data(true)
                .build();
            request
                .set_metrics(Some(vec![query]))
                .comparison_operator(ComparisonOperator::from(comparison.aws_operator()))
                .threshold(*value)
        }
        (AlarmMetric::Math { .. } | AlarmMetric::Insights { .. }, Condition::Band { .. }) => {
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

pub(super) async fn put_composite(
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
    let resource = format!("composite alarm {name}");
    let arns = all_action_arns(actions, &resource)?;
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
    request
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PutCompositeAlarm", resource, e))?;
    Ok(())
}

pub(super) fn cloudwatch_tag(key: &str, value: &str) -> aws_sdk_cloudwatch::types::Tag {
    aws_sdk_cloudwatch::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
}

/// Deletes the alarms. Whether AWS deletes the others of a batch that names one that no
/// longer exists has changed over the years (the API reference said none, now says the
/// others), so after a `ResourceNotFound` the batch is deleted one by one, where the
/// caller counts a gone one as deleted.
pub(super) async fn delete_alarms(clients: &Clients, names: &[AlarmName]) -> Result<(), AwsError> {
    match delete_alarms_call(clients, names).await {
        Err(error) if error.is_not_found() && names.len() > 1 => {
            for name in names {
                match delete_alarms_call(clients, std::slice::from_ref(name)).await {
                    Err(error) if error.is_not_found() => {}
                    result => result?,
                }
            }
            Ok(())
        }
        result => result,
    }
}

async fn delete_alarms_call(clients: &Clients, names: &[AlarmName]) -> Result<(), AwsError> {
    let list: Vec<String> = names.iter().map(ToString::to_string).collect();
    let resource = format!("alarm {}", list.join(", "));
    clients
        .cloudwatch
        .delete_alarms()
        .set_alarm_names(Some(list))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DeleteAlarms", resource, e))?;
    Ok(())
}
