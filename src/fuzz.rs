//! A mutation fuzzer over the offline pipeline, on the stable toolchain.
//!
//! Each iteration mutates a seed input (the example stacks and the test fixtures), runs
//! it through load, validate, diagnostics rendering and, when it validates, resolve, plan
//! against an empty live state and every plan renderer, under
//! [`std::panic::catch_unwind`]. Everything is driven by one seeded generator, so a run
//! is reproducible from its seed and iteration count. Failures are grouped by panic
//! location and message; the first input of each is shrunk and saved.
//!
//! `tests/fuzz.rs` runs a short pass in CI; `scripts/fuzz.sh N` a long one (through
//! `examples/fuzz.rs`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::diag::{Diagnostics, SourceMap};
use crate::model::{LiveState, Scope};
use crate::plan::render::{Style, Text};
use crate::plan::{plan, StackInput};
use crate::validate::{validate, Env};

/// What one run does.
pub struct Config {
    pub seed: u64,
    pub iterations: u64,
    /// Named seed inputs; mutants start from these.
    pub corpus: Vec<(String, Vec<u8>)>,
    /// Where shrunk failing inputs are written (`None`: not written).
    pub failures_dir: Option<PathBuf>,
}

/// A distinct failure: one panic location and message.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `file:line:column: message` of the panic.
    pub key: String,
    /// How many mutants hit it.
    pub hits: u64,
    /// The first such input, shrunk.
    pub input: Vec<u8>,
    pub saved: Option<PathBuf>,
}

/// What a run found.
#[derive(Debug, Clone)]
pub struct Report {
    pub iterations: u64,
    /// Mutants that validated and were planned (the rest ended in diagnostics).
    pub planned: u64,
    pub failures: Vec<Failure>,
    pub slowest: Duration,
    pub slowest_input: Vec<u8>,
    pub elapsed: Duration,
}

/// The seed inputs of the repository: `stacks/*.yaml` and `tests/fixtures/**/*.yaml`.
pub fn repository_corpus(root: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut found = Vec::new();
    let mut todo = vec![root.join("stacks"), root.join("tests/fixtures")];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let name = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                found.push((name, std::fs::read(&path)?));
            }
        }
    }
    // Sorted, so that a seed means the same run on every machine.
    found.sort();
    Ok(found)
}

