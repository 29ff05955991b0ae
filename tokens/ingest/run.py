"""The run toolkit of one source's refresh: budgeted calls, parsing, sweeps, and the universe update.

Owns these Redis key families (through the Django cache):
  sweep:<source>:<kind>    rotation cursor of a plan's batched sweep over the universe
  discovery-due:<source>   present while the source's last discovery is recent
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from tokens.ingest.budgets import BudgetExhausted
from tokens.ingest.http import SourceClient, SourcePaused, UpstreamError
from tokens.ingest.parsers.parsing import MalformedPayload, is_mint
from tokens.ingest.universe import rank_universe, rotate_batches
from tokens.records import SOURCES, SourceSnapshot
from tokens.store import ingested

log = logging.getLogger(__name__)

SWEEP_KEY = "sweep:{source}:{kind}"
DISCOVERY_DUE_KEY = "discovery-due:{source}"


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

    def call(self, path: str, params: dict[str, Any] | None = None, budget: str = "") -> Any:
        """GET one upstream payload; None when it failed (the error is recorded)."""
        self.calls += 1
        try:
            payload = self.client.get_json(path, params=params, budget=budget)
        except BudgetExhausted as exc:
            self.calls -= 1
            self.stopped = str(exc)
            raise StopRefresh(str(exc)) from exc
        except SourcePaused as exc:
            self.errors.append(str(exc))
            self.stopped = str(exc)
            raise StopRefresh(str(exc)) from exc
        except UpstreamError as exc:
            log.warning("upstream error source=%s status=%s error=%s", self.source, exc.status, exc)
            self.errors.append(str(exc))
            if exc.transient:
                # Retries are used up: the source is down or overloaded; spare it the rest of this refresh.
                self.stopped = str(exc)
                raise StopRefresh(str(exc)) from exc
            return None
        self.ok_calls += 1
        return payload

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


def update_universe() -> list[str]:
    """Re-rank the universe from every source's latest discovery lists and save it."""
    discovery = {name: ingested.load_discovery(name) for name in SOURCES}
    universe = rank_universe(
        discovery, settings.TOKEN_UNIVERSE_MAX, ingested.load_universe(), is_valid=is_mint
    )
    ingested.save_universe(universe)
    return universe
