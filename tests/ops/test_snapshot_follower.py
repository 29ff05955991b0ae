"""Every web process holds the current snapshot from its start and follows each switch, requests or
not, so one that served nothing before a Redis outage still serves the last data during it."""

from __future__ import annotations

import time

import pytest

from tests.ops.stack import new_stack
from tests.processes import wait_for

pytestmark = pytest.mark.slow


def test_an_idle_web_process_serves_the_last_snapshot_through_an_outage(replay, tmp_path):
    stack = new_stack(tmp_path, replay.urls(), REFRESH_SECONDS="30")
    try:
        # Started before any snapshot exists: its start-up health check finds none, and no other
        # request reaches it until Redis is gone.
        idle = stack.add_web()
        stack.add_worker()
        stack.start_beat()
        wait_for(lambda: stack.current_id() is not None, 45, 0.5, "a first snapshot")
        # Wait for a quiet moment: the same current id for 2 s (the follower polls every 0.25 s).
        while True:
            before = stack.current_id()
            time.sleep(2.0)
            if stack.current_id() == before:
                break
        stack.redis_proc.stop()
        response = idle.get("/api/tokens/?limit=5")
        assert response.status_code == 200, response.text
        assert response.json()["meta"]["snapshot_id"] == before
        detail = idle.get("/api/tokens/So11111111111111111111111111111111111111112/")
        assert detail.status_code in (200, 404)
    finally:
        stack.stop()
