"""`python -m tokens.infra.postgres_check URL`: make sure PostgreSQL answers, starting the local cluster if we can.

Used by `make test` before its PostgreSQL run of the `database` tests. Exit 0: reachable; 1: not
(the exact fix is printed). A local Debian cluster is started when we are root.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def answers(url: str) -> str | None:
    """None when a connection succeeds, else the error text."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -r requirements.txt)"
    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:
        return str(exc).strip() or type(exc).__name__


def _start_debian_cluster() -> bool:
    versions = (
        sorted(p.name for p in Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").is_dir() else []
    )
    if not versions or os.geteuid() != 0:
        return False
    print(f"PostgreSQL does not answer; starting the local cluster {versions[-1]}/main.")
    result = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False
    )
    return result.returncode == 0


def main(url: str) -> int:
    from urllib.parse import urlparse

    error = answers(url)
    if error is None:
        return 0
    if (urlparse(url).hostname or "") in LOCAL_HOSTS and _start_debian_cluster():
        for _ in range(50):
            if (error := answers(url)) is None:
                return 0
            time.sleep(0.2)
    print(
        f"PostgreSQL is not reachable at {url} ({error}).\n"
        "Install and start one (Debian/Ubuntu: `sudo apt-get install postgresql && sudo pg_ctlcluster "
        "15 main start`, with trust auth for 127.0.0.1 or a password in the URL; or "
        "`docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16`), "
        "or set TEST_POSTGRES_URL to one you can reach.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "postgres://postgres@127.0.0.1:5432/test"))
