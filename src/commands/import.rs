//! `monplan import`: read what the selection names, write it as a stack YAML that plans
//! only the ownership tags, say what was left out and why.

use super::{connect_options, runtime, ExitStatus, Printer};
use crate::aws::{self, CallCounter, Selection};
use crate::cli::{GlobalArgs, ImportArgs};
use crate::import;
use crate::model::StackName;

pub fn import(args: &ImportArgs, global: &GlobalArgs) -> ExitStatus {
    run(args, global).unwrap_or_else(|status| status)
}

fn run(args: &ImportArgs, global: &GlobalArgs) -> Result<ExitStatus, ExitStatus> {
    let printer = Printer::new(global);
    let stack = stack_name(args, &printer)?;
    if let Some(out) = args.out.as_ref().filter(|out| out.exists()) {
        printer.error(&format!(
            "error: {} exists; import does not overwrite a file\n",
            out.display()
        ));
        return Err(ExitStatus::Failure);
    }
    let tag = args.tag.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
    let prefix = args.prefix.as_deref();
    let mut dashboard_prefixes = vec![format!("{stack}_")];
    dashboard_prefixes.extend(prefix.map(ToString::to_string));
    let selection = Selection {
        prefix,
        tag,
        dashboard_prefixes,
    };
    let runtime = runtime(&printer)?;
    let counter = CallCounter::default();
    let (scope, estate) = runtime
        .block_on(aws::read_estate(
            &connect_options(global),
            &selection,
            &counter,
        ))
        .map_err(|error| {
            printer.error(&format!("error: {error}\n"));
            ExitStatus::Failure
        })?;
    let source = describe(&selection, &scope);
    let imported = import::import(&stack, &estate, &scope, &source);
    match &args.out {
        Some(out) => {
            if let Err(error) = std::fs::write(out, &imported.yaml) {
                printer.error(&format!("error: cannot write {}: {error}\n", out.display()));
                return Err(ExitStatus::Failure);
            }
            printer.info(&format!("Wrote {}.\n", out.display()));
        }
        None => printer.out(&imported.yaml),
    }
    printer.info(&format!(
        "Imported {} resources into stack {stack}; {} left out (listed at the top of the file).\n",
        imported.written,
        imported.skipped.len()
    ));
    Ok(ExitStatus::Success)
}

/// `--stack`, else the prefix without its trailing `-` or `_`; a valid stack name.
fn stack_name(args: &ImportArgs, printer: &Printer) -> Result<StackName, ExitStatus> {
    let name = match (&args.stack, &args.prefix) {
        (Some(stack), _) => stack.clone(),
        (None, Some(prefix)) => import::stack_from_prefix(prefix),
        (None, None) => String::new(),
    };
    if import::valid_stack_name(&name) {
        return Ok(StackName::new(name));
    }
    printer.error(&format!(
        "error: `{name}` is not a valid stack name: lowercase letters and digits in words joined by `-`, at most 32 characters{}\n",
        if args.stack.is_none() { "; pass --stack NAME" } else { "" }
    ));
    Err(ExitStatus::Failure)
}

fn describe(selection: &Selection<'_>, scope: &crate::model::Scope) -> String {
    let mut what = Vec::new();
    if let Some(prefix) = selection.prefix {
        what.push(format!("names starting with `{prefix}`"));
    }
    if let Some((k, v)) = selection.tag {
        what.push(format!("tag {k}={v}"));
    }
    format!(
        "{} in account {}, region {}",
        what.join(" and "),
        scope.account,
        scope.region
    )
}
