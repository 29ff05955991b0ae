"""Publishes a refresh's change events: numbers and logs them, then fans them out to the groups.

Called from sync code (the merge task). Order per refresh: diff (pure) -> one Lua script allocates
a contiguous block of seqs, appends the events to the replay log and saves the alert state -> one
channel-layer message per group (tokens.all, tokens.alerts, token.<mint>) carrying the events'
JSON text, serialised once here per kind of subscriber (`all` batches leave an alert's TOKEN out).
Every publish also marks the snapshot with the seq of its last event (eventlog.snapshot_seq), so
a subscribe's `snapshot` frame carries exactly the seq its tokens reflect. Nothing is fanned out unless it is in the log, and a Redis or
channel-layer failure is logged, never raised into the merge.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from channels.layers import get_channel_layer
from django.db import DatabaseError
from redis.exceptions import RedisError

from realtime import eventlog
from realtime.eventlog import EncodedEvent
from realtime.events import Thresholds, diff_snapshots, is_alert
from realtime.protocol import GROUP_ALERTS, GROUP_ALL, GROUP_REFRESHED, batch_frame, token_group
from tokens.infra.log_throttle import ThrottledWarning
from tokens.models import AlertSettings
from tokens.records import Snapshot

log = logging.getLogger(__name__)
_settings_unreadable = ThrottledWarning(log, interval=300.0)

FAN_OUT_TIMEOUT_SECONDS = 15.0
# token.<mint> group messages in flight at once (each is a few Redis round trips).
TOKEN_GROUP_CONCURRENCY = 16


def thresholds_from_settings() -> Thresholds:
    """The admin's AlertSettings as Thresholds; the defaults when the database does not answer."""
    try:
        current = AlertSettings.get_solo()
    except DatabaseError as exc:  # e.g. `migrate` not run: one line per 5 min, not a traceback per refresh
        _settings_unreadable.warn("alert settings unreadable (%s); using default thresholds", exc)
        return Thresholds()
    _settings_unreadable.recovered("alert settings readable again")
    return Thresholds(
        price_change_pct=float(current.price_change_threshold_pct),
        volume_spike_pct=float(current.volume_spike_threshold_pct),
    )


def encode_event(event: dict[str, Any]) -> EncodedEvent:
    """Split an event's JSON around its seq so the text is built once, whatever seq it gets; an
    alert's `token` is encoded apart (docs/api.md §4: `all` batches leave it out)."""
    alert = is_alert(event)
    token = orjson.dumps(event["token"]) if alert and "token" in event else b""
    skip = ("type", "token") if token else ("type",)
    rest = orjson.dumps({k: v for k, v in event.items() if k not in skip})
    head = b'{"type":' + orjson.dumps(event["type"]) + b',"seq":'
    tail = b"}" if rest == b"{}" else b"," + rest[1:]
    return EncodedEvent(mint=event["token_address"], alert=alert, head=head, tail=tail, token=token)


def publish_changes(previous: Snapshot | None, current: Snapshot, thresholds: Thresholds) -> list[dict]:
    """Diff, log and fan out one refresh; returns its events with their seqs ([] when nothing
    changed or Redis failed, in which case nothing was sent either)."""
    try:
        states = eventlog.load_alert_states()
    except RedisError:
        log.exception("alert state unreadable; events of snapshot %d not published", current.id)
        return []
    diff = diff_snapshots(previous, current, thresholds, states)
    encoded = [encode_event(event) for event in diff.events]
    try:  # also when nothing changed: the snapshot's mark tells subscribers its seq
        first = eventlog.append(encoded, diff.states, diff.forgotten, current.id)
    except RedisError:
        log.exception("event log write failed; %d events of snapshot %d dropped", len(encoded), current.id)
        return []
    events = [{"type": e["type"], "seq": first + i, **e} for i, e in enumerate(diff.events)]
    if encoded:
        messages = group_messages(first, encoded, committed_at=current.generated_at)
        try:
            _fan_out_loop.run(_send_groups(messages), FAN_OUT_TIMEOUT_SECONDS)
        except Exception:
            log.exception(
                "fan-out of seqs %d..%d failed (clients can resume)", first, first + len(encoded) - 1
            )
    return events


