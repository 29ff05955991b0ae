"""WebSocket under the whole stack: N clients subscribe to `all` at once while worker and beat refresh.

    .venv/bin/python bench/bench_ws_stack.py [--clients 1000 5000] [--servers uvicorn daphne]
                                             [--duration 40] [--tokens 500] [--redis-db 11]

For each web server it starts the stack of bench/stack.py (2 web processes behind one port, the
Celery worker, beat refreshing every REFRESH_SECONDS against the replay upstream of --tokens
tokens), waits for a full refresh cycle, then for each client count opens that many connections
from client processes (a lean asyncio client, StackClient, --per-process per process, on uvloop)
all at once, each subscribing to `all`, and keeps them --duration seconds. It reports:

  subscribe s     from the first connect to the last `snapshot` received (p50/p99 per client too),
                  and on the next line its phases per client (p50/p99: TCP connect, then the
                  `welcome`, then the `snapshot`), `error` frames received (a client answered
                  "unavailable" subscribes again 1 s later; batch frames it gets before the retry's
                  snapshot are counted apart, not checked: the failed subscribe may have joined its
                  groups already), clients that failed, and the kernel's
                  count of connections dropped by a full accept queue meanwhile (whole machine)
  anomalies       clients whose batches after their snapshot (seq S) do not run S+1, S+2, … without
                  a gap or a repeat (docs/api.md §4: must be 0), and the clients closed meanwhile
  spread ms       per refresh, first to last client receiving its batch: p50 / p99 / max over the
                  refreshes every client got live, i.e. first received after every client had its
                  snapshot (targets: p99 ≤ 250 ms at 1,000, ≤ 1 s at 5,000)
  KB/client/ref   bytes of batch frames a client receives per refresh, and of its snapshot frame
  cpu ms          CPU used during a refresh's spread (first to last client's batch), in ms per
                  refresh (2 cores: at most twice the spread), per role: the web processes, the
                  client processes, the bench process itself (its CPU sampler), the worker
                  (Celery worker and beat), the replay upstream, Redis, and `other` (the rest of the
                  machine; rough: process and machine counters are sampled apart, so it can come
                  out below 0); when the clients take as much as the web processes, the spread is
                  partly theirs

--run-dir DIR keeps the stack's run directory (DIR/<server>/honcho.log has every process's log).

--py-spy DIR records the web, client and worker processes with py-spy while the clients are held
(raw folded stacks, DIR/<role>-<pid>-<clients>.txt, BENCH_PY_SPY_RATE samples/s, 100 by default;
summarise with bench/pyspy_top.py). py-spy takes CPU of its own: read the other figures of such a
run as perturbed.

Frames are not decoded on receipt (that would delay the timestamps of the other clients of the
process): each frame's first and last seq and its count of events are read from its bytes.
Figures depend on the machine; on a shared one, read them as rough.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import multiprocessing as mp
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ws import proc_stats, raise_nofile, write_client_frame, write_handshake  # noqa: E402
from bench.stack import Stack, running_stack  # noqa: E402

PER_PROCESS = 500  # connections per client process (--per-process)
SUBSCRIBE_TIMEOUT = 300  # s from the TCP connect to the snapshot
SEQ = b'"seq":'


DIGITS = re.compile(rb"\d+")
BUFFER_STEP = 64 * 1024


class StackClient(asyncio.BufferedProtocol):
    """A lean WebSocket client (RFC 6455 handshake and framing): subscribes to `all` after the
    welcome, answers pings and keeps per batch frame (time complete, first seq, last seq, count,
    bytes). The clients share the machine with the server they measure, so a received frame costs
    as few Python operations as possible: the kernel copies it straight into the connection's own
    buffer (BufferedProtocol: no chunk objects, no joins), grown to the largest frame and then
    reused (no page faults per frame), and it is read there in place: its first and last seq by
    find/rfind from either end. Its count of events (a full scan, ~0.25 ms for 240 KB) is taken
    once per distinct frame per client process (`counted`: the same (first, last, size) is the
    same text to every client of a refresh)."""

    counted: dict[tuple[int, int, int], int] = {}

    def __init__(self, host: str, origin: str, ready: asyncio.Future) -> None:
        self.host, self.origin, self.ready = host, origin, ready
        self.buf = bytearray(BUFFER_STEP)
        self.start = self.end = 0  # unread bytes: buf[start:end]
        self.upgraded = False
        self.texts = 0
        self.started = time.time()
        self.connected_at = self.welcome_at = 0.0
        self.snapshot_at = 0.0
        self.snapshot_seq = 0
        self.snapshot_bytes = 0
        self.batches: list[tuple[float, int, int, int, int]] = []
        self.closed = False
        self.errors = 0  # error frames received (a subscribe answered "unavailable" is sent again)
        self.early_batches = 0  # batch frames before the snapshot, after an error frame
        self.early_unexpected = False  # a batch frame before the snapshot without any error

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.connected_at = time.time()
        write_handshake(transport, self.host, self.origin)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        write_client_frame(self.transport, opcode, payload)

    def get_buffer(self, sizehint: int) -> memoryview:
        if len(self.buf) - self.end < BUFFER_STEP // 4:
            self._make_room(self.end - self.start + BUFFER_STEP)
        return memoryview(self.buf)[self.end :]

    def _make_room(self, needed: int) -> None:
        """Move the unread bytes to the front, into a larger buffer when `needed` does not fit."""
        unread = self.buf[self.start : self.end]
        if needed > len(self.buf):
            self.buf = bytearray(-(-needed // BUFFER_STEP) * BUFFER_STEP)
        self.buf[: len(unread)] = unread
        self.start, self.end = 0, len(unread)

    def buffer_updated(self, nbytes: int) -> None:
        self.end += nbytes
        buf = self.buf
        if not self.upgraded:
            at = buf.find(b"\r\n\r\n", self.start, self.end)
            if at < 0:
                return
            if b" 101 " not in buf[: buf.find(b"\r\n")]:
                self.ready.set_exception(RuntimeError(bytes(buf[:200]).decode(errors="replace")))
                return
            self.start, self.upgraded = at + 4, True
        while self.end - self.start >= 2:
            at = self.start
            length, offset = buf[at + 1] & 0x7F, 2
            if length == 126:
                if self.end - at < 4:
                    break
                length, offset = int.from_bytes(buf[at + 2 : at + 4], "big"), 4
            elif length == 127:
                if self.end - at < 10:
                    break
                length, offset = int.from_bytes(buf[at + 2 : at + 10], "big"), 10
            if self.end - at < offset + length:
                if at + offset + length > len(buf):
                    self._make_room(offset + length + BUFFER_STEP)
                break
            opcode, first, last = buf[at] & 0x0F, at + offset, at + offset + length
            self.start = last
            if opcode == 1:
                self._on_text(buf, first, last)
            elif opcode == 9:
                self.send_frame(10, bytes(buf[first:last]))
        if self.start == self.end:
            self.start = self.end = 0

    def _on_text(self, buf: bytearray, first: int, last: int) -> None:
        now = time.time()
        self.texts += 1
        if self.texts == 1:  # welcome
            self.welcome_at = now
            self.send_frame(1, b'{"action":"subscribe","all":true}')
        elif buf.startswith(b'{"type":"snapshot"', first, last):
            self.snapshot_at, self.snapshot_bytes = now, last - first
            self.snapshot_seq = int(DIGITS.match(buf, buf.find(SEQ, first, last) + len(SEQ)).group())
            if not self.ready.done():
                self.ready.set_result(None)
        elif buf.startswith(b'{"type":"error"', first, last):  # e.g. unavailable: subscribe again
            self.errors += 1
            if not self.snapshot_at:
                asyncio.get_running_loop().call_later(
                    1.0, self.send_frame, 1, b'{"action":"subscribe","all":true}'
                )
        elif buf.startswith(b'{"type":"batch"', first, last) and not self.snapshot_at:
            # Before its snapshot: after an `unavailable` the server may have joined the groups of
            # the subscribe that failed (set aside: the retry's snapshot starts the check); with
            # no error at all, a batch before the snapshot breaks the contract.
            if self.errors:
                self.early_batches += 1
            else:
                self.early_unexpected = True
        elif buf.startswith(b'{"type":"batch"', first, last):
            at = buf.find(SEQ, first, last)
            if at >= 0:
                first_seq = int(DIGITS.match(buf, at + len(SEQ)).group())
                last_seq = int(DIGITS.match(buf, buf.rfind(SEQ, first, last) + len(SEQ)).group())
                key = (first_seq, last_seq, last - first)
                count = self.counted.get(key)
                if count is None:
                    count = self.counted[key] = buf.count(SEQ, first, last)
                self.batches.append((now, first_seq, last_seq, count, last - first))

    def connection_lost(self, exc) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before its snapshot"))

    def summary(self) -> dict:
        """Anomaly: the batches after the snapshot are not exactly S+1, S+2, … (gap, repeat, older)."""
        expected = self.snapshot_seq + 1
        anomalous = self.early_unexpected
        for _, first, last, count, _ in self.batches:
            if first != expected or last - first + 1 != count:
                anomalous = True
            expected = last + 1
        return {
            "subscribe_s": self.snapshot_at - self.started,
            "snapshot_at": self.snapshot_at,
            "phases": (  # TCP connect, then the welcome, then the snapshot (s)
                self.connected_at - self.started,
                self.welcome_at - self.connected_at,
                self.snapshot_at - self.welcome_at,
            ),
            "snapshot_bytes": self.snapshot_bytes,
            "anomalous": anomalous,
            "closed": self.closed,
            "errors": self.errors,
            "early_batches": self.early_batches,
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
        try:
            await asyncio.wait_for(ready, SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            stage = "snapshot" if client.welcome_at else "welcome"
            raise TimeoutError(f"connected, no {stage} within {SUBSCRIBE_TIMEOUT} s") from None
        return client

    async def main() -> None:
        pipe.recv()  # "go": every process starts connecting at once
        clients = await asyncio.gather(*(open_one() for _ in range(count)), return_exceptions=True)
        failed = collections.Counter(repr(c) for c in clients if isinstance(c, BaseException))
        pipe.send(("subscribed", sum(failed.values()), ", ".join(f"{n} x {e}" for e, n in failed.items())))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
        ok = [c for c in clients if not isinstance(c, BaseException)]
        for c in ok:
            c.transport.abort()
        pipe.send([c.summary() for c in ok])

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


LISTEN_COUNTERS = ("ListenOverflows", "ListenDrops", "TCPReqQFullDrop", "SyncookiesSent")


def listen_counters() -> dict[str, int]:
    """The kernel's counts of connections a full accept (or SYN) queue dropped (whole machine)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            found = dict(zip(names.split()[1:], (int(v) for v in values.split()[1:]), strict=False))
            return {name: found.get(name, 0) for name in LISTEN_COUNTERS}
    return {}


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):  # gone meanwhile
            total += proc_stats(pid)[0]
    return total


