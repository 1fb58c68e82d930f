#!/usr/bin/env bash
# Retrains every fixture model in a scratch folder with the pinned Python toolchain and fails when
# the result differs from the committed fixtures (models, manifest, golden predictions), then
# checks the committed fixtures with Python's onnxruntime.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="$(bash "$here/setup.sh" | tail -n 1)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$python" "$here/train.py" --out "$scratch" >/dev/null
if ! diff -r "$here/fixtures" "$scratch" >"$scratch.diff" 2>&1; then
  echo "model fixtures are not reproducible from tools/models/train.py:" >&2
  head -n 40 "$scratch.diff" >&2
  rm -f "$scratch.diff"
  exit 1
fi
rm -f "$scratch.diff"
"$python" "$here/verify.py"
echo "model fixtures: reproducible and verified"
