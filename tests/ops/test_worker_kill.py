"""kill -9 of a worker in the middle of a slow refresh: its lock expires (hard time limit + margin),
the next refresh of that source succeeds, and the current pointer never names a half-written snapshot."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest

from tests.ops.stack import new_stack
from tests.processes import wait_for
from tokens.records import SOURCES

pytestmark = pytest.mark.slow

SOFT, HARD, MARGIN = 5, 6, 5
LOCK_SECONDS = HARD + MARGIN  # tokens.tasks.refresh_lock_seconds()
SLOW = "geckoterminal"


class PointerWatch(threading.Thread):
    """Checks, until stopped, that the current pointer always resolves to a complete snapshot."""

    def __init__(self, stack) -> None:
        super().__init__(daemon=True)
        self.stack, self.checked, self.problems = stack, 0, []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.1):
            try:
                current = self.stack.current_id()
                if current is None:
                    continue
                snap = self.stack.load(f"snapshot:{current}")
            except Exception as exc:  # Redis busy: not what is checked here
                self.problems.append(f"read failed: {exc!r}")
                continue
            complete = snap is not None and snap.id == current and set(snap.sources) == set(SOURCES)
            if not (complete and snap.tokens):
                self.problems.append(f"pointer {current} -> {snap!r:.80}")
            self.checked += 1


def test_killed_worker_lock_expires_and_next_refresh_succeeds(replay, tmp_path):
    stack = new_stack(
        tmp_path, replay.urls(), CELERY_TASK_SOFT_TIME_LIMIT=str(SOFT), CELERY_TASK_TIME_LIMIT=str(HARD),
        REFRESH_LOCK_MARGIN_SECONDS=str(MARGIN), UPSTREAM_TIMEOUT_SECONDS="30",
        # every refresh calls the upstream (no cache window, budget to spare), so the slow fault bites
        GECKOTERMINAL_CACHE_SECONDS="0", GECKOTERMINAL_RPM="600",
    )  # fmt: skip
    watch = PointerWatch(stack)
    try:
        # Both workers are up before the kill, so the survivor is consuming beat's refreshes while
        # the dead worker's lock still holds the source (a worker started after the kill may take
        # longer to boot than the lock lives, on a loaded machine, and then never sees it).
        pair = [stack.add_worker(), stack.add_worker()]
        stack.start_beat()
        wait_for(stack.current_id, 40, 0.2, "a first snapshot")
        wait_for(
            lambda: all(any(line.get("event") == "refresh end" for line in stack.json_logs(w)) for w in pair),
            40,
            0.2,
            "both workers refreshing",
        )
        watch.start()
        fault_at = time.time()
        replay.fault(SLOW, "slow", delay=30)

        def in_slow_refresh():
            """The worker whose refresh of SLOW is waiting on the slow upstream (it holds the lock)."""
            if not replay.requests_since(fault_at, SLOW):
                return None
            for w in pair:
                marks = [
                    line["event"]
                    for line in stack.json_logs(w)
                    if line.get("source") == SLOW and line.get("event") in ("refresh start", "refresh end")
                ]
                if marks and marks[-1] == "refresh start":
                    return w
            return None

        victim = wait_for(in_slow_refresh, 20, 0.05, "a refresh inside a slow upstream call")
        survivor = next(w for w in pair if w is not victim)
        time.sleep(0.5)  # inside the slow upstream call
        victim.kill()
        killed_at = time.time()
        replay.clear_faults()

        def recovered() -> bool:
            snap = stack.load(f"source:{SLOW}")
            return snap is not None and (snap.fetched_at or 0) > killed_at and snap.error is None

        # generous: how long the survivor takes to get there depends on the machine's load; what the
        # lock did is checked below from the workers' own log lines, not from the test's clock
        wait_for(recovered, LOCK_SECONDS + 40, 0.2, f"a successful {SLOW} refresh after the kill")
        locked_at = _at(_events(stack, victim, "refresh start", SLOW)[-1])
        survivor_log = [line for line in stack.json_logs(survivor) if line.get("source") == SLOW]
    finally:
        watch.halt.set()
        stack.stop()
    skipped = [_at(e) for e in survivor_log if e.get("event") == "refresh skipped" and _at(e) > killed_at]
    assert skipped, "the dead worker's lock held the source until it expired"
    # The lock lived no longer than its TTL (1 s for the log line to be written).
    assert max(skipped) <= locked_at + LOCK_SECONDS + 1, (max(skipped) - locked_at, LOCK_SECONDS)
    # The survivor's first refresh of the source after the last skip ran to its end, without errors
    # (neither cut by the soft time limit nor left holding a stale lock).
    after = [e for e in survivor_log if _at(e) >= max(skipped) and e.get("event") != "refresh skipped"]
    assert after and after[0]["event"] == "refresh start", after[:3]
    ends = [e for e in after if e.get("event") in ("refresh end", "refresh timed out")]
    assert ends and ends[0]["event"] == "refresh end" and int(ends[0]["errors"]) == 0, ends[:2]
    assert watch.checked > 20 and watch.problems == []


def _at(line: dict) -> float:
    return datetime.fromisoformat(line["time"]).timestamp()


def _events(stack, proc, event: str, source: str) -> list[dict]:
    return [
        line for line in stack.json_logs(proc) if line.get("event") == event and line.get("source") == source
    ]
