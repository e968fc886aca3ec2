//! `CloudWatch` Logs Insights queries, offline: [`check`] that a saved query is a
//! sequence of Logs Insights QL commands separated by `|`, each with plausible
//! arguments, before any AWS call. This is a syntax check, not a full grammar or an
//! evaluator.
//!
//! Sources: the AWS pages "`CloudWatch` Logs Insights language query syntax"
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html>) and
//! its per-command pages (`CWL_QuerySyntax-Limit`, `-Sort`, `-Stats`, `-Dedup`,
//! `-Display`, `-Source`, `CWL_QuerySyntax-timeseries-functions`), current version;
//! and the older "`CloudWatch` Logs Insights Query Syntax" page (the
//! `awsdocs/amazon-cloudwatch-logs-user-guide` repository, `doc_source/CWL_QuerySyntax.md`)
//! for the function tables. Where they are silent, the choice made here is marked
//! **(choice)**.
//!
//! # Lexical rules
//!
//! - Commands are separated by `|` (newlines are blanks, allowed anywhere a blank is).
//!   A `|` splits only outside quotes, regexes, parentheses and brackets.
//! - `"..."` and `'...'` are strings, with `\` escaping the next character
//!   **(choice)**; `` `...` `` quotes a field name with other characters than letters,
//!   digits, `@`, `.` and `_` (documented), no escapes. `/.../` is a regex, with `\`
//!   escaping the next character. A `/` is a regex when no operand precedes it (start
//!   of a command, after an operator, `(`, `[`, `,`, or the words `like`, `not`, `and`,
//!   `or`, `in`), and always inside `parse`; after an operand it is division
//!   **(choice)**, so `fields a / b` divides and `filter x like /a|b/` matches.
//! - An unterminated string, field name or regex, and an unclosed `(` or `[`, are
//!   errors at the opening character; a `)` or `]` that closes nothing, or the wrong
//!   kind, is an error at it. At most 64 nested parentheses and brackets **(choice)**,
//!   to keep the check bounded.
//! - `#` starts a comment to the end of the line. The older page says lines *starting*
//!   with `#` are ignored, the current one only that comments are set off with `#`;
//!   here `#` outside quotes and regexes comments out the rest of its line wherever it
//!   is **(choice)**.
//! - Outside quotes, only letters, digits, `_ @ .`, blanks and the punctuation
//!   `( ) [ ] , | = ! < > ~ + - * / % ^ :` may appear (`~` only in `=~`, `!` only in
//!   `!=`); anything else, non-ASCII included, is an error at it **(choice)**, as the
//!   documentation asks for backticks around field names with other characters.
//! - Errors locate byte offsets and lengths in the query text. Lexical errors are
//!   reported before command errors.
//!
//! # Commands
//!
//! Each `|`-separated segment starts with a command name. Names are case-sensitive as
//! the documentation spells them **(choice)**: `fields`, `display`, `filter`,
//! `filterIndex`, `stats`, `sort`, `limit`, `parse`, `dedup`, `unmask`, `pattern`,
//! `diff`, `anomaly`, `unnest`, `addtotals` and `SOURCE`. An unknown name is an error at
//! it, with a note naming a known command within edit distance 2 (or differing only in
//! case). Not recognised, although some AWS material mentions them: `lookup`, `join`,
//! subqueries, and the deprecated `head`/`tail` **(choice)**.
//!
//! An empty segment (a leading, trailing or doubled `|`) is an error at the `|`: the one
//! that follows the empty segment, or for a trailing `|`, that `|`. A query with no
//! command at all is an error at offset 0.
//!
//! Arguments, per command:
//!
//! - `fields`, `display`, `filter`, `filterIndex`, `stats`, `sort`, `limit`, `parse`,
//!   `dedup`, `SOURCE` need at least one argument (error at the command).
//! - Comma-separated lists (`fields`, `display`, `dedup`, `sort`, both sides of a
//!   `stats ... by`, the names after `parse ... as`) may not have empty items (error at
//!   the comma). `as` must be followed by a name.
//! - `display` and `dedup` take field names only. The `dedup` page says only `limit` may
//!   follow `dedup`; a later other command is an error at it.
//! - `sort` takes field names, each with an optional `asc` or `desc` (sorting by an
//!   expression is rejected **(choice)**).
//! - `limit` takes a positive integer, at most 100 000 (the current `limit` page; the
//!   older one said 10 000), optionally after `any` (`limit any 5`).
//! - `stats` needs at least one call of a stats function before `by`: `avg`, `count`,
//!   `count_distinct`, `max`, `min`, `pct`, `stddev`, `sum` (aggregation), `earliest`,
//!   `latest`, `sortsFirst`, `sortsLast` (non-aggregation), `rate`, `count_over_time`,
//!   `sum_over_time`, `histogram` (time series). A call at the top level of the part
//!   before `by` must name one of those or a documented general function (such as
//!   `floor(avg(x))`); anything else is an error at the name. Calls nested in
//!   arguments and after `by` (`bin(5m)`) are not checked. Function names compare
//!   without regard to case, as the pages themselves write both `ispresent` and
//!   `isPresent` **(choice)**. `by` needs something after it.
//! - `parse FIELD "glob" as a, b` needs as many names as the glob has unescaped `*`
//!   **(choice: exact count)**; `parse FIELD /regex/` needs a named group `(?<name>...)`
//!   and nothing after the regex. The field is required **(choice)**.
//! - `like` and `=~` must be followed by a string or a regex.
//! - `SOURCE` must be the first command **(choice; every documented example starts
//!   with it)**.
//!
//! Accepted without checking: the expressions of `fields`, `filter` and `filterIndex`
//! (operators, precedence, `in [...]`, general function names and arities), the
//! arguments of `unmask`, `pattern`, `diff`, `anomaly`, `unnest`, `addtotals` and of
//! `SOURCE logGroups(...)`, what follows `by` in `stats`, field existence, regex
//! syntax, and the query length limit of the API.
//!
//! The check never panics and runs in time linear in the query.

