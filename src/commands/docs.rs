//! `monplan completions SHELL` and `monplan man`: generated from the clap definitions
//! in `src/cli.rs`, so that they cannot drift from the flags the binary accepts.

use clap::CommandFactory;

use super::{ExitStatus, Printer};
use crate::cli::{Cli, CompletionsArgs, GlobalArgs};

/// The shell's completion script on stdout.
pub fn completions(args: &CompletionsArgs, global: &GlobalArgs) -> ExitStatus {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "monplan", &mut script);
    Printer::new(global).out(&String::from_utf8_lossy(&script));
    ExitStatus::Success
}

/// The manual page, in roff, on stdout: the top-level page, then a section per command.
pub fn man(global: &GlobalArgs) -> ExitStatus {
    let printer = Printer::new(global);
    let mut command = Cli::command();
    // Built, so that the global flags show in the commands' sections too.
    command.build();
    let mut page = Vec::new();
    if let Err(error) = render(&command, &mut page) {
        printer.error(&format!("error: cannot render the man page: {error}\n"));
        return ExitStatus::Failure;
    }
    printer.out(&String::from_utf8_lossy(&page));
    ExitStatus::Success
}

/// One page holding every command: a user reads `man monplan` and finds `plan` in it,
/// rather than having to know of a `monplan-plan(1)` page.
fn render(command: &clap::Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        out.extend_from_slice(format!(".SH \"MONPLAN {}\"\n", name.to_uppercase()).as_bytes());
        // After `build`, its bin name is `monplan NAME`, which the synopsis shows.
        let page = clap_mangen::Man::new(sub.clone());
        let mut section = Vec::new();
        page.render_synopsis_section(&mut section)?;
        page.render_description_section(&mut section)?;
        page.render_options_section(&mut section)?;
        // The command's own sections are subsections of its `MONPLAN NAME` section.
        for line in String::from_utf8_lossy(&section).lines() {
            let line = line
                .strip_prefix(".SH ")
                .map_or_else(|| line.to_string(), |title| format!(".SS {title}"));
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    man.render_version_section(out)?;
    Ok(())
}
