# shellcheck shell=bash
# Shared helpers for tools/infra/*.sh. Source it; do not execute it.
#
# Environment:
#   SCOREGATE_INFRA_DIR  state (data, logs, pidfiles); default <repo root>/.infra
#   SCOREGATE_CACHE_DIR  download cache, reused across clones; default $HOME/.cache/scoregate
#   INFRA_WAIT_SECONDS   readiness timeout per server; default 90

set -euo pipefail

INFRA_TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_TOOLS_DIR/../.." && pwd)"
INFRA_DIR="${SCOREGATE_INFRA_DIR:-$REPO_ROOT/.infra}"
CACHE_DIR="${SCOREGATE_CACHE_DIR:-${HOME:-/root}/.cache/scoregate}"
INFRA_WAIT_SECONDS="${INFRA_WAIT_SECONDS:-90}"
export DEBIAN_FRONTEND=noninteractive

mkdir -p "$INFRA_DIR" "$CACHE_DIR"
INFRA_DIR="$(cd "$INFRA_DIR" && pwd)"
CACHE_DIR="$(cd "$CACHE_DIR" && pwd)"

# The component name is the calling script's basename (redis, kafka, ...).
COMPONENT="${COMPONENT:-$(basename "${0%.sh}")}"

log() { printf '[%s %s] %s\n' "$COMPONENT" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# state_dir NAME -> creates and prints $INFRA_DIR/NAME
state_dir() { mkdir -p "$INFRA_DIR/$1"; printf '%s\n' "$INFRA_DIR/$1"; }

# tail_logs FILE... : print the last 40 lines of each existing log file.
tail_logs() {
  local f
  for f in "$@"; do
    if [[ -f "$f" ]]; then
      printf '%s\n' "----- last 40 lines of $f -----" >&2
      tail -n 40 "$f" >&2 || true
      printf '%s\n' "----- end of $f -----" >&2
    else
      printf '%s\n' "----- (no log file $f) -----" >&2
    fi
  done
}

# pid_alive PIDFILE PATTERN : true when the pidfile names a live process whose
# command line contains PATTERN (guards against pid reuse).
pid_alive() {
  local pidfile="$1" pattern="$2" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(head -n 1 "$pidfile" 2>/dev/null | tr -dc '0-9')"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"
}

read_pid() { head -n 1 "$1" 2>/dev/null | tr -dc '0-9'; }

# stop_pidfile PIDFILE PATTERN [SECONDS] : SIGTERM, wait, then SIGKILL. Always exits 0
# when nothing is running.
stop_pidfile() {
  local pidfile="$1" pattern="$2" secs="${3:-30}" pid i
  if ! pid_alive "$pidfile" "$pattern"; then
    rm -f "$pidfile"
    log "not running"
    return 0
  fi
  pid="$(read_pid "$pidfile")"
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not exit after ${secs}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
  log "stopped"
}

# port_open PORT : true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_ready DESCRIPTION PIDFILE PATTERN CHECK_FUNCTION LOGFILE... : poll CHECK_FUNCTION
# once a second for up to INFRA_WAIT_SECONDS; fail fast if the process dies. On failure
# print the log tails and exit 1. PIDFILE may be "-" to skip the liveness check.
wait_ready() {
  local desc="$1" pidfile="$2" pattern="$3" check="$4"
  shift 4
  local start=$SECONDS
  while ((SECONDS - start < INFRA_WAIT_SECONDS)); do
    if "$check" >/dev/null 2>&1; then
      log "$desc ready after $((SECONDS - start))s"
      return 0
    fi
    # Liveness by pid alone: right after the fork the child may not have exec'd the server yet,
    # so its command line does not match the pattern for a moment (seen as a false "exited").
    if [[ "$pidfile" != "-" ]] && ! kill -0 "$(read_pid "$pidfile")" 2>/dev/null; then
      log "ERROR: $desc process exited before becoming ready"
      tail_logs "$@"
      exit 1
    fi
    sleep 1
  done
  log "ERROR: $desc not ready after ${INFRA_WAIT_SECONDS}s"
  tail_logs "$@"
  # Do not leave a half-started server holding the ports.
  [[ "$pidfile" != "-" ]] && stop_pidfile "$pidfile" "$pattern" 10
  exit 1
}

# with_lock NAME CMD... : run CMD holding an exclusive lock (serialises apt/maven when
# up.sh starts several components in parallel).
with_lock() {
  local name="$1"
  shift
  mkdir -p "$CACHE_DIR/locks"
  (
    flock -w 900 9 || die "could not take lock $name"
    "$@"
  ) 9>"$CACHE_DIR/locks/$name.lock"
}

_apt_install_locked() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ "$(id -u)" == 0 ]] || die "need root to apt-get install ${missing[*]}"
  # Keep apt from starting the distro's own services (they would take our ports).
  local policy_added=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  local stamp="$CACHE_DIR/locks/apt-updated" rc=0
  if [[ -z "$(find "$stamp" -mmin -120 2>/dev/null)" ]]; then
    log "apt-get update"
    if apt-get -o DPkg::Lock::Timeout=300 update -qq >&2; then touch "$stamp"; else rc=$?; fi
  fi
  if ((rc == 0)); then
    log "apt-get install -y ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" \
      >"$CACHE_DIR/locks/apt-install.log" 2>&1 || { rc=$?; tail_logs "$CACHE_DIR/locks/apt-install.log"; }
  fi
  ((policy_added)) && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get failed for ${missing[*]} (rc=$rc)"
}

# apt_install PKG... : install the Debian packages that are missing (serialised).
apt_install() { with_lock apt _apt_install_locked "$@"; }

# mvn_run ARGS... : run Maven in batch mode, serialised (the local repo ~/.m2 is not
# safe for concurrent downloads).
mvn_run() {
  command -v mvn >/dev/null || apt_install maven
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  mkdir -p "$CACHE_DIR/locks"
  local out="$CACHE_DIR/locks/mvn-$COMPONENT.log"
  if ! with_lock maven mvn -B -ntp -Dstyle.color=never "$@" >"$out" 2>&1; then
    tail_logs "$out"
    return 1
  fi
}

need_java() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
}

# dispatch "$@" : standard install|start|stop|status|restart command dispatch.
dispatch() {
  local cmd="${1:-}"
  case "$cmd" in
    install) do_install ;;
    start) do_install && do_start ;;
    stop) do_stop ;;
    restart) do_stop && do_install && do_start ;;
    status) do_status ;;
    *) echo "usage: $0 install|start|stop|restart|status" >&2; exit 2 ;;
  esac
}
