"""Diffs two snapshots into the public change events of docs/api.md §4 (pure: no I/O, no Django).

`diff_snapshots(previous, current, thresholds, states)` returns the refresh's events (without
`seq`; publishing numbers them; figures rounded as realtime.wire says, so a change below the 10th
significant digit is no change) and the per-token alert state to keep for the next refresh.
Alert state per tracked mint: the reference price of `token.price_change` (the price at the last
alert, or when the token was first seen) and whether its 5-minute volume is above the spike
threshold (a spike fires only on the crossing from below).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from realtime.wire import round_figure, wire_token
from tokens.records import Snapshot, Token

EVENT_TIMEFRAME = "24h"
ALERT_TYPES: frozenset[str] = frozenset({"token.price_change", "token.volume_spike"})
# Fields of TOKEN that never make a token.update on their own.
IGNORED_FIELDS: frozenset[str] = frozenset({"updated_at"})
# Floating-point slack, so that a move of exactly the threshold fires.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Alert thresholds in percent (AlertSettings, read on every refresh)."""

    price_change_pct: float = 5.0
    volume_spike_pct: float = 50.0


@dataclass(frozen=True, slots=True)
class AlertState:
    """What the alerts of one tracked mint remember between refreshes."""

    reference_price_usd: float | None = None
    spiking: bool = False


@dataclass(slots=True)
class Diff:
    """One refresh's events (in publishing order) and the alert state after it."""

    events: list[dict[str, Any]] = field(default_factory=list)
    states: dict[str, AlertState] = field(default_factory=dict)  # only the states that changed
    forgotten: list[str] = field(default_factory=list)  # mints that left: their state is dropped


def is_alert(event: Mapping[str, Any]) -> bool:
    return event["type"] in ALERT_TYPES


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every shown TOKEN field whose value differs (updated_at ignored)."""
    return {
        name: [old.get(name), value]
        for name, value in new.items()
        if name not in IGNORED_FIELDS and not _same(old.get(name), value)
    }


def volume_spike_pct(token: Token) -> float | None:
    """How far the latest 5-minute volume is above the hour's 5-minute average, in percent."""
    m5 = token.windows.get("m5")
    h1 = token.windows.get("h1")
    if m5 is None or h1 is None or m5.volume_usd is None or h1.volume_usd is None:
        return None
    average = h1.volume_usd / 12
    if average <= 0:
        return None
    return (m5.volume_usd - average) / average * 100


def _price_alert(
    token: Token, shown: dict[str, Any], state: AlertState, threshold: float
) -> tuple[dict[str, Any] | None, AlertState]:
    price = token.price_usd
    if price is None or price <= 0:
        return None, state
    reference = state.reference_price_usd
    if reference is None or reference <= 0:
        return None, AlertState(price, state.spiking)
    change = (price - reference) / reference * 100
    if abs(change) + _EPSILON < threshold:
        return None, state
    event = {
        "type": "token.price_change",
        "token_address": token.token_address,
        "change_pct": round_figure(round(change, 6)),
        "price_usd": round_figure(price),
        "reference_price_usd": round_figure(reference),
        "threshold_pct": round_figure(threshold),
        "token": shown,
    }
    return event, AlertState(price, state.spiking)


def _spike_alert(
    token: Token, shown: dict[str, Any], state: AlertState, threshold: float
) -> tuple[dict[str, Any] | None, AlertState]:
    change = volume_spike_pct(token)
    if change is None:  # unknown volume: neither a crossing nor a reset
        return None, state
    above = change + _EPSILON >= threshold
    new_state = AlertState(state.reference_price_usd, above)
    if not above or state.spiking:
        return None, new_state
    m5 = token.windows["m5"].volume_usd
    event = {
        "type": "token.volume_spike",
        "token_address": token.token_address,
        "change_pct": round_figure(round(change, 6)),
        "volume_5m_usd": round_figure(m5),
        "average_5m_volume_usd": round_figure(token.windows["h1"].volume_usd / 12),  # type: ignore[operator]
        "threshold_pct": round_figure(threshold),
        "token": shown,
    }
    return event, new_state


def _token_events(
    token: Token,
    old: Token | None,
    state: AlertState | None,
    thresholds: Thresholds,
) -> tuple[list[dict[str, Any]], AlertState]:
    mint = token.token_address
    shown = wire_token(token, EVENT_TIMEFRAME)
    events: list[dict[str, Any]] = []
    if old is None:
        events.append({"type": "token.added", "token_address": mint, "token": shown})
    else:
        changes = changed_fields(wire_token(old, EVENT_TIMEFRAME), shown)
        if changes:
            events.append({"type": "token.update", "token_address": mint, "changes": changes})
    if state is None:
        return events, _initial_state(token, thresholds)
    price_event, state = _price_alert(token, shown, state, thresholds.price_change_pct)
    spike_event, state = _spike_alert(token, shown, state, thresholds.volume_spike_pct)
    events.extend(e for e in (price_event, spike_event) if e is not None)
    return events, state


def _initial_state(token: Token, thresholds: Thresholds) -> AlertState:
    """First sight: the current price becomes the reference and a spike already under way is not
    a crossing (a brand-new pair's 5-minute volume is its whole hour, which would always 'spike')."""
    price = token.price_usd if token.price_usd and token.price_usd > 0 else None
    change = volume_spike_pct(token)
    spiking = change is not None and change + _EPSILON >= thresholds.volume_spike_pct
    return AlertState(price, spiking)


def diff_snapshots(
    previous: Snapshot | None,
    current: Snapshot,
    thresholds: Thresholds,
    states: Mapping[str, AlertState],
) -> Diff:
    """Events from `previous` to `current`: per token (in the current snapshot's order) added or
    update, then its price_change and volume_spike; then every removed token."""
    before = previous.tokens if previous is not None else {}
    diff = Diff()
    for mint, token in current.tokens.items():
        state = states.get(mint)
        events, new_state = _token_events(token, before.get(mint), state, thresholds)
        diff.events.extend(events)
        if new_state != state:
            diff.states[mint] = new_state
    for mint in before:
        if mint not in current.tokens:
            diff.events.append({"type": "token.removed", "token_address": mint})
    diff.forgotten = [m for m in states if m not in current.tokens]
    return diff
