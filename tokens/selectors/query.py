"""A validated token-list query and the filter predicate it stands for (pure).

Order: every (timeframe, ordering) is a total order over rank keys ``(null, signed value, mint)``:
known values first, the value ascending or descending, unknown values last in both directions, and
the mint ascending as the unique tie-breaker. A keyset cursor is the rank key of a page's edge, so a
page is "the next `limit` matches after (or before) that key" in whatever snapshot is current.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tokens.dexes import dex_matches
from tokens.records import TIMEFRAMES, Token, WindowStats

ORDER_FIELDS: tuple[str, ...] = ("volume", "price_change", "market_cap", "liquidity", "txns", "price", "age")
ORDERINGS: tuple[str, ...] = tuple(o for f in ORDER_FIELDS for o in (f, f"-{f}"))
DEFAULT_TIMEFRAME = "24h"
DEFAULT_ORDERING = "-volume"

_EMPTY = WindowStats()


@dataclass(frozen=True, slots=True)
class TokenQuery:
    """A validated list query: what to keep and in which order (the cursor is bound to it)."""

    timeframe: str = DEFAULT_TIMEFRAME
    ordering: str = DEFAULT_ORDERING
    q: str | None = None
    protocols: tuple[str, ...] = ()
    min_liquidity: float | None = None
    min_volume: float | None = None
    min_market_cap: float | None = None
    max_market_cap: float | None = None

    def fingerprint(self) -> str:
        """A stable text form of the query, for binding cursors and keying caches."""
        parts = (
            self.timeframe,
            self.ordering,
            (self.q or "").lower(),
            ",".join(sorted(self.protocols)),
            *(
                repr(v)
                for v in (self.min_liquidity, self.min_volume, self.min_market_cap, self.max_market_cap)
            ),
        )
        return "|".join(parts)


def window(token: Token, timeframe: str) -> WindowStats:
    return token.windows.get(TIMEFRAMES[timeframe], _EMPTY)


def matcher(query: TokenQuery) -> Callable[[Token], bool]:
    """A predicate keeping the tokens that pass every filter of the query."""
    needle = query.q.strip().lower() if query.q else ""
    bounds = (
        (query.min_liquidity, lambda t: t.liquidity_usd, 1),
        (query.min_volume, lambda t: window(t, query.timeframe).volume_usd, 1),
        (query.min_market_cap, lambda t: t.market_cap_usd, 1),
        (query.max_market_cap, lambda t: t.market_cap_usd, -1),
    )
    active = [(limit, get, sign) for limit, get, sign in bounds if limit is not None]

    def keep(token: Token) -> bool:
        if needle and not _text_matches(token, needle, query.q or ""):
            return False
        if query.protocols and not dex_matches(token.dex_id, query.protocols):
            return False
        for limit, get, sign in active:
            value = get(token)
            if value is None or (value - limit) * sign < 0:
                return False
        return True

    return keep


def _text_matches(token: Token, needle: str, raw: str) -> bool:
    if token.token_address == raw.strip():
        return True
    name = (token.token_name or "").lower()
    ticker = (token.token_ticker or "").lower()
    return needle in name or needle in ticker


def has_filters(query: TokenQuery) -> bool:
    return bool(
        query.q
        or query.protocols
        or any(
            v is not None
            for v in (query.min_liquidity, query.min_volume, query.min_market_cap, query.max_market_cap)
        )
    )
