"""GET /api/health/: 200 only when Redis answers and data is fresh; the body always says why."""

from __future__ import annotations

import time

from tests.factories import make_token, publish
from tests.processes import free_port, start_daphne
from tokens.records import SourceSnapshot, SourceStatus
from tokens.store import heartbeat, ingested


def test_healthy(client):
    publish([make_token(1), make_token(2)])
    heartbeat.record_beat_run(time.time() - 2)
    response = client.get("/api/health/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok" and body["reasons"] == []
    assert body["redis"] == {"ok": True, "error": None}
    assert body["snapshot"]["tokens"] == 2 and body["snapshot"]["stale"] is False
    assert 1.5 < body["beat"]["age_seconds"] < 10
    assert set(body["sources"]) == {"dexscreener", "jupiter", "geckoterminal"}
    assert body["sources"]["jupiter"]["ok"] is True and body["sources"]["jupiter"]["last_success"]


def test_no_snapshot_is_503(client):
    response = client.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["No snapshot has been published yet."]


def test_stale_data_is_503_and_says_since_when(client):
    now = time.time()
    publish([make_token(1)], data_fetched_at=now - 120)
    ingested.save_source(
        SourceSnapshot(source="dexscreener", fetched_at=now - 120, last_attempt_at=now, error="HTTP 503")
    )
    response = client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert "stale" in body["reasons"][0] and body["snapshot"]["age_seconds"] > 100
    dex = body["sources"]["dexscreener"]
    assert dex["ok"] is False and dex["last_error"] == "HTTP 503" and dex["last_attempt"]


def test_no_successful_fetch_at_all_is_stale(client):
    publish(
        [],
        data_fetched_at=None,
        sources={"jupiter": SourceStatus(ok=False, fetched_at=None, error="timeout")},
    )
    response = client.get("/api/health/")
    assert (
        response.status_code == 503 and "holds no successful upstream fetch" in response.json()["reasons"][0]
    )


def test_failing_helpers_read_as_null(client, monkeypatch):
    from tokens.ingest import budgets
    from tokens.store import heartbeat

    def broken(*args):
        raise RuntimeError("helper broke")

    publish([make_token(1)])
    monkeypatch.setattr(budgets, "remaining_budget", broken)
    monkeypatch.setattr(heartbeat, "last_beat_run", broken)
    response = client.get("/api/health/")
    body = response.json()
    assert response.status_code == 200
    assert body["beat"]["last_run"] is None
    assert all(s["remaining_budget"] is None for s in body["sources"].values())


def test_redis_down_is_503_not_500(tmp_path):
    dead = start_daphne(tmp_path, TEST_REDIS_HOST=f"127.0.0.1:{free_port()}")
    try:
        health = dead.get("/api/health/")
        assert health.status_code == 503
        body = health.json()
        assert body["redis"]["ok"] is False and body["reasons"][0].startswith("Redis does not answer")
        tokens = dead.get("/api/tokens/")
        assert tokens.status_code == 503
        assert tokens.json()["detail"].startswith("Redis does not answer and this web process has not loaded")
        assert dead.get("/api/tokens/?limit=0").status_code == 400
    finally:
        dead.proc.stop()
