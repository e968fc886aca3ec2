#!/usr/bin/env bash
# Idempotently provide the LocalStack open-source runtime in $REPO/.venv-localstack.
#
# LocalStack covers what moto lacks (PutCompositeAlarm, alarm evaluation); it runs on the
# host, without Docker (tests/support/localstack.rs starts it). Creates the virtualenv with
# Python 3.13 and installs scripts/localstack-requirements.txt, a complete lock of every
# package, with --no-deps, unless the venv already holds exactly that file's packages (a
# stamp of the file's sha256, written last). A changed requirements file rebuilds the venv
# from scratch. Safe to call from many processes at once (parallel tests): an flock on
# $REPO/.venv-localstack.lock makes one caller install while the others wait. Quiet on
# success; on failure prints pip's output and exits non-zero.
#
# Python 3.13: $PYTHON313 if set, else `python3.13` if it runs, else pyenv's newest 3.13.x
# (its shim refuses python3.13 unless that version is selected).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-localstack"
LOCK="$REPO/.venv-localstack.lock"
REQUIREMENTS="$REPO/scripts/localstack-requirements.txt"
# Written last, after a successful install; holds the sha256 of $REQUIREMENTS.
STAMP="$VENV/.requirements-sha256"

[[ -f "$REQUIREMENTS" ]] || { echo "ensure-localstack: $REQUIREMENTS is missing" >&2; exit 1; }

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}
WANT_HASH="$(sha256 "$REQUIREMENTS")"
LOCALSTACK_VERSION="$(sed -n 's/^localstack-core==\([^ ]*\)$/\1/p' "$REQUIREMENTS")"
[[ -n "$LOCALSTACK_VERSION" ]] \
    || { echo "ensure-localstack: no localstack-core==VERSION line in $REQUIREMENTS" >&2; exit 1; }

installed_ok() {
    [[ -x "$VENV/bin/python" && -f "$STAMP" ]] || return 1
    [[ "$(cat "$STAMP")" == "$WANT_HASH" ]] || return 1
    local have
    have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("localstack-core"))' 2>/dev/null)" || return 1
    [[ "$have" == "$LOCALSTACK_VERSION" ]]
}

# Fast path, no lock: a complete install of this very requirements file.
if installed_ok; then
    exit 0
fi

is_py313() {
    "$@" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1
}

find_python313() {
    if [[ -n "${PYTHON313:-}" ]]; then
        is_py313 "$PYTHON313" || { echo "ensure-localstack: PYTHON313=$PYTHON313 is not a working Python 3.13" >&2; return 1; }
        echo "$PYTHON313"
        return 0
    fi
    if is_py313 python3.13; then
        command -v python3.13
        return 0
    fi
    local root="${PYENV_ROOT:-}" candidate
    if [[ -z "$root" ]] && command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root 2>/dev/null || true)"
    fi
    root="${root:-$HOME/.pyenv}"
    # Newest 3.13.x first.
    for candidate in $(ls -d "$root"/versions/3.13.*/bin/python3.13 2>/dev/null | sort -rV); do
        if is_py313 "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    echo "ensure-localstack: Python 3.13 not found (tried \$PYTHON313, python3.13, $root/versions/3.13.*); set PYTHON313" >&2
    return 1
}

mkdir -p "$(dirname "$VENV")"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK"
    flock 9
else
    echo "ensure-localstack: flock not found; installing without a lock" >&2
fi

# Another process may have finished the install while we waited for the lock.
if installed_ok; then
    exit 0
fi

log="$(mktemp "${TMPDIR:-/tmp}/ensure-localstack.XXXXXX")"
trap 'rm -f "$log"' EXIT

fail() {
    echo "ensure-localstack: $1" >&2
    cat "$log" >&2
    exit 1
}

PYTHON="$(find_python313)"

# Whatever is there is stale (other requirements, half-installed, or an interpreter that no
# longer runs): start from an empty venv so that no package outside the lock survives.
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" >"$log" 2>&1 || fail "'$PYTHON -m venv $VENV' failed:"
echo "ensure-localstack: installing localstack-core and its locked dependencies into .venv-localstack (first run only: one to two minutes)" >&2
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
    --no-deps -r "$REQUIREMENTS" >"$log" 2>&1 \
    || fail "installing $REQUIREMENTS into $VENV failed; pip said:"
# --no-deps trusts the lock to be complete; pip check says if it is not.
"$VENV/bin/python" -m pip check --disable-pip-version-check >"$log" 2>&1 \
    || fail "$REQUIREMENTS is not a complete lock (a dependency is missing or at a wrong version):"
echo "$WANT_HASH" >"$STAMP"
installed_ok || fail "localstack-core $LOCALSTACK_VERSION still not usable in $VENV after installing it"
