#!/usr/bin/env bash
# Benchmark of monplan on a large estate, against a local moto emulator behind a proxy
# (bench/proxy.py) that adds AWS-like latency and answers `Throttling` above AWS's
# default per-operation quotas. Everything runs on 127.0.0.1; nothing talks to real AWS.
#
#   scripts/bench.sh [Q ...]          (default: 100 1000)
#
# For each Q: a fresh emulator state with Q queues `bench-qNNNN`, each with a DLQ
# `bench-qNNNN-dlq` (created in moto directly, not through the proxy); a stack `bench`
# with one topic, the Q queues with the recipes oldest_message_age, visible_messages and
# dlq_visible_messages (3 alarms each, DLQ named explicitly) and one dashboard (the first
# BENCH_DASHBOARD_QUEUES queue rows plus `alarms: all`). Then, through the proxy:
#   apply  `monplan apply --auto-approve -q`: wall time, peak RSS, calls seen by the proxy
#   plan   `monplan plan -v --detailed-exitcode`, BENCH_PLAN_RUNS times: wall (median),
#          peak RSS, AWS calls by operation (monplan's `read:` line and the proxy's counts)
# and finally the quota check: 300 new alarms (Q=100 from scratch) with PutMetricAlarm
# throttled at 3/s, against the 100 s that quota allows.
#
# An apply of 3*Q alarms at PutMetricAlarm 3/s takes Q seconds by design. Up to
# BENCH_FULL_APPLY_MAX_Q queues (100) the apply is measured through the throttling proxy;
# above it only with BENCH_APPLY_FULL=1. Otherwise the estate is set up by an apply
# through the same proxy (latency included) with the proxy's PutMetricAlarm rate raised to
# BENCH_SETUP_RATE (and monplan's own pacing raised to match with --max-rate when the
# binary has that flag); that apply is reported as "setup", not as a measurement. The
# no-change plans always run at the default quotas.
#
# Environment (all optional):
#   BENCH_LATENCY_MS=20          latency the proxy adds to every request
#   BENCH_RATE_<Op>=N            override one default quota (N requests/s), e.g.
#                                BENCH_RATE_PutMetricAlarm=20; defaults: PutMetricAlarm 3,
#                                DescribeAlarms 9, DeleteAlarms 3, PutDashboard 10,
#                                GetDashboard 10, ListDashboards 10, DeleteDashboards 10
#   BENCH_EXTRA_RATES="Op=N ..." further proxy quotas (e.g. "GetResources=10")
#   BENCH_RATE_MODE=bucket       proxy quota model: bucket (burst N, then N/s) | window
#   BENCH_PLAN_RUNS=3            no-change plans per Q
#   BENCH_APPLY_FULL=0           1: measure the throttled apply for every Q
#   BENCH_FULL_APPLY_MAX_Q=100   largest Q whose apply is measured without BENCH_APPLY_FULL
#   BENCH_SETUP_RATE=200         PutMetricAlarm rate for setup applies
#   BENCH_QUOTA=1                0: skip the separate 300-alarms-at-3/s measurement
#   BENCH_DASHBOARD_QUEUES=10    queue rows on the dashboard
#   BENCH_MAX_ATTEMPTS=3         AWS_MAX_ATTEMPTS for monplan (the SDK's default is 3)
#   BENCH_TIMEOUT=3600           seconds any one monplan run may take (then it is killed)
#   BENCH_KEEP=1                 keep the work directory (logs, stacks, stats)
#   BENCH_DEBUG_BUILD=1          use the debug build instead of --release
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PY="$REPO/.venv-moto/bin/python"

