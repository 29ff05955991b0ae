"""Tests of tokens/ingest/plans.py against the replay upstream: batch sizes, allowances, rotating sweeps."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from tokens.ingest import refresh
from tokens.ingest.run import DISCOVERY_DUE_KEY
from tokens.ingest.sources import DEXSCREENER, GECKOTERMINAL, JUPITER
from tokens.records import SOL_MINT
from tokens.store import ingested


def _track(replay, count: int | None = None) -> list[str]:
    """Track the replay's mints (first `count`), with discovery not due, so a refresh only sweeps."""
    mints = [t["mint"] for t in replay.universe() if t["mint"] != SOL_MINT][:count]
    ingested.save_universe(mints)
    for name in ("dexscreener", "jupiter", "geckoterminal"):
        cache.set(DISCOVERY_DUE_KEY.format(source=name), 1, timeout=600)
    return mints


def _calls(replay, since: float, source: str, marker: str) -> list[dict]:
    return [r for r in replay.requests_since(since, source) if marker in r["path"]]


def _mints_of(row: dict) -> list[str]:
    return row["path"].rstrip("/").rsplit("/", 1)[-1].split(",")


def test_dexscreener_batches_of_thirty_then_token_pairs_with_what_is_left(replay, settings):
    mints = _track(replay, 60)
    settings.DEXSCREENER_RPM = 18  # 3 calls per 10 s refresh: 2 batches of 30, then 1 token-pairs call
    since = time.time()
    report = refresh.refresh_source("dexscreener")
    batches = _calls(replay, since, "dexscreener", "/tokens/v1/solana/")
    pairs = _calls(replay, since, "dexscreener", "/token-pairs/v1/solana/")
    assert report.calls == 3 and not report.errors
    assert [_mints_of(r) for r in batches] == [mints[:30], mints[30:]]
    assert DEXSCREENER.batch_size == 30
    assert [_mints_of(r) for r in pairs] == [[mints[0]]]

    since = time.time()
    refresh.refresh_source("dexscreener")
    # The batched sweep covers everything each refresh; the slow sweep resumes at the next mint.
    assert [_mints_of(r) for r in _calls(replay, since, "dexscreener", "/tokens/v1/solana/")] == [
        mints[:30],
        mints[30:],
    ]
    assert [_mints_of(r) for r in _calls(replay, since, "dexscreener", "/token-pairs/")] == [[mints[1]]]


def test_a_sweep_longer_than_the_allowance_resumes_where_it_stopped(replay, settings):
    mints = _track(replay, 60)
    settings.GECKOTERMINAL_RPM = 60  # one call a second, at a one-second refresh: one batch a refresh
    settings.REFRESH_SECONDS = 1
    settings.OHLCV_SHARE = 0
    settings.GECKOTERMINAL_CACHE_SECONDS = 0  # the rotation alone (the cache window would skip the repeat)
    seen = []
    for _ in range(5):
        started = time.time()
        since = time.time()
        refresh.refresh_source("geckoterminal")
        seen += [_mints_of(r) for r in _calls(replay, since, "geckoterminal", "/tokens/multi/")]
        time.sleep(max(0.0, 1.0 - (time.time() - started)))
    size = GECKOTERMINAL.batch_size
    batches = [mints[:size], mints[size : 2 * size]]
    assert len(seen) >= 4
    assert seen == [batches[i % 2] for i in range(len(seen))]  # each refresh resumes the rotation


def test_jupiter_prices_carry_sol_in_every_batch(replay, settings):
    mints = _track(replay, 60)
    settings.JUPITER_RPM = 60  # 10 calls per refresh: the 60 mints need 2 batches of 49 + SOL
    since = time.time()
    refresh.refresh_source("jupiter")
    rows = _calls(replay, since, "jupiter", "/price/v3")
    ids = [r["query"].split("ids=", 1)[1].split("&", 1)[0].replace("%2C", ",").split(",") for r in rows]
    assert len(ids) == 2
    assert all(batch[0] == SOL_MINT and len(batch) <= JUPITER.batch_size for batch in ids)
    assert [m for batch in ids for m in batch[1:]] == mints


