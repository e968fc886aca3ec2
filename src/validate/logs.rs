//! `log_groups` (existing groups the stack reads) and `log_metrics` (metric filters on
//! them): names, the filter pattern (parsed offline, located at its bad character), the
//! rules AWS enforces only at apply (at most 3 dimensions, dimensions only with JSON or
//! space-delimited patterns and never with a default value, at most 100 filters a
//! group), and the filter's `samples`, run through monplan's own matcher.

use std::collections::BTreeMap;

use super::queue::RecipeAlarm;
use super::rules;
use crate::diag::{codes, Diagnostic, Diagnostics, Sp, Span};
use crate::logs::insights;
use crate::logs::pattern::{self, Pattern, PatternError, PatternKind};
use crate::model::{
    AlarmMetric, Declared, FilterRef, LogGroupUse, Metric, MetricFilter, QueryDefinition, QueueUse,
    SampleRun, StackName,
};
use crate::spec::{
    JobEventsSpec, Located, LogMetricSpec, MetricEntry, MetricSpec, MetricValueSpec, StackSpec,
    WidgetSpec,
};

/// AWS allows at most 3 dimensions per metric filter transformation.
const MAX_DIMENSIONS: usize = 3;
/// AWS allows at most 100 metric filters per log group.
const MAX_FILTERS_PER_GROUP: usize = 100;

/// What an alarm's `metric: KEY` refers to: the metric a filter publishes.
#[derive(Clone, Debug)]
pub struct LogMetricRef {
    pub namespace: String,
    pub name: String,
    pub unit: Option<String>,
    pub span: Span,
}

/// Validates `log_groups:`; the name defaults to the key.
pub fn log_groups(
    spec: &StackSpec,
    d: &mut Diagnostics,
) -> BTreeMap<String, Declared<LogGroupUse>> {
    let mut groups = BTreeMap::new();
    for (key, group) in &spec.log_groups {
        rules::resource_key(key, "log group", d);
        let name = group.name.clone().unwrap_or_else(|| key.clone());
        if !is_log_group_name(&name.value) {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("`{}` is not a CloudWatch Logs group name", name.value),
                )
                .at(name.span, "invalid log group name")
                .note("log group names are 1 to 512 letters, digits and `_-./#`"),
            );
        }
        groups.insert(
            key.value.clone(),
            Declared {
                value: LogGroupUse { name: name.value },
                key: key.value.clone(),
                origin: name.span,
            },
        );
    }
    groups
}

/// The log group a `log_groups` key names, or a located error.
fn log_group<'g>(
    groups: &'g BTreeMap<String, Declared<LogGroupUse>>,
    key: &Sp<String>,
    d: &mut Diagnostics,
) -> Option<&'g Declared<LogGroupUse>> {
    let group = groups.get(&key.value);
    if group.is_none() {
        d.push(
            Diagnostic::error(
                codes::UNRESOLVED_REFERENCE,
                format!("no log group `{}` in this stack", key.value),
            )
            .at(key.span, "not a `log_groups` key")
            .suggest_or(
                &key.value,
                groups.keys().map(String::as_str),
                "declare the group under `log_groups:` first",
            ),
        );
    }
    group
}

fn is_log_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./#".contains(c))
}

/// The validated filters, and what alarms may name by key.
#[derive(Default)]
pub struct StackLogMetrics {
    pub filters: BTreeMap<FilterRef, Declared<MetricFilter>>,
    pub refs: BTreeMap<String, LogMetricRef>,
    /// What the `match` samples publish.
    pub samples: Vec<SampleRun>,
}

/// Validates `log_metrics:` against the stack's log groups.
pub fn log_metrics(
    spec: &StackSpec,
    stack: &StackName,
    groups: &BTreeMap<String, Declared<LogGroupUse>>,
    d: &mut Diagnostics,
) -> StackLogMetrics {
    let mut out = StackLogMetrics::default();
    let mut per_group: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for (key, metric_spec) in &spec.log_metrics {
        rules::resource_key(key, "log metric", d);
        let Some(filter) = filter(stack, key, metric_spec, groups, &mut out.samples, d) else {
            continue;
        };
        per_group
            .entry(filter.filter.log_group.clone())
            .or_default()
            .push(key.span);
        out.refs.insert(
            key.value.clone(),
            LogMetricRef {
                namespace: filter.namespace.clone(),
                name: filter.metric.clone(),
                unit: filter.unit.clone(),
                span: key.span,
            },
        );
        out.filters.insert(
            filter.filter.clone(),
            Declared {
                value: filter,
                key: key.value.clone(),
                origin: key.span,
            },
        );
    }
    for (group, spans) in per_group {
        if let Some(span) = spans.get(MAX_FILTERS_PER_GROUP) {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!(
                        "more than {MAX_FILTERS_PER_GROUP} metric filters on log group `{group}`"
                    ),
                )
                .at(*span, "the 101st")
                .note("AWS allows 100 metric filters per log group"),
            );
        }
    }
    out
}

