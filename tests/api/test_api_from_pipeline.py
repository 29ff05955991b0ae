"""The REST API over a snapshot made by the real pipeline (refresh tasks + merge) from the replay upstream."""

from __future__ import annotations

import pytest

from tests.api.test_tokens_api import TOKEN_KEYS, walk
from tests.integration.conftest import replay, replay_server, run_refreshes  # noqa: F401 - fixtures
from tokens.records import SOURCES
from tokens.store import snapshots

pytestmark = pytest.mark.slow


def test_list_and_detail_over_a_merged_snapshot(replay, client):  # noqa: F811
    run_refreshes(*SOURCES, rounds=2)
    snapshot = snapshots.current_snapshot()
    assert snapshot is not None and snapshot.tokens

    first = client.get("/api/tokens/?limit=7&ordering=-liquidity")
    assert first.status_code == 200
    body = first.json()
    assert body["meta"]["snapshot_id"] == snapshot.id and body["meta"]["count"] == len(snapshot.tokens)
    assert body["meta"]["stale"] is False
    assert set(body["meta"]["sources"]) == set(SOURCES)
    assert all(set(t) == TOKEN_KEYS for t in body["results"])

    run_refreshes(*SOURCES)  # a refresh lands between two pages (prices do not move: motion is off)
    assert snapshots.current_snapshot_id() != snapshot.id
    pages = [body, *walk(client, body["next"])]
    mints = [t["token_address"] for p in pages for t in p["results"]]
    assert sorted(mints) == sorted(snapshots.current_snapshot().tokens)  # every token exactly once
    liquidity = [t["liquidity_usd"] for p in pages for t in p["results"]]
    known = [v for v in liquidity if v is not None]
    assert known == sorted(known, reverse=True) and liquidity[: len(known)] == known  # nulls last

    everywhere = next(
        t for t in snapshots.current_snapshot().tokens.values() if set(t.sources) == set(SOURCES)
    )
    detail = client.get(f"/api/tokens/{everywhere.token_address}/").json()
    assert set(detail["by_source"]) == set(SOURCES) and detail["pools"]
    assert detail["price_usd"] == pytest.approx(everywhere.price_usd)
