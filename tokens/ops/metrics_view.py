"""GET /metrics (Prometheus text format, access-controlled), with the values read from Redis per scrape.

Multiprocess: when PROMETHEUS_MULTIPROC_DIR is set (by `make run`, the tests and bench/soak.py;
set it for every process of a host and empty it before they start), each scrape aggregates the
files of every process of the host — the daphne processes, the Celery worker and its children —
so any web process answers for all of them. Live gauges of processes that died without cleaning
up (kill -9) are dropped at scrape time. Without the variable, the answering process's own
registry is served. Values only Redis knows (current snapshot, budgets) are read per scrape.

Access (README "Operations"): METRICS_ALLOWED_IPS (addresses or networks; empty = any) and
METRICS_TOKEN (`Authorization: Bearer <token>`; empty = none); every one that is set must pass.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import re
import time
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from tokens.infra import metrics
from tokens.ingest import budgets
from tokens.ops import status
from tokens.records import SOURCES
from tokens.selectors.freshness import is_stale, snapshot_age
from tokens.store import snapshots

log = logging.getLogger(__name__)

_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_dead_live_gauges(path: str) -> None:
    """Forget the live gauges (open WebSocket connections) of processes of this host that died."""
    pids = set()
    for name in os.listdir(path):
        match = _LIVE_GAUGE_FILE.match(name)
        if match:
            pids.add(int(match.group(1)))
    for pid in pids:
        if not _pid_alive(pid):
            multiprocess.mark_process_dead(pid, path)


def host_registry() -> CollectorRegistry:
    """Every process's families of this host (multiprocess files) plus the scrape-time ones."""
    registry = CollectorRegistry()
    path = metrics.multiprocess_dir()
    if path is not None:
        drop_dead_live_gauges(path)
        multiprocess.MultiProcessCollector(registry, path)
    registry.register(ScrapeTimeCollector())
    return registry


def exposition() -> bytes:
    """The whole /metrics body (without a multiprocess directory: this process's own registry too)."""
    if metrics.multiprocess_dir() is None:
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(ScrapeTimeCollector())
        return generate_latest(REGISTRY) + generate_latest(scrape)
    return generate_latest(host_registry())


# --- access ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in allowed if item.strip())


def ip_allowed(remote_addr: str | None, allowed: list[str] | tuple[str, ...]) -> bool:
    """True when no list is set, or the client address is in one of its addresses or networks."""
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address((remote_addr or "").strip("[]"))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(allowed)))


def token_allowed(authorization: str | None, token: str) -> bool:
    """True when no token is set, or the request carries `Authorization: Bearer <token>`."""
    if not token:
        return True
    scheme, _, value = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus scrape endpoint; 403 (IP) or 401 (token) when access is restricted."""
    if not ip_allowed(request.META.get("REMOTE_ADDR"), settings.METRICS_ALLOWED_IPS):
        return HttpResponse(
            "Forbidden: this address may not read /metrics.\n", status=403, content_type="text/plain"
        )
    if not token_allowed(request.headers.get("Authorization"), settings.METRICS_TOKEN):
        response = HttpResponse("Unauthorized: send Authorization: Bearer <METRICS_TOKEN>.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain"
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


# --- values read at scrape time ---------------------------------------------------------------


class ScrapeTimeCollector(Collector):
    """Values read from Redis when /metrics is scraped: the current snapshot, each source's
    remaining budget and pause, and whether Redis answers. Nothing is emitted for what Redis
    cannot tell (down, or no snapshot yet) apart from mds_redis_up."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("mds_redis_up", "1 when Redis answered this scrape's PING.")
        redis_ok = status.redis_status()["ok"]
        up.add_metric([], int(redis_ok))
        yield up
        if not redis_ok:
            return
        try:
            families = [*self._snapshot(), *self._sources()]
        except Exception:  # Redis went away mid-scrape (django-redis wraps its errors): skip them
            return
        yield from families

    def _snapshot(self) -> Iterator[GaugeMetricFamily]:
        snapshot = snapshots.current_snapshot()
        if snapshot is None:
            return
        now = time.time()
        age = snapshot_age(snapshot, now)
        values = {
            "mds_snapshot_current_id": ("Id of the current snapshot.", snapshot.id),
            "mds_snapshot_current_tokens": ("Tokens in the current snapshot.", len(snapshot.tokens)),
            "mds_snapshot_generated_age_seconds": (
                "Seconds since the current snapshot was merged.",
                now - snapshot.generated_at,
            ),
            "mds_snapshot_stale": (
                "1 when the current data is stale (older than CACHE_TTL_SECONDS).",
                int(is_stale(snapshot, now, settings.CACHE_TTL_SECONDS)),
            ),
        }
        if age is not None:
            values["mds_snapshot_age_seconds"] = (
                "Seconds since the newest upstream fetch the current snapshot holds (API age_seconds).",
                age,
            )
        for name, (doc, value) in values.items():
            family = GaugeMetricFamily(name, doc)
            family.add_metric([], value)
            yield family

    def _sources(self) -> Iterator[GaugeMetricFamily]:
        budget = GaugeMetricFamily(
            "mds_upstream_budget_remaining",
            "Requests left in the source's shared per-minute budget, over the current window.",
            labels=["source", "budget"],
        )
        paused = GaugeMetricFamily(
            "mds_upstream_paused_seconds",
            "Seconds until a paused (429) source may be called.",
            labels=["source"],
        )
        for source in SOURCES:
            for name, left in (budgets.remaining_budget(source) or {}).items():
                budget.add_metric([source, name], left)
            paused.add_metric([source], budgets.pause_remaining(source))
        yield budget
        yield paused