QS=("$@")
[[ ${#QS[@]} -gt 0 ]] || QS=(100 1000)
for q in "${QS[@]}"; do
    [[ "$q" =~ ^[1-9][0-9]*$ && "$q" -le 9999 ]] || { echo "bench: Q must be 1..9999, got '$q'" >&2; exit 2; }
done

LATENCY_MS="${BENCH_LATENCY_MS:-20}"
RATE_MODE="${BENCH_RATE_MODE:-bucket}"
PLAN_RUNS="${BENCH_PLAN_RUNS:-3}"
APPLY_FULL="${BENCH_APPLY_FULL:-0}"
FULL_APPLY_MAX_Q="${BENCH_FULL_APPLY_MAX_Q:-100}"
SETUP_RATE="${BENCH_SETUP_RATE:-200}"
QUOTA="${BENCH_QUOTA:-1}"
DASHBOARD_QUEUES="${BENCH_DASHBOARD_QUEUES:-10}"
MAX_ATTEMPTS="${BENCH_MAX_ATTEMPTS:-3}"
RUN_TIMEOUT="${BENCH_TIMEOUT:-3600}"
QUOTA_Q=100 # 300 alarms

# AWS's documented default quotas (requests/s per account and region), overridable.
DEFAULT_OPS=(PutMetricAlarm DescribeAlarms DeleteAlarms PutDashboard GetDashboard ListDashboards DeleteDashboards)
DEFAULT_RATES=(3 9 3 10 10 10 10)
RATES=()
for i in "${!DEFAULT_OPS[@]}"; do
    op="${DEFAULT_OPS[$i]}"
    var="BENCH_RATE_$op"
    RATES+=("$op=${!var:-${DEFAULT_RATES[$i]}}")
done
# shellcheck disable=SC2206
RATES+=(${BENCH_EXTRA_RATES:-})
rate_of() { # the configured proxy rate of operation $1 (empty if none)
    local r found=""
    for r in "${RATES[@]}"; do
        if [[ "${r%%=*}" == "$1" ]]; then found="${r#*=}"; fi
    done
    echo "$found"
}
PUT_RATE="$(rate_of PutMetricAlarm)"

# ---- environment: only what we set, and only loopback ----------------------------------

while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^AWS_' || true)
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_MAX_ATTEMPTS="$MAX_ATTEMPTS" NO_COLOR=1
unset MONPLAN_REGION HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export NO_PROXY='127.0.0.1,localhost' no_proxy='127.0.0.1,localhost'

WORK="$(mktemp -d "${TMPDIR:-/tmp}/monplan-bench.XXXXXX")"
export MONPLAN_EMULATOR_DIR="$WORK/emulator"
PROXY_PID=""
CHILD_PID="" # the monplan run in progress (run in the background so that signals are not deferred)

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    if [[ -n "$CHILD_PID" ]] && kill -0 "$CHILD_PID" 2>/dev/null; then
        kill -TERM "$CHILD_PID" 2>/dev/null || true # timeout(1) passes it on to monplan
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    if [[ -n "$PROXY_PID" ]] && kill -0 "$PROXY_PID" 2>/dev/null; then
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
    fi
    bash "$REPO/scripts/emulator.sh" stop >/dev/null 2>&1 || true
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        echo "bench: work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- build -------------------------------------------------------------------------------

# In the background (and waited for) so that a signal stops the build at once.
if [[ "${BENCH_DEBUG_BUILD:-0}" == 1 ]]; then
    cargo build --quiet &
    BIN="$REPO/target/debug/monplan"
else
    cargo build --release --quiet &
    BIN="$REPO/target/release/monplan"
fi
CHILD_PID=$!
wait "$CHILD_PID"
CHILD_PID=""
MAX_RATE_FLAG=0
HELP="$("$BIN" --help 2>/dev/null || true)"
if [[ "$HELP" == *--max-rate* ]]; then MAX_RATE_FLAG=1; fi

# ---- emulator and proxy ------------------------------------------------------------------

MOTO_URL="$(bash scripts/emulator.sh start | sed -n 's/^export AWS_ENDPOINT_URL=//p')"
[[ "$MOTO_URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || { echo "bench: emulator did not start ($MOTO_URL)" >&2; exit 1; }

proxy_args=(--upstream "$MOTO_URL" --latency-ms "$LATENCY_MS" --rate-mode "$RATE_MODE"
    --stats-file "$WORK/proxy-stats.json")
for r in "${RATES[@]}"; do proxy_args+=(--rate "$r"); done
"$PY" "$REPO/bench/proxy.py" "${proxy_args[@]}" >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
PROXY_PID=$!
PROXY_URL=""
for ((i = 0; i < 100; i++)); do
    PROXY_URL="$(sed -n 's/^listening on //p' "$WORK/proxy.out" 2>/dev/null)"
    [[ -n "$PROXY_URL" ]] && break
    kill -0 "$PROXY_PID" 2>/dev/null || break
    sleep 0.1
done
[[ -n "$PROXY_URL" ]] || { echo "bench: proxy did not start:" >&2; cat "$WORK/proxy.err" >&2; exit 1; }

# One small Python helper for the emulator and the proxy's control endpoints.
helper() {
    timeout -k 5 900 "$PY" "$WORK/helper.py" "$@"
}
cat >"$WORK/helper.py" <<'PY'
import concurrent.futures, json, re, statistics, sys, time, urllib.request

import boto3, botocore.config

def post(url, data=None):
    body = json.dumps(data).encode() if data is not None else b""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, data=body, method="POST"), timeout=30) as r:
        return json.load(r) if "json" in (r.headers.get("Content-Type") or "") else r.read()

def get(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as r:
        return json.load(r)

def clients(endpoint, *names):
    assert endpoint.startswith("http://127.0.0.1:"), endpoint
    cfg = botocore.config.Config(retries={"total_max_attempts": 3, "mode": "standard"},
                                 connect_timeout=10, read_timeout=60, max_pool_connections=16)
    return [boto3.client(n, endpoint_url=endpoint, region_name="us-east-1", config=cfg,
                         aws_access_key_id="testing", aws_secret_access_key="testing")
            for n in names]

def cmd_reset_moto(moto):
    post(f"{moto}/moto-api/reset")

def cmd_create_queues(moto, q):
    """Q queues bench-qNNNN, each with a DLQ bench-qNNNN-dlq (redrive, maxReceiveCount 5)."""
    sqs, sts = clients(moto, "sqs", "sts")
    account = sts.get_caller_identity()["Account"]
    def one(i):
        name = f"bench-q{i:04d}"
        sqs.create_queue(QueueName=f"{name}-dlq")
        policy = json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{account}:{name}-dlq",
                             "maxReceiveCount": 5})
        sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(int(q))))
    print(f"{time.monotonic() - start:.1f}")

