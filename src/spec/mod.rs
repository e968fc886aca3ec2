//! The stack files as written: typed, but unvalidated, and every value located.
//!
//! [`load`] turns files into [`StackSpec`]s, reporting YAML syntax errors, wrong types,
//! unknown keys (with a suggestion) and duplicate keys. Meaning (names, durations against
//! the period rule, references) is `validate`'s job; specs never reach AWS.

pub mod node;
mod read;

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
    pub alarms: Vec<(Sp<String>, AlarmSpec)>,
}

#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub name: Option<Sp<String>>,
    pub display_name: Option<Sp<String>>,
    pub subscriptions: Vec<SubscriptionSpec>,
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

/// An alarm as written. `defaults` use the same type: only the fields listed in
/// [`read::DEFAULTS_KEYS`] can be set there.
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
    /// Set when the alarm uses keys of a kind this version does not support yet
    /// (already reported), so that validation does not pile on more errors.
    pub unsupported_kind: bool,
}

#[derive(Debug, Clone, Default)]
pub struct MetricSpec {
    pub namespace: Option<Sp<String>>,
    pub name: Option<Sp<String>>,
    pub dimensions: Vec<(Sp<String>, Sp<String>)>,
    pub stat: Option<Sp<String>>,
    /// Seconds.
    pub period: Option<Sp<u64>>,
    pub unit: Option<Sp<String>>,
}

/// Reads every stack under `paths`: files as given, directories for `*.yaml`/`*.yml`
/// (not recursive, sorted by name so that output is stable).
pub fn load(paths: &[PathBuf], sources: &mut SourceMap, diags: &mut Diagnostics) -> Vec<StackSpec> {
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

    let mut stacks = Vec::new();
    for path in files {
        let source = match std::fs::read_to_string(&path) {
            Ok(source) => source,
            Err(error) => {
                diags.push(Diagnostic::error(
                    codes::FILE,
                    format!("cannot read {}: {error}", path.display()),
                ));
                continue;
            }
        };
        let file = sources.add(&path, source);
        match node::parse(file, sources.source(file)) {
            Ok(root) => {
                if let Some(stack) = read_stack(file, &root, diags) {
                    stacks.push(stack);
                }
            }
            Err(diagnostic) => diags.push(diagnostic),
        }
    }
    stacks
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
