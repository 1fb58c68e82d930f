#!/usr/bin/env bash
# Regenerates libs/contracts/src/gen from proto/ and fails when the committed
# generated code differs from what the current protos produce (changed,
# deleted or new files). Runs from any directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/node_modules/.bin"
GEN="libs/contracts/src/gen"
if [[ ! -x "$BIN/buf" || ! -x "$BIN/protoc-gen-es" ]]; then
  echo "contracts: buf or protoc-gen-es missing in $BIN; run npm install at the repository root" >&2
  exit 2
fi

# buf.gen.yaml uses the local plugin protoc-gen-es, found on PATH.
(cd "$ROOT/proto" && PATH="$BIN:$PATH" "$BIN/buf" generate)

cd "$ROOT"
failed=0

if git rev-parse --verify --quiet HEAD >/dev/null; then
  # Committed files that the regeneration changed or deleted, and new files
  # that are staged but not committed.
  if ! git --no-pager diff --exit-code --stat HEAD -- "$GEN"; then
    failed=1
  fi
  uncommitted="$(git ls-files --others --exclude-standard -- "$GEN")"
else
  # No commit yet: every generated file is uncommitted.
  uncommitted="$(git ls-files --cached --others --exclude-standard -- "$GEN")"
fi
if [[ -n "$uncommitted" ]]; then
  echo "contracts: generated files not committed:" >&2
  sed 's/^/  /' <<<"$uncommitted" >&2
  failed=1
fi

if [[ "$failed" -ne 0 ]]; then
  echo "contracts: $GEN is not current; run 'npm run proto:generate' and commit the result" >&2
  exit 1
fi
echo "contracts: generated code is current"
