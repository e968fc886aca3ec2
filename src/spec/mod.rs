//! The stack files as written: typed, but unvalidated, and every value located.
//!
//! [`load`] turns files into [`StackSpec`]s, reporting YAML syntax errors, wrong types,
//! unknown keys (with a suggestion) and duplicate keys. Meaning (names, durations against
//! the period rule, references) is `validate`'s job; specs never reach AWS.

pub mod format;
pub mod keys;
pub mod node;
mod read;
pub mod schema;

use std::path::{Path, PathBuf};

use crate::diag::{codes, Diagnostic, Diagnostics, FileId, SourceMap, Sp, Span};

pub use read::read_stack;

/// One stack file.
#[derive(Debug, Clone)]
pub struct StackSpec {
    pub file: FileId,
    /// The whole document, for errors about keys that are missing.
    pub span: Span,
    pub stack: Option<Sp<String>>,
    pub region: Option<Sp<String>>,
    pub account: Option<Sp<String>>,
    pub tags: Vec<(Sp<String>, Sp<String>)>,
    pub defaults: Option<AlarmSpec>,
    pub topics: Vec<(Sp<String>, TopicSpec)>,
    pub queues: Vec<(Sp<String>, QueueSpec)>,
    pub log_groups: Vec<(Sp<String>, LogGroupSpec)>,
    pub log_metrics: Vec<(Sp<String>, LogMetricSpec)>,
    pub queries: Vec<(Sp<String>, QuerySpec)>,
    pub alarms: Vec<(Sp<String>, AlarmSpec)>,
    pub dashboards: Vec<(Sp<String>, DashboardSpec)>,
    pub workers: Vec<(Sp<String>, WorkerSpec)>,
}

/// A worker fleet and what happens to its stuck workers, as written.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// An EC2 Auto Scaling group's name.
    pub group: Option<Sp<String>>,
    /// `cluster/service` of an ECS service.
    pub service: Option<Sp<String>>,
    /// A `queues` key: the jobs the fleet works on.
    pub queue: Option<Sp<String>>,
    /// A log metric key with a per-worker dimension.
    pub heartbeat: Option<Sp<String>>,
    /// Seconds.
    pub stuck_after: Option<Sp<u64>>,
    /// `replace`, `reboot` or `notify`.
    pub on_stuck: Option<Sp<String>>,
    pub notify: Option<Sp<Vec<Sp<String>>>>,
    /// Review warnings (`W02xx`, `W03xx`) not to report anywhere in this fleet.
    pub ignore_warnings: Option<Sp<Vec<Sp<String>>>>,
    /// The whole fleet as written: the warnings `ignore_warnings` covers lie inside it.
    pub span: Span,
}

/// An existing `CloudWatch` Logs group the stack reads.
#[derive(Debug, Clone, Default)]
pub struct LogGroupSpec {
    pub name: Option<Sp<String>>,
    pub job_events: Option<Sp<JobEventsSpec>>,
}

/// The job-events recipe: metric filters, alarms and saved queries for workers that log
/// `JOB_START` / `JOB_PROGRESS` / `JOB_COMPLETE` / `JOB_FAILED` lines.
#[derive(Debug, Clone, Default)]
pub struct JobEventsSpec {
    /// `text` (`JOB_COMPLETE job_id=... duration=1200`) or `json` (`{"event": ...}`).
    pub format: Option<Sp<String>>,
    /// Text before the JSON of each line (`TRANSCRIPTION_EVENT`), for `json`.
    pub prefix: Option<Sp<String>>,
    pub namespace: Option<Sp<String>>,
    /// A `queues` key: jobs in flight on it are what `no_progress` watches.
    pub queue: Option<Sp<String>>,
    /// `failures`, `failure_rate`, `no_progress`, as alarm fields (`no_progress`'s
    /// `for:` already read as its period, with `above: 0`).
    pub alarms: Vec<(Sp<String>, AlarmSpec)>,
}

/// A metric filter as written.
#[derive(Debug, Clone, Default)]
pub struct LogMetricSpec {
    /// A `log_groups` key.
    pub log_group: Option<Sp<String>>,
    pub pattern: Option<Located<String>>,
    /// Namespace, name and unit of the metric it publishes.
    pub metric: Option<Sp<MetricSpec>>,
    pub value: Option<Sp<MetricValueSpec>>,
    pub default_value: Option<Sp<f64>>,
    pub dimensions: Vec<(Sp<String>, Sp<String>)>,
    pub samples: Option<SamplesSpec>,
}

