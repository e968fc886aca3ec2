#!/usr/bin/env bash
# Idempotently provide the moto emulator in $REPO/.venv-moto.
#
# Creates the virtualenv with `python3 -m venv` and installs the pinned moto[server]
# (boto3 comes with it) unless it is already there at the pinned version. Safe to call
# from many processes at once (parallel tests): an flock on $REPO/.venv-moto.lock makes
# one caller install while the others wait. Says when it installs (stderr); otherwise quiet on success; on failure prints pip's
# output and exits non-zero.
set -euo pipefail

MOTO_VERSION=5.2.5

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-moto"
LOCK="$REPO/.venv-moto.lock"
# Written last, after a successful install; tests/support/mod.rs treats a venv without it
# as incomplete (e.g. another process is still installing) and calls this script.
STAMP="$VENV/.moto-version"
PYTHON="${PYTHON:-python3}"

installed_ok() {
    [[ -x "$VENV/bin/moto_server" && -x "$VENV/bin/python" && -f "$STAMP" ]] || return 1
    [[ "$(cat "$STAMP")" == "$MOTO_VERSION" ]] || return 1
    local have
    have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" || return 1
    [[ "$have" == "$MOTO_VERSION" ]]
}

# Fast path, no lock: a complete install at the pinned version.
if installed_ok; then
    exit 0
fi

mkdir -p "$(dirname "$VENV")"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK"
    flock 9
else
    echo "ensure-moto: flock not found; installing without a lock" >&2
fi

# Another process may have finished the install while we waited for the lock.
if installed_ok; then
    exit 0
fi

log="$(mktemp "${TMPDIR:-/tmp}/ensure-moto.XXXXXX")"
trap 'rm -f "$log"' EXIT

fail() {
    echo "ensure-moto: $1" >&2
    cat "$log" >&2
    exit 1
}

echo "ensure-moto: installing moto[server]==$MOTO_VERSION into .venv-moto (first run only: about a minute)" >&2
rm -f "$STAMP"
# A venv whose interpreter no longer runs (python3 upgraded or removed) is rebuilt.
if [[ -e "$VENV" ]] && ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV" >"$log" 2>&1 || fail "'$PYTHON -m venv $VENV' failed:"
fi
# jsonschema (which moto[server] brings anyway) is pinned too: tests/schema.rs checks
# docs/stack-schema.json with it, the reference implementation editors' checks follow.
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
    "moto[server]==$MOTO_VERSION" "jsonschema==4.26.0" >"$log" 2>&1 \
    || fail "installing moto[server]==$MOTO_VERSION into $VENV failed; pip said:"
echo "$MOTO_VERSION" >"$STAMP"
installed_ok || fail "moto $MOTO_VERSION still not usable in $VENV after installing it"
