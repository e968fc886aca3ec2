//! Which statistics mean something for a metric: a table of the AWS metrics monplan's
//! stacks watch, and a rule for the log metrics a stack's own filters publish.
//!
//! Sources (AWS lists every statistic as "valid" for most of these, so the table says
//! what is *meaningful*, from what each page says the metric measures; the SQS and Auto
//! Scaling pages were read for this table, the EC2 and ECS addresses are AWS's usual ones
//! and worth re-checking):
//! - SQS: <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html>
//!   (the `Approximate*` metrics are levels sampled once a minute; `NumberOf*` count
//!   events in the minute).
//! - EC2 Auto Scaling: <https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-metrics.html>
//!   ("Auto Scaling group metrics": sampled sizes and instance counts, once a minute).
//! - EC2: <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/viewing_metrics_with_cloudwatch.html>
//!   (`CPUUtilization` a percentage, every 5 minutes, every minute with detailed monitoring).
//! - ECS: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html>
//!   and Container Insights: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html>
//!   (utilization percentages and task counts, once a minute).
//!
//! Only certain mistakes are in the table: `SampleCount` of a level counts the samples
//! AWS took, never the level; `Sum` of a level adds up one sample per resolution step, so
//! it means something only when the period holds one sample (AWS's own SQS backlog
//! example sums `ApproximateNumberOfMessagesVisible` over one minute); `SampleCount` of
//! an event count counts reports, not events. Metrics outside the table are not judged.

use crate::model::{Metric, MetricFilter};

/// What a metric measures, which decides the statistics that fit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A level sampled every `resolution` seconds (queue depth, age, group size, CPU %).
    Level { resolution: u32 },
    /// Events counted per reporting interval (messages sent, received, deleted).
    Count,
}

/// (namespace, metric, shape). Sorted by namespace, then name.
const TABLE: &[(&str, &str, Shape)] = &[
    ("AWS/AutoScaling", "GroupDesiredCapacity", LEVEL_1M),
    ("AWS/AutoScaling", "GroupInServiceCapacity", LEVEL_1M),
    ("AWS/AutoScaling", "GroupInServiceInstances", LEVEL_1M),
    ("AWS/AutoScaling", "GroupMaxSize", LEVEL_1M),
    ("AWS/AutoScaling", "GroupMinSize", LEVEL_1M),
    ("AWS/AutoScaling", "GroupPendingCapacity", LEVEL_1M),
    ("AWS/AutoScaling", "GroupPendingInstances", LEVEL_1M),
    ("AWS/AutoScaling", "GroupStandbyCapacity", LEVEL_1M),
    ("AWS/AutoScaling", "GroupStandbyInstances", LEVEL_1M),
    ("AWS/AutoScaling", "GroupTerminatingCapacity", LEVEL_1M),
    ("AWS/AutoScaling", "GroupTerminatingInstances", LEVEL_1M),
    ("AWS/AutoScaling", "GroupTotalCapacity", LEVEL_1M),
    ("AWS/AutoScaling", "GroupTotalInstances", LEVEL_1M),
    // Basic monitoring: one sample per 5 minutes. With detailed monitoring a 5-minute Sum
    // would add five; the table keeps to what is certain for both.
    (
        "AWS/EC2",
        "CPUUtilization",
        Shape::Level { resolution: 300 },
    ),
    ("AWS/ECS", "CPUReservation", LEVEL_1M),
    ("AWS/ECS", "CPUUtilization", LEVEL_1M),
    ("AWS/ECS", "MemoryReservation", LEVEL_1M),
    ("AWS/ECS", "MemoryUtilization", LEVEL_1M),
    ("AWS/SQS", "ApproximateAgeOfOldestMessage", LEVEL_1M),
    (
        "AWS/SQS",
        "ApproximateNumberOfGroupsWithInflightMessages",
        LEVEL_1M,
    ),
    ("AWS/SQS", "ApproximateNumberOfMessagesDelayed", LEVEL_1M),
    ("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", LEVEL_1M),
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", LEVEL_1M),
    ("AWS/SQS", "NumberOfEmptyReceives", Shape::Count),
    ("AWS/SQS", "NumberOfMessagesDeleted", Shape::Count),
    ("AWS/SQS", "NumberOfMessagesReceived", Shape::Count),
    ("AWS/SQS", "NumberOfMessagesSent", Shape::Count),
    ("ECS/ContainerInsights", "DesiredTaskCount", LEVEL_1M),
    ("ECS/ContainerInsights", "PendingTaskCount", LEVEL_1M),
    ("ECS/ContainerInsights", "RunningTaskCount", LEVEL_1M),
];

const LEVEL_1M: Shape = Shape::Level { resolution: 60 };

fn shape(metric: &Metric) -> Option<Shape> {
    TABLE
        .iter()
        .find(|(namespace, name, _)| *namespace == metric.namespace && *name == metric.name)
        .map(|(_, _, shape)| *shape)
}