def role_pids(stack: Stack | None, client_pids: list[int]) -> dict[str, list[int]]:
    roles = {"clients": client_pids, "bench": [os.getpid()]}
    if stack is not None:
        pids = stack.pids()
        roles.update(web=pids["web"], worker=pids["worker"] + pids["beat"], upstream=pids["upstream"])
        with contextlib.suppress(Exception):
            import redis

            roles["redis"] = [int(redis.Redis.from_url(stack.env["REDIS_URL"]).info("server")["process_id"])]
    return roles


def machine_seconds() -> dict[str, float]:
    """CPU seconds of the whole machine since boot (all cores): busy (not idle nor iowait), and of
    that the interrupts' (softirq: loopback TCP delivery among others) and the hypervisor's (steal)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return {"machine": busy / tick, "irq": (fields[5] + fields[6]) / tick, "steal": fields[7] / tick}


class CpuSampler(threading.Thread):
    """Every `every` s: the CPU seconds used so far by each role and by the whole machine."""

    def __init__(self, roles: dict[str, list[int]], every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.roles, self.every = roles, every
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        files: dict[str, list[int]] = {}
        for role, pids in self.roles.items():
            for pid in pids:
                with contextlib.suppress(OSError):
                    files.setdefault(role, []).append(os.open(f"/proc/{pid}/stat", os.O_RDONLY))
        tick = os.sysconf("SC_CLK_TCK")
        try:
            while not self.stop.is_set():
                cpu = {role: 0.0 for role in self.roles}
                for role, fds in files.items():
                    for fd in fds:
                        with contextlib.suppress(OSError, IndexError, ValueError):
                            fields = os.pread(fd, 4096, 0).rsplit(b")", 1)[1].split(None, 13)
                            cpu[role] += (int(fields[11]) + int(fields[12])) / tick
                cpu.update(machine_seconds())
                self.samples.append((time.time(), cpu))
                self.stop.wait(self.every)
        finally:
            for fds in files.values():
                for fd in fds:
                    os.close(fd)

    def used(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per role between two times (nearest samples outside the window)."""
        before = [c for t, c in self.samples if t <= start] or [self.samples[0][1]]
        after = [c for t, c in self.samples if t >= end] or [self.samples[-1][1]]
        return {role: after[0][role] - before[-1][role] for role in before[-1]}