def cmd_estate(moto):
    """What the stack owns in moto: alarms, topics, dashboards named bench*."""
    cw, sns = clients(moto, "cloudwatch", "sns")
    alarms = sum(len(p["MetricAlarms"]) for p in cw.get_paginator("describe_alarms")
                 .paginate(AlarmNamePrefix="bench-", AlarmTypes=["MetricAlarm"]))
    topics = sum(1 for p in sns.get_paginator("list_topics").paginate()
                 for t in p["Topics"] if t["TopicArn"].split(":")[-1].startswith("bench-"))
    dashboards = sum(len(p["DashboardEntries"]) for p in cw.get_paginator("list_dashboards")
                     .paginate(DashboardNamePrefix="bench_"))
    print(json.dumps({"alarms": alarms, "topics": topics, "dashboards": dashboards}))

def cmd_proxy_reset(proxy):
    post(f"{proxy}/__proxy/reset")

def cmd_proxy_rates(proxy, *pairs):
    rates = {}
    for pair in pairs:
        op, _, n = pair.partition("=")
        rates[op] = float(n)
    post(f"{proxy}/__proxy/config", {"rates": rates})

def cmd_proxy_stats(proxy, out):
    with open(out, "w") as f:
        json.dump(get(f"{proxy}/__proxy/stats"), f)

def cmd_stack(q, dashboard_queues, out):
    q, dashboard_queues = int(q), int(dashboard_queues)
    lines = ["stack: bench", "region: us-east-1", "defaults:", "  notify: [alerts]",
             "topics:", "  alerts: {}", "queues:"]
    for i in range(q):
        lines += [f"  q{i:04d}:", f"    name: bench-q{i:04d}",
                  f"    dead_letter_queue: bench-q{i:04d}-dlq", "    alarms:",
                  "      oldest_message_age: { above: 30m }",
                  "      visible_messages: { above: 1000 }",
                  "      dlq_visible_messages: { above: 0 }"]
    lines += ["dashboards:", "  overview:", "    widgets:"]
    lines += [f"      - queue: q{i:04d}" for i in range(min(q, dashboard_queues))]
    lines += ["      - alarms: all"]
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")

