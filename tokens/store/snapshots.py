"""Merged snapshots in Redis: written whole, then the current pointer flipped; memoised per process.

Owns these key families (all under django-redis's KEY_PREFIX):
  snapshot:<id>        Snapshot, kept SNAPSHOT_KEEP_SECONDS so readers mid-flight still find it
  snapshot:current     id of the newest complete snapshot (flipped after the snapshot is written)
  snapshot:seq         INCR counter for snapshot ids
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import cache
from redis.exceptions import RedisError

from tokens.infra import metrics
from tokens.infra.redis_clients import raw_key, raw_redis
from tokens.records import Snapshot

log = logging.getLogger(__name__)

# A replaced snapshot is read only by requests that read the old pointer a moment before the flip.
# It was 600 s: with a merge every ~3 s (one per source refresh) that kept ~180 snapshots, 78 MiB
# of Redis for a 300-token universe in bench/soak.py; 60 s keeps ~20, still generous.
SNAPSHOT_KEEP_SECONDS = 60

KEY_SNAPSHOT = "snapshot:{id}"
KEY_CURRENT = "snapshot:current"
KEY_SNAPSHOT_SEQ = "snapshot:seq"


# --- merged snapshots --------------------------------------------------------------------------


def next_snapshot_id() -> int:
    """A new snapshot id, larger than any before it, even after Redis lost its data.

    A fresh counter (INCR gives 1) is moved to the current Unix time, which is above any id a
    previous counter can have reached (merges happen far less than once a second on average).
    """
    conn, key = raw_redis(), raw_key(KEY_SNAPSHOT_SEQ)
    value = int(conn.incr(key))
    if value == 1:
        value = int(conn.incrby(key, int(time.time())))
    return value


def publish_snapshot(snapshot: Snapshot) -> None:
    """Write the snapshot, then flip the current pointer: a reader never sees half of one.

    The current snapshot never expires (however long merges stop); the one it replaces is kept
    SNAPSHOT_KEEP_SECONDS more for readers that read the old pointer a moment ago.
    """
    previous = cache.get(KEY_CURRENT)
    cache.set(KEY_SNAPSHOT.format(id=snapshot.id), snapshot, timeout=None)
    cache.set(KEY_CURRENT, snapshot.id, timeout=None)
    if previous is not None and int(previous) != snapshot.id:
        cache.expire(KEY_SNAPSHOT.format(id=previous), SNAPSHOT_KEEP_SECONDS)
    _memo.put(snapshot)


def current_snapshot_id() -> int | None:
    value = cache.get(KEY_CURRENT)
    return int(value) if value is not None else None


def load_snapshot(snapshot_id: int) -> Snapshot | None:
    snap = cache.get(KEY_SNAPSHOT.format(id=snapshot_id))
    return snap if isinstance(snap, Snapshot) else None


class _SnapshotMemo:
    """The newest snapshot this process has loaded, so a request costs one id check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.snapshot: Snapshot | None = None

    def put(self, snapshot: Snapshot) -> bool:
        """Hold `snapshot` unless a newer one is held; True when the memo moved to another id."""
        with self._lock:
            if self.snapshot is None or snapshot.id >= self.snapshot.id:
                moved = self.snapshot is None or self.snapshot.id != snapshot.id
                self.snapshot = snapshot
                return moved
            return False


_memo = _SnapshotMemo()


def current_snapshot() -> Snapshot | None:
    """The current snapshot, memoised per process by id.

    When Redis does not answer, the memoised snapshot (if any) is returned: callers decide
    staleness from its own timestamps, and health reports Redis separately.
    """
    try:
        current_id = current_snapshot_id()
    except RedisError:
        return _memo.snapshot
    if current_id is None:
        return None
    memo = _memo.snapshot
    if memo is not None and memo.id == current_id:
        return memo
    started = time.perf_counter()
    try:
        snap = load_snapshot(current_id)
    except RedisError:
        return memo
    if snap is None:
        return memo
    if _memo.put(snap):
        role = "web" if _follower is not None else "other"
        metrics.SNAPSHOT_SWITCHES.labels(role).inc()
        metrics.SNAPSHOT_LOAD_SECONDS.labels(role).observe(time.perf_counter() - started)
    return snap


FOLLOW_SECONDS = 0.25
_follower_lock = threading.Lock()
_follower: threading.Thread | None = None


def follow_current(interval: float = FOLLOW_SECONDS) -> None:
    """Keep this process's memo on the current snapshot from now on, whether requests come or not.

    Web processes call it at start (config/asgi.py), so each holds the current snapshot before its
    first request and still has the last one when Redis goes away. Idempotent per process.
    """
    global _follower
    with _follower_lock:
        if _follower is not None and _follower.is_alive():
            return
        _follower = threading.Thread(target=_follow, args=(interval,), name="snapshot-follower", daemon=True)
        _follower.start()


def _follow(interval: float) -> None:
    while True:
        try:
            current_snapshot()  # RedisError is handled inside: the memo stays as it was
        except Exception:  # an unreadable snapshot must not end the follower
            log.exception("snapshot follower: loading the current snapshot failed")
        time.sleep(interval)


def forget_memo() -> None:
    """Drop this process's memoised snapshot (tests flush Redis between cases)."""
    with _memo._lock:
        _memo.snapshot = None
