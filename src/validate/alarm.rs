//! Alarm rules: metric, threshold, evaluation, actions, and inheritance from `defaults`.

use std::collections::BTreeMap;

use super::rules;
use crate::diag::{codes, Diagnostic, Diagnostics, Sp, Span};
use crate::model::{
    Action, Alarm, AlarmActions, AlarmMetric, AlarmName, Arn, BandSide, Comparison, CompositeAlarm,
    Condition, Ec2Action, Metric, TopicName, TreatMissingData,
};
use crate::spec::{AlarmSpec, MetricSpec, ThresholdSpec};

/// `CloudWatch`'s default period when nothing sets one: one minute.
const DEFAULT_PERIOD: u64 = 60;
/// `period * evaluation_periods` may not exceed one day (`PutMetricAlarm` rule).
const MAX_EVALUATION_SECONDS: u64 = 86_400;
/// `PutMetricAlarm` accepts at most five actions per state.
const MAX_ACTIONS: usize = 5;

pub struct Context<'a> {
    pub defaults: Option<&'a AlarmSpec>,
    /// Topic key -> (AWS name, where declared).
    pub topics: &'a BTreeMap<String, (TopicName, Span)>,
    /// Step scaling policy key (`{queue}.from_zero`) -> the action that names the policy
    /// (of a group or of a service), for `notify`.
    pub policies: &'a BTreeMap<String, (Action, Span)>,
    pub tags: &'a BTreeMap<String, String>,
}

/// A value set on the alarm or inherited from `defaults`, with where it was set.
#[derive(Clone)]
pub struct Inherited<T> {
    pub value: T,
    pub span: Span,
    pub from_defaults: bool,
}

fn inherit<T: Clone>(own: Option<&Sp<T>>, default: Option<&Sp<T>>) -> Option<Inherited<T>> {
    own.map(|s| Inherited {
        value: s.value.clone(),
        span: s.span,
        from_defaults: false,
    })
    .or_else(|| {
        default.map(|s| Inherited {
            value: s.value.clone(),
            span: s.span,
            from_defaults: true,
        })
    })
}

fn label<T>(value: &Inherited<T>, what: &str) -> String {
    if value.from_defaults {
        format!("{what} (inherited from defaults)")
    } else {
        what.to_string()
    }
}

/// Where an alarm's metric comes from.
pub enum Source {
    /// The alarm's own `metric`, `expression` + `metrics`, with a threshold or a band.
    Spec,
    /// A queue recipe: the recipe defines the metrics (periods come from the alarm).
    Recipe(AlarmMetric),
}

/// An alarm monplan derives itself rather than reads from the YAML (a queue's
/// scale-from-zero alarm): everything about it is monplan's, nothing comes from
/// `defaults`. See [`derived`] for the rest of its settings.
pub struct Derived {
    /// What it watches; periods are set by [`derived`].
    pub metric: AlarmMetric,
    pub condition: Condition,
    pub treat_missing_data: TreatMissingData,
    /// Located at what asks for the alarm (e.g. `from_zero: true`), which is where a
    /// description too long for `CloudWatch` is reported.
    pub description: Sp<String>,
    /// What it notifies in ALARM state.
    pub notify: Vec<Action>,
}

/// The model alarm for a [`Derived`] one, with the settings an alarm gets when nothing
/// sets them (the stack's `defaults` do not apply): a one-minute period, one datapoint
/// out of one evaluation period, actions enabled, no OK or insufficient-data actions,
/// and the stack's tags. `None` (reported) when the description is too long.
pub fn derived(
    name: AlarmName,
    alarm: Derived,
    cx: &Context<'_>,
    d: &mut Diagnostics,
) -> Option<Alarm> {
    if !description_fits(&alarm.description, d) {
        return None;
    }
    let description = Some(alarm.description.value).filter(|s| !s.is_empty());
    let mut actions = AlarmActions {
        alarm: alarm.notify,
        ok: Vec::new(),
        insufficient_data: Vec::new(),
    };
    actions.normalize();
    Some(Alarm {
        name,
        description,
        metric: with_period(alarm.metric, u32::try_from(DEFAULT_PERIOD).ok()?),
        condition: alarm.condition,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        treat_missing_data: alarm.treat_missing_data,
        actions_enabled: true,
        actions,
        tags: cx.tags.clone(),
    })
}

