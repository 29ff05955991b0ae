"""Operations fixtures: the replay upstream (shared with the ingestion tests) and whole stacks."""

from __future__ import annotations

from tests.integration.conftest import Replay, replay, replay_server  # noqa: F401 - fixtures

__all__ = ["Replay"]
