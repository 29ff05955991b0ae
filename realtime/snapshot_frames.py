"""The TOKEN list of a `snapshot` frame, read from the current merged snapshot (timeframe 24h).

The list of every token is serialised once per snapshot id and process, so a thousand clients
subscribing to `all` cost one serialisation, not a thousand. The snapshot's id comes with it:
the consumer looks up the seq that snapshot reflects (realtime.eventlog.snapshot_seq).
"""

from __future__ import annotations

import threading

import orjson

from realtime.events import EVENT_TIMEFRAME
from realtime.wire import wire_token
from tokens.store.snapshots import current_snapshot

_lock = threading.Lock()
_cached: tuple[int, float, str] | None = None  # (snapshot id, generated_at, JSON of every token)


def snapshot_tokens_json(mints: list[str] | None) -> tuple[int | None, str]:
    """(snapshot id, JSON array of its TOKENs): all of them (mints None) or those of `mints`
    tracked; (None, "[]") before the first snapshot."""
    global _cached
    snapshot = current_snapshot()
    if snapshot is None:
        return None, "[]"
    if mints is not None:
        tokens = [snapshot.tokens[m] for m in mints if m in snapshot.tokens]
        return snapshot.id, orjson.dumps([wire_token(t, EVENT_TIMEFRAME) for t in tokens]).decode()
    key = (snapshot.id, snapshot.generated_at)
    with _lock:
        if _cached is not None and _cached[:2] == key:
            return snapshot.id, _cached[2]
    text = orjson.dumps([wire_token(t, EVENT_TIMEFRAME) for t in snapshot.tokens.values()]).decode()
    with _lock:
        _cached = (*key, text)
    return snapshot.id, text