use std::fmt;

/// The largest `limit` the current `limit` page allows.
pub const MAX_LIMIT: u64 = 100_000;

/// Nesting bound for parentheses and brackets **(choice)**.
const MAX_DEPTH: usize = 64;

/// Longest piece of query text quoted in a message.
const SHOWN: usize = 40;

const COMMANDS: &[&str] = &[
    "fields",
    "display",
    "filter",
    "filterIndex",
    "stats",
    "sort",
    "limit",
    "parse",
    "dedup",
    "unmask",
    "pattern",
    "diff",
    "anomaly",
    "unnest",
    "addtotals",
    "SOURCE",
];

const NEEDS_ARGUMENTS: &[&str] = &[
    "fields",
    "display",
    "filter",
    "filterIndex",
    "stats",
    "sort",
    "limit",
    "parse",
    "dedup",
    "SOURCE",
];

const STATS_FUNCTIONS: &[&str] = &[
    "avg",
    "count",
    "count_distinct",
    "max",
    "min",
    "pct",
    "stddev",
    "sum",
    "earliest",
    "latest",
    "sortsFirst",
    "sortsLast",
    "rate",
    "count_over_time",
    "sum_over_time",
    "histogram",
];

/// General functions of the older page's tables, allowed around stats functions.
const GENERAL_FUNCTIONS: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "greatest",
    "least",
    "log",
    "sqrt",
    "ispresent",
    "coalesce",
    "isempty",
    "isblank",
    "concat",
    "ltrim",
    "rtrim",
    "trim",
    "strlen",
    "toupper",
    "tolower",
    "substr",
    "replace",
    "strcontains",
    "bin",
    "datefloor",
    "dateceil",
    "fromMillis",
    "toMillis",
    "isValidIp",
    "isValidIpV4",
    "isValidIpV6",
    "isIpInSubnet",
    "isIpv4InSubnet",
    "isIpv6InSubnet",
];

/// Words after which a `/` starts a regex.
const REGEX_AFTER: &[&str] = &["like", "not", "and", "or", "in"];

/// Where and why a query is invalid: byte offset and length inside the query text, a
/// one-line message, and an optional note (e.g. a suggestion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub note: Option<String>,
}

impl QueryError {
    fn new(offset: usize, len: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            len,
            message: message.into(),
            note: None,
        }
    }

    fn at(tok: Tok, message: impl Into<String>) -> Self {
        Self::new(tok.start, tok.end - tok.start, message)
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)?;
        if let Some(note) = &self.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for QueryError {}

/// One command of a checked query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The command name as documented, e.g. `"fields"`.
    pub name: &'static str,
    /// Byte offset of the name in the query.
    pub offset: usize,
}

/// A query that passed [`check`]: the commands found, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    commands: Vec<Command>,
}

impl Query {
    /// The command names in order, e.g. `["fields", "filter", "sort", "limit"]`.
    pub fn commands(&self) -> Vec<&str> {
        self.commands.iter().map(|c| c.name).collect()
    }

    /// The commands with their offsets.
    pub fn command_list(&self) -> &[Command] {
        &self.commands
    }
}

