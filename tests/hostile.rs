//! Hostile YAML through the real binary (issue 11, item 4): alias bombs, nesting 100,000
//! deep (flow and block), a 100 MB file, a NUL byte, invalid UTF-8, `1e999`, `.nan`,
//! `-0`, keys of 10,000 characters, 100,000 alarms.
//!
//! The inputs are generated at test time by `scripts/hostile.py generate` (the script
//! `scripts/hostile.sh` measures the same bytes), into a temp dir. Each bad one must end
//! in exit 1 with a located error (`file:line:column` and the offending line shown), no
//! panic and no signal; the valid ones validate, and `plan` against an empty moto shows
//! every resource as an add.
//!
//! `-0` where a number is expected is the integer 0 (YAML 1.2's core schema reads `-0`
//! as an integer, and integers have no negative zero): a threshold of `-0` is a threshold
//! of 0, shown as `above 0`; a count of `-0` is a count of 0, refused where the count
//! must be 1 or more.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Emulator, Output};

/// Alarms in the stack that is validated: the size the issue names.
const VALIDATED_ALARMS: usize = 100_000;
/// Alarms in the stack that is also planned against moto. Smaller than the issue's
/// 100,000 because a debug build takes about 27 s of CPU and 1 GB to plan those (186 s of
/// wall time on a loaded 2-core machine, past the harness's 3-minute bound on one run);
/// `scripts/hostile.sh` plans the 100,000 with the release build.
const PLANNED_ALARMS: usize = 10_000;

/// Writes the hostile inputs `names` into a temp dir with the repository's generator.
fn generate(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hostile.py");
    let out = Command::new(support::python())
        .arg(&script)
        .arg("generate")
        .arg(dir.path())
        .arg("--alarms")
        .arg(format!("{VALIDATED_ALARMS},{PLANNED_ALARMS}"))
        .arg("--only")
        .arg(names.join(","))
        .output()
        .expect("run scripts/hostile.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn input(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    assert!(path.is_file(), "the generator wrote {name}");
    path
}

/// No panic message, no death by a signal (`Output::code` is -1 then), whatever the input.
#[track_caller]
fn assert_no_crash(name: &str, out: &Output) {
    assert!(out.code >= 0, "{name}: killed by a signal\n{out}");
    assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"),
        "{name}: panicked\n{out}"
    );
}

/// One bad input and the error it must give.
struct Bad {
    name: &'static str,
    code: &'static str,
    /// `line:column` of the primary label.
    at: &'static str,
    /// Text of the offending line, as shown after `N │ `.
    line: &'static str,
    /// Part of the message or label.
    says: &'static str,
}

const BAD: &[Bad] = &[
    Bad {
        name: "alias-bomb.yaml",
        code: "E0001",
        at: "3:63",
        line: r#"  a: &a ["lol","lol","lol""#,
        says: "an alias bomb?",
    },
    Bad {
        name: "deep-flow.yaml",
        code: "E0001",
        at: "2:262",
        line: "…[[[[[[[[[[",
        says: "nest too deep here",
    },
    Bad {
        name: "deep-block.yaml",
        code: "E0001",
        at: "4:257",
        line: "…- - - - - -",
        says: "nest more than 128 levels deep here",
    },
    Bad {
        name: "nul.yaml",
        code: "E0001",
        at: "1:11",
        // The NUL is shown as its control picture: printed as itself it is invisible.
        line: "stack: nul\u{2400}x",
        says: "a NUL byte (U+0000)",
    },
    Bad {
        name: "invalid-utf8.yaml",
        code: "E0001",
        at: "1:11",
        line: "stack: caf\u{fffd}",
        says: "bytes that are not UTF-8",
    },
    Bad {
        name: "1e999.yaml",
        code: "E0002",
        at: "5:12",
        line: "    above: 1e999",
        says: "this number is infinite",
    },
    Bad {
        name: "nan.yaml",
        code: "E0002",
        at: "5:12",
        line: "    above: .nan",
        says: "\"not a number\"",
    },
    Bad {
        name: "minus-zero-count.yaml",
        code: "E0002",
        at: "6:25",
        line: "    evaluation_periods: -0",
        says: "expected a whole number of 1 or more",
    },
    Bad {
        name: "long-plain-key.yaml",
        code: "E0001",
        at: "2:10001",
        line: "…kkkkkkkkkk",
        says: "longer than YAML allows a plain key (1024 characters)",
    },
    Bad {
        name: "long-explicit-key.yaml",
        code: "E0004",
        at: "2:3",
        line: "? kkkkkkkkkk",
        says: "unknown key",
    },
    Bad {
        name: "long-alarm-key.yaml",
        code: "E0006",
        at: "3:5",
        line: "  ? kkkkkkkkkk",
        says: "alarm names are 1 to 255 characters",
    },
];

