//! One file per subcommand. Each reads as the pipeline it runs; the steps live here and
//! in the layer modules, not in the commands.

pub mod apply;
pub mod destroy;
pub mod docs;
pub mod drill;
pub mod fmt;
pub mod import;
pub mod plan;
mod progress;
pub mod saved;
pub mod schema;
pub mod validate;

use std::io::{IsTerminal, Write};
use std::time::Instant;

use crate::aws::{self, CallCounter, ConnectOptions, Connections};
use crate::cli::{GlobalArgs, PathsArgs};
use crate::diag::{Diagnostics, SourceMap};
use crate::model::duration;
use crate::model::DesiredStack;
use crate::pace::Pacer;
use crate::plan::render::{Style, Text};
use crate::plan::{Plan, StackInput};
use crate::{spec, validate as rules};

/// How a command ended. Only `main` turns this into a process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success; with `--detailed-exitcode`, also "no changes".
    Success,
    /// Something went wrong: bad input, an AWS error, a refused apply.
    Failure,
    /// `plan --detailed-exitcode` found changes.
    Changes,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
        }
    }
}

/// The one place that writes: results to stdout, everything else to stderr.
pub struct Printer {
    pub color_out: bool,
    pub color_err: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// A copy of everything written to stderr, when asked for ([`Printer::capturing`]).
    captured: Option<std::cell::RefCell<String>>,
}

impl Printer {
    pub fn new(global: &GlobalArgs) -> Self {
        let allowed = !global.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self {
            color_out: allowed && std::io::stdout().is_terminal(),
            color_err: allowed && std::io::stderr().is_terminal(),
            quiet: global.quiet,
            verbose: global.verbose,
            captured: None,
        }
    }

    /// A printer that also keeps what it writes to stderr, for [`Printer::captured`]
    /// (the errors of a failed plan go into its pull-request comment).
    pub fn capturing(global: &GlobalArgs) -> Self {
        Self {
            captured: Some(std::cell::RefCell::default()),
            ..Self::new(global)
        }
    }

    /// What was written to stderr so far (empty unless [`Printer::capturing`]).
    pub fn captured(&self) -> String {
        self.captured
            .as_ref()
            .map(|c| c.borrow().clone())
            .unwrap_or_default()
    }

    /// A result: the plan, the apply summary.
    pub fn out(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`monplan plan | head`) is not an error worth a panic.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Diagnostics and errors: always shown.
    pub fn error(&self, text: &str) {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        if let Some(captured) = &self.captured {
            captured.borrow_mut().push_str(text);
        }
    }

    /// Progress and information: hidden by `-q`.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            self.error(text);
        }
    }

    /// Details for `-v`.
    pub fn detail(&self, text: &str) {
        if self.verbose > 0 {
            self.error(text);
        }
    }

    pub fn style(&self) -> Style {
        Style {
            color: self.color_out,
        }
    }
}

/// Load and validate: the offline half of every command.
pub(crate) fn desired_state(
    paths: &PathsArgs,
    sources: &mut SourceMap,
    printer: &Printer,
) -> Result<Vec<DesiredStack>, ExitStatus> {
    desired_state_with(paths, sources, printer, &rules::ProcessEnv)
}

/// [`desired_state`] reading `${env:...}` values from `env`.
pub(crate) fn desired_state_with(
    paths: &PathsArgs,
    sources: &mut SourceMap,
    printer: &Printer,
    env: &dyn rules::Env,
) -> Result<Vec<DesiredStack>, ExitStatus> {
    let mut diags = Diagnostics::default();
    let specs = spec::load(&paths.paths, sources, &mut diags);
    let stacks = rules::validate(&specs, env, &mut diags);
    diags.sort();
    if !diags.is_empty() {
        printer.error(&diags.render(sources, printer.color_err));
    }
    if diags.has_errors() {
        let count = diags.error_count();
        printer.error(&format!(
            "\nvalidation failed: {count} error{}; nothing was read from or changed in AWS\n",
            if count == 1 { "" } else { "s" }
        ));
        return Err(ExitStatus::Failure);
    }
    Ok(stacks)
}

