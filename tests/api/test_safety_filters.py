"""Safety fields, filters and ordering=holders of GET /api/tokens/ over a live daphne (issue 12)."""

from __future__ import annotations

import pytest
import requests

from tests.factories import make_token, publish
from tokens.records import Safety

pytestmark = pytest.mark.slow

SAFETY_KEYS = (
    "holder_count",
    "top_holders_pct",
    "mint_authority_disabled",
    "freeze_authority_disabled",
    "verified",
    "organic_score",
)


def tokens_with_safety() -> list:
    """Twelve tokens: varied holders, top-holder shares, authorities and verification, some unknown."""
    out = []
    for i in range(12):
        if i % 4 == 3:
            safety = Safety()  # Jupiter does not know it
        else:
            safety = Safety(
                holder_count=100 * (i + 1) if i != 5 else None,
                top_holders_pct=5.0 * (i + 1) if i != 6 else None,
                mint_authority_disabled=i % 3 != 1,
                freeze_authority_disabled=i % 5 != 2,
                verified=i % 2 == 0,
                organic_score=float(8 * i),
            )
        out.append(make_token(f"safe-{i}", volume=float(i), safety=safety))
    return out


def walk(server, path: str) -> list[dict]:
    """Every result of a listing, following `next` to the end."""
    results, url = [], server.url + path
    while url:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        results += body["results"]
        url = body["next"]
    return results


@pytest.fixture
def published(daphne_server):
    tokens = tokens_with_safety()
    publish(tokens)
    return {t.token_address: t for t in tokens}


def test_token_carries_the_six_safety_fields(daphne_server, published):
    results = walk(daphne_server, "/api/tokens/?limit=200")
    assert len(results) == 12
    for item in results:
        safety = published[item["token_address"]].safety
        assert {k: item[k] for k in SAFETY_KEYS} == {k: getattr(safety, k) for k in SAFETY_KEYS}
    unknown = [r for r in results if r["token_address"] == published_key(published, 3)]
    assert all(unknown[0][k] is None for k in SAFETY_KEYS)


def published_key(published: dict, i: int) -> str:
    return next(m for m, t in published.items() if t.token_name == f"Token safe-{i}")


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("min_holders=500", lambda s: s.holder_count is not None and s.holder_count >= 500),
        ("max_top_holders_pct=30", lambda s: s.top_holders_pct is not None and s.top_holders_pct <= 30),
        ("verified=true", lambda s: s.verified is True),
        ("verified=false", lambda s: s.verified is False),
        ("safe=true", lambda s: s.mint_authority_disabled is True and s.freeze_authority_disabled is True),
        ("safe=false", lambda s: s.mint_authority_disabled is False or s.freeze_authority_disabled is False),
        (
            "safe=true&min_holders=200&verified=true",
            lambda s: (
                s.mint_authority_disabled is True
                and s.freeze_authority_disabled is True
                and (s.holder_count or 0) >= 200
                and s.verified is True
            ),
        ),
    ],
)
def test_safety_filters_keep_exactly_the_matching_tokens(daphne_server, published, query, keep):
    results = walk(daphne_server, f"/api/tokens/?limit=2&{query}")
    expected = {m for m, t in published.items() if keep(t.safety)}
    assert expected, "the case keeps something"
    assert [r["token_address"] for r in results].count(results[0]["token_address"]) == 1
    assert {r["token_address"] for r in results} == expected
    assert len(results) == len(expected)


@pytest.mark.parametrize("ordering", ["holders", "-holders"])
def test_ordering_by_holders_walks_every_token_once_with_nulls_last(daphne_server, published, ordering):
    results = walk(daphne_server, f"/api/tokens/?limit=3&ordering={ordering}")
    assert len(results) == 12 and len({r["token_address"] for r in results}) == 12
    holders = [r["holder_count"] for r in results]
    known = [h for h in holders if h is not None]
    assert holders[: len(known)] == known  # nulls last either way
    assert known == sorted(known, reverse=ordering.startswith("-"))
    assert len(known) == 8


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("min_holders=-1", "min_holders"),
        ("min_holders=many", "min_holders"),
        ("min_holders=1.5", "min_holders"),
        ("max_top_holders_pct=101", "max_top_holders_pct"),
        ("max_top_holders_pct=-2", "max_top_holders_pct"),
        ("max_top_holders_pct=NaN", "max_top_holders_pct"),
        ("verified=yes", "verified"),
        ("verified=", "verified"),
        ("safe=1", "safe"),
        ("ordering=holder", "ordering"),
    ],
)
def test_bad_safety_parameters_answer_400_naming_them(daphne_server, published, query, name):
    response = daphne_server.get(f"/api/tokens/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [name]


def test_schema_describes_the_safety_parameters_and_fields(daphne_server):
    schema = daphne_server.get("/api/schema/?format=json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/tokens/"]["get"]["parameters"]}
    assert params["min_holders"]["schema"]["type"] == "integer"
    assert params["max_top_holders_pct"]["schema"]["maximum"] == 100
    assert params["verified"]["schema"]["type"] == "boolean"
    assert params["safe"]["schema"]["type"] == "boolean"
    assert "holders" in params["ordering"]["schema"]["enum"]
    token = schema["components"]["schemas"]["Token"]["properties"]
    assert all(key in token for key in SAFETY_KEYS)
