//! The plan as text, Terraform-like: `+` create, `~` update, `-` delete, `-/+` replace.

use std::fmt::{self, Write as _};

use super::{ChangeAction, Plan};

/// Colours only when asked (a terminal without `NO_COLOR`); tests render without.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn marker(action: ChangeAction) -> (&'static str, &'static str, &'static str) {
    match action {
        ChangeAction::Create => ("+", "32", "will be created"),
        ChangeAction::Update => ("~", "33", "will be updated in place"),
        ChangeAction::Replace => ("-/+", "35", "must be replaced"),
        ChangeAction::Delete => ("-", "31", "will be destroyed"),
        // Terraform marks imports without a sign of their own; `~` because the
        // resource is changed in place (at least tagged).
        ChangeAction::Adopt => ("~", "36", "will be adopted (tagged as the stack's)"),
    }
}

/// `Monthly cost: $12.40 now -> $14.10 after apply (+$1.70)` and what the figures assume.
fn cost_line(plan: &Plan) -> String {
    use super::cost::{dollars, FREE_TIER};
    let cost = &plan.cost;
    let (now, after) = (cost.now, cost.after());
    let mut line = if plan.changes.is_empty() {
        format!("Monthly cost: {}\n", dollars(now, false))
    } else {
        format!(
            "Monthly cost: {} now -> {} after apply ({})\n",
            dollars(now, false),
            dollars(after, false),
            dollars(after - now, true)
        )
    };
    let _ = writeln!(line, "  ({FREE_TIER})");
    for note in cost.notes.iter().cloned().chain(cost.uncovered_note()) {
        let _ = writeln!(line, "  ({note})");
    }
    line
}

/// A [`Plan`] shown as text.
pub struct Text<'a> {
    pub plan: &'a Plan,
    pub style: Style,
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text { plan, style } = self;
        let mut out = String::new();
        if !plan.changes.is_empty() {
            out.push_str("monplan will perform the following actions:\n");
        }
        let mut current_stack = None;
        for change in &plan.changes {
            if current_stack != Some((&change.stack, &change.region)) {
                current_stack = Some((&change.stack, &change.region));
                let _ = writeln!(out, "\n# stack {} ({})", change.stack, change.region);
            }
            let (sign, color, verb) = marker(change.action);
            let _ = writeln!(out, "\n  # {} {verb}", change.resource);
            let _ = writeln!(out, "  {} {}", style.paint(color, sign), change.resource);
            for field in &change.fields {
                let line = match (&field.before, &field.after) {
                    (None, Some(after))
                        if matches!(change.action, ChangeAction::Update | ChangeAction::Adopt) =>
                    {
                        format!("{} {}: {after}", style.paint("32", "+"), field.name)
                    }
                    (Some(before), None)
                        if matches!(change.action, ChangeAction::Update | ChangeAction::Adopt) =>
                    {
                        format!("{} {}: {before}", style.paint("31", "-"), field.name)
                    }
                    (None, Some(after)) => {
                        format!("{} {}: {after}", style.paint(color, sign), field.name)
                    }
                    (Some(before), None) => {
                        format!("{} {}: {before}", style.paint(color, sign), field.name)
                    }
                    (Some(before), Some(after)) => {
                        format!(
                            "{} {}: {before} -> {after}",
                            style.paint("33", "~"),
                            field.name
                        )
                    }
                    (None, None) => continue,
                };
                let _ = writeln!(out, "      {line}");
            }
            if let Some(diff) = &change.body_diff {
                for line in diff
                    .lines()
                    .filter(|l| !l.starts_with("---") && !l.starts_with("+++"))
                {
                    let painted = match line.chars().next() {
                        Some('+') => style.paint("32", line),
                        Some('-') => style.paint("31", line),
                        Some('@') => style.paint("36", line),
                        _ => line.to_string(),
                    };
                    let _ = writeln!(out, "      {painted}");
                }
            }
        }
        if !plan.notices.is_empty() {
            out.push('\n');
            for notice in &plan.notices {
                let _ = writeln!(
                    out,
                    "{} {} (stack {}): {}",
                    style.paint("36", "note:"),
                    notice.subject,
                    notice.stack,
                    notice.message
                );
            }
        }
        let summary = plan.summary();
        if plan.changes.is_empty() {
            out.push_str("\nNo changes. The live AWS state matches the stacks.\n");
        } else {
            let _ = writeln!(out, "\n{}", summary.line());
        }
        if let Some(selection) = &plan.limited {
            let _ = writeln!(
                out,
                "Limited by {selection}: changes outside the selection are not planned, and it deletes nothing outside it."
            );
        }
        out.push_str(&cost_line(plan));
        f.write_str(out.trim_start_matches('\n'))
    }
}
