#!/usr/bin/env python3
"""The layers of docs/decisions.md hold: checked on the workspace's dependency graph.

- No crate below the HTTP layer reaches `sellvy-api`, directly or through another crate.
- Only the store crate has the DynamoDB SDK among its normal dependencies (test-only
  dependencies aside).
- The domain (models) and the wire types know neither AWS nor HTTP; the application layer
  knows no HTTP server; the SDK depends on the wire types, not on the domain.

Exits 1 and names every breach.
"""
import json
import subprocess
import sys

BELOW_HTTP = [
    "sellvy-wire", "sellvy-models", "sellvy-store", "sellvy-app", "sellvy-payments", "sellvy-webhooks",
    "sellvy-sweeper", "sellvy-webhook-dispatcher", "sellvy-sdk",
]
ONLY_STORE = "aws-sdk-dynamodb"
HTTP_SERVER = {"axum", "lambda_http", "tower-http", "utoipa-axum"}
# What each crate must not have among its normal dependencies (direct).
FORBIDDEN = {
    "sellvy-wire": HTTP_SERVER | {"reqwest", "aws-config", "aws-sdk-dynamodb", "aws-sdk-sqs", "lambda_runtime",
                    "sellvy-models"},
    "sellvy-models": HTTP_SERVER | {"reqwest", "aws-config", "aws-sdk-dynamodb", "aws-sdk-sqs", "lambda_runtime"},
    # The SDK speaks the contract only: the wire types, never the server's domain.
    "sellvy-sdk": HTTP_SERVER | {"sellvy-models", "sellvy-store", "sellvy-app", "aws-sdk-dynamodb"},
    "sellvy-app": HTTP_SERVER,
    "sellvy-payments": HTTP_SERVER | {"aws-sdk-dynamodb", "aws-sdk-sqs"},
}

meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1"],
    check=True, capture_output=True, text=True).stdout)
names = {p["id"]: p["name"] for p in meta["packages"]}
members = set(meta["workspace_members"])
normal = {}  # package name -> names of its normal dependencies
for node in meta["resolve"]["nodes"]:
    if node["id"] not in members:
        continue
    normal[names[node["id"]]] = {
        names[d["pkg"]] for d in node["deps"]
        if any(k["kind"] is None for k in d["dep_kinds"])
    }

breaches = []
for crate, deps in sorted(normal.items()):
    if ONLY_STORE in deps and crate != "sellvy-store":
        breaches.append(f"{crate} depends on {ONLY_STORE}: only sellvy-store speaks DynamoDB")
    for bad in sorted(deps & FORBIDDEN.get(crate, set())):
        breaches.append(f"{crate} depends on {bad}, which its layer must not know")


def reaches(start, target, seen=None):
    seen = seen if seen is not None else set()
    for dep in normal.get(start, ()):
        if dep == target:
            return [start, dep]
        if dep in normal and dep not in seen:
            seen.add(dep)
            path = reaches(dep, target, seen)
            if path:
                return [start] + path
    return None


for crate in BELOW_HTTP:
    if crate not in normal:
        breaches.append(f"{crate} is not a workspace member: update infra/local/check_layers.py")
        continue
    path = reaches(crate, "sellvy-api")
    if path:
        breaches.append(f"{crate} reaches the HTTP layer: {' -> '.join(path)}")

if breaches:
    print("layering breaches:")
    for b in breaches:
        print(f"  - {b}")
    sys.exit(1)
print(f"layers hold: {len(normal)} workspace crates checked")
