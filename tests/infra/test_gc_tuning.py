"""GC settings of long-running processes: the ASGI module and every Celery pool process freeze the
start-up heap and raise the threshold."""

import subprocess
import sys

import pytest

from tokens.infra.gc_tuning import GEN0_THRESHOLD, raise_gen0_threshold

pytestmark = pytest.mark.pure


def gc_after(setup: str) -> tuple[int, int, int]:
    """In a fresh interpreter with Django's settings: the young threshold after `setup` runs, and
    the number of frozen objects before and after it."""
    code = (
        "import gc, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
        f"before = gc.get_freeze_count(); {setup}; "
        "print(gc.get_threshold()[0], before, gc.get_freeze_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    threshold, before, after = map(int, out.split())
    return threshold, before, after


def test_loading_the_asgi_application_tunes_the_gc():
    threshold, before, after = gc_after("import config.asgi")
    assert threshold == GEN0_THRESHOLD
    assert before == 0 and after > 10_000  # Django, DRF, Channels, Twisted… are out of every collection


def test_a_celery_pool_process_tunes_the_gc_when_it_starts():
    # worker_process_init is what Celery's prefork pool sends in each child after the fork
    threshold, before, after = gc_after(
        "import django; django.setup(); import config.celery; "
        "from celery.signals import worker_process_init; worker_process_init.send(sender=None)"
    )
    assert threshold == GEN0_THRESHOLD
    assert before == 0 and after > 10_000


def test_the_threshold_is_raised_never_lowered():
    import gc

    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        raise_gen0_threshold(5_000)
        assert gc.get_threshold() == (5_000, 10, 10)
        raise_gen0_threshold(1_000)
        assert gc.get_threshold() == (5_000, 10, 10)
    finally:
        gc.set_threshold(*saved)
