"""A whole stack for operations tests: its own redis-server, daphne web processes, Celery workers and
beat, sharing one PROMETHEUS_MULTIPROC_DIR, plus readers of what they left in Redis and their logs."""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis

from tests.processes import (
    LiveServer,
    Proc,
    base_env,
    free_port,
    start_beat,
    start_daphne,
    start_redis,
    start_worker,
)

PREFIX = "mds:1:"


@dataclass
class Stack:
    """Processes of one test stack; `stop()` ends them all."""

    log_dir: Path
    redis_port: int
    env: dict[str, str]
    redis_proc: Proc
    webs: list[LiveServer] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    beat: Proc | None = None
    _names: Any = field(default_factory=lambda: itertools.count(1))

    # --- processes ------------------------------------------------------------------------------

    def add_web(self) -> LiveServer:
        server = start_daphne(self.log_dir, **self.env)
        self.webs.append(server)
        return server

    def add_worker(self) -> Proc:
        worker = start_worker(f"worker{next(self._names)}", self.env, self.log_dir)
        self.workers.append(worker)
        return worker

    def start_beat(self) -> Proc:
        self.beat = start_beat(self.env, self.log_dir)
        return self.beat

    def restart_redis(self) -> None:
        self.redis_proc = start_redis(self.redis_port, self.log_dir)

    def stop(self) -> None:
        for proc in [self.beat, *self.workers, *(w.proc for w in self.webs)]:
            if proc is not None:
                with contextlib.suppress(Exception):
                    proc.stop()
        self.redis_proc.stop()

    # --- what is in Redis -------------------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def redis(self) -> redis.Redis:
        return redis.Redis(port=self.redis_port, socket_timeout=2, socket_connect_timeout=1)

    def current_id(self) -> int | None:
        value = self.redis().get(PREFIX + "snapshot:current")
        return int(value) if value is not None else None

    def load(self, key: str) -> Any:
        """What is stored under `key`, unpickled; a stored snapshot decoded back to its Snapshot."""
        from tokens.store.snapshots import StoredSnapshot, decode

        raw = self.redis().get(PREFIX + key)
        value = None if raw is None else pickle.loads(raw)
        return decode(value, pause=lambda: None) if isinstance(value, StoredSnapshot) else value

    def current_snapshot(self) -> Any:
        current = self.current_id()
        return None if current is None else self.load(f"snapshot:{current}")

    # --- logs ----------------------------------------------------------------------------------------

    def json_logs(self, proc: Proc) -> list[dict[str, Any]]:
        """The JSON log lines (LOG_FORMAT=json) a process has written so far."""
        lines = []
        for line in proc.output().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(orjson.JSONDecodeError):
                    lines.append(orjson.loads(line))
        return lines

    def dump_logs(self) -> str:
        procs = [self.beat, *self.workers, *(w.proc for w in self.webs)]
        return "\n".join(f"----- {p.name} -----\n{p.output()[-3000:]}" for p in procs if p is not None)


def new_stack(log_dir: Path, replay_urls: dict[str, str], **env: str) -> Stack:
    """A fresh redis-server on a free port and the environment every process of the stack shares."""
    port = free_port()
    server = start_redis(port, log_dir)
    prom = log_dir / "prometheus"
    prom.mkdir(exist_ok=True)
    for stale in prom.glob("*.db"):
        os.remove(stale)
    settings = {
        **replay_urls,
        "TEST_REDIS_HOST": f"127.0.0.1:{port}",
        "TEST_REDIS_DB": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(prom),
        "LOG_FORMAT": "json",
        "API_THROTTLE_RATE": "1000000/min",
        "REFRESH_SECONDS": "2",
        "UPSTREAM_TIMEOUT_SECONDS": "2",
        "UPSTREAM_MAX_ATTEMPTS": "2",
        **env,
    }
    return Stack(log_dir, port, base_env(**settings), server)
