"""The DRF throttle of the REST API, counting on the shared per-IP counter of tokens/asgi/throttle.py."""

from __future__ import annotations

import math
from typing import Any

from rest_framework.throttling import AnonRateThrottle

from tokens.asgi.throttle import SCOPE, SCOPE_VERDICT, Verdict, client_ident, hit


class IPRateThrottle(AnonRateThrottle):
    """DRF throttle on the shared per-IP counter (429 with Retry-After through DRF's handler)."""

    scope = SCOPE

    def __init__(self) -> None:  # the rate is read per request (current_rate), not at import
        self._wait: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        scope = getattr(getattr(request, "_request", request), "scope", None) or {}
        verdict = scope.get(SCOPE_VERDICT)
        if not isinstance(verdict, Verdict):
            ident = client_ident(request.headers.get("x-forwarded-for"), request.META.get("REMOTE_ADDR"))
            verdict = hit(ident)
        self._wait = verdict.wait
        return verdict.allowed

    def wait(self) -> float | None:
        return None if self._wait is None else float(math.ceil(self._wait))
