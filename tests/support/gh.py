"""A stand-in for the GitHub CLI (`gh`), for testing scripts/action-*.sh without GitHub:
it records every invocation and keeps the comments of one pull request in a JSON file,
answering the few `gh api` calls the scripts make the way GitHub's REST API does.

Environment: FAKE_GH_LOG (a file: one JSON array of arguments per call) and
FAKE_GH_STATE (a file: {"next_id": N, "comments": [{"id", "issue", "body"}]}).
`--jq` filters are run by the real `jq`, as gh runs its built-in one.
"""

import json
import os
import re
import subprocess
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"next_id": 1000, "comments": []}


def main(argv):
    with open(os.environ["FAKE_GH_LOG"], "a") as log:
        log.write(json.dumps(argv) + "\n")
    state_path = os.environ["FAKE_GH_STATE"]
    state = load(state_path)
    if not argv or argv[0] != "api":
        sys.stderr.write("fake gh: only `gh api` is supported\n")
        return 1
    method, endpoint, fields, jq = "GET", None, {}, None
    args = iter(argv[1:])
    for arg in args:
        if arg in ("--method", "-X"):
            method = next(args)
        elif arg in ("-F", "--field", "-f", "--raw-field"):
            key, _, value = next(args).partition("=")
            if arg in ("-F", "--field") and value.startswith("@"):
                with open(value[1:]) as f:
                    value = f.read()
            fields[key] = value
        elif arg in ("--jq", "-q"):
            jq = next(args)
        elif arg == "--paginate":
            pass
        elif endpoint is None:
            endpoint = arg
        else:
            sys.stderr.write("fake gh: unexpected argument %r\n" % arg)
            return 1
    if fields and method == "GET":
        method = "POST"  # as gh does when fields are given
    listing = re.fullmatch(r"repos/[^/]+/[^/]+/issues/(\d+)/comments", endpoint or "")
    single = re.fullmatch(r"repos/[^/]+/[^/]+/issues/comments/(\d+)", endpoint or "")
    if listing and method == "GET":
        issue = int(listing.group(1))
        result = [c for c in state["comments"] if c["issue"] == issue]
    elif listing and method == "POST":
        comment = {
            "id": state["next_id"],
            "issue": int(listing.group(1)),
            "body": fields["body"],
        }
        state["next_id"] += 1
        state["comments"].append(comment)
        result = dict(comment, html_url="https://github.invalid/c/%d" % comment["id"])
    elif single and method == "PATCH":
        found = [c for c in state["comments"] if c["id"] == int(single.group(1))]
        if not found:
            sys.stderr.write("gh: Not Found (HTTP 404)\n")
            return 1
        found[0]["body"] = fields["body"]
        result = dict(found[0], html_url="https://github.invalid/c/%d" % found[0]["id"])
    else:
        sys.stderr.write("fake gh: unsupported %s %s\n" % (method, endpoint))
        return 1
    with open(state_path, "w") as f:
        json.dump(state, f)
    text = json.dumps(result)
    if jq is not None:
        text = subprocess.run(
            ["jq", "-r", jq], input=text, capture_output=True, text=True, check=True
        ).stdout
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
