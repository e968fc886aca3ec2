#!/usr/bin/env python3
"""A loopback reverse proxy that models AWS latency and per-operation rate quotas.

    proxy.py --upstream http://127.0.0.1:PORT [--listen-port N] [--latency-ms MS]
             [--rate OP=N ...] [--rate-mode bucket|window] [--fault OP=KIND ...]
             [--kill-after-writes K --kill-pid PID] [--stats-file PATH]

Sits between an AWS SDK client (``AWS_ENDPOINT_URL=http://127.0.0.1:<listen port>``) and a
local emulator (moto). Every request waits ``--latency-ms`` first, then is either
forwarded unchanged or, when its operation is over its ``--rate``, answered the way AWS
answers a throttled call of that protocol:

  awsQuery (form body ``Action=Op``: CloudWatch 1.99, SNS, STS, Auto Scaling)
      400, text/xml, <ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>...
  awsJson 1.0/1.1 (``X-Amz-Target: Service.Op``: SQS, Resource Groups Tagging, ...)
      400, application/x-amz-json-1.x, {"__type":"ThrottlingException",...}
      (plus ``x-amzn-query-error: Throttling;Sender`` for SQS, which is query-compatible)
  rpc-v2-cbor (``smithy-protocol: rpc-v2-cbor``, path ``/service/S/operation/Op``)
      400, application/cbor, the same two fields CBOR-encoded

Rates: ``--rate PutMetricAlarm=3`` allows 3 requests a second for that operation. The
default ``bucket`` mode is a token bucket holding at most N tokens, refilled at N a second
(a burst of N, then N/s: the usual model of AWS API throttling); ``window`` admits at
most N in any sliding 1-second window. Only admitted requests consume the allowance. Operations
without a rate are never throttled.

Faults: ``--fault DescribeAlarms=500`` makes every request of that operation fail, in one
of these ways (checked before the rate; a faulted request never reaches the emulator):

  500        500 with the protocol's error shape, code ``InternalFailure`` (awsQuery:
             ``<Type>Receiver</Type><Code>InternalFailure</Code>``)
  throttle   the throttled answer above, every time (past any retry budget)
  reset      the connection is closed without an answer (SO_LINGER 0: a TCP RST)
  hang       the request is read and never answered; the connection is held until the
             client closes it
  malformed  forwarded, then answered 200 with the emulator's body cut to half its
             length (a truncated XML / JSON / CBOR document, Content-Length to match)

Kill switch: ``--kill-after-writes K --kill-pid PID`` (or ``/__proxy/config``
``{"kill_after_writes": K, "kill_pid": PID}``) sends SIGKILL to PID right after the
emulator answered the K-th write, *before* that answer is passed on: AWS did it, the
client never learned it (the most adversarial point at which to interrupt an apply).
A write is any operation whose name does not start with Describe, List, Get, Test,
Filter, BatchGet, Lookup or Search; writes are counted from the moment the switch is
armed, in the order the emulator answers them (with concurrent calls, the writes already
forwarded when the K-th answer arrives still take effect at the emulator, as they would
at AWS, and are counted, their answers withheld too). Once it has fired, every later
write is refused: the connection is closed unanswered and the write never reaches the
emulator; reads are still forwarded. Armed without a pid
(``kill_after_writes`` first, ``kill_pid`` once the client is spawned), a write waits up
to 30 s for the pid. ``{"kill_after_writes": null}`` disarms it. Writes are counted
whether or not the switch is armed: ``/__proxy/stats`` shows them under ``"kill"``.

Requests are forwarded byte for byte: the same method, path and query, every header in
its order and spelling (the Host header included, as SigV4 signs it) except the
hop-by-hop ones (Connection, Keep-Alive, Proxy-*, TE, Trailer, Upgrade, Expect), and the
body as received (a chunked body is passed on still chunked). Responses are re-framed
with Content-Length (a chunked upstream response is de-chunked); their other headers and
body bytes are unchanged. Client connections are kept alive (HTTP/1.1); each one has its
own upstream connection, reopened once if the emulator closed it while idle. Sockets use
TCP_NODELAY (Nagle plus delayed ACKs would otherwise add ~40 ms to each call).

Control endpoints (on the same port, never forwarded):
  GET  /__proxy/stats    -> {"operations": {Op: {"forwarded", "throttled", "faulted",
                            "errors", "upstream_s"}}, "totals": {...}, "config": {...},
                            "kill": {"after_writes", "pid", "writes", "fired",
                            "fired_on", "refused"}} ("writes": writes the emulator
                            answered since the switch was armed, or since start/reset
                            when it is not; "fired_on": the K-th write's operation;
                            "refused": writes never forwarded after it fired)
                            (also rewrites --stats-file)
  POST /__proxy/reset    -> zeroes the counts, returns the counts before the reset
  POST /__proxy/config   -> JSON {"rates": {Op: N|null}, "faults": {Op: KIND|null},
                            "latency_ms": MS, "kill_after_writes": K|null,
                            "kill_pid": PID}; changes the given settings (null removes
                            a rate or a fault, or disarms the kill switch; arming it
                            zeroes its write count), returns the new config
"errors" counts forwarded requests the emulator answered with a status >= 400 (502s the
proxy produced itself count there too); "upstream_s" is the time spent waiting for the
emulator (summed over requests, so concurrent requests add up), latency excluded.

On start it prints ``listening on http://127.0.0.1:PORT`` (one line, flushed): with
``--listen-port 0`` (the default) the port is chosen by the OS. The stats file is written
on SIGTERM/SIGINT and at exit. Only loopback upstreams are accepted. Python 3.11 stdlib.
"""

