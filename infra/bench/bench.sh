#!/usr/bin/env bash
# `make bench` (not part of `make test`): every HTTP function built in release for x86_64, and a
# bare lambda_http hello built the same way, each run under a Lambda Runtime API emulator
# (infra/bench/coldstart.py) against the local stack: binary size, init, first response, warm
# p50/p99, the function's CPU per warm request, peak RSS and the DynamoDB calls of a warm
# request, each also as a ratio to the hello's in the same run. BENCH_COLD and BENCH_WARM change
# the counts (default 20 × 100, cold starts round-robin over the functions after an unrecorded
# round of 12,000 warm invocations that warms DynamoDB Local's JVM);
# BENCH_ONLY=products,orders measures only those functions.
# BENCH_PEER=path/to/get-product adds the Rust peer (aws-samples/serverless-rust-demo, built
# apart: docs/performance.md says how) against a table of its own.
set -euo pipefail
source "$(dirname "$0")/../local/lib.sh"
cd "$ROOT"

# This checkout's stack, if it runs, is reused and left running; otherwise one is started and
# stopped after.
if [[ "$(bash infra/local/stack.sh status)" == *"dynamodb: running"* ]]; then
  set -a; source "$RUN_DIR/stack.env"; set +a
  source infra/local/lib.sh
else
  bash infra/local/stack.sh start
  trap 'bash "$ROOT/infra/local/stack.sh" stop' EXIT
fi

# BENCH_ONLY=products,orders measures only those functions (their binaries' names).
functions="${BENCH_ONLY:-products orders account categories coupons customers webhooks storefront dashboard reference}"
functions="$(tr ',' ' ' <<< "$functions")"
log "building $functions and the bare hello in release (the first build takes minutes on 2 cores)"
cargo build --quiet --release --bin bench-hello $(for f in $functions; do printf -- '--bin %s ' "$f"; done)
cargo build --quiet -p sellvy-ops --bins

log "a store to measure against"
store=$(./target/debug/sellvy-admin create-store --name Bench --plan enterprise --per-minute 1000000 --burst 100000 --json)
key=$("$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["keys"]["test"]["key"])' <<< "$store")
port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
./target/debug/sellvy-gateway --port "$port" > "$RUN_DIR/bench-gateway.log" 2>&1 &
gateway=$!
wait_http "http://127.0.0.1:$port/v1/openapi.json" 30
api() { curl -s -X "$1" "http://127.0.0.1:$port/v1$2" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
field() { "$VENV/bin/python" -c "import json,sys; print(json.load(sys.stdin)['data']['$1'])"; }
product=$(api POST /products '{"title": "Bench product", "type": "service", "price": 5}' | field id)
pk=$(api POST /api_keys '{"name": "Bench storefront", "type": "publishable"}' | field key)
kill "$gateway"

# As on AWS, the functions get the delivery queue's URL (no lookup at init).
export SELLVY_DELIVERY_QUEUE_URL=$("$VENV/bin/python" -c 'import boto3, os
print(boto3.client("sqs", endpoint_url=os.environ["SELLVY_SQS_ENDPOINT"]).get_queue_url(
    QueueName=os.environ["SELLVY_DELIVERY_QUEUE_NAME"])["QueueUrl"])')

peer=()
if [ -n "${BENCH_PEER:-}" ]; then
  export TABLE_NAME=bench-peer-products
  "$VENV/bin/python" - <<'PY'
import boto3, os
ddb = boto3.client("dynamodb", endpoint_url=os.environ["SELLVY_DYNAMODB_ENDPOINT"])
try:
    ddb.create_table(TableName=os.environ["TABLE_NAME"], BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
except ddb.exceptions.ResourceInUseException:
    pass
ddb.put_item(TableName=os.environ["TABLE_NAME"], Item={"id": {"S": "1"}, "name": {"S": "bench"}, "price": {"N": "5"}})
PY
  peer=(--request "peer=GET /1" "peer=$BENCH_PEER")
fi

# name | function (binary) | request | authorization
rows=(
  "products-get|products|GET /v1/products/$product|$key"
  "products-list|products|GET /v1/products|$key"
  "orders|orders|GET /v1/orders|$key"
  "account|account|GET /v1/store|$key"
  "categories|categories|GET /v1/categories|$key"
  "coupons|coupons|GET /v1/coupons|$key"
  "customers|customers|GET /v1/customers|$key"
  "webhooks|webhooks|GET /v1/webhook_endpoints|$key"
  "storefront|storefront|GET /v1/storefront/products/$product|$pk"
  "dashboard|dashboard|GET /dashboard/sign-in|"
  "reference|reference|GET /v1/openapi.json|"
)
args=(--request "hello=GET /")
binaries=(hello=target/release/bench-hello)
for row in "${rows[@]}"; do
  IFS='|' read -r name binary request bearer <<< "$row"
  case " $functions " in *" $binary "*) ;; *) continue ;; esac
  args+=(--request "$name=$request")
  binaries+=("$name=target/release/$binary")
  [ -z "$bearer" ] || args+=(--header "$name=authorization: Bearer $bearer")
done

log "measuring (${BENCH_COLD:-20} cold starts × ${BENCH_WARM:-100} warm invocations each)"
SELLVY_COST_HEADERS=1 SELLVY_STOREFRONT_CLIENT_LIMIT=1000000/100000 \
  "$VENV/bin/python" infra/bench/coldstart.py --baseline hello \
  --cold "${BENCH_COLD:-20}" --warm "${BENCH_WARM:-100}" "${args[@]}" "${peer[@]}" "${binaries[@]}"
