"""Owns the realtime Redis keys: the event seq counter, the replay log and the alert state.

Key families (under django-redis's KEY_PREFIX, see tokens.store.snapshots.raw_key):
  events:seq          INCRBY counter; its value is the seq of the newest logged event. Created
                      (Redis new or wiped) at the current time in ms, so seqs keep increasing
                      across a Redis that lost its data: clients see a gap and resync instead of
                      taking new events for old ones (a refresh has far fewer events than 1/ms).
  events:log          stream, one entry per event, entry id "<seq>-0", fields m (mint),
                      a ("1" for an alert), e (the event's JSON text; an alert's without its
                      `token`), k (an alert's TOKEN JSON: its full text is e with k as `token`)
  events:log:times    sorted set: first seq of each refresh, scored by its time in ms (for trimming)
  events:alert-state  hash: mint -> JSON [reference_price_usd, spiking]
  events:marks        sorted set: member "<snapshot id>:<seq>" scored by the snapshot id — the seq
                      of the last event a published snapshot reflects (its own events included);
                      the newest MARKS_KEPT are kept. A subscribe's `snapshot` frame carries it.

`append()` numbers a refresh's events, logs them, trims the log and saves the alert state in one
Lua script, so the counter, the log and the state never disagree: either the whole refresh is
logged (a contiguous block of seqs) or nothing is, and the snapshot's mark is written with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings

from realtime.events import AlertState
from realtime.shared_reads import SharedPerTick
from tokens.infra.redis_clients import pooled_async_client, raw_key, raw_redis

KEY_SEQ = "events:seq"
KEY_LOG = "events:log"
KEY_LOG_TIMES = "events:log:times"
KEY_ALERT_STATE = "events:alert-state"
KEY_MARKS = "events:marks"
MARKS_KEPT = 1000

# docs/api.md promises resume over at least the last 15 minutes, whatever EVENT_LOG_SECONDS says.
EVENT_LOG_MIN_SECONDS = 900
# A memory ceiling only: time-based trimming normally keeps the log far below it.
LOG_MAX_ENTRIES = 1_000_000

_APPEND_LUA = """
local n = tonumber(ARGV[1])
local keep_ms = tonumber(ARGV[2])
local max_len = tonumber(ARGV[3])
local n_set = tonumber(ARGV[4])
local n_del = tonumber(ARGV[5])
local snapshot_id = ARGV[6]
local marks_kept = tonumber(ARGV[7])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stored = redis.call('GET', KEYS[1])
local counter = tonumber(stored or '0')
local tail = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #tail > 0 then
  local logged = tonumber(string.match(tail[1][1], '^(%d+)'))
  if logged > counter then redis.call('SET', KEYS[1], logged) end
elseif not stored then
  redis.call('SET', KEYS[1], string.format('%d', now_ms))
end
local last = redis.call('INCRBY', KEYS[1], n)
local first = last - n + 1
local i = 8
for k = 0, n - 1 do
  local seq = string.format('%d', first + k)
  local text = ARGV[i + 2] .. seq .. ARGV[i + 3]
  if ARGV[i + 4] == '' then
    redis.call('XADD', KEYS[2], seq .. '-0', 'm', ARGV[i], 'a', ARGV[i + 1], 'e', text)
  else
    redis.call('XADD', KEYS[2], seq .. '-0', 'm', ARGV[i], 'a', ARGV[i + 1], 'e', text, 'k', ARGV[i + 4])
  end
  i = i + 5
end
if snapshot_id ~= '' then
  redis.call('ZADD', KEYS[5], snapshot_id, snapshot_id .. ':' .. string.format('%d', last))
  redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(marks_kept + 1))
end
if n > 0 then redis.call('ZADD', KEYS[3], now_ms, first) end
local oldest_kept = redis.call('ZRANGEBYSCORE', KEYS[3], now_ms - keep_ms, '+inf', 'LIMIT', 0, 1)
if #oldest_kept > 0 then
  redis.call('XTRIM', KEYS[2], 'MINID', oldest_kept[1] .. '-0')
else
  redis.call('XTRIM', KEYS[2], 'MAXLEN', 0)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now_ms - keep_ms))
redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', max_len)
for k = 0, n_set - 1 do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for k = 0, n_del - 1 do
  redis.call('HDEL', KEYS[4], ARGV[i])
  i = i + 1
end
return first
"""


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """An event's JSON split around its seq: the text is head + str(seq) + tail. An alert's
    `token` is kept apart (`token`, its JSON): `all` subscribers get the text without it."""

    mint: str
    alert: bool
    head: bytes
    tail: bytes
    token: bytes = b""

    def text(self, seq: int) -> str:
        """The event as `all` subscribers get it (an alert without its `token`)."""
        return (self.head + str(seq).encode() + self.tail).decode()

    def full_text(self, seq: int) -> str:
        """The event as alerts-only and per-token subscribers get it."""
        return with_token(self.text(seq), self.token.decode()) if self.token else self.text(seq)


def with_token(text: str, token_json: str | None) -> str:
    """An event's JSON text with `token` added as its last member (text ends with '}')."""
    if not token_json:
        return text
    return text[:-1] + ',"token":' + token_json + "}"


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    mint: str
    alert: bool
    text: str  # as `all` subscribers get it
    token: str | None = None  # an alert's TOKEN JSON

    @property
    def full_text(self) -> str:
        return with_token(self.text, self.token)


