use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal};
use std::time::Instant;

use super::progress::Progress;
use super::{desired_state, live_plan, runtime, saved, show_plan, ExitStatus, Printer};
use crate::apply::{self, Report};
use crate::aws::Connections;
use crate::cli::{ApplyArgs, GlobalArgs, PathsArgs};
use crate::diag::SourceMap;
use crate::plan::{ChangeAction, Plan};

/// `monplan apply`: load, validate, read, plan, render, guard, confirm, apply, report.
pub fn apply(args: &ApplyArgs, global: &GlobalArgs) -> ExitStatus {
    run(args, global).unwrap_or_else(|status| status)
}

fn run(args: &ApplyArgs, global: &GlobalArgs) -> Result<ExitStatus, ExitStatus> {
    let printer = Printer::new(global);
    if let [path] = args.paths.paths.as_slice() {
        if let Some(document) = saved::read(path) {
            return apply_saved(&document, path, args, global, &printer);
        }
    }
    let mut sources = SourceMap::default();
    let stacks = desired_state(&args.paths, &mut sources, &printer)?;
    let runtime = runtime(&printer)?;
    let (connections, plan) = live_plan(&stacks, global, &sources, &printer, &runtime)?;
    show_plan(&plan, &connections.pacer(), &printer);
    execute(
        &plan,
        &connections,
        &Guards {
            auto_approve: args.auto_approve,
            max_destroy: args.max_destroy,
        },
        &printer,
        &runtime,
    )
}

/// `monplan apply FILE`: exactly the saved plan, or a refusal saying what changed.
/// The plan was reviewed when it was made, so there is no prompt.
fn apply_saved(
    document: &serde_json::Value,
    path: &std::path::Path,
    args: &ApplyArgs,
    global: &GlobalArgs,
    printer: &Printer,
) -> Result<ExitStatus, ExitStatus> {
    let refuse = |problems: Vec<String>| {
        let mut text = format!(
            "error: refusing to apply {}: it is stale. Nothing was changed.\n",
            path.display()
        );
        for problem in problems {
            let _ = writeln!(text, "  - {problem}");
        }
        text.push_str("Make a new plan (monplan plan --out FILE), review it, and apply that.\n");
        printer.error(&text);
        ExitStatus::Failure
    };
    let problems = saved::files_changed(document);
    if !problems.is_empty() {
        return Err(refuse(problems));
    }
    let mut sources = SourceMap::default();
    let stacks = desired_state(
        &PathsArgs {
            paths: saved::paths(document),
        },
        &mut sources,
        printer,
    )?;
    let runtime = runtime(printer)?;
    let (connections, plan) = live_plan(&stacks, global, &sources, printer, &runtime)?;
    let problems = saved::plan_changed(document, &plan, &sources);
    if !problems.is_empty() {
        return Err(refuse(problems));
    }
    show_plan(&plan, &connections.pacer(), printer);
    execute(
        &plan,
        &connections,
        &Guards {
            auto_approve: true,
            max_destroy: args.max_destroy,
        },
        printer,
        &runtime,
    )
}

/// What must hold before anything changes.
pub(crate) struct Guards {
    pub auto_approve: bool,
    pub max_destroy: usize,
}

/// Guard, confirm, apply with progress, report. Shared by `apply` and `destroy`.
pub(crate) fn execute(
    plan: &Plan,
    connections: &Connections,
    guards: &Guards,
    printer: &Printer,
    runtime: &tokio::runtime::Runtime,
) -> Result<ExitStatus, ExitStatus> {
    if plan.is_empty() {
        return Ok(ExitStatus::Success);
    }
    check_destroy_limit(plan, guards.max_destroy, printer)?;
    confirm(guards.auto_approve, printer)?;
    let started = Instant::now();
    let estimate = super::estimate_seconds(plan, &connections.pacer());
    let mut progress = Progress::new(plan.changes.len(), estimate, printer);
    let report = runtime.block_on(apply::apply(plan, connections, |change, error| {
        progress.finished(change, error.is_some());
    }));
    progress.done();
    printer.detail(&format!(
        "apply took {:.2}s, {} call(s) retried after throttling or transient errors\n",
        started.elapsed().as_secs_f64(),
        report.retries
    ));
    Ok(summarize(plan, &report, printer))
}

/// `--max-destroy`: a plan that deletes more than this is refused before anything runs.
fn check_destroy_limit(plan: &Plan, limit: usize, printer: &Printer) -> Result<(), ExitStatus> {
    let destroyed = plan.summary().destroy;
    if destroyed <= limit {
        return Ok(());
    }
    printer.error(&format!(
        "error: refusing to apply: the plan destroys {destroyed} resources, more than --max-destroy {limit}. Nothing was changed.\n  Review the deletions above; if they are intended, run again with --max-destroy {destroyed}.\n"
    ));
    Err(ExitStatus::Failure)
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
    let mut counts = [0usize; 4];
    for (_, action) in &report.applied {
        match action {
            ChangeAction::Create => counts[0] += 1,
            ChangeAction::Update => counts[1] += 1,
            ChangeAction::Replace => {
                counts[0] += 1;
                counts[2] += 1;
            }
            ChangeAction::Delete => counts[2] += 1,
            ChangeAction::Adopt => counts[3] += 1,
        }
    }
    if report.succeeded() && report.not_started.is_empty() {
        // Like the plan's summary line: adoptions are named only when there are some.
        let adopted = if counts[3] > 0 {
            format!(" {} adopted,", counts[3])
        } else {
            String::new()
        };
        printer.out(&format!(
            "\nApply complete! Resources: {} added,{adopted} {} changed, {} destroyed.\n",
            counts[0], counts[1], counts[2]
        ));
        return ExitStatus::Success;
    }
    let mut text = String::new();
    for (resource, error) in &report.failed {
        let _ = writeln!(text, "\nerror: apply stopped: {resource} failed\n  {error}");
    }
    let _ = writeln!(
        text,
        "\napplied ({} of {} changes):",
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
