//! `CloudWatch` Logs: which of the declared log groups exist, the metric filters named with
//! a stack's prefix (on any group, so that a filter whose `log_metrics` entry left the
//! YAML is still found), and putting and deleting filters.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatchlogs::types::{MetricTransformation, StandardUnit};

use super::{AwsError, Clients};
use crate::model::{FilterRef, MetricFilter, StackName};

/// `DescribeLogGroups` and `DescribeMetricFilters` return at most 50 a page.
const PAGE: i32 = 50;

/// The longest prefix all names share: one paginated listing narrowed by it finds every
/// declared group in as few pages as the account allows.
fn common_prefix(names: &BTreeSet<String>) -> String {
    let mut iter = names.iter();
    let Some(first) = iter.next() else {
        return String::new();
    };
    let mut prefix = first.as_str();
    for name in iter {
        let shared = prefix
            .char_indices()
            .zip(name.chars())
            .find(|((_, a), b)| a != b)
            .map_or(prefix.len().min(name.len()), |((i, _), _)| i);
        prefix = &prefix[..shared];
    }
    prefix.to_string()
}

/// Which of `names` exist: `DescribeLogGroups` pages, narrowed by the names' common prefix.
pub(super) async fn log_groups(
    clients: &Clients,
    names: &BTreeSet<String>,
) -> Result<BTreeSet<String>, AwsError> {
    if names.is_empty() {
        return Ok(BTreeSet::new());
    }
    let prefix = common_prefix(names);
    let mut found = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .logs
            .describe_log_groups()
            .set_log_group_name_prefix((!prefix.is_empty()).then(|| prefix.clone()))
            .limit(PAGE)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("DescribeLogGroups", format!("log groups {prefix}*"), e)
            })?;
        found.extend(
            page.log_groups()
                .iter()
                .filter_map(|g| g.log_group_name())
                .filter(|n| names.contains(*n))
                .map(ToString::to_string),
        );
        token = super::next_page(page.next_token());
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}

/// The stacks' metric filters. When no stack reads a log group, a failure to list (no
/// `CloudWatch` Logs permission, or an endpoint without the API) is a warning, not an
/// error: a team that has no log metrics need not grant Logs access.
pub(super) async fn owned_filters(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
    required: bool,
) -> Result<(BTreeMap<FilterRef, MetricFilter>, Vec<String>), AwsError> {
    match metric_filters(clients, stacks).await {
        Ok(found) => Ok((found, Vec::new())),
        Err(error) if !required => Ok((
            BTreeMap::new(),
            vec![format!("cannot list metric filters ({error}); filters of a removed `log_metrics` entry would not be deleted")],
        )),
        Err(error) => Err(error),
    }
}

/// Every metric filter in the region named with a loaded stack's prefix.
async fn metric_filters(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
) -> Result<BTreeMap<FilterRef, MetricFilter>, AwsError> {
    if stacks.is_empty() {
        return Ok(BTreeMap::new());
    }
    let prefixes: Vec<String> = stacks.iter().map(|s| format!("{s}_")).collect();
    let mut found = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .logs
            .describe_metric_filters()
            .limit(PAGE)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeMetricFilters", "metric filters", e))?;
        for filter in page.metric_filters() {
            let (Some(name), Some(group)) = (filter.filter_name(), filter.log_group_name()) else {
                continue;
            };
            if !prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                continue;
            }
            let reference = FilterRef {
                log_group: group.to_string(),
                name: name.to_string(),
            };
            if let Some(model) = normalize(&reference, filter) {
                found.insert(reference, model);
            }
        }
        token = super::next_page(page.next_token());
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}

/// A filter in the model's terms. A filter of ours has exactly one transformation; one
/// with another shape is read as its first, and the plan puts ours over it.
fn normalize(
    reference: &FilterRef,
    filter: &aws_sdk_cloudwatchlogs::types::MetricFilter,
) -> Option<MetricFilter> {
    let transformation = filter.metric_transformations().first()?;
    Some(MetricFilter {
        filter: reference.clone(),
        pattern: filter.filter_pattern().unwrap_or_default().to_string(),
        namespace: transformation.metric_namespace().to_string(),
        metric: transformation.metric_name().to_string(),
        value: transformation.metric_value().to_string(),
        default_value: transformation.default_value(),
        unit: transformation
            .unit()
            .map(|u| u.as_str().to_string())
            .filter(|u| u != "None"),
        dimensions: transformation
            .dimensions()
            .map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    })
}

/// `TestMetricFilter` takes at most 50 events a call.
const EVENTS_PER_TEST: usize = 50;

/// AWS's own matcher: for each line, whether `pattern` matches it.
pub(super) async fn test_metric_filter(
    clients: &Clients,
    pattern: &str,
    lines: &[String],
) -> Result<Vec<bool>, AwsError> {
    let mut matched = vec![false; lines.len()];
    for (chunk_index, chunk) in lines.chunks(EVENTS_PER_TEST).enumerate() {
        let output = clients
            .logs
            .test_metric_filter()
            .filter_pattern(pattern)
            .set_log_event_messages(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("TestMetricFilter", format!("pattern {pattern:?}"), e)
            })?;
        for found in output.matches() {
            // Event numbers count from 1 within the call.
            let number = usize::try_from(found.event_number()).unwrap_or(0);
            if let Some(slot) = number
                .checked_sub(1)
                .and_then(|i| matched.get_mut(chunk_index * EVENTS_PER_TEST + i))
            {
                *slot = true;
            }
        }
    }
    Ok(matched)
}

pub(super) async fn put_metric_filter(
    clients: &Clients,
    filter: &MetricFilter,
) -> Result<(), AwsError> {
    // Destructured so that a new model field is a compile error until it is sent.
    let MetricFilter {
        filter: reference,
        pattern,
        namespace,
        metric,
        value,
        default_value,
        unit,
        dimensions,
    } = filter;
    let resource = format!("metric filter {reference}");
    let transformation = MetricTransformation::builder()
        .metric_namespace(namespace)
        .metric_name(metric)
        .metric_value(value)
        .set_default_value(*default_value)
        .set_unit(unit.as_deref().map(StandardUnit::from))
        .set_dimensions((!dimensions.is_empty()).then(|| {
            dimensions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }))
        .build()
        .map_err(|e| {
            AwsError::local(
                "PutMetricFilter",
                resource.clone(),
                "InvalidFilter",
                e.to_string(),
            )
        })?;
    clients
        .logs
        .put_metric_filter()
        .log_group_name(&reference.log_group)
        .filter_name(&reference.name)
        .filter_pattern(pattern)
        .metric_transformations(transformation)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PutMetricFilter", resource, e))?;
    Ok(())
}

pub(super) async fn delete_metric_filter(
    clients: &Clients,
    reference: &FilterRef,
) -> Result<(), AwsError> {
    clients
        .logs
        .delete_metric_filter()
        .log_group_name(&reference.log_group)
        .filter_name(&reference.name)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "DeleteMetricFilter",
                format!("metric filter {reference}"),
                e,
            )
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_prefix_narrows_the_listing() {
        let names = |list: &[&str]| list.iter().map(ToString::to_string).collect();
        assert_eq!(
            common_prefix(&names(&["/aws/ec2/transcription", "/aws/ec2/trainer"])),
            "/aws/ec2/tra"
        );
        assert_eq!(common_prefix(&names(&["/a/x"])), "/a/x");
        assert_eq!(common_prefix(&names(&["/a", "b"])), "");
        assert_eq!(common_prefix(&names(&["/é/a", "/é/b"])), "/é/");
    }
}
