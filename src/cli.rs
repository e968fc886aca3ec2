//! Command-line arguments. The doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// Plan and apply the monitoring of queue-based workloads (`CloudWatch` alarms, SNS
/// topics) from YAML stacks. Stateless: AWS itself is the state.
#[derive(Debug, Parser)]
#[command(name = "monplan", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// AWS region for stacks that do not set `region:` (default: AWS configuration).
    #[arg(long, global = true, env = "MONPLAN_REGION")]
    pub region: Option<String>,

    /// Named profile from the AWS configuration files.
    #[arg(long, global = true)]
    pub profile: Option<String>,

    /// Send every AWS request to this endpoint instead (a local emulator, for example).
    /// Without it, the SDK's own `AWS_ENDPOINT_URL` and per-service
    /// `AWS_ENDPOINT_URL_<SERVICE>` variables apply (the flag overrides both).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,

    /// Never colour output (also: the `NO_COLOR` environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// More output: -v shows AWS call counts and timings, -vv debug logs.
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less output: only errors and the plan itself.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check stack files offline: syntax, keys, types and rules. Needs no credentials.
    Validate(PathsArgs),

    /// Show what `apply` would change, comparing the stacks with live AWS state.
    Plan(PlanArgs),

    /// Change AWS to match the stacks, after showing the plan and asking for `yes`.
    Apply(ApplyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PathsArgs {
    /// Stack files, or directories whose *.yaml and *.yml files are stacks.
    #[arg(default_value = "stacks")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub paths: PathsArgs,

    /// Exit 2 when there are changes, 0 when there are none, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub paths: PathsArgs,

    /// Apply without asking. Required when standard input is not a terminal (CI).
    #[arg(long)]
    pub auto_approve: bool,
}
