//! `cargo run --release --example fuzz -- ITERATIONS [SEED]`: the long fuzz pass of
//! `scripts/fuzz.sh`, printing the figures of `monplan::fuzz::Report`.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let iterations = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = match monplan::fuzz::repository_corpus(root) {
        Ok(corpus) => corpus,
        Err(error) => {
            eprintln!("cannot read the corpus: {error}");
            return ExitCode::FAILURE;
        }
    };
    let config = monplan::fuzz::Config {
        seed,
        iterations,
        corpus,
        failures_dir: Some(root.join("target/fuzz-failures")),
    };
    println!(
        "fuzz: {} seed inputs, seed {seed}, {iterations} iterations",
        config.corpus.len()
    );
    let report = monplan::fuzz::run(&config);
    let secs = report.elapsed.as_secs_f64();
    println!("iterations:        {}", report.iterations);
    println!(
        "planned:           {} (the rest ended in diagnostics)",
        report.planned
    );
    println!("distinct failures: {}", report.failures.len());
    for failure in &report.failures {
        let saved = failure
            .saved
            .as_ref()
            .map_or_else(|| "not saved".to_string(), |p| p.display().to_string());
        println!(
            "  {} ({} hits; shrunk to {} bytes: {saved})",
            failure.key,
            failure.hits,
            failure.input.len()
        );
    }
    println!(
        "slowest input:     {:.1} ms ({} bytes)",
        report.slowest.as_secs_f64() * 1000.0,
        report.slowest_input.len()
    );
    let slowest = root.join("target/fuzz-failures/slowest.yaml");
    if std::fs::create_dir_all(root.join("target/fuzz-failures")).is_ok()
        && std::fs::write(&slowest, &report.slowest_input).is_ok()
    {
        println!("                   saved as {}", slowest.display());
    }
    #[allow(clippy::cast_precision_loss)] // a rate to print
    let rate = report.iterations as f64 / secs.max(1e-9);
    println!("elapsed:           {secs:.1} s ({rate:.0} iterations/s)");
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
