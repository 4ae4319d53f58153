#!/usr/bin/env bash
# Starts (or stops) the local PostgreSQL and Redis that `make run` and `make test` use,
# installing what is missing. Idempotent: a second `start` finds them running and returns.
#
#   scripts/services.sh start|stop|status|env
#
# PostgreSQL runs from the machine's server binaries as the `postgres` user (initdb and
# pg_ctl refuse root), with its data under $SMS1708_SERVICES_DIR (default /tmp/sms1708),
# outside any checkout so that the postgres user can reach it. Both listen on loopback only.
set -euo pipefail

DIR=${SMS1708_SERVICES_DIR:-/tmp/sms1708}
# Ports below Linux's ephemeral range (32768-60999): a port inside it can be taken, while the
# server is down, by a client's own connection attempt to it — TCP connects a socket to itself
# when the kernel happens to pick the destination port as the source port — and the server
# then cannot bind it again (seen after a chaos crash of PostgreSQL on 55718).
PG_PORT=${SMS1708_PG_PORT:-25708}
REDIS_PORT=${SMS1708_REDIS_PORT:-26708}
PGDATA="$DIR/pg"
REDIS_DIR="$DIR/redis"

log() { printf 'services: %s\n' "$*" >&2; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing $* and not root: install it (apt-get install $*) and retry"
    exit 1
  fi
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "$@" >/dev/null
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    apt_install postgresql
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  printf '%s' "$d"
}

start_pg() {
  local bin
  bin=$(pg_bin)
  command -v psql >/dev/null || apt_install postgresql-client
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    log "initdb in $PGDATA"
    mkdir -p "$PGDATA"
    chown postgres: "$PGDATA" 2>/dev/null || true
    chmod 700 "$PGDATA"
    as_postgres "$bin/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Durability stays on (fsync, synchronous_commit): the ack-after-commit promise is
    # only as good as the commit. Connections are sized for tests running in parallel.
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA'
max_connections = 300
shared_buffers = 256MB
CONF
  fi
  # The port is given on the command line, so that a data directory made with another port
  # (postgresql.conf) serves on this one. A server running here on another port is restarted.
  if as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    local ready=0
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || ready=$?
    if [ "$ready" = 2 ]; then
      log "PostgreSQL in $PGDATA does not answer on port $PG_PORT; restarting it there"
      as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    fi
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_postgres "$bin/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null
  fi
  local psql=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='sms1708'")" != 1 ]; then
    "${psql[@]}" -c "create role sms1708 login superuser" >/dev/null
  fi
  local db
  for db in sms1708 sms1708_test; do
    if [ "$("${psql[@]}" -c "select 1 from pg_database where datname='$db'")" != 1 ]; then
      "${psql[@]}" -c "create database $db owner sms1708" >/dev/null
    fi
  done
}

stop_pg() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$bin" ] && [ -s "$PGDATA/PG_VERSION" ]; then
    as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
  fi
}

start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    return
  fi
  mkdir -p "$REDIS_DIR"
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  # Redis holds only what is hot and expendable (DESIGN.md): no persistence.
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
    --save '' --appendonly no --daemonize yes --logfile "$REDIS_DIR/redis.log" \
    --pidfile "$REDIS_DIR/redis.pid"
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  log "Redis did not start; see $REDIS_DIR/redis.log"
  exit 1
}

stop_redis() {
  if command -v redis-cli >/dev/null; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
}

print_env() {
  cat <<ENV
export SMS1708_DATABASE_URL='postgres://sms1708@127.0.0.1:$PG_PORT/sms1708?sslmode=disable'
export SMS1708_REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'
export SMS1708_TEST_DATABASE_URL='postgres://sms1708@127.0.0.1:$PG_PORT/sms1708_test?sslmode=disable'
export SMS1708_TEST_REDIS_URL='redis://127.0.0.1:$REDIS_PORT/1'
ENV
}

case "${1:-start}" in
  start) start_pg; start_redis ;;
  stop) stop_redis; stop_pg ;;
  status)
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
    psql -h 127.0.0.1 -p "$PG_PORT" -U sms1708 -d sms1708 -qAt -c 'select version()'
    ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
