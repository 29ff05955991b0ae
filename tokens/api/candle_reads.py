"""ASGI fast path for GET /api/tokens/{mint}/candles/ as JSON: the index read and the body, no Django handler.

A candle read that misses the response cache (tokens/asgi/cache.py) costs Django's ASGI handler,
its middleware and DRF's dispatch several milliseconds, mostly framework code and thread
hand-offs around a sub-millisecond index read, and right after a snapshot's candles are stored
every token's read misses at once. This app answers plain JSON reads itself with the DRF view's
own code (tokens/api/candles.py: the query serializer, the body, the ETag and cache headers), on
a small thread pool whose threads keep their database connection. Everything else goes on to
Django unchanged: another method, media type (the browsable API) or `format`; a parameter the
serializer rejects or a malformed mint (400); a host Django refuses; a mint never tracked (404);
a request the response cache could not admit through Redis (no throttle verdict or
`candles:written` in the scope); any error while reading.

The headers Django's middleware adds (security, CORS, Vary) depend only on the request headers
the response cache keys on, so this app copies them from Django's last answer to a candle read
with the same request headers, and hands reads to Django until it has seen one.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, connection

from tokens.api import serializers as s
from tokens.api.candles import CandleQuerySerializer, candle_etag, read_page
from tokens.api.common import matches
from tokens.api.renderers import ORJSONRenderer
from tokens.asgi.cache import DATA_FETCHED_AT_HEADER, SCOPE_WRITTEN, SNAPSHOT_HEADER, cache_key
from tokens.asgi.throttle import SCOPE_VERDICT, Verdict
from tokens.infra import metrics

log = logging.getLogger(__name__)

PATH = re.compile(r"^/api/tokens/([^/]+)/candles/$")
JSON_RANGES = frozenset({"application/json", "application/*", "*/*"})
# Per response, not per request headers: never copied from one answer to another.
_OWN = frozenset(
    {b"etag", b"content-length", SNAPSHOT_HEADER.lower().encode(), DATA_FETCHED_AT_HEADER.lower().encode()}
)
_ON_304 = (b"cache-control", b"vary")
_RENDERER = ORJSONRenderer()

Scope = dict[str, Any]


def wants_json(scope: Scope) -> bool:
    """Whether DRF's negotiation would pick JSON: no Accept, or only JSON and wildcard ranges in it."""
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            ranges = {part.split(";", 1)[0].strip().lower() for part in value.decode("latin-1").split(",")}
            return ranges <= JSON_RANGES
    return True


class CandleReads:
    """ASGI middleware in front of Django's http app, behind the response cache; see the module docstring."""

    def __init__(self, app: Any, *, threads: int = 2, max_templates: int = 256) -> None:
        self.app = app
        self.max_templates = max_templates
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="candle-reads")
        self._templates: dict[tuple[Any, ...], list[tuple[bytes, bytes]]] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        match = PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        context = _context(scope)
        template = self._templates.get(context)
        admitted = isinstance(scope.get(SCOPE_VERDICT), Verdict) and scope.get(SCOPE_WRITTEN) is not None
        answer = None
        if template is not None and admitted and wants_json(scope):
            try:
                answer = await asyncio.get_running_loop().run_in_executor(self._pool, _read, scope, match[1])
            except Exception:
                log.warning("candle fast path failed; Django answers instead", exc_info=True)
        if answer is None:
            metrics.candle_read("django")
            await self.app(scope, receive, self._learning(context, send))
            return
        metrics.candle_read("fast")
        status, body, etag, written = answer
        own = [(b"etag", etag), (SNAPSHOT_HEADER.lower().encode(), written)]
        if status == 304:
            headers = [*(h for h in template if h[0] in _ON_304), *own]
        else:
            headers = [*template, *own, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _learning(self, context: tuple[Any, ...], send: Any) -> Any:
        """`send` that keeps the headers of Django's cacheable JSON answer as the template of `context`."""

        async def learn(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k.lower(), v) for k, v in message.get("headers", ())]
                found = dict(headers)
                cacheable = SNAPSHOT_HEADER.lower().encode() in found and b"set-cookie" not in found
                if cacheable and found.get(b"content-type", b"").startswith(b"application/json"):
                    if len(self._templates) >= self.max_templates:
                        self._templates.clear()
                    self._templates[context] = [h for h in headers if h[0] not in _OWN]
            await send(message)

        return learn


def _context(scope: Scope) -> tuple[Any, ...]:
    """What the response's headers may depend on: the response cache's key without path and query."""
    scheme, _path, _query, *headers = cache_key(scope)
    return (scheme, *headers)


def _read(scope: Scope, mint: str) -> tuple[int, bytes, bytes, bytes] | None:
    """(status, body, ETag, X-Snapshot-Id) as the DRF view would answer, or None: let Django answer.

    Runs on the fast path's threads, each with its own database connection kept between reads.
    """
    if not s.is_mint(mint):
        return None
    request = ASGIRequest(scope, io.BytesIO())
    try:
        url = request.build_absolute_uri()
    except DisallowedHost:
        return None
    if "format" in request.GET:
        return None
    params = CandleQuerySerializer(data=request.GET)
    if not params.is_valid():
        return None
    written = scope[SCOPE_WRITTEN]
    etag = candle_etag(request.path, request.GET, _RENDERER.format, written)
    ids = (etag.encode(), str(written).encode())
    if matches(etag, request.headers.get("If-None-Match")):
        return 304, b"", *ids
    try:
        body = read_page(mint, params.validated_data, url)
    except DatabaseError:
        connection.close()  # reconnect on the next read (the database may have restarted)
        raise
    if body is None:
        return None
    return 200, _RENDERER.render(body), *ids
