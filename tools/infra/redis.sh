#!/usr/bin/env bash
# Redis (Debian redis-server) on 127.0.0.1:${REDIS_PORT:-6379}, no persistence.
# Usage: tools/infra/redis.sh install|start|stop|restart|status
set -euo pipefail
COMPONENT=redis
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_PORT="${REDIS_PORT:-6379}"
DIR="$(state_dir redis)"
PIDFILE="$DIR/redis.pid"
LOGFILE="$DIR/redis.log"

do_install() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server redis-tools
  fi
}

healthy() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]; }

do_start() {
  if pid_alive "$PIDFILE" redis-server && healthy; then
    log "already running on 127.0.0.1:$REDIS_PORT (pid $(read_pid "$PIDFILE"))"
    return 0
  fi
  if healthy; then
    log "something not started by this script already answers PING on 127.0.0.1:$REDIS_PORT; using it"
    return 0
  fi
  port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by something that is not Redis"
  rm -f "$PIDFILE"
  log "starting redis-server on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --save "" --appendonly no \
    --daemonize yes --pidfile "$PIDFILE" --logfile "$LOGFILE" --dir "$DIR" \
    || { tail_logs "$LOGFILE"; die "redis-server failed to start"; }
  wait_ready "redis" - redis-server healthy "$LOGFILE"
}

do_stop() {
  if pid_alive "$PIDFILE" redis-server; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  stop_pidfile "$PIDFILE" redis-server 15
}

do_status() {
  if healthy; then
    log "running on 127.0.0.1:$REDIS_PORT (REDIS_URL=redis://127.0.0.1:$REDIS_PORT)"
  else
    log "not running"
    return 1
  fi
}

dispatch "$@"
