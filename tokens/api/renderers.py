"""JSON rendering with orjson: the default renderer of every REST endpoint."""

from __future__ import annotations

import decimal
from typing import Any

import orjson
from django.utils.functional import Promise
from rest_framework.renderers import BaseRenderer

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    """What orjson cannot encode natively: lazy translations, decimals, sets, tuples of tuples."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class ORJSONRenderer(BaseRenderer):
    """`application/json` through orjson; indented when the browsable API asks for it."""

    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259); no charset parameter

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        options = _OPTIONS
        if renderer_context and renderer_context.get("indent"):
            options |= orjson.OPT_INDENT_2
        return orjson.dumps(data, default=_default, option=options)