def group_messages(
    first: int, encoded: list[EncodedEvent], committed_at: float | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """The channel-layer messages of one refresh: one per group, in seq order within each, each
    frame's events encoded once for its kind of subscriber (tokens.all: alerts without `token`).
    `committed_at` (the snapshot's generated_at) lets consumers observe fan-out latency."""
    lean = [e.text(first + i) for i, e in enumerate(encoded)]
    texts = [e.full_text(first + i) if e.token else lean[i] for i, e in enumerate(encoded)]
    seqs = list(range(first, first + len(encoded)))
    messages: list[tuple[str, dict[str, Any]]] = [
        (
            GROUP_ALL,
            {
                "type": "stream.batch",
                "group": GROUP_ALL,
                "seqs": seqs,
                "text": batch_frame(lean),
                "committed_at": committed_at,
            },
        )
    ]
    alert_idx = [i for i, e in enumerate(encoded) if e.alert]
    if alert_idx:
        alert_batch = {
            "type": "stream.batch",
            "group": GROUP_ALERTS,
            "seqs": [seqs[i] for i in alert_idx],
            "text": batch_frame(texts[i] for i in alert_idx),
            "committed_at": committed_at,
        }
        messages.append((GROUP_ALERTS, alert_batch))
    by_mint: dict[str, list[int]] = {}
    for i, e in enumerate(encoded):
        by_mint.setdefault(e.mint, []).append(i)
    for mint, idx in by_mint.items():
        token_batch = {
            "type": "stream.token",
            "group": token_group(mint),
            "mint": mint,
            "refresh": first,
            "seqs": [seqs[i] for i in idx],
            "alerts": [encoded[i].alert for i in idx],
            "events": [texts[i] for i in idx],
            "committed_at": committed_at,
        }
        messages.append((token_group(mint), token_batch))
    # Sent after every token.<mint> message has gone out: per-token subscribers flush the refresh's
    # frame on it (in seq order), instead of guessing from a timer when the last mint has come.
    messages.append(
        (GROUP_REFRESHED, {"type": "stream.refreshed", "group": GROUP_REFRESHED, "refresh": first})
    )
    return messages


def group_sender(concurrency: int) -> Callable[[str, dict[str, Any]], Coroutine[Any, Any, None]]:
    """A coroutine function sending one message to one channel-layer group, at most `concurrency`
    at once (call it inside the loop that sends); a failed send is logged, never raised, so one
    group never stops the others. The token events and the live candles share it."""
    layer = get_channel_layer()
    semaphore = asyncio.Semaphore(concurrency)

    async def send(group: str, message: dict[str, Any]) -> None:
        if layer is None:
            return
        async with semaphore:
            try:
                await layer.group_send(group, message)
            except Exception:
                log.exception("group_send to %s failed", group)

    return send


async def with_members(messages: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The messages whose group has a member, asked in one pipelined round trip per Redis host.

    A refresh has a message per token group (token.<mint>, candles.<mint>), and most of those
    groups have no member: RedisChannelLayer.group_send still makes two round trips for each (its
    expiry sweep and member list), ~0.35 ms of the worker's CPU apiece, 0.3 s a refresh for 830
    groups — while the web processes fan the same refresh out on the same cores. Skipping a group
    that had no member when asked loses nothing: its events are logged before this (publish_changes),
    and a connection joining a group afterwards reads the log from its snapshot's seq on. Layers
    other than RedisChannelLayer (pub/sub: one PUBLISH per group) and any failure here: all sent.
    """
    layer = get_channel_layer()
    if not messages or not all(
        hasattr(layer, name) for name in ("_group_key", "consistent_hash", "connection")
    ):
        return messages
    by_host: dict[int, list[str]] = {}
    for group, _ in messages:
        by_host.setdefault(layer.consistent_hash(group), []).append(group)
    found: set[str] = set()
    try:
        for host, groups in by_host.items():
            pipe = layer.connection(host).pipeline(transaction=False)
            for group in groups:
                pipe.zcard(layer._group_key(group))
            found.update(group for group, n in zip(groups, await pipe.execute(), strict=True) if n)
    except Exception:
        log.warning("group members unreadable; sending to every group", exc_info=True)
        return messages
    return [(group, message) for group, message in messages if group in found]


async def _send_groups(messages: list[tuple[str, dict[str, Any]]]) -> None:
    if get_channel_layer() is None:
        return
    send = group_sender(TOKEN_GROUP_CONCURRENCY)
    # tokens.all first: it is the largest audience; the per-token groups with members follow
    # concurrently (tokens.alerts always), then the end marker of the refresh (messages[-1]).
    await send(*messages[0])
    rest = [(group, message) for group, message in messages[1:-1] if group != GROUP_ALERTS]
    rest = [m for m in messages[1:-1] if m[0] == GROUP_ALERTS] + await with_members(rest)
    await asyncio.gather(*(send(group, message) for group, message in rest))
    await send(*messages[-1])


class _FanOutLoop:
    """A private event loop in a daemon thread, reused by every publish of this process.

    The channel layer keeps its Redis pools per event loop, so one long-lived loop keeps one pool
    (instead of a new loop, pool and connections per refresh with async_to_sync). It is recreated
    after a fork (Celery's prefork children) and whenever its thread has died.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if self._loop is None or self._pid != os.getpid() or not alive:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="realtime-fan-out", daemon=True)
                thread.start()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return self._loop

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._ensure())
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise


_fan_out_loop = _FanOutLoop()