/// Checks that `query` is a sequence of Logs Insights commands separated by `|`
/// (newlines allowed anywhere whitespace is), each with plausible arguments. See the
/// module documentation for what is checked and what is accepted as is.
pub fn check(query: &str) -> Result<Query, QueryError> {
    let toks = lex(query)?;
    let mut commands = Vec::new();
    let mut start = 0;
    let mut pipe_before: Option<Tok> = None;
    let mut dedup_at: Option<usize> = None;
    loop {
        let end = toks[start..]
            .iter()
            .position(|t| t.kind == Kind::Pipe)
            .map(|p| start + p);
        let seg = &toks[start..end.unwrap_or(toks.len())];
        if seg.is_empty() {
            return Err(match (end, pipe_before) {
                (Some(p), _) => QueryError::at(toks[p], "expected a command before `|`"),
                (None, Some(p)) => QueryError::at(p, "expected a command after `|`"),
                (None, None) => QueryError::new(0, 0, "empty query: expected a command").note(
                    "a query is commands such as `fields`, `filter`, `stats` separated by `|`",
                ),
            });
        }
        let command = check_command(query, seg, commands.len())?;
        if let Some(at) = dedup_at {
            if command.name != "limit" {
                return Err(QueryError::at(
                    seg[0],
                    format!("only `limit` may follow `dedup`, not `{}`", command.name),
                )
                .note(format!("`dedup` is at byte {at}")));
            }
        }
        if command.name == "dedup" {
            dedup_at = Some(command.offset);
        }
        commands.push(command);
        match end {
            Some(p) => {
                pipe_before = Some(toks[p]);
                start = p + 1;
            }
            None => break,
        }
    }
    Ok(Query { commands })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Letters, digits, `_ @ .`: names, keywords, numbers, periods (`5m`).
    Word,
    /// `"..."` or `'...'`.
    Str,
    /// `` `...` ``.
    Field,
    /// `/.../`.
    Regex,
    /// Operators, `:`, and a `|` inside parentheses.
    Op,
    Open,
    Close,
    Comma,
    /// A `|` between commands.
    Pipe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

impl Tok {
    fn text(self, q: &str) -> &str {
        q.get(self.start..self.end).unwrap_or("")
    }

    fn is(self, q: &str, word: &str) -> bool {
        self.kind == Kind::Word && self.text(q).eq_ignore_ascii_case(word)
    }

    /// A field name: a backtick name, or a word not starting with a digit.
    fn is_name(self, q: &str) -> bool {
        match self.kind {
            Kind::Field => true,
            Kind::Word => !self.text(q).starts_with(|c: char| c.is_ascii_digit()),
            _ => false,
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'.')
}

/// Quotes query text in a message, cut to [`SHOWN`] characters.
fn shown(text: &str) -> String {
    if text.chars().count() <= SHOWN {
        text.to_string()
    } else {
        let cut: String = text.chars().take(SHOWN).collect();
        format!("{cut}...")
    }
}

fn lex(q: &str) -> Result<Vec<Tok>, QueryError> {
    let bytes = q.as_bytes();
    let mut toks: Vec<Tok> = Vec::new();
    let mut open: Vec<(usize, u8)> = Vec::new();
    let mut segment_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let start = i;
        let kind = match byte {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i = scan_quoted(bytes, i, byte).ok_or_else(|| {
                    let what = match byte {
                        b'`' => "unterminated field name: no closing `` ` ``",
                        b'"' => "unterminated string: no closing `\"`",
                        _ => "unterminated string: no closing `'`",
                    };
                    QueryError::new(start, 1, what)
                })?;
                if byte == b'`' {
                    Kind::Field
                } else {
                    Kind::Str
                }
            }
            b'/' if regex_allowed(q, &toks[segment_start..]) => {
                i = scan_quoted(bytes, i, b'/').ok_or_else(|| {
                    QueryError::new(start, 1, "unterminated regex: no closing `/`").note(
                        "a `/` that follows no operand starts a regex; escape a `/` inside it as `\\/`",
                    )
                })?;
                Kind::Regex
            }
            b'(' | b'[' => {
                if open.len() >= MAX_DEPTH {
                    return Err(QueryError::new(
                        i,
                        1,
                        format!("more than {MAX_DEPTH} nested parentheses and brackets"),
                    ));
                }
                open.push((i, byte));
                i += 1;
                Kind::Open
            }
            b')' | b']' => {
                let want = if byte == b')' { b'(' } else { b'[' };
                match open.pop() {
                    Some((_, opener)) if opener == want => {}
                    Some((at, opener)) => {
                        return Err(QueryError::new(
                            i,
                            1,
                            format!("`{}` does not close the `{}`", byte as char, opener as char),
                        )
                        .note(format!("the `{}` is at byte {at}", opener as char)));
                    }
                    None => {
                        return Err(QueryError::new(
                            i,
                            1,
                            format!("`{}` closes nothing", byte as char),
                        ));
                    }
                }
                i += 1;
                Kind::Close
            }
            b'|' => {
                i += 1;
                if open.is_empty() {
                    toks.push(Tok {
                        kind: Kind::Pipe,
                        start,
                        end: i,
                    });
                    segment_start = toks.len();
                    continue;
                }
                Kind::Op
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            b'=' | b'<' | b'>' => {
                i += 1;
                if i < bytes.len() && (bytes[i] == b'=' || (byte == b'=' && bytes[i] == b'~')) {
                    i += 1;
                }
                Kind::Op
            }
            b'!' => {
                if bytes.get(i + 1) != Some(&b'=') {
                    return Err(QueryError::new(i, 1, "unexpected `!`")
                        .note("write `!=` for not equal, `not` for negation"));
                }
                i += 2;
                Kind::Op
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b':' => {
                i += 1;
                Kind::Op
            }
            _ if is_word_byte(byte) => {
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                let bad = q
                    .get(i..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('\u{fffd}');
                return Err(QueryError::new(
                    i,
                    bad.len_utf8(),
                    format!("unexpected character {bad:?} outside quotes"),
                )
                .note("field names with other characters than letters, digits, `@`, `.` and `_` go inside backticks"));
            }
        };
        toks.push(Tok {
            kind,
            start,
            end: i,
        });
    }
    if let Some(&(at, opener)) = open.first() {
        return Err(QueryError::new(
            at,
            1,
            format!(
                "unclosed `{}`: no matching `{}`",
                opener as char,
                if opener == b'(' { ')' } else { ']' }
            ),
        ));
    }
    Ok(toks)
}

/// The end (one past the closing byte) of a quoted span opened at `open`, or `None`.
fn scan_quoted(b: &[u8], open: usize, quote: u8) -> Option<usize> {
    let mut j = open + 1;
    while j < b.len() {
        if b[j] == b'\\' && quote != b'`' {
            j += 2;
        } else if b[j] == quote {
            return Some(j + 1);
        } else {
            j += 1;
        }
    }
    None
}

/// Whether a `/` here starts a regex, given the tokens of the current command so far.
fn regex_allowed(q: &str, seg: &[Tok]) -> bool {
    let (Some(first), Some(last)) = (seg.first(), seg.last()) else {
        return true;
    };
    if first.kind == Kind::Word && first.text(q) == "parse" {
        return true;
    }
    match last.kind {
        Kind::Word => seg.len() == 1 || REGEX_AFTER.iter().any(|w| last.is(q, w)),
        Kind::Str | Kind::Field | Kind::Regex | Kind::Close => false,
        Kind::Op | Kind::Open | Kind::Comma | Kind::Pipe => true,
    }
}

/// Levenshtein distance, `None` when it is certainly above 2 (or the word is long).
fn edit_distance(a: &str, b: &str) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len() > 64 || a.len().abs_diff(b.len()) > 2 {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()])
}

/// A known name close to `word`: equal but for case, else within edit distance 2.
fn suggest(word: &str, known: &[&'static str]) -> Option<&'static str> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(word)) {
        return Some(k);
    }
    known
        .iter()
        .filter_map(|k| edit_distance(word, k).map(|d| (d, *k)))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn check_command(q: &str, seg: &[Tok], index: usize) -> Result<Command, QueryError> {
    let head = seg[0];
    if head.kind != Kind::Word {
        return Err(QueryError::at(
            head,
            format!("expected a command name, found `{}`", shown(head.text(q))),
        )
        .note("a query is commands such as `fields`, `filter`, `stats` separated by `|`"));
    }
    let text = head.text(q);
    let Some(&name) = COMMANDS.iter().find(|c| **c == text) else {
        let err = QueryError::at(head, format!("unknown command `{}`", shown(text)));
        return Err(match suggest(text, COMMANDS) {
            Some(k) if k.eq_ignore_ascii_case(text) => {
                err.note(format!("commands are case-sensitive: did you mean `{k}`?"))
            }
            Some(k) => err.note(format!("did you mean `{k}`?")),
            None => err.note(format!("known commands: {}", COMMANDS.join(", "))),
        });
    };
    let args = &seg[1..];
    if args.is_empty() && NEEDS_ARGUMENTS.contains(&name) {
        return Err(QueryError::at(head, format!("`{name}` needs arguments")));
    }
    if name == "SOURCE" && index > 0 {
        return Err(QueryError::at(head, "`SOURCE` must be the first command"));
    }
    check_like(q, args)?;
    match name {
        "fields" => {
            items(args)?;
            check_as(q, args)?;
        }
        "display" | "dedup" => {
            for item in items(args)? {
                if item.len() != 1 || !item[0].is_name(q) {
                    let bad = item
                        .iter()
                        .find(|t| !t.is_name(q))
                        .copied()
                        .unwrap_or(item[1]);
                    return Err(QueryError::at(
                        bad,
                        format!("`{name}` takes field names separated by commas"),
                    ));
                }
            }
        }
        "sort" => check_sort(q, args)?,
        "limit" => check_limit(q, args)?,
        "stats" => check_stats(q, head, args)?,
        "parse" => check_parse(q, head, args)?,
        _ => {}
    }
    Ok(Command {
        name,
        offset: head.start,
    })
}

/// Splits at top-level commas; an empty item is an error at its comma.
fn items(toks: &[Tok]) -> Result<Vec<&[Tok]>, QueryError> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Comma if depth == 0 => {
                if i == start {
                    return Err(QueryError::at(*t, "expected an item before `,`"));
                }
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start == toks.len() {
        if let Some(last) = toks.last() {
            return Err(QueryError::at(*last, "expected an item after `,`"));
        }
    } else {
        out.push(&toks[start..]);
    }
    Ok(out)
}

/// `as` must be followed by a name.
fn check_as(q: &str, toks: &[Tok]) -> Result<(), QueryError> {
    for (i, t) in toks.iter().enumerate() {
        if t.is(q, "as") && !toks.get(i + 1).is_some_and(|n| n.is_name(q)) {
            return Err(QueryError::at(*t, "`as` needs a field name after it"));
        }
    }
    Ok(())
}

/// `like` and `=~` must be followed by a string or a regex.
fn check_like(q: &str, toks: &[Tok]) -> Result<(), QueryError> {
    for (i, t) in toks.iter().enumerate() {
        let is_match = t.is(q, "like") || (t.kind == Kind::Op && t.text(q) == "=~");
        if !is_match {
            continue;
        }
        match toks.get(i + 1) {
            Some(n) if matches!(n.kind, Kind::Str | Kind::Regex) => {}
            Some(n) => {
                return Err(QueryError::at(
                    *n,
                    format!("`{}` takes a \"string\" or a /regex/", t.text(q)),
                ));
            }
            None => {
                return Err(QueryError::at(
                    *t,
                    format!("`{}` needs a \"string\" or a /regex/ after it", t.text(q)),
                ));
            }
        }
    }
    Ok(())
}

fn check_sort(q: &str, args: &[Tok]) -> Result<(), QueryError> {
    let expected = "expected `asc`, `desc` or `,` after the sort field";
    for item in items(args)? {
        let field = item[0];
        if field.is(q, "asc") || field.is(q, "desc") {
            return Err(QueryError::at(
                field,
                format!("`sort` needs a field before `{}`", field.text(q)),
            ));
        }
        if !field.is_name(q) {
            return Err(QueryError::at(
                field,
                "`sort` takes field names, each with an optional `asc` or `desc`",
            ));
        }
        match item.get(1) {
            None => {}
            Some(t) if t.is(q, "asc") || t.is(q, "desc") => {
                if let Some(extra) = item.get(2) {
                    return Err(QueryError::at(*extra, expected));
                }
            }
            Some(t) => return Err(QueryError::at(*t, expected)),
        }
    }
    Ok(())
}

fn check_limit(q: &str, args: &[Tok]) -> Result<(), QueryError> {
    let rest = if args.len() >= 2 && args[0].is(q, "any") {
        &args[1..]
    } else {
        args
    };
    let n = rest[0];
    let text = n.text(q);
    if n.kind != Kind::Word || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::at(
            n,
            format!("`limit` takes a positive integer, not `{}`", shown(text)),
        ));
    }
    let digits = text.trim_start_matches('0');
    let value: u64 = if digits.len() > 7 {
        u64::MAX
    } else {
        digits.parse().unwrap_or(0)
    };
    if value == 0 {
        return Err(QueryError::at(n, "`limit` must be at least 1"));
    }
    if value > MAX_LIMIT {
        return Err(QueryError::at(
            n,
            format!("`limit` is at most {MAX_LIMIT}, not {}", shown(text)),
        ));
    }
    if let Some(extra) = rest.get(1) {
        return Err(QueryError::at(
            *extra,
            format!(
                "unexpected `{}` after the `limit` count",
                shown(extra.text(q))
            ),
        ));
    }
    Ok(())
}

