"""ETag / If-None-Match / Cache-Control on /api/tokens/…, in Django and in the ASGI response cache."""

from __future__ import annotations

import requests

from tests.factories import make_token, mint_for, publish
from tokens.asgi.cache import etag_matches


def test_list_etag_and_304(client, settings):
    publish([make_token(i) for i in range(3)])
    first = client.get("/api/tokens/?limit=2")
    etag = first["ETag"]
    assert (
        etag.startswith('W/"')
        and first["Cache-Control"] == f"public, max-age={int(settings.REFRESH_SECONDS)}"
    )
    again = client.get("/api/tokens/?limit=2", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get("/api/tokens/?limit=2", HTTP_IF_NONE_MATCH=f'"x", {etag}').status_code == 304
    assert client.get("/api/tokens/?limit=2", HTTP_IF_NONE_MATCH="*").status_code == 304
    assert client.get("/api/tokens/?limit=2", HTTP_IF_NONE_MATCH='W/"other"').status_code == 200
    assert client.get("/api/tokens/?limit=3")["ETag"] != etag  # the query is part of it
    assert client.get("/api/tokens/?limit=2", HTTP_ACCEPT="text/html")["ETag"] != etag  # so is the format


def test_etag_changes_with_the_snapshot(client):
    publish([make_token(1)])
    etag = client.get("/api/tokens/")["ETag"]
    publish([make_token(1)])
    response = client.get("/api/tokens/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag


def test_detail_etag(client):
    publish([make_token(1)])
    url = f"/api/tokens/{mint_for(1)}/"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url + "?timeframe=1h", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_etag_matching():
    assert etag_matches(b'W/"1.0.ab"', b'"1.0.ab"')
    assert etag_matches(b'W/"1.0.ab"', b'"zz", W/"1.0.ab"')
    assert etag_matches(b'W/"1.0.ab"', b"*")
    assert not etag_matches(b'W/"1.0.ab"', b'W/"1.0.ac"')
    assert not etag_matches(None, b"*")


def test_304_from_the_response_cache_over_http(daphne_server):
    publish([make_token(i) for i in range(3)])
    first = daphne_server.get("/api/tokens/?limit=2")
    assert first.status_code == 200 and first.headers["X-Response-Cache"] == "miss"
    etag = first.headers["ETag"]
    cached = daphne_server.get("/api/tokens/?limit=2", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["ETag"] == etag and cached.headers["Cache-Control"].startswith("public, max-age=")
    publish([make_token(i) for i in range(3)])
    fresh = daphne_server.get("/api/tokens/?limit=2", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag


def test_unknown_query_is_not_a_500_over_http(daphne_server):
    publish([make_token(1)])
    response = requests.get(daphne_server.url + "/api/tokens/?limit=%FF%FE&cursor=%00", timeout=10)
    assert response.status_code == 400