pub fn alarm(
    name: AlarmName,
    key: &Sp<String>,
    spec: &AlarmSpec,
    source: Source,
    cx: &Context<'_>,
    d: &mut Diagnostics,
) -> Option<Alarm> {
    let empty = AlarmSpec::default();
    let defaults = cx.defaults.unwrap_or(&empty);
    let errors_before = d.error_count();

    let alarm_period = inherit(spec.period.as_ref(), defaults.period.as_ref());
    if let Some(p) = &alarm_period {
        check_period(p, d);
    }
    let (metric, period_span) = match source {
        Source::Spec => spec_metric(key, spec, alarm_period.as_ref(), d)?,
        Source::Recipe(metric) => {
            let (seconds, span) = alarm_period
                .as_ref()
                .map_or((DEFAULT_PERIOD, key.span), |p| (p.value, p.span));
            (with_period(metric, u32::try_from(seconds).ok()?), span)
        }
    };
    let condition = condition(key, spec, &metric, d)?;

    let evaluation = inherit(
        spec.evaluation_periods.as_ref(),
        defaults.evaluation_periods.as_ref(),
    );
    let datapoints = inherit(
        spec.datapoints_to_alarm.as_ref(),
        defaults.datapoints_to_alarm.as_ref(),
    );
    let evaluation_periods = evaluation.as_ref().map_or(1, |e| e.value);
    let datapoints_to_alarm = datapoints.as_ref().map_or(evaluation_periods, |p| p.value);
    if let (Some(points), true) = (&datapoints, datapoints_to_alarm > evaluation_periods) {
        let mut diag = Diagnostic::error(
            codes::INVALID_COMBINATION,
            format!("datapoints_to_alarm ({datapoints_to_alarm}) is more than evaluation_periods ({evaluation_periods})"),
        )
        .at(points.span, label(points, "datapoints_to_alarm"));
        diag = match &evaluation {
            Some(e) => diag.also(e.span, label(e, "evaluation_periods")),
            None => diag.note("evaluation_periods is 1 when not set"),
        };
        d.push(diag.note("an alarm cannot need more breaching datapoints than it evaluates"));
    }
    let period = longest_period(&metric);
    let seconds = u64::from(period) * evaluation_periods;
    if seconds > MAX_EVALUATION_SECONDS {
        let mut diag = Diagnostic::error(
            codes::INVALID_COMBINATION,
            format!("period x evaluation_periods is {seconds}s, more than one day"),
        )
        .at(period_span, format!("period {period}s"));
        if let Some(e) = &evaluation {
            diag = diag.also(e.span, label(e, "evaluation_periods"));
        }
        d.push(diag.note("CloudWatch evaluates at most one day of data"));
    }

    let treat_missing_data = inherit(
        spec.treat_missing_data.as_ref(),
        defaults.treat_missing_data.as_ref(),
    )
    .map_or(Some(TreatMissingData::Missing), |t| treat_missing(&t, d));
    let actions = alarm_actions(spec, defaults, cx, d);
    ec2_rules(spec, defaults, Some((&metric, &condition)), d);

    let description = description(spec, d);
    if d.error_count() > errors_before {
        return None;
    }
    Some(Alarm {
        name,
        description,
        metric,
        condition,
        evaluation_periods: u32::try_from(evaluation_periods).ok()?,
        datapoints_to_alarm: u32::try_from(datapoints_to_alarm).ok()?,
        treat_missing_data: treat_missing_data?,
        actions_enabled: actions_enabled(spec, defaults),
        actions,
        tags: cx.tags.clone(),
    })
}

