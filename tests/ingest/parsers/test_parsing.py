"""Tests for tokens/ingest/parsers/parsing.py, plus the helpers the per-source tests share (mutations, sanity checks)."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import base58
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokens.ingest.parsers.parsing import (
    MalformedPayload,
    discovery_from_pools,
    is_mint,
    reject_error_body,
    strip_network_prefix,
    to_count,
    to_float,
    to_int,
    to_non_negative,
    to_positive,
    to_str,
    to_ts,
    tracked_mint,
)
from tokens.records import SOL_MINT, USDC_MINT, USDT_MINT, WINDOWS, PoolQuote, TokenQuote, WindowStats

pytestmark = pytest.mark.pure

GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
HIGGS = "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump"
POOL = "2uZuTQEjcXcR1ESwMdGTpqEwM5PCekEwrSNVRPc1EhS1"

# Property tests run under the project's autouse (no-op for `pure`) fixture: that is fine here.
PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# ---------------------------------------------------------------------------------------------------
# Shared helpers for the source tests: random damage to recorded payloads, and output sanity checks.

# Values a broken or changed upstream could put anywhere in a payload.
ODD_VALUES: list[Any] = [
    None,
    "",
    "NaN",
    "nan",
    "inf",
    0,
    -1,
    1.5,
    1e308,
    True,
    False,
    "x",
    [],
    {},
    [None],
    {"a": 1},
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path under node (excluding the root itself)."""
    paths = []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        paths.append((*prefix, key))
        paths.extend(_paths(child, (*prefix, key)))
    return paths


def _apply(doc: Any, path: tuple[Any, ...], delete: bool, value: Any) -> None:
    """Delete or replace the node at path; a path an earlier mutation made unreachable is left alone."""
    parent = doc
    try:
        for key in path[:-1]:
            parent = parent[key]
        if delete:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(value)
    except (KeyError, IndexError, TypeError):
        pass


@st.composite
def mutated(draw: st.DrawFn, payload: Any) -> Any:
    """A copy of payload with 1..8 random keys or items deleted, nulled or replaced by an odd value."""
    doc = copy.deepcopy(payload)
    paths = _paths(doc)
    if not paths:
        return doc
    for _ in range(draw(st.integers(1, 8))):
        path = draw(st.sampled_from(paths))
        _apply(doc, path, draw(st.booleans()), draw(st.sampled_from(ODD_VALUES)))
    return doc


def _ok_float(value: float | None, *, minimum: float | None = None, strict: bool = False) -> bool:
    if value is None:
        return True
    if not isinstance(value, float) or not math.isfinite(value):
        return False
    if minimum is None:
        return True
    return value > minimum if strict else value >= minimum


def _ok_count(value: int | None) -> bool:
    return value is None or (type(value) is int and value >= 0)


def assert_windows_sane(windows: dict[str, WindowStats]) -> None:
    assert set(windows) == set(WINDOWS)
    for stats in windows.values():
        assert isinstance(stats, WindowStats)
        assert _ok_float(stats.volume_usd, minimum=0)
        assert _ok_float(stats.price_change_pct)
        assert _ok_count(stats.buys) and _ok_count(stats.sells)


def assert_pool_sane(pool: PoolQuote) -> None:
    """What every consumer of a PoolQuote may rely on, whatever the upstream sent."""
    assert isinstance(pool, PoolQuote)
    assert is_mint(pool.address) and is_mint(pool.base_mint) and is_mint(pool.quote_mint)
    assert isinstance(pool.dex_id, str) and pool.dex_id
    for price in (pool.price_usd, pool.quote_price_usd, pool.price_native, pool.fdv_usd, pool.market_cap_usd):
        assert _ok_float(price, minimum=0, strict=True)
    assert _ok_float(pool.liquidity_usd, minimum=0)
    assert _ok_float(pool.created_at, minimum=0, strict=True)
    for text in (pool.base_symbol, pool.base_name, pool.quote_symbol, pool.icon):
        assert text is None or (isinstance(text, str) and text)
    assert_windows_sane(pool.windows)


def assert_token_sane(quote: TokenQuote) -> None:
    assert isinstance(quote, TokenQuote)
    assert is_mint(quote.mint)
    for price in (quote.price_usd, quote.market_cap_usd, quote.fdv_usd):
        assert _ok_float(price, minimum=0, strict=True)
    assert _ok_float(quote.liquidity_usd, minimum=0) and _ok_float(quote.volume_24h_usd, minimum=0)
    assert _ok_float(quote.created_at, minimum=0, strict=True)
    assert _ok_count(quote.decimals)
    assert quote.top_pool is None or is_mint(quote.top_pool)
    assert_windows_sane(quote.windows)


def call_tolerantly(parser: Any, *args: Any) -> Any:
    """Run a parser on damaged input: it returns, or raises MalformedPayload — nothing else."""
    try:
        return parser(*args)
    except MalformedPayload:
        return None


# ---------------------------------------------------------------------------------------------------
# to_float / to_int / to_count / positive / non_negative / to_str

