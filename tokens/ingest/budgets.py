"""Request budgets shared by every worker process through Redis, and the pause after a 429.

Owns these Redis key families:
  mds:limits*              moving-window budgets (keys of the `limits` library)
  mds:pause:<source>       set after a 429 (or an exhausted x-ratelimit-*): no worker calls the source until it expires
"""

from __future__ import annotations

import threading
import time

import limits
from django.conf import settings
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from tokens.infra.redis_clients import raw_redis
from tokens.ingest.sources import BudgetSpec, source

PAUSE_KEY = "mds:pause:{source}"
MIN_PAUSE_SECONDS = 1.0
# The longest a request may take to reach the upstream after its slot is taken: the HTTP client's
# connect timeout (a new connection's TCP and TLS handshakes) plus a second of slack.
CONNECT_TIMEOUT_SECONDS = 3.05
ARRIVAL_MARGIN_SECONDS = CONNECT_TIMEOUT_SECONDS + 1.0
UPSTREAM_WINDOW_SECONDS = 60


class BudgetExhausted(Exception):
    """The shared per-minute budget has no room soon enough; not a failure of the source."""

    def __init__(self, source_name: str, message: str) -> None:
        super().__init__(f"{source_name}: {message}")
        self.source = source_name


_storage_lock = threading.Lock()
_limiter: MovingWindowRateLimiter | None = None
_limiter_url: str | None = None


def _rate_limiter() -> MovingWindowRateLimiter:
    global _limiter, _limiter_url
    with _storage_lock:
        if _limiter is None or _limiter_url != settings.REDIS_URL:
            storage = RedisStorage(
                settings.REDIS_URL,
                key_prefix="mds:limits",
                wrap_exceptions=False,
                socket_timeout=5,
                socket_connect_timeout=2,
            )
            _limiter, _limiter_url = MovingWindowRateLimiter(storage), settings.REDIS_URL
        return _limiter


def budget_item(budget: BudgetSpec) -> limits.RateLimitItem:
    """The budget as a moving window of 60 s plus the arrival margin, over the times slots are taken.

    The upstream counts arrivals in its own 60 s window, and a request arrives up to
    ARRIVAL_MARGIN_SECONDS after its slot was taken (later on a new connection than on a kept-alive
    one). Any 60 s of arrivals holds requests whose slots were taken within 60 s + that margin, so
    this window keeps every upstream window inside the budget.
    """
    window = int(UPSTREAM_WINDOW_SECONDS + ARRIVAL_MARGIN_SECONDS + 0.999)
    return limits.RateLimitItemPerSecond(budget.per_minute, window)


def remaining_budget(source_name: str) -> dict[str, int] | None:
    """Requests left in each of the source's budgets over the current window (None if Redis is down)."""
    try:
        limiter = _rate_limiter()
        return {
            b.name: int(limiter.get_window_stats(budget_item(b), source_name, b.name).remaining)
            for b in source(source_name).budgets
        }
    except (RedisError, OSError):
        return None


def pause_remaining(source_name: str) -> float:
    """Seconds until the source may be called again (0 when not paused)."""
    ttl_ms = raw_redis().pttl(PAUSE_KEY.format(source=source_name))
    return max(ttl_ms, 0) / 1000.0


def pause_source(source_name: str, seconds: float) -> None:
    """Pause every worker's calls to the source for at least `seconds` (never shortens a pause)."""
    ms = int(max(seconds, MIN_PAUSE_SECONDS) * 1000)
    key = PAUSE_KEY.format(source=source_name)
    conn = raw_redis()
    if conn.pttl(key) < ms:
        conn.set(key, str(time.time() + ms / 1000), px=ms)


def acquire(source_name: str, budget: BudgetSpec, max_wait: float) -> None:
    """Take one request slot of `budget`, waiting up to `max_wait` s for one; else BudgetExhausted."""
    limiter = _rate_limiter()
    item = budget_item(budget)
    give_up_at = time.monotonic() + max_wait
    while not limiter.hit(item, source_name, budget.name):
        reset_at = limiter.get_window_stats(item, source_name, budget.name).reset_time
        wait = max(reset_at - time.time(), 0.05)
        if time.monotonic() + wait > give_up_at:
            raise BudgetExhausted(source_name, f"{budget.name} budget of {budget.per_minute}/min used up")
        time.sleep(min(wait, 1.0))
