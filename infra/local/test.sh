#!/usr/bin/env bash
# The test command (`make test`): everything a clean clone needs, then every test.
#   1. install the local tools into .local/ (first run only)
#   2. lint template.yaml with cfn-lint, check formatting
#   3. start the local stack (DynamoDB Local + SQS) unless it already runs; stop it after
#   4. run the whole workspace's tests (unit tests, and HTTP tests against the local stack)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Reuse this checkout's running stack if there is one; otherwise start one on free ports, so
# a stack of another checkout (or anything else on the default ports) is never in the way.
if [ -f "$here/../../.local/run/stack.env" ] && [ "$(bash "$here/stack.sh" status | grep -c running || true)" -ge 2 ]; then
  set -a; source "$here/../../.local/run/stack.env"; set +a
  reuse=1
else
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  export SELLVY_DYNAMODB_PORT=$(free_port) SELLVY_SQS_PORT=$(free_port)
  reuse=0
fi
source "$here/lib.sh"
cd "$ROOT"
started=$SECONDS

bash infra/local/setup.sh

log "cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml

log "cargo fmt --check"
cargo fmt --all -- --check

# Start the stack unless a developer's stack is already up (then leave it running after).
if [ "$reuse" = 1 ]; then
  log "reusing the running local stack (DynamoDB on :$SELLVY_DYNAMODB_PORT)"
else
  trap 'bash "$ROOT/infra/local/stack.sh" stop' EXIT
  bash infra/local/stack.sh start
fi

export SELLVY_PYTHON="$VENV/bin/python"
log "running the tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
log "all tests passed in $((SECONDS - started)) s"
