//! The `CloudWatch` Logs filter pattern language: [`parse`] a pattern, then test log
//! events against it with [`Pattern::matches`], which also says what a metric value or
//! dimension selector would read from the event ([`Match::value`]).
//!
//! Source: the AWS page "Filter pattern syntax for metric filters, subscription filters,
//! filter log events, and Live Tail",
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>
//! (current version), and its older version "Filter and Pattern Syntax" (the
//! `awsdocs/amazon-cloudwatch-logs-user-guide` repository) where the current one is
//! silent. Where neither says, the choice made here is marked **(choice)**.
//!
//! # Forms
//!
//! The first non-blank character decides: `{` is a JSON pattern, `[` a space-delimited
//! one, anything else (including the empty pattern) a terms pattern. A pattern has at
//! most 1024 characters (the `FilterPattern` API limit).
//!
//! ## Terms
//!
//! - Terms are separated by blanks and must all appear (AND). Matching is case
//!   sensitive and by substring: `ERROR` matches `ERRORCODE` (the older page's example
//!   "Exiting with ERRORCODE: -1"; no word boundaries are documented).
//! - Unquoted terms are letters, digits and `_`; anything else must be inside double
//!   quotes (`"exact phrase"`, `"job-123"`). Inside quotes `\"` and `\\` are escapes.
//! - `-term` excludes (also `- term`, as the older page writes `"ERROR" - "Exiting"`).
//! - `?term` terms are alternatives: at least one must appear. As documented, when a
//!   pattern mixes `?` terms with plain or `-` terms, the `?` terms are ignored.
//! - The empty pattern and a quoted blank (`" "`, documented as "match everything")
//!   match every event.
//! - `%regex%` is a regex; the page allows regex as a *standalone* pattern, so a regex
//!   term must be the whole pattern (**choice**: anything else is an error).
//!
//! ## Regex (`%...%`, in all three forms)
//!
//! Letters, digits, space, `: _ # = @ / ; , -`, and the operators `^ $ ? [ ] { } | \ * + .`;
//! `\d \D \s \S \w \W \xhh` and `\` before any character for the literal; `{m,n}` with
//! either bound omittable; `|` at the top level only. Parentheses and multi-byte
//! characters are rejected, as documented. A regex matches anywhere in its text unless
//! anchored. At most two regexes in a JSON or space-delimited pattern. Repetition bounds
//! are capped at 1000 (**choice**). Matching is a Thompson-NFA simulation: linear in the
//! event for a given regex.
//!
//! ## JSON
//!
//! - `{ SELECTOR OP VALUE }` with `&&`, `||` and parentheses (precedence `()` > `&&` >
//!   `||`), at most 64 nested parentheses (**choice**, to bound recursion).
//! - Selectors start with `$.`; properties are letters, digits, `-`, `_`; `[N]` indexes an
//!   array; `['a.b']` names a property with other characters; `*` (`$.*`, `$.a[*]`) is a
//!   wildcard over object fields or array elements: at most one per selector and three
//!   per pattern. A condition on a wildcard holds when it holds for some element.
//! - `=` and `!=` take a string (quoted, or unquoted letters, digits and `_ . * - + : /`
//!   (**choice**: the documented example `123.123.*` is unquoted), a number, a regex, or
//!   `*` (any value). In strings, `*` is a wildcard only at the start and/or the end
//!   (`"job-*"`, `*Event`); inside it is literal (the older page: "`Ev*ent` will only
//!   match the actual string `Ev*ent`").
//! - `<`, `<=`, `>`, `>=` need a number (sign, decimals and scientific notation allowed)
//!   and only hold for JSON numbers (**choice**: a JSON string `"45"` is not compared).
//!   `=`/`!=` with a number compare numerically against JSON numbers, and against the
//!   number as written for JSON strings (**choice**).
//! - `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`; `IS NOT` and `EXISTS` are rejected
//!   (documented as unsupported).
//! - The selector must reach a value node (string, number, boolean): on an array, an
//!   object, `null` or an absent property, `=`, `!=` and the comparisons do not match,
//!   as documented for arrays.
//! - Only the event's JSON is inspected: the whole event (blanks around it allowed) must
//!   be one JSON document, else nothing matches. **(choice)** The page does not say
//!   whether JSON after a text prefix (`TRANSCRIPTION_EVENT {"event": ...}`, Lambda's
//!   `timestamp requestId INFO {...}`) is matched; it only speaks of "JSON log events".
//!   This module does **not** look for JSON after a prefix, so such lines never match a
//!   JSON pattern: log pure JSON, or use a terms or space-delimited pattern.
//!
//! ## Space-delimited
//!
//! - `[name, name OP VALUE, ..., name]`: fields separated by commas, matched in order
//!   against the event's fields. Event fields are separated by blanks; characters
//!   between `"..."` or `[...]` are one field, whose value is read without the quotes or
//!   brackets (the documented extracted fields).
//! - `...` stands for any number of fields (zero included), anywhere, several times.
//! - Without any `...`, an event with more fields than the pattern matches, the last
//!   field taking the rest of the line: the page's `[w1=ERROR, w2]` matches
//!   `ERROR 09/25/2014 12:00:02 Failed to process request` ("include a blank `w2`
//!   indicator").
//! - Conditions: `=`/`!=` with a string (wildcards at either end), a number or a regex;
//!   `<`, `<=`, `>`, `>=` with a number (fields that are not numbers do not match);
//!   `&&`/`||` within one field (`status = 404 || status = 410`), `&&` binding tighter.
//!   Every condition in a field must name that field (**choice**: the older page's
//!   `status_code = 4* && bytes > 1000`, naming a field defined nowhere, is rejected).
//! - Field names are letters, digits and `_`, and unique. One trailing comma is accepted
//!   (the older page's `[..., request=*.html*, status_code=4*,]`).
//!
//! # Selectors for metric values and dimensions
//!
//! [`Pattern::selector_is_valid`]: any well-formed `$.` selector for JSON patterns;
//! `$name` for a named field of a space-delimited pattern; nothing for terms.
//! [`Match::value`] also reads `$1`, `$2`, ... (the event's fields by position) for
//! space-delimited matches.

use std::cmp::Ordering;
use std::fmt;

/// Longest pattern AWS accepts, in characters.
const MAX_PATTERN_CHARS: usize = 1024;
/// Deepest nesting of parentheses in a JSON pattern.
const MAX_NESTING: usize = 64;
/// Regexes allowed in one JSON or space-delimited pattern.
const MAX_REGEXES: usize = 2;
/// Wildcard selectors allowed in one JSON pattern.
const MAX_WILDCARDS: usize = 3;
/// Largest repetition bound in a regex.
const MAX_REPEAT: u32 = 1000;
/// Largest compiled regex, in instructions.
const MAX_REGEX_INSTS: usize = 20_000;
/// Deepest nesting of arrays and objects read in an event.
const MAX_EVENT_DEPTH: usize = 128;

/// The three forms of filter pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternKind {
    Terms,
    Json,
    Delimited,
}

/// Where and why a pattern is invalid: byte offset and length inside the pattern text,
/// a one-line message, and an optional note (e.g. what was expected).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub note: Option<String>,
}

impl PatternError {
    fn new(offset: usize, len: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            len,
            message: message.into(),
            note: None,
        }
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)?;
        if let Some(note) = &self.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PatternError {}

/// A parsed filter pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    body: Body,
}

#[derive(Clone, Debug)]
enum Body {
    Terms(Terms),
    Json(Expr),
    Delimited(Delimited),
}

/// What a matching event binds, for metric values and dimensions.
#[derive(Clone, Debug)]
pub struct Match {
    data: MatchData,
}

#[derive(Clone, Debug)]
enum MatchData {
    Terms,
    Json(JVal),
    Fields {
        named: Vec<(String, String)>,
        all: Vec<String>,
    },
}

/// Parses a filter pattern.
pub fn parse(text: &str) -> Result<Pattern, PatternError> {
    if let Some((offset, c)) = text.char_indices().nth(MAX_PATTERN_CHARS) {
        return Err(PatternError::new(
            offset,
            c.len_utf8(),
            format!("a filter pattern has at most {MAX_PATTERN_CHARS} characters"),
        ));
    }
    let first = text.bytes().find(|b| !is_blank(*b));
    let body = match first {
        Some(b'{') => Body::Json(parse_json(text)?),
        Some(b'[') => Body::Delimited(parse_delimited(text)?),
        _ => Body::Terms(parse_terms(text)?),
    };
    Ok(Pattern { body })
}

impl Pattern {
    pub fn kind(&self) -> PatternKind {
        match self.body {
            Body::Terms(_) => PatternKind::Terms,
            Body::Json(_) => PatternKind::Json,
            Body::Delimited(_) => PatternKind::Delimited,
        }
    }

    /// The selectors a metric value or dimension may use with this pattern:
    /// for JSON `$.a.b` style selectors are always allowed (any path); for space-delimited
    /// patterns the named fields (`$status` refers to field `status`); none for terms.
    pub fn selector_is_valid(&self, selector: &str) -> bool {
        match &self.body {
            Body::Terms(_) => false,
            Body::Json(_) => parse_selector(selector, 0, &mut 0).is_ok(),
            Body::Delimited(d) => selector
                .strip_prefix('$')
                .is_some_and(|name| d.names.iter().any(|n| n == name)),
        }
    }

    /// Whether `event` (one log event's message) matches, and what it binds.
    pub fn matches(&self, event: &str) -> Option<Match> {
        match &self.body {
            Body::Terms(t) => t.matches(event).then_some(Match {
                data: MatchData::Terms,
            }),
            Body::Json(expr) => {
                let root = parse_event_json(event)?;
                expr.eval(&root).then_some(Match {
                    data: MatchData::Json(root),
                })
            }
            Body::Delimited(d) => d.matches(event),
        }
    }
}

