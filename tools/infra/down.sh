#!/usr/bin/env bash
# Stop the local infrastructure: tools/infra/down.sh [redis] [kafka] [postgres] [zipkin]
# (all four when none is named). Stopping something that is not running succeeds.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALL=(redis kafka postgres zipkin)

components=("$@")
((${#components[@]})) || components=("${ALL[@]}")
for c in "${components[@]}"; do
  [[ " ${ALL[*]} " == *" $c "* ]] || { echo "down.sh: unknown component '$c' (expected: ${ALL[*]})" >&2; exit 2; }
done

declare -A pids=()
for c in "${components[@]}"; do
  (set -o pipefail; bash "$HERE/$c.sh" stop 2>&1 | sed -u 's/^/  /') &
  pids[$c]=$!
done
failed=()
for c in "${components[@]}"; do
  wait "${pids[$c]}" || failed+=("$c")
done
if ((${#failed[@]})); then
  echo "down.sh: FAILED to stop: ${failed[*]}" >&2
  exit 1
fi
echo "down.sh: stopped: ${components[*]}"
