"""Shared fixtures: the real Redis (own DB, flushed per test), recorded upstream samples, live web servers (uvicorn and daphne)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import WEB_SERVERS, LiveServer, start_web_server

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"


def load_sample(relpath: str) -> Any:
    """A recorded upstream response, e.g. load_sample("jupiter/price-v3-ids-Gary-HIGGS-SOL-2026-10-08.json")."""
    return json.loads((FIXTURES / relpath).read_text())


@pytest.fixture
def sample():
    return load_sample


@pytest.fixture(autouse=True)
def _clean_redis(request):
    """Flush the test Redis DB before each test that touches Redis (all but pure unit tests)."""
    if request.node.get_closest_marker("pure"):
        yield
        return
    from django_redis import get_redis_connection

    from tokens.store import snapshots

    conn = get_redis_connection("default")
    conn.flushdb()
    snapshots.forget_memo()
    yield
    snapshots.forget_memo()


@pytest.fixture(scope="session", params=WEB_SERVERS)
def web_server(request) -> str:
    """Each WEB_SERVER in turn: the live-server tests run under uvicorn and under daphne."""
    return request.param


@pytest.fixture(scope="session")
def daphne_server(web_server, tmp_path_factory) -> Iterator[LiveServer]:
    """A live web process (under each WEB_SERVER; the name predates uvicorn) with a throttle rate no
    test reaches; tests publish snapshots to the same Redis DB."""
    server = start_web_server(tmp_path_factory.mktemp("live"), web_server, API_THROTTLE_RATE="1000000/min")
    yield server
    server.proc.stop()


@pytest.fixture(scope="session")
def throttled_daphne(web_server, tmp_path_factory) -> Iterator[LiveServer]:
    """A live web process (under each WEB_SERVER) allowing 5 requests per minute per IP."""
    server = start_web_server(tmp_path_factory.mktemp("throttled"), web_server, API_THROTTLE_RATE="5/min")
    yield server
    server.proc.stop()


@pytest.fixture
def api_rate(settings):
    """Set the in-process throttle rate (DRF re-reads its settings on change)."""

    def set_rate(rate: str | None) -> None:
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {"anon": rate}
        settings.REST_FRAMEWORK = rest

    set_rate("1000000/min")
    return set_rate
