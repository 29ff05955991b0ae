"""Tests of tokens/store/snapshots.py on the real Redis: snapshot ids, publish and the current pointer."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from django_redis import get_redis_connection

from tests.factories import make_snapshot, make_token
from tokens.store import snapshots


def test_a_fresh_counter_starts_at_the_current_time():
    before = int(time.time())
    first = snapshots.next_snapshot_id()
    assert before + 1 <= first <= int(time.time()) + 1


def test_ids_strictly_increase():
    ids = [snapshots.next_snapshot_id() for _ in range(20)]
    assert ids == sorted(set(ids)) and ids[-1] - ids[0] == 19


def test_ids_are_unique_across_concurrent_callers():
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda _: snapshots.next_snapshot_id(), range(400)))
    assert len(set(ids)) == 400


def test_after_redis_lost_its_data_ids_stay_above_those_issued_seconds_before():
    old = [snapshots.next_snapshot_id() for _ in range(3)]
    time.sleep(3.1)  # more seconds than ids issued: the time-based restart clears them
    get_redis_connection("default").flushdb()
    assert snapshots.next_snapshot_id() > max(old)


def test_publish_flips_the_pointer_and_keeps_the_replaced_snapshot_briefly():
    first = make_snapshot([make_token(1)], snapshots.next_snapshot_id())
    snapshots.publish_snapshot(first)
    second = make_snapshot([make_token(2)], snapshots.next_snapshot_id())
    snapshots.publish_snapshot(second)
    assert snapshots.current_snapshot_id() == second.id
    assert snapshots.load_snapshot(first.id) is not None
    conn = get_redis_connection("default")
    ttl = conn.ttl(snapshots.raw_key(snapshots.KEY_SNAPSHOT.format(id=first.id)))
    assert 0 < ttl <= snapshots.SNAPSHOT_KEEP_SECONDS
    assert conn.ttl(snapshots.raw_key(snapshots.KEY_SNAPSHOT.format(id=second.id))) == -1
