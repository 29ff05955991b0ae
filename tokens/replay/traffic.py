"""Who asked what: the replay server's request log (/_control/stats) and Jupiter's rate-limit window."""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Any

MAX_LOGGED = 100_000
WINDOW_SECONDS = 60.0


class RequestLog:
    """The last 100k upstream requests, each with its arrival time; thread-safe."""

    def __init__(self, size: int = MAX_LOGGED) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)

    def record(
        self, t: float, source: str, path: str, query: str, status: int, accept: str | None = None
    ) -> None:
        entry = {"t": t, "source": source, "path": path, "query": query, "status": status, "accept": accept}
        with self._lock:
            self._entries.append(entry)

    def since(self, t: float) -> list[dict[str, Any]]:
        """Entries that arrived at or after `t`, oldest first."""
        with self._lock:
            entries = list(self._entries)
        return [dict(e) for e in entries if e["t"] >= t]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RateWindow:
    """A sliding 60-second request counter, reported like Jupiter's x-ratelimit-* headers."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._hits: deque[float] = deque()

    def hit(self, now: float) -> tuple[bool, dict[str, str]]:
        """Count one request; (allowed, headers). A refused request is not counted."""
        with self._lock:
            while self._hits and self._hits[0] <= now - WINDOW_SECONDS:
                self._hits.popleft()
            allowed = self.limit <= 0 or len(self._hits) < self.limit
            if allowed:
                self._hits.append(now)
            oldest = self._hits[0] if self._hits else now
            current = len(self._hits)
        reset = oldest + WINDOW_SECONDS
        remaining = max(0, self.limit - current) if self.limit > 0 else 1_000_000
        headers = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-current": str(current),
            "x-ratelimit-reset": str(math.ceil(reset)),
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(reset - now)))
        return allowed, headers

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