fn filter(
    stack: &StackName,
    key: &Sp<String>,
    spec: &LogMetricSpec,
    groups: &BTreeMap<String, Declared<LogGroupUse>>,
    runs: &mut Vec<SampleRun>,
    d: &mut Diagnostics,
) -> Option<MetricFilter> {
    let Some(group_key) = &spec.log_group else {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "a log metric needs `log_group:`")
                .at(key.span, "no log group")
                .note("name a `log_groups` key, e.g. log_group: workers"),
        );
        return None;
    };
    let group = log_group(groups, group_key, d);
    let Some(written) = &spec.pattern else {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "a log metric needs `pattern:`")
                .at(key.span, "no pattern")
                .note("e.g. pattern: '{ $.event = \"JOB_FAILED\" }'; `pattern: ''` matches every event"),
        );
        return None;
    };
    let parsed = match pattern::parse(&written.value.value) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            d.push(pattern_error(written, &error));
            None
        }
    };
    let (namespace, name, unit) = target(key, spec.metric.as_ref(), d)?;
    let value = value(spec, parsed.as_ref(), d);
    let dimensions = dimensions(spec, parsed.as_ref(), d);
    if let (Some(default), Some((first, _))) = (&spec.default_value, spec.dimensions.first()) {
        d.push(
            Diagnostic::error(
                codes::INVALID_COMBINATION,
                "a metric filter cannot have both `default_value` and `dimensions`",
            )
            .at(default.span, "default value")
            .also(first.span, "dimensions")
            .note("AWS rejects the combination: drop one of them"),
        );
    }
    if let Some(default) = &spec.default_value {
        if !default.value.is_finite() {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    "the default value must be a finite number",
                )
                .at(default.span, "here"),
            );
        }
    }
    if let Some(parsed) = &parsed {
        samples(key, spec, parsed, runs, d);
    }
    let filter_name = format!("{stack}_{}", key.value);
    if filter_name.len() > 512 {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                "the metric filter's name would exceed 512 characters",
            )
            .at(key.span, format!("`{stack}_` + this key")),
        );
        return None;
    }
    Some(MetricFilter {
        filter: FilterRef {
            log_group: group?.value.name.clone(),
            name: filter_name,
        },
        pattern: parsed.map(|_| written.value.value.clone())?,
        namespace,
        metric: name,
        value: value?,
        default_value: spec.default_value.as_ref().map(|v| v.value),
        unit,
        dimensions: dimensions?,
    })
}

/// A pattern error at its character, when the YAML writes the pattern verbatim.
fn pattern_error(written: &Located<String>, error: &PatternError) -> Diagnostic {
    located(
        written,
        (error.offset, error.len),
        format!("invalid filter pattern: {}", error.message),
        error.note.as_deref(),
    )
}

/// A problem inside a string value: at its character when the YAML writes the string
/// verbatim, else at the value with the line and column inside it.
fn located(
    written: &Located<String>,
    (offset, len): (usize, usize),
    message: String,
    note: Option<&str>,
) -> Diagnostic {
    let text = &written.value.value;
    let offset = offset.min(text.len());
    let span = written.inner.map_or(written.value.span, |inner| Span {
        file: written.value.span.file,
        start: inner + offset,
        end: inner + offset + len.max(1).min(text.len().saturating_sub(offset).max(1)),
    });
    let label = message
        .split_once(": ")
        .map_or(message.as_str(), |(_, m)| m)
        .to_string();
    let mut diagnostic = Diagnostic::error(codes::INVALID_VALUE, message).at(span, label);
    if written.inner.is_none() {
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        diagnostic = diagnostic.note(format!("at line {line}, column {column} of the value"));
    }
    if let Some(note) = note {
        diagnostic = diagnostic.note(note.to_string());
    }
    diagnostic
}

