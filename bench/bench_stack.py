"""REST under the whole stack: wrk against `make run`'s processes while worker and beat refresh.

    .venv/bin/python bench/bench_stack.py [--servers uvicorn daphne] [--duration 20] [--connections 32]
                                          [--tokens 500] [--redis-db 3] [--json out.json]
    make bench-stack BENCH_ARGS="--duration 10"

For each web server it starts the stack of bench/stack.py (2 web processes via config.serve, the
Celery worker, beat refreshing every REFRESH_SECONDS against the replay upstream of --tokens tokens,
API_THROTTLE_RATE raised so the run measures serving, not 429s), waits for the first snapshot and
a full refresh cycle, then runs `wrk -t2 -c<connections>` for --duration seconds on each scenario:
  first-page   GET /api/tokens/?limit=50
  filtered     GET /api/tokens/?ordering=-price_change&timeframe=1h&limit=50
A wrk Lua `done()` prints req/s and latency p50 / p99 / p99.9 (wrk's own --latency stops at 99 %).
During each run the web processes' `mds_snapshot_switches_total{role="web"}` (tokens/store/snapshots.py)
is read from /metrics before and after, giving the snapshot switches per minute per web process, and
`mds_snapshot_load_seconds` their mean load time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stack import Stack, running_stack, sum_samples  # noqa: E402

SCENARIOS = {
    "first-page": "/api/tokens/?limit=50",
    "filtered": "/api/tokens/?ordering=-price_change&timeframe=1h&limit=50",
}
WRK_SCRIPT = """
local paths = %s
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, \\"p99_us\\": %%d, " ..
    "\\"p999_us\\": %%d, \\"max_us\\": %%d, \\"status_errors\\": %%d, \\"socket_errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk(url: str, path: str | list[str], connections: int, seconds: float, tmp: Path) -> dict:
    """wrk -t2 on `path` (or on one of `paths` at random per request): req/s and latency percentiles."""
    paths = [path] if isinstance(path, str) else path
    script = tmp / "scenario.lua"
    script.write_text(WRK_SCRIPT % ("{" + ",".join(json.dumps(p) for p in paths) + "}"))
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^RESULT (\{.*\})$", out, re.M)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    raw = json.loads(found.group(1))
    return {
        "req_per_s": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "p999_ms": raw["p999_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non_2xx": raw["status_errors"],
        "socket_errors": raw["socket_errors"],
    }


def switch_figures(stack: Stack) -> tuple[float, float, float]:
    """(web switches so far, their summed load seconds, number of web processes)."""
    text = stack.metrics_text()
    return (
        sum_samples(text, "mds_snapshot_switches_total", role="web"),
        sum_samples(text, "mds_snapshot_load_seconds_sum", role="web"),
        float(len(stack.web_pids()) or 1),
    )


def run_server(server: str, args: argparse.Namespace, tmp: Path) -> dict:
    env = {"API_THROTTLE_RATE": "1000000000/min", "REFRESH_SECONDS": str(args.refresh)}
    results: dict[str, dict] = {}
    with running_stack(web_server=server, redis_db=args.redis_db, tokens=args.tokens, env=env) as stack:
        time.sleep(args.refresh)  # one whole refresh cycle: every source merged at least once
        for name, path in SCENARIOS.items():
            wrk(stack.url, path, args.connections, 3, tmp)  # warm-up: caches, connections
            switches, load_s, webs = switch_figures(stack)
            started = time.monotonic()
            result = wrk(stack.url, path, args.connections, args.duration, tmp)
            minutes = (time.monotonic() - started) / 60
            switches_after, load_after, _ = switch_figures(stack)
            count = switches_after - switches
            result["switches_per_min_per_process"] = count / webs / minutes
            result["switch_load_ms_mean"] = (load_after - load_s) / count * 1000 if count else None
            result["tokens"] = stack.get("/api/tokens/?limit=1").json()["meta"]["count"]
            results[name] = result
            print(f"{server:8s} {name:10s} {json.dumps(result)}", flush=True)
    return results


def report(args: argparse.Namespace, results: dict[str, dict[str, dict]]) -> None:
    print(
        f"\nwhole stack (2 web processes, worker, beat every {args.refresh:g}s, replay upstream of "
        f"{args.tokens} tokens), wrk -t2 -c{args.connections} for {args.duration:g}s, {os.cpu_count()} CPUs"
    )
    print(
        "| server | scenario | req/s | p50 ms | p99 ms | p99.9 ms | non-2xx | switches/min/process | load ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for server, by_scenario in results.items():
        for name, r in by_scenario.items():
            load = f"{r['switch_load_ms_mean']:.1f}" if r["switch_load_ms_mean"] is not None else "-"
            print(
                f"| {server} | {name} | {r['req_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{r['p999_ms']:.2f} | {r['non_2xx']} | {r['switches_per_min_per_process']:.1f} | {load} |"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", nargs="+", default=["uvicorn", "daphne"], choices=("uvicorn", "daphne"))
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--refresh", type=float, default=10.0)
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", "3")))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 1
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp:
        for server in args.servers:
            results[server] = run_server(server, args, Path(tmp))
    report(args, results)
    if args.json:
        args.json.write_text(
            json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
