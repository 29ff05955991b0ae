"""Redis restarting under running workers and beat: no crash loop, no lock held forever, data back."""

from __future__ import annotations

import time

import pytest
import redis

from tests.processes import base_env, free_port, start_beat, start_redis, start_worker, wait_for

pytestmark = pytest.mark.slow

CURRENT = "mds:1:snapshot:current"


def test_refreshes_resume_after_redis_restarts(replay, tmp_path):
    port = free_port()
    server = start_redis(port, tmp_path)
    env = base_env(
        **replay.urls(), TEST_REDIS_HOST=f"127.0.0.1:{port}", TEST_REDIS_DB="0", REFRESH_SECONDS="1"
    )
    conn = redis.Redis(port=port, socket_timeout=2)
    worker = start_worker("w-restart", env, tmp_path)
    beat = start_beat(env, tmp_path)
    try:
        first_id = int(wait_for(lambda: conn.get(CURRENT), timeout=40, what="a first snapshot"))

        server.kill()
        time.sleep(5)  # refreshes fail meanwhile
        server = start_redis(port, tmp_path)
        restarted = time.time()

        new_id = int(wait_for(lambda: conn.get(CURRENT), timeout=30, what="a snapshot after the restart"))
        assert time.time() - restarted < 30
        assert new_id > first_id, "snapshot ids keep increasing even though Redis lost the counter"
        assert worker.alive() and beat.alive(), "no crash loop"

        # Locks always carry a TTL, so none can be held forever.
        for key in conn.scan_iter("mds:1:lock:*"):
            assert conn.pttl(key) > 0, key
        # And refreshes keep landing.
        wait_for(lambda: int(conn.get(CURRENT)) > new_id, timeout=20, what="further snapshots")
    finally:
        beat.stop()
        worker.stop()
        server.stop()
