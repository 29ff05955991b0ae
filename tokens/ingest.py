"""Refreshes one source: runs its fetch plan within budget, then saves its snapshot and the universe.

Redis key families owned here: `sweep:<source>:<kind>` (rotation cursors) and
`discovery-due:<source>` (present while the source's last discovery is recent).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from tokens import metrics, store
from tokens.records import REFERENCE_MINTS, SOURCES, SourceSnapshot
from tokens.sources.http import BudgetExhausted, SourceClient, SourcePaused, UpstreamError, client_for
from tokens.sources.parsing import MalformedPayload, is_mint
from tokens.universe import rank_universe, rotate_batches

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


@dataclass
class RefreshReport:
    source: str
    calls: int
    ok_calls: int
    errors: list[str]
    pools: int
    tokens: int
    universe: int
    seconds: float


def update_universe() -> list[str]:
    """Re-rank the universe from every source's latest discovery lists and save it."""
    discovery = {name: store.load_discovery(name) for name in SOURCES}
    universe = rank_universe(discovery, settings.TOKEN_UNIVERSE_MAX, store.load_universe(), is_valid=is_mint)
    store.save_universe(universe)
    return universe


def refresh_source(source: str) -> RefreshReport:
    """Fetch what this refresh's budget allows for one source, and save its snapshot."""
    from tokens.sources import plans

    run = SourceRun(source, client_for(source), store.load_source(source), store.load_universe())
    log.info("refresh start source=%s universe=%d", source, len(run.universe))
    try:
        plans.PLANS[source](run)
    except StopRefresh:
        log.info("refresh stopped early source=%s reason=%s", source, run.stopped)
    finish(run)
    report = RefreshReport(
        source,
        run.calls,
        run.ok_calls,
        run.errors,
        len(run.snapshot.pools),
        len(run.snapshot.tokens),
        len(run.universe),
        round(time.time() - run.started, 3),
    )
    log.info(
        "refresh end source=%s calls=%d ok=%d errors=%d pools=%d tokens=%d seconds=%.2f",
        source,
        report.calls,
        report.ok_calls,
        len(report.errors),
        report.pools,
        report.tokens,
        report.seconds,
    )
    return report


def finish(run: SourceRun) -> None:
    """Record the outcome on the snapshot, drop what left the universe, save."""
    snap = run.snapshot
    now = time.time()
    snap.last_attempt_at = now
    if run.ok_calls > 0:
        snap.fetched_at = now
        metrics.SOURCE_LAST_SUCCESS.labels(run.source).set(now)
    if run.errors:
        snap.error = run.errors[-1]
        metrics.REFRESHES.labels(run.source, "error").inc()
    elif run.ok_calls > 0:
        snap.error = None
        metrics.REFRESHES.labels(run.source, "ok").inc()
    prune(snap, set(run.universe), now)
    store.save_source(snap)


def pool_max_age() -> float:
    return max(600.0, 30 * settings.REFRESH_SECONDS)


def prune(snap: SourceSnapshot, universe: set[str], now: float) -> None:
    """Keep only data about tracked mints (and SOL's reference pools), and no pool older than pool_max_age()."""
    oldest = now - pool_max_age()
    snap.pools = {
        address: pool
        for address, pool in snap.pools.items()
        if pool.fetched_at >= oldest
        and (
            pool.base_mint in universe
            or pool.quote_mint in universe
            or (pool.base_mint in REFERENCE_MINTS and pool.quote_mint in REFERENCE_MINTS)
        )
    }
    snap.tokens = {
        mint: quote for mint, quote in snap.tokens.items() if mint in universe or mint in REFERENCE_MINTS
    }
    snap.candles = {address: rows for address, rows in snap.candles.items() if address in snap.pools}
