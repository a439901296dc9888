# Shared settings of the local stack scripts (sourced, not run).
# Everything lives in .local/ at the repository root (git-ignored).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/venv"
DDB_DIR="$LOCAL/dynamodb"
RUN_DIR="$LOCAL/run"
DYNAMODB_SIMULATOR_VERSION="2.9.30"

export SELLVY_DYNAMODB_PORT="${SELLVY_DYNAMODB_PORT:-8000}"
export SELLVY_SQS_PORT="${SELLVY_SQS_PORT:-9324}"
# The Stripe emulator (localstripe) the tests' live-mode payments go through.
export SELLVY_LOCALSTRIPE_PORT="${SELLVY_LOCALSTRIPE_PORT:-8420}"
export SELLVY_PORT="${SELLVY_PORT:-3000}"
export SELLVY_TABLE_NAME="${SELLVY_TABLE_NAME:-sellvy-local}"
export SELLVY_DELIVERY_QUEUE_NAME="${SELLVY_DELIVERY_QUEUE_NAME:-sellvy-webhook-deliveries}"
export SELLVY_DELIVERY_DLQ_NAME="${SELLVY_DELIVERY_DLQ_NAME:-sellvy-webhook-deliveries-dlq}"
export SELLVY_DYNAMODB_ENDPOINT="http://127.0.0.1:$SELLVY_DYNAMODB_PORT"
export SELLVY_SQS_ENDPOINT="http://127.0.0.1:$SELLVY_SQS_PORT"
# The AWS SDKs (Rust and boto3) read these: nothing in the code knows it is local.
export AWS_ENDPOINT_URL_DYNAMODB="$SELLVY_DYNAMODB_ENDPOINT"
export AWS_ENDPOINT_URL_SQS="$SELLVY_SQS_ENDPOINT"
# Dummy credentials: the local servers accept anything, the SDK insists on having some.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_EC2_METADATA_DISABLED=true

log() { printf '\033[1m[sellvy]\033[0m %s\n' "$*" >&2; }

# is_alive PIDFILE: the process named in PIDFILE is running.
is_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_http URL SECONDS: wait until URL answers anything over HTTP.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -s -o /dev/null --max-time 1 "$url"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