import argparse
import atexit
import http.client
import http.server
import json
import math
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from collections import deque

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "upgrade",
    "expect",  # answered here (100-continue) before the body is read
}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_BODY = 64 * 1024 * 1024  # a larger request is refused (AWS's own limits are far lower)
MAX_CHUNK_LINE = 4096
FAULT_KINDS = ("500", "throttle", "reset", "hang", "malformed")
# Operations that only read; every other operation counts as a write for the kill switch.
READ_PREFIXES = ("Describe", "List", "Get", "Test", "Filter", "BatchGet", "Lookup", "Search")
# How long an armed switch without a pid holds a write before letting it through.
PID_WAIT_S = 30.0


def is_write(op):
    return bool(op) and op != "?" and not op.startswith(READ_PREFIXES)


class KillSwitch:
    """Counts answered writes; SIGKILLs a pid at the K-th, then drops every later write."""

    def __init__(self, after=None, pid=None):
        self.cond = threading.Condition()
        self.after = after
        self.pid = pid
        self.writes = 0
        self.fired = False
        self.fired_on = None
        self.refused = 0

    @staticmethod
    def check(change):
        """Raises ValueError for a bad ``kill_after_writes`` or ``kill_pid``."""

        def positive(key, least):
            value = change.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < least
            ):
                raise ValueError(f"bad {key}: {value!r}")

        positive("kill_after_writes", 1)
        positive("kill_pid", 2)  # never 0 or 1: kill(0) is the whole process group

    def configure(self, change):
        """Applies a checked change (see ``check``)."""
        with self.cond:
            if "kill_after_writes" in change:
                self.after = change["kill_after_writes"]
                self.writes = 0
                self.fired = False
                self.fired_on = None
                self.refused = 0
                if self.after is None:
                    self.pid = None
            if "kill_pid" in change:
                self.pid = change["kill_pid"]
            self.cond.notify_all()

    def before_write(self):
        """False if the write must be refused (the switch fired)."""
        with self.cond:
            if self.after is not None and self.pid is None and not self.fired:
                self.cond.wait_for(lambda: self.pid is not None or self.after is None, PID_WAIT_S)
            if self.fired:
                self.refused += 1
                return False
            return True

    def after_write(self, op):
        """Counts a write the emulator answered; True if its answer must be withheld (the
        kill fired now, or before: a write that was in flight then)."""
        with self.cond:
            self.writes += 1
            if self.fired:
                return True
            if self.after is None or self.writes < self.after or self.pid is None:
                return False
            self.fired = True
            self.fired_on = op
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError as e:
                print(f"proxy: cannot kill {self.pid}: {e}", file=sys.stderr, flush=True)
            return True

    def describe(self):
        with self.cond:
            return {
                "after_writes": self.after,
                "pid": self.pid,
                "writes": self.writes,
                "fired": self.fired,
                "fired_on": self.fired_on,
                "refused": self.refused,
            }

    def reset_count(self):
        with self.cond:
            if self.after is None:
                self.writes = 0


