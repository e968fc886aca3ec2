//! What a plan costs a month, from AWS's public list prices.
//!
//! Pure: each resource's monthly price comes from its model and a price table; a change's
//! delta is the price of what it makes minus the price of what it replaces; the plan's
//! line says what the stacks' resources cost now and after apply. Free-tier allowances
//! are stated with the figures, never subtracted: they are per account, and other
//! resources of the account use them too.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Alarm, AlarmMetric, CompositeAlarm, Condition, MetricFilter, ResourceKind};

/// List prices in USD per month, with their source and the day they were read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PriceTable {
    pub region: &'static str,
    /// Standard resolution (period of a minute or more), per metric an alarm evaluates.
    pub alarm_metric: f64,
    /// High resolution (period under a minute), per metric.
    pub high_resolution_alarm_metric: f64,
    pub composite_alarm: f64,
    pub dashboard: f64,
    /// Per custom metric, first 10,000 (a metric filter publishes one per combination of
    /// dimension values).
    pub custom_metric: f64,
    /// An anomaly-detection alarm evaluates the metric and the band's two bounds.
    pub anomaly_band_metrics: u32,
    pub source: &'static str,
    pub date: &'static str,
}

/// Source: <https://aws.amazon.com/cloudwatch/pricing/> (Alarms, Dashboards, Metrics
/// tabs), read on 2026-12-02: standard alarm $0.10 per alarm metric, high resolution
/// $0.30, composite $0.50, dashboard $3.00 beyond the free 3, custom metrics $0.30 for
/// the first 10,000, anomaly detection 3 alarm metrics. SNS topics and subscriptions, and
/// saved Logs Insights queries, have no monthly price (SNS bills per message delivered;
/// queries bill per GB scanned when they run).
pub const US_EAST_1: PriceTable = PriceTable {
    region: "us-east-1",
    alarm_metric: 0.10,
    high_resolution_alarm_metric: 0.30,
    composite_alarm: 0.50,
    dashboard: 3.00,
    custom_metric: 0.30,
    anomaly_band_metrics: 3,
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    date: "2026-12-02",
};

/// The free tier, per account and month, as stated beside the figures.
pub const FREE_TIER: &str =
    "at list prices; the free tier of 10 alarm metrics, 10 custom metrics and 3 dashboards per account is not subtracted";

/// The table for `region`, and a note when it is another region's.
pub fn prices(region: &str) -> (PriceTable, Option<String>) {
    if region == US_EAST_1.region {
        (US_EAST_1, None)
    } else {
        (
            US_EAST_1,
            Some(format!(
                "no price table for {region}: us-east-1 list prices shown (most regions charge the same or a little more)"
            )),
        )
    }
}

