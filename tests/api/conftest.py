"""API fixtures: a live daphne serving config.asgi over real HTTP (reusable by other test packages)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.processes import BIN, Proc, base_env, free_port, wait_for


@dataclass
class LiveServer:
    url: str
    proc: Proc

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url + path, **kwargs)


def start_daphne(log_dir: Path, **env: str) -> LiveServer:
    """daphne on a free port, like `make run`, with the test settings and `env` overrides."""
    port = free_port()
    argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    proc = Proc(f"daphne-{port}", argv, base_env(**env), log_dir)
    server = LiveServer(f"http://127.0.0.1:{port}", proc)
    try:
        wait_for(lambda: server.get("/api/health/").status_code in (200, 503), timeout=30, what="daphne")
    except AssertionError:
        proc.stop()
        raise AssertionError(proc.output()) from None
    return server


@pytest.fixture(scope="session")
def daphne_server(tmp_path_factory) -> Iterator[LiveServer]:
    """daphne with a throttle rate no test reaches; tests publish snapshots to the same Redis DB."""
    server = start_daphne(tmp_path_factory.mktemp("live"), API_THROTTLE_RATE="1000000/min")
    yield server
    server.proc.stop()


@pytest.fixture(scope="session")
def throttled_daphne(tmp_path_factory) -> Iterator[LiveServer]:
    """daphne allowing 5 requests per minute per IP."""
    server = start_daphne(tmp_path_factory.mktemp("throttled"), API_THROTTLE_RATE="5/min")
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
