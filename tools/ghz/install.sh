#!/usr/bin/env bash
# Installs ghz (a gRPC load generator this project did not write: open-loop request rates, one
# latency and status per call) from the Go module proxy into the download cache, and prints its
# path. The overload test drives the gateway with it from outside the test's own process, so the
# load generator does not share an event loop with what it measures. Idempotent.
set -euo pipefail
exec bash "$(dirname "$0")/../go/install-tool.sh" ghz "${GHZ_VERSION:-v0.121.0}" \
  github.com/bojand/ghz/cmd/ghz
