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


# --- what a web process does per switch ------------------------------------------------------------


def _opcodes(data: bytes) -> set[str]:
    import pickletools

    return {op.name for op, _arg, _pos in pickletools.genops(data)}


def test_records_pickle_as_plain_constructor_calls():
    """Loading a snapshot rebuilds no state: each record is `cls(*fields)` (REDUCE), never
    dataclasses' per-object __setstate__ (BUILD), which made decoding ~3x slower."""
    import pickle

    token = make_token(1)
    data = pickle.dumps(token, protocol=pickle.HIGHEST_PROTOCOL)
    assert "BUILD" not in _opcodes(data)
    assert pickle.loads(data) == token


def test_a_stored_snapshot_decodes_in_chunks_the_follower_can_yield_between():
    """The follower thread decodes a snapshot chunk by chunk, giving the GIL back to the event loop
    between chunks: no chunk holds more than CHUNK_TOKENS tokens."""
    tokens = [make_token(i) for i in range(snapshots.CHUNK_TOKENS * 3 + 7)]
    snap = make_snapshot(tokens, snapshots.next_snapshot_id())
    stored = snapshots.encode(snap)
    assert len(stored.chunks) == 4
    pauses = []
    assert snapshots.decode(stored, pause=lambda: pauses.append(1)) == snap
    assert len(pauses) == len(stored.chunks)


def test_load_snapshot_reads_the_chunked_form_and_the_previous_one():
    import pickle

    snap = make_snapshot([make_token(1), make_token(2)], snapshots.next_snapshot_id())
    snapshots.publish_snapshot(snap)
    raw = get_redis_connection("default").get(snapshots.raw_key(snapshots.KEY_SNAPSHOT.format(id=snap.id)))
    assert isinstance(pickle.loads(raw), snapshots.StoredSnapshot)
    assert snapshots.load_snapshot(snap.id) == snap
    older = make_snapshot(
        [make_token(3)], snapshots.next_snapshot_id()
    )  # as a worker before this change wrote it
    from django.core.cache import cache

    cache.set(snapshots.KEY_SNAPSHOT.format(id=older.id), older, timeout=60)
    assert snapshots.load_snapshot(older.id) == older


def test_a_replaced_snapshot_is_freed_in_chunks_once_nothing_else_holds_it():
    held = make_snapshot([make_token(i) for i in range(snapshots.CHUNK_TOKENS * 2 + 1)], 1)
    unused = make_snapshot([make_token(i) for i in range(snapshots.CHUNK_TOKENS * 2 + 1)], 2)
    tokens_of_unused = unused.tokens
    retired = [held, unused]
    del unused
    pauses = []
    kept = snapshots.release_unused(retired, pause=lambda: pauses.append(1))
    assert kept == [held] and len(held.tokens) == snapshots.CHUNK_TOKENS * 2 + 1  # `held` is still ours
    assert tokens_of_unused == {} and len(pauses) == 3
    del held
    assert snapshots.release_unused(kept, pause=lambda: None) == []