/// Why the metric's statistic means nothing, and what fits instead; `None` when it fits
/// or the metric is not known. `filters`: the stack's own metric filters, whose
/// count-of-one metrics are judged too.
pub fn unfit(metric: &Metric, filters: &[&MetricFilter]) -> Option<(String, &'static str)> {
    let stat = metric.stat.as_str();
    if let Some(filter) = filters
        .iter()
        .find(|f| f.namespace == metric.namespace && f.metric == metric.name)
    {
        return count_of_one(filter, stat);
    }
    match shape(metric)? {
        Shape::Level { .. } if stat == "SampleCount" => Some((
            format!(
                "SampleCount of {} counts the samples AWS took, not the level",
                metric.name
            ),
            "use Maximum or Average",
        )),
        Shape::Level { resolution } if stat == "Sum" && metric.period > resolution => Some((
            format!(
                "Sum of {} adds up the {}s samples of each {}s period: a sum of levels measures nothing",
                metric.name, resolution, metric.period
            ),
            "use Maximum or Average (or a period of one sample)",
        )),
        Shape::Count if stat == "SampleCount" => Some((
            format!(
                "SampleCount of {} counts the reports AWS sent, not the messages",
                metric.name
            ),
            "use Sum",
        )),
        _ => None,
    }
}

/// A filter that publishes 1 per matching line and nothing else: every datapoint is 1,
/// so Average, Minimum, Maximum and percentiles are 1 whenever there is data. With a
/// `default_value` the quiet periods publish it, and Maximum ("any match?") means
/// something again.
fn count_of_one(filter: &MetricFilter, stat: &str) -> Option<(String, &'static str)> {
    let one = filter
        .value
        .trim()
        .parse::<f64>()
        .is_ok_and(|v| (v - 1.0).abs() < f64::EPSILON);
    let quiet = filter.default_value.is_none();
    let flat = matches!(stat, "Average" | "Minimum" | "Maximum") || is_percentile(stat);
    (one && quiet && flat).then(|| {
        (
            format!(
                "{stat} of {} is always 1: its filter publishes 1 per matching line and nothing between",
                filter.metric
            ),
            "use Sum (matches per period) or SampleCount",
        )
    })
}

/// `p99`, `p99.9`, `tm90`, `TM(10%:90%)`...: any extended statistic.
fn is_percentile(stat: &str) -> bool {
    !Metric::STANDARD_STATS.contains(&stat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FilterRef;

    fn sqs(name: &str, stat: &str, period: u32) -> Metric {
        Metric::sqs(name, "jobs", stat, period)
    }

    #[test]
    fn the_table_is_sorted_and_without_duplicates() {
        let keys: Vec<(&str, &str)> = TABLE.iter().map(|(n, m, _)| (*n, *m)).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn levels_want_maximum_or_average() {
        let visible = "ApproximateNumberOfMessagesVisible";
        assert!(unfit(&sqs(visible, "SampleCount", 60), &[]).is_some());
        assert!(unfit(&sqs(visible, "Sum", 300), &[]).is_some());
        // One sample a period: AWS's own backlog-per-instance example.
        assert!(unfit(&sqs(visible, "Sum", 60), &[]).is_none());
        assert!(unfit(&sqs(visible, "Maximum", 300), &[]).is_none());
        assert!(unfit(&sqs(visible, "p90", 300), &[]).is_none());
        assert!(unfit(&sqs("NumberOfMessagesSent", "Sum", 300), &[]).is_none());
        assert!(unfit(&sqs("NumberOfMessagesSent", "SampleCount", 300), &[]).is_some());
        assert!(unfit(&sqs("SentMessageSize", "SampleCount", 300), &[]).is_none());
    }

    #[test]
    fn a_count_of_one_wants_sum_unless_quiet_periods_publish_a_default() {
        let mut filter = MetricFilter {
            filter: FilterRef {
                log_group: "/g".into(),
                name: "f".into(),
            },
            pattern: String::new(),
            namespace: "Shop".into(),
            metric: "Failed".into(),
            value: "1".into(),
            default_value: None,
            unit: None,
            dimensions: std::collections::BTreeMap::new(),
        };
        let metric = |stat: &str| Metric {
            namespace: "Shop".into(),
            name: "Failed".into(),
            dimensions: std::collections::BTreeMap::new(),
            stat: stat.into(),
            period: 300,
            unit: None,
        };
        for stat in ["Average", "Minimum", "Maximum", "p99"] {
            assert!(unfit(&metric(stat), &[&filter]).is_some(), "{stat}");
        }
        assert!(unfit(&metric("Sum"), &[&filter]).is_none());
        assert!(unfit(&metric("SampleCount"), &[&filter]).is_none());
        filter.default_value = Some(0.0);
        assert!(unfit(&metric("Maximum"), &[&filter]).is_none());
        filter.default_value = None;
        filter.value = "$.duration".into();
        assert!(unfit(&metric("p99"), &[&filter]).is_none());
    }
}
