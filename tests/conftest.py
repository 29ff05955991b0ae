"""Shared fixtures: the real Redis (own DB, flushed per test) and recorded upstream samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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

    from tokens import store

    conn = get_redis_connection("default")
    conn.flushdb()
    store.forget_memo()
    yield
    store.forget_memo()
