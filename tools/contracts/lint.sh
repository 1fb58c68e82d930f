#!/usr/bin/env bash
# Lints the protobuf contracts (buf lint, STANDARD rules; see proto/buf.yaml)
# and checks they are buf-formatted. Runs from any directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUF="$ROOT/node_modules/.bin/buf"
if [[ ! -x "$BUF" ]]; then
  echo "contracts: $BUF not found; run npm install at the repository root" >&2
  exit 2
fi

cd "$ROOT/proto"
"$BUF" lint
# Formatting drift fails too; fix it with: cd proto && buf format -w
"$BUF" format --diff --exit-code
echo "contracts: buf lint clean"
