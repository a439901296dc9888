#!/usr/bin/env bash
# The test command (`make test`): everything a clean clone needs, then every test.
#   1. install the local tools into .local/ (first run only)
#   2. lint template.yaml with cfn-lint, check its alarms, formatting and the crates' layering
#   3. start the local stack (DynamoDB Local + SQS) unless it already runs; stop it after
#   4. run the whole workspace's tests (unit tests, and HTTP tests against the local stack)
#   5. the contract: validate the generated OpenAPI document, fuzz every operation with
#      schemathesis against a real gateway process, build the TypeScript SDK from the document
#      and run it against that gateway, drive a storefront page in Chromium through that SDK,
#      build the offline reference page
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Reuse this checkout's running stack if there is one; otherwise start one on free ports, so
# a stack of another checkout (or anything else on the default ports) is never in the way.
if [ -f "$here/../../.local/run/stack.env" ] && [ "$(bash "$here/stack.sh" status | grep -c running || true)" -ge 3 ]; then
  set -a; source "$here/../../.local/run/stack.env"; set +a
  reuse=1
else
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  export SELLVY_DYNAMODB_PORT=$(free_port) SELLVY_SQS_PORT=$(free_port) SELLVY_LOCALSTRIPE_PORT=$(free_port)
  reuse=0
fi
source "$here/lib.sh"
cd "$ROOT"
started=$SECONDS

bash infra/local/setup.sh

log "cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml
log "the operator's alarms cover every function and what docs/deploy.md promises"
"$VENV/bin/python" infra/local/check_alarms.py

log "cargo fmt --check"
cargo fmt --all -- --check

log "the layers hold (no crate below HTTP reaches sellvy-api; only sellvy-store speaks DynamoDB)"
python3 infra/local/check_layers.py

gateway_pid=""
stop_stack=0
cleanup() {
  [ -n "$gateway_pid" ] && kill "$gateway_pid" 2>/dev/null
  [ "$stop_stack" = 1 ] && bash "$ROOT/infra/local/stack.sh" stop
  return 0
}
trap cleanup EXIT

# Start the stack unless a developer's stack is already up (then leave it running after).
if [ "$reuse" = 1 ]; then
  log "reusing the running local stack (DynamoDB on :$SELLVY_DYNAMODB_PORT)"
else
  stop_stack=1
  bash infra/local/stack.sh start
fi

export SELLVY_PYTHON="$VENV/bin/python"
log "running the tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
log "contract: the OpenAPI document is valid OpenAPI 3.1"
# The tools below run as processes: build them (a clean clone has none yet).
cargo build --quiet -p sellvy-reference -p sellvy-ops --bins
mkdir -p "$LOCAL/contract"
./target/debug/sellvy-openapi > "$LOCAL/contract/openapi.json"
"$VENV/bin/openapi-spec-validator" "$LOCAL/contract/openapi.json"
# The reference function serves the committed copy (embedded at build time).
if ! cmp -s "$LOCAL/contract/openapi.json" docs/openapi.json; then
  cp "$LOCAL/contract/openapi.json" docs/openapi.json
  log "docs/openapi.json is stale: the regenerated document is in the tree, commit it"
  exit 1
fi

log "contract: schemathesis fuzzes every operation against a gateway process"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=$(./target/debug/sellvy-admin create-store --name Fuzz --plan enterprise --per-minute 1000000 --burst 100000 --json \
  | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["keys"]["test"]["key"])')
# Fuzzing comes from one address: lift the storefront's per-client limit for this gateway.
SELLVY_STOREFRONT_CLIENT_LIMIT=1000000/100000 ./target/debug/sellvy-gateway --port "$port" > "$LOCAL/contract/gateway.log" 2>&1 &
gateway_pid=$!
wait_http "http://127.0.0.1:$port/v1/openapi.json" 30
pk=$(curl -sf -X POST "http://127.0.0.1:$port/v1/api_keys" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' -d '{"name": "Fuzz storefront", "type": "publishable"}' \
  | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["data"]["key"])')
