"""The service's state as health and /metrics report it: Redis, the current snapshot, each source, beat."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from tokens.infra import redis_clients
from tokens.ingest import budgets
from tokens.records import SOURCES, Snapshot
from tokens.selectors.freshness import is_stale, snapshot_age
from tokens.store import heartbeat, ingested, snapshots
from tokens.tokenjson import iso

log = logging.getLogger(__name__)


def _call(func: Callable[..., Any], *args: Any) -> Any:
    """func(*args), or None when it fails: health must answer even when a part of it breaks."""
    try:
        return func(*args)
    except Exception as exc:  # health must answer even when a helper breaks
        log.warning("health: %s failed: %s", getattr(func, "__name__", func), exc)
        return None


def redis_status() -> dict[str, Any]:
    try:
        redis_clients.raw_redis().ping()
    except (RedisError, OSError) as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "error": None}


def snapshot_status(snapshot: Snapshot | None, now: float) -> dict[str, Any]:
    age = snapshot_age(snapshot, now) if snapshot else None
    return {
        "id": snapshot.id if snapshot else None,
        "generated_at": iso(snapshot.generated_at) if snapshot else None,
        "data_fetched_at": iso(snapshot.data_fetched_at) if snapshot else None,
        "age_seconds": None if age is None else round(age, 3),
        "stale": is_stale(snapshot, now, settings.CACHE_TTL_SECONDS),
        "max_age_seconds": settings.CACHE_TTL_SECONDS,
        "tokens": len(snapshot.tokens) if snapshot else 0,
    }


def _latest(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def sources_status(snapshot: Snapshot | None, redis_ok: bool) -> dict[str, Any]:
    """Each source's last success and error (its own Redis record and the snapshot's), budget, pause."""
    out: dict[str, Any] = {}
    for name in SOURCES:
        own = _call(ingested.load_source, name) if redis_ok else None
        status = snapshot.sources.get(name) if snapshot else None
        last_success = _latest(own.fetched_at if own else None, status.fetched_at if status else None)
        if own is not None and (own.error or own.last_attempt_at):
            last_error = own.error
        else:
            last_error = status.error if status else None
        out[name] = {
            "ok": last_success is not None and last_error is None,
            "last_success": iso(last_success),
            "last_attempt": iso(own.last_attempt_at) if own is not None else None,
            "last_error": last_error,
            "remaining_budget": _call(budgets.remaining_budget, name) if redis_ok else None,
            "paused_seconds": _call(budgets.pause_remaining, name) if redis_ok else None,
        }
    return out


def beat_status(now: float) -> dict[str, Any]:
    last = _call(heartbeat.last_beat_run)
    return {"last_run": iso(last), "age_seconds": None if last is None else round(now - last, 3)}


def health_report() -> tuple[bool, dict[str, Any]]:
    """(healthy, body): healthy when Redis answers and the current snapshot is not stale."""
    now = time.time()
    redis = redis_status()
    snapshot = snapshots.current_snapshot()
    snap = snapshot_status(snapshot, now)
    reasons = []
    if not redis["ok"]:
        reasons.append(f"Redis does not answer: {redis['error']}")
    if snapshot is None:
        reasons.append("No snapshot has been published yet.")
    elif snap["stale"]:
        reasons.append(
            f"Data is stale: newest upstream fetch {snap['age_seconds']} s ago "
            f"(limit {settings.CACHE_TTL_SECONDS} s)."
            if snap["age_seconds"] is not None
            else "Data is stale: the snapshot holds no successful upstream fetch."
        )
    body = {
        "status": "ok" if not reasons else "unavailable",
        "reasons": reasons,
        "redis": redis,
        "snapshot": snap,
        "sources": sources_status(snapshot, redis["ok"]),
        "beat": beat_status(now),
        "checked_at": iso(now),
    }
    return not reasons, body
