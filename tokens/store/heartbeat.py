"""The beat's heartbeat: when Celery beat last sent a refresh (read by health). Owns `beat:last-run`."""

from __future__ import annotations

from django.core.cache import cache

KEY_BEAT_LAST_RUN = "beat:last-run"


def record_beat_run(ts: float) -> None:
    cache.set(KEY_BEAT_LAST_RUN, ts, timeout=None)


def last_beat_run() -> float | None:
    value = cache.get(KEY_BEAT_LAST_RUN)
    return float(value) if value is not None else None