fn alarm_actions(
    spec: &AlarmSpec,
    defaults: &AlarmSpec,
    cx: &Context<'_>,
    d: &mut Diagnostics,
) -> AlarmActions {
    let mut actions = AlarmActions {
        alarm: actions(
            spec.notify.as_ref(),
            defaults.notify.as_ref(),
            "notify",
            cx,
            d,
        ),
        ok: actions(
            spec.notify_ok.as_ref(),
            defaults.notify_ok.as_ref(),
            "notify_ok",
            cx,
            d,
        ),
        insufficient_data: actions(
            spec.notify_insufficient_data.as_ref(),
            defaults.notify_insufficient_data.as_ref(),
            "notify_insufficient_data",
            cx,
            d,
        ),
    };
    actions.normalize();
    actions
}

/// The description, checked against `CloudWatch`'s 1024-character limit.
fn description(spec: &AlarmSpec, d: &mut Diagnostics) -> Option<String> {
    let description = spec.description.as_ref()?;
    description_fits(description, d);
    Some(description.value.clone()).filter(|s| !s.is_empty())
}

/// Whether a description fits `CloudWatch`'s 1024-character limit; reported when not.
fn description_fits(description: &Sp<String>, d: &mut Diagnostics) -> bool {
    let length = description.value.chars().count();
    if length > 1024 {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                "an alarm description has at most 1024 characters",
            )
            .at(description.span, format!("{length} characters")),
        );
        return false;
    }
    true
}

fn actions_enabled(spec: &AlarmSpec, defaults: &AlarmSpec) -> bool {
    inherit(
        spec.actions_enabled.as_ref(),
        defaults.actions_enabled.as_ref(),
    )
    .is_none_or(|a| a.value)
}

/// A composite alarm: `rule` over alarm keys, rewritten to quoted AWS names.
pub fn composite(
    name: AlarmName,
    spec: &AlarmSpec,
    alarms: &BTreeMap<String, (AlarmName, Span)>,
    cx: &Context<'_>,
    d: &mut Diagnostics,
) -> Option<(CompositeAlarm, Vec<String>)> {
    let errors_before = d.error_count();
    let rule = spec.rule.as_ref()?;
    let threshold = spec.thresholds.first().or(spec.bands.first());
    for (what, present) in [
        ("metric", spec.metric.as_ref().map(|m| m.span)),
        ("expression", spec.expression.as_ref().map(|e| e.span)),
        (
            threshold.map_or("above", |t| t.keyword.value.as_str()),
            threshold.map(|t| t.keyword.span),
        ),
        ("period", spec.period.as_ref().map(|p| p.span)),
        (
            "evaluation_periods",
            spec.evaluation_periods.as_ref().map(|p| p.span),
        ),
        (
            "datapoints_to_alarm",
            spec.datapoints_to_alarm.as_ref().map(|p| p.span),
        ),
        (
            "treat_missing_data",
            spec.treat_missing_data.as_ref().map(|p| p.span),
        ),
    ] {
        if let Some(span) = present {
            d.push(
                Diagnostic::error(
                    codes::INVALID_COMBINATION,
                    format!("`{what}` does not apply to a composite alarm"),
                )
                .at(span, "not for composite alarms")
                .also(rule.span, "this is a composite alarm"),
            );
        }
    }
    let (text, keys) = super::composite::rewrite(rule, alarms, d)?;
    let empty = AlarmSpec::default();
    let defaults = cx.defaults.unwrap_or(&empty);
    let actions = alarm_actions(spec, defaults, cx, d);
    ec2_rules(spec, defaults, None, d);
    let description = description(spec, d);
    if d.error_count() > errors_before {
        return None;
    }
    let alarm = CompositeAlarm {
        name,
        description,
        rule: text,
        actions_enabled: actions_enabled(spec, defaults),
        actions,
        tags: cx.tags.clone(),
    };
    Some((alarm, keys))
}

