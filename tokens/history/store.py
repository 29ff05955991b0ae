"""Candles in the database: one bulk upsert per snapshot, the newest-first read, backfill inserts, retention.

Longer intervals are built on write: each snapshot's observation is folded into the open candle of
every interval in the same statement (6 rows per token). On read they would have to be rolled up
from 1-minute candles, which retention keeps for 2 days only, and a 1d chart of 300 days would
read 430,000 rows; bench/bench_candles.py measures the write cost of both choices.

The upsert is one statement per snapshot on both databases: SQLite reads the rows from one JSON
parameter (json_each), PostgreSQL from arrays (unnest). The Redis key `candles:written` (owned
here) holds the id of the last snapshot whose candles are stored, so readers know when a cached
read is safe to keep for the rest of that snapshot's life.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from tokens.history.candles import GECKOTERMINAL, INTERVAL_NAMES, INTERVALS, MERGED, Bar, align
from tokens.models import PriceCandle
from tokens.records import Snapshot

log = logging.getLogger(__name__)

KEY_WRITTEN = "candles:written"
TABLE = PriceCandle._meta.db_table
_COLUMNS = '(mint, "interval", t, open, high, low, close, volume_usd, liquidity_usd, market_cap_usd, source)'
_RETURNING = 'mint, "interval", t, open, high, low, close, volume_usd, liquidity_usd, market_cap_usd, source'


def _update(greatest: str, least: str, distinct: str) -> str:
    """An observation updates the open candle: open kept, extremes widened, close, last liquidity and
    market cap taken; volume kept (observed candles add none); the candle is now observed. A row the
    observation would not change is left alone (no new row version; not returned)."""
    values = {
        "high": f"{greatest}({TABLE}.high, excluded.high)",
        "low": f"{least}({TABLE}.low, excluded.low)",
        "close": "excluded.close",
        "liquidity_usd": f"coalesce(excluded.liquidity_usd, {TABLE}.liquidity_usd)",
        "market_cap_usd": f"coalesce(excluded.market_cap_usd, {TABLE}.market_cap_usd)",
        "source": f"'{MERGED}'",
    }
    assignments = ", ".join(f"{col} = {expr}" for col, expr in values.items())
    changed = " OR ".join(f"{TABLE}.{col} {distinct} {expr}" for col, expr in values.items())
    return f"{assignments} WHERE {changed}"


_UPDATE = {
    "sqlite": _update("max", "min", "IS NOT"),
    "postgresql": _update("greatest", "least", "IS DISTINCT FROM"),
}

_UPSERT = {
    "sqlite": f"""
        INSERT INTO {TABLE} {_COLUMNS}
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
               json_extract(value, '$[3]'), json_extract(value, '$[3]'), json_extract(value, '$[3]'),
               json_extract(value, '$[3]'), NULL, json_extract(value, '$[4]'), json_extract(value, '$[5]'),
               '{MERGED}'
        FROM json_each(%s) WHERE true
        ON CONFLICT (mint, "interval", t) DO UPDATE SET {_UPDATE["sqlite"]}
        RETURNING {_RETURNING}""",
    "postgresql": f"""
        INSERT INTO {TABLE} {_COLUMNS}
        SELECT m, i, t, p, p, p, p, NULL, l, c, '{MERGED}'
        FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::float8[], %s::float8[], %s::float8[])
             AS r(m, i, t, p, l, c)
        ON CONFLICT (mint, "interval", t) DO UPDATE SET {_UPDATE["postgresql"]}
        RETURNING {_RETURNING}""",
}


def observations(snapshot: Snapshot) -> list[tuple[str, str, int, float, float | None, float | None]]:
    """(mint, interval, t, price, liquidity, market cap) for every priced token and every interval (pure)."""
    rows = []
    at = snapshot.generated_at
    starts = {name: align(at, name) for name in INTERVAL_NAMES}
    for mint, token in snapshot.tokens.items():
        price = token.price_usd
        if price is None or not price > 0:
            continue
        for name, t in starts.items():
            rows.append((mint, name, t, price, token.liquidity_usd, token.market_cap_usd))
    return rows


def record_snapshot(snapshot: Snapshot) -> list[Bar]:
    """Fold the snapshot into every token's open candles (one statement); returns those that changed, as stored."""
    rows = observations(snapshot)
    stored = upsert(rows) if rows else []
    cache.set(KEY_WRITTEN, snapshot.id, timeout=None)
    return stored


