"""Candles in the database (tokens/history/store.py): the snapshot upsert, reads, backfill, retention.

Marked `database`: make test runs these on SQLite and again on PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import random
import time

import pytest
from django.db import connection

from tests.factories import make_snapshot, make_token, mint_for
from tokens.history import store
from tokens.history.candles import INTERVAL_NAMES, Bar, align, fold, observe
from tokens.models import PriceCandle

pytestmark = [pytest.mark.database, pytest.mark.django_db]

DAY = 1_796_169_600  # 00:00 UTC


def snap(snapshot_id: int, at: float, prices: dict[int, float], **token_fields) -> object:
    tokens = [make_token(seed, price_usd=p, **token_fields) for seed, p in prices.items()]
    return make_snapshot(tokens, snapshot_id=snapshot_id, generated_at=at)


def rows(mint: str, interval: str) -> list[tuple]:
    bars, _ = store.newest(mint, interval, 1000)
    return [(b.t, b.open, b.high, b.low, b.close) for b in bars]


def test_snapshots_fold_into_ohlc_of_every_interval():
    mint = mint_for(1)
    path = [
        (DAY + 5, 1.0),
        (DAY + 20, 3.0),
        (DAY + 40, 0.5),
        (DAY + 65, 2.0),
        (DAY + 301, 4.0),
        (DAY + 302, 3.5),
    ]
    for i, (at, price) in enumerate(path, 1):
        store.record_snapshot(snap(i, at, {1: price}))
    assert rows(mint, "1m") == [
        (DAY, 1.0, 3.0, 0.5, 0.5),
        (DAY + 60, 2.0, 2.0, 2.0, 2.0),
        (DAY + 300, 4.0, 4.0, 3.5, 3.5),
    ]
    assert rows(mint, "5m") == [(DAY, 1.0, 3.0, 0.5, 2.0), (DAY + 300, 4.0, 4.0, 3.5, 3.5)]
    for interval in ("15m", "1h", "4h", "1d"):
        assert rows(mint, interval) == [(DAY, 1.0, 4.0, 0.5, 3.5)]
    # empty intervals are absent: no 1m candle at DAY+120..DAY+240
    assert [t for t, *_ in rows(mint, "1m")] == [DAY, DAY + 60, DAY + 300]


def test_upsert_returns_the_open_candles_and_keeps_last_liquidity():
    stored = store.record_snapshot(snap(1, DAY + 1, {1: 1.0, 2: 5.0}, liquidity_usd=10.0, market_cap_usd=7.0))
    assert sorted((b.mint, b.interval) for b in stored) == sorted(
        (mint_for(s), i) for s in (1, 2) for i in INTERVAL_NAMES
    )
    stored = store.record_snapshot(snap(2, DAY + 2, {1: 2.0}, liquidity_usd=None, market_cap_usd=9.0))
    one = {b.interval: b for b in stored}
    assert one["1m"] == Bar(mint_for(1), "1m", DAY, 1.0, 2.0, 1.0, 2.0, None, 10.0, 9.0, "merged")
    assert store.written_snapshot_id() == 2


def key(bar: Bar) -> tuple:
    return (bar.mint, bar.interval, bar.t)


def test_the_upsert_returns_what_the_pure_fold_changes_as_stored():
    """Random observations (new candles, moves, repeats, unknown liquidity, a backfilled candle) through
    store.upsert and through candles.fold: the same candles returned and stored, on either database
    (make test runs this on SQLite and on PostgreSQL)."""
    rng = random.Random(5)
    mints = [mint_for(seed) for seed in range(12)]
    backfilled = Bar(mints[0], "1m", DAY + 120, 9.0, 9.5, 8.5, 9.2, 100.0, None, None, "geckoterminal")
    store.insert_backfill([backfilled])
    model = {key(backfilled): backfilled}
    prices = {m: rng.uniform(0.5, 2.0) for m in mints}
    for step in range(12):
        at = DAY + 25 * step  # 1m candles open every few steps, the longer ones stay open
        rows, expected = [], {}
        for m in [mints[0], *rng.sample(mints[1:], 7)]:
            if rng.random() < 0.6:  # else the same price as before: a repeat changes nothing
                prices[m] = round(prices[m] * rng.uniform(0.9, 1.1), 6)
            liquidity = None if rng.random() < 0.3 else float(rng.randrange(1, 4))
            for interval in INTERVAL_NAMES:
                obs = observe(m, interval, at, prices[m], liquidity, 7.0)
                rows.append((m, interval, obs.t, obs.open, liquidity, 7.0))
                held = model.get(key(obs))
                new = obs if held is None else fold(held, obs)
                if new != held:
                    model[key(new)] = expected[key(new)] = new
        got = store.upsert(rows)
        assert len(got) == len({key(b) for b in got})
        assert sorted(got, key=key) == sorted(expected.values(), key=key), step
    stored = [b for m in mints for i in INTERVAL_NAMES for b in store.newest(m, i, 1000)[0]]
    assert sorted(stored, key=key) == sorted(model.values(), key=key)


def test_an_observation_that_changes_nothing_is_neither_returned_nor_rewritten():
    rows = [(mint_for(1), i, align(DAY + 5, i), 2.0, 10.0, None) for i in INTERVAL_NAMES]
    assert len(store.upsert(rows)) == 6
    versions = _row_versions()
    assert store.upsert(rows) == []
    assert _row_versions() == versions
    # a lower price widens every low; the same price again with unknown liquidity changes nothing
    lower = [(m, i, t, 1.0, None, None) for m, i, t, *_ in rows]
    assert {b.low for b in store.upsert(lower)} == {1.0}
    versions = _row_versions()
    assert store.upsert(lower) == []
    assert _row_versions() == versions
    # one new candle among unchanged ones: only it comes back
    new = (mint_for(1), "1m", DAY + 60, 1.0, None, None)
    got = store.upsert([*lower, new])
    assert got == [Bar(mint_for(1), "1m", DAY + 60, 1.0, 1.0, 1.0, 1.0, None, None, None, "merged")]
    assert {k: v for k, v in _row_versions().items() if k[2] == DAY} == versions


def _row_versions() -> dict:
    """(mint, interval, t) -> the row version (PostgreSQL: xmin, ctid; SQLite: the row itself)."""
    version = "xmin::text || ctid::text" if connection.vendor == "postgresql" else "close"
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT mint, "interval", t, {version} FROM {store.TABLE}')
        return {tuple(r[:3]): r[3] for r in cursor.fetchall()}


def test_tokens_without_a_price_get_no_candle():
    store.record_snapshot(snap(1, DAY, {1: None, 2: 0.0, 3: 1.0}))
    assert set(PriceCandle.objects.values_list("mint", flat=True)) == {mint_for(3)}


def test_newest_reads_pages_backwards_oldest_first():
    mint = mint_for(1)
    for i in range(10):
        store.record_snapshot(snap(i + 1, DAY + 60 * i, {1: float(i + 1)}))
    page, more = store.newest(mint, "1m", 4)
    assert [b.t for b in page] == [DAY + 60 * i for i in (6, 7, 8, 9)] and more
    page, more = store.newest(mint, "1m", 4, before=page[0].t)
    assert [b.t for b in page] == [DAY + 60 * i for i in (2, 3, 4, 5)] and more
    page, more = store.newest(mint, "1m", 4, before=page[0].t)
    assert [b.t for b in page] == [DAY, DAY + 60] and not more
    assert store.ever_tracked(mint) and not store.ever_tracked(mint_for(99))


def test_backfill_never_overwrites_observed_candles():
    mint = mint_for(1)
    store.record_snapshot(snap(1, DAY + 61, {1: 2.0}))
    gecko = [
        Bar(mint, "1m", DAY + 60 * i, 9.0, 9.5, 8.5, 9.2, 100.0, None, None, "geckoterminal")
        for i in range(3)
    ]
    store.insert_backfill(gecko)
    got = {b.t: b for b in store.newest(mint, "1m", 10)[0]}
    assert got[DAY + 60].source == "merged" and got[DAY + 60].open == 2.0
    assert got[DAY].source == "geckoterminal" and got[DAY].volume_usd == 100.0
    # an observation landing on a backfilled candle folds into it and marks it observed
    store.record_snapshot(snap(2, DAY + 121, {1: 20.0}))
    got = {b.t: b for b in store.newest(mint, "1m", 10)[0]}
    assert (got[DAY + 120].open, got[DAY + 120].high, got[DAY + 120].close) == (9.0, 20.0, 20.0)
    assert got[DAY + 120].source == "merged" and got[DAY + 120].volume_usd == 100.0


def test_retention_removes_exactly_what_it_should(settings):
    settings.CANDLE_RETENTION_DAYS = {"1m": 2, "5m": 14, "15m": 30, "1h": 180, "4h": 0, "1d": 0}
    mint = mint_for(1)
    now = DAY + 400 * 86400
    ages_days = [0, 1, 2, 3, 13, 15, 29, 31, 179, 181, 400]
    for age in ages_days:
        at = now - age * 86400 - 30
        store.upsert([(mint, i, align(at, i), 1.0, None, None) for i in INTERVAL_NAMES])
    before = {i: PriceCandle.objects.filter(interval=i).count() for i in INTERVAL_NAMES}
    deleted = store.delete_expired(now=now, batch=2)
    for interval, days in settings.CANDLE_RETENTION_DAYS.items():
        kept = set(PriceCandle.objects.filter(interval=interval).values_list("t", flat=True))
        if days == 0:
            assert len(kept) == before[interval]
            continue
        cutoff = now - days * 86400
        assert all(t >= cutoff for t in kept)
        expected = {align(now - a * 86400 - 30, interval) for a in ages_days}
        assert kept == {t for t in expected if t >= cutoff}
        assert deleted[interval] == before[interval] - len(kept)


def test_the_read_uses_the_index():
    mint = mint_for(1)
    for minute in range(20):
        store.upsert([(mint_for(seed), "1m", DAY + 60 * minute, 1.0, None, None) for seed in range(200)])
    query = PriceCandle.objects.filter(mint=mint, interval="1m", t__lt=DAY + 600).order_by("-t")[:300]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    plan = query.explain()
    if connection.vendor == "sqlite":
        assert "USING INDEX" in plan and "(mint=? AND interval=? AND t<?)" in plan, plan
    else:
        assert "candle_mint_interval_t" in plan and "Seq Scan" not in plan, plan
    assert [b.t for b in store.newest(mint, "1m", 300, DAY + 600)[0]] == [DAY + 60 * m for m in range(10)]


def test_the_retention_task_runs_as_celery_runs_it(settings):
    from tokens.tasks import prune_candles

    settings.CANDLE_RETENTION_DAYS = {"1m": 1, "5m": 0, "15m": 0, "1h": 0, "4h": 0, "1d": 0}
    old = align(time.time() - 3 * 86400, "1m")
    new = align(time.time(), "1m")
    store.upsert([(mint_for(1), "1m", t, 1.0, None, None) for t in (old, new)])
    assert prune_candles.apply().get()["1m"] == 1
    assert list(PriceCandle.objects.values_list("t", flat=True)) == [new]
