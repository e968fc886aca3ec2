#!/usr/bin/env bash
# Measures a no-change plan of N single-metric alarms (default 300) against a local moto
# emulator: AWS calls by operation (from `plan -v`) and wall time. Prints figures only;
# nothing is asserted. Usage: scripts/measure-plan.sh [N] [--release]
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
N="${1:-300}"
PROFILE=debug
if [[ "${2:-}" == "--release" ]]; then PROFILE=release; cargo build --quiet --release; else cargo build --quiet; fi
BIN="$REPO/target/$PROFILE/monplan"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/monplan-measure.XXXXXX")"
export MONPLAN_EMULATOR_DIR="$WORK/emulator"
trap 'bash "$REPO/scripts/emulator.sh" stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
eval "$(bash scripts/emulator.sh start)"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_MAX_ATTEMPTS=1 NO_COLOR=1

{
    printf 'stack: measure\ntopics:\n  oncall: {}\nalarms:\n'
    for ((i = 0; i < N; i++)); do
        printf '  a%d:\n    metric: { namespace: Measure, name: M%d, dimensions: { QueueName: q%d }, stat: Maximum }\n    above: %d\n    notify: [oncall]\n' "$i" "$i" "$i" "$i"
    done
} > "$WORK/measure.yaml"

"$BIN" apply --auto-approve -q "$WORK/measure.yaml" > /dev/null
for run in 1 2 3; do
    start=$(date +%s%N)
    "$BIN" plan -v --detailed-exitcode "$WORK/measure.yaml" > /dev/null 2> "$WORK/err" || { cat "$WORK/err"; exit 1; }
    end=$(date +%s%N)
    printf 'run %d: %s alarms, wall %d ms, %s\n' "$run" "$N" "$(((end - start) / 1000000))" "$(grep '^read:' "$WORK/err")"
done
