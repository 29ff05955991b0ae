"""Celery signal receivers: Django's LOGGING for worker and beat, task run-time and failure metrics,
and an optional metrics port for worker-only hosts. Connected by importing this module (config/celery.py).
"""

from __future__ import annotations

import logging
import logging.config
import os
import threading
import time
from typing import Any

from celery.signals import setup_logging, task_failure, task_postrun, task_prerun, worker_init

from tokens import metrics

log = logging.getLogger(__name__)

_started: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


@setup_logging.connect
def configure_logging(**kwargs: Any) -> None:
    """Worker and beat log exactly like the web processes (settings.LOGGING, LOG_FORMAT)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@task_prerun.connect
def task_started(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if task_id is None or task is None:
        return
    with _lock:
        _started[task_id] = (task.name, time.perf_counter())


@task_postrun.connect
def task_finished(task_id: str | None = None, state: str | None = None, **kwargs: Any) -> None:
    with _lock:
        started = _started.pop(task_id or "", None)
    if started is not None:
        name, at = started
        metrics.TASK_SECONDS.labels(name, state or "UNKNOWN").observe(time.perf_counter() - at)


@task_failure.connect
def task_failed(sender: Any = None, exception: BaseException | None = None, **kwargs: Any) -> None:
    name = getattr(sender, "name", None) or "unknown"
    metrics.TASK_FAILURES.labels(name, type(exception).__name__ if exception else "unknown").inc()


@worker_init.connect
def serve_worker_metrics(**kwargs: Any) -> None:
    """With METRICS_PORT set, the worker's main process serves this host's metrics on that port
    (for hosts that run workers but no web process; same aggregation as /metrics)."""
    port = os.environ.get("METRICS_PORT")
    if not port:
        return
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    from config.metrics import multiprocess_dir

    path = multiprocess_dir()
    if path is None:
        log.warning("METRICS_PORT ignored: PROMETHEUS_MULTIPROC_DIR is not a directory")
        return
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path)
    registry.register(metrics.ScrapeTimeCollector())
    start_http_server(int(port), addr=os.environ.get("METRICS_ADDR", "127.0.0.1"), registry=registry)
    log.info("worker metrics served addr=%s port=%s", os.environ.get("METRICS_ADDR", "127.0.0.1"), port)
