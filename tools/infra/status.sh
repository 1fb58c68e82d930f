#!/usr/bin/env bash
# Report which local infrastructure components are running and healthy:
#   tools/infra/status.sh [redis] [kafka] [postgres] [zipkin]
# Exits 0 only when every named component (all four by default) is healthy.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALL=(redis kafka postgres zipkin)

components=("$@")
((${#components[@]})) || components=("${ALL[@]}")
rc=0
for c in "${components[@]}"; do
  [[ " ${ALL[*]} " == *" $c "* ]] || { echo "status.sh: unknown component '$c' (expected: ${ALL[*]})" >&2; exit 2; }
  bash "$HERE/$c.sh" status 2>&1 || rc=1
done
exit "$rc"
