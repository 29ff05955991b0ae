"""`python -m config.serve`: WEB_CONCURRENCY daphne processes sharing one port, the Procfile's web process.

Each daphne gets its own listening socket bound with SO_REUSEPORT (passed with `--fd`), so the
kernel spreads connections over the processes; state lives in Redis, so any process can answer any
request or WebSocket. Signals are forwarded; if one daphne dies the others are stopped and the
launcher exits with its status, so the process manager (honcho, systemd, …) sees the failure.

Environment: HOST (127.0.0.1), PORT (8000), WEB_CONCURRENCY (2), WEB_ACCESS_LOG (unset: no access
log, which costs CPU per request; "-" for stdout, or a file path).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAPHNE = str(Path(sys.executable).parent / "daphne")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def start(sock: socket.socket, access_log: str | None) -> subprocess.Popen:
    argv = [DAPHNE, "--fd", str(sock.fileno()), "--proxy-headers"]
    argv += ["--access-log", access_log] if access_log else ["-v", "0"]
    argv.append("config.asgi:application")
    return subprocess.Popen(argv, pass_fds=(sock.fileno(),))


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    count = max(1, int(os.environ.get("WEB_CONCURRENCY", "2")))
    access_log = os.environ.get("WEB_ACCESS_LOG") or None
    children = []
    for _ in range(count):
        sock = bind(host, port)
        children.append(start(sock, access_log))
        sock.close()
    print(
        f"web: {count} daphne process(es) on http://{host}:{port}/ (pids {[c.pid for c in children]})",
        flush=True,
    )

    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        for child in children:
            code = child.poll()
            if code is not None:
                if not stopping:
                    print(f"web: daphne pid {child.pid} exited with {code}; stopping the others", flush=True)
                    forward(signal.SIGTERM, None)
                for other in children:
                    other.wait()
                return 0 if stopping else (code or 1)
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
