#!/usr/bin/env bash
# Installs ghz (a gRPC load generator this project did not write: open-loop request rates, one
# latency and status per call) from the Go module proxy into the download cache, and prints its
# path. The overload test drives the gateway with it from outside the test's own process, so the
# load generator does not share an event loop with what it measures. Idempotent.
set -euo pipefail
version="${GHZ_VERSION:-v0.121.0}"
cache="${SCOREGATE_CACHE_DIR:-$HOME/.cache/scoregate}"
bin_dir="$cache/ghz-$version/bin"
if [[ ! -x "$bin_dir/ghz" ]]; then
  command -v go >/dev/null || { echo "ghz: Go is required to build ghz (apt-get install golang or use the machine's Go)" >&2; exit 1; }
  mkdir -p "$bin_dir"
  echo "ghz: building github.com/bojand/ghz/cmd/ghz@$version" >&2
  GOBIN="$bin_dir" GOFLAGS=-mod=mod GOTOOLCHAIN=local go install "github.com/bojand/ghz/cmd/ghz@$version" >&2
fi
echo "$bin_dir/ghz"
