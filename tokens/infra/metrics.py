"""Prometheus metric families of the service and the small functions that record them.

Every process (daphne, Celery worker and its children, beat) records into prometheus-client's
multiprocess files when PROMETHEUS_MULTIPROC_DIR is set (tokens/ops/metrics_view.py aggregates them per
scrape); without it each process keeps its own registry. Gauges therefore name how they combine
across processes (`multiprocess_mode`). Label values come from small fixed sets (source names,
route names, status codes, frame types, task names), never from client input.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import os
import time
import weakref

from prometheus_client import Counter, Gauge, Histogram

# --- ingestion and merging (recorded by the workers) ------------------------------------------

UPSTREAM_REQUESTS = Counter(
    "mds_upstream_requests_total", "Requests sent to upstream sources, by HTTP status.", ["source", "status"]
)
UPSTREAM_OUTCOMES = Counter(
    "mds_upstream_outcomes_total",
    "Upstream requests by outcome: success, rate_limited (429), server_error, client_error, "
    "transport_error (no HTTP answer).",
    ["source", "outcome"],
)
UPSTREAM_LATENCY = Histogram(
    "mds_upstream_request_seconds",
    "Latency of upstream requests.",
    ["source"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)
REFRESHES = Counter("mds_source_refreshes_total", "Source refreshes, by outcome.", ["source", "outcome"])
SOURCE_LAST_SUCCESS = Gauge(
    "mds_source_last_success_timestamp_seconds",
    "Unix time of the source's last successful fetch (recorded by the worker that made it).",
    ["source"],
    multiprocess_mode="max",
)
MERGE_SECONDS = Histogram(
    "mds_merge_seconds", "Duration of merge_and_publish.", buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2)
)
MERGES_SKIPPED = Counter(
    "mds_merges_skipped_total",
    "Merges that published nothing: their inputs were those of the current snapshot (tokens/pipeline.py).",
)
SNAPSHOT_ID = Gauge(
    "mds_snapshot_id", "Id of the newest snapshot published by a worker.", multiprocess_mode="max"
)
SNAPSHOT_TOKENS = Gauge(
    "mds_snapshot_tokens", "Tokens in the newest snapshot published.", multiprocess_mode="mostrecent"
)
SNAPSHOT_SWITCHES = Counter(
    "mds_snapshot_switches_total",
    "Times a process moved its memo to a newer snapshot read from Redis (tokens/store/snapshots.py), "
    "by role: web (processes that follow the current snapshot) or other (workers).",
    ["role"],
)
SNAPSHOT_LOAD_SECONDS = Histogram(
    "mds_snapshot_load_seconds",
    "Time to read and decode one snapshot from Redis in the process that switches to it, by role.",
    ["role"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)

# --- HTTP (tokens/asgi/http_metrics.py) and the response cache (tokens/asgi/cache.py) ----------

HTTP_REQUEST_SECONDS = Histogram(
    "mds_http_request_seconds",
    "HTTP request latency by route name and status (time to the last body byte).",
    ["endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
RESPONSE_CACHE = Counter(
    "mds_response_cache_total",
    "GET /api/tokens/… reads by response-cache outcome: hit (stored response or 304), miss "
    "(built by Django), coalesced (waited for the identical read in flight), stale (candles of the "
    "previous write, answered while their rebuild runs), bypass (Redis down).",
    ["outcome"],
)
CANDLE_READS = Counter(
    "mds_candle_reads_total",
    "Candle reads that missed the response cache, by who answered: fast (the ASGI fast path, "
    "tokens/api/candle_reads.py) or django (everything else it hands on).",
    ["path"],
)

# --- WebSocket (realtime/consumers.py) ----------------------------------------------------------

WS_CONNECTIONS = Gauge(
    "mds_ws_connections", "Open WebSocket connections (live processes only).", multiprocess_mode="livesum"
)
WS_CONNECTS = Counter("mds_ws_connects_total", "WebSocket connections accepted.")
WS_DISCONNECTS = Counter("mds_ws_disconnects_total", "WebSocket connections closed, by reason.", ["reason"])
WS_MESSAGES_SENT = Counter(
    "mds_ws_messages_sent_total", "WebSocket frames sent, by frame type (rate() gives per second).", ["type"]
)
WS_FANOUT_SECONDS = Histogram(
    "mds_ws_fanout_seconds",
    "From a snapshot's commit (its generated_at) to the send of its batch frame to a client.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# --- Celery (config/celery.py) ---------------------------------------------------------

TASK_SECONDS = Histogram(
    "mds_celery_task_seconds",
    "Celery task run time, by task and final state.",
    ["task", "state"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TASK_FAILURES = Counter(
    "mds_celery_task_failures_total",
    "Celery tasks that raised, by task and exception type.",
    ["task", "exception"],
)

WS_CLOSE_REASONS = {1000: "normal", 1001: "going_away", 1006: "abnormal", 4008: "too_slow"}


def upstream_request(source: str, status: str, seconds: float) -> None:
    UPSTREAM_REQUESTS.labels(source, status).inc()
    UPSTREAM_OUTCOMES.labels(source, upstream_outcome(status)).inc()
    UPSTREAM_LATENCY.labels(source).observe(seconds)


def upstream_outcome(status: str) -> str:
    """success / rate_limited / server_error / client_error / transport_error for an HTTP status."""
    if not status.isdigit():
        return "transport_error"
    code = int(status)
    if code == 429:
        return "rate_limited"
    if code >= 500:
        return "server_error"
    if code >= 400:
        return "client_error"
    return "success"


def http_request(endpoint: str, status: int, seconds: float) -> None:
    HTTP_REQUEST_SECONDS.labels(endpoint, str(status)).observe(seconds)


def response_cache(outcome: str) -> None:
    RESPONSE_CACHE.labels(outcome).inc()


def candle_read(path: str) -> None:
    CANDLE_READS.labels(path).inc()


def ws_connected() -> None:
    WS_CONNECTS.inc()
    WS_CONNECTIONS.inc()


def ws_disconnected(code: int | None) -> None:
    WS_CONNECTIONS.dec()
    WS_DISCONNECTS.labels(ws_close_reason(code)).inc()


def ws_close_reason(code: int | None) -> str:
    if code is None:
        return "unknown"
    return WS_CLOSE_REASONS.get(code, "client" if 1000 <= code < 5000 else "other")


WS_FRAME_TYPES = frozenset({"welcome", "snapshot", "batch", "resync_required", "pong", "error"})


def ws_sent(text: str) -> None:
    """One frame sent, counted by its type (every server frame starts with `{"type":"<type>"`)."""
    end = text.find('"', 9, 40)
    kind = text[9:end] if text.startswith('{"type":"') and end > 9 else ""
    kind = kind if kind in WS_FRAME_TYPES else "other"
    batch = _WsTick.current()
    if batch is None:
        WS_MESSAGES_SENT.labels(kind).inc()
    else:
        batch.sent[kind] = batch.sent.get(kind, 0) + 1


def ws_fanout(committed_at: float | None) -> None:
    """A batch frame went out: time since its snapshot was committed (the publish started)."""
    if committed_at is None:
        return
    seconds = max(time.time() - committed_at, 0.0)
    batch = _WsTick.current()
    if batch is None:
        WS_FANOUT_SECONDS.observe(seconds)
    else:
        batch.fanout.append(seconds)


def ws_batch_sent(committed_at: float | None) -> None:
    """ws_sent and ws_fanout of one `batch` frame (the relay's fast path), in one tick lookup."""
    batch = _WsTick.current()
    if batch is None:
        WS_MESSAGES_SENT.labels("batch").inc()
        ws_fanout(committed_at)
        return
    batch.sent["batch"] = batch.sent.get("batch", 0) + 1
    if committed_at is not None:
        batch.fanout.append(max(time.time() - committed_at, 0.0))


class _WsTick:
    """The WebSocket frame metrics of one event-loop tick, recorded together at its end.

    A fan-out sends one frame to each of thousands of clients within a few ticks; recording each
    into the multiprocess files (a locked mmap write per counter and histogram bucket) was a third
    of its Python time. Within a tick they are summed per frame type and per histogram bucket and
    recorded once (call_soon: before the loop's next tick; nothing is scraped meanwhile but the
    last few ms)."""

    def __init__(self) -> None:
        self.sent: dict[str, int] = {}
        self.fanout: list[float] = []

    @staticmethod
    def current() -> _WsTick | None:
        """The running loop's batch of this tick (None outside an event loop: record at once)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        tick = _ws_ticks.get(loop)
        if tick is None:
            tick = _ws_ticks[loop] = _WsTick()
            loop.call_soon(tick.record, loop)
        return tick

    def record(self, loop: asyncio.AbstractEventLoop) -> None:
        if _ws_ticks.get(loop) is self:
            del _ws_ticks[loop]
        for kind, n in self.sent.items():
            WS_MESSAGES_SENT.labels(kind).inc(n)
        _observe_all(WS_FANOUT_SECONDS, self.fanout)


_ws_ticks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _WsTick] = weakref.WeakKeyDictionary()


def _observe_all(histogram: Histogram, values: list[float]) -> None:
    """histogram.observe(v) for each of `values`, with one write per bucket touched."""
    if not values:
        return
    try:
        bounds, buckets, total = histogram._upper_bounds, histogram._buckets, histogram._sum
    except AttributeError:  # another prometheus-client layout: one observe each
        for value in values:
            histogram.observe(value)
        return
    counts = collections.Counter(bisect.bisect_left(bounds, v) for v in values)
    total.inc(sum(values))
    for index, n in counts.items():
        buckets[index].inc(n)  # the last bound is +Inf: every value has its bucket


def multiprocess_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR when it names a directory (every process of a host writes there)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None