/// The published metric's namespace, name and unit.
fn target(
    key: &Sp<String>,
    metric: Option<&Sp<MetricSpec>>,
    d: &mut Diagnostics,
) -> Option<(String, String, Option<String>)> {
    let Some(metric) = metric else {
        d.push(
            Diagnostic::error(codes::MISSING_KEY, "a log metric needs `metric:`")
                .at(key.span, "no metric")
                .note("e.g. metric: { namespace: Transcription, name: JobFailed }"),
        );
        return None;
    };
    let m = &metric.value;
    let mut ok = true;
    for (value, what, example) in [
        (&m.namespace, "namespace", "Transcription"),
        (&m.name, "name", "JobFailed"),
    ] {
        match value {
            None => {
                d.push(
                    Diagnostic::error(codes::MISSING_KEY, format!("the metric has no `{what}`"))
                        .at(metric.span, format!("needs `{what}`"))
                        .note(format!("e.g. {what}: {example}")),
                );
                ok = false;
            }
            Some(text) if text.value.is_empty() || text.value.chars().count() > 255 => {
                d.push(
                    Diagnostic::error(codes::INVALID_VALUE, "must be 1 to 255 characters")
                        .at(text.span, "here"),
                );
                ok = false;
            }
            Some(_) => {}
        }
    }
    if let Some(namespace) = m.namespace.as_ref().filter(|n| n.value.starts_with("AWS/")) {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                "`AWS/` namespaces belong to AWS services",
            )
            .at(namespace.span, "reserved namespace")
            .note("publish log metrics under your own namespace, e.g. `Transcription`"),
        );
        ok = false;
    }
    if let Some(unit) = &m.unit {
        ok &= rules::unit(unit, d);
    }
    ok.then(|| {
        (
            m.namespace
                .as_ref()
                .map(|n| n.value.clone())
                .unwrap_or_default(),
            m.name.as_ref().map(|n| n.value.clone()).unwrap_or_default(),
            m.unit.as_ref().map(|u| u.value.clone()),
        )
    })
}

/// A selector the pattern binds, or a problem pointing at it.
fn check_selector(
    selector: &Sp<String>,
    parsed: Option<&Pattern>,
    what: &str,
    d: &mut Diagnostics,
) -> bool {
    let Some(parsed) = parsed else {
        return true; // the pattern's own error is reported
    };
    if parsed.kind() == PatternKind::Terms {
        d.push(
            Diagnostic::error(
                codes::INVALID_COMBINATION,
                format!("{what} `{}` needs a JSON or space-delimited pattern", selector.value),
            )
            .at(selector.span, "nothing to select from")
            .note("a term pattern matches text but names no fields; use `{ $.field ... }` or `[field, ...]`"),
        );
        return false;
    }
    if !parsed.selector_is_valid(&selector.value) {
        let hint = match parsed.kind() {
            PatternKind::Json => "JSON selectors look like `$.duration` or `$.job.worker`",
            _ => "name a field of the pattern with `$`, e.g. `$status` for `[..., status, ...]`",
        };
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("{what} `{}` is not a field of the pattern", selector.value),
            )
            .at(selector.span, "unknown selector")
            .note(hint),
        );
        return false;
    }
    true
}

/// What each match publishes: `1` unless a number or a selector is given.
fn value(spec: &LogMetricSpec, parsed: Option<&Pattern>, d: &mut Diagnostics) -> Option<String> {
    match &spec.value {
        None => Some("1".to_string()),
        Some(Sp {
            value: MetricValueSpec::Number(n),
            span,
        }) => {
            if n.is_finite() {
                Some(n.to_string())
            } else {
                d.push(
                    Diagnostic::error(codes::INVALID_VALUE, "the value must be a finite number")
                        .at(*span, "here"),
                );
                None
            }
        }
        Some(Sp {
            value: MetricValueSpec::Selector(selector),
            span,
        }) => {
            let selector = Sp::new(selector.clone(), *span);
            check_selector(&selector, parsed, "value", d).then_some(selector.value)
        }
    }
}

