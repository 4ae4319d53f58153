#!/usr/bin/env bash
# `make run`: everything a developer needs to see sms1708 take an SMS, on one machine.
#
#   1. starts PostgreSQL and Redis (scripts/services.sh start, installing what is missing)
#   2. builds bin/sms1708 and bin/smscsim
#   3. migrates the database (sms1708 migrate --config configs/dev.yaml)
#   4. starts the SMSC simulator (smscsim serve) in the background, logging to
#      $SMS1708_SERVICES_DIR/smscsim.log (default /tmp/sms1708/smscsim.log), and waits for
#      its control endpoint http://127.0.0.1:2780/healthz
#   5. runs the daemon (sms1708 serve --config configs/dev.yaml) with the services'
#      SMS1708_* URLs in its environment, until it exits or this script gets INT or TERM
#   6. on the way out, stops the daemon and the simulator it started.
#
# The daemon and the simulator each run in a session of their own, so that a Ctrl-C reaches
# them only through this script: the first INT or TERM becomes one SIGTERM to the daemon
# (a graceful drain), a second one a second SIGTERM (the daemon exits at once). A simulator
# or daemon left behind by a run that was killed outright is found by its pid file and
# stopped before a new one starts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH"
if gopath=$(go env GOPATH 2>/dev/null) && [ -n "$gopath" ]; then
  export PATH="$PATH:$gopath/bin"
fi

CONFIG=${SMS1708_CONFIG:-configs/dev.yaml}
STATE_DIR=${SMS1708_SERVICES_DIR:-/tmp/sms1708}
SIM_LOG="$STATE_DIR/smscsim.log"
SIM_PID="$STATE_DIR/smscsim.pid"
DAEMON_PID="$STATE_DIR/sms1708.pid"
SIM_CONTROL_PORT=2780
HTTP_PORT=8708

log() { printf 'run: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# port_open reports whether something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# http_ok reports whether GET http://127.0.0.1:$1$2 answers 200, with curl when there is one.
http_ok() {
  if command -v curl >/dev/null; then
    curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1$2" 2>/dev/null
    return
  fi
  timeout 3 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
    IFS= read -r status <&3 || exit 1
    [[ $status == HTTP/1.?" 200"* ]]' _ "$1" "$2" 2>/dev/null
}

# stop_pidfile stops the process named in pid file $1 if it is still the program $2
# (a pid may have been reused since), waiting up to $3 seconds before SIGKILL.
stop_pidfile() {
  local file=$1 prog=$2 grace=$3 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$prog"; then
    log "stopping $prog (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < grace * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$prog (pid $pid) did not stop within ${grace}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

# SESSION runs a command in a session (and process group) of its own when setsid exists.
# (An array, not a function: a function run with & would add a subshell between $! and
# the program.)
SESSION=()
if command -v setsid >/dev/null; then
  SESSION=(setsid)
fi

[ -f "$CONFIG" ] || die "no $CONFIG"

scripts/services.sh start
eval "$(scripts/services.sh env)"

log "building"
go build -o bin/ ./cmd/...

log "migrating"
bin/sms1708 migrate --config "$CONFIG"

mkdir -p "$STATE_DIR"
stop_pidfile "$DAEMON_PID" bin/sms1708 30
stop_pidfile "$SIM_PID" bin/smscsim 10
if port_open "$HTTP_PORT"; then
  die "port $HTTP_PORT is in use: is another sms1708 running (make run in another terminal)? stop it first"
fi
for port in 2775 2776 2777 "$SIM_CONTROL_PORT"; do
  if port_open "$port"; then
    die "port $port is in use: is another smscsim running? stop it first"
  fi
done

sim=
daemon=
cleanup() {
  local rc=$?
  trap - INT TERM EXIT
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    stop_pidfile "$DAEMON_PID" bin/sms1708 30
  fi
  if [ -n "$sim" ]; then
    stop_pidfile "$SIM_PID" bin/smscsim 10
    wait "$sim" 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting the SMSC simulator (log: $SIM_LOG)"
"${SESSION[@]}" bin/smscsim serve </dev/null >"$SIM_LOG" 2>&1 &
sim=$!
echo "$sim" >"$SIM_PID"

for ((i = 0; i < 300; i++)); do
  http_ok "$SIM_CONTROL_PORT" /healthz && break
  if ! kill -0 "$sim" 2>/dev/null; then
    tail -n 50 "$SIM_LOG" >&2 || true
    die "the simulator exited; its log is above ($SIM_LOG)"
  fi
  sleep 0.1
done
http_ok "$SIM_CONTROL_PORT" /healthz || {
  tail -n 50 "$SIM_LOG" >&2 || true
  die "the simulator did not answer http://127.0.0.1:$SIM_CONTROL_PORT/healthz within 30s"
}

log "starting sms1708 serve --config $CONFIG (http://127.0.0.1:$HTTP_PORT/readyz, /metrics; Ctrl-C stops)"
"${SESSION[@]}" bin/sms1708 serve --config "$CONFIG" &
daemon=$!
echo "$daemon" >"$DAEMON_PID"

forward() { kill -TERM "$daemon" 2>/dev/null || true; }
trap forward INT TERM

# wait returns early when a trapped signal arrives; keep waiting until the daemon is gone,
# then ask once more: bash keeps a finished child's status, so we exit with the daemon's own.
while kill -0 "$daemon" 2>/dev/null; do
  wait "$daemon" || true
done
if wait "$daemon"; then status=0; else status=$?; fi
daemon=
rm -f "$DAEMON_PID"
exit "$status"
