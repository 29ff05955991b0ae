"""Log formatters: LOG_FORMAT=json writes one JSON object per line, with the `key=value` pairs of
the service's messages lifted into fields; the default text format stays human-readable.

The service logs events as `log.info("refresh end source=%s calls=%d …", …)`; the JSON formatter
turns that into `{"event": "refresh end", "source": "dexscreener", "calls": 12, …}` next to the
time, level, logger, process id and the full message, so log pipelines can filter on fields
without a second logging style in the code. Named log_format (not logging) so it never shadows
the standard library.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import orjson

_FIELD = re.compile(r"(?<![^\s,(])([a-z][a-z0-9_]*)=(\S*)")
_RESERVED = frozenset({"time", "level", "logger", "message", "event", "pid", "exc_info", "stack_info"})
# Attributes every LogRecord has; anything else was passed with `extra=` and becomes a field.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _number(text: str) -> Any:
    """An int or float when the text is one, else the text (trailing commas and stops dropped)."""
    text = text.rstrip(",;")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text) if text.lower() not in ("nan", "inf", "-inf", "infinity") else text
    except ValueError:
        return text


def message_fields(message: str) -> tuple[str, dict[str, Any]]:
    """("refresh end", {"source": "x", "calls": 3}) from "refresh end source=x calls=3"."""
    first = _FIELD.search(message)
    if first is None:
        return message, {}
    event = message[: first.start()].strip()
    fields = {key: _number(value) for key, value in _FIELD.findall(message)}
    return event, fields


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ms), level, logger, pid, event, message, fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event, fields = message_fields(message)
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "event": event,
            "message": message,
        }
        for key, value in fields.items():
            if key not in _RESERVED:
                payload.setdefault(key, value)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in _RESERVED and not key.startswith("_"):
                payload.setdefault(key, value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(payload, default=str).decode()
