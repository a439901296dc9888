#!/usr/bin/env bash
# A full purchase in test mode, with curl: a serials product, a publishable key, a checkout, a
# sandbox payment that delivers a serial, the seller's view, a refund. The test command runs
# this very file against a local gateway (so the README's walkthrough cannot rot).
#   API=http://127.0.0.1:3000/v1 KEY=sk_test_… bash docs/walkthrough.sh
set -euo pipefail
: "${API:?set API, e.g. http://127.0.0.1:3000/v1}" "${KEY:?set KEY to a full-access sk_test_ key}"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# 1. The seller creates a product holding three serials.
PRODUCT=$(curl -sf -X POST "$API/products" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"title": "Game key", "type": "serials", "price": 9.99, "info": "KEY-AAA,KEY-BBB,KEY-CCC"}' | json '["data"]["id"]')

# 2. ... and a publishable key for the storefront.
PK=$(curl -sf -X POST "$API/api_keys" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"name": "Web shop", "type": "publishable"}' | json '["data"]["key"]')

# 3. The buyer's browser checks out with the publishable key: the serial is reserved.
CHECKOUT=$(curl -sf -X POST "$API/storefront/checkout" -H "Authorization: Bearer $PK" -H 'Content-Type: application/json' \
  -d "{\"product_id\": \"$PRODUCT\", \"quantity\": 1, \"email\": \"buyer@example.com\", \"gateway\": \"stripe\"}")
ORDER=$(echo "$CHECKOUT" | json '["data"]["order"]["id"]')
TOKEN=$(echo "$CHECKOUT" | json '["data"]["access_token"]')
echo "order $(echo "$CHECKOUT" | json '["data"]["order"]["order_number"]'): $(echo "$CHECKOUT" | json '["data"]["order"]["status"]')"

# 4. Test mode: the sandbox pays it, and the serial is delivered.
PAID=$(curl -sf -X POST "$API/storefront/orders/$ORDER/sandbox_payment" -H "Authorization: Bearer $PK" \
  -H "X-Order-Token: $TOKEN" -H 'Content-Type: application/json' -d '{"outcome": "succeeded"}')
SERIAL=$(echo "$PAID" | json '["data"]["delivery"]["items"][0]')
echo "delivered: $SERIAL"

# 5. The buyer reads the order with its token; the seller sees it in the orders list.
curl -sf "$API/storefront/orders/$ORDER" -H "Authorization: Bearer $PK" -H "X-Order-Token: $TOKEN" | json '["data"]["status"]'
curl -sf "$API/orders?status=completed" -H "Authorization: Bearer $KEY" | json '["meta"]["total"]'

# 6. The seller refunds it in full.
REFUNDED=$(curl -sf -X POST "$API/orders/$ORDER/refund" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"reason": "Customer requested refund"}')
echo "refund: $(echo "$REFUNDED" | json '["data"]["payment_status"]') $(echo "$REFUNDED" | json '["data"]["refunded"]')"
[ "$SERIAL" = "KEY-AAA" ] && [ "$(echo "$REFUNDED" | json '["data"]["payment_status"]')" = "refunded" ]
echo "walkthrough: ok"
