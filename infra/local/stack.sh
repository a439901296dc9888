#!/usr/bin/env bash
# The local AWS stack: DynamoDB Local and an SQS server (moto), on loopback.
#   stack.sh start    start both (reusing any already running from .local/run), then create the
#                     table and queues from template.yaml's own definitions
#   stack.sh stop     stop the processes this script started (by pid)
#   stack.sh status   say what runs
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$RUN_DIR"

start_dynamodb() {
  local pidfile="$RUN_DIR/dynamodb.pid"
  if is_alive "$pidfile"; then
    log "DynamoDB Local already running (pid $(cat "$pidfile"), port $SELLVY_DYNAMODB_PORT)"
    return
  fi
  log "starting DynamoDB Local on 127.0.0.1:$SELLVY_DYNAMODB_PORT"
  (cd "$DDB_DIR" && exec java -Xmx1g -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -sharedDb -disableTelemetry -port "$SELLVY_DYNAMODB_PORT" \
      > "$RUN_DIR/dynamodb.log" 2>&1) &
  echo $! > "$pidfile"
  wait_http "$SELLVY_DYNAMODB_ENDPOINT" 60 || { log "DynamoDB Local did not start: see .local/run/dynamodb.log"; exit 1; }
}

start_sqs() {
  local pidfile="$RUN_DIR/sqs.pid"
  if is_alive "$pidfile"; then
    log "SQS (moto) already running (pid $(cat "$pidfile"), port $SELLVY_SQS_PORT)"
    return
  fi
  log "starting SQS (moto) on 127.0.0.1:$SELLVY_SQS_PORT"
  ("$VENV/bin/moto_server" -H 127.0.0.1 -p "$SELLVY_SQS_PORT" > "$RUN_DIR/sqs.log" 2>&1) &
  echo $! > "$pidfile"
  wait_http "$SELLVY_SQS_ENDPOINT" 30 || { log "moto did not start: see .local/run/sqs.log"; exit 1; }
}

start_localstripe() {
  local pidfile="$RUN_DIR/localstripe.pid"
  if is_alive "$pidfile"; then
    log "Stripe emulator already running (pid $(cat "$pidfile"), port $SELLVY_LOCALSTRIPE_PORT)"
    return
  fi
  log "starting the Stripe emulator (localstripe) on 127.0.0.1:$SELLVY_LOCALSTRIPE_PORT"
  ("$VENV/bin/python" "$ROOT/infra/local/localstripe_server.py" --port "$SELLVY_LOCALSTRIPE_PORT" \
      > "$RUN_DIR/localstripe.log" 2>&1) &
  echo $! > "$pidfile"
  wait_http "http://127.0.0.1:$SELLVY_LOCALSTRIPE_PORT/js.stripe.com/v3/" 30 \
    || { log "localstripe did not start: see .local/run/localstripe.log"; exit 1; }
}

stop_one() {
  local name=$1 pidfile="$RUN_DIR/$1.pid"
  if is_alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    # The subshell's child (java / python) shares the process group of nothing we own, so
    # signal the recorded pid and its children.
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "stopped $name"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start)
    bash "$ROOT/infra/local/setup.sh"
    start_dynamodb
    start_sqs
    start_localstripe
    # Where this checkout's stack listens, for scripts that reuse it.
    printf 'SELLVY_DYNAMODB_PORT=%s\nSELLVY_SQS_PORT=%s\nSELLVY_LOCALSTRIPE_PORT=%s\n' \
      "$SELLVY_DYNAMODB_PORT" "$SELLVY_SQS_PORT" "$SELLVY_LOCALSTRIPE_PORT" > "$RUN_DIR/stack.env"
    "$VENV/bin/python" "$ROOT/infra/local/create_resources.py" "$ROOT/template.yaml"
    ;;
  stop)
    stop_one gateway
    stop_one localstripe
    stop_one sqs
    stop_one dynamodb
    rm -f "$RUN_DIR/stack.env"
    ;;
  status)
    for n in dynamodb sqs localstripe gateway; do
      if is_alive "$RUN_DIR/$n.pid"; then echo "$n: running (pid $(cat "$RUN_DIR/$n.pid"))"; else echo "$n: stopped"; fi
    done
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
