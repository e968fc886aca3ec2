//! `ListMetrics`: which metrics the stacks' alarms watch exist, and under which
//! dimensions, for the plan's check that an alarm can fire at all.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{stream, StreamExt, TryStreamExt};

use super::{AwsError, Clients, CONCURRENCY};
use crate::model::MetricDimensions;

/// A namespace with more metric names than this is listed whole (500 metrics a page)
/// rather than name by name, so that a stack of a thousand custom metrics costs a few
/// pages, not a thousand calls.
const NAMES_PER_NAMESPACE: usize = 10;

type Key = (String, String);

/// Every wanted metric, with the dimension sets it exists under (empty: it does not).
/// A failure is a warning: the check is advice, and never plans anything.
pub(super) async fn metrics(
    clients: &Clients,
    wanted: &BTreeSet<Key>,
) -> (BTreeMap<Key, MetricDimensions>, Vec<String>) {
    match list(clients, wanted).await {
        Ok(found) => (found, Vec::new()),
        Err(error) => (
            BTreeMap::new(),
            vec![format!(
                "cannot check that the alarms' metrics exist ({error})"
            )],
        ),
    }
}

async fn list(
    clients: &Clients,
    wanted: &BTreeSet<Key>,
) -> Result<BTreeMap<Key, MetricDimensions>, AwsError> {
    let mut by_namespace: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (namespace, name) in wanted {
        by_namespace.entry(namespace).or_default().push(name);
    }
    // One listing per namespace, or per name in a namespace with few.
    let queries: Vec<(String, Option<String>)> = by_namespace
        .into_iter()
        .flat_map(|(namespace, names)| {
            if names.len() > NAMES_PER_NAMESPACE {
                vec![(namespace.to_string(), None)]
            } else {
                names
                    .into_iter()
                    .map(|n| (namespace.to_string(), Some(n.to_string())))
                    .collect()
            }
        })
        .collect();
    let pages: Vec<Vec<(Key, BTreeMap<String, String>)>> = stream::iter(queries)
        .map(|(namespace, name)| async move {
            let mut found = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = clients
                    .cloudwatch
                    .list_metrics()
                    .namespace(&namespace)
                    .set_metric_name(name.clone())
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk(
                            "ListMetrics",
                            format!("metrics {namespace} {}", name.as_deref().unwrap_or("*")),
                            e,
                        )
                    })?;
                for metric in page.metrics() {
                    let key = (
                        metric.namespace().unwrap_or_default().to_string(),
                        metric.metric_name().unwrap_or_default().to_string(),
                    );
                    let dimensions = metric
                        .dimensions()
                        .iter()
                        .map(|d| {
                            (
                                d.name().unwrap_or_default().to_string(),
                                d.value().unwrap_or_default().to_string(),
                            )
                        })
                        .collect();
                    found.push((key, dimensions));
                }
                token = super::next_page(page.next_token());
                if token.is_none() {
                    break;
                }
            }
            Ok::<_, AwsError>(found)
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    // Every wanted metric has an entry: an empty one says it was looked for and is absent.
    let mut out: BTreeMap<Key, MetricDimensions> =
        wanted.iter().map(|k| (k.clone(), Vec::new())).collect();
    for (key, dimensions) in pages.into_iter().flatten() {
        if let Some(sets) = out.get_mut(&key) {
            sets.push(dimensions);
        }
    }
    Ok(out)
}
