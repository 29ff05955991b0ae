"""Test settings: the real Redis on its own DB index (TEST_REDIS_DB, default 15), fast refreshes."""

import os

_db = os.environ.get("TEST_REDIS_DB", "15")
_host = os.environ.get("TEST_REDIS_HOST", "127.0.0.1:6379")
os.environ["REDIS_URL"] = f"redis://{_host}/{_db}"
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("REFRESH_SECONDS", "1")
# Sub-processes started by tests (daphne, celery, replay upstream) inherit these variables.

from config.settings import *  # noqa: E402,F403

# PostgreSQL (make test's second run): a test database of this run's own, so helpers and xdist
# workers running at the same time never share one.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    DATABASES["default"]["TEST"] = {"NAME": f"test_mds_r{_db}_{_worker}_{os.getpid()}"}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# whitenoise warns once per in-process client when STATIC_ROOT is missing (before collectstatic).
os.makedirs(str(STATIC_ROOT), exist_ok=True)  # noqa: F405
