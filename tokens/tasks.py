"""Celery tasks: thin wrappers that own locking and time limits around ingest and merge."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from tokens import pipeline
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
        pipeline.merge_and_publish()
        return {"source": source, "calls": report.calls, "ok_calls": report.ok_calls, "errors": report.errors}
    except SoftTimeLimitExceeded:
        log.error("refresh timed out source=%s", source)
        return None
    except RedisError as exc:
        # Redis is down or restarting: skip this run; beat schedules the next one.
        log.error("refresh skipped source=%s reason=redis-unavailable error=%s", source, exc)
        return None


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
