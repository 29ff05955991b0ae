"""Tests of realtime/publish.py and realtime/eventlog.py on the real Redis and channel layer."""

from __future__ import annotations

import logging
import time
from collections import Counter
from decimal import Decimal

import orjson
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from realtime import eventlog, publish
from realtime.events import Thresholds
from realtime.publish import publish_changes, thresholds_from_settings
from tests.factories import event_snapshot, event_token, mint, moved
from tokens.infra.log_throttle import ThrottledWarning
from tokens.infra.redis_clients import raw_key, raw_redis

A, B, C = mint(1), mint(2), mint(3)


@pytest.fixture
def group_sends(monkeypatch):
    """Counts the channel layer's group_send calls per group (the real send still happens)."""
    layer = get_channel_layer()
    counts: Counter[str] = Counter()
    real = layer.group_send

    async def counting(group, message):
        counts[group] += 1
        await real(group, message)

    monkeypatch.setattr(layer, "group_send", counting, raising=False)
    return counts


def log_entries():
    return raw_redis().xrange(raw_key(eventlog.KEY_LOG))


def refreshes():
    """Three refreshes: 3 added; A +10% (update + alert) and B updated; C removed."""
    a, b, c = event_token(A, price=1.0), event_token(B, price=2.0), event_token(C)
    return [
        event_snapshot([a, b, c]),
        event_snapshot([moved(a, price=1.10), moved(b, liquidity_usd=1.0), c]),
        event_snapshot([moved(a, price=1.10), moved(b, liquidity_usd=1.0)]),
    ]


def publish_all(snapshots, thresholds=None):
    thresholds = thresholds or Thresholds()
    previous, out = None, []
    for snap in snapshots:
        out.append(publish_changes(previous, snap, thresholds))
        previous = snap
    return out


def test_seqs_are_contiguous_and_gap_free_across_refreshes():
    batches = publish_all(refreshes())
    seqs = [e["seq"] for batch in batches for e in batch]
    assert seqs == list(range(1, 8))
    assert [e["type"] for e in batches[1]] == ["token.update", "token.price_change", "token.update"]
    assert eventlog.current_seq_sync() == 7


def test_the_stream_holds_every_event_with_its_text():
    batches = publish_all(refreshes())
    entries = log_entries()
    assert [int(i.split(b"-")[0]) for i, _ in entries] == list(range(1, 8))
    for (_, fields), event in zip(entries, [e for b in batches for e in b], strict=True):
        if event["type"] == "token.price_change":  # the text of `all` batches, and the TOKEN apart
            assert orjson.loads(fields[b"e"]) == {k: v for k, v in event.items() if k != "token"}
            assert orjson.loads(fields[b"k"]) == event["token"]
        else:
            assert orjson.loads(fields[b"e"]) == event and b"k" not in fields
        assert fields[b"m"].decode() == event["token_address"]
        assert fields[b"a"] == (b"1" if event["type"] == "token.price_change" else b"0")


def test_event_text_puts_type_and_seq_first():
    (batch,) = publish_all(refreshes()[:1])
    _, fields = log_entries()[0]
    assert fields[b"e"].startswith(b'{"type":"token.added","seq":1,"token_address":')
    assert batch[0]["seq"] == 1


def test_one_group_send_per_group_with_members_per_refresh(group_sends):
    layer = get_channel_layer()
    for group in (f"token.{A}", f"token.{C}"):  # token.B has no member: nothing is sent to it
        async_to_sync(layer.group_add)(group, "specific.test!member")
    publish_all(refreshes()[:2])
    # refresh 1: all + tokens A, C; refresh 2: all + alerts + A; each: its end marker
    assert group_sends == Counter(
        {"tokens.all": 2, f"token.{A}": 2, f"token.{C}": 1, "tokens.alerts": 1, "tokens.refreshed": 2}
    )


async def test_groups_are_checked_for_members_only_where_the_layer_can_tell(monkeypatch):
    messages = [(f"token.{A}", {"type": "stream.token"}), (f"token.{B}", {"type": "stream.token"})]
    await get_channel_layer().group_add(f"token.{B}", "specific.test!member")
    assert await publish.with_members(messages) == messages[1:]
    monkeypatch.setattr(publish, "get_channel_layer", lambda: object())  # e.g. the pub/sub layer
    assert await publish.with_members(messages) == messages


def test_nothing_changed_sends_nothing(group_sends):
    snap = refreshes()[0]
    publish_all([snap])
    group_sends.clear()
    assert publish_changes(snap, event_snapshot(list(snap.tokens.values())), Thresholds()) == []
    assert not group_sends


