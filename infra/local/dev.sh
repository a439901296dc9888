#!/usr/bin/env bash
# `make dev`: the whole backend on this machine. Starts DynamoDB Local, SQS and the Stripe
# emulator (live-mode payments), creates the
# table and queues from template.yaml, creates a demo store and prints its keys, then serves
# every function's routes on http://127.0.0.1:$SELLVY_PORT/v1 until Ctrl-C (which also stops
# the local stack).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bash infra/local/stack.sh start
trap 'bash "$ROOT/infra/local/stack.sh" stop' EXIT

log "building the gateway"
cargo build --quiet -p sellvy-ops --bins

export SELLVY_COST_HEADERS=1
# Local development: dynamic goods (and webhooks) may be served by a receiver on this machine.
export SELLVY_ALLOW_LOOPBACK=1
# Live-mode payments go through the local Stripe emulator, whose callbacks come back here.
export SELLVY_STRIPE_API_BASE="http://127.0.0.1:$SELLVY_LOCALSTRIPE_PORT"
export SELLVY_STRIPE_SECRET_KEY="sk_test_local_dev" SELLVY_STRIPE_WEBHOOK_SECRET="whsec_local_dev"
export SELLVY_STRIPE_PUBLISHABLE_KEY="pk_test_local_dev"
demo=$(./target/debug/sellvy-admin create-store --name "Demo Store" --plan pro --json \
  --owner-email "demo-$(date +%s)@sellvy.local" --dashboard-url "http://localhost:$SELLVY_PORT")
owner_email=$(printf '%s' "$demo" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["owner"]["email"])')
owner_link=$(printf '%s' "$demo" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["owner"]["setup_link"])')
live=$(printf '%s' "$demo" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["keys"]["live"]["key"])')
test=$(printf '%s' "$demo" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["keys"]["test"]["key"])')
printf '%s\n' "$demo" > "$LOCAL/demo-store.json"

log "starting the gateway"
./target/debug/sellvy-gateway --port "$SELLVY_PORT" &
gateway=$!
trap 'kill ${gateway:-} 2>/dev/null; bash "$ROOT/infra/local/stack.sh" stop' EXIT
# Ctrl-C (or a TERM) ends the wait below at once, and the EXIT trap cleans up.
trap 'exit 130' INT TERM
wait_http "http://127.0.0.1:$SELLVY_PORT/v1/openapi.json" 30
curl -s -o /dev/null -X POST "$SELLVY_STRIPE_API_BASE/_config/webhooks/$SELLVY_STRIPE_SECRET_KEY" \
  -d "url=http://127.0.0.1:$SELLVY_PORT/v1/gateways/stripe/webhook" -d "secret=$SELLVY_STRIPE_WEBHOOK_SECRET"
publishable=$(curl -s -X POST "http://127.0.0.1:$SELLVY_PORT/v1/api_keys" -H "Authorization: Bearer $test" \
  -H 'Content-Type: application/json' -d '{"name": "Demo storefront", "type": "publishable"}' \
  | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["data"]["key"])')
cat <<MSG

  Sellvy is running on http://127.0.0.1:$SELLVY_PORT/v1

  Demo store (saved in .local/demo-store.json):
    live key: $live
    test key: $test
    storefront (publishable, test): $publishable

  Dashboard: http://localhost:$SELLVY_PORT/dashboard
    owner $owner_email: choose a password (link works once, for 24 hours) at
    $owner_link

  Contract: http://127.0.0.1:$SELLVY_PORT/v1/openapi.json (bash infra/local/reference.sh renders it)

  Try:
    curl -s http://127.0.0.1:$SELLVY_PORT/v1/products -H "Authorization: Bearer $test"

  Ctrl-C stops the gateway and the local stack.

MSG
wait "$gateway"
