//! monplan turns YAML stacks describing the monitoring of queue-based workloads into
//! native AWS resources (SNS topics and subscriptions, `CloudWatch` alarms), Terraform
//! style but stateless: AWS itself is the state.
//!
//! Every command is a prefix of one pipeline:
//!
//! 1. **load** ([`spec::load`]): read `stacks/*.yaml` into [`spec`] types that remember
//!    where every value came from (file, line, column).
//! 2. **validate** ([`validate::validate`]): turn specs into the canonical [`model`], the
//!    *desired state*, collecting every problem as a located [`diag::Diagnostic`]. No AWS
//!    call yet.
//! 3. **read** ([`aws::read_world`]): fetch the *live state* of what the stacks declare or
//!    own, batched and paginated, normalized into the same [`model`] types. It returns
//!    two separate things: [`aws::Observed`] (data) and [`aws::Connections`] (clients,
//!    pacers, retry policy).
//! 4. **resolve** ([`resolve::resolve`]): pure; the desired state's final values from the
//!    model and the live facts (topic ARNs, dead-letter queues from redrive policies,
//!    dashboard bodies). What exists only after an earlier operation (a new scaling
//!    policy's ARN) is an explicit deferred value. Public data for every command.
//! 5. **plan** ([`plan::diff`]): pure and deterministic; each kind of [`kinds`] diffs its
//!    resolved model against the live one into [`plan::Change`]s, each carrying the exact
//!    AWS operations ([`plan::Op`]) and the resources it refers to. [`plan::order`]
//!    derives from those references the display order and the waves of the apply.
//! 6. **render** ([`plan::render`], [`plan::render_json`], [`plan::render_markdown`]): the
//!    plan as text, JSON or Markdown.
//! 7. **apply** ([`apply::apply`]): run the plan's schedule through an
//!    [`apply::Executor`] ([`aws::Connections`] in real runs), filling deferred values
//!    from earlier operations' outputs, then report. Apply makes no decision the plan did
//!    not already make.
//!
//! A resource kind is one module of [`kinds`] (model, fields, diff, changes) plus its AWS
//! calls in one file of [`aws`]; `docs/adding-a-kind.md` says how to add one.
//!
//! The commands in [`commands`] only orchestrate these steps.

pub mod apply;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod fuzz;
pub mod import;
pub mod kinds;
pub mod logs;
pub mod model;
pub mod pace;
pub mod plan;
pub mod resolve;
pub mod spec;
pub mod validate;

use commands::ExitStatus;

/// Runs one command line. The process exit code is `main`'s business.
pub fn run(cli: &cli::Cli) -> ExitStatus {
    let global = cli.global_args();
    match &cli.command {
        cli::Command::Validate(args) => commands::validate::validate(args, &global),
        cli::Command::Plan(args) => commands::plan::plan(args, &global),
        cli::Command::Apply(args) => commands::apply::apply(args, &global),
        cli::Command::Destroy(args) => commands::destroy::destroy(args, &global),
        cli::Command::Drill(args) => commands::drill::drill(args, &global),
        cli::Command::Import(args) => commands::import::import(args, &global),
        cli::Command::Schema => commands::schema::schema(&global),
        cli::Command::Fmt(args) => commands::fmt::fmt(args, &global),
        cli::Command::Completions(args) => commands::docs::completions(args, &global),
        cli::Command::Man => commands::docs::man(&global),
    }
}

/// Logs go to stderr, coloured only where the printer colours stderr. The AWS SDK's own
/// logs are off unless `-vv`, and then only at `warn`: a missing credential is already
/// our own one-line error (the SDK's warning repeats it with a debug dump), and at debug
/// level they would include request parameters, which can hold secrets.
pub fn init_tracing(global: &cli::GlobalArgs) {
    let filter = match global.verbose {
        0 | 1 => "off,monplan=warn",
        _ => "warn,monplan=debug",
    };
    let color = commands::Printer::new(global).color_err;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}
