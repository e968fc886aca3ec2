//! The plan as GitHub-flavoured Markdown, for a pull-request comment.
//!
//! Layout (see `docs/plan-format.md`): a title, the summary line, plan errors, the
//! resources to be destroyed or replaced called out at the top, a table of every change,
//! then each resource's diff folded in a `<details>` block, then notices.
//!
//! The result is at most [`MAX_LEN`] bytes, under GitHub's comment limit: when the whole
//! plan does not fit, the diffs are dropped from the end first, then table rows, and a note
//! says how many resources were left out and to run `monplan plan` for the full plan.
//!
//! Values come from the plan, already redacted (sensitive endpoints show as
//! `(sensitive: ${env:NAME})`); operation payloads are never rendered.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{Change, ChangeAction, Plan};
use crate::diag::Severity;

/// The most bytes [`to_markdown`] returns (so at most as many characters). GitHub refuses
/// comments over 65,536 characters; the margin leaves room for a wrapper around it.
pub const MAX_LEN: usize = 60_000;

/// The longest single list item (an error, a deletion, a notice) before it is clipped.
const ITEM_MAX: usize = 1_000;
/// Byte budgets of the sections that are not the table or the diffs; each ends with a
/// "... and N more" line when it does not fit.
const ERRORS_BUDGET: usize = 8_000;
const DESTROY_BUDGET: usize = 12_000;
const NOTICES_BUDGET: usize = 8_000;
/// Room kept for the truncation note (it is far shorter).
const NOTE_RESERVE: usize = 600;

const TABLE_HEAD: &str = "| Action | Kind | Resource | Stack |\n| :-: | --- | --- | --- |\n";

/// The Terraform-like marker of an action, as the text renderer uses.
fn marker(action: ChangeAction) -> &'static str {
    match action {
        ChangeAction::Create => "+",
        // An adoption changes the resource in place (at least its tags).
        ChangeAction::Update | ChangeAction::Adopt => "~",
        ChangeAction::Replace => "-/+",
        ChangeAction::Delete => "-",
    }
}

/// The plan as a pull-request comment of at most [`MAX_LEN`] bytes. `estimate_seconds`
/// is how long apply is expected to take, if known.
pub fn to_markdown(plan: &Plan, estimate_seconds: Option<f64>) -> String {
    let head = head(plan, estimate_seconds);
    let notices = notices(plan);
    let rows: Vec<String> = plan.changes.iter().map(row).collect();
    let details: Vec<String> = plan.changes.iter().filter_map(details).collect();

    // Every block ends with a blank line, so lengths simply add up.
    let fixed = head.len() + notices.len();
    let table_len = |rows: &[String]| {
        if rows.is_empty() {
            0
        } else {
            TABLE_HEAD.len() + total(rows) + 1
        }
    };
    let (kept_rows, kept_details) = if fixed + table_len(&rows) + total(&details) <= MAX_LEN {
        (rows.len(), details.len())
    } else {
        let mut room = MAX_LEN.saturating_sub(fixed + NOTE_RESERVE);
        if table_len(&rows) <= room {
            room -= table_len(&rows);
            (rows.len(), fitting(&details, room))
        } else {
            let room = room.saturating_sub(TABLE_HEAD.len() + 1);
            (fitting(&rows, room), 0)
        }
    };

    let mut out = head;
    if kept_rows > 0 {
        out.push_str(TABLE_HEAD);
        for row in &rows[..kept_rows] {
            out.push_str(row);
        }
        out.push('\n');
    }
    for block in &details[..kept_details] {
        out.push_str(block);
    }
    out.push_str(&notices);
    let (rows_omitted, details_omitted) = (rows.len() - kept_rows, details.len() - kept_details);
    if rows_omitted > 0 || details_omitted > 0 {
        out.push_str(&note(plan.changes.len(), rows_omitted, details_omitted));
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    debug_assert!(out.len() <= MAX_LEN, "markdown plan is {} bytes", out.len());
    out
}

fn total(blocks: &[String]) -> usize {
    blocks.iter().map(String::len).sum()
}

/// How many blocks from the start fit in `room` bytes.
fn fitting(blocks: &[String], room: usize) -> usize {
    let mut used = 0;
    blocks
        .iter()
        .take_while(|block| {
            used += block.len();
            used <= room
        })
        .count()
}

/// Title, summary line, estimate, errors and the destroy call-out.
fn head(plan: &Plan, estimate_seconds: Option<f64>) -> String {
    let mut out = String::from("## monplan plan\n\n");
    let summary = plan.summary();
    if plan.changes.is_empty() {
        out.push_str("**No changes.** The live AWS state matches the stacks.\n\n");
    } else {
        let _ = writeln!(out, "**{}**\n", summary.line());
    }
    if let Some(estimate) = estimate_seconds.and_then(crate::model::duration::approximate) {
        let _ = writeln!(out, "Estimated apply time: {estimate}.\n");
    }
    if !plan.changes.is_empty() {
        use super::cost::{dollars, FREE_TIER};
        let (now, after) = (plan.cost.now, plan.cost.after());
        let _ = writeln!(
            out,
            "Monthly cost: {} now -> {} after apply ({}), {FREE_TIER}.\n",
            dollars(now, false),
            dollars(after, false),
            dollars(after - now, true)
        );
    }

    let problems = |severity: Severity| -> Vec<String> {
        plan.errors
            .iter()
            .filter(|d| d.severity == severity)
            .map(|d| {
                format!(
                    "> - {}: {}\n",
                    code_span(d.code),
                    escape_inline(&clip(&d.message, ITEM_MAX))
                )
            })
            .collect()
    };
    let errors = problems(Severity::Error);
    if !errors.is_empty() {
        let title = format!(
            "> [!CAUTION]\n> **This plan has {} and cannot be applied:**\n",
            count(errors.len(), "error", "errors")
        );
        out.push_str(&capped(title, &errors, ERRORS_BUDGET, |n| {
            format!("> - ... and {}\n", count(n, "more error", "more errors"))
        }));
    }
    let warnings = problems(Severity::Warning);
    if !warnings.is_empty() {
        let title = format!(
            "> [!NOTE]\n> **{}:**\n",
            count(warnings.len(), "warning", "warnings")
        );
        out.push_str(&capped(title, &warnings, ERRORS_BUDGET, |n| {
            format!(
                "> - ... and {}\n",
                count(n, "more warning", "more warnings")
            )
        }));
    }

    let destroyed: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, ChangeAction::Delete | ChangeAction::Replace))
        .map(|c| {
            let what = if c.action == ChangeAction::Replace {
                "replaced (destroyed, then created again)"
            } else {
                "destroyed"
            };
            format!(
                "> - `{}` {} in stack {} ({}): {what}\n",
                marker(c.action),
                code_span(&clip(&c.resource.to_string(), ITEM_MAX)),
                escape_inline(c.stack.as_str()),
                escape_inline(&c.region),
            )
        })
        .collect();
    if !destroyed.is_empty() {
        let title = format!(
            "> [!WARNING]\n> **This plan destroys {}:**\n",
            count(destroyed.len(), "resource", "resources")
        );
        out.push_str(&capped(title, &destroyed, DESTROY_BUDGET, |n| {
            format!(
                "> - ... and {}\n",
                count(n, "more resource", "more resources")
            )
        }));
    }
    out
}

