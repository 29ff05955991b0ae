"""`python -m tokens.infra.redis_check URL`: make sure Redis answers, starting a local one if we can.

Used by `make run` and `make test` before anything else touches Redis; stdlib only.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def main(url: str) -> int:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    if answers(host, port):
        return 0
    server = shutil.which("redis-server")
    if host not in LOCAL_HOSTS or server is None:
        print(
            f"Redis is not reachable at {url}.\n"
            "Start one (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`; "
            "or `docker run -p 6379:6379 redis:7`), or set REDIS_URL to a Redis you can reach.",
            file=sys.stderr,
        )
        return 1
    print(f"Redis is not reachable at {url}; starting {server} on {host}:{port}.")
    subprocess.run(
        [
            server,
            "--daemonize",
            "yes",
            "--bind",
            host,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    for _ in range(50):
        if answers(host, port):
            return 0
        time.sleep(0.1)
    print(f"redis-server was started but does not answer on {host}:{port}.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"))
