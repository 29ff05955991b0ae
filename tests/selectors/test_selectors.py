"""tokens.selectors.query: keyset pages cover every match exactly once, in order, nulls last, across refreshes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_snapshot, make_token
from tokens.api.cursors import Cursor, InvalidCursor, decode_cursor, encode_cursor
from tokens.records import WindowStats
from tokens.selectors.freshness import is_stale
from tokens.selectors.ordering import rank_key, sort_value
from tokens.selectors.paging import SnapshotIndex, page_of, select_page
from tokens.selectors.query import ORDERINGS, TokenQuery

pytestmark = pytest.mark.pure

# Few distinct values so that ties (broken by mint) and unknowns are common.
values = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.0, 2.5, 1e9, -3.0]))
token_specs = st.lists(
    st.tuples(
        st.integers(0, 60), values, values, st.sampled_from(["raydium", "raydium-clmm", "orca", "pumpswap"])
    ),
    max_size=40,
    unique_by=lambda spec: spec[0],
)
queries = st.builds(
    TokenQuery,
    timeframe=st.sampled_from(["5m", "24h", "7d"]),
    ordering=st.sampled_from(ORDERINGS),
    protocols=st.sampled_from([(), ("raydium",), ("orca", "pumpswap")]),
    min_liquidity=st.sampled_from([None, 0.0, 2.0]),
)


def build(specs):
    tokens = []
    for seed, volume, liquidity, dex in specs:
        windows = {
            w: WindowStats(volume_usd=volume, buys=None if volume is None else 1) for w in ("m5", "h24", "d7")
        }
        tokens.append(
            make_token(seed, windows=windows, liquidity_usd=liquidity, dex_id=dex, market_cap_usd=volume,
                       price_usd=liquidity, pair_created_at=volume)
        )  # fmt: skip
    return tokens


def expected_order(tokens, query):
    """Reference order written independently: known values by value then mint, unknowns by mint."""
    field = query.ordering.lstrip("-")
    descending = query.ordering.startswith("-")
    kept = [t for t in tokens if _keeps(t, query)]
    known = [t for t in kept if sort_value(t, field, query.timeframe) is not None]
    unknown = [t for t in kept if sort_value(t, field, query.timeframe) is None]
    known.sort(key=lambda t: t.token_address)
    known.sort(key=lambda t: sort_value(t, field, query.timeframe), reverse=descending)
    return [t.token_address for t in known] + sorted(t.token_address for t in unknown)


def _keeps(token, query):
    if query.protocols and not any(
        token.dex_id == p or token.dex_id.startswith(p + "-") for p in query.protocols
    ):
        return False
    return query.min_liquidity is None or (
        token.liquidity_usd is not None and token.liquidity_usd >= query.min_liquidity
    )


def walk_forward(snapshot, query, limit):
    seen, after = [], None
    for _ in range(1000):
        page = select_page(snapshot, query, limit, after=after)
        seen.extend(t.token_address for t in page.tokens)
        if not page.has_next:
            return seen
        after = page.last_key
    raise AssertionError("walk did not end")


@settings(max_examples=150, deadline=None)
@given(token_specs, queries, st.integers(1, 7))
def test_walking_next_returns_every_match_once_in_order(specs, query, limit):
    snapshot = make_snapshot(build(specs))
    assert walk_forward(snapshot, query, limit) == expected_order(list(snapshot.tokens.values()), query)


@settings(max_examples=150, deadline=None)
@given(token_specs, queries, st.integers(1, 7))
def test_walking_previous_retraces_the_forward_pages(specs, query, limit):
    snapshot = make_snapshot(build(specs))
    pages, after = [], None
    while True:
        page = select_page(snapshot, query, limit, after=after)
        pages.append([t.token_address for t in page.tokens])
        if not page.has_next:
            break
        after = page.last_key
    back, before = [pages[-1]], page.first_key
    while before is not None:
        page = select_page(snapshot, query, limit, before=before)
        if not page.tokens:
            break
        back.append([t.token_address for t in page.tokens])
        before = page.first_key if page.has_previous else None
    assert back[::-1] == pages


@settings(max_examples=200, deadline=None)
@given(token_specs, token_specs, queries, st.integers(1, 5), st.integers(1, 4))
def test_refresh_between_pages_moves_only_tokens_whose_value_crossed(
    specs_a, specs_b, query, limit, pages_before
):
    old = make_snapshot(build(specs_a))
    new = make_snapshot(build(specs_b), snapshot_id=2)
    first, after = [], None
    for _ in range(pages_before):
        page = select_page(old, query, limit, after=after)
        first.extend(t.token_address for t in page.tokens)
        after = page.last_key or after
        if not page.has_next:
            break
    rest = walk_forward(new, query, limit) if after is None else _walk_from(new, query, limit, after)
    assert first == expected_order(list(old.tokens.values()), query)[: len(first)]
    if after is not None:
        expected_rest = [
            m for m in expected_order(list(new.tokens.values()), query)
            if rank_key(new.tokens[m], query.ordering, query.timeframe) > after
        ]  # fmt: skip
        assert rest == expected_rest
        walked = first + rest
        for mint, tok in old.tokens.items():
            twin = new.tokens.get(mint)
            if twin is None or not (_keeps(tok, query) and _keeps(twin, query)):
                continue
            if rank_key(tok, query.ordering, query.timeframe) == rank_key(
                twin, query.ordering, query.timeframe
            ):
                assert walked.count(mint) == 1  # a token whose value did not move is seen exactly once


def _walk_from(snapshot, query, limit, after):
    seen = []
    while True:
        page = select_page(snapshot, query, limit, after=after)
        seen.extend(t.token_address for t in page.tokens)
        if not page.has_next:
            return seen
        after = page.last_key


def test_refresh_between_pages_concrete():
    tokens = [make_token(i, volume=float(i)) for i in range(10)]
    old = make_snapshot(tokens)
    first = select_page(old, TokenQuery(), 4)
    assert [t.token_address for t in first.tokens] == [tokens[i].token_address for i in (9, 8, 7, 6)]
    # A refresh: token 9 falls to the bottom, token 2 is removed, a new token 20 enters in the middle.
    moved = [make_token(i, volume=float(i)) for i in range(10) if i not in (2, 9)]
    moved += [make_token(9, volume=-1.0), make_token(20, volume=4.5)]
    rest = []
    after = first.last_key
    while True:
        page = select_page(make_snapshot(moved, 2), TokenQuery(), 4, after=after)
        rest.extend(t.token_address for t in page.tokens)
        if not page.has_next:
            break
        after = page.last_key
    expected = [make_token(i).token_address for i in (5, 20, 4, 3, 1, 0, 9)]
    assert rest == expected  # 9 moved across the cursor and shows again; nothing else repeats


@pytest.mark.parametrize("ordering", ["volume", "-volume", "age", "-age"])
def test_nulls_last_in_both_directions(ordering):
    tokens = [
        make_token(i, volume=None if i % 2 else float(i), pair_created_at=None if i % 2 else 1e9 + i)
        for i in range(8)
    ]
    page = select_page(make_snapshot(tokens), TokenQuery(ordering=ordering), 50)
    field = ordering.lstrip("-")
    known = [sort_value(t, field, "24h") is not None for t in page.tokens]
    assert known == sorted(known, reverse=True)


def test_age_is_newest_first():
    tokens = [make_token(i, pair_created_at=1e9 + i) for i in range(5)]
    page = select_page(make_snapshot(tokens), TokenQuery(ordering="age"), 50)
    assert [t.pair_created_at for t in page.tokens] == [1e9 + i for i in (4, 3, 2, 1, 0)]


def test_q_matches_name_ticker_or_exact_mint():
    tokens = [
        make_token(1, token_name="Dog Wif Hat", token_ticker="WIF"),
        make_token(2, token_name="Bonk", token_ticker="BONK"),
    ]
    snap = make_snapshot(tokens)
    assert [t.token_ticker for t in select_page(snap, TokenQuery(q="wif hat"), 50).tokens] == ["WIF"]
    assert [t.token_ticker for t in select_page(snap, TokenQuery(q="bon"), 50).tokens] == ["BONK"]
    assert [t.token_ticker for t in select_page(snap, TokenQuery(q=tokens[1].token_address), 50).tokens] == [
        "BONK"
    ]


def test_min_and_max_filters_leave_out_unknown_values():
    tokens = [
        make_token(1, market_cap_usd=None),
        make_token(2, market_cap_usd=10.0),
        make_token(3, market_cap_usd=1e6),
    ]
    snap = make_snapshot(tokens)
    got = select_page(snap, TokenQuery(min_market_cap=5.0, max_market_cap=100.0), 50).tokens
    assert [t.market_cap_usd for t in got] == [10.0]


@settings(max_examples=60, deadline=None)
@given(token_specs, queries, st.integers(1, 7))
def test_index_equals_the_reference(specs, query, limit):
    snapshot = make_snapshot(build(specs))
    index = SnapshotIndex()
    assert index.page(snapshot, query, limit) == select_page(snapshot, query, limit)
    assert index.page(snapshot, query, limit) == select_page(snapshot, query, limit)  # memoised


def test_index_forgets_an_older_snapshot_with_the_same_id():
    index = SnapshotIndex()
    a = make_snapshot([make_token(1, volume=1.0)])
    b = make_snapshot([make_token(2, volume=1.0)])  # same id 1: identity, not id, keys the memo
    assert index.page(a, TokenQuery(), 5).tokens[0].token_address == make_token(1).token_address
    assert index.page(b, TokenQuery(), 5).tokens[0].token_address == make_token(2).token_address


def test_page_of_empty_list():
    page = page_of([], [], 5)
    assert page.tokens == [] and not page.has_next and not page.has_previous and page.count == 0


def test_staleness():
    snap = make_snapshot([], data_fetched_at=100.0)
    assert not is_stale(snap, 120.0, 30)
    assert is_stale(snap, 131.0, 30)
    assert is_stale(make_snapshot([], data_fetched_at=None), 0.0, 30)
    assert is_stale(None, 0.0, 30)


def test_cursor_round_trip_and_binding():
    query = TokenQuery(ordering="-liquidity", min_volume=5.0)
    cursor = Cursor(key=(0, -12.5, "mint"), backward=True)
    text = encode_cursor(cursor, query)
    assert decode_cursor(text, query) == cursor
    with pytest.raises(InvalidCursor):
        decode_cursor(text, TokenQuery(ordering="-liquidity"))  # another query's cursor
    with pytest.raises(InvalidCursor):
        decode_cursor(text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1], query)
    for garbage in ["", "abc", ":", "W10:1:2", "%00", "x" * 5000]:
        with pytest.raises(InvalidCursor):
            decode_cursor(garbage, query)
