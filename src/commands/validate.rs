use std::time::Instant;

use super::{connect_options, desired_state_with, report_calls, runtime, ExitStatus, Printer};
use crate::aws::{self, CallCounter};
use crate::cli::{GlobalArgs, ValidateArgs};
use crate::diag::{codes, Diagnostic, Diagnostics, SourceMap};
use crate::model::DesiredStack;

/// `monplan validate`: load and validate, offline; with `--remote`, also ask AWS's own
/// matcher about every sample line.
pub fn validate(args: &ValidateArgs, global: &GlobalArgs) -> ExitStatus {
    let printer = Printer::new(global);
    let mut sources = SourceMap::default();
    // Offline: an unset `${env:...}` is a warning here (plan and apply need it).
    let env = crate::validate::OfflineEnv;
    let stacks = match desired_state_with(&args.paths, &mut sources, &printer, &env) {
        Ok(stacks) => stacks,
        Err(status) => return status,
    };
    for stack in &stacks {
        for run in stack.samples.iter().filter(|r| r.expected) {
            if let Some(publishes) = &run.publishes {
                printer.info(&format!(
                    "stack {}: log metric `{}` matches sample {:?} and publishes {publishes}\n",
                    stack.name, run.log_metric, run.line
                ));
            }
        }
    }
    if args.remote {
        if let Err(status) = remote(&stacks, global, &sources, &printer) {
            return status;
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

/// Every sample through `TestMetricFilter`: where AWS and the sample's `match`/`no_match`
/// disagree, a located error (monplan's matcher agreed, or validation would have failed).
fn remote(
    stacks: &[DesiredStack],
    global: &GlobalArgs,
    sources: &SourceMap,
    printer: &Printer,
) -> Result<(), ExitStatus> {
    let runtime = runtime(printer)?;
    let options = connect_options(global);
    let counter = CallCounter::default();
    let started = Instant::now();
    let mut diags = Diagnostics::default();
    for stack in stacks {
        // One test per pattern, with all its lines.
        let mut tests: Vec<(String, Vec<String>)> = Vec::new();
        for run in &stack.samples {
            match tests.iter_mut().find(|(p, _)| *p == run.pattern) {
                Some((_, lines)) => lines.push(run.line.clone()),
                None => tests.push((run.pattern.clone(), vec![run.line.clone()])),
            }
        }
        if tests.is_empty() {
            continue;
        }
        let results = runtime
            .block_on(aws::test_metric_filters(
                &options,
                stack.region.as_deref(),
                &tests,
                &counter,
            ))
            .map_err(|error| {
                printer.error(&format!(
                    "error: testing the samples with AWS failed: {error}\n"
                ));
                ExitStatus::Failure
            })?;
        for ((pattern, lines), matched) in tests.iter().zip(results) {
            for (line, aws_matches) in lines.iter().zip(matched) {
                let Some(run) = stack
                    .samples
                    .iter()
                    .find(|r| r.pattern == *pattern && r.line == *line)
                else {
                    continue;
                };
                if aws_matches != run.expected {
                    let (verb, listed) = if aws_matches {
                        ("matches", "no_match")
                    } else {
                        ("does not match", "match")
                    };
                    diags.push(
                        Diagnostic::error(
                            codes::REMOTE_SAMPLE,
                            format!("AWS's matcher disagrees: the pattern {verb} this sample"),
                        )
                        .at(run.origin, format!("listed under `{listed}`; monplan's matcher agrees with the YAML"))
                        .note(format!("log metric `{}`: TestMetricFilter says it {verb}; please report the pattern and line to monplan", run.log_metric)),
                    );
                }
            }
        }
    }
    report_calls(printer, "remote test", &counter, started);
    if diags.has_errors() {
        diags.sort();
        printer.error(&diags.render(sources, printer.color_err));
        return Err(ExitStatus::Failure);
    }
    printer.info("AWS's matcher agrees with every sample.\n");
    Ok(())
}
