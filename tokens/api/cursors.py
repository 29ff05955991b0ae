"""Opaque keyset cursors: a page edge's rank key, signed and bound to the query that made it."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.core import signing

from tokens.selectors.ordering import RankKey
from tokens.selectors.query import TokenQuery

SALT = "tokens.api.cursor.v1"


class InvalidCursor(ValueError):
    """The cursor was not made by this service for this query (tampered, foreign or garbage)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: strictly after `key` (forward) or strictly before it (backward)."""

    key: RankKey
    backward: bool = False


def _binding(query: TokenQuery) -> str:
    return hashlib.blake2b(query.fingerprint().encode(), digest_size=8).hexdigest()


def encode_cursor(cursor: Cursor, query: TokenQuery) -> str:
    """Sign the cursor; the result is URL-safe text that only this query can use."""
    null, value, mint = cursor.key
    payload = ["p" if cursor.backward else "n", null, value, mint, _binding(query)]
    return signing.dumps(payload, salt=SALT, compress=False)


def decode_cursor(text: str, query: TokenQuery) -> Cursor:
    """Check the signature, the shape and the query binding; raise InvalidCursor otherwise."""
    try:
        payload = signing.loads(text, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidCursor(str(exc)) from exc
    if not isinstance(payload, list) or len(payload) != 5:
        raise InvalidCursor("malformed payload")
    direction, null, value, mint, binding = payload
    if direction not in ("n", "p") or binding != _binding(query):
        raise InvalidCursor("cursor belongs to another query")
    if null not in (0, 1) or isinstance(null, bool) or not isinstance(mint, str):
        raise InvalidCursor("malformed key")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidCursor("malformed key")
    return Cursor(key=(null, float(value), mint), backward=direction == "p")
