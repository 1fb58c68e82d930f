#!/usr/bin/env bash
# Usage: venv.sh DIR. Idempotent: create DIR/.venv if missing, install DIR/requirements.txt unless
# the stamp file already holds its hash, then print the venv's python path (last line of stdout).
set -euo pipefail
HERE="$(cd "${1:?usage: venv.sh DIR}" && pwd)"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.requirements.sha256"
PYTHON_BIN="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating virtualenv at $VENV" >&2
  "$PYTHON_BIN" -m venv "$VENV"
fi

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  echo "installing $REQ" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2
  echo "$want" > "$STAMP"
else
  echo "requirements already installed" >&2
fi

echo "$VENV/bin/python"
