#!/usr/bin/env bash
# Installs grpcurl (a gRPC client this project did not write) from the Go module proxy into the
# download cache, and prints its path. Idempotent: a second run only prints the path.
set -euo pipefail
version="${GRPCURL_VERSION:-v1.9.3}"
cache="${SCOREGATE_CACHE_DIR:-$HOME/.cache/scoregate}"
bin_dir="$cache/grpcurl-$version/bin"
if [[ ! -x "$bin_dir/grpcurl" ]]; then
  command -v go >/dev/null || { echo "grpcurl: Go is required to build grpcurl (apt-get install golang or use the machine's Go)" >&2; exit 1; }
  mkdir -p "$bin_dir"
  echo "grpcurl: building github.com/fullstorydev/grpcurl/cmd/grpcurl@$version" >&2
  GOBIN="$bin_dir" GOFLAGS=-mod=mod GOTOOLCHAIN=local go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$version" >&2
fi
echo "$bin_dir/grpcurl"
