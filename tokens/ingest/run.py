"""The run toolkit of one source's refresh: budgeted calls, parsing, sweeps, and the universe update.

Owns these Redis key families (through the Django cache):
  sweep:<source>:<kind>    rotation cursor of a plan's batched sweep over the universe
  discovery-due:<source>   present while the source's last discovery is recent
  asked:<source>:<digest>  present for the source's cache window after a request (path + params) was sent
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from tokens.ingest.budgets import BudgetExhausted
from tokens.ingest.http import SourceClient, SourcePaused, UpstreamError
from tokens.ingest.parsers.parsing import MalformedPayload, is_mint
from tokens.ingest.sources import source
from tokens.ingest.universe import rank_universe, rotate_batches
from tokens.records import SOURCES, SourceSnapshot
from tokens.store import ingested

log = logging.getLogger(__name__)

SWEEP_KEY = "sweep:{source}:{kind}"
DISCOVERY_DUE_KEY = "discovery-due:{source}"
ASKED_KEY = "asked:{source}:{digest}"


def request_digest(path: str, params: dict[str, Any] | None) -> str:
    """A short stable name of one request: its path and its parameters in sorted order."""
    text = path + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
    return hashlib.sha1(text.encode()).hexdigest()[:20]


class StopRefresh(Exception):
    """No more calls this refresh: the budget is used up or the source is paused."""


@dataclass
class SourceRun:
    """One refresh of one source: its client, what it has spent and what went wrong."""

    source: str
    client: SourceClient
    snapshot: SourceSnapshot
    universe: list[str]
    started: float = field(default_factory=time.time)
    calls: int = 0
    ok_calls: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None
    repeats_skipped: int = 0  # requests not sent because the source's cache would answer them

    def _asked_key(self, path: str, params: dict[str, Any] | None) -> str:
        return ASKED_KEY.format(source=self.source, digest=request_digest(path, params))

    def asked_recently(self, path: str, params: dict[str, Any] | None = None) -> bool:
        """True when this very request was sent within the source's cache window (its answer is cached)."""
        if source(self.source).cache_seconds <= 0:
            return False
        return cache.get(self._asked_key(path, params)) is not None

    def call(self, path: str, params: dict[str, Any] | None = None, budget: str = "") -> Any:
        """GET one upstream payload; None when it failed (the error is recorded).

        For a source with a cache window, a request already sent within it is not sent again (None,
        counted in `repeats_skipped`); plans check `asked_recently` first to spend the call elsewhere.
        """
        window = source(self.source).cache_seconds
        asked_key = self._asked_key(path, params) if window > 0 else None
        if asked_key is not None and not cache.add(asked_key, 1, timeout=window):
            self.repeats_skipped += 1
            return None
        self.calls += 1
        try:
            payload = self.client.get_json(path, params=params, budget=budget)
        except BudgetExhausted as exc:
            self._forget(asked_key)
            self.calls -= 1
            self.stopped = str(exc)
            raise StopRefresh(str(exc)) from exc
        except SourcePaused as exc:
            self._forget(asked_key)
            self.errors.append(str(exc))
            self.stopped = str(exc)
            raise StopRefresh(str(exc)) from exc
        except UpstreamError as exc:
            self._forget(asked_key)
            log.warning("upstream error source=%s status=%s error=%s", self.source, exc.status, exc)
            self.errors.append(str(exc))
            if exc.transient:
                # Retries are used up: the source is down or overloaded; spare it the rest of this refresh.
                self.stopped = str(exc)
                raise StopRefresh(str(exc)) from exc
            return None
        self.ok_calls += 1
        return payload

    @staticmethod
    def _forget(asked_key: str | None) -> None:
        """A request that got no answer may be sent again at once."""
        if asked_key is not None:
            cache.delete(asked_key)

    def parse(self, parser: Any, payload: Any, *args: Any) -> Any:
        """Apply a parser; a malformed payload is recorded as an error and gives None."""
        if payload is None:
            return None
        try:
            return parser(payload, *args)
        except MalformedPayload as exc:
            self.ok_calls -= 1
            self.errors.append(f"{self.source}: malformed payload: {exc}")
            log.warning("malformed payload source=%s error=%s", self.source, exc)
            return None

    def discovery_due(self) -> bool:
        """True once per DISCOVERY_SECONDS for this source (across all workers), or with no universe."""
        added = cache.add(DISCOVERY_DUE_KEY.format(source=self.source), 1, timeout=settings.DISCOVERY_SECONDS)
        return bool(added) or not self.universe

    def sweep(self, kind: str, items: Sequence[str], batch_size: int, count: int) -> Iterator[list[str]]:
        """Up to `count` batches of `items`, continuing the rotation where the last refresh stopped.

        The cursor advances only past batches whose call completed, so a refresh cut short by the
        budget or a pause resumes at the batch it did not fetch.
        """
        key = SWEEP_KEY.format(source=self.source, kind=kind)
        start = int(cache.get(key) or 0)
        batches, _ = rotate_batches(items, batch_size, start, count)
        total = max(1, -(-len(items) // batch_size))
        for i, batch in enumerate(batches):
            yield batch
            cache.set(key, (start + i + 1) % total, timeout=None)

    def fresh_sweep(
        self,
        kind: str,
        items: Sequence[str],
        batch_size: int,
        count: int,
        request: Callable[[list[str]], tuple[str, dict[str, Any] | None]],
    ) -> Iterator[tuple[list[str], str, dict[str, Any] | None]]:
        """Like `sweep`, but passes over batches whose request was sent within the source's cache window.

        Yields up to `count` (batch, path, params) whose answer would be new, within one rotation; the
        caller spends what is left of its allowance elsewhere.
        """
        if count <= 0:
            return
        total = max(1, -(-len(items) // batch_size))
        used = 0
        for batch in self.sweep(kind, items, batch_size, total):
            if used >= count:
                return  # this batch keeps its place in the rotation
            path, params = request(batch)
            if self.asked_recently(path, params):
                continue
            yield batch, path, params
            used += 1


def update_universe() -> list[str]:
    """Re-rank the universe from every source's latest discovery lists and save it."""
    discovery = {name: ingested.load_discovery(name) for name in SOURCES}
    universe = rank_universe(
        discovery, settings.TOKEN_UNIVERSE_MAX, ingested.load_universe(), is_valid=is_mint
    )
    ingested.save_universe(universe)
    return universe
