#!/usr/bin/env bash
# PostgreSQL (Debian packages) on 127.0.0.1:${PGPORT:-5432}, run as the `postgres` system user,
# with role/password/database scoregate/scoregate/scoregate.
# Usage: tools/infra/postgres.sh install|start|stop|restart|status
set -euo pipefail
COMPONENT=postgres
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PGPORT="${PGPORT:-5432}"
PG_USER=postgres
DB_NAME=scoregate
DB_ROLE=scoregate
DB_PASSWORD=scoregate

find_bindir() {
  local d
  # Newest major version first.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && { printf '%s\n' "$d"; return 0; }
  done
  return 1
}

ensure_user() {
  id -u "$PG_USER" >/dev/null 2>&1 && return 0
  log "creating system user $PG_USER"
  useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash "$PG_USER"
}

do_install() {
  if ! find_bindir >/dev/null; then
    apt_install postgresql
  fi
  find_bindir >/dev/null || die "no PostgreSQL binaries under /usr/lib/postgresql/*/bin after install"
  command -v runuser >/dev/null || die "runuser (util-linux) is required"
  ensure_user
}

as_pg() { runuser -u "$PG_USER" -- "$@"; }

# The data dir must be reachable by the postgres user; when the state dir is not (for
# example a clone under /root), fall back to a directory keyed by the state dir's path.
pg_dir() {
  local want="$INFRA_DIR/postgres"
  mkdir -p "$want"
  if as_pg test -x "$want" 2>/dev/null && as_pg test -r "$INFRA_DIR" 2>/dev/null; then
    printf '%s\n' "$want"
  else
    local alt
    alt="/var/tmp/scoregate-postgres-$(printf '%s' "$INFRA_DIR" | cksum | cut -d' ' -f1)"
    mkdir -p "$alt"
    printf '%s\n' "$alt" >"$want/location"
    printf '%s\n' "$alt"
  fi
}

setup_paths() {
  BINDIR="$(find_bindir)"
  PGDIR="$(pg_dir)"
  DATA="$PGDIR/data"
  SOCKDIR="$PGDIR/run"
  LOGFILE="$PGDIR/postgres.log"
}

healthy() {
  "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -t 3
}

psql_su() { as_pg "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PGPORT" -U postgres -d postgres "$@"; }

ensure_db() {
  if [[ "$(psql_su -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")" != "1" ]]; then
    log "creating role $DB_ROLE"
    psql_su -c "CREATE ROLE $DB_ROLE LOGIN PASSWORD '$DB_PASSWORD'"
  fi
  if [[ "$(psql_su -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]]; then
    log "creating database $DB_NAME"
    psql_su -c "CREATE DATABASE $DB_NAME OWNER $DB_ROLE"
  fi
}

running() { [[ -f "$DATA/postmaster.pid" ]] && as_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

do_start() {
  setup_paths
  if running && healthy; then
    log "already running on 127.0.0.1:$PGPORT (pid $(read_pid "$DATA/postmaster.pid"))"
    ensure_db
    return 0
  fi
  if ! running && port_open "$PGPORT"; then
    # E.g. another clone's tools/infra already runs it: fine if our role and database work.
    if PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=5 "$BINDIR/psql" -X -q -h 127.0.0.1 -p "$PGPORT" \
      -U "$DB_ROLE" -d "$DB_NAME" -tAc 'SELECT 1' >/dev/null 2>&1; then
      log "a server not started by this script already serves $DB_NAME as $DB_ROLE on 127.0.0.1:$PGPORT; using it"
      return 0
    fi
    die "port $PGPORT is already taken by a server not started by this script (stop it or set PGPORT)"
  fi
  mkdir -p "$SOCKDIR"
  chown "$PG_USER:" "$PGDIR" "$SOCKDIR"
  chmod 700 "$SOCKDIR"
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    log "initdb $DATA"
    rm -rf "$DATA"
    install -d -o "$PG_USER" -m 700 "$DATA"
    as_pg "$BINDIR/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C \
      --auth-local=trust --auth-host=scram-sha-256 >"$PGDIR/initdb.log" 2>&1 \
      || { tail_logs "$PGDIR/initdb.log"; die "initdb failed"; }
  fi
  touch "$LOGFILE"
  chown "$PG_USER:" "$LOGFILE"
  if ! running; then
    rm -f "$DATA/postmaster.pid"
    log "starting PostgreSQL ($BINDIR) on 127.0.0.1:$PGPORT, data $DATA"
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t "$INFRA_WAIT_SECONDS" -o \
      "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$SOCKDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null || { tail_logs "$LOGFILE"; die "pg_ctl start failed"; }
  fi
  wait_ready "postgres" - postgres healthy "$LOGFILE"
  ensure_db
}

do_stop() {
  BINDIR="$(find_bindir 2>/dev/null)" || { log "not installed; not running"; return 0; }
  local pgdir="$INFRA_DIR/postgres"
  [[ -f "$pgdir/location" ]] && pgdir="$(cat "$pgdir/location")"
  DATA="$pgdir/data"
  if [[ -f "$DATA/postmaster.pid" ]] && as_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "stopping"
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    log "stopped"
  else
    log "not running"
  fi
}

do_status() {
  BINDIR="$(find_bindir 2>/dev/null)" || { log "not installed"; return 1; }
  if healthy; then
    log "running on 127.0.0.1:$PGPORT (DATABASE_URL=postgres://$DB_ROLE:$DB_PASSWORD@127.0.0.1:$PGPORT/$DB_NAME)"
  else
    log "not running"
    return 1
  fi
}

dispatch "$@"
