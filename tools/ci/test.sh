#!/usr/bin/env bash
# `npm test`: every check and every test, against real Redis, Kafka, PostgreSQL and Zipkin that
# this script installs (if missing) and starts through tools/infra. Run from the repo root by npm,
# so `node` is the pinned Node 24 from node_modules/.bin.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE="${NX_SKIP_NX_CACHE:-}"
started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

step "node $(node --version)"
case "$(node --version)" in v24.*) ;; *) echo "Node 24 is required (npm scripts use the pinned one from node_modules/.bin)" >&2; exit 1 ;; esac

step "infrastructure: Redis, Kafka, PostgreSQL, Zipkin"
bash tools/infra/up.sh

step "grpcurl (an independent gRPC client for the interop tests)"
GRPCURL="$(bash tools/grpcurl/install.sh)"
export GRPCURL

step "ghz (an independent gRPC load generator for the overload test)"
GHZ="$(bash tools/ghz/install.sh)"
export GHZ

step "contracts: buf lint, generated code current, breaking-change check"
bash tools/contracts/lint.sh
bash tools/contracts/check-generated.sh
bash tools/contracts/breaking.sh

step "model fixtures: retrain with Python and compare with the committed files"
bash tools/models/check-fixtures.sh

step "format and lint (module boundaries, third-party import ownership)"
npx prettier --check . --log-level warn
nx run-many -t lint --outputStyle=static

step "build, and type-check every project including its specs"
nx run-many -t build typecheck --outputStyle=static

step "tests"
results_dir="$(pwd)/test-output"
rm -rf "$results_dir" && mkdir -p "$results_dir"
export VITEST_JSON_DIR="$results_dir"
status=0
nx run-many -t test --parallel=1 --outputStyle=static || status=$?

step "summary"
node tools/ci/summarize.mjs "$results_dir"
exit "$status"