fn check_stats(q: &str, head: Tok, args: &[Tok]) -> Result<(), QueryError> {
    let mut depth = 0usize;
    let mut by = None;
    for (i, t) in args.iter().enumerate() {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Word if depth == 0 && t.is(q, "by") => {
                by = Some(i);
                break;
            }
            _ => {}
        }
    }
    let before = &args[..by.unwrap_or(args.len())];
    if let Some(b) = by {
        if b == 0 {
            return Err(QueryError::at(
                args[0],
                "`stats` needs an aggregation such as `count(*)` before `by`",
            ));
        }
        let after = &args[b + 1..];
        if after.is_empty() {
            return Err(QueryError::at(
                args[b],
                "`by` needs at least one grouping field",
            ));
        }
        items(after)?;
    }
    items(before)?;
    check_as(q, args)?;
    let mut depth = 0usize;
    let mut found = false;
    for (i, t) in before.iter().enumerate() {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Word
                if before
                    .get(i + 1)
                    .is_some_and(|n| n.kind == Kind::Open && n.text(q) == "(") =>
            {
                let name = t.text(q);
                let is_stats = STATS_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name));
                found |= is_stats;
                let known = is_stats
                    || GENERAL_FUNCTIONS
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(name));
                if depth == 0 && !known {
                    let err =
                        QueryError::at(*t, format!("unknown stats function `{}`", shown(name)));
                    return Err(
                        match suggest(name, STATS_FUNCTIONS)
                            .or_else(|| suggest(name, GENERAL_FUNCTIONS))
                        {
                            Some(k) => err.note(format!("did you mean `{k}`?")),
                            None => {
                                err.note(format!("stats functions: {}", STATS_FUNCTIONS.join(", ")))
                            }
                        },
                    );
                }
            }
            _ => {}
        }
    }
    if !found {
        return Err(QueryError::at(
            head,
            "`stats` needs at least one aggregation function call such as `count(*)`",
        )
        .note(format!("stats functions: {}", STATS_FUNCTIONS.join(", "))));
    }
    Ok(())
}