fn with_period(metric: AlarmMetric, period: u32) -> AlarmMetric {
    match metric {
        AlarmMetric::Single(mut m) => {
            m.period = period;
            AlarmMetric::Single(m)
        }
        AlarmMetric::Math {
            expression,
            metrics,
        } => AlarmMetric::Math {
            expression,
            metrics: metrics
                .into_iter()
                .map(|(id, mut m)| {
                    m.period = period;
                    (id, m)
                })
                .collect(),
        },
        AlarmMetric::Insights { query, .. } => AlarmMetric::Insights { query, period },
    }
}

fn longest_period(metric: &AlarmMetric) -> u32 {
    match metric {
        AlarmMetric::Single(m) => m.period,
        AlarmMetric::Math { metrics, .. } => metrics.values().map(|m| m.period).max().unwrap_or(60),
        AlarmMetric::Insights { period, .. } => *period,
    }
}

/// The alarm's own metric: a single `metric`, or `expression` over `metrics`.
fn spec_metric(
    key: &Sp<String>,
    spec: &AlarmSpec,
    alarm_period: Option<&Inherited<u64>>,
    d: &mut Diagnostics,
) -> Option<(AlarmMetric, Span)> {
    match (&spec.metric, &spec.expression) {
        (Some(metric_spec), None) => {
            if let Some((id, _)) = spec.metrics.first() {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_COMBINATION,
                        "`metrics` belong to an `expression`",
                    )
                    .at(id.span, "no expression uses this")
                    .also(metric_spec.span, "this alarm watches one metric"),
                );
                return None;
            }
            let (m, span) = metric(metric_spec, alarm_period.cloned(), d)?;
            Some((AlarmMetric::Single(m), span))
        }
        (None, Some(expression)) => math(expression, spec, alarm_period, d),
        (Some(metric_spec), Some(expression)) => {
            d.push(
                Diagnostic::error(
                    codes::INVALID_COMBINATION,
                    "an alarm has either `metric` or `expression`, not both",
                )
                .at(expression.span, "metric math here")
                .also(metric_spec.span, "a single metric here"),
            );
            None
        }
        (None, None) => {
            d.push(
                Diagnostic::error(codes::MISSING_KEY, format!("alarm `{}` has no `metric:`", key.value))
                    .at(key.span, "this alarm needs `metric:`, `expression:` or `rule:`")
                    .note("e.g. metric: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: jobs }, stat: Maximum }"),
            );
            None
        }
    }
}

/// `CloudWatch` allows at most 10 metrics in an alarm's metric math.
const MAX_MATH_METRICS: usize = 10;

fn math(
    expression: &Sp<String>,
    spec: &AlarmSpec,
    alarm_period: Option<&Inherited<u64>>,
    d: &mut Diagnostics,
) -> Option<(AlarmMetric, Span)> {
    let mut ok = true;
    if spec.metrics.is_empty() {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "metric math needs `metrics`")
                .at(expression.span, "the expression's metrics are not defined")
                .note("e.g. metrics: { visible: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: jobs }, stat: Sum } }"),
        );
        return None;
    }
    if spec.metrics.len() > MAX_MATH_METRICS {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("metric math has at most {MAX_MATH_METRICS} metrics"),
            )
            .at(spec.metrics[MAX_MATH_METRICS].0.span, "the 11th"),
        );
        ok = false;
    }
    let mut metrics = BTreeMap::new();
    let mut period_span = expression.span;
    for (id, metric_spec) in &spec.metrics {
        let valid_id = id
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && id
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && id.value != AlarmMetric::EXPRESSION_ID;
        if !valid_id {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, format!("`{}` is not a metric id", id.value))
                    .at(id.span, "invalid id")
                    .note(format!("ids start with a lowercase letter, then letters, digits or `_`; `{}` is reserved", AlarmMetric::EXPRESSION_ID)),
            );
            ok = false;
        }
        match metric(metric_spec, alarm_period.cloned(), d) {
            Some((m, span)) => {
                period_span = span;
                metrics.insert(id.value.clone(), m);
            }
            None => ok = false,
        }
    }
    let ids: Vec<&str> = spec
        .metrics
        .iter()
        .map(|(id, _)| id.value.as_str())
        .collect();
    for word in identifiers(&expression.value) {
        // Functions (SUM, IF, PERIOD, ...) are upper case; lower-case words are metric ids.
        if word.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && !ids.contains(&word) {
            d.push(
                Diagnostic::error(
                    codes::UNRESOLVED_REFERENCE,
                    format!("`{word}` is not one of this alarm's metrics"),
                )
                .at(expression.span, format!("uses `{word}`"))
                .suggest_or(
                    word,
                    ids.iter().copied(),
                    format!("metrics: {}", ids.join(", ")),
                ),
            );
            ok = false;
        }
    }
    for id in &ids {
        if !identifiers(&expression.value).any(|w| w == *id) {
            let span = spec
                .metrics
                .iter()
                .find(|(i, _)| i.value == *id)
                .map_or(expression.span, |(i, _)| i.span);
            d.push(
                Diagnostic::error(
                    codes::INVALID_COMBINATION,
                    format!("metric `{id}` is not used by the expression"),
                )
                .at(span, "unused")
                .also(expression.span, "the expression"),
            );
            ok = false;
        }
    }
    ok.then(|| {
        (
            AlarmMetric::Math {
                expression: expression.value.trim().to_string(),
                metrics,
            },
            period_span,
        )
    })
}

