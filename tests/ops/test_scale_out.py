"""Scale-out: two web processes, two workers and one beat on one Redis behave as one service, and
/metrics on either web process shows the whole host."""

from __future__ import annotations

import asyncio
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests
from celery import Celery
from websockets.sync.client import connect

from tests.ops.metrics_text import Scrape
from tests.ops.stack import new_stack
from tests.ops.stream import AllStream
from tests.processes import wait_for
from tokens.records import SOURCES

pytestmark = pytest.mark.slow

BUDGETS = {
    "DEXSCREENER_RPM": "60",
    "DEXSCREENER_DISCOVERY_RPM": "6",
    "JUPITER_RPM": "12",
    "GECKOTERMINAL_RPM": "12",
}
DISCOVERY_PATHS = ("/token-boosts/", "/token-profiles/")


@pytest.fixture(scope="module")
def stack(replay_server, tmp_path_factory):
    replay_server.reset()
    replay_server.control("POST", "motion", {"enabled": True})
    stack = new_stack(tmp_path_factory.mktemp("scale-out"), replay_server.urls(), **BUDGETS)
    stack.started_at = time.time()
    try:
        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(stack.add_web) for _ in range(2)]:
                future.result()
            for future in [pool.submit(stack.add_worker) for _ in range(2)]:
                future.result()
        yield stack
    finally:
        stack.stop()
        replay_server.reset()


def _published_by(stack, worker) -> list[int]:
    return [line["id"] for line in stack.json_logs(worker) if line.get("event") == "snapshot published"]


async def test_a_client_of_one_web_process_gets_every_refresh_whichever_worker_merged_it(stack):
    await asyncio.to_thread(stack.start_beat)
    await asyncio.to_thread(wait_for, lambda: stack.redis().get("mds:1:events:seq"), 45, 0.2, "first events")
    client = AllStream(stack.webs[0].url)
    await client.start()
    try:
        before = {w.name: len(_published_by(stack, w)) for w in stack.workers}

        def both_workers_published() -> bool:
            return all(len(_published_by(stack, w)) >= before[w.name] + 2 for w in stack.workers)

        await asyncio.to_thread(wait_for, both_workers_published, 45, 0.5, "merges by both workers")
        head = int(stack.redis().get("mds:1:events:seq"))
        await asyncio.to_thread(wait_for, lambda: (client.last_seq or 0) >= head, 15, 0.1, "every event")
    finally:
        await client.stop()
    assert client.gaps == [] and client.resyncs == [] and client.errors == []
    seqs = client.seqs()
    assert seqs == list(range(seqs[0], seqs[-1] + 1)) and seqs[-1] >= head, "the all stream has no gap"
    assert "token.update" in {e["type"] for e in client.events}


def test_rest_on_both_web_processes_serves_the_same_snapshot(stack):
    wait_for(stack.current_id, 45, what="a first snapshot")

    def same_snapshot() -> int | None:
        before = stack.current_id()
        ids = {w.get("/api/tokens/?limit=5").json()["meta"]["snapshot_id"] for w in stack.webs}
        return before if ids == {before} == {stack.current_id()} else None

    current = wait_for(same_snapshot, 20, 0.05, "both web processes on the current snapshot")
    detail_mint = stack.webs[0].get("/api/tokens/?limit=1").json()["results"][0]["token_address"]
    for web in stack.webs:
        assert web.get(f"/api/tokens/{detail_mint}/").status_code == 200
    assert current >= 1


def _max_in_sliding_minute(times: list[float]) -> int:
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 60:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _refresh_intervals(stack) -> dict[str, list[tuple[float, float, str]]]:
    """(start, end, worker) of every refresh, per source, from the workers' JSON logs."""
    out: dict[str, list[tuple[float, float, str]]] = {s: [] for s in SOURCES}
    for worker in stack.workers:
        open_at: dict[str, float] = {}
        for line in stack.json_logs(worker):
            at = datetime.fromisoformat(line["time"]).timestamp()
            if line.get("event") == "refresh start":
                open_at[line["source"]] = at
            elif line.get("event") == "refresh end" and line["source"] in open_at:
                out[line["source"]].append((open_at.pop(line["source"]), at, worker.name))
    return out


def test_budgets_and_refresh_locks_hold_across_both_workers(stack, replay_server):
    wait_for(lambda: stack.beat is not None and stack.current_id(), 45, what="the stack refreshing")
    wait_for(lambda: len(replay_server.requests_since(stack.started_at, "jupiter")) >= 6, 40, 0.5, "traffic")
    rows = replay_server.requests_since(stack.started_at)
    jupiter = [r["t"] for r in rows if r["source"] == "jupiter"]
    gecko = [r["t"] for r in rows if r["source"] == "geckoterminal"]
    discovery = [
        r["t"] for r in rows if r["source"] == "dexscreener" and r["path"].startswith(DISCOVERY_PATHS)
    ]
    assert _max_in_sliding_minute(jupiter) <= 12
    assert _max_in_sliding_minute(gecko) <= 12
    assert _max_in_sliding_minute(discovery) <= 6
    intervals = _refresh_intervals(stack)
    assert {w for runs in intervals.values() for _, _, w in runs} == {w.name for w in stack.workers}
    for source, runs in intervals.items():
        for (_, end, _), (start, _, _) in itertools.pairwise(sorted(runs)):
            assert start >= end - 0.01, f"two {source} refreshes overlapped"


