#!/usr/bin/env bash
# The long fuzz pass (issue 11, item 4): N mutants (default 100000) of the example stacks
# and the test fixtures through load, validate, diagnostics, plan and every renderer, in a
# release build, on the stable toolchain. Prints iterations, distinct failures (panics
# grouped by location and message, each shrunk and saved under target/fuzz-failures/),
# the slowest input and its time. Exit 1 if anything panicked. CI runs a short pass
# (tests/fuzz.rs); this is the long one.
#
#   scripts/fuzz.sh [N] [SEED]
#
# An abort or a stack overflow (which catch_unwind cannot catch) kills the process: the
# script then says so with the signal, and the last seed and count reproduce it.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
N="${1:-100000}"
SEED="${2:-1}"
# With the binary, as scripts/hostile.sh builds them: one set of features, one build.
cargo build --quiet --locked --release --bin monplan --example fuzz
FUZZ="$REPO/target/release/examples/fuzz"
USAGE="$(mktemp)"
trap 'rm -f "$USAGE"' EXIT
status=0
if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o "$USAGE" "$FUZZ" "$N" "$SEED" || status=$?
    grep -E 'Maximum resident|Elapsed \(wall' "$USAGE" | sed 's/^\s*/process: /'
else
    "$FUZZ" "$N" "$SEED" || status=$?
fi
if ((status > 128)); then
    echo "fuzz: killed by signal $((status - 128)) (an abort or a stack overflow, which no catch_unwind sees): rerun with N=$N SEED=$SEED to reproduce" >&2
fi
exit "$status"
