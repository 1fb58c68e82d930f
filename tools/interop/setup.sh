#!/usr/bin/env bash
# Idempotent: the Python virtualenv tools/interop/.venv with tools/interop/requirements.txt; prints its
# python path (last line of stdout).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../python/venv.sh" "$here"