def test_a_paused_source_stops_the_sweep_and_keeps_its_cursor(replay, settings):
    mints = _track(replay, 60)
    settings.GECKOTERMINAL_RPM = 12  # two calls per refresh
    replay.fault("geckoterminal", "429", retry_after=1)
    since = time.time()
    report = refresh.refresh_source("geckoterminal")
    assert report.ok_calls == 0 and report.errors
    replay.clear_faults()
    time.sleep(1.2)  # the pause the 429 asked for
    since = time.time()
    refresh.refresh_source("geckoterminal")
    first = [_mints_of(r) for r in _calls(replay, since, "geckoterminal", "/tokens/multi/")]
    assert first[0] == mints[: GECKOTERMINAL.batch_size]


# --- GeckoTerminal: cache window and API version (issue 12, item 5) --------------------------


def _gecko_requests(replay, since: float) -> list[dict]:
    return replay.requests_since(since, "geckoterminal")


def test_geckoterminal_pins_the_api_version_in_accept(replay):
    _track(replay, 60)
    since = time.time()
    refresh.refresh_source("geckoterminal")
    rows = _gecko_requests(replay, since)
    assert rows
    assert {r["accept"] for r in rows} == {"application/json;version=20230302"}


def test_geckoterminal_never_repeats_a_request_within_its_cache_window(replay, settings):
    _track(replay, 60)  # two tokens/multi batches
    settings.GECKOTERMINAL_RPM = 60  # ten calls per 10 s refresh: more than the two batches need
    settings.GECKOTERMINAL_CACHE_SECONDS = 60
    since = time.time()
    for _ in range(4):
        refresh.refresh_source("geckoterminal")
    rows = _gecko_requests(replay, since)
    last_seen: dict[tuple[str, str], float] = {}
    repeats = []
    for row in rows:
        key = (row["path"], row["query"])
        if key in last_seen and row["t"] - last_seen[key] < 60:
            repeats.append(key)
        last_seen[key] = row["t"]
    assert not repeats, f"{len(repeats)} GeckoTerminal requests repeated inside 60 s, e.g. {repeats[:2]}"
    multi = [r for r in rows if "/tokens/multi/" in r["path"]]
    assert len(multi) == 2  # each batch once: the rest of the budget went elsewhere
    ohlcv = [r for r in rows if "/ohlcv/" in r["path"]]
    assert len(ohlcv) > 8, "the calls the cache rule saves are spent on OHLCV reach"


def test_geckoterminal_ohlcv_calls_name_the_token_whose_candles_are_wanted(replay, settings):
    mints = _track(replay, 60)
    settings.GECKOTERMINAL_RPM = 60
    since = time.time()
    refresh.refresh_source("geckoterminal")
    snap = ingested.load_source("geckoterminal")
    top_pool_of = {m: q.top_pool for m, q in snap.tokens.items() if q.top_pool}
    rows = [r for r in replay.requests_since(since, "geckoterminal") if "/ohlcv/day" in r["path"]]
    assert rows
    for row in rows:
        params = dict(part.split("=", 1) for part in row["query"].split("&"))
        assert params["limit"] == "8"
        assert params.get("token") in mints, f"no token= on {row['path']}?{row['query']}"
        assert row["path"] == f"/networks/solana/pools/{top_pool_of[params['token']]}/ohlcv/day"


# --- per-purpose shares kept over time (issue 12, item 2) ------------------------------------


