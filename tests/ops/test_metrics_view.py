"""/metrics in one process: access control by address and bearer token, route-name labels."""

from __future__ import annotations

import pytest

from tests.ops.metrics_text import Scrape
from tokens.asgi.http_metrics import route_name
from tokens.ops.metrics_view import ip_allowed, token_allowed


@pytest.mark.pure
@pytest.mark.parametrize(
    ("addr", "allowed", "ok"),
    [
        ("203.0.113.9", [], True),
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("127.0.0.1", ["10.0.0.0/8", "127.0.0.1"], True),
        ("::1", ["::1/128"], True),
        ("203.0.113.9", ["10.0.0.0/8"], False),
        ("not-an-address", ["10.0.0.0/8"], False),
        (None, ["10.0.0.0/8"], False),
    ],
)
def test_ip_allow_list(addr, allowed, ok):
    assert ip_allowed(addr, allowed) is ok


@pytest.mark.pure
def test_bearer_token():
    assert token_allowed(None, "")
    assert token_allowed("Bearer s3cret", "s3cret")
    assert token_allowed("bearer  s3cret ", "s3cret")
    assert not token_allowed(None, "s3cret")
    assert not token_allowed("Bearer nope", "s3cret")
    assert not token_allowed("Basic s3cret", "s3cret")


def test_route_names_bound_the_label_set():
    assert route_name("/api/tokens/") == "token-list"
    assert route_name("/api/tokens/So11111111111111111111111111111111111111112/") == "token-detail"
    assert route_name("/api/tokens/garbage-1234/") == "token-detail"
    assert route_name("/api/health/") == "health"
    assert route_name("/metrics") == "metrics"
    assert route_name("/static/realtime/screener.js") == "static"
    assert route_name("/no/such/page") == "unmatched"
    assert route_name("/admin/").startswith("admin:")


def test_metrics_open_by_default_in_development(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    scrape = Scrape(response.content.decode())
    assert scrape.value("mds_redis_up") == 1
    assert "mds_http_request_seconds" in scrape.families


def test_metrics_restricted_by_address(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.9.8.7").status_code == 200


def test_metrics_restricted_by_token(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def test_both_restrictions_must_pass(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 403
    assert (
        client.get("/metrics", REMOTE_ADDR="10.0.0.1", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
    )
