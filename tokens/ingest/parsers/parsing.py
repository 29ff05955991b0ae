"""Tolerant coercion of upstream JSON values (numbers, timestamps, ids, mints) shared by every source parser."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import base58

from tokens import numbers
from tokens.records import REFERENCE_MINTS, WINDOWS, DiscoveryItem, PoolQuote, WindowStats

__all__ = [
    "MalformedPayload",
    "as_dict",
    "as_list",
    "discovery_from_pools",
    "is_mint",
    "reject_error_body",
    "strip_network_prefix",
    "to_count",
    "to_float",
    "to_int",
    "to_non_negative",
    "to_positive",
    "to_str",
    "to_ts",
    "tracked_mint",
]


class MalformedPayload(ValueError):
    """The upstream body does not have the top-level shape of the endpoint (error body, HTML, a string…)."""


# A plain decimal literal as upstream APIs send it: "12", "-0.5", ".5", "1e-06", "4.6e+3".
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
# Epoch numbers above these are milli-, micro- and nanoseconds (1e11 s is the year 5138).
_EPOCH_SCALES = ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3))
_MAX_TS = 253402300799.0  # 9999-12-31T23:59:59Z


def to_float(value: Any) -> float | None:
    """A finite float from a JSON number or decimal string; None for null, "", "NaN", inf, bools, junk."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        number = value
    elif isinstance(value, int | Decimal):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            return None
    elif isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            return None
        number = float(text)  # correctly rounded, whatever the number of significant digits
    else:
        return None
    return number if math.isfinite(number) else None


def to_int(value: Any) -> int | None:
    """An int from a JSON integer, an integral float or a numeric string; None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        try:
            return int(value.strip())
        except ValueError:  # more digits than int() accepts
            return None
    number = to_float(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def to_count(value: Any) -> int | None:
    """A non-negative count (buys, sells, decimals); None when unknown or negative."""
    number = to_int(value)
    return number if number is not None and number >= 0 else None


def to_positive(value: Any) -> float | None:
    """A price-like figure: a zero or negative price, cap or reserve means "unknown", so None."""
    return numbers.positive(to_float(value))


def to_non_negative(value: Any) -> float | None:
    """A volume-like figure where 0 is a real value (no trades) but a negative one is junk."""
    return numbers.non_negative(to_float(value))


def to_str(value: Any) -> str | None:
    """A non-empty, stripped string, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None


def to_ts(value: Any) -> float | None:
    """Unix seconds from an ISO-8601 string (any fraction digits, "Z" or offset) or an epoch s/ms/µs/ns number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            return _iso_to_ts(text)
    number = to_float(value)
    if number is None or number <= 0:
        return None
    for threshold, divisor in _EPOCH_SCALES:
        if number >= threshold:
            number /= divisor
            break
    return number if number <= _MAX_TS else None


def _iso_to_ts(text: str) -> float | None:
    match = _ISO.fullmatch(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    leap = second == "60"  # a leap second: 23:59:60 is one second after 23:59:59
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            59 if leap else int(second or 0),
            tzinfo=_tz(offset),
        )
    except ValueError:
        return None
    seconds = moment.timestamp() + (1 if leap else 0)
    if fraction:
        seconds += float("0." + fraction[:12])
    return seconds if 0 < seconds <= _MAX_TS else None


def _tz(offset: str | None) -> timezone:
    """UTC for "Z" or no offset (upstream times are UTC), else the fixed offset "+02:00" / "-0530" / "+02"."""
    if not offset or offset in "Zz":
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("bad offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def strip_network_prefix(value: str, network: str = "solana") -> str:
    """GeckoTerminal ids are "{network}_{address}": "solana_abc" -> "abc"; other strings are returned as is."""
    prefix = f"{network}_"
    return value[len(prefix) :] if value.startswith(prefix) else value


def is_mint(value: Any) -> bool:
    """True for a Solana address: a base58 string that decodes to exactly 32 bytes."""
    if not isinstance(value, str) or not 32 <= len(value) <= 44:
        return False
    try:
        return len(base58.b58decode(value)) == 32
    except ValueError:
        return False


def as_dict(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (absent, null or mistyped nested objects)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """The value when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def reject_error_body(payload: Any, what: str) -> None:
    """Raise MalformedPayload for an upstream error body such as {"errors": [{"status": "404", …}]}."""
    if not isinstance(payload, dict):
        return
    errors = payload.get("errors")
    if errors is None and isinstance(payload.get("error"), str | dict):
        errors = [payload["error"]]
    if errors is None:
        return
    details = []
    for error in errors if isinstance(errors, list) else [errors]:
        if isinstance(error, dict):
            details.append(" ".join(str(error[k]) for k in ("status", "title", "detail") if error.get(k)))
        else:
            details.append(str(error))
    raise MalformedPayload(f"{what}: upstream error body: {'; '.join(d for d in details if d)[:300]}")


def window_stats(volume: Any, transactions: Any, change: Any) -> dict[str, WindowStats]:
    """Per-window figures from three objects keyed by window (m5, h1, h6, h24), as both DexScreener
    and GeckoTerminal send them: volume in USD, {buys, sells} counts, price change in percent."""
    volume, transactions, change = as_dict(volume), as_dict(transactions), as_dict(change)
    windows = {}
    for window in WINDOWS:
        counts = as_dict(transactions.get(window))
        windows[window] = WindowStats(
            volume_usd=to_non_negative(volume.get(window)),
            buys=to_count(counts.get("buys")),
            sells=to_count(counts.get("sells")),
            price_change_pct=to_float(change.get(window)),
        )
    return windows


def tracked_mint(base_mint: str, quote_mint: str) -> str | None:
    """The pool's candidate meme token: its base, or its quote when the base is SOL/USDC/USDT and the quote is not."""
    if base_mint not in REFERENCE_MINTS:
        return base_mint
    if quote_mint not in REFERENCE_MINTS:
        return quote_mint
    return None


def discovery_from_pools(pools: Iterable[PoolQuote], list_name: str) -> list[DiscoveryItem]:
    """Discovery items for the tokens of ranked pools: one per mint (first pool wins), ranks 0, 1, 2…"""
    items: list[DiscoveryItem] = []
    seen: set[str] = set()
    for pool in pools:
        mint = tracked_mint(pool.base_mint, pool.quote_mint)
        if mint is None or mint in seen:
            continue
        seen.add(mint)
        items.append(
            DiscoveryItem(
                mint=mint, source=pool.source, list_name=list_name, rank=len(items), pool_address=pool.address
            )
        )
    return items
