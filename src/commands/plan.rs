use super::{desired_state, live_plan, runtime, show_plan, ExitStatus, Printer};
use crate::cli::{GlobalArgs, PlanArgs};
use crate::diag::SourceMap;

/// `monplan plan`: load, validate, read, plan, render.
pub fn plan(args: &PlanArgs, global: &GlobalArgs) -> ExitStatus {
    run(args, global).unwrap_or_else(|status| status)
}

fn run(args: &PlanArgs, global: &GlobalArgs) -> Result<ExitStatus, ExitStatus> {
    let printer = Printer::new(global);
    let mut sources = SourceMap::default();
    let stacks = desired_state(&args.paths, &mut sources, &printer)?;
    let runtime = runtime(&printer)?;
    let (world, plan) = live_plan(&stacks, global, &sources, &printer, &runtime)?;
    show_plan(&plan, &world, &printer);
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
