"""The replay server's state and upstream answers: universe, market state, faults, request log, rate window.

Independent of HTTP: `ReplayApp.upstream(...)` turns one upstream request into a `Response` (status,
headers, body bytes, delay); server.py only moves bytes. Thread-safe.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tokens.replay import faults as faults_module
from tokens.replay.faults import Fault, FaultTable
from tokens.replay.market import MarketState, MarketView, apply_move, market_view
from tokens.replay.routes import route
from tokens.replay.traffic import RateWindow, RequestLog
from tokens.replay.world import JUP, build_universe

DEFAULT_JUPITER_RPM = 120


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8"} | (headers or {}))


class ReplayApp:
    """Everything the replay server knows; every public method is safe to call from many threads."""

    def __init__(
        self, seed: int = 7, n_tokens: int = 300, motion: bool = True,
        faults: Iterable[tuple[str, Fault]] = (), jupiter_rpm: int = DEFAULT_JUPITER_RPM,
        now: float | None = None,
    ) -> None:  # fmt: skip
        now = time.time() if now is None else now
        self.universe = build_universe(seed, n_tokens, now)
        self.motion_default = motion
        self.state = MarketState.start(now, motion)
        self.faults = FaultTable()
        for source, fault in faults:
            self.faults.set(source, fault)
        self.log = RequestLog()
        self.jupiter_rate = RateWindow(jupiter_rpm)
        self._lock = threading.RLock()
        self._cached: tuple[tuple[int, int], MarketView] | None = None

    def view(self, now: float | None = None) -> MarketView:
        """The market now (recomputed at most once a second, or after a change)."""
        now = time.time() if now is None else now
        with self._lock:
            key = (int(now), self.state.version)
            if self._cached is None or self._cached[0] != key:
                self._cached = (key, market_view(self.universe, self.state, now))
            return self._cached[1]

    def upstream(
        self, source: str, path: str, query_string: str, now: float | None = None, accept: str | None = None
    ) -> Response:
        """One upstream GET: faults first, then Jupiter's rate window, then the rendered answer.

        `accept` (the request's Accept header) is only logged, so tests can see what clients sent.
        """
        now = time.time() if now is None else now
        fault = self.faults.take(source)
        rate_headers: dict[str, str] = {}
        allowed = True
        if source == JUP:
            allowed, rate_headers = self.jupiter_rate.hit(now)
        if fault and fault.mode == "429":
            response = _too_many(source, fault.retry_after, rate_headers)
        elif fault and fault.mode == "500":
            response = Response.json(500, {"error": "Internal Server Error"})
        elif not allowed:
            response = Response.json(429, {"error": "Rate limit exceeded"}, rate_headers)
        else:
            reply = route(source, path, parse_qs(query_string), self.view(now))
            response = _with_fault(Response.json(reply.status, reply.body, rate_headers), fault)
        self.log.record(now, source, path, query_string, response.status, accept)
        return response

    def reset(self, now: float | None = None) -> None:
        """Back to the seeded start: moves undone, motion clock at 0, faults, stats and rate window cleared."""
        with self._lock:
            self.state = MarketState.start(time.time() if now is None else now, self.motion_default)
            self._cached = None
        self.faults.clear()
        self.log.clear()
        self.jupiter_rate.clear()

    def set_motion(self, enabled: bool, now: float | None = None) -> None:
        with self._lock:
            self.state.set_motion(enabled, time.time() if now is None else now)

    def move(
        self, mint: str, price_factor: float | None, volume_m5_factor: float | None, source: str | None = None
    ) -> None:
        with self._lock:
            apply_move(self.state, self.view(), mint, price_factor, volume_m5_factor, source)


def _too_many(source: str, retry_after: float, rate_headers: dict[str, str]) -> Response:
    headers = dict(rate_headers)
    if source == JUP:
        headers["x-ratelimit-remaining"] = "0"
    headers["Retry-After"] = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
    body = (
        {"errors": [{"status": "429", "title": "Too Many Requests"}]}
        if source == "geckoterminal"
        else {"error": "Too Many Requests"}
    )
    return Response.json(429, body, headers)


def _with_fault(response: Response, fault: Fault | None) -> Response:
    """Apply a fault that still answers: slow and timeout wait first, malformed and empty send a broken 200."""
    if fault is None:
        return response
    if fault.mode == "slow":
        response.delay = fault.delay
    elif fault.mode == "timeout":
        response.delay = faults_module.TIMEOUT_SECONDS
    elif fault.mode == "malformed":
        response.status, response.body = 200, response.body[: max(1, len(response.body) // 2)]
    elif fault.mode == "empty":
        response.status, response.body = 200, b""
    return response