def test_7d_figures_appear_within_minutes_at_a_three_second_refresh(replay, settings):
    """GeckoTerminal at 30/min and REFRESH_SECONDS=3 is 1.5 calls a refresh: the OHLCV share must still
    come round (it used to truncate to 0, so no token ever had a 7d change)."""
    from tokens.pipeline import merge_and_publish

    _track(replay, 60)
    settings.REFRESH_SECONDS = 3
    settings.GECKOTERMINAL_RPM = 30
    settings.GECKOTERMINAL_CACHE_SECONDS = 0  # the shares alone (the cache rule also frees calls for OHLCV)
    since = time.time()
    for _ in range(20):  # one minute of refreshes, at the refresh period
        started = time.time()
        refresh.refresh_source("geckoterminal")
        time.sleep(max(0.0, 3 - (time.time() - started)))
    rows = replay.requests_since(since, "geckoterminal")
    ohlcv = [r for r in rows if "/ohlcv/day" in r["path"]]
    assert ohlcv, "no OHLCV call in a minute of 3 s refreshes"
    assert len(rows) <= 30 + 1  # the whole source stays inside its budget over the minute
    snap = merge_and_publish()
    with_7d = [t for t in snap.tokens.values() if t.windows["d7"].price_change_pct is not None]
    assert with_7d, "no token has a 7d change"


# --- safety data from Jupiter (issue 12) -------------------------------------------------------


def test_jupiter_safety_fields_equal_the_replays_values(replay, settings):
    import requests

    from tokens.pipeline import merge_and_publish

    mints = _track(replay, 60)
    settings.JUPITER_RPM = 60
    since = time.time()
    refresh.refresh_source("jupiter")
    searches = _calls(replay, since, "jupiter", "/tokens/v2/search")
    assert len(searches) == 1
    asked = searches[0]["query"].split("query=", 1)[1].split("&", 1)[0].replace("%2C", ",").split(",")
    assert sorted(asked) == sorted(mints) and len(asked) <= 100
    truth = requests.get(
        f"{replay.urls()['JUPITER_BASE_URL']}/tokens/v2/search", params={"query": ",".join(mints)}, timeout=10
    ).json()
    by_mint = {item["id"]: item for item in truth}
    assert 0 < len(by_mint) < len(mints), "the replay has tokens Jupiter does not know"
    snap = merge_and_publish()
    varied = set()
    for mint in mints:
        token = snap.tokens.get(mint)
        if token is None:
            continue
        s = token.safety
        item = by_mint.get(mint)
        if item is None:
            assert (s.holder_count, s.top_holders_pct, s.mint_authority_disabled) == (None, None, None)
            assert (s.freeze_authority_disabled, s.verified, s.organic_score) == (None, None, None)
            continue
        audit = item["audit"]
        assert s.holder_count == item["holderCount"]
        assert s.top_holders_pct == pytest.approx(audit["topHoldersPercentage"])
        assert s.mint_authority_disabled is audit.get("mintAuthorityDisabled", False)
        assert s.freeze_authority_disabled is audit.get("freezeAuthorityDisabled", False)
        assert s.verified is item.get("isVerified", False)
        assert s.organic_score == pytest.approx(item["organicScore"])
        varied.add((s.mint_authority_disabled, s.freeze_authority_disabled))
    assert len(varied) >= 3, "the replay's audit data is varied"

    since = time.time()
    refresh.refresh_source(
        "jupiter"
    )  # every token was read just now: no search before SAFETY_REFRESH_SECONDS
    assert _calls(replay, since, "jupiter", "/tokens/v2/search") == []


def test_a_geckoterminal_request_that_failed_is_not_held_back_by_the_cache_window(replay, settings):
    mints = _track(replay, 60)
    settings.GECKOTERMINAL_RPM = 60
    settings.GECKOTERMINAL_CACHE_SECONDS = 60
    replay.fault("geckoterminal", "500", count=2)  # the first call and its retry
    report = refresh.refresh_source("geckoterminal")
    assert report.errors
    replay.clear_faults()
    since = time.time()
    refresh.refresh_source("geckoterminal")
    first = [_mints_of(r) for r in _calls(replay, since, "geckoterminal", "/tokens/multi/")]
    assert first and first[0] == mints[: GECKOTERMINAL.batch_size]  # asked again at once: it got no answer
