use super::apply::{execute, Guards};
use super::{live_plan, runtime, show_plan, ExitStatus, Printer};
use crate::cli::{DestroyArgs, GlobalArgs};
use crate::diag::{FileId, SourceMap, Sp, Span};
use crate::model::DesiredStack;
use crate::validate::rules_stack_name;

/// `monplan destroy STACK`: plan the stack as if it declared nothing, then apply that.
pub fn destroy(args: &DestroyArgs, global: &GlobalArgs) -> ExitStatus {
    run(args, global).unwrap_or_else(|status| status)
}

fn run(args: &DestroyArgs, global: &GlobalArgs) -> Result<ExitStatus, ExitStatus> {
    let printer = Printer::new(global);
    let mut sources = SourceMap::default();
    let empty = target(args, &mut sources, &printer)?;
    let runtime = runtime(&printer)?;
    let stacks = [empty];
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

/// The stack to destroy, declaring nothing. Its file, if there is one among the paths,
/// gives the region and the account guard; the file itself need not be valid.
fn target(
    args: &DestroyArgs,
    sources: &mut SourceMap,
    printer: &Printer,
) -> Result<DesiredStack, ExitStatus> {
    let nowhere = Span {
        file: FileId(0),
        start: 0,
        end: 0,
    };
    let Some(name) = rules_stack_name(&Sp::new(args.stack.clone(), nowhere)) else {
        printer.error(&format!(
            "error: `{}` is not a valid stack name\n",
            args.stack
        ));
        return Err(ExitStatus::Failure);
    };
    // Read quietly: problems in other stacks (or this one) do not block a destroy.
    let mut diags = crate::diag::Diagnostics::default();
    let specs = crate::spec::load(
        &args
            .paths
            .iter()
            .filter(|p| p.exists())
            .cloned()
            .collect::<Vec<_>>(),
        sources,
        &mut diags,
    );
    let declared = crate::validate::validate(&specs, &crate::validate::ProcessEnv, &mut diags);
    let found = declared.into_iter().find(|s| s.name == name);
    Ok(match found {
        Some(stack) => DesiredStack::empty(stack.name, stack.origin, stack.region, stack.account),
        None => DesiredStack::empty(name, nowhere, None, None),
    })
}