# The seller's operations with the secret key, then the storefront's with the publishable one.
fuzz() {
  fuzz_as "$key" --exclude-tag Storefront && fuzz_as "$pk" --include-tag Storefront
}
fuzz_as() {
  local auth=$1; shift
  "$VENV/bin/schemathesis" run "http://127.0.0.1:$port/v1/openapi.json" "$@" \
    -H "Authorization: Bearer $auth" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --max-examples 100 --workers 1 --seed "${SELLVY_FUZZ_SEED:-1}" --no-color | tee "$LOCAL/contract/schemathesis.log"
  return "${PIPESTATUS[0]}"
}
if ! fuzz; then
  # A finding (a failed check) fails the run. schemathesis can also stop on an internal error of
  # its own (seen with 2 workers: Hypothesis parsing lambdas from two threads trips CPython 3.11's
  # "AST constructor recursion depth mismatch"; hence one worker); that is retried once.
  if grep -q "= FAILURES =" "$LOCAL/contract/schemathesis.log" || ! grep -q "= ERRORS =" "$LOCAL/contract/schemathesis.log"; then
    exit 1
  fi
  log "schemathesis stopped on an error of its own, not a finding: running it once more"
  fuzz
fi

log "the README's purchase walkthrough (docs/walkthrough.sh), with curl, against the gateway"
walk_key=$(./target/debug/sellvy-admin create-store --name Walkthrough --plan pro --json \
  | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["keys"]["test"]["key"])')
API="http://127.0.0.1:$port/v1" KEY="$walk_key" bash docs/walkthrough.sh

log "contract: the TypeScript SDK, generated from the document, against the gateway"
(
  cd shared/sdk-typescript
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --silent
  fi
  npx --no-install openapi-typescript "$LOCAL/contract/openapi.json" -o src/schema.d.ts >/dev/null
  if ! git diff --quiet -- src/schema.d.ts; then
    log "shared/sdk-typescript/src/schema.d.ts is stale: the regenerated file is in the tree, commit it"
    exit 1
  fi
  npx --no-install tsc -p .
  SELLVY_API_BASE="http://127.0.0.1:$port" SELLVY_API_KEY="$key" node dist/test/smoke.js
)

log "a storefront page in Chromium, through the TypeScript SDK (tests/browser)"
browser_key=$(./target/debug/sellvy-admin create-store --name Browser --plan pro --json \
  | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["keys"]["test"]["key"])')
"$VENV/bin/python" tests/browser/storefront_test.py "http://127.0.0.1:$port" "$browser_key"

# The fuzzing gateway is done: stopped (its poller would otherwise keep polling the queue).
kill "$gateway_pid" 2>/dev/null || true
wait "$gateway_pid" 2>/dev/null || true
gateway_pid=""
log "the sellers' dashboard in Chromium (tests/browser), on a gateway set as make dev's"
# As make dev: webhook endpoints may point at receivers on this machine; a short ladder (two
# attempts, half a second apart) so a delivery to a receiver that is down fails within the test.
# Its own table and queues: the browser always signs in from 127.0.0.1, whose sign-in throttle
# a stack kept running between test runs would otherwise carry over from one run to the next.
(
  suffix="$(date +%s)-$$"
  export SELLVY_TABLE_NAME="sellvy-dashboard-$suffix" SELLVY_DELIVERY_QUEUE_NAME="sellvy-dashboard-$suffix" \
    SELLVY_DELIVERY_DLQ_NAME="sellvy-dashboard-dlq-$suffix"
  "$VENV/bin/python" infra/local/create_resources.py template.yaml > /dev/null
  dash_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SELLVY_ALLOW_LOOPBACK=1 SELLVY_WEBHOOK_LADDER=0,0.5 ./target/debug/sellvy-gateway --port "$dash_port" \
    > "$LOCAL/contract/dashboard-gateway.log" 2>&1 &
  dash_pid=$!
  trap 'kill "$dash_pid" 2>/dev/null || true' EXIT
  wait_http "http://127.0.0.1:$dash_port/v1/openapi.json" 30
  owner_email="owner-$(date +%s%N)@example.com"
  owner_link=$(./target/debug/sellvy-admin create-store --name "Dashboard shop" --plan pro --json \
    --owner-email "$owner_email" --dashboard-url "http://127.0.0.1:$dash_port" \
    | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["owner"]["setup_link"])')
  "$VENV/bin/python" tests/browser/dashboard_test.py "http://127.0.0.1:$dash_port" "$owner_link" "$owner_email"
)

bash infra/local/reference.sh "$LOCAL/contract/openapi.json"
log "all tests passed in $((SECONDS - started)) s"
