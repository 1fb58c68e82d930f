#!/usr/bin/env bash
# install-tool.sh NAME VERSION PACKAGE: builds a Go command (`go install PACKAGE@VERSION`) from the
# Go module proxy into the download cache as $SCOREGATE_CACHE_DIR/NAME-VERSION/bin/NAME, and
# prints its path. Idempotent: a second run only prints the path.
set -euo pipefail
name="$1" version="$2" package="$3"
cache="${SCOREGATE_CACHE_DIR:-$HOME/.cache/scoregate}"
bin_dir="$cache/$name-$version/bin"
if [[ ! -x "$bin_dir/$name" ]]; then
  command -v go >/dev/null || { echo "$name: Go is required to build $name (apt-get install golang or use the machine's Go)" >&2; exit 1; }
  mkdir -p "$bin_dir"
  echo "$name: building $package@$version" >&2
  GOBIN="$bin_dir" GOFLAGS=-mod=mod GOTOOLCHAIN=local go install "$package@$version" >&2
fi
echo "$bin_dir/$name"
