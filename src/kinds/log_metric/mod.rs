//! `CloudWatch` Logs metric filters (`log_metrics`), owned by their `{stack}_` name prefix
//! (filters cannot be tagged), on log groups the stack reads but never manages.

pub mod model;

use super::{changed, created, deleted, quote, Cx, Fields};
use crate::model::{FilterRef, MetricFilter, ResourceId};
use crate::plan::{ChangeAction, Op};

pub fn fields(filter: &MetricFilter) -> Fields {
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
    let mut fields: Fields = vec![
        ("log_group".into(), reference.log_group.clone()),
        ("pattern".into(), quote(pattern)),
        ("metric.namespace".into(), namespace.clone()),
        ("metric.name".into(), metric.clone()),
    ];
    if let Some(unit) = unit {
        fields.push(("metric.unit".into(), unit.clone()));
    }
    fields.push(("value".into(), value.clone()));
    if let Some(default) = default_value {
        fields.push(("default_value".into(), default.to_string()));
    }
    for (name, selector) in dimensions {
        fields.push((format!("dimensions.{name}"), selector.clone()));
    }
    fields
}

/// Whether putting `desired` would change `live`.
fn same(desired: &MetricFilter, live: &MetricFilter) -> bool {
    let MetricFilter {
        filter,
        pattern,
        namespace,
        metric,
        value,
        default_value,
        unit,
        dimensions,
    } = desired;
    *filter == live.filter
        && *pattern == live.pattern
        && *namespace == live.namespace
        && *metric == live.metric
        && *value == live.value
        && *default_value == live.default_value
        && *unit == live.unit
        && *dimensions == live.dimensions
}

pub fn plan(cx: &mut Cx<'_, '_>) {
    let stack = cx.stack;
    let live = stack.live;
    for (reference, declared) in &stack.metric_filters {
        let filter = &declared.value;
        let id = ResourceId::MetricFilter(reference.clone());
        let put = vec![Op::PutMetricFilter(filter.clone())];
        match live.metric_filters.get(reference) {
            None => {
                cx.change(
                    id,
                    ChangeAction::Create,
                    created(fields(filter)),
                    Vec::new(),
                    put,
                );
            }
            Some(current) if !same(filter, current) => {
                let diff = changed(&fields(current), &fields(filter));
                cx.change(id, ChangeAction::Update, diff, Vec::new(), put);
            }
            Some(_) => {}
        }
    }
    let prefix = cx.prefix();
    for (reference, filter) in &live.metric_filters {
        if reference.name.starts_with(&prefix) && !stack.desired.log_metrics.contains_key(reference)
        {
            cx.change(
                ResourceId::MetricFilter(reference.clone()),
                ChangeAction::Delete,
                deleted(fields(filter)),
                Vec::new(),
                vec![Op::DeleteMetricFilter(reference.clone())],
            );
        }
    }
}

/// The filter that publishes `namespace`/`name` among `filters`, if any: what an alarm
/// on a log metric refers to.
pub fn publishing<'a>(
    filters: impl IntoIterator<Item = &'a MetricFilter>,
    namespace: &str,
    name: &str,
) -> Option<&'a FilterRef> {
    filters
        .into_iter()
        .find(|f| f.namespace == namespace && f.metric == name)
        .map(|f| &f.filter)
}