/// A small deterministic generator (`SplitMix64`): no dependency, same stream everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        // The modulo bias is irrelevant for mutation choices.
        usize::try_from(self.next_u64() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// YAML specials and values that have broken parsers and validators before.
const SPECIALS: &[&str] = &[
    "&a ",
    "*a",
    "&b [*a, *a, *a]",
    "!!str ",
    "!!int ",
    "!!float ",
    "!!binary ",
    "!custom ",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "? ",
    ",",
    "\t",
    "\n",
    "\r\n",
    "    ",
    "#",
    "'",
    "\"",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "<<: *a\n",
    "~",
    "null",
    "é",
    "ß",
    "日本",
    "\u{1f600}",
    "\u{85}",
    "\u{2028}",
    "\u{feff}",
    "\\",
    "\\u0000",
    "1e999",
    "-1e999",
    ".nan",
    ".inf",
    "-.inf",
    "-0",
    "0x10",
    "0o17",
    "99999999999999999999999",
    "-9223372036854775809",
    "18446744073709551616",
    "0",
    "-1",
    "4294967296",
    "${env:",
    "${env:HOME}",
    "}}",
    "%",
    "$.",
    "ms",
    "1d",
    "0s",
    "99999999999999d",
];

/// Mutates `input` in place: one to four edits, some using `other` (another seed).
/// Inserted keys are the format's own (`spec::keys`, what the reader accepts), so that
/// mutants reach the validator's corners and follow the format as it grows.
pub fn mutate(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    thread_local! {
        static KEYS: Vec<&'static str> = crate::spec::keys::all_names();
    }
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        let at = rng.below(input.len() + 1);
        match rng.below(12) {
            0 => {
                if let Some(byte) = input.get_mut(at) {
                    *byte ^= 1 << rng.below(8);
                }
            }
            1 => {
                let end = (at + 1 + rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            2 => {
                let (start, end) = line_around(input, at);
                let line = input[start..end].to_vec();
                input.splice(end..end, line);
            }
            3 | 4 => {
                let special = SPECIALS[rng.below(SPECIALS.len())].as_bytes();
                input.splice(at..at, special.iter().copied());
            }
            5 => {
                let key = KEYS.with(|keys| format!("{}: ", keys[rng.below(keys.len())]));
                input.splice(at..at, key.bytes());
            }
            6 => {
                // A long run of one character: long keys, lines and values.
                const RUNS: &[u8] = b"a -[{:#'\"\t9.";
                let byte = RUNS[rng.below(RUNS.len())];
                let run = vec![byte; 1 + rng.below(4096)];
                input.splice(at..at, run);
            }
            7 => {
                // Splice: this input's head with the other's tail, at line boundaries.
                let cut = line_around(input, at).0;
                let from = line_around(other, rng.below(other.len() + 1)).0;
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            8 => {
                // Two lines swapped.
                let first = line_around(input, at);
                let second = line_around(input, rng.below(input.len() + 1));
                if first.1 <= second.0 {
                    let a = input[first.0..first.1].to_vec();
                    let b = input[second.0..second.1].to_vec();
                    input.splice(second.0..second.1, a);
                    input.splice(first.0..first.1, b);
                }
            }
            9 => {
                // A chunk repeated: many alarms, deep indentation, long lists.
                let end = (at + 1 + rng.below(64)).min(input.len());
                let chunk = input[at.min(end)..end].to_vec();
                let times = 1 + rng.below(64);
                let repeated: Vec<u8> = chunk
                    .iter()
                    .copied()
                    .cycle()
                    .take(chunk.len() * times)
                    .collect();
                input.splice(end..end, repeated);
            }
            10 => {
                // Indentation changed by a space or two: block structure shifts.
                let start = line_around(input, at).0;
                if rng.below(2) == 0 {
                    input.splice(start..start, b"  ".iter().copied());
                } else if input.get(start) == Some(&b' ') {
                    input.remove(start);
                }
            }
            _ => {
                if let Some(byte) = input.get_mut(at) {
                    const BYTES: &[u8] = &[0, b'\n', b':', b'-', 0xff, 0xc3, 0x80, b'&', b'*'];
                    *byte = BYTES[rng.below(BYTES.len())];
                }
            }
        }
    }
    // Mutants stay small enough to run by the thousand; size limits have their own tests.
    input.truncate(256 * 1024);
}

/// The line (with its newline) that contains byte `at`.
fn line_around(input: &[u8], at: usize) -> (usize, usize) {
    let at = at.min(input.len());
    let start = input[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let end = input[at..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(input.len(), |i| at + i + 1);
    (start, end)
}

/// Variables `${env:...}` may name in mutants: some set, the rest not.
struct FuzzEnv;

impl Env for FuzzEnv {
    fn var(&self, name: &str) -> Option<String> {
        name.len()
            .is_multiple_of(2)
            .then(|| format!("https://hooks.example.com/{name}"))
    }
}

/// Runs one input through the offline pipeline. Returns whether it was planned.
///
/// # Panics
///
/// When `monplan fmt` of the input is not idempotent: a finding, like any other panic.
pub fn pipeline(input: &[u8]) -> bool {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let specs: Vec<_> = crate::spec::load_source(
        Path::new("fuzz.yaml"),
        input.to_vec(),
        &mut sources,
        &mut diags,
    )
    .into_iter()
    .collect();
    // `monplan fmt` of the same text: it never panics, and formatting is idempotent.
    if let Ok(text) = std::str::from_utf8(input) {
        let file = sources.add(Path::new("fmt.yaml"), text.to_string());
        if let Ok(once) = crate::spec::format::format(file, text) {
            let twice = crate::spec::format::format(file, &once.text).map(|f| f.text);
            assert!(twice.as_ref() == Ok(&once.text), "fmt is not idempotent");
        }
    }
    let stacks = validate(&specs, &FuzzEnv, &mut diags);
    diags.sort();
    let rendered = diags.render(&sources, false);
    std::hint::black_box(rendered);
    if diags.has_errors() {
        return false;
    }
    let live = LiveState::default();
    let scopes: Vec<Scope> = stacks
        .iter()
        .map(|s| Scope {
            partition: "aws".into(),
            region: s.region.clone().unwrap_or_else(|| "us-east-1".into()),
            account: s
                .account
                .as_ref()
                .map_or_else(|| "123456789012".into(), |a| a.value.clone()),
        })
        .collect();
    let inputs: Vec<StackInput> = stacks
        .iter()
        .zip(&scopes)
        .map(|(desired, scope)| StackInput {
            desired,
            scope,
            live: &live,
        })
        .collect();
    let planned = plan(&inputs);
    let text = Text {
        plan: &planned,
        style: Style { color: false },
    }
    .to_string();
    std::hint::black_box(text);
    std::hint::black_box(crate::plan::render_json::to_json(&planned, Some(1.0)).to_string());
    std::hint::black_box(crate::plan::render_markdown::to_markdown(&planned, None));
    true
}

thread_local! {
    /// Whether this thread is inside [`check_with`], and the panic it caught there.
    // Outer: inside or not; inner: the panic, if one was caught.
    #[allow(clippy::option_option)]
    static CAUGHT: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Runs [`pipeline`] and returns the panic's `location: message`, if it panicked.
pub fn check(input: &[u8]) -> Result<bool, String> {
    check_with(pipeline, input)
}

/// [`check`] of any target (the loop's own test gives it one that panics).
pub fn check_with(target: fn(&[u8]) -> bool, input: &[u8]) -> Result<bool, String> {
    install_hook();
    CAUGHT.with(|c| *c.borrow_mut() = Some(None));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| target(input)));
    let caught = CAUGHT.with(|c| c.borrow_mut().take()).flatten();
    outcome.map_err(|_| caught.unwrap_or_else(|| "panic without a message".into()))
}

/// Installs, once, a panic hook that records the location and message of a panic inside
/// [`check_with`] instead of printing it (a fuzz run would print thousands), and leaves
/// every other panic (a failing test's assertion) to the previous hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let inside = CAUGHT.with(|c| c.borrow().is_some());
            if !inside {
                previous(info);
                return;
            }
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            // Numbers in messages (indices, lengths) differ between inputs that are the
            // same bug, and change as it is shrunk; each run of digits becomes one `#`.
            let mut words = String::new();
            for c in message.chars().take(200) {
                if !c.is_ascii_digit() {
                    words.push(c);
                } else if !words.ends_with('#') {
                    words.push('#');
                }
            }
            let location = info.location().map_or_else(String::new, |l| {
                format!("{}:{}:{}", l.file(), l.line(), l.column())
            });
            CAUGHT.with(|c| *c.borrow_mut() = Some(Some(format!("{location}: {words}"))));
        }));
    });
}