class RateLimiter:
    """Per-operation admission: token bucket (burst N, refill N/s) or sliding 1 s window."""

    def __init__(self, rates, mode):
        self.mode = mode
        self.lock = threading.Lock()
        self.rates = {}
        self.buckets = {}  # op -> [tokens, last refill time]
        self.windows = {}  # op -> deque of admission times
        self.set_rates(rates)

    def set_rates(self, rates):
        with self.lock:
            for op, rate in rates.items():
                if rate is None:
                    self.rates.pop(op, None)
                    self.buckets.pop(op, None)
                    self.windows.pop(op, None)
                    continue
                self.rates[op] = float(rate)
                self.buckets[op] = [max(float(rate), 1.0), time.monotonic()]
                self.windows[op] = deque()

    def snapshot(self):
        with self.lock:
            return dict(self.rates)

    def admit(self, op):
        """True if a request of `op` may go through now (and records it)."""
        with self.lock:
            rate = self.rates.get(op)
            if rate is None:
                return True
            now = time.monotonic()
            if self.mode == "bucket":
                bucket = self.buckets[op]
                # Holds at least one token, so a rate below 1/s still admits now and then.
                bucket[0] = min(max(rate, 1.0), bucket[0] + (now - bucket[1]) * rate)
                bucket[1] = now
                if bucket[0] >= 1.0:
                    bucket[0] -= 1.0
                    return True
                return False
            # N a second; a rate below 1/s admits one per 1/rate seconds.
            span = 1.0 if rate >= 1.0 else 1.0 / rate
            window = self.windows[op]
            while window and now - window[0] >= span:
                window.popleft()
            if len(window) < max(1, math.floor(rate)):
                window.append(now)
                return True
            return False


class Stats:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.ops = {}
        self.started = time.time()

    def count(self, op, field, upstream_s=0.0):
        with self.lock:
            entry = self.ops.setdefault(
                op,
                {"forwarded": 0, "throttled": 0, "faulted": 0, "errors": 0, "upstream_s": 0.0},
            )
            entry[field] += 1
            entry["upstream_s"] = round(entry["upstream_s"] + upstream_s, 6)

    def snapshot(self, reset=False):
        with self.lock:
            ops = {op: dict(v) for op, v in sorted(self.ops.items())}
            if reset:
                self.ops = {}
        totals = {"forwarded": 0, "throttled": 0, "faulted": 0, "errors": 0, "upstream_s": 0.0}
        for entry in ops.values():
            for key in totals:
                totals[key] += entry[key]
        totals["upstream_s"] = round(totals["upstream_s"], 6)
        return {"operations": ops, "totals": totals}

    def write(self, extra=None):
        if not self.path:
            return
        data = self.snapshot()
        if extra:
            data.update(extra)
        tmp = f"{self.path}.{threading.get_ident()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
        # renamed into place: a reader never sees half a file
        os.replace(tmp, self.path)


def cbor_text(s):
    data = s.encode("utf-8")
    n = len(data)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 256:
        head = bytes([0x78, n])
    else:
        head = bytes([0x79]) + n.to_bytes(2, "big")
    return head + data


def cbor_map(pairs):
    assert len(pairs) < 24
    out = bytes([0xA0 | len(pairs)])
    for key, value in pairs:
        out += cbor_text(key) + cbor_text(value)
    return out


def request_id():
    return str(uuid.uuid4())


def identify(headers, path, body):
    """(protocol, operation) of an AWS request; protocol in query, json, cbor, other."""
    target = headers.get("X-Amz-Target")
    if target:
        return "json", target.rsplit(".", 1)[-1]
    if (headers.get("smithy-protocol") or "").lower() == "rpc-v2-cbor" or "/operation/" in path:
        parts = urllib.parse.urlsplit(path).path.rstrip("/").split("/")
        if "operation" in parts:
            i = parts.index("operation")
            if i + 1 < len(parts):
                return "cbor", parts[i + 1]
    query = urllib.parse.urlsplit(path).query
    content_type = (headers.get("Content-Type") or "").lower()
    candidates = []
    if "x-www-form-urlencoded" in content_type and body:
        candidates.append(body.decode("utf-8", "replace"))
    if query:
        candidates.append(query)
    for text in candidates:
        action = urllib.parse.parse_qs(text).get("Action")
        if action:
            return "query", action[0]
    return "other", "Other"


def throttle_response(protocol, headers):
    """(status, [(header, value)], body) of AWS's answer to a throttled call."""
    return error_response(protocol, headers, 400, "Sender", "Throttling", "Rate exceeded")