READ_RE = re.compile(r"^read: (\d+) AWS calls in ([0-9.]+)s(?: \((.*)\))?", re.M)

def parse_read(stderr_path):
    text = open(stderr_path, errors="replace").read()
    m = READ_RE.search(text)
    if not m:
        return None
    ops = {}
    for part in (m.group(3) or "").split(", "):
        if part:
            name, _, n = part.rpartition(" ")
            ops[name] = int(n)
    return {"total": int(m.group(1)), "seconds": float(m.group(2)), "ops": ops}

def parse_time(path):
    rss = None
    for line in open(path, errors="replace"):
        if "Maximum resident set size" in line:
            rss = int(line.rsplit(":", 1)[1])
    return rss

def cmd_record(results, *fields):
    """Append one measured run: key=value pairs (files are parsed here)."""
    rec = {}
    for field in fields:
        k, _, v = field.partition("=")
        rec[k] = v
    out = {k: rec[k] for k in ("q", "phase", "mode", "rc")}
    out["rc"] = int(out["rc"])
    out["wall"] = int(rec["wall_ns"]) / 1e9
    out["rss_kb"] = parse_time(rec["time"])
    out["read"] = parse_read(rec["stderr"])
    out["proxy"] = json.load(open(rec["proxy"]))
    out["stderr_tail"] = open(rec["stderr"], errors="replace").read()[-1500:]
    if "estate" in rec:
        out["estate"] = json.loads(rec["estate"])
    with open(results, "a") as f:
        f.write(json.dumps(out) + "\n")

def mb(kb):
    return "?" if kb is None else f"{kb / 1024:.1f} MB"

