"""Candles through the whole stack: replay upstream -> Celery worker (refresh, merge, candle write) -> daphne.

The worker and daphne share the processes' database (tests/processes.py), as in `make run`.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.processes import fresh_database_url, start_daphne, wait_for
from tokens.history.candles import INTERVAL_NAMES, align
from tokens.records import SOURCES
from tokens.store import snapshots

pytestmark = pytest.mark.slow


def refresh_all() -> int:
    """Queue one refresh per source (the worker runs them); returns the snapshot id before them."""
    from tokens.tasks import refresh_source

    before = snapshots.current_snapshot_id() or 0
    for source in SOURCES:
        refresh_source.delay(source)
    return before


def wait_refreshed(before: int, count: int = 1) -> int:
    """The snapshot id once `count` snapshots followed `before` (one refresh cycle merges once, or more
    when its sources finish apart: tokens/tasks.py)."""

    def done():
        current = snapshots.current_snapshot_id() or 0
        return current if current >= before + count else None

    return wait_for(done, timeout=60, what="the worker's snapshots")


class SnapshotRecorder(threading.Thread):
    """Keeps (generated_at, merged prices) of every snapshot the worker publishes, as it is published.

    A replaced snapshot lives only SNAPSHOT_KEEP_SECONDS in Redis, and every snapshot of the test
    wrote candles, so the test cannot wait until the end to read them; polling 5 times a second
    reads each one well inside its life.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: dict[int, tuple[float, dict[str, float]]] = {}
        self.missing: list[int] = []
        self.halt = threading.Event()

    def run(self) -> None:
        last = 0
        while not self.halt.wait(0.2):
            current = snapshots.current_snapshot_id() or 0
            if current and not last:  # ids do not start at 1 (tokens/store/snapshots.py): the test's
                last = current  # first is the lowest still stored, Redis having been flushed before it
                while snapshots.load_snapshot(last - 1) is not None:
                    last -= 1
                last -= 1
            for snapshot_id in range(last + 1, current + 1):
                snap = snapshots.load_snapshot(snapshot_id)
                if snap is None:
                    self.missing.append(snapshot_id)
                    continue
                prices = {m: t.price_usd for m, t in snap.tokens.items() if t.price_usd}
                self.seen[snapshot_id] = (snap.generated_at, prices)
            last = max(last, current)

    def prices(self, mint: str, last: int) -> list[tuple[float, float]]:
        """(generated_at, merged price) of every snapshot up to `last` that priced `mint`."""
        assert not self.missing, f"{len(self.missing)} snapshots expired before the test read them"
        wait_for(lambda: last in self.seen, timeout=5, what=f"snapshot {last} recorded")
        return [
            (at, prices[mint])
            for i, (at, prices) in sorted(self.seen.items())
            if i <= last and mint in prices
        ]


def expected(observations: list[tuple[float, float]], interval: str) -> dict[int, tuple]:
    bars: dict[int, list[float]] = {}
    for at, price in observations:
        bars.setdefault(align(at, interval), []).append(price)
    return {t: (p[0], max(p), min(p), p[-1]) for t, p in bars.items()}


def test_ohlc_of_a_moving_price_through_the_real_pipeline_survives_restarts(
    replay, worker_env, workers, tmp_path
):
    # A database of this test's own: the replay's mints are seeded, so another test's worker may
    # have written candles of the same mint into the shared processes' database.
    database = {"DATABASE_URL": fresh_database_url(tmp_path)}
    worker_env = {**worker_env, **database}
    worker = workers("w1", worker_env)
    for name in ("web1", "web2"):
        (tmp_path / name).mkdir()
    server = start_daphne(tmp_path / "web1", **replay.urls(), **database, API_THROTTLE_RATE="1000000/min")
    recorder = SnapshotRecorder()
    recorder.start()
    try:
        refresh_all()
        wait_for(snapshots.current_snapshot_id, timeout=60, what="a first snapshot")
        wait_refreshed(refresh_all())
        snap = snapshots.current_snapshot()
        token = max((t for t in snap.tokens.values() if t.price_usd), key=lambda t: len(t.sources))
        mint = token.token_address
        for factor in (1.2, 0.7, 1.1):
            replay.control("POST", "move", {"mint": mint, "price_factor": factor})
            wait_refreshed(refresh_all())
        last = settled()
        observations = recorder.prices(mint, last)  # every snapshot of this test wrote candles
        assert len({p for _, p in observations}) >= 3, observations  # the price did move

        def written():
            return requests.get(f"{server.url}/api/tokens/{mint}/candles/?interval=1m", timeout=5).json()

        wait_for(
            lambda: written()["candles"] and _written_upto(last), what="the candle write of the last snapshot"
        )
        got = {}
        for interval in INTERVAL_NAMES:
            body = server.get(f"/api/tokens/{mint}/candles/?interval={interval}").json()
            got[interval] = body["candles"]
            want = expected(observations, interval)
            merged = [c for c in body["candles"] if c["source"] == "merged"]  # backfill adds older ones
            assert {c["t"]: (c["open"], c["high"], c["low"], c["close"]) for c in merged} == want
            assert all(c["liquidity_usd"] for c in merged)
            assert all(c["t"] < min(want) for c in body["candles"] if c["source"] != "merged")

        # identical reads between two snapshots are answered from the response cache
        url = f"/api/tokens/{mint}/candles/?interval=1m"
        server.get(url)
        again = server.get(url)
        assert again.headers.get("x-response-cache") == "hit"
        not_modified = server.get(url, headers={"If-None-Match": again.headers["ETag"]})
        assert not_modified.status_code == 304
    finally:
        recorder.halt.set()
        server.proc.stop()

    # every process restarted: a new worker, a new web process; the history is still there
    worker.stop()
    workers("w2", worker_env)
    server = start_daphne(tmp_path / "web2", **replay.urls(), **database, API_THROTTLE_RATE="1000000/min")
    try:
        for interval in INTERVAL_NAMES:
            body = server.get(f"/api/tokens/{mint}/candles/?interval={interval}").json()
            assert body["candles"] == got[interval]
    finally:
        server.proc.stop()


def settled(quiet: float = 3.0) -> int:
    """The current snapshot id once no merge has run for `quiet` seconds and its candles are written."""
    seen = (snapshots.current_snapshot_id(), time.monotonic())
    while True:
        time.sleep(0.3)
        now = snapshots.current_snapshot_id()
        if now != seen[0]:
            seen = (now, time.monotonic())
        elif time.monotonic() - seen[1] > quiet and _written_upto(now):
            return now


def _written_upto(snapshot_id: int) -> bool:
    from tokens.history.store import written_snapshot_id

    return (written_snapshot_id() or 0) >= snapshot_id


def test_candles_of_a_token_that_never_traded_here_are_404_live(replay, tmp_path):
    (tmp_path / "web").mkdir()
    server = start_daphne(tmp_path / "web", API_THROTTLE_RATE="1000000/min")
    try:
        response = server.get("/api/tokens/So11111111111111111111111111111111111111112/candles/")
        assert response.status_code == 404
        assert server.get("/api/tokens/not-a-mint/candles/").status_code == 400
    finally:
        server.proc.stop()
