#!/usr/bin/env bash
# Builds the API reference page, readable offline: .local/reference/index.html renders the
# OpenAPI document (inlined) with Redoc's standalone bundle (from the npm package redoc),
# placed beside it. Usage: reference.sh [openapi.json]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
REDOC_VERSION="2.5.4"
out="$LOCAL/reference"
mkdir -p "$out"
spec="${1:-}"
if [ -z "$spec" ]; then
  cargo build --quiet -p sellvy-reference --bin sellvy-openapi
  spec="$out/openapi.json"
  ./target/debug/sellvy-openapi > "$spec"
fi
if [ ! -f "$out/redoc.standalone.js" ] || ! grep -q "$REDOC_VERSION" "$out/.redoc-version" 2>/dev/null; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "redoc@$REDOC_VERSION" >/dev/null 2>&1 && tar -xzf redoc-*.tgz)
  cp "$tmp/package/bundles/redoc.standalone.js" "$out/"
  echo "$REDOC_VERSION" > "$out/.redoc-version"
  rm -rf "$tmp"
fi
"$VENV/bin/python" - "$spec" "$out/index.html" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
page = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sellvy API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><div id="reference"></div>
<script src="redoc.standalone.js"></script>
<script>Redoc.init(%s, {hideDownloadButton: false, expandResponses: "200,201"}, document.getElementById("reference"));</script>
</body></html>
""" % json.dumps(spec).replace("</", "<\\/")
open(sys.argv[2], "w").write(page)
PY
log "API reference: $out/index.html (works offline)"
