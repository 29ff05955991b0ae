"""merge_and_publish: source snapshots -> merged snapshot in Redis -> change events to subscribers.

The one module of `tokens` that knows `realtime`: it joins the two halves of the flow, so it
imports both at its top (tokens' merge and store, realtime's publish); nothing in `realtime`
imports it back.

After the fan-out, the snapshot is folded into the stored candles (tokens/history) and the changed
open candles go to their WebSocket subscribers (realtime/candle_feed); neither delays the events.

Single-flight across every worker: one merge runs at a time (`lock:merge`); a refresh that finishes
while a merge is running sets `merge-pending`, and the running merge goes round once more, so no
source update is left unmerged.

Nothing new, nothing published: a merge whose inputs (every source's fetched_at/error, the universe)
are those the current snapshot was merged from (`merged-inputs`) publishes nothing. A refresh that
made no upstream call (its budget used up, its cache window still open) changes no input, and an
identical snapshot would still cost every web process a switch and every cache its entries. The
skipped merge's snapshot would differ only in `updated_at`; freshness is the data's own
(`data_fetched_at`), so no age or staleness shown anywhere changes.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import time

from django.conf import settings
from django.core.cache import cache

from realtime.candle_feed import publish_open_candles
from realtime.publish import publish_changes, thresholds_from_settings
from tokens.history import store as history
from tokens.infra import metrics
from tokens.merge.core import merge_sources
from tokens.records import SOURCES, Snapshot, SourceSnapshot, SourceStatus
from tokens.store import ingested, snapshots

log = logging.getLogger(__name__)

MERGE_LOCK = "lock:merge"
MERGE_PENDING = "merge-pending"
# (snapshot id, digest of the inputs it was merged from, time of the last merge round)
MERGED_INPUTS = "merged-inputs"
MERGE_LOCK_SECONDS = 120
MAX_ROUNDS = 3


def load_inputs() -> tuple[dict[str, SourceSnapshot], list[str]]:
    """What a merge reads: every source's stored snapshot and the tracked universe."""
    return {name: ingested.load_source(name) for name in SOURCES}, ingested.load_universe()


def inputs_digest(sources: dict[str, SourceSnapshot], universe: list[str]) -> str:
    """Names the merge's inputs: a source's data changes only with a successful fetch (fetched_at) or
    an error, and the universe is read whole."""
    marks = [(name, snap.fetched_at, snap.error) for name, snap in sorted(sources.items())]
    return hashlib.blake2b(pickle.dumps((marks, universe)), digest_size=16).hexdigest()


def build_snapshot(
    snapshot_id: int, now: float, sources: dict[str, SourceSnapshot], universe: list[str]
) -> Snapshot:
    """Merge the source snapshots over the universe (as load_inputs reads them) into a new Snapshot."""
    result = merge_sources(sources, universe, now=now, outlier_factor=settings.PRICE_OUTLIER_FACTOR)
    statuses = {
        name: SourceStatus(ok=snap.ok, fetched_at=snap.fetched_at, error=snap.error)
        for name, snap in sources.items()
    }
    return Snapshot(
        id=snapshot_id,
        generated_at=now,
        data_fetched_at=result.data_fetched_at,
        sol_price_usd=result.sol_price_usd,
        sources=statuses,
        tokens=result.tokens,
    )


def merge_and_publish() -> Snapshot | None:
    """Merge and publish now, or leave a note for the merge already running. Returns the last snapshot made."""
    lock = cache.lock(MERGE_LOCK, timeout=MERGE_LOCK_SECONDS, blocking=False)
    if not lock.acquire(blocking=False):
        cache.set(MERGE_PENDING, 1, timeout=MERGE_LOCK_SECONDS)
        return None
    try:
        snapshot = None
        for _ in range(MAX_ROUNDS):
            cache.delete(MERGE_PENDING)
            snapshot = _merge_once()
            if not cache.get(MERGE_PENDING):
                break
        return snapshot
    finally:
        try:
            lock.release()
        except Exception:  # the lock expired meanwhile; nothing to release
            log.warning("merge lock had expired before release")


def _merge_once() -> Snapshot:
    started = time.perf_counter()
    previous = snapshots.current_snapshot()
    inputs = load_inputs()
    digest = inputs_digest(*inputs)
    merged = _merged_inputs()
    if previous is not None and merged is not None and merged[:2] == (previous.id, digest):
        cache.set(MERGED_INPUTS, (previous.id, digest, time.time()), timeout=None)
        metrics.MERGES_SKIPPED.inc()
        log.info("merge skipped: nothing new since snapshot id=%d", previous.id)
        return previous
    snapshot = build_snapshot(snapshots.next_snapshot_id(), time.time(), *inputs)
    snapshots.publish_snapshot(snapshot)
    cache.set(MERGED_INPUTS, (snapshot.id, digest, snapshot.generated_at), timeout=None)
    seconds = time.perf_counter() - started
    metrics.MERGE_SECONDS.observe(seconds)
    metrics.SNAPSHOT_ID.set(snapshot.id)
    metrics.SNAPSHOT_TOKENS.set(len(snapshot.tokens))
    events = _publish_events(previous, snapshot)
    _record_candles(previous, snapshot)
    log.info(
        "snapshot published id=%d tokens=%d events=%d merge_ms=%.1f sources=%s",
        snapshot.id,
        len(snapshot.tokens),
        events,
        seconds * 1000,
        ",".join(f"{n}:{'ok' if s.ok else 'failing'}" for n, s in snapshot.sources.items()),
    )
    return snapshot


def _merged_inputs() -> tuple[int, str, float] | None:
    """(snapshot id, its inputs' digest, when a merge round last looked), None before the first."""
    value = cache.get(MERGED_INPUTS)
    return value if isinstance(value, tuple) and len(value) == 3 else None


def last_merge_round_at() -> float | None:
    """When a merge round last ran: the current snapshot's generated_at, or later if a round since
    found nothing new (None before the first snapshot)."""
    current = snapshots.current_snapshot()
    if current is None:
        return None
    merged = _merged_inputs()
    if merged is not None and merged[0] == current.id:
        return max(current.generated_at, merged[2])
    return current.generated_at


def _publish_events(previous: Snapshot | None, snapshot: Snapshot) -> int:
    """Hand the change to the realtime side; its failure never undoes the published snapshot."""
    try:
        return len(publish_changes(previous, snapshot, thresholds_from_settings()))
    except Exception:
        log.exception("publishing events failed for snapshot id=%d", snapshot.id)
        return 0


def _record_candles(previous: Snapshot | None, snapshot: Snapshot) -> None:
    """After the fan-out: fold the snapshot into the stored candles, then send the changed open ones.

    A database failure loses this snapshot's observation only; it never undoes the publish.
    """
    started = time.perf_counter()
    try:
        stored = history.record_snapshot(snapshot)
    except Exception:
        log.exception("candle write failed for snapshot id=%d", snapshot.id)
        return
    written = time.perf_counter()
    try:
        groups = publish_open_candles(previous, snapshot, stored)
    except Exception:
        log.exception("candle fan-out failed for snapshot id=%d", snapshot.id)
        groups = 0
    log.info(
        "candles written id=%d rows=%d write_ms=%.1f groups=%d",
        snapshot.id,
        len(stored),
        (written - started) * 1000,
        groups,
    )
