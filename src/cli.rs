//! Command-line arguments. The doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// Plan and apply the monitoring of queue-based workloads (`CloudWatch` alarms, SNS
/// topics) from YAML stacks. Stateless: AWS itself is the state.
///
/// What it manages: SNS topics (with their access policy) and subscriptions; `CloudWatch`
/// metric alarms and composite alarms; `CloudWatch` dashboards; `CloudWatch` Logs metric
/// filters and saved Logs Insights query definitions; the scaling policy of an EC2 Auto
/// Scaling group; and, for an ECS service, its Application Auto Scaling scalable target
/// and service scaling policy. Queues, log groups, Auto Scaling groups and services are
/// only read, never changed.
#[derive(Debug, Parser)]
#[command(name = "monplan", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Where `--help` lists the flags that say how to reach AWS: every command but
/// `validate` reads AWS, and `validate` only with `--remote`.
const CONNECTION: &str = "AWS connection (validate: only with --remote)";

// Each bool is an independent command-line switch; clap wants them as fields.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// AWS region for stacks that do not set `region:` (default: AWS configuration).
    #[arg(long, global = true, help_heading = CONNECTION, env = "MONPLAN_REGION")]
    pub region: Option<String>,

    /// Named profile from the AWS configuration files.
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub profile: Option<String>,

    /// Send every AWS request to this endpoint instead (a local emulator, for example).
    /// Without it, the SDK's own `AWS_ENDPOINT_URL` and per-service
    /// `AWS_ENDPOINT_URL_<SERVICE>` variables apply (the flag overrides both).
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub endpoint_url: Option<String>,

    /// Seconds one AWS call may take, its retries included, before it fails with an
    /// error naming the operation (each attempt gets at most half): a hung endpoint
    /// ends the run in bounded time instead of stalling a CI job.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "SECONDS", default_value_t = 60.0, env = "MONPLAN_TIMEOUT", value_parser = positive_seconds)]
    pub timeout: f64,

    /// Seconds to open a connection to an AWS endpoint.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "SECONDS", default_value_t = 5.0, env = "MONPLAN_CONNECT_TIMEOUT", value_parser = positive_seconds)]
    pub connect_timeout: f64,

    /// Never colour output (also: the `NO_COLOR` environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// More output: -v shows AWS call counts and timings, -vv debug logs.
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less output: only errors and the plan itself.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// The options of the commands that read AWS, given after the command's name and
    /// set here by [`Cli::global_args`].
    #[arg(skip)]
    pub plan: PlanOptions,
}

/// Options of the commands that read AWS (plan, apply, destroy, drill, import), not of
/// `validate`, so that its `--help` lists only what it uses.
#[derive(Debug, Clone, Default, Args)]
pub struct PlanOptions {
    /// Raise (or lower) a per-operation request rate, e.g. `--max-rate PutMetricAlarm=20`
    /// for an account with a raised quota. Defaults are AWS's: `PutMetricAlarm` 3/s,
    /// `DescribeAlarms` 9/s, `DeleteAlarms` 3/s, dashboards 10/s.
    #[arg(long = "max-rate", value_name = "OPERATION=RATE", value_parser = crate::pace::parse_rate)]
    pub max_rate: Vec<(String, f64)>,

    /// Also read the redrive policy of every queue that names its `dead_letter_queue`, and
    /// warn where they differ (one call per such queue; off by default to keep reads
    /// batched).
    #[arg(long)]
    pub check_redrive: bool,

    /// Plan (and apply) only this part of the stacks: `KIND` (topics, subscriptions,
    /// scaling, `log_metrics`, queries, alarms, dashboards) or `KIND.KEY`. What a target
    /// refers to comes along; nothing outside the selection is deleted. Repeatable.
    #[arg(long, value_name = "KIND[.KEY]", value_parser = crate::plan::select::parse_selector)]
    pub target: Vec<crate::plan::select::Selector>,

    /// Leave this part out of the plan (and of the reads, for a whole kind), e.g.
    /// `--exclude queries` against an endpoint without saved queries. Repeatable.
    #[arg(long, value_name = "KIND[.KEY]", value_parser = crate::plan::select::parse_selector)]
    pub exclude: Vec<crate::plan::select::Selector>,

    /// Treat the plan's warnings (e.g. an alarm on a metric that does not exist) as
    /// errors: nothing is applied while there is one.
    #[arg(long)]
    pub strict: bool,
}

