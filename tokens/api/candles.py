"""GET /api/tokens/{mint}/candles/: a token's stored price history, newest `limit` before `before`, oldest first."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.http import HttpResponseNotModified
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from tokens.api import serializers as s
from tokens.api.common import ERRORS, MINT, matches
from tokens.api.throttling import IPRateThrottle
from tokens.asgi.cache import SNAPSHOT_HEADER
from tokens.history import store
from tokens.history.candles import DEFAULT_INTERVAL, INTERVAL_NAMES, INTERVALS, SOURCES
from tokens.store import snapshots

LIMIT_DEFAULT, LIMIT_MAX = 300, 1000
BEFORE_MAX = 10**11  # Unix seconds, year 5138


class CandleQuerySerializer(serializers.Serializer):
    interval = s._choice(INTERVAL_NAMES, DEFAULT_INTERVAL, "Candle length.")
    limit = s.page_limit(
        LIMIT_DEFAULT, LIMIT_MAX, f"Most candles returned, 1..{LIMIT_MAX} (the newest before `before`)."
    )
    before = s.StrictIntegerField(
        required=False,
        min_value=0,
        max_value=BEFORE_MAX,
        help_text="Unix seconds: only candles that start before it (default: now).",
        error_messages={
            "invalid": "A valid integer (Unix seconds) is required.",
            "min_value": "Must be Unix seconds, 0 or more.",
            "max_value": f"Must be Unix seconds up to {BEFORE_MAX}.",
        },
    )


class CandleSerializer(serializers.Serializer):
    t = serializers.IntegerField(help_text="Candle start, Unix seconds (UTC), aligned to the interval.")
    open = serializers.FloatField()
    high = serializers.FloatField()
    low = serializers.FloatField()
    close = serializers.FloatField()
    volume_usd = serializers.FloatField(allow_null=True)
    liquidity_usd = serializers.FloatField(allow_null=True)
    market_cap_usd = serializers.FloatField(allow_null=True)
    source = serializers.ChoiceField(choices=SOURCES)


class CandleListSerializer(serializers.Serializer):
    token_address = serializers.CharField()
    interval = serializers.ChoiceField(choices=INTERVAL_NAMES)
    previous = serializers.URLField(allow_null=True, help_text="Older candles, or null when there are none.")
    candles = CandleSerializer(many=True)


class TokenCandlesView(APIView):
    """Price history of one token: OHLC candles, oldest first."""

    throttle_classes = [IPRateThrottle]

    @extend_schema(
        summary="Price history of one token (OHLC candles)",
        description="Candles the service built from every snapshot (`merged`) and, from before it "
        "tracked the token, GeckoTerminal's OHLCV of the token's top pool. `previous` pages to older ones.",
        parameters=[MINT, CandleQuerySerializer],
        responses={
            200: OpenApiResponse(CandleListSerializer, description="Candles, oldest first."),
            404: OpenApiResponse(s.DetailMessageSerializer, description="Mint never tracked."),
            **{k: v for k, v in ERRORS.items() if k != 503},
        },
    )
    def get(self, request: Request, mint: str) -> Any:
        if not s.is_mint(mint):
            raise serializers.ValidationError(
                {"mint": ["Not a token mint: expected a base58 string decoding to 32 bytes."]}
            )
        params = CandleQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        written = store.written_snapshot_id()
        fmt = getattr(request.accepted_renderer, "format", "")
        etag = candle_etag(request.path, request.query_params, fmt, written)
        if written is not None and matches(etag, request.headers.get("If-None-Match")):
            return cache_headers(HttpResponseNotModified(), written, etag)
        body = read_page(mint, params.validated_data, request.build_absolute_uri())
        if body is None:
            raise NotFound(f"Token {mint} has never been tracked.")
        return cache_headers(Response(body), written, etag)


def read_page(mint: str, params: dict, url: str) -> dict | None:
    """The response body for validated `params` (None: the mint was never tracked); `url` is the
    request's absolute URL, which `previous` is built from. Shared with the ASGI fast path
    (tokens/api/candle_reads.py), so both answer the same bytes."""
    interval, limit, before = params["interval"], params["limit"], params.get("before")
    candles, more = store.newest_rows(
        mint, interval, limit, before if before is not None else _now_bound(interval)
    )
    if not candles and not _tracked(mint):
        return None
    previous = None
    if more:
        previous = replace_query_param(
            replace_query_param(url, "interval", interval), "before", candles[0]["t"]
        )
    return {"token_address": mint, "interval": interval, "previous": previous, "candles": candles}


def _tracked(mint: str) -> bool:
    snapshot = snapshots.current_snapshot()
    return (snapshot is not None and mint in snapshot.tokens) or store.ever_tracked(mint)


def _now_bound(interval: str) -> int:
    """`before` by default: after the open candle, which starts at or before now."""
    return int(time.time()) + INTERVALS[interval]


def candle_etag(path: str, query: Any, fmt: str, written: int | None) -> str:
    """From the last snapshot whose candles are stored and the query (`query`: a QueryDict)."""
    pairs = sorted((k, v) for k, values in query.lists() for v in values)
    digest = hashlib.blake2b(repr((path, pairs, fmt)).encode(), digest_size=8).hexdigest()
    return f'W/"c{written}.{digest}"'


def cache_headers(response: Any, written: int | None, etag: str) -> Any:
    """ETag, Cache-Control and Vary as the other /api/tokens/… responses.

    Candles change only when a snapshot's candles are stored, so the response names that snapshot
    (X-Snapshot-Id: `candles:written`), and the ASGI cache keeps it until the next one is stored,
    across snapshot switches in between. Before any is stored: no-cache, not kept.
    """
    if written is None:
        response["Cache-Control"] = "no-cache"
        return response
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max(1, math.ceil(settings.REFRESH_SECONDS))}"
    response["Vary"] = "Accept"
    response[SNAPSHOT_HEADER] = str(written)
    return response