/// A saved Logs Insights query as written.
#[derive(Debug, Clone, Default)]
pub struct QuerySpec {
    /// `log_groups` keys.
    pub log_groups: Option<Sp<Vec<Sp<String>>>>,
    pub query: Option<Located<String>>,
}

/// A string value and, when the YAML writes it verbatim, where its first character is,
/// so that a problem inside it can be pointed at exactly.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: Sp<T>,
    /// Byte offset of the value's first character in the source.
    pub inner: Option<usize>,
}

/// What a metric filter publishes per matching event: a selector (`$.duration`,
/// `$size`) or a number.
#[derive(Debug, Clone)]
pub enum MetricValueSpec {
    Selector(String),
    Number(f64),
}

/// Log lines a filter must match, and lines it must not.
#[derive(Debug, Clone, Default)]
pub struct SamplesSpec {
    pub matching: Vec<Sp<String>>,
    pub not_matching: Vec<Sp<String>>,
}

#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub name: Option<Sp<String>>,
    pub dead_letter_queue: Option<Sp<String>>,
    /// Recipe name (`oldest_message_age`, ...) and its alarm fields.
    pub alarms: Vec<(Sp<String>, AlarmSpec)>,
    pub scaling: Option<Sp<ScalingSpec>>,
    /// Review warnings not to report anywhere in this queue (its scaling included; its
    /// recipe alarms have their own).
    pub ignore_warnings: Option<Sp<Vec<Sp<String>>>>,
    /// The whole queue as written: the warnings `ignore_warnings` covers lie inside it.
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct ScalingSpec {
    pub group: Option<Sp<String>>,
    /// `cluster/service`: an ECS service, scaled through Application Auto Scaling.
    pub service: Option<Sp<String>>,
    /// Tasks: the scalable target's capacity (services only).
    pub min: Option<Sp<u64>>,
    pub max: Option<Sp<u64>>,
    pub backlog_per_instance: Option<Sp<f64>>,
    /// Seconds (fractions allowed: `0.25s`, `250ms`).
    pub latency: Option<Sp<f64>>,
    pub processing_time: Option<Sp<f64>>,
    pub warmup: Option<Sp<u64>>,
    pub scale_in: Option<Sp<bool>>,
    pub from_zero: Option<Sp<bool>>,
}

#[derive(Debug, Clone)]
pub struct DashboardSpec {
    pub widgets: Vec<Sp<WidgetSpec>>,
    /// A dashboard body as JSON text, instead of `widgets` (what `monplan import` writes
    /// for a dashboard it cannot express as widgets).
    pub body: Option<Sp<String>>,
}

#[derive(Debug, Clone)]
pub enum WidgetSpec {
    Queue(Sp<String>),
    /// `None`: all alarms of the stack.
    Alarms(Option<Vec<Sp<String>>>),
    Metric {
        title: Option<Sp<String>>,
        width: Option<Sp<u64>>,
        metrics: Vec<MetricEntry>,
    },
    Text(Sp<String>),
    Logs(LogsWidgetSpec),
    /// The row of a log group's job-events recipe, by `log_groups` key.
    JobEvents(Sp<String>),
}

/// A `logs` widget as written: a saved query by key (`query:`), or query text of its own
/// (`insights:`) on `log_groups` keys.
#[derive(Debug, Clone, Default)]
pub struct LogsWidgetSpec {
    /// A `queries` key.
    pub query: Option<Sp<String>>,
    /// Logs Insights query text.
    pub insights: Option<Located<String>>,
    /// `log_groups` keys (with `insights:` only: a saved query names its own).
    pub log_groups: Option<Sp<Vec<Sp<String>>>>,
    pub title: Option<Sp<String>>,
    pub width: Option<Sp<u64>>,
    pub view: Option<Sp<String>>,
}

/// An entry of a metric widget: an alarm key (its metrics are shown) or a metric.
#[derive(Debug, Clone)]
pub enum MetricEntry {
    Alarm(Sp<String>),
    Metric(Sp<MetricSpec>),
}

#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub name: Option<Sp<String>>,
    pub display_name: Option<Sp<String>>,
    pub subscriptions: Vec<SubscriptionSpec>,
    /// Review warnings (`W02xx`) not to report for this topic.
    pub ignore_warnings: Option<Sp<Vec<Sp<String>>>>,
    /// Tags of this topic, over the stack's `tags:`.
    pub tags: Vec<(Sp<String>, Sp<String>)>,
    /// `adopt: true`: take ownership of an existing untagged topic of this name.
    pub adopt: Option<Sp<bool>>,
}

