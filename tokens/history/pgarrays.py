"""One-dimensional PostgreSQL arrays in binary wire format, packed in one pass per column.

The candle upsert sends its 3,000 rows as six arrays (mint, interval, t, price, liquidity, market
cap). psycopg adapts a list element by element, a Python call each: ~25 ms for those arrays as text
(Django's default client-side binding), ~6 ms as binary; packed here ~1.5 ms (and the server reads
binary arrays without parsing numbers). The values are sent over `cursor()`: a psycopg cursor with
server-side binding on Django's connection (same transaction), which knows these types.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import psycopg
from psycopg.adapt import Dumper
from psycopg.postgres import types
from psycopg.pq import Format

# dimensions, has-nulls flag, element type oid, length, lower bound
_HEADER = struct.Struct(">iiIii")
_LENGTH = struct.Struct(">i").pack
_NULL = _LENGTH(-1)
_TEXT, _INT8, _FLOAT8 = (types[name] for name in ("text", "int8", "float8"))


class TextArray(bytes):
    __slots__ = ()


class Int8Array(bytes):
    __slots__ = ()


class Float8Array(bytes):
    __slots__ = ()


def text_array(values: Sequence[str]) -> TextArray:
    """NULL-free text[] (UTF-8)."""
    parts = [_HEADER.pack(1, 0, _TEXT.oid, len(values), 1)]
    for value in values:
        data = value.encode()
        parts.append(_LENGTH(len(data)))
        parts.append(data)
    return TextArray(b"".join(parts))


def int8_array(values: Sequence[int]) -> Int8Array:
    """NULL-free bigint[]."""
    n = len(values)
    fields = [8] * (2 * n)
    fields[1::2] = values
    return Int8Array(_HEADER.pack(1, 0, _INT8.oid, n, 1) + struct.pack(">" + "iq" * n, *fields))


def float8_array(values: Sequence[float | None]) -> Float8Array:
    """double precision[]; None is NULL."""
    n = len(values)
    if None not in values:
        fields = [8] * (2 * n)
        fields[1::2] = values
        return Float8Array(_HEADER.pack(1, 0, _FLOAT8.oid, n, 1) + struct.pack(">" + "id" * n, *fields))
    parts = [_HEADER.pack(1, 1, _FLOAT8.oid, n, 1)]
    pack = struct.Struct(">id").pack
    for value in values:
        parts.append(_NULL if value is None else pack(8, value))
    return Float8Array(b"".join(parts))


def _dumper(oid: int) -> type[Dumper]:
    class _Packed(Dumper):
        format = Format.BINARY

        def dump(self, obj: bytes) -> bytes:
            return obj

    _Packed.oid = oid
    return _Packed


_DUMPERS = {
    TextArray: _dumper(_TEXT.array_oid),
    Int8Array: _dumper(_INT8.array_oid),
    Float8Array: _dumper(_FLOAT8.array_oid),
}


def cursor(connection: psycopg.Connection) -> psycopg.Cursor:
    """A server-side-binding cursor on `connection` that sends the arrays above as they are."""
    cur = psycopg.Cursor(connection)
    for cls, dumper in _DUMPERS.items():
        cur.adapters.register_dumper(cls, dumper)
    return cur
