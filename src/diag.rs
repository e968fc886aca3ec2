//! Diagnostics that point into the YAML: file, line, column, the offending line and a caret.
//!
//! Every stage before the first AWS call (load, validate) pushes problems into one
//! [`Diagnostics`] list instead of stopping at the first, so a user with five mistakes
//! sees five diagnostics in one run. The planner reuses the same type for plan errors that
//! belong to a declared resource (for example "exists outside monplan").

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use std::collections::BTreeMap;

use codespan_reporting::files::{self, SimpleFiles};
use codespan_reporting::term::{self, termcolor};

/// Index of a loaded file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub(crate) usize);

/// Where a value came from: a file and a byte range in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

/// A value and the place in the YAML it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    pub fn as_ref(&self) -> Sp<&T> {
        Sp::new(&self.value, self.span)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sp<U> {
        Sp::new(f(self.value), self.span)
    }
}

/// Every file the run has read, so that diagnostics can quote them.
#[derive(Default)]
pub struct SourceMap {
    files: SimpleFiles<String, String>,
    paths: Vec<PathBuf>,
}

impl SourceMap {
    pub fn add(&mut self, path: &Path, source: String) -> FileId {
        self.paths.push(path.to_path_buf());
        FileId(self.files.add(path.display().to_string(), source))
    }

    pub fn source(&self, id: FileId) -> &str {
        self.files
            .get(id.0)
            .map_or("", |file| file.source().as_str())
    }

    /// Every file read, with its text.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.paths
            .iter()
            .enumerate()
            .map(|(i, path)| (path.as_path(), self.source(FileId(i))))
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.paths[id.0]
    }

    /// 1-based line and column of a byte offset, for messages that are not rendered as snippets.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let source = self.source(span.file);
        let before = &source[..span.start.min(source.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, with a stable code, a primary location and optional related locations.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub primary: Option<(Span, String)>,
    pub secondary: Vec<(Span, String)>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    #[must_use]
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some((span, label.into()));
        self
    }

    #[must_use]
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds the note "did you mean `X`?" when `input` is close to one of `candidates`
    /// (see [`suggest`]); nothing otherwise. The input itself is never suggested.
    #[must_use]
    pub fn suggest<'a>(self, input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Self {
        match closest(input, candidates) {
            Some(s) => self.note(format!("did you mean `{s}`?")),
            None => self,
        }
    }

    /// Like [`Diagnostic::suggest`], but adds the note `otherwise` when nothing is close
    /// (typically the list of what is allowed).
    #[must_use]
    pub fn suggest_or<'a>(
        self,
        input: &str,
        candidates: impl IntoIterator<Item = &'a str>,
        otherwise: impl Into<String>,
    ) -> Self {
        match closest(input, candidates) {
            Some(s) => self.note(format!("did you mean `{s}`?")),
            None => self.note(otherwise),
        }
    }

    /// For a reference to something declared in the YAML: when `input` is close to one of
    /// `candidates`, labels its definition (`defined_at` gives the span of a candidate)
    /// with "did you mean `X`, defined here?"; otherwise adds the note `otherwise`.
    #[must_use]
    pub fn suggest_defined<'a>(
        self,
        input: &str,
        candidates: impl IntoIterator<Item = &'a str>,
        defined_at: impl FnOnce(&'a str) -> Span,
        otherwise: impl Into<String>,
    ) -> Self {
        match closest(input, candidates) {
            Some(s) => {
                let span = defined_at(s);
                self.also(span, format!("did you mean `{s}`, defined here?"))
            }
            None => self.note(otherwise),
        }
    }

    fn to_codespan(&self) -> CsDiagnostic<usize> {
        let severity = match self.severity {
            Severity::Error => CsSeverity::Error,
            Severity::Warning => CsSeverity::Warning,
        };
        let mut labels = Vec::new();
        if let Some((span, label)) = &self.primary {
            labels.push(Label::primary(span.file.0, span.range()).with_message(crop(label)));
        }
        for (span, label) in &self.secondary {
            labels.push(Label::secondary(span.file.0, span.range()).with_message(crop(label)));
        }
        CsDiagnostic::new(severity)
            .with_code(self.code)
            .with_message(crop(&self.message))
            .with_labels(labels)
            .with_notes(self.notes.iter().map(|n| crop(n)).collect())
    }
}

