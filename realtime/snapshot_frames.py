"""The TOKEN list of a `snapshot` frame, read from the current merged snapshot (timeframe 24h).

The list of every token is serialised once per snapshot id and process, so a thousand clients
subscribing to `all` cost one serialisation, not a thousand.
"""

from __future__ import annotations

import threading

import orjson

from realtime.events import EVENT_TIMEFRAME
from tokens.store.snapshots import current_snapshot
from tokens.tokenjson import token_dict

_lock = threading.Lock()
_cached: tuple[int, float, str] | None = None  # (snapshot id, generated_at, JSON of every token)


def snapshot_tokens_json(mints: list[str] | None) -> str:
    """JSON array of the current TOKENs: all of them (mints None) or those of `mints` tracked."""
    global _cached
    snapshot = current_snapshot()
    if snapshot is None:
        return "[]"
    if mints is not None:
        tokens = [snapshot.tokens[m] for m in mints if m in snapshot.tokens]
        return orjson.dumps([token_dict(t, EVENT_TIMEFRAME) for t in tokens]).decode()
    key = (snapshot.id, snapshot.generated_at)
    with _lock:
        if _cached is not None and _cached[:2] == key:
            return _cached[2]
    text = orjson.dumps([token_dict(t, EVENT_TIMEFRAME) for t in snapshot.tokens.values()]).decode()
    with _lock:
        _cached = (*key, text)
    return text
