"""Fixtures for ingestion tests: the replay upstream over loopback and real Celery worker processes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.processes import base_env, replay_urls, start_replay, start_worker

REPLAY_TOKENS = 60


@dataclass
class Replay:
    """Client of the replay upstream's control endpoint."""

    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def urls(self) -> dict[str, str]:
        return replay_urls(self.port)

    def control(self, method: str, path: str, payload: dict | None = None) -> Any:
        response = requests.request(method, f"{self.base}/_control/{path}", json=payload, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def fault(self, source: str, mode: str, **options: Any) -> None:
        self.control("POST", "faults", {"source": source, "mode": mode, **options})

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def requests_since(self, since: float, source: str | None = None) -> list[dict]:
        rows = self.control("GET", f"stats?since={since}")["requests"]
        return [r for r in rows if source is None or r["source"] == source]

    def universe(self) -> list[dict]:
        return self.control("GET", "universe")["tokens"]

    def reset(self) -> None:
        self.control("POST", "reset")
        self.control("POST", "motion", {"enabled": False})


@pytest.fixture(scope="session")
def replay_server(tmp_path_factory):
    proc, port = start_replay(
        tmp_path_factory.mktemp("replay"), args=["--tokens", str(REPLAY_TOKENS), "--no-motion"]
    )
    yield Replay(port)
    proc.stop()


@pytest.fixture
def replay(replay_server, settings):
    """The replay upstream, reset, with this process's settings pointed at it and generous budgets."""
    replay_server.reset()
    for name, url in replay_server.urls().items():
        setattr(settings, name, url)
    settings.REFRESH_SECONDS = 10
    settings.UPSTREAM_TIMEOUT_SECONDS = 1.5
    settings.UPSTREAM_MAX_ATTEMPTS = 2
    yield replay_server
    replay_server.clear_faults()


@pytest.fixture
def worker_env(replay):
    """Environment for worker processes: test Redis DB, replay upstream."""
    return base_env(**replay.urls(), REFRESH_SECONDS="10", UPSTREAM_TIMEOUT_SECONDS="2")


@pytest.fixture
def workers(tmp_path):
    """Start worker processes with `start(name, env)`; all are stopped at the end of the test."""
    started = []

    def start(name: str, env: dict[str, str], concurrency: int = 1):
        proc = start_worker(name, env, tmp_path, concurrency)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def run_refreshes(*sources: str, rounds: int = 1) -> None:
    """Run the real refresh task in this process (Celery's apply), source after source."""
    from tokens.tasks import refresh_source

    for _ in range(rounds):
        for source in sources:
            refresh_source.apply(args=(source,)).get()


def wait_idle(replay: Replay, since: float, quiet: float = 2.0, timeout: float = 60.0) -> None:
    """Wait until the replay upstream has had a request since `since`, then none for `quiet` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = replay.requests_since(since)
        if rows and time.time() - rows[-1]["t"] > quiet:
            return
        time.sleep(0.3)
    raise AssertionError("upstream traffic did not settle")


def max_in_sliding_minute(times: list[float]) -> int:
    """The most of `times` inside any 60 s window (the arrivals an upstream's moving minute counts)."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 60:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
