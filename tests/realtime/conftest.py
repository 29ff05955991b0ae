"""Realtime fixtures: WebsocketCommunicator clients, publishing a refresh, a live daphne server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator

from realtime import eventlog
from realtime.events import Thresholds
from realtime.publish import publish_changes
from realtime.relay import close_relay
from tests.processes import web_server_argv
from tokens.infra import redis_clients
from tokens.records import Snapshot
from tokens.store import snapshots

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = b"http://testserver"


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new channel-layer instance per test: RedisChannelLayer keeps its receive state (lock,
    buffers, counters) per instance, not per event loop, and every test runs its own loop."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _small_seqs(request):
    """Start the event counter at 0 (a fresh Redis would seed it with the time in ms)."""
    if request.node.get_closest_marker("pure"):
        return
    from tokens.infra.redis_clients import raw_key, raw_redis

    raw_redis().set(raw_key(eventlog.KEY_SEQ), 0)


@pytest.fixture
async def ws():
    """Opens connected clients on config.asgi.application (origin checked); disconnects them all."""
    from config.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def open_client(
        origin: bytes | None = ORIGIN, expect_welcome: bool = True
    ) -> WebsocketCommunicator:
        headers = [(b"origin", origin)] if origin is not None else []
        comm = WebsocketCommunicator(application, "/ws/tokens/", headers=headers)
        opened.append(comm)
        connected, _ = await comm.connect(timeout=5)
        if connected and expect_welcome:
            welcome = await comm.receive_json_from(timeout=5)
            assert welcome["type"] == "welcome" and isinstance(welcome["seq"], int)
            comm.welcome = welcome  # type: ignore[attr-defined]
        comm.connected = connected  # type: ignore[attr-defined]
        return comm

    yield open_client
    for comm in opened:
        with contextlib.suppress(Exception):
            await comm.disconnect(timeout=0.3)
    await close_relay()
    await redis_clients.close_pooled_async_client()


def commit_sync(
    previous: Snapshot | None, current: Snapshot, thresholds: Thresholds | None = None
) -> list[dict]:
    """What the merge does: make `current` the current snapshot, then publish the change."""
    snapshots.publish_snapshot(current)
    return publish_changes(previous, current, thresholds or Thresholds())


@pytest.fixture
def commit():
    """Async version of commit_sync (runs in a thread, like the Celery task would)."""

    async def run(previous, current, thresholds=None):
        return await asyncio.to_thread(commit_sync, previous, current, thresholds)

    return run


@dataclass
class LiveServer:
    url: str
    origin: str
    proc: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def daphne_server(web_server, tmp_path_factory):
    """A real web process (under each WEB_SERVER; the name predates uvicorn) serving config.asgi on a
    free port (test settings, same Redis DB)."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp(web_server) / "stderr.log"
    errors = log_path.open("w+b")
    argv, server_env = web_server_argv(web_server, port)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", PYTHONPATH=str(ROOT), **server_env)
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        start_new_session=True,  # config.serve's child goes with it
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                errors.seek(0)
                raise RuntimeError(f"{web_server} did not start: {errors.read().decode()[-2000:]}") from None
            time.sleep(0.1)
    yield LiveServer(
        url=f"ws://127.0.0.1:{port}", origin=f"http://127.0.0.1:{port}", proc=proc, log_path=log_path
    )
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    errors.close()