def upsert(rows: list[tuple]) -> list[Bar]:
    """One statement folding (mint, interval, t, price, liquidity, market cap) rows into their candles;
    returns the candles it created or changed."""
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "postgresql":
            # A lost candle update on a crash is re-made by the next snapshot: skip the WAL flush wait.
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(_UPSERT["postgresql"], [list(col) for col in zip(*rows, strict=True)])
        elif vendor == "sqlite":
            cursor.execute(_UPSERT["sqlite"], [orjson.dumps(rows).decode()])
        else:
            raise NotImplementedError(f"candle upsert for database vendor {vendor!r}")
        return [_bar(tuple(r)) for r in cursor.fetchall()]


def written_snapshot_id() -> int | None:
    """The last snapshot whose candles are stored (None: none yet, or Redis unreadable)."""
    try:
        value = cache.get(KEY_WRITTEN)
    except Exception:
        return None
    return int(value) if value is not None else None


_FIELDS = ("mint", "interval", "t", "open", "high", "low", "close", "volume_usd", "liquidity_usd",
           "market_cap_usd", "source")  # fmt: skip


def _bar(values: tuple) -> Bar:
    return Bar(*values)


_PUBLIC = ("t", "open", "high", "low", "close", "volume_usd", "liquidity_usd", "market_cap_usd", "source")
_NEWEST = f"""SELECT {", ".join(_PUBLIC)} FROM {TABLE}
    WHERE mint = %s AND "interval" = %s AND t < %s ORDER BY t DESC LIMIT %s"""
_NO_BOUND = 2**62


def newest_rows(mint: str, interval: str, limit: int, before: int | None = None) -> tuple[list[dict], bool]:
    """Up to `limit` candles starting before `before`, oldest first, as public CANDLE objects
    (docs/api.md §3), and whether older ones exist.

    One index range read, (mint, interval, t < before) backwards, limit + 1 rows, in plain SQL:
    the REST read path builds its body from these dicts with no model or Bar in between.
    """
    with connection.cursor() as cursor:
        cursor.execute(_NEWEST, [mint, interval, _NO_BOUND if before is None else before, limit + 1])
        rows = cursor.fetchall()
    more = len(rows) > limit
    candles = [
        {"t": t, "open": o, "high": h, "low": lo, "close": c, "volume_usd": v, "liquidity_usd": liq,
         "market_cap_usd": mc, "source": src}
        for t, o, h, lo, c, v, liq, mc, src in reversed(rows[:limit])
    ]  # fmt: skip
    return candles, more


def newest(mint: str, interval: str, limit: int, before: int | None = None) -> tuple[list[Bar], bool]:
    """`newest_rows` as Bars."""
    rows, more = newest_rows(mint, interval, limit, before)
    return [Bar(mint, interval, **row) for row in rows], more


def ever_tracked(mint: str) -> bool:
    """Whether the service holds any candle of `mint`."""
    return PriceCandle.objects.filter(mint=mint).exists()


def insert_backfill(bars: Iterable[Bar]) -> int:
    """Store candles from a source's history; a candle already stored (observed or not) is kept."""
    objs = [
        PriceCandle(**{f: getattr(b, f) for f in _FIELDS})
        for b in bars
        if b.source == GECKOTERMINAL and b.interval in INTERVALS
    ]
    if not objs:
        return 0
    PriceCandle.objects.bulk_create(objs, ignore_conflicts=True, batch_size=500)
    return len(objs)


def delete_expired(
    now: float | None = None, batch: int | None = None, max_seconds: float | None = None
) -> dict:
    """Delete candles older than CANDLE_RETENTION_DAYS per interval, `batch` rows per statement.

    Stops after `max_seconds` (the next run goes on); returns the rows deleted per interval.
    """
    now = time.time() if now is None else now
    batch = batch or settings.CANDLE_RETENTION_BATCH
    deadline = time.monotonic() + (max_seconds or settings.CANDLE_RETENTION_SECONDS)
    deleted: dict[str, int] = {}
    for interval, days in settings.CANDLE_RETENTION_DAYS.items():
        if days <= 0:
            continue
        cutoff = now - days * 86400
        total = 0
        while time.monotonic() < deadline:
            ids = list(
                PriceCandle.objects.filter(interval=interval, t__lt=cutoff)
                .order_by("t")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                break
            total += PriceCandle.objects.filter(id__in=ids).delete()[0]
        deleted[interval] = total
    return deleted
