//! `monplan completions SHELL` and `monplan man`: the scripts work in the shells they are
//! for (bash is driven for real), and every command is in each of them and in the page.

use std::process::Command;

const SUBCOMMANDS: [&str; 8] = [
    "validate",
    "plan",
    "apply",
    "destroy",
    "drill",
    "import",
    "completions",
    "man",
];

fn monplan(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_monplan"))
        .args(args)
        .output()
        .expect("runs monplan");
    assert!(
        output.status.success(),
        "monplan {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Runs `script` in a non-interactive bash after sourcing the completion script.
fn bash(completions: &str, script: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("monplan.bash");
    std::fs::write(&path, completions).expect("writes the script");
    let output = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(format!("source {}\n{script}", path.display()))
        .output()
        .expect("runs bash");
    assert!(
        output.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn bash_completion_registers_and_completes_commands_and_flags() {
    let script = monplan(&["completions", "bash"]);
    let registered = bash(&script, "complete -p monplan");
    assert!(
        registered.contains("_monplan") && registered.trim_end().ends_with("monplan"),
        "{registered}"
    );
    // What bash does on <TAB>: the words so far, the index of the one being completed,
    // and the function called with (command, current word, previous word).
    let complete = |words: &str, current: &str, previous: &str| -> Vec<String> {
        let out = bash(
            &script,
            &format!(
                "COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
                 _monplan monplan '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\""
            ),
        );
        out.lines().map(str::to_string).collect()
    };
    assert_eq!(complete("monplan pl", "pl", "monplan"), ["plan"]);
    let commands = complete("monplan ''", "", "monplan");
    for command in SUBCOMMANDS {
        assert!(
            commands.iter().any(|c| c == command),
            "{command}: {commands:?}"
        );
    }
    let flags = complete("monplan plan --ta", "--ta", "plan");
    assert_eq!(flags, ["--target"]);
    let shells = complete("monplan completions f", "f", "completions");
    assert_eq!(shells, ["fish"]);
}

#[test]
fn zsh_fish_and_powershell_scripts_name_every_command() {
    for shell in ["zsh", "fish", "powershell"] {
        let script = monplan(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}");
        for command in SUBCOMMANDS {
            assert!(script.contains(command), "{shell} script omits {command}");
        }
        assert!(script.contains("--max-destroy"), "{shell} omits flags");
    }
    assert!(monplan(&["completions", "zsh"]).starts_with("#compdef monplan"));
}

#[test]
fn an_unknown_shell_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_monplan"))
        .args(["completions", "tcsh"])
        .output()
        .expect("runs monplan");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("powershell"));
}

#[test]
fn the_man_page_is_roff_with_every_command() {
    let page = monplan(&["man"]);
    // The title comes first; only the string definitions clap_mangen puts before it
    // (the apostrophe for groff and for other troffs) may precede it.
    let first = page
        .lines()
        .find(|line| !line.starts_with(".ie ") && !line.starts_with(".el "))
        .expect("a non-empty page");
    assert!(first.starts_with(".TH monplan 1 "), "{first}");
    assert!(
        page.lines().all(|line| !line.starts_with('\'')),
        "a line of text that troff would take as a control line"
    );
    for command in SUBCOMMANDS {
        assert!(
            page.contains(&format!(".SH \"MONPLAN {}\"", command.to_uppercase())),
            "no section for {command}"
        );
    }
    // Each command's section lists its own flags.
    let apply = page
        .split(".SH \"MONPLAN APPLY\"")
        .nth(1)
        .and_then(|rest| rest.split(".SH \"MONPLAN DESTROY\"").next())
        .expect("an apply section");
    assert!(apply.contains("\\-\\-auto\\-approve"), "{apply}");
    assert!(!apply.contains("\\-\\-detailed\\-exitcode"), "{apply}");
}

/// Renders the page with `groff` (or `man`), when either is installed, and checks that
/// it formats without warnings and reads as a manual.
#[test]
fn the_man_page_renders() {
    let page = monplan(&["man"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("monplan.1");
    std::fs::write(&path, &page).expect("writes the page");
    let rendered = if which("groff") {
        Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&path)
            .output()
            .map(|o| {
                assert!(
                    o.status.success() && o.stderr.is_empty(),
                    "groff warns: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            })
            .expect("runs groff");
        Command::new("groff")
            .args(["-man", "-Tascii", "-P-cbou"])
            .arg(&path)
            .output()
            .expect("runs groff")
    } else if which("man") {
        Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANPAGER", "cat")
            .output()
            .expect("runs man")
    } else {
        eprintln!("neither groff nor man is installed: only the roff source was checked");
        return;
    };
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(rendered.status.success(), "{text}");
    for heading in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "MONPLAN PLAN",
        "MONPLAN DRILL",
    ] {
        assert!(
            text.contains(heading),
            "rendered page lacks {heading}:\n{text}"
        );
    }
    assert!(text.contains("--max-destroy"), "{text}");
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
