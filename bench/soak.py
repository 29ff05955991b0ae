"""Soak: the whole stack under steady load for --minutes (10 by default), as `make run` runs it.

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 500] [--rps 200] [--json out.json]
    make soak SOAK_ARGS="--minutes 3"

It starts its own redis-server on a free port (never the one on 6379), the replay upstream with
moving prices, `python -m config.serve` with WEB_CONCURRENCY=2, one Celery worker (concurrency 2)
and beat, all sharing a PROMETHEUS_MULTIPROC_DIR. Then, for the whole run: 500 WebSocket clients
subscribed to `all` (one asyncio process, bench/soak_clients.py), paced REST load at 200 req/s
(another process), and a fault on one upstream source every 45 s for 15 s (429, 500, slow,
malformed, in turn, through the replay's control endpoint). At the end it stops beat, lets the
clients catch up, and reports: RSS of every process at start, after warm-up (a quarter of the run) and end, sampled
every 30 s in between, events lost (every client
must hold every seq up to the newest: gaps are resumed, reconnects resume), REST error rate and
p50/p99 latency, batch arrival spread over the clients, and server-side histograms from /metrics
(fan-out latency, merge time, HTTP latency).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench import soak_report  # noqa: E402
from bench.soak_clients import rest_load, ws_clients  # noqa: E402

FAULTS = [
    {"source": "jupiter", "mode": "429", "retry_after": 5},
    {"source": "geckoterminal", "mode": "500"},
    {"source": "dexscreener", "mode": "slow", "delay": 3.0},
    {"source": "geckoterminal", "mode": "malformed"},
]
FAULT_EVERY, FAULT_FOR = 45.0, 15.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """The soak's processes, each logging to a file in `tmp`."""

    def __init__(self, tmp: Path, args: argparse.Namespace) -> None:
        self.tmp, self.args = tmp, args
        self.procs: dict[str, subprocess.Popen] = {}
        self.redis_port, self.replay_port, self.web_port = free_port(), free_port(), args.port or free_port()
        replay = f"http://127.0.0.1:{self.replay_port}"
        prom = tmp / "prometheus"
        prom.mkdir()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "DEXSCREENER_BASE_URL": f"{replay}/dexscreener",
            "JUPITER_BASE_URL": f"{replay}/jupiter",
            "GECKOTERMINAL_BASE_URL": f"{replay}/geckoterminal",
            "API_THROTTLE_RATE": "1000000/min",
            "PROMETHEUS_MULTIPROC_DIR": str(prom),
            "PORT": str(self.web_port),
            "WEB_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, name: str, argv: list[str], **env: str) -> None:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - the process holds it
        self.procs[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def up(self) -> None:
        if shutil.which("redis-server") is None:
            sys.exit("redis-server is not on the PATH")
        self.start(
            "redis", ["redis-server", "--port", str(self.redis_port), "--save", "", "--appendonly", "no"]
        )
        subprocess.run(
            [str(BIN / "python"), "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )
        self.start(
            "replay", [str(BIN / "python"), "manage.py", "replay_upstream", "--port", str(self.replay_port)]
        )
        self.start("web", [str(BIN / "python"), "-m", "config.serve"])
        celery = str(BIN / "celery")
        self.start("worker", [celery, "-A", "config", "worker", "--concurrency", "2", "--without-gossip",
                              "--without-mingle", "--loglevel", "INFO"])  # fmt: skip
        self.start("beat", [celery, "-A", "config", "beat", "--schedule", str(self.tmp / "beat-schedule")])
        _wait(
            lambda: requests.get(f"{self.url}/api/health/", timeout=2).status_code == 200,
            90,
            "a healthy stack",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def fault(self, spec: dict | None) -> None:
        base = f"http://127.0.0.1:{self.replay_port}/_control/faults"
        (
            requests.post(base, json=spec, timeout=5) if spec else requests.delete(base, timeout=5)
        ).raise_for_status()

    def stop(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)

    def down(self) -> None:
        for name in ("beat", "worker", "web", "replay", "redis"):
            self.stop(name)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.5)
    sys.exit(f"timed out waiting for {what}")


def run(args: argparse.Namespace, tmp: Path) -> dict:
    stack = Stack(tmp, args)
    try:
        stack.up()
        seconds = args.minutes * 60
        rss_start = soak_report.rss_by_process(stack.procs)
        ctx = mp.get_context("spawn")
        ws_out, ws_in = ctx.Pipe(duplex=False)
        rest_out, rest_in = ctx.Pipe(duplex=False)
        settle = 10.0  # after the load: beat stopped, in-flight refreshes land, clients catch up
        ws = ctx.Process(
            target=ws_clients, args=(stack.url, args.clients, seconds + settle, stack.env["REDIS_URL"], ws_in)
        )
        ws.start()
        time.sleep(min(30.0, 5 + args.clients / 50))  # let the crowd connect before the REST load
        rest = ctx.Process(target=rest_load, args=(stack.url, args.rps, seconds, rest_in))
        rest.start()
        sampler = soak_report.RssSampler(stack.procs, every=30.0)
        sampler.start()
        faults = _inject_faults(stack, seconds)
        sampler.stop()
        rss_end = soak_report.rss_by_process(stack.procs)
        stack.stop("beat")
        rest_result, ws_result = rest_out.recv(), ws_out.recv()
        rest.join(10)
        ws.join(10)
        metrics = requests.get(f"{stack.url}/metrics", timeout=10).text
        families = soak_report.redis_memory_by_family(stack.env["REDIS_URL"])
        return soak_report.summarise(
            args, rss_start, rss_end, ws_result, rest_result, metrics, faults, sampler.samples, families
        )
    finally:
        stack.down()


def _inject_faults(stack: Stack, seconds: float) -> list[str]:
    """Until `seconds` have passed: at every FAULT_EVERY, one fault (in turn) for FAULT_FOR seconds."""
    start, done = time.monotonic(), []
    k = 1
    while k * FAULT_EVERY + FAULT_FOR < seconds:
        time.sleep(max(0.0, start + k * FAULT_EVERY - time.monotonic()))
        spec = FAULTS[(k - 1) % len(FAULTS)]
        stack.fault(spec)
        done.append(f"{spec['source']}={spec['mode']}")
        time.sleep(FAULT_FOR)
        stack.fault(None)
        k += 1
    time.sleep(max(0.0, start + seconds - time.monotonic()))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rps", type=float, default=200.0)
    parser.add_argument("--port", type=int, default=0, help="web port (default: a free one)")
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        report = run(args, tmp)
    finally:
        if args.keep_logs:
            print(f"logs in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(soak_report.render(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    sys.exit(0 if report["verdict"] == "ok" else 1)


if __name__ == "__main__":
    main()