def window_cpu(sampler: CpuSampler, timeline: list[tuple[int, float, float]]) -> str:
    """CPU per role during the refreshes' spread windows, in ms per refresh (2 cores give at most
    2 ms per ms of spread); `irq` is interrupt time, `steal` the hypervisor's, `other` the rest of
    the machine (other users of the cores)."""
    if not timeline or not sampler.samples:
        return ""
    totals: dict[str, float] = {}
    for _, first, last in timeline:
        for role, v in sampler.used(first, last).items():
            totals[role] = totals.get(role, 0.0) + v
    totals["other"] = totals.pop("machine") - sum(totals.values())
    return " ".join(f"{role}={1000 * v / len(timeline):.0f}" for role, v in totals.items())


def start_py_spy(out_dir: str | None, roles: dict[str, list[int]], duration: float, tag: str) -> list:
    """py-spy on the web, client and worker processes for `duration` s (raw folded stacks)."""
    if not out_dir:
        return []
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    spy = str(Path(sys.executable).with_name("py-spy"))
    rate = os.environ.get("BENCH_PY_SPY_RATE", "100")
    argv = [spy, "record", "-f", "raw", "-r", rate, "--nonblocking", "-d", str(int(duration))]
    return [
        subprocess.Popen(
            [*argv, "-p", str(pid), "-o", f"{out_dir}/{role}-{pid}-{tag}.txt"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for role in ("web", "clients", "worker")
        for pid in roles.get(role, [])
    ]


def run_clients(
    port: int,
    clients: int,
    duration: float,
    per_process: int = PER_PROCESS,
    stack: Stack | None = None,
    py_spy: str | None = None,
) -> dict:
    nprocs = max(1, -(-clients // per_process))
    pipes, procs = [], []
    for k in range(nprocs):
        parent, child = mp.Pipe()
        share = clients // nprocs + (1 if k < clients % nprocs else 0)
        procs.append(mp.Process(target=client_process, args=(port, share, child), daemon=True))
        procs[-1].start()
        pipes.append(parent)
    time.sleep(0.5)
    drops = listen_counters()
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
            print(f"  {n_failed} clients failed: {first_error}", file=sys.stderr, flush=True)
    subscribed_in = time.time() - started
    drops = {k: v - drops[k] for k, v in listen_counters().items() if v != drops[k]}
    roles = role_pids(stack, [proc.pid for proc in procs])
    spies = start_py_spy(py_spy, roles, duration, str(clients))
    sampler = CpuSampler(roles)
    sampler.start()
    cpu0, t0 = {role: cpu_seconds(pids) for role, pids in roles.items()}, time.time()
    time.sleep(duration)
    cpu = {role: cpu_seconds(pids) - cpu0[role] for role, pids in roles.items()}
    held = time.time() - t0
    sampler.stop.set()
    for p in pipes:
        p.send("stop")
    summaries = [s for p in pipes for s in p.recv()]
    for proc in procs:
        proc.join(timeout=30)
    for spy in spies:
        spy.wait(timeout=60)
    row = report(summaries, clients, failed, subscribed_in)
    row["cpu"] = " ".join(f"{role}={100 * v / held:.0f}" for role, v in cpu.items())
    row["spread_cpu"] = window_cpu(sampler, row["timeline"])
    row["listen_drops"] = " ".join(f"{k}={v}" for k, v in drops.items()) or "none"
    return row


def report(summaries: list[dict], clients: int, failed: int, subscribed_in: float) -> dict:
    per_refresh: dict[int, list[tuple[float, int]]] = {}
    for s in summaries:
        for t, first, size in s["batches"]:
            per_refresh.setdefault(first, []).append((t, size))
    n = len(summaries)
    # Live fan-out only: refreshes first received after every client had its snapshot (during a
    # subscribe storm, late subscribers get a refresh's events in their catch-up instead).
    everyone = max((s["snapshot_at"] for s in summaries), default=0.0)
    complete = {seq: v for seq, v in per_refresh.items() if len(v) == n and min(t for t, _ in v) > everyone}
    spreads = [(max(t for t, _ in v) - min(t for t, _ in v)) * 1000 for v in complete.values()]
    sizes = [statistics.mean(size for _, size in v) for v in complete.values()]
    subscribe = [s["subscribe_s"] for s in summaries]
    phases = list(zip(*(s["phases"] for s in summaries), strict=True)) or [[], [], []]
    return {
        "clients": clients,
        "subscribed": n,
        "failed": failed,
        "subscribe_s": round(subscribed_in, 1),
        "subscribe_p50_s": round(pct(subscribe, 0.5), 2),
        "subscribe_p99_s": round(pct(subscribe, 0.99), 2),
        # p50/p99 of the subscribe's phases: TCP connect, connect to welcome, welcome to snapshot
        "phases_s": " ".join(
            f"{name}={pct(list(v), 0.5):.2f}/{pct(list(v), 0.99):.2f}"
            for name, v in zip(("tcp", "welcome", "snapshot"), phases, strict=True)
        ),
        "anomalies": sum(s["anomalous"] for s in summaries),
        "closed": sum(s["closed"] for s in summaries),
        "error_frames": sum(s["errors"] for s in summaries),
        "early_batches": sum(s["early_batches"] for s in summaries),
        "refreshes": len(complete),
        "spread_p50_ms": round(pct(spreads, 0.5)),
        "spread_p99_ms": round(pct(spreads, 0.99)),
        "spread_max_ms": round(max(spreads, default=float("nan"))),
        "kb_per_client_refresh": round(statistics.mean(sizes) / 1000, 1) if sizes else None,
        "snapshot_kb": round(max((s["snapshot_bytes"] for s in summaries), default=0) / 1000, 1),
        # per complete refresh: its first seq, the first and the last client's receipt (epoch s)
        "timeline": [
            (seq, round(min(t for t, _ in v), 4), round(max(t for t, _ in v), 4))
            for seq, v in sorted(complete.items())
        ],
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
    ("spread_cpu", "cpu ms per refresh during its spread", 36),
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
    parser.add_argument(
        "--run-dir", help="keep the stack's run directory (honcho.log: every process's log) here"
    )
    parser.add_argument(
        "--py-spy", help="record web, client and worker processes with py-spy into this directory"
    )
    args = parser.parse_args()
    raise_nofile()
    rows = []
    print("  ".join(title.rjust(width) for _, title, width in COLUMNS), flush=True)
    for server in args.servers:
        run_dir = Path(args.run_dir) / server if args.run_dir else None
        with running_stack(
            web_server=server, redis_db=args.redis_db, tokens=args.tokens, run_dir=run_dir
        ) as stack:
            refresh = float(stack.env.get("REFRESH_SECONDS", "10"))
            time.sleep(refresh + 2)  # a full refresh cycle: every source has been merged once
            port = int(stack.url.rsplit(":", 1)[1])
            for clients in args.clients:
                measured = run_clients(port, clients, args.duration, args.per_process, stack, args.py_spy)
                row = {"server": server, **measured}
                row["load"] = round(os.getloadavg()[0], 1)
                rows.append(row)
                print("  ".join(str(row[key]).rjust(width) for key, _, width in COLUMNS), flush=True)
                print(
                    f"  subscribe phases, p50/p99 s: {row['phases_s']}; error frames: {row['error_frames']}"
                    f" (then batches before the snapshot: {row['early_batches']});"
                    f" failed: {row['failed']}; listen drops: {row['listen_drops']}",
                    flush=True,
                )
                time.sleep(2)  # the closed connections' teardown
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