/// What a resource monplan manages costs a month.
#[derive(Clone, Copy, Debug)]
pub enum Priced<'a> {
    Alarm(&'a Alarm),
    Composite(&'a CompositeAlarm),
    Dashboard,
    MetricFilter(&'a MetricFilter),
    /// Topics, subscriptions, scaling policies, saved queries.
    Free,
}

impl PriceTable {
    pub fn monthly(&self, resource: Priced<'_>) -> f64 {
        match resource {
            Priced::Alarm(alarm) => {
                let (metrics, periods) = match &alarm.metric {
                    AlarmMetric::Single(metric) => {
                        let count = match alarm.condition {
                            Condition::Band { .. } => self.anomaly_band_metrics,
                            Condition::Threshold { .. } => 1,
                        };
                        (count, vec![metric.period])
                    }
                    AlarmMetric::Math { metrics, .. } => (
                        u32::try_from(metrics.len()).unwrap_or(u32::MAX),
                        metrics.values().map(|m| m.period).collect(),
                    ),
                    // A Metrics Insights alarm is billed per metric it analyzes, which
                    // is the number of workers at the time: one is the floor.
                    AlarmMetric::Insights { period, .. } => (1, vec![*period]),
                };
                let high_resolution = periods.iter().any(|p| *p < 60);
                let each = if high_resolution {
                    self.high_resolution_alarm_metric
                } else {
                    self.alarm_metric
                };
                f64::from(metrics) * each
            }
            Priced::Composite(_) => self.composite_alarm,
            Priced::Dashboard => self.dashboard,
            // One combination of dimension values is counted; each further one adds the
            // same (the note of a plan says so for filters with dimensions).
            Priced::MetricFilter(_) => self.custom_metric,
            Priced::Free => 0.0,
        }
    }
}

/// A plan's monthly figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanCost {
    /// What the stacks' resources cost now, at list prices.
    pub now: f64,
    /// Per change (stack, resource as displayed) -> the monthly delta.
    pub deltas: BTreeMap<(String, String), f64>,
    /// What the prices assume, for the reader.
    pub notes: Vec<String>,
    /// Priced kinds `now` (and so `after`) leaves out: `--exclude`/`--target` kept them
    /// out of the read, so what the stacks own of them is unknown.
    pub uncovered: BTreeSet<ResourceKind>,
}

impl PlanCost {
    /// What `now` leaves out, for the reader: `None` when it covers every priced kind.
    pub fn uncovered_note(&self) -> Option<String> {
        if self.uncovered.is_empty() {
            return None;
        }
        let kinds: Vec<String> = self.uncovered.iter().map(|k| format!("{k}s")).collect();
        Some(format!(
            "now and after leave out {}: --exclude/--target kept them out of the read",
            kinds.join(" and ")
        ))
    }

    /// After apply: now plus every change's delta.
    pub fn after(&self) -> f64 {
        self.now + self.deltas.values().sum::<f64>()
    }

    pub fn delta(&self, stack: &str, resource: &str) -> Option<f64> {
        self.deltas
            .get(&(stack.to_string(), resource.to_string()))
            .copied()
    }
}

/// `$12.40`, `+$1.70`, `-$0.10`.
pub fn dollars(amount: f64, signed: bool) -> String {
    // Cents are the resolution of a bill; -0.00 reads as 0.00.
    let rounded = (amount * 100.0).round() / 100.0;
    let sign = match (signed, rounded) {
        (true, r) if r > 0.0 => "+",
        (_, r) if r < 0.0 => "-",
        _ => "",
    };
    format!("{sign}${:.2}", rounded.abs())
}

/// The monthly figures of one resolved stack: what its owned live resources cost, and
/// each change's delta (the price of what it makes minus the price of what it replaces).
pub fn of_stack(
    stack: &crate::resolve::ResolvedStack<'_>,
    changes: &[super::Change],
    cost: &mut PlanCost,
) {
    use crate::model::{LiveAlarmBody, ResourceId};
    let (table, note) = prices(&stack.scope.region);
    if let Some(note) = note {
        if !cost.notes.contains(&note) {
            cost.notes.push(note);
        }
    }
    let name = stack.name();
    let live = stack.live;
    // Alarms are read whatever the selection; dashboards and filters are not, and
    // counting them as $0 would understate the bill.
    for kind in [ResourceKind::Dashboard, ResourceKind::MetricFilter] {
        if live.unread.contains(&kind) {
            cost.uncovered.insert(kind);
        }
    }
    let owns = |owner: &crate::model::Owner| *owner == crate::model::Owner::Stack(name.clone());
    let prefix = format!("{name}_");
    let live_price = |id: &ResourceId| -> f64 {
        match id {
            ResourceId::Alarm(n) | ResourceId::CompositeAlarm(n) => {
                match live.alarms.get(n).map(|a| &a.body) {
                    Some(LiveAlarmBody::Metric(alarm)) => table.monthly(Priced::Alarm(alarm)),
                    Some(LiveAlarmBody::Composite(alarm)) => {
                        table.monthly(Priced::Composite(alarm))
                    }
                    Some(LiveAlarmBody::Other(_)) => table.alarm_metric,
                    None => 0.0,
                }
            }
            ResourceId::Dashboard(n) if live.dashboards.contains_key(n) => {
                table.monthly(Priced::Dashboard)
            }
            ResourceId::MetricFilter(f) => live
                .metric_filters
                .get(f)
                .map_or(0.0, |filter| table.monthly(Priced::MetricFilter(filter))),
            _ => 0.0,
        }
    };
    let desired_price = |id: &ResourceId| -> f64 {
        match id {
            ResourceId::Alarm(n) => stack
                .alarms
                .get(n)
                .map_or(0.0, |a| table.monthly(Priced::Alarm(&a.value))),
            ResourceId::CompositeAlarm(n) => stack
                .composites
                .get(n)
                .map_or(0.0, |a| table.monthly(Priced::Composite(&a.value))),
            ResourceId::Dashboard(n) if stack.dashboards.contains_key(n) => {
                table.monthly(Priced::Dashboard)
            }
            ResourceId::MetricFilter(f) => stack.metric_filters.get(f).map_or(0.0, |filter| {
                table.monthly(Priced::MetricFilter(&filter.value))
            }),
            _ => 0.0,
        }
    };
    let alarms: f64 = live
        .alarms
        .iter()
        .filter(|(_, a)| owns(&a.owner))
        .map(|(n, a)| {
            let id = match a.body {
                LiveAlarmBody::Composite(_) => ResourceId::CompositeAlarm(n.clone()),
                _ => ResourceId::Alarm(n.clone()),
            };
            live_price(&id)
        })
        .sum();
    let dashboards = live
        .dashboards
        .keys()
        .filter(|n| n.starts_with(&prefix))
        .count();
    let filters: f64 = live
        .metric_filters
        .iter()
        .filter(|(f, _)| f.name.starts_with(&prefix))
        .map(|(_, filter)| table.monthly(Priced::MetricFilter(filter)))
        .sum();
    #[allow(clippy::cast_precision_loss)] // a few dashboards
    let dashboards = dashboards as f64 * table.dashboard;
    cost.now += alarms + dashboards + filters;
    let mut dimensioned = false;
    for change in changes.iter().filter(|c| c.stack == *name) {
        let before = if change.action == super::ChangeAction::Create {
            0.0
        } else {
            live_price(&change.resource)
        };
        let after = if change.action == super::ChangeAction::Delete {
            0.0
        } else {
            desired_price(&change.resource)
        };
        if let ResourceId::MetricFilter(f) = &change.resource {
            dimensioned |= stack
                .metric_filters
                .get(f)
                .is_some_and(|filter| !filter.value.dimensions.is_empty());
        }
        cost.deltas.insert(
            (change.stack.to_string(), change.resource.to_string()),
            after - before,
        );
    }
    if dimensioned {
        let note = format!(
            "a metric filter with dimensions publishes one metric per combination of values: {} each beyond the one counted",
            dollars(table.custom_metric, false)
        );
        if !cost.notes.contains(&note) {
            cost.notes.push(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AlarmActions, AlarmName, BandSide, Comparison, Metric, Tags, TreatMissingData,
    };

    fn alarm(metric: AlarmMetric, condition: Condition) -> Alarm {
        Alarm {
            name: AlarmName::new("a"),
            description: None,
            metric,
            condition,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing_data: TreatMissingData::Missing,
            actions_enabled: true,
            actions: AlarmActions::default(),
            tags: Tags::new(),
        }
    }

    fn threshold() -> Condition {
        Condition::Threshold {
            comparison: Comparison::Above,
            value: 1.0,
        }
    }

    #[test]
    fn alarms_cost_per_metric_at_their_resolution() {
        let p = US_EAST_1;
        let single = alarm(
            AlarmMetric::Single(Metric::sqs("M", "q", "Sum", 60)),
            threshold(),
        );
        assert!((p.monthly(Priced::Alarm(&single)) - 0.10).abs() < 1e-9);
        let fast = alarm(
            AlarmMetric::Single(Metric::sqs("M", "q", "Sum", 10)),
            threshold(),
        );
        assert!((p.monthly(Priced::Alarm(&fast)) - 0.30).abs() < 1e-9);
        let band = alarm(
            AlarmMetric::Single(Metric::sqs("M", "q", "Sum", 300)),
            Condition::Band {
                side: BandSide::Outside,
                deviations: 2.0,
            },
        );
        assert!(
            (p.monthly(Priced::Alarm(&band)) - 0.30).abs() < 1e-9,
            "3 alarm metrics"
        );
        let math = alarm(
            AlarmMetric::Math {
                expression: "a / b".into(),
                metrics: BTreeMap::from([
                    ("a".to_string(), Metric::sqs("A", "q", "Sum", 60)),
                    ("b".to_string(), Metric::sqs("B", "q", "Sum", 60)),
                ]),
            },
            threshold(),
        );
        assert!(
            (p.monthly(Priced::Alarm(&math)) - 0.20).abs() < 1e-9,
            "2 metrics"
        );
        assert!((p.monthly(Priced::Dashboard) - 3.0).abs() < 1e-9);
        assert!(p.monthly(Priced::Free).abs() < 1e-9);
    }

    #[test]
    fn amounts_read_as_a_bill() {
        assert_eq!(dollars(12.4, false), "$12.40");
        assert_eq!(dollars(1.7, true), "+$1.70");
        assert_eq!(dollars(-0.1, true), "-$0.10");
        assert_eq!(dollars(-0.0001, true), "$0.00");
        assert_eq!(dollars(0.0, true), "$0.00");
    }

    #[test]
    fn other_regions_fall_back_with_a_note() {
        assert!(prices("us-east-1").1.is_none());
        let (table, note) = prices("eu-west-1");
        assert_eq!(table.region, "us-east-1");
        assert!(note.unwrap().contains("eu-west-1"));
    }
}
