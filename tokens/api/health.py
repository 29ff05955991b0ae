"""GET /api/health/: 200 when Redis answers and the data is fresh, else 503, always saying why."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tokens.ops.status import health_report

_HEALTH = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "reasons": serializers.ListField(child=serializers.CharField(), help_text="Why it is unavailable."),
        "redis": serializers.DictField(help_text="{ok, error}"),
        "snapshot": serializers.DictField(
            help_text="{id, generated_at, data_fetched_at, age_seconds, stale, …}"
        ),
        "sources": serializers.DictField(
            help_text="Per source: {ok, last_success, last_attempt, last_error, remaining_budget "
            "(requests left this minute, per budget), paused_seconds}."
        ),
        "beat": serializers.DictField(help_text="{last_run, age_seconds} of Celery beat."),
        "checked_at": serializers.DateTimeField(),
    },
)


class HealthView(APIView):
    """Service health for load balancers and humans (never throttled, never cached)."""

    throttle_classes: list[type] = []

    @extend_schema(
        summary="Service health",
        responses={
            200: OpenApiResponse(_HEALTH, description="Redis answers and the data is fresh."),
            503: OpenApiResponse(
                _HEALTH, description="Redis down, no snapshot, or stale data: see `reasons`."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        healthy, body = health_report()
        return Response(body, status=200 if healthy else 503, headers={"Cache-Control": "no-store"})
