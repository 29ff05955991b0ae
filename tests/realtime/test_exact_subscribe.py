"""Exact subscribe: after a `snapshot` (seq S), a subscription's batches carry exactly its events with
seq > S — against two real web processes (under uvicorn and under daphne), the Redis channel layer and refreshes landing meanwhile.

Each client also applies what it receives as the page does: every `token.update`'s old values must
be the values its table holds (a snapshot newer or older than S shows up as a mismatch), and the
table it ends with must equal the last published snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time

import orjson
import pytest
from websockets.asyncio.client import connect

from realtime import eventlog
from tests.factories import event_snapshot, event_token, mint, moved
from tests.processes import start_web_server
from tests.realtime.conftest import commit_sync
from tokens.infra.redis_clients import raw_key, raw_redis

UNIVERSE = 24
REFRESHES = 45
CLIENTS_PER_KIND = 24  # all, alerts, tokens, resume: spread over two web processes


@pytest.fixture(scope="module")
def two_web_processes(web_server, tmp_path_factory):
    """Two web processes under each WEB_SERVER (uvicorn, daphne), on the same Redis and layer."""
    log_dir = tmp_path_factory.mktemp("exact-subscribe")
    servers = [start_web_server(log_dir, web_server), start_web_server(log_dir, web_server)]
    yield servers
    for server in servers:
        server.proc.stop()


def _ws_url(server) -> tuple[str, str]:
    return server.url.replace("http://", "ws://") + "/ws/tokens/", server.url


class Publisher(threading.Thread):
    """Refreshes every few ms as the merge does: prices move (some past the alert threshold),
    now and then a token leaves and another one enters."""

    def __init__(self, first) -> None:
        super().__init__(daemon=True)
        self.snapshots = [first]
        self.rng = random.Random(13)
        self.next_mint = UNIVERSE
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in range(REFRESHES):
                self.snapshots.append(self._next(n))
                commit_sync(self.snapshots[-2], self.snapshots[-1])
                time.sleep(self.rng.uniform(0.0, 0.06))
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _next(self, n: int):
        tokens = dict(self.snapshots[-1].tokens)
        for address in self.rng.sample(sorted(tokens), 8):
            factor = self.rng.choice([0.97, 1.02, 1.03, 1.08, 0.9])
            tokens[address] = moved(tokens[address], price=tokens[address].price_usd * factor)
        if n % 6 == 5:
            del tokens[self.rng.choice(sorted(tokens))]
            tokens[mint(self.next_mint)] = event_token(mint(self.next_mint), price=2.0)
            self.next_mint += 1
        return event_snapshot(list(tokens.values()))


class Client:
    """One subscriber: what it asked, its snapshot's seq, the seqs of its batches, its table."""

    def __init__(self, kind: str, server, mints: list[str]) -> None:
        self.kind = kind
        self.server = server
        self.mints = mints
        self.snapshot_seq: int | None = None
        self.seqs: list[int] = []
        self.table: dict[str, dict] = {}
        self.mismatches: list[str] = []
        self.done = asyncio.Event()
        self.target: int | None = None
        self.last_seq: int | None = None  # resume clients: the page's lastSeq

    def request(self) -> dict:
        if self.kind in ("all", "resume"):
            return {"action": "subscribe", "all": True}
        if self.kind == "alerts":
            return {"action": "subscribe", "alerts": True}
        return {"action": "subscribe", "tokens": self.mints}

    def wants(self, entry: eventlog.LogEntry) -> bool:
        if self.kind in ("all", "resume"):
            return True
        if self.kind == "alerts":
            return entry.alert
        return entry.mint in self.mints

    def on_snapshot(self, frame: dict) -> None:
        self.snapshot_seq = frame["seq"]
        self.table = {t["token_address"]: dict(t) for t in frame["tokens"]}

    def apply(self, event: dict) -> None:
        mint_ = event["token_address"]
        if event["type"] == "token.update":
            row = self.table.get(mint_)
            if row is None:
                self.mismatches.append(f"update of {mint_} not in the table (seq {event['seq']})")
                return
            for field, (old, new) in event["changes"].items():
                if row.get(field) != old:
                    self.mismatches.append(
                        f"seq {event['seq']} {field}: table {row.get(field)!r} != old {old!r}"
                    )
                row[field] = new
        elif event["type"] == "token.added":
            if mint_ in self.table:
                self.mismatches.append(f"seq {event['seq']} adds {mint_} already in the table")
            self.table[mint_] = dict(event["token"])
        elif event["type"] == "token.removed" and self.table.pop(mint_, None) is None:
            self.mismatches.append(f"seq {event['seq']} removes {mint_} not in the table")

    async def run(self, start_delay: float, stop: asyncio.Event) -> None:
        await asyncio.sleep(start_delay)
        url, origin = _ws_url(self.server)
        if self.kind == "resume":
            await self._run_resume(url, origin, stop)
            return
        async with connect(url, origin=origin, max_size=None) as conn:
            assert orjson.loads(await conn.recv())["type"] == "welcome"
            await conn.send(orjson.dumps(self.request()).decode())
            await self._read(conn, stop)

    async def _read(self, conn, stop: asyncio.Event) -> None:
        while not (stop.is_set() and self._reached()):
            try:
                raw = await asyncio.wait_for(conn.recv(), 0.5)
            except TimeoutError:
                continue
            frame = orjson.loads(raw)
            if frame["type"] == "snapshot":
                self.on_snapshot(frame)
            elif frame["type"] == "batch":
                for event in frame["events"]:
                    self.seqs.append(event["seq"])
                    self.apply(event)
        self.done.set()

    async def _run_resume(self, url: str, origin: str, stop: asyncio.Event) -> None:
        """Like the page: subscribe to all, go away, come back, subscribe again and resume."""
        async with connect(url, origin=origin, max_size=None) as conn:
            await conn.recv()
            await conn.send(orjson.dumps(self.request()).decode())
            async with asyncio.timeout(10):
                while True:
                    frame = orjson.loads(await conn.recv())
                    if frame["type"] == "snapshot":
                        self.on_snapshot(frame)
                        self.last_seq = frame["seq"]
                    elif frame["type"] == "batch":
                        self._page_batch(frame["events"], conn=None)
                        if len(self.seqs) >= 3:
                            break
        await asyncio.sleep(0.2)  # away while refreshes land
        async with connect(url, origin=origin, max_size=None) as conn:
            await conn.recv()
            await conn.send(orjson.dumps(self.request()).decode())
            await conn.send(orjson.dumps({"action": "resume", "since": self.last_seq}).decode())
            self.state_seq = None
            while not (stop.is_set() and self._reached()):
                try:
                    frame = orjson.loads(await asyncio.wait_for(conn.recv(), 0.5))
                except TimeoutError:
                    continue
                if frame["type"] == "snapshot":
                    self.table = {t["token_address"]: dict(t) for t in frame["tokens"]}
                    self.state_seq = frame["seq"]
                elif frame["type"] == "batch":
                    await self._page_batch_async(frame["events"], conn)
        self.done.set()

    def _page_batch(self, events: list[dict], conn) -> bool:
        """stream.js's rule: skip seen seqs; a gap asks resume and drops the rest of the frame."""
        for event in events:
            if event["seq"] <= self.last_seq:
                continue
            if event["seq"] > self.last_seq + 1:
                return False
            self.last_seq = event["seq"]
            self.seqs.append(event["seq"])
            if getattr(self, "state_seq", None) is None or event["seq"] > self.state_seq:
                self.apply(event)
        return True

    async def _page_batch_async(self, events: list[dict], conn) -> None:
        if not self._page_batch(events, conn):
            await conn.send(orjson.dumps({"action": "resume", "since": self.last_seq}).decode())

    def _reached(self) -> bool:
        return self.target is not None and (self.target == 0 or (self.seqs and self.seqs[-1] >= self.target))


