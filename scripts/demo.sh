#!/usr/bin/env bash
# README command 1: plan, apply and re-plan the example stacks (EC2 and ECS) against
# local emulators on 127.0.0.1. Never touches real AWS.
#
# The example needs two emulators: moto lacks PutCompositeAlarm, and LocalStack's free
# runtime lacks EC2 Auto Scaling. monplan honours the AWS SDK's per-service endpoint
# variables, so LocalStack is the default endpoint (CloudWatch, SNS, STS, the Resource
# Groups Tagging API) and moto serves SQS, Auto Scaling, CloudWatch Logs, ECS and
# Application Auto Scaling.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

# ===== HOOK: prepare_emulator =====================================================
# Called once the emulators are up and the environment below is exported. Creates the
# queues (with their dead-letter queues, and visibility timeouts longer than the fleets'
# stuck_after), the Auto Scaling group, the log groups and the ECS cluster and service that stacks/example.yaml and stacks/example-ecs.yaml refer to, with the
# independent boto3 client the tests use, in moto (which serves them; AWS_ENDPOINT_URL is
# LocalStack, so the endpoint is given explicitly).
prepare_emulator() {
    local awsctl=(.venv-moto/bin/python tests/support/awsctl.py --endpoint "$MOTO_ENDPOINT")
    echo "==> creating the queue and Auto Scaling group the stack monitors"
    "${awsctl[@]}" create-queue transcription-jobs --dlq transcription-jobs-dlq --visibility-timeout 1200 >/dev/null
    "${awsctl[@]}" create-group transcription-workers --min 0 --max 10 --desired 0 >/dev/null
    "${awsctl[@]}" create-log-group /aws/ec2/transcription >/dev/null
    echo "    queue transcription-jobs (DLQ transcription-jobs-dlq, visibility timeout 20m), group transcription-workers, log group /aws/ec2/transcription"
    echo "==> creating the queue and ECS service the ECS stack scales"
    "${awsctl[@]}" create-queue thumbnail-jobs --dlq thumbnail-jobs-dlq --visibility-timeout 600 >/dev/null
    "${awsctl[@]}" create-service media thumbnails --container-insights enabled --health-check >/dev/null
    "${awsctl[@]}" create-log-group /ecs/thumbnails >/dev/null
    echo "    queue thumbnail-jobs (DLQ thumbnail-jobs-dlq, visibility timeout 10m), ECS cluster media (Container Insights on) with service thumbnails (its container has a health check), log group /ecs/thumbnails"
}
# ===================================================================================

step() {
    printf '\n==> %s\n' "$*"
    "$@"
}

echo "==> cargo build (the first build compiles the AWS SDK crates: 5 to 12 minutes on 2 cores; then seconds)"
cargo build

# A private state dir, so the demo never collides with an emulator you started by hand
# (scripts/emulator.sh keeps LocalStack's state in "$MONPLAN_EMULATOR_DIR-localstack").
DEMO_DIR="$(mktemp -d "${TMPDIR:-/tmp}/monplan-demo.XXXXXX")"
export MONPLAN_EMULATOR_DIR="$DEMO_DIR/emulator"
cleanup() {
    local rc=$? kind state
    if [[ $rc -ne 0 ]]; then
        # Show what the emulators said before their logs go away with them.
        for kind in localstack moto; do
            state="$MONPLAN_EMULATOR_DIR"
            [[ $kind == localstack ]] && state+="-localstack"
            [[ -f "$state/log" ]] || continue
            echo "--- last lines of the $kind log ---" >&2
            tail -n 20 "$(cat "$state/log")" >&2 || true
        done
    fi
    # In parallel: LocalStack may take the whole 5 s grace before it is killed.
    bash "$REPO/scripts/emulator.sh" stop moto &
    local moto_stop=$!
    bash "$REPO/scripts/emulator.sh" stop localstack || true
    wait "$moto_stop" || true
    rm -rf "$DEMO_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT # without these, a signal would skip the EXIT trap
trap 'exit 143' TERM HUP

# Prints the endpoint from the "export AWS_ENDPOINT_URL=..." line `emulator.sh start KIND`
# printed; fails on anything but a loopback URL.
endpoint_of() {
    local line="$1"
    local url="${line#export AWS_ENDPOINT_URL=}"
    if [[ ! "$url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]]; then
        echo "demo: unexpected output from scripts/emulator.sh start: $line" >&2
        return 1
    fi
    echo "$url"
}

echo "==> starting the moto and LocalStack emulators (the first run installs them first: 3 to 4 minutes)"
# Assignments (not eval "$(...)" directly) so that a failed start stops the script.
# moto in LocalStack's default account, so that the two emulators are one account (a
# scaling policy's ARN in an alarm's actions is then in the alarm's account, as on AWS).
moto_export="$(MOTO_ACCOUNT_ID=000000000000 bash "$REPO/scripts/emulator.sh" start moto)"
MOTO_ENDPOINT="$(endpoint_of "$moto_export")"
localstack_export="$(bash "$REPO/scripts/emulator.sh" start localstack)"
LOCALSTACK_ENDPOINT="$(endpoint_of "$localstack_export")"

# Static test credentials only; nothing may resolve real ones. First drop every AWS_*
# variable from the caller's shell (profiles, session tokens, role ARNs and any other
# AWS_ENDPOINT_URL_* override, which would beat AWS_ENDPOINT_URL).
while IFS= read -r var; do
    unset "$var"
done < <(compgen -e | grep '^AWS_' || true)
export AWS_ENDPOINT_URL="$LOCALSTACK_ENDPOINT"
export AWS_ENDPOINT_URL_SQS="$MOTO_ENDPOINT"
export AWS_ENDPOINT_URL_AUTO_SCALING="$MOTO_ENDPOINT"
export AWS_ENDPOINT_URL_CLOUDWATCH_LOGS="$MOTO_ENDPOINT"
export AWS_ENDPOINT_URL_ECS="$MOTO_ENDPOINT"
export AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING="$MOTO_ENDPOINT"
# LocalStack takes the account from a 12-digit access key id, else uses 000000000000.
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_MAX_ATTEMPTS=1
echo "    LocalStack $LOCALSTACK_ENDPOINT serves CloudWatch, SNS, STS and tagging (AWS_ENDPOINT_URL);" \
    "moto $MOTO_ENDPOINT serves SQS, Auto Scaling, CloudWatch Logs, ECS and Application Auto Scaling (AWS_ENDPOINT_URL_SQS, _AUTO_SCALING, _CLOUDWATCH_LOGS, _ECS, _APPLICATION_AUTO_SCALING)"
# stacks/example.yaml reads the webhook via ${env:ONCALL_WEBHOOK}.
export ONCALL_WEBHOOK=https://hooks.example.com/services/T000/B000/demo-secret

prepare_emulator

# Neither emulator implements saved Logs Insights queries (query definitions); against
# real AWS the same commands run without --exclude.
echo "==> the emulators have no saved Logs Insights queries: planning with --exclude queries"
STACKS=(stacks/example.yaml stacks/example-ecs.yaml)
step target/debug/monplan plan --exclude queries "${STACKS[@]}"
step target/debug/monplan apply --exclude queries --auto-approve "${STACKS[@]}"

rc=0
step target/debug/monplan plan --exclude queries --detailed-exitcode "${STACKS[@]}" || rc=$?
if [[ $rc -ne 0 ]]; then
    echo "demo: the plan after apply should be empty (exit 0), but monplan exited $rc" >&2
    exit 1
fi
printf '\n==> demo OK: the re-plan after apply shows no changes\n'