fn dimensions(
    spec: &LogMetricSpec,
    parsed: Option<&Pattern>,
    d: &mut Diagnostics,
) -> Option<BTreeMap<String, String>> {
    let mut ok = true;
    if let Some((key, _)) = spec.dimensions.get(MAX_DIMENSIONS) {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("a metric filter has at most {MAX_DIMENSIONS} dimensions"),
            )
            .at(key.span, "the 4th")
            .note("AWS's limit for metric filter dimensions"),
        );
        ok = false;
    }
    let mut dimensions = BTreeMap::new();
    for (name, selector) in &spec.dimensions {
        if name.value.is_empty() || name.value.chars().count() > 255 {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    "dimension names are 1 to 255 characters",
                )
                .at(name.span, "here"),
            );
            ok = false;
        }
        ok &= check_selector(selector, parsed, "dimension", d);
        dimensions.insert(name.value.clone(), selector.value.clone());
    }
    ok.then_some(dimensions)
}

/// Runs the filter's samples: each `match` line must match, each `no_match` must not.
fn samples(
    key: &Sp<String>,
    spec: &LogMetricSpec,
    parsed: &Pattern,
    runs: &mut Vec<SampleRun>,
    d: &mut Diagnostics,
) {
    let Some(samples) = &spec.samples else {
        return;
    };
    let pattern = spec
        .pattern
        .as_ref()
        .map(|p| p.value.value.clone())
        .unwrap_or_default();
    let run = |line: &Sp<String>, expected: bool, found: Option<&pattern::Match>| SampleRun {
        log_metric: key.value.clone(),
        pattern: pattern.clone(),
        line: line.value.clone(),
        expected,
        origin: line.span,
        publishes: found.map(|f| published(spec, f)),
    };
    for line in &samples.not_matching {
        runs.push(run(line, false, parsed.matches(&line.value).as_ref()));
    }
    for line in &samples.matching {
        let found = parsed.matches(&line.value);
        runs.push(run(line, true, found.as_ref()));
        if found.is_none() {
            d.push(
                Diagnostic::error(codes::SAMPLE, "this sample does not match the pattern")
                    .at(
                        line.span,
                        "listed under `match`, but the pattern rejects it",
                    )
                    .note("fix the pattern, or move the line to `no_match`"),
            );
        }
    }
    for line in &samples.not_matching {
        if let Some(found) = parsed.matches(&line.value) {
            let published = published(spec, &found);
            d.push(
                Diagnostic::error(codes::SAMPLE, "this sample matches the pattern")
                    .at(
                        line.span,
                        "listed under `no_match`, but the pattern accepts it",
                    )
                    .note(format!("it would publish {published}")),
            );
        }
    }
}

/// What a match publishes, for messages: `1200 (Worker=w-1)`.
pub fn published(spec: &LogMetricSpec, found: &pattern::Match) -> String {
    let value = match &spec.value {
        None => "1".to_string(),
        Some(Sp {
            value: MetricValueSpec::Number(n),
            ..
        }) => n.to_string(),
        Some(Sp {
            value: MetricValueSpec::Selector(s),
            ..
        }) => found
            .value(s)
            .unwrap_or_else(|| format!("nothing ({s} is absent)")),
    };
    let dimensions: Vec<String> = spec
        .dimensions
        .iter()
        .map(|(name, selector)| {
            format!(
                "{}={}",
                name.value,
                found.value(&selector.value).unwrap_or_else(|| "?".into())
            )
        })
        .collect();
    if dimensions.is_empty() {
        value
    } else {
        format!("{value} ({})", dimensions.join(", "))
    }
}

/// Validates `queries:`: log groups by key, and the query text.
pub fn queries(
    spec: &StackSpec,
    stack: &StackName,
    groups: &BTreeMap<String, Declared<LogGroupUse>>,
    d: &mut Diagnostics,
) -> BTreeMap<String, Declared<QueryDefinition>> {
    let mut out = BTreeMap::new();
    for (key, query_spec) in &spec.queries {
        rules::resource_key(key, "query", d);
        let mut log_groups = Vec::new();
        match &query_spec.log_groups {
            None => d.push(
                Diagnostic::error(codes::MISSING_KEY, "a saved query needs `log_groups:`")
                    .at(key.span, "no log groups")
                    .note("name `log_groups` keys, e.g. log_groups: [workers]"),
            ),
            Some(list) if list.value.is_empty() => d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    "a saved query reads at least one log group",
                )
                .at(list.span, "empty"),
            ),
            Some(list) => {
                for group_key in &list.value {
                    if let Some(group) = log_group(groups, group_key, d) {
                        log_groups.push(group.value.name.clone());
                    }
                }
            }
        }
        let Some(text) = &query_spec.query else {
            d.push(
                Diagnostic::error(codes::MISSING_KEY, "a saved query needs `query:`")
                    .at(key.span, "no query")
                    .note(
                        "e.g. query: fields @timestamp, @message | sort @timestamp desc | limit 20",
                    ),
            );
            continue;
        };
        let ok = check_query(text, d);
        let name = format!("{stack}/{}", key.value);
        if name.chars().count() > 255 {
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    "the query's name would exceed 255 characters",
                )
                .at(key.span, format!("`{stack}/` + this key")),
            );
            continue;
        }
        log_groups.sort();
        log_groups.dedup();
        if ok {
            out.insert(
                name.clone(),
                Declared {
                    value: QueryDefinition {
                        name,
                        log_groups,
                        query: text.value.value.clone(),
                    },
                    key: key.value.clone(),
                    origin: key.span,
                },
            );
        }
    }
    out
}

