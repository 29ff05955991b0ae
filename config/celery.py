"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered,
and the one place where periodic schedules are declared."""

import contextlib
import os
import time

from celery import Celery
from celery.signals import before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Logging from Django's LOGGING, task metrics, optional worker metrics port (config/celery_signals.py).
import config.celery_signals  # noqa: E402,F401


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


@before_task_publish.connect
def record_beat_run(sender: str | None = None, headers: dict | None = None, **kwargs) -> None:
    """In the beat process, remember when it last sent a refresh (shown by /api/health/)."""
    if sender != "tokens.refresh_source" or not _is_beat():
        return
    from tokens import store

    # Redis down: the publish itself fails too, and beat tries again next period.
    with contextlib.suppress(Exception):
        store.record_beat_run(time.time())


def _is_beat() -> bool:
    import sys

    return "beat" in sys.argv
