"""tokens/infra/metrics.py: WebSocket frame metrics recorded per event-loop tick, with the same totals."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import CollectorRegistry, Histogram

from tokens.infra import metrics

pytestmark = pytest.mark.pure

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def samples(histogram: Histogram) -> dict[tuple[str, str], float]:
    return {
        (s.name, s.labels.get("le", "")): s.value
        for family in histogram.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_observing_many_at_once_gives_what_observing_each_gives():
    values = [0.0, 0.005, 0.0051, 0.3, 0.3, 7.0, 11.0, 0.01]
    one_by_one = Histogram("one", "d", buckets=BUCKETS, registry=CollectorRegistry())
    together = Histogram("one", "d", buckets=BUCKETS, registry=CollectorRegistry())
    for v in values:
        one_by_one.observe(v)
    metrics._observe_all(together, values)
    assert samples(together) == pytest.approx(samples(one_by_one))


def sent(kind: str) -> float:
    return metrics.WS_MESSAGES_SENT.labels(kind)._value.get()


def fanouts() -> float:
    return sum(bucket.get() for bucket in metrics.WS_FANOUT_SECONDS._buckets)


async def test_frames_sent_in_a_loop_are_recorded_at_the_end_of_the_tick():
    before_batch, before_pong, before_fanout = sent("batch"), sent("pong"), fanouts()
    for _ in range(3):
        metrics.ws_batch_sent(time.time())
    metrics.ws_sent('{"type":"pong"}')
    metrics.ws_fanout(None)  # no commit time: not observed
    assert (sent("batch"), sent("pong"), fanouts()) == (before_batch, before_pong, before_fanout)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert sent("batch") == before_batch + 3 and sent("pong") == before_pong + 1
    assert fanouts() == before_fanout + 3


def test_outside_an_event_loop_a_frame_is_recorded_at_once():
    before = sent("error")
    metrics.ws_sent('{"type":"error","code":"x","message":"y"}')
    assert sent("error") == before + 1
