"""Per-purpose shares of a source's budget, kept over time: one token bucket per purpose in Redis.

A refresh of a source spends its calls on several purposes (GeckoTerminal: token data, daily OHLCV;
Jupiter: prices, safety data). Each purpose earns `share * RPM / 60` calls a second into its bucket,
whatever the refresh period, so a share worth 0.3 calls a refresh still gets a call every few
refreshes instead of truncating to 0. A purpose with nothing to do leaves its whole calls to the
purposes after it in the list, that refresh (spare). A purpose of share 0 only ever gets spare calls.

Owns this Redis key family:
  mds:share:<source>     hash: <purpose> -> calls in its bucket (float), "at" -> time of the last accrual

The refresh of a source runs under its lock (tokens/tasks.py), so one writer at a time per key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings

from tokens.infra.redis_clients import raw_redis

SHARE_KEY = "mds:share:{source}"
MAX_GAP_SECONDS = 60.0  # a bucket never earns for longer than this after a pause in refreshes


@dataclass(frozen=True)
class Purpose:
    """One use of a source's calls: its name and its share of the budget (a number or a setting read now)."""

    name: str
    share: float | Callable[[], float]

    def current_share(self) -> float:
        value = self.share() if callable(self.share) else self.share
        return min(max(float(value), 0.0), 1.0)


def capacity(rate_per_second: float, refresh_seconds: float) -> float:
    """A bucket holds one call plus two refreshes' worth (pure): a bucket below one call never
    overflows in one refresh, so a share worth a fraction of a call a refresh loses nothing. A purpose
    of share 0 holds nothing of its own."""
    if rate_per_second <= 0:
        return 0.0
    return 1.0 + 2.0 * rate_per_second * refresh_seconds


def accrue(
    levels: dict[str, float],
    purposes: Sequence[Purpose],
    per_minute: int,
    elapsed: float,
    refresh_seconds: float,
) -> dict[str, float]:
    """Each purpose's bucket after `elapsed` seconds of earning at its share (pure; never above capacity)."""
    elapsed = min(max(elapsed, 0.0), MAX_GAP_SECONDS)
    out: dict[str, float] = {}
    for purpose in purposes:
        rate = per_minute * purpose.current_share() / 60.0
        level = levels.get(purpose.name, 0.0) + rate * elapsed
        out[purpose.name] = min(level, capacity(rate, refresh_seconds))
    return out


class Shares:
    """The buckets of one source during one refresh: read (and accrued) at the start, saved at the end."""

    def __init__(self, source: str, purposes: Sequence[Purpose], per_minute: int, now: float | None = None):
        self.source = source
        self.purposes = list(purposes)
        self.key = SHARE_KEY.format(source=source)
        now = time.time() if now is None else now
        stored = raw_redis().hgetall(self.key)
        decoded = {k.decode() if isinstance(k, bytes) else k: float(v) for k, v in stored.items()}
        refresh = float(settings.REFRESH_SECONDS)
        last = decoded.pop("at", None)
        if last is None:  # a new bucket starts full, as token buckets do
            decoded = {p.name: math.inf for p in self.purposes}
        self.levels = accrue(decoded, self.purposes, per_minute, 0.0 if last is None else now - last, refresh)
        self.capacities = {
            p.name: capacity(per_minute * p.current_share() / 60.0, refresh) for p in self.purposes
        }
        self.now = now
        self.spare = 0  # calls left unspent by the purposes before, this refresh

    def available(self, name: str) -> int:
        """Whole calls this purpose may make now: its bucket's, plus what earlier purposes left this refresh.

        The first purpose may borrow one call while its debt is under one bucket's capacity, so every
        refresh makes progress (and reports a failing source) even right after discovery's burst.
        """
        level = self.levels.get(name, 0.0)
        own = max(0, math.floor(level + 1e-9))
        if own == 0 and self.purposes and name == self.purposes[0].name and level > -self.capacities[name]:
            own = 1
        return own + self.spare

    def charge(self, name: str, calls: int) -> None:
        """Take `calls` from the purpose's bucket (discovery may take it below zero: a debt repaid later)."""
        self.levels[name] = self.levels.get(name, 0.0) - calls

    def spent(self, name: str, offered: int, used: int) -> None:
        """The purpose used `used` of the `offered` calls: its own bucket pays first (a borrowed call
        too), then the earlier purposes' spare; what it did not use becomes spare for those after it."""
        own = offered - self.spare
        from_own = min(used, own)
        self.levels[name] = self.levels.get(name, 0.0) - from_own
        borrowed = used - from_own
        if borrowed:
            self._repay_spare(name, borrowed)
        self.spare = max(0, offered - used)

    def _repay_spare(self, name: str, calls: int) -> None:
        """Spare calls came from the purposes before `name`: take them from those buckets, first first."""
        for purpose in self.purposes:
            if purpose.name == name or calls <= 0:
                break
            take = min(calls, max(0, math.floor(self.levels[purpose.name] + 1e-9)))
            self.levels[purpose.name] -= take
            calls -= take

    def save(self) -> None:
        mapping = {name: repr(level) for name, level in self.levels.items()} | {"at": repr(self.now)}
        conn = raw_redis()
        conn.hset(self.key, mapping=mapping)
        conn.expire(self.key, 24 * 3600)
