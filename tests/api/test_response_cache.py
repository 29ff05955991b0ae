"""The ASGI response cache (tokens/api/cache.py) over real HTTP: hits, freshness, what it never keeps."""

from __future__ import annotations

import time

from tests.api.factories import make_token, publish
from tokens.api.cache import cache_key


def test_repeated_read_is_a_hit_with_the_same_body(daphne_server):
    publish([make_token(i, volume=float(i)) for i in range(5)])
    miss = daphne_server.get("/api/tokens/?limit=2&ordering=volume")
    hit = daphne_server.get("/api/tokens/?ordering=volume&limit=2")  # same query, other order
    assert (miss.headers["X-Response-Cache"], hit.headers["X-Response-Cache"]) == ("miss", "hit")
    assert hit.content == miss.content and hit.headers["ETag"] == miss.headers["ETag"]
    assert hit.headers["Content-Type"] == "application/json"


def test_a_new_snapshot_is_served_at_once(daphne_server):
    publish([make_token(1, volume=1.0)])
    assert daphne_server.get("/api/tokens/").json()["results"][0]["volume_usd"] == 1.0
    assert daphne_server.get("/api/tokens/").headers["X-Response-Cache"] == "hit"
    snap = publish([make_token(1, volume=2.0)])
    response = daphne_server.get("/api/tokens/")
    assert response.headers["X-Response-Cache"] == "miss"
    assert response.json()["meta"]["snapshot_id"] == snap.id
    assert response.json()["results"][0]["volume_usd"] == 2.0


def test_entries_expire_so_age_keeps_moving(daphne_server):
    publish([make_token(1)])
    before = daphne_server.get("/api/tokens/").json()["meta"]["age_seconds"]
    time.sleep(1.2)
    after = daphne_server.get("/api/tokens/").json()["meta"]["age_seconds"]
    assert after > before + 1


def test_errors_html_and_other_hosts_are_not_shared(daphne_server):
    publish([make_token(1)])
    for _ in range(2):
        bad = daphne_server.get("/api/tokens/?limit=0")
        assert bad.status_code == 400 and bad.headers["X-Response-Cache"] == "miss"
        html = daphne_server.get("/api/tokens/", headers={"Accept": "text/html"})
        assert html.status_code == 200 and html.headers["X-Response-Cache"] == "miss"
    json_body = daphne_server.get("/api/tokens/", headers={"Host": "localhost"}).json()
    assert json_body["next"] is None or json_body["next"].startswith("http://localhost")


def test_detail_is_cached_too(daphne_server):
    token = make_token(1)
    publish([token])
    url = f"/api/tokens/{token.token_address}/"
    assert daphne_server.get(url).headers["X-Response-Cache"] == "miss"
    assert daphne_server.get(url).headers["X-Response-Cache"] == "hit"


def test_cache_key_normalises_parameter_order_only():
    def scope(query: bytes, accept: bytes = b"*/*"):
        return {
            "path": "/api/tokens/",
            "query_string": query,
            "headers": [(b"accept", accept), (b"host", b"h")],
        }

    assert cache_key(scope(b"a=1&b=2")) == cache_key(scope(b"b=2&a=1"))
    assert cache_key(scope(b"a=1&a=2")) != cache_key(scope(b"a=2&a=1"))  # the last value wins in Django
    assert cache_key(scope(b"a=1")) != cache_key(scope(b"a=1", b"text/html"))
