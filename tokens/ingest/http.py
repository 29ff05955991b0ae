"""HTTP to the upstream APIs: one session per source, timeouts, retries that honour Retry-After,
each attempt inside the source's shared budget (tokens/ingest/budgets.py)."""

from __future__ import annotations

import logging
import math
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import requests
from django.conf import settings
from tenacity import RetryCallState, Retrying, retry_if_exception

from tokens.infra import metrics
from tokens.ingest import budgets
from tokens.ingest.sources import BudgetSpec, Source, source

log = logging.getLogger(__name__)

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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "nan" and "inf" parse as floats but are no delay at all
        return max(seconds, 0.0) if math.isfinite(seconds) else None
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
        bucket = source(self.source).budget(budget)
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

    def _attempt(self, path: str, params: dict[str, Any] | None, bucket: BudgetSpec, max_wait: float) -> Any:
        remaining = budgets.pause_remaining(self.source)
        if remaining > 0:
            raise SourcePaused(self.source, remaining)
        budgets.acquire(self.source, bucket, max_wait)
        url = f"{self.base_url}{path}"
        started = time.monotonic()
        try:
            response = self.session.get(
                url, params=params, timeout=(budgets.CONNECT_TIMEOUT_SECONDS, self.timeout)
            )
        except requests.RequestException as exc:
            metrics.upstream_request(self.source, "error", time.monotonic() - started)
            raise TransientError(self.source, f"{type(exc).__name__} on {path}") from exc
        metrics.upstream_request(self.source, str(response.status_code), time.monotonic() - started)
        self._honour_ratelimit_headers(response)
        return self._decode(response, path)

    def _honour_ratelimit_headers(self, response: requests.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is not None and reset is not None and response.status_code != 429:
            try:
                if int(float(remaining)) <= 0:
                    budgets.pause_source(self.source, float(reset) - time.time())
            except ValueError:
                pass

    def _decode(self, response: requests.Response, path: str) -> Any:
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None:
                retry_after = _reset_header_seconds(response) or DEFAULT_PAUSE_SECONDS
            budgets.pause_source(self.source, retry_after)
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


def client_for(name: str) -> SourceClient:
    """The process's client for a source, built from its description on first use (or when its URL changed)."""
    spec: Source = source(name)
    client = _clients.get(name)
    if client is None or client.base_url != spec.base_url:
        client = _clients[name] = SourceClient(name, spec.base_url, headers=spec.request_headers())
    return client