#[derive(Debug, Clone)]
pub struct SubscriptionSpec {
    pub protocol: Sp<String>,
    pub endpoint: Sp<String>,
}

/// A threshold: which key it was written under (`above`, ...) and the number.
#[derive(Debug, Clone)]
pub struct ThresholdSpec {
    pub keyword: Sp<String>,
    /// `None` when the value was not a number (already reported).
    pub value: Option<Sp<f64>>,
}

/// An alarm as written. `defaults` and queue recipes use the same type, with fewer keys
/// allowed.
#[derive(Debug, Clone, Default)]
pub struct AlarmSpec {
    pub name: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub metric: Option<Sp<MetricSpec>>,
    pub thresholds: Vec<ThresholdSpec>,
    pub period: Option<Sp<u64>>,
    pub evaluation_periods: Option<Sp<u64>>,
    pub datapoints_to_alarm: Option<Sp<u64>>,
    pub treat_missing_data: Option<Sp<String>>,
    pub actions_enabled: Option<Sp<bool>>,
    pub notify: Option<Sp<Vec<Sp<String>>>>,
    pub notify_ok: Option<Sp<Vec<Sp<String>>>>,
    pub notify_insufficient_data: Option<Sp<Vec<Sp<String>>>>,
    /// Metric math: the expression and its metrics by id.
    pub expression: Option<Sp<String>>,
    pub metrics: Vec<(Sp<String>, Sp<MetricSpec>)>,
    /// Anomaly band: `outside_band`, `above_band` or `below_band`, and its width.
    pub bands: Vec<ThresholdSpec>,
    /// Composite: the rule over alarm keys.
    pub rule: Option<Sp<String>>,
    /// `later`: the metric does not exist yet (the first deploy or first traffic makes
    /// it), so the plan's live check does not warn.
    pub expect_metric: Option<Sp<String>>,
    /// Review warnings (`W02xx`) not to report for this alarm: a team's reviewed
    /// exception, written beside the resource it excuses.
    pub ignore_warnings: Option<Sp<Vec<Sp<String>>>>,
    /// Tags of this alarm, over the stack's `tags:`.
    pub tags: Vec<(Sp<String>, Sp<String>)>,
    /// `adopt: true`: take ownership of an existing untagged alarm of this name.
    pub adopt: Option<Sp<bool>>,
}

#[derive(Debug, Clone, Default)]
pub struct MetricSpec {
    /// A `log_metrics` key whose metric this is (`metric: job-duration`): namespace, name
    /// and unit come from the filter.
    pub log_metric: Option<Sp<String>>,
    pub namespace: Option<Sp<String>>,
    pub name: Option<Sp<String>>,
    pub dimensions: Vec<(Sp<String>, Sp<String>)>,
    pub stat: Option<Sp<String>>,
    /// Seconds.
    pub period: Option<Sp<u64>>,
    pub unit: Option<Sp<String>>,
}

/// The stack files under `paths`: files as given, directories for `*.yaml`/`*.yml`
/// (not recursive, sorted by name so that output is stable).
pub fn stack_files(paths: &[PathBuf], diags: &mut Diagnostics) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match collect_files(path) {
            Ok(found) if found.is_empty() && path.is_dir() => diags.push(Diagnostic::error(
                codes::FILE,
                format!("no *.yaml or *.yml stack files in {}", path.display()),
            )),
            Ok(found) => files.extend(found),
            Err(error) => diags.push(Diagnostic::error(
                codes::FILE,
                format!("cannot read {}: {error}", path.display()),
            )),
        }
    }
    files.sort();
    files.dedup();
    files
}

/// Reads every stack under `paths` (see [`stack_files`]).
pub fn load(paths: &[PathBuf], sources: &mut SourceMap, diags: &mut Diagnostics) -> Vec<StackSpec> {
    let files = stack_files(paths, diags);

    let mut stacks = Vec::new();
    for path in files {
        let bytes = match read_bounded(&path) {
            Ok(bytes) => bytes,
            Err(diagnostic) => {
                diags.push(diagnostic);
                continue;
            }
        };
        if let Some(stack) = load_source(&path, bytes, sources, diags) {
            stacks.push(stack);
        }
    }
    stacks
}