impl Match {
    /// The value a selector (`$.duration` for JSON, `$size` for space-delimited) takes in
    /// the matched event, as text (numbers as written; strings without quotes); None when absent.
    pub fn value(&self, selector: &str) -> Option<String> {
        match &self.data {
            MatchData::Terms => None,
            MatchData::Json(root) => {
                let path = parse_selector(selector, 0, &mut 0).ok()?;
                resolve(root, &path)
                    .into_iter()
                    .find_map(|node| scalar(node).map(|(text, _)| text.to_string()))
            }
            MatchData::Fields { named, all } => {
                let name = selector.strip_prefix('$')?;
                if let Some((_, v)) = named.iter().find(|(n, _)| n == name) {
                    return Some(v.clone());
                }
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
                    let index: usize = name.parse().ok()?;
                    return all.get(index.checked_sub(1)?).cloned();
                }
                None
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Shared lexical helpers

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Length in bytes of the character at `offset` (1 when not on a boundary).
fn char_len_at(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|rest| rest.chars().next())
        .map_or(1, char::len_utf8)
}

fn char_at(text: &str, offset: usize) -> char {
    text.get(offset..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or('?')
}

/// Reads a `"..."` string whose opening quote is at `open`; returns its content and the
/// offset just past the closing quote.
fn read_quoted(text: &str, open: usize) -> Result<(String, usize), PatternError> {
    let mut out = String::new();
    let rest = &text[open + 1..];
    let mut chars = rest.char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Ok((out, open + 1 + k + 1)),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => break,
            },
            _ => out.push(c),
        }
    }
    Err(PatternError::new(open, 1, "unterminated quoted string").note("add the closing `\"`"))
}

/// Reads a `%...%` regex whose opening `%` is at `open`; returns it and the offset just
/// past the closing `%`.
fn read_regex(text: &str, open: usize) -> Result<(Regex, usize), PatternError> {
    let rest = &text[open + 1..];
    let Some(close) = rest.find('%') else {
        return Err(PatternError::new(open, 1, "unterminated regex")
            .note("a regex is written between two `%`, e.g. `%ERROR [0-9]+%`"));
    };
    if close == 0 {
        return Err(PatternError::new(open, 2, "empty regex"));
    }
    let regex = Regex::compile(&rest[..close], open + 1)?;
    Ok((regex, open + 1 + close + 1))
}

/// A number as the pattern language writes it: optional sign, digits, optional
/// decimals, optional exponent.
fn parse_number(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse().ok()
}

// ---------------------------------------------------------------------------------------
// Terms

#[derive(Clone, Debug, Default)]
struct Terms {
    include: Vec<Term>,
    optional: Vec<Term>,
    exclude: Vec<Term>,
}

#[derive(Clone, Debug)]
enum Term {
    Text(String),
    Regex(Regex),
}

impl Term {
    fn matches(&self, event: &str) -> bool {
        match self {
            Term::Text(t) => t.trim().is_empty() || event.contains(t.as_str()),
            Term::Regex(r) => r.is_match(event.as_bytes()),
        }
    }
}

impl Terms {
    fn matches(&self, event: &str) -> bool {
        if self.include.is_empty() && self.exclude.is_empty() {
            return self.optional.is_empty() || self.optional.iter().any(|t| t.matches(event));
        }
        // Documented: `?` terms mixed with other terms are ignored.
        self.include.iter().all(|t| t.matches(event))
            && !self.exclude.iter().any(|t| t.matches(event))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TermRole {
    Include,
    Optional,
    Exclude,
}

fn parse_terms(text: &str) -> Result<Terms, PatternError> {
    let b = text.as_bytes();
    let mut terms = Terms::default();
    let mut regex_span = None;
    let mut count = 0;
    let mut i = 0;
    loop {
        while i < b.len() && is_blank(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        let mut role = TermRole::Include;
        if b[i] == b'?' {
            role = TermRole::Optional;
            i += 1;
        } else if b[i] == b'-' {
            role = TermRole::Exclude;
            i += 1;
            while i < b.len() && is_blank(b[i]) {
                i += 1;
            }
        }
        if i >= b.len() || is_blank(b[i]) {
            return Err(PatternError::new(
                start,
                1,
                format!("expected a term after `{}`", char::from(b[start])),
            ));
        }
        let (term, end) = match b[i] {
            b'"' => {
                let (s, end) = read_quoted(text, i)?;
                (Term::Text(s), end)
            }
            b'%' => {
                let (regex, end) = read_regex(text, i)?;
                if role != TermRole::Include {
                    return Err(PatternError::new(
                        start,
                        i - start,
                        "a regex term cannot take `?` or `-`",
                    ));
                }
                regex_span = Some((i, end - i));
                (Term::Regex(regex), end)
            }
            _ => {
                let end = read_bare_term(text, i)?;
                (Term::Text(text[i..end].to_string()), end)
            }
        };
        if end < b.len() && !is_blank(b[end]) {
            return Err(PatternError::new(
                end,
                char_len_at(text, end),
                "expected a blank between terms",
            ));
        }
        count += 1;
        match role {
            TermRole::Include => terms.include.push(term),
            TermRole::Optional => terms.optional.push(term),
            TermRole::Exclude => terms.exclude.push(term),
        }
        i = end;
    }
    if let Some((offset, len)) = regex_span {
        if count > 1 {
            return Err(
                PatternError::new(offset, len, "a regex term must be the whole pattern").note(
                    "a regex stands alone, or goes inside a JSON or space-delimited condition",
                ),
            );
        }
    }
    Ok(terms)
}

/// Reads an unquoted term starting at `start`; returns the offset just past it.
fn read_bare_term(text: &str, start: usize) -> Result<usize, PatternError> {
    for (k, c) in text[start..].char_indices() {
        let at = start + k;
        if c.is_ascii() && is_blank(c as u8) {
            return Ok(at);
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            continue;
        }
        if matches!(c, '}' | ']' | ')') {
            return Err(PatternError::new(at, 1, format!("unbalanced `{c}`")));
        }
        return Err(PatternError::new(
            at,
            c.len_utf8(),
            format!("`{}` must be inside double quotes", c.escape_debug()),
        )
        .note("unquoted terms are letters, digits and `_`"));
    }
    Ok(text.len())
}

// ---------------------------------------------------------------------------------------
// Tokens of JSON and space-delimited patterns

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn is_numeric_only(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

#[derive(Clone, Debug)]
enum Tk {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Ellipsis,
    And,
    Or,
    Op(Op),
    Str(String),
    Regex(Regex),
    Word(String),
}

#[derive(Clone, Debug)]
struct Token {
    tk: Tk,
    start: usize,
    end: usize,
}

fn is_delimiter(b: u8, delimited: bool) -> bool {
    matches!(
        b,
        b'{' | b'}' | b'(' | b')' | b'&' | b'|' | b'=' | b'!' | b'<' | b'>' | b'"' | b'%'
    ) || (delimited && matches!(b, b'[' | b']' | b','))
}

#[allow(clippy::many_single_char_names)]
fn tokenize(text: &str, delimited: bool) -> Result<Vec<Token>, PatternError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut regexes = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if is_blank(c) {
            i += 1;
            continue;
        }
        let start = i;
        let next = b.get(i + 1).copied();
        let (tk, end) = match c {
            b'{' => (Tk::LBrace, i + 1),
            b'}' => (Tk::RBrace, i + 1),
            b'(' => (Tk::LParen, i + 1),
            b')' => (Tk::RParen, i + 1),
            b'[' if delimited => (Tk::LBracket, i + 1),
            b']' if delimited => (Tk::RBracket, i + 1),
            b',' if delimited => (Tk::Comma, i + 1),
            b'&' if next == Some(b'&') => (Tk::And, i + 2),
            b'|' if next == Some(b'|') => (Tk::Or, i + 2),
            b'&' => return Err(PatternError::new(i, 1, "expected `&&`")),
            b'|' => return Err(PatternError::new(i, 1, "expected `||`")),
            b'=' => (Tk::Op(Op::Eq), i + 1),
            b'!' if next == Some(b'=') => (Tk::Op(Op::Ne), i + 2),
            b'!' => return Err(PatternError::new(i, 1, "expected `!=`")),
            b'<' if next == Some(b'=') => (Tk::Op(Op::Le), i + 2),
            b'<' => (Tk::Op(Op::Lt), i + 1),
            b'>' if next == Some(b'=') => (Tk::Op(Op::Ge), i + 2),
            b'>' => (Tk::Op(Op::Gt), i + 1),
            b'"' => {
                let (s, end) = read_quoted(text, i)?;
                (Tk::Str(s), end)
            }
            b'%' => {
                let (regex, end) = read_regex(text, i)?;
                regexes += 1;
                if regexes > MAX_REGEXES {
                    return Err(PatternError::new(
                        i,
                        end - i,
                        format!(
                            "at most {MAX_REGEXES} regexes in a JSON or space-delimited pattern"
                        ),
                    ));
                }
                (Tk::Regex(regex), end)
            }
            _ => {
                let mut j = i;
                let mut quote = None;
                while j < b.len() {
                    let d = b[j];
                    if quote.is_some() {
                        if d == b'\'' {
                            quote = None;
                        }
                        j += 1;
                        continue;
                    }
                    if d == b'\'' && !delimited && b[i] == b'$' {
                        quote = Some(j);
                        j += 1;
                        continue;
                    }
                    if is_blank(d) || is_delimiter(d, delimited) {
                        break;
                    }
                    j += 1;
                }
                if let Some(q) = quote {
                    return Err(PatternError::new(q, 1, "unterminated `'` in a selector"));
                }
                let word = &text[i..j];
                if delimited && word == "..." {
                    (Tk::Ellipsis, j)
                } else {
                    (Tk::Word(word.to_string()), j)
                }
            }
        };
        out.push(Token { tk, start, end });
        i = end;
    }
    Ok(out)
}

/// A value to compare with.
#[derive(Clone, Debug)]
enum Value {
    /// `*`: any value.
    Any,
    Text(Glob),
    Number {
        value: f64,
        text: String,
    },
    Regex(Regex),
}

/// A string with an optional `*` wildcard at either end.
#[derive(Clone, Debug)]
struct Glob {
    lead: bool,
    trail: bool,
    core: String,
}

impl Glob {
    fn new(s: &str) -> Self {
        let lead = s.starts_with('*');
        let rest = if lead { &s[1..] } else { s };
        let trail = rest.ends_with('*');
        let core = if trail { &rest[..rest.len() - 1] } else { rest };
        Self {
            lead,
            trail,
            core: core.to_string(),
        }
    }

    fn matches(&self, text: &str) -> bool {
        match (self.lead, self.trail) {
            (false, false) => text == self.core,
            (false, true) => text.starts_with(self.core.as_str()),
            (true, false) => text.ends_with(self.core.as_str()),
            (true, true) => text.contains(self.core.as_str()),
        }
    }
}

/// One comparison: `OP VALUE`.
#[derive(Clone, Debug)]
struct Check {
    op: Op,
    value: Value,
}

impl Check {
    /// Whether `text` (a number when `is_number`) passes.
    fn holds(&self, text: &str, is_number: bool) -> bool {
        match self.op {
            Op::Eq => self.equals(text, is_number),
            Op::Ne => !self.equals(text, is_number),
            op => {
                let Value::Number { value, .. } = &self.value else {
                    return false;
                };
                if !is_number {
                    return false;
                }
                let Some(actual) = parse_number(text) else {
                    return false;
                };
                let ord = actual.partial_cmp(value);
                match op {
                    Op::Lt => ord == Some(Ordering::Less),
                    Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    Op::Gt => ord == Some(Ordering::Greater),
                    _ => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                }
            }
        }
    }

    fn equals(&self, text: &str, is_number: bool) -> bool {
        match &self.value {
            Value::Any => true,
            Value::Text(glob) => glob.matches(text),
            Value::Regex(regex) => regex.is_match(text.as_bytes()),
            Value::Number { value, text: lit } => {
                if is_number {
                    parse_number(text)
                        .is_some_and(|v| v.partial_cmp(value) == Some(Ordering::Equal))
                } else {
                    text == lit
                }
            }
        }
    }
}

/// A cursor over tokens.
struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    text_len: usize,
    wildcards: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tk> {
        self.toks.get(self.pos).map(|t| &t.tk)
    }

    fn error_here(&self, message: impl Into<String>) -> PatternError {
        match self.toks.get(self.pos) {
            Some(t) => PatternError::new(t.start, t.end - t.start, message),
            None => PatternError::new(self.text_len, 0, message),
        }
    }

    /// Parses the value after `op`.
    fn parse_value(&mut self, op: Op) -> Result<Value, PatternError> {
        let value = match self.peek() {
            Some(Tk::Op(Op::Eq)) if op == Op::Eq => {
                return Err(self
                    .error_here("`==` is not an operator")
                    .note("equality is a single `=`"));
            }
            Some(Tk::Str(s)) => {
                if op.is_numeric_only() {
                    return Err(self
                        .error_here(format!("`{}` compares numbers, not strings", op.symbol()))
                        .note("remove the quotes around a number"));
                }
                if s == "*" {
                    Value::Any
                } else {
                    Value::Text(Glob::new(s))
                }
            }
            Some(Tk::Regex(regex)) => {
                if op.is_numeric_only() {
                    return Err(
                        self.error_here(format!("`{}` compares numbers, not regexes", op.symbol()))
                    );
                }
                Value::Regex(regex.clone())
            }
            Some(Tk::Word(w)) => {
                if let Some(number) = parse_number(w) {
                    Value::Number {
                        value: number,
                        text: w.clone(),
                    }
                } else if op.is_numeric_only() {
                    return Err(self.error_here(format!(
                        "`{}` compares numbers: `{w}` is not a number",
                        op.symbol()
                    )));
                } else {
                    let start = self.toks[self.pos].start;
                    if let Some((k, c)) = w.char_indices().find(|(_, c)| {
                        !(c.is_ascii_alphanumeric()
                            || matches!(c, '_' | '.' | '*' | '-' | '+' | ':' | '/'))
                    }) {
                        return Err(PatternError::new(
                            start + k,
                            c.len_utf8(),
                            format!("`{}` must be inside double quotes", c.escape_debug()),
                        )
                        .note("unquoted values are letters, digits and `_ . * - + : /`"));
                    }
                    if w == "*" {
                        Value::Any
                    } else {
                        Value::Text(Glob::new(w))
                    }
                }
            }
            _ => return Err(self.error_here("expected a value")),
        };
        self.pos += 1;
        Ok(value)
    }
}

// ---------------------------------------------------------------------------------------
// JSON patterns

#[derive(Clone, Debug)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cond(Cond),
}