/// The words of a metric-math expression (names of metrics and functions).
fn identifiers(expression: &str) -> impl Iterator<Item = &str> {
    expression
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
}

/// A threshold (`above`, ...) or an anomaly band (`outside_band`, ...): exactly one.
fn condition(
    key: &Sp<String>,
    spec: &AlarmSpec,
    metric: &AlarmMetric,
    d: &mut Diagnostics,
) -> Option<Condition> {
    let all: Vec<&ThresholdSpec> = spec.thresholds.iter().chain(&spec.bands).collect();
    match all.as_slice() {
        [] => {
            d.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    format!("alarm `{}` has no threshold", key.value),
                )
                .at(
                    key.span,
                    "needs one of `above`, `at_least`, `below`, `at_most` (or an anomaly band)",
                )
                .note("e.g. above: 5"),
            );
            None
        }
        // A value that was not a number has been reported by the reader.
        [one] => {
            let value = one.value.as_ref()?.value;
            if let Some(comparison) = Comparison::from_keyword(&one.keyword.value) {
                return Some(Condition::Threshold { comparison, value });
            }
            let side = BandSide::from_keyword(&one.keyword.value)?;
            if !matches!(metric, AlarmMetric::Single(_)) {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_COMBINATION,
                        "an anomaly band watches a single `metric`",
                    )
                    .at(one.keyword.span, "band here")
                    .note("metric math alarms take a threshold"),
                );
                return None;
            }
            if value <= 0.0 {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        "a band is a positive number of standard deviations",
                    )
                    .at(one.value.as_ref()?.span, "e.g. 2"),
                );
                return None;
            }
            Some(Condition::Band {
                side,
                deviations: value,
            })
        }
        [first, rest @ ..] => {
            for other in rest {
                d.push(
                    Diagnostic::error(codes::INVALID_COMBINATION, "an alarm has exactly one threshold")
                        .at(other.keyword.span, format!("`{}` here", other.keyword.value))
                        .also(first.keyword.span, format!("and `{}` here", first.keyword.value))
                        .note("keep one of `above`, `at_least`, `below`, `at_most`, `outside_band`, `above_band`, `below_band`"),
                );
            }
            None
        }
    }
}

/// Checks `defaults` on their own, so that a bad default is reported even when every
/// alarm overrides it. Alarms that inherit it report the identical diagnostic, which
/// [`Diagnostics::push`] keeps once.
pub fn defaults(spec: &AlarmSpec, cx: &Context<'_>, d: &mut Diagnostics) {
    let from_defaults = |s: &Sp<u64>| Inherited {
        value: s.value,
        span: s.span,
        from_defaults: true,
    };
    if let Some(t) = inherit(None, spec.treat_missing_data.as_ref()) {
        treat_missing(&t, d);
    }
    if let Some(p) = spec.period.as_ref().map(from_defaults) {
        check_period(&p, d);
    }
    actions(None, spec.notify.as_ref(), "notify", cx, d);
    actions(None, spec.notify_ok.as_ref(), "notify_ok", cx, d);
    actions(
        None,
        spec.notify_insufficient_data.as_ref(),
        "notify_insufficient_data",
        cx,
        d,
    );
}

