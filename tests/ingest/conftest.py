"""Ingest fixtures: the replay upstream over loopback (shared with the integration and ops tests)."""

from __future__ import annotations

from tests.integration.conftest import Replay, replay, replay_server  # noqa: F401 - fixtures

__all__ = ["Replay"]
