"""Keyset pages of a snapshot's ordered matches, and the per-process index that sorts each order once.

A keyset cursor is the rank key of a page's edge, so a page is "the next `limit` matches after (or
before) that key" in whatever snapshot is current.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass

from tokens.records import Snapshot, Token
from tokens.selectors.ordering import RankKey, order_tokens
from tokens.selectors.query import TokenQuery, has_filters, matcher


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an ordered match list, with the rank keys of its edges for the cursors."""

    tokens: list[Token]
    count: int  # all matches of the query, not just this page
    first_key: RankKey | None
    last_key: RankKey | None
    has_previous: bool
    has_next: bool


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
        result = filter_ordered(*ordered, query) if has_filters(query) else ordered
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


index = SnapshotIndex()