/// The largest stack file monplan reads: 32 MiB. A 100,000-alarm stack is about 15 MB;
/// anything bigger is a generated file gone wrong, and refusing it before reading keeps
/// memory bounded (the tree costs several times the text). Terraform has no such limit,
/// but neither does it hold a whole account's monitoring in one file.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Reads a file, refusing one larger than [`MAX_FILE_BYTES`] without reading it (and one
/// that grows past it while being read, such as a pipe).
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    use std::io::Read;
    let cannot = |error: std::io::Error| {
        Diagnostic::error(
            codes::FILE,
            format!("cannot read {}: {error}", path.display()),
        )
    };
    let too_large = |size: u64| {
        Diagnostic::error(
            codes::FILE,
            format!(
                "{} is {} MiB, larger than a stack file may be ({} MiB)",
                path.display(),
                size.div_ceil(1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
        .note("split the stack into several files (each file is one stack), or check that this is the file you meant")
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let size = file.metadata().map_err(cannot)?.len();
    if size > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Loads one stack from its bytes, as read from `path` (which only names it in
/// diagnostics): the part of [`load`] that needs no file system, for callers that
/// have the text already (the fuzzer).
pub fn load_source(
    path: &Path,
    bytes: Vec<u8>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Option<StackSpec> {
    let (source, bad) = match String::from_utf8(bytes) {
        Ok(source) => match forbidden_character(&source) {
            // Shown with its control characters made visible: a NUL printed as itself
            // is invisible on a terminal (and has no width for the caret to mark). The
            // first one keeps its offset, since nothing before it was replaced.
            Some(bad) => (visible_controls(&source), Some(bad)),
            None => (source, None),
        },
        // Shown with the bad bytes replaced, so that the error can point at them.
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let shown = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let start = String::from_utf8_lossy(&error.as_bytes()[..at]).len();
            (
                shown,
                Some((
                    start,
                    "bytes that are not UTF-8 (save it as UTF-8)".to_string(),
                )),
            )
        }
    };
    let file = sources.add(path, source);
    // YAML streams are Unicode text without control characters: the parser would
    // stop at a NUL and silently cut the value short (`stack: nul<NUL>x` read as
    // `nul`), so such a file is refused where the character is.
    if let Some((start, what)) = bad {
        let end = sources.source(file)[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8());
        diags.push(
            Diagnostic::error(codes::YAML, format!("this file contains {what}"))
                .at(Span { file, start, end }, "here")
                .note("a stack file is UTF-8 text, in which YAML allows no control character but tab, line feed and carriage return"),
        );
        return None;
    }
    match node::parse(file, sources.source(file)) {
        Ok(root) => read_stack(file, &root, diags),
        Err(diagnostic) => {
            diags.push(diagnostic);
            None
        }
    }
}

fn collect_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        // Reading it later reports "not found" with the path, like any other file error.
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?.path();
        let is_yaml = entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if is_yaml && entry.is_file() {
            found.push(entry);
        }
    }
    Ok(found)
}

/// `source` with each character [`forbidden_character`] finds replaced by a visible
/// one: its Unicode control picture (`␀` for NUL) where there is one, else `�`.
fn visible_controls(source: &str) -> String {
    source
        .chars()
        .map(|c| {
            if !is_forbidden(c) {
                c
            } else if c == '\u{7f}' {
                '\u{2421}'
            } else if c < ' ' {
                char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}')
            } else {
                '\u{fffd}'
            }
        })
        .collect()
}

/// Whether YAML forbids `c` in a stream (YAML 1.2, 5.1: C0 controls other than tab,
/// line feed and carriage return, DEL, C1 controls other than NEL, and the
/// non-characters U+FFFE and U+FFFF; surrogates cannot occur in a `String`).
fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}')
        || (('\u{80}'..='\u{9f}').contains(&c) && c != '\u{85}')
        || matches!(c, '\u{fffe}' | '\u{ffff}')
}

/// The first character YAML forbids in a stream ([`is_forbidden`]), with its byte offset
/// and a name for it.
fn forbidden_character(source: &str) -> Option<(usize, String)> {
    source.char_indices().find_map(|(at, c)| {
        is_forbidden(c).then(|| {
            let name = if c == '\0' {
                "a NUL byte (U+0000)".to_string()
            } else {
                format!("the control character U+{:04X}", u32::from(c))
            };
            (at, name)
        })
    })
}