#[test]
fn hostile_inputs_end_in_a_located_error_without_a_crash() {
    let emulator = Emulator::start();
    let names: Vec<&str> = BAD.iter().map(|b| b.name).collect();
    let dir = generate(&names);
    let mut wrong = Vec::new();
    for bad in BAD {
        let path = input(dir.path(), bad.name);
        let out = emulator.run(&["validate", path.to_str().unwrap()], dir.path(), &[]);
        assert_no_crash(bad.name, &out);
        let line_number = bad.at.split(':').next().unwrap();
        let checks = [
            (out.code == 1, "exit 1"),
            (
                out.stderr.contains(&format!("error[{}]", bad.code)),
                "the error code",
            ),
            (
                out.stderr.contains(&format!("{}:{}\n", bad.name, bad.at)),
                "the location",
            ),
            (
                out.stderr
                    .lines()
                    .any(|l| l.starts_with(&format!("{line_number} │ {}", bad.line))),
                "the offending line",
            ),
            (out.stderr.contains(bad.says), "the message"),
            // Diagnostics are bounded: a 10,000-character key or a 200 KB line is cut.
            (
                out.stderr.lines().all(|l| l.chars().count() <= 700),
                "no line longer than 700 characters",
            ),
        ];
        for (ok, what) in checks {
            if !ok {
                wrong.push(format!("{}: {what}\n{out}", bad.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// A file past the size limit is refused before it is read: the error names the file and
/// the limit (it has no line to point at: nothing of it was read).
#[test]
fn a_100_mb_file_is_refused_by_its_size() {
    let emulator = Emulator::start();
    let dir = generate(&["100mb.yaml"]);
    let path = input(dir.path(), "100mb.yaml");
    assert!(std::fs::metadata(&path).unwrap().len() >= 100_000_000);
    let out = emulator.run(&["validate", path.to_str().unwrap()], dir.path(), &[]);
    assert_no_crash("100mb.yaml", &out);
    out.assert_code(1)
        .assert_stderr_contains("100mb.yaml is 97 MiB, larger than a stack file may be (32 MiB)");
}

/// `-0` as a threshold is 0, and plans as `above 0`.
#[test]
fn minus_zero_is_zero() {
    let emulator = Emulator::start();
    let dir = generate(&["minus-zero.yaml"]);
    let path = input(dir.path(), "minus-zero.yaml");
    let path = path.to_str().unwrap();
    let out = emulator.run(&["validate", path], dir.path(), &[]);
    assert_no_crash("minus-zero.yaml", &out);
    out.assert_code(0);
    let out = emulator.run(&["plan", path], dir.path(), &[]);
    assert_no_crash("minus-zero.yaml", &out);
    out.assert_code(0)
        .assert_stdout_contains("+ threshold: above 0\n")
        .assert_stdout_contains("Plan: 1 to add, 0 to change, 0 to destroy.");
    assert!(!out.stdout.contains("-0"), "{out}");
}

/// 100,000 alarms validate (before the duplicate-key check was linear, this took minutes
/// of CPU); a stack of [`PLANNED_ALARMS`] plans as that many adds (and its topic)
/// against an empty moto.
#[test]
fn a_hundred_thousand_alarms_validate_and_plan_as_adds() {
    let emulator = Emulator::start();
    let validated = format!("alarms-{VALIDATED_ALARMS}.yaml");
    let planned = format!("alarms-{PLANNED_ALARMS}.yaml");
    let dir = generate(&[&validated, &planned]);
    let name = validated;
    let path = input(dir.path(), &name);
    let out = emulator.run(&["validate", path.to_str().unwrap()], dir.path(), &[]);
    assert_no_crash(&name, &out);
    out.assert_code(0)
        .assert_stderr_contains("1 stack(s) valid: many");

    let name = planned;
    let path = input(dir.path(), &name);
    let out = emulator.run(&["plan", path.to_str().unwrap()], dir.path(), &[]);
    assert_no_crash(&name, &out);
    out.assert_code(0).assert_stdout_contains(&format!(
        "Plan: {} to add, 0 to change, 0 to destroy.",
        PLANNED_ALARMS + 1
    ));
    let created = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("  # alarm \"many-a") && l.ends_with("\" will be created"))
        .count();
    assert_eq!(created, PLANNED_ALARMS);
    let last = format!("  + alarm \"many-a{}\"", PLANNED_ALARMS - 1);
    assert!(out.stdout.contains(&last), "the last alarm is planned");
}
