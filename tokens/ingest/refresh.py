"""Refreshes one source: runs its fetch plan within budget, then saves its snapshot."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from tokens.infra import metrics
from tokens.ingest import plans
from tokens.ingest.http import client_for
from tokens.ingest.run import SourceRun, StopRefresh
from tokens.records import REFERENCE_MINTS, SourceSnapshot
from tokens.store import ingested

log = logging.getLogger(__name__)


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


def refresh_source(source: str) -> RefreshReport:
    """Fetch what this refresh's budget allows for one source, and save its snapshot."""
    run = SourceRun(source, client_for(source), ingested.load_source(source), ingested.load_universe())
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
    ingested.save_source(snap)


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
    snap.quote_candles = {a: rows for a, rows in snap.quote_candles.items() if a in snap.pools}
    snap.safety_read_at = {m: t for m, t in snap.safety_read_at.items() if m in universe}
