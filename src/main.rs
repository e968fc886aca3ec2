use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = monplan::cli::Cli::parse();
    monplan::init_tracing(&cli.global);
    let status = monplan::run(&cli);
    ExitCode::from(status.code())
}