/// The problems collected by one run, in the order they were found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Adds a diagnostic unless the very same one is already there: a bad value in
    /// `defaults` is inherited by many alarms but reported once.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if !self.items.contains(&diagnostic) {
            self.items.push(diagnostic);
        }
    }

    pub fn retain(&mut self, keep: impl FnMut(&Diagnostic) -> bool) {
        self.items.retain(keep);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorts by file and position so that output is stable whatever order rules ran in.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| {
            d.primary
                .as_ref()
                .map_or((usize::MAX, 0), |(s, _)| (s.file.0, s.start))
        });
    }

    /// Renders the diagnostics, rustc style: the first [`MAX_SHOWN`] of them, then how
    /// many more there are. Long lines are shown as a window around the problem and
    /// long messages are cut, so that output stays bounded whatever the input.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let mut buffer = if color {
            termcolor::Buffer::ansi()
        } else {
            termcolor::Buffer::no_color()
        };
        let config = term::Config::default();
        let mut line_starts: Vec<Option<Vec<usize>>> = Vec::new();
        for diagnostic in self.items.iter().take(MAX_SHOWN) {
            let (excerpts, shown) = excerpt(diagnostic, sources, &mut line_starts);
            // Excerpts only where a line had to be cut: whole files keep codespan's gap
            // markers and context lines between labels.
            let rendered = if excerpts.cut() {
                term::emit(&mut buffer, &config, &excerpts, &shown)
            } else {
                term::emit(
                    &mut buffer,
                    &config,
                    &sources.files,
                    &diagnostic.to_codespan(),
                )
            };
            // Rendering into memory only fails on an out-of-range span, which is a bug in a
            // rule; fall back to the plain message rather than losing the diagnostic.
            if rendered.is_err() {
                let _ = std::io::Write::write_fmt(
                    &mut buffer,
                    format_args!(
                        "error[{}]: {}\n",
                        diagnostic.code,
                        crop(&diagnostic.message)
                    ),
                );
            }
        }
        if self.items.len() > MAX_SHOWN {
            let errors = self.items[MAX_SHOWN..]
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let warnings = self.items.len() - MAX_SHOWN - errors;
            let _ = std::io::Write::write_fmt(
                &mut buffer,
                format_args!(
                    "... and {errors} more error(s) and {warnings} more warning(s) not shown (the first {MAX_SHOWN} are)\n\n"
                ),
            );
        }
        String::from_utf8_lossy(buffer.as_slice()).into_owned()
    }
}

/// The most diagnostics one run shows; the rest are counted. A user fixes the first
/// ones first, and a generated file with 100,000 mistakes must not print 100 MB.
pub const MAX_SHOWN: usize = 100;

/// The longest source line shown whole, in characters; longer lines are shown as a
/// window of this width around the problem, with `…` where they were cut.
pub const MAX_LINE_CHARS: usize = 160;

/// The longest message, label or note shown, in characters (a 10,000-character key
/// quoted in "unknown key" is cut; the longest list of allowed keys is not).
pub const MAX_TEXT_CHARS: usize = 600;