/// The query must read as Logs Insights commands separated by `|`.
pub(super) fn check_query(text: &Located<String>, d: &mut Diagnostics) -> bool {
    let Err(error) = insights::check(&text.value.value) else {
        return true;
    };
    d.push(located(
        text,
        (error.offset, error.len),
        format!("invalid Logs Insights query: {}", error.message),
        error.note.as_deref(),
    ));
    false
}

/// The stack's specs with every `metric: KEY` of a log metric spelled out (namespace,
/// name, unit from the filter; `Sum` unless a `stat` is given), so that the alarm rules
/// apply to them as to any metric.
pub fn expand_log_metric_refs(
    spec: &StackSpec,
    refs: &BTreeMap<String, LogMetricRef>,
    d: &mut Diagnostics,
) -> StackSpec {
    let mut expanded = spec.clone();
    // Keys of log metrics that failed validation: already reported, not reported again.
    let declared: Vec<String> = spec
        .log_metrics
        .iter()
        .map(|(k, _)| k.value.clone())
        .collect();
    let expand =
        |metric: &mut Sp<MetricSpec>, d: &mut Diagnostics| expand(metric, refs, &declared, d);
    for (_, alarm) in &mut expanded.alarms {
        if let Some(metric) = &mut alarm.metric {
            expand(metric, d);
        }
        for (_, metric) in &mut alarm.metrics {
            expand(metric, d);
        }
    }
    for (_, dashboard) in &mut expanded.dashboards {
        for widget in &mut dashboard.widgets {
            if let WidgetSpec::Metric { metrics, .. } = &mut widget.value {
                for entry in metrics {
                    if let MetricEntry::Metric(metric) = entry {
                        expand(metric, d);
                    }
                }
            }
        }
    }
    expanded
}

fn expand(
    metric: &mut Sp<MetricSpec>,
    refs: &BTreeMap<String, LogMetricRef>,
    declared: &[String],
    d: &mut Diagnostics,
) {
    let Some(key) = metric.value.log_metric.clone() else {
        return;
    };
    let Some(found) = refs.get(&key.value) else {
        if !declared.contains(&key.value) {
            d.push(
                Diagnostic::error(
                    codes::UNRESOLVED_REFERENCE,
                    format!("no log metric `{}` in this stack", key.value),
                )
                .at(key.span, "not a `log_metrics` key")
                .suggest_defined(
                    &key.value,
                    refs.keys().map(String::as_str),
                    |k| refs.get(k).map_or(key.span, |r| r.span),
                    "a metric is a `log_metrics` key, or a mapping with namespace, name and stat",
                ),
            );
        }
        // Spelled out as nothing, so that the alarm reports no second problem.
        metric.value.namespace = Some(Sp::new(String::from("?"), key.span));
        metric.value.name = Some(Sp::new(String::from("?"), key.span));
        metric
            .value
            .stat
            .get_or_insert_with(|| Sp::new("Sum".into(), key.span));
        return;
    };
    for (given, what) in [
        (&metric.value.namespace, "namespace"),
        (&metric.value.name, "name"),
    ] {
        if let Some(given) = given {
            d.push(
                Diagnostic::error(
                    codes::INVALID_COMBINATION,
                    format!("`{what}` comes from the log metric"),
                )
                .at(given.span, "given here")
                .also(key.span, "and the log metric names it"),
            );
        }
    }
    metric.value.namespace = Some(Sp::new(found.namespace.clone(), key.span));
    metric.value.name = Some(Sp::new(found.name.clone(), key.span));
    if metric.value.unit.is_none() {
        metric.value.unit = found.unit.clone().map(|u| Sp::new(u, key.span));
    }
    // Log metrics count events: `Sum` is what an alarm on them means unless told otherwise.
    metric
        .value
        .stat
        .get_or_insert_with(|| Sp::new("Sum".into(), key.span));
}