def test_log_write_failure_fans_out_nothing(group_sends, monkeypatch):
    def broken(*args, **kwargs):
        raise RedisError("down")

    monkeypatch.setattr(eventlog, "append", broken)
    assert publish_all(refreshes()[:1]) == [[]]
    assert not group_sends


def test_fan_out_failure_does_not_raise(monkeypatch):
    layer = get_channel_layer()

    async def broken(group, message):
        raise RedisError("layer down")

    monkeypatch.setattr(layer, "group_send", broken, raising=False)
    (batch,) = publish_all(refreshes()[:1])
    assert len(batch) == 3 and len(log_entries()) == 3  # logged, so clients can resume


def test_alert_state_lives_in_redis_between_refreshes():
    a = event_token(A, price=1.0)
    publish_changes(None, event_snapshot([a]), Thresholds())
    assert eventlog.load_alert_states()[A].reference_price_usd == 1.0
    # a new process (no memory) still compares with the stored reference
    events = publish_changes(event_snapshot([a]), event_snapshot([moved(a, price=1.08)]), Thresholds())
    assert [e["type"] for e in events] == ["token.update", "token.price_change"]
    assert eventlog.load_alert_states()[A].reference_price_usd == 1.08
    publish_changes(event_snapshot([moved(a, price=1.08)]), event_snapshot([]), Thresholds())
    assert A not in eventlog.load_alert_states()


def test_log_keeps_only_the_configured_window(settings, monkeypatch):
    settings.EVENT_LOG_SECONDS = 1
    monkeypatch.setattr(eventlog, "EVENT_LOG_MIN_SECONDS", 0)
    a = event_token(A, price=1.0)
    publish_changes(None, event_snapshot([a]), Thresholds())
    time.sleep(1.1)
    publish_changes(event_snapshot([a]), event_snapshot([moved(a, price=1.01)]), Thresholds())
    assert [int(i.split(b"-")[0]) for i, _ in log_entries()] == [2]
    assert eventlog.current_seq_sync() == 2


def test_the_window_never_drops_under_fifteen_minutes(settings):
    settings.EVENT_LOG_SECONDS = 1
    assert eventlog.keep_seconds() == 900


def test_default_window_keeps_everything_recent():
    publish_all(refreshes())
    assert len(log_entries()) == 7


def test_a_new_or_wiped_redis_starts_seqs_at_the_time_in_ms():
    raw_redis().delete(raw_key(eventlog.KEY_SEQ))
    before = int(time.time() * 1000)
    (batch,) = publish_all(refreshes()[:1])
    assert before < batch[0]["seq"] <= int(time.time() * 1000) + 1
    assert [e["seq"] for e in batch] == list(range(batch[0]["seq"], batch[0]["seq"] + 3))


def test_counter_never_falls_behind_the_log():
    publish_all(refreshes()[:1])
    raw_redis().delete(raw_key(eventlog.KEY_SEQ))  # e.g. an operator deleted the counter
    (batch,) = publish_all([event_snapshot([event_token(mint(9))])])
    assert batch[0]["seq"] == 4


def test_fan_out_reuses_one_event_loop():
    publish_all(refreshes()[:1])
    loop = publish._fan_out_loop._loop
    publish_all(refreshes()[1:2])
    assert publish._fan_out_loop._loop is loop and loop.is_running()


@pytest.mark.django_db
def test_thresholds_from_settings_reads_the_singleton():
    from tokens.models import AlertSettings

    assert thresholds_from_settings() == Thresholds(5.0, 50.0)
    AlertSettings.objects.update(price_change_threshold_pct=Decimal("12.5"), volume_spike_threshold_pct=80)
    assert thresholds_from_settings() == Thresholds(12.5, 80.0)


def test_thresholds_fall_back_to_defaults_without_a_database(monkeypatch, caplog):
    from django.db import OperationalError

    from tokens.models import AlertSettings

    def broken(cls):
        raise OperationalError("no database")

    monkeypatch.setattr(AlertSettings, "get_solo", classmethod(broken))
    monkeypatch.setattr(publish, "_settings_unreadable", ThrottledWarning(publish.log, interval=300.0))
    with caplog.at_level(logging.WARNING, logger=publish.log.name):
        assert all(thresholds_from_settings() == Thresholds() for _ in range(20))
    lines = [r for r in caplog.records if r.name == publish.log.name]
    assert len(lines) == 1 and "no database" in lines[0].getMessage() and lines[0].exc_info is None
