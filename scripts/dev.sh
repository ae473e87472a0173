#!/usr/bin/env bash
# Local stack for `make run` / `make stop`: the Temporal dev server (UI on :8233), the
# sandbox (Okta :8180, Konnect :8181) and a dcrflow worker, in the background, with
# logs and pids in .run/. Waits are bounded; a failed start prints the log.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=.run
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}
SANDBOX_OKTA_ADDR=${SANDBOX_OKTA_ADDR:-127.0.0.1:8180}
SANDBOX_KONNECT_ADDR=${SANDBOX_KONNECT_ADDR:-127.0.0.1:8181}

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# wait_for NAME CHECK: up to 30 s for CHECK to succeed while NAME's process lives.
wait_for() {
  local name=$1 check=$2
  for _ in $(seq 1 300); do
    if eval "$check" >/dev/null 2>&1; then return 0; fi
    if ! alive "$name"; then echo "$name exited; its log:" >&2; tail -20 "$RUN/$name.log" >&2; return 1; fi
    sleep 0.1
  done
  echo "$name did not become ready in 30 s; see $RUN/$name.log" >&2
  return 1
}

port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }

start() { # start NAME CMD...: run in the background unless already running
  local name=$1; shift
  if alive "$name"; then echo "$name already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  nohup "$@" >"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

# register_search_attributes makes sure dcrflow's search attributes exist (a dev DB
# kept from an older run may lack them); "already exists" is fine.
register_search_attributes() {
  local name out
  for name in DcrflowPortal DcrflowStep DcrflowOutcome DcrflowDrift; do
    for _ in $(seq 1 50); do
      if out=$(bin/temporal operator search-attribute create --address "127.0.0.1:$TEMPORAL_PORT" --name "$name" --type Keyword 2>&1) \
        || grep -qi "already" <<<"$out"; then continue 2; fi
      sleep 0.2 # the namespace may not be ready yet
    done
    echo "could not register search attribute $name: $out" >&2; return 1
  done
}

up() {
  mkdir -p "$RUN"
  for p in "127.0.0.1:$TEMPORAL_PORT" "127.0.0.1:$TEMPORAL_UI_PORT" "$SANDBOX_OKTA_ADDR" "$SANDBOX_KONNECT_ADDR"; do
    if port_open "$p" && ! alive temporal && ! alive sandbox; then
      echo "port $p is taken by another program; stop it or set TEMPORAL_PORT/TEMPORAL_UI_PORT/SANDBOX_*_ADDR" >&2; exit 1
    fi
  done
  start temporal bin/temporal server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$RUN/temporal.db" --log-level warn --dynamic-config-value system.enableActivityEagerExecution=true \
    --search-attribute DcrflowPortal=Keyword --search-attribute DcrflowStep=Keyword --search-attribute DcrflowOutcome=Keyword --search-attribute DcrflowDrift=Keyword
  start sandbox "$RUN/sandbox" -okta-addr "$SANDBOX_OKTA_ADDR" -konnect-addr "$SANDBOX_KONNECT_ADDR"
  wait_for temporal "port_open 127.0.0.1:$TEMPORAL_PORT"
  wait_for sandbox "port_open $SANDBOX_KONNECT_ADDR"
  register_search_attributes
  stop_one worker # always the freshly built worker, never a stale one
  DCRFLOW_TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT" DCRFLOW_OKTA_ORG_URL="http://$SANDBOX_OKTA_ADDR" \
    DCRFLOW_KONNECT_BASE_URL="http://$SANDBOX_KONNECT_ADDR" start worker "$RUN/worker" -config examples/worker-sandbox.yaml
  wait_for worker "grep -q 'Started Worker' $RUN/worker.log"
  echo "up: Temporal 127.0.0.1:$TEMPORAL_PORT (UI http://localhost:$TEMPORAL_UI_PORT), sandbox okta http://$SANDBOX_OKTA_ADDR konnect http://$SANDBOX_KONNECT_ADDR, worker (logs in $RUN/)"
}

stop_one() { # SIGTERM, up to 10 s for a clean exit, then SIGKILL
  local name=$1
  if alive "$name"; then
    kill "$(cat "$RUN/$name.pid")"
    for _ in $(seq 1 100); do alive "$name" || break; sleep 0.1; done
    if alive "$name"; then kill -9 "$(cat "$RUN/$name.pid")"; fi
    echo "stopped $name"
  fi
  rm -f "$RUN/$name.pid"
}

down() {
  for name in worker sandbox temporal; do stop_one "$name"; done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