def internal_error_response(protocol, headers):
    """(status, [(header, value)], body) of AWS's answer when the service fails."""
    return error_response(
        protocol, headers, 500, "Receiver", "InternalFailure", "Internal service error"
    )


def error_response(protocol, headers, status, fault, code, message):
    """An error answer in `protocol`'s shape. awsJson and CBOR name the code with an
    ``Exception`` suffix for throttling (``ThrottlingException``), as AWS does."""
    rid = request_id()
    typed = "ThrottlingException" if code == "Throttling" else code
    if protocol == "json":
        content_type = headers.get("Content-Type") or "application/x-amz-json-1.1"
        if not content_type.startswith("application/x-amz-json-"):
            content_type = "application/x-amz-json-1.1"
        body = json.dumps({"__type": typed, "message": message}, separators=(",", ":")).encode()
        out = [("Content-Type", content_type), ("x-amzn-RequestId", rid)]
        if (headers.get("X-Amz-Target") or "").startswith("AmazonSQS."):
            out.append(("x-amzn-query-error", f"{code};{fault}"))
        return status, out, body
    if protocol == "cbor":
        body = cbor_map([("__type", typed), ("message", message)])
        return status, [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("x-amzn-RequestId", rid),
        ], body
    body = (
        f"<ErrorResponse><Error><Type>{fault}</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
    ).encode()
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body


