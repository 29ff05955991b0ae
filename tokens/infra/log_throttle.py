"""Warnings that would repeat on every request while a dependency is down: one line per interval.

While Redis is down the API keeps answering (from memory, failing open) and each request would log
the same warning: thousands of lines a second that bury everything else. A ThrottledWarning logs
the first occurrence at once, then at most one line per `interval` seconds carrying how many were
left out meanwhile, and says so when the condition clears (`recovered`).
"""

from __future__ import annotations

import logging
import threading
import time


class ThrottledWarning:
    def __init__(self, logger: logging.Logger, interval: float = 30.0) -> None:
        self.logger = logger
        self.interval = interval
        self._lock = threading.Lock()
        self._last = -float("inf")
        self._suppressed = 0
        self._active = False

    def warn(self, message: str, *args: object, now: float | None = None) -> bool:
        """Log `message % args` unless one was logged less than `interval` ago; True when logged."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._active = True
            if now - self._last < self.interval:
                self._suppressed += 1
                return False
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        if suppressed:
            message += " (%d more like this in the last %.0f s)"
            args = (*args, suppressed, self.interval)
        self.logger.warning(message, *args)
        return True

    def recovered(self, message: str) -> None:
        """After a failure period: log `message` once (with the count left out) and reset."""
        if not self._active:  # the common case, per request: no lock
            return
        with self._lock:
            if not self._active:
                return
            suppressed, self._suppressed, self._active, self._last = self._suppressed, 0, False, -float("inf")
        self.logger.warning("%s (%d warnings left out before)", message, suppressed)
