"""Admin login throttle: after ADMIN_LOGIN_MAX_FAILURES failed logins from one client address, POSTs to
the admin login answer 429 until ADMIN_LOGIN_LOCKOUT_SECONDS have passed since the last failure.

Failures are counted in Redis (`admin-login-failures:<address>`, owned here) from Django's
`user_login_failed` signal, so every web process sees the same count; a successful login clears
it. Without Redis the throttle fails open (the password is still required). The client address is
REMOTE_ADDR, which daphne's --proxy-headers takes from X-Forwarded-For: the proxy in front must
set that header itself (README "Operations").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.decorators import sync_and_async_middleware

log = logging.getLogger(__name__)

KEY = "admin-login-failures:{address}"


def _address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") if request is not None else None) or "unknown"


def _redis() -> Any:
    from tokens.infra.redis_clients import raw_key, raw_redis

    return raw_redis(), raw_key


@receiver(user_login_failed)
def count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    address = _address(request)
    try:
        conn, raw_key = _redis()
        key = raw_key(KEY.format(address=address))
        pipe = conn.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, int(settings.ADMIN_LOGIN_LOCKOUT_SECONDS))
        failures = int(pipe.execute()[0])
    except Exception as exc:  # Redis down: fail open
        log.warning("admin login failure not counted ip=%s error=%s", address, type(exc).__name__)
        return
    log.warning("admin login failed ip=%s failures=%d", address, failures)


@receiver(user_logged_in)
def clear_failures(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    try:
        conn, raw_key = _redis()
        conn.delete(raw_key(KEY.format(address=_address(request))))
    except Exception:
        return


def lockout_remaining(address: str) -> int:
    """Seconds this address stays locked out (0 when it may try again)."""
    try:
        conn, raw_key = _redis()
        key = raw_key(KEY.format(address=address))
        pipe = conn.pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        failures, ttl = pipe.execute()
    except Exception:
        return 0
    if failures is None or int(failures) < int(settings.ADMIN_LOGIN_MAX_FAILURES):
        return 0
    return max(int(ttl), 1)


def _locked_response(request: HttpRequest) -> HttpResponse | None:
    if request.method != "POST" or request.path != reverse("admin:login"):
        return None
    wait = lockout_remaining(_address(request))
    if not wait:
        return None
    log.warning("admin login throttled ip=%s retry_after=%d", _address(request), wait)
    response = HttpResponse(
        f"Too many failed logins from this address. Try again in {wait} seconds.\n",
        status=429,
        content_type="text/plain",
    )
    response["Retry-After"] = str(wait)
    return response


@sync_and_async_middleware
def admin_login_throttle(get_response: Callable) -> Callable:
    """Refuse admin login POSTs from a locked-out address; every other request passes untouched."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> Any:
            if request.method == "POST":
                locked = await sync_to_async(_locked_response, thread_sensitive=False)(request)
                if locked is not None:
                    return locked
            return await get_response(request)

    else:

        def middleware(request: HttpRequest) -> Any:  # type: ignore[misc]
            return _locked_response(request) or get_response(request)

    return middleware