/// Shrinks `input` while it still fails with `key`: whole lines first, then byte ranges
/// of halving size. Bounded, so that a slow failure cannot stall the run.
pub fn shrink(target: fn(&[u8]) -> bool, input: &[u8], key: &str) -> Vec<u8> {
    let fails = |candidate: &[u8]| check_with(target, candidate).err().as_deref() == Some(key);
    let mut best = input.to_vec();
    let mut attempts = 0;
    let mut chunk = best.len() / 2;
    while chunk >= 1 && attempts < 4000 {
        let mut at = 0;
        let mut shrunk = false;
        while at < best.len() && attempts < 4000 {
            let end = (at + chunk).min(best.len());
            let mut candidate = best[..at].to_vec();
            candidate.extend_from_slice(&best[end..]);
            attempts += 1;
            if fails(&candidate) {
                best = candidate;
                shrunk = true;
            } else {
                at += chunk;
            }
        }
        if !shrunk {
            chunk /= 2;
        }
    }
    best
}

/// The fuzz loop. Panics of the pipeline are caught and reported, never propagated.
pub fn run(config: &Config) -> Report {
    run_with(config, pipeline)
}

/// [`run`] against any target.
pub fn run_with(config: &Config, target: fn(&[u8]) -> bool) -> Report {
    let started = Instant::now();
    let mut rng = Rng::new(config.seed);
    let mut failures: BTreeMap<String, Failure> = BTreeMap::new();
    let mut report = Report {
        iterations: 0,
        planned: 0,
        failures: Vec::new(),
        slowest: Duration::ZERO,
        slowest_input: Vec::new(),
        elapsed: Duration::ZERO,
    };
    if config.corpus.is_empty() {
        return report;
    }
    for _ in 0..config.iterations {
        let (_, seed) = &config.corpus[rng.below(config.corpus.len())];
        let (_, other) = &config.corpus[rng.below(config.corpus.len())];
        let mut input = seed.clone();
        mutate(&mut rng, &mut input, other);
        let began = Instant::now();
        let outcome = check_with(target, &input);
        let took = began.elapsed();
        report.iterations += 1;
        if took > report.slowest {
            report.slowest = took;
            report.slowest_input.clone_from(&input);
        }
        match outcome {
            Ok(true) => report.planned += 1,
            Ok(false) => {}
            Err(key) => {
                failures
                    .entry(key.clone())
                    .and_modify(|f| f.hits += 1)
                    .or_insert_with(|| Failure {
                        input: shrink(target, &input, &key),
                        key,
                        hits: 1,
                        saved: None,
                    });
            }
        }
    }
    for (index, mut failure) in failures.into_values().enumerate() {
        if let Some(dir) = &config.failures_dir {
            let path = dir.join(format!("failure-{index:03}.yaml"));
            let written = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&path, &failure.input))
                .and_then(|()| std::fs::write(path.with_extension("txt"), &failure.key));
            if written.is_ok() {
                failure.saved = Some(path);
            }
        }
        report.failures.push(failure);
    }
    report.elapsed = started.elapsed();
    report
}
