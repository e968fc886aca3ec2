#!/usr/bin/env bash
# Start or stop a local AWS emulator on 127.0.0.1 (never real AWS): moto (the default) or
# the LocalStack open-source runtime (for what moto lacks, e.g. PutCompositeAlarm).
#
#   eval "$(scripts/emulator.sh start)"              # prints: export AWS_ENDPOINT_URL=http://127.0.0.1:PORT
#   scripts/emulator.sh stop
#   eval "$(scripts/emulator.sh start localstack)"   # same, for LocalStack
#   scripts/emulator.sh stop localstack
#
# State (pid, port, log path) lives in ${MONPLAN_EMULATOR_DIR:-$REPO/target/emulator} for
# moto and in that path with "-localstack" appended for LocalStack, so one of each can run
# at once; one emulator per state dir. The moto log goes to a file under ${TMPDIR:-/tmp};
# LocalStack gets a temp dir there for its log, HOME, FILESYSTEM_ROOT and XDG_CACHE_HOME.
# Stopping removes the log (and LocalStack's temp dir).
#
# LocalStack runs with the environment of tests/support/localstack.rs (nothing inherited
# but PATH and TMPDIR), in a session of its own; `stop localstack` sends SIGTERM, SIGKILL
# after 5 s (about 1 in 7 shutdowns hang), then SIGKILLs any process it left behind.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_STATE="${MONPLAN_EMULATOR_DIR:-$REPO/target/emulator}"
STOP_GRACE=5     # seconds between SIGTERM and SIGKILL
START_ATTEMPTS=3 # a free port can be taken between choosing it and binding it

# What tests/support/localstack.rs sets SERVICES to; start waits for each to be ready.
LOCALSTACK_SERVICES=(cloudwatch sns sqs sts resourcegroupstaggingapi)
# How long after LocalStack prints "Ready." its own "Running on" line may still be missing
# before we conclude that another process holds the port (LocalStack does not exit when it
# cannot bind: it prints "Ready." as soon as *something* answers on the port).
BIND_GRACE=2

usage() {
    echo "usage: $0 start|stop [moto|localstack]" >&2
    exit 2
}

[[ $# -eq 1 || $# -eq 2 ]] || usage
KIND="${2:-moto}"
case "$KIND" in
moto)
    VENV="$REPO/.venv-moto"
    STATE="$BASE_STATE"
    START_TIMEOUT=30 # seconds until the server must answer
    ;;
localstack)
    VENV="$REPO/.venv-localstack"
    STATE="$BASE_STATE-localstack"
    START_TIMEOUT=90 # seconds until every service must be ready (it takes ~1-2 s)
    ;;
*) usage ;;
esac

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
    "$VENV/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
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

