"""SQLite runs in WAL mode (config/settings.py), so the worker writes candles while web processes read.

Not marked `database`: these are about SQLite itself (make test's first run).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_sqlite_connections_are_opened_in_wal_mode():
    assert connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # pytest-django's SQLite test database lives in memory, where the mode is "memory"; a file is WAL.
    assert mode in ("wal", "memory")
    assert "journal_mode=WAL" in connection.settings_dict["OPTIONS"]["init_command"]
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_a_sqlite_file_database_is_in_wal_mode(tmp_path):
    db = tmp_path / "wal.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT
    )
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
