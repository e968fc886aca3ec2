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
//!    own, batched and paginated, normalized into the same [`model`] types.
//! 4. **plan** ([`plan::plan`]): a pure, deterministic diff of desired against live into a
//!    [`plan::Plan`] of ordered changes, each carrying the exact AWS operations to run.
//! 5. **render** ([`plan::render`]): the plan as text.
//! 6. **apply** ([`apply::apply`]): run the plan's operations in order, then report.
//!    Apply makes no decision the plan did not already make.
//!
//! The commands in [`commands`] only orchestrate these steps.

pub mod apply;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod kinds;
pub mod model;
pub mod pace;
pub mod plan;
pub mod resolve;
pub mod spec;
pub mod validate;

use commands::ExitStatus;

/// Runs one command line. The process exit code is `main`'s business.
pub fn run(cli: &cli::Cli) -> ExitStatus {
    match &cli.command {
        cli::Command::Validate(args) => commands::validate::validate(args, &cli.global),
        cli::Command::Plan(args) => commands::plan::plan(args, &cli.global),
        cli::Command::Apply(args) => commands::apply::apply(args, &cli.global),
        cli::Command::Destroy(args) => commands::destroy::destroy(args, &cli.global),
    }
}

/// Logs go to stderr. The AWS SDK's own logs stay at `warn` whatever the verbosity:
/// at debug level they would include request parameters, and those can hold secrets.
pub fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 | 1 => "warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("warn,monplan={level}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
