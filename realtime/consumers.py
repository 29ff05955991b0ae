"""TokenStreamConsumer: the /ws/tokens/ WebSocket (docs/api.md §4) — subscriptions, batches, resume.

Group messages reach a consumer through its process's GroupRelay (realtime/relay.py), which calls
`deliver()`; the consumer has no channel of its own. Delivery rule (never the same event twice):
while subscribed to `all` a connection is a member of tokens.all only; otherwise of tokens.alerts
(if asked) and token.<mint> per subscribed mint, and alert events arriving through token.<mint>
are skipped when it also takes `alerts`. Frames of tokens.all / tokens.alerts are sent exactly as
the publisher serialised them; a refresh's per-token messages are joined into one frame on the
refresh's end marker (tokens.refreshed). While a client command runs (a subscribe's snapshot, a
resume's replay) live deliveries are held, then sent, minus the events already covered.

Exact subscribe: the `snapshot` frame's seq S is the mark of the very snapshot its tokens come
from (eventlog.snapshot_seq), not the counter at some moment near it. The groups are joined
before the snapshot is read; afterwards the log is read from S + 1 to its end (the events logged
before the join were fanned out without this connection), and each subscription keeps a floor:
live events at or below it (held meanwhile, or in flight) are dropped. So the batches of a
subscription carry exactly the events with seq > S, from S + 1 on. A subscribe that Redis fails
(`unavailable`) sent no snapshot, so its subscriptions get no batch until a retry's snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from realtime import eventlog, protocol
from realtime.backpressure import write_backlog
from realtime.candle_feed import CandleSubscriptions, is_candles_command
from realtime.protocol import (
    GROUP_ALERTS,
    GROUP_ALL,
    GROUP_REFRESHED,
    Command,
    ProtocolError,
    token_group,
)
from realtime.raw_frames import FrameWriter, frame_writer, text_frame
from realtime.relay import group_relay
from realtime.shared_reads import SharedPerTick
from realtime.snapshot_frames import snapshot_tokens_json
from tokens.infra import metrics
from tokens.infra.log_throttle import ThrottledWarning

log = logging.getLogger(__name__)
_redis_errors = ThrottledWarning(log, interval=10.0)

CLOSE_TOO_SLOW = 4008
# A connection whose unsent bytes exceed this when the next frame is due is too slow.
SLOW_CLIENT_BACKLOG_BYTES = 1024 * 1024
# Replay pages wait until the backlog is below this, for at most REPLAY_DRAIN_SECONDS.
REPLAY_LOW_WATER_BYTES = 256 * 1024
REPLAY_DRAIN_SECONDS = 10.0
REPLAY_PAGE = 500
SEND_TIMEOUT_SECONDS = 5.0  # for servers whose send() waits for the socket
# A refresh's per-token frame goes out on its end marker (tokens.refreshed); this is the fallback.
TOKEN_BATCH_WINDOW_SECONDS = 1.0
# The merge flips the snapshot pointer a moment before it logs that snapshot's events (and mark).
MARK_WAIT_SECONDS = 3.0
MARK_POLL_SECONDS = 0.01
# The floor of a subscription whose subscribe failed (Redis): no live event gets past it until a
# subscribe that succeeds sets the floor to its snapshot's seq.
NO_SNAPSHOT_YET = 2**63
_MARKS_CACHED = 64
_marks: dict[int, int] = {}  # snapshot id -> seq, per process (a mark never changes)
_mark_waits: dict[tuple[int, int], asyncio.Future[int]] = {}  # (event loop, snapshot id) -> its wait


class TokenStreamConsumer(AsyncJsonWebsocketConsumer):
    # Not a configured alias: no per-connection channel (and receive loop); see GroupRelay.
    channel_layer_alias = "realtime.relay-only"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.all = False
        self.alerts = False
        self.tokens: set[str] = set()
        self.joined: set[str] = set()
        self.replayed_upto = 0  # live events with seq <= this were sent by a resume
        # Per subscription: live events with seq <= its floor are covered (snapshot, catch-up).
        self.floor_all = 0
        self.floor_alerts = 0
        self.floor_token: dict[str, int] = {}
        # per-token events waiting for their batch frame: (seq, mint, alert, text)
        self.pending: list[tuple[int, str, bool, str]] = []
        self.pending_refresh: int | None = None
        self.pending_committed_at: float | None = None
        self.flush_timer: asyncio.TimerHandle | None = None
        self.held: list[dict[str, Any]] | None = None  # live deliveries held during a command
        self.accepted = False
        self.closing = False
        self.too_slow = False
        self.candles = CandleSubscriptions(self.send_text)
        self.write_frame: FrameWriter | None = None  # uvicorn: pre-built frames, see realtime/raw_frames

    async def connect(self) -> None:
        await self.accept()
        self.accepted = True
        self.write_frame = frame_writer(self.base_send)
        metrics.ws_connected()
        log.info("ws connect client=%s", _client(self.scope))
        try:
            seq = await eventlog.current_seq()
        except RedisError:
            log.warning("welcome without seq: Redis unavailable")
            seq = 0
        await self.send_text(protocol.welcome_frame(seq))

    async def disconnect(self, code: int) -> None:
        self.closing = True
        self._drop_pending()
        self._leave_groups(set(self.joined))
        self.candles.close()
        if self.accepted:
            close = CLOSE_TOO_SLOW if self.too_slow else code
            metrics.ws_disconnected(close)
            log.info(
                "ws disconnect client=%s code=%s reason=%s",
                _client(self.scope),
                code,
                metrics.ws_close_reason(close),
            )

    async def dispatch(self, message: dict[str, Any]) -> None:
        # As AsyncConsumer.dispatch minus aclose_old_connections(): this consumer never touches
        # the database, and a thread hop per message per client would serialise the fan-out.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        return orjson.loads(text_data)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return orjson.dumps(content).decode()

    # --- client -> server ---------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if self.closing:
            return
        self.held = []
        try:
            content = await self._decode(text_data, bytes_data)
            if is_candles_command(content):  # the candles subscription (realtime/candle_feed.py)
                await self.candles.handle(content)
            else:
                await self._handle(protocol.parse_command(content))
        except ProtocolError as exc:
            await self.send_text(protocol.error_frame(exc.code, exc.message))
        except RedisError as exc:  # one line per interval: a traceback per client would melt the loop
            _redis_errors.warn("Redis error while handling a client message: %r", exc)
            await self.send_text(
                protocol.error_frame(protocol.UNAVAILABLE, "Temporarily unavailable; retry.")
            )
        finally:
            await self._release_held()

    async def _release_held(self) -> None:
        """Send what arrived during the command, in order (arrivals meanwhile queue behind)."""
        while self.held:
            await self._deliver_now(self.held.pop(0))
        self.held = None

    async def _decode(self, text_data: str | None, bytes_data: bytes | None) -> Any:
        if text_data is None:
            raise ProtocolError(protocol.BAD_REQUEST, "Binary frames are not supported; send JSON text.")
        if len(text_data) > protocol.MAX_FRAME_BYTES or len(text_data.encode()) > protocol.MAX_FRAME_BYTES:
            raise ProtocolError(protocol.MESSAGE_TOO_LARGE, "Frames are limited to 64 KiB.")
        try:
            content = await self.decode_json(text_data)
        except orjson.JSONDecodeError:
            raise ProtocolError(protocol.INVALID_JSON, "Malformed JSON.") from None
        return content

    async def _handle(self, command: Command) -> None:
        if command.action == "ping":
            await self.send_text(protocol.PONG_FRAME)
        elif command.action == "resume":
            await self._resume(command.since)
        elif command.action == "subscribe":
            await self._subscribe(command)
        else:
            self.all = self.all and not command.all
            self.alerts = self.alerts and not command.alerts
            self.tokens.difference_update(command.tokens)
            self.pending = [p for p in self.pending if p[1] in self.tokens]  # none after unsubscribe
            await self._sync_groups()

    async def _subscribe(self, command: Command) -> None:
        new = [m for m in command.tokens if m not in self.tokens]
        if len(self.tokens) + len(new) > protocol.MAX_TOKEN_SUBSCRIPTIONS:
            raise ProtocolError(
                protocol.TOO_MANY_SUBSCRIPTIONS,
                f"At most {protocol.MAX_TOKEN_SUBSCRIPTIONS} token subscriptions per connection "
                f"({len(self.tokens)} held, {len(new)} more asked).",
            )
        if command.all:
            self._drop_pending()  # the all stream, from the snapshot on, covers every event
        elif command.alerts and not self.alerts:  # alerts now come through tokens.alerts only
            self.pending = [p for p in self.pending if not p[2]]
        self.all |= command.all
        self.alerts |= command.alerts
        self.tokens.update(new)
        try:
            await self._snapshot_and_catch_up(command)
        except RedisError:
            # No snapshot went out: the subscription's live events wait for the one a retry sends.
            self._raise_floors(command, NO_SNAPSHOT_YET)
            raise

    async def _snapshot_and_catch_up(self, command: Command) -> None:
        await self._sync_groups()  # joined before the snapshot is read: nothing after it is missed
        if command.all:  # the subscribes of one tick share the read (realtime/shared_reads.py)
            snapshot_id, tokens_json = await _all_tokens_json()
        else:
            snapshot_id, tokens_json = await sync_to_async(snapshot_tokens_json, thread_sensitive=False)(
                list(command.tokens)
            )
        seq = await _snapshot_seq(snapshot_id)
        self._raise_floors(command, seq)
        try:  # read before the snapshot goes out, so the client's next message finds this done
            pages, last = await self._catch_up(command, seq)
        except eventlog.ResyncRequired as exc:
            await self.send_text(protocol.snapshot_frame(seq, tokens_json))
            await self.send_text(protocol.resync_frame(exc.seq))
            return
        if command.all:  # every `all` subscriber of this snapshot gets the same frame
            await self.send_text(*_snapshot_frame(seq, tokens_json))
        else:
            await self.send_text(protocol.snapshot_frame(seq, tokens_json))
        for texts in pages:
            await self.send_text(protocol.batch_frame(texts))
        self._raise_floors(command, last)

    def _raise_floors(self, command: Command, seq: int) -> None:
        if command.all:
            self.floor_all = seq
        if command.alerts:
            self.floor_alerts = seq
        for mint in command.tokens:
            self.floor_token[mint] = seq

    async def _catch_up(self, command: Command, seq: int) -> tuple[list[list[str]], int]:
        """The logged events of this subscribe with seq > `seq` (those fanned out before the
        groups were joined, or meanwhile), in frames of REPLAY_PAGE, and the last seq read."""
        if self.all and not command.all:
            return [], seq  # the all stream carries these tokens' events already
        tokens = set(command.tokens)

        def wanted(entry: eventlog.LogEntry) -> bool:
            if command.all or (command.alerts and entry.alert):
                return True
            return entry.mint in tokens and not (entry.alert and self.alerts)

        pages: list[list[str]] = []
        last = seq
        async for entries in eventlog.replay(seq, REPLAY_PAGE):
            texts = [self._text_for(e) for e in entries if wanted(e)]
            if texts:
                pages.append(texts)
            last = entries[-1].seq
        return pages, last

    def _text_for(self, entry: eventlog.LogEntry) -> str:
        """A logged event as this connection gets it: `all` batches leave an alert's TOKEN out."""
        return entry.text if self.all else entry.full_text

    def _wanted_groups(self) -> set[str]:
        if self.all:
            return {GROUP_ALL}
        wanted = {token_group(m) for m in self.tokens}
        if self.tokens:
            wanted.add(GROUP_REFRESHED)
        if self.alerts:
            wanted.add(GROUP_ALERTS)
        return wanted

    async def _sync_groups(self) -> None:
        wanted = self._wanted_groups()
        relay = group_relay()
        for group in sorted(wanted - self.joined):
            await relay.join(group, self)
            self.joined.add(group)
        self._leave_groups(self.joined - wanted)

    def _leave_groups(self, groups: set[str]) -> None:
        relay = group_relay()
        for group in groups:
            relay.leave(group, self)
            self.joined.discard(group)

    # --- resume ---------------------------------------------------------------------------------

    def _wants(self, entry: eventlog.LogEntry) -> bool:
        return self.all or (self.alerts and entry.alert) or entry.mint in self.tokens

    async def _resume(self, since: int) -> None:
        """Replay this connection's events with seq > since from the log, in order. Live deliveries
        are held meanwhile (see receive); afterwards live events already replayed are dropped."""
        self._drop_pending()  # all of them are in the log, so the replay covers them
        self.replayed_upto = max(self.replayed_upto, since)  # the client has those
        try:
            async for entries in eventlog.replay(since, REPLAY_PAGE):
                texts = [self._text_for(e) for e in entries if self._wants(e)]
                if texts and not await self._send_replay(protocol.batch_frame(texts)):
                    return
                self.replayed_upto = max(self.replayed_upto, entries[-1].seq)
        except eventlog.ResyncRequired as exc:
            await self.send_text(protocol.resync_frame(exc.seq))

    async def _send_replay(self, text: str) -> bool:
        """Send one replay page once the connection has drained below the low-water mark."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLAY_DRAIN_SECONDS
        while (backlog := write_backlog(self.base_send) or 0) > REPLAY_LOW_WATER_BYTES:
            if loop.time() > deadline or self.closing:
                await self._close_slow(backlog)
                return False
            await asyncio.sleep(0.05)
        await self.send_text(text)
        return not self.closing

    # --- group messages (server -> client) -------------------------------------------------------

    async def deliver(self, message: dict[str, Any]) -> None:
        """Called by the relay for every message of a group this connection is in."""
        if self.closing:
            return
        if self.held is not None:
            self.held.append(message)
            return
        await self._deliver_now(message)

    def try_deliver(self, message: dict[str, Any]) -> bool:
        """The relay's fast path, nothing awaited: a tokens.all batch that needs no filtering (seqs
        above the floor), to a connection with nothing held, written at once as the shared frame.
        False: the relay awaits deliver() instead, which also does everything declined here."""
        if (
            self.write_frame is None
            or self.held is not None
            or self.closing
            or not self.all
            or message["type"] != "stream.batch"
            or message["group"] != GROUP_ALL
        ):
            return False
        seqs = message["seqs"]
        if seqs and seqs[0] <= max(self.floor_all, self.replayed_upto):
            return False
        backlog = write_backlog(self.base_send)
        if (
            backlog is None
            or backlog > SLOW_CLIENT_BACKLOG_BYTES
            or not self.write_frame(_shared_frame(message))
        ):
            return False
        metrics.ws_batch_sent(message.get("committed_at"))
        return True

    async def _deliver_now(self, message: dict[str, Any]) -> None:
        if message["type"] == "stream.batch":
            await self.stream_batch(message)
        elif message["type"] == "stream.token":
            await self.stream_token(message)
        elif message["type"] == "stream.refreshed" and self._pending_of(message["refresh"]):
            await self._flush_pending()

    async def stream_batch(self, message: dict[str, Any]) -> None:
        """A refresh's batch for tokens.all or tokens.alerts, already serialised."""
        if self.closing:
            return
        if message["group"] == GROUP_ALL:
            if not self.all:
                return
            floor = max(self.floor_all, self.replayed_upto)
        elif self.all or not self.alerts:
            return
        else:
            floor = max(self.floor_alerts, self.replayed_upto)
        seqs = message["seqs"]
        text = message["text"]
        if seqs and seqs[0] <= floor:  # rare: right after a subscribe or a resume
            events = [e for e in orjson.loads(text)["events"] if e["seq"] > floor]
            if not events:
                return
            await self.send_text(protocol.batch_frame(orjson.dumps(e).decode() for e in events))
        else:
            await self.send_text(text, _shared_frame(message) if self.write_frame else None)
        metrics.ws_fanout(message.get("committed_at"))

    async def stream_token(self, message: dict[str, Any]) -> None:
        """One mint's events of a refresh; gathered with the refresh's other mints into one frame."""
        if self.closing or self.all or message["mint"] not in self.tokens:
            return
        if self.pending and message["refresh"] != self.pending_refresh:
            await self._flush_pending()
        mint = message["mint"]
        floor = max(self.floor_token.get(mint, 0), self.replayed_upto)
        for seq, alert, text in zip(message["seqs"], message["alerts"], message["events"], strict=True):
            if (alert and self.alerts) or seq <= floor:
                continue
            self.pending.append((seq, mint, alert, text))
        self.pending_refresh = message["refresh"]
        self.pending_committed_at = message.get("committed_at")
        if self.pending and self.flush_timer is None:
            loop = asyncio.get_running_loop()
            self.flush_timer = loop.call_later(TOKEN_BATCH_WINDOW_SECONDS, self._flush_soon)

    def _pending_of(self, refresh: int) -> bool:
        return bool(self.pending) and self.pending_refresh == refresh

    def _flush_soon(self) -> None:
        self.flush_timer = None
        self._flush_task = asyncio.ensure_future(self._flush_pending())

    async def _flush_pending(self) -> None:
        events = sorted(
            p for p in self.pending if p[0] > max(self.floor_token.get(p[1], 0), self.replayed_upto)
        )
        self._drop_pending()
        if events and not self.closing:
            await self.send_text(protocol.batch_frame(p[3] for p in events))
            metrics.ws_fanout(self.pending_committed_at)

    def _drop_pending(self) -> None:
        if self.flush_timer is not None:
            self.flush_timer.cancel()
            self.flush_timer = None
        self.pending = []

    # --- sending, with the slow-client policy ------------------------------------------------------

    async def send_text(self, text: str, frame: bytes | None = None) -> None:
        """Send one frame unless the connection is closing; a client whose unsent backlog has
        grown past SLOW_CLIENT_BACKLOG_BYTES (or whose send blocks) is closed with 4008. `frame`:
        the text's frame already built (realtime/raw_frames.py), shared by many connections."""
        if self.closing or self._send_now(text, frame):
            return
        backlog = write_backlog(self.base_send)
        if backlog is not None:  # daphne, uvicorn: send() only queues; the backlog tells a slow client
            if backlog > SLOW_CLIENT_BACKLOG_BYTES:
                await self._close_slow(backlog)
                return
            await self.send(text_data=text)
        else:
            try:
                async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                    await self.send(text_data=text)
            except TimeoutError:
                await self._close_slow(None)
                return
        metrics.ws_sent(text)

    def _send_now(self, text: str, frame: bytes | None) -> bool:
        """Write the frame straight to the transport (uvicorn, realtime/raw_frames.py) when that is
        all a send would do: open, under the backlog limit, the transport not paused. False: the
        caller sends through ASGI, or closes the connection as too slow."""
        write = self.write_frame
        if write is None or self.closing:
            return False
        backlog = write_backlog(self.base_send)
        if backlog is None or backlog > SLOW_CLIENT_BACKLOG_BYTES:
            return False
        if not write(frame if frame is not None else text_frame(text)):
            return False
        metrics.ws_sent(text)
        return True

    async def _close_slow(self, backlog: int | None) -> None:
        if self.closing:
            return
        self.closing = True
        self.too_slow = True
        self._drop_pending()
        log.warning("closing slow WebSocket client %s (backlog=%s bytes)", _client(self.scope), backlog)
        self._leave_groups(set(self.joined))
        await self.close(code=CLOSE_TOO_SLOW, reason="client too slow: outgoing backlog limit reached")


