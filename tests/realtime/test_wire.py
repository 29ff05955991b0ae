"""Pure tests of realtime/wire.py and the frame texts built from it (docs/api.md §4, lighter frames)."""

from __future__ import annotations

import math

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.eventlog import LogEntry, with_token
from realtime.events import EVENT_TIMEFRAME
from realtime.publish import encode_event, group_messages
from realtime.wire import SIGNIFICANT_DIGITS, round_figure, round_figures, wire_token
from tests.factories import event_token, mint

pytestmark = pytest.mark.pure

finite = st.floats(allow_nan=False, allow_infinity=False)


def significant_digits(value: float) -> int:
    """Significant digits of the shortest text orjson writes for `value`."""
    text = orjson.dumps(value).decode().lstrip("-")
    mantissa = text.split("e")[0].split("E")[0].replace(".", "").lstrip("0").rstrip("0")
    return max(len(mantissa), 1)


@given(finite)
def test_a_rounded_figure_has_at_most_ten_significant_digits_on_the_wire(value):
    assert significant_digits(round_figure(value)) <= SIGNIFICANT_DIGITS


@given(finite)
def test_rounding_moves_a_figure_by_at_most_half_a_unit_of_its_tenth_digit(value):
    rounded = round_figure(value)
    assert math.isfinite(rounded)
    assert abs(rounded - value) <= abs(value) * 5e-10 * (1 + 1e-6) or abs(value) > 1.79e308


@given(finite)
def test_rounding_is_idempotent_and_keeps_the_sign(value):
    once = round_figure(value)
    assert round_figure(once) == once
    assert (once > 0) == (value > 0) or once == 0


def test_what_has_ten_digits_or_fewer_is_unchanged_and_non_figures_pass_through():
    for value in (0.0, -0.0, 1.0, 0.001, 123456.789, 1.234567891e-12, 9999999999.0):
        assert round_figure(value) == value
    assert round_figure(None) is None
    assert math.isnan(round_figure(math.nan)) and round_figure(math.inf) == math.inf
    assert round_figure(1.8738762329288758) == 1.873876233
    assert round_figure(2837191665.6545258) == 2837191666.0


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(finite, st.integers(), st.text(max_size=5), st.none(), st.booleans(), st.lists(st.text())),
        max_size=12,
    )
)
def test_round_figures_rounds_floats_only(values):
    out = round_figures(values)
    assert out.keys() == values.keys()
    for key, value in values.items():
        if type(value) is float:
            assert out[key] == round_figure(value)
        else:
            assert out[key] is value


@settings(max_examples=50)
@given(st.floats(min_value=1e-9, max_value=1e6), st.floats(min_value=0.0, max_value=1e9))
def test_a_wire_token_carries_rounded_figures_and_keeps_counts_and_times(price, volume):
    token = event_token(mint(1), price=price, volume_24h=volume)
    shown = wire_token(token, EVENT_TIMEFRAME)
    for key, value in shown.items():
        if type(value) is float:
            assert significant_digits(value) <= SIGNIFICANT_DIGITS, key
    assert shown["buys"] == 100 and isinstance(shown["updated_at"], str)


def alert(**token_fields):
    token = wire_token(event_token(mint(1), price=1.234567891234), EVENT_TIMEFRAME) | token_fields
    return {
        "type": "token.price_change",
        "token_address": mint(1),
        "change_pct": 7.5,
        "price_usd": 1.234567891,
        "reference_price_usd": 1.1,
        "threshold_pct": 5.0,
        "token": token,
    }


@given(st.integers(min_value=1, max_value=10**15), st.text(max_size=20))
def test_an_alert_is_encoded_without_its_token_and_with_it_again(seq, name):
    event = alert(token_name=name)
    encoded = encode_event(event)
    lean = orjson.loads(encoded.text(seq))
    assert lean == {"seq": seq, **{k: v for k, v in event.items() if k != "token"}}
    assert orjson.loads(encoded.full_text(seq)) == {"seq": seq, **event}
    entry = LogEntry(seq, mint(1), True, encoded.text(seq), encoded.token.decode())
    assert entry.full_text == encoded.full_text(seq)


def test_an_update_is_the_same_for_every_kind_of_subscriber():
    event = {"type": "token.update", "token_address": mint(1), "changes": {"price_usd": [1.0, 1.1]}}
    encoded = encode_event(event)
    assert encoded.token == b"" and encoded.full_text(9) == encoded.text(9)
    assert with_token('{"a":1}', None) == '{"a":1}'


def test_one_message_per_group_each_encoded_for_its_subscribers():
    update = {"type": "token.update", "token_address": mint(1), "changes": {"price_usd": [1.0, 1.1]}}
    encoded = [encode_event(update), encode_event(alert())]
    messages = dict(group_messages(41, encoded))
    all_events = orjson.loads(messages["tokens.all"]["text"])["events"]
    alerts_events = orjson.loads(messages["tokens.alerts"]["text"])["events"]
    token_events = [orjson.loads(t) for t in messages[f"token.{mint(1)}"]["events"]]
    assert [e["seq"] for e in all_events] == [41, 42] and "token" not in all_events[1]
    assert [e["seq"] for e in alerts_events] == [42] and alerts_events[0]["token"]["price_usd"] == 1.234567891
    assert "token" in token_events[1] and "token" not in token_events[0]
    assert messages["tokens.refreshed"]["refresh"] == 41
