#!/usr/bin/env bash
# Zipkin server 3.x (exec jar from Maven Central, in-memory storage) on
# http://127.0.0.1:${ZIPKIN_PORT:-9411}. The jar is cached in $SCOREGATE_CACHE_DIR/zipkin-<version>/.
# Usage: tools/infra/zipkin.sh install|start|stop|restart|status
set -euo pipefail
COMPONENT=zipkin
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ZIPKIN_VERSION="${ZIPKIN_VERSION:-3.6.1}"
ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"
JAR_DIR="$CACHE_DIR/zipkin-$ZIPKIN_VERSION"
JAR="$JAR_DIR/zipkin-server-$ZIPKIN_VERSION-exec.jar"
DIR="$(state_dir zipkin)"
PIDFILE="$DIR/zipkin.pid"
LOGFILE="$DIR/zipkin.log"
PATTERN="$JAR"

do_install() {
  need_java
  [[ -s "$JAR" ]] && return 0
  log "fetching io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec from Maven Central"
  mkdir -p "$JAR_DIR"
  local tmp="$JAR_DIR/.download"
  rm -rf "$tmp"
  mvn_run org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" -DoutputDirectory="$tmp" \
    || die "maven could not fetch the Zipkin server jar"
  mv "$tmp/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$JAR"
  rm -rf "$tmp"
}

healthy() { curl -sf -m 3 "http://127.0.0.1:$ZIPKIN_PORT/health" >/dev/null; }

do_start() {
  if pid_alive "$PIDFILE" "$PATTERN" && healthy; then
    log "already running on 127.0.0.1:$ZIPKIN_PORT (pid $(read_pid "$PIDFILE"))"
    return 0
  fi
  if pid_alive "$PIDFILE" "$PATTERN"; then
    log "process $(read_pid "$PIDFILE") alive but not healthy; restarting it"
    stop_pidfile "$PIDFILE" "$PATTERN" 20
  fi
  if port_open "$ZIPKIN_PORT"; then
    if healthy; then
      log "a server not started by this script already answers /health on 127.0.0.1:$ZIPKIN_PORT; using it"
      return 0
    fi
    die "port $ZIPKIN_PORT is taken by something that is not Zipkin"
  fi
  rm -f "$PIDFILE"
  log "starting Zipkin $ZIPKIN_VERSION on 127.0.0.1:$ZIPKIN_PORT (in-memory storage)"
  # Zipkin 3 serves HTTP through Armeria; armeria.ports[0].ip binds it to loopback only.
  STORAGE_TYPE=mem QUERY_PORT="$ZIPKIN_PORT" SELF_TRACING_ENABLED=false \
    setsid nohup java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true \
    -jar "$JAR" \
    --armeria.ports[0].port="$ZIPKIN_PORT" \
    --armeria.ports[0].ip=127.0.0.1 \
    --armeria.ports[0].protocols[0]=http \
    </dev/null >"$LOGFILE" 2>&1 &
  echo $! >"$PIDFILE"
  wait_ready "zipkin" "$PIDFILE" "$PATTERN" healthy "$LOGFILE"
}

do_stop() {
  stop_pidfile "$PIDFILE" "$PATTERN" 20
}

do_status() {
  if healthy; then
    log "running on 127.0.0.1:$ZIPKIN_PORT (ZIPKIN_URL=http://127.0.0.1:$ZIPKIN_PORT)"
  else
    log "not running"
    return 1
  fi
}

dispatch "$@"
