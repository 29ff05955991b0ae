"""GET /metrics (Prometheus text format, access-controlled) and the ASGI middleware timing HTTP requests.

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
import glob
import hmac
import ipaddress
import logging
import os
import re
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from tokens import metrics

log = logging.getLogger(__name__)

_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def multiprocess_dir() -> str | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None


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


def exposition() -> bytes:
    """The whole /metrics body: every process's families plus the scrape-time ones."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(metrics.ScrapeTimeCollector())
    path = multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY) + generate_latest(scrape)
    drop_dead_live_gauges(path)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path)
    return generate_latest(registry) + generate_latest(scrape)


def clear_multiprocess_dir(path: str) -> None:
    """Empty a multiprocess directory (before the processes of a host start)."""
    os.makedirs(path, exist_ok=True)
    for file in glob.glob(os.path.join(path, "*.db")):
        os.remove(file)


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


# --- HTTP request timing ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def route_name(path: str) -> str:
    """The URL pattern's name for a path (bounded label set): `token-list`, `health`, `admin:index`,
    `static` for static files, `unmatched` for a 404 path."""
    static = "/" + settings.STATIC_URL.lstrip("/")
    if path.startswith(static):
        return "static"
    try:
        match = resolve(path)
    except Resolver404:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class HttpMetricsMiddleware:
    """ASGI middleware: one latency observation per HTTP request, by route name and status.

    It wraps the response cache too, so reads answered without Django are counted. A request
    whose app failed before starting a response counts as 500; a client that went away
    before the response started counts as 499.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_with_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except Exception:
            status = status or 500
            raise
        finally:
            metrics.http_request(route_name(scope["path"]), status or 499, time.perf_counter() - started)
