//! `monplan fmt`: a stack file in canonical key order, comments kept.
//!
//! No maintained Rust crate both parses YAML and writes it back with its comments (the
//! YAML libraries drop comments; the lossless ones edit a tree, not an order), so this
//! is a line-preserving normaliser of what it can prove safe:
//!
//! - the entries of each block mapping whose keys the format defines (`super::keys`)
//!   are put in their table's order, each entry moving as whole lines together with the
//!   comments directly above it; resource keys, tags and dimensions keep the user's order,
//!   and flow mappings (`{ above: 5 }`) and list items are left as written;
//! - trailing whitespace goes, runs of blank lines become one, the file ends in one
//!   newline, CRLF becomes LF.
//!
//! Each step is kept only if the result parses to the same document (every mapping
//! compared as a set of pairs, every list in order) and holds the same lines, comments
//! included, as before; otherwise the step is dropped and the file keeps its text.

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::Value as Json;

use super::keys::{Key, Shape, JOB_ALARMS, METRIC_KEYS, QUEUE_RECIPES, STACK_KEYS};
use super::node::{self, Node, Value};
use super::schema::as_json;
use crate::diag::{Diagnostic, FileId};

/// The canonical text of a stack file, and which steps changed it.
#[derive(Debug, PartialEq, Eq)]
pub struct Formatted {
    pub text: String,
    /// What changed, in the order applied (empty: already canonical).
    pub changes: Vec<&'static str>,
    /// Steps that would have changed the document's meaning, so were not applied.
    pub skipped: Vec<&'static str>,
}

/// One normalisation: the new text, or `None` when it does not apply.
type Step = fn(&str, FileId) -> Option<String>;

