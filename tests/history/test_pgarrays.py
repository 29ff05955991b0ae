"""Binary array parameters of the PostgreSQL candle upsert (tokens/history/pgarrays.py).

Marked `database`; PostgreSQL only (make test runs it with DATABASE_URL set).
"""

from __future__ import annotations

import math
import re

import pytest
from django.db import connection

pytestmark = [pytest.mark.database, pytest.mark.django_db]


@pytest.fixture
def pg_cursor():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from tokens.history import pgarrays

    connection.ensure_connection()
    return pgarrays.cursor(connection.connection)


def test_arrays_arrive_as_sent(pg_cursor):
    from tokens.history.pgarrays import float8_array, int8_array, text_array

    texts = ["So11111111111111111111111111111111111111112", "1m", "", "ünïcødé ✓"]
    ints = [0, -1, 1_796_169_600, 2**63 - 1, -(2**63)]
    floats = [1.0, None, 1e-300, -0.0, math.inf, 0.1 + 0.2, None]
    pg_cursor.execute(
        "SELECT %b::text[], pg_typeof(%b)::text, %b::bigint[], %b::float8[], array_length(%b, 1)",
        [text_array(texts), text_array(texts), int8_array(ints), float8_array(floats), float8_array(floats)],
        binary=True,
    )
    got_texts, kind, got_ints, got_floats, length = pg_cursor.fetchone()
    assert (got_texts, kind, got_ints, length) == (texts, "text[]", ints, len(floats))
    assert [repr(v) for v in got_floats] == [repr(v) for v in floats]  # bit for bit, -0.0 included
    pg_cursor.execute("SELECT %b::float8[]", [float8_array([2.5, 3.5])], binary=True)
    assert pg_cursor.fetchone()[0] == [2.5, 3.5]


def test_the_update_never_probes_interval_t_row_by_row(pg_cursor):
    """(interval, t) holds every token's candle of that start: probing it once per row (a plan the
    planner can pick for a plain key join on a table without statistics) reads rows x tokens index
    entries. The UPDATE reads the rows' (interval, t) candles once instead, or probes the unique index."""
    from tests.factories import mint_for
    from tokens.history import store

    rows = [
        (mint_for(s), "1m", 1_796_169_600 + 60 * m, 1.0, None, None) for s in range(50) for m in range(40)
    ]
    store.upsert(rows)
    moved = [(*row[:3], 2.0, None, None) for row in rows[:300]]
    plans = []
    for settings in (
        [],
        ["ANALYZE " + store.TABLE],
        ["SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off"],
    ):
        for statement in settings:
            pg_cursor.execute(statement)
        pg_cursor.execute("EXPLAIN " + store._PG_UPDATE, store._arrays(moved, numbered=True), binary=True)
        plans.append("\n".join(r[0] for r in pg_cursor.fetchall()))
    for plan in plans:
        assert not re.search(r"candle_interval_t .*\n.*Index Cond: .*= r\.i", plan), plan
    assert "Index Scan using candle_mint_interval_t" in plans[-1], plans[-1]
    assert len(store.upsert(moved)) == 300
