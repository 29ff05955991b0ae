"""The ASGI response cache (tokens/asgi/cache.py) over real HTTP: hits, freshness, what it never keeps."""

from __future__ import annotations

import time

import orjson
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_token, publish
from tokens.asgi.cache import DATA_FETCHED_AT_HEADER, CachedResponse, age_span, cache_key


def test_repeated_read_is_a_hit_with_the_same_body(daphne_server):
    publish([make_token(i, volume=float(i)) for i in range(5)])
    miss = daphne_server.get("/api/tokens/?limit=2&ordering=volume")
    hit = daphne_server.get("/api/tokens/?ordering=volume&limit=2")  # same query, other order
    assert (miss.headers["X-Response-Cache"], hit.headers["X-Response-Cache"]) == ("miss", "hit")
    assert hit.headers["ETag"] == miss.headers["ETag"]
    (start, end), (hit_start, hit_end) = age_span(miss.content), age_span(hit.content)
    assert hit.content[:hit_start] == miss.content[:start]  # only the age moves
    assert hit.content[hit_end:] == miss.content[end:]
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


def test_hits_carry_the_current_age(daphne_server):
    snap = publish([make_token(1)])
    first = daphne_server.get("/api/tokens/")
    time.sleep(1.2)
    asked = time.time()
    hit = daphne_server.get("/api/tokens/")
    assert hit.headers["X-Response-Cache"] == "hit"  # the entry lives as long as its snapshot
    age = hit.json()["meta"]["age_seconds"]
    assert age > first.json()["meta"]["age_seconds"] + 1
    assert asked - snap.data_fetched_at - 0.01 <= age <= time.time() - snap.data_fetched_at + 0.01
    assert int(hit.headers["Content-Length"]) == len(hit.content)
    rest = {**hit.json()["meta"], "age_seconds": None}
    assert rest == {**first.json()["meta"], "age_seconds": None}
    assert hit.json()["results"] == first.json()["results"]


def test_an_entry_ends_when_its_data_turns_stale(daphne_server):
    publish([make_token(1)], data_fetched_at=time.time() - 29.0)  # CACHE_TTL_SECONDS is 30
    fresh = daphne_server.get("/api/tokens/")
    assert fresh.json()["meta"]["stale"] is False
    assert daphne_server.get("/api/tokens/").headers["X-Response-Cache"] == "hit"
    time.sleep(1.2)
    stale = daphne_server.get("/api/tokens/")
    assert stale.headers["X-Response-Cache"] == "miss"
    assert stale.json()["meta"]["stale"] is True and stale.headers["ETag"] != fresh.headers["ETag"]
    again = daphne_server.get("/api/tokens/")
    assert again.headers["X-Response-Cache"] == "hit" and again.json()["meta"]["stale"] is True
    assert (
        daphne_server.get("/api/tokens/", headers={"If-None-Match": fresh.headers["ETag"]}).status_code == 200
    )


def test_the_internal_data_time_header_never_leaves(daphne_server):
    token = make_token(1)
    publish([token])
    for path in ("/api/tokens/", f"/api/tokens/{token.token_address}/"):
        for _ in range(2):  # miss, then hit
            assert DATA_FETCHED_AT_HEADER not in daphne_server.get(path).headers


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


def test_age_span_finds_the_meta_age_only():
    body = orjson.dumps(
        {
            "results": [{"name": '"age_seconds":1,'}],
            "meta": {"generated_at": "x", "age_seconds": 12.5, "stale": False},
        }
    )
    start, end = age_span(body)
    assert body[start:end] == b"12.5"
    assert age_span(orjson.dumps({"meta": {"age_seconds": None}})) is None
    assert age_span(orjson.dumps({"token_address": "x"})) is None


@given(
    meta=st.fixed_dictionaries(
        {"count": st.integers(0, 10**6), "age_seconds": st.floats(0, 1e7), "stale": st.booleans()}
    ),
    names=st.lists(st.text(), max_size=5),
    fetched_at=st.floats(1e9, 2e9),
    later=st.floats(0, 1e6),
)
def test_a_rewritten_body_is_the_same_json_with_the_new_age(meta, names, fetched_at, later):
    body = orjson.dumps({"results": [{"token_name": n} for n in names], "meta": meta})
    entry = CachedResponse(1, 0.0, [], body, None, fetched_at, age_span(body))
    now = fetched_at + later
    rewritten = orjson.loads(entry.current_body(now))
    assert rewritten["results"] == [{"token_name": n} for n in names]
    assert (
        rewritten["meta"] == {**meta, "age_seconds": round(later, 3)}
        or abs(rewritten["meta"]["age_seconds"] - later) <= 0.0006
    )
