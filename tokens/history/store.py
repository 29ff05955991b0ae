"""Candles in the database: one bulk upsert per snapshot, the newest-first read, backfill inserts, retention.

Longer intervals are built on write: each snapshot's observation is folded into the open candle of
every interval in the same transaction (6 rows per token). On read they would have to be rolled up
from 1-minute candles, which retention keeps for 2 days only, and a 1d chart of 300 days would
read 430,000 rows; bench/bench_candles.py measures the write cost of both choices.

The upsert is one transaction per snapshot: on SQLite one INSERT ... ON CONFLICT reading the rows
from a temporary table; on PostgreSQL an UPDATE of the existing rows, then an INSERT of the rest,
both reading the rows from binary arrays (unnest; tokens/history/pgarrays.py). The Redis key
`candles:written` (owned here) holds the id of the last snapshot whose candles are stored: the
ASGI cache keeps a candle answer until it moves on (tokens/asgi/cache.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextlib import closing

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
_FIGURES = ("open", "high", "low", "close", "volume_usd", "liquidity_usd", "market_cap_usd")


def _fold(
    greatest: str, least: str, distinct: str, price: str, liquidity: str, market_cap: str
) -> tuple[str, str]:
    """An observation updates the open candle: open kept, extremes widened, close, last liquidity and
    market cap taken; volume kept (observed candles add none); the candle is now observed. A row the
    observation would not change is left alone (no new row version; not returned): (SET list, the
    condition that the row changes)."""
    values = {
        "high": f"{greatest}({TABLE}.high, {price})",
        "low": f"{least}({TABLE}.low, {price})",
        "close": price,
        "liquidity_usd": f"coalesce({liquidity}, {TABLE}.liquidity_usd)",
        "market_cap_usd": f"coalesce({market_cap}, {TABLE}.market_cap_usd)",
        "source": f"'{MERGED}'",
    }
    assignments = ", ".join(f"{col} = {expr}" for col, expr in values.items())
    changed = " OR ".join(f"{TABLE}.{col} {distinct} {expr}" for col, expr in values.items())
    return assignments, f"({changed})"


_EXCLUDED = ("excluded.close", "excluded.liquidity_usd", "excluded.market_cap_usd")
_ON_CONFLICT = {
    "sqlite": "SET {} WHERE {}".format(*_fold("max", "min", "IS NOT", *_EXCLUDED)),
    "postgresql": "SET {} WHERE {}".format(*_fold("greatest", "least", "IS DISTINCT FROM", *_EXCLUDED)),
}
# SQLite: the rows go into a temporary table (executemany binds them in C) and one INSERT ... ON
# CONFLICT reads them from there; reading them from one JSON parameter (json_each, six json_extract
# per row) cost ~9 ms more for 3,000 rows.
_SQLITE_ROWS = "temp.candle_rows"
_SQLITE_CREATE = (
    "CREATE TEMP TABLE IF NOT EXISTS candle_rows (m TEXT, i TEXT, t INTEGER, p REAL, l REAL, c REAL)"
)
_SQLITE_FILL = f"INSERT INTO {_SQLITE_ROWS} VALUES (?, ?, ?, ?, ?, ?)"
_SQLITE_UPSERT = f"""
    INSERT INTO {TABLE} {_COLUMNS}
    SELECT m, i, t, p, p, p, p, NULL, l, c, '{MERGED}' FROM {_SQLITE_ROWS} WHERE true
    ON CONFLICT (mint, "interval", t) DO UPDATE {_ON_CONFLICT["sqlite"]}
    RETURNING {_RETURNING}"""

# PostgreSQL, two statements in one transaction. First the rows that exist and change: a plain
# UPDATE joined to the arrays (an INSERT ... ON CONFLICT would first probe the unique index, lock the
# row and draw an id from the sequence for every row: ~30 % more server time for 3,000 rows). Then
# the rest, the new candles and the unchanged ones: NOT EXISTS passes over the unchanged ones
# (no lock, no WAL); ON CONFLICT still folds into a row another writer inserted meanwhile.
# Both statements also say which (interval, t) the rows are in (a snapshot's six open candles): the
# table side of the join is then those candles, read through (interval, t), not the whole history
# (~30 % less server time than hashing a 10,000-row table; on 1.4 M rows the join also reads ~3,000:
# through (interval, t), or the unique index row by row). tests/history/test_pgarrays.py checks that
# (interval, t) is never probed row by row (every token's candle of that start each time).
# The arrays are unnested in the select list (a ProjectSet: ~15 % less server time than a function
# scan, which first copies its rows into a tuplestore). The UPDATE returns each changed row's index
# in the arrays and the figures it stores: its mint, interval and t are the row's (it matched them)
# and its source is the one it sets, so they need not come back (~2 ms less for 3,000 rows).
_ROWS = "(SELECT unnest(%b) m, unnest(%b) i, unnest(%b) t, unnest(%b) p, unnest(%b) l, unnest(%b) c{}) r"
_SET, _CHANGED = _fold("greatest", "least", "IS DISTINCT FROM", "r.p", "r.l", "r.c")
_PG_UPDATE = f"""
    UPDATE {TABLE} SET {_SET}
    FROM {_ROWS.format(", unnest(%b) n")}
    WHERE {TABLE}.mint = r.m AND {TABLE}."interval" = r.i AND {TABLE}.t = r.t
      AND {TABLE}."interval" = ANY(%b) AND {TABLE}.t = ANY(%b) AND {_CHANGED}
    RETURNING r.n, {", ".join(f"{TABLE}.{col}" for col in _FIGURES)}"""
_PG_INSERT = f"""
    INSERT INTO {TABLE} {_COLUMNS}
    SELECT m, i, t, p, p, p, p, NULL, l, c, '{MERGED}'
    FROM {_ROWS.format("")}
    WHERE NOT EXISTS (SELECT FROM {TABLE} s WHERE s.mint = r.m AND s."interval" = r.i AND s.t = r.t
                      AND s."interval" = ANY(%b) AND s.t = ANY(%b))
    ON CONFLICT (mint, "interval", t) DO UPDATE {_ON_CONFLICT["postgresql"]}
    RETURNING {_RETURNING}"""


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
    """Fold the snapshot into every token's open candles (one transaction); returns those that changed, as stored."""
    rows = observations(snapshot)
    stored = upsert(rows) if rows else []
    cache.set(KEY_WRITTEN, snapshot.id, timeout=None)
    return stored