fn check_parse(q: &str, head: Tok, args: &[Tok]) -> Result<(), QueryError> {
    let field = args[0];
    if !field.is_name(q) {
        return Err(QueryError::at(
            field,
            "`parse` needs the field to parse first, e.g. `parse @message \"...\" as a`",
        ));
    }
    let Some(&pattern) = args.get(1) else {
        return Err(QueryError::at(
            head,
            "`parse` needs a \"glob\" string or a /regex/ after the field",
        ));
    };
    match pattern.kind {
        Kind::Str => {
            let Some(&as_tok) = args.get(2).filter(|t| t.is(q, "as")) else {
                let at = args.get(2).copied().unwrap_or(pattern);
                return Err(QueryError::at(
                    at,
                    "a `parse` glob needs `as` and a name for each `*`",
                ));
            };
            let names = &args[3..];
            if names.is_empty() {
                return Err(QueryError::at(as_tok, "`as` needs a field name after it"));
            }
            let names = items(names)?;
            for item in &names {
                if item.len() != 1 || !item[0].is_name(q) {
                    let bad = item
                        .iter()
                        .find(|t| !t.is_name(q))
                        .copied()
                        .unwrap_or(item[1]);
                    return Err(QueryError::at(bad, "expected a field name after `as`"));
                }
            }
            let stars = glob_stars(pattern.text(q));
            if stars != names.len() {
                return Err(QueryError::at(
                    pattern,
                    format!(
                        "the glob has {stars} `*` but {} name(s) follow `as`",
                        names.len()
                    ),
                ));
            }
        }
        Kind::Regex => {
            if !pattern.text(q).contains("(?<") {
                return Err(QueryError::at(
                    pattern,
                    "a `parse` regex needs a named group such as `(?<name>.*)`",
                ));
            }
            if let Some(extra) = args.get(2) {
                return Err(QueryError::at(
                    *extra,
                    format!(
                        "unexpected `{}` after the `parse` regex",
                        shown(extra.text(q))
                    ),
                )
                .note("a regex names its fields with `(?<name>...)` groups"));
            }
        }
        _ => {
            return Err(QueryError::at(
                pattern,
                "`parse` needs a \"glob\" string or a /regex/ after the field",
            ));
        }
    }
    Ok(())
}

