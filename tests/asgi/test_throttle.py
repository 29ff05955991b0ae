"""Per-IP throttling: DRF's throttle in Django and the same counter in the ASGI response cache."""

from __future__ import annotations

from tests.factories import make_token, publish
from tokens.asgi.throttle import client_ident, judge


def test_django_path_429_with_retry_after(client, api_rate):
    api_rate("3/min")
    publish([make_token(1)])
    assert [client.get("/api/tokens/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/tokens/?limit=1")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Request was throttled.")
    assert client.get("/api/schema/").status_code == 429  # every API endpoint shares the rate
    assert client.get("/api/health/").status_code == 200  # except health, for probes


def test_clients_are_counted_apart(client, api_rate):
    api_rate("1/min")
    publish([make_token(1)])
    assert client.get("/api/tokens/", REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get("/api/tokens/", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get("/api/tokens/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_throttling_off_when_rate_unset(client, api_rate):
    api_rate(None)
    publish([make_token(1)])
    assert all(client.get("/api/tokens/").status_code == 200 for _ in range(5))


def test_ident_like_drf(settings):
    assert client_ident(None, "1.2.3.4") == "1.2.3.4"
    assert client_ident("9.9.9.9", "1.2.3.4") == "1.2.3.4"  # NUM_PROXIES=0: the header is not trusted
    rest = dict(settings.REST_FRAMEWORK)
    rest["NUM_PROXIES"] = 1
    settings.REST_FRAMEWORK = rest
    assert client_ident("9.9.9.9, 10.0.0.1", "1.2.3.4") == "10.0.0.1"


def test_judge():
    assert judge(5, 5, 120.0, 60).allowed and not judge(6, 5, 150.0, 60).allowed
    assert judge(6, 5, 150.0, 60).wait == 30.0


def test_response_cache_counts_each_request_once_and_answers_429(throttled_daphne):
    publish([make_token(1)])
    # Five different queries (Django answers each; the cache layer counted them) and cache hits.
    statuses = [throttled_daphne.get(f"/api/tokens/?limit={n}").status_code for n in (1, 2, 3)]
    statuses += [throttled_daphne.get("/api/tokens/?limit=3").status_code for _ in range(2)]
    assert statuses == [200] * 5
    over = throttled_daphne.get("/api/tokens/?limit=3", headers={"X-Forwarded-For": "5.6.7.8"})
    assert over.status_code == 429 and 1 <= int(over.headers["Retry-After"]) <= 60
    assert over.json()["detail"].startswith("Request was throttled. Expected available in")
    assert throttled_daphne.get("/api/tokens/?limit=50").status_code == 429  # a miss is throttled too
    assert throttled_daphne.get("/api/schema/").status_code == 429  # Django's side shares the counter
    assert throttled_daphne.get("/api/health/").status_code == 200
