"""Merged snapshots in Redis: written whole, then the current pointer flipped; memoised per process.

Owns these key families (all under django-redis's KEY_PREFIX):
  snapshot:<id>        StoredSnapshot (the header and the tokens in pickled chunks), kept
                       SNAPSHOT_KEEP_SECONDS so readers mid-flight still find it
  snapshot:current     id of the newest complete snapshot (flipped after the snapshot is written)
  snapshot:seq         INCR counter for snapshot ids
"""

from __future__ import annotations

import logging
import pickle
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

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


# A web process decodes each new snapshot in its follower thread (follow_current), which holds the
# GIL while it decodes: the event loop waits meanwhile. Tokens are stored in chunks, and the decoder
# gives the GIL back after each one, so the loop waits at most one chunk's decode at a time (~0.1 ms
# for 50 tokens, bench/bench_switch.py) instead of the whole snapshot's (~20 ms for 500 tokens as
# one pickle, with dataclasses' __setstate__).
CHUNK_TOKENS = 50


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot as stored in Redis: everything but the tokens, and the tokens as pickled chunks."""

    header: Snapshot  # tokens={}
    chunks: tuple[bytes, ...]


def encode(snapshot: Snapshot, chunk_tokens: int = CHUNK_TOKENS) -> StoredSnapshot:
    tokens = list(snapshot.tokens.values())
    chunks = tuple(
        pickle.dumps(tokens[start : start + chunk_tokens], protocol=pickle.HIGHEST_PROTOCOL)
        for start in range(0, len(tokens), chunk_tokens)
    )
    return StoredSnapshot(header=replace(snapshot, tokens={}), chunks=chunks)


def _yield_gil() -> None:
    # Off the GIL long enough that a thread waiting for it (the event loop) takes it: sleep(0) gives
    # it back for so short a time that this thread usually takes it again first.
    time.sleep(0.0005)


def decode(stored: StoredSnapshot, pause: Callable[[], None] = _yield_gil) -> Snapshot:
    """The Snapshot back, chunk by chunk, calling `pause` after each chunk."""
    tokens = {}
    for chunk in stored.chunks:
        for token in pickle.loads(chunk):
            tokens[token.token_address] = token
        pause()
    return replace(stored.header, tokens=tokens)


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
    cache.set(KEY_SNAPSHOT.format(id=snapshot.id), encode(snapshot), timeout=None)
    cache.set(KEY_CURRENT, snapshot.id, timeout=None)
    if previous is not None and int(previous) != snapshot.id:
        cache.expire(KEY_SNAPSHOT.format(id=previous), SNAPSHOT_KEEP_SECONDS)
    _memo.put(snapshot)


def current_snapshot_id() -> int | None:
    value = cache.get(KEY_CURRENT)
    return int(value) if value is not None else None


def load_snapshot(snapshot_id: int) -> Snapshot | None:
    stored = cache.get(KEY_SNAPSHOT.format(id=snapshot_id))
    if isinstance(stored, StoredSnapshot):
        return decode(stored)
    return stored if isinstance(stored, Snapshot) else None  # written whole, before StoredSnapshot


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
    retired: list[Snapshot] = []
    while True:
        before = _memo.snapshot
        try:
            current_snapshot()  # RedisError is handled inside: the memo stays as it was
        except Exception:  # an unreadable snapshot must not end the follower
            log.exception("snapshot follower: loading the current snapshot failed")
        if before is not None and _memo.snapshot is not before:
            retired.append(before)
        del before
        retired = release_unused(retired)
        time.sleep(interval)


RETIRED_MAX = 8


def release_unused(retired: list[Snapshot], pause: Callable[[], None] = _yield_gil) -> list[Snapshot]:
    """Free the replaced snapshots nothing else holds any more, CHUNK_TOKENS tokens at a time.

    Freeing a 500-token snapshot at once (~30,000 objects) holds the GIL ~1-2 ms; emptying its
    tokens in chunks with a pause between them lets the event loop in. A snapshot still held
    elsewhere (a request building a page from it, the page index until its next use) waits for a
    later round; past RETIRED_MAX the oldest is let go as it is.
    """
    kept = []
    while retired:
        snapshot = retired.pop()
        # Held by nothing but this frame (`snapshot`) and getrefcount's argument: ours to empty.
        if sys.getrefcount(snapshot) <= 2:
            tokens = snapshot.tokens
            while tokens:
                for _ in range(min(CHUNK_TOKENS, len(tokens))):
                    tokens.popitem()
                pause()
        else:
            kept.append(snapshot)
        del snapshot
    kept.reverse()
    return kept[-RETIRED_MAX:]


def forget_memo() -> None:
    """Drop this process's memoised snapshot (tests flush Redis between cases)."""
    with _memo._lock:
        _memo.snapshot = None