/// Read live state, resolve and plan. Plan errors (ownership, account guard, missing
/// queues) end the command.
pub(crate) fn live_plan(
    stacks: &[DesiredStack],
    global: &GlobalArgs,
    sources: &SourceMap,
    printer: &Printer,
    runtime: &tokio::runtime::Runtime,
) -> Result<(Connections, Plan), ExitStatus> {
    let options = connect_options(global);
    let counter = CallCounter::default();
    let started = Instant::now();
    let spinner = progress::reading(printer, &counter);
    let read = runtime.block_on(aws::read_world(stacks, &options, &counter));
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let (connections, observed) = read.map_err(|error| {
        printer.error(&format!("error: reading live state failed: {error}\n"));
        ExitStatus::Failure
    })?;
    report_calls(printer, "read", &counter, started);
    for warning in observed.environments.iter().flat_map(|e| &e.live.warnings) {
        printer.error(&format!("warning: {warning}\n"));
    }
    let inputs: Vec<StackInput<'_>> = stacks
        .iter()
        .filter_map(|desired| {
            let environment = observed.environment(&desired.name)?;
            Some(StackInput {
                desired,
                scope: &environment.scope,
                live: &environment.live,
            })
        })
        .collect();
    let mut plan = crate::plan::diff(crate::resolve::resolve(&inputs));
    selection(global).apply(&mut plan);
    if !plan.errors.is_empty() {
        printer.error(&plan.errors.render(sources, printer.color_err));
    }
    if plan.errors.has_errors() {
        printer.error("\nplan failed: fix the errors above; nothing was changed in AWS\n");
        return Err(ExitStatus::Failure);
    }
    if global.plan.strict && !plan.errors.is_empty() {
        printer.error(
            "\nplan failed: --strict makes the warnings above errors; nothing was changed in AWS\n",
        );
        return Err(ExitStatus::Failure);
    }
    Ok((connections, plan))
}

/// How to reach AWS, from the global flags.
pub(crate) fn connect_options(global: &GlobalArgs) -> ConnectOptions {
    ConnectOptions {
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        region: global.region.clone(),
        rates: global.plan.max_rate.iter().cloned().collect(),
        check_redrive: global.plan.check_redrive,
        timeout: std::time::Duration::from_secs_f64(global.timeout),
        connect_timeout: std::time::Duration::from_secs_f64(global.connect_timeout),
        skip: crate::model::ResourceKind::ALL
            .into_iter()
            .filter(|kind| selection(global).excludes_kind(*kind))
            .collect(),
    }
}

/// What `--target` and `--exclude` select.
fn selection(global: &GlobalArgs) -> crate::plan::select::Selection {
    crate::plan::select::Selection {
        targets: global.plan.target.clone(),
        excludes: global.plan.exclude.clone(),
    }
}

/// Seconds the apply of `plan` takes at the paced rates, if anything is paced.
pub(crate) fn estimate_seconds(plan: &Plan, pacer: &Pacer) -> Option<f64> {
    let (seconds, dominant) = crate::apply::estimate(plan, pacer);
    dominant.map(|_| seconds)
}

/// The plan on stdout, with how long applying it takes at the paced rates.
pub(crate) fn show_plan(plan: &Plan, pacer: &Pacer, printer: &Printer) {
    printer.out(&format!(
        "{}",
        Text {
            plan,
            style: printer.style()
        }
    ));
    if plan.is_empty() {
        return;
    }
    let (seconds, dominant) = crate::apply::estimate(plan, pacer);
    if let Some((operation, calls)) = dominant {
        let rate = pacer.rate(&operation).unwrap_or_default();
        let time = if seconds < 1.0 {
            "under a second".to_string()
        } else {
            format!("about {}", duration::clock(seconds))
        };
        let plural = if calls == 1 { "" } else { "s" };
        printer.out(&format!(
            "Estimated apply time: {time} ({calls} {operation} call{plural} at {rate}/s; raise a quota with --max-rate {operation}=N).\n"
        ));
    }
}

pub(crate) fn report_calls(printer: &Printer, what: &str, counter: &CallCounter, started: Instant) {
    let counts = counter.snapshot();
    let detail: Vec<String> = counts.iter().map(|(op, n)| format!("{op} {n}")).collect();
    printer.detail(&format!(
        "{what}: {} AWS calls in {:.2}s ({})\n",
        counter.total(),
        started.elapsed().as_secs_f64(),
        detail.join(", ")
    ));
}

pub(crate) fn runtime(printer: &Printer) -> Result<tokio::runtime::Runtime, ExitStatus> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            printer.error(&format!("error: cannot start the async runtime: {error}\n"));
            ExitStatus::Failure
        })
}
