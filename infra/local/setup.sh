#!/usr/bin/env bash
# Installs what the local stack needs into .local/ (idempotent: a second run reuses it).
#   - DynamoDB Local: the DynamoDBLocal.jar shipped in the npm package amplify-dynamodb-simulator
#   - a Python virtualenv with moto[server] (SQS), localstripe (Stripe), cfn-lint, boto3, requests,
#     standardwebhooks
#   - the tests' receivers' npm packages (tests/receivers)
#   - Debian's chromium, for the browser tests (Playwright for Python is in the virtualenv)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$LOCAL" "$RUN_DIR"

for tool in java python3 npm curl; do
  command -v "$tool" >/dev/null || { log "missing $tool: install it first (see README)"; exit 1; }
done

# Python tools: reinstalled only when requirements.txt changes.
req="$ROOT/infra/local/requirements.txt"
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "creating the Python virtualenv in .local/venv"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi

# DynamoDB Local, unpacked from the npm tarball (npm pack: no dependency tree is installed).
if [ ! -f "$DDB_DIR/DynamoDBLocal.jar" ]; then
  log "fetching DynamoDB Local (amplify-dynamodb-simulator@$DYNAMODB_SIMULATOR_VERSION)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$DYNAMODB_SIMULATOR_VERSION" >/dev/null 2>&1)
  tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp"
  rm -rf "$DDB_DIR"
  mv "$tmp/package/emulator" "$DDB_DIR"
  rm -rf "$tmp"
fi
# The tests' receivers (the reference Standard Webhooks verifier), from their lock file.
receivers="$ROOT/tests/receivers"
if [ ! -f "$receivers/node_modules/.package-lock.json" ] || [ "$receivers/package-lock.json" -nt "$receivers/node_modules/.package-lock.json" ]; then
  log "installing the test receivers' npm packages"
  (cd "$receivers" && npm ci --no-audit --no-fund --silent)
fi
# A real browser for the browser tests: Debian's Chromium (Playwright's own download cannot work
# here; Playwright for Python, in the virtualenv, drives this one).
if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium (browser tests)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q chromium >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
fi
log "local tools ready in .local/"
