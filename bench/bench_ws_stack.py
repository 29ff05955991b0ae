"""WebSocket under the whole stack: N clients subscribe to `all` at once while worker and beat refresh.

    .venv/bin/python bench/bench_ws_stack.py [--clients 1000 5000] [--servers uvicorn daphne]
                                             [--duration 40] [--tokens 500] [--redis-db 11]

For each web server it starts the stack of bench/stack.py (2 web processes behind one port, the
Celery worker, beat refreshing every REFRESH_SECONDS against the replay upstream of --tokens
tokens), waits for a full refresh cycle, then for each client count opens that many connections
from client processes (a lean asyncio client, bench_ws.BenchClient, --per-process per process)
all at once, each subscribing to `all`, and keeps them --duration seconds. It reports:

  subscribe s     from the first connect to the last `snapshot` received (p50/p99 per client too)
  anomalies       clients whose batches after their snapshot (seq S) do not run S+1, S+2, … without
                  a gap or a repeat (docs/api.md §4: must be 0), and the clients closed meanwhile
  spread ms       per refresh, first to last client receiving its batch: p50 / p99 / max over the
                  refreshes every client got (targets: p99 ≤ 250 ms at 1,000, ≤ 1 s at 5,000)
  KB/client/ref   bytes of batch frames a client receives per refresh, and of its snapshot frame

Frames are not decoded on receipt (that would delay the timestamps of the other clients of the
process): each frame's first and last seq and its count of events are read from its bytes.
Figures depend on the machine; on a shared one, read them as rough.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ws import BenchClient, raise_nofile  # noqa: E402
from bench.stack import running_stack  # noqa: E402

PER_PROCESS = 500  # connections per client process (--per-process)
SEQ = b'"seq":'


def seq_at(payload: bytes, at: int) -> int:
    start = at + len(SEQ)
    end = start
    while payload[end : end + 1].isdigit():
        end += 1
    return int(payload[start:end])


class StackClient(BenchClient):
    """Subscribes to `all` after the welcome; keeps per frame (time, first seq, last seq, count, bytes)."""

    def __init__(self, host: str, origin: str, ready: asyncio.Future) -> None:
        super().__init__(host, origin, ready)
        self.started = time.time()
        self.snapshot_at = 0.0
        self.snapshot_seq = 0
        self.snapshot_bytes = 0
        self.batches: list[tuple[float, int, int, int, int]] = []
        self.closed = False

    def _on_text(self, payload: bytes) -> None:
        now = time.time()
        self.texts += 1
        if self.texts == 1:  # welcome
            self.send_frame(1, b'{"action":"subscribe","all":true}')
        elif payload.startswith(b'{"type":"snapshot"'):
            self.snapshot_at, self.snapshot_bytes = now, len(payload)
            self.snapshot_seq = seq_at(payload, payload.find(SEQ))
            if not self.ready.done():
                self.ready.set_result(None)
        elif payload.startswith(b'{"type":"batch"'):
            first, last = payload.find(SEQ), payload.rfind(SEQ)
            if first >= 0:
                count = payload.count(SEQ)
                self.batches.append((now, seq_at(payload, first), seq_at(payload, last), count, len(payload)))

    def connection_lost(self, exc) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before its snapshot"))

    def summary(self) -> dict:
        """Anomaly: the batches after the snapshot are not exactly S+1, S+2, … (gap, repeat, older)."""
        expected = self.snapshot_seq + 1
        anomalous = False
        for _, first, last, count, _ in self.batches:
            if first != expected or last - first + 1 != count:
                anomalous = True
            expected = last + 1
        return {
            "subscribe_s": self.snapshot_at - self.started,
            "snapshot_bytes": self.snapshot_bytes,
            "anomalous": anomalous,
            "closed": self.closed,
            "batches": [(t, first, size) for t, first, _, _, size in self.batches],
        }


def client_process(port: int, count: int, pipe) -> None:
    raise_nofile()
    host, origin = "127.0.0.1", f"http://127.0.0.1:{port}"

    async def open_one() -> StackClient:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        _, client = await loop.create_connection(
            lambda: StackClient(f"{host}:{port}", origin, ready), host, port
        )
        await asyncio.wait_for(ready, 300)
        return client

    async def main() -> None:
        pipe.recv()  # "go": every process starts connecting at once
        clients = await asyncio.gather(*(open_one() for _ in range(count)), return_exceptions=True)
        failed = [c for c in clients if isinstance(c, BaseException)]
        pipe.send(("subscribed", len(failed), repr(failed[0]) if failed else ""))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
        ok = [c for c in clients if not isinstance(c, BaseException)]
        for c in ok:
            c.transport.abort()
        pipe.send([c.summary() for c in ok])

    asyncio.run(main())


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def run_clients(port: int, clients: int, duration: float, per_process: int = PER_PROCESS) -> dict:
    nprocs = max(1, -(-clients // per_process))
    pipes, procs = [], []
    for k in range(nprocs):
        parent, child = mp.Pipe()
        share = clients // nprocs + (1 if k < clients % nprocs else 0)
        procs.append(mp.Process(target=client_process, args=(port, share, child), daemon=True))
        procs[-1].start()
        pipes.append(parent)
    time.sleep(0.5)
    started = time.time()
    for p in pipes:
        p.send("go")
    failed = 0
    for p in pipes:
        if not p.poll(600):
            raise RuntimeError("clients did not subscribe within 600 s")
        _, n_failed, first_error = p.recv()
        failed += n_failed
        if n_failed:
            print(f"  {n_failed} clients failed: {first_error}", file=sys.stderr)
    subscribed_in = time.time() - started
    time.sleep(duration)
    for p in pipes:
        p.send("stop")
    summaries = [s for p in pipes for s in p.recv()]
    for proc in procs:
        proc.join(timeout=30)
    return report(summaries, clients, failed, subscribed_in)


def report(summaries: list[dict], clients: int, failed: int, subscribed_in: float) -> dict:
    per_refresh: dict[int, list[tuple[float, int]]] = {}
    for s in summaries:
        for t, first, size in s["batches"]:
            per_refresh.setdefault(first, []).append((t, size))
    n = len(summaries)
    complete = {seq: v for seq, v in per_refresh.items() if len(v) == n}
    spreads = [(max(t for t, _ in v) - min(t for t, _ in v)) * 1000 for v in complete.values()]
    sizes = [statistics.mean(size for _, size in v) for v in complete.values()]
    subscribe = [s["subscribe_s"] for s in summaries]
    return {
        "clients": clients,
        "subscribed": n,
        "failed": failed,
        "subscribe_s": round(subscribed_in, 1),
        "subscribe_p50_s": round(pct(subscribe, 0.5), 2),
        "subscribe_p99_s": round(pct(subscribe, 0.99), 2),
        "anomalies": sum(s["anomalous"] for s in summaries),
        "closed": sum(s["closed"] for s in summaries),
        "refreshes": len(complete),
        "spread_p50_ms": round(pct(spreads, 0.5)),
        "spread_p99_ms": round(pct(spreads, 0.99)),
        "spread_max_ms": round(max(spreads, default=float("nan"))),
        "kb_per_client_refresh": round(statistics.mean(sizes) / 1000, 1) if sizes else None,
        "snapshot_kb": round(max((s["snapshot_bytes"] for s in summaries), default=0) / 1000, 1),
    }


COLUMNS = (
    ("server", "server", 7),
    ("clients", "clients", 7),
    ("subscribe_s", "subscribe s", 11),
    ("subscribe_p99_s", "p99 s", 6),
    ("anomalies", "anomalies", 9),
    ("closed", "closed", 6),
    ("refreshes", "refreshes", 9),
    ("spread_p50_ms", "spread p50", 10),
    ("spread_p99_ms", "p99 ms", 7),
    ("spread_max_ms", "max ms", 7),
    ("kb_per_client_refresh", "KB/client/ref", 13),
    ("snapshot_kb", "snapshot KB", 11),
    ("load", "load", 5),
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--servers", nargs="+", default=["uvicorn"], choices=["uvicorn", "daphne"])
    parser.add_argument("--duration", type=float, default=40.0, help="seconds connected per client count")
    parser.add_argument("--tokens", type=int, default=500, help="the replay upstream's universe")
    parser.add_argument(
        "--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", "11")), help="flushed; never 0"
    )
    parser.add_argument("--per-process", type=int, default=PER_PROCESS, help="connections per client process")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    raise_nofile()
    rows = []
    print("  ".join(title.rjust(width) for _, title, width in COLUMNS), flush=True)
    for server in args.servers:
        with running_stack(web_server=server, redis_db=args.redis_db, tokens=args.tokens) as stack:
            refresh = float(stack.env.get("REFRESH_SECONDS", "10"))
            time.sleep(refresh + 2)  # a full refresh cycle: every source has been merged once
            port = int(stack.url.rsplit(":", 1)[1])
            for clients in args.clients:
                row = {"server": server, **run_clients(port, clients, args.duration, args.per_process)}
                row["load"] = round(os.getloadavg()[0], 1)
                rows.append(row)
                print("  ".join(str(row[key]).rjust(width) for key, _, width in COLUMNS), flush=True)
                time.sleep(2)  # the closed connections' teardown
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