fn treat_missing(t: &Inherited<String>, d: &mut Diagnostics) -> Option<TreatMissingData> {
    let parsed = TreatMissingData::from_keyword(&t.value);
    if parsed.is_none() {
        let choices = TreatMissingData::ALL.map(TreatMissingData::keyword);
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("`{}` is not a treat_missing_data value", t.value),
            )
            .at(t.span, label(t, "unknown value"))
            .suggest_or(
                &t.value,
                choices,
                format!("expected one of: {}", choices.join(", ")),
            ),
        );
    }
    parsed
}

fn check_period(p: &Inherited<u64>, d: &mut Diagnostics) -> bool {
    if rules::is_valid_period(p.value) {
        return true;
    }
    d.push(
        Diagnostic::error(
            codes::INVALID_VALUE,
            format!("a period of {}s is not allowed", p.value),
        )
        .at(p.span, label(p, "invalid period"))
        .note("periods are 10s, 30s or a multiple of 60s (1m, 5m, 1h, ...)"),
    );
    false
}

/// The metric, and the span of whatever set its period (for later rules to point at).
pub(super) fn metric(
    spec: &Sp<MetricSpec>,
    alarm_period: Option<Inherited<u64>>,
    d: &mut Diagnostics,
) -> Option<(Metric, Span)> {
    let m = &spec.value;
    let mut ok = true;
    let mut required = |value: &Option<Sp<String>>, key: &str, example: &str| -> Option<String> {
        if value.is_none() {
            d.push(
                Diagnostic::error(codes::MISSING_KEY, format!("the metric has no `{key}`"))
                    .at(spec.span, format!("needs `{key}`"))
                    .note(format!("e.g. {key}: {example}")),
            );
            ok = false;
        }
        value.as_ref().map(|v| v.value.clone())
    };
    let namespace = required(&m.namespace, "namespace", "AWS/SQS");
    let name = required(&m.name, "name", "ApproximateNumberOfMessagesVisible");
    let stat = required(&m.stat, "stat", "Maximum");

    if let Some(stat) = &m.stat {
        if !rules::is_statistic(&stat.value) {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("`{}` is not a CloudWatch statistic", stat.value),
                )
                .at(stat.span, "unknown statistic")
                .suggest_or(
                    &stat.value,
                    Metric::STANDARD_STATS,
                    "use Average, Sum, Minimum, Maximum, SampleCount, or a percentile such as p99",
                ),
            );
            ok = false;
        }
    }
    for text in [&m.namespace, &m.name].into_iter().flatten() {
        if text.value.is_empty() || text.value.chars().count() > 255 {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, "must be 1 to 255 characters")
                    .at(text.span, "here"),
            );
            ok = false;
        }
    }
    if let Some(unit) = &m.unit {
        ok &= rules::unit(unit, d);
    }
    if m.dimensions.len() > 30 {
        d.push(
            Diagnostic::error(codes::INVALID_VALUE, "a metric has at most 30 dimensions")
                .at(m.dimensions[30].0.span, "the 31st"),
        );
        ok = false;
    }
    let mut dimensions = BTreeMap::new();
    for (key, value) in &m.dimensions {
        for part in [key, value] {
            if part.value.is_empty() || part.value.chars().count() > 255 {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        "dimension names and values are 1 to 255 characters",
                    )
                    .at(part.span, "here"),
                );
                ok = false;
            }
        }
        dimensions.insert(key.value.clone(), value.value.clone());
    }

    // The metric's own period wins over the alarm's, which wins over `defaults`.
    let period = m
        .period
        .as_ref()
        .map(|p| Inherited {
            value: p.value,
            span: p.span,
            from_defaults: false,
        })
        .or(alarm_period);
    let (seconds, period_span) = period
        .as_ref()
        .map_or((DEFAULT_PERIOD, spec.span), |p| (p.value, p.span));
    if let Some(p) = &period {
        ok &= check_period(p, d);
    }

    if !ok {
        return None;
    }
    Some((
        Metric {
            namespace: namespace?,
            name: name?,
            dimensions,
            stat: stat?,
            period: u32::try_from(seconds).ok()?,
            unit: m.unit.as_ref().map(|u| u.value.clone()),
        },
        period_span,
    ))
}

