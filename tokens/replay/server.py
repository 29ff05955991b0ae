"""The replay upstream's HTTP server: routes /dexscreener, /jupiter, /geckoterminal and /_control over HTTP/1.1.

A stdlib ThreadingHTTPServer (one thread per connection, keep-alive), so concurrent clients, slow
answers and 60-second "timeout" faults never block each other.
"""

from __future__ import annotations

import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tokens.replay.app import ReplayApp, Response
from tokens.replay.control import control
from tokens.replay.world import SOURCES

logger = logging.getLogger(__name__)

MAX_BODY = 1 << 20


class ReplayHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], app: ReplayApp, handshake_seconds: float = 0.0) -> None:
        self.app = app
        self.handshake_seconds = handshake_seconds
        super().__init__(address, ReplayHandler)


class ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "replay-upstream/1"
    server: ReplayHTTPServer

    def handle(self) -> None:
        """Serve one connection; its first request is read only after the simulated TLS handshake."""
        if self.server.handshake_seconds > 0:
            time.sleep(self.server.handshake_seconds)
        super().handle()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        started = time.time()
        parts = urlsplit(self.path)
        prefix, _, rest = parts.path.lstrip("/").partition("/")
        body = self._read_body()
        if body is None:
            response = Response.json(413, {"error": "body too large"})
        elif prefix == "_control":
            response = control(self.server.app, method, parts.path, parts.query, body)
        elif prefix in SOURCES and method == "GET":
            response = self.server.app.upstream(
                prefix, "/" + rest, parts.query, started, accept=self.headers.get("Accept")
            )
        elif prefix in SOURCES:
            response = Response.json(405, {"error": "upstream endpoints answer GET only"})
        else:
            response = Response.json(
                404, {"error": "use /dexscreener, /jupiter, /geckoterminal or /_control"}
            )
        if response.delay:
            time.sleep(response.delay)
        self._send(response)
        logger.debug(
            "%s %s -> %s (%d bytes, %.0f ms)",
            method, self.path, response.status, len(response.body), (time.time() - started) * 1000,
        )  # fmt: skip

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if "Content-Type" not in response.headers:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout passed)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the stdlib's per-request stderr line; _dispatch logs at debug level instead."""


def make_server(host: str, port: int, app: ReplayApp, handshake_seconds: float = 0.0) -> ReplayHTTPServer:
    """A bound (not yet serving) replay server; port 0 picks a free port.

    `handshake_seconds` delays the first request of every new connection, as a real upstream's TLS
    handshake does: a request sent on a new connection arrives later than one on a kept-alive one.
    """
    return ReplayHTTPServer((host, port), app, handshake_seconds)