start_moto() {
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

# ----- LocalStack ---------------------------------------------------------------------

# Whether /_localstack/health on 127.0.0.1:$1 reports every one of LOCALSTACK_SERVICES
# "available" (loads on first request) or "running".
localstack_ready() {
    "$VENV/bin/python" - "$1" "${LOCALSTACK_SERVICES[@]}" <<'PY' >/dev/null 2>&1
import json, sys, urllib.request
port, wanted = sys.argv[1], sys.argv[2:]
# No proxy, whatever the environment says: this is a loopback request.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(f"http://127.0.0.1:{port}/_localstack/health", timeout=2) as r:
    if r.status != 200:
        sys.exit(1)
    services = json.load(r).get("services", {})
sys.exit(0 if all(services.get(s) in ("available", "running") for s in wanted) else 1)
PY
}

# hypercorn logs "Running on https://127.0.0.1:PORT (CTRL + C to quit)" once *this* server
# holds the port (the scheme is https although it serves plain HTTP too).
localstack_bound() {
    grep -q "Running on .*://127\.0\.0\.1:$2 " "$1" 2>/dev/null
}

# Pids of every process in the process group $1 (LocalStack runs in a session of its own,
# so its pid is its group id) and of every descendant of pid $1, minus $1 itself.
localstack_tree() {
    ps -e -o pid=,ppid=,pgid= 2>/dev/null | awk -v root="$1" '
        { pid[NR] = $1; ppid[NR] = $2; if ($3 == root && $1 != root) keep[$1] = 1 }
        END {
            mark[root] = 1
            do {
                grew = 0
                for (i = 1; i <= NR; i++)
                    if ((ppid[i] in mark) && !(pid[i] in mark)) { mark[pid[i]] = 1; keep[pid[i]] = 1; grew = 1 }
            } while (grew)
            for (p in keep) print p
        }'
}

# SIGTERM, SIGKILL after STOP_GRACE, then SIGKILL whatever it left behind.
kill_localstack() {
    local pid="$1" rc=0 left="" p before
    # Descendants are listed before the kill too: once it is gone, its orphans are reparented.
    before="$(localstack_tree "$pid")"
    kill_pid "$pid" || rc=1
    for p in $(printf '%s\n' "$before" "$(localstack_tree "$pid")" | sort -un); do
        alive "$p" && left+=" $p"
    done
    if [[ -n "$left" ]]; then
        echo "emulator: LocalStack (pid $pid) left processes behind; killing:$left" >&2
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null || true
        sleep 0.2
        for p in $left; do
            if alive "$p"; then
                echo "emulator: pid $p survived SIGKILL" >&2
                rc=1
            fi
        done
    fi
    return "$rc"
}

start_localstack() {
    bash "$REPO/scripts/ensure-localstack.sh"

    local attempt port scratch log pid deadline unbound_since services
    services="$(IFS=,; echo "${LOCALSTACK_SERVICES[*]}")"
    for ((attempt = 1; attempt <= START_ATTEMPTS; attempt++)); do
        port="$(free_port)"
        scratch="$(mktemp -d "${TMPDIR:-/tmp}/monplan-localstack-$port.XXXXXX")"
        mkdir "$scratch/home"
        log="$scratch/localstack.log"
        # The environment of tests/support/localstack.rs, and nothing else from ours.
        # setsid: a session (and process group) of its own, so stop finds what it spawned.
        env -i \
            PATH="$PATH" \
            ${TMPDIR:+TMPDIR="$TMPDIR"} \
            HOME="$scratch/home" \
            PYTHONUNBUFFERED=1 \
            PYTHONDONTWRITEBYTECODE=1 \
            OVERRIDE_IN_DOCKER=0 \
            FILESYSTEM_ROOT="$scratch/fs" \
            XDG_CACHE_HOME="$scratch/cache" \
            GATEWAY_LISTEN="127.0.0.1:$port" \
            LOCALSTACK_HOST="127.0.0.1:$port" \
            GATEWAY_SERVER=hypercorn \
            SERVICES="$services" \
            PROVIDER_OVERRIDE_CLOUDWATCH=v1 \
            PERSISTENCE=0 \
            DISABLE_EVENTS=1 \
            DNS_ADDRESS=0 \
            SKIP_SSL_CERT_DOWNLOAD=1 \
            API_ENDPOINT=http://127.0.0.1:9/v1 \
            ANALYTICS_API=http://127.0.0.1:9/v1 \
            setsid "$VENV/bin/python" -m localstack.runtime.main \
            </dev/null >"$log" 2>&1 &
        pid=$!
        deadline=$((SECONDS + START_TIMEOUT))
        unbound_since=""
        while alive "$pid" && ((SECONDS < deadline)); do
            if localstack_bound "$log" "$port"; then
                if localstack_ready "$port"; then
                    mkdir -p "$STATE"
                    echo "$pid" >"$STATE/pid"
                    echo "$port" >"$STATE/port"
                    echo "$log" >"$STATE/log"
                    echo "$scratch" >"$STATE/scratch"
                    echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$port"
                    return 0
                fi
            elif grep -qx 'Ready\.' "$log" 2>/dev/null; then
                unbound_since="${unbound_since:-$SECONDS}"
                ((SECONDS - unbound_since > BIND_GRACE)) && break
            fi
            sleep 0.1
        done
        if alive "$pid"; then
            kill_localstack "$pid" || true
            if ((SECONDS < deadline)); then
                echo "emulator: port $port is taken by another process" \
                    "(attempt $attempt/$START_ATTEMPTS); last lines of $log:" >&2
                tail -n 10 "$log" >&2
                rm -rf "$scratch"
                continue
            fi
            echo "emulator: LocalStack on port $port was not ready within ${START_TIMEOUT}s;" \
                "last lines of $log:" >&2
            tail -n 30 "$log" >&2
            exit 1
        fi
        echo "emulator: LocalStack on port $port exited early (attempt $attempt/$START_ATTEMPTS);" \
            "last lines of $log:" >&2
        tail -n 10 "$log" >&2
        rm -rf "$scratch"
    done
    echo "emulator: giving up after $START_ATTEMPTS attempts" >&2
    exit 1
}

# ----- start / stop -------------------------------------------------------------------

start() {
    if [[ -f "$STATE/pid" ]] && alive "$(cat "$STATE/pid")"; then
        echo "emulator: ${2:+$KIND }already running (pid $(cat "$STATE/pid"), port $(cat "$STATE/port"));" \
            "run '$0 stop${2:+ $KIND}' first or set MONPLAN_EMULATOR_DIR" >&2
        exit 1
    fi
    rm -rf "$STATE"
    "start_$KIND"
}

stop() {
    [[ -f "$STATE/pid" ]] || return 0 # nothing running: not an error
    local pid log="" scratch="" pattern
    pid="$(cat "$STATE/pid")"
    [[ -f "$STATE/log" ]] && log="$(cat "$STATE/log")"
    [[ -f "$STATE/scratch" ]] && scratch="$(cat "$STATE/scratch")"
    case "$KIND" in
    moto) pattern=moto_server ;;
    localstack) pattern=localstack.runtime.main ;;
    esac
    # Do not kill an unrelated process that reused the pid after the emulator died.
    if ! alive "$pid"; then
        : # already gone
    elif [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$pattern"; then
        echo "emulator: pid $pid is no longer $pattern; only removing $STATE" >&2
    elif [[ "$KIND" == localstack ]]; then
        kill_localstack "$pid"
    else
        kill_pid "$pid"
    fi
    [[ -n "$log" ]] && rm -f "$log"
    [[ -n "$scratch" ]] && rm -rf "$scratch"
    rm -rf "$STATE"
}

case "$1" in
start) start "$@" ;;
stop) stop ;;
*) usage ;;
esac
