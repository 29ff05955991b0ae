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
from tokens.records import TIMEFRAMES, Safety, Token, WindowStats

ORDER_FIELDS: tuple[str, ...] = (
    "volume",
    "price_change",
    "market_cap",
    "liquidity",
    "txns",
    "price",
    "age",
    "holders",
)
ORDERINGS: tuple[str, ...] = tuple(o for f in ORDER_FIELDS for o in (f, f"-{f}"))
DEFAULT_TIMEFRAME = "24h"
DEFAULT_ORDERING = "-volume"

_EMPTY = WindowStats()
_NO_SAFETY = Safety()


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
    min_holders: int | None = None
    max_top_holders_pct: float | None = None
    verified: bool | None = None
    safe: bool | None = None  # True: mint and freeze authority both disabled; False: not both

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
        safety = (self.min_holders, self.max_top_holders_pct, self.verified, self.safe)
        if any(v is not None for v in safety):  # queries without them keep their fingerprint (and cursors)
            parts += tuple(repr(v) for v in safety)
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
    safety_bounds = (
        (query.min_holders, lambda s: s.holder_count, 1),
        (query.max_top_holders_pct, lambda s: s.top_holders_pct, -1),
    )
    active_safety = [(limit, get, sign) for limit, get, sign in safety_bounds if limit is not None]
    wants_safety = bool(active_safety) or query.verified is not None or query.safe is not None

    def keep_safety(token: Token) -> bool:
        s = getattr(token, "safety", None) or _NO_SAFETY
        for limit, get, sign in active_safety:
            value = get(s)
            if value is None or (value - limit) * sign < 0:
                return False
        if query.verified is not None and (s.verified is None or s.verified != query.verified):
            return False
        if query.safe is not None:
            mint_off, freeze_off = s.mint_authority_disabled, s.freeze_authority_disabled
            if query.safe:
                return mint_off is True and freeze_off is True
            # safe=false: known to be unsafe (an authority known to be live)
            return mint_off is False or freeze_off is False
        return True

    def keep(token: Token) -> bool:
        if needle and not _text_matches(token, needle, query.q or ""):
            return False
        if query.protocols and not dex_matches(token.dex_id, query.protocols):
            return False
        for limit, get, sign in active:
            value = get(token)
            if value is None or (value - limit) * sign < 0:
                return False
        return not wants_safety or keep_safety(token)

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
            for v in (
                query.min_liquidity,
                query.min_volume,
                query.min_market_cap,
                query.max_market_cap,
                query.min_holders,
                query.max_top_holders_pct,
                query.verified,
                query.safe,
            )
        )
    )
