//! A short, deterministic fuzz pass over the offline pipeline (`monplan::fuzz`): mutants
//! of the example stacks and the fixtures must never panic. `scripts/fuzz.sh N` runs the
//! long pass.

use std::path::Path;

#[test]
fn short_fuzz_pass_finds_no_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = monplan::fuzz::repository_corpus(root).expect("corpus");
    assert!(
        corpus.len() >= 10,
        "the corpus is the stacks and the fixtures"
    );
    let config = monplan::fuzz::Config {
        seed: 11,
        iterations: 3000,
        corpus,
        failures_dir: Some(root.join("target/fuzz-failures")),
    };
    let report = monplan::fuzz::run(&config);
    assert_eq!(report.iterations, 3000);
    // Mutants that still validate reach the planner: the pass is not all syntax errors.
    assert!(report.planned > 0, "no mutant was planned");
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| {
            format!(
                "{} ({} hits): {:?}",
                f.key,
                f.hits,
                String::from_utf8_lossy(&f.input)
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "panics found:\n{}",
        failures.join("\n")
    );
}

/// A target with a planted bug: it panics on any input holding `*a` inside brackets.
fn planted(input: &[u8]) -> bool {
    let text = String::from_utf8_lossy(input);
    if let Some(open) = text.find('[') {
        assert!(!text[open..].contains("*a"), "planted bug at {open}");
    }
    monplan::fuzz::pipeline(input)
}

/// The loop catches and reports a panic, deduplicated by location and message (digits
/// masked), with a shrunk input saved: a fuzzer that could not see failures would pass
/// for the wrong reason.
#[test]
fn the_loop_reports_a_planted_panic_once_with_a_shrunk_input() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let config = monplan::fuzz::Config {
        seed: 5,
        iterations: 400,
        corpus: monplan::fuzz::repository_corpus(root).expect("corpus"),
        failures_dir: Some(dir.path().to_path_buf()),
    };
    let report = monplan::fuzz::run_with(&config, planted);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let failure = &report.failures[0];
    assert!(
        failure.key.contains("tests/fuzz.rs") && failure.key.contains("planted bug at #"),
        "{}",
        failure.key
    );
    assert!(failure.hits >= 1);
    // The shrunk input is just what the bug needs.
    let shrunk = String::from_utf8_lossy(&failure.input);
    assert!(shrunk.len() <= 8, "{shrunk:?}");
    assert!(shrunk.contains('[') && shrunk.contains("*a"), "{shrunk:?}");
    let saved = failure.saved.as_ref().expect("saved");
    assert_eq!(std::fs::read(saved).unwrap(), failure.input);
    // Valid and invalid inputs alike pass through the real pipeline without panicking.
    assert_eq!(monplan::fuzz::check(b"stack: ok\n"), Ok(true));
    assert_eq!(monplan::fuzz::check(b"stack: [unclosed\n"), Ok(false));
}
