"""Per-IP request rate: one Redis fixed-window counter per client and window, and its verdicts.

Owns the Redis keys ``throttle_anon_<ident>_<window>`` (under django-redis's prefix): every write
to them goes through this module, either `hit` (one blocking round trip, used by the DRF throttle
in tokens/api/throttling.py) or `queue_increment` (a command added to the ASGI admission pipeline,
tokens/asgi/admission.py). Both layers use the same rate (``DEFAULT_THROTTLE_RATES["anon"]``,
i.e. API_THROTTLE_RATE), so a client is limited the same whichever layer answers it. A request is
counted once: when the ASGI layer has counted it, it leaves its verdict in the ASGI scope under
SCOPE_VERDICT and the DRF throttle reuses it.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from rest_framework.settings import api_settings

from tokens.infra import redis_clients
from tokens.infra.log_throttle import ThrottledWarning

log = logging.getLogger(__name__)
_redis_down = ThrottledWarning(log)

SCOPE = "anon"
SCOPE_VERDICT = "tokens.throttle_verdict"  # ASGI scope key holding an already-made Verdict
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    wait: float  # seconds until the window resets (meaningful when not allowed)


def current_rate() -> tuple[int, int] | None:
    """(requests, seconds) from DRF's throttle rates, read per call so setting overrides apply."""
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(SCOPE)
    if not rate:
        return None
    num, period = rate.split("/")
    return int(num), _PERIODS[period.strip()[0]]


def client_ident(forwarded_for: str | None, remote_addr: str | None) -> str:
    """The client as DRF's BaseThrottle.get_ident sees it (honouring NUM_PROXIES)."""
    num_proxies = api_settings.NUM_PROXIES
    if num_proxies is not None:
        if num_proxies == 0 or forwarded_for is None:
            return remote_addr or ""
        addrs = forwarded_for.split(",")
        return addrs[-min(num_proxies, len(addrs))].strip()[:64]
    return ("".join(forwarded_for.split()) if forwarded_for else remote_addr or "")[:64]


def counter_key(ident: str, now: float, duration: int) -> str:
    """The full Redis key counting `ident`'s requests in the window containing `now`."""
    return _full_key(ident, int(now // duration))


@functools.lru_cache(maxsize=4096)
def _full_key(ident: str, window: int) -> str:
    return redis_clients.raw_key(f"throttle_{SCOPE}_{ident}_{window}")


def window_ttl(duration: int) -> int:
    """Seconds a window's counter lives: the window plus one, so a late increment still expires."""
    return duration + 1


def queue_increment(pipe: Any, key: str, n: int, duration: int) -> None:
    """Add `n` requests to counter `key` as two commands of `pipe` (its INCRBY result comes first)."""
    pipe.incrby(key, n)
    pipe.expire(key, window_ttl(duration))


def judge(count: int, limit: int, now: float, duration: int) -> Verdict:
    """The verdict for the `count`-th request of a window."""
    wait = duration - (now % duration)
    return Verdict(allowed=count <= limit, wait=wait)


def hit(ident: str, now: float | None = None) -> Verdict:
    """Count one request of `ident` (blocking Redis call) and judge it; fails open without Redis."""
    rate = current_rate()
    if rate is None:
        return Verdict(True, 0.0)
    limit, duration = rate
    now = time.time() if now is None else now
    key = counter_key(ident, now, duration)
    try:
        pipe = redis_clients.raw_redis().pipeline(transaction=False)
        queue_increment(pipe, key, 1, duration)
        count = int(pipe.execute()[0])
    except RedisError as exc:
        _redis_down.warn("throttle check skipped, Redis unavailable: %s", exc)
        return Verdict(True, 0.0)
    _redis_down.recovered("throttle checks run again, Redis answers")
    return judge(count, limit, now, duration)
