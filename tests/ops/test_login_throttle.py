"""The admin login is throttled per client address after repeated failures (config/login_throttle.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tokens.infra import redis_clients
from tokens.ops.login_throttle import KEY

LOGIN = "/admin/login/"


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("root", "root@example.com", "correct-horse-battery")


def _login(client, password: str, **extra):
    return client.post(LOGIN, {"username": "root", "password": password, "next": "/admin/"}, **extra)


def test_lockout_after_the_failure_limit_then_even_the_right_password_waits(client, admin_user, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error
    locked = _login(client, "correct-horse-battery")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= settings.ADMIN_LOGIN_LOCKOUT_SECONDS
    assert b"Too many failed logins" in locked.content
    other_client = _login(client, "correct-horse-battery", REMOTE_ADDR="10.0.0.7")
    assert other_client.status_code == 302  # another address is not locked out


def test_a_successful_login_clears_the_count(client, admin_user, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        _login(client, "wrong")
    assert _login(client, "correct-horse-battery").status_code == 302
    assert redis_clients.raw_redis().get(redis_clients.raw_key(KEY.format(address="127.0.0.1"))) is None


async def test_the_async_path_refuses_a_locked_out_address(async_client, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    key = redis_clients.raw_key(KEY.format(address="127.0.0.1"))
    redis_clients.raw_redis().set(key, 3, ex=60)
    response = await async_client.post(reverse("admin:login"), {"username": "root", "password": "x"})
    assert response.status_code == 429
