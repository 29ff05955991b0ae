"""Celery tasks: thin wrappers that own locking and time limits around ingest and merge.

One merge per refresh cycle: beat starts the three source refreshes together, and a refresh that
finishes while another source's refresh of the same cycle is still running leaves the merge to it
(`merge_left_to_sibling`). Every published snapshot is a switch for every web process and a fan-out
to every subscriber, so three merges per cycle tripled that work for one cycle's data. Nothing is
left unmerged: a refresh releases its lock (its data already stored) before it looks at the others,
so of two that overlap, the later one to look sees the other's lock gone and merges both; and a
fast source's data never waits more than one period (a sibling that started longer ago than
REFRESH_SECONDS, or a last merge round older than two of them, does not hold the merge back).
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from tokens import pipeline
from tokens.infra.redis_clients import raw_key, raw_redis
from tokens.ingest import refresh
from tokens.records import SOURCES

log = logging.getLogger(__name__)

REFRESH_LOCK = "lock:refresh:{source}"


def refresh_lock_seconds() -> int:
    """Longer than the hard time limit, so a killed worker's lock expires soon after the limit."""
    return int(settings.CELERY_TASK_TIME_LIMIT) + int(settings.REFRESH_LOCK_MARGIN_SECONDS)


@shared_task(name="tokens.refresh_source", ignore_result=True)
def refresh_source(source: str) -> dict | None:
    """Refresh one source (skipped if another worker is refreshing it), then merge and publish."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    try:
        lock = cache.lock(REFRESH_LOCK.format(source=source), timeout=refresh_lock_seconds(), blocking=False)
        if not lock.acquire(blocking=False):
            log.info("refresh skipped source=%s reason=already-running", source)
            return None
        try:
            report = refresh.refresh_source(source)
        finally:
            _release(lock)
        if merge_left_to_sibling(source):
            log.info("merge left to the cycle's running refresh source=%s", source)
        else:
            pipeline.merge_and_publish()
        return {"source": source, "calls": report.calls, "ok_calls": report.ok_calls, "errors": report.errors}
    except SoftTimeLimitExceeded:
        log.error("refresh timed out source=%s", source)
        return None
    except RedisError as exc:
        # Redis is down or restarting: skip this run; beat schedules the next one.
        log.error("refresh skipped source=%s reason=redis-unavailable error=%s", source, exc)
        return None


def merge_left_to_sibling(source: str, now: float | None = None) -> bool:
    """True when another source's refresh of this cycle is still running and will merge after it.

    Only a sibling that started within the last REFRESH_SECONDS counts (a refresh stuck on a slow
    upstream does not hold the others' data back), and only while the last merge round (published,
    or found nothing new) is younger than two periods (the first snapshot, or one after a pause, is
    published at once).
    """
    now = time.time() if now is None else now
    period = float(settings.REFRESH_SECONDS)
    lock_ms = refresh_lock_seconds() * 1000
    conn = raw_redis()
    running = [
        other
        for other in SOURCES
        if other != source and lock_ms - conn.pttl(raw_key(REFRESH_LOCK.format(source=other))) < period * 1000
    ]
    if not running:
        return False
    # A round that found nothing new counts too. Two periods: such a round runs at its cycle's start
    # (refreshes that make no call end at once), so the next cycle's first refresh ends a little
    # more than one period after it; a pause, or the first snapshot, still merges at once.
    last = pipeline.last_merge_round_at()
    return last is not None and now - last < 2 * period


def _release(lock) -> None:
    try:
        lock.release()
    except Exception:  # expired (task ran past the lock) or Redis went away: the TTL cleans up
        log.warning("refresh lock was gone at release")


@shared_task(name="tokens.prune_candles", ignore_result=True)
def prune_candles() -> dict:
    """Delete the candles CANDLE_RETENTION_DAYS no longer keeps (bounded batches; beat runs it hourly)."""
    from tokens.history.store import delete_expired

    deleted = delete_expired()
    log.info("candles pruned %s", " ".join(f"{k}={v}" for k, v in deleted.items()) or "none")
    return deleted