def cmd_report_q(results, q):
    runs = [json.loads(l) for l in open(results)]
    runs = [r for r in runs if r["q"] == q]
    # The plans' proxy settings (a setup apply runs with PutMetricAlarm raised).
    shown = [r for r in runs if r["phase"] == "plan"] or runs
    cfg = shown[0]["proxy"]["config"] if shown else {}
    print(f"\n=== Q = {q}: {q} queues, {3 * int(q)} recipe alarms, 1 topic, 1 dashboard ===")
    print(f"proxy: latency {cfg.get('latency_ms', '?'):g} ms, {cfg.get('rate_mode')} quotas "
          + ", ".join(f"{k}={v:g}" for k, v in sorted(cfg.get("rates", {}).items())))
    for r in runs:
        if r["phase"] != "apply":
            continue
        t = r["proxy"]["totals"]
        label = {"measured": "apply (measured, default quotas)",
                 "setup": "apply (SETUP: PutMetricAlarm raised, not a measurement)"}[r["mode"]]
        print(f"{label}: wall {r['wall']:.2f} s, peak RSS {mb(r['rss_kb'])}, exit {r['rc']}; "
              f"proxy: {t['forwarded']} forwarded, {t['throttled']} throttled, "
              f"{t['errors']} answered >= 400 by moto (e.g. NotFound reads)")
        throttled = {op: v["throttled"] for op, v in r["proxy"]["operations"].items() if v["throttled"]}
        if throttled:
            print("  throttled by operation: " + ", ".join(f"{op} {n}" for op, n in sorted(throttled.items())))
        if r["rc"] != 0:
            print("  apply failed; stderr tail:\n    " + r["stderr_tail"].strip().replace("\n", "\n    "))
        if "estate" in r:
            e = r["estate"]
            print(f"  estate in moto afterwards: {e['alarms']} alarms, {e['topics']} topic(s), {e['dashboards']} dashboard(s)")
    plans = [r for r in runs if r["phase"] == "plan"]
    if not plans:
        return
    walls = [p["wall"] for p in plans]
    rss = [p["rss_kb"] for p in plans if p["rss_kb"] is not None]
    print(f"no-change plan x{len(plans)}: wall median {statistics.median(walls):.2f} s "
          f"(runs: {' '.join(f'{w:.2f}' for w in walls)}), peak RSS {mb(max(rss) if rss else None)}, "
          f"exit codes {' '.join(str(p['rc']) for p in plans)} (0 = no changes)")
    for p in plans:
        if p["rc"] != 0:
            print("  a plan was not a clean no-change plan; stderr tail:\n    "
                  + p["stderr_tail"].strip().replace("\n", "\n    "))
            break
    first = plans[0]
    read = first["read"] or {"ops": {}, "total": "?", "seconds": float("nan")}
    proxy_ops = first["proxy"]["operations"]
    names = sorted(set(read["ops"]) | set(proxy_ops))
    print(f"AWS calls of a no-change plan (run 1): monplan counted {read['total']} "
          f"(read phase {read['seconds']:.2f} s); the proxy saw (emulator s: time moto took, "
          "summed over concurrent calls, latency excluded):")
    print(f"  {'operation':<28}{'monplan':>8}{'forwarded':>10}{'throttled':>10}{'emulator s':>11}")
    for n in names:
        po = proxy_ops.get(n, {})
        print(f"  {n:<28}{read['ops'].get(n, 0):>8}{po.get('forwarded', 0):>10}"
              f"{po.get('throttled', 0):>10}{po.get('upstream_s', 0.0):>11.2f}")
    t = first["proxy"]["totals"]
    print(f"  {'total':<28}{read['total']:>8}{t['forwarded']:>10}{t['throttled']:>10}"
          f"{t.get('upstream_s', 0.0):>11.2f}")
    if len(plans) > 1:
        print("  throttled per run: " + " ".join(str(p["proxy"]["totals"]["throttled"]) for p in plans)
              + "; calls per run (monplan): " + " ".join(str((p["read"] or {}).get("total", "?")) for p in plans))

def cmd_summary(results, latency):
    runs = [json.loads(l) for l in open(results)]
    qs = []
    for r in runs:
        if r["q"] not in qs and r["q"].isdigit() and r["phase"] in ("apply", "plan"):
            qs.append(r["q"])
    print(f"\n=== Summary (latency {latency} ms; plan figures: median of the no-change plans) ===")
    head = f"{'Q':>5} {'alarms':>6} {'plan calls':>10} {'plan wall':>10} {'plan RSS':>9} {'plan thr':>8}   {'apply wall':>10} {'apply RSS':>9} {'apply thr':>9}  apply"
    print(head)
    print("-" * len(head))
    for q in qs:
        plans = [r for r in runs if r["q"] == q and r["phase"] == "plan"]
        apply = next((r for r in runs if r["q"] == q and r["phase"] == "apply"), None)
        calls = plans[0]["read"]["total"] if plans and plans[0]["read"] else "?"
        wall = f"{statistics.median(p['wall'] for p in plans):.2f} s" if plans else "-"
        rss = max((p["rss_kb"] or 0) for p in plans) if plans else None
        thr = max(p["proxy"]["totals"]["throttled"] for p in plans) if plans else "-"
        a_wall = f"{apply['wall']:.2f} s" if apply else "-"
        a_rss = mb(apply["rss_kb"]) if apply else "-"
        a_thr = apply["proxy"]["totals"]["throttled"] if apply else "-"
        mode = (apply["mode"] + ("" if apply["rc"] == 0 else f" (exit {apply['rc']})")) if apply else "-"
        print(f"{q:>5} {3 * int(q):>6} {calls:>10} {wall:>10} {mb(rss):>9} {thr:>8}   {a_wall:>10} {a_rss:>9} {a_thr:>9}  {mode}")
    big = [q for q in qs if int(q) == 1000]
    if big:
        plans = [r for r in runs if r["q"] == "1000" and r["phase"] == "plan"]
        if plans:
            calls = plans[0]["read"]["total"] if plans[0]["read"] else None
            wall = statistics.median(p["wall"] for p in plans)
            rss = max((p["rss_kb"] or 0) for p in plans) / 1024
            ok = lambda b: "ok" if b else "MISSED"
            print("\nTargets, Q = 1000 (3,000 alarms), no-change plan:")
            print(f"  AWS calls <= 70   : {calls} {ok(calls is not None and calls <= 70)}")
            print(f"  wall < 3 s        : {wall:.2f} s {ok(wall < 3)}")
            print(f"  peak RSS < 150 MB : {rss:.1f} MB {ok(rss < 150)}")
    quota = next((r for r in runs if r["phase"] == "quota"), None)
    if quota:
        allowed = 300 / float(quota["put_rate"])
        dev = (quota["wall"] - allowed) / allowed * 100
        verdict = "ok" if abs(dev) <= 10 and quota["rc"] == 0 else "MISSED"
        print(f"\nQuota: 300 new alarms (Q=100 from scratch) with PutMetricAlarm at {float(quota['put_rate']):g}/s: "
              f"apply wall {quota['wall']:.1f} s vs {allowed:.0f} s the quota allows ({dev:+.1f}%; target within 10%: {verdict}); "
              f"exit {quota['rc']}, {quota['throttled']} throttled response(s){quota.get('note', '')}")

