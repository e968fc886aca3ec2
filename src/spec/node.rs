//! A YAML document as a tree of nodes that remember where they came from.
//!
//! We deliberately do not deserialize straight into typed structs: serde stops at the
//! first wrong type, and we want every problem of a file in one run. So the parser
//! produces this untyped, located tree, and `spec::read` walks it, collecting
//! diagnostics as it goes (the approach cargo-deny takes with `toml-span`).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::AliasLimits;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Location, Options, Spanned};

use crate::diag::{codes, Diagnostic, FileId, Span};

/// A located YAML value.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    /// For a string written verbatim (plain, or quoted without escapes), the byte offset
    /// of its first character in the source, so that a problem inside the string (a
    /// filter pattern's bad character) can be pointed at exactly. `None` otherwise.
    pub inner: Option<usize>,
}

impl Node {
    /// The whole value as written: a container's own span is its first character only,
    /// so this reaches to the end of its last descendant. Iterative, so that deep nesting
    /// cannot exhaust the stack.
    pub fn extent(&self) -> Span {
        let mut end = self.span.end;
        let mut todo = vec![self];
        while let Some(node) = todo.pop() {
            end = end.max(node.span.end);
            match &node.value {
                Value::Seq(items) => todo.extend(items),
                Value::Map(pairs) => todo.extend(pairs.iter().flat_map(|(k, v)| [k, v])),
                _ => {}
            }
        }
        Span { end, ..self.span }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Pairs in document order; duplicates are kept so that validation can report them.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What a user would call this value's type, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// The deepest nesting of lists and mappings a stack may have. A real stack nests about
/// eight levels; the limit keeps every recursive walk of the tree (building it, reading
/// it, dropping it) far from the end of the stack, whatever the input.
pub const MAX_DEPTH: usize = 128;

/// The most nodes (scalars, lists, mappings, aliases counted as what they expand to) a
/// stack may have: a 100,000-alarm stack has about 1.5 million, and each node costs a
/// few hundred bytes while the tree is built, so this bounds memory to well under a GB.
pub const MAX_NODES: usize = 3_000_000;

/// The most parser events an alias may replay in total: with [`MAX_NODES`], what stops
/// an alias bomb ("billion laughs") long before it costs time or memory.
pub const MAX_ALIAS_EVENTS: usize = 250_000;

/// Parses one YAML file into a located tree. A syntax error is fatal for that file only.
pub fn parse(file: FileId, source: &str) -> Result<Node, Diagnostic> {
    let budget = Budget {
        max_depth: MAX_DEPTH,
        max_nodes: MAX_NODES,
        // Every node is an event, and so is every end of a list or mapping.
        max_events: 2 * MAX_NODES,
        max_aliases: MAX_ALIAS_EVENTS,
        max_anchors: MAX_NODES,
        // The size of the file is already bounded (`spec::MAX_FILE_BYTES`).
        max_total_scalar_bytes: usize::MAX,
        // The library's ratio heuristic would refuse 100 alarms sharing `*oncall`; the
        // node and replay caps are what bound the work, so it adds nothing but refusals.
        enforce_alias_anchor_ratio: false,
        ..Budget::default()
    };
    let options = Options {
        // Keep duplicates so that `spec::read` reports each one with "first defined here".
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        // YAML 1.2: `no`, `on`, `off` are strings, not booleans (the "Norway problem").
        strict_booleans: true,
        with_snippet: false,
        budget: Some(budget),
        alias_limits: AliasLimits {
            max_total_replayed_events: MAX_ALIAS_EVENTS,
            max_replay_stack_depth: MAX_DEPTH,
            max_alias_expansions_per_anchor: usize::MAX,
        },
        ..Options::default()
    };
    let index = CharIndex::new(source);
    if source.trim().is_empty() {
        return Err(Diagnostic::error(codes::YAML, "the file is empty").at(
            Span {
                file,
                start: 0,
                end: 0,
            },
            "expected a stack here",
        ));
    }
    match serde_saphyr::from_str_with_options::<Spanned<Raw>>(source, options) {
        Ok(raw) => Ok(raw.into_node(file, &index)),
        Err(error) => {
            let plain = error.without_snippet();
            let message = match plain {
                serde_saphyr::Error::Budget { breach, .. } => breach_message(breach),
                other => {
                    let message = first_line(&other.to_string());
                    if message.starts_with("recursion limit exceeded") {
                        "`[` and `{` nest too deep here (a stack nests a few levels; the parser stops flow nesting at 256)".to_string()
                    } else if message.starts_with("simple key expect ':'") {
                        "a key here is longer than YAML allows a plain key (1024 characters), or lacks its `:`".to_string()
                    } else if message.starts_with("alias replay") {
                        format!("aliases (`*name`) expand to more than {MAX_ALIAS_EVENTS} values in all: an alias bomb? (the anchor is here)")
                    } else {
                        message
                    }
                }
            };
            let span = plain.location().map_or(
                Span {
                    file,
                    start: 0,
                    end: 0,
                },
                |l| index.span(file, l, l.span().len().max(1)),
            );
            Err(Diagnostic::error(codes::YAML, "this is not valid YAML").at(span, message))
        }
    }
}

/// What a breached parser budget means for a stack file, in its words, with the limit.
fn breach_message(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => {
            format!("lists and mappings nest more than {MAX_DEPTH} levels deep here")
        }
        BudgetBreach::Aliases { .. } => {
            format!("more than {MAX_ALIAS_EVENTS} aliases (`*name`) by here")
        }
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => format!(
            "the document has more than {MAX_NODES} values by here (aliases count as what they repeat)"
        ),
        BudgetBreach::Anchors { .. } => format!("more than {MAX_NODES} anchors (`&name`) by here"),
        BudgetBreach::Documents { .. } => {
            "too many documents (`---`): a stack file is one document".to_string()
        }
        other => format!("the parser's safety limits were exceeded here ({other:?})"),
    }
}

/// Error messages of the parser can carry their own location suffix; keep the first line.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_string()
}

