"""LOG_FORMAT=json: one JSON object per record, with the message's key=value pairs as fields."""

from __future__ import annotations

import logging

import orjson
import pytest

from tokens.infra.log_format import JsonFormatter, message_fields

pytestmark = pytest.mark.pure


def test_message_fields_split_event_and_typed_values():
    event, fields = message_fields("refresh end source=jupiter calls=3 ok=2 errors=0 seconds=1.25")
    assert event == "refresh end"
    assert fields == {"source": "jupiter", "calls": 3, "ok": 2, "errors": 0, "seconds": 1.25}
    assert message_fields("plain words only") == ("plain words only", {})
    assert message_fields("GET /x?a=b status=200")[1] == {"status": 200}  # query strings are not fields


def _record(msg: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("tokens.ingest.refresh", logging.WARNING, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_line_has_time_level_logger_event_and_fields():
    line = JsonFormatter().format(_record("upstream error source=%s status=%s", "geckoterminal", 503))
    data = orjson.loads(line)
    assert "\n" not in line
    assert data["level"] == "WARNING" and data["logger"] == "tokens.ingest.refresh"
    assert data["event"] == "upstream error" and data["source"] == "geckoterminal" and data["status"] == 503
    assert data["message"] == "upstream error source=geckoterminal status=503"
    assert data["time"].endswith("+00:00") and isinstance(data["pid"], int)


def test_reserved_names_are_not_overwritten_and_extras_are_kept():
    data = orjson.loads(JsonFormatter().format(_record("x level=evil client=%s", "1.2.3.4", request_id="r1")))
    assert data["level"] == "WARNING"
    assert data["client"] == "1.2.3.4" and data["request_id"] == "r1"


def test_exceptions_stay_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        line = JsonFormatter().format(_record("failed", exc_info=sys.exc_info()))
    assert "\n" not in line
    assert "ValueError: boom" in orjson.loads(line)["exc"]
