"""WebSocket fan-out benchmark: N clients subscribed to `all`, refreshes that change 100 tokens.

For each channel layer and client count it starts one daphne process (config.asgi, the layer
chosen by CHANNEL_LAYER), connects N WebSocket clients from 1-2 client processes (a lean asyncio
client, see BenchClient, so that the clients leave the CPU to the server), then commits
hand-built snapshots and calls realtime.publish.publish_changes directly. It reports delivery
latency from the snapshot commit to the client's receipt (p50/p99/max over every client and
refresh), events lost (checked by seq on every client: must be 0), the bytes a client receives per
refresh (its batch frames' payloads; docs/api.md §4 keeps them lean) and per snapshot frame, and
the daphne process's CPU time and RSS.

    .venv/bin/python bench/bench_ws.py                      # 100, 1000, 5000 x redis, pubsub
    .venv/bin/python bench/bench_ws.py --clients 1000 --layers redis --refreshes 5 --repeat 3

BENCH_PROFILE=/tmp/web.prof cProfiles the web process during the measured refreshes.

Uses Redis DB BENCH_REDIS_DB (default 11), flushed before each run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REDIS_HOST = os.environ.get("BENCH_REDIS_HOST", "127.0.0.1:6379")
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "11")
CONNECT_CONCURRENCY = 100


def raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- client processes ---------------------------------------------------------------------------


def write_handshake(transport, host: str, origin: str) -> None:
    """The WebSocket upgrade request of /ws/tokens/ (RFC 6455 §4.1)."""
    key = base64.b64encode(os.urandom(16)).decode()
    transport.write(
        f"GET /ws/tokens/ HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n".encode()
    )


def write_client_frame(transport, opcode: int, payload: bytes) -> None:
    """One short masked client frame (payload < 126 bytes)."""
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


class BenchClient(asyncio.Protocol):
    """A lean WebSocket client (RFC 6455 handshake and framing on an asyncio Protocol).

    A websockets.connect() client costs several times more CPU per frame; on a small machine the
    clients would then compete with the server they measure. This one answers pings, subscribes
    to `all` after the welcome, and timestamps each frame as soon as it is complete.
    """

    def __init__(self, host: str, origin: str, ready: asyncio.Future) -> None:
        self.host, self.origin, self.ready = host, origin, ready
        self.buf = bytearray()
        self.upgraded = False
        self.texts = 0
        self.frames: list[tuple[float, bytes | None]] = []

    def connection_made(self, transport) -> None:
        self.transport = transport
        write_handshake(transport, self.host, self.origin)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        write_client_frame(self.transport, opcode, payload)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in self.buf[: self.buf.find(b"\r\n")]:
                self.ready.set_exception(RuntimeError(bytes(self.buf[:200]).decode(errors="replace")))
                return
            del self.buf[: end + 4]
            self.upgraded = True
        while (frame := self._next_frame()) is not None:
            opcode, payload = frame
            if opcode == 1:
                self._on_text(payload)
            elif opcode == 9:
                self.send_frame(10, payload)
            elif opcode == 8:
                self.frames.append((time.time(), None))

    def _next_frame(self) -> tuple[int, bytes] | None:
        buf = self.buf
        if len(buf) < 2:
            return None
        length, offset = buf[1] & 0x7F, 2
        if length == 126:
            if len(buf) < 4:
                return None
            length, offset = struct.unpack_from("!H", buf, 2)[0], 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length, offset = struct.unpack_from("!Q", buf, 2)[0], 10
        if len(buf) < offset + length:
            return None
        opcode, payload = buf[0] & 0x0F, bytes(buf[offset : offset + length])
        del buf[: offset + length]
        return opcode, payload

    def _on_text(self, payload: bytes) -> None:
        self.texts += 1
        if self.texts == 1:  # welcome
            self.send_frame(1, b'{"action":"subscribe","all":true}')
        elif self.texts == 2:
            assert payload.startswith(b'{"type":"snapshot"'), payload[:80]
            self.snapshot_bytes = len(payload)
            self.ready.set_result(None)
        else:
            self.frames.append((time.time(), payload))

    def connection_lost(self, exc) -> None:
        self.frames.append((time.time(), None))


async def _open(host: str, port: int, origin: str, gate: asyncio.Semaphore) -> BenchClient:
    loop = asyncio.get_running_loop()
    async with gate:
        ready = loop.create_future()
        _, client = await loop.create_connection(
            lambda: BenchClient(f"{host}:{port}", origin, ready), host, port
        )
        await asyncio.wait_for(ready, 120)
    return client


def client_process(port: int, count: int, pipe) -> None:
    """Opens `count` connections, says ready, records frames until told to stop, reports seqs."""
    raise_nofile()
    host, origin = "127.0.0.1", f"http://127.0.0.1:{port}"

    async def main() -> None:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        clients = await asyncio.gather(*(_open(host, port, origin, gate) for _ in range(count)))
        pipe.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
        frames = [c.frames for c in clients]
        for c in clients:
            c.transport.abort()
        pipe.send([(c.snapshot_bytes, _summarise(f)) for c, f in zip(clients, frames, strict=True)])

    try:
        asyncio.run(main())
    except BaseException as exc:
        pipe.send(f"failed: {exc!r}")
        raise


def _summarise(frames: list) -> list[tuple[float, list[int], int]]:
    """(receipt time, seqs of the frame's events, payload bytes) per frame; [-1] marks a closed
    connection."""
    import orjson

    out = []
    for t, raw in frames:
        if raw is None:
            out.append((t, [-1], 0))
            continue
        out.append((t, [e["seq"] for e in orjson.loads(raw).get("events", [])], len(raw)))
    return out


# --- the measured process (one layer, one client count) ----------------------------------------


def proc_stats(pid: int) -> tuple[float, int, int]:
    """(cpu seconds, RSS bytes, peak RSS bytes) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    rss, peak = (int(status[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM"))
    return cpu, rss, peak


def _factor(i: int, up: bool) -> float:
    step = 1.12 if i % 10 == 0 else 1.01
    return step if up else 1 / step


def build_snapshots(universe: int, changed: int, refreshes: int):
    """A first snapshot of `universe` tokens, then `refreshes` that each move `changed` of them:
    price +-1% and 5-minute volume (token.update), every tenth by +-12% (+ token.price_change)."""
    from tests.factories import event_snapshot, event_token, mint, moved

    tokens = [event_token(mint(i), price=1.0 + i / 1000, name=f"Bench {i}") for i in range(universe)]
    snaps = [event_snapshot(tokens)]
    for r in range(1, refreshes + 1):
        up = r % 2 == 1
        tokens = [
            moved(t, price=t.price_usd * _factor(i, up), m5=10.0 + r % 2) if i < changed else t
            for i, t in enumerate(tokens)
        ]
        snaps.append(event_snapshot(tokens))
    return snaps


# daphne with a profiler switched on by SIGUSR1 and dumped to argv[1] by SIGUSR2
_PROFILED_DAPHNE = """
import cProfile, signal, sys
out = sys.argv.pop(1)
prof = cProfile.Profile()
signal.signal(signal.SIGUSR1, lambda *a: prof.enable())
signal.signal(signal.SIGUSR2, lambda *a: (prof.disable(), prof.dump_stats(out)))
from daphne.cli import CommandLineInterface
CommandLineInterface.entrypoint()
"""


def start_daphne(port: int) -> subprocess.Popen:
    argv = [str(Path(sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(port)]
    if os.environ.get("BENCH_DAPHNE_PRELUDE"):  # experiments: run this Python first in daphne
        code = os.environ["BENCH_DAPHNE_PRELUDE"] + "\nfrom daphne.cli import CommandLineInterface"
        argv = [sys.executable, "-c", code + "\nCommandLineInterface.entrypoint()", *argv[1:]]
    if os.environ.get("BENCH_PROFILE"):  # cProfile the web process during the refreshes only
        argv = [sys.executable, "-c", _PROFILED_DAPHNE, os.environ["BENCH_PROFILE"], *argv[1:]]
    daphne = subprocess.Popen([*argv, "config.asgi:application"], cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return daphne
        except OSError:
            time.sleep(0.1)
    daphne.kill()
    raise RuntimeError("daphne did not start")


def start_clients(port: int, clients: int) -> tuple[list, list]:
    """1 client process up to 1,000 connections, else 2; returns once every client is subscribed."""
    nprocs = 1 if clients <= 1000 else 2
    pipes, procs = [], []
    for k in range(nprocs):
        parent, child = mp.Pipe()
        share = clients // nprocs + (1 if k < clients % nprocs else 0)
        procs.append(mp.Process(target=client_process, args=(port, share, child)))
        procs[-1].start()
        pipes.append(parent)
    for p in pipes:
        if not p.poll(600):
            raise RuntimeError("clients did not connect within 600 s")
        message = p.recv()
        if message != "ready":
            raise RuntimeError(f"client process {message}")
    return pipes, procs


def run_one(layer: str, clients: int, refreshes: int, universe: int, changed: int, interval: float) -> dict:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        REDIS_URL=f"redis://{REDIS_HOST}/{REDIS_DB}",
        CHANNEL_LAYER=layer,
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from realtime.events import Thresholds
    from realtime.publish import publish_changes
    from tokens.infra import redis_clients
    from tokens.store import snapshots

    redis_clients.raw_redis().flushdb()
    snaps = build_snapshots(universe, changed, refreshes + 1)
    snapshots.publish_snapshot(snaps[0])
    publish_changes(None, snaps[0], Thresholds())
    port = free_port()
    daphne = start_daphne(port)
    procs: list = []
    try:
        pipes, procs = start_clients(port, clients)
        time.sleep(1.0)
        profiling = bool(os.environ.get("BENCH_PROFILE"))
        commits: dict[int, float] = {}
        published: list[int] = []
        publish_ms: list[float] = []
        warmup_last = 0
        cpu0 = proc_stats(daphne.pid)[0]
        client_cpu0 = sum(proc_stats(p.pid)[0] for p in procs)
        for r in range(1, refreshes + 2):  # one warm-up refresh, then the measured ones
            if profiling and r == 2:
                daphne.send_signal(signal.SIGUSR1)
            snapshots.publish_snapshot(snaps[r])
            t0 = time.time()  # the snapshot is committed: the clock starts
            events = publish_changes(snaps[r - 1], snaps[r], Thresholds())
            publish_ms.append((time.time() - t0) * 1000)
            if r == 1:
                warmup_last = events[-1]["seq"]
            else:
                commits.update((e["seq"], t0) for e in events)
                published += [e["seq"] for e in events]
            time.sleep(interval)
        cpu1, rss, peak = proc_stats(daphne.pid)
        client_cpu = sum(proc_stats(p.pid)[0] for p in procs) - client_cpu0
        if profiling:
            daphne.send_signal(signal.SIGUSR2)
        for p in pipes:
            p.send("stop")
        results = [conn for p in pipes for conn in p.recv()]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
        daphne.terminate()
        daphne.wait(timeout=10)
    report = _report(results, commits, published, warmup_last)
    report.update(
        layer=layer,
        clients=clients,
        refreshes=refreshes,
        events_per_refresh=len(published) // max(refreshes, 1),
        daphne_cpu_s_per_refresh=round((cpu1 - cpu0) / (refreshes + 1), 3),
        daphne_rss_mb=round(rss / 2**20),
        daphne_peak_rss_mb=round(peak / 2**20),
        publish_ms=round(sorted(publish_ms)[len(publish_ms) // 2], 1),
        client_cpu_s_per_refresh=round(client_cpu / (refreshes + 1), 3),
    )
    return report


def _report(results: list, commits: dict[int, float], published: list[int], warmup_last: int) -> dict:
    """Latency of each frame from its refresh's commit; lost = missing or duplicated seqs per client."""
    latencies: list[float] = []
    per_refresh: dict[float, list[float]] = {}
    lost = closed = 0
    measured_bytes = 0
    snapshot_bytes: list[int] = []
    expected = set(published)
    for snapshot_size, frames in results:
        snapshot_bytes.append(snapshot_size)
        seen: list[int] = []
        for t, seqs, size in frames:
            if seqs == [-1]:
                closed += 1
                continue
            measured = [s for s in seqs if s > warmup_last]
            if measured:
                latency = t - commits[measured[0]]
                latencies.append(latency)
                per_refresh.setdefault(commits[measured[0]], []).append(latency)
                measured_bytes += size
            seen += measured
        lost += len(expected - set(seen)) + (len(seen) - len(set(seen)))
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

    spread = [
        (round(min(v) * 1000), round(sorted(v)[len(v) // 2] * 1000), round(max(v) * 1000))
        for _, v in sorted(per_refresh.items())
    ]
    refreshes = max(len(per_refresh), 1)
    return {
        "kb_per_client_refresh": round(measured_bytes / max(len(results), 1) / refreshes / 1000, 1),
        "snapshot_kb": round(max(snapshot_bytes, default=0) / 1000, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 1),
        "lost": lost,
        "closed": closed,
        "per_refresh_min_p50_max_ms": spread,
    }


COLUMNS = (
    ("layer", "layer", 7),
    ("clients", "clients", 7),
    ("events_per_refresh", "ev/refresh", 10),
    ("kb_per_client_refresh", "KB/client/refresh", 17),
    ("snapshot_kb", "snapshot KB", 11),
    ("p50_ms", "p50 ms", 7),
    ("p99_ms", "p99 ms", 7),
    ("max_ms", "max ms", 7),
    ("lost", "lost", 4),
    ("closed", "closed", 6),
    ("daphne_cpu_s_per_refresh", "web cpu s/refresh", 17),
    ("daphne_rss_mb", "web rss MB", 10),
    ("daphne_peak_rss_mb", "peak MB", 7),
    ("publish_ms", "publish ms", 10),
    ("load", "load avg", 8),
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--layers", nargs="+", default=["redis", "pubsub"], choices=["redis", "pubsub"])
    parser.add_argument("--refreshes", type=int, default=5, help="measured refreshes (after one warm-up)")
    parser.add_argument("--universe", type=int, default=500, help="tracked tokens (the snapshot frame)")
    parser.add_argument("--changed", type=int, default=100, help="tokens changed per refresh")
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between refreshes (0: auto)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_nofile()
    if args.one:
        interval = args.interval or max(1.5, args.clients[0] / 1500)
        result = run_one(
            args.layers[0], args.clients[0], args.refreshes, args.universe, args.changed, interval
        )
        result["load"] = round(os.getloadavg()[0], 2)
        print(json.dumps(result), flush=True)
        return
    print("  ".join(title.rjust(width) for _, title, width in COLUMNS), flush=True)
    for clients in args.clients:
        for _ in range(args.repeat):
            for layer in args.layers:
                _run_child(args, layer, clients)


def _run_child(args: argparse.Namespace, layer: str, clients: int) -> None:
    argv = [sys.executable, __file__, "--one", "--layers", layer, "--clients", str(clients)]
    argv += ["--refreshes", str(args.refreshes), "--universe", str(args.universe)]
    argv += ["--changed", str(args.changed), "--interval", str(args.interval)]
    out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines or not lines[-1].startswith("{"):
        print(f"{layer:>7}  {clients:>7}  FAILED: {out.stderr.strip()[-800:]}", flush=True)
        return
    row = json.loads(lines[-1])
    print("  ".join(str(row[key]).rjust(width) for key, _, width in COLUMNS), flush=True)


if __name__ == "__main__":
    main()