async def _snapshot_seq(snapshot_id: int | None) -> int:
    """The seq snapshot `snapshot_id` reflects, waiting the moment its events take to be logged
    (one wait per process and snapshot, however many clients subscribe meanwhile). Without a
    snapshot, or a mark that never comes (its events could not be published), the current seq."""
    if snapshot_id is None:
        return await eventlog.current_seq()
    seq = _marks.get(snapshot_id)
    if seq is not None:
        return seq
    loop = asyncio.get_running_loop()
    key = (id(loop), snapshot_id)
    wait = _mark_waits.get(key)
    if wait is None:
        wait = _mark_waits[key] = asyncio.ensure_future(_wait_for_mark(snapshot_id))
        wait.add_done_callback(lambda _: _mark_waits.pop(key, None))
    return await asyncio.shield(wait)


async def _wait_for_mark(snapshot_id: int) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MARK_WAIT_SECONDS
    while (seq := await eventlog.snapshot_seq(snapshot_id)) is None:
        if loop.time() > deadline:
            log.warning("snapshot %d has no seq mark; its snapshot frame uses the current seq", snapshot_id)
            return await eventlog.current_seq()
        await asyncio.sleep(MARK_POLL_SECONDS)
    if len(_marks) >= _MARKS_CACHED:
        _marks.pop(next(iter(_marks)))
    _marks[snapshot_id] = seq
    return seq


