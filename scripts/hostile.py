#!/usr/bin/env python3
"""Hostile YAML inputs of issue 11 (item 4), generated and measured.

    hostile.py generate DIR [--alarms N[,N...]] [--only NAME[,NAME...]]
        Writes every input (or those named) into DIR (names in `inputs`; one alarms-N.yaml per count,
        default 100000). tests/hostile.rs uses this, so that the test and the
        measurement run the same bytes.
    hostile.py measure BIN DIR [--alarms N[,N...]] [--endpoint URL]
        Generates into DIR, runs `BIN validate` on each input (and `BIN plan` on the
        valid ones when --endpoint names an emulator), and prints a table: input, size,
        exit code, first error line, wall time, peak RSS (of that process alone: GNU
        time's %M if installed, else os.wait4).

Only the standard library; nothing here talks to anything but the given endpoint.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time

# Written as ordinary alarms, so that the file is a stack a generator could emit.
ALARM = (
    "  a{i}:\n"
    "    metric: {{ namespace: Many, name: M{i}, dimensions: {{ QueueName: q{i} }}, stat: Maximum }}\n"
    "    above: {i}\n"
    "    expect_metric: later\n"
    "    notify: [oncall]\n"
)

DEPTH = 100_000
LONG_KEY = 10_000
BIG_FILE = 100 * 1000 * 1000


def metric_alarm(value):
    return (
        "stack: numbers\n"
        "alarms:\n"
        "  a:\n"
        "    metric: { namespace: N, name: M, stat: Sum }\n"
        f"    above: {value}\n"
    )


def billion_laughs():
    # Nine levels of nine aliases each: 9^9 (387 million) strings once expanded.
    lines = ["stack: bomb", "tags:", '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def inputs(alarms):
    """(name, bytes) of every hostile input, small ones first."""
    key = "k" * LONG_KEY
    yield "alias-bomb.yaml", billion_laughs().encode()
    yield "deep-flow.yaml", ("stack: deep\ntags: " + "[" * DEPTH + "]" * DEPTH + "\n").encode()
    # Compact nested block sequences: 100,000 levels in 200 KB (indenting each level on
    # its own line would take 10 GB).
    yield "deep-block.yaml", ("stack: deep\ntags:\n  a:\n    " + "- " * DEPTH + "x\n").encode()
    yield "nul.yaml", b"stack: nul\x00x\n"
    yield "invalid-utf8.yaml", b"stack: caf\xe9\n"
    yield "1e999.yaml", metric_alarm("1e999").encode()
    yield "nan.yaml", metric_alarm(".nan").encode()
    yield "minus-zero.yaml", metric_alarm("-0").encode()
    yield "minus-zero-count.yaml", (metric_alarm("1") + "    evaluation_periods: -0\n").encode()
    yield "long-plain-key.yaml", f"stack: keys\n{key}: 1\n".encode()
    yield "long-explicit-key.yaml", f"stack: keys\n? {key}\n: 1\n".encode()
    yield "long-alarm-key.yaml", (
        f"stack: keys\nalarms:\n  ? {key}\n  : {{ metric: {{ namespace: N, name: M, stat: Sum }}, above: 1 }}\n"
    ).encode()
    for count in alarms:
        yield f"alarms-{count}.yaml", many_alarms(count)
    yield "100mb.yaml", None  # written by write_big: streamed, not held in memory


def many_alarms(n):
    parts = ["stack: many\ntopics:\n  oncall: {}\nalarms:\n"]
    parts.extend(ALARM.format(i=i) for i in range(n))
    return "".join(parts).encode()


def write_big(path):
    # A valid-looking stack of alarms, padded past 100 MB: refused by size alone.
    with open(path, "w") as out:
        out.write("stack: big\ntopics:\n  oncall: {}\nalarms:\n")
        i = 0
        while out.tell() < BIG_FILE:
            out.write("".join(ALARM.format(i=j) for j in range(i, i + 10_000)))
            i += 10_000


def generate(directory, alarms, only=None):
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, data in inputs(alarms):
        if only is not None and name not in only:
            continue
        path = os.path.join(directory, name)
        if data is None:
            write_big(path)
        else:
            with open(path, "wb") as out:
                out.write(data)
        paths.append(path)
    return paths


GNU_TIME = "/usr/bin/time"


def run(argv, env, timeout):
    """Exit code (negative: signal), stdout, stderr, wall seconds, peak RSS in KiB.

    The peak RSS comes from GNU time (`%M`) when it is installed: a child forked from
    this Python process starts out with its memory counted, so `ru_maxrss` of our own
    child would report at least Python's size. Without GNU time, os.wait4's figure is
    used, which has that floor.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as usage:
        timed = os.access(GNU_TIME, os.X_OK)
        if timed:
            argv = [GNU_TIME, "-f", "%M", "-o", usage.name] + argv
        started = time.monotonic()
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        timer = threading.Timer(timeout, child.kill)
        timer.start()
        try:
            _, status, rusage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - started
        child.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here
        peak = rusage.ru_maxrss
        if timed:
            # GNU time exits 128 + N for a child killed by signal N, and says so.
            lines = usage.read().split("\n")
            signal = next((l for l in lines if "terminated by signal" in l), None)
            if signal:
                code = -int(signal.rsplit(" ", 1)[1])
            peak = int(next(l for l in reversed(lines) if l.strip().isdigit()))
        out.seek(0)
        err.seek(0)
        return (code, out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"), wall, peak)


def first_error(text):
    """`error[CODE]: message @ file:line:column` of the first error, or None."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("error"):
            where = next((l.split("┌─", 1)[1].strip() for l in lines[index:index + 3] if "┌─" in l), "")
            said = f"{line} @ {os.path.basename(where)}" if where else line
            return said if len(said) <= 100 else said[:99] + "…"
    return None


def size(n):
    for unit in ("B", "KB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:.0f} GB"


def measure(binary, directory, alarms, endpoint):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": directory,
        "NO_COLOR": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_MAX_ATTEMPTS": "1",
    }
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    paths = generate(os.path.join(directory, "inputs"), alarms)
    print(f"{'input':<24} {'command':<8} {'size':>8} {'exit':>4} {'wall':>8} {'peak RSS':>9}  first error")
    for path in paths:
        name = os.path.basename(path)
        code, out, err, wall, rss = run([binary, "validate", path], env, 600)
        rows = [("validate", code, out, err, wall, rss)]
        if code == 0 and endpoint:
            code, out, err, wall, rss = run([binary, "plan", "--timeout", "60", path], env, 1200)
            rows.append(("plan", code, out, err, wall, rss))
        for command, code, out, err, wall, rss in rows:
            said = first_error(err + "\n" + out)
            if said is None:
                wanted = "Plan:" if command == "plan" else ""
                said = next((l for l in (out + err).splitlines() if l.strip() and l.startswith(wanted)), "-")
            if "panicked" in err or code < 0:
                said += "  PANIC OR SIGNAL"
            print(f"{name:<24} {command:<8} {size(os.path.getsize(path)):>8} {code:>4} "
                  f"{wall:>7.2f}s {rss / 1024:>7.1f}MB  {said}", flush=True)


def main(argv):
    alarms = [100_000]
    if "--alarms" in argv:
        at = argv.index("--alarms")
        alarms = [int(n) for n in argv[at + 1].split(",")]
        del argv[at:at + 2]
    endpoint = None
    if "--endpoint" in argv:
        at = argv.index("--endpoint")
        endpoint = argv[at + 1]
        del argv[at:at + 2]
    only = None
    if "--only" in argv:
        at = argv.index("--only")
        only = set(argv[at + 1].split(","))
        del argv[at:at + 2]
    if len(argv) == 2 and argv[0] == "generate":
        for path in generate(argv[1], alarms, only):
            print(path)
        return 0
    if len(argv) == 3 and argv[0] == "measure":
        measure(argv[1], argv[2], alarms, endpoint)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
