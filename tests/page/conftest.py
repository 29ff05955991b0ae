"""Fixtures for the screener page: the service as `make run` starts it, and Debian's chromium.

One stack for the tests/page package, processes as in the Procfile (replay upstream with
--no-motion, a Celery worker, beat, and the web process `python -m config.serve`, uvicorn by default) on
the test Redis DB and a migrated temporary database; the web process can be stopped and restarted
on the same port. Browser tests drive it through Playwright's sync API.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.needs import missing
from tests.processes import (
    BIN,
    ROOT,
    Proc,
    base_env,
    free_port,
    replay_urls,
    start_beat,
    start_replay,
    start_worker,
    wait_for,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPLAY_TOKENS = 60
REFRESH_SECONDS = 2.0
CACHE_TTL_SECONDS = 8  # small, so the stale test does not wait long
# Budgets roomy enough for a refresh every REFRESH_SECONDS (the replay's Jupiter allows 120/min): with
# the defaults each source spends its minute's budget early and pauses, and the data ages past the TTL.
BUDGETS = {
    "DEXSCREENER_RPM": "1000",
    "DEXSCREENER_DISCOVERY_RPM": "120",
    "JUPITER_RPM": "100",
    "GECKOTERMINAL_RPM": "300",
    # GeckoTerminal's cache window (60 s) would leave its 60 tokens' requests all fresh between 2 s
    # refreshes, so a failing GeckoTerminal would only show once a window ends; the replay caches nothing.
    "GECKOTERMINAL_CACHE_SECONDS": "2",
}
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _clean_redis():
    """Overrides tests/conftest.py's per-test flush: the page stack lives across this package's
    tests (it flushes its Redis DB once, when it starts, and stops after the package)."""
    yield


@dataclass
class Stack:
    """The running service: replay upstream, worker, beat and a restartable daphne."""

    log_dir: Path
    env: dict[str, str]
    replay_port: int
    web_port: int
    procs: list[Proc] = field(default_factory=list)
    web: Proc | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def replay_url(self) -> str:
        return f"http://127.0.0.1:{self.replay_port}"

    def start_web(self) -> None:
        """The Procfile's web process: `python -m config.serve`, WEB_CONCURRENCY web servers on one port."""
        argv = [str(BIN / "python"), "-m", "config.serve"]
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(self.web_port), "WEB_CONCURRENCY": "2"}
        self.web = Proc(f"web-{self.web_port}-{int(time.time() * 1000)}", argv, env, self.log_dir)
        wait_for(
            lambda: requests.get(f"{self.base_url}/", timeout=2).ok or not self.web.alive(),
            timeout=30,
            what="daphne",
        )
        assert self.web.alive(), self.web.output()

    def stop_web(self) -> None:
        if self.web is not None:
            self.web.stop()
            self.web = None

    def ensure_web(self) -> None:
        if self.web is None or not self.web.alive():
            self.start_web()

    def api(self, path: str = "/api/tokens/", **params: Any) -> dict:
        response = requests.get(f"{self.base_url}{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def control(self, method: str, path: str, payload: dict | None = None) -> Any:
        response = requests.request(method, f"{self.replay_url}/_control/{path}", json=payload, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def move(self, mint: str, price_factor: float) -> dict:
        return self.control("POST", "move", {"mint": mint, "price_factor": price_factor})

    def universe(self) -> list[dict]:
        return self.control("GET", "universe")["tokens"]

    def stop(self) -> None:
        self.stop_web()
        for proc in reversed(self.procs):
            proc.stop()


def _flush_test_redis() -> None:
    from django_redis import get_redis_connection

    get_redis_connection("default").flushdb()


@pytest.fixture(scope="package")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        missing(
            f"{CHROMIUM} (the page tests drive Debian's chromium)",
            "install it with `sudo apt-get install chromium` (`make test` does this when run as root)",
        )
    _flush_test_redis()
    log_dir = tmp_path_factory.mktemp("page-stack")
    replay, replay_port = start_replay(log_dir, args=["--tokens", str(REPLAY_TOKENS), "--no-motion"])
    env = base_env(
        **replay_urls(replay_port),
        **BUDGETS,
        DATABASE_URL=f"sqlite:///{log_dir / 'db.sqlite3'}",
        REFRESH_SECONDS=str(REFRESH_SECONDS),
        CACHE_TTL_SECONDS=str(CACHE_TTL_SECONDS),
        API_THROTTLE_RATE="100000/min",
        UPSTREAM_TIMEOUT_SECONDS="2",
        UPSTREAM_MAX_ATTEMPTS="1",
    )
    stack = Stack(log_dir=log_dir, env=env, replay_port=replay_port, web_port=free_port())
    stack.procs.append(replay)
    try:
        # as `make run` does: the database (alert thresholds) is migrated before the processes start
        subprocess.run(
            [str(BIN / "python"), "manage.py", "migrate", "--no-input", "--verbosity", "0"],
            cwd=ROOT, env=env, check=True, timeout=120,
        )  # fmt: skip
        stack.procs.append(start_worker("page-worker", env, log_dir, concurrency=2))
        stack.procs.append(start_beat(env, log_dir))
        stack.start_web()
        wait_for(
            lambda: stack.api(limit=1)["meta"]["count"] >= REPLAY_TOKENS * 0.8,
            timeout=90,
            interval=0.5,
            what="the first snapshots with most of the replay universe",
        )
        _wait_until_universe_settles(stack)
        yield stack
    except BaseException:
        for proc in stack.procs + ([stack.web] if stack.web else []):
            print(f"----- {proc.name} -----\n{proc.output()[-4000:]}")
        raise
    finally:
        stack.stop()


def _wait_until_universe_settles(stack: Stack, quiet: float = 3 * REFRESH_SECONDS) -> None:
    """Discovery adds tokens for a while after the start: wait until the tracked set holds still."""
    last: set[str] = set()
    since = time.monotonic()
    deadline = since + 60
    while time.monotonic() < deadline:
        mints = {t["token_address"] for t in stack.api(limit=200)["results"]}
        if mints != last:
            last, since = mints, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.5)


@pytest.fixture(scope="package")
def browser(stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageErrors(list):
    """Uncaught errors and console errors of a page (a test fails on any)."""


def open_page(browser, stack: Stack, viewport: dict, path: str | None = "/"):
    """A fresh context and page on the screener (path None: not loaded yet), errors in page.errors."""
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    errors = PageErrors()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    page.errors = errors  # type: ignore[attr-defined]
    if path is not None:
        page.goto(f"{stack.base_url}{path}")
    return page


@pytest.fixture
def page(browser, stack):
    stack.ensure_web()
    page = open_page(browser, stack, DESKTOP)
    yield page
    errors = [e for e in page.errors if not expected_console_error(e)]
    page.context.close()
    assert not errors, errors


@pytest.fixture
def mobile_page(browser, stack):
    stack.ensure_web()
    page = open_page(browser, stack, MOBILE)
    yield page
    errors = [e for e in page.errors if not expected_console_error(e)]
    page.context.close()
    assert not errors, errors


def expected_console_error(text: str) -> bool:
    """Console noise that is not a page bug: the web process down on purpose (the reconnect test),
    upstream icons that cannot load on an offline machine. An HTTP error status is never noise."""
    return any(marker in text for marker in ("WebSocket connection to", "net::ERR_"))


def save_screenshots() -> bool:
    return os.environ.get("SAVE_SCREENSHOTS") == "1"
