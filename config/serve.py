"""`python -m config.serve`: WEB_CONCURRENCY web-server processes sharing one port, the Procfile's web process.

WEB_SERVER picks the ASGI server: `uvicorn` (the default: httptools + uvloop, measured ~5x daphne's
request rate on this app, README "Serving") or `daphne` (Channels' own server). Any other value
stops the launcher at once with an error naming the two.

Each process gets its own listening socket bound with SO_REUSEPORT and passed by file descriptor
(`--fd`, which both servers accept), so the kernel spreads connections over the processes; state
lives in Redis, so any process can answer any request or WebSocket. Signals are forwarded; if one
process dies the others are stopped and the launcher exits with its status, so the process manager
(honcho, systemd, …) sees the failure.

Both servers are run with the same behaviour: proxy headers honoured (X-Forwarded-For/-Proto from
the local proxy), WebSocket messages up to 1 MiB reach the application (which answers an `error`
frame above 64 KiB, API.md §4) and larger ones close the connection with 1009, no permessage-deflate
(daphne has none; uvicorn's default would compress each frame once per client), pings every 20 s,
no lifespan protocol (Channels' router has none), 10 s for open requests at shutdown (daphne's
own defaults for pings and shutdown are the same).

Environment: HOST (127.0.0.1), PORT (8000), WEB_CONCURRENCY (2), WEB_SERVER (uvicorn),
WEB_ACCESS_LOG (unset: no access log, which costs CPU per request; "-" for stdout, or a file path).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
APP = "config.asgi:application"
WEB_SERVERS = ("uvicorn", "daphne")
DEFAULT_WEB_SERVER = "uvicorn"
WS_MAX_BYTES = 1024 * 1024  # over it the server closes with 1009; the app's own limit is 64 KiB
WS_PING_SECONDS = 20
SHUTDOWN_SECONDS = 10


def web_server(value: str | None) -> str:
    """The WEB_SERVER setting, checked: a wrong value stops the start with a clear message."""
    name = (value or DEFAULT_WEB_SERVER).strip().lower()
    if name not in WEB_SERVERS:
        raise SystemExit(f"WEB_SERVER must be one of {', '.join(WEB_SERVERS)}, not {value!r}")
    return name


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def argv_for(server: str, fd: int, access_log: str | None, app: str = APP) -> list[str]:
    """The command line of one web process serving `app` on the listening socket `fd`."""
    if server == "daphne":
        argv = [str(BIN / "daphne"), "--fd", str(fd), "--proxy-headers"]
        argv += ["--access-log", access_log] if access_log else ["-v", "0"]
        return [*argv, app]
    # Not `uvicorn --fd`: it takes the descriptor for a Unix socket, so TCP_NODELAY is never set and
    # Nagle's algorithm meets delayed ACKs (~40 ms per response). serve_uvicorn opens it as TCP.
    return [sys.executable, "-m", "config.serve", "--uvicorn-fd", str(fd), access_log or "", app]


def serve_uvicorn(fd: int, access_log: str | None, app: str = APP) -> None:
    """One uvicorn process (httptools + uvloop) on the inherited listening socket `fd`."""
    import uvicorn

    sock = socket.socket(fileno=fd)  # family and type read from the descriptor: TCP here
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=WS_MAX_BYTES,
        ws_ping_interval=WS_PING_SECONDS,
        ws_ping_timeout=WS_PING_SECONDS,
        ws_per_message_deflate=False,  # as daphne: deflating every frame per client costs the fan-out CPU
        lifespan="off",
        proxy_headers=True,
        server_header=False,
        access_log=bool(access_log),
        log_level="info" if access_log else "warning",
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
    uvicorn.Server(config).run(sockets=[sock])


def start(server: str, sock: socket.socket, access_log: str | None) -> subprocess.Popen:
    argv = argv_for(server, sock.fileno(), access_log)
    stdout = None
    if access_log and access_log != "-" and server == "uvicorn":
        stdout = open(access_log, "ab")  # noqa: SIM115 - the child holds it; uvicorn logs to stdout
    return subprocess.Popen(argv, pass_fds=(sock.fileno(),), stdout=stdout)


def main() -> int:
    if sys.argv[1:2] == ["--uvicorn-fd"]:  # a child started by argv_for
        fd, access_log, app = sys.argv[2:5]
        serve_uvicorn(int(fd), access_log or None, app)
        return 0
    server = web_server(os.environ.get("WEB_SERVER"))
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    count = max(1, int(os.environ.get("WEB_CONCURRENCY", "2")))
    access_log = os.environ.get("WEB_ACCESS_LOG") or None
    children = []
    for _ in range(count):
        sock = bind(host, port)
        children.append(start(server, sock, access_log))
        sock.close()
    print(
        f"web: {count} {server} process(es) on http://{host}:{port}/ (pids {[c.pid for c in children]})",
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
                    print(
                        f"web: {server} pid {child.pid} exited with {code}; stopping the others", flush=True
                    )
                    forward(signal.SIGTERM, None)
                for other in children:
                    other.wait()
                return 0 if stopping else (code or 1)
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
