"""Measures how many bytes a WebSocket connection has accepted but not yet written to its socket.

ASGI has no backpressure: daphne's `send` hands the frame to Twisted and returns at once, so a
client that stops reading only shows up as a growing Twisted write buffer. Daphne passes each
application `functools.partial(Server.handle_reply, protocol)` as `send`; from its protocol's TCP
transport we read the buffered byte count. uvicorn passes its protocol's bound `send`, whose asyncio
transport reports its buffer (`get_write_buffer_size`); that `send` waits while the transport is
above its high-water mark (64 KiB by default), so the mark is raised to QUEUE_LIMIT_BYTES the first
time: frames queue as under daphne and the consumer's backlog limit (1 MiB) decides, not a wait.
uvloop hands everything it can to the kernel at once (Twisted writes at most a chunk per reactor
turn), so the bytes still in the socket's send queue (SIOCOUTQ: not yet acknowledged by the peer)
count too: a client that stops reading is found at the same backlog, whatever the kernel buffers.
For any other server (or TLS-wrapped transports) the backlog is unknown (None) and the consumer
relies on a send timeout instead.
"""

from __future__ import annotations

import array
import fcntl
import functools
import termios
from typing import Any

QUEUE_LIMIT_BYTES = 8 * 1024 * 1024  # uvicorn transports' high-water mark, above every consumer limit


def write_backlog(send: Any) -> int | None:
    """Bytes queued in the connection's transport and not yet written, or None when unknown."""
    protocol = getattr(send, "__self__", None)  # uvicorn: the protocol's bound send()
    if protocol is not None:
        return _asyncio_backlog(protocol)
    if not isinstance(send, functools.partial) or not send.args:
        return None
    transport = getattr(send.args[0], "transport", None)
    if transport is None:
        return None
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except (AttributeError, TypeError):
        return None


def _asyncio_backlog(protocol: Any) -> int | None:
    transport = getattr(protocol, "transport", None)
    try:
        if not getattr(protocol, "_mds_queue_limit", False):
            transport.set_write_buffer_limits(high=QUEUE_LIMIT_BYTES)
            sock = transport.get_extra_info("socket")
            protocol._mds_fd = sock.fileno() if sock is not None else -1
            protocol._mds_queue_limit = True
        return transport.get_write_buffer_size() + _unsent_in_kernel(protocol._mds_fd)
    except (AttributeError, NotImplementedError, RuntimeError):
        return None


def _unsent_in_kernel(fd: int) -> int:
    """Bytes in the socket's send queue not yet acknowledged (Linux SIOCOUTQ); 0 when unknown."""
    if fd < 0:
        return 0
    out = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.TIOCOUTQ, out, True)
    except OSError:
        return 0
    return out[0]
