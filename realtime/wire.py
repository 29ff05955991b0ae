"""Measured figures of WebSocket frames to 10 significant digits, and the TOKEN they carry (pure).

docs/api.md §4: prices, volumes, liquidity, caps and percentages in frames carry at most 10
significant digits (seq, counts and times are not figures: ints and ISO strings stay as they are).
A float64 prints up to 17 digits; 10 keep every figure far beyond what it measures, and a TOKEN
shrinks by about a quarter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tokens.records import Token
from tokens.tokenjson import token_dict

SIGNIFICANT_DIGITS = 10


def round_figure(value: float | None) -> float | None:
    """`value` to SIGNIFICANT_DIGITS significant digits (None, NaN and infinities unchanged)."""
    if value is None or not math.isfinite(value) or value == 0:
        return value
    rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if math.isinf(rounded):  # the largest floats round up past the range: one digit fewer
        return float(f"{value:.{SIGNIFICANT_DIGITS - 1}g}")
    return rounded


def round_figures(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a flat JSON object with every float rounded by round_figure (ints, strings,
    lists and None as they are)."""
    return {k: round_figure(v) if type(v) is float else v for k, v in values.items()}


def wire_token(token: Token, timeframe: str) -> dict[str, Any]:
    """The TOKEN of WebSocket frames: token_dict with its figures rounded."""
    return round_figures(token_dict(token, timeframe))
