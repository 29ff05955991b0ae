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
from tokens.api.throttling import IPRateThrottle
from tokens.api.views import _ERRORS, _MINT, _add_data_time, _matches
from tokens.asgi.cache import SNAPSHOT_HEADER
from tokens.history import store
from tokens.history.candles import DEFAULT_INTERVAL, INTERVAL_NAMES, INTERVALS, SOURCES
from tokens.selectors.freshness import is_stale
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
        parameters=[_MINT, CandleQuerySerializer],
        responses={
            200: OpenApiResponse(CandleListSerializer, description="Candles, oldest first."),
            404: OpenApiResponse(s.DetailMessageSerializer, description="Mint never tracked."),
            **{k: v for k, v in _ERRORS.items() if k != 503},
        },
    )
    def get(self, request: Request, mint: str) -> Any:
        if not s.is_mint(mint):
            raise serializers.ValidationError(
                {"mint": ["Not a token mint: expected a base58 string decoding to 32 bytes."]}
            )
        params = CandleQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        interval, limit = params.validated_data["interval"], params.validated_data["limit"]
        before = params.validated_data.get("before")
        snapshot = snapshots.current_snapshot()
        written = store.written_snapshot_id()
        etag = _etag(request, snapshot.id if snapshot else None, written)
        if snapshot is not None and _matches(etag, request.headers.get("If-None-Match")):
            return _headers(HttpResponseNotModified(), snapshot, written, etag)
        bars, more = store.newest(
            mint, interval, limit, before if before is not None else _now_bound(interval)
        )
        if not bars and (snapshot is None or mint not in snapshot.tokens) and not store.ever_tracked(mint):
            raise NotFound(f"Token {mint} has never been tracked.")
        previous = None
        if more:
            url = request.build_absolute_uri()
            previous = replace_query_param(
                replace_query_param(url, "interval", interval), "before", bars[0].t
            )
        body = {
            "token_address": mint,
            "interval": interval,
            "previous": previous,
            "candles": [b.as_dict() for b in bars],
        }
        response = Response(body)
        if snapshot is None:
            response["Cache-Control"] = "no-cache"
            return response
        return _headers(response, snapshot, written, etag)


def _now_bound(interval: str) -> int:
    """`before` by default: after the open candle, which starts at or before now."""
    return int(time.time()) + INTERVALS[interval]


def _etag(request: Request, snapshot_id: int | None, written: int | None) -> str:
    query = sorted((k, v) for k, values in request.query_params.lists() for v in values)
    fmt = getattr(request.accepted_renderer, "format", "")
    digest = hashlib.blake2b(repr((request.path, query, fmt)).encode(), digest_size=8).hexdigest()
    return f'W/"c{snapshot_id}.{written}.{digest}"'


def _headers(response: Any, snapshot: Any, written: int | None, etag: str) -> Any:
    """ETag, Cache-Control and Vary as the other /api/tokens/… responses.

    The snapshot header (which lets the ASGI cache keep the body for the snapshot's life) is sent
    only once this snapshot's candles are stored: before that, a read may still change.
    """
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max(1, math.ceil(settings.REFRESH_SECONDS))}"
    response["Vary"] = "Accept"
    if written == snapshot.id and not is_stale(snapshot, time.time(), settings.CACHE_TTL_SECONDS):
        response[SNAPSHOT_HEADER] = str(snapshot.id)
        if snapshot.data_fetched_at is not None:
            _add_data_time(response, repr(snapshot.data_fetched_at))
    return response
