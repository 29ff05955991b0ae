"""Cyclic-GC settings for long-running server processes: fewer and cheaper collections.

Measured with bench/bench_rest.py (2 daphne processes, 32 connections, 500-token snapshot): with
CPython's defaults (700, 10, 10) the first page's p99 was 96 ms against a p50 of 7 ms. Every
request allocates a few hundred short-lived containers in Twisted and daphne, so young collections
ran several times per request burst and promoted enough garbage to trigger full collections, each
of which walked the whole heap (Django, DRF, Twisted, the memoised snapshot): the tail. Freezing the
heap that exists after start-up (it lives as long as the process) takes it out of every later
collection, and a young-generation threshold of 20,000 lets per-request objects die young: p99
23 ms at the same throughput. The WebSocket relay needs the same threshold (thousands of
connections; full collections of 0.4-1 s in the middle of a fan-out at 5,000 clients in
bench/bench_ws.py, none with 20,000).
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 20_000


def raise_gen0_threshold(threshold: int = GEN0_THRESHOLD) -> None:
    """Raise the young-generation threshold to `threshold` (never lower it)."""
    gen0, gen1, gen2 = gc.get_threshold()
    if gen0 < threshold:
        gc.set_threshold(threshold, gen1, gen2)


def tune_for_serving() -> None:
    """Once, after the application is imported: freeze the start-up heap and raise the threshold."""
    gc.collect()
    gc.freeze()
    raise_gen0_threshold()