class BadRequest(Exception):
    pass


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "monplan-bench-proxy"
    timeout = 60  # an idle client connection is closed after this many seconds

    # set on the class by main()
    config = None

    def setup(self):
        super().setup()
        # Headers and body are separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every response on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.upstream = None

    def finish(self):
        try:
            super().finish()
        finally:
            self.close_upstream()

    def log_message(self, fmt, *args):
        if self.config.verbose:
            sys.stderr.write("proxy: %s - %s\n" % (self.address_string(), fmt % args))

    # ---- reading the request ----------------------------------------------------------

    def read_body(self):
        """(raw bytes to forward, decoded body)."""
        encoding = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in encoding:
            raw, decoded = bytearray(), bytearray()
            while True:
                line = self.rfile.readline(MAX_CHUNK_LINE)
                if not line.endswith(b"\n"):
                    raise BadRequest("bad chunk size line")
                raw += line
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers, then the empty line
                        trailer = self.rfile.readline(MAX_CHUNK_LINE)
                        raw += trailer
                        if trailer in (b"\r\n", b"\n", b""):
                            return bytes(raw), bytes(decoded)
                if len(decoded) + size > MAX_BODY:
                    raise BadRequest("body too large")
                chunk = self.rfile.read(size)
                crlf = self.rfile.readline(MAX_CHUNK_LINE)
                raw += chunk + crlf
                decoded += chunk
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", b""
        n = int(length)
        if n < 0 or n > MAX_BODY:
            raise BadRequest("bad Content-Length")
        body = self.rfile.read(n)
        if len(body) != n:
            raise BadRequest("body shorter than Content-Length")
        return body, body

    # ---- answering ----------------------------------------------------------------------

    def reply(self, status, headers, body, head_only=False):
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and not head_only:
            self.wfile.write(body)
        self.wfile.flush()

    def reply_json(self, status, data):
        body = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
        self.reply(status, [("Content-Type", "application/json")], body)

    # ---- control endpoints --------------------------------------------------------------

    def control(self, method, decoded):
        cfg = self.config
        path = urllib.parse.urlsplit(self.path).path
        if path == "/__proxy/stats" and method == "GET":
            cfg.stats.write(cfg.describe())
            data = cfg.stats.snapshot()
            data.update(cfg.describe())
            return self.reply_json(200, data)
        if path == "/__proxy/reset" and method == "POST":
            data = cfg.stats.snapshot(reset=True)
            data["kill"] = cfg.kill.describe()
            cfg.kill.reset_count()
            return self.reply_json(200, data)
        if path == "/__proxy/config" and method == "POST":
            try:
                change = json.loads(decoded or b"{}")
                rates = change.get("rates") or {}
                faults = change.get("faults") or {}
                for op, kind in faults.items():
                    if kind is not None and kind not in FAULT_KINDS:
                        raise ValueError(f"bad fault for {op}: {kind!r}")
                for op, rate in rates.items():
                    if rate is not None and (not isinstance(rate, (int, float)) or rate <= 0):
                        raise ValueError(f"bad rate for {op}: {rate!r}")
                KillSwitch.check(change)
                if "latency_ms" in change:
                    latency = float(change["latency_ms"])
                    if latency < 0:
                        raise ValueError("latency_ms must be >= 0")
                    cfg.latency = latency / 1000.0
                cfg.limiter.set_rates(rates)
                cfg.set_faults(faults)
                cfg.kill.configure(change)
            except (ValueError, AttributeError, TypeError) as e:
                return self.reply_json(400, {"error": str(e)})
            return self.reply_json(200, cfg.describe())
        return self.reply_json(404, {"error": f"unknown control endpoint {method} {path}"})

    # ---- forwarding ---------------------------------------------------------------------

    def close_upstream(self):
        if self.upstream is not None:
            try:
                self.upstream.close()
            except OSError:
                pass
            self.upstream = None

    def send_upstream(self, method, raw_body):
        cfg = self.config
        if self.upstream is None:
            self.upstream = http.client.HTTPConnection(
                cfg.upstream_host, cfg.upstream_port, timeout=cfg.upstream_timeout
            )
            self.upstream.connect()
            self.upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = self.upstream
        conn.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() in HOP_BY_HOP:
                continue
            conn.putheader(name, value)
        conn.endheaders(raw_body if raw_body else None)
        response = conn.getresponse()
        body = response.read()
        return response, body

    def forward(self, method, raw_body):
        fresh = self.upstream is None
        try:
            return self.send_upstream(method, raw_body)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close_upstream()
            if fresh:
                raise
            # The emulator closed an idle keep-alive connection: once more on a new one.
            return self.send_upstream(method, raw_body)

    def handle_any(self):
        method = self.command
        try:
            raw_body, decoded = self.read_body()
        except (BadRequest, ValueError) as e:
            self.close_connection = True
            return self.reply_json(400, {"error": f"proxy: {e}"})
        if self.path.startswith("/__proxy/"):
            return self.control(method, decoded)

        cfg = self.config
        protocol, op = identify(self.headers, self.path, decoded)
        if cfg.latency > 0:
            time.sleep(cfg.latency)
        fault = cfg.fault(op)
        if fault is not None and fault != "malformed":
            cfg.stats.count(op, "faulted")
            return self.inject(fault, protocol, method)
        if not cfg.limiter.admit(op):
            cfg.stats.count(op, "throttled")
            status, headers, body = throttle_response(protocol, self.headers)
            return self.reply(status, headers, body, head_only=method == "HEAD")

        write = is_write(op)
        if write and not cfg.kill.before_write():
            return self.drop()

        started = time.monotonic()
        try:
            response, body = self.forward(method, raw_body)
        except (OSError, http.client.HTTPException) as e:
            self.close_upstream()
            cfg.stats.count(op, "forwarded", time.monotonic() - started)
            cfg.stats.count(op, "errors")
            self.close_connection = True
            return self.reply_json(502, {"error": f"proxy: upstream failed: {e!r}"})
        cfg.stats.count(op, "forwarded", time.monotonic() - started)
        if write and cfg.kill.after_write(op):
            # The emulator did it; the client, killed now, never hears of it.
            if response.will_close:
                self.close_upstream()
            return self.drop()
        if fault == "malformed":
            if response.will_close:
                self.close_upstream()
            cfg.stats.count(op, "faulted")
            content_type = response.getheader("Content-Type") or "text/xml"
            return self.reply(200, [("Content-Type", content_type)], body[: len(body) // 2])
        if response.status >= 400:
            cfg.stats.count(op, "errors")
        if response.will_close:
            self.close_upstream()
        headers = [
            (name, value)
            for name, value in response.getheaders()
            if name.lower() not in HOP_BY_HOP
            and name.lower() not in ("transfer-encoding", "content-length")
        ]
        no_body = method == "HEAD" or response.status in (204, 304) or response.status < 200
        if no_body:
            # Keep the upstream's Content-Length for HEAD; nothing follows the headers.
            self.send_response_only(response.status, response.reason)
            for name, value in headers:
                self.send_header(name, value)
            length = response.getheader("Content-Length")
            if length is not None and method == "HEAD":
                self.send_header("Content-Length", length)
            self.end_headers()
            self.wfile.flush()
            return None
        return self.reply(response.status, headers, body)

    def drop(self):
        """Closes the client connection without an answer (after the kill switch fired)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.connection.close()
        except OSError:
            pass

    def inject(self, fault, protocol, method):
        """Answers (or does not answer) a request of a faulted operation."""
        if fault == "500":
            status, headers, body = internal_error_response(protocol, self.headers)
            return self.reply(status, headers, body, head_only=method == "HEAD")
        if fault == "throttle":
            status, headers, body = throttle_response(protocol, self.headers)
            return self.reply(status, headers, body, head_only=method == "HEAD")
        self.close_connection = True
        if fault == "hang":
            # Hold the connection, unanswered, until the client gives up and closes it.
            try:
                self.connection.settimeout(None)
                while self.connection.recv(4096):
                    pass
            except OSError:
                pass
            return None
        # reset: close at once with a RST, nothing sent
        try:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.connection.close()
        except OSError:
            pass
        return None

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any


class Config:
    def __init__(self, args):
        upstream = urllib.parse.urlsplit(args.upstream)
        if upstream.scheme != "http" or upstream.hostname not in LOOPBACK_HOSTS:
            raise SystemExit(f"proxy: refusing non-loopback upstream {args.upstream!r}")
        self.upstream_host = upstream.hostname
        self.upstream_port = upstream.port or 80
        self.upstream_timeout = args.upstream_timeout
        self.latency = args.latency_ms / 1000.0
        self.limiter = RateLimiter(parse_rates(args.rate), args.rate_mode)
        self.faults_lock = threading.Lock()
        self.faults = parse_faults(args.fault)
        self.stats = Stats(args.stats_file)
        self.kill = KillSwitch(args.kill_after_writes, args.kill_pid)
        self.verbose = args.verbose

    def fault(self, op):
        with self.faults_lock:
            return self.faults.get(op)

    def set_faults(self, faults):
        with self.faults_lock:
            for op, kind in faults.items():
                if kind is None:
                    self.faults.pop(op, None)
                else:
                    self.faults[op] = kind

    def describe(self):
        with self.faults_lock:
            faults = dict(self.faults)
        return {
            "kill": self.kill.describe(),
            "config": {
                "faults": faults,
                "latency_ms": self.latency * 1000.0,
                "rate_mode": self.limiter.mode,
                "rates": self.limiter.snapshot(),
                "upstream": f"http://{self.upstream_host}:{self.upstream_port}",
            }
        }


def parse_rates(pairs):
    rates = {}
    for pair in pairs or []:
        op, sep, value = pair.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1
        if not sep or not op or rate <= 0:
            raise SystemExit(f"proxy: --rate expects OP=N with N > 0, got {pair!r}")
        rates[op] = rate
    return rates


def parse_faults(pairs):
    faults = {}
    for pair in pairs or []:
        op, sep, kind = pair.partition("=")
        if not sep or not op or kind not in FAULT_KINDS:
            raise SystemExit(
                f"proxy: --fault expects OP=KIND with KIND one of {', '.join(FAULT_KINDS)},"
                f" got {pair!r}"
            )
        faults[op] = kind
    return faults


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen-port", type=int, default=0, help="0: any free port")
    parser.add_argument("--upstream", required=True, help="emulator URL, http://127.0.0.1:PORT")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate", action="append", metavar="OP=N", help="repeatable")
    parser.add_argument(
        "--fault", action="append", metavar="OP=KIND", help=f"repeatable; KIND: {FAULT_KINDS}"
    )
    parser.add_argument("--rate-mode", choices=["bucket", "window"], default="bucket")
    parser.add_argument(
        "--kill-after-writes", type=int, metavar="K", help="SIGKILL --kill-pid at the K-th write"
    )
    parser.add_argument("--kill-pid", type=int, metavar="PID")
    parser.add_argument("--stats-file")
    parser.add_argument("--upstream-timeout", type=float, default=300.0, help="seconds")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if args.latency_ms < 0:
        parser.error("--latency-ms must be >= 0")
    try:
        KillSwitch.check({"kill_after_writes": args.kill_after_writes, "kill_pid": args.kill_pid})
    except ValueError as e:
        parser.error(str(e))

    config = Config(args)
    ProxyHandler.config = config
    server = Server(("127.0.0.1", args.listen_port), ProxyHandler)
    port = server.server_address[1]

    done = threading.Event()
    written = threading.Lock()

    def write_stats():
        if written.acquire(blocking=False):
            try:
                config.stats.write(config.describe())
            except OSError as e:
                print(f"proxy: cannot write stats: {e}", file=sys.stderr)

    atexit.register(write_stats)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.daemon = True
    thread.start()
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    while not done.wait(1.0):
        pass
    write_stats()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
