//! The pull-request comment of one stack directory, as the GitHub Action posts it
//! (`action.yml`, `scripts/action-plan.sh`), the way tfcmt and Atlantis comment: one
//! sticky comment per directory, found again by a hidden marker and updated in place.
//!
//! The body is the Markdown plan ([`super::render_markdown`], already within its own
//! size budget, diffs folded in `<details>`) under a heading naming the directory; or,
//! when the plan failed, the summary of the failure with the error output folded below
//! it. Either way it is at most [`MAX_CHARS`] characters, GitHub's limit, truncated with
//! a note that keeps the summary; ANSI colour is removed; and every secret value passed
//! in is replaced, wherever it appears.

use super::render_markdown::{code_span, escape_inline, longest_run};
use std::fmt::Write as _;

/// GitHub refuses issue and pull-request comments longer than this (in characters).
pub const MAX_CHARS: usize = 65_536;

/// Room kept for the note that says the error output was truncated.
const NOTE_RESERVE: usize = 400;

/// What a secret shows as in a comment.
pub const REDACTED: &str = "(redacted)";

/// What the comment is about.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// The plan succeeded: its Markdown rendering.
    Planned(&'a str),
    /// The plan failed: what monplan wrote to stderr (diagnostics, errors).
    Failed(&'a str),
}

/// The hidden marker that identifies the comment of `id` (a stack directory). HTML
/// comments end at `--`, so the id is written without dashes runs or `>` that could end
/// it early; two ids differing only there share a marker, which is harmless.
pub fn marker(id: &str) -> String {
    let mut safe = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '>' | '<' | '\r' | '\n' => safe.push('_'),
            '-' if safe.ends_with('-') => {}
            _ => safe.push(c),
        }
    }
    let safe = safe.trim_end_matches('-');
    format!("<!-- monplan:{safe} -->")
}

/// The comment body for `id`: at most [`MAX_CHARS`] characters, without the `secrets`.
pub fn comment(id: &str, outcome: Outcome<'_>, secrets: &[String]) -> String {
    let mut head = marker(id);
    let _ = write!(head, "\n## monplan plan: {}\n\n", code_span(id));
    let body = match outcome {
        Outcome::Planned(markdown) => {
            // Our heading replaces the plan's own title.
            let markdown = markdown
                .strip_prefix("## monplan plan\n\n")
                .unwrap_or(markdown);
            format!("{head}{}", redact(markdown, secrets))
        }
        Outcome::Failed(stderr) => failed(&head, &redact(&strip_ansi(stderr), secrets)),
    };
    capped(body)
}

/// The summary of a failure (its last line: `validation failed: 2 errors; ...`) and the
/// error output folded in `<details>`, cut from the end to fit.
fn failed(head: &str, errors: &str) -> String {
    let errors = errors.trim_end();
    let summary = errors
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("monplan failed without a message");
    let mut out = head.to_string();
    let _ = write!(
        out,
        "> [!CAUTION]\n> **The plan failed, nothing can be applied:** {}\n\n",
        escape_inline(summary)
    );
    let fence = "`".repeat(longest_run(errors, '`').max(2) + 1);
    let open = format!("<details><summary>Error output</summary>\n\n{fence}text\n");
    let close = format!("{fence}\n\n</details>\n");
    let room = MAX_CHARS.saturating_sub(chars(&out) + chars(&open) + chars(&close) + NOTE_RESERVE);
    let total_lines = errors.lines().count();
    let mut kept = String::new();
    let mut kept_lines = 0;
    for line in errors.lines() {
        if chars(&kept) + chars(line) + 1 > room {
            break;
        }
        kept.push_str(line);
        kept.push('\n');
        kept_lines += 1;
    }
    out.push_str(&open);
    out.push_str(&kept);
    out.push_str(&close);
    if kept_lines < total_lines {
        let _ = write!(
            out,
            "\n> [!NOTE]\n> **The error output is truncated** to fit in a GitHub comment: \
             {kept_lines} of {total_lines} lines are shown. Run `monplan plan` for all of it.\n"
        );
    }
    out
}

/// A last guard on the whole body: cut at a character boundary with a note.
fn capped(body: String) -> String {
    if chars(&body) <= MAX_CHARS {
        return body;
    }
    let note = "\n\n> [!NOTE]\n> **This comment is truncated** to fit in a GitHub comment. \
                Run `monplan plan` for the full plan.\n";
    let keep = MAX_CHARS - chars(note);
    let mut out: String = body.chars().take(keep).collect();
    out.push_str(note);
    out
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Every occurrence of every secret replaced by [`REDACTED`]. Longer secrets first, so
/// that one secret inside another cannot leave part of the longer one behind.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

/// `text` without ANSI escape sequences (CSI `ESC [ ... final` and two-byte escapes).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.next_if_eq(&'[').is_some() {
            // Parameters and intermediates, up to the final byte (@ to ~).
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}
