#!/usr/bin/env python3
"""Cold starts of Lambda binaries under a Lambda Runtime API emulator, on this machine.

For each `name=binary` given, `--cold` times: start the process with AWS_LAMBDA_RUNTIME_API
pointing here, hand it one API Gateway (HTTP API, payload 2.0) request, then `--warm` more.
Reports per function: binary size, init (process start to its first `next` call), first response
(process start to its first answer), warm p50 and p99, the function's own CPU time per warm
request (user and system, from /proc, summed over every warm request), peak RSS (VmHWM), and the DynamoDB calls
of a warm request (from `x-sellvy-cost`: run the functions with SELLVY_COST_HEADERS=1), each also
as a ratio to `--baseline`'s, measured in the same run. Ratios are meaningful only within one
run: these machines are noisy. The cold starts go round-robin over the functions, after
`--warmup` rounds that are not recorded (DynamoDB Local's JVM is still compiling in the first).

    coldstart.py --request 'dashboard=GET /dashboard/sign-in' dashboard=target/release/dashboard ...

The environment (DynamoDB endpoint, table, credentials) is passed to the functions as is:
source .local/run/stack.env first.
"""
import argparse
import base64
import http.server
import json
import os
import pathlib
import queue
import statistics
import subprocess
import threading
import time

API = "/2018-06-01/runtime"


def event(method, path, headers):
    raw_path, _, query = path.partition("?")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {"host": "bench.execute-api.local", **headers},
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.execute-api.local",
            "domainPrefix": "bench", "requestId": "bench", "routeKey": "$default", "stage": "$default",
            "time": "30/Nov/2026:00:00:00 +0000", "timeEpoch": int(time.time() * 1000),
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": "coldstart"},
        },
        "isBase64Encoded": False,
        # As a `…/{id}` route gives (the peer's function reads its id from here).
        "pathParameters": {"id": raw_path.rsplit("/", 1)[-1]},
    }


class Emulator:
    """The Runtime API: `next` hands out queued events; `response` records the answers."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.first_next = None
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One segment per answer: no Nagle wait on the runtime's side of a keep-alive.
            disable_nagle_algorithm = True

            def do_GET(self):
                if self.path == f"{API}/invocation/next":
                    if outer.first_next is None:
                        outer.first_next = time.perf_counter()
                    body = json.dumps(outer.events.get()).encode()
                    self.send_response(200)
                    self.send_header("Lambda-Runtime-Aws-Request-Id", "req-%d" % time.monotonic_ns())
                    self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
                    self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:1:function:bench")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                outer.answers.put((time.perf_counter(), self.path, body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A function killed mid-connection is how every run ends, not an error.
        self.server.handle_error = lambda request, address: None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_port}"


def peak_rss_mb(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_ms(pid):
    """The CPU time (user and system) a process has used so far, in ms (clock-tick resolution:
    summed over many requests, not one)."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def status_of(answer):
    _, path, body = answer
    if path.endswith("/error"):
        return f"error {body[:200]!r}"
    try:
        return json.loads(body).get("statusCode")
    except ValueError:
        return f"unreadable {body[:200]!r}"


def calls_of(answer):
    """The DynamoDB calls an answer reports (`x-sellvy-cost: calls=N …`), if it does."""
    try:
        cost = json.loads(answer[2]).get("headers", {}).get("x-sellvy-cost", "")
    except (ValueError, AttributeError):
        return None
    for part in cost.split():
        if part.startswith("calls="):
            return int(part[len("calls="):])
    return None


