"""HTTP to the upstream APIs: one session per source, timeouts, retries that honour Retry-After,
and request budgets shared by every worker process through Redis.

Redis key families owned here:
  mds:limits*              moving-window budgets (keys of the `limits` library)
  mds:pause:<source>       set after a 429 (or an exhausted x-ratelimit-*): no worker calls the source until it expires
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import limits
import orjson
import requests
from django.conf import settings
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from tenacity import RetryCallState, Retrying, retry_if_exception

from tokens import metrics

log = logging.getLogger(__name__)

PAUSE_KEY = "mds:pause:{source}"
MIN_PAUSE_SECONDS = 1.0
DEFAULT_PAUSE_SECONDS = 30.0


class UpstreamError(Exception):
    """A call to an upstream source failed; `transient` ones are retried."""

    transient = False

    def __init__(self, source: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.status = status


class TransientError(UpstreamError):
    transient = True


class RateLimited(TransientError):
    def __init__(self, source: str, retry_after: float) -> None:
        super().__init__(source, f"429 rate limited, paused {retry_after:.0f}s", status=429)
        self.retry_after = retry_after


class SourcePaused(UpstreamError):
    def __init__(self, source: str, remaining: float) -> None:
        super().__init__(source, f"paused after a 429 for another {remaining:.1f}s")
        self.remaining = remaining


class BudgetExhausted(UpstreamError):
    """The shared per-minute budget has no room soon enough; not a failure of the source."""


@dataclass(frozen=True)
class Budget:
    """One moving-window request budget of a source (e.g. DexScreener discovery at 60/min)."""

    name: str
    per_minute: int


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


def _redis() -> Any:
    from tokens.store import raw_redis

    return raw_redis()


def budget_item(budget: Budget) -> limits.RateLimitItem:
    return limits.RateLimitItemPerMinute(budget.per_minute)


def remaining_budget(source: str) -> dict[str, int] | None:
    """Requests left in each of the source's budgets over the current minute (None if Redis is down)."""
    try:
        limiter = _rate_limiter()
        return {
            b.name: int(limiter.get_window_stats(budget_item(b), source, b.name).remaining)
            for b in source_budgets(source)
        }
    except (RedisError, OSError):
        return None


def pause_remaining(source: str) -> float:
    """Seconds until the source may be called again (0 when not paused)."""
    ttl_ms = _redis().pttl(PAUSE_KEY.format(source=source))
    return max(ttl_ms, 0) / 1000.0


def pause_source(source: str, seconds: float) -> None:
    """Pause every worker's calls to `source` for at least `seconds` (never shortens a pause)."""
    ms = int(max(seconds, MIN_PAUSE_SECONDS) * 1000)
    key = PAUSE_KEY.format(source=source)
    conn = _redis()
    if conn.pttl(key) < ms:
        conn.set(key, str(time.time() + ms / 1000), px=ms)


def source_budgets(source: str) -> list[Budget]:
    if source == "dexscreener":
        return [
            Budget("market", settings.DEXSCREENER_RPM),
            Budget("discovery", settings.DEXSCREENER_DISCOVERY_RPM),
        ]
    if source == "jupiter":
        return [Budget("default", settings.JUPITER_RPM)]
    return [Budget("default", settings.GECKOTERMINAL_RPM)]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(when - (now if now is not None else time.time()), 0.0)


class _Wait:
    """Exponential backoff with full jitter, never shorter than a 429's Retry-After."""

    def __init__(self, base: float = 0.5, cap: float = 8.0) -> None:
        self.base, self.cap = base, cap

    def __call__(self, state: RetryCallState) -> float:
        backoff = random.uniform(0, min(self.cap, self.base * 2 ** (state.attempt_number - 1)))
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            return exc.retry_after + random.uniform(0, 0.25)
        return backoff