def cmd_quota(results, src_q, put_rate, note=""):
    """Record the 300-alarm apply of a Q=100 run as the quota measurement."""
    runs = [json.loads(l) for l in open(results)]
    r = next(r for r in runs if r["q"] == src_q and r["phase"] == "apply")
    out = {"phase": "quota", "q": src_q, "wall": r["wall"], "rc": r["rc"], "put_rate": put_rate,
           "throttled": r["proxy"]["totals"]["throttled"], "note": note}
    with open(results, "a") as f:
        f.write(json.dumps(out) + "\n")

if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1].replace("-", "_")](*sys.argv[2:])
PY

# measure NAME CMD...: runs CMD (stdout/stderr to $WORK/NAME.{out,err}), bounded by
# RUN_TIMEOUT; sets M_RC, M_WALL_NS; peak RSS lands in $WORK/NAME.time.
measure() {
    local name="$1" start end
    shift
    start=$(date +%s%N)
    set +e
    if [[ -x /usr/bin/time && "${BENCH_NO_GNU_TIME:-0}" != 1 ]]; then
        timeout -k 10 "$RUN_TIMEOUT" /usr/bin/time -v -o "$WORK/$name.time" "$@" \
            >"$WORK/$name.out" 2>"$WORK/$name.err" &
    else
        # No GNU time: wait4() gives the child's peak RSS (kB on Linux), in time -v's words.
        timeout -k 10 "$RUN_TIMEOUT" "$PY" -c '
import os, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(p.pid, 0)
open(sys.argv[1], "w").write(f"Maximum resident set size (kbytes): {usage.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)' "$WORK/$name.time" "$@" \
            >"$WORK/$name.out" 2>"$WORK/$name.err" &
    fi
    CHILD_PID=$!
    wait "$CHILD_PID"
    M_RC=$?
    CHILD_PID=""
    set -e
    end=$(date +%s%N)
    M_WALL_NS=$((end - start))
    touch "$WORK/$name.time"
    if ((M_RC == 124 || M_RC == 137)); then
        echo "bench: $name timed out after ${RUN_TIMEOUT}s" >>"$WORK/$name.err"
    fi
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

# apply_stack Q STACK NAME MODE: one apply through the proxy, recorded.
apply_stack() {
    local q="$1" stack="$2" name="$3" mode="$4" extra=() estate
    if [[ "$mode" == setup ]]; then
        helper proxy-rates "$PROXY_URL" "PutMetricAlarm=$SETUP_RATE"
        if ((MAX_RATE_FLAG)); then extra=(--max-rate "PutMetricAlarm=$SETUP_RATE"); fi
    fi
    helper proxy-reset "$PROXY_URL"
    echo "bench: Q=$q: $name ($mode) ..." >&2
    measure "$name" "$BIN" --endpoint-url "$PROXY_URL" "${extra[@]}" apply --auto-approve -q "$stack"
    local rc=$M_RC wall=$M_WALL_NS
    helper proxy-stats "$PROXY_URL" "$WORK/$name.proxy.json"
    if [[ "$mode" == setup ]]; then
        # A setup apply that failed part-way converges on a second run (not measured).
        if ((rc != 0)); then
            echo "bench: Q=$q: setup apply failed (exit $rc), applying once more" >&2
            timeout -k 10 "$RUN_TIMEOUT" "$BIN" --endpoint-url "$PROXY_URL" "${extra[@]}" \
                apply --auto-approve -q "$stack" >"$WORK/$name.retry.out" 2>"$WORK/$name.retry.err" || true
        fi
        helper proxy-rates "$PROXY_URL" "PutMetricAlarm=$PUT_RATE"
    fi
    estate="$(helper estate "$MOTO_URL")"
    helper record "$RESULTS" "q=$q" "phase=apply" "mode=$mode" "rc=$rc" "wall_ns=$wall" \
        "time=$WORK/$name.time" "stderr=$WORK/$name.err" "proxy=$WORK/$name.proxy.json" "estate=$estate"
}

# fresh_estate Q: empty emulator, then Q queues with DLQs, created in moto directly.
fresh_estate() {
    local q="$1" secs
    helper reset-moto "$MOTO_URL"
    secs="$(helper create-queues "$MOTO_URL" "$q")"
    echo "bench: Q=$q: $((2 * q)) queues created in moto in ${secs}s" >&2
}

echo "bench: monplan $("$BIN" --version 2>/dev/null | awk '{print $2}') ($BIN), moto $MOTO_URL," \
    "proxy $PROXY_URL (latency ${LATENCY_MS} ms, $RATE_MODE: ${RATES[*]}), --max-rate supported: $MAX_RATE_FLAG" >&2

QUOTA_DONE=0
for q in "${QS[@]}"; do
    dir="$WORK/q$q"
    mkdir -p "$dir"
    fresh_estate "$q"
    helper stack "$q" "$DASHBOARD_QUEUES" "$dir/bench.yaml"
    if [[ "$APPLY_FULL" == 1 ]] || ((q <= FULL_APPLY_MAX_Q)); then
        apply_stack "$q" "$dir/bench.yaml" "q$q-apply" measured
        if ((q == QUOTA_Q)); then
            helper quota "$RESULTS" "$q" "$PUT_RATE" " (the Q=100 apply above)"
            QUOTA_DONE=1
        fi
    else
        apply_stack "$q" "$dir/bench.yaml" "q$q-apply" setup
    fi
    for ((run = 1; run <= PLAN_RUNS; run++)); do
        helper proxy-reset "$PROXY_URL"
        echo "bench: Q=$q: no-change plan $run/$PLAN_RUNS ..." >&2
        measure "q$q-plan$run" "$BIN" --endpoint-url "$PROXY_URL" plan -v --detailed-exitcode "$dir/bench.yaml"
        helper proxy-stats "$PROXY_URL" "$WORK/q$q-plan$run.proxy.json"
        helper record "$RESULTS" "q=$q" "phase=plan" "mode=measured" "rc=$M_RC" "wall_ns=$M_WALL_NS" \
            "time=$WORK/q$q-plan$run.time" "stderr=$WORK/q$q-plan$run.err" "proxy=$WORK/q$q-plan$run.proxy.json"
    done
    helper report-q "$RESULTS" "$q"
done

if [[ "$QUOTA" == 1 && "$QUOTA_DONE" == 0 ]]; then
    dir="$WORK/quota"
    mkdir -p "$dir"
    fresh_estate "$QUOTA_Q"
    helper stack "$QUOTA_Q" "$DASHBOARD_QUEUES" "$dir/bench.yaml"
    apply_stack "quota" "$dir/bench.yaml" "quota-apply" measured
    helper quota "$RESULTS" "quota" "$PUT_RATE"
fi

helper summary "$RESULTS" "$LATENCY_MS"