def _log() -> list[eventlog.LogEntry]:
    rows = raw_redis().xrange(raw_key(eventlog.KEY_LOG), "-", "+")
    return [
        eventlog.LogEntry(
            seq=int(entry_id.split(b"-", 1)[0]),
            mint=fields[b"m"].decode(),
            alert=fields[b"a"] == b"1",
            text=fields[b"e"].decode(),
        )
        for entry_id, fields in rows
    ]


def _without_times(rows: dict[str, dict]) -> dict[str, dict]:
    return {m: {k: v for k, v in r.items() if k != "updated_at"} for m, r in rows.items()}


def _around(got: list[int], wanted: list[int]) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(got, wanted, strict=False)) if a != b), min(len(got), len(wanted))
    )
    return f"{got[max(0, at - 3) : at + 3]}, wanted {wanted[max(0, at - 3) : at + 3]}"


async def _final_table(server) -> dict[str, dict]:
    url, origin = _ws_url(server)
    async with connect(url, origin=origin, max_size=None) as conn:
        await conn.recv()
        await conn.send(orjson.dumps({"action": "subscribe", "all": True}).decode())
        frame = orjson.loads(await conn.recv())
    return {t["token_address"]: t for t in frame["tokens"]}


async def test_batches_after_a_snapshot_start_at_its_seq_plus_one_on_two_web_processes(two_web_processes):
    rng = random.Random(7)
    first = event_snapshot([event_token(mint(i), price=1.0 + i / 10) for i in range(UNIVERSE)])
    await asyncio.to_thread(commit_sync, None, first)
    clients = []
    for i in range(CLIENTS_PER_KIND):
        for kind in ("all", "alerts", "tokens", "resume"):
            mints = rng.sample([mint(m) for m in range(UNIVERSE + 8)], 5)
            clients.append(Client(kind, two_web_processes[i % 2], mints))
    stop = asyncio.Event()
    publisher = Publisher(first)
    tasks = [asyncio.create_task(c.run(rng.uniform(0.0, 1.5), stop)) for c in clients]
    publisher.start()
    await asyncio.to_thread(publisher.join, 60)
    assert publisher.error is None, publisher.error
    log = await asyncio.to_thread(_log)
    async with asyncio.timeout(30):
        while any(c.snapshot_seq is None for c in clients):
            await asyncio.sleep(0.05)
    for c in clients:
        wanted = [e.seq for e in log if e.seq > (c.snapshot_seq or 0) and c.wants(e)]
        c.target = wanted[-1] if wanted else 0
    stop.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    for task in tasks:
        if task.done() and task.exception() is not None:
            raise task.exception()

    final = await _final_table(two_web_processes[0])
    assert set(final) == set(publisher.snapshots[-1].tokens)
    problems = []
    for n, c in enumerate(clients):
        if c.kind == "resume":
            wanted = [e.seq for e in log if e.seq > c.snapshot_seq]
        else:
            wanted = [e.seq for e in log if e.seq > c.snapshot_seq and c.wants(e)]
        if c.seqs != wanted:
            below = [s for s in c.seqs if s <= (c.snapshot_seq or 0)]
            problems.append(
                f"client {n} ({c.kind}, snapshot seq {c.snapshot_seq}): got {len(c.seqs)} events, "
                f"wanted {len(wanted)}; {len(below)} at or below the snapshot's seq; "
                f"first got {c.seqs[:3]}, first wanted {wanted[:3]}; around the first "
                f"difference: got {_around(c.seqs, wanted)}"
            )
        if c.mismatches:
            problems.append(f"client {n} ({c.kind}): {c.mismatches[:3]}")
        if c.kind in ("all", "resume") and _without_times(c.table) != _without_times(final):
            problems.append(f"client {n} ({c.kind}): its table differs from the last snapshot")
    assert not problems, "\n".join(problems[:20]) + f"\n({len(problems)} problems)"
