#!/usr/bin/env bash
# Checks the protobuf contracts for breaking changes (buf breaking, FILE
# rules) against proto/ on the main branch of this repository. Switched off
# until the contracts are published: set SCOREGATE_BREAKING_CHECK=1 to run it.
# Runs from any directory.
set -euo pipefail

if [[ "${SCOREGATE_BREAKING_CHECK:-0}" != "1" ]]; then
  echo "skipped: contracts not yet published (set SCOREGATE_BREAKING_CHECK=1 to check against main)"
  exit 0
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUF="$ROOT/node_modules/.bin/buf"
if [[ ! -x "$BUF" ]]; then
  echo "contracts: $BUF not found; run npm install at the repository root" >&2
  exit 2
fi

cd "$ROOT"
"$BUF" breaking proto --against "$ROOT/.git#branch=main,subdir=proto"
echo "contracts: no breaking change against main"
