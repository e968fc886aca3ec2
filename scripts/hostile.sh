#!/usr/bin/env bash
# Hostile YAML figures (issue 11, item 4): generates each hostile input (scripts/hostile.py:
# alias bomb, nesting 100,000 deep in flow and block style, a 100 MB file, a NUL byte,
# invalid UTF-8, 1e999, .nan, -0, keys of 10,000 characters, 100,000 alarms) into a temp
# dir, runs `monplan validate` on each and `monplan plan` on the valid ones against a
# fresh, empty local moto (never real AWS), and prints a table: input, command, size,
# exit code, wall time, peak RSS of that process, first error with its location.
# Prints figures only; nothing is asserted (tests/hostile.rs asserts the behaviour).
#
#   scripts/hostile.sh [--debug] [--alarms N]
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PROFILE=release
ALARMS=100000
while (($#)); do
    case "$1" in
    --debug) PROFILE=debug ;;
    --alarms) ALARMS="$2"; shift ;;
    *) echo "usage: $0 [--debug] [--alarms N]" >&2; exit 2 ;;
    esac
    shift
done
# The binary and the fuzz example are built together by both scripts: the example
# brings dev-dependencies whose features change shared crates, so building either alone
# would compile the AWS SDK a second time.
if [[ "$PROFILE" == release ]]; then
    cargo build --quiet --locked --release --bin monplan --example fuzz
else
    cargo build --quiet --locked --bin monplan --example fuzz
fi
BIN="$REPO/target/$PROFILE/monplan"
PYTHON="${MONPLAN_PYTHON:-$REPO/.venv-moto/bin/python}"
[[ -x "$PYTHON" ]] || PYTHON=python3

WORK="$(mktemp -d "${TMPDIR:-/tmp}/monplan-hostile.XXXXXX")"
export MONPLAN_EMULATOR_DIR="$WORK/emulator"
trap 'bash "$REPO/scripts/emulator.sh" stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
eval "$(bash scripts/emulator.sh start)"
echo "monplan: $BIN ($PROFILE); moto at $AWS_ENDPOINT_URL; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$PYTHON" scripts/hostile.py measure "$BIN" "$WORK" --alarms "$ALARMS" --endpoint "$AWS_ENDPOINT_URL"
