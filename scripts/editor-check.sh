#!/usr/bin/env bash
# Editor check: the real YAML language server (the one behind the VS Code YAML extension,
# Neovim's yamlls, Helix, ...) gives a user who opens stacks/example.yaml hover docs,
# completion and diagnostics from docs/stack-schema.json, found through the file's
# `# yaml-language-server: $schema=../docs/stack-schema.json` modeline.
#
#   scripts/editor-check.sh
#
# Installs the pinned yaml-language-server from the npm registry into
# target/editor-check/ (ignored by git; reused when the pinned version is already there),
# then runs scripts/editor-check.py, which speaks LSP to it over stdio. Apart from the npm
# install nothing touches the network: the server's schema store is disabled.
# Needs node and npm (yaml-language-server 2.x wants node >= 22; 1.25.0 runs on node 20)
# and python3. Not part of the test suite. Prints PASS/FAIL per check, exits 1 on a FAIL.
set -euo pipefail

YLS_VERSION=1.25.0
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/target/editor-check"
bin="$dir/node_modules/.bin/yaml-language-server"
installed=$(node -p "require('$dir/node_modules/yaml-language-server/package.json').version" 2>/dev/null || true)

if [ "$installed" != "$YLS_VERSION" ]; then
    echo "installing yaml-language-server@$YLS_VERSION into target/editor-check/" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact \
        "yaml-language-server@$YLS_VERSION" >&2
fi

exec python3 "$root/scripts/editor-check.py" --server "$bin" "$@"
