use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal};
use std::time::Instant;

use super::{desired_state, live_plan, runtime, show_plan, ExitStatus, Printer};
use crate::apply::{self, Report};
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::diag::SourceMap;
use crate::plan::{ChangeAction, Plan};

/// `monplan apply`: load, validate, read, plan, render, confirm, apply, report.
pub fn apply(args: &ApplyArgs, global: &GlobalArgs) -> ExitStatus {
    run(args, global).unwrap_or_else(|status| status)
}

fn run(args: &ApplyArgs, global: &GlobalArgs) -> Result<ExitStatus, ExitStatus> {
    let printer = Printer::new(global);
    let mut sources = SourceMap::default();
    let stacks = desired_state(&args.paths, &mut sources, &printer)?;
    let runtime = runtime(&printer)?;
    let (world, plan) = live_plan(&stacks, global, &sources, &printer, &runtime)?;
    show_plan(&plan, &printer);
    if plan.is_empty() {
        return Ok(ExitStatus::Success);
    }
    confirm(args.auto_approve, &printer)?;
    let started = Instant::now();
    let report = runtime.block_on(apply::apply(&plan, &world, |change, error| {
        let verb = if error.is_some() {
            "failed"
        } else {
            change.action.past_tense()
        };
        printer.info(&format!("{}: {verb}\n", change.resource));
    }));
    printer.detail(&format!(
        "apply took {:.2}s\n",
        started.elapsed().as_secs_f64()
    ));
    Ok(summarize(&plan, &report, &printer))
}

/// Terraform's rule: on a terminal, only `yes` approves; without one, `--auto-approve`
/// is required, because silence must never mean consent.
fn confirm(auto_approve: bool, printer: &Printer) -> Result<(), ExitStatus> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        printer.error("error: refusing to apply: standard input is not a terminal, so nobody can confirm. Review the plan above and run `monplan apply --auto-approve` to apply it without a prompt.\n");
        return Err(ExitStatus::Failure);
    }
    printer.error("\nDo you want to perform these actions? Only 'yes' will be accepted to approve.\n  Enter a value: ");
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        printer.error("Apply cancelled; nothing was changed.\n");
        Err(ExitStatus::Failure)
    }
}

fn summarize(plan: &Plan, report: &Report, printer: &Printer) -> ExitStatus {
    let mut counts = [0usize; 3];
    for (_, action) in &report.applied {
        match action {
            ChangeAction::Create => counts[0] += 1,
            ChangeAction::Update => counts[1] += 1,
            ChangeAction::Replace => {
                counts[0] += 1;
                counts[2] += 1;
            }
            ChangeAction::Delete => counts[2] += 1,
        }
    }
    let Some((resource, error)) = &report.failed else {
        printer.out(&format!(
            "\nApply complete! Resources: {} added, {} changed, {} destroyed.\n",
            counts[0], counts[1], counts[2]
        ));
        return ExitStatus::Success;
    };
    let mut text = format!("\nerror: apply stopped: {resource} failed\n  {error}\n");
    let _ = writeln!(
        text,
        "
applied ({} of {} changes):",
        report.applied.len(),
        plan.changes.len()
    );
    for (resource, action) in &report.applied {
        let _ = writeln!(text, "  {resource}: {}", action.past_tense());
    }
    if !report.not_started.is_empty() {
        let _ = writeln!(text, "not started ({}):", report.not_started.len());
        for resource in &report.not_started {
            let _ = writeln!(text, "  {resource}");
        }
    }
    text.push_str("\nFix the cause and run `monplan apply` again: it plans from what AWS now holds and finishes the rest.\n");
    printer.error(&text);
    ExitStatus::Failure
}
