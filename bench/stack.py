"""The whole stack as `make run` starts it (honcho + the Procfile), on free ports, for benchmarks.

    from bench.stack import running_stack
    with running_stack(web_server="uvicorn", redis_db=3) as stack:
        requests.get(stack.url + "/api/tokens/?limit=50")
        stack.metric("mds_snapshot_switches_total")

What `make run UPSTREAM=replay` does, in a run directory of its own: `manage.py migrate` into its own
SQLite file, `collectstatic` into its own static root, an emptied PROMETHEUS_MULTIPROC_DIR, then
`honcho start -f Procfile web worker beat upstream` — 2 web processes (`python -m config.serve`,
WEB_SERVER as given), the Celery worker (concurrency 2), beat (every REFRESH_SECONDS, 10 by default)
and the replay upstream (`--tokens`, 500 by default). Ports are free ones; Redis is the one at
127.0.0.1:6379 with a DB index of its own (`redis_db`, flushed before and after: never 0). The
context manager returns once the first snapshot is served, and stops everything (SIGTERM to honcho,
which stops its processes; SIGKILL after a grace period) on the way out.

Run on its own it starts the stack, prints its URL and waits for Ctrl-C:
    .venv/bin/python bench/stack.py [--web-server uvicorn|daphne] [--redis-db 3] [--tokens 500]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROCESSES = ("web", "worker", "beat", "upstream")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    """A running stack: its URL, environment, run directory and the honcho process."""

    url: str
    env: dict[str, str]
    run_dir: Path
    replay_url: str
    honcho: subprocess.Popen
    web_server: str
    started_at: float = field(default_factory=time.time)

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url + path, **kwargs)

    def metrics_text(self) -> str:
        return self.get("/metrics").text

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a metric's samples on /metrics (all processes), optionally filtered by labels."""
        return sum_samples(self.metrics_text(), name, **labels)

    def log(self) -> str:
        return (self.run_dir / "honcho.log").read_text(errors="replace")

    def pids(self) -> dict[str, list[int]]:
        """The stack's processes by role (web, worker, beat, upstream), found under honcho."""
        roles: dict[str, list[int]] = {role: [] for role in PROCESSES}
        for pid in descendants(self.honcho.pid):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            cmd = b" ".join(argv).decode(errors="replace")
            if is_web_server(cmd):
                roles["web"].append(pid)
            elif " worker" in cmd and "celery" in cmd:
                roles["worker"].append(pid)
            elif " beat" in cmd and "celery" in cmd:
                roles["beat"].append(pid)
            elif "replay_upstream" in cmd:
                roles["upstream"].append(pid)
        return roles

    def web_pids(self) -> list[int]:
        """The web server processes (the children `config.serve` starts)."""
        return self.pids()["web"]


def is_web_server(cmd: str) -> bool:
    """A web server process of config.serve: a uvicorn child or a daphne (not the launcher itself)."""
    return "--uvicorn-fd" in cmd or "bin/daphne " in cmd


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", re.M)


def sum_samples(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for sample, label_text, value in _SAMPLE.findall(text):
        if sample != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', label_text or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


def stack_env(
    run_dir: Path, port: int, replay_port: int, redis_db: int, web_server: str, overrides: dict[str, str]
) -> dict[str, str]:
    replay = f"http://127.0.0.1:{replay_port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "DATABASE_URL": f"sqlite:///{run_dir / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(run_dir / "staticfiles"),
        "DEXSCREENER_BASE_URL": f"{replay}/dexscreener",
        "JUPITER_BASE_URL": f"{replay}/jupiter",
        "GECKOTERMINAL_BASE_URL": f"{replay}/geckoterminal",
        "PROMETHEUS_MULTIPROC_DIR": str(run_dir / "prometheus"),
        "BEAT_SCHEDULE": str(run_dir / "celerybeat-schedule"),
        "PORT": str(port),
        "REPLAY_PORT": str(replay_port),
        "WEB_SERVER": web_server,
        "PYTHONUNBUFFERED": "1",
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return env


@contextlib.contextmanager
def running_stack(
    *,
    web_server: str = "uvicorn",
    redis_db: int = 3,
    tokens: int = 500,
    env: dict[str, str] | None = None,
    run_dir: Path | None = None,
    ready_timeout: float = 120.0,
) -> Iterator[Stack]:
    """Start the whole stack, yield it once its first snapshot is served, stop it on the way out."""
    if redis_db == 0:
        raise ValueError("redis_db 0 is the application's own database: pick another index")
    overrides = {"REPLAY_TOKENS": str(tokens), **(env or {})}
    with contextlib.ExitStack() as cleanup:
        if run_dir is None:
            run_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="mds-stack-")))
        (run_dir / "prometheus").mkdir(parents=True, exist_ok=True)
        for old in (run_dir / "prometheus").glob("*.db"):
            old.unlink()
        port, replay_port = free_port(), free_port()
        full_env = stack_env(run_dir, port, replay_port, redis_db, web_server, overrides)
        conn = redis.Redis.from_url(full_env["REDIS_URL"])
        conn.flushdb()
        cleanup.callback(conn.flushdb)
        py = str(BIN / "python")
        for argv in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"]):
            subprocess.run([py, "manage.py", *argv], cwd=ROOT, env=full_env, check=True)
        (run_dir / "empty.env").write_text("")  # honcho would otherwise read the checkout's .env
        log = cleanup.enter_context(open(run_dir / "honcho.log", "wb"))
        argv = [str(BIN / "honcho"), "start", "--no-colour", "-e", str(run_dir / "empty.env"),
                "-f", "Procfile", "-p", str(port), *PROCESSES]  # fmt: skip
        honcho = subprocess.Popen(
            argv, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        cleanup.callback(_stop, honcho)
        stack = Stack(
            url=f"http://127.0.0.1:{port}",
            env=full_env,
            run_dir=run_dir,
            replay_url=f"http://127.0.0.1:{replay_port}",
            honcho=honcho,
            web_server=web_server,
        )
        _wait_first_snapshot(stack, ready_timeout)
        yield stack


def _wait_first_snapshot(stack: Stack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.honcho.poll() is not None:
            raise RuntimeError(f"the stack stopped while starting:\n{stack.log()[-4000:]}")
        with contextlib.suppress(requests.RequestException):
            if stack.get("/api/tokens/?limit=1", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"no snapshot served after {timeout:.0f}s:\n{stack.log()[-4000:]}")


def _stop(honcho: subprocess.Popen, grace: float = 20.0) -> None:
    if honcho.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(honcho.pid, signal.SIGTERM)  # honcho stops its processes, then exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            honcho.wait(grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(honcho.pid, signal.SIGKILL)  # anything left of the session
    with contextlib.suppress(subprocess.TimeoutExpired):
        honcho.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web-server", default="uvicorn", choices=("uvicorn", "daphne"))
    parser.add_argument("--redis-db", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=500)
    args = parser.parse_args()
    if shutil.which("redis-server") is None and not _redis_up():
        sys.exit("Redis does not answer at 127.0.0.1:6379")
    with running_stack(web_server=args.web_server, redis_db=args.redis_db, tokens=args.tokens) as stack:
        print(f"stack up at {stack.url} (logs: {stack.run_dir / 'honcho.log'}); Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while stack.honcho.poll() is None:
                time.sleep(1)


def _redis_up() -> bool:
    try:
        return bool(redis.Redis(socket_timeout=1).ping())
    except redis.RedisError:
        return False


if __name__ == "__main__":
    main()
