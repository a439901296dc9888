#!/usr/bin/env bash
# The test command (`make test`): everything a clean clone needs, then every test.
#   1. install the local tools into .local/ (first run only)
#   2. lint template.yaml with cfn-lint, check formatting
#   3. start the local stack (DynamoDB Local + SQS) unless it already runs; stop it after
#   4. run the whole workspace's tests (unit tests, and HTTP tests against the local stack)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$SECONDS

bash infra/local/setup.sh

log "cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml

log "cargo fmt --check"
cargo fmt --all -- --check

# Start the stack unless a developer's stack is already up (then leave it running after).
if [ "$(bash infra/local/stack.sh status | grep -c running || true)" -ge 2 ]; then
  log "reusing the running local stack"
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
