"""Number, time and id formatting in each upstream's own style (pure)."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from decimal import Decimal

import base58

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def stable_bytes(*parts: object, length: int = 32) -> bytes:
    """Deterministic pseudo-random bytes from the parts (same parts, same bytes, on every run)."""
    out = b""
    counter = 0
    key = "\x1f".join(str(p) for p in parts).encode()
    while len(out) < length:
        out += hashlib.blake2b(key + counter.to_bytes(4, "big"), digest_size=64).digest()
        counter += 1
    return out[:length]


def stable_unit(*parts: object) -> float:
    """A deterministic float in [0, 1) from the parts."""
    return int.from_bytes(stable_bytes(*parts, length=8), "big") / 2**64


def stable_address(*parts: object) -> str:
    """A deterministic Solana address: base58 of 32 pseudo-random bytes."""
    return base58.b58encode(stable_bytes(*parts)).decode()


def stable_slug(*parts: object, length: int = 16) -> str:
    """A deterministic CMS-style id such as "s3P81eRDSGkEuIde"."""
    return "".join(_ID_ALPHABET[b % 64] for b in stable_bytes(*parts, length=length))


def is_mint(text: str) -> bool:
    """True when `text` is base58 that decodes to 32 bytes."""
    try:
        return len(base58.b58decode(text)) == 32
    except ValueError:
        return False


def positional(value: float, digits: int) -> str:
    """`value` rounded to `digits` significant digits, written without an exponent."""
    if value == 0 or not math.isfinite(value):
        return "0"
    text = format(Decimal(f"{value:.{digits}g}"), "f")
    return text


def ds_price(value: float) -> str:
    """DexScreener price string: "0.000008058", "0.0006941", "100.17"."""
    if value >= 1:
        return f"{value:.2f}" if value >= 10 else f"{value:.4f}"
    return positional(value, 4)


def ds_number(value: float, places: int = 2) -> float | int:
    """DexScreener JSON number: rounded, and an int when it has no fraction."""
    rounded = round(value, places)
    return int(rounded) if rounded == int(rounded) else rounded


def gt_decimal(value: float | None) -> str | None:
    """GeckoTerminal decimal string: the float's exact decimal expansion, positional ("0.000686904353446…")."""
    if value is None:
        return None
    if value == 0:
        return "0.0"
    text = format(Decimal(value), "f")
    return text if "." in text else text + ".0"


def gt_short(value: float | None, digits: int = 15) -> str | None:
    """GeckoTerminal short decimal string, e.g. volumes "3163.6932136982", changes "-4.3"."""
    if value is None:
        return None
    text = positional(value, digits)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if "." in text else text + ".0"


def gt_change(value: float) -> str:
    """GeckoTerminal percentage string: "-4.3", "478.95", "0"."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def iso_z(ts: float, millis: bool = False) -> str:
    """Unix seconds -> "2026-10-08T13:28:26Z" (or with ".527Z" milliseconds)."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    spec = "milliseconds" if millis else "seconds"
    return dt.isoformat(timespec=spec).replace("+00:00", "Z")


def iso_nanos(ts: float) -> str:
    """Unix seconds -> Jupiter's nanosecond "2026-10-08T16:27:09.778327062Z"."""
    whole = math.floor(ts)
    nanos = round((ts - whole) * 1e9) % 1_000_000_000
    base = datetime.fromtimestamp(whole, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "")
    return f"{base}.{nanos:09d}Z"
