#!/usr/bin/env bash
# README command 2 (and CI): format check, clippy, and the test suite against moto.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

echo "==> ensure moto and LocalStack (pinned, in .venv-moto and .venv-localstack; the first run installs them: 3 to 4 minutes)"
bash scripts/ensure-moto.sh
bash scripts/ensure-localstack.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy (the first run compiles the AWS SDK crates: 5 to 12 minutes on 2 cores)"
cargo clippy --all-targets --locked -- -D warnings

echo "==> cargo test (the emulator tests start their own moto servers and LocalStack: about 6 to 8 minutes)"
export MONPLAN_MOTO_SERVER="$REPO/.venv-moto/bin/moto_server"
export MONPLAN_PYTHON="$REPO/.venv-moto/bin/python"
export MONPLAN_LOCALSTACK_PYTHON="$REPO/.venv-localstack/bin/python"
cargo test --locked
