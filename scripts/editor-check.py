#!/usr/bin/env python3
"""Drive the real yaml-language-server over stdio (LSP, Content-Length framing) and check
that an editor opening stacks/example.yaml gets hover docs, completion and diagnostics
from docs/stack-schema.json through the file's `# yaml-language-server: $schema=` modeline.

    python3 scripts/editor-check.py --server target/editor-check/node_modules/.bin/yaml-language-server

Run through scripts/editor-check.sh, which installs the pinned server. Talks only to the
child process over stdio; the schema store is disabled so the server fetches nothing.
Variants of the example are opened under URIs in stacks/ (never written to disk), so the
relative $schema path resolves exactly as for the real file. Exits 1 on any FAIL.
"""

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "stacks" / "example.yaml"
SCHEMA = REPO / "docs" / "stack-schema.json"
TIMEOUT = 20.0

YAML_SETTINGS = {
    "validate": True,
    "hover": True,
    "completion": True,
    "format": {"enable": False},
    "schemas": {},
    "schemaStore": {"enable": False},  # no catalog download: the modeline is the schema
    "kubernetesCRDStore": {"enable": False},
    "disableAdditionalProperties": False,
    "yamlVersion": "1.2",
}


class Client:
    def __init__(self, argv, stderr_path):
        self.stderr = open(stderr_path, "wb")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, cwd=REPO
        )
        self.next_id = 0
        self.responses = {}
        self.cond = threading.Condition()
        self.diagnostics = {}  # uri -> list of (time, diagnostics)
        self.log = []  # (type, message) from window/logMessage and window/showMessage
        self.other = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()

    # --- framing -------------------------------------------------------------------
    def _send(self, msg):
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _reader(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self.cond:
                        self.cond.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                k, _, v = line.decode().partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            msg = json.loads(out.read(length))
            self._dispatch(msg)

    def _dispatch(self, msg):
        if "id" in msg and "method" in msg:  # a request from the server
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": self._answer(msg)})
            return
        with self.cond:
            if "id" in msg:
                self.responses[msg["id"]] = msg
            elif msg.get("method") == "textDocument/publishDiagnostics":
                p = msg["params"]
                self.diagnostics.setdefault(p["uri"], []).append((time.time(), p["diagnostics"]))
            elif msg.get("method") in ("window/logMessage", "window/showMessage"):
                self.log.append((msg["params"]["type"], msg["params"]["message"]))
            else:
                self.other.put(msg)
            self.cond.notify_all()

    def _answer(self, req):
        if req["method"] == "workspace/configuration":
            out = []
            for item in req["params"]["items"]:
                out.append(YAML_SETTINGS if item.get("section") == "yaml" else None)
            return out
        return None  # client/registerCapability, window/workDoneProgress/create, ...

    # --- API -----------------------------------------------------------------------
    def request(self, method, params, timeout=TIMEOUT):
        self.next_id += 1
        rid = self.next_id
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.time() + timeout
        with self.cond:
            while rid not in self.responses:
                left = deadline - time.time()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(f"{method}: no response in {timeout:.0f}s")
                self.cond.wait(left)
            resp = self.responses.pop(rid)
        if "error" in resp:
            raise RuntimeError(f"{method}: {resp['error']}")
        return resp.get("result")

    def notify(self, method, params):
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_diagnostics(self, uri, settle=1.0, timeout=TIMEOUT):
        """The last diagnostics published for uri once none came for `settle` seconds."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                got = self.diagnostics.get(uri)
                now = time.time()
                if got and now - got[-1][0] >= settle:
                    return got[-1][1]
                if now >= deadline:
                    return got[-1][1] if got else None
                self.cond.wait(min(settle, deadline - now))

    def close(self):
        try:
            self.request("shutdown", None, timeout=5)
            self.notify("exit", None)
            self.proc.wait(timeout=5)
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


# --- helpers -------------------------------------------------------------------------
def uri_of(path):
    return Path(path).absolute().as_uri()


def find_line(lines, text, after=0):
    for i in range(after, len(lines)):
        if lines[i].rstrip("\n").split("#")[0].rstrip() == text:
            return i
    raise SystemExit(f"editor-check: {text!r} not found in {EXAMPLE} after line {after + 1}")


def hover_text(result):
    if not result:
        return ""
    c = result.get("contents")
    if isinstance(c, dict):
        return c.get("value", "")
    if isinstance(c, list):
        return "\n".join(x if isinstance(x, str) else x.get("value", "") for x in c)
    return str(c or "")


def labels(result):
    items = result.get("items", []) if isinstance(result, dict) else (result or [])
    return [i["label"] for i in items]


def short(s, n=110):
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 3] + "..."


def schema_description(*path):
    """The description at a path of property names in docs/stack-schema.json (where an
    alarm's fields are under properties.alarms.additionalProperties)."""
    node = json.loads(SCHEMA.read_text())
    for step in path:
        node = node["additionalProperties"] if step == "*" else node["properties"][step]
    return node["description"]


results = []


def check(name, ok, detail):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {short(detail)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="path to the yaml-language-server binary")
    ap.add_argument("--log", default=str(REPO / "target" / "editor-check" / "server.log"))
    args = ap.parse_args()

    text = EXAMPLE.read_text()
    lines = text.splitlines(keepends=True)
    if not lines[0].startswith("# yaml-language-server: $schema=../docs/stack-schema.json"):
        raise SystemExit("editor-check: stacks/example.yaml lost its $schema modeline")

    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    c = Client([args.server, "--stdio"], args.log + ".stderr")
    try:
        init = c.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "monplan-editor-check"},
                "rootUri": uri_of(REPO),
                "workspaceFolders": [{"uri": uri_of(REPO), "name": REPO.name}],
                "capabilities": {
                    "workspace": {"configuration": True, "workspaceFolders": True,
                                  "didChangeConfiguration": {"dynamicRegistration": True}},
                    "textDocument": {
                        "synchronization": {"dynamicRegistration": False},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "completion": {"completionItem": {"snippetSupport": True,
                                                          "documentationFormat": ["markdown", "plaintext"]}},
                        "publishDiagnostics": {"relatedInformation": True},
                    },
                },
            },
        )
        server = init.get("serverInfo", {})
        print(f"server: {server.get('name', '?')} {server.get('version', '')}".rstrip())
        c.notify("initialized", {})
        c.notify("workspace/didChangeConfiguration", {"settings": {"yaml": YAML_SETTINGS}})

        version = [0]

        def open_doc(uri, content):
            version[0] += 1
            c.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "yaml", "version": version[0], "text": content}})

        def close_doc(uri):
            c.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

        ex_uri = uri_of(EXAMPLE)
        open_doc(ex_uri, text)

        # Which schema the server resolved for the example (its own custom request).
        try:
            schemas = c.request("yaml/get/jsonSchema", ex_uri)
            got = [s.get("uri") for s in schemas or []]
        except Exception as e:  # older servers lack it: informative only
            got = [f"({e})"]
        check("schema resolved from the modeline", uri_of(SCHEMA) in got, f"{got}")

        # 1. hover --------------------------------------------------------------------
        d = find_line(lines, "defaults:")
        ln = find_line(lines, "  evaluation_periods: 5", d)
        want = schema_description("defaults", "evaluation_periods")
        h = hover_text(c.request("textDocument/hover", {
            "textDocument": {"uri": ex_uri}, "position": {"line": ln, "character": 5}}))
        check(f"hover defaults.evaluation_periods (line {ln + 1})", want in h, h or "(no hover)")

        a = find_line(lines, "  job-failures:", find_line(lines, "alarms:"))
        ln = find_line(lines, "    treat_missing_data: not_breaching", a)
        want = schema_description("alarms", "*", "treat_missing_data")
        h = hover_text(c.request("textDocument/hover", {
            "textDocument": {"uri": ex_uri}, "position": {"line": ln, "character": 8}}))
        check(f"hover alarms.job-failures.treat_missing_data (line {ln + 1})", want in h,
              h or "(no hover)")

        # 2. completion ---------------------------------------------------------------
        # A new alarm with only `above:` and an empty line at the alarm's indentation.
        al = find_line(lines, "alarms:")
        variant = lines[: al + 1] + ["  editor-check:\n", "    above: 1\n", "    \n"] + lines[al + 1:]
        uri = uri_of(REPO / "stacks" / "editor-check-completion.yaml")
        open_doc(uri, "".join(variant))
        res = c.request("textDocument/completion", {
            "textDocument": {"uri": uri}, "position": {"line": al + 3, "character": 4}})
        got = labels(res)
        want = ["description", "datapoints_to_alarm", "treat_missing_data", "evaluation_periods"]
        missing = [w for w in want if w not in got]
        check("completion of an alarm's keys", not missing,
              (f"missing {missing}; " if missing else "") + f"{len(got)} items: {', '.join(got)}")
        check("completion omits keys already set", "above" not in got,
              "`above` offered again" if "above" in got else "`above` not offered again")
        close_doc(uri)

        variant = lines[: al + 1] + ["  editor-check:\n", "    above: 1\n",
                                     "    treat_missing_data: \n"] + lines[al + 1:]
        uri = uri_of(REPO / "stacks" / "editor-check-value.yaml")
        open_doc(uri, "".join(variant))
        res = c.request("textDocument/completion", {
            "textDocument": {"uri": uri},
            "position": {"line": al + 3, "character": len("    treat_missing_data: ")}})
        got = labels(res)
        want = ["breaching", "not_breaching", "ignore", "missing"]
        missing = [w for w in want if w not in got]
        check("completion of `treat_missing_data: `", not missing,
              (f"missing {missing}; " if missing else "") + f"{', '.join(got) or '(none)'}")
        close_doc(uri)

        # 3. diagnostics --------------------------------------------------------------
        diags = c.wait_diagnostics(ex_uri)
        check("no diagnostics on stacks/example.yaml", diags == [],
              "none" if diags == [] else ("(never published)" if diags is None else
                                          "; ".join(f"{x['range']['start']['line'] + 1}: {x['message']}"
                                                    for x in diags)))

        ln = find_line(lines, "  evaluation_periods: 5", d)
        variant = lines[: ln + 1] + ["  evaluation_period: 3\n"] + lines[ln + 1:]
        uri = uri_of(REPO / "stacks" / "editor-check-unknown-key.yaml")
        open_doc(uri, "".join(variant))
        diags = c.wait_diagnostics(uri) or []
        hit = [x for x in diags if x["range"]["start"]["line"] == ln + 1
               and "evaluation_period" in x["message"]]
        check(f"diagnostic for unknown key `evaluation_period` (line {ln + 2})",
              bool(hit) and len(diags) == 1,
              "; ".join(f"{x['range']['start']['line'] + 1}: {x['message']} [{x.get('source', '')}]"
                        for x in diags) or "(none)")
        close_doc(uri)
        close_doc(ex_uri)
    finally:
        time.sleep(0.2)
        c.close()
        with open(args.log, "w") as f:
            for t, m in c.log:
                f.write(f"[{ {1: 'error', 2: 'warning', 3: 'info', 4: 'log'}.get(t, t)}] {m}\n")

    noisy = [(t, m) for t, m in c.log if t <= 2]
    stderr = Path(args.log + ".stderr").read_text(errors="replace").strip()
    print(f"server log: {len(c.log)} messages, {len(noisy)} errors/warnings ({args.log})")
    for t, m in noisy:
        print(f"  {'error' if t == 1 else 'warning'}: {short(m, 200)}")
    if stderr:
        print(f"  stderr: {short(stderr, 200)}")
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
