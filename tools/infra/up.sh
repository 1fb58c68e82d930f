#!/usr/bin/env bash
# Start the local infrastructure on loopback: tools/infra/up.sh [redis] [kafka] [postgres] [zipkin]
# (all four when none is named). Components start in parallel; apt-get and Maven steps are
# serialised by locks in lib.sh. Exits non-zero if any component fails to become ready.
# Idempotent: components that are already running and healthy are left alone.
#
# Connection settings (what the tests and services use; defaults shown):
#   REDIS_URL=redis://127.0.0.1:6379                                       (REDIS_PORT)
#   KAFKA_BROKERS=127.0.0.1:9092                                           (KAFKA_PORT, KAFKA_CONTROLLER_PORT=9093)
#   DATABASE_URL=postgres://scoregate:scoregate@127.0.0.1:5432/scoregate   (PGPORT)
#   ZIPKIN_URL=http://127.0.0.1:9411                                       (ZIPKIN_PORT)
#
# State (data, logs, pidfiles): ${SCOREGATE_INFRA_DIR:-<repo>/.infra}
# Download cache:               ${SCOREGATE_CACHE_DIR:-$HOME/.cache/scoregate} (+ Maven's ~/.m2)
# Stop with tools/infra/down.sh, inspect with tools/infra/status.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALL=(redis kafka postgres zipkin)

components=("$@")
((${#components[@]})) || components=("${ALL[@]}")
for c in "${components[@]}"; do
  [[ " ${ALL[*]} " == *" $c "* ]] || { echo "up.sh: unknown component '$c' (expected: ${ALL[*]})" >&2; exit 2; }
done

start=$SECONDS
declare -A pids=()
for c in "${components[@]}"; do
  # pipefail makes the subshell's status the script's status, not sed's.
  (set -o pipefail; bash "$HERE/$c.sh" start 2>&1 | sed -u 's/^/  /') &
  pids[$c]=$!
done

failed=()
for c in "${components[@]}"; do
  wait "${pids[$c]}" || failed+=("$c")
done

if ((${#failed[@]})); then
  echo "up.sh: FAILED to start: ${failed[*]} (after $((SECONDS - start))s)" >&2
  exit 1
fi
echo "up.sh: ready: ${components[*]} ($((SECONDS - start))s)"