async def _read_all_tokens_json() -> tuple[int | None, str]:
    return await sync_to_async(snapshot_tokens_json, thread_sensitive=False)(None)


_all_tokens_json = SharedPerTick(_read_all_tokens_json)


def _shared_frame(message: dict[str, Any]) -> bytes:
    """The frame of a group message's text, built by its first recipient in this process (the relay
    hands every local member the same message)."""
    frame = message.get("frame")
    if frame is None:
        frame = message["frame"] = text_frame(message["text"])
    return frame


_SNAPSHOT_FRAMES_KEPT = 2
# (seq, the TOKEN list's JSON, the frame's text, its bytes), newest last
_snapshot_frames: list[tuple[int, str, str, bytes]] = []


def _snapshot_frame(seq: int, tokens_json: str) -> tuple[str, bytes]:
    """The `snapshot` frame of an `all` subscribe (text, bytes). Its TOKEN list is one str per
    snapshot and process (realtime/snapshot_frames.py), so subscribers to the same snapshot at the
    same seq share the frame, built once (a reconnect storm's subscribes cost no copy each)."""
    for cached_seq, cached_json, text, frame in _snapshot_frames:
        if cached_seq == seq and cached_json is tokens_json:
            return text, frame
    text = protocol.snapshot_frame(seq, tokens_json)
    frame = text_frame(text)
    del _snapshot_frames[: max(0, len(_snapshot_frames) - _SNAPSHOT_FRAMES_KEPT + 1)]
    _snapshot_frames.append((seq, tokens_json, text, frame))
    return text, frame


def _client(scope: dict[str, Any]) -> str:
    """host:port of the peer (after --proxy-headers), for logs only."""
    client = scope.get("client") or ("?", "?")
    return f"{client[0]}:{client[1]}"
