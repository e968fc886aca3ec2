use super::{desired_state, ExitStatus, Printer};
use crate::cli::{GlobalArgs, PathsArgs};
use crate::diag::SourceMap;

/// `monplan validate`: load and validate, offline.
pub fn validate(args: &PathsArgs, global: &GlobalArgs) -> ExitStatus {
    let printer = Printer::new(global);
    let mut sources = SourceMap::default();
    match desired_state(args, &mut sources, &printer) {
        Ok(stacks) => {
            for stack in &stacks {
                for run in &stack.samples {
                    printer.info(&format!(
                        "stack {}: log metric `{}` matches sample {:?} and publishes {}\n",
                        stack.name, run.log_metric, run.line, run.publishes
                    ));
                }
            }
            let names: Vec<String> = stacks.iter().map(|s| s.name.to_string()).collect();
            printer.info(&format!(
                "{} stack(s) valid: {}\n",
                stacks.len(),
                names.join(", ")
            ));
            ExitStatus::Success
        }
        Err(status) => status,
    }
}