/// `text`, cut to [`MAX_TEXT_CHARS`] characters with `…` when longer.
fn crop(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// One line of an [`Excerpt`]: a window of an original line.
struct ExcerptLine {
    /// Byte range in the excerpt's text, newline included.
    range: Range<usize>,
    /// 1-based number of the original line.
    number: usize,
    /// Byte offset in the original file of the window's first character.
    window_start: usize,
    /// Characters of the original line before the window.
    chars_before: usize,
    /// Bytes of the `…` marker at the start of the line (0 when not cut there).
    marker: usize,
}

/// The lines one diagnostic's labels are on, cut to windows, as a file for
/// `codespan-reporting`: line and column numbers are those of the original file.
struct Excerpt {
    name: String,
    text: String,
    lines: Vec<ExcerptLine>,
    /// Whether a line was too long to show whole.
    cut: bool,
}

/// Excerpts of the files `diagnostic` points into (indexed by file id), and the
/// diagnostic with its labels moved into them and its texts cropped.
fn excerpt(
    diagnostic: &Diagnostic,
    sources: &SourceMap,
    line_starts: &mut Vec<Option<Vec<usize>>>,
) -> (Excerpts, CsDiagnostic<usize>) {
    let labels: Vec<(bool, Span, &str)> = diagnostic
        .primary
        .iter()
        .map(|(s, l)| (true, *s, l.as_str()))
        .chain(
            diagnostic
                .secondary
                .iter()
                .map(|(s, l)| (false, *s, l.as_str())),
        )
        .collect();
    let mut files: Vec<Option<Excerpt>> = Vec::new();
    let mut moved = Vec::new();
    for (_, span, _) in &labels {
        let id = span.file.0;
        if line_starts.len() <= id {
            line_starts.resize_with(id + 1, || None);
        }
        if files.len() <= id {
            files.resize_with(id + 1, || None);
        }
        if files[id].is_some() {
            continue;
        }
        let source = sources.source(span.file);
        let starts = line_starts[id].get_or_insert_with(|| {
            std::iter::once(0)
                .chain(source.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        files[id] = Some(Excerpt::new(
            sources
                .files
                .get(id)
                .map_or_else(|_| String::new(), |f| f.name().clone()),
            source,
            starts,
            labels
                .iter()
                .filter(|(_, s, _)| s.file.0 == id)
                .map(|(_, s, _)| *s),
        ));
    }
    for (primary, span, label) in &labels {
        let Some(Some(file)) = files.get(span.file.0) else {
            continue;
        };
        let range = file.map(span.start)..file.map(span.end);
        let shown = if *primary {
            Label::primary(span.file.0, range)
        } else {
            Label::secondary(span.file.0, range)
        };
        moved.push(shown.with_message(crop(label)));
    }
    let severity = match diagnostic.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
    };
    let shown = CsDiagnostic::new(severity)
        .with_code(diagnostic.code)
        .with_message(crop(&diagnostic.message))
        .with_labels(moved)
        .with_notes(diagnostic.notes.iter().map(|n| crop(n)).collect());
    (Excerpts(files), shown)
}
impl Excerpt {
    /// The lines `spans` start and end on, each whole if short, else a window of
    /// [`MAX_LINE_CHARS`] starting a little before the first span on it.
    fn new(
        name: String,
        source: &str,
        starts: &[usize],
        spans: impl Iterator<Item = Span>,
    ) -> Self {
        let line_of = |offset: usize| starts.partition_point(|s| *s <= offset).max(1) - 1;
        // Original line index -> the first offset a span needs shown on it.
        let mut needed: BTreeMap<usize, usize> = BTreeMap::new();
        for span in spans {
            for offset in [span.start, span.end] {
                let offset = offset.min(source.len());
                let entry = needed.entry(line_of(offset)).or_insert(offset);
                *entry = (*entry).min(offset);
            }
        }
        let mut text = String::new();
        let mut lines = Vec::new();
        let mut cut = false;
        for (index, first) in needed {
            let start = starts[index];
            let end = starts.get(index + 1).map_or(source.len(), |e| *e);
            let line = source[start..end].trim_end_matches(['\n', '\r']);
            let at = text.len();
            if line.chars().count() <= MAX_LINE_CHARS {
                text.push_str(line);
                text.push('\n');
                lines.push(ExcerptLine {
                    range: at..text.len(),
                    number: index + 1,
                    window_start: start,
                    chars_before: 0,
                    marker: 0,
                });
                continue;
            }
            cut = true;
            // Some context before the problem, the rest of the width after it.
            let chars_to_first = source[start..first.max(start)].chars().count();
            let skip = chars_to_first.saturating_sub(MAX_LINE_CHARS / 4);
            let window_start = start + line.char_indices().nth(skip).map_or(line.len(), |(b, _)| b);
            let rest = &source[window_start..start + line.len()];
            let window_end = window_start
                + rest
                    .char_indices()
                    .nth(MAX_LINE_CHARS)
                    .map_or(rest.len(), |(b, _)| b);
            let marker = if skip > 0 { "…".len() } else { 0 };
            if skip > 0 {
                text.push('…');
            }
            text.push_str(&source[window_start..window_end]);
            if window_end < start + line.len() {
                text.push('…');
            }
            text.push('\n');
            lines.push(ExcerptLine {
                range: at..text.len(),
                number: index + 1,
                window_start,
                chars_before: skip,
                marker,
            });
        }
        Self {
            name,
            text,
            lines,
            cut,
        }
    }

    /// Where an original byte offset is shown: inside its line's window, or at the
    /// window's nearest edge when the window cut it off.
    fn map(&self, offset: usize) -> usize {
        let index = self
            .lines
            .partition_point(|l| l.window_start <= offset)
            .max(1)
            - 1;
        let Some(line) = self.lines.get(index) else {
            return 0;
        };
        let content_start = line.range.start + line.marker;
        let content_end = self.text[..line.range.end]
            .trim_end_matches('\n')
            .trim_end_matches('…')
            .len()
            .max(content_start);
        let wanted = content_start + offset.saturating_sub(line.window_start);
        let mut shown = wanted.min(content_end);
        while !self.text.is_char_boundary(shown) {
            shown -= 1;
        }
        shown
    }
}

/// The excerpts of one diagnostic, by file id, as `codespan-reporting` files.
struct Excerpts(Vec<Option<Excerpt>>);

impl Excerpts {
    fn cut(&self) -> bool {
        self.0.iter().flatten().any(|e| e.cut)
    }

    fn get(&self, id: usize) -> Result<&Excerpt, files::Error> {
        self.0
            .get(id)
            .and_then(Option::as_ref)
            .ok_or(files::Error::FileMissing)
    }

    fn line(&self, id: usize, line_index: usize) -> Result<&ExcerptLine, files::Error> {
        let excerpt = self.get(id)?;
        excerpt
            .lines
            .get(line_index)
            .ok_or(files::Error::LineTooLarge {
                given: line_index,
                max: excerpt.lines.len().saturating_sub(1),
            })
    }
}

impl<'a> files::Files<'a> for Excerpts {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, files::Error> {
        Ok(self.get(id)?.name.as_str())
    }

    fn source(&'a self, id: usize) -> Result<&'a str, files::Error> {
        Ok(self.get(id)?.text.as_str())
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, files::Error> {
        let excerpt = self.get(id)?;
        Ok(excerpt
            .lines
            .partition_point(|l| l.range.start <= byte_index)
            .max(1)
            - 1)
    }

    fn line_number(&'a self, id: usize, line_index: usize) -> Result<usize, files::Error> {
        Ok(self.line(id, line_index)?.number)
    }

    fn column_number(
        &'a self,
        id: usize,
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, files::Error> {
        let line = self.line(id, line_index)?;
        let text = &self.get(id)?.text;
        let content = line.range.start + line.marker;
        let end = byte_index.clamp(content, line.range.end);
        let within = text.get(content..end).map_or(0, |t| t.chars().count());
        Ok(line.chars_before + within + 1)
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, files::Error> {
        Ok(self.line(id, line_index)?.range.clone())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// The closest candidate to `input` by edit distance, if it is close enough to be a typo.
/// A candidate that starts with the input (`display` -> `display_name`) also counts.
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = input.chars().count();
    candidates
        .into_iter()
        // The distance is at least the difference in length: a 10,000-character key is
        // close to nothing, and measuring it would cost quadratic time.
        .filter(|c| {
            let other = c.chars().count();
            (length >= 3 && c.starts_with(input))
                || length.abs_diff(other) <= (other.max(length) / 3).max(1)
        })
        .map(|c| {
            let prefix = input.len() >= 3 && c.starts_with(input);
            (if prefix { 1 } else { edit_distance(input, c) }, c)
        })
        .filter(|(d, c)| *d <= (c.len().max(input.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// [`suggest`], except that the input itself is never the suggestion.
fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    suggest(input, candidates).filter(|s| *s != input)
}

/// Levenshtein distance in characters: how many edits turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current[j + 1] = (previous[j] + cost)
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["evaluation_periods", "datapoints_to_alarm", "notify"];
        assert_eq!(
            suggest("evaluation_period", keys),
            Some("evaluation_periods")
        );
        assert_eq!(suggest("notfy", keys), Some("notify"));
        assert_eq!(suggest("colour", keys), None);
        assert_eq!(suggest("datapoints", keys), Some("datapoints_to_alarm"));
    }
}

/// Stable diagnostic codes. Tests and users may rely on them; never renumber.
pub mod codes {
    pub const YAML: &str = "E0001";
    pub const WRONG_TYPE: &str = "E0002";
    pub const DUPLICATE_KEY: &str = "E0003";
    pub const UNKNOWN_KEY: &str = "E0004";
    pub const MISSING_KEY: &str = "E0005";
    pub const INVALID_VALUE: &str = "E0006";
    pub const INVALID_COMBINATION: &str = "E0007";
    pub const UNRESOLVED_REFERENCE: &str = "E0008";
    pub const DUPLICATE_NAME: &str = "E0009";
    pub const NOT_SUPPORTED: &str = "E0010";
    pub const MISSING_ENV: &str = "E0011";
    /// `validate` (offline) met an unset `${env:...}`: plan and apply will need it.
    pub const UNSET_ENV: &str = "W0011";
    pub const FILE: &str = "E0012";
    /// A metric filter's sample line goes the wrong way (matches, or does not).
    pub const SAMPLE: &str = "E0013";
    /// `validate --remote`: AWS's matcher and the sample's `match`/`no_match` disagree.
    pub const REMOTE_SAMPLE: &str = "E0014";
    /// A declared name exists in AWS but monplan cannot prove it owns it.
    pub const EXISTS_OUTSIDE: &str = "E0101";
    /// A declared name exists and belongs to another monplan stack.
    pub const OWNED_ELSEWHERE: &str = "E0102";
    /// The account guard of a stack does not match the credentials.
    pub const WRONG_ACCOUNT: &str = "E0103";
    /// A queue, dead-letter queue or Auto Scaling group the stack uses does not exist.
    pub const MISSING_RESOURCE: &str = "E0104";
    pub const PENDING_SUBSCRIPTION: &str = "W0101";
    /// An alarm's metric does not exist (`ListMetrics` finds nothing).
    pub const METRIC_MISSING: &str = "W0201";
    /// An alarm's metric exists, but not with the alarm's dimensions.
    pub const METRIC_DIMENSIONS: &str = "W0202";
    /// An alarm's period is shorter than its AWS metric's resolution.
    pub const PERIOD_BELOW_RESOLUTION: &str = "W0203";
    /// An alarm on a log metric without a default value treats missing data as missing.
    pub const MISSING_DATA: &str = "W0204";
    /// An alarm action in another region or account.
    pub const FOREIGN_ACTION: &str = "W0205";
    /// A topic alarms notify has no subscriptions.
    pub const NOBODY_SUBSCRIBED: &str = "W0206";
    /// An alarm's statistic means nothing for its metric (`Sum` of a queue depth).
    pub const STATISTIC_UNFIT: &str = "W0207";
    /// A notified topic's live subscriptions are pending confirmation, some or all.
    pub const UNCONFIRMED: &str = "W0208";
    /// A topic monplan did not create may not let `CloudWatch` publish: its policy
    /// denies or grants nothing, it does not exist, or its policy could not be read.
    pub const TOPIC_POLICY: &str = "W0209";
    /// An alarm that notifies nobody: no actions, or actions disabled, and no
    /// composite or dashboard uses it.
    pub const NOTIFIES_NOBODY: &str = "W0210";
    /// A queue's visibility timeout is shorter than one job (`processing_time`) or than
    /// a fleet's `stuck_after`: SQS hands the job to a second worker while the first
    /// still holds it.
    pub const VISIBILITY_SHORT: &str = "W0211";
    /// A watched queue has no redrive policy: a job that kills its worker every time is
    /// received again and again until the queue's retention period drops it.
    pub const NO_DEAD_LETTER_QUEUE: &str = "W0212";
    pub const UNMANAGED_LIVE: &str = "W0102";
    /// An ECS service is scaled on Container Insights' task count, but its cluster does
    /// not have Container Insights on: the policy would track no data.
    pub const CONTAINER_INSIGHTS: &str = "W0301";
    /// A scalable target monplan did not register (or cannot prove it did) has another
    /// capacity than the stack's `min`/`max`; monplan will not change it.
    pub const TARGET_NOT_OURS: &str = "W0302";
    /// A fleet on an ECS service asks for `on_stuck: replace`, but no essential
    /// container of the service's task definition has a health check: ECS never marks a
    /// stuck task unhealthy, so nothing replaces it.
    pub const NO_HEALTH_CHECK: &str = "W0303";
    /// The review warnings an alarm, topic, queue or fleet may list under
    /// `ignore_warnings`: advice about a resource, never a fact that makes apply fail.
    pub const IGNORABLE: &[&str] = &[
        METRIC_MISSING,
        METRIC_DIMENSIONS,
        PERIOD_BELOW_RESOLUTION,
        MISSING_DATA,
        FOREIGN_ACTION,
        NOBODY_SUBSCRIBED,
        STATISTIC_UNFIT,
        UNCONFIRMED,
        TOPIC_POLICY,
        NOTIFIES_NOBODY,
        VISIBILITY_SHORT,
        NO_DEAD_LETTER_QUEUE,
        CONTAINER_INSIGHTS,
        TARGET_NOT_OURS,
        NO_HEALTH_CHECK,
    ];
}
