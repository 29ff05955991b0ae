"""Schemathesis against the live schema with every check: no 500, responses match the schema, the API
accepts what the schema allows and rejects what it does not.

(schemathesis.pytest.from_fixture does not run under pytest 9, so each operation's Hypothesis
strategy is driven directly.)
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings

from tests.factories import make_token, publish
from tokens.api.common import MINT_PATTERN
from tokens.api.serializers import CURSOR_PATTERN
from tokens.ingest.parsers.parsing import is_mint
from tokens.records import PoolView, SourcePrice, WindowStats

OPERATIONS = [
    ("/api/tokens/", "GET"),
    ("/api/tokens/{mint}/", "GET"),
    ("/api/tokens/{mint}/candles/", "GET"),
    ("/api/health/", "GET"),
]


def publish_fixture_snapshot():
    tokens = [make_token(i, volume=None if i % 4 == 0 else float(i)) for i in range(30)]
    tokens[1].pools = [
        PoolView(address=tokens[2].token_address, dex_id="orca", protocol="Orca", quote_mint=tokens[3].token_address,
                 quote_symbol=None, price_usd=None, liquidity_usd=1.0, windows={"h1": WindowStats()}, sources=["jupiter"])
    ]  # fmt: skip
    tokens[1].by_source = {
        "jupiter": SourcePrice(price_usd=1.0, market_cap_usd=None, volume_24h_usd=None, fetched_at=None)
    }
    publish(tokens)
    return tokens


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_conforms(daphne_server, path, method, mode):
    publish_fixture_snapshot()
    config = schemathesis.config.SchemathesisConfig()
    config.projects.default.generation.update(modes=[schemathesis.GenerationMode(mode)])
    schema = schemathesis.openapi.from_url(f"{daphne_server.url}/api/schema/?format=json", config=config)
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        # Two things the schema states as a shape, which the server checks further (and rightly
        # answers 400 for): a cursor is signed by the server, and a mint must decode to 32 bytes.
        # Generated values of the right shape are left out; values of the wrong shape stay and
        # must be rejected. Real cursors are walked in tests/api/test_tokens_api.py.
        cursor = (case.query or {}).get("cursor")
        if isinstance(cursor, str) and re.fullmatch(CURSOR_PATTERN, cursor) and cursor:
            case.query.pop("cursor")
        mint = (case.path_parameters or {}).get("mint")
        if isinstance(mint, str) and re.fullmatch(MINT_PATTERN, mint):
            assume(is_mint(mint))
        response = case.call_and_validate(base_url=daphne_server.url)
        assert response.status_code < 500 or path == "/api/health/"

    run()


def test_schema_lists_the_operations(daphne_server):
    schema = schemathesis.openapi.from_url(f"{daphne_server.url}/api/schema/?format=json")
    found = {(op.ok().path, op.ok().method.upper()) for op in schema.get_all_operations()}
    assert set(OPERATIONS) <= found
