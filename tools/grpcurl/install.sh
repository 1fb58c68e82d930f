#!/usr/bin/env bash
# Installs grpcurl (a gRPC client this project did not write) from the Go module proxy into the
# download cache, and prints its path. Idempotent: a second run only prints the path.
set -euo pipefail
exec bash "$(dirname "$0")/../go/install-tool.sh" grpcurl "${GRPCURL_VERSION:-v1.9.3}" \
  github.com/fullstorydev/grpcurl/cmd/grpcurl