/// `title` and as many `lines` as fit in `budget` bytes, then `more(left out)`; a blank
/// line after.
fn capped(
    title: String,
    lines: &[String],
    budget: usize,
    more: impl Fn(usize) -> String,
) -> String {
    const MORE_RESERVE: usize = 120;
    let mut out = title;
    for (i, line) in lines.iter().enumerate() {
        if out.len() + line.len() + MORE_RESERVE > budget {
            out.push_str(&more(lines.len() - i));
            break;
        }
        out.push_str(line);
    }
    out.push('\n');
    out
}

fn row(change: &Change) -> String {
    format!(
        "| `{}` | {} | {} | {} ({}) |\n",
        marker(change.action),
        change.resource.kind(),
        cell(&code_span(&change.resource.to_string())),
        cell(&escape_inline(change.stack.as_str())),
        cell(&escape_inline(&change.region)),
    )
}

/// A change's fields and body diff in a folded block; `None` when there is nothing to show.
fn details(change: &Change) -> Option<String> {
    let mut lines = String::new();
    for field in &change.fields {
        let line = match (&field.before, &field.after) {
            (None, Some(after)) => format!("+ {}: {after}", field.name),
            (Some(before), None) => format!("- {}: {before}", field.name),
            (Some(before), Some(after)) => format!("~ {}: {before} -> {after}", field.name),
            (None, None) => continue,
        };
        lines.push_str(&line);
        lines.push('\n');
    }
    if let Some(diff) = &change.body_diff {
        for line in diff.lines() {
            lines.push_str(line);
            lines.push('\n');
        }
    }
    if lines.is_empty() {
        return None;
    }
    let fence = "`".repeat(longest_run(&lines, '`').max(2) + 1);
    Some(format!(
        "<details><summary><code>{} {}</code> (stack {}, {})</summary>\n\n{fence}diff\n{lines}{fence}\n\n</details>\n\n",
        marker(change.action),
        escape_html(&change.resource.to_string()),
        escape_html(change.stack.as_str()),
        escape_html(&change.region),
    ))
}

fn notices(plan: &Plan) -> String {
    if plan.notices.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = plan
        .notices
        .iter()
        .map(|n| {
            format!(
                "- {} (stack {}): {}\n",
                code_span(&clip(&n.subject, ITEM_MAX)),
                escape_inline(n.stack.as_str()),
                escape_inline(&clip(&n.message, ITEM_MAX)),
            )
        })
        .collect();
    capped(
        "#### Notices\n\n".to_string(),
        &lines,
        NOTICES_BUDGET,
        |n| format!("- ... and {}\n", count(n, "more notice", "more notices")),
    )
}

fn note(changes: usize, rows_omitted: usize, details_omitted: usize) -> String {
    let what = if rows_omitted > 0 {
        format!(
            "{rows_omitted} of {changes} resources are not listed in the table, and no diffs are shown"
        )
    } else {
        format!("the diffs of {details_omitted} of {changes} resources are not shown")
    };
    format!(
        "> [!NOTE]\n> **This plan is truncated** to fit in a GitHub comment: {what}. \
         Run `monplan plan` for the full plan.\n\n"
    )
}

/// `1 error`, `2 errors`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// At most `max` bytes of `text`, cut at a character boundary, with `...` when cut.
fn clip(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}...", &text[..end]))
}

/// The longest run of `c` in `text`.
pub(crate) fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut current) = (0, 0);
    for ch in text.chars() {
        current = if ch == c { current + 1 } else { 0 };
        longest = longest.max(current);
    }
    longest
}

/// `text` as one inline code span, whatever backticks it holds; line breaks become spaces.
pub(crate) fn code_span(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let fence = "`".repeat(longest_run(&text, '`') + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// Plain text in Markdown: punctuation that could start formatting, a link, HTML or math
/// is backslash-escaped; line breaks become spaces.
pub(crate) fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A table cell. GitHub splits rows at every `|` not preceded by a backslash, even inside
/// a code span, and then drops that backslash: escaping every `|` keeps the cell whole and
/// its text intact.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Text inside raw HTML (the `<summary>` line); line breaks become spaces.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}