impl Cli {
    /// The global flags with the command's own [`PlanOptions`] in them: what every
    /// command reads its settings from.
    pub fn global_args(&self) -> GlobalArgs {
        let mut global = self.global.clone();
        if let Some(options) = match &self.command {
            Command::Validate(_)
            | Command::Fmt(_)
            | Command::Schema
            | Command::Completions(_)
            | Command::Man => None,
            Command::Plan(args) => Some(&args.options),
            Command::Apply(args) => Some(&args.options),
            Command::Destroy(args) => Some(&args.options),
            Command::Drill(args) => Some(&args.options),
            Command::Import(args) => Some(&args.options),
        } {
            global.plan = options.clone();
        }
        global
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check stack files offline: syntax, keys, types and rules, and run the log metrics'
    /// `samples` through monplan's filter-pattern matcher. Needs no credentials (but
    /// `--remote` does).
    Validate(ValidateArgs),

    /// Show what `apply` would change, comparing the stacks with live AWS state.
    Plan(PlanArgs),

    /// Change AWS to match the stacks, after showing the plan and asking for `yes`.
    Apply(ApplyArgs),

    /// Delete everything a stack owns (never queues, groups or anything foreign), after
    /// the same confirmation and `--max-destroy` rules as apply.
    Destroy(DestroyArgs),

    /// Prove that alarms reach someone: subscribe a temporary queue to their topics, set
    /// each alarm to ALARM and back, and report whether the notification arrived. It
    /// pages the topics' subscribers: refused without `--yes` (terminal) or
    /// `--auto-approve` (elsewhere).
    Drill(DrillArgs),

    /// Write a stack YAML for existing alarms, topics and dashboards (named with a prefix,
    /// or tagged), so that monplan can take them over: its plan only adds the ownership
    /// tag. Reads AWS; changes nothing.
    Import(ImportArgs),

    /// Print the JSON Schema of the stack format (what `docs/stack-schema.json` holds), for
    /// editors: `# yaml-language-server: $schema=...` at the top of a stack file gives
    /// completion and hover docs for every key.
    Schema,

    /// Rewrite stack files in canonical key order (the order of docs/stack-schema.json)
    /// and whitespace, keeping every comment; offline. `--check` changes nothing and
    /// fails if a file is not formatted (for CI).
    Fmt(FmtArgs),

    /// Print a shell completion script, e.g. `source <(monplan completions bash)`, or
    /// `monplan completions zsh > "${fpath[1]}/_monplan"`.
    Completions(CompletionsArgs),

    /// Print the manual page (roff), e.g. `monplan man > monplan.1; man ./monplan.1`.
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct FmtArgs {
    #[command(flatten)]
    pub paths: PathsArgs,

    /// Change nothing; list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("select").required(true).multiple(true).args(["prefix", "tag"])))]
pub struct ImportArgs {
    #[command(flatten)]
    pub options: PlanOptions,

    /// Import the alarms and topics whose names start with this (and the dashboards
    /// named `{stack}_...`).
    #[arg(long)]
    pub prefix: Option<String>,

    /// Import the alarms and topics tagged `KEY=VALUE` (with --prefix: those with both).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tag: Option<(String, String)>,

    /// The stack's name (default: the prefix without trailing `-` or `_`).
    #[arg(long)]
    pub stack: Option<String>,

    /// Write the YAML to this file instead of standard output (refuses to overwrite).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

#[derive(Debug, Clone, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub options: PlanOptions,

    /// The stack whose resources to delete.
    pub stack: String,

    /// Where to look for the stack's file, for its `region:` and `account:` (optional:
    /// without one, --region or the AWS configuration decides).
    #[arg(long = "stacks", default_value = "stacks")]
    pub paths: Vec<PathBuf>,

    /// Destroy without asking. Required when standard input is not a terminal (CI).
    #[arg(long)]
    pub auto_approve: bool,

    /// Refuse to destroy more than this many resources.
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub max_destroy: usize,
}

#[derive(Debug, Clone, Args)]
pub struct PathsArgs {
    /// Stack files, or directories whose *.yaml and *.yml files are stacks.
    #[arg(default_value = "stacks")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DrillArgs {
    #[command(flatten)]
    pub options: PlanOptions,

    /// The stack whose alarms to drill.
    pub stack: String,

    /// Alarm keys or names (default: every alarm of the stack that notifies a topic).
    pub alarms: Vec<String>,

    /// Where the stack files are.
    #[arg(long = "stacks", default_value = "stacks")]
    pub paths: Vec<PathBuf>,

    /// List what the drill would do, and do nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Drill without asking, on a terminal.
    #[arg(long)]
    pub yes: bool,

    /// Drill without a terminal (CI).
    #[arg(long)]
    pub auto_approve: bool,

    /// How long to wait for each notification, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub wait: u64,
}

#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub paths: PathsArgs,

    /// Also run every sample line through AWS's own matcher (`TestMetricFilter`) and
    /// report where it disagrees with the sample's `match`/`no_match` (needs credentials).
    #[arg(long)]
    pub remote: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub options: PlanOptions,

    #[command(flatten)]
    pub paths: PathsArgs,

    /// Exit 2 when there are changes, 0 when there are none, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// How to print the plan: `text` (terminal), `json` (versioned, see
    /// docs/plan-format.md) or `markdown` (a pull-request comment).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also save the plan to this file, for `monplan apply FILE` to apply exactly it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print the plan as the pull-request comment for ID (a stack directory; implies
    /// `--format markdown`): marked with a hidden `<!-- monplan:ID -->` to update it
    /// later, at most 65,536 characters, and, when the plan fails, the errors instead
    /// (the exit code is still 1). Values of the `${env:...}` variables the stacks read
    /// are redacted. Used by the GitHub Action (`action.yml`).
    #[arg(long, value_name = "ID")]
    pub comment_for: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Args)]
#[command(mut_arg("paths", |arg| arg.help(
    "Stack files, or directories whose *.yaml and *.yml files are stacks; or one plan saved by `plan --out`, to apply exactly it"
)))]
pub struct ApplyArgs {
    #[command(flatten)]
    pub options: PlanOptions,

