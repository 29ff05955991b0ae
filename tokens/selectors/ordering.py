"""Total orders over tokens: every (timeframe, ordering) ranks tokens by ``(null, signed value, mint)``.

Known values first, the value ascending or descending, unknown values last in both directions, and
the mint ascending as the unique tie-breaker (pure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tokens.records import Token
from tokens.selectors.query import window

# (0, signed value, mint) for a known value, (1, 0.0, mint) for an unknown one.
RankKey = tuple[int, float, str]


def sort_value(token: Token, field: str, timeframe: str) -> float | None:
    """The raw value `field` orders by; `age` is the pair's creation time negated (newest first)."""
    if field == "volume":
        value: float | None = window(token, timeframe).volume_usd
    elif field == "price_change":
        value = window(token, timeframe).price_change_pct
    elif field == "txns":
        txns = window(token, timeframe).txns
        value = None if txns is None else float(txns)
    elif field == "market_cap":
        value = token.market_cap_usd
    elif field == "liquidity":
        value = token.liquidity_usd
    elif field == "price":
        value = token.price_usd
    elif field == "age":
        value = None if token.pair_created_at is None else -token.pair_created_at
    elif field == "holders":
        safety = getattr(token, "safety", None)  # None in snapshots merged before safety data
        holders = safety.holder_count if safety is not None else None
        value = None if holders is None else float(holders)
    else:
        raise ValueError(f"unknown ordering field {field!r}")
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def rank_key(token: Token, ordering: str, timeframe: str) -> RankKey:
    """Where the token sits in `ordering`: ascending rank keys are the public order."""
    descending = ordering.startswith("-")
    value = sort_value(token, ordering.lstrip("-"), timeframe)
    if value is None:
        return (1, 0.0, token.token_address)
    signed = -value if descending else value
    return (0, signed + 0.0, token.token_address)  # + 0.0 turns -0.0 into 0.0


def order_tokens(tokens: Sequence[Token], ordering: str, timeframe: str) -> tuple[list[RankKey], list[Token]]:
    """All tokens sorted by rank key, with the keys alongside (for bisecting)."""
    ranked = sorted(((rank_key(t, ordering, timeframe), t) for t in tokens), key=lambda kt: kt[0])
    return [k for k, _ in ranked], [t for _, t in ranked]
