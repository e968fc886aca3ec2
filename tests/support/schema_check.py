"""Validates JSON documents against a JSON Schema with the reference implementation
(python-jsonschema, as yaml-language-server's checks would), for tests/schema.rs.

stdin: one JSON object per line, {"name": ..., "doc": ...}; argv[1]: the schema file.
stdout: one JSON line per document, {"name": ..., "errors": [message, ...]}.
"""
import json
import sys

import jsonschema


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    for line in sys.stdin:
        if not line.strip():
            continue
        item = json.loads(line)
        errors = [
            "/".join(str(p) for p in e.absolute_path) + ": " + e.message
            for e in validator.iter_errors(item["doc"])
        ]
        print(json.dumps({"name": item["name"], "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