/// Unescaped `*` in a quoted glob (quotes included in `text`).
fn glob_stars(text: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '*' {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard queries monplan ships.
    const FAILED: &str = "fields @timestamp, job_id, worker_id, error | filter @message like /JOB_FAILED/ | sort @timestamp desc | limit 50";
    const STARTED: &str = "filter @message like /JOB_START/ | stats count(*) as started by bin(5m)";
    const STUCK: &str = "fields @timestamp, @message | parse @message \"job_id=* \" as job_id | filter @message like /JOB_START|JOB_COMPLETE|JOB_FAILED/ | stats earliest(@timestamp) as started, latest(@message) as last by job_id | filter last like /JOB_START/ | sort started asc";
    const SLOWEST: &str = "filter @message like /JOB_COMPLETE/ | parse @message \"duration=*\" as duration | sort duration desc | limit 20";

    const VALID: &[(&str, &[&str])] = &[
        (FAILED, &["fields", "filter", "sort", "limit"]),
        (STARTED, &["filter", "stats"]),
        (STUCK, &["fields", "parse", "filter", "stats", "filter", "sort"]),
        (SLOWEST, &["filter", "parse", "sort", "limit"]),
        (
            "# failed jobs, newest first\nfields @timestamp, job_id, worker_id, error\n  | filter @message like /JOB_FAILED/  # only failures\n  | sort @timestamp desc\n  | limit 50\n",
            &["fields", "filter", "sort", "limit"],
        ),
        (
            "fields @timestamp, @message\n| parse @message \"job_id=* \" as job_id\n# | filter job_id = 'x'\n| filter @message like /JOB_START|JOB_COMPLETE|JOB_FAILED/\n| stats earliest(@timestamp) as started,\n        latest(@message) as last\n  by job_id\n| filter last like /JOB_START/\n| sort started asc",
            &["fields", "parse", "filter", "stats", "filter", "sort"],
        ),
        (
            "filter @message like /JOB_START/\n| stats count(*) as started\n  by bin(5m) # five-minute buckets",
            &["filter", "stats"],
        ),
        (
            "fields @timestamp, @message\n    # | filter @message like /delay/\n    | limit 20",
            &["fields", "limit"],
        ),
        ("fields `foo-bar`, action, abs(f3-f4)", &["fields"]),
        ("fields concat(Operation, '-', StatusCode) as opStatus", &["fields"]),
        ("fields f1, f2 | filter (f1=10 or f3>25)", &["fields", "filter"]),
        ("fields @timestamp, @message | filter statusCode in [300,400,500]", &["fields", "filter"]),
        ("fields @timestamp, @message | filter Type not in [\"foo\",\"bar\",1]", &["fields", "filter"]),
        ("fields f1, f2, f3 | filter f1 =~ /^(?i)Exception$/", &["fields", "filter"]),
        ("fields f1 | filter statusCode like /2\\d\\d/", &["fields", "filter"]),
        ("filter (duration>2000)", &["filter"]),
        ("stats avg (f1) by f2", &["stats"]),
        ("stats count(*) by queryType, bin(1h)", &["stats"]),
        ("stats avg(f1) as myAvgF1 | sort myAvgF1 desc", &["stats", "sort"]),
        (
            "fields @message | parse @message \"[*] *\" as loggingType, loggingMessage | filter loggingType = \"ERROR\" | display loggingMessage",
            &["fields", "parse", "filter", "display"],
        ),
        (
            "parse @message /\\[(?<level>\\S+)\\]\\s+(?<config>\\{.*\\})\\s+The error was: (?<exception>\\S+)/",
            &["parse"],
        ),
        (
            "fields @timestamp, server, severity, message | sort @timestamp desc | dedup server | limit 10",
            &["fields", "sort", "dedup", "limit"],
        ),
        ("fields @message | limit any 1", &["fields", "limit"]),
        (
            "SOURCE logGroups(namePrefix: ['namePrefix1', 'namePrefix2']) | filter @message like /x/ | limit 5",
            &["SOURCE", "filter", "limit"],
        ),
        (
            "stats pct(@duration, 95) as p95, floor(avg(@duration)) as mean by bin(1m) offset 1h",
            &["stats"],
        ),
        ("fields a / b as ratio | sort ratio desc, a asc", &["fields", "sort"]),
        (
            "filter @message like \"Exception\" | stats count(*) as n by bin(5m) | sort n desc | limit 100000",
            &["filter", "stats", "sort", "limit"],
        ),
        (
            "filter isPresent(x) | stats sortsFirst(a), sortsLast(b), count_distinct(c), stddev(d), sum(e), min(f), max(g)",
            &["filter", "stats"],
        ),
        ("pattern @message", &["pattern"]),
        ("filter x = 1 | unmask @message | anomaly", &["filter", "unmask", "anomaly"]),
        ("fields @message | filter @message like /a\\/b|c/ | diff", &["fields", "filter", "diff"]),
        ("filterIndex requestId = 'abc' | fields @message", &["filterIndex", "fields"]),
        ("\n\n  fields x  \n\n", &["fields"]),
        ("fields 'pipe | in a string', `a|b` | filter x like /(a|b)/", &["fields", "filter"]),
        (
            "fields \"# not a comment\", `#tag` | filter @message like /#[0-9]+ | x/ # a comment | limit 5\n| limit 5",
            &["fields", "filter", "limit"],
        ),
        ("fields a | dedup a | limit 5", &["fields", "dedup", "limit"]),
    ];

    /// (query, offset, len, message substring, note substring)
    const INVALID: &[(&str, usize, usize, &str, &str)] = &[
        ("", 0, 0, "empty query", ""),
        ("# only a comment\n   ", 0, 0, "empty query", ""),
        ("| fields a", 0, 1, "expected a command before `|`", ""),
        ("fields a |", 9, 1, "expected a command after `|`", ""),
        (
            "fields a | | limit 5",
            11,
            1,
            "expected a command before `|`",
            "",
        ),
        (
            "fieldz a",
            0,
            6,
            "unknown command `fieldz`",
            "did you mean `fields`?",
        ),
        (
            "fields a | fitler x = 1",
            11,
            6,
            "unknown command `fitler`",
            "`filter`",
        ),
        (
            "source logGroups()",
            0,
            6,
            "unknown command `source`",
            "case-sensitive: did you mean `SOURCE`",
        ),
        (
            "fields a | frobnicate",
            11,
            10,
            "unknown command",
            "known commands: fields",
        ),
        ("\"fields\" a", 0, 8, "expected a command name", ""),
        ("fields", 0, 6, "`fields` needs arguments", ""),
        ("fields a | limit", 11, 5, "`limit` needs arguments", ""),
        ("fields a | limit x", 17, 1, "positive integer", ""),
        ("fields a | limit 0", 17, 1, "at least 1", ""),
        ("fields a | limit 100001", 17, 6, "at most 100000", ""),
        (
            "fields a | limit 99999999999999999999999",
            17,
            23,
            "at most 100000",
            "",
        ),
        ("fields a | limit -5", 17, 1, "positive integer", ""),
        (
            "fields a | limit 5 10",
            19,
            2,
            "after the `limit` count",
            "",
        ),
        (
            "filter @message like \"abc",
            21,
            1,
            "unterminated string",
            "",
        ),
        ("filter @message like /abc", 21, 1, "unterminated regex", ""),
        ("fields `foo", 7, 1, "unterminated field name", ""),
        ("stats count(* by x", 11, 1, "unclosed `(`", ""),
        ("fields a) | limit 1", 8, 1, "`)` closes nothing", ""),
        (
            "fields abs(a] | limit 1",
            12,
            1,
            "`]` does not close the `(`",
            "byte 10",
        ),
        (
            "stats count(*) as n by",
            20,
            2,
            "`by` needs at least one grouping field",
            "",
        ),
        (
            "stats x by y",
            0,
            5,
            "needs at least one aggregation function",
            "count_distinct",
        ),
        ("stats by y", 6, 2, "before `by`", ""),
        (
            "stats cuont(*) by y",
            6,
            5,
            "unknown stats function `cuont`",
            "did you mean `count`?",
        ),
        (
            "stats avg(x) by y | sort n sideways",
            27,
            8,
            "expected `asc`, `desc`",
            "",
        ),
        ("sort desc", 5, 4, "needs a field before `desc`", ""),
        ("sort abs(x)", 8, 1, "expected `asc`, `desc`", ""),
        ("fields a,, b", 9, 1, "expected an item before `,`", ""),
        ("fields a, b,", 11, 1, "expected an item after `,`", ""),
        ("fields a as", 9, 2, "`as` needs a field name", ""),
        (
            "parse @message \"a=* b=*\" as a",
            15,
            9,
            "glob has 2 `*` but 1 name",
            "",
        ),
        ("parse @message /(\\d+)/", 15, 7, "named group", ""),
        ("parse @message \"a=*\"", 15, 5, "needs `as`", ""),
        ("parse @message", 0, 5, "glob\" string or a /regex/", ""),
        ("parse \"a=*\" as a", 6, 5, "field to parse first", ""),
        (
            "fields a | dedup a | sort a",
            21,
            4,
            "only `limit` may follow `dedup`",
            "byte 11",
        ),
        (
            "fields a | SOURCE logGroups()",
            11,
            6,
            "must be the first command",
            "",
        ),
        (
            "filter a like b",
            14,
            1,
            "takes a \"string\" or a /regex/",
            "",
        ),
        ("filter a =~", 9, 2, "needs a \"string\" or a /regex/", ""),
        ("fields \u{e9}", 7, 2, "unexpected character", "backticks"),
        ("fields a\0b", 8, 1, "unexpected character", ""),
        ("fields a ! b", 9, 1, "unexpected `!`", "`!=`"),
        ("display a + b", 10, 1, "takes field names", ""),
        ("fields a | dedup", 11, 5, "`dedup` needs arguments", ""),
    ];

    #[test]
    fn valid_queries() {
        for (query, commands) in VALID {
            let parsed = check(query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
            assert_eq!(parsed.commands(), *commands, "{query:?}");
            for c in parsed.command_list() {
                assert!(query[c.offset..].starts_with(c.name), "{query:?}: {c:?}");
            }
        }
        assert!(VALID.len() >= 15);
    }

    #[test]
    fn invalid_queries() {
        for (query, offset, len, message, note) in INVALID {
            let err = check(query).expect_err(query);
            assert_eq!((err.offset, err.len), (*offset, *len), "{query:?}: {err}");
            assert!(err.message.contains(message), "{query:?}: {err}");
            if !note.is_empty() {
                let got = err.note.as_deref().unwrap_or("");
                assert!(got.contains(note), "{query:?}: {err}");
            }
        }
        assert!(INVALID.len() >= 15);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let ok = format!("fields {}a{}", "(".repeat(64), ")".repeat(64));
        assert!(check(&ok).is_ok());
        let deep = format!("fields {}a{}", "(".repeat(65), ")".repeat(65));
        let err = check(&deep).unwrap_err();
        assert_eq!((err.offset, err.len), (7 + 64, 1));
        assert!(err.message.contains("nested"));
        let huge = format!("fields {}", "(".repeat(100_000));
        assert_eq!(check(&huge).unwrap_err().offset, 7 + 64);
    }

    #[test]
    fn edit_distance_and_suggestions() {
        assert_eq!(edit_distance("fields", "fields"), Some(0));
        assert_eq!(edit_distance("fieldz", "fields"), Some(1));
        assert_eq!(edit_distance("sotr", "sort"), Some(2));
        assert_eq!(edit_distance("", "abc"), None);
        assert_eq!(suggest("filterindex", COMMANDS), Some("filterIndex"));
        assert_eq!(suggest("limt", COMMANDS), Some("limit"));
        assert_eq!(suggest("zzzzzz", COMMANDS), None);
        assert_eq!(suggest("stdev", STATS_FUNCTIONS), Some("stddev"));
    }

    #[test]
    fn display_and_long_names() {
        let err = check("fieldz a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown command `fieldz` (at byte 0); did you mean `fields`?"
        );
        let long = "x".repeat(10_000);
        let err = check(&long).unwrap_err();
        assert!(err.message.len() < 100, "{}", err.message);
        assert_eq!(err.len, 10_000);
    }

    fn assert_sane(input: &str) {
        if let Err(e) = check(input) {
            assert!(e.offset + e.len <= input.len(), "{input:?}: {e:?}");
            assert!(input.is_char_boundary(e.offset), "{input:?}: {e:?}");
            assert!(input.is_char_boundary(e.offset + e.len), "{input:?}: {e:?}");
            assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn never_panics() {
        let mut count = 0;
        let mut inputs: Vec<&str> = VALID.iter().map(|(q, _)| *q).collect();
        inputs.extend(INVALID.iter().map(|(q, ..)| *q));
        for query in &inputs {
            let bounds: Vec<usize> = query
                .char_indices()
                .map(|(i, _)| i)
                .chain([query.len()])
                .collect();
            for &end in &bounds {
                assert_sane(&query[..end]);
                count += 1;
            }
            for w in bounds.windows(2) {
                let deleted = format!("{}{}", &query[..w[0]], &query[w[1]..]);
                assert_sane(&deleted);
                count += 1;
            }
        }
        let weird = [
            "\0".repeat(1000),
            "\u{1F600} | \u{e9}".repeat(100),
            "\"".repeat(10_001),
            "/".repeat(10_001),
            "`".repeat(10_001),
            ")".repeat(100_000),
            "[(".repeat(50_000),
            "fields a | ".repeat(20_000),
            format!("fields a | {}", "| ".repeat(50_000)),
            format!("stats {}", "count(*), ".repeat(20_000)),
            format!("fields a # {}", "\u{0}".repeat(1000)),
            "limit 1".to_string() + &"0".repeat(100_000),
            "#".repeat(1000),
            "\\".repeat(1000),
        ];
        for w in &weird {
            assert_sane(w);
            count += 1;
        }
        assert!(count > 2000, "{count}");
    }
}
