"""The live screener page at `/`: a template whose scripts talk to the public REST API and WebSocket."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

# realtime/routing.py serves the token stream here (Channels routes cannot be reversed).
TOKEN_STREAM_PATH = "/ws/tokens/"


def _content_security_policy(request: HttpRequest) -> str:
    """Scripts and styles only from this origin; token icons from anywhere over http(s)."""
    host = request.get_host()
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' https: http: data:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


@require_safe
def screener(request: HttpRequest) -> HttpResponse:
    """The token table, connected to the stream; API base and stream path go in data attributes, and
    the age past which the API calls data stale, so the ticking age turns red between two polls."""
    context = {
        "api_base": reverse("token-list"),
        "ws_path": TOKEN_STREAM_PATH,
        "stale_after": settings.CACHE_TTL_SECONDS,
    }
    response = render(request, "realtime/screener.html", context)
    response["Content-Security-Policy"] = _content_security_policy(request)
    response["Referrer-Policy"] = "no-referrer"
    return response
