"""Fixtures of the history tests: the replay upstream and worker processes of the ingestion tests."""

from tests.integration.conftest import replay, replay_server, worker_env, workers  # noqa: F401 - fixtures