def upsert(rows: list[tuple]) -> list[Bar]:
    """Fold (mint, interval, t, price, liquidity, market cap) rows into their candles (one transaction);
    returns the candles it created or changed, as stored."""
    if not rows:
        return []
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor, connection.wrap_database_errors:
        # on the driver's own cursors (below), which Django's wrapper would slow down
        if vendor == "postgresql":
            # A lost candle update on a crash is re-made by the next snapshot: skip the WAL flush wait.
            cursor.execute("SET LOCAL synchronous_commit = off")
            return _upsert_postgresql(rows)
        if vendor == "sqlite":
            with closing(connection.connection.cursor()) as raw:
                return _upsert_sqlite(raw, rows)
        raise NotImplementedError(f"candle upsert for database vendor {vendor!r}")


def _upsert_sqlite(cursor, rows: list[tuple]) -> list[Bar]:
    """On a plain sqlite3 cursor of Django's connection (qmark parameters), in the caller's
    transaction; the temporary table is emptied again before the commit (a rollback empties it too)."""
    cursor.execute(_SQLITE_CREATE)
    cursor.executemany(_SQLITE_FILL, rows)
    cursor.execute(_SQLITE_UPSERT)
    stored = [_bar(r) for r in cursor.fetchall()]
    cursor.execute(f"DELETE FROM {_SQLITE_ROWS}")
    return stored


def _arrays(rows: list[tuple], numbered: bool = False) -> list:
    """The parameters of _PG_UPDATE (numbered) or _PG_INSERT."""
    from tokens.history import pgarrays

    mints, intervals, starts, prices, liquidity, market_caps = zip(*rows, strict=True)
    return [
        pgarrays.text_array(mints),
        pgarrays.text_array(intervals),
        pgarrays.int8_array(starts),
        pgarrays.float8_array(prices),
        pgarrays.float8_array(liquidity),
        pgarrays.float8_array(market_caps),
        *([pgarrays.int8_array(range(len(rows)))] if numbered else []),
        pgarrays.text_array(sorted(set(intervals))),
        pgarrays.int8_array(sorted(set(starts))),
    ]


def _upsert_postgresql(rows: list[tuple]) -> list[Bar]:
    from tokens.history import pgarrays

    cursor = pgarrays.cursor(connection.connection)  # Django's connection: this transaction
    cursor.execute(_PG_UPDATE, _arrays(rows, numbered=True), binary=True)
    stored = []
    updated = set()
    for n, open_, high, low, close, volume, liquidity, market_cap in cursor.fetchall():
        mint, interval, t = rows[n][:3]
        stored.append(
            _make_bar(mint, interval, t, open_, high, low, close, volume, liquidity, market_cap, MERGED)
        )
        updated.add(n)
    if len(updated) < len(rows):
        rest = [row for n, row in enumerate(rows) if n not in updated]
        cursor.execute(_PG_INSERT, _arrays(rest), binary=True)
        stored += [_bar(r) for r in cursor.fetchall()]
    return stored


def written_snapshot_id() -> int | None:
    """The last snapshot whose candles are stored (None: none yet, or Redis unreadable)."""
    try:
        value = cache.get(KEY_WRITTEN)
    except Exception:
        return None
    return int(value) if value is not None else None


_FIELDS = ("mint", "interval", "t", "open", "high", "low", "close", "volume_usd", "liquidity_usd",
           "market_cap_usd", "source")  # fmt: skip


# Bar is a frozen dataclass: its __init__ sets each field through object.__setattr__ (5 ms for a
# snapshot's 3,000 Bars); setting the slots directly takes half of that.
assert Bar.__slots__ == _FIELDS, "_bar sets Bar's slots in _FIELDS order"
_new = object.__new__
(_mint, _interval, _t, _open, _high, _low, _close, _volume, _liquidity, _market_cap, _source) = (
    getattr(Bar, field).__set__ for field in _FIELDS
)


def _bar(values: tuple) -> Bar:
    """Bar(*values), for values in _FIELDS order."""
    return _make_bar(*values)


def _make_bar(mint, interval, t, open_, high, low, close, volume, liquidity, market_cap, source) -> Bar:
    bar = _new(Bar)
    _mint(bar, mint)
    _interval(bar, interval)
    _t(bar, t)
    _open(bar, open_)
    _high(bar, high)
    _low(bar, low)
    _close(bar, close)
    _volume(bar, volume)
    _liquidity(bar, liquidity)
    _market_cap(bar, market_cap)
    _source(bar, source)
    return bar


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
