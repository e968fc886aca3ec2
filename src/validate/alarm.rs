//! Alarm rules: metric, threshold, evaluation, actions, and inheritance from `defaults`.

use std::collections::BTreeMap;

use super::rules;
use crate::diag::{codes, suggest, Diagnostic, Diagnostics, Sp, Span};
use crate::model::{
    Action, Alarm, AlarmActions, AlarmName, Arn, Comparison, Metric, TopicName, TreatMissingData,
};
use crate::spec::{AlarmSpec, MetricSpec};

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
    pub tags: &'a BTreeMap<String, String>,
}

/// A value set on the alarm or inherited from `defaults`, with where it was set.
struct Inherited<T> {
    value: T,
    span: Span,
    from_defaults: bool,
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

pub fn alarm(
    name: AlarmName,
    key: &Sp<String>,
    spec: &AlarmSpec,
    cx: &Context<'_>,
    d: &mut Diagnostics,
) -> Option<Alarm> {
    let empty = AlarmSpec::default();
    let defaults = cx.defaults.unwrap_or(&empty);
    let errors_before = d.error_count();
    if spec.unsupported_kind {
        return None;
    }

    let Some(metric_spec) = &spec.metric else {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, format!("alarm `{}` has no `metric:`", key.value))
                .at(key.span, "this alarm needs `metric:`")
                .note("e.g. metric: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: jobs }, stat: Maximum }"),
        );
        return None;
    };

    let alarm_period = inherit(spec.period.as_ref(), defaults.period.as_ref());
    let metric = metric(metric_spec, alarm_period, d);
    let (comparison, threshold) = threshold(key, spec, d)?;

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
    if let Some((metric, period_span)) = &metric {
        let seconds = u64::from(metric.period) * evaluation_periods;
        if seconds > MAX_EVALUATION_SECONDS {
            let mut diag = Diagnostic::error(
                codes::INVALID_COMBINATION,
                format!("period x evaluation_periods is {seconds}s, more than one day"),
            )
            .at(*period_span, format!("period {}s", metric.period));
            if let Some(e) = &evaluation {
                diag = diag.also(e.span, label(e, "evaluation_periods"));
            }
            d.push(diag.note("CloudWatch evaluates at most one day of data"));
        }
    }

    let treat_missing_data = inherit(
        spec.treat_missing_data.as_ref(),
        defaults.treat_missing_data.as_ref(),
    )
    .map_or(Some(TreatMissingData::Missing), |t| treat_missing(&t, d));

    let actions = AlarmActions {
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

    if let Some(description) = &spec.description {
        if description.value.chars().count() > 1024 {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    "an alarm description has at most 1024 characters",
                )
                .at(
                    description.span,
                    format!("{} characters", description.value.chars().count()),
                ),
            );
        }
    }

    if d.error_count() > errors_before {
        return None;
    }
    let mut alarm = Alarm {
        name,
        description: spec
            .description
            .as_ref()
            .map(|s| s.value.clone())
            .filter(|s| !s.is_empty()),
        metric: metric?.0,
        comparison,
        threshold,
        evaluation_periods: u32::try_from(evaluation_periods).ok()?,
        datapoints_to_alarm: u32::try_from(datapoints_to_alarm).ok()?,
        treat_missing_data: treat_missing_data?,
        actions_enabled: inherit(
            spec.actions_enabled.as_ref(),
            defaults.actions_enabled.as_ref(),
        )
        .is_none_or(|a| a.value),
        actions,
        tags: cx.tags.clone(),
    };
    alarm.actions.normalize();
    Some(alarm)
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
        let mut diag = Diagnostic::error(
            codes::INVALID_VALUE,
            format!("`{}` is not a treat_missing_data value", t.value),
        )
        .at(t.span, label(t, "unknown value"));
        diag = match suggest(&t.value, choices) {
            Some(s) => diag.note(format!("did you mean `{s}`?")),
            None => diag.note(format!("expected one of: {}", choices.join(", "))),
        };
        d.push(diag);
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
fn metric(
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
            let mut diag = Diagnostic::error(
                codes::INVALID_VALUE,
                format!("`{}` is not a CloudWatch statistic", stat.value),
            )
            .at(stat.span, "unknown statistic");
            diag = match suggest(&stat.value, Metric::STANDARD_STATS) {
                Some(s) => diag.note(format!("did you mean `{s}`?")),
                None => diag.note(
                    "use Average, Sum, Minimum, Maximum, SampleCount, or a percentile such as p99",
                ),
            };
            d.push(diag);
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
        if !rules::UNITS.contains(&unit.value.as_str()) {
            let mut diag = Diagnostic::error(
                codes::INVALID_VALUE,
                format!("`{}` is not a CloudWatch unit", unit.value),
            )
            .at(unit.span, "unknown unit");
            if let Some(s) = suggest(&unit.value, rules::UNITS.iter().copied()) {
                diag = diag.note(format!("did you mean `{s}`?"));
            }
            d.push(diag);
            ok = false;
        }
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

fn threshold(key: &Sp<String>, spec: &AlarmSpec, d: &mut Diagnostics) -> Option<(Comparison, f64)> {
    match spec.thresholds.as_slice() {
        [] => {
            d.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    format!("alarm `{}` has no threshold", key.value),
                )
                .at(
                    key.span,
                    "needs one of `above`, `at_least`, `below`, `at_most`",
                )
                .note("e.g. above: 5"),
            );
            None
        }
        // A value that was not a number has been reported by the reader.
        [one] => Some((
            Comparison::from_keyword(&one.keyword.value)?,
            one.value.as_ref()?.value,
        )),
        [first, rest @ ..] => {
            for other in rest {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_COMBINATION,
                        "an alarm has exactly one threshold",
                    )
                    .at(
                        other.keyword.span,
                        format!("`{}` here", other.keyword.value),
                    )
                    .also(
                        first.keyword.span,
                        format!("and `{}` here", first.keyword.value),
                    )
                    .note("keep one of `above`, `at_least`, `below`, `at_most`"),
                );
            }
            None
        }
    }
}

/// Resolves `notify` entries: a topic key of this stack, or an ARN written out.
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
        let mut diag = Diagnostic::error(
            codes::UNRESOLVED_REFERENCE,
            format!(
                "`{}` in `{field}` is not a topic of this stack",
                entry.value
            ),
        )
        .at(entry.span, label(&list, "unknown topic key"));
        match suggest(&entry.value, cx.topics.keys().map(String::as_str)) {
            Some(s) => {
                let (_, span) = &cx.topics[s];
                diag = diag.also(*span, format!("did you mean `{s}`, defined here?"));
            }
            None => {
                diag = diag.note("name a key under `topics:` or write an SNS topic ARN");
            }
        }
        d.push(diag);
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
