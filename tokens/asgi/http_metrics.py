"""ASGI middleware timing every HTTP request, by route name and status (the mds_http_request_seconds family)."""

from __future__ import annotations

import functools
import time
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve

from tokens.infra import metrics


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