class SourceClient:
    """GETs JSON from one upstream within its shared budgets; raises UpstreamError subclasses."""

    def __init__(
        self,
        source: str,
        base_url: str,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        deadline: float = 25.0,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._max_attempts = max_attempts
        self.deadline = deadline
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "solana-market-data/1.0", **(headers or {})})

    def get_json(
        self, path: str, params: dict[str, Any] | None = None, budget: str = "", max_wait: float = 2.0
    ) -> Any:
        """One logical GET: retried on transient failures, each attempt spending one budget unit."""
        budgets = {b.name: b for b in source_budgets(self.source)}
        bucket = budgets[budget] if budget else next(iter(budgets.values()))
        retrying = Retrying(
            stop=self._should_stop,
            wait=_Wait(),
            retry=retry_if_exception(lambda e: isinstance(e, UpstreamError) and e.transient),
            reraise=True,
        )
        return retrying(self._attempt, path, params, bucket, max_wait)

    @property
    def timeout(self) -> float:
        return self._timeout or settings.UPSTREAM_TIMEOUT_SECONDS

    @property
    def max_attempts(self) -> int:
        return self._max_attempts or settings.UPSTREAM_MAX_ATTEMPTS

    def _should_stop(self, state: RetryCallState) -> bool:
        """Stop after max_attempts, or when the next wait (a 429's Retry-After) would pass the deadline."""
        if state.attempt_number >= self.max_attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        upcoming = exc.retry_after if isinstance(exc, RateLimited) else 0.0
        return state.seconds_since_start + upcoming > self.deadline

    def _attempt(self, path: str, params: dict[str, Any] | None, bucket: Budget, max_wait: float) -> Any:
        remaining = pause_remaining(self.source)
        if remaining > 0:
            raise SourcePaused(self.source, remaining)
        self._acquire(bucket, max_wait)
        url = f"{self.base_url}{path}"
        started = time.monotonic()
        try:
            response = self.session.get(url, params=params, timeout=(3.05, self.timeout))
        except requests.RequestException as exc:
            metrics.upstream_request(self.source, "error", time.monotonic() - started)
            raise TransientError(self.source, f"{type(exc).__name__} on {path}") from exc
        metrics.upstream_request(self.source, str(response.status_code), time.monotonic() - started)
        self._honour_ratelimit_headers(response)
        return self._decode(response, path)

    def _acquire(self, bucket: Budget, max_wait: float) -> None:
        limiter = _rate_limiter()
        item = budget_item(bucket)
        give_up_at = time.monotonic() + max_wait
        while not limiter.hit(item, self.source, bucket.name):
            reset_at = limiter.get_window_stats(item, self.source, bucket.name).reset_time
            wait = max(reset_at - time.time(), 0.05)
            if time.monotonic() + wait > give_up_at:
                raise BudgetExhausted(self.source, f"{bucket.name} budget of {bucket.per_minute}/min used up")
            time.sleep(min(wait, 1.0))

    def _honour_ratelimit_headers(self, response: requests.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is not None and reset is not None and response.status_code != 429:
            try:
                if int(float(remaining)) <= 0:
                    pause_source(self.source, float(reset) - time.time())
            except ValueError:
                pass

    def _decode(self, response: requests.Response, path: str) -> Any:
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None:
                retry_after = _reset_header_seconds(response) or DEFAULT_PAUSE_SECONDS
            pause_source(self.source, retry_after)
            log.warning(
                "upstream rate limited source=%s path=%s retry_after=%.1f", self.source, path, retry_after
            )
            raise RateLimited(self.source, retry_after)
        if status >= 500:
            raise TransientError(self.source, f"HTTP {status} on {path}", status=status)
        if status >= 400:
            raise UpstreamError(self.source, f"HTTP {status} on {path}", status=status)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise TransientError(self.source, f"malformed JSON on {path}", status=status) from exc


def _reset_header_seconds(response: requests.Response) -> float | None:
    reset = response.headers.get("x-ratelimit-reset")
    try:
        return max(float(reset) - time.time(), 0.0) if reset else None
    except ValueError:
        return None


_clients: dict[str, SourceClient] = {}


def client_for(source: str) -> SourceClient:
    """The process's client for a source, built from settings on first use."""
    client = _clients.get(source)
    base = {
        "dexscreener": settings.DEXSCREENER_BASE_URL,
        "jupiter": settings.JUPITER_BASE_URL,
        "geckoterminal": settings.GECKOTERMINAL_BASE_URL,
    }[source]
    if client is None or client.base_url != base.rstrip("/"):
        headers: dict[str, str] = {"Accept": "application/json"}
        if source == "jupiter" and settings.JUPITER_API_KEY:
            headers["x-api-key"] = settings.JUPITER_API_KEY
        client = _clients[source] = SourceClient(source, base, headers=headers)
    return client