#[derive(Clone, Debug)]
struct Cond {
    path: Vec<Step>,
    test: Test,
}

#[derive(Clone, Debug)]
enum Test {
    Check(Check),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    AnyKey,
    AnyIndex,
}

fn parse_json(text: &str) -> Result<Expr, PatternError> {
    let toks = tokenize(text, false)?;
    let mut p = Parser {
        toks: &toks,
        pos: 1,
        text_len: text.len(),
        wildcards: 0,
    };
    let open = toks[0].start;
    if matches!(p.peek(), Some(Tk::RBrace)) {
        return Err(p
            .error_here("expected a condition")
            .note("for example `{ $.level = \"ERROR\" }`"));
    }
    let expr = p.parse_or(0)?;
    match p.peek() {
        Some(Tk::RBrace) => p.pos += 1,
        None => return Err(PatternError::new(open, 1, "unclosed `{`: missing `}`")),
        Some(Tk::RParen) => return Err(p.error_here("unbalanced `)`: no `(` opens it")),
        Some(_) => return Err(p.error_here("expected `&&`, `||` or `}`")),
    }
    if p.peek().is_some() {
        return Err(p.error_here("unexpected text after the closing `}`"));
    }
    Ok(expr)
}

impl Parser<'_> {
    fn parse_or(&mut self, depth: usize) -> Result<Expr, PatternError> {
        let mut items = vec![self.parse_and(depth)?];
        while matches!(self.peek(), Some(Tk::Or)) {
            self.pos += 1;
            items.push(self.parse_and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn parse_and(&mut self, depth: usize) -> Result<Expr, PatternError> {
        let mut items = vec![self.parse_primary(depth)?];
        while matches!(self.peek(), Some(Tk::And)) {
            self.pos += 1;
            items.push(self.parse_primary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn parse_primary(&mut self, depth: usize) -> Result<Expr, PatternError> {
        match self.peek() {
            Some(Tk::LParen) => {
                if depth + 1 > MAX_NESTING {
                    return Err(self.error_here(format!(
                        "too deeply nested: at most {MAX_NESTING} parentheses"
                    )));
                }
                let open = self.toks[self.pos].start;
                self.pos += 1;
                let inner = self.parse_or(depth + 1)?;
                match self.peek() {
                    Some(Tk::RParen) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    None | Some(Tk::RBrace) => {
                        Err(PatternError::new(open, 1, "unclosed `(`: missing `)`"))
                    }
                    Some(_) => Err(self.error_here("expected `&&`, `||` or `)`")),
                }
            }
            Some(Tk::Word(w)) if w.starts_with('$') => self.parse_cond(),
            Some(Tk::Word(_)) => Err(self
                .error_here("a selector starts with `$.`")
                .note("for example `$.status` or `$.user.id`")),
            _ => Err(self.error_here("expected a condition")),
        }
    }

    fn parse_cond(&mut self) -> Result<Expr, PatternError> {
        let tok = &self.toks[self.pos];
        let Tk::Word(word) = &tok.tk else {
            return Err(self.error_here("expected a selector"));
        };
        let path = parse_selector(word, tok.start, &mut self.wildcards)?;
        self.pos += 1;
        let test = match self.peek() {
            Some(Tk::Op(op)) => {
                let op = *op;
                self.pos += 1;
                Test::Check(Check {
                    op,
                    value: self.parse_value(op)?,
                })
            }
            Some(Tk::Word(w)) if w == "IS" => {
                self.pos += 1;
                let test = match self.peek() {
                    Some(Tk::Word(w)) if w == "NULL" => Test::IsNull,
                    Some(Tk::Word(w)) if w == "TRUE" => Test::IsTrue,
                    Some(Tk::Word(w)) if w == "FALSE" => Test::IsFalse,
                    Some(Tk::Word(w)) if w == "NOT" => {
                        return Err(self
                            .error_here("`IS NOT` is not supported")
                            .note("use `!=`, or `IS TRUE` / `IS FALSE`"));
                    }
                    _ => {
                        return Err(self.error_here("expected `NULL`, `TRUE` or `FALSE` after `IS`"))
                    }
                };
                self.pos += 1;
                test
            }
            Some(Tk::Word(w)) if w == "NOT" => {
                self.pos += 1;
                if !matches!(self.peek(), Some(Tk::Word(w)) if w == "EXISTS") {
                    return Err(self.error_here("expected `EXISTS` after `NOT`"));
                }
                self.pos += 1;
                Test::NotExists
            }
            Some(Tk::Word(w)) if w == "EXISTS" => {
                return Err(self
                    .error_here("`EXISTS` is not supported")
                    .note("`{ $.a = * }` matches when `$.a` has a value"));
            }
            _ => {
                return Err(self
                    .error_here("expected an operator after the selector")
                    .note("one of `=`, `!=`, `<`, `<=`, `>`, `>=`, `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`"));
            }
        };
        Ok(Expr::Cond(Cond { path, test }))
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Parses a `$.` selector written at `base` in the pattern; `wildcards` counts the
/// wildcards of the whole pattern.
fn parse_selector(s: &str, base: usize, wildcards: &mut usize) -> Result<Vec<Step>, PatternError> {
    let b = s.as_bytes();
    if !s.starts_with("$.") {
        return Err(PatternError::new(
            base,
            char_len_at(s, 0).min(s.len()).max(1),
            "a selector starts with `$.`",
        )
        .note("for example `$.status` or `$.user.id`"));
    }
    let mut steps = Vec::new();
    let mut local = 0;
    let mut wildcard = |at: usize, wildcards: &mut usize| -> Result<(), PatternError> {
        local += 1;
        *wildcards += 1;
        if local > 1 {
            return Err(PatternError::new(
                base + at,
                1,
                "at most one wildcard in a selector",
            ));
        }
        if *wildcards > MAX_WILDCARDS {
            return Err(PatternError::new(
                base + at,
                1,
                format!("at most {MAX_WILDCARDS} wildcard selectors in a pattern"),
            ));
        }
        Ok(())
    };
    let mut i = 2;
    let mut need_name = true;
    loop {
        if need_name {
            need_name = false;
            if i < b.len() && b[i] == b'[' {
                continue;
            }
            if i < b.len() && b[i] == b'*' {
                wildcard(i, wildcards)?;
                steps.push(Step::AnyKey);
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && is_name_byte(b[i]) {
                i += 1;
            }
            if start == i {
                let len = if i < b.len() { char_len_at(s, i) } else { 0 };
                return Err(
                    PatternError::new(base + i, len, "expected a property name").note(
                        "property names are letters, digits, `-` and `_`; use `['...']` for others",
                    ),
                );
            }
            steps.push(Step::Key(s[start..i].to_string()));
            continue;
        }
        if i >= b.len() {
            break;
        }
        match b[i] {
            b'.' => {
                i += 1;
                need_name = true;
            }
            b'[' => {
                let open = i;
                i += 1;
                if i < b.len() && b[i] == b'*' {
                    wildcard(i, wildcards)?;
                    i += 1;
                    steps.push(Step::AnyIndex);
                } else if i < b.len() && b[i] == b'\'' {
                    let Some(close) = s[i + 1..].find('\'') else {
                        return Err(PatternError::new(
                            base + i,
                            1,
                            "unterminated `'` in a selector",
                        ));
                    };
                    steps.push(Step::Key(s[i + 1..i + 1 + close].to_string()));
                    i += close + 2;
                } else {
                    let start = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    if start == i {
                        return Err(PatternError::new(
                            base + open,
                            1,
                            "expected an array index, `*` or `'name'` after `[`",
                        ));
                    }
                    let Ok(index) = s[start..i].parse::<usize>() else {
                        return Err(PatternError::new(
                            base + start,
                            i - start,
                            "array index too large",
                        ));
                    };
                    steps.push(Step::Index(index));
                }
                if i >= b.len() || b[i] != b']' {
                    return Err(PatternError::new(
                        base + open,
                        1,
                        "unclosed `[` in a selector: missing `]`",
                    ));
                }
                i += 1;
            }
            _ => {
                return Err(PatternError::new(
                    base + i,
                    char_len_at(s, i),
                    format!(
                        "unexpected `{}` in a selector",
                        char_at(s, i).escape_debug()
                    ),
                ));
            }
        }
    }
    Ok(steps)
}

impl Expr {
    fn eval(&self, root: &JVal) -> bool {
        match self {
            Expr::Or(items) => items.iter().any(|e| e.eval(root)),
            Expr::And(items) => items.iter().all(|e| e.eval(root)),
            Expr::Cond(cond) => cond.eval(root),
        }
    }
}

impl Cond {
    fn eval(&self, root: &JVal) -> bool {
        let nodes = resolve(root, &self.path);
        match &self.test {
            Test::NotExists => nodes.is_empty(),
            Test::IsNull => nodes.iter().any(|n| matches!(n, JVal::Null)),
            Test::IsTrue => nodes.iter().any(|n| matches!(n, JVal::Bool(true))),
            Test::IsFalse => nodes.iter().any(|n| matches!(n, JVal::Bool(false))),
            Test::Check(check) => nodes
                .iter()
                .any(|n| scalar(n).is_some_and(|(text, is_number)| check.holds(text, is_number))),
        }
    }
}

/// The nodes `path` reaches from `root` (several with a wildcard).
fn resolve<'a>(root: &'a JVal, path: &[Step]) -> Vec<&'a JVal> {
    let mut current = vec![root];
    for step in path {
        let mut next = Vec::new();
        for node in current {
            match (step, node) {
                (Step::Key(k), JVal::Obj(fields)) => {
                    if let Some((_, v)) = fields.iter().rev().find(|(name, _)| name == k) {
                        next.push(v);
                    }
                }
                (Step::Index(i), JVal::Arr(items)) => next.extend(items.get(*i)),
                (Step::AnyKey, JVal::Obj(fields)) => next.extend(fields.iter().map(|(_, v)| v)),
                (Step::AnyIndex, JVal::Arr(items)) => next.extend(items.iter()),
                _ => {}
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current
}

/// A value node's text and whether it is a number; None for null, arrays and objects.
fn scalar(node: &JVal) -> Option<(&str, bool)> {
    match node {
        JVal::Str(s) => Some((s, false)),
        JVal::Num(n) => Some((n, true)),
        JVal::Bool(true) => Some(("true", false)),
        JVal::Bool(false) => Some(("false", false)),
        JVal::Null | JVal::Arr(_) | JVal::Obj(_) => None,
    }
}

// ---------------------------------------------------------------------------------------
// JSON events

/// A JSON value as read from an event; numbers keep their text.
#[derive(Clone, Debug)]
enum JVal {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<JVal>),
    Obj(Vec<(String, JVal)>),
}

/// The event as one JSON document, or None.
fn parse_event_json(event: &str) -> Option<JVal> {
    let mut r = JsonReader {
        s: event,
        b: event.as_bytes(),
        i: 0,
    };
    r.blanks();
    let value = r.value(0)?;
    r.blanks();
    (r.i == r.b.len()).then_some(value)
}

struct JsonReader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl JsonReader<'_> {
    fn blanks(&mut self) {
        while self.i < self.b.len() && is_blank(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.b.get(self.i) == Some(&byte) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &str, value: JVal) -> Option<JVal> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Some(value)
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<JVal> {
        if depth > MAX_EVENT_DEPTH {
            return None;
        }
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                self.blanks();
                if self.eat(b'}') {
                    return Some(JVal::Obj(fields));
                }
                loop {
                    self.blanks();
                    let key = self.string()?;
                    self.blanks();
                    if !self.eat(b':') {
                        return None;
                    }
                    self.blanks();
                    let value = self.value(depth + 1)?;
                    fields.push((key, value));
                    self.blanks();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        return Some(JVal::Obj(fields));
                    }
                    return None;
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.blanks();
                if self.eat(b']') {
                    return Some(JVal::Arr(items));
                }
                loop {
                    self.blanks();
                    items.push(self.value(depth + 1)?);
                    self.blanks();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b']') {
                        return Some(JVal::Arr(items));
                    }
                    return None;
                }
            }
            b'"' => self.string().map(JVal::Str),
            b't' => self.literal("true", JVal::Bool(true)),
            b'f' => self.literal("false", JVal::Bool(false)),
            b'n' => self.literal("null", JVal::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn number(&mut self) -> Option<JVal> {
        let start = self.i;
        self.eat(b'-');
        let digits = |r: &mut Self| {
            let s = r.i;
            while r.i < r.b.len() && r.b[r.i].is_ascii_digit() {
                r.i += 1;
            }
            r.i > s
        };
        if self.eat(b'0') {
            // A leading zero stands alone.
        } else if !digits(self) {
            return None;
        }
        if self.eat(b'.') && !digits(self) {
            return None;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !digits(self) {
                return None;
            }
        }
        Some(JVal::Num(self.s[start..self.i].to_string()))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.i..self.i + 4)?;
        let value = u32::from_str_radix(digits, 16).ok()?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        Some(value)
    }

    fn string(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let mut out = String::new();
        let mut run = self.i;
        loop {
            let byte = *self.b.get(self.i)?;
            match byte {
                b'"' => {
                    out.push_str(&self.s[run..self.i]);
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    out.push_str(&self.s[run..self.i]);
                    self.i += 1;
                    let esc = *self.b.get(self.i)?;
                    self.i += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first)
                                && self.s[self.i..].starts_with("\\u")
                            {
                                self.i += 2;
                                let second = self.hex4()?;
                                if (0xDC00..0xE000).contains(&second) {
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                } else {
                                    0xFFFD
                                }
                            } else {
                                first
                            };
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        _ => return None,
                    }
                    run = self.i;
                }
                0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Space-delimited patterns

#[derive(Clone, Debug)]
struct Delimited {
    slots: Vec<Slot>,
    names: Vec<String>,
}

#[derive(Clone, Debug)]
enum Slot {
    Ellipsis,
    Field {
        name: String,
        cond: Option<FieldExpr>,
    },
}

#[derive(Clone, Debug)]
enum FieldExpr {
    Or(Vec<FieldExpr>),
    And(Vec<FieldExpr>),
    Check(Check),
}

impl FieldExpr {
    fn holds(&self, text: &str) -> bool {
        match self {
            FieldExpr::Or(items) => items.iter().any(|e| e.holds(text)),
            FieldExpr::And(items) => items.iter().all(|e| e.holds(text)),
            FieldExpr::Check(check) => check.holds(text, parse_number(text).is_some()),
        }
    }
}

fn parse_delimited(text: &str) -> Result<Delimited, PatternError> {
    let toks = tokenize(text, true)?;
    let open = toks[0].start;
    let mut p = Parser {
        toks: &toks,
        pos: 1,
        text_len: text.len(),
        wildcards: 0,
    };
    let unclosed = || PatternError::new(open, 1, "unclosed `[`: missing `]`");
    let mut slots = Vec::new();
    let mut names: Vec<String> = Vec::new();
    loop {
        match p.peek() {
            None => return Err(unclosed()),
            Some(Tk::RBracket) => {
                if slots.is_empty() {
                    return Err(p
                        .error_here("expected a field name")
                        .note("a space-delimited pattern names its fields, e.g. `[ip, user, ..., status, size]`"));
                }
                // One trailing comma.
                p.pos += 1;
                break;
            }
            Some(Tk::Ellipsis) => {
                p.pos += 1;
                slots.push(Slot::Ellipsis);
            }
            Some(Tk::Comma | Tk::Op(_)) => return Err(p.error_here("empty field name")),
            Some(Tk::Word(word)) => {
                let tok = &toks[p.pos];
                if let Some((k, c)) = word
                    .char_indices()
                    .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
                {
                    return Err(PatternError::new(
                        tok.start + k,
                        c.len_utf8(),
                        format!("`{}` cannot be part of a field name", c.escape_debug()),
                    )
                    .note("field names are letters, digits and `_`"));
                }
                if names.iter().any(|n| n == word) {
                    return Err(p.error_here(format!("field `{word}` is named twice")));
                }
                let name = word.clone();
                p.pos += 1;
                let cond = if matches!(p.peek(), Some(Tk::Op(_))) {
                    Some(p.parse_field_or(&name)?)
                } else {
                    None
                };
                names.push(name.clone());
                slots.push(Slot::Field { name, cond });
            }
            Some(_) => return Err(p.error_here("expected a field name or `...`")),
        }
        match p.peek() {
            Some(Tk::Comma) => p.pos += 1,
            Some(Tk::RBracket) => {
                p.pos += 1;
                break;
            }
            None => return Err(unclosed()),
            Some(_) => return Err(p.error_here("expected `,` or `]`")),
        }
    }
    if p.peek().is_some() {
        return Err(p.error_here("unexpected text after the closing `]`"));
    }
    Ok(Delimited { slots, names })
}

impl Parser<'_> {
    /// A field's condition; the field's name was just read.
    fn parse_field_or(&mut self, name: &str) -> Result<FieldExpr, PatternError> {
        let mut items = vec![self.parse_field_and(name, true)?];
        while matches!(self.peek(), Some(Tk::Or)) {
            self.pos += 1;
            items.push(self.parse_field_and(name, false)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            FieldExpr::Or(items)
        })
    }

    fn parse_field_and(&mut self, name: &str, first: bool) -> Result<FieldExpr, PatternError> {
        let mut items = vec![self.parse_field_check(name, first)?];
        while matches!(self.peek(), Some(Tk::And)) {
            self.pos += 1;
            items.push(self.parse_field_check(name, false)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            FieldExpr::And(items)
        })
    }

    fn parse_field_check(
        &mut self,
        name: &str,
        name_read: bool,
    ) -> Result<FieldExpr, PatternError> {
        if !name_read {
            match self.peek() {
                Some(Tk::Word(w)) if w == name => self.pos += 1,
                Some(Tk::Word(w)) => {
                    return Err(self
                        .error_here(format!(
                            "this condition names `{w}`, but the field is `{name}`"
                        ))
                        .note("the conditions of a field can only test that field"));
                }
                _ => return Err(self.error_here(format!("expected `{name}` and a condition"))),
            }
        }
        let Some(Tk::Op(op)) = self.peek() else {
            return Err(self.error_here(format!("expected an operator after `{name}`")));
        };
        let op = *op;
        self.pos += 1;
        let value = self.parse_value(op)?;
        Ok(FieldExpr::Check(Check { op, value }))
    }
}

fn is_field_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The event's fields: (offset where the field starts, its value).
fn split_fields(event: &str) -> Vec<(usize, &str)> {
    let b = event.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && is_field_blank(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close {
            let rest = &event[i + 1..];
            if let Some(k) = rest.bytes().position(|c| c == close) {
                out.push((start, &rest[..k]));
                i = i + 1 + k + 1;
            } else {
                out.push((start, rest));
                i = b.len();
            }
        } else {
            while i < b.len() && !is_field_blank(b[i]) {
                i += 1;
            }
            out.push((start, &event[start..i]));
        }
    }
    out
}

impl Delimited {
    fn slot_holds(&self, slot: usize, text: &str) -> bool {
        match &self.slots[slot] {
            Slot::Field {
                cond: Some(cond), ..
            } => cond.holds(text),
            _ => true,
        }
    }

    fn segment_fits(&self, segment: &[usize], fields: &[(usize, &str)], at: usize) -> bool {
        segment
            .iter()
            .enumerate()
            .all(|(k, slot)| self.slot_holds(*slot, fields[at + k].1))
    }

    fn matches(&self, event: &str) -> Option<Match> {
        let fields = split_fields(event);
        let n = fields.len();
        // (slot, value) for every named field.
        let mut bound: Vec<(usize, String)> = Vec::new();
        let plain = self.slots.iter().all(|s| !matches!(s, Slot::Ellipsis));
        if plain {
            let k = self.slots.len();
            if n < k {
                return None;
            }
            for slot in 0..k {
                let text = if slot + 1 == k && n > k {
                    event[fields[slot].0..].trim_end()
                } else {
                    fields[slot].1
                };
                if !self.slot_holds(slot, text) {
                    return None;
                }
                bound.push((slot, text.to_string()));
            }
        } else {
            let mut segments: Vec<Vec<usize>> = vec![Vec::new()];
            for (index, slot) in self.slots.iter().enumerate() {
                match slot {
                    Slot::Ellipsis => segments.push(Vec::new()),
                    Slot::Field { .. } => segments.last_mut()?.push(index),
                }
            }
            let leading = matches!(self.slots.first(), Some(Slot::Ellipsis));
            let trailing = matches!(self.slots.last(), Some(Slot::Ellipsis));
            let segments: Vec<Vec<usize>> =
                segments.into_iter().filter(|s| !s.is_empty()).collect();
            let mut rest: &[Vec<usize>] = &segments;
            let mut placed: Vec<(usize, &[usize])> = Vec::new();
            let mut lo = 0;
            let mut hi = n;
            if !leading {
                if let Some((first, others)) = rest.split_first() {
                    if first.len() > n || !self.segment_fits(first, &fields, 0) {
                        return None;
                    }
                    placed.push((0, first));
                    lo = first.len();
                    rest = others;
                }
            }
            if !trailing {
                if let Some((last, others)) = rest.split_last() {
                    let at = hi.checked_sub(last.len())?;
                    if at < lo || !self.segment_fits(last, &fields, at) {
                        return None;
                    }
                    placed.push((at, last));
                    hi = at;
                    rest = others;
                }
            }
            for segment in rest {
                let last_start = hi.checked_sub(segment.len())?;
                let at = (lo..=last_start).find(|at| self.segment_fits(segment, &fields, *at))?;
                placed.push((at, segment));
                lo = at + segment.len();
            }
            for (at, segment) in placed {
                for (k, slot) in segment.iter().enumerate() {
                    bound.push((*slot, fields[at + k].1.to_string()));
                }
            }
        }
        let named = bound
            .into_iter()
            .filter_map(|(slot, value)| match &self.slots[slot] {
                Slot::Field { name, .. } => Some((name.clone(), value)),
                Slot::Ellipsis => None,
            })
            .collect();
        let all = fields.iter().map(|(_, v)| (*v).to_string()).collect();
        Some(Match {
            data: MatchData::Fields { named, all },
        })
    }
}

// ---------------------------------------------------------------------------------------
// Regex

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn add(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1u64 << (b & 63);
    }

    fn add_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.add(b);
        }
    }

    fn has(self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1u64 << (b & 63)) != 0
    }

    fn negate(self) -> Self {
        Self(self.0.map(|w| !w))
    }

    fn union(&mut self, other: Self) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }

    fn single(b: u8) -> Self {
        let mut s = Self::default();
        s.add(b);
        s
    }

    fn all() -> Self {
        Self([u64::MAX; 4])
    }

    fn digits() -> Self {
        let mut s = Self::default();
        s.add_range(b'0', b'9');
        s
    }

    fn word() -> Self {
        let mut s = Self::digits();
        s.add_range(b'a', b'z');
        s.add_range(b'A', b'Z');
        s.add(b'_');
        s
    }

    fn space() -> Self {
        let mut s = Self::default();
        for b in [b' ', b'\t', b'\n', b'\r', 0x0b, 0x0c] {
            s.add(b);
        }
        s
    }
}

#[derive(Clone, Copy, Debug)]
enum Inst {
    Byte(ByteSet),
    Split(usize, usize),
    Jmp(usize),
    Bol,
    Eol,
    Match,
}

#[derive(Clone, Debug)]
enum Piece {
    Atom {
        set: ByteSet,
        min: u32,
        max: Option<u32>,
        repeated: bool,
    },
    Bol,
    Eol,
}

/// A compiled `CloudWatch` regex (no groups, so no backtracking is ever needed).
#[derive(Clone, Debug)]
struct Regex {
    insts: Vec<Inst>,
}

fn regex_literal_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b' ' | b':' | b'_' | b'#' | b'=' | b'@' | b'/' | b';' | b',' | b'-'
        )
}

enum Escaped {
    Set(ByteSet),
    Byte(u8),
}

impl Regex {
    /// Compiles `src`, which starts at byte `base` of the pattern.
    #[allow(clippy::many_single_char_names)]
    fn compile(src: &str, base: usize) -> Result<Self, PatternError> {
        let b = src.as_bytes();
        let mut alts: Vec<Vec<Piece>> = vec![Vec::new()];
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if !c.is_ascii() {
                return Err(Self::multibyte(src, base, i));
            }
            let piece = match c {
                b'|' => {
                    alts.push(Vec::new());
                    i += 1;
                    continue;
                }
                b'^' => Piece::Bol,
                b'$' => Piece::Eol,
                b'(' | b')' => {
                    return Err(PatternError::new(
                        base + i,
                        1,
                        "parentheses are not supported in a regex",
                    )
                    .note("`\\x28` and `\\x29` match `(` and `)`"));
                }
                b'.' => Piece::Atom {
                    set: ByteSet::all(),
                    min: 1,
                    max: Some(1),
                    repeated: false,
                },
                b'[' => {
                    let (set, end) = Self::class(src, base, i)?;
                    if let Some(alt) = alts.last_mut() {
                        alt.push(Piece::Atom {
                            set,
                            min: 1,
                            max: Some(1),
                            repeated: false,
                        });
                    }
                    i = end;
                    continue;
                }
                b'\\' => {
                    let (esc, end) = Self::escape(src, base, i)?;
                    let set = match esc {
                        Escaped::Set(s) => s,
                        Escaped::Byte(b) => ByteSet::single(b),
                    };
                    if let Some(alt) = alts.last_mut() {
                        alt.push(Piece::Atom {
                            set,
                            min: 1,
                            max: Some(1),
                            repeated: false,
                        });
                    }
                    i = end;
                    continue;
                }
                b'*' | b'+' | b'?' | b'{' => {
                    let (min, max, end) = if c == b'{' {
                        Self::repetition(src, base, i)?
                    } else {
                        let (min, max) = match c {
                            b'*' => (0, None),
                            b'+' => (1, None),
                            _ => (0, Some(1)),
                        };
                        (min, max, i + 1)
                    };
                    let last = alts.last_mut().and_then(|a| a.last_mut());
                    match last {
                        Some(Piece::Atom {
                            min: m,
                            max: x,
                            repeated,
                            ..
                        }) if !*repeated => {
                            *m = min;
                            *x = max;
                            *repeated = true;
                        }
                        _ => {
                            return Err(PatternError::new(
                                base + i,
                                1,
                                format!("nothing to repeat before `{}`", char::from(c)),
                            ));
                        }
                    }
                    i = end;
                    continue;
                }
                b']' | b'}' => Piece::Atom {
                    set: ByteSet::single(c),
                    min: 1,
                    max: Some(1),
                    repeated: false,
                },
                _ if regex_literal_ok(c) => Piece::Atom {
                    set: ByteSet::single(c),
                    min: 1,
                    max: Some(1),
                    repeated: false,
                },
                _ => return Err(Self::unsupported(src, base, i)),
            };
            if let Some(alt) = alts.last_mut() {
                alt.push(piece);
            }
            i += 1;
        }
        Self::emit(&alts, base)
    }

    fn multibyte(src: &str, base: usize, i: usize) -> PatternError {
        PatternError::new(
            base + i,
            char_len_at(src, i),
            "multi-byte characters are not supported in a regex",
        )
    }

    fn unsupported(src: &str, base: usize, i: usize) -> PatternError {
        PatternError::new(
            base + i,
            char_len_at(src, i),
            format!("`{}` is not supported in a regex", char_at(src, i).escape_debug()),
        )
        .note("regexes use letters, digits, space, `:_#=@/;,-` and the operators `^$?[]{}|\\*+.`; `\\xhh` matches any other ASCII character")
    }

    /// Reads an escape at `i` (the `\`); returns it and the offset past it.
    fn escape(src: &str, base: usize, i: usize) -> Result<(Escaped, usize), PatternError> {
        let b = src.as_bytes();
        let Some(&c) = b.get(i + 1) else {
            return Err(PatternError::new(
                base + i,
                1,
                "a regex cannot end with `\\`",
            ));
        };
        if !c.is_ascii() {
            return Err(Self::multibyte(src, base, i + 1));
        }
        let esc = match c {
            b'd' => Escaped::Set(ByteSet::digits()),
            b'D' => Escaped::Set(ByteSet::digits().negate()),
            b'w' => Escaped::Set(ByteSet::word()),
            b'W' => Escaped::Set(ByteSet::word().negate()),
            b's' => Escaped::Set(ByteSet::space()),
            b'S' => Escaped::Set(ByteSet::space().negate()),
            b'x' => {
                let hex = src
                    .get(i + 2..i + 4)
                    .filter(|h| h.bytes().all(|d| d.is_ascii_hexdigit()));
                let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) else {
                    return Err(PatternError::new(
                        base + i,
                        2,
                        "`\\x` takes two hexadecimal digits",
                    ));
                };
                return Ok((Escaped::Byte(value), i + 4));
            }
            other => Escaped::Byte(other),
        };
        Ok((esc, i + 2))
    }

    /// Reads a character class at `open` (the `[`); returns it and the offset past `]`.
    fn class(src: &str, base: usize, open: usize) -> Result<(ByteSet, usize), PatternError> {
        let b = src.as_bytes();
        let mut i = open + 1;
        let negate = b.get(i) == Some(&b'^');
        if negate {
            i += 1;
        }
        let mut set = ByteSet::default();
        let mut first = true;
        loop {
            let Some(&c) = b.get(i) else {
                return Err(PatternError::new(
                    base + open,
                    1,
                    "unclosed `[` in a regex: missing `]`",
                ));
            };
            if c == b']' && !first {
                i += 1;
                break;
            }
            first = false;
            let lo = if c == b'\\' {
                let (esc, end) = Self::escape(src, base, i)?;
                i = end;
                match esc {
                    Escaped::Set(s) => {
                        set.union(s);
                        continue;
                    }
                    Escaped::Byte(b) => b,
                }
            } else if !c.is_ascii() {
                return Err(Self::multibyte(src, base, i));
            } else if c == b'('
                || c == b')'
                || !(regex_literal_ok(c) || b"^$?[]{}|*+.".contains(&c))
            {
                return Err(Self::unsupported(src, base, i));
            } else {
                i += 1;
                c
            };
            if b.get(i) == Some(&b'-') && b.get(i + 1).is_some_and(|n| *n != b']') {
                let dash = i;
                let hc = b[i + 1];
                let hi = if hc == b'\\' {
                    match Self::escape(src, base, i + 1)? {
                        (Escaped::Byte(h), end) => {
                            i = end;
                            h
                        }
                        (Escaped::Set(_), _) => {
                            return Err(PatternError::new(
                                base + dash,
                                1,
                                "a range cannot end with a class",
                            ));
                        }
                    }
                } else if !hc.is_ascii() {
                    return Err(Self::multibyte(src, base, i + 1));
                } else {
                    i += 2;
                    hc
                };
                if lo > hi {
                    return Err(PatternError::new(
                        base + dash,
                        1,
                        "invalid range: its start is after its end",
                    ));
                }
                set.add_range(lo, hi);
            } else {
                set.add(lo);
            }
        }
        Ok((if negate { set.negate() } else { set }, i))
    }

    /// Reads `{m,n}` at `open`; returns the bounds and the offset past `}`.
    fn repetition(
        src: &str,
        base: usize,
        open: usize,
    ) -> Result<(u32, Option<u32>, usize), PatternError> {
        let malformed = || {
            PatternError::new(base + open, 1, "malformed repetition")
                .note("write `{m}`, `{m,}`, `{,n}` or `{m,n}`")
        };
        let close = src[open..].find('}').ok_or_else(malformed)? + open;
        let inner = &src[open + 1..close];
        let bound = |s: &str| -> Result<Option<u32>, PatternError> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if !s.bytes().all(|d| d.is_ascii_digit()) {
                return Err(malformed());
            }
            match s.parse::<u32>() {
                Ok(v) if v <= MAX_REPEAT => Ok(Some(v)),
                _ => Err(PatternError::new(
                    base + open,
                    close - open + 1,
                    format!("repetition bounds are at most {MAX_REPEAT}"),
                )),
            }
        };
        let (min, max) = match inner.split_once(',') {
            None => {
                let v = bound(inner)?.ok_or_else(malformed)?;
                (v, Some(v))
            }
            Some((m, x)) => {
                let min = bound(m)?;
                let max = bound(x)?;
                if min.is_none() && max.is_none() {
                    return Err(malformed());
                }
                (min.unwrap_or(0), max)
            }
        };
        if max.is_some_and(|x| x < min) {
            return Err(PatternError::new(
                base + open,
                close - open + 1,
                "repetition minimum is above its maximum",
            ));
        }
        Ok((min, max, close + 1))
    }

    fn emit(alts: &[Vec<Piece>], base: usize) -> Result<Self, PatternError> {
        let too_large = || PatternError::new(base.saturating_sub(1), 1, "regex too large");
        let mut prog: Vec<Inst> = Vec::new();
        let mut jumps = Vec::new();
        for (index, alt) in alts.iter().enumerate() {
            let more = index + 1 < alts.len();
            let split = if more {
                prog.push(Inst::Split(0, 0));
                Some(prog.len() - 1)
            } else {
                None
            };
            let body = prog.len();
            for piece in alt {
                match piece {
                    Piece::Bol => prog.push(Inst::Bol),
                    Piece::Eol => prog.push(Inst::Eol),
                    Piece::Atom { set, min, max, .. } => {
                        let optional = max.map_or(3, |x| 2 * (x - min) as usize);
                        if prog.len() + *min as usize + optional > MAX_REGEX_INSTS {
                            return Err(too_large());
                        }
                        for _ in 0..*min {
                            prog.push(Inst::Byte(*set));
                        }
                        match max {
                            None => {
                                let l = prog.len();
                                prog.push(Inst::Split(l + 1, l + 3));
                                prog.push(Inst::Byte(*set));
                                prog.push(Inst::Jmp(l));
                            }
                            Some(x) => {
                                let mut splits = Vec::new();
                                for _ in *min..*x {
                                    splits.push(prog.len());
                                    prog.push(Inst::Split(0, 0));
                                    prog.push(Inst::Byte(*set));
                                }
                                let exit = prog.len();
                                for s in splits {
                                    prog[s] = Inst::Split(s + 1, exit);
                                }
                            }
                        }
                    }
                }
            }
            if more {
                prog.push(Inst::Jmp(0));
                jumps.push(prog.len() - 1);
            }
            if let Some(s) = split {
                prog[s] = Inst::Split(body, prog.len());
            }
            if prog.len() > MAX_REGEX_INSTS {
                return Err(too_large());
            }
        }
        let end = prog.len();
        prog.push(Inst::Match);
        for j in jumps {
            prog[j] = Inst::Jmp(end);
        }
        Ok(Self { insts: prog })
    }

    /// Whether the regex matches somewhere in `hay`: a breadth-first simulation,
    /// O(len(hay) × len(regex)).
    fn is_match(&self, hay: &[u8]) -> bool {
        let mut stamp = vec![usize::MAX; self.insts.len()];
        let mut current: Vec<usize> = Vec::new();
        let mut next: Vec<usize> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        for pos in 0..=hay.len() {
            if self.add(&mut current, &mut stamp, &mut stack, 0, pos, hay.len()) {
                return true;
            }
            if pos == hay.len() {
                break;
            }
            let byte = hay[pos];
            next.clear();
            for &pc in &current {
                if let Inst::Byte(set) = self.insts[pc] {
                    if set.has(byte)
                        && self.add(
                            &mut next,
                            &mut stamp,
                            &mut stack,
                            pc + 1,
                            pos + 1,
                            hay.len(),
                        )
                    {
                        return true;
                    }
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        false
    }

    /// Adds `pc` and what it reaches without reading to `list`; true when that reaches
    /// `Match`.
    fn add(
        &self,
        list: &mut Vec<usize>,
        stamp: &mut [usize],
        stack: &mut Vec<usize>,
        pc: usize,
        pos: usize,
        len: usize,
    ) -> bool {
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if stamp[pc] == pos {
                continue;
            }
            stamp[pc] = pos;
            match self.insts[pc] {
                Inst::Byte(_) => list.push(pc),
                Inst::Match => {
                    stack.clear();
                    return true;
                }
                Inst::Jmp(t) => stack.push(t),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Inst::Bol => {
                    if pos == 0 {
                        stack.push(pc + 1);
                    }
                }
                Inst::Eol => {
                    if pos == len {
                        stack.push(pc + 1);
                    }
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L1: &str = "JOB_START job_id=job-123 worker_id=worker-456 audio_duration=4860";
    const L2: &str =
        "JOB_PROGRESS job_id=job-123 worker_id=worker-456 percentage=45 stage=transcribing";
    const L3: &str = "JOB_COMPLETE job_id=job-123 worker_id=worker-456 duration=1200 segments=150";
    const L4: &str = "JOB_FAILED job_id=job-123 worker_id=worker-456 error=\"GPU out of memory\"";
    const L5: &str =
        r#"{"event": "JOB_COMPLETE", "job_id": "job-123", "worker_id": "w-1", "duration": 1200}"#;
    const J: &str = r#"{"n": -5, "f": 2.5, "ok": true, "nothing": null, "list": [1, {"id": 7}], "a": {"b": "deep"}, "cluster.name": "c", "s": "45"}"#;
    const APACHE: &str =
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
    const WARN: &str = "WARNING 09/25/2014 12:00:02 Invalid user request";
    const INFO: &str = "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200";

    const VALID: &[(&str, PatternKind)] = &[
        ("", PatternKind::Terms),
        ("   ", PatternKind::Terms),
        ("ERROR", PatternKind::Terms),
        ("\"exact phrase\"", PatternKind::Terms),
        ("ERROR Exception", PatternKind::Terms),
        ("?ERROR ?WARN", PatternKind::Terms),
        ("-DEBUG", PatternKind::Terms),
        ("ERROR -DEBUG", PatternKind::Terms),
        ("\"ERROR\" - \"Exiting\"", PatternKind::Terms),
        ("\" \"", PatternKind::Terms),
        ("%AUTHORIZED%", PatternKind::Terms),
        ("%^starting|^initializing|^shutting down%", PatternKind::Terms),
        ("%\\[.\\]%", PatternKind::Terms),
        ("%a{3,5}%", PatternKind::Terms),
        ("%ab[^c]$%", PatternKind::Terms),
        ("%\\d+\\s\\w\\x3A%", PatternKind::Terms),
        ("{ $.a = \"x\" }", PatternKind::Json),
        ("{$.a != \"x\"}", PatternKind::Json),
        ("{ $.n > 3 }", PatternKind::Json),
        ("{ $.n >= -3.5 }", PatternKind::Json),
        ("{ $.n < 10e3 }", PatternKind::Json),
        ("{ $.n <= 1e-3 }", PatternKind::Json),
        ("{ $.n = +1000 }", PatternKind::Json),
        ("{ $.a = 1 && $.b = 2 || ($.c = 3) }", PatternKind::Json),
        ("{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }", PatternKind::Json),
        ("{ $.SomeObject IS NULL }", PatternKind::Json),
        ("{ $.Other NOT EXISTS }", PatternKind::Json),
        ("{ $.flag IS TRUE || $.flag IS FALSE }", PatternKind::Json),
        ("{ $.job = \"job-*\" }", PatternKind::Json),
        ("{ $.sourceIPAddress != 123.123.* }", PatternKind::Json),
        ("{ $.coordinates[0][1] = 5 }", PatternKind::Json),
        ("{ $.arrayKey[*] = %val.{2}% }", PatternKind::Json),
        ("{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }", PatternKind::Json),
        ("{ $.['cluster.name'] = \"c\" }", PatternKind::Json),
        ("{ $.latency = * }", PatternKind::Json),
        ("[ip, user, ..., status, size]", PatternKind::Delimited),
        ("[..., status=5*]", PatternKind::Delimited),
        ("[ip, user, status = 404 || status = 410, size]", PatternKind::Delimited),
        ("[..., size > 1000]", PatternKind::Delimited),
        ("[w1!=ERROR && w1!=WARNING, w2]", PatternKind::Delimited),
        ("[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]", PatternKind::Delimited),
        ("[..., request=*.html*, status_code=4*,]", PatternKind::Delimited),
        ("[ a , b ]", PatternKind::Delimited),
        ("[...]", PatternKind::Delimited),
    ];

    #[test]
    fn logs_valid_patterns_parse_with_their_kind() {
        for (text, kind) in VALID {
            match parse(text) {
                Ok(p) => assert_eq!(p.kind(), *kind, "{text}"),
                Err(e) => panic!("{text:?} should parse: {e}"),
            }
        }
    }

    #[test]
    fn logs_invalid_patterns_point_at_the_offence() {
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(65), ")".repeat(65));
        let long = "a".repeat(1025);
        let cases: Vec<(&str, usize, &str)> = vec![
            ("\"unterminated", 0, "unterminated quoted"),
            ("ERROR \"abc", 6, "unterminated quoted"),
            ("{ $.a = }", 8, "expected a value"),
            ("{ $.a == \"x\" }", 7, "`==`"),
            ("{ $.a = \"x\"", 0, "missing `}`"),
            ("{ ($.a = 1 }", 2, "missing `)`"),
            ("{ $.a = 1) }", 9, "unbalanced `)`"),
            ("[a, b", 0, "missing `]`"),
            ("{ a = 1 }", 2, "starts with `$.`"),
            ("{ $.a > \"x\" }", 8, "compares numbers"),
            ("{ $.a > abc }", 8, "not a number"),
            ("[a, , b]", 4, "empty field name"),
            ("[=5]", 1, "empty field name"),
            ("{ $.a = 1 && }", 13, "expected a condition"),
            ("{ $.a = 1 & $.b = 2 }", 10, "expected `&&`"),
            ("ERROR!", 5, "double quotes"),
            ("%abc", 0, "unterminated regex"),
            ("%a(b)%", 2, "parentheses"),
            ("%a!%", 2, "not supported"),
            ("%é%", 1, "multi-byte"),
            ("{ $.a IS NOT NULL }", 9, "IS NOT"),
            ("{ $.a EXISTS }", 6, "EXISTS"),
            ("[ip, status = 404 || code = 410]", 21, "names `code`"),
            ("{ $.*[*] = 1 }", 6, "one wildcard"),
            (&deep, 66, "nested"),
            ("?", 0, "expected a term"),
            ("ERROR }", 6, "unbalanced `}`"),
            ("[a, a]", 4, "named twice"),
            ("{ $.a = 1 } x", 12, "after the closing"),
            ("%%", 0, "empty regex"),
            ("%a**%", 3, "nothing to repeat"),
            ("%a{5,2}%", 2, "minimum is above"),
            ("{ $. = 1 }", 4, "expected a property name"),
            ("{ $.a. = 1 }", 6, "expected a property name"),
            ("{ $.a[x] = 1 }", 5, "array index"),
            ("[]", 1, "expected a field name"),
            ("[a b]", 3, "expected `,` or `]`"),
            ("[a-b]", 2, "field name"),
            (&long, 1024, "1024"),
            ("ERROR %x%", 6, "whole pattern"),
            ("{ $.a = %a% || $.b = %b% || $.c = %c% }", 34, "at most 2"),
            ("{ $.a = user@example.com }", 12, "double quotes"),
            ("{ $.a = it's }", 10, "double quotes"),
            ("{ $.['a = 1 }", 5, "unterminated `'`"),
            ("{ }", 2, "expected a condition"),
            ("{ $.a }", 6, "expected an operator"),
        ];
        for (text, offset, message) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.offset, offset, "{text:?}: {err}");
            assert!(err.message.contains(message), "{text:?}: {err}");
            assert!(err.offset + err.len <= text.len(), "{text:?}: {err}");
        }
    }

    #[test]
    fn logs_matches_and_values() {
        let prefixed = r#"TRANSCRIPTION_EVENT {"event": "JOB_COMPLETE"}"#;
        let cases: &[(&str, &str, bool, &str, Option<&str>)] = &[
            // Terms: substring, case-sensitive, AND / OR / exclusion.
            ("JOB_FAILED", L4, true, "", None),
            ("JOB_FAILED", L1, false, "", None),
            ("JOB_", L1, true, "", None),
            ("job_start", L1, false, "", None),
            ("job_id worker_id", L2, true, "", None),
            ("\"GPU out of memory\"", L4, true, "", None),
            ("\"GPU out of memory\"", L3, false, "", None),
            ("\"duration=1200\"", L3, true, "", None),
            ("\"duration=1200\"", L5, false, "", None),
            ("?JOB_FAILED ?JOB_COMPLETE", L3, true, "", None),
            ("?JOB_FAILED ?JOB_COMPLETE", L4, true, "", None),
            ("?JOB_FAILED ?JOB_COMPLETE", L1, false, "", None),
            ("JOB -JOB_FAILED", L1, true, "", None),
            ("JOB -JOB_FAILED", L4, false, "", None),
            ("JOB - \"GPU out\"", L4, false, "", None),
            ("?JOB_START ?JOB_FAILED JOB_PROGRESS", L2, true, "", None),
            ("?JOB_START ?JOB_FAILED JOB_PROGRESS", L1, false, "", None),
            ("", L1, true, "", None),
            ("\" \"", L2, true, "", None),
            ("%^JOB_[A-Z]+ job_id=job-[0-9]+%", L1, true, "", None),
            ("%segments=\\d+$%", L3, true, "", None),
            ("%segments=\\d+$%", L2, false, "", None),
            ("%JOB_S[A-Z]{3}T%", L1, true, "", None),
            ("%JOB_S[A-Z]{4}T%", L1, false, "", None),
            // JSON: numbers.
            (
                "{ $.duration > 1000 }",
                L5,
                true,
                "$.duration",
                Some("1200"),
            ),
            (
                "{ $.duration >= 1200.0 }",
                L5,
                true,
                "$.job_id",
                Some("job-123"),
            ),
            ("{ $.duration < 1.2e3 }", L5, false, "", None),
            (
                "{ $.duration = 1.2e3 }",
                L5,
                true,
                "$.duration",
                Some("1200"),
            ),
            ("{ $.duration != 1200 }", L5, false, "", None),
            ("{ $.n < 0 }", J, true, "$.n", Some("-5")),
            ("{ $.n = -5 }", J, true, "$.f", Some("2.5")),
            ("{ $.f > 2.4 && $.f < 2.6 }", J, true, "$.f", Some("2.5")),
            ("{ $.s > 3 }", J, false, "", None),
            ("{ $.s = 45 }", J, true, "$.s", Some("45")),
            // JSON: strings, wildcards, regex.
            (
                "{ $.event = \"JOB_COMPLETE\" }",
                L5,
                true,
                "$.worker_id",
                Some("w-1"),
            ),
            ("{ $.event = JOB_COMPLETE }", L5, true, "", None),
            ("{ $.event != \"JOB_FAILED\" }", L5, true, "", None),
            ("{ $.event != \"JOB_COMPLETE\" }", L5, false, "", None),
            ("{ $.job_id = \"job-*\" }", L5, true, "", None),
            ("{ $.job_id = job-* }", L5, true, "", None),
            ("{ $.worker_id = \"*-1\" }", L5, true, "", None),
            ("{ $.event = *COMPLETE* }", L5, true, "", None),
            ("{ $.event = \"JOB*COMPLETE\" }", L5, false, "", None),
            ("{ $.event = %^JOB_C% }", L5, true, "", None),
            ("{ $.f = %^2\\.5$% }", J, true, "", None),
            ("{ $.duration = * }", L5, true, "$.duration", Some("1200")),
            // JSON: && / || / parentheses.
            (
                "{ ($.event = \"JOB_FAILED\" || $.duration > 1000) && $.worker_id = \"w-1\" }",
                L5,
                true,
                "",
                None,
            ),
            (
                "{ $.event = \"JOB_FAILED\" || $.duration > 1000 && $.worker_id = \"nope\" }",
                L5,
                false,
                "",
                None,
            ),
            (
                "{ $.event = \"JOB_COMPLETE\" || $.x = 1 && $.y = 2 }",
                L5,
                true,
                "",
                None,
            ),
            // JSON: absent fields, null, booleans, paths.
            ("{ $.missing NOT EXISTS }", L5, true, "$.missing", None),
            ("{ $.duration NOT EXISTS }", L5, false, "", None),
            ("{ $.missing > 3 }", L5, false, "", None),
            ("{ $.missing != \"x\" }", L5, false, "", None),
            ("{ $.nothing IS NULL }", J, true, "$.nothing", None),
            ("{ $.missing IS NULL }", J, false, "", None),
            ("{ $.nothing = \"null\" }", J, false, "", None),
            ("{ $.ok IS TRUE }", J, true, "$.ok", Some("true")),
            ("{ $.ok IS FALSE }", J, false, "", None),
            ("{ $.list[1].id = 7 }", J, true, "$.list[1].id", Some("7")),
            ("{ $.list[*] = 1 }", J, true, "$.list[0]", Some("1")),
            ("{ $.list > 0 }", J, false, "", None),
            ("{ $.list != 0 }", J, false, "", None),
            ("{ $.a.b = \"deep\" }", J, true, "$.a.b", Some("deep")),
            ("{ $.a.* = deep }", J, true, "", None),
            (
                "{ $.['cluster.name'] = \"c\" }",
                J,
                true,
                "$.['cluster.name']",
                Some("c"),
            ),
            // JSON only inspects a whole-JSON event.
            ("{ $.event = \"JOB_COMPLETE\" }", L3, false, "", None),
            ("{ $.event = \"JOB_COMPLETE\" }", prefixed, false, "", None),
            ("{ $.a NOT EXISTS }", "not json", false, "", None),
            // Space-delimited.
            (
                "[event = JOB_COMPLETE, job, worker, duration, segments]",
                L3,
                true,
                "$duration",
                Some("duration=1200"),
            ),
            (
                "[event = JOB_*, ...]",
                L1,
                true,
                "$event",
                Some("JOB_START"),
            ),
            ("[event = JOB_*, ...]", L5, false, "", None),
            (
                "[..., seg = \"segments=*\"]",
                L3,
                true,
                "$seg",
                Some("segments=150"),
            ),
            (
                "[event, job, worker, error]",
                L4,
                true,
                "$error",
                Some("error=\"GPU out of memory\""),
            ),
            (
                "[event, job, worker, percentage, stage]",
                L2,
                true,
                "$stage",
                Some("stage=transcribing"),
            ),
            (
                "[event, job, worker, percentage, stage, more]",
                L2,
                false,
                "",
                None,
            ),
            (
                "[ip, user, username, timestamp, request, status, size]",
                APACHE,
                true,
                "$timestamp",
                Some("10/Oct/2000:13:25:15 -0700"),
            ),
            (
                "[ip, user, username, timestamp, request, status, size]",
                APACHE,
                true,
                "$request",
                Some("GET /index.html HTTP/1.0"),
            ),
            (
                "[..., status = 4*, size]",
                APACHE,
                true,
                "$status",
                Some("404"),
            ),
            ("[..., status=5*, size]", APACHE, false, "", None),
            (
                "[ip, user, ..., status = 404 || status = 410, size]",
                APACHE,
                true,
                "$size",
                Some("1534"),
            ),
            (
                "[ip, user, ..., status = 500 || status = 410, size]",
                APACHE,
                false,
                "",
                None,
            ),
            ("[..., size > 1000]", APACHE, true, "$size", Some("1534")),
            ("[..., size > 2000]", APACHE, false, "", None),
            ("[..., status != 404, size]", APACHE, false, "", None),
            (
                "[..., status != 200, size]",
                APACHE,
                true,
                "$1",
                Some("127.0.0.1"),
            ),
            (
                "[ip = %^127\\.0\\.0\\.[1-9]$%, ...]",
                APACHE,
                true,
                "$ip",
                Some("127.0.0.1"),
            ),
            (
                "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
                APACHE,
                true,
                "$bytes",
                Some("1534"),
            ),
            (
                "[..., request = \"GET *\", ..., size]",
                APACHE,
                true,
                "$request",
                Some("GET /index.html HTTP/1.0"),
            ),
            (
                "[..., user = frank, ..., status = 404, ...]",
                APACHE,
                true,
                "$user",
                Some("frank"),
            ),
            ("[..., user = bob, ...]", APACHE, false, "", None),
            (
                "[name, temp < 0, state]",
                "t1 -3.5 ok",
                true,
                "$temp",
                Some("-3.5"),
            ),
            ("[name, temp < 0, state]", "t1 3.5 ok", false, "", None),
            (
                "[name, temp >= -3.5 && temp <= -3.5, state]",
                "t1 -3.5 ok",
                true,
                "$state",
                Some("ok"),
            ),
            (
                "[w1=ERROR || w1=WARNING, w2]",
                WARN,
                true,
                "$w2",
                Some("09/25/2014 12:00:02 Invalid user request"),
            ),
            (
                "[w1!=ERROR && w1!=WARNING, w2]",
                INFO,
                true,
                "$w1",
                Some("INFO"),
            ),
            ("[w1!=ERROR && w1!=WARNING, w2]", WARN, false, "", None),
            (
                "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
                INFO,
                true,
                "$url",
                Some("/service/resource/67"),
            ),
            ("[a, b, c]", "x y", false, "", None),
            ("[...]", "", true, "$1", None),
        ];
        for (pattern, event, expect, selector, value) in cases {
            let p = parse(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
            let m = p.matches(event);
            assert_eq!(m.is_some(), *expect, "{pattern:?} on {event:?}");
            if let (Some(m), false) = (m, selector.is_empty()) {
                assert_eq!(
                    m.value(selector).as_deref(),
                    *value,
                    "{pattern:?} {selector}"
                );
            }
        }
    }

    #[test]
    fn logs_selectors_for_metric_values() {
        let json = parse("{ $.a = 1 }").unwrap();
        assert!(json.selector_is_valid("$.duration"));
        assert!(json.selector_is_valid("$.a.b[0]"));
        assert!(!json.selector_is_valid("duration"));
        assert!(!json.selector_is_valid("$size"));
        let delimited = parse("[ip, ..., status, size]").unwrap();
        assert!(delimited.selector_is_valid("$size"));
        assert!(delimited.selector_is_valid("$status"));
        assert!(!delimited.selector_is_valid("$bytes"));
        assert!(!delimited.selector_is_valid("size"));
        assert!(!parse("ERROR").unwrap().selector_is_valid("$.a"));
    }

    #[test]
    fn logs_no_panic_on_generated_inputs() {
        let mut inputs: Vec<String> = Vec::new();
        for (text, _) in VALID {
            for (i, _) in text.char_indices() {
                inputs.push(text[..i].to_string());
                let c = char_len_at(text, i);
                inputs.push(format!("{}{}", &text[..i], &text[i + c..]));
                for r in ["\"", "(", "}", "]", "%", "é", "\0"] {
                    inputs.push(format!("{}{r}{}", &text[..i], &text[i + c..]));
                }
            }
        }
        inputs.push("\0".into());
        inputs.push("{ $.a = \"\0\" }".into());
        inputs.push("[\0]".into());
        inputs.push("{ $.é = 1 }".into());
        inputs.push("ÉRROR".into());
        inputs.push("\"é\" -\"ü\"".into());
        inputs.push(format!("{{ {} }}", "(".repeat(5000)));
        inputs.push("[".repeat(5000));
        inputs.push(format!("%{}%", "a*".repeat(400)));
        inputs.push(format!("%{}%", "a{1000}".repeat(100)));
        assert!(inputs.len() > 2000, "{}", inputs.len());
        let events = [
            L1,
            L4,
            L5,
            J,
            APACHE,
            "",
            "\0",
            "é [unterminated \"quote",
            "{\"a\": [[[[[",
        ];
        for input in &inputs {
            match parse(input) {
                Ok(p) => {
                    for event in events {
                        let _ = p.matches(event).map(|m| m.value("$.a"));
                    }
                }
                Err(e) => assert!(e.offset <= input.len(), "{input:?}: {e}"),
            }
        }
    }

    #[test]
    fn logs_large_events_stay_cheap() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse("{ $.a NOT EXISTS }")
            .unwrap()
            .matches(&deep)
            .is_none());
        let big = "ab ".repeat(100_000);
        let regex = parse("%(?:x)%");
        assert!(regex.is_err());
        let regex = parse("%a*a*a*a*b{3}c%").unwrap();
        assert!(regex.matches(&big).is_none());
        let delimited = parse("[..., a = x*, ..., b = y*, ...]").unwrap();
        assert!(delimited.matches(&big).is_none());
        assert!(parse("ab -c").unwrap().matches(&big).is_some());
    }
}