    #[command(flatten)]
    pub paths: PathsArgs,

    /// Apply without asking. Required when standard input is not a terminal (CI).
    #[arg(long)]
    pub auto_approve: bool,

    /// Refuse a plan that destroys more than this many resources (replacements count).
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub max_destroy: usize,
}

/// A timeout: a positive, finite number of seconds, at most a day.
fn positive_seconds(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 {
        Ok(seconds)
    } else {
        Err(format!(
            "`{text}`: a timeout is more than 0 and at most 86400 seconds"
        ))
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Cli;

    fn help(command: &str) -> String {
        // Built, so that the global flags reach the subcommands; unwrapped lines.
        let mut cli = Cli::command().term_width(10_000);
        cli.build();
        cli.find_subcommand_mut(command)
            .unwrap_or_else(|| panic!("no {command} command"))
            .render_long_help()
            .to_string()
    }

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn validate_lists_only_what_it_uses() {
        let text = help("validate");
        for option in [
            "--target",
            "--exclude",
            "--max-rate",
            "--check-redrive",
            "--strict",
        ] {
            assert!(
                !text.contains(option),
                "validate --help lists {option}:\n{text}"
            );
        }
        assert!(
            text.contains("AWS connection (validate: only with --remote)"),
            "{text}"
        );
        assert!(!text.contains("plan --out"), "{text}");
        for command in ["plan", "apply", "destroy", "drill", "import"] {
            assert!(
                help(command).contains("--target"),
                "{command} takes --target"
            );
        }
    }

    #[test]
    fn only_apply_takes_a_saved_plan() {
        assert!(help("apply").contains("one plan saved by `plan --out`"));
        assert!(!help("plan").contains("saved by"), "{}", help("plan"));
    }

    #[test]
    fn the_help_names_every_kind_managed() {
        let text = Cli::command().render_long_help().to_string().to_lowercase();
        for kind in crate::model::ResourceKind::ALL {
            assert!(
                text.contains(&kind.to_string()),
                "--help omits {kind}:\n{text}"
            );
        }
    }

    #[test]
    fn plan_options_follow_the_command() {
        let cli = Cli::try_parse_from(["monplan", "plan", "--target", "alarms", "--strict"])
            .expect("parses");
        let global = cli.global_args();
        assert!(global.plan.strict);
        assert_eq!(global.plan.target.len(), 1);
        assert!(Cli::try_parse_from(["monplan", "validate", "--strict"]).is_err());
    }
}
