"""Prometheus metric families of ingestion and merging, and small functions that record them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

UPSTREAM_REQUESTS = Counter(
    "mds_upstream_requests_total", "Requests sent to upstream sources, by HTTP status.", ["source", "status"]
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
    "Unix time of the source's last successful fetch.",
    ["source"],
)
MERGE_SECONDS = Histogram(
    "mds_merge_seconds", "Duration of merge_and_publish.", buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2)
)
SNAPSHOT_ID = Gauge("mds_snapshot_id", "Id of the newest snapshot this process published.")
SNAPSHOT_TOKENS = Gauge("mds_snapshot_tokens", "Tokens in the newest snapshot this process published.")


def upstream_request(source: str, status: str, seconds: float) -> None:
    UPSTREAM_REQUESTS.labels(source, status).inc()
    UPSTREAM_LATENCY.labels(source).observe(seconds)
