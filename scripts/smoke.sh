#!/usr/bin/env bash
# `make smoke`: what a newcomer does after cloning, checked end to end.
#
# Starts scripts/run.sh (services, migrate, simulator, daemon) in the background in a
# process group of its own, waits for http://127.0.0.1:8708/readyz, sends one complaint
# through the simulated Telkomsel SMSC and checks that the reply carries a valid ticket
# number (`sms1708 ticket check`). On failure it prints the logs. Whatever happens, the
# background run is stopped and waited for.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH"
if gopath=$(go env GOPATH 2>/dev/null) && [ -n "$gopath" ]; then
  export PATH="$PATH:$gopath/bin"
fi

HTTP_PORT=8708
READY_TIMEOUT=60
REPLY_WAIT=30
FROM=6281234567890
# A text of its own each run: the very same PDU again within 15 minutes is taken for the SMSC
# redelivering it (SMPP has no MO id) and answered with nothing, by design.
TEXT="jalan rusak di desa kami, RT $(( $(date +%s) % 100000 ))"
STATE_DIR=${SMS1708_SERVICES_DIR:-/tmp/sms1708}
SIM_LOG="$STATE_DIR/smscsim.log"

log() { printf 'smoke: %s\n' "$*" >&2; }

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

if port_open "$HTTP_PORT"; then
  log "FAIL: port $HTTP_PORT is already in use (a make run in another terminal?); stop it and retry"
  exit 1
fi

# Services and the build can take minutes on a fresh machine (apt, module downloads); do
# them first so that the readiness deadline below measures only the daemon's start.
scripts/services.sh start
log "building"
go build -o bin/ ./cmd/...

RUN_LOG=$(mktemp "${TMPDIR:-/tmp}/sms1708-smoke-run.XXXXXX")
run_pid=

show_logs() {
  printf '\n----- scripts/run.sh output (%s) -----\n' "$RUN_LOG" >&2
  tail -n 200 "$RUN_LOG" >&2 || true
  printf '\n----- simulator log (%s) -----\n' "$SIM_LOG" >&2
  tail -n 100 "$SIM_LOG" >&2 || true
  printf -- '-----\n' >&2
}

fail() {
  log "FAIL: $*"
  show_logs
  exit 1
}

# stop ends the background run: SIGTERM to run.sh alone (it stops the daemon gracefully,
# then the simulator), then SIGKILL to its whole process group if it is still there.
stop() {
  local rc=$? i
  trap - EXIT INT TERM
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -TERM "$run_pid" 2>/dev/null || true
    for ((i = 0; i < 450; i++)); do
      kill -0 "$run_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$run_pid" 2>/dev/null; then
      log "scripts/run.sh did not stop within 45s; killing its process group"
      kill -KILL -- "-$run_pid" 2>/dev/null || true
      # The daemon and the simulator run in sessions of their own (see run.sh).
      local f pid
      for f in "$STATE_DIR/sms1708.pid" "$STATE_DIR/smscsim.pid"; do
        pid=$(cat "$f" 2>/dev/null || true)
        if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'bin/sms1708\|bin/smscsim'; then
          kill -KILL "$pid" 2>/dev/null || true
        fi
      done
      rc=1
    fi
  fi
  if [ -n "$run_pid" ]; then
    wait "$run_pid" 2>/dev/null || true
  fi
  rm -f "$RUN_LOG"
  exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting scripts/run.sh (log: $RUN_LOG)"
if command -v setsid >/dev/null; then
  setsid scripts/run.sh </dev/null >"$RUN_LOG" 2>&1 &
else
  set -m
  scripts/run.sh </dev/null >"$RUN_LOG" 2>&1 &
  set +m
fi
run_pid=$!

ready=
for ((i = 0; i < READY_TIMEOUT * 5; i++)); do
  if http_ok "$HTTP_PORT" /readyz; then
    ready=1
    break
  fi
  kill -0 "$run_pid" 2>/dev/null || fail "scripts/run.sh exited before http://127.0.0.1:$HTTP_PORT/readyz answered"
  sleep 0.2
done
[ -n "$ready" ] || fail "http://127.0.0.1:$HTTP_PORT/readyz did not answer 200 within ${READY_TIMEOUT}s"
log "ready after about $((i / 5))s; sending: $TEXT"

set +e
out=$(timeout $((REPLY_WAIT + 15)) bin/smscsim send --operator telkomsel --from "$FROM" --wait "${REPLY_WAIT}s" "$TEXT" 2>&1)
rc=$?
set -e
printf '%s\n' "$out" | sed 's/^/  | /' >&2

# The ticket number is the first run of exactly ten digits in the text of a reply (the
# prefix holds the citizen's number, 13 digits, so it is cut off first).
ticket=$(printf '%s\n' "$out" |
  sed -n "s/^reply from 1708 to $FROM: //p" |
  grep -oE '(^|[^0-9])[0-9]{10}([^0-9]|$)' | head -n 1 | tr -cd '0-9' || true)

if [ -z "$ticket" ]; then
  fail "no reply with a ticket number within ${REPLY_WAIT}s (smscsim send exit status $rc)"
fi
if ! bin/sms1708 ticket check "$ticket"; then
  fail "the reply's number $ticket is not a valid ticket number (sms1708 ticket check)"
fi
if [ "$rc" != 0 ]; then
  fail "smscsim send exited with status $rc"
fi
log "ok: ticket $ticket"
