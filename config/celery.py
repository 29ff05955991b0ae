"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered, the one
place where periodic schedules are declared, and its signal receivers (Django's LOGGING for worker and
beat, GC tuning of the pool processes, task run-time and failure metrics, an optional metrics port for worker-only hosts)."""

import contextlib
import logging
import logging.config
import os
import threading
import time
from typing import Any

from celery import Celery
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_failure,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)

from tokens.infra import metrics
from tokens.infra.gc_tuning import tune_for_serving

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_refreshes(sender: Celery, **kwargs) -> None:
    """Every REFRESH_SECONDS, one refresh per source; a run not started within the period is dropped."""
    from django.conf import settings

    from tokens.records import SOURCES

    period = float(settings.REFRESH_SECONDS)
    for source in SOURCES:
        sender.add_periodic_task(
            period,
            sender.signature("tokens.refresh_source", args=(source,)),
            name=f"refresh-{source}",
            expires=period,
        )


@app.on_after_finalize.connect
def schedule_retention(sender: Celery, **kwargs) -> None:
    """Hourly, the candle retention task (each run stops after CANDLE_RETENTION_SECONDS)."""
    sender.add_periodic_task(
        3600.0, sender.signature("tokens.prune_candles"), name="prune-candles", expires=3600
    )


@before_task_publish.connect
def record_beat_run(sender: str | None = None, headers: dict | None = None, **kwargs) -> None:
    """In the beat process, remember when it last sent a refresh (shown by /api/health/)."""
    if sender != "tokens.refresh_source" or not _is_beat():
        return
    from tokens.store import heartbeat

    # Redis down: the publish itself fails too, and beat tries again next period.
    with contextlib.suppress(Exception):
        heartbeat.record_beat_run(time.time())


def _is_beat() -> bool:
    import sys

    return "beat" in sys.argv


# --- signal receivers ------------------------------------------------------------------------------

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


@worker_process_init.connect
def tune_gc(**kwargs: Any) -> None:
    """In every pool process: freeze the imported heap and raise the young threshold, as the web
    processes do (full collections of Django's heap cost 40-60 ms inside the 17 ms candle upsert)."""
    tune_for_serving()


@worker_init.connect
def serve_worker_metrics(**kwargs: Any) -> None:
    """With METRICS_PORT set, the worker's main process serves this host's metrics on that port
    (for hosts that run workers but no web process; same aggregation as /metrics)."""
    port = os.environ.get("METRICS_PORT")
    if not port:
        return
    from prometheus_client import start_http_server

    from tokens.ops.metrics_view import host_registry

    if metrics.multiprocess_dir() is None:
        log.warning("METRICS_PORT ignored: PROMETHEUS_MULTIPROC_DIR is not a directory")
        return
    start_http_server(int(port), addr=os.environ.get("METRICS_ADDR", "127.0.0.1"), registry=host_registry())
    log.info("worker metrics served addr=%s port=%s", os.environ.get("METRICS_ADDR", "127.0.0.1"), port)
