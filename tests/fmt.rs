//! `monplan fmt`: canonical key order with comments kept, `--check` for CI, errors that
//! change nothing. Offline: no emulator.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use monplan::diag::SourceMap;
use monplan::spec::format::format;

fn monplan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_monplan"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("monplan-fmt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const SHUFFLED: &str = "\
# Checkout's monitoring.
stack: shop
alarms:
  # pages the on-call
  slow-orders:
    notify: [oncall]        # the pager
    above: 30
    metric: { namespace: Shop, name: OrderLatency, stat: p99 }
    description: Orders are slow
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
    display_name: Shop on-call
region: us-east-1
";

#[test]
fn the_examples_are_formatted() {
    let out = monplan(&["fmt", "--check", "stacks"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fmt_reorders_keeps_comments_and_check_then_passes() {
    let dir = temp_dir("reorder");
    let file = dir.join("shop.yaml");
    std::fs::write(&file, SHUFFLED).unwrap();
    let path = file.to_str().unwrap();

    let check = monplan(&["fmt", "--check", path]);
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stdout).contains("not formatted (key order)"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        SHUFFLED,
        "--check changed the file"
    );

    let out = monplan(&["fmt", path]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        "\
# Checkout's monitoring.
stack: shop
region: us-east-1
topics:
  oncall:
    display_name: Shop on-call
    subscriptions:
      - email: oncall@example.com
alarms:
  # pages the on-call
  slow-orders:
    description: Orders are slow
    metric: { namespace: Shop, name: OrderLatency, stat: p99 }
    above: 30
    notify: [oncall]        # the pager
"
    );
    assert!(monplan(&["fmt", "--check", path]).status.success());
    // And it still validates to the same stack.
    assert!(monplan(&["validate", path]).status.success());
}

#[test]
fn a_file_that_does_not_parse_is_a_located_error_and_nothing_is_written() {
    let dir = temp_dir("broken");
    let good = dir.join("a.yaml");
    let bad = dir.join("b.yaml");
    std::fs::write(&good, SHUFFLED).unwrap();
    let broken = "stack: shop\nalarms: [\n";
    std::fs::write(&bad, broken).unwrap();
    let out = monplan(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("b.yaml:"), "{stderr}");
    assert!(
        stderr.contains("alarms: ["),
        "the offending line is shown: {stderr}"
    );
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), broken);
}

/// Over every stack and fixture: formatting twice is formatting once, the loader reads
/// the same stack (as its diagnostics' codes and the stack's resources say), and every
/// line survives.
#[test]
fn fmt_is_idempotent_and_keeps_what_every_fixture_means() {
    let mut files = support::yaml_files(Path::new("stacks"));
    files.extend(support::yaml_files(Path::new("tests/fixtures")));
    let mut formatted_files = 0;
    for path in &files {
        let source = std::fs::read_to_string(path).unwrap();
        let mut sources = SourceMap::default();
        let file = sources.add(path, source.clone());
        let Ok(once) = format(file, &source) else {
            continue;
        };
        let twice = format(file, &once.text).unwrap();
        assert_eq!(
            twice.text,
            once.text,
            "{} is not idempotent",
            path.display()
        );
        let summary = |text: &str| {
            let mut sources = SourceMap::default();
            let mut diags = monplan::diag::Diagnostics::default();
            let spec = monplan::spec::load_source(
                path,
                text.as_bytes().to_vec(),
                &mut sources,
                &mut diags,
            );
            let mut codes: Vec<_> = diags.iter().map(|d| d.code).collect();
            codes.sort_unstable();
            let keys = spec.map(|s| {
                (
                    s.topics
                        .iter()
                        .map(|(k, _)| k.value.clone())
                        .collect::<Vec<_>>(),
                    s.alarms
                        .iter()
                        .map(|(k, _)| k.value.clone())
                        .collect::<Vec<_>>(),
                    s.queues.len() + s.dashboards.len() + s.log_metrics.len() + s.workers.len(),
                )
            });
            (codes, keys)
        };
        assert_eq!(
            summary(&once.text),
            summary(&source),
            "{} read differently",
            path.display()
        );
        let mut before: Vec<&str> = source
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect();
        let mut after: Vec<&str> = once
            .text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect();
        before.sort_unstable();
        after.sort_unstable();
        assert_eq!(before, after, "{} lost or changed a line", path.display());
        if once.text != source {
            formatted_files += 1;
        }
    }
    println!("{} files, {formatted_files} changed by fmt", files.len());
    assert!(files.len() > 10);
}