/// The metric filters a job-events recipe creates: (key suffix, event, metric name, value).
const JOB_METRICS: &[(&str, &str, &str)] = &[
    ("jobs_started", "JOB_START", "JobsStarted"),
    ("jobs_progress", "JOB_PROGRESS", "JobsProgress"),
    ("jobs_completed", "JOB_COMPLETE", "JobsCompleted"),
    ("jobs_failed", "JOB_FAILED", "JobsFailed"),
];

/// How a group's workers write their events.
#[derive(Clone, Debug, PartialEq, Eq)]
enum EventFormat {
    /// `JOB_COMPLETE job_id=job-123 worker_id=w-1 duration=1200`.
    Text,
    /// `{"event": "JOB_COMPLETE", ...}`, after `prefix` when there is one.
    Json { prefix: Option<String> },
}

impl EventFormat {
    /// The pattern that matches one event's lines.
    fn pattern(&self, event: &str) -> String {
        match self {
            // The event is the line's first field.
            EventFormat::Text => format!("[event = {event}, ...]"),
            EventFormat::Json { prefix: None } => format!("{{ $.event = \"{event}\" }}"),
            // JSON patterns need the whole line to be JSON: with a prefix, both words.
            EventFormat::Json {
                prefix: Some(prefix),
            } => format!("\"{prefix}\" \"{event}\""),
        }
    }

    /// Durations are readable by a metric filter only from pure JSON lines: a filter
    /// cannot take `1200` out of `duration=1200`, nor read JSON after a prefix.
    fn duration_pattern(&self) -> Option<String> {
        matches!(self, EventFormat::Json { prefix: None })
            .then(|| "{ $.event = \"JOB_COMPLETE\" && $.duration >= 0 }".to_string())
    }

    /// How a query reads a field from a line.
    fn parse(&self, field: &str, value: &str) -> String {
        match self {
            EventFormat::Text => format!("parse @message /{field}=(?<{field}>{value})/"),
            EventFormat::Json { .. } => {
                format!("parse @message /\"{field}\": ?\"?(?<{field}>{value})/")
            }
        }
    }
}

/// The standard saved queries of the recipe: (key suffix, query text).
fn job_queries(format: &EventFormat) -> Vec<(&'static str, String)> {
    vec![
        (
            "starts",
            "filter @message like /JOB_START/ | stats count(*) as started by bin(5m)".to_string(),
        ),
        (
            "recent-failures",
            "fields @timestamp, @message | filter @message like /JOB_FAILED/ | sort @timestamp desc | limit 50".to_string(),
        ),
        (
            "unfinished",
            format!(
                "fields @timestamp, @message | filter @message like /JOB_START|JOB_COMPLETE|JOB_FAILED/ | {} | stats earliest(@timestamp) as started, latest(@message) as last by job_id | filter last like /JOB_START/ | sort started asc",
                format.parse("job_id", "[^\" ]+")
            ),
        ),
        (
            "slowest",
            format!(
                "filter @message like /JOB_COMPLETE/ | {} | sort duration desc | limit 20",
                format.parse("duration", "\\d+")
            ),
        ),
    ]
}

/// What the log groups' job-events recipes contribute before queues are known.
#[derive(Default)]
pub struct JobEventParts {
    pub filters: BTreeMap<FilterRef, Declared<MetricFilter>>,
    pub queries: BTreeMap<String, Declared<QueryDefinition>>,
}