/// Converts the parser's line/column locations into the byte ranges diagnostics need.
///
/// The parser documents its columns and lengths as characters, but this version counts
/// bytes (a value after `é` on its line is one column further right; `"ü"` is 4 long),
/// in block and flow style alike: `tests` pins that down with multi-byte text before
/// values on one line. We go through the line (exact) and then bytes, rounded to
/// character boundaries so that a wrong count can never split a character.
struct CharIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> CharIndex<'a> {
    fn new(source: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            source,
            line_starts,
        }
    }

    /// Where `text` starts inside `span` if the source writes it there verbatim.
    fn verbatim(&self, span: Span, text: &str) -> Option<usize> {
        let written = self.source.get(span.start..span.end)?;
        if written == text {
            return Some(span.start);
        }
        let quoted = written.len() == text.len() + 2
            && (written.starts_with('\'') || written.starts_with('"'))
            && written.get(1..written.len() - 1) == Some(text);
        quoted.then_some(span.start + 1)
    }

    /// `byte_len`: the parser's length, in bytes (see the type's note).
    fn span(&self, file: FileId, location: Location, byte_len: usize) -> Span {
        let line = usize::try_from(location.line()).unwrap_or(1).max(1);
        let column = usize::try_from(location.column()).unwrap_or(1).max(1);
        let line_start = self
            .line_starts
            .get(line - 1)
            .copied()
            .unwrap_or(self.source.len());
        let start = self
            .source
            .floor_char_boundary(line_start.saturating_add(column - 1));
        let end = self
            .source
            .ceil_char_boundary(start.saturating_add(byte_len).min(self.source.len()));
        Span { file, start, end }
    }
}

/// The parser's view: values with their locations.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

trait IntoNode {
    fn into_node(self, file: FileId, index: &CharIndex) -> Node;
}