/// The rules AWS applies to EC2 actions at `PutMetricAlarm` (each a located error here,
/// before any AWS call), for every `ec2:` entry of `notify`, `notify_ok` and
/// `notify_insufficient_data` (AWS takes EC2 actions in all three lists):
/// - only on a single metric that names an instance, i.e. has an `InstanceId` dimension
///   ("any custom metrics that include the `InstanceId` dimension", EC2 user guide,
///   *Create alarms that stop, terminate, reboot, or recover an instance*);
/// - not on metric math, anomaly bands (an `ANOMALY_DETECTION_BAND` expression) or
///   composite alarms ("Alarms based on math expressions can't perform Amazon EC2
///   actions"; composites "can't perform EC2 actions", `CloudWatch` user guide);
/// - `recover` only on `AWS/EC2 StatusCheckFailed_System` (EC2 user guide,
///   *Recover your instance*: action-based recovery works with that metric).
///
/// `metric`: `None` for a composite alarm.
fn ec2_rules(
    spec: &AlarmSpec,
    defaults: &AlarmSpec,
    metric: Option<(&AlarmMetric, &Condition)>,
    d: &mut Diagnostics,
) {
    for (own, default) in [
        (&spec.notify, &defaults.notify),
        (&spec.notify_ok, &defaults.notify_ok),
        (
            &spec.notify_insufficient_data,
            &defaults.notify_insufficient_data,
        ),
    ] {
        let Some(list) = inherit(own.as_ref(), default.as_ref()) else {
            continue;
        };
        for entry in &list.value {
            let Some(action) = entry
                .value
                .strip_prefix("ec2:")
                .and_then(Ec2Action::from_keyword)
            else {
                continue;
            };
            if let Some((why, fix)) = ec2_refusal(action, metric) {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_COMBINATION,
                        format!("`{}` is not allowed on this alarm: {why}", entry.value),
                    )
                    .at(entry.span, label(&list, "AWS would reject this action"))
                    .note(fix),
                );
            }
        }
    }
}

/// Why AWS refuses `action` on an alarm of this metric, and what to do instead.
fn ec2_refusal(
    action: Ec2Action,
    metric: Option<(&AlarmMetric, &Condition)>,
) -> Option<(String, String)> {
    let single = match metric {
        None => {
            return Some((
                "composite alarms cannot run EC2 actions".into(),
                "put the EC2 action on a metric alarm of the instance (a metric with an `InstanceId` dimension)".into(),
            ))
        }
        // The stack's alarms never are Metrics Insights queries (only `workers:` makes
        // them, with its own rules); AWS refuses EC2 actions on them at the alarm level.
        Some((AlarmMetric::Math { .. } | AlarmMetric::Insights { .. }, _)) => {
            return Some((
                "alarms on metric math cannot run EC2 actions".into(),
                "watch one metric with an `InstanceId` dimension instead".into(),
            ))
        }
        Some((_, Condition::Band { .. })) => {
            return Some((
                "an anomaly band is a metric-math expression, and alarms on metric math cannot run EC2 actions".into(),
                "use a threshold (`above`, ...) on the instance's metric".into(),
            ))
        }
        Some((AlarmMetric::Single(m), Condition::Threshold { .. })) => m,
    };
    if !single.dimensions.contains_key("InstanceId") {
        return Some((
            format!("{} {} names no instance (no `InstanceId` dimension)", single.namespace, single.name),
            "EC2 actions act on the instance in the metric's `InstanceId` dimension: add it (e.g. `dimensions: { InstanceId: i-0123456789abcdef0 }`), or notify a topic instead".into(),
        ));
    }
    if action == Ec2Action::Recover
        && !(single.namespace == "AWS/EC2" && single.name == "StatusCheckFailed_System")
    {
        return Some((
            "EC2 recovers an instance only from an alarm on AWS/EC2 StatusCheckFailed_System".into(),
            "watch `{ namespace: AWS/EC2, name: StatusCheckFailed_System, dimensions: { InstanceId: ... }, stat: Maximum }`, or use `ec2:reboot`".into(),
        ));
    }
    None
}

