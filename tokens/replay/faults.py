"""Fault switches per upstream source (429, 500, slow, timeout, malformed, empty) for the replay server."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from tokens.replay.world import SOURCES

MODES: tuple[str, ...] = ("429", "500", "slow", "timeout", "malformed", "empty", "ok")
TIMEOUT_SECONDS = 60.0


@dataclass(slots=True)
class Fault:
    """How one source misbehaves: for the next `count` requests, or until changed when count is None."""

    mode: str
    retry_after: float = 5.0  # "429": the Retry-After header, seconds
    delay: float = 3.0  # "slow": seconds before answering normally
    count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_fault(payload: Any) -> tuple[str, Fault]:
    """(source, fault) from a POST /_control/faults body; ValueError says what is wrong."""
    if not isinstance(payload, dict):
        raise ValueError("body must be a JSON object")
    source, mode = payload.get("source"), str(payload.get("mode", ""))
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    count = payload.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError("count must be null or a positive integer")
    try:
        retry_after = float(payload.get("retry_after", 5.0))
        delay = float(payload.get("delay", 3.0))
    except (TypeError, ValueError):
        raise ValueError("retry_after and delay must be numbers") from None
    if retry_after < 0 or delay < 0:
        raise ValueError("retry_after and delay must not be negative")
    return source, Fault(mode, retry_after, delay, count)


def parse_fault_flag(text: str) -> tuple[str, Fault]:
    """The --fault flag: "jupiter=429", "geckoterminal=slow:2.5" (delay), "jupiter=429:30" (Retry-After)."""
    source, _, spec = text.partition("=")
    mode, _, value = spec.partition(":")
    payload: dict[str, Any] = {"source": source.strip(), "mode": mode.strip()}
    if value:
        payload["delay" if mode == "slow" else "retry_after"] = value
    return parse_fault(payload)


class FaultTable:
    """The current fault of each source; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}

    def set(self, source: str, fault: Fault) -> None:
        with self._lock:
            if fault.mode == "ok":
                self._faults.pop(source, None)
            else:
                self._faults[source] = fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, source: str) -> Fault | None:
        """The fault that applies to this request of `source`, using up one of its `count`."""
        with self._lock:
            fault = self._faults.get(source)
            if fault is None:
                return None
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    del self._faults[source]
            return Fault(fault.mode, fault.retry_after, fault.delay, None)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {source: fault.as_dict() for source, fault in self._faults.items()}