/// The format and namespace of a recipe, or `None` (reported) when they are wrong.
fn recipe_basics(recipe: &Sp<JobEventsSpec>, d: &mut Diagnostics) -> Option<(EventFormat, String)> {
    let spec = &recipe.value;
    let format = match spec.format.as_ref().map(|f| f.value.as_str()) {
        None | Some("text") => {
            if let Some(prefix) = &spec.prefix {
                d.push(
                    Diagnostic::error(
                        codes::INVALID_COMBINATION,
                        "`prefix` goes with `format: json`",
                    )
                    .at(prefix.span, "text lines have no JSON to find"),
                );
                return None;
            }
            EventFormat::Text
        }
        Some("json") => EventFormat::Json {
            prefix: spec.prefix.as_ref().map(|p| p.value.clone()),
        },
        Some(other) => {
            let span = spec.format.as_ref().map_or(recipe.span, |f| f.span);
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("unknown job-events format `{other}`"),
                )
                .at(span, "expected `text` or `json`")
                .suggest(other, ["text", "json"]),
            );
            return None;
        }
    };
    if let EventFormat::Json {
        prefix: Some(prefix),
    } = &format
    {
        let plain = !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            let span = spec.prefix.as_ref().map_or(recipe.span, |p| p.span);
            d.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    "a prefix is one word of letters, digits and `_`",
                )
                .at(span, "here"),
            );
            return None;
        }
    }
    let Some(namespace) = &spec.namespace else {
        d.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                "the job-events recipe needs `namespace:`",
            )
            .at(recipe.span, "where its metrics go")
            .note("e.g. namespace: Transcription"),
        );
        return None;
    };
    if namespace.value.is_empty() || namespace.value.starts_with("AWS/") {
        d.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                "a custom namespace, not empty and not under `AWS/`",
            )
            .at(namespace.span, "here"),
        );
        return None;
    }
    Some((format, namespace.value.clone()))
}

/// The metric filters and saved queries of every log group's job-events recipe.
pub fn job_events(
    spec: &StackSpec,
    stack: &StackName,
    groups: &BTreeMap<String, Declared<LogGroupUse>>,
    d: &mut Diagnostics,
) -> JobEventParts {
    let mut parts = JobEventParts::default();
    for (key, group_spec) in &spec.log_groups {
        let (Some(recipe), Some(group)) = (&group_spec.job_events, groups.get(&key.value)) else {
            continue;
        };
        let Some((format, namespace)) = recipe_basics(recipe, d) else {
            continue;
        };
        let filter = |suffix: &str,
                      pattern: String,
                      metric: &str,
                      value: &str,
                      default_value,
                      unit: &str| {
            let key = format!("{}.{suffix}", key.value);
            Declared {
                value: MetricFilter {
                    filter: FilterRef {
                        log_group: group.value.name.clone(),
                        name: format!("{stack}_{key}"),
                    },
                    pattern,
                    namespace: namespace.clone(),
                    metric: metric.to_string(),
                    value: value.to_string(),
                    default_value,
                    unit: Some(unit.to_string()),
                    dimensions: BTreeMap::new(),
                },
                key,
                origin: recipe.span,
            }
        };
        let mut filters: Vec<Declared<MetricFilter>> = JOB_METRICS
            .iter()
            // Absence of an event in a period where others arrive means zero of it.
            .map(|(suffix, event, metric)| {
                filter(
                    suffix,
                    format.pattern(event),
                    metric,
                    "1",
                    Some(0.0),
                    "Count",
                )
            })
            .collect();
        if let Some(pattern) = format.duration_pattern() {
            filters.push(filter(
                "jobs_duration",
                pattern,
                "JobDuration",
                "$.duration",
                None,
                "Seconds",
            ));
        }
        for declared in filters {
            parts
                .filters
                .insert(declared.value.filter.clone(), declared);
        }
        for (suffix, query) in job_queries(&format) {
            let query_key = format!("{}.{suffix}", key.value);
            let name = format!("{stack}/{query_key}");
            parts.queries.insert(
                name.clone(),
                Declared {
                    value: QueryDefinition {
                        name,
                        log_groups: vec![group.value.name.clone()],
                        query,
                    },
                    key: query_key,
                    origin: recipe.span,
                },
            );
        }
    }
    parts
}

