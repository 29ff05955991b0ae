"""Test settings: the real Redis on its own DB index (TEST_REDIS_DB, default 15), fast refreshes.

Under pytest-xdist each worker takes its own index below the base (gw0: 15, gw1: 14, ...), so
workers never flush each other's keys; the processes a worker starts inherit its index.
"""

import os

_db = os.environ.get("TEST_REDIS_DB", "15")
_xdist = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist.startswith("gw") and os.environ.get("MDS_TEST_REDIS_DB_OF") != _xdist:
    _db = str(int(_db) - int(_xdist[2:]))
    if int(_db) < 0:
        raise RuntimeError(f"too many xdist workers for TEST_REDIS_DB base {os.environ['TEST_REDIS_DB']}")
    os.environ["TEST_REDIS_DB"] = _db
    os.environ["MDS_TEST_REDIS_DB_OF"] = _xdist  # already this worker's index: sub-processes keep it
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
