"""How old a snapshot's data is, and when it counts as stale (pure)."""

from __future__ import annotations

from tokens.records import Snapshot


def snapshot_age(snapshot: Snapshot, now: float) -> float | None:
    """Seconds since the newest successful upstream fetch the snapshot holds (None: no data)."""
    if snapshot.data_fetched_at is None:
        return None
    return max(0.0, now - snapshot.data_fetched_at)


def is_stale(snapshot: Snapshot | None, now: float, ttl_seconds: float) -> bool:
    """Stale: no snapshot, no data in it, or data older than `ttl_seconds`."""
    if snapshot is None:
        return True
    age = snapshot_age(snapshot, now)
    return age is None or age > ttl_seconds
