"""Filter, order and keyset-page the tokens of a Snapshot (pure functions over plain records).

Order: every (timeframe, ordering) is a total order over rank keys ``(null, signed value, mint)``:
known values first, the value ascending or descending, unknown values last in both directions, and
the mint ascending as the unique tie-breaker. A keyset cursor is the rank key of a page's edge, so a
page is "the next `limit` matches after (or before) that key" in whatever snapshot is current.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tokens.dexes import dex_matches
from tokens.records import TIMEFRAMES, Snapshot, Token, WindowStats

ORDER_FIELDS: tuple[str, ...] = ("volume", "price_change", "market_cap", "liquidity", "txns", "price", "age")
ORDERINGS: tuple[str, ...] = tuple(o for f in ORDER_FIELDS for o in (f, f"-{f}"))
DEFAULT_TIMEFRAME = "24h"
DEFAULT_ORDERING = "-volume"

# (0, signed value, mint) for a known value, (1, 0.0, mint) for an unknown one.
RankKey = tuple[int, float, str]

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


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an ordered match list, with the rank keys of its edges for the cursors."""

    tokens: list[Token]
    count: int  # all matches of the query, not just this page
    first_key: RankKey | None
    last_key: RankKey | None
    has_previous: bool
    has_next: bool


def _window(token: Token, timeframe: str) -> WindowStats:
    return token.windows.get(TIMEFRAMES[timeframe], _EMPTY)


def sort_value(token: Token, field: str, timeframe: str) -> float | None:
    """The raw value `field` orders by; `age` is the pair's creation time negated (newest first)."""
    if field == "volume":
        value: float | None = _window(token, timeframe).volume_usd
    elif field == "price_change":
        value = _window(token, timeframe).price_change_pct
    elif field == "txns":
        txns = _window(token, timeframe).txns
        value = None if txns is None else float(txns)
    elif field == "market_cap":
        value = token.market_cap_usd
    elif field == "liquidity":
        value = token.liquidity_usd
    elif field == "price":
        value = token.price_usd
    elif field == "age":
        value = None if token.pair_created_at is None else -token.pair_created_at
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


def matcher(query: TokenQuery) -> Callable[[Token], bool]:
    """A predicate keeping the tokens that pass every filter of the query."""
    needle = query.q.strip().lower() if query.q else ""
    bounds = (
        (query.min_liquidity, lambda t: t.liquidity_usd, 1),
        (query.min_volume, lambda t: _window(t, query.timeframe).volume_usd, 1),
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


def order_tokens(tokens: Sequence[Token], ordering: str, timeframe: str) -> tuple[list[RankKey], list[Token]]:
    """All tokens sorted by rank key, with the keys alongside (for bisecting)."""
    ranked = sorted(((rank_key(t, ordering, timeframe), t) for t in tokens), key=lambda kt: kt[0])
    return [k for k, _ in ranked], [t for _, t in ranked]


def filter_ordered(
    keys: list[RankKey], tokens: list[Token], query: TokenQuery
) -> tuple[list[RankKey], list[Token]]:
    """The matches of the query, keeping the given order."""
    keep = matcher(query)
    pairs = [(k, t) for k, t in zip(keys, tokens, strict=True) if keep(t)]
    return [k for k, _ in pairs], [t for _, t in pairs]


def page_of(
    keys: list[RankKey],
    tokens: list[Token],
    limit: int,
    after: RankKey | None = None,
    before: RankKey | None = None,
) -> Page:
    """The `limit` matches just after `after` (or just before `before`; from the start if neither)."""
    if before is not None:
        end = bisect_left(keys, before)
        start = max(0, end - limit)
    else:
        start = 0 if after is None else bisect_right(keys, after)
        end = min(len(keys), start + limit)
    chunk = tokens[start:end]
    return Page(
        tokens=chunk,
        count=len(keys),
        first_key=keys[start] if chunk else None,
        last_key=keys[end - 1] if chunk else None,
        has_previous=start > 0,
        has_next=end < len(keys),
    )


def select_page(
    snapshot: Snapshot,
    query: TokenQuery,
    limit: int,
    after: RankKey | None = None,
    before: RankKey | None = None,
) -> Page:
    """Filter, order and page a snapshot from scratch (the reference the cached index must equal)."""
    keys, tokens = order_tokens(list(snapshot.tokens.values()), query.ordering, query.timeframe)
    keys, tokens = filter_ordered(keys, tokens, query)
    return page_of(keys, tokens, limit, after=after, before=before)


class SnapshotIndex:
    """Per-process memo of orders and match lists for the newest snapshot seen.

    Each (timeframe, ordering) is sorted once per snapshot, each distinct query filtered once;
    a new snapshot (by identity, so reused ids in tests cannot collide) drops everything.
    """

    def __init__(self, max_queries: int = 256) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._orders: dict[tuple[str, str], tuple[list[RankKey], list[Token]]] = {}
        self._matches: OrderedDict[str, tuple[list[RankKey], list[Token]]] = OrderedDict()
        self._max_queries = max_queries

    def _reset_for(self, snapshot: Snapshot) -> None:
        if self._snapshot is not snapshot:
            self._snapshot = snapshot
            self._orders = {}
            self._matches = OrderedDict()

    def matches(self, snapshot: Snapshot, query: TokenQuery) -> tuple[list[RankKey], list[Token]]:
        """The ordered matches of `query` in `snapshot`, computed at most once per snapshot."""
        fingerprint = query.fingerprint()
        with self._lock:
            self._reset_for(snapshot)
            hit = self._matches.get(fingerprint)
            if hit is not None:
                self._matches.move_to_end(fingerprint)
                return hit
            order_key = (query.timeframe, query.ordering)
            ordered = self._orders.get(order_key)
        if ordered is None:
            ordered = order_tokens(list(snapshot.tokens.values()), query.ordering, query.timeframe)
        result = filter_ordered(*ordered, query) if _has_filters(query) else ordered
        with self._lock:
            if self._snapshot is snapshot:
                self._orders[order_key] = ordered
                self._matches[fingerprint] = result
                while len(self._matches) > self._max_queries:
                    self._matches.popitem(last=False)
        return result

    def page(
        self,
        snapshot: Snapshot,
        query: TokenQuery,
        limit: int,
        after: RankKey | None = None,
        before: RankKey | None = None,
    ) -> Page:
        keys, tokens = self.matches(snapshot, query)
        return page_of(keys, tokens, limit, after=after, before=before)


def _has_filters(query: TokenQuery) -> bool:
    return bool(
        query.q
        or query.protocols
        or any(
            v is not None
            for v in (query.min_liquidity, query.min_volume, query.min_market_cap, query.max_market_cap)
        )
    )


index = SnapshotIndex()


def snapshot_age(snapshot: Snapshot, now: float) -> float | None:
    """Seconds since the newest successful upstream fetch the snapshot holds (None: no data)."""
    if snapshot.data_fetched_at is None:
        return None
    return max(0.0, now - snapshot.data_fetched_at)


def is_stale(snapshot: Snapshot | None, now: float, ttl_seconds: float) -> bool:
    """Stale: no snapshot, no data in it, or data older than `ttl_seconds`."""
    if snapshot is None:
        return True
    age = snapshot_age(snapshot, now)
    return age is None or age > ttl_seconds