def test_metrics_expose_every_family_with_plausible_values(stack):
    wait_for(lambda: stack.beat is not None and stack.current_id(), 45, what="the stack refreshing")
    # A client app of the stack's own broker; not made the current app, which the shared tasks of
    # later tests in this process would otherwise send through (to this stack's Redis, gone by then).
    with Celery(broker=stack.redis_url, set_as_current=False) as client:
        client.send_task("tokens.refresh_source", args=("no-such-source",))  # fails in the worker
    web = stack.webs[0]

    def cache_hit() -> bool:
        response = web.get("/api/tokens/?limit=7")
        assert response.status_code == 200
        return response.headers.get("x-response-cache") == "hit"

    wait_for(cache_hit, 10, 0.01, "a response-cache hit")
    ws_url = web.url.replace("http://", "ws://") + "/ws/tokens/"
    with connect(ws_url, origin=web.url) as conn:
        conn.recv(timeout=5)
        conn.send('{"action": "ping"}')
        conn.recv(timeout=5)

        def scraped() -> Scrape | None:
            scrape = Scrape(requests.get(web.url + "/metrics", timeout=10).text)
            failed = scrape.value("mds_celery_task_failures_total", task="tokens.refresh_source")
            return scrape if failed >= 1 and scrape.value("mds_ws_connections") >= 1 else None

        scrape = wait_for(scraped, 20, 0.5, "the failing task and the open connection in /metrics")
    _assert_ingestion_families(scrape, stack.current_id())
    _assert_web_families(scrape)


def _assert_ingestion_families(scrape: Scrape, current_id: int) -> None:
    now = time.time()
    for source in SOURCES:
        assert scrape.value("mds_upstream_requests_total", source=source, status="200") > 0
        assert scrape.value("mds_upstream_outcomes_total", source=source, outcome="success") > 0
        assert scrape.value("mds_upstream_request_seconds_count", source=source) > 0
        assert now - 120 < scrape.value("mds_source_last_success_timestamp_seconds", source=source) <= now
        budgets = scrape.samples("mds_upstream_budget_remaining", source=source)
        assert budgets and all(0 <= value <= 60 for _, value in budgets)
        assert scrape.value("mds_upstream_paused_seconds", source=source) == 0
        assert scrape.value("mds_source_refreshes_total", source=source) > 0
    assert scrape.samples("mds_upstream_outcomes_total")  # rate_limited / errors appear when they happen
    assert 0 < scrape.value("mds_snapshot_current_id") <= current_id + 5
    assert scrape.value("mds_snapshot_id") > 0
    assert 0 <= scrape.value("mds_snapshot_age_seconds") < 30
    assert scrape.value("mds_snapshot_stale") == 0
    assert scrape.value("mds_snapshot_current_tokens") > 10 and scrape.value("mds_snapshot_tokens") > 10
    assert scrape.value("mds_merge_seconds_count") > 0
    assert 0 < scrape.value("mds_merge_seconds_sum") / scrape.value("mds_merge_seconds_count") < 2
    assert scrape.value("mds_celery_task_seconds_count", task="tokens.refresh_source", state="SUCCESS") > 0
    assert (
        scrape.value("mds_celery_task_failures_total", task="tokens.refresh_source", exception="ValueError")
        >= 1
    )
    assert scrape.value("mds_redis_up") == 1


def _assert_web_families(scrape: Scrape) -> None:
    assert scrape.value("mds_http_request_seconds_count", endpoint="token-list", status="200") >= 3
    assert scrape.value("mds_http_request_seconds_count", endpoint="health") >= 1
    assert not scrape.samples("mds_http_request_seconds_count", endpoint="/api/tokens/")  # names, not paths
    assert scrape.value("mds_response_cache_total", outcome="miss") >= 1
    assert scrape.value("mds_response_cache_total", outcome="hit") >= 1
    assert scrape.value("mds_ws_connections") >= 1
    assert scrape.value("mds_ws_connects_total") >= 2
    assert scrape.value("mds_ws_disconnects_total") >= 1
    assert scrape.value("mds_ws_messages_sent_total", type="welcome") >= 2
    assert scrape.value("mds_ws_messages_sent_total", type="batch") >= 1
    assert scrape.value("mds_ws_messages_sent_total", type="pong") >= 1
    count = scrape.value("mds_ws_fanout_seconds_count")
    assert count >= 1 and 0 <= scrape.value("mds_ws_fanout_seconds_sum") / count < 5