/// The alarms the recipes ask for, with their metrics; validated with the stack's
/// other alarms. `queues`: the stack's queues by key, for `no_progress`.
pub fn job_event_alarms<'a>(
    spec: &'a StackSpec,
    stack: &StackName,
    queues: &BTreeMap<String, Declared<QueueUse>>,
    d: &mut Diagnostics,
) -> Vec<RecipeAlarm<'a>> {
    let mut alarms = Vec::new();
    for (key, group_spec) in &spec.log_groups {
        let Some(recipe) = &group_spec.job_events else {
            continue;
        };
        let Some(namespace) = recipe.value.namespace.as_ref().map(|n| n.value.clone()) else {
            continue; // reported by `job_events`
        };
        let metric = |name: &str| Metric {
            namespace: namespace.clone(),
            name: name.to_string(),
            dimensions: BTreeMap::new(),
            stat: "Sum".into(),
            period: 0,
            unit: None,
        };
        let queue = match &recipe.value.queue {
            None => None,
            Some(queue_key) => {
                let found = queues.get(&queue_key.value);
                if found.is_none() {
                    d.push(
                        Diagnostic::error(
                            codes::UNRESOLVED_REFERENCE,
                            format!("no queue `{}` in this stack", queue_key.value),
                        )
                        .at(queue_key.span, "not a `queues` key")
                        .suggest_or(
                            &queue_key.value,
                            queues.keys().map(String::as_str),
                            "declare the queue under `queues:`",
                        ),
                    );
                    continue;
                }
                found.map(|q| q.value.name.clone())
            }
        };
        for (alarm_key, alarm_spec) in &recipe.value.alarms {
            let source = match alarm_key.value.as_str() {
                "failures" => AlarmMetric::Single(metric("JobsFailed")),
                "failure_rate" => AlarmMetric::Math {
                    // Percent of finished jobs that failed; 0 when none finished.
                    expression:
                        "IF((completed + failed) > 0, 100 * failed / (completed + failed), 0)"
                            .into(),
                    metrics: BTreeMap::from([
                        ("failed".to_string(), metric("JobsFailed")),
                        ("completed".to_string(), metric("JobsCompleted")),
                    ]),
                },
                "no_progress" => no_progress_metric(&metric, queue.as_deref()),
                _ => continue, // the reader lets only the three through
            };
            alarms.push(RecipeAlarm {
                key: Sp::new(format!("{}.{}", key.value, alarm_key.value), alarm_key.span),
                default_name: format!(
                    "{stack}-{}-{}",
                    key.value,
                    alarm_key.value.replace('_', "-")
                ),
                spec: alarm_spec,
                metric: source,
                redrive_of: None,
            });
        }
    }
    alarms
}

/// Workers that hold jobs but report nothing: with a queue, messages are in flight and
/// neither a progress nor a completion line arrived in the period; without one, no such
/// line arrived at all. `FILL(x, 0)` counts a period without any line as 0.
fn no_progress_metric(metric: &dyn Fn(&str) -> Metric, queue: Option<&str>) -> AlarmMetric {
    let mut metrics = BTreeMap::from([
        ("progress".to_string(), metric("JobsProgress")),
        ("completed".to_string(), metric("JobsCompleted")),
    ]);
    let expression = match queue {
        Some(queue) => {
            metrics.insert(
                "inflight".to_string(),
                Metric::sqs("ApproximateNumberOfMessagesNotVisible", queue, "Maximum", 0),
            );
            "IF(inflight > 0 AND (FILL(progress, 0) + FILL(completed, 0)) == 0, 1, 0)"
        }
        None => "IF((FILL(progress, 0) + FILL(completed, 0)) == 0, 1, 0)",
    };
    AlarmMetric::Math {
        expression: expression.into(),
        metrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recipe_patterns_and_queries_parse_and_match_the_convention() {
        let text = EventFormat::Text;
        let json = EventFormat::Json { prefix: None };
        let prefixed = EventFormat::Json {
            prefix: Some("TRANSCRIPTION_EVENT".into()),
        };
        let lines = [
            (
                &text,
                "JOB_FAILED job_id=job-123 worker_id=worker-456 error=\"GPU out of memory\"",
            ),
            (&json, r#"{"event": "JOB_FAILED", "job_id": "job-123"}"#),
            (
                &prefixed,
                r#"TRANSCRIPTION_EVENT {"event": "JOB_FAILED", "job_id": "job-123"}"#,
            ),
        ];
        for (format, line) in lines {
            let failed = pattern::parse(&format.pattern("JOB_FAILED")).unwrap();
            assert!(failed.matches(line).is_some(), "{format:?} {line}");
            let started = pattern::parse(&format.pattern("JOB_START")).unwrap();
            assert!(started.matches(line).is_none(), "{format:?} {line}");
            for (name, query) in job_queries(format) {
                assert!(
                    insights::check(&query).is_ok(),
                    "{name}: {query}: {:?}",
                    insights::check(&query).err()
                );
            }
        }
        let duration = pattern::parse(&json.duration_pattern().unwrap()).unwrap();
        let found = duration
            .matches(r#"{"event": "JOB_COMPLETE", "duration": 1200}"#)
            .unwrap();
        assert_eq!(found.value("$.duration").as_deref(), Some("1200"));
        assert!(text.duration_pattern().is_none() && prefixed.duration_pattern().is_none());
    }
}
