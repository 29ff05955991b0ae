"""Tests of tokens/ingest/universe.py: ranking the universe and rotating batches."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokens.ingest.universe import calls_per_refresh, rank_universe, rotate_batches
from tokens.records import SOL_MINT, USDC_MINT, DiscoveryItem

pytestmark = pytest.mark.pure


def items(source, list_name, mints):
    return [DiscoveryItem(mint=m, source=source, list_name=list_name, rank=i) for i, m in enumerate(mints)]


def test_mint_on_several_lists_outranks_single_list_leader():
    discovery = {
        "dexscreener": items("dexscreener", "boosts", ["A", "B", "C"]),
        "jupiter": items("jupiter", "trending", ["C", "D"]),
        "geckoterminal": items("geckoterminal", "trending_pools", ["C", "B"]),
    }
    assert rank_universe(discovery, 10) == ["C", "B", "A", "D"]


def test_cap_and_reference_mints_and_validity():
    discovery = {"jupiter": items("jupiter", "t", [SOL_MINT, "X", USDC_MINT, "bad", "Y", "Z"])}
    ranked = rank_universe(discovery, 2, is_valid=lambda m: m != "bad")
    assert ranked == ["X", "Y"]


def test_duplicates_within_one_list_count_once():
    discovery = {
        "dexscreener": items("dexscreener", "boosts", ["A", "A", "A"]) + items("dexscreener", "p", ["B"])
    }
    discovery["jupiter"] = items("jupiter", "t", ["B"])
    assert rank_universe(discovery, 5) == ["B", "A"]


def test_incumbents_win_ties_and_near_ties():
    discovery = {"jupiter": items("jupiter", "t", ["A", "B"])}
    # B is one rank behind A but already tracked: the bonus keeps the order stable only on near ties.
    assert rank_universe(discovery, 1, current=["B"]) == ["B"]
    far = {"jupiter": items("jupiter", "t", ["A", *[f"m{i}" for i in range(80)], "B"])}
    assert rank_universe(far, 1, current=["B"]) == ["A"]


def test_rotate_batches_wraps_and_never_repeats():
    mints = [str(i) for i in range(7)]
    batches, nxt = rotate_batches(mints, 3, start=2, count=2)
    assert batches == [["6"], ["0", "1", "2"]]
    assert nxt == 1
    batches, nxt = rotate_batches(mints, 3, start=0, count=10)
    assert batches == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    assert rotate_batches([], 3, 0, 5) == ([], 0)


@given(
    st.lists(st.text(min_size=1, max_size=4), unique=True, max_size=60),
    st.integers(1, 50),
    st.integers(0, 99),
)
def test_rotation_covers_everything_once_per_cycle(mints, size, start):
    total = -(-len(mints) // size) if mints else 0
    batches, _ = rotate_batches(mints, size, start, total)
    flat = [m for b in batches for m in b]
    assert sorted(flat) == sorted(mints)


@given(
    st.dictionaries(
        st.sampled_from(["dexscreener", "jupiter", "geckoterminal"]),
        st.lists(st.sampled_from([f"m{i}" for i in range(30)]), max_size=40),
    ),
    st.integers(0, 40),
)
def test_rank_is_capped_unique_and_deterministic(lists, cap):
    discovery = {src: items(src, "l", mints) for src, mints in lists.items()}
    ranked = rank_universe(discovery, cap)
    assert len(ranked) == len(set(ranked)) <= cap
    assert ranked == rank_universe(dict(reversed(discovery.items())), cap)


def test_calls_per_refresh():
    assert calls_per_refresh(300, 10) == 50
    assert calls_per_refresh(30, 10) == 5
    assert calls_per_refresh(30, 10, reserved=3) == 2
    assert calls_per_refresh(30, 1) == 1  # never zero: the shared limiter still enforces the budget