impl IntoNode for Spanned<Raw> {
    fn into_node(self, file: FileId, index: &CharIndex) -> Node {
        // Containers come with an empty span; point at their first character instead.
        let span = index.span(file, self.referenced, self.referenced.span().len().max(1));
        let inner = match &self.value {
            Raw::Str(text) => index.verbatim(span, text),
            _ => None,
        };
        let value = match self.value {
            Raw::Null => Value::Null,
            Raw::Bool(b) => Value::Bool(b),
            Raw::Int(i) => Value::Int(i),
            Raw::Float(f) => Value::Float(f),
            Raw::Str(s) => Value::Str(s),
            Raw::Seq(items) => Value::Seq(
                items
                    .into_iter()
                    .map(|i| i.into_node(file, index))
                    .collect(),
            ),
            Raw::Map(pairs) => Value::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into_node(file, index), v.into_node(file, index)))
                    .collect(),
            ),
        };
        Node { value, span, inner }
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        // Integers past i64 are kept as floats; no field of ours accepts them anyway.
        #[allow(clippy::cast_precision_loss)]
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        Raw::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut pairs = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Raw>>()? {
            let value = map.next_value::<Spanned<Raw>>()?;
            pairs.push((key, value));
        }
        Ok(Raw::Map(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(source: &str) -> Node {
        parse(FileId(0), source).expect("valid YAML")
    }

    #[test]
    fn keeps_locations_and_duplicates() {
        let source = "stack: a\nalarms:\n  x: { above: 5 }\nstack: b\n";
        let node = parse_ok(source);
        let Value::Map(pairs) = node.value else {
            panic!("a map")
        };
        assert_eq!(pairs.len(), 3, "the duplicate key is kept");
        let (key, value) = &pairs[2];
        assert_eq!(&source[key.span.range()], "stack");
        assert_eq!(&source[value.span.range()], "b");
        let Value::Map(inner) = &pairs[1].1.value else {
            panic!("a map")
        };
        let Value::Map(x) = &inner[0].1.value else {
            panic!("a map")
        };
        assert_eq!(&source[x[0].1.span.range()], "5");
        assert_eq!(x[0].1.value, Value::Int(5));
    }

    #[test]
    fn scalars_follow_yaml_1_2() {
        let node = parse_ok("a: no\nb: true\nc: 1.5\nd: '5'\ne: ~\nf: 5m\n");
        let Value::Map(pairs) = node.value else {
            panic!("a map")
        };
        let values: Vec<Value> = pairs.into_iter().map(|(_, v)| v.value).collect();
        assert_eq!(
            values,
            vec![
                Value::Str("no".into()),
                Value::Bool(true),
                Value::Float(1.5),
                Value::Str("5".into()),
                Value::Null,
                Value::Str("5m".into()),
            ]
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let source = "stack: a\nalarms: [\n";
        let error = parse(FileId(0), source).unwrap_err();
        assert_eq!(error.code, "E0001");
        assert!(error.primary.is_some());
    }

    #[test]
    fn multibyte_characters_do_not_shift_spans() {
        let source = "description: \"überall\"\nstack: a\n";
        let node = parse_ok(source);
        let Value::Map(pairs) = node.value else {
            panic!("a map")
        };
        assert_eq!(&source[pairs[1].1.span.range()], "a");
    }

    /// After multi-byte characters on the same line, in flow and in block style, each
    /// value's span is its own text (the parser counts bytes there, not characters).
    #[test]
    fn spans_after_multibyte_characters_on_the_same_line() {
        for source in [
            "{a: \"ü\", bé: ñx, c: [é, ü, \"z\"], d: {e: ö}}\n",
            "a: \"ü\"\nbé: ñx\nc: [é, ü, \"z\"]\nd:\n  e: ö\n",
        ] {
            let node = parse_ok(source);
            let mut texts = Vec::new();
            let mut todo = vec![&node];
            while let Some(n) = todo.pop() {
                match &n.value {
                    Value::Map(pairs) => todo.extend(pairs.iter().flat_map(|(k, v)| [k, v])),
                    Value::Seq(items) => todo.extend(items),
                    Value::Str(s) => texts.push((s.clone(), source[n.span.range()].to_string())),
                    _ => {}
                }
            }
            assert_eq!(texts.len(), 11, "{source}");
            for (value, written) in texts {
                assert!(
                    written == value || written == format!("\"{value}\""),
                    "{value:?} shown as {written:?} in {source:?}"
                );
            }
        }
    }
}
