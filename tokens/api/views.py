"""REST views over the current snapshot: validate the query, select a page, render, tag for caching."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.http import HttpResponseNotModified
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from redis.exceptions import RedisError
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from tokens.api import serializers as s
from tokens.api.common import ERRORS, MINT, matches
from tokens.api.pagination import SnapshotCursorPagination
from tokens.api.throttling import IPRateThrottle
from tokens.asgi.cache import DATA_FETCHED_AT_HEADER, SNAPSHOT_HEADER
from tokens.records import Snapshot
from tokens.selectors.freshness import is_stale, snapshot_age
from tokens.selectors.query import DEFAULT_ORDERING
from tokens.store import snapshots
from tokens.tokenjson import iso, token_detail_dict, token_dict


def snapshot_meta(snapshot: Snapshot | None, timeframe: str, ordering: str, count: int) -> dict[str, Any]:
    """The list's `meta` block (docs/api.md §3)."""
    now = time.time()
    if snapshot is None:
        return {
            "count": count, "timeframe": timeframe, "ordering": ordering, "snapshot_id": None,
            "generated_at": None, "age_seconds": None, "stale": True, "sources": {},
        }  # fmt: skip
    age = snapshot_age(snapshot, now)
    return {
        "count": count,
        "timeframe": timeframe,
        "ordering": ordering,
        "snapshot_id": snapshot.id,
        "generated_at": iso(snapshot.generated_at),
        "age_seconds": None if age is None else round(age, 3),
        "stale": is_stale(snapshot, now, settings.CACHE_TTL_SECONDS),
        "sources": {
            name: {"ok": st.ok, "fetched_at": iso(st.fetched_at), "error": st.error}
            for name, st in snapshot.sources.items()
        },
    }


def _etag(snapshot: Snapshot, request: Request) -> str:
    """Weak ETag from the snapshot id, its staleness and the normalised query and format."""
    query = sorted((k, v) for k, values in request.query_params.lists() for v in values)
    fmt = getattr(request.accepted_renderer, "format", "")
    digest = hashlib.blake2b(repr((request.path, query, fmt)).encode(), digest_size=8).hexdigest()
    stale = int(is_stale(snapshot, time.time(), settings.CACHE_TTL_SECONDS))
    return f'W/"{snapshot.id}.{stale}.{digest}"'


def _cache_headers(response: Any, snapshot: Snapshot, etag: str) -> Any:
    response["ETag"] = etag
    if snapshot.data_fetched_at is not None:
        _add_data_time(response, repr(snapshot.data_fetched_at))
    response["Cache-Control"] = f"public, max-age={max(1, math.ceil(settings.REFRESH_SECONDS))}"
    response[SNAPSHOT_HEADER] = str(snapshot.id)
    response["Vary"] = "Accept"
    return response


def _add_data_time(response: Any, fetched_at: str) -> None:
    """The data time for the ASGI response cache, which removes it from the wire (tokens/asgi/cache.py).

    Added after rendering, so the browsable API, which prints the response's headers into its
    page, never shows this internal one.
    """

    def add(rendered: Any) -> None:
        rendered[DATA_FETCHED_AT_HEADER] = fetched_at

    if getattr(response, "is_rendered", True):
        add(response)
    else:
        response.add_post_render_callback(add)


def _not_modified(request: Request, snapshot: Snapshot) -> tuple[str, Any]:
    etag = _etag(snapshot, request)
    if matches(etag, request.headers.get("If-None-Match")):
        return etag, _cache_headers(HttpResponseNotModified(), snapshot, etag)
    return etag, None


def _no_snapshot(timeframe: str, ordering: str) -> Response:
    """503 saying what is really missing: no snapshot published yet, or none reachable from here."""
    try:
        published = snapshots.current_snapshot_id() is not None
        detail = (
            "The current snapshot could not be read from Redis. Retry shortly."
            if published
            else "No market data yet: the first snapshot has not been published. Retry shortly."
        )
    except RedisError:
        detail = "Redis does not answer and this web process has not loaded a snapshot yet. Retry shortly."
    body = {
        "detail": detail,
        "meta": snapshot_meta(None, timeframe, ordering, 0),
    }
    retry = str(max(1, math.ceil(settings.REFRESH_SECONDS)))
    return Response(body, status=503, headers={"Retry-After": retry, "Cache-Control": "no-store"})


@extend_schema_view(
    list=extend_schema(
        summary="List tracked tokens",
        description="One page of the current snapshot's tokens, filtered and keyset-paginated. "
        "`next`/`previous` carry opaque cursors bound to the query; walking `next` to the end returns "
        "every match exactly once, even across refreshes.",
        parameters=[s.TokenListQuerySerializer],
        responses={
            200: OpenApiResponse(s.TokenListSerializer, description="A page of tokens and the meta block."),
            **ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One token with its pools and per-source figures",
        parameters=[MINT, s.TimeframeQuerySerializer],
        responses={
            200: OpenApiResponse(s.TokenDetailSerializer, description="TOKEN plus `pools` and `by_source`."),
            404: OpenApiResponse(s.DetailMessageSerializer, description="Mint not tracked."),
            **ERRORS,
        },
    ),
)
class TokenViewSet(viewsets.ViewSet):
    """Tokens of the current merged snapshot."""

    lookup_field = "mint"
    lookup_value_regex = "[^/]+"  # malformed mints reach the view and get a 400, not a 404
    throttle_classes = [IPRateThrottle]

    def list(self, request: Request) -> Any:
        params = s.TokenListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query, limit, cursor = (
            params.validated_data["query"],
            params.validated_data["limit"],
            params.validated_data["cursor"],
        )
        snapshot = snapshots.current_snapshot()
        if snapshot is None:
            return _no_snapshot(query.timeframe, query.ordering)
        etag, not_modified = _not_modified(request, snapshot)
        if not_modified is not None:
            return not_modified
        paginator = SnapshotCursorPagination()  # not a class attribute: the schema shows the full envelope
        tokens = paginator.paginate_snapshot(snapshot, query, limit, cursor, request)
        results = [token_dict(t, query.timeframe) for t in tokens]
        meta = snapshot_meta(snapshot, query.timeframe, query.ordering, paginator.page.count)
        return _cache_headers(paginator.get_paginated_response(results, meta), snapshot, etag)

    def retrieve(self, request: Request, mint: str) -> Any:
        if not s.is_mint(mint):
            raise serializers.ValidationError(
                {"mint": ["Not a token mint: expected a base58 string decoding to 32 bytes."]}
            )
        params = s.TimeframeQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        timeframe = params.validated_data["timeframe"]
        snapshot = snapshots.current_snapshot()
        if snapshot is None:
            return _no_snapshot(timeframe, DEFAULT_ORDERING)
        token = snapshot.tokens.get(mint)
        if token is None:
            raise NotFound(f"Token {mint} is not tracked.")
        etag, not_modified = _not_modified(request, snapshot)
        if not_modified is not None:
            return not_modified
        return _cache_headers(Response(token_detail_dict(token, timeframe)), snapshot, etag)
