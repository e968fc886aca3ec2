#!/usr/bin/env bash
# README command 1: plan, apply and re-plan the example stack against a local moto
# emulator on 127.0.0.1. Never touches real AWS.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

# ===== HOOK: prepare_emulator =====================================================
# Called once the emulator is up and the environment below is exported. Creates the
# queue (with its dead-letter queue) and the Auto Scaling group that stacks/example.yaml
# refers to, with the independent boto3 client the tests use.
prepare_emulator() {
    local awsctl=(.venv-moto/bin/python tests/support/awsctl.py --endpoint "$AWS_ENDPOINT_URL")
    echo "==> creating the queue and Auto Scaling group the stack monitors"
    "${awsctl[@]}" create-queue transcription-jobs --dlq transcription-jobs-dlq >/dev/null
    "${awsctl[@]}" create-group transcription-workers --min 0 --max 10 --desired 0 >/dev/null
    echo "    queue transcription-jobs (DLQ transcription-jobs-dlq), group transcription-workers"
}
# ===================================================================================

step() {
    printf '\n==> %s\n' "$*"
    "$@"
}

echo "==> cargo build"
cargo build --quiet

# A private state dir, so the demo never collides with an emulator you started by hand.
MONPLAN_EMULATOR_DIR="$(mktemp -d "${TMPDIR:-/tmp}/monplan-demo.XXXXXX")"
export MONPLAN_EMULATOR_DIR
cleanup() {
    bash "$REPO/scripts/emulator.sh" stop || true
    rm -rf "$MONPLAN_EMULATOR_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT # without these, a signal would skip the EXIT trap
trap 'exit 143' TERM HUP

echo "==> starting the moto emulator"
# An assignment (not eval "$(...)" directly) so that a failed start stops the script.
endpoint_export="$(bash "$REPO/scripts/emulator.sh" start)"
eval "$endpoint_export"
echo "    AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"

# Static test credentials only; nothing may resolve real ones. First drop every AWS_*
# variable from the caller's shell (profiles, session tokens, role ARNs and service-specific
# AWS_ENDPOINT_URL_* overrides, which would beat AWS_ENDPOINT_URL).
while IFS= read -r var; do
    [[ "$var" == AWS_ENDPOINT_URL ]] || unset "$var"
done < <(compgen -e | grep '^AWS_' || true)
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
unset AWS_SESSION_TOKEN
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_MAX_ATTEMPTS=1
# stacks/example.yaml reads the webhook via ${env:ONCALL_WEBHOOK}.
export ONCALL_WEBHOOK=https://hooks.example.com/services/T000/B000/demo-secret

prepare_emulator

step target/debug/monplan plan stacks/example.yaml
step target/debug/monplan apply --auto-approve stacks/example.yaml

rc=0
step target/debug/monplan plan --detailed-exitcode stacks/example.yaml || rc=$?
if [[ $rc -ne 0 ]]; then
    echo "demo: the plan after apply should be empty (exit 0), but monplan exited $rc" >&2
    exit 1
fi
printf '\n==> demo OK: the re-plan after apply shows no changes\n'