SEVENTY_DIGITS = "0.000497890713549855719601041059316075168340638248173685970143599852"  # from GeckoTerminal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (2.5, 2.5),
        (-3, -3.0),
        ("0.000008058", 8.058e-06),
        ("4.6228117147547495e-06", 4.6228117147547495e-06),
        ("1E+3", 1000.0),
        (" 12.5 ", 12.5),
        (".5", 0.5),
        ("7.", 7.0),
        ("-0.59", -0.59),
        (SEVENTY_DIGITS, 0.000497890713549855719601041059316075168340638248173685970143599852),
        ("109.129394249550772713974090078331657306872537225", 109.12939424955077),
        (Decimal("1.25"), 1.25),
    ],
)
def test_to_float_parses_numbers_and_decimal_strings(value: Any, expected: float) -> None:
    assert to_float(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        float("nan"),
        float("inf"),
        -float("inf"),
        True,
        False,
        "abc",
        "1_000",
        "0x10",
        "1,5",
        "1e400",
        10**400,
        Decimal("NaN"),
        Decimal("sNaN"),
        [],
        {},
        object(),
    ],
)
def test_to_float_unknowns_are_none(value: Any) -> None:
    assert to_float(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), ("5", 5), (" 7 ", 7), (5.0, 5), ("5.0", 5), ("1e3", 1000), (-2, -2), (10**30, 10**30)],
)
def test_to_int(value: Any, expected: int) -> None:
    assert to_int(value) == expected


@pytest.mark.parametrize(
    "value", [None, True, False, 5.5, "5.5", "x", "", "NaN", float("inf"), [], "9" * 5000]
)
def test_to_int_unknowns_are_none(value: Any) -> None:
    assert to_int(value) is None


def test_counts_prices_and_volumes() -> None:
    assert to_count(3) == 3 and to_count(0) == 0 and to_count(-1) is None and to_count("x") is None
    assert to_positive("0.0") is None and to_positive(-1) is None and to_positive("2") == 2.0
    assert to_non_negative("0.0") == 0.0 and to_non_negative(-0.5) is None and to_non_negative(None) is None
    assert to_str("  Gary ") == "Gary" and to_str("") is None and to_str("  ") is None and to_str(5) is None


@given(st.floats(allow_nan=False, allow_infinity=False))
@PROPERTY
def test_to_float_round_trips_finite_floats(x: float) -> None:
    assert to_float(x) == x
    assert to_float(repr(x)) == x


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: d.is_finite()))
@PROPERTY
def test_to_float_of_decimal_strings_is_correctly_rounded(d: Decimal) -> None:
    expected = float(d)
    text = format(d, "f") if abs(d.adjusted()) < 80 else str(d)
    assert to_float(text) == (expected if math.isfinite(expected) else None)


@given(st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none(), st.binary()))
@PROPERTY
def test_to_float_never_raises_and_is_finite(value: Any) -> None:
    result = to_float(value)
    assert result is None or (isinstance(result, float) and math.isfinite(result))


@given(st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none()))
@PROPERTY
def test_to_int_never_raises(value: Any) -> None:
    result = to_int(value)
    assert result is None or type(result) is int


# ---------------------------------------------------------------------------------------------------
# to_ts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "2026-10-08T13:28:26Z",
            1791466106.0,
        ),  # Jupiter createdAt == DexScreener pairCreatedAt 1791466106000
        (1791466106000, 1791466106.0),  # DexScreener pairCreatedAt (ms)
        ("1791466106000", 1791466106.0),
        (1791466106, 1791466106.0),
        (1791466106.5, 1791466106.5),
        (1791466106000000, 1791466106.0),  # µs
        (1791466106000000000, 1791466106.0),  # ns
        ("2024-06-05T08:55:25.527Z", 1717577725.527),
        ("2026-10-08T13:28:26.000Z", 1791466106.0),
        ("2026-10-08T15:38:11.750362685Z", 1791473891.750362685),  # Jupiter updatedAt, nanoseconds
        ("2026-10-08T13:28:26.123456789Z", 1791466106.123456789),
        ("2026-10-08T13:28:26", 1791466106.0),  # no offset: UTC
        ("2026-10-08 13:28:26Z", 1791466106.0),
        ("2026-10-08T15:28:26+02:00", 1791466106.0),
        ("2026-10-08T08:58:26-0430", 1791466106.0),
        ("2026-10-08T15:28:26+02", 1791466106.0),
        ("2026-10-08T13:28Z", 1791466080.0),
        ("2026-10-08", 1791417600.0),
        ("2016-12-31T23:59:60Z", 1483228800.0),  # leap second
    ],
)
def test_to_ts(value: Any, expected: float) -> None:
    assert to_ts(value) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-10-08T25:00:00Z",
        "2026-10-08T13:28:26+25:00",
        "NaN",
        float("inf"),
        0,
        -5,
        "-1724367939",
        True,
        [],
        {},
        10**30,
    ],
)
def test_to_ts_unknowns_are_none(value: Any) -> None:
    assert to_ts(value) is None


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)))
@PROPERTY
def test_to_ts_of_iso_strings(moment: datetime) -> None:
    expected = pytest.approx(moment.timestamp(), rel=1e-14, abs=1e-6)
    assert to_ts(moment.isoformat()) == expected
    assert to_ts(moment.isoformat().replace("+00:00", "Z")) == expected
    assert to_ts(moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond:06d}789Z") == expected


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.integers(-14 * 60, 14 * 60),
)
@PROPERTY
def test_to_ts_honours_offsets(moment: datetime, offset_minutes: int) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert to_ts(local.isoformat()) == pytest.approx(moment.timestamp(), abs=1e-6)


