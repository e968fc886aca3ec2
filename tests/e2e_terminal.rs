//! What an apply shows on a terminal: the real binary with its standard error on a
//! pseudo-terminal (`tests/support/terminal.py`), against moto. On a terminal there is a
//! progress bar (done of total, the change just finished, the rate, the time left);
//! off one (CI), with `--no-color`, or with `--quiet`, there is none and the output is
//! the plain line per change it always was. The read before it shows a spinner with the
//! count of AWS calls, on a terminal only.

mod support;

use std::fmt::Write as _;

use support::{Emulator, Output};

const ALARMS: usize = 10;

/// A topic and `ALARMS` alarms: 11 changes, the alarms paced (at 2/s below), so the apply
/// runs for a few seconds and the bar is drawn more than once.
fn stack(name: &str) -> String {
    let mut yaml = format!(
        "stack: {name}\ndefaults: {{ notify: [oncall] }}\ntopics:\n  oncall: {{}}\nalarms:\n"
    );
    for i in 0..ALARMS {
        let _ = write!(
            yaml,
            "  a{i}:\n    metric: {{ namespace: Shop, name: Errors{i}, stat: Sum }}\n    above: 5\n"
        );
    }
    yaml
}

fn stacks(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    std::fs::write(dir.path().join("stacks/s.yaml"), stack(name)).unwrap();
    dir
}

const APPLY: &[&str] = &[
    "apply",
    "--auto-approve",
    "--max-rate",
    "PutMetricAlarm=2",
    "stacks",
];

/// The lines `resource: created` that the plain output has, one per change.
fn created_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.ends_with(": created"))
        .collect()
}

fn assert_applied(emulator: &Emulator, output: &Output, name: &str) {
    output
        .assert_success()
        .assert_stdout_contains("Apply complete! Resources: 11 added, 0 changed, 0 destroyed.");
    let dump = emulator.awsctl(&["dump"]);
    let alarms = dump["alarms"].as_object().unwrap();
    assert_eq!(
        alarms.keys().filter(|k| k.starts_with(name)).count(),
        ALARMS,
        "{output}"
    );
}

#[test]
fn an_apply_on_a_terminal_shows_a_bar_and_elsewhere_a_line_per_change() {
    let emulator = Emulator::start();

    let dir = stacks("tty");
    let terminal = emulator.run_on_terminal(APPLY, dir.path(), &[]);
    assert_applied(&emulator, &terminal, "tty-");
    let screen = &terminal.stderr;
    // The bar's own text, with counts that only a running apply produces.
    assert!(screen.contains("/11 changes, "), "no bar:\n{terminal}");
    assert!(
        screen.contains(" 11/11 changes") || screen.contains("10/11 changes"),
        "the count never got near the total:\n{terminal}"
    );
    assert!(screen.contains(" left "), "no time left:\n{terminal}");
    assert!(screen.contains("/s, about "), "no rate:\n{terminal}");
    assert!(
        screen.contains("created alarm \"tty-a"),
        "the bar does not name the change that finished:\n{terminal}"
    );
    assert!(screen.contains('\u{1b}'), "drawn with escape sequences");
    assert!(
        screen.contains("reading live state: ") && screen.contains(" AWS calls, "),
        "no read spinner:\n{terminal}"
    );
    assert!(
        created_lines(screen).is_empty(),
        "plain lines beside the bar:\n{terminal}"
    );
    // The result on stdout is the same as anywhere else: no bar in it.
    assert!(!terminal.stdout.contains("changes, "), "{terminal}");

    // Off a terminal (a pipe, as in CI): one plain line per change, nothing else.
    let dir = stacks("pipe");
    let piped = emulator.run(APPLY, dir.path(), &[]);
    assert_applied(&emulator, &piped, "pipe-");
    let mut lines = created_lines(&piped.stderr);
    lines.sort_unstable();
    let mut expected: Vec<String> = (0..ALARMS)
        .map(|i| format!("alarm \"pipe-a{i}\": created"))
        .chain(["topic \"pipe-oncall\": created".to_string()])
        .collect();
    expected.sort_unstable();
    assert_eq!(lines, expected, "{piped}");
    assert!(!piped.stderr.contains("changes, "), "{piped}");
    assert!(!piped.stderr.contains("reading live state"), "{piped}");
    assert!(!piped.stderr.contains('\u{1b}'), "{piped}");
}

#[test]
fn no_color_and_quiet_keep_a_terminal_plain() {
    let emulator = Emulator::start();

    let dir = stacks("plain");
    let mut args = APPLY.to_vec();
    args.push("--no-color");
    let plain = emulator.run_on_terminal(&args, dir.path(), &[]);
    assert_applied(&emulator, &plain, "plain-");
    assert_eq!(created_lines(&plain.stderr).len(), ALARMS + 1, "{plain}");
    assert!(!plain.stderr.contains("changes, "), "{plain}");
    assert!(!plain.stderr.contains('\u{1b}'), "{plain}");

    let dir = stacks("quiet");
    let mut args = APPLY.to_vec();
    args.push("--quiet");
    let quiet = emulator.run_on_terminal(&args, dir.path(), &[]);
    assert_applied(&emulator, &quiet, "quiet-");
    assert!(created_lines(&quiet.stderr).is_empty(), "{quiet}");
    assert!(!quiet.stderr.contains("changes, "), "{quiet}");
}
