"""REST API load benchmark: wrk against daphne processes serving config.asgi with a synthetic snapshot.

(`make run` serves with uvicorn, config.serve; bench/bench_stack.py measures both servers with the
whole stack running. This one isolates the API from the worker, under the development server.)

Usage: .venv/bin/python bench/bench_rest.py [--processes 2] [--connections 32] [--duration 15]
                                            [--tokens 500] [--refresh 10] [--port 8765] [--redis-db 12]
                                            [--access-log] [--baseline] [--json out.json]

It starts N daphne processes (`daphne --proxy-headers config.asgi:application`, the Procfile's flags)
on ONE port: each process gets its own listening socket bound with SO_REUSEPORT and passed with
daphne's `--fd`, so the kernel spreads connections over the processes. It publishes a synthetic
snapshot of --tokens tokens into Redis DB --redis-db (flushed first; never the app's DB 0), and
publishes a new one every --refresh seconds during the runs, as beat would. Then it runs wrk
(/usr/bin/wrk, --latency, --connections, 2 threads) for three scenarios and prints req/s, p50,
p99, non-2xx count and the web processes' RSS after each:
  first-page   GET /api/tokens/?limit=50
  cursor-walk  the 10 pages of a `next` walk (limit=50), each connection cycling through them
  filtered     GET /api/tokens/?timeframe=1h&ordering=-txns&min_liquidity=10000&protocol=raydium,pumpswap
The API throttle rate is raised (API_THROTTLE_RATE) so that the run measures serving, not 429s;
the throttle check still runs on every request. The daphne access log goes to /dev/null unless
--access-log is given (then to a file), as in production behind a proxy that logs. --baseline
adds the same run against a no-op ASGI app under daphne: the ceiling daphne itself sets on the
machine, to read the API's figures against.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

SCENARIOS = {
    "first-page": "/api/tokens/?limit=50",
    "cursor-walk": None,  # built from a live walk
    "filtered": "/api/tokens/?timeframe=1h&ordering=-txns&min_liquidity=10000&protocol=raydium,pumpswap&limit=50",
}
_SECRET = secrets.token_urlsafe(50)
DEXES = ("raydium", "raydium-clmm", "pumpswap", "meteora-dlmm", "orca", "pumpfun")


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        API_THROTTLE_RATE="100000000/min",
        REFRESH_SECONDS=str(args.refresh),
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=_SECRET,  # shared: a cursor signed by one process is read by another
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_servers(
    args: argparse.Namespace, log_dir: Path, app: str = "config.asgi:application"
) -> list[subprocess.Popen]:
    procs = []
    for n in range(args.processes):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", args.port))
        sock.listen(2048)
        sock.set_inheritable(True)
        argv = [str(BIN / "daphne"), "--fd", str(sock.fileno()), "--proxy-headers"]
        argv += ["--access-log", str(log_dir / f"access-{n}.log")] if args.access_log else ["-v", "0"]
        argv.append(app)
        log = open(log_dir / f"daphne-{n}.log", "wb")  # noqa: SIM115 - lives as long as the process
        procs.append(
            subprocess.Popen(
                argv, cwd=ROOT, env=server_env(args), stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),), start_new_session=True,
            )
        )  # fmt: skip
        sock.close()
    return procs


def stop_servers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def rss_mib(procs: list[subprocess.Popen]) -> list[float]:
    out = []
    for proc in procs:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        out.append(round(kib / 1024, 1))
    return out


def synthetic_tokens(count: int, rng: random.Random) -> list:
    from tokens.dexes import protocol_name
    from tokens.records import ALL_WINDOWS, Token, WindowStats

    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    tokens = []
    for i in range(count):
        mint = "".join(rng.choice(alphabet) for _ in range(44))
        dex = rng.choice(DEXES)
        price = 10 ** rng.uniform(-8, 0)
        unknown = rng.random() < 0.1
        windows = {
            w: WindowStats(
                volume_usd=None if unknown else 10 ** rng.uniform(1, 7),
                buys=None if w == "d7" else rng.randint(0, 5000),
                sells=None if w == "d7" else rng.randint(0, 5000),
                price_change_pct=rng.uniform(-90, 400),
            )
            for w in ALL_WINDOWS
        }
        tokens.append(
            Token(
                token_address=mint, token_name=f"Meme {i}", token_ticker=f"M{i}", icon=None,
                protocol=protocol_name(dex), dex_id=dex, pair_address=mint[::-1],
                pair_created_at=time.time() - rng.uniform(60, 9e6), price_usd=price, price_sol=price / 150,
                market_cap_usd=None if unknown else price * 1e9, market_cap_sol=None, fdv_usd=price * 1e9,
                liquidity_usd=10 ** rng.uniform(3, 7), liquidity_sol=None, windows=windows,
                sources=["dexscreener", "geckoterminal", "jupiter"], updated_at=time.time(),
            )
        )  # fmt: skip
    return tokens


def publish(tokens: list) -> int:
    from tokens.records import SOURCES, Snapshot, SourceStatus
    from tokens.store import snapshots

    now = time.time()
    snapshot = Snapshot(
        id=snapshots.next_snapshot_id(), generated_at=now, data_fetched_at=now, sol_price_usd=150.0,
        sources={s: SourceStatus(ok=True, fetched_at=now, error=None) for s in SOURCES},
        tokens={t.token_address: t for t in tokens},
    )  # fmt: skip
    snapshots.publish_snapshot(snapshot)
    return snapshot.id


def keep_publishing(tokens: list, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        publish(tokens)


def walk_paths(base: str, pages: int = 10) -> list[str]:
    import requests

    url, paths = f"{base}/api/tokens/?limit=50", []
    while url and len(paths) < pages:
        paths.append(url.removeprefix(base))
        response = requests.get(url, timeout=10)
        if response.status_code != 200:
            raise SystemExit(f"walk failed at {url}: {response.status_code} {response.text[:300]}")
        url = response.json()["next"]
    return paths


def wrk(base: str, paths: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    script = tmp / "paths.lua"
    quoted = ", ".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n"
    )
    argv = [
        "wrk",
        "-t2",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict:
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--refresh", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--baseline", action="store_true", help="also measure a no-op ASGI app under daphne")
    args = parser.parse_args()

    os.environ.update(
        {k: v for k, v in server_env(args).items() if k in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    )
    os.environ["DJANGO_DEBUG"] = "true"  # this process only publishes
    import django

    django.setup()
    from tokens.infra import redis_clients

    redis_clients.raw_redis().flushdb()
    tokens = synthetic_tokens(args.tokens, random.Random(7))
    publish(tokens)
    stop = threading.Event()
    publisher = threading.Thread(target=keep_publishing, args=(tokens, args.refresh, stop), daemon=True)
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmpdir:
        tmp = Path(tmpdir)
        procs = start_servers(args, tmp)
        try:
            _wait_up(base, procs, tmp)
            publisher.start()
            results = {}
            for name, path in SCENARIOS.items():
                paths = walk_paths(base) if path is None else [path]
                wrk(base, paths, argparse.Namespace(**{**vars(args), "duration": 3}), tmp)  # warm-up
                results[name] = {
                    **wrk(base, paths, args, tmp),
                    "pages": len(paths),
                    "rss_mib": rss_mib(procs),
                }
                print(f"{name:12s} {json.dumps(results[name])}", flush=True)
        finally:
            stop.set()
            stop_servers(procs)
    if args.baseline:
        results["daphne-baseline"] = run_baseline(args)
    report(args, results)


def run_baseline(args: argparse.Namespace) -> dict:
    """The same wrk run against a no-op ASGI app: the ceiling daphne itself sets here."""
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmpdir:
        tmp = Path(tmpdir)
        procs = start_servers(args, tmp, app="bench.baseline_app:application")
        try:
            time.sleep(2)
            base = f"http://127.0.0.1:{args.port}"
            result = {**wrk(base, ["/"], args, tmp), "pages": 1, "rss_mib": rss_mib(procs)}
            print(f"{'daphne-baseline':12s} {json.dumps(result)}", flush=True)
            return result
        finally:
            stop_servers(procs)


def _wait_up(base: str, procs: list[subprocess.Popen], tmp: Path) -> None:
    import requests

    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(f"{base}/api/tokens/?limit=1", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.2)
    logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in tmp.glob("daphne-*.log"))
    raise SystemExit(f"daphne did not come up:\n{logs}")


def report(args: argparse.Namespace, results: dict) -> None:
    print(
        f"\n{args.processes} daphne process(es) on one port (SO_REUSEPORT), {args.connections} connections, "
        f"{args.duration}s per scenario, {args.tokens} tokens, new snapshot every {args.refresh}s, {os.cpu_count()} CPUs"
    )
    print("| scenario | req/s | p50 ms | p99 ms | non-2xx | RSS per process (MiB) |")
    print("|---|---:|---:|---:|---:|---|")
    for name, r in results.items():
        rss = ", ".join(str(v) for v in r["rss_mib"])
        print(
            f"| {name} | {r['req_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non_2xx']} | {rss} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results})
        )


if __name__ == "__main__":
    main()
