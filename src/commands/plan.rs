use super::{desired_state, live_plan, runtime, saved, show_plan, ExitStatus, Printer};
use crate::cli::{Format, GlobalArgs, PlanArgs};
use crate::diag::SourceMap;
use crate::plan::render_comment::{self, Outcome};
use crate::plan::{render_json, render_markdown};

/// `monplan plan`: load, validate, read, plan, render (and save).
pub fn plan(args: &PlanArgs, global: &GlobalArgs) -> ExitStatus {
    let Some(id) = &args.comment_for else {
        let printer = Printer::new(global);
        let mut sources = SourceMap::default();
        return run(args, global, &printer, &mut sources).unwrap_or_else(|status| status);
    };
    // A pull-request comment, whatever happens: the plan, or the errors that stopped it.
    let printer = Printer::capturing(global);
    let mut sources = SourceMap::default();
    let result = run(args, global, &printer, &mut sources);
    if let Err(status) = result {
        let secrets = secrets(&sources);
        let errors = printer.captured();
        printer.out(&render_comment::comment(
            id,
            Outcome::Failed(&errors),
            &secrets,
        ));
        return status;
    }
    result.unwrap_or_else(|status| status)
}

/// The values of the `${env:NAME}` variables that the stack files read: what a comment
/// must never show, even where an AWS error message quotes one back.
fn secrets(sources: &SourceMap) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    for (_, text) in sources.files() {
        let mut rest = text;
        while let Some(start) = rest.find("${env:") {
            rest = &rest[start + "${env:".len()..];
            if let Some(end) = rest.find('}') {
                names.push(rest[..end].trim());
                rest = &rest[end..];
            }
        }
    }
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        // A value this short would redact ordinary words; endpoints are longer.
        .filter(|value| value.len() >= 4)
        .collect()
}

fn run(
    args: &PlanArgs,
    global: &GlobalArgs,
    printer: &Printer,
    sources: &mut SourceMap,
) -> Result<ExitStatus, ExitStatus> {
    let stacks = desired_state(&args.paths, sources, printer)?;
    let runtime = runtime(printer)?;
    let (connections, plan) = live_plan(&stacks, global, sources, printer, &runtime)?;
    let pacer = connections.pacer();
    let estimate = super::estimate_seconds(&plan, &pacer);
    let format = if args.comment_for.is_some() {
        Format::Markdown
    } else {
        args.format
    };
    match format {
        Format::Text => show_plan(&plan, &pacer, printer),
        Format::Json => {
            let document = render_json::to_json(&plan, estimate);
            printer.out(&(serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"));
        }
        Format::Markdown => {
            let markdown = render_markdown::to_markdown(&plan, estimate);
            match &args.comment_for {
                Some(id) => printer.out(&render_comment::comment(
                    id,
                    Outcome::Planned(&markdown),
                    &secrets(sources),
                )),
                None => printer.out(&markdown),
            }
        }
    }
    if let Some(out) = &args.out {
        let document = saved::to_document(&plan, &args.paths.paths, sources, estimate);
        let text = serde_json::to_string_pretty(&document).unwrap_or_default() + "\n";
        if let Err(error) = std::fs::write(out, text) {
            printer.error(&format!(
                "error: cannot write the plan to {}: {error}\n",
                out.display()
            ));
            return Err(ExitStatus::Failure);
        }
        printer.info(&format!(
            "Saved the plan to {0}. Apply exactly it with: monplan apply {0}\n",
            out.display()
        ));
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