/// Formats one file's text. A file that does not parse is an error (validate says why).
pub fn format(file: FileId, source: &str) -> Result<Formatted, Diagnostic> {
    let original = node::parse(file, source)?;
    let meaning = canonical_json(&original);
    let mut text = source.to_string();
    let mut changes = Vec::new();
    let mut skipped = Vec::new();
    let steps: [(&'static str, Step); 3] = [
        ("line endings", |t, _| Some(t.replace("\r\n", "\n"))),
        ("key order", reorder),
        ("whitespace", |t, _| Some(whitespace(t))),
    ];
    for (name, step) in steps {
        let Some(next) = step(&text, file) else {
            continue;
        };
        if next == text {
            continue;
        }
        let same_meaning = node::parse(file, &next).is_ok_and(|n| canonical_json(&n) == meaning);
        if same_meaning && same_lines(&text, &next) {
            text = next;
            changes.push(name);
        } else {
            skipped.push(name);
        }
    }
    Ok(Formatted {
        text,
        changes,
        skipped,
    })
}

/// The document with every mapping's pairs sorted: what key order cannot change.
fn canonical_json(node: &Node) -> Json {
    fn sort(value: Json) -> Json {
        match value {
            Json::Object(map) => {
                let sorted: BTreeMap<String, Json> =
                    map.into_iter().map(|(k, v)| (k, sort(v))).collect();
                Json::Object(sorted.into_iter().collect())
            }
            Json::Array(items) => Json::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    sort(as_json(node))
}

/// The same non-blank lines, ignoring trailing whitespace and order: nothing was lost,
/// added or altered, comments included.
fn same_lines(before: &str, after: &str) -> bool {
    let lines = |text: &str| {
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| l.trim_end().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        lines.sort();
        lines
    };
    lines(before) == lines(after)
}

fn whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// How a mapping's entries are ordered and what their values are.
#[derive(Clone, Copy)]
enum Level {
    /// Keys of a table: put in its order; each value of its key's shape.
    Table(&'static [Key]),
    /// Resource keys (or recipe names): the user's order; every value of this shape.
    Each(&'static Shape),
    /// Anything else (tags, dimensions): left as written.
    Verbatim,
}

fn level(shape: &'static Shape) -> Level {
    match shape {
        Shape::Object { keys, .. } => Level::Table(keys),
        Shape::Keyed(inner) => Level::Each(inner),
        Shape::Recipes => Level::Table(QUEUE_RECIPES),
        Shape::JobAlarms => Level::Table(JOB_ALARMS),
        Shape::Metric => Level::Table(METRIC_KEYS),
        _ => Level::Verbatim,
    }
}

fn reorder(text: &str, file: FileId) -> Option<String> {
    let root = node::parse(file, text).ok()?;
    let lines = Lines::new(text);
    Some(lines.region(&root, Level::Table(STACK_KEYS), 0..text.len()))
}

/// The source with line arithmetic.
struct Lines<'a> {
    text: &'a str,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Self { text }
    }

    fn line_start(&self, at: usize) -> usize {
        self.text[..at].rfind('\n').map_or(0, |i| i + 1)
    }

    /// The start of the line after the one holding `at`.
    fn next_line(&self, at: usize) -> usize {
        self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i + 1)
    }

    /// The line that ends just before `at` (a line start), if any.
    fn line_before(&self, at: usize) -> Option<&'a str> {
        if at == 0 {
            return None;
        }
        let start = self.line_start(at - 1);
        Some(&self.text[start..at - 1])
    }

    fn is_comment(line: &str) -> bool {
        line.trim_start().starts_with('#')
    }

    /// `node`'s entries within `range`, reordered as `level` says, children recursed.
    fn region(&self, node: &Node, level: Level, range: Range<usize>) -> String {
        let verbatim = || self.text[range.clone()].to_string();
        let Value::Map(pairs) = &node.value else {
            return verbatim();
        };
        if matches!(level, Level::Verbatim) || pairs.is_empty() {
            return verbatim();
        }
        // Block style only, each key first on its line (not a `- key:` list item).
        let block = pairs.iter().all(|(k, _)| {
            let start = self.line_start(k.span.start);
            self.text[start..k.span.start].trim().is_empty()
                && k.span.start >= range.start
                && k.span.end <= range.end
        });
        if !block || self.text.as_bytes().get(node.span.start) == Some(&b'{') {
            return verbatim();
        }
        // Where each entry begins: its key's line, or the comments directly above it.
        let mut starts: Vec<usize> = pairs
            .iter()
            .map(|(k, _)| {
                let mut start = self.line_start(k.span.start);
                while start > range.start {
                    match self.line_before(start) {
                        Some(line) if Self::is_comment(line) => {
                            start = self.line_start(start - 1);
                        }
                        _ => break,
                    }
                }
                start.max(range.start)
            })
            .collect();
        // The first entry's comments stay where they are: they head the whole mapping
        // (a file's header comment sits directly above `stack:`).
        starts[0] = self.line_start(pairs[0].0.span.start).max(range.start);
        if starts.windows(2).any(|w| w[0] >= w[1]) {
            return verbatim();
        }
        let head = &self.text[range.start..starts[0]];
        // After the last entry's value: trailing comments and blank lines close the
        // mapping and stay last.
        let (last_key, last_value) = &pairs[pairs.len() - 1];
        let content_end = self
            .next_line(
                last_value
                    .extent()
                    .end
                    .max(last_key.span.end)
                    .saturating_sub(1),
            )
            .min(range.end);
        let content_end = content_end.max(starts[starts.len() - 1]);
        let tail = &self.text[content_end..range.end];
        let mut entries: Vec<(usize, usize, String)> = Vec::with_capacity(pairs.len());
        for (i, (key, value)) in pairs.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(content_end);
            let name = match &key.value {
                Value::Str(s) => s.as_str(),
                _ => "",
            };
            let (rank, child) = match level {
                Level::Table(keys) => keys
                    .iter()
                    .position(|k| k.name == name)
                    .map_or((usize::MAX, Level::Verbatim), |p| {
                        (p, self::level(&keys[p].shape))
                    }),
                Level::Each(shape) => (0, self::level(shape)),
                Level::Verbatim => (0, Level::Verbatim),
            };
            let value_start = self.next_line(key.span.end.saturating_sub(1)).min(end);
            let mut text = self.text[starts[i]..value_start].to_string();
            text.push_str(&self.region(value, child, value_start..end));
            if !text.ends_with('\n') {
                text.push('\n');
            }
            entries.push((rank, i, text));
        }
        if matches!(level, Level::Table(_)) {
            entries.sort_by_key(|(rank, i, _)| (*rank, *i));
        }
        let mut out = head.to_string();
        for (_, _, text) in entries {
            out.push_str(&text);
        }
        out.push_str(tail);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceMap;

    fn fmt(text: &str) -> Formatted {
        let mut sources = SourceMap::default();
        let file = sources.add(std::path::Path::new("t.yaml"), text.to_string());
        format(file, text).unwrap()
    }

    #[test]
    fn keys_take_their_table_order_with_their_comments() {
        let text = "\
# header
stack: shop
alarms:
  # the one that pages
  slow:
    above: 5 # five
    metric: { namespace: N, name: M }
    # who hears of it
    notify: [oncall]
    description: Slow
topics:
  oncall: {}
region: us-east-1
";
        let out = fmt(text);
        assert_eq!(
            out.text,
            "\
# header
stack: shop
region: us-east-1
topics:
  oncall: {}
alarms:
  # the one that pages
  slow:
    description: Slow
    metric: { namespace: N, name: M }
    above: 5 # five
    # who hears of it
    notify: [oncall]
"
        );
        assert_eq!(out.changes, ["key order"]);
        assert_eq!(fmt(&out.text).changes, Vec::<&str>::new(), "idempotent");
    }

    #[test]
    fn resource_keys_tags_and_flow_mappings_keep_their_order() {
        let text = "\
stack: shop
tags:
  z: 1
  a: 2
alarms:
  zeta: { below: 1, metric: x }
  alpha:
    metric: x
    above: 1
";
        assert_eq!(fmt(text).text, text);
    }

    #[test]
    fn whitespace_is_normalised_but_not_inside_block_scalars() {
        let text = "stack: shop  \r\n\r\n\r\ndashboards:\r\n  d:\r\n    widgets:\r\n      - text: |\r\n          keep   \r\n";
        let out = fmt(text);
        // Trailing spaces inside `|` are content: that step is refused, the rest applies.
        assert_eq!(out.skipped, ["whitespace"]);
        assert!(out.text.contains("keep   \n"));
        assert!(!out.text.contains('\r'));
    }

    #[test]
    fn blank_lines_collapse_and_the_file_ends_in_one_newline() {
        let out = fmt("stack: shop   \n\n\n\nregion: r\n\n\n");
        assert_eq!(out.text, "stack: shop\n\nregion: r\n");
    }

    #[test]
    fn list_item_mappings_are_left_alone() {
        let text = "\
stack: shop
dashboards:
  d:
    widgets:
      - metric:
          width: 12
          title: T
";
        let out = fmt(text);
        assert_eq!(out.text, text);
    }

    #[test]
    fn a_syntax_error_is_an_error() {
        let mut sources = SourceMap::default();
        let file = sources.add(std::path::Path::new("t.yaml"), String::new());
        assert!(format(file, "stack: [").is_err());
    }
}
