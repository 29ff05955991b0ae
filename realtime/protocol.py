"""Validates client WebSocket messages into commands and builds the server's frames (docs/api.md §4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from tokens.ingest.parsers.parsing import is_mint

MAX_FRAME_BYTES = 64 * 1024
MAX_TOKEN_SUBSCRIPTIONS = 500
ACTIONS = ("subscribe", "unsubscribe", "resume", "ping")

GROUP_ALL = "tokens.all"
GROUP_ALERTS = "tokens.alerts"
# After a refresh's token.<mint> messages (sent concurrently, so in any order): its end marker.
GROUP_REFRESHED = "tokens.refreshed"

# Error codes of {"type": "error", "code": …}.
BAD_REQUEST = "bad_request"
INVALID_JSON = "invalid_json"
UNKNOWN_ACTION = "unknown_action"
INVALID_MINT = "invalid_mint"
TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
MESSAGE_TOO_LARGE = "message_too_large"
UNAVAILABLE = "unavailable"


class ProtocolError(Exception):
    """A client message the server refuses; becomes an `error` frame, the connection stays open."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Command:
    action: str
    all: bool = False
    alerts: bool = False
    tokens: tuple[str, ...] = ()
    since: int = 0


def token_group(mint: str) -> str:
    return f"token.{mint}"


def parse_command(content: Any) -> Command:
    """One decoded client message -> Command, or ProtocolError naming what is wrong."""
    if not isinstance(content, dict):
        raise ProtocolError(BAD_REQUEST, "A message must be a JSON object with an 'action'.")
    action = content.get("action")
    if action not in ACTIONS:
        raise ProtocolError(
            UNKNOWN_ACTION, f"Unknown action {action!r}; expected one of {', '.join(ACTIONS)}."
        )
    if action == "ping":
        return Command("ping")
    if action == "resume":
        since = content.get("since")
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            raise ProtocolError(BAD_REQUEST, "'since' must be a non-negative integer seq.")
        return Command("resume", since=since)
    return _parse_subscription(action, content)


def _flag(content: dict[str, Any], name: str) -> bool:
    value = content.get(name, False)
    if not isinstance(value, bool):
        raise ProtocolError(BAD_REQUEST, f"'{name}' must be true or false.")
    return value


def _parse_subscription(action: str, content: dict[str, Any]) -> Command:
    tokens = content.get("tokens", [])
    if not isinstance(tokens, list):
        raise ProtocolError(BAD_REQUEST, "'tokens' must be a list of mint addresses.")
    if len(tokens) > MAX_TOKEN_SUBSCRIPTIONS:
        raise ProtocolError(
            TOO_MANY_SUBSCRIPTIONS, f"At most {MAX_TOKEN_SUBSCRIPTIONS} token subscriptions per connection."
        )
    bad = [t for t in tokens if not is_mint(t)]
    if bad:
        shown = ", ".join(repr(t)[:60] for t in bad[:3])
        raise ProtocolError(INVALID_MINT, f"Not a base58 32-byte mint address: {shown}.")
    command = Command(
        action,
        all=_flag(content, "all"),
        alerts=_flag(content, "alerts"),
        tokens=tuple(dict.fromkeys(tokens)),
    )
    if not (command.all or command.alerts or command.tokens):
        raise ProtocolError(BAD_REQUEST, f"'{action}' needs 'tokens', \"all\": true or \"alerts\": true.")
    return command


# --- server frames --------------------------------------------------------------------------------


def welcome_frame(seq: int) -> str:
    return orjson.dumps({"type": "welcome", "seq": seq}).decode()


def error_frame(code: str, message: str) -> str:
    return orjson.dumps({"type": "error", "code": code, "message": message}).decode()


def resync_frame(seq: int) -> str:
    return orjson.dumps({"type": "resync_required", "seq": seq}).decode()


PONG_FRAME = '{"type":"pong"}'


def batch_frame(event_texts: Iterable[str]) -> str:
    """A `batch` frame from events already serialised (joined, never re-encoded)."""
    return '{"type":"batch","events":[' + ",".join(event_texts) + "]}"


def snapshot_frame(seq: int, tokens_json: str) -> str:
    return '{"type":"snapshot","seq":' + str(seq) + ',"tokens":' + tokens_json + "}"