def run_once(binary, request, warm):
    emulator = Emulator()
    for _ in range(warm + 1):
        emulator.events.put(request)
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=emulator.address, AWS_LAMBDA_FUNCTION_NAME="bench",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
               AWS_LAMBDA_LOG_STREAM_NAME="bench", AWS_LAMBDA_LOG_GROUP_NAME="bench")
    started = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = emulator.answers.get(timeout=30)
        cpu_before = cpu_ms(proc.pid)
        times, calls = [], []
        last = first[0]
        statuses = {status_of(first)}
        for _ in range(warm):
            answer = emulator.answers.get(timeout=30)
            statuses.add(status_of(answer))
            times.append((answer[0] - last) * 1000)
            calls.append(calls_of(answer))
            last = answer[0]
        cpu = cpu_ms(proc.pid) - cpu_before
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        emulator.server.shutdown()
    init = (emulator.first_next - started) * 1000
    return init, (first[0] - started) * 1000, times, rss, statuses, calls, cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("functions", nargs="+", help="name=path/to/binary")
    p.add_argument("--request", action="append", default=[],
                   help="name='METHOD /path' (default GET /); header with --header name='k: v'")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--cold", type=int, default=10)
    p.add_argument("--warm", type=int, default=100)
    p.add_argument("--warmup", type=int, default=1, help="rounds run first and not recorded")
    p.add_argument("--warmup-total", type=int, default=12000,
                   help="warm invocations in each of those rounds, shared among the functions")
    p.add_argument("--baseline", help="the function every other is compared with (ratios)")
    args = p.parse_args()
    requests = {r.split("=", 1)[0]: r.split("=", 1)[1] for r in args.request}
    headers = {}
    for h in args.header:
        name, hv = h.split("=", 1)
        k, v = hv.split(":", 1)
        headers.setdefault(name, {})[k.strip().lower()] = v.strip()
    functions = []
    for spec in args.functions:
        name, binary = spec.split("=", 1)
        method, path = requests.get(name, "GET /").split(" ", 1)
        functions.append({"name": name, "binary": binary, "method": method, "path": path,
                          "request": event(method, path, headers.get(name, {})),
                          "inits": [], "firsts": [], "warms": [], "rsss": [], "statuses": set(), "calls": [],
                          "cpu": 0.0})
    # One round first, not recorded, with many warm invocations: DynamoDB Local's JVM compiles
    # its hot paths while it runs, and a fresh one answers a warm read up to half again as slowly
    # for its first ten thousand requests or so, whichever functions make them. Then the cold
    # starts go round-robin, so that a noisy stretch of the machine falls on every function
    # alike and the ratios of one run stay comparable.
    warmup_warm = max(args.warm, -(-args.warmup_total // len(functions)))
    for _ in range(args.warmup):
        for f in functions:
            run_once(f["binary"], f["request"], warmup_warm)
    for _ in range(args.cold):
        for f in functions:
            init, first, times, rss, st, c, cpu = run_once(f["binary"], f["request"], args.warm)
            f["cpu"] += cpu
            f["inits"].append(init)
            f["firsts"].append(first)
            f["warms"].extend(times)
            f["rsss"].append(rss)
            f["statuses"] |= st
            f["calls"].extend(x for x in c if x is not None)
    rows = []
    for f in functions:
        warms = sorted(f["warms"])
        rows.append({
            "name": f["name"], "mb": os.path.getsize(f["binary"]) / 1e6, "init": statistics.median(f["inits"]),
            "first": statistics.median(f["firsts"]), "p50": statistics.median(warms) if warms else float("nan"),
            "p99": warms[int(len(warms) * 0.99) - 1] if warms else float("nan"), "rss": max(f["rsss"]),
            "cpu": f["cpu"] / len(warms) if warms else float("nan"),
            "calls": statistics.median(f["calls"]) if f["calls"] else None,
            "request": f"{f['method']} {f['path']} -> {', '.join(sorted(map(str, f['statuses'])))}",
        })
    base = next((r for r in rows if r["name"] == args.baseline), None)

    def cell(r, k, fmt):
        value = format(r[k], fmt)
        if base is None or r is base or not base[k]:
            return value
        return f"{value} ({r[k] / base[k]:.1f}×)"

    print(f"{args.cold} cold starts x {args.warm} warm invocations each, round-robin after {args.warmup} unrecorded round(s)"
          + (f"; (n×) is the ratio to {base['name']} in this run" if base else ""))
    print("| function | binary MB | init p50 ms | first response p50 ms | warm p50 ms | warm p99 ms | CPU per warm request ms | peak RSS MB | DynamoDB calls (warm) | request -> status |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        calls = "-" if r["calls"] is None else format(r["calls"], "g")
        print(f"| {r['name']} | {cell(r, 'mb', '.1f')} | {cell(r, 'init', '.1f')} | {cell(r, 'first', '.1f')} | "
              f"{cell(r, 'p50', '.2f')} | {cell(r, 'p99', '.2f')} | {cell(r, 'cpu', '.2f')} | {cell(r, 'rss', '.1f')} | {calls} | {r['request']} |")


if __name__ == "__main__":
    main()
