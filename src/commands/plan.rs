use super::{desired_state, live_plan, runtime, saved, show_plan, ExitStatus, Printer};
use crate::cli::{Format, GlobalArgs, PlanArgs};
use crate::diag::SourceMap;
use crate::plan::{render_json, render_markdown};

/// `monplan plan`: load, validate, read, plan, render (and save).
pub fn plan(args: &PlanArgs, global: &GlobalArgs) -> ExitStatus {
    run(args, global).unwrap_or_else(|status| status)
}

fn run(args: &PlanArgs, global: &GlobalArgs) -> Result<ExitStatus, ExitStatus> {
    let printer = Printer::new(global);
    let mut sources = SourceMap::default();
    let stacks = desired_state(&args.paths, &mut sources, &printer)?;
    let runtime = runtime(&printer)?;
    let (connections, plan) = live_plan(&stacks, global, &sources, &printer, &runtime)?;
    let pacer = connections.pacer();
    let estimate = super::estimate_seconds(&plan, &pacer);
    match args.format {
        Format::Text => show_plan(&plan, &pacer, &printer),
        Format::Json => {
            let document = render_json::to_json(&plan, estimate);
            printer.out(&(serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"));
        }
        Format::Markdown => printer.out(&render_markdown::to_markdown(&plan, estimate)),
    }
    if let Some(out) = &args.out {
        let document = saved::to_document(&plan, &args.paths.paths, &sources, estimate);
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