def _keys() -> list[str]:
    return [
        raw_key(KEY_SEQ),
        raw_key(KEY_LOG),
        raw_key(KEY_LOG_TIMES),
        raw_key(KEY_ALERT_STATE),
        raw_key(KEY_MARKS),
    ]


def keep_seconds() -> int:
    """How long the replay log keeps events: EVENT_LOG_SECONDS, never under EVENT_LOG_MIN_SECONDS."""
    return max(int(settings.EVENT_LOG_SECONDS), EVENT_LOG_MIN_SECONDS)


# --- writes (sync: called by the merge task) -----------------------------------------------------


def load_alert_states() -> dict[str, AlertState]:
    raw = raw_redis().hgetall(raw_key(KEY_ALERT_STATE))
    states: dict[str, AlertState] = {}
    for mint, value in raw.items():
        reference, spiking = orjson.loads(value)
        states[mint.decode() if isinstance(mint, bytes) else mint] = AlertState(reference, bool(spiking))
    return states


def append(
    events: list[EncodedEvent],
    states: Mapping[str, AlertState],
    forgotten: Iterable[str],
    snapshot_id: int | None = None,
) -> int:
    """Log `events` under a fresh contiguous block of seqs, save the alert state and mark
    `snapshot_id` (the snapshot these events lead to) with the block's last seq; returns the
    first seq of the block (the next seq when there are no events). Raises RedisError."""
    forgotten = list(forgotten)
    args: list[Any] = [
        len(events),
        keep_seconds() * 1000,
        LOG_MAX_ENTRIES,
        len(states),
        len(forgotten),
        "" if snapshot_id is None else str(snapshot_id),
        MARKS_KEPT,
    ]
    for event in events:
        args += [event.mint, "1" if event.alert else "0", event.head, event.tail, event.token]
    for mint, state in states.items():
        args += [mint, orjson.dumps([state.reference_price_usd, state.spiking])]
    args += forgotten
    script = raw_redis().register_script(_APPEND_LUA)
    return int(script(keys=_keys(), args=args))


def mark_snapshot(snapshot_id: int) -> None:
    """Mark a snapshot published without events (tests' factories) with the current seq."""
    append([], {}, [], snapshot_id)


def current_seq_sync() -> int:
    return int(raw_redis().get(raw_key(KEY_SEQ)) or 0)


# --- reads (async: called by consumers) ----------------------------------------------------------


async def _read_current_seq() -> int:
    return int(await pooled_async_client().get(raw_key(KEY_SEQ)) or 0)


# Reads of the same tick share one round trip (realtime/shared_reads.py): a connect storm's welcomes
# and subscribes' catch-ups.
_current_seq = SharedPerTick(_read_current_seq)


async def current_seq() -> int:
    """The seq of the newest logged event, read after the call."""
    return await _current_seq()


async def snapshot_seq(snapshot_id: int) -> int | None:
    """The seq of the last event snapshot `snapshot_id` reflects; None until its events are logged
    (the merge flips the snapshot pointer a moment before it logs the snapshot's events)."""
    rows = await pooled_async_client().zrangebyscore(raw_key(KEY_MARKS), snapshot_id, snapshot_id)
    for member in rows:
        marked, _, seq = member.decode().partition(":")
        if int(marked) == snapshot_id:
            return int(seq)
    return None


def log_entry(entry_id: bytes, fields: Mapping[bytes, bytes]) -> LogEntry:
    token = fields.get(b"k")
    return LogEntry(
        seq=int(entry_id.split(b"-", 1)[0]),
        mint=fields[b"m"].decode(),
        alert=fields[b"a"] == b"1",
        text=fields[b"e"].decode(),
        token=token.decode() if token else None,
    )


async def _read_after(since: int, count: int) -> list[LogEntry]:
    rows = await pooled_async_client().xrange(raw_key(KEY_LOG), min=f"{since + 1}-0", max="+", count=count)
    return [log_entry(entry_id, fields) for entry_id, fields in rows]


_read_after_shared = SharedPerTick(_read_after)


async def read_after(since: int, count: int) -> list[LogEntry]:
    """Up to `count` logged events with seq > since, oldest first (read after the call; callers of
    the same tick asking the same share the read and its list: do not modify it)."""
    return await _read_after_shared(since, count)


class ResyncRequired(Exception):
    """The log no longer reaches back to the asked seq (or it is ahead of the counter)."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"resync required at seq {seq}")
        self.seq = seq


async def replay(since: int, page: int) -> AsyncIterator[list[LogEntry]]:
    """Every logged event with seq > since, in pages of `page`, oldest first, up to the newest
    (including any logged meanwhile). Raises ResyncRequired when that cannot be complete."""
    head = await current_seq()
    if since > head:
        raise ResyncRequired(head)
    if since == head:
        return
    entries = await read_after(since, page)
    if not entries or entries[0].seq != since + 1:  # trimmed away: the log no longer reaches back
        raise ResyncRequired(head)
    while entries:
        yield entries
        if len(entries) < page:
            return
        entries = await read_after(entries[-1].seq, page)
