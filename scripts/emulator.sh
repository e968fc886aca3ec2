#!/usr/bin/env bash
# Start or stop a local moto server on 127.0.0.1 (never real AWS).
#
#   eval "$(scripts/emulator.sh start)"   # prints: export AWS_ENDPOINT_URL=http://127.0.0.1:PORT
#   scripts/emulator.sh stop
#
# State (pid, port, log path) lives in ${MONPLAN_EMULATOR_DIR:-$REPO/target/emulator};
# one emulator per state dir. The server log goes to a file under ${TMPDIR:-/tmp}.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-moto"
STATE="${MONPLAN_EMULATOR_DIR:-$REPO/target/emulator}"
START_TIMEOUT=30 # seconds until the server must answer
STOP_GRACE=5     # seconds between SIGTERM and SIGKILL
START_ATTEMPTS=3 # a free port can be taken between choosing it and binding it

usage() {
    echo "usage: $0 start|stop" >&2
    exit 2
}

# True while the process exists and is not a zombie.
alive() {
    local pid="$1" stat
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/stat" ]]; then
        # The state follows the ")" that closes the command name (which may hold spaces).
        stat="$({ sed -E 's/.*\) ([A-Za-z]).*/\1/' <"/proc/$pid/stat"; } 2>/dev/null)" || return 1
        [[ "$stat" != Z && "$stat" != X ]]
    fi
}

free_port() {
    "$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

answers() {
    "$VENV/bin/python" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

# The log shows "Running on http://127.0.0.1:PORT" once *this* server holds the port, so a
# 200 cannot come from some other process that won a port race.
bound() {
    grep -q "Running on http://127.0.0.1:$2" "$1" 2>/dev/null
}

kill_pid() {
    local pid="$1" i
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_GRACE * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    echo "emulator: pid $pid survived SIGKILL" >&2
    return 1
}

start() {
    if [[ -f "$STATE/pid" ]] && alive "$(cat "$STATE/pid")"; then
        echo "emulator: already running (pid $(cat "$STATE/pid"), port $(cat "$STATE/port"));" \
            "run '$0 stop' first or set MONPLAN_EMULATOR_DIR" >&2
        exit 1
    fi
    rm -rf "$STATE"

    bash "$REPO/scripts/ensure-moto.sh"

    local attempt port log pid deadline
    for ((attempt = 1; attempt <= START_ATTEMPTS; attempt++)); do
        port="$(free_port)"
        log="$(mktemp "${TMPDIR:-/tmp}/monplan-moto-$port.XXXXXX")"
        PYTHONUNBUFFERED=1 nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" \
            </dev/null >"$log" 2>&1 &
        pid=$!
        deadline=$((SECONDS + START_TIMEOUT))
        while alive "$pid" && ((SECONDS < deadline)); do
            if bound "$log" "$port" && answers "http://127.0.0.1:$port/moto-api/"; then
                mkdir -p "$STATE"
                echo "$pid" >"$STATE/pid"
                echo "$port" >"$STATE/port"
                echo "$log" >"$STATE/log"
                echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$port"
                return 0
            fi
            sleep 0.1
        done
        if alive "$pid"; then
            kill_pid "$pid" || true
            echo "emulator: moto_server on port $port did not answer within ${START_TIMEOUT}s;" \
                "last lines of $log:" >&2
            tail -n 30 "$log" >&2
            exit 1
        fi
        echo "emulator: moto_server on port $port exited early (attempt $attempt/$START_ATTEMPTS);" \
            "last lines of $log:" >&2
        tail -n 10 "$log" >&2
        rm -f "$log"
    done
    echo "emulator: giving up after $START_ATTEMPTS attempts" >&2
    exit 1
}

stop() {
    [[ -f "$STATE/pid" ]] || return 0 # nothing running: not an error
    local pid log=""
    pid="$(cat "$STATE/pid")"
    [[ -f "$STATE/log" ]] && log="$(cat "$STATE/log")"
    # Do not kill an unrelated process that reused the pid after the emulator died.
    if ! alive "$pid"; then
        : # already gone
    elif [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q moto_server; then
        echo "emulator: pid $pid is no longer moto_server; only removing $STATE" >&2
    else
        kill_pid "$pid"
    fi
    [[ -n "$log" ]] && rm -f "$log"
    rm -rf "$STATE"
}

[[ $# -eq 1 ]] || usage
case "$1" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
