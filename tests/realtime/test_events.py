"""Tests of realtime/events.py: snapshot diffs, reference-price alerts, volume-spike crossings."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.events import AlertState, Thresholds, changed_fields, diff_snapshots, volume_spike_pct
from realtime.wire import round_figure
from tests.factories import event_snapshot, event_token, mint, moved

pytestmark = pytest.mark.pure

A, B, C = mint(1), mint(2), mint(3)
DEFAULT = Thresholds()


def run(snapshots, thresholds=DEFAULT, states=None):
    """Diff a sequence of snapshots like the publisher does, carrying the alert state along."""
    states = dict(states or {})
    previous, out = None, []
    for snap in snapshots:
        diff = diff_snapshots(previous, snap, thresholds, states)
        states.update(diff.states)
        for m in diff.forgotten:
            states.pop(m, None)
        out.append(diff.events)
        previous = snap
    return out, states


def types(events):
    return [(e["type"], e["token_address"]) for e in events]


def test_first_snapshot_adds_every_token_without_alerts():
    (events,), states = run([event_snapshot([event_token(A), event_token(B, m5=500.0)])])
    assert types(events) == [("token.added", A), ("token.added", B)]
    assert events[0]["token"]["token_address"] == A and events[0]["token"]["price_usd"] == 1.0
    assert states[A] == AlertState(1.0, False)
    assert states[B] == AlertState(1.0, True)  # already spiking when first seen: not a crossing


def test_update_names_only_changed_shown_fields():
    a = event_token(A)
    (_, events), _ = run([event_snapshot([a]), event_snapshot([moved(a, liquidity_usd=60_000.0)])])
    assert events == [
        {"type": "token.update", "token_address": A, "changes": {"liquidity_usd": [50_000.0, 60_000.0]}}
    ]


def test_safety_fields_travel_in_updates_like_any_other_field():
    from tokens.records import Safety

    a = event_token(A)
    known = Safety(2988, 2.15, True, False, None, 0.0)
    later = Safety(3001, 2.15, True, True, True, 0.0)
    (first, known_events, later_events), _ = run(
        [
            event_snapshot([a]),
            event_snapshot([moved(a, safety=known)]),
            event_snapshot([moved(a, safety=later)]),
        ]
    )
    assert first[0]["token"]["holder_count"] is None  # unknown until Jupiter reports it
    assert known_events[0]["changes"] == {
        "holder_count": [None, 2988],
        "top_holders_pct": [None, 2.15],
        "mint_authority_disabled": [None, True],
        "freeze_authority_disabled": [None, False],
        "organic_score": [None, 0.0],
    }
    assert later_events[0]["changes"] == {
        "holder_count": [2988, 3001],
        "freeze_authority_disabled": [False, True],
        "verified": [None, True],
    }


def test_updated_at_alone_is_not_an_update():
    a = event_token(A)
    (_, events), _ = run([event_snapshot([a]), event_snapshot([moved(a, updated_at=a.updated_at + 10)])])
    assert events == []


def test_changes_of_a_price_move_list_every_dependent_field():
    a = event_token(A, price=1.0)
    (_, events), _ = run([event_snapshot([a]), event_snapshot([moved(a, price=1.02)])])
    (update,) = events
    assert set(update["changes"]) == {"price_usd", "price_sol", "market_cap_usd"}
    assert update["changes"]["price_usd"] == [1.0, 1.02]


def test_added_and_removed():
    a, b, c = event_token(A), event_token(B), event_token(C)
    (_, events), states = run([event_snapshot([a, b]), event_snapshot([b, c])])
    assert types(events) == [("token.added", C), ("token.removed", A)]
    assert events[1] == {"type": "token.removed", "token_address": A}
    assert A not in states and C in states


def test_three_percent_move_does_not_alert_ten_percent_does():
    a = event_token(A, price=1.0)
    (_, small, big), _ = run(
        [event_snapshot([a]), event_snapshot([moved(a, price=1.03)]), event_snapshot([moved(a, price=1.10)])]
    )
    assert types(small) == [("token.update", A)]
    assert types(big) == [("token.update", A), ("token.price_change", A)]
    alert = big[1]
    assert alert["change_pct"] == pytest.approx(10.0)
    assert alert["price_usd"] == 1.10 and alert["reference_price_usd"] == 1.0
    assert alert["token"]["price_usd"] == 1.10


def test_reference_is_the_price_at_the_last_alert():
    a = event_token(A, price=1.0)
    path = [1.0, 1.03, 1.06, 1.10, 1.12, 1.05]
    # 1.03: 3% (no); 1.06: 6% from 1.0 (alert, ref 1.06); 1.10: 3.8% (no); 1.12: 5.7% (alert, ref 1.12);
    # 1.05: -6.25% (alert)
    results, states = run([event_snapshot([moved(a, price=p)]) for p in path])
    alerts = [[e for e in events if e["type"] == "token.price_change"] for events in results]
    assert [len(x) for x in alerts] == [0, 0, 1, 0, 1, 1]
    assert alerts[2][0]["reference_price_usd"] == 1.0
    assert alerts[4][0]["reference_price_usd"] == 1.06
    assert alerts[5][0]["change_pct"] == pytest.approx((1.05 - 1.12) / 1.12 * 100)
    assert states[A].reference_price_usd == 1.05


def test_move_of_exactly_the_threshold_alerts():
    a = event_token(A, price=1.0)
    (_, events), _ = run([event_snapshot([a]), event_snapshot([moved(a, price=1.05)])])
    assert ("token.price_change", A) in types(events)


def test_threshold_changes_take_effect():
    a = event_token(A, price=1.0)
    snaps = [event_snapshot([a]), event_snapshot([moved(a, price=1.10)])]
    (_, strict), _ = run(snaps, Thresholds(price_change_pct=15))
    (_, loose), _ = run(snaps, Thresholds(price_change_pct=2))
    assert ("token.price_change", A) not in types(strict)
    assert ("token.price_change", A) in types(loose)
    a3 = [event_snapshot([a]), event_snapshot([moved(a, price=1.03)])]
    (_, three), _ = run(a3, Thresholds(price_change_pct=2))
    assert ("token.price_change", A) in types(three)


def test_unknown_price_keeps_the_reference():
    a = event_token(A, price=1.0)
    results, states = run(
        [
            event_snapshot([a]),
            event_snapshot([moved(a, price_usd=None)]),
            event_snapshot([moved(a, price=1.2)]),
        ]
    )
    assert ("token.price_change", A) in types(results[2])
    assert states[A].reference_price_usd == 1.2


def test_volume_spike_fires_once_per_crossing():
    a = event_token(A, m5=10.0, h1=120.0)  # average 10 per 5 min: 0%
    levels = [10.0, 16.0, 20.0, 25.0, 12.0, 14.0, 18.0]  # +60% crosses 50%; 12 drops below; 18 crosses again
    results, _ = run([event_snapshot([moved(a, m5=v)]) for v in levels])
    spikes = [[e for e in events if e["type"] == "token.volume_spike"] for events in results]
    assert [len(s) for s in spikes] == [0, 1, 0, 0, 0, 0, 1]
    spike = spikes[1][0]
    assert spike["change_pct"] == pytest.approx(60.0)
    assert spike["volume_5m_usd"] == 16.0 and spike["token"]["token_address"] == A


def test_volume_spike_threshold_is_read_each_time():
    a = event_token(A, m5=10.0, h1=120.0)
    snaps = [event_snapshot([a]), event_snapshot([moved(a, m5=14.0)])]  # +40%
    (_, default), _ = run(snaps)
    (_, lowered), _ = run(snaps, Thresholds(volume_spike_pct=30))
    assert ("token.volume_spike", A) not in types(default)
    assert ("token.volume_spike", A) in types(lowered)


def test_unknown_volumes_neither_fire_nor_rearm():
    a = event_token(A, m5=10.0, h1=120.0)
    path = [moved(a, m5=20.0), event_token(A, m5=None), moved(a, m5=20.0)]
    results, _ = run([event_snapshot([a]), *[event_snapshot([t]) for t in path]])
    assert [sum(e["type"] == "token.volume_spike" for e in r) for r in results] == [0, 1, 0, 0]
    assert volume_spike_pct(event_token(A, h1=0.0)) is None


def test_changed_fields_reports_old_and_new():
    assert changed_fields({"a": 1, "b": 2, "updated_at": "x"}, {"a": 1, "b": 3, "updated_at": "y"}) == {
        "b": [2, 3]
    }


# --- properties --------------------------------------------------------------------------------

prices = st.floats(min_value=0.01, max_value=100.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(path=st.lists(prices, min_size=1, max_size=20), threshold=st.floats(min_value=0.5, max_value=50.0))
def test_price_alerts_follow_the_reference_model(path, threshold):
    results, states = run(
        [event_snapshot([event_token(A, price=p)]) for p in path], Thresholds(threshold, 50)
    )
    reference = path[0]
    for price, events in zip(path[1:], results[1:], strict=True):
        alerts = [e for e in events if e["type"] == "token.price_change"]
        moved_pct = abs(price - reference) / reference * 100
        if moved_pct >= threshold + 1e-6:
            assert len(alerts) == 1 and alerts[0]["reference_price_usd"] == round_figure(reference)
            reference = price
        elif moved_pct < threshold - 1e-6:
            assert alerts == []
        else:  # on the boundary either answer is fine; follow what happened
            reference = price if alerts else reference
    assert states[A].reference_price_usd == reference


@settings(max_examples=200, deadline=None)
@given(levels=st.lists(st.floats(min_value=0.0, max_value=50.0), min_size=1, max_size=20))
def test_spikes_equal_upward_crossings(levels):
    results, _ = run([event_snapshot([event_token(A, m5=v, h1=120.0)]) for v in levels])
    above = [(v - 10.0) / 10.0 * 100 >= 50.0 for v in levels]
    crossings = sum(1 for before, now in itertools.pairwise(above) if now and not before)
    assert sum(e["type"] == "token.volume_spike" for r in results for e in r) == crossings


token_sets = st.dictionaries(st.integers(0, 8), prices, max_size=8)


@settings(max_examples=200, deadline=None)
@given(before=token_sets, after=token_sets)
def test_diff_is_consistent(before, after):
    snaps = [event_snapshot([event_token(mint(i), price=p) for i, p in d.items()]) for d in (before, after)]
    _, events = run(snaps)[0]
    kinds = types(events)
    assert len(kinds) == len(set(kinds))  # never the same event twice
    added = {m for t, m in kinds if t == "token.added"}
    removed = {m for t, m in kinds if t == "token.removed"}
    assert added == {mint(i) for i in after.keys() - before.keys()}
    assert removed == {mint(i) for i in before.keys() - after.keys()}
    for e in events:
        if e["type"] == "token.update":
            assert e["changes"] and "updated_at" not in e["changes"]
            assert all(old != new for old, new in e["changes"].values())
    same, _ = run([snaps[1], snaps[1]])
    assert same[1] == []
