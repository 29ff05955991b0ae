"""Starting and stopping the real processes tests run against: replay upstream, Celery, web servers, Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the thing is not up yet
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc!r})")


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    def connects() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    wait_for(connects, timeout, what=f"port {port}")


class Proc:
    """A child process in its own session, so stop() takes its children down too."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")


_process_db: str | None = None


def process_database_url() -> str:
    """A migrated SQLite database for the processes tests start (daphne, Celery), made once per session.

    It is separate from pytest-django's test database: tests that need the processes to see a
    change (e.g. alert thresholds) make it through those processes (the admin over HTTP).
    """
    global _process_db
    if _process_db is None:
        path = Path(f"/tmp/mds-test-{os.getuid()}-{os.getpid()}-procs.sqlite3")
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url}
        subprocess.run(
            [str(BIN / "python"), "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        _process_db = url
    return _process_db


def fresh_database_url(directory: Path) -> str:
    """A new migrated SQLite database in `directory`, for a test whose processes must see no rows
    another test's processes wrote (candles of the replay's seeded mints, say)."""
    path = Path(directory) / "procs.sqlite3"
    url = f"sqlite:///{path}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url}
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return url


def base_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = process_database_url()
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env.setdefault("TEST_REDIS_DB", os.environ.get("TEST_REDIS_DB", "15"))
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def replay_urls(port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    return {
        "DEXSCREENER_BASE_URL": f"{base}/dexscreener",
        "JUPITER_BASE_URL": f"{base}/jupiter",
        "GECKOTERMINAL_BASE_URL": f"{base}/geckoterminal",
    }


def start_replay(log_dir: Path, port: int | None = None, args: Iterable[str] = ()) -> tuple[Proc, int]:
    port = port or free_port()
    argv = [
        str(BIN / "python"),
        "manage.py",
        "replay_upstream",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    proc = Proc(f"replay-{port}", argv, base_env(), log_dir)
    wait_for(
        lambda: requests.get(f"http://127.0.0.1:{port}/_control/universe", timeout=2).ok,
        what="replay upstream",
    )
    return proc, port


def start_worker(name: str, env: dict[str, str], log_dir: Path, concurrency: int = 1) -> Proc:
    argv = [
        str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", str(concurrency),
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h",
    ]  # fmt: skip
    proc = Proc(name, argv, env, log_dir)
    wait_for(lambda: "ready." in proc.output() or not proc.alive(), timeout=30, what=f"celery {name}")
    assert proc.alive(), proc.output()
    return proc


def start_beat(env: dict[str, str], log_dir: Path) -> Proc:
    argv = [
        str(BIN / "celery"),
        "-A",
        "config",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(log_dir / "beat-schedule"),
    ]
    return Proc("beat", argv, env, log_dir)


def start_redis(port: int, log_dir: Path) -> Proc:
    argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    proc = Proc(f"redis-{port}", argv, dict(os.environ), log_dir)
    wait_for_port(port)
    return proc


@dataclass
class LiveServer:
    url: str
    proc: Proc

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url + path, **kwargs)


WEB_SERVERS = ("uvicorn", "daphne")


def web_server_argv(web_server: str, port: int) -> tuple[list[str], dict[str, str]]:
    """Command and environment of one web process on 127.0.0.1:`port` under `web_server`.

    uvicorn runs as `make run` runs it (`python -m config.serve`, one process); daphne as Channels'
    `daphne -b -p`. Neither rewrites the client address from X-Forwarded-For (FORWARDED_ALLOW_IPS
    empty for uvicorn): the tests send that header themselves to check the app's own handling.
    """
    if web_server == "daphne":
        return [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"], {}
    if web_server == "uvicorn":
        env = {"WEB_SERVER": "uvicorn", "WEB_CONCURRENCY": "1", "HOST": "127.0.0.1", "PORT": str(port)}
        return [str(BIN / "python"), "-m", "config.serve"], {**env, "FORWARDED_ALLOW_IPS": ""}
    raise ValueError(f"unknown web server {web_server!r}; expected one of {', '.join(WEB_SERVERS)}")


def start_web_server(log_dir: Path, web_server: str = "uvicorn", **env: str) -> LiveServer:
    """A web process (uvicorn or daphne) on a free port, with the test settings and `env` overrides."""
    port = free_port()
    argv, server_env = web_server_argv(web_server, port)
    proc = Proc(f"{web_server}-{port}", argv, base_env(**env, **server_env), log_dir)
    server = LiveServer(f"http://127.0.0.1:{port}", proc)
    try:
        wait_for(lambda: server.get("/api/health/").status_code in (200, 503), timeout=30, what=web_server)
    except AssertionError:
        proc.stop()
        raise AssertionError(proc.output()) from None
    return server


def start_daphne(log_dir: Path, **env: str) -> LiveServer:
    """daphne on a free port (tests that are about one server only; the others use start_web_server)."""
    return start_web_server(log_dir, "daphne", **env)