@given(st.integers(946684800, 4102444800))
@PROPERTY
def test_to_ts_epoch_seconds_and_milliseconds_agree(seconds: int) -> None:
    assert to_ts(seconds) == seconds
    assert to_ts(seconds * 1000) == seconds
    assert to_ts(str(seconds * 1000)) == seconds


@given(st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none()))
@PROPERTY
def test_to_ts_never_raises(value: Any) -> None:
    result = to_ts(value)
    assert result is None or (isinstance(result, float) and 0 < result < 253402300800)


# ---------------------------------------------------------------------------------------------------
# ids and mints


def test_strip_network_prefix() -> None:
    assert strip_network_prefix("solana_abc") == "abc"
    assert strip_network_prefix(f"solana_{SOL_MINT}") == SOL_MINT
    assert strip_network_prefix(SOL_MINT) == SOL_MINT
    assert strip_network_prefix("eth_0xabc") == "eth_0xabc"
    assert strip_network_prefix("eth_0xabc", network="eth") == "0xabc"
    assert strip_network_prefix("solana_") == ""


@pytest.mark.parametrize("value", [SOL_MINT, USDC_MINT, USDT_MINT, GARY, HIGGS, POOL, "1" * 32])
def test_is_mint_accepts_solana_addresses(value: str) -> None:
    assert is_mint(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        f"solana_{SOL_MINT}",
        "0xC9Ba3E053733CD027577aa5D23BB630e52Eb8AB0",
        SOL_MINT[:-1] + "0",  # 0 is not in the base58 alphabet
        SOL_MINT + "1",  # 33 bytes
        base58.b58encode(b"\x01" * 31).decode(),
        base58.b58encode(b"\xff" * 33).decode(),
        None,
        42,
        b"So11111111111111111111111111111111111111112",
    ],
)
def test_is_mint_rejects_everything_else(value: Any) -> None:
    assert not is_mint(value)


@given(st.binary(min_size=0, max_size=40))
@PROPERTY
def test_is_mint_is_exactly_32_bytes(raw: bytes) -> None:
    assert is_mint(base58.b58encode(raw).decode()) == (len(raw) == 32)


@given(st.text())
@PROPERTY
def test_is_mint_never_raises(value: str) -> None:
    assert is_mint(value) in (True, False)


# ---------------------------------------------------------------------------------------------------
# error bodies and discovery helpers


def test_reject_error_body_names_the_error() -> None:
    with pytest.raises(MalformedPayload, match="404 Not Found"):
        reject_error_body({"errors": [{"status": "404", "title": "Not Found"}]}, "geckoterminal pools")
    with pytest.raises(MalformedPayload, match="Rate limit exceeded"):
        reject_error_body({"error": "Rate limit exceeded"}, "jupiter prices")
    with pytest.raises(MalformedPayload, match="boom"):
        reject_error_body({"errors": "boom"}, "x")
    reject_error_body({"data": []}, "x")
    reject_error_body([], "x")
    assert issubclass(MalformedPayload, ValueError)


def test_tracked_mint_prefers_the_non_reference_side() -> None:
    assert tracked_mint(GARY, SOL_MINT) == GARY
    assert tracked_mint(SOL_MINT, GARY) == GARY
    assert tracked_mint(USDC_MINT, HIGGS) == HIGGS
    assert tracked_mint(GARY, HIGGS) == GARY
    assert tracked_mint(SOL_MINT, USDC_MINT) is None
    assert tracked_mint(USDT_MINT, SOL_MINT) is None


def test_discovery_from_pools_ranks_unique_mints() -> None:
    def pool(address: str, base: str, quote: str) -> PoolQuote:
        return PoolQuote(
            source="geckoterminal", address=address, dex_id="x", base_mint=base, quote_mint=quote
        )

    pools = [
        pool(POOL, GARY, SOL_MINT),
        pool("1" * 32, SOL_MINT, USDC_MINT),
        pool("2" * 32, GARY, USDC_MINT),
        pool("3" * 32, SOL_MINT, HIGGS),
    ]
    items = discovery_from_pools(pools, "trending")
    assert [(i.mint, i.rank, i.pool_address, i.source, i.list_name) for i in items] == [
        (GARY, 0, POOL, "geckoterminal", "trending"),
        (HIGGS, 1, "3" * 32, "geckoterminal", "trending"),
    ]
    assert discovery_from_pools([], "x") == []


@given(st.data())
@PROPERTY
def test_mutation_helper_changes_copies_only(data: st.DataObject) -> None:
    original = {"a": [1, {"b": "2"}], "c": None}
    snapshot = copy.deepcopy(original)
    data.draw(mutated(original))
    assert original == snapshot
