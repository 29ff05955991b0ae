"""Live candles over /ws/tokens/: the `candles` subscription of a connection and the worker's fan-out.

Worker side: after each snapshot's candle write, one channel-layer message per token whose open
candles changed, to the group `candles.<mint>`, carrying that token's open candle of every interval
as stored. Web side: a connection's CandleSubscriptions (at most MAX_CANDLE_TOKENS tokens, one
interval each) joins those groups through the process's relay, answers a subscribe with a `candles`
frame (the newest CANDLES_ON_SUBSCRIBE from the database) and sends a `candle` frame whenever the
open candle of a subscribed (token, interval) differs from the last one it sent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from asgiref.sync import sync_to_async

from realtime import protocol
from realtime.protocol import ProtocolError
from realtime.relay import group_relay
from tokens.history.candles import INTERVAL_NAMES, Bar, align
from tokens.ingest.parsers.parsing import is_mint
from tokens.records import Snapshot

log = logging.getLogger(__name__)

MAX_CANDLE_TOKENS = 20
CANDLES_ON_SUBSCRIBE = 300
DEFAULT_INTERVAL = "1m"
GROUP_CONCURRENCY = 16
FAN_OUT_TIMEOUT_SECONDS = 15.0


def candle_group(mint: str) -> str:
    return f"candles.{mint}"


# --- worker side ------------------------------------------------------------------------------------


def changed_mints(previous: Snapshot | None, current: Snapshot) -> set[str]:
    """Mints whose open candles may have changed: a new 1-minute candle opened, or a stored figure moved (pure)."""
    if previous is None or align(previous.generated_at, "1m") != align(current.generated_at, "1m"):
        return set(current.tokens)
    out = set()
    for mint, token in current.tokens.items():
        before = previous.tokens.get(mint)
        if before is None or (before.price_usd, before.liquidity_usd, before.market_cap_usd) != (
            token.price_usd,
            token.liquidity_usd,
            token.market_cap_usd,
        ):
            out.add(mint)
    return out


def candle_messages(stored: list[Bar], mints: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """One message per changed mint: its open candle of every interval (pure)."""
    by_mint: dict[str, dict[str, dict]] = {}
    for bar in stored:
        if bar.mint in mints:
            by_mint.setdefault(bar.mint, {})[bar.interval] = bar.as_dict()
    return [
        (
            candle_group(mint),
            {"type": "stream.candle", "group": candle_group(mint), "mint": mint, "open": opens},
        )
        for mint, opens in by_mint.items()
    ]


def publish_open_candles(previous: Snapshot | None, current: Snapshot, stored: list[Bar]) -> int:
    """Fan out the changed open candles (sync; the merge task calls it); returns the groups sent to
    (those with a member: realtime.publish.with_members)."""
    from realtime.publish import _fan_out_loop  # the process's fan-out loop and its channel-layer pool

    messages = candle_messages(stored, changed_mints(previous, current))
    if not messages:
        return 0
    return _fan_out_loop.run(_send(messages), FAN_OUT_TIMEOUT_SECONDS)


async def _send(messages: list[tuple[str, dict[str, Any]]]) -> int:
    from realtime.publish import group_sender, with_members

    send = group_sender(GROUP_CONCURRENCY)
    wanted = await with_members(messages)
    await asyncio.gather(*(send(g, m) for g, m in wanted))
    return len(wanted)


# --- web side -------------------------------------------------------------------------------------


def is_candles_command(content: Any) -> bool:
    return (
        isinstance(content, dict)
        and content.get("action") in ("subscribe", "unsubscribe")
        and "candles" in content
    )


def parse_candles(content: dict[str, Any]) -> tuple[str, list[str], str]:
    """(action, mints, interval) of a candles subscribe/unsubscribe, or ProtocolError."""
    spec = content["candles"]
    if not isinstance(spec, dict):
        raise ProtocolError(protocol.BAD_REQUEST, "'candles' must be an object with 'tokens' and 'interval'.")
    tokens = spec.get("tokens")
    if not isinstance(tokens, list) or not tokens:
        raise ProtocolError(
            protocol.BAD_REQUEST, "'candles.tokens' must be a non-empty list of mint addresses."
        )
    if len(tokens) > MAX_CANDLE_TOKENS:
        raise ProtocolError(
            protocol.TOO_MANY_SUBSCRIPTIONS,
            f"At most {MAX_CANDLE_TOKENS} candle subscriptions per connection.",
        )
    bad = [t for t in tokens if not is_mint(t)]
    if bad:
        shown = ", ".join(repr(t)[:60] for t in bad[:3])
        raise ProtocolError(protocol.INVALID_MINT, f"Not a base58 32-byte mint address: {shown}.")
    interval = spec.get("interval", DEFAULT_INTERVAL)
    if interval not in INTERVAL_NAMES:
        raise ProtocolError(
            protocol.BAD_REQUEST,
            f"'candles.interval' {str(interval)[:20]!r} is not valid; choose one of {', '.join(INTERVAL_NAMES)}.",
        )
    return content["action"], list(dict.fromkeys(tokens)), interval


def candles_frame(mint: str, interval: str, candles: list[dict]) -> str:
    return orjson.dumps(
        {"type": "candles", "token_address": mint, "interval": interval, "candles": candles}
    ).decode()


def candle_frame(mint: str, interval: str, candle: dict) -> str:
    return orjson.dumps(
        {"type": "candle", "token_address": mint, "interval": interval, "candle": candle}
    ).decode()


def _newest(mint: str, interval: str) -> list[dict]:
    from tokens.history.store import newest

    bars, _ = newest(mint, interval, CANDLES_ON_SUBSCRIBE)
    return [b.as_dict() for b in bars]


class CandleSubscriptions:
    """One connection's candle subscriptions; a member of the relay's `candles.<mint>` groups."""

    def __init__(self, send_text: Any) -> None:
        self.send_text = send_text
        self.intervals: dict[str, str] = {}  # mint -> interval
        self.last: dict[str, dict] = {}  # mint -> the open candle last sent
        self.held: list[dict[str, Any]] | None = None
        self.closed = False

    async def handle(self, content: dict[str, Any]) -> None:
        action, mints, interval = parse_candles(content)
        relay = group_relay()
        if action == "unsubscribe":
            for mint in mints:
                if self.intervals.get(mint) == interval:
                    del self.intervals[mint]
                    self.last.pop(mint, None)
                    relay.leave(candle_group(mint), self)
            return
        new = [m for m in mints if m not in self.intervals]
        if len(self.intervals) + len(new) > MAX_CANDLE_TOKENS:
            raise ProtocolError(
                protocol.TOO_MANY_SUBSCRIPTIONS,
                f"At most {MAX_CANDLE_TOKENS} candle subscriptions per connection "
                f"({len(self.intervals)} held, {len(new)} more asked).",
            )
        self.held = []
        try:
            for mint in mints:
                self.intervals[mint] = interval
                await relay.join(candle_group(mint), self)
                candles = await sync_to_async(_newest, thread_sensitive=False)(mint, interval)
                if candles:
                    self.last[mint] = candles[-1]
                else:
                    self.last.pop(mint, None)
                await self.send_text(candles_frame(mint, interval, candles))
        finally:
            held, self.held = self.held, None
            for message in held:
                await self._deliver_now(message)

    def close(self) -> None:
        self.closed = True
        relay = group_relay()
        for mint in list(self.intervals):
            relay.leave(candle_group(mint), self)
        self.intervals.clear()

    async def deliver(self, message: dict[str, Any]) -> None:
        """Called by the relay for every `candles.<mint>` message of a group this connection is in."""
        if self.closed:
            return
        if self.held is not None:
            self.held.append(message)
            return
        await self._deliver_now(message)

    async def _deliver_now(self, message: dict[str, Any]) -> None:
        mint = message.get("mint")
        interval = self.intervals.get(mint)
        if interval is None:
            return
        candle = message["open"].get(interval)
        if candle is None or candle == self.last.get(mint):
            return
        last = self.last.get(mint)
        if last is not None and candle["t"] < last["t"]:
            return  # older than what the client holds
        self.last[mint] = candle
        await self.send_text(candle_frame(mint, interval, candle))