/// Resolves `notify` entries: a topic key of this stack, an EC2 action (`ec2:reboot`),
/// or an ARN written out.
fn actions(
    own: Option<&Sp<Vec<Sp<String>>>>,
    default: Option<&Sp<Vec<Sp<String>>>>,
    field: &str,
    cx: &Context<'_>,
    d: &mut Diagnostics,
) -> Vec<Action> {
    let Some(list) = inherit(own, default) else {
        return Vec::new();
    };
    let mut resolved = Vec::new();
    for entry in &list.value {
        if let Some(action) = entry.value.strip_prefix("ec2:") {
            if let Some(action) = Ec2Action::from_keyword(action) {
                resolved.push(Action::Ec2(action));
            } else {
                let choices = Ec2Action::ALL.map(|a| format!("ec2:{}", a.keyword()));
                d.push(
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        format!("`{}` is not an EC2 alarm action", entry.value),
                    )
                    .at(entry.span, label(&list, "unknown EC2 action"))
                    .suggest_or(
                        &entry.value,
                        choices.iter().map(String::as_str),
                        format!("EC2 actions: {}", choices.join(", ")),
                    ),
                );
            }
            continue;
        }
        if entry.value.starts_with("arn:") {
            if rules::is_arn(&entry.value) {
                resolved.push(Action::Arn(Arn::new(entry.value.clone())));
            } else {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        format!("`{}` is not a valid ARN", entry.value),
                    )
                    .at(entry.span, label(&list, "malformed ARN"))
                    .note("an ARN looks like arn:aws:sns:us-east-1:123456789012:topic-name"),
                );
            }
            continue;
        }
        if let Some((topic, _)) = cx.topics.get(&entry.value) {
            resolved.push(Action::Topic(topic.clone()));
            continue;
        }
        if let Some((policy, _)) = cx.policies.get(&entry.value) {
            resolved.push(policy.clone());
            continue;
        }
        if entry.value.ends_with(".scaling") {
            d.push(
                Diagnostic::error(codes::INVALID_VALUE, format!("`{}` is a target-tracking policy, which cannot be an alarm action", entry.value))
                    .at(entry.span, label(&list, "not an alarm action"))
                    .note("target tracking is driven by its own alarms; a step policy such as `QUEUE.from_zero` can be notified"),
            );
            continue;
        }
        d.push(
            Diagnostic::error(
                codes::UNRESOLVED_REFERENCE,
                format!(
                    "`{}` in `{field}` is not a topic of this stack",
                    entry.value
                ),
            )
            .at(entry.span, label(&list, "unknown topic key"))
            .suggest_defined(
                &entry.value,
                cx.topics.keys().map(String::as_str),
                |s| cx.topics[s].1,
                "name a key under `topics:`, a step scaling policy (`QUEUE.from_zero`), an EC2 action (`ec2:reboot`), or write an ARN",
            ),
        );
    }
    let mut unique = resolved.clone();
    unique.sort();
    unique.dedup();
    if unique.len() > MAX_ACTIONS {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!(
                    "`{field}` has {} actions; CloudWatch allows {MAX_ACTIONS}",
                    unique.len()
                ),
            )
            .at(list.span, label(&list, "too many actions")),
        );
    }
    resolved
}
